// A small provider portal on ctt-onboard, with Node's own http module.
//
// Pages:
//   GET  /                  the enterprises being onboarded, and the form to create one
//                           (services, SBC gateways and PBX types from the live lists)
//   POST /enterprises       creates the onboarding flow and takes it as far as it can go
//   GET  /flows/:id         the onboarding page: status() as a checklist, the current step's button
//   POST /flows/:id/advance "Check again" / "Try again": advance the flow once more
//   POST /ctt/callback?...  ConnecttoTeams posts the Global Admin's answer here (the redirect URL):
//                           verified with the client's key ring, handed to the flow (saved), which
//                           then advances
//   GET  /ctt/callback?...  the admin's browser lands here afterwards: show the flow's page
//
// Flows persist in SQLite (better-sqlite3) as their JSON and revision, so the portal can restart at
// any time and several portal processes can share one database: every save is a compare-and-swap
// on the revision (`UPDATE ... WHERE id = ? AND revision = ?`), and `advance` saves through a
// checkpoint that does the same, so a stale writer never overwrites a newer flow (a callback
// another process saved is never lost, and two advances of one flow send one create). A writer
// that finds the row moved on reloads the flow and applies its change again.
// A real portal puts these pages behind its own login and CSRF protection; this example keeps to
// the onboarding.

import http from 'node:http'
import Database from 'better-sqlite3'
import { CttError, Onboarding, claimedFlowId, verifyCallback } from 'ctt-onboard'

const SERVICES = ['PBX', 'Trunk', 'CALLAPP', 'CallRecording', 'SMS', 'CHAT']
const CALLBACK_PATH = '/ctt/callback'

/** What to tell the portal's user for each error code (the library's message follows it). */
export const MESSAGES = {
  invalid_input: 'Some of the details are not valid.',
  authentication: 'The portal could not sign in to ConnecttoTeams: check its API credentials.',
  forbidden: "ConnecttoTeams refused: the portal's API user is not allowed to do this.",
  not_found: 'ConnecttoTeams does not know this item any more.',
  conflict: 'An enterprise with this name already exists at ConnecttoTeams: pick another name.',
  rate_limited: 'ConnecttoTeams asks the portal to slow down: try again in a moment.',
  server: 'ConnecttoTeams had a problem: try again in a few minutes.',
  api: 'ConnecttoTeams answered with an error.',
  tenant_roles_missing:
    "The tenant's Teams/Skype Administrator roles are missing: enable them in Azure AD, then try again 30 minutes later.",
  timeout: 'ConnecttoTeams did not answer in time: try again.',
  network: 'The portal could not reach ConnecttoTeams: try again in a moment.',
  decode: 'ConnecttoTeams answered with something the portal did not understand.',
  callback_invalid: "Microsoft's answer could not be accepted.",
  flow_state: 'This step cannot be done now.',
  outcome_unknown:
    'It is not known whether the enterprise was created: check in the ConnecttoTeams portal before trying again.',
}

/** The message for a failure, with the one case a Global Admin must hear about in plain words. */
function describe(error, payload) {
  if (error.code === 'callback_invalid' && payload && !isGlobalAdmin(payload)) {
    const who = payload.msalAuthenticationResult?.authenticationResult?.userInfo?.displayableId ?? 'someone'
    return `You signed in as ${who}, a user who is not a Global Admin of the tenant. Ask a Global Admin to click the button again and sign in.`
  }
  return MESSAGES[error.code] ?? 'Something went wrong.'
}

/** The same rule as the library's: officeUserType GLOBAL_ADMIN, and companyAdmin not false. */
function isGlobalAdmin(payload) {
  return payload.officeUserType === 'GLOBAL_ADMIN' && payload.companyAdmin !== false
}

/** What a save throws when the stored row moved on since the flow was loaded. */
export class StaleFlowError extends CttError {
  constructor(id, previousRevision) {
    super(`flow ${id} was saved by another writer since revision ${previousRevision}: reload it`, { code: 'flow_state' })
    this.stale = true
  }
}

/** True for a StaleFlowError, also when an advance rejected with it as the checkpoint's cause. */
export function isStale(error) {
  return error instanceof StaleFlowError || error?.cause instanceof StaleFlowError
}

/**
 * The flows table as a store with compare-and-swap on the revision: `load(id)`, `insert(flow)`,
 * `save(flow, previousRevision)` (throws StaleFlowError when the row is no longer at
 * `previousRevision`), and `update(id, apply)`, which loads the flow, applies the change and saves
 * it, saving during an advance through the checkpoint it passes to `apply`; on a stale row it
 * reloads and applies the change again.
 */
export function flowStore(db) {
  const select = db.prepare('SELECT flow_json, revision FROM flows WHERE id = ?')
  const cas = db.prepare("UPDATE flows SET flow_json = ?, revision = ?, updated_at = datetime('now') WHERE id = ? AND revision = ?")
  const store = {
    load(id) {
      const row = select.get(id)
      return row ? Onboarding.fromJSON(row.flow_json) : null
    },
    insert(flow, enterpriseName = flow.plan.enterprise.enterpriseName) {
      db.prepare('INSERT INTO flows (id, enterprise_name, flow_json, revision) VALUES (?, ?, ?, ?)').run(
        flow.id,
        enterpriseName,
        flow.toJSONString(),
        flow.revision,
      )
    },
    save(flow, previousRevision) {
      // flow_json holds the Global Admin's MSAL result: protect the database like a token store.
      const { changes } = cas.run(flow.toJSONString(), flow.revision, flow.id, previousRevision)
      if (changes !== 1) throw new StaleFlowError(flow.id, previousRevision)
    },
    /**
     * Loads flow `id`, runs `apply(flow, checkpoint)` and saves what changed; `checkpoint` is for
     * `flow.advance(client, { checkpoint })`. Resolves to { flow, result, attempts } ({ missing:
     * true } when there is no such flow); on a stale row it reloads and applies again, up to
     * `tries` times. `loaded`: a copy loaded earlier, used for the first attempt.
     */
    async update(id, apply, { tries = 5, loaded = null } = {}) {
      for (let attempt = 1; ; attempt++) {
        const flow = attempt === 1 && loaded ? loaded : store.load(id)
        if (!flow) return { missing: true }
        let saved = flow.revision
        const checkpoint = (snapshot, previousRevision) => {
          store.save(snapshot, previousRevision)
          saved = snapshot.revision
        }
        try {
          let result, failure
          try {
            result = await apply(flow, checkpoint)
          } catch (e) {
            failure = e
          }
          // What changed after the last checkpoint (a failed step, an accepted callback).
          if (flow.revision !== saved) store.save(flow, saved)
          if (failure) throw failure
          return { flow, result, attempts: attempt }
        } catch (e) {
          if (isStale(e) && attempt < tries) continue
          throw e
        }
      }
    },
  }
  return store
}

/**
 * Starts the portal. `client` is a ctt-onboard Client with the portal's `callbackKey` (or
 * `callbackKeys`); its ring verifies the callbacks. Resolves to { url, server, db, store, close() }.
 */
export async function startPortal({ client, dbPath, port = 0, host = '127.0.0.1' }) {
  const db = openDb(dbPath)
  const store = flowStore(db)
  const server = http.createServer((req, res) => {
    route(req, res).catch((e) => {
      if (res.headersSent) return
      // A call to ConnecttoTeams failed (the live lists, say): its code says what to tell people.
      if (e instanceof CttError) {
        const status = e.code === 'rate_limited' ? 429 : 502
        return send(res, status, page('Error', errorBox({ code: e.code, message: MESSAGES[e.code], detail: e.message })))
      }
      console.error(e)
      send(res, 500, page('Error', '<p class="error">Something went wrong in the portal.</p>'))
    })
  })
  await new Promise((resolve) => server.listen(port, host, resolve))
  // The redirect URL: http is allowed for a loopback host; a deployed portal uses https.
  const url = `http://${host}:${server.address().port}`
  const redirectUrl = url + CALLBACK_PATH

  function setError(id, error, payload) {
    db.prepare('UPDATE flows SET error_code = ?, error_message = ?, error_detail = ? WHERE id = ?').run(
      error?.code ?? null,
      error ? describe(error, payload) : null,
      error?.message ?? null,
      id,
    )
  }

  /**
   * Advances the flow, saving every step through the compare-and-swap checkpoint, and records the
   * failure, if any, for its page. Another process that moved the flow on meanwhile makes the
   * save stale: the store reloads the flow and advances that (which repeats nothing it did).
   */
  async function advance(id) {
    try {
      await store.update(id, (flow, checkpoint) => flow.advance(client, { checkpoint }))
      setError(id, null)
    } catch (e) {
      if (!(e instanceof CttError)) throw e
      setError(id, e)
    }
  }

  async function route(req, res) {
    const u = new URL(req.url, url)
    const flowPage = u.pathname.match(/^\/flows\/([0-9a-f-]{36})(\/advance)?$/)
    if (req.method === 'GET' && u.pathname === '/') return send(res, 200, await homePage())
    if (req.method === 'POST' && u.pathname === '/enterprises') return createEnterprise(req, res)
    if (req.method === 'GET' && flowPage && !flowPage[2]) return showFlow(res, flowPage[1])
    if (req.method === 'POST' && flowPage && flowPage[2]) {
      await advance(flowPage[1])
      return redirect(res, `/flows/${flowPage[1]}`)
    }
    if (req.method === 'POST' && u.pathname === CALLBACK_PATH) return callback(req, res, u)
    if (req.method === 'GET' && u.pathname === CALLBACK_PATH) {
      // The browser arrives after the callback was posted: show its flow's page.
      const id = u.searchParams.get('ctt_flow') ?? ''
      return db.prepare('SELECT 1 FROM flows WHERE id = ?').get(id) ? redirect(res, `/flows/${id}`) : redirect(res, '/')
    }
    send(res, 404, page('Not found', '<p>No such page.</p>'))
  }

  async function homePage(form = {}, error = null) {
    // The live lists, fetched from ConnecttoTeams for the form.
    const resellerId = await client.resellerId()
    const [gateways, pbxTypes] = await Promise.all([client.sbcGateways(resellerId), client.pbxTypes(resellerId)])
    const rows = db.prepare('SELECT id, enterprise_name, flow_json FROM flows ORDER BY created_at DESC').all()
    const list = rows
      .map((r) => {
        const done = Onboarding.fromJSON(r.flow_json).isComplete ? 'complete' : 'in progress'
        return `<li><a href="/flows/${r.id}">${esc(r.enterprise_name)}</a> (${done})</li>`
      })
      .join('')
    const checked = (list, v) => ((form[list] ?? []).includes(String(v)) ? ' checked' : '')
    return page(
      'Onboard an enterprise',
      `${error ? errorBox(error) : ''}
      <form method="post" action="/enterprises" id="create">
        <p><label>Enterprise name <input name="enterpriseName" id="enterpriseName" required value="${esc(form.enterpriseName ?? '')}"></label></p>
        <fieldset><legend>Services</legend>
          ${SERVICES.map((s) => `<label><input type="checkbox" name="services" value="${s}" id="service-${s}"${checked('services', s)}> ${s}</label>`).join(' ')}
        </fieldset>
        <fieldset><legend>SBC gateways (for PBX or Trunk)</legend>
          ${gateways.map((g) => `<label><input type="checkbox" name="sbcGateways" value="${g.sbcGatewayId}" id="gateway-${g.sbcGatewayId}"${checked('sbcGateways', g.sbcGatewayId)}> ${esc(g.sbcGatewayRegion)}</label>`).join(' ')}
        </fieldset>
        <p><label>PBX type (for PBX or CALLAPP) <select name="pbxId" id="pbxId">
          ${pbxTypes.map((p) => `<option value="${p.id}"${p.isDisabled ? ' disabled' : ''}${p.isDefault ? ' selected' : ''}>${esc(p.pbxName)}${p.isDefault ? ' (default)' : ''}${p.isDisabled ? ' (retired)' : ''}</option>`).join('')}
        </select></label></p>
        <p><button type="submit" id="create-enterprise">Create the enterprise</button></p>
      </form>
      <h2>Enterprises</h2><ul id="enterprises">${list || '<li>none yet</li>'}</ul>`,
    )
  }

  async function createEnterprise(req, res) {
    const form = new URLSearchParams(await readBody(req))
    const values = {
      enterpriseName: (form.get('enterpriseName') ?? '').trim(),
      services: form.getAll('services'),
      sbcGateways: form.getAll('sbcGateways'),
    }
    const services = values.services
    // Send only what the services need: gateways for calling, a PBX type for PBX or CallApp.
    const calling = services.includes('PBX') || services.includes('Trunk')
    const needsPbx = services.includes('PBX') || services.includes('CALLAPP')
    let flow
    try {
      flow = new Onboarding({
        enterprise: {
          enterpriseName: values.enterpriseName,
          services,
          sbcGateways: calling ? values.sbcGateways.map(Number) : [],
          pbxId: needsPbx && form.get('pbxId') ? [Number(form.get('pbxId'))] : [],
          restrictAdminAccess: true,
        },
        redirectUrl,
      })
    } catch (e) {
      if (!(e instanceof CttError)) throw e
      return send(res, 400, await homePage(values, { code: e.code, message: MESSAGES[e.code], detail: e.message }))
    }
    if (db.prepare('SELECT 1 FROM flows WHERE enterprise_name = ?').get(values.enterpriseName)) {
      const e = { code: 'conflict', message: MESSAGES.conflict, detail: 'the portal already onboards it' }
      return send(res, 409, await homePage(values, e))
    }
    // Saved before the first advance, so a crash mid-way leaves a flow that can be resumed.
    store.insert(flow, values.enterpriseName)
    await advance(flow.id) // creates the enterprise and asks for the registration URL
    redirect(res, `/flows/${flow.id}`)
  }

  async function callback(req, res, u) {
    const body = await readBody(req)
    const callbackUrl = url + u.pathname + u.search
    // Which stored flow it claims (unverified); the flow verifies it.
    const id = claimedFlowId(callbackUrl)
    if (!id || !db.prepare('SELECT 1 FROM flows WHERE id = ?').get(id)) return send(res, 404, 'unknown flow', 'text/plain')
    let verified
    try {
      // Genuine (tagged with the client's key ring)? Refused here, the flow is not touched.
      verified = verifyCallback(client, callbackUrl, body)
    } catch (e) {
      if (!(e instanceof CttError)) throw e
      return send(res, 400, 'callback rejected', 'text/plain')
    }
    try {
      // Saved with compare-and-swap: when another process saved the flow meanwhile, it is
      // reloaded and the callback applied again (a 'duplicate' if that process took it).
      await store.update(id, (flow) => flow.handleCallback(client, callbackUrl, body))
    } catch (e) {
      if (!(e instanceof CttError)) throw e
      setError(id, e, verified.payload)
      return send(res, 200, 'ok', 'text/plain')
    }
    await advance(id) // on to the next step (it confirms the callback first), so the admin's page shows it
    send(res, 200, 'ok', 'text/plain')
  }

  function showFlow(res, id) {
    const row = db.prepare('SELECT * FROM flows WHERE id = ?').get(id)
    if (!row) return send(res, 404, page('Not found', '<p>No such onboarding.</p>'))
    const flow = Onboarding.fromJSON(row.flow_json)
    const progress = flow.progress()
    const status = flow.status()
    const checklist = status
      .map(
        (s) =>
          `<li class="step ${s.state}" data-step="${s.step}"><span class="mark">${MARKS[s.state]}</span> ${esc(s.title)}` +
          `${s.detail ? ` <small>${esc(s.detail)}</small>` : ''}</li>`,
      )
      .join('')
    let next = ''
    if (flow.isComplete) {
      next = `<p id="outcome" class="complete">Onboarding complete: enterprise ${flow.enterpriseId}, Microsoft tenant ${esc(flow.tenantId)}.</p>`
    } else if (progress?.kind === 'awaitingAdmin') {
      // The current step's button: its title, leading to the URL for the Global Admin.
      const step = status.find((s) => s.state === 'waiting')
      next = `<p>The enterprise's Microsoft Global Admin takes this step:</p>
        <p><a class="button" id="next-step" href="${esc(progress.url)}">${esc(step?.title ?? progress.action)}</a></p>`
    } else if (progress?.kind === 'waitingUntil') {
      next = `<div id="waiting"><p><strong>Waiting until ${progress.notBefore.toISOString().slice(0, 16).replace('T', ' ')} UTC</strong>
        (the vendor asks for 30 minutes after the Teams admin roles are enabled).</p><p><small>${esc(progress.reason)}</small></p>
        <form method="post" action="/flows/${id}/advance"><button id="check-again">Check again</button></form></div>`
    } else {
      next = `<form method="post" action="/flows/${id}/advance"><button id="try-again">Try again</button></form>`
    }
    const error = row.error_code ? errorBox({ code: row.error_code, message: row.error_message, detail: row.error_detail }) : ''
    return send(
      res,
      200,
      page(
        `Onboarding ${row.enterprise_name}`,
        `${error}${next}<h2>Checklist</h2><ol id="checklist">${checklist}</ol><p><a href="/">All enterprises</a></p>`,
      ),
    )
  }

  return {
    url,
    db,
    store,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => {
          db.close()
          resolve()
        })
      }),
  }
}

/** Opens (creating if needed) the portal's SQLite database; several processes may share it. */
export function openDb(path) {
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('busy_timeout = 5000')
  // flow_json holds the Global Admin's MSAL result: protect the database like a token store.
  // revision is the flow's own (flow.revision), the compare-and-swap key of every save.
  db.exec(`CREATE TABLE IF NOT EXISTS flows (
    id            TEXT PRIMARY KEY,
    enterprise_name TEXT NOT NULL UNIQUE,
    flow_json     TEXT NOT NULL,
    revision      INTEGER NOT NULL DEFAULT 0,
    error_code    TEXT,
    error_message TEXT,
    error_detail  TEXT,
    created_at    TEXT NOT NULL DEFAULT (datetime('now')),
    updated_at    TEXT NOT NULL DEFAULT (datetime('now'))
  )`)
  // A database from before the revision column: add it, with each flow's own revision.
  if (!db.prepare('PRAGMA table_info(flows)').all().some((c) => c.name === 'revision')) {
    db.exec('ALTER TABLE flows ADD COLUMN revision INTEGER NOT NULL DEFAULT 0')
    const set = db.prepare('UPDATE flows SET revision = ? WHERE id = ?')
    for (const r of db.prepare('SELECT id, flow_json FROM flows').all()) set.run(Onboarding.fromJSON(r.flow_json).revision, r.id)
  }
  return db
}

const MARKS = { done: '✔', skipped: '–', waiting: '…', failed: '✘', pending: '○' }

function errorBox({ code, message, detail }) {
  return `<div class="error" id="error" data-code="${esc(code)}"><p><strong>${esc(message)}</strong></p>
    <p><small>[${esc(code)}] ${esc(detail ?? '')}</small></p></div>`
}

function page(title, body) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title><style>
    body{font-family:sans-serif;max-width:52em;margin:2em auto;line-height:1.5}
    .step.done .mark{color:green}.step.failed .mark{color:#b00}.step.skipped{color:#888}.step.waiting{font-weight:bold}
    .error{border:2px solid #b00;background:#fee;padding:0 1em}.complete{font-size:1.3em;color:green}
    a.button,button{display:inline-block;padding:.5em 1em;background:#2b5797;color:#fff;border:0;text-decoration:none}
    fieldset{margin:.5em 0}small{color:#555}
  </style></head><body><h1>Provider portal: ${esc(title)}</h1>${body}</body></html>`
}

function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])
}

function send(res, status, body, type = 'text/html; charset=utf-8') {
  res.writeHead(status, { 'content-type': type })
  res.end(body)
}

function redirect(res, location) {
  res.writeHead(303, { location })
  res.end()
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let size = 0
    const chunks = []
    req.on('data', (c) => {
      size += c.length
      if (size > 1 << 20) req.destroy(new Error('body too large'))
      else chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}
