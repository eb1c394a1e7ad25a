// The portal clicked through in headless Chromium (Debian's `chromium` package, driven by
// playwright-core; no browser is downloaded), against the embedded simulator, whose consent pages
// stand in for Microsoft's. Screenshots of every page go to test-output/.

import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { Client, Onboarding, Simulator } from 'ctt-onboard'
import { startPortal } from '../portal.mjs'

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'
const OUTPUT = fileURLToPath(new URL('../test-output/', import.meta.url))
const KEY = 'portal-test-callback-key-0123456789'

let sim, portal, browser, tmp

before(async () => {
  rmSync(OUTPUT, { recursive: true, force: true })
  mkdirSync(OUTPUT, { recursive: true })
  tmp = mkdtempSync(join(tmpdir(), 'ctt-portal-test-'))
  sim = await Simulator.start()
  const client = new Client({ ...sim.clientOptions(), callbackKey: KEY })
  portal = await startPortal({ client, dbPath: join(tmp, 'portal.sqlite3') })
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  })
})

after(async () => {
  await browser?.close()
  await portal?.close()
  await sim?.close()
  if (tmp) rmSync(tmp, { recursive: true, force: true })
})

/** Saves a screenshot named after the test and the page: test-output/<prefix>-NN-<name>.png. */
function shooter(page, prefix) {
  let n = 0
  return async (name) => {
    n += 1
    await page.screenshot({ path: join(OUTPUT, `${prefix}-${String(n).padStart(2, '0')}-${name}.png`), fullPage: true })
  }
}

/** Fills the create form as a provider would and submits it; lands on the onboarding page. */
async function createEnterprise(page, shot, { name, services, gateways = [] }) {
  await page.goto(portal.url + '/')
  await page.fill('#enterpriseName', name)
  for (const s of services) await page.check(`#service-${s}`)
  for (const g of gateways) await page.check(`#gateway-${g}`)
  await shot('create-form')
  await Promise.all([page.waitForURL(/\/flows\/[0-9a-f-]{36}$/), page.click('#create-enterprise')])
  assert.equal(await page.locator('#error').count(), 0, await page.content())
}

/**
 * Clicks the current step's button, signs in on the simulated consent page as `tenant`'s admin,
 * accepts, and comes back to the portal; returns the button's label.
 */
async function takeStep(page, shot, tenant) {
  const button = page.locator('#next-step')
  const label = (await button.textContent()).trim()
  await shot(`flow-${slug(label)}`)
  await button.click()
  await page.waitForSelector('#accept')
  assert.match(await page.title(), /Sign in to your account/)
  await page.check(`#tenant-${tenant}`)
  await shot(`consent-${slug(label)}`)
  await Promise.all([page.waitForURL(/\/flows\/[0-9a-f-]{36}$/), page.click('#accept')])
  return label
}

function slug(s) {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')
}

function flowRow(page) {
  const id = new URL(page.url()).pathname.split('/').pop()
  return portal.db.prepare('SELECT * FROM flows WHERE id = ?').get(id)
}

describe('the portal in a browser', () => {
  test('contoso: every button, every consent accepted, until onboarding is complete', async () => {
    const page = await browser.newPage()
    const shot = shooter(page, '1-contoso')
    await createEnterprise(page, shot, { name: 'Contoso Pharmaceuticals', services: ['PBX', 'SMS'], gateways: [5678] })
    const clicked = []
    while ((await page.locator('#next-step').count()) > 0 && clicked.length < 12) {
      clicked.push(await takeStep(page, shot, 'contoso'))
      assert.equal(await page.locator('#error').count(), 0, await page.locator('body').innerText())
    }
    assert.deepEqual(clicked, [
      'Register with Microsoft',
      'Grant user sync consent',
      'Grant presence consent',
      'Grant App Deployment Agent consent',
      'Allow management by service provider',
    ])
    await shot('complete')
    assert.match(await page.locator('#outcome').innerText(), /^Onboarding complete: enterprise \d+, Microsoft tenant 7c9e6679-/)
    // Every line of the checklist is done or skipped.
    const states = await page.locator('#checklist li').evaluateAll((lis) => lis.map((li) => li.className))
    assert.ok(states.length >= 10)
    assert.ok(states.every((c) => c === 'step done' || c === 'step skipped'), states.join(', '))
    // The flow in SQLite is complete too, and the simulator holds the enterprise it created.
    const row = flowRow(page)
    const saved = Onboarding.fromJSON(row.flow_json)
    assert.equal(saved.isComplete, true)
    assert.equal(saved.tenantId, '7c9e6679-7425-40de-944b-e07fc1f90ae7')
    assert.equal(row.error_code, null)
    assert.ok(sim.snapshot().enterprises.some((e) => e.name === 'Contoso Pharmaceuticals' && e.managed_by_provider))
    await page.close()
  })

  test('tailspin: the signer is not a Global Admin, and the page says so', async () => {
    const page = await browser.newPage()
    const shot = shooter(page, '2-tailspin')
    await createEnterprise(page, shot, { name: 'Tailspin Toys', services: ['SMS', 'CHAT'] })
    assert.equal(await takeStep(page, shot, 'tailspin'), 'Register with Microsoft')
    await shot('not-global-admin')
    const error = page.locator('#error')
    assert.equal(await error.getAttribute('data-code'), 'callback_invalid')
    assert.match(
      await error.innerText(),
      /You signed in as helpdesk@tailspin\.onmicrosoft\.com, a user who is not a Global Admin of the tenant/,
    )
    // Nothing changed: registration still waits for a Global Admin, and its button is still there.
    assert.equal(await page.locator('[data-step="registration"]').getAttribute('class'), 'step waiting')
    assert.equal((await page.locator('#next-step').innerText()).trim(), 'Register with Microsoft')
    assert.equal(flowRow(page).error_code, 'callback_invalid')
    await page.close()
  })

  test('northwind: the Teams admin roles are missing, and the page shows the 30-minute wait', async () => {
    const page = await browser.newPage()
    const shot = shooter(page, '3-northwind')
    await createEnterprise(page, shot, { name: 'Northwind Traders', services: ['Trunk', 'CHAT'], gateways: [5680] })
    let steps = 0
    while ((await page.locator('#next-step').count()) > 0 && steps < 12) {
      await takeStep(page, shot, 'northwind')
      steps += 1
    }
    await shot('waiting')
    assert.equal(steps, 5)
    const waiting = page.locator('#waiting')
    assert.match(await waiting.innerText(), /Waiting until \d{4}-\d\d-\d\d \d\d:\d\d UTC/)
    assert.match(await waiting.innerText(), /30 minutes/)
    assert.equal(await page.locator('#outcome').count(), 0)
    // "Check again" before the time has passed keeps waiting, and repeats no step.
    await Promise.all([page.waitForURL(/\/flows\/[0-9a-f-]{36}$/), page.click('#check-again')])
    await shot('still-waiting')
    assert.equal(await page.locator('#waiting').count(), 1)
    assert.equal(await page.locator('#error').count(), 0)
    await page.close()
  })

  test('the form explains what is wrong: missing gateways, a name already onboarded', async () => {
    const page = await browser.newPage()
    const shot = shooter(page, '4-form')
    // PBX without an SBC gateway: the library's own validation, before any request.
    await page.goto(portal.url + '/')
    await page.fill('#enterpriseName', 'Fourth Coffee')
    await page.check('#service-PBX')
    await page.click('#create-enterprise')
    await page.waitForSelector('#error')
    await shot('invalid-input')
    assert.equal(await page.locator('#error').getAttribute('data-code'), 'invalid_input')
    assert.match(await page.locator('#error').innerText(), /Some of the details are not valid\./)
    assert.equal(await page.inputValue('#enterpriseName'), 'Fourth Coffee') // the form keeps what was typed
    // A name the portal already onboards (from the first test).
    await page.fill('#enterpriseName', 'Contoso Pharmaceuticals')
    await page.uncheck('#service-PBX')
    await page.check('#service-SMS')
    await page.click('#create-enterprise')
    await page.waitForSelector('#error[data-code="conflict"]')
    await shot('conflict')
    assert.match(await page.locator('#error').innerText(), /An enterprise with this name already exists/)
    // The home page lists every enterprise with where it stands.
    await page.goto(portal.url + '/')
    await shot('enterprises')
    const list = await page.locator('#enterprises').innerText()
    assert.match(list, /Contoso Pharmaceuticals \(complete\)/)
    assert.match(list, /Tailspin Toys \(in progress\)/)
    assert.match(list, /Northwind Traders \(in progress\)/)
    await page.close()
  })
})
