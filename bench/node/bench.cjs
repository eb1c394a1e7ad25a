'use strict'
// The Node cases of the benchmarks; each invocation prints one JSON object.
// The simulator's JSON line is in CTT_SIM (the driver, bench/run.py, starts ctt-sim).
//
//   node bench.cjs latency --warmup 200 --n 2000 --blocks 4
//   node bench.cjs bulk --impl ctt|undici|fetch --n 10000 --concurrency 64
//   node bench.cjs singleflight --n 1000
//
// The hand-written baselines: Node's built-in fetch, and undici's Pool with request() (undici
// pinned in package.json beside this file, installed by bench/setup.sh with npm ci; for bulk the
// Pool has one connection per concurrent task). Each: a password grant, then one request per call,
// parsing the JSON answer of sbc_gateways and reading the other bodies as text.
//
// Latency interleaves the implementations in one process: each is warmed up, then --blocks rounds
// run n / blocks calls of each in turn (A B C A B C ...), so drift lands on all of them alike. The
// no-IO probes of the per-call breakdown (a native getter, resellerId() answered without a request)
// take their turns in the same blocks.

const REDIRECT = 'https://portal.example/ctt/callback'

function sim() {
  const s = JSON.parse(process.env.CTT_SIM)
  s.base_url = s.base_url.replace(/\/$/, '')
  return s
}

function options(s) {
  return {
    baseUrl: s.base_url,
    reseller: {
      clientId: s.client_id,
      clientSecret: s.client_secret,
      username: s.username,
      password: s.password,
    },
    resellerId: s.reseller_id,
  }
}

function arg(name, fallback) {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : fallback
}

async function timeCalls(warmup, n, call) {
  for (let i = 0; i < warmup; i++) await call()
  const out = new Array(n)
  const per = call.batch || 1
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint()
    await call()
    out[i] = Number(process.hrtime.bigint() - t) / 1000 / per
  }
  return out
}

async function fetchToken(s) {
  const r = await fetch(`${s.base_url}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: 'Basic ' + Buffer.from(`${s.client_id}:${s.client_secret}`).toString('base64'),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'password', username: s.username, password: s.password }),
  })
  if (!r.ok) throw new Error(`token: ${r.status}`)
  return (await r.json()).access_token
}

async function interleave(impls, warmup, n, blocks) {
  for (const [, , call] of impls) await timeCalls(warmup, 0, call)
  const out = impls.map(() => [])
  const per = Math.max(1, Math.floor(n / Math.max(1, blocks)))
  for (let b = 0; b < Math.max(1, blocks); b++) {
    for (let i = 0; i < impls.length; i++) out[i].push(...(await timeCalls(0, per, impls[i][2])))
  }
  return out
}

async function latency(warmup, n, blocks) {
  const { Client } = require('ctt-onboard')
  const { Pool } = require('undici')
  const s = sim()
  const rid = s.reseller_id
  const name = `Node Latency ${process.pid}`

  const client = new Client(options(s))
  await client.createEnterprise({ enterpriseName: name, services: ['SMS'] })

  const token = await fetchToken(s)
  const gwPath = `/reseller/getAvailableSBCGatewayRegionsByResellerId/${rid}`
  const aiuPath = '/enterprise/getActionItemUrl'
  const body = JSON.stringify({ actionType: 'REGISTRATION', enterpriseName: name, redirectUrl: REDIRECT })
  const auth = { authorization: `Bearer ${token}` }
  const post = { ...auth, 'content-type': 'application/json' }
  const undici = new Pool(s.base_url)

  const impls = [
    ...(await probes(client, await client.sbcGateways(rid))),
    ['Client', 'sbc_gateways', () => client.sbcGateways(rid)],
    ['Client', 'action_item_url', () => client.actionItemUrl('REGISTRATION', name, REDIRECT)],
    [
      'fetch',
      'sbc_gateways',
      async () => {
        const r = await fetch(s.base_url + gwPath, { headers: auth })
        if (!r.ok) throw new Error(`sbc_gateways: ${r.status}`)
        return r.json()
      },
    ],
    [
      'fetch',
      'action_item_url',
      async () => {
        const r = await fetch(s.base_url + aiuPath, { method: 'POST', headers: post, body })
        if (!r.ok) throw new Error(`action_item_url: ${r.status}`)
        return r.text()
      },
    ],
    [
      'undici Pool.request',
      'sbc_gateways',
      async () => {
        const r = await undici.request({ path: gwPath, method: 'GET', headers: auth })
        if (r.statusCode !== 200) throw new Error(`sbc_gateways: ${r.statusCode}`)
        return r.body.json()
      },
    ],
    [
      'undici Pool.request',
      'action_item_url',
      async () => {
        const r = await undici.request({ path: aiuPath, method: 'POST', headers: post, body })
        if (r.statusCode !== 200) throw new Error(`action_item_url: ${r.statusCode}`)
        return r.body.text()
      },
    ],
  ]
  const samples = await interleave(impls, warmup, n, blocks)
  await undici.close()
  const results = impls.map(([impl, op], i) =>
    op.startsWith('probe:')
      ? {
          kind: 'probe',
          lang: 'node',
          impl,
          probe: op.slice(6),
          call: PROBE_CALLS[op.slice(6)],
          batch: PROBE_BATCH,
          ...(op === 'probe:hops' ? { hops: PROBE_HOPS } : {}),
          samples_us: samples[i],
        }
      : { lang: 'node', impl, op, samples_us: samples[i] },
  )
  return { case: 'latency', blocks, results }
}

// Calls per probe sample: a probe takes about a microsecond, so a sample is the mean of a batch
// (process.hrtime.bigint itself costs a share of that).
const PROBE_BATCH = 50

// What each probe of the per-call breakdown calls (bench/NOTES.md, "Where the time goes"). The
// conversion of a result alone has no entry point in the binding (no export converts a value
// without a call): the breakdown says so.
const PROBE_CALLS = {
  crossing: 'client.baseUrl (a native getter returning a string)',
  noio: 'await client.resellerId() with resellerId in the options (no request)',
  'echo-null': "await client.call({ call: '__probe', hops: 0, echo: null })",
  'echo-result':
    "await client.call({ call: '__probe', hops: 0, echo: <the gateways> }): the gateways converted in as an argument and out as the result",
  hops: "await client.call({ call: '__probe', hops: 4, echo: null })",
}

// Wake-ups the hops probe asks core's __probe for (one wake-up = its cost over echo-null / this).
const PROBE_HOPS = 4

// A timed function whose every call is a batch of PROBE_BATCH calls: timeCalls divides by it below.
function batch(call, sync) {
  const run = sync
    ? () => {
        for (let i = 0; i < PROBE_BATCH; i++) call()
      }
    : async () => {
        for (let i = 0; i < PROBE_BATCH; i++) await call()
      }
  run.batch = PROBE_BATCH
  return run
}

// A probe whose entry point a build no longer has is left out (the breakdown shows it missing).
// The echo and hops probes go through core's hidden ClientCall __probe (no request: it answers
// its echo after `hops` wake-ups from another thread) and the native call every generated
// method uses.
async function probes(client, gateways) {
  const out = []
  if (typeof client.baseUrl === 'string') out.push(['Client', 'probe:crossing', batch(() => client.baseUrl, true)])
  if (typeof client.resellerId === 'function') out.push(['Client', 'probe:noio', batch(() => client.resellerId(), false)])
  const nul = { call: '__probe', hops: 0, echo: null }
  const echo = { call: '__probe', hops: 0, echo: gateways }
  const hops = { call: '__probe', hops: PROBE_HOPS, echo: null }
  const answers = typeof client.call === 'function' && (await client.call(echo).then(Array.isArray, () => false))
  if (answers) {
    out.push(['Client', 'probe:echo-null', batch(() => client.call(nul), false)])
    out.push(['Client', 'probe:echo-result', batch(() => client.call(echo), false)])
    out.push(['Client', 'probe:hops', batch(() => client.call(hops), false)])
  }
  return out
}

async function pool(n, concurrency, one) {
  let next = 0
  const worker = async () => {
    while (next < n) {
      const i = next++
      await one(i)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

async function bulk(impl, n, concurrency) {
  const s = sim()
  const prefix = `Node Bulk ${impl} ${process.pid}`
  const create = (name) => JSON.stringify({ enterpriseName: name, services: ['SMS', 'CHAT'], restrictAdminAccess: true })
  const askUrl = (name) => JSON.stringify({ actionType: 'REGISTRATION', enterpriseName: name, redirectUrl: REDIRECT })
  let one
  let close = async () => {}
  let label
  if (impl === 'ctt') {
    const { Client } = require('ctt-onboard')
    const client = new Client(options(s))
    await client.sbcGateways(s.reseller_id) // the token, outside the timing
    label = 'Client'
    one = async (name) => {
      await client.createEnterprise({ enterpriseName: name, services: ['SMS', 'CHAT'], restrictAdminAccess: true })
      await client.actionItemUrl('REGISTRATION', name, REDIRECT)
    }
  } else if (impl === 'undici') {
    const { Pool } = require('undici')
    const token = await fetchToken(s)
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    const undici = new Pool(s.base_url, { connections: concurrency })
    close = () => undici.close()
    label = 'undici Pool.request'
    const send = async (path, body) => {
      const r = await undici.request({ path, method: 'POST', headers, body })
      if (r.statusCode !== 200) throw new Error(`${path}: ${r.statusCode}`)
      return r.body.text()
    }
    one = async (name) => {
      Number(await send('/reseller/newEnterprise', create(name)))
      await send('/enterprise/getActionItemUrl', askUrl(name))
    }
  } else if (impl === 'fetch') {
    const token = await fetchToken(s)
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
    label = 'fetch'
    const send = async (path, body) => {
      const r = await fetch(s.base_url + path, { method: 'POST', headers, body })
      if (!r.ok) throw new Error(`${path}: ${r.status}`)
      return r.text()
    }
    one = async (name) => {
      Number(await send('/reseller/newEnterprise', create(name)))
      await send('/enterprise/getActionItemUrl', askUrl(name))
    }
  } else {
    throw new Error(`unknown bulk impl ${impl}: ctt | undici | fetch`)
  }
  const t = process.hrtime.bigint()
  await pool(n, concurrency, (i) => one(`${prefix} ${i}`))
  const seconds = Number(process.hrtime.bigint() - t) / 1e9
  await close()
  return {
    case: 'bulk',
    lang: 'node',
    impl: label,
    n,
    concurrency,
    seconds,
    peak_rss_kb: process.resourceUsage().maxRSS,
  }
}

async function state(s) {
  const r = await fetch(`${s.base_url}/_sim/state`)
  return r.json()
}

async function singleflight(n) {
  const { Client } = require('ctt-onboard')
  const s = sim()
  const before = (await state(s)).token_requests.reseller
  const client = new Client(options(s))
  const out = await Promise.allSettled(Array.from({ length: n }, () => client.sbcGateways(s.reseller_id)))
  const after = (await state(s)).token_requests.reseller
  return {
    case: 'singleflight',
    lang: 'node',
    impl: 'Client',
    calls: n,
    failed: out.filter((o) => o.status !== 'fulfilled').length,
    token_requests: after - before,
  }
}

async function main() {
  const which = process.argv[2]
  let out
  if (which === 'latency') {
    out = await latency(Number(arg('--warmup', 200)), Number(arg('--n', 2000)), Number(arg('--blocks', 4)))
  } else if (which === 'bulk') {
    out = await bulk(arg('--impl', 'ctt'), Number(arg('--n', 10000)), Number(arg('--concurrency', 64)))
  }
  else if (which === 'singleflight') out = await singleflight(Number(arg('--n', 1000)))
  else throw new Error(`unknown case ${which}: latency | bulk | singleflight`)
  process.stdout.write(JSON.stringify(out) + '\n')
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
