// A small provider portal on ctt-onboard, with Node's own http module.
//
// Pages:
//   GET  /                  the enterprises being onboarded, and the form to create one
//                           (services, SBC gateways and PBX types from the live lists)
//   POST /enterprises       creates the onboarding flow and takes it as far as it can go
//   GET  /flows/:id         the onboarding page: status() as a checklist, the current step's button
//   POST /flows/:id/advance "Check again" / "Try again": advance the flow once more
//   POST /ctt/callback?...  ConnecttoTeams posts the Global Admin's answer here (the redirect URL):
//                           verified with the portal's key, handed to the flow, which advances
//   GET  /ctt/callback?...  the admin's browser lands here afterwards: show the flow's page
//
// Flows persist in SQLite (better-sqlite3) as their JSON, so the portal can restart at any time.
// A real portal puts these pages behind its own login and CSRF protection; this example keeps to
// the onboarding.

import http from 'node:http'
import Database from 'better-sqlite3'
import { CttError, Onboarding, verifyCallback } from 'ctt-onboard'

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

/**
 * Starts the portal. `client` is a ctt-onboard Client with the portal's `callbackKey`; the same
 * key verifies the callbacks. Resolves to { url, server, db, close() }.
 */
export async function startPortal({ client, callbackKey, dbPath, port = 0, host = '127.0.0.1' }) {
  const db = openDb(dbPath)
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

  // One advance or callback at a time per flow: each loads, changes and saves the flow's JSON.
  const locks = new Map()
  function withFlow(id, fn) {
    const previous = locks.get(id) ?? Promise.resolve()
    const next = previous.then(async () => {
      const row = db.prepare('SELECT flow_json FROM flows WHERE id = ?').get(id)
      if (!row) return null
      const flow = Onboarding.fromJSON(row.flow_json)
      try {
        return await fn(flow)
      } finally {
        // Saved after every call, whatever happened: the flow holds every step that succeeded.
        db.prepare("UPDATE flows SET flow_json = ?, updated_at = datetime('now') WHERE id = ?").run(
          JSON.stringify(flow),
          id,
        )
      }
    })
    locks.set(id, next.catch(() => {}))
    return next
  }

  function setError(id, error, payload) {
    db.prepare('UPDATE flows SET error_code = ?, error_message = ?, error_detail = ? WHERE id = ?').run(
      error?.code ?? null,
      error ? describe(error, payload) : null,
      error?.message ?? null,
      id,
    )
  }

  /** Advances the flow and records the failure, if any, for its page. */
  async function advance(id) {
    await withFlow(id, async (flow) => {
      try {
        await flow.advance(client)
        setError(id, null)
      } catch (e) {
        if (!(e instanceof CttError)) throw e
        setError(id, e)
      }
    })
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
    db.prepare('INSERT INTO flows (id, enterprise_name, flow_json) VALUES (?, ?, ?)').run(
      flow.id,
      values.enterpriseName,
      JSON.stringify(flow),
    )
    await advance(flow.id) // creates the enterprise and asks for the registration URL
    redirect(res, `/flows/${flow.id}`)
  }

  async function callback(req, res, u) {
    const body = await readBody(req)
    const callbackUrl = url + u.pathname + u.search
    let verified
    try {
      // Genuine (tagged with our key)? Which flow and action does it answer?
      verified = verifyCallback(callbackKey, callbackUrl, body)
    } catch (e) {
      if (!(e instanceof CttError)) throw e
      return send(res, 400, 'callback rejected', 'text/plain')
    }
    const found = await withFlow(verified.flowId, async (flow) => {
      try {
        await flow.handleCallback(callbackKey, callbackUrl, body)
        await flow.advance(client) // on to the next step, so the admin's page shows it
        setError(flow.id, null)
      } catch (e) {
        if (!(e instanceof CttError)) throw e
        setError(flow.id, e, verified.payload)
      }
      return true
    })
    if (!found) return send(res, 404, 'unknown flow', 'text/plain')
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

function openDb(path) {
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  // flow_json holds the Global Admin's MSAL result: protect the database like a token store.
  db.exec(`CREATE TABLE IF NOT EXISTS flows (
    id            TEXT PRIMARY KEY,
    enterprise_name TEXT NOT NULL UNIQUE,
    flow_json     TEXT NOT NULL,
    error_code    TEXT,
    error_message TEXT,
    error_detail  TEXT,
    created_at    TEXT NOT NULL DEFAULT (datetime('now')),
    updated_at    TEXT NOT NULL DEFAULT (datetime('now'))
  )`)
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
