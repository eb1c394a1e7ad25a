// A second portal process for test/race.test.mjs: it opens the same SQLite file and runs the
// portal's own store (compare-and-swap on the revision) on the parent's orders, over IPC.
//
//   { op: 'prepare', id }         load flow `id` now (the copy the next 'go' starts from); answers 'ready'
//   { op: 'go', what, jitterMs }  after jitterMs, with that copy: 'advance' (the portal's advance),
//                                 'callback' (handleCallback and save), 'callback+advance' (the
//                                 portal's callback route: both), 'advance-once' (advance, no retry
//                                 on a stale row: the error is reported)
//
// argv: the database path. env RACE_CLIENT: the client options (the simulator's, and the key).

import { Client } from 'ctt-onboard'
import { flowStore, isStale, openDb } from '../portal.mjs'

const client = new Client(JSON.parse(process.env.RACE_CLIENT))
const db = openDb(process.argv[2])
const store = flowStore(db)
let loaded = null
let id = null

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function go({ what, url, body, jitterMs = 0 }) {
  await sleep(jitterMs)
  const first = loaded
  loaded = null
  const advance = (flow, checkpoint) => flow.advance(client, { checkpoint })
  const callback = (flow) => flow.handleCallback(client, url, body)
  switch (what) {
    case 'advance': {
      const r = await store.update(id, advance, { loaded: first })
      return { progress: r.result, attempts: r.attempts, enterpriseId: r.flow.enterpriseId }
    }
    case 'callback': {
      const r = await store.update(id, callback, { loaded: first })
      return { outcome: r.result, attempts: r.attempts }
    }
    case 'callback+advance': {
      const c = await store.update(id, callback, { loaded: first })
      const a = await store.update(id, advance)
      return { outcome: c.result, attempts: c.attempts, progress: a.result }
    }
    case 'advance-once':
      try {
        const r = await store.update(id, advance, { loaded: first, tries: 1 })
        return { progress: r.result, attempts: 1 }
      } catch (e) {
        if (!isStale(e)) throw e
        return { stale: true, code: e.code, message: e.message }
      }
    default:
      throw new Error(`unknown order ${what}`)
  }
}

process.on('message', async (message) => {
  try {
    if (message.op === 'prepare') {
      id = message.id
      loaded = store.load(id)
      process.send({ ready: true, revision: loaded.revision })
    } else if (message.op === 'go') {
      process.send({ ok: true, ...(await go(message)) })
    } else if (message.op === 'exit') {
      db.close()
      process.exit(0)
    }
  } catch (e) {
    process.send({ ok: false, code: e.code ?? null, message: String(e.message ?? e) })
  }
})
process.send({ started: true })
