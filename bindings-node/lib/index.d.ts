// Types of the package: the classes and objects generated from the Rust doc comments
// (../native/index.d.ts), plus CttError, which the JavaScript layer defines.
export * from '../native/index'
import type { Onboarding } from '../native/index'

/**
 * The save hook of `flow.advance(client, { checkpoint })`: called after every step that changed
 * the flow and before the create, with a snapshot of the flow (a separate `Onboarding`) and the
 * revision this advance last saved. Save `flow.toJSONString()` and `flow.revision` only if the
 * stored row is still at `previousRevision` (`UPDATE ... WHERE id = ? AND revision = ?`), and
 * throw (or reject) otherwise: the advance stops with that error, and before the create nothing
 * is sent.
 */
export type Checkpoint = (flow: Onboarding, previousRevision: number) => void | Promise<void>

/** The options of `flow.advance(client, options)`. */
export interface AdvanceOptions {
  /** Aborting cancels the advance in flight (every step that finished is kept). */
  signal?: AbortSignal
  /** Saves the flow with compare-and-swap during the advance. */
  checkpoint?: Checkpoint
}

/** The stable, language-independent kind of a CttError. */
export type ErrorCode =
  | 'invalid_input'
  | 'authentication'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'rate_limited'
  | 'server'
  | 'api'
  | 'tenant_roles_missing'
  | 'timeout'
  | 'network'
  | 'decode'
  | 'callback_invalid'
  | 'flow_state'
  | 'outcome_unknown'

/** Every code, in documentation order. */
export declare const ERROR_CODES: readonly ErrorCode[]

/** Every failure of the library. Branch on `code`; the message is for people and holds no secret. */
export declare class CttError extends Error {
  constructor(
    message: string,
    details: {
      code: ErrorCode
      status?: number | null
      requestId?: string | null
      retryAfterMs?: number | null
      cause?: unknown
    },
  )
  readonly name: 'CttError'
  /** The stable code. */
  readonly code: ErrorCode
  /** The HTTP status, when the API answered. */
  readonly status: number | null
  /** The request id from the API's response headers, when there was one. */
  readonly requestId: string | null
  /** How long to wait before trying again (rate_limited, 503), in milliseconds. */
  readonly retryAfterMs: number | null
}
