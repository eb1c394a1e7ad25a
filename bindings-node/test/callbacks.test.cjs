'use strict'
// Forged and wrong callbacks through the binding (issue 9, item 5; the Rust table is
// core/tests/onboarding.rs `forged_and_wrong_callbacks_leave_the_state_unchanged`): each is a
// CttError with code callback_invalid and leaves toJSON() unchanged; the genuine callback is
// accepted once, and its replay is a duplicate that changes nothing.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { Onboarding, verifyCallback, CttError } = require('ctt-onboard')
const { useSimulator, uniqueName, rejectsWith, throwsWith } = require('./helpers.cjs')
const { KEY, REDIRECT, plan } = require('./flow-helpers.cjs')

const ctx = useSimulator()

/** The id core derives for a lone key: 'k' and 8 hex digits of a SHA-256 of the secret. */
function keyId(key) {
  return `k${crypto.createHash('sha256').update('ctt-onboard/callback-key-id\n').update(key).digest('hex').slice(0, 8)}`
}

/** The tag core/src/callback.rs puts on a redirect URL (docs/flow-api.md, "What a redirect URL
 * carries"): unpadded base64url of HMAC-SHA256 over length-prefixed fields. */
function tag(key, ask, base = REDIRECT) {
  const mac = crypto.createHmac('sha256', key)
  for (const field of ['ctt-onboard/callback', '2', ask.kid, ask.flowId, ask.action, ask.nonce, String(ask.iat), base]) {
    const bytes = Buffer.from(field, 'utf8')
    const length = Buffer.alloc(8)
    length.writeBigUInt64BE(BigInt(bytes.length))
    mac.update(length).update(bytes)
  }
  return mac.digest('base64url')
}

function taggedUrl(key, ask, base = REDIRECT) {
  const url = new URL(base)
  url.searchParams.append('ctt_flow', ask.flowId)
  url.searchParams.append('ctt_action', ask.action)
  url.searchParams.append('ctt_nonce', ask.nonce)
  url.searchParams.append('ctt_iat', String(ask.iat))
  url.searchParams.append('ctt_kid', ask.kid)
  url.searchParams.append('ctt_v', '2')
  url.searchParams.append('ctt_tag', tag(key, ask, base))
  return url.toString()
}

function askOf(url) {
  const p = new URL(url).searchParams
  return { flowId: p.get('ctt_flow'), action: p.get('ctt_action'), nonce: p.get('ctt_nonce'), iat: Number(p.get('ctt_iat')), kid: p.get('ctt_kid') }
}

function param(url, name) {
  return new URL(url).searchParams.get(name)
}

test('forged and wrong callbacks are callback_invalid and leave the flow unchanged', async () => {
  const client = ctx.client({ callbackKey: KEY })
  const flow = new Onboarding(plan(uniqueName('Callbacks')))
  const other = new Onboarding(plan(uniqueName('Other')))
  const progress = await flow.advance(client)
  assert.equal(progress.action, 'REGISTRATION')
  const otherProgress = await other.advance(client)
  const genuine = await ctx.sim.approve(progress.url, 'contoso')
  const otherCallback = await ctx.sim.approve(otherProgress.url, 'contoso')
  const tailspin = await ctx.sim.approve(progress.url, 'tailspin')

  // The tag computed here is the one the library put on the URL it asked for...
  const ask = askOf(genuine.url)
  assert.equal(ask.flowId, flow.id)
  assert.equal(ask.action, 'REGISTRATION')
  assert.equal(ask.kid, keyId(KEY))
  assert.match(ask.nonce, /^[0-9a-f]{32}$/)
  assert.equal(param(genuine.url, 'ctt_tag'), tag(KEY, ask))
  assert.equal(taggedUrl(KEY, ask), genuine.url)
  // ...so a genuine tag for another action of this flow passes verifyCallback, and only the flow,
  // which is not waiting for that ask, refuses it.
  const otherAction = taggedUrl(KEY, { ...ask, action: 'GET_AGENT_CONSENT' })
  const verified = verifyCallback(KEY, otherAction, genuine.bodyText)
  assert.equal(verified.flowId, flow.id)
  assert.equal(verified.action, 'GET_AGENT_CONSENT')
  assert.equal(verified.nonce, ask.nonce)
  assert.ok(verified.issuedAt instanceof Date)
  assert.equal(verified.issuedAt.getTime(), ask.iat * 1000)
  assert.match(verified.payloadDigest, /^[0-9a-f]{32,}$/)
  // A genuine tag for an ask (nonce) this flow never made: verifies, and the flow refuses it.
  const otherNonce = taggedUrl(KEY, { ...ask, nonce: '0'.repeat(32) })

  const body = genuine.bodyText
  const bodyWithout = (edit) => {
    const copy = structuredClone(genuine.body)
    edit(copy)
    return JSON.stringify(copy)
  }
  const tagged = new URL(genuine.url)
  // [what, key, url, body, message, refused by verifyCallback too]
  const cases = [
    ['bad tag', KEY, genuine.url.replace('ctt_tag=', 'ctt_tag=00'), body, /tag does not verify/, true],
    ['tag flipped', KEY, genuine.url.replace(/ctt_tag=(.)/, (_, c) => `ctt_tag=${c === '0' ? '1' : '0'}`), body, /tag does not verify/, true],
    ['tag not base64url', KEY, genuine.url.replace(/ctt_tag=[^&]+/, 'ctt_tag=zz*'), body, /tag does not verify/, true],
    ['nonce altered', KEY, genuine.url.replace(/ctt_nonce=[0-9a-f]+/, `ctt_nonce=${'1'.repeat(32)}`), body, /tag does not verify/, true],
    ['issue time altered', KEY, genuine.url.replace(/ctt_iat=\d+/, `ctt_iat=${ask.iat + 1}`), body, /tag does not verify/, true],
    ['key id unknown', KEY, genuine.url.replace(/ctt_kid=[^&]+/, 'ctt_kid=other'), body, /key "other", which this key ring does not hold/, true],
    ['no tag version', KEY, genuine.url.replace('&ctt_v=2', ''), body, /older ctt-onboard/, true],
    ['portal URL altered', KEY, genuine.url.replace('/portal/callback', '/portal/callbacks'), body, /tag does not verify/, true],
    ['action altered', KEY, genuine.url.replace('ctt_action=REGISTRATION', 'ctt_action=GET_AGENT_CONSENT'), body, /tag does not verify/, true],
    ['flow altered', KEY, genuine.url.replace(flow.id, other.id), body, /tag does not verify/, true],
    ['wrong key', 'another-key-0123456789abcdef', genuine.url, body, /which this key ring does not hold/, true],
    ['wrong key (Buffer)', Buffer.from('another-key-0123456789abcdef'), genuine.url, body, /which this key ring does not hold/, true],
    ['wrong key under the same id', { signing: { id: ask.kid, key: 'another-key-0123456789abcdef' } }, genuine.url, body, /tag does not verify/, true],
    ['no flow parameters', KEY, REDIRECT, body, /lacks ctt_flow, ctt_action or ctt_tag/, true],
    ['tag missing', KEY, genuine.url.replace(/&ctt_tag=[^&]+/, ''), body, /lacks/, true],
    ['repeated flow parameter', KEY, `${genuine.url}&ctt_flow=${other.id}`, body, /repeats the ctt_flow parameter/, true],
    ['another flow\'s callback', KEY, otherCallback.url, otherCallback.bodyText, /belongs to flow .*not to this flow/, false],
    ['another action (genuine tag)', KEY, otherAction, body, /earlier ask \(GET_AGENT_CONSENT\) or one this flow did not make/, false],
    ['an ask never made (genuine tag)', KEY, otherNonce, body, /earlier ask \(REGISTRATION\) or one this flow did not make/, false],
    ['not a Global Admin (tailspin)', KEY, tailspin.url, tailspin.bodyText, /helpdesk@tailspin\.onmicrosoft\.com .*not a Global Admin/, false],
    ['malformed JSON', KEY, genuine.url, '{"msal', /callback body is not the documented JSON/, true],
    ['not JSON at all', KEY, genuine.url, '<html>hi</html>', /callback body is not the documented JSON/, true],
    ['empty body', KEY, genuine.url, '', /callback body is not the documented JSON/, true],
    ['missing fields', KEY, genuine.url, '{"msalAuthenticationResult":{}}', /authenticationResult/, true],
    ['empty object', KEY, genuine.url, '{}', /msalAuthenticationResult/, true],
    ['no access token', KEY, genuine.url, bodyWithout((b) => { b.msalAuthenticationResult.authenticationResult.accessToken = '' }), /accessToken/, true],
    ['oversized body', KEY, genuine.url, JSON.stringify({ ...genuine.body, pad: 'x'.repeat(300 * 1024) }), /larger than/, true],
    ['path-only URL with a bad tag', KEY, `${tagged.pathname}${tagged.search}`.replace('ctt_tag=', 'ctt_tag=00'), body, /tag does not verify/, true],
  ]
  for (const [what, key, url, text, message, byVerify] of cases) {
    const before = JSON.stringify(flow.toJSON())
    const e = await rejectsWith(flow.handleCallback(key, url, text), 'callback_invalid')
    assert.ok(e instanceof CttError, what)
    assert.match(e.message, message, `${what}: ${e.message}`)
    assert.equal(JSON.stringify(flow.toJSON()), before, `${what}: the flow is unchanged`)
    if (byVerify) throwsWith(() => verifyCallback(key, url, text), 'callback_invalid')
    else assert.doesNotThrow(() => verifyCallback(key, url, text), `${what}: its tag is genuine`)
  }
  assert.equal(flow.progress().action, 'REGISTRATION', 'still waiting for the registration')
  assert.equal(flow.tenantId, null)

  // The genuine callback is accepted once; its replay is a duplicate and changes nothing.
  assert.equal(await flow.handleCallback(KEY, genuine.url, genuine.bodyText), 'accepted')
  assert.equal(flow.hasUnconfirmedCallback, true)
  const accepted = JSON.stringify(flow.toJSON())
  assert.equal(await flow.handleCallback(KEY, genuine.url, genuine.bodyText), 'duplicate')
  assert.equal(await flow.handleCallback(Buffer.from(KEY), genuine.url, genuine.body), 'duplicate', 'as a Buffer key and a parsed body')
  assert.equal(await flow.handleCallback(client, genuine.url, genuine.body), 'duplicate', "with the client's ring")
  assert.equal(JSON.stringify(flow.toJSON()), accepted, 'the replay changed nothing')
  // The tenant is bound once advance has confirmed the sign-in with ConnecttoTeams.
  assert.equal(flow.tenantId, null)
  const contoso = ctx.sim.tenants.find((t) => t.key === 'contoso')

  // The tenant is bound at registration: a consent granted by another tenant's admin is refused.
  const next = await flow.advance(client)
  assert.equal(flow.hasUnconfirmedCallback, false)
  assert.equal(flow.tenantId, contoso.tenantId)
  assert.equal(next.kind, 'awaitingAdmin')
  assert.equal(next.action, 'GET_USER_SYNC_CONSENT')
  const before = JSON.stringify(flow.toJSON())
  const switched = await ctx.sim.approve(next.url, 'fabrikam')
  assert.doesNotThrow(() => verifyCallback(KEY, switched.url, switched.bodyText), 'its tag is genuine')
  const e = await rejectsWith(flow.handleCallback(KEY, switched.url, switched.bodyText), 'callback_invalid')
  assert.match(e.message, /registered to tenant/)
  assert.equal(JSON.stringify(flow.toJSON()), before, 'tenant switched: the flow is unchanged')
  // The registration callback again, now that the flow waits for a consent: still a duplicate
  // (the same ask, the same body), and the same ask with another body is refused.
  assert.equal(await flow.handleCallback(KEY, genuine.url, genuine.bodyText), 'duplicate')
  const changed = await rejectsWith(flow.handleCallback(KEY, genuine.url, { ...genuine.body, companyAdmin: true, extra: 1 }), 'callback_invalid')
  assert.match(changed.message, /already answered with a different body/)
  assert.equal(JSON.stringify(flow.toJSON()), before)
  // The right tenant's admin goes on.
  const right = await ctx.sim.approve(next.url, 'contoso')
  assert.equal(await flow.handleCallback(KEY, right.url, right.bodyText), 'accepted')
})
