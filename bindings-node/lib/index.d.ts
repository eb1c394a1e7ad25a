// Types of the package: the classes generated from the Rust doc comments (../native/index.d.ts),
// the shapes that cross as plain objects generated from core's schema (./generated.d.ts), with
// this package's JavaScript manners applied below (camelCase names, Dates), and CttError.
export * from '../native/index'
export * from './generated'
import type { CallbackKeysOptions, Onboarding } from '../native/index'
import type { ErrorCode } from './generated'
import type * as G from './generated'

/** `snake_case` as `camelCase`, at the type level. */
type Camel<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S
/** An object type with its own keys in camelCase (the binding renames them; values unchanged). */
type CamelKeys<T> = { [K in keyof T as K extends string ? Camel<K> : K]: T[K] }
/** Fields in milliseconds since the Unix epoch, as the `Date`s JavaScript gets. */
type WithDates<T, K extends string> = T extends unknown
  ? { [P in keyof T]: P extends K ? (null extends T[P] ? Date | null : Date) : T[P] }
  : never

/**
 * How to build a `Client` (core's `ClientOptions`), plus the portal's callback key: `callbackKey`
 * (at least 16 bytes; a string is its UTF-8 bytes) or the ring `callbackKeys`, not both.
 */
export type ClientOptions = Omit<G.ClientOptions, 'caCertPem'> & {
  /** Extra CA certificates (PEM text) to trust besides the system's: one, or a list. */
  caCertPem?: string | string[]
  /** The portal's secret for tagging the callback URLs the flow asks for (a ring of one key). */
  callbackKey?: string | Buffer | Uint8Array
  /** The portal's callback key ring: signing key, older keys that still verify, retired ids, max age. */
  callbackKeys?: CallbackKeysOptions
}
/** What to onboard and how (core's `OnboardingPlan`, with camelCase names). */
export type OnboardingPlan = CamelKeys<G.OnboardingPlan>
/** Where `advance` stopped; branch on `kind`. `notBefore` is a `Date`. */
export type Progress = WithDates<G.Progress, 'notBefore'>
/** One line of `status()`; `updatedAt` is a `Date`. */
export type StepStatus = WithDates<G.StepStatus, 'updatedAt'>
/** A fault kind: ctt-sim's name, or its CLI name (`429`, `500`, `502`, `503`, `drop-before`, `drop-after`, `truncate`). */
export type FaultKindName = G.FaultKind | (string & {})
/** Which faults the simulator injects (ctt-sim's `FaultConfig`, camelCase names). */
export type FaultConfig = Omit<CamelKeys<G.FaultConfig>, 'kinds'> & { kinds?: FaultKindName[] }
/** The credentials a simulator accepts (ctt-sim's `SimCredentials`, camelCase names). */
export type SimCredentials = CamelKeys<G.SimCredentials>
/** A canned answer (ctt-sim's `CannedResponse`, camelCase names); `contentType` defaults to JSON. */
export type CannedResponse = Omit<CamelKeys<G.CannedResponse>, 'contentType'> & { contentType?: string }
/** How to start a simulator. */
export type SimOptions = Omit<G.SimOptions, 'faults' | 'credentials'> & {
  faults?: FaultConfig | null
  credentials?: SimCredentials | null
}

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

/** A callback that passed verification (`verifyCallback`): which flow and ask it answers. */
export type VerifiedCallback = WithDates<G.VerifiedCallback, 'issuedAt'>

declare module '../native/index' {
  interface Simulator {
    /** Client options that point at this simulator with its reseller and enterprise credentials;
     * spread your own settings over them: `new Client({ ...sim.clientOptions(), callbackKey })`. */
    clientOptions(): ClientOptions
  }
}

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
