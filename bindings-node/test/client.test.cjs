'use strict'
// Every client method against the simulator, with the wire's camelCase models.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { Client } = require('ctt-onboard')
const { useSimulator, uniqueName, rejectsWith, throwsWith } = require('./helpers.cjs')

const ctx = useSimulator()
const REDIRECT = 'http://127.0.0.1:9/portal/callback'

test('authenticatedUser and resellerId', async () => {
  const client = ctx.client()
  const user = await client.authenticatedUser()
  assert.equal(user.username, ctx.sim.credentials.username)
  assert.equal(user.type, 'RESELLER')
  assert.equal(user.resellerId, ctx.sim.resellerId)
  // Fields the library does not model are kept on the object itself, as the API sent them.
  assert.equal(user.firstName, 'API')
  assert.equal(user.extra, undefined)
  assert.equal(await client.resellerId(), ctx.sim.resellerId)
  assert.equal(await ctx.client({ resellerId: 77 }).resellerId(), 77)
})

test('sbcGateways and pbxTypes', async () => {
  const client = ctx.client()
  const gateways = await client.sbcGateways(ctx.sim.resellerId)
  assert.deepEqual(
    gateways.map((g) => [g.sbcGatewayId, g.sbcGatewayRegion]),
    [
      [5678, 'US-East'],
      [5679, 'US-West'],
      [5680, 'EU-West'],
    ],
  )
  const types = await client.pbxTypes(ctx.sim.resellerId)
  const def = types.find((t) => t.isDefault)
  assert.equal(def.id, 1234)
  assert.equal(def.pbxName, 'Example PBX')
  assert.equal(def.hostingType, 'Cloud')
  assert.ok(types.some((t) => t.isDisabled))
})

test('createEnterprise, enterprises and findEnterprise', async () => {
  const client = ctx.client()
  const name = uniqueName('Contoso Pharmaceuticals')
  const id = await client.createEnterprise({
    enterpriseName: name,
    services: ['PBX', 'SMS'],
    sbcGateways: [5678],
    pbxId: [1234],
    restrictAdminAccess: true,
    billingReferences: ['PO-1'],
  })
  assert.equal(typeof id, 'number')
  assert.ok(Number.isSafeInteger(id) && id > 0)
  const held = ctx.sim.snapshot().enterprises.find((e) => e.name === name)
  assert.equal(held.id, id)
  assert.deepEqual(held.services, ['PBX', 'SMS'])
  assert.deepEqual(held.sbc_gateways, [5678])
  assert.equal(held.restrict_admin_access, true)

  const all = await client.enterprises(ctx.sim.resellerId)
  assert.ok(all.some((e) => e.enterpriseId === id && e.enterpriseName === name))
  assert.deepEqual(await client.findEnterprise(ctx.sim.resellerId, name), {
    enterpriseId: id,
    enterpriseName: name,
    billingReferences: ['PO-1'],
  })
  assert.equal(await client.findEnterprise(ctx.sim.resellerId, uniqueName('Nobody')), null)
  await rejectsWith(client.createEnterprise({ enterpriseName: name, services: ['SMS'] }), 'conflict')
})

test('createEnterprise validates before sending, naming the field', async () => {
  const client = ctx.client()
  const before = ctx.sim.snapshot().requests.length
  let e = await rejectsWith(client.createEnterprise({ enterpriseName: 'X', services: ['Trunk'] }), 'invalid_input')
  assert.match(e.message, /sbcGateways/)
  e = await rejectsWith(client.createEnterprise({ enterpriseName: ' ', services: ['SMS'] }), 'invalid_input')
  assert.match(e.message, /enterpriseName/)
  e = await rejectsWith(client.createEnterprise({ enterpriseName: 'X', services: ['CALLAPP'] }), 'invalid_input')
  assert.match(e.message, /pbxId/)
  assert.equal(ctx.sim.snapshot().requests.length, before, 'nothing was sent')
})

test('ids beyond Number.MAX_SAFE_INTEGER or not integers are refused', async () => {
  const client = ctx.client()
  let e = await rejectsWith(client.sbcGateways(Number.MAX_SAFE_INTEGER + 2), 'invalid_input')
  assert.match(e.message, /MAX_SAFE_INTEGER/)
  e = await rejectsWith(client.pbxTypes(54.5), 'invalid_input')
  assert.match(e.message, /pbxTypes: invalid type: floating point `54\.5`, expected i64/)
  await rejectsWith(
    client.createEnterprise({ enterpriseName: 'X', services: ['Trunk'], sbcGateways: [2 ** 60] }),
    'invalid_input',
  )
  throwsWith(() => new Client({ resellerId: 2 ** 54 }), 'invalid_input')
  // a wrong type too: the call (core's ClientCall) is read inside the Promise
  e = await rejectsWith(client.sbcGateways('54'), 'invalid_input')
  assert.match(e.message, /sbcGateways: invalid type: string "54", expected i64/)
  // and one napi cannot read at all (a circular object) rejects too
  const circular = { enterpriseName: 'X', services: ['SMS'] }
  circular.self = circular
  e = await rejectsWith(client.createEnterprise(circular), 'invalid_input')
  assert.match(e.message, /nesting depth/)
})

test('actionItemUrl, approve, o365UserInfo, provisionTenantAdminApi, updateManagementConsent', async () => {
  const client = ctx.client()
  const name = uniqueName('Fabrikam')
  await client.createEnterprise({ enterpriseName: name, services: ['SMS'], restrictAdminAccess: true })
  const url = await client.actionItemUrl('REGISTRATION', name, REDIRECT)
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\//)
  const callback = await ctx.sim.approve(url, 'fabrikam')
  assert.equal(callback.url, REDIRECT)
  assert.deepEqual(JSON.parse(callback.bodyText), callback.body)
  assert.equal(callback.body.officeUserType, 'GLOBAL_ADMIN')
  const auth = callback.body.msalAuthenticationResult.authenticationResult
  const tenantId = auth.userInfo.tenantId
  assert.equal(tenantId, ctx.sim.tenants.find((t) => t.key === 'fabrikam').tenantId)

  let info = await client.o365UserInfo(auth)
  assert.equal(info.containsTeamsTenantAdminAPI, false)
  await client.provisionTenantAdminApi(auth)
  info = await client.o365UserInfo(auth)
  assert.equal(info.containsTeamsTenantAdminAPI, true)

  const consentUrl = await client.actionItemUrl('GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT', name, REDIRECT)
  const consent = await ctx.sim.approve(consentUrl, 'fabrikam')
  const consentAuth = consent.body.msalAuthenticationResult.authenticationResult
  await client.updateManagementConsent(consentAuth, ctx.sim.resellerId, tenantId)
  const held = ctx.sim.snapshot().enterprises.find((e) => e.name === name)
  assert.equal(held.managed_by_provider, true)
  assert.equal(held.tenant_id, tenantId)
})

test('updateManagementConsent reports tenant_roles_missing for northwind', async () => {
  const client = ctx.client()
  const name = uniqueName('Northwind')
  await client.createEnterprise({ enterpriseName: name, services: ['SMS'] })
  const reg = await ctx.sim.approve(await client.actionItemUrl('REGISTRATION', name, REDIRECT), 'northwind')
  const tenantId = reg.body.msalAuthenticationResult.authenticationResult.userInfo.tenantId
  const consent = await ctx.sim.approve(
    await client.actionItemUrl('GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT', name, REDIRECT),
    'northwind',
  )
  const auth = consent.body.msalAuthenticationResult.authenticationResult
  const e = await rejectsWith(client.updateManagementConsent(auth, ctx.sim.resellerId, tenantId), 'tenant_roles_missing')
  assert.match(e.message, /Roles Teams\/Skype Administrator/)
  assert.equal(typeof e.status, 'number')
})

test('client options: paths, retry, timeouts and a client without credentials', async () => {
  const client = ctx.client({
    paths: { sbc_gateways: 'GET /reseller/getAvailableSBCGatewayRegionsByResellerId/{resellerId}' },
    retry: { maxAttempts: 2, initialBackoffMs: 10, maxBackoffMs: 20, maxRetryAfterMs: 1000 },
    timeoutMs: 5000,
    connectTimeoutMs: 1000,
    userAgent: 'node-test/1',
  })
  assert.equal((await client.sbcGateways(ctx.sim.resellerId)).length, 3)
  assert.equal(client.hasEnterpriseAuth, true)
  const bare = new Client({ baseUrl: ctx.sim.baseUrl })
  assert.equal(bare.hasEnterpriseAuth, false)
  await rejectsWith(bare.authenticatedUser(), 'authentication')
  throwsWith(() => new Client({ paths: { nope: '/x' } }), 'invalid_input')
  throwsWith(() => new Client({ baseUrl: 'http://example.com' }), 'invalid_input')
  throwsWith(() => new Client({ caCertPem: 'not a certificate' }), 'invalid_input')
  throwsWith(() => new Client({ callbackKey: 'short' }), 'invalid_input')
  assert.equal(new Client().baseUrl, 'https://api.connecttoteams.com/')
})

test('the simulator handle: tenants, clock, token TTL, faults, close', async () => {
  const { Simulator } = require('ctt-onboard')
  const sim = await Simulator.start({ tokenTtlMs: 60_000 })
  assert.deepEqual(
    sim.tenants.map((t) => t.key),
    ['contoso', 'fabrikam', 'northwind', 'tailspin'],
  )
  const t0 = sim.now()
  sim.advanceClock(31 * 60 * 1000)
  assert.ok(sim.now() - t0 >= 31 * 60 * 1000)
  sim.setTokenTtl(1000)
  sim.setFaults({ rate: 1, kinds: ['500'], paths: ['/pbx'] })
  const client = new Client(sim.clientOptions())
  await rejectsWith(client.pbxTypes(sim.resellerId), 'server')
  sim.setFaults({ rate: 0 })
  assert.equal((await client.pbxTypes(sim.resellerId)).length, 3)
  assert.equal(sim.tokenRequests('reseller'), 1)
  assert.throws(() => sim.setFaults({ kinds: ['nope'] }), { code: 'invalid_input' })
  await sim.close()
  await sim.close()
  assert.throws(() => sim.now(), { code: 'flow_state' })
})
