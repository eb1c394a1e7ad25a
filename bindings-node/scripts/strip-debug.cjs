'use strict'
// Drops the debug info from a debug build's .node (about 120 MB to 20 MB) so `npm pack` in the
// tests stays quick. Done after the build, not with `napi build --strip`: that flag changes
// RUSTFLAGS, which would rebuild every crate in the shared target directory.
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const dir = path.join(__dirname, '..', 'native')
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.node'))) {
  try {
    execFileSync('strip', ['--strip-debug', path.join(dir, file)])
  } catch (error) {
    console.warn(`strip-debug: left ${file} as built (${error.message})`)
  }
}
