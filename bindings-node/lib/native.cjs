'use strict'
// Finds the native module for this platform, in the napi-rs pattern: a build in ../native (the
// repository's `npm run build`/`build:debug`, or a package packed with it), else the platform
// package that npm installed from the root's optionalDependencies (ctt-onboard-linux-x64-gnu, ...,
// each restricted by os/cpu/libc). None fitting is an error that names the platform.

const fs = require('node:fs')
const path = require('node:path')

/** The platform packages published beside the root package (suffix: the napi platform name). */
const PLATFORMS = [
  'linux-x64-gnu',
  'linux-x64-musl',
  'linux-arm64-gnu',
  'linux-arm64-musl',
  'darwin-x64',
  'darwin-arm64',
  'win32-x64-msvc',
]

/** 'glibc' or 'musl' on Linux, as npm's `libc` field names them; null elsewhere. */
function libc() {
  if (process.platform !== 'linux') return null
  try {
    const report = process.report.getReport()
    if (report.header.glibcVersionRuntime) return 'glibc'
    if ((report.sharedObjects || []).some((f) => /(libc\.musl-|ld-musl-)/.test(f))) return 'musl'
  } catch {
    // process.report unavailable: fall through to the loader's file name
  }
  try {
    return fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl') ? 'musl' : 'glibc'
  } catch {
    return 'glibc'
  }
}

const LIBC = libc()

function platformName() {
  const c = LIBC
  const abi = process.platform === 'win32' ? '-msvc' : c === null ? '' : c === 'musl' ? '-musl' : '-gnu'
  return `${process.platform}-${process.arch}${abi}`
}

function load() {
  const name = platformName()
  const errors = []
  const local = path.join(__dirname, '..', 'native', `ctt-onboard.${name}.node`)
  if (fs.existsSync(local)) {
    try {
      return require(local)
    } catch (e) {
      errors.push(e)
    }
  }
  if (PLATFORMS.includes(name)) {
    try {
      return require(`ctt-onboard-${name}`)
    } catch (e) {
      errors.push(e)
    }
  }
  const c = LIBC
  const what = `os ${process.platform}, arch ${process.arch}${c ? `, libc ${c}` : ''}`
  const why = PLATFORMS.includes(name)
    ? `its package ctt-onboard-${name} is not installed or did not load` +
      ' (was the install run with --omit=optional or --no-optional, or on another machine?);' +
      ' reinstall ctt-onboard on this machine'
    : `ctt-onboard ships native builds for ${PLATFORMS.join(', ')} only;` +
      ' build from source with `npm run build` in a checkout (needs Rust)'
  const error = new Error(`ctt-onboard: no native module for this platform (${what}): ${why}`)
  if (errors.length > 0) error.cause = errors.length === 1 ? errors[0] : new AggregateError(errors)
  throw error
}

module.exports = load()
