// Starts the portal against the embedded simulator (`make portal`), and prints its URL.
//
// The simulator stands in for ConnecttoTeams and for Microsoft's consent pages: the portal's
// buttons lead there, you pick the admin who signs in (contoso is ready; tailspin's signer is
// not a Global Admin; northwind ends in the 30-minute wait) and accept.
//
// Settings (environment): PORT (default 8088), PORTAL_DB (default: a fresh file in a temporary folder).
// Against the real service, build the Client with your own credentials instead of the simulator's.

import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client, Simulator } from 'ctt-onboard'
import { startPortal } from './portal.mjs'

// The portal's secret for tagging callback URLs. A real portal loads it from its secret store.
const callbackKey = process.env.PORTAL_CALLBACK_KEY ?? 'demo-portal-callback-key-please-rotate'

const sim = await Simulator.start()
const client = new Client({ ...sim.clientOptions(), callbackKey })
// A fresh database by default: the embedded simulator starts empty at every run, so flows saved
// by an earlier run would name enterprises it does not know.
const dbPath = process.env.PORTAL_DB ?? join(mkdtempSync(join(tmpdir(), 'ctt-portal-')), 'portal.sqlite3')
const portal = await startPortal({ client, dbPath, port: Number(process.env.PORT ?? 8088) })

console.log(`simulated ConnecttoTeams at ${sim.baseUrl}`)
console.log(`portal at ${portal.url}/  (Ctrl-C stops it; flows are kept in ${dbPath})`)

async function stop() {
  await portal.close()
  await sim.close()
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
