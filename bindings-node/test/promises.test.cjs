'use strict'
// How calls hand their outcome back (src/promise.rs, one completion queue per environment):
// many calls in flight settle each with its own outcome, in whatever order they finish; a call in
// flight keeps the process alive and an idle client does not; workers may end with calls in flight.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { rejectWithCode, CttError } = require('ctt-onboard')
const { useSimulator } = require('./helpers.cjs')

const ctx = useSimulator()
const SLOW_MS = 300

function slowPbx() {
  ctx.sim.setFaults({ rate: 1, kinds: ['latency'], latencyMs: SLOW_MS, paths: ['/pbx'] })
}

test('hundreds of concurrent calls settle each with its own outcome, in the order they finish', async () => {
  const client = ctx.client()
  const id = ctx.sim.resellerId
  await client.resellerId()
  slowPbx()
  try {
    const order = []
    const track = (kind, promise) =>
      promise.then(
        (value) => {
          order.push(kind)
          return { kind, value }
        },
        (error) => {
          order.push(kind)
          return { kind, error }
        },
      )
    const codes = ['not_found', 'conflict', 'rate_limited', 'timeout']
    const calls = []
    for (let i = 0; i < 40; i++) {
      calls.push(track('slow', client.pbxTypes(id)))
      calls.push(track('id', client.resellerId()))
      calls.push(track('gateways', client.sbcGateways(id)))
      calls.push(track(`reject:${codes[i % codes.length]}`, rejectWithCode(codes[i % codes.length], 400 + i)))
      calls.push(track('bad', client.sbcGateways(54.5)))
    }
    const results = await Promise.all(calls)
    const firstSlow = order.indexOf('slow')
    assert.ok(order.slice(firstSlow).every((k) => k === 'slow'), 'every fast call settled before the slow ones')
    for (const [i, r] of results.entries()) {
      if (r.kind === 'slow') assert.equal(r.value.find((t) => t.isDefault).id, 1234)
      if (r.kind === 'id') assert.equal(r.value, id)
      if (r.kind === 'gateways') assert.equal(r.value.length, 3)
      if (r.kind.startsWith('reject:')) {
        assert.ok(r.error instanceof CttError, String(r.error))
        assert.equal(r.error.code, r.kind.slice('reject:'.length))
        assert.equal(r.error.status, 400 + Math.floor(i / 5))
      }
      if (r.kind === 'bad') {
        assert.ok(r.error instanceof CttError, String(r.error))
        assert.equal(r.error.code, 'invalid_input')
      }
    }
  } finally {
    ctx.sim.setFaults({ rate: 0 })
  }
})

function runChild(mode) {
  const env = {
    ...process.env,
    CTT_TEST_OPTIONS: JSON.stringify({ options: ctx.sim.clientOptions(), resellerId: ctx.sim.resellerId }),
  }
  const started = Date.now()
  const child = spawnSync(process.execPath, [path.join(__dirname, 'promise-child.cjs'), mode], {
    env,
    encoding: 'utf8',
    timeout: 20000,
  })
  return { ...child, ms: Date.now() - started }
}

test('a call in flight keeps the process alive until it settles', async () => {
  const types = (await ctx.client().pbxTypes(ctx.sim.resellerId)).length
  slowPbx()
  try {
    const child = runChild('pending')
    assert.equal(child.status, 0, child.stderr)
    assert.equal(child.stdout.trim(), `resolved ${types}`)
    assert.ok(child.ms >= SLOW_MS, `the child ran ${child.ms} ms`)
  } finally {
    ctx.sim.setFaults({ rate: 0 })
  }
})

test('a client whose calls all settled does not keep the process alive', () => {
  const child = runChild('idle')
  assert.equal(child.status, 0, `${child.signal} ${child.stderr}`)
  assert.equal(child.stdout.trim(), 'idle')
})

test('workers ended with a call in flight harm nothing; workers that finish their calls exit', async () => {
  const types = (await ctx.client().pbxTypes(ctx.sim.resellerId)).length
  slowPbx()
  try {
    const child = runChild('worker')
    assert.equal(child.status, 0, `${child.signal} ${child.stderr}`)
    assert.equal(child.stdout.trim(), `terminated,terminated,terminated ${types},${types} ${types}`)
  } finally {
    ctx.sim.setFaults({ rate: 0 })
  }
})
