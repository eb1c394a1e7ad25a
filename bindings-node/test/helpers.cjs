'use strict'
// Shared by the tests: one simulator per test file (started once, checked, closed at the end),
// and clients pointed at it.
const { before, after } = require('node:test')
const assert = require('node:assert/strict')
const { Client, Simulator, CttError } = require('ctt-onboard')

let counter = 0
/** A name no other test in this process has used (enterprise names are unique in the simulator). */
function uniqueName(prefix = 'Enterprise') {
  counter += 1
  return `${prefix} ${process.pid}-${counter}`
}

/** Starts one simulator for the file; `ctx.sim` and `ctx.client()` are usable inside tests. */
function useSimulator(options) {
  const ctx = {
    sim: null,
    client(extra = {}, clock) {
      return new Client({ ...ctx.sim.clientOptions(), ...extra }, clock)
    },
  }
  before(async () => {
    ctx.sim = await Simulator.start(options)
    const answer = await fetch(`${ctx.sim.baseUrl}/_sim/state`)
    assert.equal(answer.status, 200, `the simulator at ${ctx.sim.baseUrl} does not answer`)
  })
  after(async () => {
    if (ctx.sim) await ctx.sim.close()
  })
  return ctx
}

/** Awaits `promise`, expecting a CttError with `code`; returns the error. */
async function rejectsWith(promise, code) {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof CttError, `expected a CttError, got ${error && error.stack}`)
    assert.ok(error instanceof Error)
    assert.equal(error.code, code, `expected code ${code}, got ${error.code}: ${error.message}`)
    return error
  }
  assert.fail(`expected a rejection with code ${code}`)
}

/** Calls `fn`, expecting it to throw a CttError with `code` synchronously; returns the error. */
function throwsWith(fn, code) {
  try {
    fn()
  } catch (error) {
    assert.ok(error instanceof CttError, `expected a CttError, got ${error && error.stack}`)
    assert.equal(error.code, code, `expected code ${code}, got ${error.code}: ${error.message}`)
    return error
  }
  assert.fail(`expected a throw with code ${code}`)
}

/** Waits until `predicate()` holds, checking up to `tries` times 10 ms apart (a bound on count, not a timing assertion). */
async function waitFor(predicate, tries = 500) {
  for (let i = 0; i < tries; i++) {
    if (predicate()) return true
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return predicate()
}

module.exports = { useSimulator, uniqueName, rejectsWith, throwsWith, waitFor }
