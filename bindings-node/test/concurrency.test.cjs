'use strict'
// 200 concurrent calls share one token; the event loop keeps running while calls wait.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { useSimulator } = require('./helpers.cjs')

const ctx = useSimulator()

test('200 concurrent calls succeed and fetch one token', async () => {
  const client = ctx.client()
  const before = ctx.sim.tokenRequests('reseller')
  const results = await Promise.all(Array.from({ length: 200 }, () => client.sbcGateways(ctx.sim.resellerId)))
  assert.equal(results.length, 200)
  for (const r of results) assert.equal(r.length, 3)
  assert.equal(ctx.sim.tokenRequests('reseller'), before + 1, 'one token fetch, not 200')
})

test('the event loop stays responsive while calls wait', async () => {
  const client = ctx.client()
  await client.resellerId()
  ctx.sim.setFaults({ rate: 1, kinds: ['latency'], latencyMs: 400, paths: ['/pbx'] })
  let ticks = 0
  const timer = setInterval(() => {
    ticks += 1
  }, 5)
  try {
    let settled = false
    const calls = Promise.all(Array.from({ length: 20 }, () => client.pbxTypes(ctx.sim.resellerId))).finally(() => {
      settled = true
    })
    // A timer callback runs while every call is still pending.
    await new Promise((resolve) => setImmediate(resolve))
    const ticksAtStart = ticks
    await new Promise((resolve) => {
      const wait = setInterval(() => {
        if (ticks > ticksAtStart || settled) {
          clearInterval(wait)
          resolve()
        }
      }, 1)
    })
    assert.equal(settled, false, 'a timer ticked before the calls settled')
    const results = await calls
    assert.equal(results.length, 20)
    assert.ok(ticks > ticksAtStart, `ticks: ${ticks}`)
  } finally {
    clearInterval(timer)
    ctx.sim.setFaults({ rate: 0 })
  }
})
