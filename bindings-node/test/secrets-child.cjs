'use strict'
// Run by secrets.test.cjs with CTT_ONBOARD_LOG=trace: the full canary flow, logging to stderr;
// prints the MSAL tokens and credentials it saw (stdout) for the parent to look for in stderr.
const { fullFlow } = require('./secrets-flow.cjs')

async function main() {
  const seen = await fullFlow(`Canary child ${process.pid}`)
  await seen.sim.close()
  process.stdout.write(JSON.stringify({ tokens: seen.tokens, credentials: seen.credentials }))
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
