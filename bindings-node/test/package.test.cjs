'use strict'
// The npm pack tarball installs into an empty project and works with require and import.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

const root = path.join(__dirname, '..')
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

const SCRIPT = `
  const sim = await Simulator.start()
  const client = new Client({ ...sim.clientOptions(), callbackKey: 'portal-callback-key-0123456789abcdef' })
  const flow = new Onboarding({
    enterprise: { enterpriseName: 'Packed ' + process.pid, services: ['SMS'] },
    redirectUrl: 'http://127.0.0.1:9/cb',
  })
  const progress = await flow.advance(client)
  let code = null
  try { await client.sbcGateways(1) } catch (e) { code = (e instanceof CttError) && e.code }
  await sim.close()
  console.log(JSON.stringify({ kind: progress.kind, action: progress.action, code }))
`

test('npm pack, install into an empty project, require and import', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctt-pack-'))
  try {
    const packed = JSON.parse(execFileSync(npm, ['pack', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' }))
    const files = packed[0].files.map((f) => f.path)
    for (const f of ['lib/index.cjs', 'lib/index.mjs', 'lib/index.d.ts', 'lib/errors.cjs', 'native/index.js', 'native/index.d.ts', 'package.json']) {
      assert.ok(files.includes(f), `${f} is packed (${files.join(', ')})`)
    }
    assert.ok(files.some((f) => /^native\/ctt-onboard\..*\.node$/.test(f)), 'the native module is packed')
    assert.ok(!files.some((f) => f.startsWith('src/') || f.startsWith('test/')), 'no sources or tests')
    const tarball = path.join(dir, packed[0].filename)
    const project = path.join(dir, 'project')
    fs.mkdirSync(project)
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'empty-portal', version: '1.0.0', private: true }))
    execFileSync(npm, ['install', '--no-audit', '--no-fund', '--offline', tarball], { cwd: project, encoding: 'utf8' })

    const cjs = `const { Client, Simulator, Onboarding, CttError } = require('ctt-onboard');\n(async () => {${SCRIPT}})().catch((e) => { console.error(e); process.exit(1) })`
    const esm = `import { Client, Simulator, Onboarding, CttError } from 'ctt-onboard'\n${SCRIPT}`
    fs.writeFileSync(path.join(project, 'main.cjs'), cjs)
    fs.writeFileSync(path.join(project, 'main.mjs'), esm)
    for (const file of ['main.cjs', 'main.mjs']) {
      const out = execFileSync(process.execPath, [file], { cwd: project, encoding: 'utf8' })
      assert.deepEqual(JSON.parse(out), { kind: 'awaitingAdmin', action: 'REGISTRATION', code: 'not_found' }, file)
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
