'use strict'
// The Node cases of the benchmarks; each invocation prints one JSON object.
// The simulator's JSON line is in CTT_SIM (the driver, bench/run.py, starts ctt-sim).
//
//   node bench.cjs latency --warmup 200 --n 2000
//   node bench.cjs bulk --n 10000 --concurrency 64
//   node bench.cjs singleflight --n 1000
//
// The hand-written baseline is Node's built-in fetch (undici): a password grant, then one request
// per call, parsing the answer.

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
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint()
    await call()
    out[i] = Number(process.hrtime.bigint() - t) / 1000
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

async function latency(warmup, n) {
  const { Client } = require('ctt-onboard')
  const s = sim()
  const rid = s.reseller_id
  const name = `Node Latency ${process.pid}`
  const results = []
  const add = (impl, op, samples) => results.push({ lang: 'node', impl, op, samples_us: samples })

  const client = new Client(options(s))
  await client.createEnterprise({ enterpriseName: name, services: ['SMS'] })
  add('Client', 'sbc_gateways', await timeCalls(warmup, n, () => client.sbcGateways(rid)))
  add(
    'Client',
    'action_item_url',
    await timeCalls(warmup, n, () => client.actionItemUrl('REGISTRATION', name, REDIRECT)),
  )

  const token = await fetchToken(s)
  const gw = `${s.base_url}/reseller/getAvailableSBCGatewayRegionsByResellerId/${rid}`
  const aiu = `${s.base_url}/enterprise/getActionItemUrl`
  const body = JSON.stringify({ actionType: 'REGISTRATION', enterpriseName: name, redirectUrl: REDIRECT })
  const auth = { authorization: `Bearer ${token}` }
  add(
    'fetch',
    'sbc_gateways',
    await timeCalls(warmup, n, async () => {
      const r = await fetch(gw, { headers: auth })
      if (!r.ok) throw new Error(`sbc_gateways: ${r.status}`)
      return r.json()
    }),
  )
  add(
    'fetch',
    'action_item_url',
    await timeCalls(warmup, n, async () => {
      const r = await fetch(aiu, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body,
      })
      if (!r.ok) throw new Error(`action_item_url: ${r.status}`)
      return r.text()
    }),
  )
  return { case: 'latency', results }
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

async function bulk(n, concurrency) {
  const { Client } = require('ctt-onboard')
  const s = sim()
  const client = new Client(options(s))
  await client.sbcGateways(s.reseller_id) // the token, outside the timing
  const prefix = `Node Bulk ${process.pid}`
  const t = process.hrtime.bigint()
  await pool(n, concurrency, async (i) => {
    const name = `${prefix} ${i}`
    await client.createEnterprise({ enterpriseName: name, services: ['SMS', 'CHAT'], restrictAdminAccess: true })
    await client.actionItemUrl('REGISTRATION', name, REDIRECT)
  })
  const seconds = Number(process.hrtime.bigint() - t) / 1e9
  return {
    case: 'bulk',
    lang: 'node',
    impl: 'Client',
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
  if (which === 'latency') out = await latency(Number(arg('--warmup', 200)), Number(arg('--n', 2000)))
  else if (which === 'bulk') out = await bulk(Number(arg('--n', 10000)), Number(arg('--concurrency', 64)))
  else if (which === 'singleflight') out = await singleflight(Number(arg('--n', 1000)))
  else throw new Error(`unknown case ${which}: latency | bulk | singleflight`)
  process.stdout.write(JSON.stringify(out) + '\n')
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
