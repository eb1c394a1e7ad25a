'use strict'
// Hostile and bad input through the binding (issue 9, item 4; the Rust table is core/tests/hostile.rs):
// the caller's mistakes are refused with invalid_input naming the problem before anything is sent;
// the server's oddities (canned answers) are decode errors naming the problem; a flow's toJSON()
// is the same before and after a failed advance.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { Client, Onboarding, Simulator, CttError } = require('ctt-onboard')
const { useSimulator, uniqueName } = require('./helpers.cjs')
const { KEY } = require('./flow-helpers.cjs')

const ctx = useSimulator()
const HTTPS_REDIRECT = 'https://portal.example/cb'
const GATEWAYS = '/reseller/getAvailableSBCGatewayRegionsByResellerId'
const UNSAFE = Number.MAX_SAFE_INTEGER + 2
// 2^53 + 1 as JSON text: a JavaScript number cannot hold it.
const UNSAFE_TEXT = '9007199254740993'

/** Runs `fn` (a sync throw or a rejected Promise) and returns the CttError, checking code and message. */
async function refused(what, fn, code, message) {
  let error
  try {
    await fn()
  } catch (e) {
    error = e
  }
  assert.ok(error !== undefined, `${what}: expected a ${code} error, got success`)
  assert.ok(error instanceof CttError, `${what}: expected a CttError, got ${error && error.stack}`)
  assert.equal(error.code, code, `${what}: expected ${code}, got ${error.code}: ${error.message}`)
  assert.match(error.message, message, `${what}: the message names the problem`)
  assert.ok(error.message.length < 2048, `${what}: the message does not echo oversized input (${error.message.length} chars)`)
  return error
}

function requestCount(sim) {
  return sim.snapshot().requests.length
}

function trunk(name, extra = {}) {
  return { enterpriseName: name, services: ['Trunk'], sbcGateways: [5678], ...extra }
}

/** `value` with a property that refers to itself. */
function circular(value) {
  value.self = value
  return value
}

function newPlan(enterprise, extra = {}) {
  return { enterprise, redirectUrl: HTTPS_REDIRECT, ...extra }
}

test("the caller's bad input is refused with invalid_input naming the problem, and nothing is sent", async () => {
  const sim = ctx.sim
  const client = ctx.client({ callbackKey: KEY })
  const flow = new Onboarding(newPlan({ enterpriseName: uniqueName('Hostile'), services: ['SMS'] }))
  const rid = sim.resellerId
  // [what, call, message]
  const cases = [
    // Invalid enterprise fields (validated before any request).
    ['blank name', () => client.createEnterprise(trunk('   ')), /enterpriseName/],
    ['empty name', () => client.createEnterprise(trunk('')), /enterpriseName/],
    ['10,000-character name', () => client.createEnterprise(trunk('n'.repeat(10_000))), /enterpriseName is longer than/],
    ['NUL in name', () => client.createEnterprise(trunk('Acme\u0000Ltd')), /enterpriseName contains a control character/],
    ['newline in name', () => client.createEnterprise(trunk('Acme\nLtd')), /enterpriseName contains a control character/],
    ['escape in name', () => client.createEnterprise(trunk('Acme\u001b[31mLtd')), /enterpriseName contains a control character/],
    ['no services', () => client.createEnterprise({ enterpriseName: 'A', services: [] }), /services must name at least one/],
    ['malformed service', () => client.createEnterprise({ enterpriseName: 'A', services: ['PBX; DROP'] }), /services contains "PBX; DROP"/],
    ['empty service', () => client.createEnterprise({ enterpriseName: 'A', services: [''] }), /services contains ""/],
    ['oversized service', () => client.createEnterprise({ enterpriseName: 'A', services: ['S'.repeat(500)] }), /services contains/],
    ['gateways missing (PBX)', () => client.createEnterprise({ enterpriseName: 'A', services: ['PBX'], pbxId: [1234] }), /sbcGateways/],
    ['gateways missing (Trunk)', () => client.createEnterprise({ enterpriseName: 'A', services: ['Trunk'] }), /sbcGateways/],
    ['PBX type missing (CALLAPP)', () => client.createEnterprise({ enterpriseName: 'A', services: ['CALLAPP'] }), /pbxId/],
    ['negative gateway', () => client.createEnterprise(trunk('A', { sbcGateways: [-1] })), /sbcGateways contains -1/],
    ['zero PBX type', () => client.createEnterprise({ enterpriseName: 'A', services: ['CALLAPP'], pbxId: [0] }), /pbxId contains 0/],
    ['negative reseller in the body', () => client.createEnterprise({ enterpriseName: 'A', services: ['SMS'], resellerId: -4 }), /resellerId is -4/],
    ['fractional gateway', () => client.createEnterprise(trunk('A', { sbcGateways: [1.5] })), /createEnterprise: invalid type: floating point `1\.5`, expected i64/],
    ['NaN gateway', () => client.createEnterprise(trunk('A', { sbcGateways: [NaN] })), /sbcGateways\[0\] is NaN; numbers must be finite/],
    ['negative reseller argument', () => client.sbcGateways(-1), /reseller_id is -1; ids are positive/],
    ['negative reseller argument (list)', () => client.enterprises(-1), /reseller_id is -1/],
    ['negative existing enterprise', () => new Onboarding(newPlan({ enterpriseName: 'A', services: ['SMS'] }, { existingEnterpriseId: -1 })), /existing_enterprise_id is -1/],
    // Ids beyond Number.MAX_SAFE_INTEGER, going in.
    ['unsafe reseller argument', () => client.pbxTypes(UNSAFE), /resellerId is 9007199254740992, beyond Number\.MAX_SAFE_INTEGER/],
    ['unsafe gateway id', () => client.createEnterprise(trunk('A', { sbcGateways: [2 ** 60] })), /sbcGateways .*beyond Number\.MAX_SAFE_INTEGER/],
    ['unsafe PBX id', () => client.createEnterprise({ enterpriseName: 'A', services: ['CALLAPP'], pbxId: [UNSAFE] }), /pbxId .*MAX_SAFE_INTEGER/],
    ['unsafe existing enterprise', () => new Onboarding(newPlan({ enterpriseName: 'A', services: ['SMS'] }, { existingEnterpriseId: 2 ** 60 })), /existingEnterpriseId is 1152921504606847000, beyond Number\.MAX_SAFE_INTEGER/],
    ['unsafe resellerId option', () => new Client({ ...sim.clientOptions(), resellerId: 2 ** 54 }), /resellerId .*MAX_SAFE_INTEGER/],
    ['BigInt id', () => client.sbcGateways(2n ** 60n), /BigInt/],
    ['circular enterprise', () => client.createEnterprise(circular({ enterpriseName: 'A', services: ['SMS'] })), /Exceeded maximum JSON nesting depth/],
    // Non-https public URLs and oversized URLs.
    ['public http redirect', () => client.actionItemUrl('REGISTRATION', 'A', 'http://portal.example/cb'), /redirectUrl must use https/],
    ['private-range http redirect', () => client.actionItemUrl('REGISTRATION', 'A', 'http://192.168.1.10/cb'), /redirectUrl must use https/],
    ['javascript: redirect', () => client.actionItemUrl('REGISTRATION', 'A', 'javascript:alert(1)'), /redirectUrl must be an https URL, got scheme "javascript"/],
    ['ftp redirect', () => client.actionItemUrl('REGISTRATION', 'A', 'ftp://portal.example/cb'), /redirectUrl must be an https URL/],
    ['relative redirect', () => client.actionItemUrl('REGISTRATION', 'A', '/cb'), /redirectUrl "\/cb" is not an absolute URL/],
    ['oversized redirect', () => client.actionItemUrl('REGISTRATION', 'A', `https://portal.example/${'a'.repeat(5000)}`), /redirectUrl is \d+ characters long/],
    ['public http plan redirect', () => new Onboarding({ ...newPlan({ enterpriseName: 'A', services: ['SMS'] }), redirectUrl: 'http://portal.example/cb' }), /redirect_url must use https/],
    ['oversized plan redirect', () => new Onboarding({ ...newPlan({ enterpriseName: 'A', services: ['SMS'] }), redirectUrl: `https://portal.example/${'p'.repeat(3000)}` }), /redirect_url is \d+ characters long/],
    ['public http base URL', () => new Client({ ...sim.clientOptions(), baseUrl: 'http://api.example.com' }), /base_url must use https/],
    ['private-range http base URL', () => new Client({ ...sim.clientOptions(), baseUrl: 'http://10.0.0.1' }), /base_url must use https/],
    ['javascript: base URL', () => new Client({ baseUrl: 'javascript:alert(1)' }), /base_url must be an https URL/],
    ['oversized base URL', () => new Client({ baseUrl: `https://api.example.com/${'a'.repeat(5000)}` }), /base_url is \d+ characters long/],
    ['not a URL', () => new Client({ baseUrl: 'not a url' }), /base_url/],
    // Invalid plans.
    ['plan with a blank name', () => new Onboarding(newPlan({ enterpriseName: ' ', services: ['SMS'] })), /enterpriseName/],
    ['plan with a required consent as optional', () => new Onboarding(newPlan({ enterpriseName: 'A', services: ['SMS'] }, { optionalConsents: ['GET_USER_SYNC_CONSENT'] })), /optional_consents/],
    // Wrong argument types.
    ['Client options a string', () => new Client(sim.baseUrl), /Client options must be an object, got a string/],
    ['Client options a number', () => new Client(5), /Client options must be an object, got a number/],
    ['timeoutMs a string', () => new Client({ timeoutMs: '30s' }), /timeoutMs/],
    ['reseller credentials incomplete', () => new Client({ reseller: { clientId: 'x' } }), /clientSecret/],
    ['createEnterprise()', () => client.createEnterprise(), /createEnterprise: missing field `enterprise`/],
    ['createEnterprise(null)', () => client.createEnterprise(null), /createEnterprise: invalid type: null, expected struct NewEnterprise/],
    ['createEnterprise(string)', () => client.createEnterprise('Acme'), /createEnterprise: invalid type: string "Acme", expected struct NewEnterprise/],
    ['enterpriseName a number', () => client.createEnterprise({ enterpriseName: 5, services: ['SMS'] }), /createEnterprise: invalid type: integer `5`, expected a string/],
    ['services a string', () => client.createEnterprise({ enterpriseName: 'A', services: 'SMS' }), /createEnterprise: invalid type: string "SMS", expected a sequence/],
    ['a service a number', () => client.createEnterprise({ enterpriseName: 'A', services: [5] }), /createEnterprise: invalid type: integer `5`, expected a string/],
    ['gateway id a string', () => client.createEnterprise(trunk('A', { sbcGateways: ['5678'] })), /createEnterprise: invalid type: string "5678", expected i64/],
    ['reseller id a string', () => client.sbcGateways('54'), /sbcGateways: invalid type: string "54", expected i64/],
    ['reseller id missing', () => client.pbxTypes(), /pbxTypes: missing field `resellerId`/],
    ['redirect URL a number', () => client.actionItemUrl('REGISTRATION', 'A', 42), /actionItemUrl: invalid type: integer `42`, expected a string/],
    ['enterprise name missing', () => client.findEnterprise(rid), /findEnterprise: missing field `name`/],
    // The string may be the token itself: the message masks it (core's ClientCall::from_value).
    ['MSAL result a string', () => client.o365UserInfo('token'), /o365UserInfo: invalid type: string "\*\*\*", expected struct AuthenticationResult/],
    ['MSAL result empty', () => client.o365UserInfo({}), /authenticationResult\.accessToken/],
    ['Onboarding()', () => new Onboarding(), /undefined cannot be represented/],
    ['Onboarding(null)', () => new Onboarding(null), /OnboardingPlan: invalid type: null/],
    ['Onboarding(string)', () => new Onboarding('plan'), /OnboardingPlan: invalid type: string "plan"/],
    ['plan without redirectUrl', () => new Onboarding({ enterprise: { enterpriseName: 'A', services: ['SMS'] } }), /OnboardingPlan: missing field `redirectUrl`/],
    ['advance() without a client', () => flow.advance(), /Client/],
    ['advance(simulator)', () => flow.advance(sim), /not an instance of class `Client`/],
    ['advance(options object)', () => flow.advance(sim.clientOptions()), /Client/],
    ['advance with a client without callback key', () => flow.advance(ctx.client()), /callback key/],
    ['callback key a number', () => flow.handleCallback(5, HTTPS_REDIRECT, '{}'), /a key \(string, Buffer or Uint8Array\), a CallbackKeys, its options or a Client; got a number/],
    ['callback key too short', () => flow.handleCallback('short', `${HTTPS_REDIRECT}?ctt_flow=a&ctt_action=REGISTRATION&ctt_tag=00`, '{}'), /at least 16 bytes/],
    ['callback body undefined', () => flow.handleCallback(KEY, HTTPS_REDIRECT, undefined), /`Undefined`/],
  ]
  const flowBefore = JSON.stringify(flow.toJSON())
  const before = requestCount(sim)
  for (const [what, call, message] of cases) {
    await refused(what, call, 'invalid_input', message)
    assert.equal(requestCount(sim), before, `${what}: nothing was sent`)
  }
  assert.equal(JSON.stringify(flow.toJSON()), flowBefore, 'the flow is unchanged')
  assert.deepEqual(sim.snapshot().requests.slice(before), [], 'the request log shows nothing')
})

test('an unknown but well-formed service passes through and the API refuses it with 400 naming it', async () => {
  const client = ctx.client()
  for (const services of [['FAX'], ['SMS', 'FAX']]) {
    const name = uniqueName('Fax')
    const e = await refused(`services ${services}`, () => client.createEnterprise({ enterpriseName: name, services }), 'invalid_input', /FAX/)
    assert.equal(e.status, 400)
    assert.ok(!ctx.sim.snapshot().enterprises.some((x) => x.name === name), 'nothing was created')
  }
  const sent = ctx.sim.snapshot().requests.filter((r) => r.path === '/reseller/newEnterprise')
  assert.equal(sent.at(-1).status, 400, 'it was sent, and refused by the API')
})

test("the server's odd answers are decode errors naming the problem", async () => {
  const sim = ctx.sim
  const client = ctx.client()
  const rid = await client.resellerId()
  const canned = (body, contentType = 'application/json', status = 200, pathPrefix = GATEWAYS) => ({ pathPrefix, status, contentType, body })
  // [what, canned answer, call, message]
  const gateways = () => client.sbcGateways(rid)
  const cases = [
    ['2 MiB body', canned(`[${'1,'.repeat(1 << 20)}1]`), gateways, /larger than the 1048576-byte cap/],
    ['2 MiB of valid JSON', canned(JSON.stringify(Array.from({ length: 40_000 }, (_, i) => ({ sbcGatewayId: i + 1, sbcGatewayRegion: 'R'.repeat(40) })))), gateways, /1048576-byte cap/],
    ['2 MiB HTML error page', canned(`<html>${'x'.repeat(2 << 20)}</html>`, 'text/html', 500), gateways, /1048576-byte cap/],
    ['deeply nested arrays', canned('['.repeat(100_000)), gateways, /not the documented JSON/],
    ['deeply nested, balanced', canned('['.repeat(10_000) + ']'.repeat(10_000)), gateways, /not the documented JSON/],
    ['deeply nested objects', canned('{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000)), gateways, /not the documented JSON/],
    ['deeply nested extra field', canned(`{"username":"x","resellerId":54,"deep":${'['.repeat(10_000)}${']'.repeat(10_000)}}`, 'application/json', 200, '/reseller/getAuthenticatedUser'), () => client.authenticatedUser(), /recursion limit/],
    ['HTML login page', canned('<html><body>Login</body></html>', 'text/html'), gateways, /not the documented JSON/],
    ['binary', canned('\u0000\u0001binary', 'application/octet-stream'), gateways, /not the documented JSON/],
    ['wrong shape', canned('{"sbcGatewayId": "x"}'), gateways, /not the documented JSON/],
    ['empty body', canned(''), gateways, /not the documented JSON/],
    ['number too large for i64', canned('[{"sbcGatewayId":99999999999999999999999,"sbcGatewayRegion":"X"}]'), gateways, /not the documented JSON/],
    ['create answered with HTML', canned('<html>created</html>', 'text/plain', 200, '/reseller/newEnterprise'), () => client.createEnterprise({ enterpriseName: uniqueName('Html'), services: ['SMS'] }), /enterprise id response is not a number/],
    ['URL answered with HTML', canned('<html>no</html>', 'text/html', 200, '/enterprise/getActionItemUrl'), () => client.actionItemUrl('REGISTRATION', 'A', HTTPS_REDIRECT), /action item URL response is not a URL/],
    ['list answered with an object', canned('{}', 'application/json', 200, '/reseller/v3'), () => client.findEnterprise(rid, 'A'), /enterprise list/],
    ['token answered without access_token', canned('{"token":"x"}', 'application/json', 200, '/oauth/token'), () => ctx.client().sbcGateways(rid), /token response/],
    ['token answered with HTML', canned('<html>sign in</html>', 'text/html', 200, '/oauth/token'), () => ctx.client().sbcGateways(rid), /token response/],
    // Ids beyond Number.MAX_SAFE_INTEGER, coming out: refused, never rounded to another id.
    ['unsafe gateway id', canned(`[{"sbcGatewayId":${UNSAFE_TEXT},"sbcGatewayRegion":"X"}]`), gateways, /sbcGatewayId 9007199254740993 is beyond Number\.MAX_SAFE_INTEGER/],
    ['unsafe created id', canned(UNSAFE_TEXT, 'application/json', 200, '/reseller/newEnterprise'), () => client.createEnterprise({ enterpriseName: uniqueName('Big'), services: ['SMS'] }), /createEnterprise 9007199254740993 is beyond Number\.MAX_SAFE_INTEGER/],
    ['unsafe created id (object)', canned(`{"enterpriseId":${UNSAFE_TEXT}}`, 'application/json', 200, '/reseller/newEnterprise'), () => client.createEnterprise({ enterpriseName: uniqueName('Big'), services: ['SMS'] }), /createEnterprise 9007199254740993/],
    ['unsafe listed id', canned(`[{"enterpriseId":${UNSAFE_TEXT},"enterpriseName":"Z"}]`, 'application/json', 200, '/reseller/v3'), () => client.enterprises(rid), /enterpriseId 9007199254740993/],
    ['unsafe reseller id', canned(`{"username":"x","resellerId":${UNSAFE_TEXT}}`, 'application/json', 200, '/reseller/getAuthenticatedUser'), () => client.authenticatedUser(), /resellerId 9007199254740993/],
    ['unsafe reseller id (resellerId())', canned(`{"username":"x","resellerId":${UNSAFE_TEXT}}`, 'application/json', 200, '/reseller/getAuthenticatedUser'), () => ctx.client().resellerId(), /resellerId 9007199254740993/],
  ]
  try {
    for (const [what, answer, call, message] of cases) {
      sim.setCanned(answer)
      try {
        await refused(what, call, 'decode', message)
      } finally {
        sim.clearCanned()
      }
    }
  } finally {
    sim.clearCanned()
  }
  // The client is fine afterwards.
  assert.equal((await client.sbcGateways(rid)).length, 3)
})

test('a failed advance leaves toJSON() identical, for bad answers and bad arguments', async () => {
  const sim = ctx.sim
  const client = ctx.client({ callbackKey: KEY })
  const flow = new Onboarding(newPlan({ enterpriseName: uniqueName('Steady'), services: ['PBX'] }, { gatewayRegions: ['US-East'] }))
  const steadyFlow = async (what, call, code, message) => {
    const before = JSON.stringify(flow.toJSON())
    await refused(what, call, code, message)
    assert.equal(JSON.stringify(flow.toJSON()), before, `${what}: toJSON() is unchanged`)
  }
  const answers = [
    ['2 MiB gateways', GATEWAYS, 'application/json', `[${'1,'.repeat(1 << 20)}1]`, /1048576-byte cap/],
    ['nested gateways', GATEWAYS, 'application/json', '['.repeat(10_000), /not the documented JSON/],
    ['HTML gateways', GATEWAYS, 'text/html', '<html>Login</html>', /not the documented JSON/],
    ['token without access_token', '/oauth/token', 'application/json', '{"token":"x"}', /token response/],
    // The gateways step succeeds in the first advance (kept); the next one fails at the same step.
    ['HTML PBX types', '/pbx', 'text/html', '<html>Login</html>', /not the documented JSON/, true],
  ]
  for (const [what, pathPrefix, contentType, body, message, prime] of answers) {
    // A new client each time, so the token is fetched (and can be the odd answer).
    sim.setCanned({ pathPrefix, status: 200, contentType, body })
    try {
      if (prime) await refused(`${what} (first)`, () => flow.advance(client), 'decode', message)
      await steadyFlow(what, () => flow.advance(ctx.client({ callbackKey: KEY })), 'decode', message)
    } finally {
      sim.clearCanned()
    }
    const failed = flow.status().find((s) => s.state === 'failed')
    if (pathPrefix !== '/oauth/token') {
      assert.ok(failed, `${what}: status() shows the failure`)
      assert.equal(failed.errorCode, 'decode')
    }
  }
  const sent = requestCount(sim)
  await steadyFlow('no client', () => flow.advance(), 'invalid_input', /Client/)
  await steadyFlow('a simulator for a client', () => flow.advance(sim), 'invalid_input', /Client/)
  await steadyFlow('no callback key', () => flow.advance(ctx.client()), 'invalid_input', /callback key/)
  assert.equal(requestCount(sim), sent, "the caller's mistakes sent nothing")

  // The create is answered, then the URL request gets HTML: the create is kept, and an advance
  // that fails again changes nothing.
  sim.setCanned({ pathPrefix: '/enterprise/getActionItemUrl', status: 200, contentType: 'text/html', body: '<html>no</html>' })
  try {
    await refused('URL answered with HTML', () => flow.advance(client), 'decode', /not a URL/)
    assert.equal(typeof flow.enterpriseId, 'number', 'the create is kept')
    await steadyFlow('URL answered with HTML again', () => flow.advance(client), 'decode', /not a URL/)
  } finally {
    sim.clearCanned()
  }
  const progress = await flow.advance(client)
  assert.equal(progress.kind, 'awaitingAdmin', 'the flow recovers once the answers are sane')
  assert.equal(sim.snapshot().enterprises.filter((e) => e.name === flow.plan.enterprise.enterpriseName).length, 1)
})

test('malformed flow JSON is refused by Onboarding.fromJSON with invalid_input naming the problem', () => {
  const good = new Onboarding(newPlan({ enterpriseName: uniqueName('Json'), services: ['SMS'] })).toJSON()
  const edited = (edit) => {
    const copy = structuredClone(good)
    edit(copy)
    return copy
  }
  const cases = [
    ['empty text', '', /flow JSON is not JSON/],
    ['not JSON', 'not json', /flow JSON is not JSON/],
    ['truncated', JSON.stringify(good).slice(0, 40), /flow JSON is not JSON/],
    ['deeply nested text', '['.repeat(50_000), /flow JSON is not JSON: recursion limit/],
    ['an array', '[]', /no schema version/],
    ['an empty object', {}, /no schema version/],
    ['null', 'null', /no schema version/],
    ['a number', 42, /no schema version/],
    ['schema as a string', '{"schema":"1"}', /no schema version/],
    ['schema only', '{"schema":1}', /flow JSON is malformed: missing field `id`/],
    ['newer schema', edited((c) => { c.schema = 999 }), /schema 999, newer than this library's 2/],
    ['id a number', edited((c) => { c.id = 5 }), /flow JSON is malformed: invalid type: integer `5`/],
    ['steps a string', edited((c) => { c.steps = 'x' }), /flow JSON is malformed/],
    ['plan missing', edited((c) => { delete c.plan }), /flow JSON is malformed: missing field `plan`/],
    ['blank enterprise name', edited((c) => { c.plan.enterprise.enterpriseName = ' ' }), /enterpriseName/],
    ['control character in the name', edited((c) => { c.plan.enterprise.enterpriseName = 'A\u0000B' }), /enterpriseName contains a control character/],
    ['public http redirect', edited((c) => { c.plan.redirect_url = 'http://portal.example/cb' }), /redirect_url must use https/],
    ['undefined', undefined, /`Undefined`/],
  ]
  for (const [what, json, message] of cases) {
    let error
    try {
      Onboarding.fromJSON(json)
    } catch (e) {
      error = e
    }
    assert.ok(error instanceof CttError, `${what}: expected a CttError, got ${error && error.stack}`)
    assert.equal(error.code, 'invalid_input', `${what}: ${error.message}`)
    assert.match(error.message, message, what)
    assert.ok(error.message.length < 2048, `${what}: message cut short`)
  }
  assert.equal(Onboarding.fromJSON(good).id, good.id, 'the unedited JSON loads')
})

test('a flow whose enterprise id is beyond Number.MAX_SAFE_INTEGER reports decode, never a rounded id', async () => {
  const sim = await Simulator.start()
  try {
    const client = new Client({ ...sim.clientOptions(), callbackKey: KEY })
    const flow = new Onboarding(newPlan({ enterpriseName: uniqueName('Huge'), services: ['SMS'] }))
    sim.setCanned({ pathPrefix: '/reseller/newEnterprise', status: 200, contentType: 'application/json', body: UNSAFE_TEXT })
    // The simulator holds no such enterprise, so the URL request that follows fails.
    await refused('advance', () => flow.advance(client), 'not_found', /not found/)
    sim.clearCanned()
    await refused('enterpriseId', () => flow.enterpriseId, 'decode', /enterpriseId 9007199254740993 is beyond Number\.MAX_SAFE_INTEGER/)
    assert.match(flow.status().find((s) => s.step === 'create_enterprise').detail, /9007199254740993/)
  } finally {
    await sim.close()
  }
})

test('a flow holding an id beyond Number.MAX_SAFE_INTEGER persists losslessly as text, and JSON.stringify says so', async () => {
  const sim = await Simulator.start()
  try {
    const client = new Client({ ...sim.clientOptions(), callbackKey: KEY })
    const flow = new Onboarding(newPlan({ enterpriseName: uniqueName('Huge'), services: ['SMS'] }))
    sim.setCanned({ pathPrefix: '/reseller/newEnterprise', status: 200, contentType: 'application/json', body: UNSAFE_TEXT })
    await flow.advance(client).catch(() => {})
    sim.clearCanned()
    const text = flow.toJSONString()
    assert.match(text, /"enterprise_id":9007199254740993/)
    assert.equal(Onboarding.fromJSON(text).toJSONString(), text, 'read back exactly')
    assert.throws(() => JSON.stringify(flow), (e) => e instanceof CttError && e.code === 'decode' && /toJSONString/.test(e.message))
  } finally {
    await sim.close()
  }
})
