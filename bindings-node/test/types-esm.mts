// The same package seen from an ES module under `tsc --strict` (named imports, top-level await).
import { Client, CttError, Onboarding, Simulator, type Progress } from 'ctt-onboard'

const sim = await Simulator.start()
const client = new Client({ ...sim.clientOptions(), callbackKey: 'portal-callback-key-0123456789abcdef' })
const flow = new Onboarding({ enterprise: { enterpriseName: 'Esm', services: ['CHAT'] }, redirectUrl: 'http://127.0.0.1:9/cb' })
try {
  const progress: Progress = await flow.advance(client)
  if (progress.kind === 'awaitingAdmin') console.log(progress.url)
} catch (e) {
  if (e instanceof CttError) console.log(e.code)
}
await sim.close()
