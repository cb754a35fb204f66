// callAsync's edges (issue 14, items 6–8): the store is busy from the moment callAsync is
// called; a timeout or an abort stops a guest that waits in an async host function whose
// Promise never settles, on time, and the store stays usable; a Promise returned to a
// synchronous call is a typed error, and its rejection is handled.
import test from 'ava'

import { Engine, Instance, Module, Store, StoreStateError, liveObjects } from '../dist/index.js'
import { TIMEOUT_SLACK_MS, assertError, assertTrap, rejection, thrown } from './helpers/assert'
import { settle } from './helpers/gc'
import { fn } from './helpers/util'

const WAT = `
(module
  (import "h" "f" (func $f (result i32)))
  (import "h" "v" (func $v))
  (global $n (export "n") (mut i32) (i32.const 0))
  (func (export "w") (result i32) (call $f))
  (func (export "void") (call $v))
  (func (export "bump") (result i32) (global.set $n (i32.add (global.get $n) (i32.const 1))) (global.get $n)))`
const MODULE = new Module(Engine.default, WAT)

function rig(f: () => unknown, v: () => unknown = () => undefined) {
  const store = new Store()
  const inst = new Instance(store, MODULE, { h: { f, v } })
  return { store, inst }
}

test.serial('the store is busy from the moment callAsync is called, not from a later tick', async (t) => {
  const { store, inst } = rig(() => 7)
  const p = fn(inst, 'bump').callAsync()
  assertError(t, thrown(t, () => fn(inst, 'bump')(), 'a sync call right after'), StoreStateError, 'ERR_STORE_BUSY', 'a sync call right after')
  assertError(t, thrown(t, () => store.dispose(), 'dispose() right after'), StoreStateError, 'ERR_STORE_BUSY', 'dispose() right after')
  assertError(t, thrown(t, () => store.transfer(), 'transfer() right after'), StoreStateError, 'ERR_STORE_BUSY', 'transfer() right after')
  // Queued calls run in order, each seeing the one before.
  const q = [p, fn(inst, 'bump').callAsync(), fn(inst, 'bump').callAsync()]
  t.deepEqual(await Promise.all(q), [1, 2, 3])
  t.is(fn(inst, 'bump')(), 4, 'sync calls work again once the queue is empty')
  store.dispose()
})

test.serial('a callAsync whose arguments fail to convert releases the store', async (t) => {
  const { store, inst } = rig(() => 7)
  const e = await rejection(t, fn(inst, 'w').callAsync(1 as never), 'one argument too many')
  assertError(t, e, TypeError, 'ERR_INVALID_ARG_COUNT', 'one argument too many')
  t.is(fn(inst, 'bump')(), 1)
  store.dispose()
})

test.serial('timeoutMs stops a guest waiting for a host Promise that never settles, on time; the store stays usable', async (t) => {
  const { inst } = rig(() => new Promise(() => {}))
  for (const [i, timeoutMs] of [100, 30].entries()) {
    const t0 = performance.now()
    const e = await rejection(t, fn(inst, 'w').callAsync({ timeoutMs }), `timeoutMs ${timeoutMs}`)
    const ms = performance.now() - t0
    assertTrap(t, e, 'interrupt', `timeoutMs ${timeoutMs}`)
    t.log(`timeoutMs ${timeoutMs}: rejected after ${ms.toFixed(1)} ms`)
    t.true(ms >= timeoutMs - 1 && ms <= timeoutMs + TIMEOUT_SLACK_MS, `rejected after ${ms.toFixed(1)} ms (timeout ${timeoutMs})`)
    t.is(fn(inst, 'bump')(), 2 * i + 1, 'the store works after')
    t.is(await fn(inst, 'bump').callAsync(), 2 * i + 2)
  }
})

test.serial('a late settlement of the abandoned host Promise is ignored', async (t) => {
  let resolve!: (v: number) => void
  let calls = 0
  const { store, inst } = rig(() => {
    calls++
    return calls === 1 ? new Promise<number>((r) => (resolve = r)) : 5
  })
  assertTrap(t, await rejection(t, fn(inst, 'w').callAsync({ timeoutMs: 50 }), 'the first call'), 'interrupt', 'the first call')
  resolve(42) // nobody waits for it any more
  await new Promise((r) => setTimeout(r, 20))
  t.is(await fn(inst, 'w').callAsync(), 5, 'the next call gets its own answer')
  t.is(fn(inst, 'bump')(), 1)
  store.dispose()
  await settle()
  t.is(liveObjects().asyncCalls, 0, 'no async call left behind')
})

test.serial('an AbortSignal stops a guest waiting for a host Promise that never settles, within a few ms', async (t) => {
  const { inst } = rig(() => new Promise(() => {}))
  const ac = new AbortController()
  const reason = new Error('enough')
  const p = fn(inst, 'w').callAsync({ signal: ac.signal })
  await new Promise((r) => setTimeout(r, 50))
  const t0 = performance.now()
  ac.abort(reason)
  const e = await rejection(t, p, 'aborted')
  const ms = performance.now() - t0
  t.is(e, reason, 'the call rejects with the signal’s reason')
  t.log(`aborted: rejected ${ms.toFixed(1)} ms after abort()`)
  t.true(ms <= TIMEOUT_SLACK_MS, `rejected ${ms.toFixed(1)} ms after abort()`)
  t.is(fn(inst, 'bump')(), 1, 'the store works after')
})

test.serial('a Promise returned to a synchronous call is a typed error naming callAsync, and its rejection is handled', async (t) => {
  const unhandled: unknown[] = []
  const onUnhandled = (r: unknown) => unhandled.push(r)
  process.on('unhandledRejection', onUnhandled)
  t.teardown(() => process.off('unhandledRejection', onUnhandled))
  const cases: [string, () => unknown, string][] = [
    ['(result i32), resolving', () => Promise.resolve(1), 'w'],
    ['(result i32), rejecting', () => Promise.reject(new Error('later')), 'w'],
    ['no result, rejecting later', () => undefined, 'void'],
  ]
  for (const [what, f, name] of cases) {
    const { inst } = name === 'void' ? rig(() => 0, () => new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 5))) : rig(f)
    const e = thrown(t, () => fn(inst, name)(), what)
    assertError(t, e, TypeError, 'ERR_INVALID_RETURN_VALUE', what, 'callAsync')
    t.is(fn(inst, 'bump')(), 1, `${what}: the store works after`)
  }
  await new Promise((r) => setTimeout(r, 30))
  t.deepEqual(unhandled, [], 'no unhandled rejection')
  // Through callAsync the same host functions are awaited.
  t.is(await fn(rig(() => Promise.resolve(9)).inst, 'w').callAsync(), 9)
})

test.serial('an externref result may be a Promise (it is a value like any other)', (t) => {
  const m = new Module(Engine.default, '(module (import "h" "p" (func $p (result externref))) (func (export "get") (result externref) (call $p)))')
  const promise = Promise.resolve(1)
  const inst = new Instance(new Store(), m, { h: { p: () => promise } })
  t.is(fn(inst, 'get')(), promise)
})
