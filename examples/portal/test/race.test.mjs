// Two portal processes on one SQLite file (issue 13, "Tests that can fail", 7): every save is the
// portal's compare-and-swap on the revision (flowStore in portal.mjs), and advance saves through
// its checkpoint. Process A advances a flow while process B takes a genuine consent callback for
// it; over the rounds no callback is lost and the simulator records each consent once. Two
// advances of one stored flow, one in each process, send one create; the loser's save is stale and
// it reloads to find the enterprise the winner created.

import assert from 'node:assert/strict'
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Client, Onboarding, Simulator } from 'ctt-onboard'
import { flowStore, openDb } from '../portal.mjs'

const KEY = 'portal-race-callback-key-0123456789'
const WORKER = fileURLToPath(new URL('../support/race-worker.mjs', import.meta.url))
const ROUNDS = 10
const REDIRECT = 'http://127.0.0.1:9/ctt/callback' // nothing listens: the test delivers the callbacks

let sim, client, tmp, db, store, a, b

/** A child process running the portal's store on the same database, answering one order at a time. */
function worker(name, dbPath, options) {
  const child = fork(WORKER, [dbPath], { env: { ...process.env, RACE_CLIENT: JSON.stringify(options) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const queue = []
  child.on('message', (m) => {
    if (m.started) return
    queue.shift()?.(m)
  })
  const ask = (message) =>
    new Promise((resolve, reject) => {
      queue.push((m) => (m.ok === false ? reject(new Error(`${name}: ${m.code}: ${m.message}`)) : resolve(m)))
      child.send(message)
    })
  return { name, child, ask }
}

/** Both processes load flow `id`, then act at once (with a small random lag each). */
async function race(id, orderA, orderB) {
  await Promise.all([a.ask({ op: 'prepare', id }), b.ask({ op: 'prepare', id })])
  const jitter = () => Math.floor(Math.random() * 4)
  return Promise.all([a.ask({ op: 'go', jitterMs: jitter(), ...orderA }), b.ask({ op: 'go', jitterMs: jitter(), ...orderB })])
}

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'ctt-portal-race-'))
  const dbPath = join(tmp, 'portal.sqlite3')
  sim = await Simulator.start()
  const options = { ...sim.clientOptions(), callbackKey: KEY }
  client = new Client(options)
  db = openDb(dbPath)
  store = flowStore(db)
  a = worker('A', dbPath, options)
  b = worker('B', dbPath, options)
})

after(async () => {
  for (const w of [a, b]) {
    if (w && w.child.exitCode === null) {
      const exited = new Promise((resolve) => w.child.once('exit', resolve))
      w.child.send({ op: 'exit' })
      await exited
    }
  }
  db?.close()
  await sim?.close()
  if (tmp) rmSync(tmp, { recursive: true, force: true })
})

let flows = 0
function newFlow(prefix) {
  flows += 1
  const flow = new Onboarding({
    enterprise: { enterpriseName: `${prefix} ${process.pid}-${flows}`, services: ['SMS', 'CHAT'], restrictAdminAccess: true },
    redirectUrl: REDIRECT,
    optionalConsents: ['GET_CONTACTS_CONSENT', 'GET_CDR_CONSENT'],
  })
  store.insert(flow)
  return flow.id
}

const advance = (id) => store.update(id, (flow, checkpoint) => flow.advance(client, { checkpoint }))

test(`a callback taken by one process while another advances the flow is never lost (${ROUNDS} rounds)`, async () => {
  const enterprises = new Map() // enterprise id -> the consent actions asked for
  let id = null
  let tenant = null
  let current = null
  const losses = []
  for (let round = 1; round <= ROUNDS; round++) {
    if (!current || current.kind !== 'awaitingAdmin') {
      id = newFlow('Race')
      // A tenant of its own per flow (contoso's traits): the simulator finds a tenant's enterprise by tenant.
      tenant = `contoso+race${process.pid}x${flows}`
      current = (await advance(id)).result
      enterprises.set(store.load(id).enterpriseId, [])
    }
    assert.equal(current.kind, 'awaitingAdmin')
    const asked = current
    const flowBefore = store.load(id)
    if (asked.action !== 'REGISTRATION') enterprises.get(flowBefore.enterpriseId).push(asked.action)
    const genuine = await sim.approve(asked.url, tenant)
    // A advances (in odd rounds; in even rounds it got the same callback too, as a second portal
    // process would, and runs the portal's callback route); B takes the callback and saves it.
    const orderA = round % 2 === 1 ? { what: 'advance' } : { what: 'callback+advance', url: genuine.url, body: genuine.bodyText }
    const [ra, rb] = await race(id, orderA, { what: 'callback', url: genuine.url, body: genuine.bodyText })
    assert.ok(['accepted', 'duplicate'].includes(rb.outcome), JSON.stringify(rb))
    if (round % 2 === 0) {
      // Both took it from the same revision: exactly one accepted it, the other reloaded (stale)
      // and found it a duplicate.
      assert.deepEqual([ra.outcome, rb.outcome].sort(), ['accepted', 'duplicate'], JSON.stringify([ra, rb]))
      assert.ok(Math.max(ra.attempts, rb.attempts) >= 2, `the stale writer reloaded and applied it again: ${JSON.stringify([ra, rb])}`)
    }
    // The stored flow holds the callback: the same callback again is a duplicate of an answered
    // ask (a lost one would be accepted, or refused as for another ask).
    const stored = store.load(id)
    assert.ok(stored.revision > flowBefore.revision)
    const copy = Onboarding.fromJSON(stored.toJSONString())
    const again = await copy.handleCallback(client, genuine.url, genuine.bodyText)
    if (again !== 'duplicate') losses.push({ round, action: asked.action, again })
    // On to the next ask (it confirms the callback first, if A has not).
    current = (await advance(id)).result
    assert.ok(current.kind !== 'awaitingAdmin' || current.url !== asked.url, `round ${round}: still asking for ${asked.action} at the same URL`)
    if (current.kind === 'awaitingAdmin') assert.notEqual(current.action, asked.action, `round ${round}: ${asked.action} asked again`)
  }
  assert.deepEqual(losses, [], 'no callback was lost')
  assert.ok(enterprises.size >= 2, 'the rounds crossed more than one flow')
  // Each consent was granted exactly once per enterprise: no ask was ever made twice.
  const consents = sim.snapshot().consents
  for (const [enterpriseId, actions] of enterprises) {
    const counts = {}
    for (const c of consents.filter((c) => c.enterprise_id === enterpriseId)) counts[c.action] = (counts[c.action] ?? 0) + 1
    for (const action of actions) assert.equal(counts[action], 1, `enterprise ${enterpriseId}: ${action} granted ${counts[action] ?? 0} times`)
    assert.deepEqual(Object.keys(counts).sort(), [...actions].sort(), `enterprise ${enterpriseId}: only the consents asked for`)
  }
})

test('two processes advancing one stored flow at once send one create; the loser reloads to find it', async () => {
  const creates = () => sim.snapshot().requests.filter((r) => r.path === '/reseller/newEnterprise').length
  for (let round = 1; round <= 5; round++) {
    const id = newFlow('Create race')
    const name = store.load(id).plan.enterprise.enterpriseName
    const sent = creates()
    const results = await race(id, { what: 'advance-once' }, { what: 'advance-once' })
    const won = results.filter((r) => !r.stale)
    const lost = results.filter((r) => r.stale)
    const loser = results[0].stale ? a : b
    assert.equal(won.length, 1, JSON.stringify(results))
    assert.equal(lost.length, 1, JSON.stringify(results))
    assert.equal(won[0].progress.action, 'REGISTRATION')
    assert.equal(lost[0].code, 'flow_state')
    assert.match(lost[0].message, /saved by another writer/)
    assert.equal(creates() - sent, 1, `round ${round}: one create was sent`)
    const named = sim.snapshot().enterprises.filter((e) => e.name === name)
    assert.equal(named.length, 1)
    const stored = store.load(id)
    assert.equal(stored.enterpriseId, named[0].id)
    // The loser reloads the flow and advances it: it finds the enterprise, and sends no create.
    await loser.ask({ op: 'prepare', id })
    const retried = await loser.ask({ op: 'go', what: 'advance' })
    assert.equal(retried.enterpriseId, named[0].id, 'the loser found the enterprise the winner created')
    assert.equal(retried.progress.action, 'REGISTRATION')
    assert.equal(creates() - sent, 1, `round ${round}: still one create`)
  }
})
