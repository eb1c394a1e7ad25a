'use strict'
// Logging: nothing by default, a logger the user sets, or stderr with CTT_ONBOARD_LOG.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { setLogger } = require('ctt-onboard')
const { useSimulator, waitFor } = require('./helpers.cjs')

const ctx = useSimulator()

test('setLogger receives the library events, at the level asked, until it is cleared', async () => {
  const records = []
  setLogger((r) => records.push(r), 'debug')
  await ctx.client().sbcGateways(ctx.sim.resellerId)
  const isCall = (r) => r.message.startsWith('ctt call') && r.message.includes('endpoint=sbc_gateways')
  assert.ok(await waitFor(() => records.some(isCall)), JSON.stringify(records))
  const call = records.find(isCall)
  assert.equal(call.level, 'debug')
  assert.match(call.target, /^ctt_onboard/)
  assert.match(call.message, /status=200/)
  assert.equal(typeof call.timeMs, 'number')

  // At 'warn', the debug events of a call are not sent (an info marker shows delivery still works).
  records.length = 0
  setLogger((r) => records.push(r), 'warn')
  await ctx.client().sbcGateways(ctx.sim.resellerId)
  setLogger((r) => records.push(r), 'debug')
  await ctx.client().pbxTypes(ctx.sim.resellerId)
  assert.ok(await waitFor(() => records.some((r) => r.message.includes('endpoint=pbx_types'))))
  assert.deepEqual(records.filter((r) => r.message.includes('endpoint=sbc_gateways')), [])

  // Cleared: the events of a later call reach nobody.
  setLogger((r) => records.push(r), 'trace')
  setLogger(null)
  await ctx.client().sbcGateways(ctx.sim.resellerId)
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.deepEqual(records.filter((r) => r.message.includes('endpoint=sbc_gateways')), [])
})

function runChild(env) {
  const script = path.join(__dirname, 'log-child.cjs')
  const childEnv = { ...process.env, ...env }
  if (env.CTT_ONBOARD_LOG === undefined) delete childEnv.CTT_ONBOARD_LOG
  return spawnSync(process.execPath, [script], { env: childEnv, encoding: 'utf8' })
}

test('CTT_ONBOARD_LOG=debug prints to stderr; nothing is printed by default', () => {
  const loud = runChild({ CTT_ONBOARD_LOG: 'debug' })
  assert.equal(loud.status, 0, loud.stderr)
  assert.match(loud.stderr, /ctt-onboard debug ctt_onboard/)
  assert.match(loud.stderr, /endpoint=sbc_gateways/)
  const quiet = runChild({ CTT_ONBOARD_LOG: undefined })
  assert.equal(quiet.status, 0, quiet.stderr)
  assert.equal(quiet.stderr, '')
  assert.equal(quiet.stdout.trim(), 'ok')
})

test('a logger does not keep the process alive', () => {
  const child = runChild({ CTT_ONBOARD_LOG: undefined, CTT_TEST_SET_LOGGER: '1' })
  assert.equal(child.status, 0, child.stderr)
  assert.equal(child.stdout.trim(), 'ok')
})
