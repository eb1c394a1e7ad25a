'use strict'
// The onboarding flow for every simulator tenant, persistence, callbacks and cancellation.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const os = require('node:os')
const fs = require('node:fs')
const { execFileSync } = require('node:child_process')
const { Onboarding, ManualClock, verifyCallback, CttError } = require('ctt-onboard')
const { useSimulator, uniqueName, rejectsWith, throwsWith } = require('./helpers.cjs')
const { KEY, REDIRECT, plan, drive, stateOf, count } = require('./flow-helpers.cjs')

const ctx = useSimulator()
const THIRTY_ONE_MINUTES = 31 * 60 * 1000

test('contoso: the whole flow completes', async () => {
  const client = ctx.client({ callbackKey: KEY })
  const name = uniqueName('Contoso')
  const flow = new Onboarding(plan(name))
  assert.match(flow.id, /^[0-9a-f-]{36}$/)
  assert.equal(flow.progress(), null)
  const { actions, progress, flow: done } = await drive(ctx.sim, client, flow, 'contoso')
  assert.deepEqual(actions, [
    'REGISTRATION',
    'GET_USER_SYNC_CONSENT',
    'GET_PRESENCE_CONSENT',
    'GET_AGENT_CONSENT',
    'GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT',
  ])
  assert.equal(progress.kind, 'complete')
  const contoso = ctx.sim.tenants.find((t) => t.key === 'contoso')
  assert.equal(progress.tenantId, contoso.tenantId)
  const held = ctx.sim.snapshot().enterprises.find((e) => e.name === name)
  assert.equal(progress.enterpriseId, held.id)
  assert.equal(held.managed_by_provider, true)
  assert.equal(done.isComplete, true)
  assert.equal(done.enterpriseId, held.id)
  assert.equal(done.tenantId, contoso.tenantId)
  assert.deepEqual(done.progress(), progress)
  for (const line of done.status()) {
    assert.ok(['done', 'skipped'].includes(line.state), `${line.step} is ${line.state}`)
    assert.equal(typeof line.title, 'string')
    if (line.state === 'done') assert.ok(line.updatedAt instanceof Date, line.step)
  }
  assert.equal(stateOf(done, 'sbc_gateways'), 'skipped')
  assert.equal(stateOf(done, 'provision_tenant_admin_api'), 'skipped')
  // Advancing a complete flow repeats nothing.
  const before = ctx.sim.snapshot().requests.length
  assert.deepEqual(await done.advance(client), progress)
  assert.equal(ctx.sim.snapshot().requests.length, before)
})

test('fabrikam: the Tenant Admin API is provisioned', async () => {
  const client = ctx.client({ callbackKey: KEY })
  const before = count(ctx.sim, '/provisioning/provisionTenantAdminAPI')
  const { progress, flow } = await drive(ctx.sim, client, new Onboarding(plan(uniqueName('Fabrikam'))), 'fabrikam')
  assert.equal(progress.kind, 'complete')
  assert.equal(count(ctx.sim, '/provisioning/provisionTenantAdminAPI'), before + 1)
  assert.equal(stateOf(flow, 'provision_tenant_admin_api'), 'done')
})

test('northwind: tenant_roles_missing waits 30 minutes, then completes', async () => {
  const clock = new ManualClock()
  const client = ctx.client({ callbackKey: KEY }, clock)
  const first = await drive(ctx.sim, client, new Onboarding(plan(uniqueName('Northwind'))), 'northwind')
  let flow = first.flow
  const waiting = first.progress
  assert.equal(waiting.kind, 'waitingUntil')
  assert.ok(waiting.notBefore instanceof Date)
  const wait = waiting.notBefore.getTime() - clock.now()
  assert.ok(wait > 29 * 60 * 1000 && wait <= 30 * 60 * 1000, `waits ${wait} ms`)
  assert.match(waiting.reason, /30 minutes/)
  assert.equal(stateOf(flow, 'management_consent_update'), 'waiting')

  // Before the time: no call at all.
  const before = ctx.sim.snapshot().requests.length
  assert.equal((await flow.advance(client)).kind, 'waitingUntil')
  assert.equal(ctx.sim.snapshot().requests.length, before)

  clock.advance(THIRTY_ONE_MINUTES)
  ctx.sim.advanceClock(THIRTY_ONE_MINUTES)
  const rest = await drive(ctx.sim, client, flow, 'northwind')
  assert.deepEqual(rest.actions, ['GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT'])
  assert.equal(rest.progress.kind, 'complete')
  flow = rest.flow
  assert.equal(stateOf(flow, 'management_consent_update'), 'done')
})

test('tailspin: the registration callback is refused as not a Global Admin', async () => {
  const client = ctx.client({ callbackKey: KEY })
  const flow = new Onboarding(plan(uniqueName('Tailspin')))
  const progress = await flow.advance(client)
  assert.equal(progress.kind, 'awaitingAdmin')
  assert.equal(progress.action, 'REGISTRATION')
  const before = JSON.stringify(flow)
  const callback = await ctx.sim.approve(progress.url, 'tailspin')
  const e = await rejectsWith(flow.handleCallback(KEY, callback.url, callback.bodyText), 'callback_invalid')
  assert.match(e.message, /not a Global Admin/)
  assert.match(e.message, /helpdesk@tailspin\.onmicrosoft\.com/)
  assert.equal(JSON.stringify(flow), before, 'the flow is unchanged')
  // A Global Admin can still take the same URL; the body may be given parsed.
  const good = await ctx.sim.approve(progress.url, 'contoso')
  assert.equal(await flow.handleCallback(Buffer.from(KEY), good.url, good.body), 'accepted')
})

test('a flow persisted to JSON resumes in a new node process', async () => {
  const client = ctx.client({ callbackKey: KEY })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctt-flow-'))
  try {
    const flow = new Onboarding(plan(uniqueName('Resumed')))
    const progress = await flow.advance(client)
    const callback = await ctx.sim.approve(progress.url, 'contoso')
    fs.writeFileSync(path.join(dir, 'flow.json'), JSON.stringify(flow))
    fs.writeFileSync(path.join(dir, 'callback.json'), JSON.stringify(callback))
    const out = execFileSync(process.execPath, [path.join(__dirname, 'resume-child.cjs'), dir], {
      env: { ...process.env, CTT_TEST_BASE_URL: ctx.sim.baseUrl, CTT_TEST_KEY: KEY },
      encoding: 'utf8',
    })
    const child = JSON.parse(out)
    assert.equal(child.outcome, 'accepted')
    assert.equal(child.progress.kind, 'awaitingAdmin')
    assert.equal(child.progress.action, 'GET_USER_SYNC_CONSENT')
    assert.equal(child.id, flow.id)
    // Back in this process, from the JSON the child wrote.
    const resumed = Onboarding.fromJSON(fs.readFileSync(path.join(dir, 'flow.json'), 'utf8'))
    assert.equal(resumed.id, flow.id)
    assert.equal(stateOf(resumed, 'registration'), 'done')
    const rest = await drive(ctx.sim, client, resumed, 'contoso')
    assert.equal(rest.progress.kind, 'complete')
    assert.equal(rest.actions[0], 'GET_USER_SYNC_CONSENT')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('callbacks: verifyCallback, duplicates, a wrong key, another flow', async () => {
  const client = ctx.client({ callbackKey: KEY })
  const flow = new Onboarding(plan(uniqueName('Callbacks')))
  const other = new Onboarding(plan(uniqueName('Other')))
  const progress = await flow.advance(client)
  const callback = await ctx.sim.approve(progress.url, 'contoso')
  assert.ok(callback.url.startsWith(REDIRECT + '?'), callback.url)

  const verified = verifyCallback(KEY, callback.url, callback.bodyText)
  assert.equal(verified.flowId, flow.id)
  assert.equal(verified.action, 'REGISTRATION')
  assert.equal(verified.payload.officeUserType, 'GLOBAL_ADMIN')
  assert.equal(typeof verified.payload.msalAuthenticationResult.authenticationResult.accessToken, 'string')

  throwsWith(() => verifyCallback('another-key-0123456789abcdef', callback.url, callback.bodyText), 'callback_invalid')
  throwsWith(() => verifyCallback(KEY, callback.url.replace('ctt_action=', 'ctt_action=X'), callback.bodyText), 'callback_invalid')
  throwsWith(() => verifyCallback(KEY, REDIRECT, callback.bodyText), 'callback_invalid')
  await rejectsWith(other.handleCallback(KEY, callback.url, callback.bodyText), 'callback_invalid')

  assert.equal(await flow.handleCallback(KEY, callback.url, callback.bodyText), 'accepted')
  assert.equal(await flow.handleCallback(KEY, callback.url, callback.bodyText), 'duplicate')
})

test('plans: defaults, round trip, validation, JSON schema', async () => {
  const flow = new Onboarding(
    plan(uniqueName('Plan'), ['PBX', 'CALLAPP'], { gatewayRegions: ['US-East'], optionalConsents: ['GET_CDR_CONSENT'] }),
  )
  const p = flow.plan
  assert.deepEqual(p.gatewayRegions, ['US-East'])
  assert.deepEqual(p.optionalConsents, ['GET_CDR_CONSENT'])
  assert.equal(p.serviceProviderManagement, true)
  assert.equal(p.redirectUrl, REDIRECT)
  assert.deepEqual(p.enterprise.services, ['PBX', 'CALLAPP'])

  let e = throwsWith(() => new Onboarding(plan('X', ['Trunk'])), 'invalid_input')
  assert.match(e.message, /sbcGateways|gateway_regions/)
  e = throwsWith(() => new Onboarding({ ...plan('X'), redirectUrl: 'http://portal.example/cb' }), 'invalid_input')
  assert.match(e.message, /redirect_url/)
  throwsWith(() => new Onboarding({ ...plan('X'), optionalConsents: ['GET_USER_SYNC_CONSENT'] }), 'invalid_input')
  throwsWith(() => new Onboarding({ ...plan('X'), existingEnterpriseId: 2 ** 60 }), 'invalid_input')

  const json = flow.toJSON()
  assert.equal(typeof json, 'object')
  assert.deepEqual(JSON.parse(JSON.stringify(flow)), json)
  assert.equal(Onboarding.fromJSON(json).id, flow.id)
  assert.equal(Onboarding.fromJSON(JSON.stringify(json)).id, flow.id)
  const schemaKey = Object.keys(json).find((k) => /schema/.test(k))
  assert.ok(schemaKey, 'the JSON names its schema version')
  throwsWith(() => Onboarding.fromJSON({ ...json, [schemaKey]: 999 }), 'invalid_input')
  throwsWith(() => Onboarding.fromJSON('not json'), 'invalid_input')
})

test('advance needs a callback key; an existing enterprise starts at Part II', async () => {
  const flow = new Onboarding(plan(uniqueName('NoKey')))
  await rejectsWith(flow.advance(ctx.client()), 'invalid_input')
  const client = ctx.client({ callbackKey: KEY })
  const name = uniqueName('Existing')
  const id = await client.createEnterprise({ enterpriseName: name, services: ['SMS'] })
  const existing = new Onboarding({ ...plan(name), existingEnterpriseId: id })
  const progress = await existing.advance(client)
  assert.equal(progress.kind, 'awaitingAdmin')
  assert.equal(progress.action, 'REGISTRATION')
  assert.equal(existing.enterpriseId, id)
})

test('an aborted advance keeps every step that finished; reads during an advance see the last finished step', async () => {
  const client = ctx.client({ callbackKey: KEY })
  const name = uniqueName('Aborted')
  const flow = new Onboarding(plan(name))
  ctx.sim.setFaults({ rate: 1, kinds: ['latency'], latencyMs: 30_000, paths: ['/enterprise/getActionItemUrl'] })
  try {
    const controller = new AbortController()
    const pending = flow.advance(client, { signal: controller.signal })
    // Wait (bounded, by count) until the create was answered: the flow is now in the next step.
    let created = false
    for (let i = 0; i < 400 && !created; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25))
      created = ctx.sim.snapshot().requests.some((r) => r.path === '/reseller/newEnterprise' && r.status === 200)
    }
    assert.ok(created, 'the create was answered')
    assert.equal(stateOf(flow, 'create_enterprise'), 'done', 'a read during the advance sees the finished create')
    assert.equal(JSON.parse(JSON.stringify(flow)).id, flow.id)
    controller.abort()
    await assert.rejects(pending, (error) => error.name === 'AbortError')
  } finally {
    ctx.sim.setFaults({ rate: 0 })
  }
  assert.equal(stateOf(flow, 'create_enterprise'), 'done')
  assert.notEqual(stateOf(flow, 'registration'), 'done')
  const progress = await flow.advance(client)
  assert.equal(progress.kind, 'awaitingAdmin')
  assert.equal(progress.action, 'REGISTRATION')
  assert.equal(ctx.sim.snapshot().enterprises.filter((e) => e.name === name).length, 1)
  assert.equal(count(ctx.sim, '/reseller/newEnterprise') >= 1, true)
  // An already aborted signal rejects at once.
  const controller = new AbortController()
  controller.abort()
  await assert.rejects(flow.advance(client, { signal: controller.signal }), (error) => error.name === 'AbortError')
  assert.ok(!(new Error() instanceof CttError))
})

test('cancelAdvance without a signal rejects the advance with flow_state and changes nothing', async () => {
  const client = ctx.client({ callbackKey: KEY })
  const flow = new Onboarding(plan(uniqueName('Cancelled')))
  const before = JSON.stringify(flow)
  ctx.sim.setFaults({ rate: 1, kinds: ['latency'], latencyMs: 30_000, paths: ['/oauth/token'] })
  try {
    const pending = flow.advance(client)
    flow.cancelAdvance()
    const e = await rejectsWith(pending, 'flow_state')
    assert.match(e.message, /cancelled/)
  } finally {
    ctx.sim.setFaults({ rate: 0 })
  }
  assert.equal(JSON.stringify(flow), before)
})
