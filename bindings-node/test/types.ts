// Type-checked with `tsc --strict --noEmit` (npm run typecheck): a portal's use of the whole API,
// resolved through the package's own "exports" (types from the generated index.d.ts).
import {
  Client,
  CttError,
  ERROR_CODES,
  ManualClock,
  Onboarding,
  Simulator,
  forcePanicForTests,
  rejectWithCode,
  setLogger,
  verifyCallback,
  CallbackKeys,
  claimedFlowId,
  type AdvanceOptions,
  type AuthenticationResult,
  type CallbackKeysOptions,
  type Checkpoint,
  type VerifiedCallback,
  type CallbackPayload,
  type ClientOptions,
  type ErrorCode,
  type LogRecord,
  type NewEnterprise,
  type OnboardingPlan,
  type Progress,
  type StepStatus,
} from 'ctt-onboard'

const KEY = 'portal-callback-key-0123456789abcdef'

function describe(progress: Progress): string {
  switch (progress.kind) {
    case 'awaitingAdmin':
      return `${progress.action}: ${progress.url}`
    case 'waitingUntil':
      return `${progress.reason} until ${progress.notBefore.toISOString()}`
    case 'complete':
      return `enterprise ${progress.enterpriseId.toFixed(0)} in tenant ${progress.tenantId}`
  }
}

function handle(error: unknown): ErrorCode | undefined {
  if (error instanceof CttError) {
    const status: number | null = error.status
    const requestId: string | null = error.requestId
    const wait: number | null = error.retryAfterMs
    void [status, requestId, wait]
    return error.code
  }
  return undefined
}

export async function portal(): Promise<void> {
  setLogger((record: LogRecord) => console.log(record.level, record.target, record.message, record.timeMs), 'info')
  setLogger(null)
  const sim: Simulator = await Simulator.start({ tokenTtlMs: 60_000, faults: { rate: 0, kinds: ['429'] }, credentials: { password: 'p' } })
  const clock = new ManualClock()
  const options: ClientOptions = {
    ...sim.clientOptions(),
    callbackKey: KEY,
    timeoutMs: 10_000,
    retry: { maxAttempts: 3, initialBackoffMs: 100 },
    paths: { o365_user_info: 'POST /provisioning/getO365UserInfo' },
    caCertPem: [],
  }
  const client = new Client(options, clock)
  const resellerId: number = await client.resellerId()
  const user = await client.authenticatedUser()
  const gateways = await client.sbcGateways(resellerId)
  const types = await client.pbxTypes(resellerId)
  const enterprise: NewEnterprise = {
    enterpriseName: `Contoso ${user.username ?? ''}`,
    services: ['PBX', 'SMS', 'SOMETHING_NEW'],
    sbcGateways: gateways.map((g) => g.sbcGatewayId),
    pbxId: types.filter((t) => t.isDefault).map((t) => t.id),
    restrictAdminAccess: true,
  }
  const id: number = await client.createEnterprise(enterprise)
  const found = await client.findEnterprise(resellerId, enterprise.enterpriseName)
  if (found !== null && found.enterpriseId !== id) throw new Error('mismatch')
  const all = await client.enterprises(resellerId)
  const url: string = await client.actionItemUrl('REGISTRATION', enterprise.enterpriseName, 'http://127.0.0.1:9/cb')
  const callback = await sim.approve(url, 'contoso')
  const payload: CallbackPayload = callback.body
  const auth: AuthenticationResult = payload.msalAuthenticationResult.authenticationResult
  const info = await client.o365UserInfo(auth)
  if (!info.containsTeamsTenantAdminAPI) await client.provisionTenantAdminApi(auth)
  await client.updateManagementConsent(auth, resellerId, auth.userInfo?.tenantId ?? '')

  const plan: OnboardingPlan = {
    enterprise: { enterpriseName: 'Fabrikam', services: ['Trunk'] },
    gatewayRegions: ['US-East'],
    redirectUrl: 'http://127.0.0.1:9/cb',
    optionalConsents: ['GET_CDR_CONSENT'],
    serviceProviderManagement: true,
  }
  let flow = new Onboarding(plan)
  const controller = new AbortController()
  let progress: Progress = await flow.advance(client, { signal: controller.signal })
  while (progress.kind === 'awaitingAdmin') {
    const cb = await sim.approve(progress.url, 'fabrikam')
    const verified = verifyCallback(KEY, cb.url, cb.bodyText)
    if (verified.flowId !== flow.id) throw new Error('another flow')
    const outcome: 'accepted' | 'duplicate' = await flow.handleCallback(KEY, cb.url, cb.body)
    void outcome
    flow = Onboarding.fromJSON(JSON.stringify(flow))
    progress = await flow.advance(client)
  }
  console.log(describe(progress))

  // Key rings, keys as bytes, the checkpoint with compare-and-swap, the revision.
  const ringOptions: CallbackKeysOptions = {
    signing: { id: 'new', key: new Uint8Array(32) },
    verify: [{ id: 'old', key: Buffer.from(KEY) }],
    retired: ['older'],
    maxAgeSeconds: 3600,
  }
  const ring = new CallbackKeys(ringOptions, clock)
  const signing: string = ring.signingKeyId
  const maxAge: number = ring.maxAgeSeconds
  const fromKey: CallbackKeys = CallbackKeys.fromKey(Buffer.alloc(16))
  const rotated = new Client({ ...sim.clientOptions(), callbackKeys: ringOptions })
  const clientRing: CallbackKeys | null = rotated.callbackKeys
  const stored = { json: flow.toJSONString(), revision: flow.revision }
  const checkpoint: Checkpoint = async (snapshot: Onboarding, previousRevision: number) => {
    if (stored.revision !== previousRevision) throw new CttError('stale', { code: 'flow_state' })
    stored.json = snapshot.toJSONString()
    stored.revision = snapshot.revision
  }
  const advanceOptions: AdvanceOptions = { checkpoint, signal: controller.signal }
  await flow.advance(rotated, advanceOptions)
  await flow.advance(client, { checkpoint: () => undefined })
  const cb2 = await sim.approve(url, 'contoso')
  const verified: VerifiedCallback = verifyCallback(ring, cb2.url, cb2.bodyText)
  const nonce: string = verified.nonce
  const issuedAt: Date = verified.issuedAt
  const digest: string = verified.payloadDigest
  const claimed: string | null = claimedFlowId(cb2.url)
  for (const keys of [KEY, Buffer.from(KEY), new Uint8Array(16), ring, ringOptions, client]) {
    await flow.handleCallback(keys, cb2.url, cb2.bodyText).catch(handle)
    verifyCallback(keys, cb2.url, cb2.bodyText)
  }
  const unconfirmed: boolean = flow.hasUnconfirmedCallback
  const bare: Record<string, unknown> = flow.toJSONWithoutTokens()
  const bareText: string = flow.toJSONStringWithoutTokens()
  void [signing, maxAge, fromKey, clientRing, nonce, issuedAt, digest, claimed, unconfirmed, bare, bareText]
  const steps: StepStatus[] = flow.status()
  for (const s of steps) console.log(s.step, s.title, s.state, s.detail ?? '', s.updatedAt?.toISOString(), s.errorCode)
  const json: object = flow.toJSON()
  Onboarding.fromJSON(json)
  const enterpriseId: number | null | undefined = flow.enterpriseId
  const complete: boolean = flow.isComplete
  void [enterpriseId, complete, all, flow.tenantId, flow.plan.redirectUrl, flow.progress()]
  clock.advance(31 * 60 * 1000)
  sim.advanceClock(31 * 60 * 1000)
  sim.setFaults({ rate: 0.5, seed: 7, kinds: ['500', 'latency'], latencyMs: 10, paths: ['/pbx'] })
  sim.setCanned({ pathPrefix: '/pbx', status: 500, body: 'no' })
  sim.clearCanned()
  sim.setTokenTtl(1000)
  const count: number = sim.tokenRequests('reseller')
  const snapshot: unknown = sim.snapshot()
  void [count, snapshot, sim.tenants.map((t) => t.key), sim.credentials.clientId, sim.baseUrl, sim.resellerId, sim.now()]
  try {
    await rejectWithCode('rate_limited', 429, 'r', 1000)
  } catch (e) {
    const code = handle(e)
    const known: readonly ErrorCode[] = ERROR_CODES
    if (code !== undefined && !known.includes(code)) throw e
  }
  await forcePanicForTests(true).catch(handle)
  await sim.close()
}
