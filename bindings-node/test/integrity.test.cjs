'use strict'
// Flow integrity through the binding (issue 13, "Tests that can fail"): a forged body under a
// genuine tag never binds a tenant or grants a consent; a replay is a duplicate whatever its
// whitespace; an earlier or superseded ask is refused; key rings and retired keys; keys are bytes;
// two flows with one name; the checkpoint (compare-and-swap) makes two racing advances send one
// create, and a failing one stops before the create. The race across two processes on one SQLite
// file is examples/portal/test/race.test.mjs (better-sqlite3 is the portal's dependency).
const { test } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { Client, CallbackKeys, CttError, Onboarding, claimedFlowId, verifyCallback } = require('ctt-onboard')
const { useSimulator, uniqueName, rejectsWith, throwsWith } = require('./helpers.cjs')
const { KEY, REDIRECT, plan } = require('./flow-helpers.cjs')

const ctx = useSimulator()

function tenantId(key) {
  return ctx.sim.tenants.find((t) => t.key === key).tenantId
}

function param(url, name) {
  return new URL(url).searchParams.get(name)
}

function stepLine(flow, step) {
  const line = flow.status().find((s) => s.step === step)
  assert.ok(line, `no step ${step}`)
  return line
}

/** A body under the genuine tag: the genuine one with `edit` applied. */
function forged(genuine, edit) {
  const copy = structuredClone(genuine.body)
  edit(copy, copy.msalAuthenticationResult.authenticationResult)
  return JSON.stringify(copy)
}

/** Keys of every object in reverse order, recursively: the same JSON value, other text. */
function reordered(value) {
  if (Array.isArray(value)) return value.map(reordered)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).reverse().map((k) => [k, reordered(value[k])]))
  }
  return value
}

function enterprisesNamed(name) {
  return ctx.sim.snapshot().enterprises.filter((e) => e.name === name)
}

/** Advances to the registration ask; returns the flow and its progress. */
async function atRegistration(client, name = uniqueName('Integrity')) {
  const flow = new Onboarding(plan(name))
  const progress = await flow.advance(client)
  assert.equal(progress.kind, 'awaitingAdmin')
  assert.equal(progress.action, 'REGISTRATION')
  return { flow, progress, name }
}

test('a forged body under a genuine tag never binds its tenant or grants a consent', async () => {
  const client = ctx.client({ callbackKey: KEY })
  const { flow, progress } = await atRegistration(client)
  const genuine = await ctx.sim.approve(progress.url, 'contoso')

  // Detectable offline: a JWT issued for contoso under a body claiming fabrikam.
  const before = flow.toJSONString()
  const tidMismatch = forged(genuine, (b, auth) => {
    auth.userInfo.tenantId = tenantId('fabrikam')
  })
  const e = await rejectsWith(flow.handleCallback(KEY, genuine.url, tidMismatch), 'callback_invalid')
  assert.match(e.message, /userInfo\.tenantId is .*but its access token was issued for tenant/)
  assert.equal(flow.toJSONString(), before, 'refused offline: the flow is unchanged')

  // Not detectable offline: an opaque token and another tenant. Accepted, then refused by the
  // vendor's answer when advance confirms it: the registration is asked again at a new URL.
  const opaque = forged(genuine, (b, auth) => {
    auth.accessToken = 'opaque-token-the-attacker-chose'
    auth.userInfo.tenantId = tenantId('fabrikam')
  })
  assert.equal(await flow.handleCallback(KEY, genuine.url, opaque), 'accepted')
  assert.equal(flow.hasUnconfirmedCallback, true)
  assert.equal(flow.tenantId, null, 'nothing is bound before the vendor confirms it')
  const again = await flow.advance(client)
  assert.equal(again.kind, 'awaitingAdmin')
  assert.equal(again.action, 'REGISTRATION', 'asks for the registration again')
  assert.notEqual(again.url, progress.url)
  assert.equal(flow.tenantId, null, 'the forged tenant is not bound')
  assert.equal(flow.hasUnconfirmedCallback, false)
  assert.match(stepLine(flow, 'registration').detail, /the last callback was refused: /)

  // The genuine admin approves the new URL: the flow binds contoso.
  const real = await ctx.sim.approve(again.url, 'contoso')
  assert.notEqual(param(real.url, 'ctt_nonce'), param(genuine.url, 'ctt_nonce'), 'a new nonce')
  assert.equal(await flow.handleCallback(KEY, real.url, real.bodyText), 'accepted')
  const consent = await flow.advance(client)
  assert.equal(flow.tenantId, tenantId('contoso'))
  assert.equal(stepLine(flow, 'registration').state, 'done')
  assert.equal(consent.action, 'GET_USER_SYNC_CONSENT')

  // A forged body for a consent ask: accepted offline, never marked granted; the step asks again.
  const genuineConsent = await ctx.sim.approve(consent.url, 'contoso')
  const forgedConsent = forged(genuineConsent, (b, auth) => {
    auth.accessToken = 'another-opaque-token'
  })
  assert.equal(await flow.handleCallback(KEY, genuineConsent.url, forgedConsent), 'accepted')
  const consentAgain = await flow.advance(client)
  assert.equal(consentAgain.action, 'GET_USER_SYNC_CONSENT')
  assert.notEqual(consentAgain.url, consent.url)
  const line = stepLine(flow, 'user_sync_consent')
  assert.notEqual(line.state, 'done', 'the forged consent is not granted')
  assert.match(line.detail, /the last callback was refused/)
  const realConsent = await ctx.sim.approve(consentAgain.url, 'contoso')
  assert.equal(await flow.handleCallback(KEY, realConsent.url, realConsent.bodyText), 'accepted')
  const next = await flow.advance(client)
  assert.equal(stepLine(flow, 'user_sync_consent').state, 'done')
  assert.notEqual(next.action, 'GET_USER_SYNC_CONSENT')
})

test('a replay with other whitespace and key order is a duplicate that changes nothing', async () => {
  const client = ctx.client({ callbackKey: KEY })
  const { flow, progress } = await atRegistration(client)
  const genuine = await ctx.sim.approve(progress.url, 'contoso')
  assert.equal(await flow.handleCallback(KEY, genuine.url, genuine.bodyText), 'accepted')
  const json = flow.toJSONString()
  const revision = flow.revision
  const respelled = JSON.stringify(reordered(genuine.body), null, 4)
  assert.notEqual(respelled, genuine.bodyText)
  assert.equal(await flow.handleCallback(KEY, genuine.url, respelled), 'duplicate')
  assert.equal(await flow.handleCallback(KEY, genuine.url, `\n  ${genuine.bodyText}  \n`), 'duplicate')
  assert.equal(flow.toJSONString(), json, 'state unchanged')
  assert.equal(flow.revision, revision, 'revision unchanged')
  // The digest verifyCallback reports is the same for both spellings.
  assert.equal(verifyCallback(KEY, genuine.url, respelled).payloadDigest, verifyCallback(KEY, genuine.url, genuine.bodyText).payloadDigest)
})

test('a callback for an earlier or superseded ask is callback_invalid, state unchanged', async () => {
  const client = ctx.client({ callbackKey: KEY })
  const { flow, progress } = await atRegistration(client)
  const first = await ctx.sim.approve(progress.url, 'contoso')
  assert.equal(await flow.handleCallback(KEY, first.url, first.bodyText), 'accepted')
  const ask2 = await flow.advance(client)
  assert.equal(ask2.action, 'GET_USER_SYNC_CONSENT')
  const json = flow.toJSONString()
  // Ask 1 again, with a different body: a fresh approve of the old URL (new tokens).
  const fresh = await ctx.sim.approve(progress.url, 'contoso')
  assert.notEqual(fresh.bodyText, first.bodyText)
  const e = await rejectsWith(flow.handleCallback(KEY, fresh.url, fresh.bodyText), 'callback_invalid')
  assert.match(e.message, /already answered with a different body/)
  // ...or with a field of the first body changed.
  const edited = forged(first, (b) => {
    b.companyAdmin = true
    b.note = 'edited'
  })
  await rejectsWith(flow.handleCallback(KEY, first.url, edited), 'callback_invalid')
  assert.equal(flow.toJSONString(), json, 'state unchanged')

  // Superseded: the flow re-asked after a refusal; the old ask's genuine callback is refused.
  const other = await atRegistration(client)
  const genuine = await ctx.sim.approve(other.progress.url, 'contoso')
  const opaque = forged(genuine, (b, auth) => {
    auth.accessToken = 'opaque-forged-token'
  })
  assert.equal(await other.flow.handleCallback(KEY, genuine.url, opaque), 'accepted')
  const reasked = await other.flow.advance(client)
  assert.equal(reasked.action, 'REGISTRATION')
  assert.notEqual(reasked.url, other.progress.url)
  const reaskedJson = other.flow.toJSONString()
  await rejectsWith(other.flow.handleCallback(KEY, genuine.url, genuine.bodyText), 'callback_invalid')
  const late = await ctx.sim.approve(other.progress.url, 'contoso')
  await rejectsWith(other.flow.handleCallback(KEY, late.url, late.bodyText), 'callback_invalid')
  assert.equal(other.flow.toJSONString(), reaskedJson, 'state unchanged')
  // The current ask still answers.
  const current = await ctx.sim.approve(reasked.url, 'contoso')
  assert.equal(await other.flow.handleCallback(KEY, current.url, current.bodyText), 'accepted')
})

test('a retired key refuses its URLs saying so; kept as a verify key, they still answer', async () => {
  const OLD = crypto.randomBytes(32)
  const NEW = crypto.randomBytes(32)
  const oldClient = ctx.client({ callbackKeys: { signing: { id: 'old', key: OLD } } })
  assert.equal(oldClient.callbackKeys.signingKeyId, 'old')
  const { flow, progress } = await atRegistration(oldClient)
  const genuine = await ctx.sim.approve(progress.url, 'contoso')
  assert.equal(param(genuine.url, 'ctt_kid'), 'old')
  const json = flow.toJSONString()

  const retired = { signing: { id: 'new', key: NEW }, retired: ['old'] }
  const e = await rejectsWith(flow.handleCallback(retired, genuine.url, genuine.bodyText), 'callback_invalid')
  assert.match(e.message, /retired/)
  throwsWith(() => verifyCallback(new CallbackKeys(retired), genuine.url, genuine.bodyText), 'callback_invalid')
  // A ring that does not know "old" at all says so differently: the retired list is what names it.
  const unknown = await rejectsWith(flow.handleCallback({ signing: { id: 'new', key: NEW } }, genuine.url, genuine.bodyText), 'callback_invalid')
  assert.doesNotMatch(unknown.message, /retired/)
  assert.equal(flow.toJSONString(), json, 'state unchanged')

  const rotated = { signing: { id: 'new', key: NEW }, verify: [{ id: 'old', key: OLD }] }
  assert.equal(await flow.handleCallback(rotated, genuine.url, genuine.bodyText), 'accepted')
  // A client on the rotated ring signs the next ask with the new key.
  const newClient = ctx.client({ callbackKeys: rotated })
  const next = await flow.advance(newClient)
  assert.equal(next.action, 'GET_USER_SYNC_CONSENT')
  const consent = await ctx.sim.approve(next.url, 'contoso')
  assert.equal(param(consent.url, 'ctt_kid'), 'new')
  assert.equal(await flow.handleCallback(newClient, consent.url, consent.bodyText), 'accepted')
  // The ring's options are checked.
  throwsWith(() => new CallbackKeys({ signing: { id: 'new', key: NEW }, verify: [{ id: 'new', key: OLD }] }), 'invalid_input')
  throwsWith(() => new CallbackKeys({ signing: { id: 'new', key: NEW }, retired: ['new'] }), 'invalid_input')
  throwsWith(() => new CallbackKeys({ signing: { id: 'bad id!', key: NEW } }), 'invalid_input')
  throwsWith(() => new CallbackKeys({ signing: { key: NEW }, maxAgeSeconds: 10 }), 'invalid_input')
  assert.equal(new CallbackKeys({ signing: { key: NEW } }).maxAgeSeconds, 72 * 3600)
  assert.doesNotMatch(require('node:util').inspect(new CallbackKeys({ signing: { key: 'a-text-secret-0123456789' } })), /a-text-secret/)
  throwsWith(() => new Client({ callbackKey: KEY, callbackKeys: rotated }), 'invalid_input')
  const instance = throwsWith(() => new Client({ callbackKeys: new CallbackKeys(rotated) }), 'invalid_input')
  assert.match(instance.message, /the ring's options/)
})

test('keys are bytes: random non-UTF-8 bytes work end to end, a string is its UTF-8 bytes, fewer than 16 bytes are refused', async () => {
  const bytes = crypto.randomBytes(32)
  bytes[0] = 0xff // never valid UTF-8
  assert.throws(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  const client = ctx.client({ callbackKey: bytes })
  let flow = new Onboarding(plan(uniqueName('Bytes')))
  let progress = await flow.advance(client)
  const asks = []
  // A tenant of its own (contoso's traits): the simulator finds a tenant's enterprise by tenant.
  const tenant = `contoso+bytes${process.pid}`
  for (let i = 0; i < 20 && progress.kind === 'awaitingAdmin'; i++) {
    asks.push(progress.action)
    const callback = await ctx.sim.approve(progress.url, tenant)
    // As a Buffer, as a plain Uint8Array over the same bytes, as the client.
    const key = [bytes, new Uint8Array(bytes), client][i % 3]
    assert.equal(await flow.handleCallback(key, callback.url, callback.bodyText), 'accepted', progress.action)
    flow = Onboarding.fromJSON(flow.toJSONString())
    progress = await flow.advance(client)
  }
  assert.equal(progress.kind, 'complete', JSON.stringify(asks))
  assert.deepEqual(asks, ['REGISTRATION', 'GET_USER_SYNC_CONSENT', 'GET_PRESENCE_CONSENT', 'GET_AGENT_CONSENT', 'GET_SERVICE_PROVIDER_MANAGEMENT_CONSENT'])
  assert.equal(progress.tenantId, flow.tenantId)
  // A Uint8Array key on the client options works as well.
  const u8Client = ctx.client({ callbackKey: new Uint8Array(bytes) })
  assert.equal(u8Client.callbackKeys.signingKeyId, client.callbackKeys.signingKeyId)

  // A string is its UTF-8 bytes: 8 Cyrillic letters are 16 bytes, enough; the same bytes as a
  // Buffer verify its URLs.
  const text = 'ключключ'
  assert.equal(text.length, 8)
  const textClient = ctx.client({ callbackKey: text })
  const { flow: f2, progress: p2 } = await atRegistration(textClient)
  const cb = await ctx.sim.approve(p2.url, 'contoso')
  assert.equal(await f2.handleCallback(Buffer.from(text, 'utf8'), cb.url, cb.bodyText), 'accepted')
  assert.equal(CallbackKeys.fromKey(text).signingKeyId, CallbackKeys.fromKey(Buffer.from(text, 'utf8')).signingKeyId)
  // Its UTF-16 bytes (16 of them as well) are another key.
  assert.equal(Buffer.from(text, 'utf16le').length, 16)
  await rejectsWith(f2.handleCallback(Buffer.from(text, 'utf16le'), cb.url, cb.bodyText), 'callback_invalid')

  // Fewer than 16 bytes: invalid_input naming callbackKey (or the ring's field).
  const short = throwsWith(() => new Client({ ...ctx.sim.clientOptions(), callbackKey: crypto.randomBytes(15) }), 'invalid_input')
  assert.match(short.message, /callbackKey/)
  assert.match(short.message, /15 bytes/)
  const shortText = throwsWith(() => new Client({ callbackKey: 'ключключ'.slice(0, 7) + 'k' }), 'invalid_input')
  assert.match(shortText.message, /callbackKey.*15 bytes/)
  const shortRing = throwsWith(() => new Client({ callbackKeys: { signing: { key: new Uint8Array(15) } } }), 'invalid_input')
  assert.match(shortRing.message, /callbackKeys\.signing/)
  throwsWith(() => CallbackKeys.fromKey(Buffer.alloc(15)), 'invalid_input')
  const e = await rejectsWith(f2.handleCallback(Buffer.alloc(15), cb.url, cb.bodyText), 'invalid_input')
  assert.match(e.message, /callbackKey/)
})

test('two flows with one enterprise name: the second is a conflict naming it and is bound to nothing', async () => {
  const client = ctx.client({ callbackKey: KEY })
  const name = uniqueName('Acme')
  const first = await atRegistration(client, name)
  assert.ok(first.flow.enterpriseId > 0)
  const second = new Onboarding(plan(name))
  const e = await rejectsWith(second.advance(client), 'conflict')
  assert.ok(e.message.includes(name), e.message)
  assert.equal(enterprisesNamed(name).length, 1, 'the simulator has one enterprise of that name')
  assert.equal(second.enterpriseId, null, "the second flow is not bound to the first's enterprise")
  // Advancing it again is the same conflict, still unbound.
  await rejectsWith(second.advance(client), 'conflict')
  assert.equal(second.enterpriseId, null)
  assert.equal(enterprisesNamed(name).length, 1)
})

/** A stored row and a compare-and-swap checkpoint over it, as a portal's database would do. */
function store(flow) {
  const row = { json: flow.toJSONString(), revision: flow.revision, saves: 0 }
  row.checkpoint = async (snapshot, previousRevision) => {
    assert.ok(snapshot instanceof Onboarding)
    await new Promise((resolve) => setImmediate(resolve)) // an asynchronous save, as a database's
    if (row.revision !== previousRevision) {
      throw new CttError(`stale: the row is at revision ${row.revision}, not ${previousRevision}`, { code: 'flow_state' })
    }
    row.json = snapshot.toJSONString()
    row.revision = snapshot.revision
    row.saves += 1
  }
  return row
}

test('two concurrent advances of one stored flow with compare-and-swap checkpoints send one create', async () => {
  const client = ctx.client({ callbackKey: KEY })
  const name = uniqueName('Racing')
  const row = store(new Onboarding(plan(name)))
  const a = Onboarding.fromJSON(row.json)
  const b = Onboarding.fromJSON(row.json)
  const creates = () => ctx.sim.snapshot().requests.filter((r) => r.path === '/reseller/newEnterprise').length
  const sent = creates()
  const results = await Promise.allSettled([a.advance(client, { checkpoint: row.checkpoint }), b.advance(client, { checkpoint: row.checkpoint })])
  const won = results.filter((r) => r.status === 'fulfilled')
  const lost = results.filter((r) => r.status === 'rejected')
  assert.equal(won.length, 1, JSON.stringify(results.map((r) => r.status)))
  assert.equal(lost.length, 1)
  assert.ok(lost[0].reason instanceof CttError)
  assert.equal(lost[0].reason.code, 'flow_state')
  assert.match(lost[0].reason.message, /stale/)
  assert.ok(lost[0].reason.cause instanceof CttError, 'the thrown error is the cause')
  assert.equal(creates() - sent, 1, 'one create was sent')
  assert.equal(enterprisesNamed(name).length, 1)
  // The loser reloads the stored flow and finds the enterprise the winner created.
  const reloaded = Onboarding.fromJSON(row.json)
  assert.equal(reloaded.revision, row.revision)
  assert.equal(reloaded.enterpriseId, enterprisesNamed(name)[0].id)
  const progress = await reloaded.advance(client, { checkpoint: row.checkpoint })
  assert.equal(progress.action, 'REGISTRATION')
  assert.equal(creates() - sent, 1, 'still one create')
})

test('a checkpoint that fails right before the create stops the advance: nothing is created, the revision is kept', async () => {
  const client = ctx.client({ callbackKey: KEY })
  const name = uniqueName('NoCreate')
  // PBX needs the gateway and PBX-type steps first, so the failing save is not the first one.
  const [gateway] = await client.sbcGateways(await client.resellerId())
  const flow = new Onboarding({
    enterprise: { enterpriseName: name, services: ['PBX', 'SMS'], restrictAdminAccess: true },
    gatewayRegions: [gateway.sbcGatewayRegion],
    redirectUrl: REDIRECT,
  })
  const calls = []
  let revisionBefore = null
  const failure = new Error('the database is read-only')
  const checkpoint = async (snapshot, previousRevision) => {
    calls.push({ previousRevision, revision: snapshot.revision, create: snapshot.toJSON().create ?? null })
    if (snapshot.toJSON().create) {
      revisionBefore = previousRevision
      throw failure
    }
  }
  const e = await rejectsWith(flow.advance(client, { checkpoint }), 'flow_state')
  assert.match(e.message, /the database is read-only/)
  assert.equal(e.cause, failure, 'what the checkpoint threw is the cause')
  assert.ok(calls.length >= 2, `saves after the earlier steps, then the failing one: ${JSON.stringify(calls)}`)
  assert.ok(calls.at(-1).create, 'the failing save was the one right before the create')
  assert.equal(enterprisesNamed(name).length, 0, 'no enterprise of that name')
  assert.equal(flow.revision, revisionBefore, 'the revision is the one before that save')
  assert.equal(flow.toJSON().create ?? null, null, 'no create marker kept')
  assert.equal(flow.enterpriseId, null)

  // A synchronous throw and a rejected Promise stop it the same way; a CttError keeps its code.
  await rejectsWith(
    flow.advance(client, {
      checkpoint: (s) => {
        if (s.toJSON().create) throw new CttError('row moved on', { code: 'conflict' })
      },
    }),
    'conflict',
  )
  await rejectsWith(
    flow.advance(client, { checkpoint: (s) => (s.toJSON().create ? Promise.reject(new Error('rejected')) : undefined) }),
    'flow_state',
  )
  assert.equal(enterprisesNamed(name).length, 0)
  await rejectsWith(flow.advance(client, { checkpoint: 'save' }), 'invalid_input')
  // With a working checkpoint the create goes out once.
  const row = store(flow)
  const progress = await flow.advance(client, { checkpoint: row.checkpoint })
  assert.equal(progress.action, 'REGISTRATION')
  assert.equal(enterprisesNamed(name).length, 1)
  assert.equal(row.revision, flow.revision, 'the last change was saved')
})

test('revision, toJSONWithoutTokens, hasUnconfirmedCallback and claimedFlowId', async () => {
  const client = ctx.client({ callbackKey: KEY })
  const fresh = new Onboarding(plan(uniqueName('Revision')))
  assert.equal(fresh.revision, 0)
  const { flow, progress } = await atRegistration(client)
  assert.ok(flow.revision > 0)
  const genuine = await ctx.sim.approve(progress.url, 'contoso')
  assert.equal(claimedFlowId(genuine.url), flow.id)
  const u = new URL(genuine.url)
  assert.equal(claimedFlowId(u.pathname + u.search), flow.id, 'a path and query')
  assert.equal(claimedFlowId(REDIRECT), null)
  const before = flow.revision
  assert.equal(await flow.handleCallback(KEY, u.pathname + u.search, genuine.bodyText), 'accepted', 'a path and query')
  assert.ok(flow.revision > before, 'an accepted callback raises the revision')
  assert.equal(flow.hasUnconfirmedCallback, true)
  // Without tokens, an unconfirmed callback is not kept: the loaded flow asks again.
  const token = genuine.body.msalAuthenticationResult.authenticationResult.accessToken
  assert.ok(flow.toJSONString().includes(token))
  const bare = flow.toJSONStringWithoutTokens()
  assert.ok(!bare.includes(token), 'no MSAL token in it')
  assert.ok(!JSON.stringify(flow.toJSONWithoutTokens()).includes(token))
  assert.equal(Onboarding.fromJSON(bare).hasUnconfirmedCallback, false)
  await flow.advance(client)
  assert.equal(flow.hasUnconfirmedCallback, false)
  assert.ok(!flow.toJSONStringWithoutTokens().includes(token))
  const loaded = Onboarding.fromJSON(flow.toJSONWithoutTokens())
  assert.equal(loaded.tenantId, tenantId('contoso'))
  assert.equal(loaded.revision, flow.revision)
})
