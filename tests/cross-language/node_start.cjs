// Cross-language step 1 (Node): creates the flow, advances it with a compare-and-swap checkpoint
// into the shared SQLite file until the Global Admin is asked to register, and stores that ask.
// Run by run.sh, which sets CTT_XLANG_SIM, CTT_XLANG_KEY_HEX, CTT_XLANG_DB, CTT_XLANG_CHECKS and
// CTT_XLANG_NAME.
'use strict'

const fs = require('node:fs')
const { Client, Onboarding, CttError } = require('../../bindings-node/lib/index.cjs')
// Node 20 has no node:sqlite; the example portal's better-sqlite3 (npm ci in examples/portal).
const Database = require('../../examples/portal/node_modules/better-sqlite3')

const LANG = 'node'

function env(name) {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set: run tests/cross-language/run.sh`)
  return value
}

let failures = 0
function check(ok, what) {
  fs.appendFileSync(env('CTT_XLANG_CHECKS'), `${ok ? 'PASS' : 'FAIL'}\t${LANG}\t${what}\n`)
  if (!ok) failures++
  return ok
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS flows (id TEXT PRIMARY KEY, json TEXT NOT NULL, revision INTEGER NOT NULL);
  -- the action item URL the Global Admin is shown now
  CREATE TABLE IF NOT EXISTS asks (flow_id TEXT PRIMARY KEY, action TEXT NOT NULL, url TEXT NOT NULL);
  -- every callback received, kept for the replay check
  CREATE TABLE IF NOT EXISTS inbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, flow_id TEXT NOT NULL,
                                    action TEXT NOT NULL, url TEXT NOT NULL, body TEXT NOT NULL, lang TEXT NOT NULL);
  -- the revision each language's step left in flows
  CREATE TABLE IF NOT EXISTS history (seq INTEGER PRIMARY KEY AUTOINCREMENT, lang TEXT NOT NULL, revision INTEGER NOT NULL);
`

async function main() {
  const sim = JSON.parse(env('CTT_XLANG_SIM'))
  const key = Buffer.from(env('CTT_XLANG_KEY_HEX'), 'hex')
  if (key.length !== 32) throw new Error(`CTT_XLANG_KEY_HEX is ${key.length} bytes, not 32`)

  const db = new Database(env('CTT_XLANG_DB'))
  db.exec(SCHEMA)
  const client = new Client({
    baseUrl: sim.base_url,
    reseller: { clientId: sim.client_id, clientSecret: sim.client_secret, username: sim.username, password: sim.password },
    enterprise: {
      clientId: sim.client_id, clientSecret: sim.client_secret,
      username: sim.enterprise_username, password: sim.enterprise_password,
    },
    callbackKey: key,
  })

  const flow = new Onboarding({
    enterprise: { enterpriseName: env('CTT_XLANG_NAME'), services: ['PBX', 'SMS'] },
    gatewayRegions: ['US-East'],
    redirectUrl: 'https://portal.example/cb',
  })
  check(flow.revision === 0, `a new flow is at revision 0 (got ${flow.revision})`)
  db.prepare('INSERT INTO flows (id, json, revision) VALUES (?, ?, ?)').run(flow.id, flow.toJSONString(), flow.revision)

  const update = db.prepare('UPDATE flows SET json = ?, revision = ? WHERE id = ? AND revision = ?')
  function saveIfAt(snapshot, previousRevision) {
    const { changes } = update.run(snapshot.toJSONString(), snapshot.revision, snapshot.id, previousRevision)
    if (changes !== 1) {
      throw new CttError(`flow ${snapshot.id}: the stored row is no longer at revision ${previousRevision}`, { code: 'flow_state' })
    }
  }
  let saved = flow.revision
  let checkpoints = 0
  const progress = await flow.advance(client, {
    checkpoint: (snapshot, previousRevision) => {
      if (previousRevision !== saved) {
        throw new CttError(`checkpoint got previous revision ${previousRevision}, this step saved ${saved}`, { code: 'flow_state' })
      }
      saveIfAt(snapshot, previousRevision)
      saved = snapshot.revision
      checkpoints++
    },
  })
  if (flow.revision !== saved) saveIfAt(flow, saved)

  check(progress.kind === 'awaitingAdmin' && progress.action === 'REGISTRATION',
    `advance stops awaiting the admin's REGISTRATION (got ${JSON.stringify(progress)})`)
  check(checkpoints >= 2, `the checkpoint saved with CAS after the steps and before the create (${checkpoints} saves)`)
  check(typeof flow.enterpriseId === 'number', `the enterprise was created (id ${flow.enterpriseId})`)

  const row = db.prepare('SELECT json, revision FROM flows WHERE id = ?').get(flow.id)
  check(row && row.revision === flow.revision && row.revision > 0,
    `the stored row is at the flow's revision ${flow.revision} (stored ${row && row.revision})`)
  const reloaded = Onboarding.fromJSON(row.json)
  check(reloaded.revision === row.revision && reloaded.progress()?.url === progress.url,
    'the stored JSON reloads with its revision and the ask URL')

  db.prepare('INSERT OR REPLACE INTO asks (flow_id, action, url) VALUES (?, ?, ?)').run(flow.id, progress.action, progress.url)
  db.prepare('INSERT INTO history (lang, revision) VALUES (?, ?)').run(LANG, flow.revision)
  db.close()
  console.log(`${LANG}: created flow ${flow.id} (enterprise ${flow.enterpriseId}), revision 0 -> ${flow.revision} ` +
    `in SQLite by ${checkpoints} CAS checkpoints, awaiting ${progress.action}`)
}

main().then(
  () => process.exit(failures ? 1 : 0),
  (e) => {
    check(false, `${e.code ? e.code + ': ' : ''}${e.message}`)
    console.error(e)
    console.log(`${LANG}: failed: ${e.message}`)
    process.exit(1)
  },
)
