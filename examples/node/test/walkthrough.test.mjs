// Runs walkthrough.mjs as a user would (a child process) and checks what it prints.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { promisify } from 'node:util'

const dir = fileURLToPath(new URL('..', import.meta.url))

/** Runs the walkthrough for `tenant`; resolves to { code, stdout, stderr } whatever the exit code. */
async function walkthrough(tenant) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['walkthrough.mjs', tenant], { cwd: dir })
    return { code: 0, stdout, stderr }
  } catch (e) {
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

test('the walkthrough reaches complete for the ready tenant', async () => {
  const { code, stdout, stderr } = await walkthrough('contoso')
  assert.equal(code, 0, stderr)
  assert.match(stdout, /SBC gateway 5678 in US-East/)
  assert.match(stdout, /PBX type 1234 Example PBX \(default\)/)
  const actions = [...stdout.matchAll(/-> show the Global Admin the (\w+) URL/g)].map((m) => m[1])
  assert.deepEqual(actions, [
    'REGISTRATION',
    'GET_USER_SYNC_CONSENT',
    'GET_PRESENCE_CONSENT',
    'GET_AGENT_CONSENT',
    'GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT',
  ])
  assert.equal(stdout.split('callback accepted').length - 1, actions.length)
  assert.match(stdout, /\(saved at revision [1-9]\d*\)/)
  assert.match(stdout, /flow JSON: \d+ bytes, revision [1-9]\d*/)
  assert.match(stdout, /== Complete: enterprise 123456789, tenant 7c9e6679-7425-40de-944b-e07fc1f90ae7/)
  assert.match(stdout, /\[done {3}\] Record management by service provider/)
  assert.doesNotMatch(stdout, /\[pending\]/)
})

test('the walkthrough crosses the 30-minute wait on northwind', async () => {
  const { code, stdout, stderr } = await walkthrough('northwind')
  assert.equal(code, 0, stderr)
  assert.match(stdout, /-> waiting 30 minutes: the tenant's Teams\/Skype Administrator roles/)
  assert.match(stdout, /== Complete: enterprise/)
})

test('the walkthrough stops when the signer is not a Global Admin (tailspin)', async () => {
  const { code, stdout } = await walkthrough('tailspin')
  assert.equal(code, 1)
  assert.match(stdout, /callback refused \[callback_invalid\]: .*who is not a Global Admin/)
  assert.doesNotMatch(stdout, /== Complete/)
})
