'use strict'
// The shared scenarios (tests/scenarios/*.json) through the Node binding's public API: one
// node:test case per scenario case, named `<family>/<case>`. Each family's runner drives the case
// and builds an observed object with the keys the data's `expect` uses; `matches` compares the two
// (`message`, `waitReason` and `jsonHolds` are fragments, everything else is equal).
//
// Run: node --test tests/scenarios/node/ (after `cd bindings-node && npm run build:debug`).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const util = require('node:util')
const {
  Client,
  Onboarding,
  Simulator,
  ManualClock,
  CallbackKeys,
  CttError,
  verifyCallback,
  setLogger,
} = require('../../../bindings-node/lib/index.cjs')

const LANGUAGE = 'node'
const SCENARIOS = path.resolve(__dirname, '..')
const FRAGMENTS = new Set(['message', 'waitReason', 'jsonHolds'])
const NOT_COMPARED = new Set(['description'])

let counter = 0
const unique = (prefix) => `${prefix} ${++counter}`

// ---------------------------------------------------------------- the data

function families() {
  return fs
    .readdirSync(SCENARIOS)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [path.basename(f, '.json'), JSON.parse(fs.readFileSync(path.join(SCENARIOS, f), 'utf8'))])
}

/** A string of the data: itself, or `{ repeat, times }`. */
function text(value) {
  if (value !== null && typeof value === 'object') return String(value.repeat).repeat(value.times)
  return String(value)
}

function expectation(c) {
  const byLanguage = c.expectByLanguage || {}
  return LANGUAGE in byLanguage ? byLanguage[LANGUAGE] : c.expect || {}
}

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** Every difference between `expected` and `observed`, as readable lines. */
function matches(expected, observed, where = 'expect') {
  if (isObject(expected)) {
    if (!isObject(observed)) return [`${where}: expected an object, observed ${JSON.stringify(observed)}`]
    const problems = []
    for (const [key, want] of Object.entries(expected)) {
      if (NOT_COMPARED.has(key)) continue
      const at = `${where}.${key}`
      if (!(key in observed)) {
        problems.push(`${at}: expected ${JSON.stringify(want)}, observed nothing`)
      } else if (FRAGMENTS.has(key)) {
        const got = observed[key]
        const wanted = Array.isArray(want) ? want : [want]
        if (typeof got !== 'string' || !wanted.every((w) => got.includes(text(w)))) {
          problems.push(`${at}: expected a text holding ${JSON.stringify(want)}, observed ${JSON.stringify(got)}`)
        }
      } else {
        problems.push(...matches(want, observed[key], at))
      }
    }
    return problems
  }
  try {
    assert.deepStrictEqual(observed, expected)
    return []
  } catch {
    return [`${where}: expected ${JSON.stringify(expected)}, observed ${JSON.stringify(observed)}`]
  }
}

function check(expected, observed) {
  const problems = matches(expected, observed)
  assert.ok(problems.length === 0, [...problems, `observed: ${JSON.stringify(observed)}`].join('\n'))
}

// ---------------------------------------------------------------- shared pieces

/** A value of the data as a JavaScript value: texts expanded, `idText` as the number a caller would pass. */
function plain(value) {
  if (isObject(value) && 'idText' in value) return Number(value.idText)
  if (isObject(value) && 'repeat' in value) return text(value)
  return value
}

/** The plan of the data (camelCase, as the Node binding takes it). */
function planOf(defaults, casePlan, name) {
  const base = { ...(defaults.plan || {}) }
  const enterprise = { enterpriseName: name, ...(base.enterprise || {}), ...(casePlan.enterprise || {}) }
  delete base.enterprise
  const plan = { redirectUrl: defaults.redirectUrl, ...base }
  for (const [k, v] of Object.entries(casePlan)) if (k !== 'enterprise') plan[k] = plain(v)
  plan.enterprise = Object.fromEntries(Object.entries(enterprise).map(([k, v]) => [k, plain(v)]))
  return plan
}

function errorOf(e) {
  assert.ok(e instanceof CttError, `expected a CttError, got ${e && e.stack}`)
  return { code: e.code, message: e.message }
}

const snapshotOf = (flow) => [flow.toJSONString(), flow.revision]
const same = (a, b) => a[0] === b[0] && a[1] === b[1]
const creates = (sim) => sim.snapshot().requests.filter((r) => r.path === '/reseller/newEnterprise').length
const enterprises = (sim) => sim.snapshot().enterprises.length

function awaiting(progress) {
  assert.equal(progress.kind, 'awaitingAdmin', `expected an ask, got ${JSON.stringify(progress)}`)
  return progress
}

function param(url, name) {
  for (const pair of url.split('?')[1].split('&')) {
    const [k, ...v] = pair.split('=')
    if (k === name) return v.join('=')
  }
  assert.fail(`${name} not in ${url}`)
}

function replaceParam(url, name, value) {
  const [base, query] = url.split('?')
  const pairs = query.split('&')
  assert.ok(pairs.some((p) => p.startsWith(`${name}=`)), `${name} not in ${url}`)
  return `${base}?${pairs.map((p) => (p.startsWith(`${name}=`) ? `${name}=${value}` : p)).join('&')}`
}

function flipTag(url) {
  const tag = param(url, 'ctt_tag')
  return replaceParam(url, 'ctt_tag', (tag[0] === 'A' ? 'B' : 'A') + tag.slice(1))
}

const accessToken = (body) => JSON.parse(body).msalAuthenticationResult.authenticationResult.accessToken

function withAccessToken(body, token) {
  const data = JSON.parse(body)
  data.msalAuthenticationResult.authenticationResult.accessToken = token
  return JSON.stringify(data)
}

function jwt(claims) {
  const part = (d) => Buffer.from(JSON.stringify(d)).toString('base64url')
  return `${part({ alg: 'none' })}.${part(claims)}.sig`
}

async function withSimulator(options, fn) {
  const sim = await Simulator.start(options)
  try {
    return await fn(sim)
  } finally {
    await sim.close()
  }
}

// ---------------------------------------------------------------- flows

async function runFlow(defaults, c) {
  const expected = expectation(c)
  const stepMs = (c.clockStepSeconds ?? defaults.clockStepSeconds) * 1000
  const observed = await withSimulator(undefined, async (sim) => {
    const clock = new ManualClock()
    const client = new Client({ ...sim.clientOptions(), callbackKey: defaults.callbackKey }, clock)
    const flow = new Onboarding(planOf(defaults, c.plan, unique(c.name)))
    const observed = { outcome: 'unfinished' }
    const actions = []
    for (let round = 0; round < defaults.maxRounds; round++) {
      const progress = await flow.advance(client)
      if (progress.kind === 'awaitingAdmin') {
        actions.push(progress.action)
        const callback = await sim.approve(progress.url, c.tenant)
        const before = snapshotOf(flow)
        let outcome
        try {
          outcome = await flow.handleCallback(client, callback.url, callback.bodyText)
        } catch (e) {
          observed.outcome = 'refused'
          observed.refused = { action: progress.action, ...errorOf(e), flowUnchanged: same(snapshotOf(flow), before) }
          const again = awaiting(await flow.advance(client))
          observed.reasked = { action: again.action, sameUrl: again.url === progress.url }
          break
        }
        assert.equal(outcome, 'accepted')
      } else if (progress.kind === 'waitingUntil') {
        actions.push('wait')
        observed.waitReason = progress.reason
        clock.advance(stepMs)
        sim.advanceClock(stepMs)
      } else {
        assert.equal(progress.kind, 'complete')
        observed.outcome = 'complete'
        assert.ok(flow.isComplete)
        assert.equal(progress.tenantId, flow.tenantId)
        assert.equal(progress.enterpriseId, flow.enterpriseId)
        break
      }
    }
    observed.actions = actions
    observed.tenantId = flow.tenantId
    observed.enterprisesCreated = enterprises(sim)
    observed.createRequests = creates(sim)
    observed.steps = Object.fromEntries(flow.status().map((s) => [s.step, s.state]))
    return observed
  })
  check(expected, observed)
}

// ---------------------------------------------------------------- callbacks

async function runCallback(defaults, c) {
  const expected = expectation(c)
  const attack = c.attack
  const tenant = c.tenant ?? defaults.tenant
  const services = { enterprise: { services: c.services ?? defaults.services } }
  const observed = await withSimulator(undefined, async (sim) => {
    const clock = new ManualClock()
    const client = new Client(
      { ...sim.clientOptions(), callbackKeys: { signing: { id: defaults.callbackKeyId, key: defaults.callbackKey } } },
      clock,
    )
    const newFlow = () => new Onboarding(planOf(defaults, services, unique(c.name)))
    const flow = newFlow()
    const ask = awaiting(await flow.advance(client))
    assert.equal(ask.action, 'REGISTRATION')
    const genuine = await sim.approve(ask.url, tenant)
    const observed = {}
    let keys = client
    let url = genuine.url
    let body = genuine.bodyText
    let verifyOnly = false
    switch (attack.kind) {
      case 'genuine':
        break
      case 'replay': {
        assert.equal(await flow.handleCallback(client, genuine.url, genuine.bodyText), 'accepted')
        if (attack.reformat) {
          const data = JSON.parse(genuine.bodyText)
          body = JSON.stringify(Object.fromEntries(Object.entries(data).reverse()), null, 2)
          assert.notEqual(body, genuine.bodyText)
        }
        break
      }
      case 'tampered_tag':
        url = flipTag(url)
        break
      case 'tampered_param':
        url = replaceParam(url, attack.param, attack.value)
        break
      case 'foreign_key':
        keys = new CallbackKeys({ signing: { id: attack.keyId, key: attack.key } }, clock)
        break
      case 'other_flow': {
        const other = newFlow()
        const theirs = await sim.approve(awaiting(await other.advance(client)).url, tenant)
        url = theirs.url
        body = theirs.bodyText
        break
      }
      case 'superseded': {
        const forged = withAccessToken(genuine.bodyText, 'opaque-forged-token-0001')
        assert.equal(await flow.handleCallback(client, genuine.url, forged), 'accepted')
        const again = awaiting(await flow.advance(client))
        assert.notEqual(again.url, ask.url, 'the refused ask was asked again with a new URL')
        observed.reaskedAction = again.action
        break
      }
      case 'answered_different_body': {
        assert.equal(await flow.handleCallback(client, genuine.url, genuine.bodyText), 'accepted')
        awaiting(await flow.advance(client))
        const data = JSON.parse(genuine.bodyText)
        data[attack.flipField] = !(data[attack.flipField] ?? true)
        body = JSON.stringify(data)
        break
      }
      case 'expired':
        clock.advance(attack.clockAdvanceSeconds * 1000)
        break
      case 'tenant_mismatch': {
        const data = JSON.parse(genuine.bodyText)
        const auth = data.msalAuthenticationResult.authenticationResult
        auth.accessToken = jwt({ tid: attack.tokenTenant })
        auth.userInfo.tenantId = attack.bodyTenant
        body = JSON.stringify(data)
        break
      }
      case 'relative_url': {
        const u = new URL(genuine.url)
        url = `${attack.path ?? u.pathname}?${genuine.url.split('?')[1]}`
        verifyOnly = Boolean(attack.verifyOnly)
        break
      }
      case 'body':
        body = text(attack.body)
        break
      default:
        assert.fail(`unknown attack kind ${attack.kind}`)
    }
    const before = snapshotOf(flow)
    try {
      if (verifyOnly) {
        verifyCallback(keys, url, body)
        observed.outcome = 'verified'
      } else {
        observed.outcome = await flow.handleCallback(keys, url, body)
      }
    } catch (e) {
      Object.assign(observed, { outcome: 'refused', ...errorOf(e) })
    }
    observed.flowUnchanged = same(snapshotOf(flow), before)
    return observed
  })
  check(expected, observed)
}

// ---------------------------------------------------------------- hostile inputs

async function runHostile(defaults, c) {
  const expected = expectation(c)
  let observed
  if (c.kind === 'plan') observed = await hostilePlan(defaults, c)
  else if (c.kind === 'flow_json') observed = hostileFlowJson(defaults, c)
  else assert.fail(`unknown hostile kind ${c.kind}`)
  check(expected, observed)
}

async function hostilePlan(defaults, c) {
  let flow
  try {
    flow = new Onboarding(planOf(defaults, c.plan, 'Hostile Scenario'))
  } catch (e) {
    return { outcome: 'refused', stage: 'new', ...errorOf(e) }
  }
  if (c.advance === false) {
    const kept = Onboarding.fromJSON(flow.toJSONString()).plan
    return {
      outcome: 'kept',
      planServices: kept.enterprise.services,
      existingEnterpriseId: kept.existingEnterpriseId == null ? null : String(kept.existingEnterpriseId),
    }
  }
  return withSimulator(undefined, async (sim) => {
    const client = new Client({ ...sim.clientOptions(), callbackKey: defaults.callbackKey })
    let observed
    try {
      const progress = awaiting(await flow.advance(client))
      observed = { outcome: 'accepted', action: progress.action }
    } catch (e) {
      observed = { outcome: 'refused', stage: 'advance', ...errorOf(e) }
    }
    observed.createRequests = creates(sim)
    observed.enterprisesCreated = enterprises(sim)
    return observed
  })
}

function hostileFlowJson(defaults, c) {
  let source
  if ('text' in c) {
    source = text(c.text)
  } else {
    source = new Onboarding(planOf(defaults, {}, 'Hostile Scenario')).toJSONString()
    for (const [from, to] of c.replace || []) {
      assert.ok(source.includes(from), `${from} is not in a new flow's JSON: ${source.slice(0, 300)}`)
      source = source.split(from).join(to)
    }
    if (c.truncate) source = source.slice(0, Math.floor(source.length / 2))
  }
  let flow
  try {
    flow = Onboarding.fromJSON(source)
  } catch (e) {
    return { outcome: 'refused', ...errorOf(e) }
  }
  let enterpriseId
  try {
    enterpriseId = flow.enterpriseId
  } catch (e) {
    return { outcome: 'refused_on_read', read: 'enterpriseId', ...errorOf(e), jsonHolds: flow.toJSONString() }
  }
  return { outcome: 'kept', enterpriseId: enterpriseId == null ? null : String(enterpriseId), jsonHolds: flow.toJSONString() }
}

// ---------------------------------------------------------------- secrets

async function runSecrets(defaults, c) {
  const logs = []
  setLogger((record) => logs.push(`${record.level} ${record.target} ${record.message}`), 'debug')
  const texts = {}
  const dynamic = {}
  // JSON.stringify of a flow is its toJSON(), which holds the MSAL result by design (documented,
  // as to_json in every language): the flow surface is its inspect and string forms only.
  const show = (surface, ...values) => {
    for (const v of values) {
      const list = (texts[surface] ??= [])
      list.push(util.inspect(v, { depth: 10, showHidden: true }), String(v))
      if (surface === 'flow') continue
      try {
        list.push(JSON.stringify(v) ?? '')
      } catch (e) {
        list.push(String(e))
      }
    }
  }
  const showError = (e) => {
    for (let cause = e; cause; cause = cause.cause) {
      show('errors', cause)
      ;(texts.errors ??= []).push(String(cause.message), String(cause.stack))
    }
  }
  const key = c.callbackKey ?? defaults.callbackKey
  try {
    await withSimulator(c.simCredentials ? { credentials: c.simCredentials } : undefined, async (sim) => {
      const clock = new ManualClock()
      const options = sim.clientOptions()
      let client
      if (c.client === 'simulator') {
        client = new Client({ ...options, callbackKey: key }, clock)
      } else if ('resellerToken' in c.client) {
        client = new Client({ baseUrl: options.baseUrl, resellerToken: c.client.resellerToken }, clock)
      } else {
        client = new Client({ ...options, reseller: { ...options.reseller, ...c.client }, callbackKey: key }, clock)
      }
      show('client', client)
      if (client.callbackKeys) show('keys', client.callbackKeys)
      if (c.run === 'failing_call') {
        let failed
        try {
          await client.resellerId()
        } catch (e) {
          failed = e
        }
        assert.ok(failed instanceof CttError, `expected a CttError, got ${failed}`)
        assert.equal(failed.code, c.expectCode, failed.message)
        showError(failed)
      } else {
        const flow = await secretsFlow(sim, client, defaults, c, dynamic, showError)
        show('flow', flow)
        texts.flowJsonWithoutTokens = [flow.toJSONStringWithoutTokens(), JSON.stringify(flow.toJSONWithoutTokens())]
        texts.flowJson = [flow.toJSONString()]
        show('status', flow.status(), ...flow.status())
        show('progress', flow.progress())
      }
    })
  } finally {
    setLogger(null)
  }
  texts.logs = logs
  assert.ok(logs.length > 0, 'the library logged nothing at debug level: the logs were not captured')
  const problems = []
  for (const spec of c.canaries) {
    const s = isObject(spec) ? spec : { value: spec }
    const canary = 'from' in s ? dynamic[s.from] : s.value
    assert.ok(canary, `canary ${JSON.stringify(spec)} is empty`)
    for (const surface of c.surfaces) {
      assert.ok(surface in texts, `surface ${surface} was not collected in this case`)
      for (const t of texts[surface]) {
        if (t.includes(canary)) problems.push(`canary ${JSON.stringify(spec)} leaked into ${surface}: ${t.slice(0, 300)}`)
      }
    }
    for (const surface of s.mustAppearIn || []) {
      if (!(texts[surface] || []).some((t) => t.includes(canary))) {
        problems.push(`canary ${JSON.stringify(spec)} should be in ${surface} but is not`)
      }
    }
  }
  assert.ok(problems.length === 0, problems.join('\n'))
}

async function secretsFlow(sim, client, defaults, c, dynamic, showError) {
  const flow = new Onboarding(planOf(defaults, { enterprise: { services: c.services ?? defaults.services } }, unique(c.name)))
  const tenant = c.tenant ?? defaults.tenant
  let forge = c.forgeAccessToken
  let probed = false
  for (let round = 0; round < 20; round++) {
    const progress = await flow.advance(client)
    if (progress.kind === 'complete') break
    const callback = await sim.approve(awaiting(progress).url, tenant)
    dynamic.firstCallbackAccessToken ??= accessToken(callback.bodyText)
    dynamic.lastCallbackAccessToken = accessToken(callback.bodyText)
    if (forge) {
      assert.equal(await flow.handleCallback(client, callback.url, withAccessToken(callback.bodyText, forge)), 'accepted')
      forge = undefined
      continue
    }
    if (!probed) {
      let failed
      try {
        await flow.handleCallback(client, flipTag(callback.url), callback.bodyText)
      } catch (e) {
        failed = e
      }
      assert.ok(failed instanceof CttError, 'a tampered tag is refused')
      showError(failed)
      probed = true
    }
    assert.equal(await flow.handleCallback(client, callback.url, callback.bodyText), 'accepted')
  }
  assert.ok(flow.isComplete, JSON.stringify(flow.status()))
  return flow
}

// ---------------------------------------------------------------- the cases

const RUNNERS = { flows: runFlow, callbacks: runCallback, hostile_inputs: runHostile, secrets: runSecrets }

for (const [family, data] of families()) {
  if (!RUNNERS[family] || !data.cases || data.cases.length === 0) {
    throw new Error(`tests/scenarios/${family}.json has no Node runner or no cases`)
  }
  for (const c of data.cases) {
    const name = `${family}/${c.name}`
    const reason = c.skip && c.skip[LANGUAGE]
    if (reason) {
      test(name, { skip: `${name}: ${reason}` }, () => {})
      continue
    }
    test(name, () => RUNNERS[family](data.defaults || {}, c))
  }
}
