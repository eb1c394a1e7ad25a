// The onboarding walkthrough in Node, against the embedded simulator.
//
// It is what a provider's portal does, compressed into one run: Part I with the lists printed,
// the enterprise created, then every URL the flow asks for approved by the simulated Global
// Admin, until the flow reports `complete`. Run it with `node walkthrough.mjs` (or pass another
// simulated tenant: `node walkthrough.mjs northwind`). The same walkthrough in Rust is
// examples/rust/src/main.rs.
//
// `ctt-onboard` is the package in ../../bindings-node, installed here as a `file:` dependency
// (see package.json); build it first with `make node-setup` and its `npm run build:debug`.

import { randomBytes } from 'node:crypto'
import { Client, CttError, ManualClock, Onboarding, Simulator, claimedFlowId } from 'ctt-onboard'

// The portal's callback keys: bytes (a string would be its UTF-8 bytes), at least 16 of them. A
// real portal loads them from its secret store. The ring signs new URLs with `signing`; to rotate,
// make the old key a `verify` key (its URLs still answer), later list its id in `retired`.
const CALLBACK_KEYS = { signing: { id: 'portal-2026', key: randomBytes(32) }, maxAgeSeconds: 72 * 3600 }

// The portal's database, reduced to a Map: each row is the flow's JSON and its revision, and every
// save is a compare-and-swap on the revision (in SQL: UPDATE flows SET json = ?, revision = ?
// WHERE id = ? AND revision = ?), so a stale writer never overwrites a newer flow. See
// ../portal/portal.mjs for the same with SQLite and several processes.
const db = new Map()
function save(flow, previousRevision) {
  const row = db.get(flow.id)
  if (row && row.revision !== previousRevision) {
    throw new CttError(`flow ${flow.id} moved on to revision ${row.revision}: reload it`, { code: 'flow_state' })
  }
  db.set(flow.id, { json: flow.toJSONString(), revision: flow.revision })
}
const load = (id) => Onboarding.fromJSON(db.get(id).json)
// advance() saves through this after every step that changed the flow and before the create.
const checkpoint = (snapshot, previousRevision) => save(snapshot, previousRevision)

const tenant = process.argv[2] ?? 'contoso'

// A simulator on 127.0.0.1 stands in for ConnecttoTeams and Microsoft's consent screen.
const sim = await Simulator.start()
console.log(`simulator listening on ${sim.baseUrl}`)

try {
  // One client for the whole portal: the reseller's API user and the enterprise-level API
  // credentials (sim.clientOptions() holds both), and the portal's callback key ring. The demo's
  // clock can be moved, so it crosses the vendor's 30-minute wait at once; a portal keeps the
  // system clock and calls advance() again after `notBefore`.
  const clock = new ManualClock()
  const client = new Client({ ...sim.clientOptions(), callbackKeys: CALLBACK_KEYS }, clock)

  // Part I, shown by hand so the lists are visible; the flow below fetches them itself.
  const resellerId = await client.resellerId()
  console.log(`\n== Part I: the reseller's lists (reseller ${resellerId})`)
  for (const g of await client.sbcGateways(resellerId)) {
    console.log(`  SBC gateway ${g.sbcGatewayId} in ${g.sbcGatewayRegion}`)
  }
  for (const p of await client.pbxTypes(resellerId)) {
    const marks = (p.isDefault ? ' (default)' : '') + (p.isDisabled ? ' (disabled)' : '')
    console.log(`  PBX type ${p.id} ${p.pbxName}${marks}`)
  }

  // The plan: PBX calling with SMS; gateways chosen by region, the default PBX type.
  let flow = new Onboarding({
    enterprise: {
      enterpriseName: `${tenant[0].toUpperCase()}${tenant.slice(1)} Pharmaceuticals`,
      services: ['PBX', 'SMS'],
      restrictAdminAccess: true,
    },
    gatewayRegions: ['US-East'],
    redirectUrl: 'https://portal.example/ctt/callback',
  })
  console.log(`\n== Onboarding flow ${flow.id}`)
  save(flow, 0) // stored before the first advance, so a crash mid-way can resume it

  loop: for (;;) {
    // Every step is saved by the checkpoint as it finishes; a failed save stops the advance
    // (before the create, nothing is sent).
    flow = load(flow.id)
    const progress = await flow.advance(client, { checkpoint })
    console.log(`   (saved at revision ${db.get(flow.id).revision})`)

    switch (progress.kind) {
      case 'awaitingAdmin': {
        console.log(`\n-> show the Global Admin the ${progress.action} URL:\n   ${shorten(progress.url)}`)
        // The simulated admin of `tenant` signs in and accepts; the portal's callback route
        // receives the URL and body and hands them to the flow.
        const callback = await sim.approve(progress.url, tenant)
        try {
          // Which stored flow it claims (unverified); the flow verifies it with the client's ring:
          // the tag, that it answers the ask the flow waits for now, the signer, the tenant.
          const stored = load(claimedFlowId(callback.url))
          const before = stored.revision
          const outcome = await stored.handleCallback(client, callback.url, callback.bodyText)
          save(stored, before)
          console.log(`   callback ${outcome} (advance confirms it with ConnecttoTeams)`)
        } catch (e) {
          if (!(e instanceof CttError)) throw e
          console.log(`   callback refused [${e.code}]: ${e.message}`)
          break loop
        }
        break
      }
      case 'waitingUntil': {
        const waitMs = progress.notBefore.getTime() - clock.now()
        console.log(`\n-> waiting ${Math.ceil(waitMs / 60000)} minutes: ${progress.reason}`)
        console.log('   (the demo moves its clocks forward instead of waiting)')
        clock.advance(waitMs + 60_000)
        sim.advanceClock(waitMs + 60_000)
        break
      }
      case 'complete':
        console.log(`\n== Complete: enterprise ${progress.enterpriseId}, tenant ${progress.tenantId}`)
        break loop
    }
  }

  console.log('\n== Status')
  for (const s of flow.status()) {
    console.log(`  [${s.state.padEnd(7)}] ${s.title.padEnd(38)} ${s.detail ?? ''}`)
  }
  console.log(`\nflow JSON: ${flow.toJSONString().length} bytes, revision ${flow.revision}`)
  process.exitCode = flow.isComplete ? 0 : 1
} finally {
  await sim.close()
}

function shorten(url) {
  return url.length > 110 ? `${url.slice(0, 110)}…` : url
}
