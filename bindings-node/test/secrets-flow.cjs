'use strict'
// A full onboarding with canary credentials and a canary callback key, with the wrong turns a
// portal meets (a non-admin, a wrong key, another tenant, a replay, odd token answers), that keeps
// everything a secrets test must look at: every progress, status, error, and the admins' real MSAL
// tokens from the callbacks. Used by secrets.test.cjs, in process and in a child (stderr logs).
const assert = require('node:assert/strict')
const { Client, Onboarding, Simulator, CttError } = require('ctt-onboard')

const FULL = Object.freeze({
  clientSecret: 'CANARY-full-client-secret-8e1f',
  password: 'CANARY-full-password-31c7',
  enterprisePassword: 'CANARY-full-enterprise-password-d40b',
  resellerToken: 'CANARY-full-reseller-token-77aa',
  key: 'CANARY-full-callback-key-5a9e0123456789',
})
const REDIRECT = 'http://127.0.0.1:9/portal/callback'

async function caught(promise) {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof CttError, `expected a CttError, got ${error && error.stack}`)
    return error
  }
  assert.fail('expected a rejection')
}

/** Runs the flow for `tenant` (fabrikam: every Part II call), returning what was seen. */
async function fullFlow(name, tenant = 'fabrikam', otherTenant = 'contoso') {
  const sim = await Simulator.start({
    credentials: { clientSecret: FULL.clientSecret, password: FULL.password, enterprisePassword: FULL.enterprisePassword },
  })
  const seen = { sim, progresses: [], statuses: [], errors: [], tokens: [], flowJson: [], objects: [] }
  try {
    const client = new Client({ ...sim.clientOptions(), callbackKey: FULL.key })
    seen.client = client
    // A call that may fail: its error, if any, is kept for the checks.
    const attempt = async (promise) => {
      try {
        await promise
      } catch (error) {
        assert.ok(error instanceof CttError, error && error.stack)
        seen.errors.push(error)
      }
    }
    const keep = (callback) => {
      const auth = callback.body.msalAuthenticationResult.authenticationResult
      for (const t of [auth.accessToken, auth.idToken]) if (t) seen.tokens.push(t)
      return callback
    }
    let flow = new Onboarding({ enterprise: { enterpriseName: name, services: ['SMS', 'CHAT'], restrictAdminAccess: true }, redirectUrl: REDIRECT })
    let progress = await flow.advance(client)
    let consents = 0
    for (let i = 0; i < 20 && progress.kind === 'awaitingAdmin'; i++) {
      seen.progresses.push(progress)
      seen.statuses.push(flow.status())
      if (progress.action === 'REGISTRATION') {
        const helpdesk = keep(await sim.approve(progress.url, 'tailspin'))
        seen.errors.push(await caught(flow.handleCallback(FULL.key, helpdesk.url, helpdesk.bodyText)))
      }
      const callback = keep(await sim.approve(progress.url, tenant))
      seen.errors.push(await caught(flow.handleCallback('another-key-0123456789abcdef', callback.url, callback.bodyText)))
      if (progress.action !== 'REGISTRATION' && consents++ === 0) {
        const switched = keep(await sim.approve(progress.url, otherTenant))
        seen.errors.push(await caught(flow.handleCallback(FULL.key, switched.url, switched.bodyText)))
        // The provisioning calls with a real MSAL result, through clients that must fail.
        const auth = callback.body.msalAuthenticationResult.authenticationResult
        const noEnterprise = new Client({ baseUrl: sim.baseUrl, resellerToken: FULL.resellerToken, retry: { maxAttempts: 1 } })
        await attempt(noEnterprise.o365UserInfo(auth))
        const wrongPassword = new Client({
          ...sim.clientOptions(),
          enterprise: { ...sim.clientOptions().enterprise, password: `${FULL.enterprisePassword}-wrong` },
          retry: { maxAttempts: 1 },
        })
        await attempt(wrongPassword.provisionTenantAdminApi(auth))
        await attempt(client.updateManagementConsent(auth, sim.resellerId, 'not-the-tenant'))
      }
      assert.equal(await flow.handleCallback(FULL.key, callback.url, callback.bodyText), 'accepted')
      assert.equal(await flow.handleCallback(FULL.key, callback.url, callback.body), 'duplicate')
      seen.flowJson.push(flow.toJSON())
      flow = Onboarding.fromJSON(JSON.stringify(flow))
      progress = await flow.advance(client)
    }
    assert.equal(progress.kind, 'complete', JSON.stringify(progress))
    seen.progresses.push(progress, flow.progress())
    seen.statuses.push(flow.status())
    seen.flowJson.push(flow.toJSON())
    seen.flow = flow

    // Odd token answers that carry a canary token: errors of every kind, none showing it.
    const tokenBodies = [
      `{"access_token":"${FULL.resellerToken}","expires_in":"soon"}`,
      `{"access_token":"${FULL.resellerToken}","token_type":5}`,
      `{"accessToken":"${FULL.resellerToken}"}`,
      `{"access_token":["${FULL.resellerToken}"]}`,
      `{"access_token":"${FULL.resellerToken}"`,
      `<html>${FULL.resellerToken}</html>`,
      `"${FULL.resellerToken}"`,
    ]
    for (const body of tokenBodies) {
      for (const status of [200, 400, 401, 500]) {
        sim.setCanned({ pathPrefix: '/oauth/token', status, body })
        try {
          const fresh = new Client({ ...sim.clientOptions(), retry: { maxAttempts: 1 } })
          await attempt(fresh.authenticatedUser())
        } finally {
          sim.clearCanned()
        }
      }
    }
    assert.ok(seen.tokens.length >= 10, `MSAL tokens seen: ${seen.tokens.length}`)
    for (const t of seen.tokens) assert.match(t, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/)
    seen.credentials = sim.credentials
    return seen
  } catch (error) {
    await sim.close()
    throw error
  }
}

module.exports = { FULL, fullFlow }
