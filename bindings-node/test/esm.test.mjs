// The ES module entry point: named and default imports give the same objects as require().
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import ctt, { Client, Simulator, Onboarding, CttError, ERROR_CODES, verifyCallback, setLogger, ManualClock, rejectWithCode, CallbackKeys, claimedFlowId } from 'ctt-onboard'

const require = createRequire(import.meta.url)

test('import and require share one module', async () => {
  const cjs = require('ctt-onboard')
  assert.equal(Client, cjs.Client)
  assert.equal(Onboarding, cjs.Onboarding)
  assert.equal(CttError, cjs.CttError)
  assert.equal(CallbackKeys, cjs.CallbackKeys)
  assert.equal(claimedFlowId, cjs.claimedFlowId)
  assert.equal(ctt.Simulator, Simulator)
  for (const f of [verifyCallback, setLogger, rejectWithCode]) assert.equal(typeof f, 'function')
  assert.equal(ERROR_CODES.length, 15)
  assert.ok(new ManualClock().now() > 0)
  const sim = await Simulator.start()
  try {
    const client = new Client(sim.clientOptions())
    assert.equal(await client.resellerId(), sim.resellerId)
    await assert.rejects(client.sbcGateways(1), (e) => e instanceof CttError && e.code === 'not_found')
  } finally {
    await sim.close()
  }
})
