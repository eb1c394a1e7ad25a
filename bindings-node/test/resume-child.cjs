'use strict'
// Run by flow.test.cjs in a new node process: load a saved flow, feed it the callback the parent
// received, advance, save it back, and print what happened as JSON.
const fs = require('node:fs')
const path = require('node:path')
const { Client, Onboarding } = require('ctt-onboard')

async function main() {
  const dir = process.argv[2]
  const flow = Onboarding.fromJSON(fs.readFileSync(path.join(dir, 'flow.json'), 'utf8'))
  const callback = JSON.parse(fs.readFileSync(path.join(dir, 'callback.json'), 'utf8'))
  const key = process.env.CTT_TEST_KEY
  const outcome = await flow.handleCallback(key, callback.url, callback.bodyText)
  const client = new Client({
    baseUrl: process.env.CTT_TEST_BASE_URL,
    reseller: { clientId: 'ctt-sim-client', clientSecret: 'sim-client-secret', username: 'api-admin@reseller.example', password: 'sim-reseller-password' },
    enterprise: { clientId: 'ctt-sim-client', clientSecret: 'sim-client-secret', username: 'enterprise-api@reseller.example', password: 'sim-enterprise-password' },
    callbackKey: key,
  })
  const progress = await flow.advance(client)
  fs.writeFileSync(path.join(dir, 'flow.json'), JSON.stringify(flow))
  process.stdout.write(JSON.stringify({ id: flow.id, outcome, progress }))
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
