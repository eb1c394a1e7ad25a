// The package's ES module entry point: the same objects as the CommonJS one.
import cjs from './index.cjs'

export const {
  Client,
  ManualClock,
  Simulator,
  Onboarding,
  CallbackKeys,
  verifyCallback,
  claimedFlowId,
  CttError,
  ERROR_CODES,
  setLogger,
  rejectWithCode,
  forcePanicForTests,
} = cjs
export default cjs
