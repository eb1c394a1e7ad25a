'use strict'
// The package's CommonJS entry point: the native classes, with every method's errors rethrown as
// CttError, and the few manners that belong to JavaScript (inspect output, JSON of a client).

const util = require('node:util')
const native = require('./native.cjs')
const { CttError, ERROR_CODES, convertError, guard } = require('./errors.cjs')

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
        checkArgs(...args)
        try {
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

native.Onboarding.prototype[util.inspect.custom] = function inspect() {
  return `Onboarding { id: ${JSON.stringify(this.id)} }`
}

// napi reads an options object's fields from any value, so `new Client('https://...')` would
// silently build a client with every default: refuse what is not an object.
const Client = exportClass(native.Client, [], (options) => {
  if (options !== undefined && options !== null && (typeof options !== 'object' || Array.isArray(options))) {
    const got = Array.isArray(options) ? 'an array' : `a ${typeof options}`
    throw new CttError(`Client options must be an object, got ${got}`, { code: 'invalid_input' })
  }
})
const ManualClock = exportClass(native.ManualClock)
const Simulator = exportClass(native.Simulator, ['start'])
const Onboarding = exportClass(native.Onboarding, ['fromJSON'])

// advance(client, { signal }): an aborted signal cancels the advance in flight (every step that
// finished is kept) and rejects with the signal's reason, as Node's own APIs do.
const nativeAdvance = native.Onboarding.prototype.advance
Object.defineProperty(native.Onboarding.prototype, 'advance', {
  value: function advance(client, options) {
    const signal = options && options.signal
    if (!signal) return nativeAdvance.call(this, client)
    if (signal.aborted) return Promise.reject(signal.reason)
    const onAbort = () => this.cancelAdvance()
    signal.addEventListener('abort', onAbort, { once: true })
    return nativeAdvance.call(this, client).then(
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

module.exports = {
  Client,
  ManualClock,
  Simulator,
  Onboarding,
  verifyCallback: guard(native.verifyCallback),
  CttError,
  ERROR_CODES,
  setLogger: guard(native.setLogger),
  rejectWithCode: guard(native.rejectWithCode),
  forcePanicForTests: guard(native.forcePanicForTests),
}
