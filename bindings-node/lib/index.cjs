'use strict'
// The package's CommonJS entry point: the native classes, with every method's errors rethrown as
// CttError, and the few manners that belong to JavaScript (inspect output, JSON of a client).

const util = require('node:util')
const native = require('./native.cjs')
const { CttError, ERROR_CODES, checkNumbers, convertError, guard } = require('./errors.cjs')
const { clientMethods } = require('./generated.cjs')

/** Wraps every method and getter of a native class's prototype with `guard` (once). */
function guardPrototype(cls) {
  const proto = cls.prototype
  for (const name of Object.getOwnPropertyNames(proto)) {
    if (name === 'constructor') continue
    const d = Object.getOwnPropertyDescriptor(proto, name)
    if (typeof d.value === 'function') d.value = guard(d.value)
    if (typeof d.get === 'function') d.get = guard(d.get)
    Object.defineProperty(proto, name, d)
  }
}

/** A subclass whose constructor and static methods rethrow as CttError, and which native
 * instances (from factories such as `Simulator.start`) are `instanceof`. */
function exportClass(cls, statics = [], checkArgs = () => {}) {
  guardPrototype(cls)
  const wrapped = {
    [cls.name]: class extends cls {
      constructor(...args) {
        const replaced = checkArgs(...args)
        if (replaced) args.splice(0, replaced.length, ...replaced)
        try {
          checkNumbers(args)
          super(...args)
        } catch (error) {
          throw convertError(error)
        }
      }

      static [Symbol.hasInstance](value) {
        return value instanceof cls
      }
    },
  }[cls.name]
  for (const name of statics) {
    Object.defineProperty(wrapped, name, {
      value: guard(cls[name].bind(cls)),
      writable: true,
      configurable: true,
    })
  }
  return wrapped
}

// A client never shows its credentials: only its base URL.
native.Client.prototype[util.inspect.custom] = function inspect() {
  return `Client { baseUrl: ${JSON.stringify(this.baseUrl)} }`
}
native.Client.prototype.toJSON = function toJSON() {
  return { baseUrl: this.baseUrl }
}
native.Simulator.prototype[util.inspect.custom] = function inspect() {
  return `Simulator { baseUrl: ${JSON.stringify(this.baseUrl)} }`
}
// Client options that point at the simulator with its reseller and enterprise credentials.
native.Simulator.prototype.clientOptions = function clientOptions() {
  const c = this.credentials
  const user = (username, password) => ({ clientId: c.clientId, clientSecret: c.clientSecret, username, password })
  return { baseUrl: this.baseUrl, reseller: user(c.username, c.password), enterprise: user(c.enterpriseUsername, c.enterprisePassword) }
}

native.Onboarding.prototype[util.inspect.custom] = function inspect() {
  return `Onboarding { id: ${JSON.stringify(this.id)} }`
}
// A ring never shows its secrets: only the signing key's id.
native.CallbackKeys.prototype[util.inspect.custom] = function inspect() {
  return `CallbackKeys { signingKeyId: ${JSON.stringify(this.signingKeyId)} }`
}
native.CallbackKeys.prototype.toJSON = function toJSON() {
  return { signingKeyId: this.signingKeyId, maxAgeSeconds: this.maxAgeSeconds }
}

/** A Uint8Array that is not a Buffer, as a Buffer over the same bytes (no copy). */
function asBuffer(bytes) {
  if (bytes instanceof Uint8Array && !Buffer.isBuffer(bytes)) {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }
  return bytes
}

/** A key options object with its bytes as a Buffer (napi reads Buffers). */
function keyOption(key) {
  return key !== null && typeof key === 'object' && !(key instanceof Uint8Array) ? { ...key, key: asBuffer(key.key) } : key
}

/** The ring's options with every key's bytes as a Buffer. */
function ringOptions(options) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) return options
  const out = { ...options, signing: keyOption(options.signing) }
  if (Array.isArray(options.verify)) out.verify = options.verify.map(keyOption)
  return out
}

/** A body or flow JSON given as text, or parsed (JSON writes an integral number without a fraction). */
function bodyText(body) {
  return typeof body === 'string' || body === undefined ? body : JSON.stringify(body)
}

/** The native ring for what handleCallback and verifyCallback take: a key (string or bytes), a
 * CallbackKeys, its options, or a Client (its ring and clock). */
function ringOf(keys) {
  if (keys instanceof native.CallbackKeys) return keys
  if (keys instanceof native.Client) {
    const ring = keys.callbackKeys
    if (!ring) {
      throw new CttError('the client has no callbackKey or callbackKeys to verify the callback with', { code: 'invalid_input' })
    }
    return ring
  }
  if (typeof keys === 'string' || keys instanceof Uint8Array) return native.CallbackKeys.fromKey(asBuffer(keys))
  if (keys !== null && typeof keys === 'object' && !Array.isArray(keys)) return new native.CallbackKeys(ringOptions(keys))
  const got = keys === null ? 'null' : Array.isArray(keys) ? 'an array' : `a ${typeof keys}`
  throw new CttError(`the callback keys must be a key (string, Buffer or Uint8Array), a CallbackKeys, its options or a Client; got ${got}`, {
    code: 'invalid_input',
  })
}

// A call's result crosses as JSON text (src/client.rs says why). A call napi cannot read (a
// circular object) rejects like every other malformed call.
const nativeCall = native.Client.prototype.call
native.Client.prototype.call = function call(clientCall) {
  try {
    return nativeCall.call(this, clientCall).then(JSON.parse)
  } catch (error) {
    return Promise.reject(error)
  }
}

// The options object is core's ClientOptions (unknown names are refused); the callback key or
// ring is a handle built here and passed beside it: new native.Client(options, ring, clock).
const Client = exportClass(native.Client, [], (options, clock) => {
  if (options !== undefined && options !== null && (typeof options !== 'object' || Array.isArray(options))) {
    const got = Array.isArray(options) ? 'an array' : `a ${typeof options}`
    throw new CttError(`Client options must be an object, got ${got}`, { code: 'invalid_input' })
  }
  const { callbackKey, callbackKeys, ...rest } = options || {}
  if (callbackKeys instanceof native.CallbackKeys) {
    throw new CttError('callbackKeys takes the ring\'s options ({ signing, verify, retired, maxAgeSeconds }), not a CallbackKeys', {
      code: 'invalid_input',
    })
  }
  if (callbackKey != null && callbackKeys != null) {
    throw new CttError('callbackKey and callbackKeys: give one of them (callbackKey is a ring of one key)', { code: 'invalid_input' })
  }
  let ring
  try {
    if (callbackKey != null) ring = native.CallbackKeys.fromKey(asBuffer(callbackKey))
    if (callbackKeys != null) ring = new native.CallbackKeys(ringOptions(callbackKeys), clock)
  } catch (error) {
    throw convertError(error)
  }
  return [rest, ring, clock]
})
// The client's calls, generated from core's ClientCall: each forwards its arguments to `call`
// (guarded above like every native method), so they need no guard of their own.
Object.assign(native.Client.prototype, clientMethods)
const ManualClock = exportClass(native.ManualClock)
const CallbackKeys = exportClass(native.CallbackKeys, ['fromKey'], (options) => {
  const replaced = ringOptions(options)
  return replaced === options ? undefined : [replaced]
})
const Simulator = exportClass(native.Simulator, ['start'])
const Onboarding = exportClass(native.Onboarding)
Object.defineProperty(Onboarding, 'fromJSON', {
  value: guard((json) => native.Onboarding.fromJSON(bodyText(json))),
  writable: true,
  configurable: true,
})

// Times cross as milliseconds since the Unix epoch (core's one shape); JavaScript gets Dates.
function withDates(progress) {
  if (progress && progress.kind === 'waitingUntil') progress.notBefore = new Date(progress.notBefore)
  return progress
}
const nativeProgress = native.Onboarding.prototype.progress
const nativeStatus = native.Onboarding.prototype.status
Object.assign(native.Onboarding.prototype, {
  progress() {
    return withDates(nativeProgress.call(this))
  },
  status() {
    return nativeStatus.call(this).map((s) => ({ ...s, updatedAt: s.updatedAt === null ? null : new Date(s.updatedAt) }))
  },
})

/** The CttError an advance rejects with when the portal's checkpoint threw `thrown`. */
function checkpointFailure(thrown) {
  if (thrown instanceof CttError) return [String(thrown.code), String(thrown.message)]
  const message = thrown instanceof Error ? thrown.message : String(thrown)
  return ['flow_state', `the checkpoint failed: ${message}`]
}

// advance(client, { signal, checkpoint }): an aborted signal cancels the advance in flight (every
// step that finished is kept) and rejects with the signal's reason, as Node's own APIs do. The
// checkpoint is wrapped so that the native side always gets a Promise that never rejects: null
// when the save succeeded, [code, message] when it threw or rejected; the advance then rejects
// with that CttError, whose `cause` is what the checkpoint threw.
const nativeAdvance = native.Onboarding.prototype.advance
Object.defineProperty(native.Onboarding.prototype, 'advance', {
  value: function advance(client, options) {
    const signal = options && options.signal
    const checkpoint = options && options.checkpoint
    if (checkpoint !== undefined && checkpoint !== null && typeof checkpoint !== 'function') {
      return Promise.reject(new CttError(`options.checkpoint must be a function, got a ${typeof checkpoint}`, { code: 'invalid_input' }))
    }
    let thrown
    const wrapped = checkpoint
      ? async (flow, previousRevision) => {
          try {
            await checkpoint(flow, previousRevision)
            return null
          } catch (error) {
            thrown = { error }
            return checkpointFailure(error)
          }
        }
      : undefined
    const withCause = (error) => {
      if (thrown && error instanceof CttError && error.cause === undefined) {
        Object.defineProperty(error, 'cause', { value: thrown.error, writable: true, configurable: true })
      }
      return error
    }
    const run = () =>
      nativeAdvance.call(this, client, wrapped).then(withDates, (error) => {
        throw withCause(error)
      })
    if (!signal) return run()
    if (signal.aborted) return Promise.reject(signal.reason)
    const onAbort = () => this.cancelAdvance()
    signal.addEventListener('abort', onAbort, { once: true })
    return run().then(
      (progress) => {
        signal.removeEventListener('abort', onAbort)
        return progress
      },
      (error) => {
        signal.removeEventListener('abort', onAbort)
        throw signal.aborted ? signal.reason : error
      },
    )
  },
  writable: true,
  enumerable: true,
  configurable: true,
})

// handleCallback(keys, url, body): keys is a key, a CallbackKeys, its options or a Client.
const nativeHandleCallback = native.Onboarding.prototype.handleCallback
Object.defineProperty(native.Onboarding.prototype, 'handleCallback', {
  value: function handleCallback(keys, url, body) {
    let ring
    try {
      ring = ringOf(keys)
    } catch (error) {
      return Promise.reject(convertError(error))
    }
    return nativeHandleCallback.call(this, ring, url, bodyText(body))
  },
  writable: true,
  enumerable: true,
  configurable: true,
})

/** verifyCallback(keys, url, body): keys is a key, a CallbackKeys, its options or a Client. */
function verifyCallback(keys, url, body) {
  const verified = native.verifyCallback(ringOf(keys), url, bodyText(body))
  return { ...verified, issuedAt: new Date(verified.issuedAt) }
}

module.exports = {
  Client,
  ManualClock,
  Simulator,
  Onboarding,
  CallbackKeys,
  verifyCallback: guard(verifyCallback),
  claimedFlowId: guard(native.claimedFlowId),
  CttError,
  ERROR_CODES,
  setLogger: guard(native.setLogger),
  rejectWithCode: guard(native.rejectWithCode),
  forcePanicForTests: guard(native.forcePanicForTests),
}
