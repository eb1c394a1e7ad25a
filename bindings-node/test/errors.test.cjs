'use strict'
// Every error code reaches JavaScript as a CttError with the real .code, staged for real where the
// simulator can stage it, and through the test knob for every code.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')
const { Client, CttError, ERROR_CODES, rejectWithCode, forcePanicForTests, Onboarding } = require('ctt-onboard')
const { useSimulator, uniqueName, rejectsWith, throwsWith, waitFor } = require('./helpers.cjs')

const ctx = useSimulator()
const NO_RETRY = { maxAttempts: 1 }

test('ERROR_CODES lists the 15 codes of the design', () => {
  assert.deepEqual([...ERROR_CODES], [
    'invalid_input', 'authentication', 'forbidden', 'not_found', 'conflict', 'rate_limited', 'server', 'api',
    'tenant_roles_missing', 'timeout', 'network', 'decode', 'callback_invalid', 'flow_state', 'outcome_unknown',
  ])
})

test('every code crosses with instanceof, .code, .status, .requestId and .retryAfterMs', async () => {
  for (const code of ERROR_CODES) {
    const e = await rejectsWith(rejectWithCode(code, 503, `req-${code}`, 1500), code)
    assert.equal(e.name, 'CttError')
    assert.equal(e.status, 503)
    assert.equal(e.requestId, `req-${code}`)
    assert.equal(e.retryAfterMs, 1500)
    assert.match(e.message, new RegExp(code))
    assert.match(e.stack, /CttError/)
  }
  const bare = await rejectsWith(rejectWithCode('api'), 'api')
  assert.equal(bare.status, null)
  assert.equal(bare.requestId, null)
  assert.equal(bare.retryAfterMs, null)
  await rejectsWith(rejectWithCode('nope'), 'invalid_input')
  const mine = new CttError('mine', { code: 'conflict' })
  assert.ok(mine instanceof Error && mine.code === 'conflict' && mine.status === null)
})

test('staged: invalid_input, authentication, forbidden, not_found, conflict', async () => {
  const client = ctx.client()
  throwsWith(() => new Client({ baseUrl: 'not a url' }), 'invalid_input')
  const e = await rejectsWith(
    ctx.client({ reseller: { ...ctx.sim.clientOptions().reseller, password: 'wrong-password' } }).authenticatedUser(),
    'authentication',
  )
  assert.equal(e.status, 400)
  ctx.sim.setCanned({ pathPrefix: '/reseller/getAuthenticatedUser', status: 403, body: '{"error":"Forbidden"}' })
  try {
    assert.equal((await rejectsWith(client.authenticatedUser(), 'forbidden')).status, 403)
    ctx.sim.setCanned({ pathPrefix: '/reseller/getAuthenticatedUser', status: 418, body: 'teapot' })
    assert.equal((await rejectsWith(client.authenticatedUser(), 'api')).status, 418)
  } finally {
    ctx.sim.clearCanned()
  }
  const nf = await rejectsWith(client.sbcGateways(999), 'not_found')
  assert.equal(nf.status, 404)
  assert.equal(typeof nf.requestId, 'string')
  const name = uniqueName('Dup')
  await client.createEnterprise({ enterpriseName: name, services: ['SMS'] })
  await rejectsWith(client.createEnterprise({ enterpriseName: name, services: ['SMS'] }), 'conflict')
})

test('staged: rate_limited, server, timeout, network, decode, outcome_unknown', async () => {
  const sim = ctx.sim
  try {
    sim.setFaults({ rate: 1, kinds: ['429'], retryAfterSecs: 120, paths: ['/pbx'] })
    const limited = await rejectsWith(ctx.client().pbxTypes(sim.resellerId), 'rate_limited')
    assert.equal(limited.status, 429)
    assert.equal(limited.retryAfterMs, 120_000)

    sim.setFaults({ rate: 1, kinds: ['500'], paths: ['/pbx'] })
    assert.equal((await rejectsWith(ctx.client().pbxTypes(sim.resellerId), 'server')).status, 500)

    sim.setFaults({ rate: 1, kinds: ['latency'], latencyMs: 3000, paths: ['/pbx'] })
    await rejectsWith(ctx.client({ timeoutMs: 200, retry: NO_RETRY }).pbxTypes(sim.resellerId), 'timeout')

    sim.setFaults({ rate: 1, kinds: ['drop-before'], paths: ['/reseller/newEnterprise'] })
    const unknown = await rejectsWith(
      ctx.client({ retry: NO_RETRY }).createEnterprise({ enterpriseName: uniqueName('Lost'), services: ['SMS'] }),
      'outcome_unknown',
    )
    assert.ok(unknown.cause instanceof CttError, 'the cause chain is kept')
    assert.equal(unknown.cause.code, 'network')
  } finally {
    sim.setFaults({ rate: 0 })
  }
  await rejectsWith(ctx.client({ maxResponseBytes: 16 }).pbxTypes(sim.resellerId), 'decode')

  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = server.address().port
  await new Promise((resolve) => server.close(resolve))
  await rejectsWith(
    new Client({ ...ctx.sim.clientOptions(), baseUrl: `http://127.0.0.1:${port}`, retry: NO_RETRY }).authenticatedUser(),
    'network',
  )
})

test('staged: tenant_roles_missing, callback_invalid, flow_state', async () => {
  // tenant_roles_missing: see client.test.cjs (northwind); callback_invalid and flow_state here.
  const flow = new Onboarding({
    enterprise: { enterpriseName: uniqueName('Codes'), services: ['SMS'] },
    redirectUrl: 'http://127.0.0.1:9/cb',
  })
  await rejectsWith(flow.handleCallback('k'.repeat(32), 'http://127.0.0.1:9/cb?x=1', '{}'), 'callback_invalid')
  const sim = ctx.sim
  sim.setFaults({ rate: 1, kinds: ['latency'], latencyMs: 2000, paths: ['/reseller'] })
  try {
    const before = sim.snapshot().requests.length
    const pending = flow.advance(ctx.client({ callbackKey: 'k'.repeat(32) }))
    // Once the token was fetched the advance runs (its create is delayed 2 s): a callback, or a
    // second advance, is flow_state meanwhile; reads see the flow as of its last finished step.
    assert.ok(await waitFor(() => sim.snapshot().requests.length > before))
    await rejectsWith(flow.handleCallback('k'.repeat(32), 'http://127.0.0.1:9/cb?x=1', '{}'), 'flow_state')
    await rejectsWith(flow.advance(ctx.client({ callbackKey: 'k'.repeat(32) })), 'flow_state')
    assert.equal(flow.toJSON().id, flow.id)
    await pending
  } finally {
    sim.setFaults({ rate: 0 })
  }
})

test('a panic in the library becomes a CttError with code api, sync or in a Promise', async () => {
  const sync = throwsWith(() => forcePanicForTests(), 'api')
  assert.match(sync.message, /internal error in ctt-onboard/)
  assert.match(sync.message, /forced panic/)
  const async = await rejectsWith(forcePanicForTests(true), 'api')
  assert.match(async.message, /internal error in ctt-onboard/)
  // The process is fine afterwards.
  assert.equal(await ctx.client().resellerId(), ctx.sim.resellerId)
})
