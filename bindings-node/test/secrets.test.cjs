'use strict'
// Canaries: secrets never appear in util.inspect, JSON.stringify, error messages or log output.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const util = require('node:util')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { Client, Onboarding, Simulator, setLogger } = require('ctt-onboard')
const { useSimulator, uniqueName, rejectsWith, waitFor } = require('./helpers.cjs')
const { KEY, drive, plan } = require('./flow-helpers.cjs')

const ctx = useSimulator()
const CANARY = {
  password: 'CANARY-password-7f3a91',
  clientSecret: 'CANARY-client-secret-52be',
  token: 'CANARY-token-c0ffee11',
  key: 'CANARY-callback-key-0123456789',
  accessToken: 'CANARY-msal-access-9d2e',
  idToken: 'CANARY-msal-id-41aa',
}

function assertClean(text, where, canaries = Object.values(CANARY)) {
  for (const c of canaries) assert.ok(!text.includes(c), `${where} leaks ${c}: ${text}`)
}

function everyView(value) {
  return [util.inspect(value, { depth: 10, showHidden: true }), JSON.stringify(value) ?? '', String(value), Object.keys(value).join(',')].join('\n')
}

test('a client shows no credentials', () => {
  const sim = ctx.sim.credentials
  const client = new Client({
    ...ctx.sim.clientOptions(),
    enterpriseToken: CANARY.token,
    callbackKey: CANARY.key,
  })
  assertClean(everyView(client), 'client', [...Object.values(CANARY), sim.clientSecret, sim.password])
  assert.match(util.inspect(client), /baseUrl/)
  const withGrant = new Client({ reseller: { clientId: 'id', clientSecret: CANARY.clientSecret, username: 'u', password: CANARY.password } })
  assertClean(everyView(withGrant), 'client with credentials')
})

test('errors and logs carry no secret, at trace level, across failures and a whole flow', async () => {
  const records = []
  setLogger((record) => records.push(record), 'trace')
  try {
    const bad = new Client({
      baseUrl: ctx.sim.baseUrl,
      reseller: { clientId: ctx.sim.credentials.clientId, clientSecret: CANARY.clientSecret, username: 'someone', password: CANARY.password },
      enterpriseToken: CANARY.token,
      retry: { maxAttempts: 1 },
    })
    const errors = []
    errors.push(await rejectsWith(bad.authenticatedUser(), 'authentication'))
    const auth = { accessToken: CANARY.accessToken, idToken: CANARY.idToken, userInfo: { tenantId: 't' } }
    errors.push(await rejectsWith(bad.o365UserInfo(auth), 'authentication'))
    const good = ctx.client({ callbackKey: KEY })
    errors.push(await rejectsWith(good.o365UserInfo(auth), 'invalid_input'))
    for (const e of errors) {
      assertClean(`${e.message}\n${e.stack}\n${util.inspect(e, { depth: 10 })}\n${JSON.stringify(e)}`, `error ${e.code}`)
    }

    const { progress, flow } = await drive(ctx.sim, good, new Onboarding(plan(uniqueName('Canary'))), 'contoso')
    assert.equal(progress.kind, 'complete')
    // The flow JSON holds the admin's MSAL result (the portal stores it like a token), but its
    // inspect output does not.
    const msal = flow.toJSON()
    const tokens = JSON.stringify(msal).match(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g) || []
    assertClean(util.inspect(flow, { depth: 10 }), 'flow inspect', tokens)
    assert.ok(await waitFor(() => records.some((r) => r.message.includes('endpoint=update_management_consent'))), 'log records arrived')
    const sim = ctx.sim.credentials
    assertClean(JSON.stringify(records), 'log records', [...Object.values(CANARY), sim.clientSecret, sim.password, sim.enterprisePassword, ...tokens])
  } finally {
    setLogger(null)
  }
})

test('a whole flow with canary credentials, logged at trace, leaks none of them', async () => {
  const sim = await Simulator.start({
    credentials: { clientSecret: CANARY.clientSecret, password: CANARY.password, enterprisePassword: CANARY.token },
  })
  const records = []
  setLogger((record) => records.push(record), 'trace')
  try {
    assert.equal(sim.credentials.password, CANARY.password)
    const client = new Client({ ...sim.clientOptions(), callbackKey: KEY })
    assertClean(everyView(client), 'client')
    const { progress, flow } = await drive(sim, client, new Onboarding(plan(uniqueName('Canary flow'))), 'fabrikam')
    assert.equal(progress.kind, 'complete')
    assert.ok(await waitFor(() => records.some((r) => r.message.includes('endpoint=update_management_consent'))))
    assert.ok(records.some((r) => r.level === 'trace'), 'trace events arrived')
    assertClean(JSON.stringify(records), 'trace log records')
    assertClean(JSON.stringify(flow.status()), 'status')
    const e = await rejectsWith(
      new Client({ ...sim.clientOptions(), reseller: { ...sim.clientOptions().reseller, username: 'nobody' } }).authenticatedUser(),
      'authentication',
    )
    assertClean(`${e.message}\n${e.stack}\n${util.inspect(e, { depth: 10 })}`, 'error')
  } finally {
    setLogger(null)
    await sim.close()
  }
})

// The full flow of secrets-flow.cjs: canary client secret, passwords, reseller token and callback
// key, and the admins' real MSAL access and id tokens from every callback (tailspin's and another
// tenant's included), through every view of every public object, every error and the trace log.
test('a full flow with canaries and real MSAL tokens: no view, error or trace record shows any of them', async () => {
  const { FULL, fullFlow } = require('./secrets-flow.cjs')
  const records = []
  setLogger((record) => records.push(record), 'trace')
  let seen
  try {
    seen = await fullFlow(uniqueName('Canary full'))
    assert.ok(await waitFor(() => records.some((r) => r.message.includes('endpoint=update_management_consent'))), 'log records arrived')
  } finally {
    setLogger(null)
    if (seen) await seen.sim.close()
  }
  const creds = seen.credentials
  assert.equal(creds.clientSecret, FULL.clientSecret, 'the simulator took the canaries')
  const credentials = [...Object.values(FULL), creds.clientSecret, creds.password, creds.enterprisePassword]
  const everything = [...credentials, ...seen.tokens]

  assert.ok(records.some((r) => r.level === 'trace'), 'trace events arrived')
  assertClean(JSON.stringify(records), 'trace log records', everything)
  assertClean(everyView(seen.client), 'client', everything)
  assertClean(everyView(seen.sim), 'simulator', everything)
  // Every view of the flow but its JSON (checked below, as the documented exception).
  const flowViews = [util.inspect(seen.flow, { depth: 10, showHidden: true }), String(seen.flow), Object.keys(seen.flow).join(',')]
  assertClean(flowViews.join('\n'), 'flow', everything)
  assertClean(util.inspect(seen.flow.plan, { depth: 10 }) + JSON.stringify(seen.flow.plan), 'plan', everything)
  for (const p of seen.progresses) assertClean(everyView(p), `progress ${p.kind} ${p.action || ''}`, everything)
  for (const status of seen.statuses) {
    assertClean(JSON.stringify(status), 'status() JSON', everything)
    assertClean(util.inspect(status, { depth: 10 }), 'status() inspect', everything)
    for (const line of status) assertClean(everyView(line), `status entry ${line.step}`, everything)
  }
  assert.ok(seen.errors.length >= 12, `errors seen: ${seen.errors.length}`)
  const codes = new Set(seen.errors.map((e) => e.code))
  for (const code of ['callback_invalid', 'authentication', 'decode', 'server']) assert.ok(codes.has(code), `an error with code ${code} was seen: ${[...codes]}`)
  for (const e of seen.errors) {
    const views = [e.message, e.stack, String(e), util.inspect(e, { depth: 10, showHidden: true }), JSON.stringify(e), e.cause ? `${e.cause.message}\n${e.cause.stack}` : '']
    assertClean(views.join('\n'), `error ${e.code}: ${e.message.slice(0, 80)}`, everything)
  }
  // The flow's JSON is what a portal persists: it holds the admin's latest MSAL result (stored like
  // a token, as documented), and never a credential or the callback key.
  for (const json of seen.flowJson) assertClean(JSON.stringify(json), 'flow JSON', credentials)
})

test('with CTT_ONBOARD_LOG=trace, the full canary flow writes none of them to stderr', () => {
  const { FULL } = require('./secrets-flow.cjs')
  const childEnv = { ...process.env, CTT_ONBOARD_LOG: 'trace' }
  const child = spawnSync(process.execPath, [path.join(__dirname, 'secrets-child.cjs')], { env: childEnv, encoding: 'utf8' })
  assert.equal(child.status, 0, child.stderr)
  const { tokens, credentials } = JSON.parse(child.stdout)
  assert.ok(tokens.length >= 10)
  assert.match(child.stderr, /update_management_consent/, 'the trace log went to stderr')
  assert.match(child.stderr, /TRACE|trace/)
  assertClean(child.stderr, 'stderr at trace', [...Object.values(FULL), credentials.clientSecret, credentials.password, credentials.enterprisePassword, ...tokens])
})

test('an error body that is truncated JSON or plain text does not echo a token it carries', async () => {
  const sim = await Simulator.start()
  try {
    for (const body of [`{"access_token":"${CANARY.token}"`, `<html>${CANARY.token}</html>`, `"${CANARY.token}"`]) {
      for (const status of [200, 400, 500]) {
        sim.setCanned({ pathPrefix: '/oauth/token', status, body })
        const e = await new Client({ ...sim.clientOptions(), retry: { maxAttempts: 1 } }).authenticatedUser().catch((error) => error)
        assertClean(`${e.message}\n${e.stack}`, `token answer ${status} ${body}`)
      }
    }
  } finally {
    await sim.close()
  }
})
