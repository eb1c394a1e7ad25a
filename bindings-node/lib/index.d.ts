// Types of the package: the classes and objects generated from the Rust doc comments
// (../native/index.d.ts), plus CttError, which the JavaScript layer defines.
export * from '../native/index'

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
