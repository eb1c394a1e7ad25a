'use strict'
// Canaries: secrets never appear in util.inspect, JSON.stringify, error messages or log output.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const util = require('node:util')
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
