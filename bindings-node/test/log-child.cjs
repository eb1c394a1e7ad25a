'use strict'
// Run by logging.test.cjs: one call against a fresh simulator, then exit by itself.
const { Client, Simulator, setLogger } = require('ctt-onboard')

async function main() {
  if (process.env.CTT_TEST_SET_LOGGER) setLogger(() => {}, 'trace')
  const sim = await Simulator.start()
  const client = new Client(sim.clientOptions())
  await client.sbcGateways(sim.resellerId)
  await sim.close()
  process.stdout.write('ok\n')
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
