'use strict'
// CttError, and the decoding of the errors the native module encodes (see src/error.rs).
// napi 3 rejects every async call with the code 'GenericFailure'; the real code, status, request
// id and wait travel as JSON behind a marker in the message, and are rebuilt here.

const MARKER = '\u0001ctt-error:'
const NULL_OBJECT_MESSAGE = 'Cannot convert undefined or null to object'

/** Every code, in documentation order (the same strings in every language): core's list. */
const ERROR_CODES = Object.freeze(require('./native.cjs').errorCodes())

// napi's own argument errors (a string where a number belongs, a missing field): the caller's input.
const NAPI_INPUT_STATUSES = new Set([
  'InvalidArg',
  'ObjectExpected',
  'StringExpected',
  'NameExpected',
  'FunctionExpected',
  'NumberExpected',
  'BooleanExpected',
  'ArrayExpected',
  'BigintExpected',
  'DateExpected',
  'ArrayBufferExpected',
  'DetachableArraybufferExpected',
])

class CttError extends Error {
  /**
   * @param {string} message
   * @param {{code: string, status?: number|null, requestId?: string|null, retryAfterMs?: number|null, cause?: unknown}} details
   */
  constructor(message, details) {
    const { code, status = null, requestId = null, retryAfterMs = null, cause } = details || {}
    super(message, cause === undefined ? undefined : { cause })
    this.name = 'CttError'
    this.code = code
    this.status = status
    this.requestId = requestId
    this.retryAfterMs = retryAfterMs
  }
}

function fromData(data) {
  let cause
  if (data.cause) {
    cause = data.cause.code ? fromData(data.cause) : new Error(String(data.cause.message))
  }
  return new CttError(String(data.message), {
    code: data.code,
    status: data.status ?? null,
    requestId: data.requestId ?? null,
    retryAfterMs: data.retryAfterMs ?? null,
    cause,
  })
}

/** Turns what the native module threw into a CttError; anything else is returned unchanged. */
function convertError(error) {
  if (error instanceof CttError || error === null || typeof error !== 'object') return error
  const message = typeof error.message === 'string' ? error.message : ''
  if (message.startsWith(MARKER)) {
    let data
    try {
      data = JSON.parse(message.slice(MARKER.length))
    } catch {
      return error
    }
    return fromData(data)
  }
  if (NAPI_INPUT_STATUSES.has(error.code)) {
    return new CttError(message, { code: 'invalid_input', cause: error })
  }
  // V8's own TypeError when napi reads the fields of an argument that is null or undefined
  // (`new Onboarding(null)`, `client.createEnterprise()`): the caller's input, too.
  if (error instanceof TypeError && error.code === undefined && message === NULL_OBJECT_MESSAGE) {
    return new CttError(`an argument (or one of its fields) is null or undefined where an object is required (${message})`, {
      code: 'invalid_input',
      cause: error,
    })
  }
  return error
}

/** Wraps a function so that what it throws, or the Promise it returns rejects with, is converted. */
function guard(fn) {
  return function guarded(...args) {
    let result
    try {
      result = fn.apply(this, args)
    } catch (error) {
      throw convertError(error)
    }
    if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
      return result.then(undefined, (error) => {
        throw convertError(error)
      })
    }
    return result
  }
}

module.exports = { CttError, ERROR_CODES, convertError, guard }
