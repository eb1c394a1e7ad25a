'use strict'
// Drives an onboarding against the simulator the way a portal does: advance, show the URL to the
// admin (the simulator approves it as a tenant's admin), feed the callback back, advance again.
const assert = require('node:assert/strict')
const { Onboarding } = require('ctt-onboard')

const KEY = 'portal-callback-key-0123456789abcdef'
const REDIRECT = 'http://127.0.0.1:9/portal/callback'

function plan(name, services = ['SMS', 'CHAT'], extra = {}) {
  return { enterprise: { enterpriseName: name, services, restrictAdminAccess: true }, redirectUrl: REDIRECT, ...extra }
}

/** Advances until complete or waiting, approving every URL as `tenant`; returns the actions asked and the last progress. */
async function drive(sim, client, flow, tenant) {
  const actions = []
  let progress = await flow.advance(client)
  for (let i = 0; i < 20 && progress.kind === 'awaitingAdmin'; i++) {
    actions.push(progress.action)
    const callback = await sim.approve(progress.url, tenant)
    assert.equal(await flow.handleCallback(KEY, callback.url, callback.bodyText), 'accepted')
    // Persist and reload at every step, as a portal that restarts would.
    flow = Onboarding.fromJSON(JSON.stringify(flow))
    progress = await flow.advance(client)
  }
  return { actions, progress, flow }
}

function stateOf(flow, step) {
  const line = flow.status().find((s) => s.step === step)
  assert.ok(line, `no step ${step}`)
  return line.state
}

function count(sim, path) {
  return sim.snapshot().requests.filter((r) => r.path === path).length
}

module.exports = { KEY, REDIRECT, plan, drive, stateOf, count }
