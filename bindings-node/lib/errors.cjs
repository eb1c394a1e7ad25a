'use strict'
// CttError, and the decoding of the errors the native module encodes (see src/error.rs).
// napi 3 rejects every async call with the code 'GenericFailure'; the real code, status, request
// id and wait travel as JSON behind a marker in the message, and are rebuilt here.

const MARKER = '\u0001ctt-error:'
const NULL_OBJECT_MESSAGE = 'Cannot convert undefined or null to object'

/** Every code, in documentation order (the same strings in every language): core's list. */
const { ERROR_CODES } = require('./generated.cjs')

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

/** Refuses NaN, ±Infinity and BigInts inside an object or array argument, naming the field:
 * napi's conversion to serde cannot carry the first and would say only "Failed to convert js
 * number", and would pass a BigInt beyond Number.MAX_SAFE_INTEGER as an exact id. */
function checkNumbers(args) {
  const walk = (value, path, depth) => {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new CttError(`${path} is ${value}; numbers must be finite`, { code: 'invalid_input' })
    }
    if (typeof value === 'bigint') {
      throw new CttError(`${path} is a BigInt (${value}n); ids cross as numbers`, { code: 'invalid_input' })
    }
    if (depth > 64 || value === null || typeof value !== 'object') return
    const proto = Object.getPrototypeOf(value)
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`, depth + 1))
    else if (proto === Object.prototype || proto === null) {
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k, depth + 1)
    }
  }
  for (const arg of args) if (arg !== null && typeof arg === 'object') walk(arg, '', 0)
}

/** Wraps a function so that what it throws, or the Promise it returns rejects with, is converted. */
function guard(fn) {
  return function guarded(...args) {
    let result
    try {
      checkNumbers(args)
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

module.exports = { CttError, ERROR_CODES, checkNumbers, convertError, guard }
