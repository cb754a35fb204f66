// callAsync of component exports: the component call runs on a pool thread while the JS thread
// stays free; the component's host functions run on the JS thread and may return Promises (the
// guest waits for them). The semantics are those of the core `ExportedFunction.callAsync`
// (lib/func.ts): trailing CallOptions { signal, timeoutMs, fuel }, calls on one store queued in
// order, the store busy meanwhile, argument errors as rejections.
//
// The expected values come from jco (helpers/jco.ts): the same fixture transpiled by jco and run
// on V8 with the equivalent *synchronous* host functions (jco's generated code cannot await a
// host Promise) must give the same values, the same ComponentError payloads and make the same
// host calls as our callAsync with asynchronous host functions.
//
// After a trap (an interrupt, a timeout, out of fuel) or an exception out of a host function,
// wasmtime marks the *store's* component instances as trapped (the spec's "may not enter": a
// store-wide flag in wasmtime 48, `StoreOpaque::set_trapped`), so "the store works afterwards"
// means here: it is not left busy — a sync call gets the same `cannot_enter_component` trap that
// the sync path gives after the same stop (not ERR_STORE_BUSY), and dispose() works.
//
// Timing: the bounds are those of helpers/assert.ts (a timeout fires no earlier than due and at
// most 500 ms late, an abort stops the call within 1 s). The tests are serial: the machine has
// few cores, and a guest spinning in one test would slow the timers of another.
import test, { type ExecutionContext } from 'ava'
import { spawnSync } from 'node:child_process'
import * as path from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { Worker } from 'node:worker_threads'

import {
  Component,
  ComponentError,
  ComponentLinker,
  Engine,
  Store,
  StoreStateError,
  Trap,
} from '../dist/index.js'
import { assertError, assertInterruptLatency, assertTimeoutFired, assertTrap, rejection, thrown, timedRejection } from './helpers/assert'
import { type Case, type Exports, type Fn, type Point, HOST_IFACE, asyncHost, component, hostImports, linkerWith, ours, pick, settled, show } from './helpers/components'
import { COMPONENTS, type HostImports, type Outcome, fixture, jcoInstance, outcome } from './helpers/jco'


const API = 'acme:plugin/api@0.1.0'
const RES_HOST = 'acme:res/host@0.1.0'
const COUNTERS = 'acme:res/counters@0.1.0'
const DIST = path.resolve(__dirname, '..', 'dist', 'index.js')







function assertBusy(t: ExecutionContext, e: unknown, what: string): void {
  assertError(t, e, StoreStateError, 'ERR_STORE_BUSY', what)
}

/**
 * The store of a component instance that a trap or a host exception stopped: not busy (sync
 * calls are refused by wasmtime's "may not enter" flag with a Trap, as on the sync path), its
 * callAsync rejects with the same Trap, and it can be disposed.
 */
async function assertStoppedNotBusy(t: ExecutionContext, store: Store, call: Fn, args: unknown[], what: string): Promise<void> {
  const e = thrown(t, () => call(...args), `${what}: a sync call afterwards`)
  t.false(e instanceof StoreStateError, `${what}: the store is not left busy (${show(e)})`)
  assertTrap(t, e, 'cannot_enter_component', `${what}: a sync call afterwards`)
  assertTrap(t, await rejection(t, call.callAsync(...args), `${what}: a callAsync afterwards`), 'cannot_enter_component', `${what}: a callAsync afterwards`)
  t.notThrows(() => store.dispose(), `${what}: dispose() afterwards`)
}

/** A promise with its resolve/reject. */
function deferred<T>() {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

// ---------------------------------------------------------------------------------------------
// host.wat's host functions: synchronous (for jco, and as the behaviour), and made asynchronous
// ---------------------------------------------------------------------------------------------




const HOST_CASES: readonly Case[] = [
  ['run-log', 'héllo wörld'], ['run-log', ''],
  ['greet', 'Zoë'], ['greet', ''], ['greet', '😀'.repeat(1000)],
  ['transform-point', { x: 1, y: 2 }], ['transform-point', { x: -5, y: 2 ** 31 - 1 }],
  ['describe-point', { x: 3, y: -4 }, 'P'], ['describe-point', { x: 0, y: 0 }, '😀'],
  ['lookup', 'abc'], ['lookup', ''], ['lookup', 'missing-1'], ['lookup', 'abcd'], ['lookup', 'missing-ü'],
]

// ---------------------------------------------------------------------------------------------
// 1. Values and host calls: the same as jco's
// ---------------------------------------------------------------------------------------------

test.serial('jco oracle: callAsync of every host.wat export with async host functions gives jco\'s values, err payloads and host calls (with sync host functions)', async (t) => {
  const jcoLog: unknown[][] = []
  const j = await jcoInstance('host', hostImports(jcoLog))
  const expected: Outcome[] = HOST_CASES.map(([ref, ...args]) => outcome(() => pick(j, ref, 'jco')(...args)))
  for (const [i, o] of expected.entries()) if ('threw' in o) t.fail(`${show(HOST_CASES[i])}: the oracle case threw on jco (${o.threw}): fix the case`)
  t.true(expected.some((o) => 'componentError' in o), 'the cases include a result err')

  // one after the other
  {
    const log: unknown[][] = []
    const promises = { n: 0 }
    const x = ours('host', asyncHost(hostImports(log), promises))
    for (const [i, [ref, ...args]] of HOST_CASES.entries()) {
      let p: Promise<unknown> | undefined
      t.notThrows(() => (p = pick(x, ref, 'ours').callAsync(...args)), `${ref}.callAsync does not throw`)
      t.true(p instanceof Promise, `${ref}.callAsync returns a Promise`)
      t.deepEqual(await settled(p!), expected[i], `awaited in turn: ${ref}(${args.map(show).join(', ')})`)
    }
    t.is(promises.n, HOST_CASES.length, 'each call awaited one host Promise')
    t.deepEqual(log, jcoLog, 'the host functions were called with the same arguments, in the same order as on jco')
    // the camelCase alias is the same function, with the same callAsync
    t.is(x.transformPoint.callAsync, x['transform-point'].callAsync)
    const j2 = await jcoInstance('host', hostImports([]))
    t.deepEqual(await x.transformPoint.callAsync({ x: 7, y: 8 }), j2.transformPoint({ x: 7, y: 8 }))
  }
  // all issued at once: queued on the store, each with the same outcome
  {
    const log: unknown[][] = []
    const x = ours('host', asyncHost(hostImports(log)))
    const all = HOST_CASES.map(([ref, ...args]) => settled(pick(x, ref, 'ours').callAsync(...args)))
    t.deepEqual(await Promise.all(all), expected, 'issued together')
    t.deepEqual(log, jcoLog, 'issued together: the same host calls, in call order')
  }
})

test.serial('a host function rejecting with ComponentError(payload) is err(payload) of its result: callAsync of lookup rejects with a ComponentError carrying it; the instance stays usable', async (t) => {
  const j = await jcoInstance('host', hostImports([]))
  const theirs = thrown(t, () => j.lookup('missing-key'), 'jco: lookup(missing-key)') as { payload?: unknown }
  t.is(theirs?.payload, 'no such key: missing-key', 'jco: the payload')
  const x = ours('host', asyncHost(hostImports([])))
  const e = await rejection(t, x.lookup.callAsync('missing-key'), 'lookup(missing-key)')
  assertError(t, e, ComponentError, 'ERR_COMPONENT_ERROR', 'callAsync of lookup(missing-key)')
  t.is((e as ComponentError).payload, theirs?.payload, 'the same payload as jco')
  // an err is a value, not a trap: the instance goes on
  t.is(await x.lookup.callAsync('four'), j.lookup('four'))
  t.deepEqual(await settled(x.lookup.callAsync('missing-2')), outcome(() => j.lookup('missing-2')))
})

test.serial('jco oracle: callAsync of the functions of an exported interface (iface.wat), and of a root function', async (t) => {
  const cases: Case[] = [
    [`${API}#greet`, 'wörld'], [`${API}#greet`, ''],
    [`${API}#add`, 2, 3], [`${API}#add`, 2 ** 32 - 1, 2],
    [`${API}#shout-name`, 'abc-Zé!'], [`${API}#shout-name`, ''],
    ['plugin-version'],
  ]
  const j = await jcoInstance('iface')
  const x = ours('iface')
  for (const [ref, ...args] of cases) {
    const theirs = outcome(() => pick(j, ref, 'jco')(...args))
    t.false('threw' in theirs, `${ref}: the oracle case threw on jco`)
    t.deepEqual(await settled(pick(x, ref, 'ours').callAsync(...args)), theirs, `${ref}(${args.map(show).join(', ')})`)
  }
  t.is(x.api, x[API], 'the short name is the same interface object')
  t.is(await x.api.add.callAsync(40, 2), 42)
})

// ---------------------------------------------------------------------------------------------
// 2. A host function's exception
// ---------------------------------------------------------------------------------------------

test.serial('a host function rejecting with a plain Error: callAsync rejects with that very Error; the store is not left busy', async (t) => {
  for (const fn of ['greet', 'lookup', 'transform-point'] as const) {
    for (const how of ['rejects later', 'returns a rejected Promise', 'throws synchronously'] as const) {
      const what = `${fn}, its host function ${how}`
      const boom = new Error(`host failure: ${what}`)
      const fail = how === 'rejects later'
        ? async () => {
          await delay(2)
          throw boom
        }
        : how === 'returns a rejected Promise' ? () => Promise.reject(boom) : () => { throw boom }
      const base = hostImports([])
      const imports: HostImports = {
        root: { ...base.root, 'get-greeting': fail },
        interfaces: { [HOST_IFACE]: { ...base.interfaces![HOST_IFACE]!, lookup: fail, transform: fail } },
      }
      const store = new Store()
      const x = ours('host', imports, store)
      const arg = fn === 'transform-point' ? { x: 1, y: 2 } : 'Zoë'
      const e = await rejection(t, x[fn].callAsync(arg), what)
      t.is(e, boom, `${what}: the host's own Error object`)
      t.false(e instanceof ComponentError, `${what}: not a result err`)
      // The store is not busy. As on the sync path (below), wasmtime does not let the store's
      // component instances be entered again after an exception out of a host function (jco
      // 1.35 does: its instance goes on; that is no callAsync matter).
      await assertStoppedNotBusy(t, store, x['run-log'], ['after'], what)
    }
  }
  // the sync path, for reference: the same exception, then the same cannot_enter_component
  const boom = new Error('host failure')
  const base = hostImports([])
  const y = ours('host', { ...base, root: { ...base.root, 'get-greeting': () => { throw boom } } })
  t.is(thrown(t, () => y.greet('x'), 'sync greet'), boom)
  assertTrap(t, thrown(t, () => y['run-log']('after'), 'sync run-log after'), 'cannot_enter_component', 'sync path: a call after a host exception')
  // a fresh store with the same host functions works
  const x = ours('host', asyncHost(hostImports([])))
  t.is(await x.greet.callAsync('again'), 'Hello, again!')
})

test.serial('a host function rejecting with a non-Error value: callAsync rejects with that very value', async (t) => {
  for (const value of [{ not: 'an Error' }, 'a string', 42]) {
    const base = hostImports([])
    const x = ours('host', { ...base, root: { ...base.root, 'get-greeting': () => Promise.reject(value) } })
    t.is(await rejection(t, x.greet.callAsync('x'), show(value)), value, `${show(value)}: the same value`)
  }
})

// ---------------------------------------------------------------------------------------------
// 3. Ordering and the busy store
// ---------------------------------------------------------------------------------------------

test.serial('callAsyncs on one store run in call order; a sync call while one is pending throws ERR_STORE_BUSY; sync calls work after they settle', async (t) => {
  const j = await jcoInstance('host', hostImports([]))
  const log: string[] = []
  const base = hostImports([])
  // the first call's host function is the slowest: a call that overtook it would show
  const waits: Record<string, number> = { first: 60, second: 0, third: 10 }
  const imports: HostImports = {
    root: {
      ...base.root,
      'get-greeting': async (name: string) => {
        log.push(`start ${name}`)
        await delay(waits[name] ?? 0)
        log.push(`end ${name}`)
        return `Hello, ${name}!`
      },
    },
    // transform and describe stay synchronous: usable by sync calls
    interfaces: base.interfaces,
  }
  const store = new Store()
  const x = ours('host', imports, store)
  const order: string[] = []
  const p1 = x.greet.callAsync('first').then((v: string) => (order.push(v), v))
  const p2 = x.greet.callAsync('second').then((v: string) => (order.push(v), v))
  const p3 = x['transform-point'].callAsync({ x: 1, y: 2 }).then((v: Point) => (order.push(show(v)), v))
  const p4 = x.greet.callAsync('third').then((v: string) => (order.push(v), v))
  // pending: every use of the store is refused, whichever function
  assertBusy(t, thrown(t, () => x['transform-point']({ x: 1, y: 2 }), 'sync transform-point'), 'a sync call of an interface-backed export while callAsyncs are pending')
  assertBusy(t, thrown(t, () => x.greet('z'), 'sync greet'), 'a sync call of the same export while callAsyncs are pending')
  assertBusy(t, thrown(t, () => store.dispose(), 'dispose'), 'dispose() while callAsyncs are pending')
  await delay(20)
  assertBusy(t, thrown(t, () => x['describe-point']({ x: 0, y: 0 }, 'L'), 'sync describe-point'), 'a sync call while the first host Promise is pending')
  const results = await Promise.all([p1, p2, p3, p4])
  const expected = [j.greet('first'), j.greet('second'), j.transformPoint({ x: 1, y: 2 }), j.greet('third')]
  t.deepEqual(results, expected, 'the values, as jco gives them')
  t.deepEqual(order, [expected[0], expected[1], show(expected[2]), expected[3]], 'they settled in call order')
  t.deepEqual(log, ['start first', 'end first', 'start second', 'end second', 'start third', 'end third'], 'each call started after the previous one ended')
  // settled: sync calls work (with the synchronous host functions)
  t.deepEqual(x['transform-point']({ x: 3, y: 4 }), j.transformPoint({ x: 3, y: 4 }))
  t.is(x['describe-point']({ x: 0, y: 0 }, 'L'), j.describePoint({ x: 0, y: 0 }, 'L'))
  t.is(await x.greet.callAsync('fourth'), j.greet('fourth'), 'and callAsync again')
})

test.serial('a callAsync issued while another store\'s callAsync is pending is not delayed by it (queues are per store)', async (t) => {
  const gate = deferred<string>()
  const base = hostImports([])
  const a = ours('host', { ...base, root: { ...base.root, 'get-greeting': () => gate.promise } })
  const b = ours('host', asyncHost(hostImports([])))
  const pa = a.greet.callAsync('a')
  t.is(await b.greet.callAsync('b'), 'Hello, b!', 'store B completes while store A waits')
  assertBusy(t, thrown(t, () => a['transform-point']({ x: 1, y: 1 }), 'sync on A'), 'store A is still busy')
  gate.resolve('from the gate')
  t.is(await pa, 'from the gate')
})

/**
 * A child process (a rejected Promise nobody handles would end the ava worker) that makes sync
 * calls whose host function returns a Promise, each rejecting later: for a core export (the
 * reference) and for host.wat's exports. It prints, as JSON, what each call threw or returned,
 * then `alive` if the process was still running after the Promises rejected.
 */
const SYNC_PROMISE_CHILD = `
const { Component, ComponentLinker, Engine, Instance, Module, Store } = require(process.argv[1])
const fs = require('node:fs')
const rejectLater = () => new Promise((_, reject) => setTimeout(() => reject(new Error('rejected later')), 5))
const describe = (f) => {
  try {
    return { returned: String(f()) }
  } catch (e) {
    return { name: e.constructor.name, code: e.code, namesCallAsync: /callAsync/.test(e.message), message: e.message }
  }
}
const out = {}
const core = new Instance(new Store(), new Module(Engine.default, '(module (import "h" "f" (func $f (result i32))) (func (export "run") (result i32) (call $f)))'), { h: { f: rejectLater } })
out.core = describe(() => core.exports.run())
const c = new Component(Engine.default, fs.readFileSync(process.argv[2]))
const linker = new ComponentLinker()
  .define({ log: rejectLater, 'get-greeting': rejectLater })
  .define('${HOST_IFACE}', { transform: rejectLater, describe: rejectLater, lookup: rejectLater })
for (const [name, arg] of [['greet', 'x'], ['transform-point', { x: 1, y: 2 }], ['lookup', 'k'], ['run-log', 'm']]) {
  const x = linker.instantiate(new Store(), c).exports
  out[name] = describe(() => x[name](arg))
}
console.log(JSON.stringify(out))
setTimeout(() => console.log('alive'), 50)
`

test.serial('a host Promise handed to a sync component call is refused with TypeError ERR_INVALID_RETURN_VALUE naming callAsync, as for core exports; its later rejection is handled', (t) => {
  const r = spawnSync(process.execPath, ['-e', SYNC_PROMISE_CHILD, DIST, path.join(COMPONENTS, 'host.wasm')], { encoding: 'utf8', timeout: 30_000 })
  const [json, alive] = r.stdout.trim().split('\n')
  const out = JSON.parse(json ?? '{}') as Record<string, { name?: string; code?: string; namesCallAsync?: boolean; returned?: string; message?: string }>
  t.log(show(out))
  t.like(out.core, { name: 'TypeError', code: 'ERR_INVALID_RETURN_VALUE', namesCallAsync: true }, 'core, the reference')
  for (const name of ['greet', 'transform-point', 'lookup', 'run-log']) {
    t.like(out[name], { name: 'TypeError', code: 'ERR_INVALID_RETURN_VALUE', namesCallAsync: true }, `${name}: ${show(out[name])}`)
  }
  t.is(alive, 'alive', `the process outlived the rejections (exit ${r.status}; stderr: ${r.stderr.split('\n').slice(0, 3).join(' | ')})`)
})

// ---------------------------------------------------------------------------------------------
// 4. The JS thread stays free
// ---------------------------------------------------------------------------------------------

test.serial('while a callAsync waits on its host function, the event loop runs: setImmediate ticks and timers fire before it resolves', async (t) => {
  let flag = false
  let ticks = 0
  let ticksAtResolve = -1
  let done = false
  const tick = () => {
    ticks++
    if (!done) setImmediate(tick)
  }
  setImmediate(tick)
  t.teardown(() => void (done = true))
  const base = hostImports([])
  const x = ours('host', {
    ...base,
    root: {
      ...base.root,
      // resolves only once a timer has flipped `flag`: a blocked event loop would never get there
      'get-greeting': (name: string) => new Promise((resolve) => {
        const poll = () => {
          if (flag) {
            ticksAtResolve = ticks
            resolve(`Hello, ${name}!`)
          } else {
            setImmediate(poll)
          }
        }
        poll()
      }),
    },
  })
  setTimeout(() => (flag = true), 50)
  const t0 = performance.now()
  const v = await x.greet.callAsync('free')
  done = true
  t.is(v, 'Hello, free!')
  t.log(`${ticksAtResolve} setImmediate ticks before the host function resolved, ${(performance.now() - t0).toFixed(1)} ms`)
  t.true(ticksAtResolve > 0, `setImmediate ticks ran while the call was pending: ${ticksAtResolve}`)
})

test.serial('timers keep firing while a component guest spins in wasm through callAsync', async (t) => {
  const x = ours('traps')
  let ticks = 0
  const interval = setInterval(() => ticks++, 5)
  t.teardown(() => clearInterval(interval))
  const { e, ms } = await timedRejection(t, () => x.spin.callAsync({ timeoutMs: 500 }), 'spin')
  clearInterval(interval)
  assertTrap(t, e, 'interrupt', 'spin { timeoutMs: 500 }')
  assertTimeoutFired(t, ms, 500, 'spin { timeoutMs: 500 }')
  t.log(`${ticks} ticks of a 5 ms interval during a ${ms.toFixed(0)} ms callAsync (~${Math.floor(ms / 5)} possible)`)
  t.true(ticks > 10, `the event loop ran during the call: ${ticks} ticks (generous lower bound 10)`)
})

// ---------------------------------------------------------------------------------------------
// 5. Limits: timeoutMs, AbortSignal, fuel
// ---------------------------------------------------------------------------------------------

test.serial('timeoutMs: a component export that loops forever traps with interrupt on time; the store is not left busy (as after a sync timeout)', async (t) => {
  const store = new Store()
  const x = ours('traps', {}, store)
  t.is(await x.count.callAsync(1000, { timeoutMs: 5000 }), 1000, 'a short call under a timeout completes')
  const { e, ms } = await timedRejection(t, () => x.spin.callAsync({ timeoutMs: 100 }), 'spin')
  assertTrap(t, e, 'interrupt', 'spin.callAsync({ timeoutMs: 100 })')
  assertTimeoutFired(t, ms, 100, 'spin.callAsync({ timeoutMs: 100 })')
  // the sync path after a sync timeout, for reference
  const syncStore = new Store(undefined, { timeoutMs: 50 })
  const y = ours('traps', {}, syncStore)
  assertTrap(t, thrown(t, () => y.spin(), 'sync spin'), 'interrupt', 'sync spin')
  assertTrap(t, thrown(t, () => y.count(1), 'sync count after'), 'cannot_enter_component', 'sync path: count after the timeout')
  await assertStoppedNotBusy(t, store, x.count, [1], 'after the timeout of a callAsync')
  // the timeout was for that call only
  const z = ours('traps')
  const slow = await z.count.callAsync(1000)
  t.is(slow, 1000)
})

test.serial('timeoutMs: a host Promise still pending at the deadline makes the call trap with interrupt on time', async (t) => {
  for (const late of ['never settles', 'settles after the deadline'] as const) {
    const gate = deferred<string>()
    const base = hostImports([])
    const store = new Store()
    const x = ours('host', { ...base, root: { ...base.root, 'get-greeting': () => gate.promise } }, store)
    if (late === 'settles after the deadline') setTimeout(() => gate.resolve('too late'), 400)
    const { e, ms } = await timedRejection(t, () => x.greet.callAsync('x', { timeoutMs: 100 }), late)
    assertTrap(t, e, 'interrupt', `a host Promise that ${late}`)
    assertTimeoutFired(t, ms, 100, `greet.callAsync({ timeoutMs: 100 }), its host Promise ${late}`)
    await assertStoppedNotBusy(t, store, x['transform-point'], [{ x: 1, y: 2 }], `a host Promise that ${late}`)
    // the abandoned host call settling late (after dispose) is harmless
    gate.resolve('late')
    await delay(late === 'settles after the deadline' ? 350 : 10)
  }
  t.is(await ours('host', asyncHost(hostImports([]))).greet.callAsync('next'), 'Hello, next!', 'another store is unaffected')
})

test.serial("an AbortSignal aborted while a host Promise is pending rejects the callAsync with the signal's reason", async (t) => {
  for (const reason of [undefined, new Error('my reason')]) {
    const what = reason === undefined ? 'abort()' : 'abort(reason)'
    const called = deferred<void>()
    const gate = deferred<string>()
    const base = hostImports([])
    const store = new Store()
    const x = ours('host', {
      ...base,
      root: {
        ...base.root,
        'get-greeting': () => {
          called.resolve()
          return gate.promise
        },
      },
    }, store)
    const ac = new AbortController()
    const call = x.greet.callAsync('x', { signal: ac.signal })
    await called.promise
    await delay(10)
    assertBusy(t, thrown(t, () => x['transform-point']({ x: 1, y: 2 }), 'sync while pending'), `${what}: busy while the host Promise is pending`)
    const abortedAt = performance.now()
    ac.abort(reason)
    const e = await rejection(t, call, what)
    assertInterruptLatency(t, performance.now() - abortedAt, `${what} while a host Promise is pending`, 'from abort() until the call rejected')
    t.is(e, ac.signal.reason, `${what}: the signal's reason itself`)
    if (reason === undefined) t.is((e as Error).name, 'AbortError')
    else t.is(e, reason)
    await assertStoppedNotBusy(t, store, x['transform-point'], [{ x: 1, y: 2 }], what)
    gate.resolve('late')
    await delay(10)
  }
})

test.serial("an AbortSignal aborted while a component guest spins rejects with the signal's reason; a pre-aborted one runs nothing", async (t) => {
  const store = new Store()
  const x = ours('traps', {}, store)
  const ac = new AbortController()
  const call = x.spin.callAsync({ signal: ac.signal })
  await delay(50)
  const abortedAt = performance.now()
  const reason = new Error('stop spinning')
  ac.abort(reason)
  t.is(await rejection(t, call, 'aborted spin'), reason)
  assertInterruptLatency(t, performance.now() - abortedAt, 'an aborted spinning component callAsync', 'from abort() until the call rejected')
  await assertStoppedNotBusy(t, store, x.count, [1], 'after an aborted spin')

  // pre-aborted: rejects with the reason and never calls into the guest (nor the host)
  const log: unknown[][] = []
  const y = ours('host', asyncHost(hostImports(log)))
  const signal = AbortSignal.abort()
  t.is(await rejection(t, y.greet.callAsync('x', { signal }), 'pre-aborted'), signal.reason)
  t.deepEqual(log, [], 'no host call happened')
  t.is(await y.greet.callAsync('after', { signal: new AbortController().signal }), 'Hello, after!', 'nothing ran: the instance works fully afterwards')
  t.deepEqual(log, [['get-greeting', 'after']])
})

test.serial('fuel: callAsync({ fuel }) sets the fuel for the call: an endless component loop runs out (out_of_fuel), a short one completes', async (t) => {
  const engine = new Engine({ consumeFuel: true })
  const x = ours('traps', {}, new Store(engine, { fuel: 0 }))
  t.is(await x.count.callAsync(100, { fuel: 1_000_000 }), 100)
  const e = await rejection(t, x.spin.callAsync({ fuel: 10_000 }), 'spin with fuel')
  assertTrap(t, e, 'out_of_fuel', 'spin.callAsync({ fuel: 10_000 })')
  // with fuel 0 and no option: nothing runs
  const y = ours('traps', {}, new Store(engine, { fuel: 0 }))
  assertTrap(t, await rejection(t, y.count.callAsync(100), 'count without fuel'), 'out_of_fuel', 'count.callAsync(100) with no fuel')
})

// ---------------------------------------------------------------------------------------------
// 6. Resources across callAsync
// ---------------------------------------------------------------------------------------------

/** resources.wat's host `logger`; `async`: its `log` method returns a Promise. */
function hostLogger(async: boolean) {
  const calls: unknown[][] = []
  const made: object[] = []
  const thisOfLog: unknown[] = []
  class Logger {
    prefix: string
    lines = 0
    constructor(prefix: string) {
      this.prefix = prefix
      made.push(this)
      calls.push(['new', prefix, made.length - 1])
    }
    log(msg: string): number | Promise<number> {
      thisOfLog.push(this)
      const run = () => {
        this.lines++
        calls.push(['log', made.indexOf(this), this.prefix + msg])
        return this.lines
      }
      return async ? delay(2).then(run) : run()
    }
    static default(): Logger {
      const l = new Logger('default:')
      calls.push(['default', made.indexOf(l)])
      return l
    }
  }
  Object.defineProperty(Logger.prototype, Symbol.dispose, {
    value: function (this: Logger) {
      calls.push(['dispose', made.indexOf(this), this.lines])
    },
  })
  return { Logger, calls, made, thisOfLog }
}

/** resources.wat on both sides: jco with a sync `log`, ours with an async one (or a sync one: `asyncLog`). */
async function resourcePair(asyncLog = true) {
  const theirs = hostLogger(false)
  const j = await jcoInstance('resources', { interfaces: { [RES_HOST]: { Logger: theirs.Logger } as any } })
  const mine = hostLogger(asyncLog)
  const store = new Store()
  const x = new ComponentLinker().define(RES_HOST, { Logger: mine.Logger } as any).instantiate(store, component('resources')).exports as Exports
  return { theirs, j, mine, x, store }
}

test.serial('jco oracle: callAsync of log-with lends a host resource whose method is async: the same values and host calls as jco with a sync method; `this` is the host object', async (t) => {
  const { theirs, j, mine, x } = await resourcePair()
  const jp = new theirs.Logger('p')
  const jq = new theirs.Logger('q')
  const expected = [j.logWith(jp, 'm'), j.logWith(jp, 'n'), j.logWith(jq, 'o')]
  const p = new mine.Logger('p')
  const q = new mine.Logger('q')
  let pending: Promise<unknown> | undefined
  t.notThrows(() => (pending = x['log-with'].callAsync(p, 'm')))
  const got = [await pending, await x.logWith.callAsync(p, 'n'), await x['log-with'].callAsync(q, 'o')]
  t.deepEqual(got, expected, 'the same values as jco')
  t.deepEqual(mine.calls, theirs.calls, 'the same host calls (arguments, `this` by index, order) as jco')
  t.deepEqual(mine.thisOfLog, [p, p, q], 'the borrowed host objects are the `this` of their method, in turn')
  t.deepEqual([p.lines, q.lines], [jp.lines, jq.lines])
  // queued together
  const both = await Promise.all([x.logWith.callAsync(q, 'r'), x.logWith.callAsync(p, 's')])
  t.deepEqual(both, [j.logWith(jq, 'r'), j.logWith(jp, 's')])
  t.deepEqual(mine.calls, theirs.calls)
})

test.serial('jco oracle: callAsync of use-logger (the guest makes a host logger, logs twice through an async method, drops it): the host\'s Symbol.dispose runs, as in jco and on the sync path', async (t) => {
  for (const asyncLog of [true, false]) {
    const what = asyncLog ? 'an async log' : 'a sync log'
    const { theirs, j, mine, x } = await resourcePair(asyncLog)
    const expected = j.useLogger('d')
    t.deepEqual(theirs.calls, [['new', 'g:', 0], ['log', 0, 'g:d'], ['log', 0, 'g:d'], ['dispose', 0, 2]], 'jco: the guest\'s drop of its own<logger> disposes it')
    t.is(await x['use-logger'].callAsync('d'), expected, `${what}: the value jco gives`)
    t.deepEqual(mine.calls, theirs.calls, `${what}: the same host calls as jco, the dispose included`)
  }
  // the sync path, for reference
  const sync = hostLogger(false)
  const y = new ComponentLinker().define(RES_HOST, { Logger: sync.Logger } as any).instantiate(new Store(), component('resources')).exports as Exports
  y['use-logger']('d')
  t.deepEqual(sync.calls, [['new', 'g:', 0], ['log', 0, 'g:d'], ['log', 0, 'g:d'], ['dispose', 0, 2]], 'sync path: disposed')
})

test.serial('jco oracle: callAsync returning an own<logger> gives the host object back; callAsync of an exported interface function taking a borrow<counter>', async (t) => {
  const { theirs, j, mine, x } = await resourcePair()
  const jl = j.makeLogger()
  const l = await x['make-logger'].callAsync()
  t.is(jl, theirs.made[0], 'jco: the very object Logger.default() returned')
  t.is(l, mine.made[0], 'the very object Logger.default() returned')
  t.true(l instanceof mine.Logger)
  t.is(await x.logWith.callAsync(l, 'via guest'), j.logWith(jl, 'via guest'))
  t.deepEqual(mine.calls, theirs.calls)

  const jc = new j[COUNTERS].Counter(5)
  jc.increment()
  const c = new x[COUNTERS].Counter(5)
  c.increment()
  t.is(await x[COUNTERS].total.callAsync(c), j[COUNTERS].total(jc), 'total(borrow<counter>)')
  t.is(c.get(), jc.get(), 'the counter is still usable after it was lent to a callAsync')
  t.is(await x[COUNTERS].drops.callAsync(), j[COUNTERS].drops())
  t.is(typeof x[COUNTERS].Counter.prototype.increment.callAsync, 'undefined', 'resource methods have no callAsync')
})

// ---------------------------------------------------------------------------------------------
// 7. Workers
// ---------------------------------------------------------------------------------------------

/**
 * A worker (CommonJS, eval'd) that gets host.wasm by `component.share()`, instantiates it with
 * async host functions that behave as `hostImports` and runs `cases` through callAsync: it posts
 * their outcomes (in `outcome`'s shape) and its host-call log.
 */
const HOST_WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const { Component, ComponentError, ComponentLinker, Store } = require(workerData.api)
const log = []
let promises = 0
const later = (f) => (...args) => {
  promises++
  return new Promise((resolve, reject) => setTimeout(() => { try { resolve(f(...args)) } catch (e) { reject(e) } }, 1))
}
const camel = (n) => n.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase())
;(async () => {
  const component = Component.fromShared(workerData.token)
  const x = new ComponentLinker()
    .define({
      log: later((msg) => { log.push(['log', msg]) }),
      'get-greeting': later((name) => { log.push(['get-greeting', name]); return 'Hello, ' + name + '!' }),
    })
    .define(workerData.iface, {
      transform: later((p) => { log.push(['transform', p]); return { x: p.y, y: -p.x } }),
      describe: later((p, label) => { log.push(['describe', p, label]); return label + ' at (' + p.x + ', ' + p.y + ')' }),
      lookup: later((key) => {
        log.push(['lookup', key])
        if (key.startsWith('missing')) throw new ComponentError('no such key: ' + key)
        return key.length
      }),
    })
    .instantiate(new Store(), component).exports
  const outcomes = []
  for (const [ref, ...args] of workerData.cases) {
    const f = x[ref]
    try {
      outcomes.push({ value: await f.callAsync(...args) })
    } catch (e) {
      if (e instanceof ComponentError) outcomes.push({ componentError: e.payload })
      else outcomes.push({ threw: e instanceof Error ? e.constructor.name + ': ' + e.message : 'non-error: ' + String(e) })
    }
    if (x[camel(ref)].callAsync !== f.callAsync) throw new Error(ref + ': the camelCase alias differs')
  }
  parentPort.postMessage({ outcomes, log, promises })
})().catch((e) => parentPort.postMessage({ failed: String(e && e.stack) }))
`

interface WorkerRun {
  outcomes: Outcome[]
  log: unknown[][]
  promises: number
  failed?: string
}

function runHostWorker(token: unknown, cases: readonly Case[]): Promise<WorkerRun> {
  return new Promise((resolve, reject) => {
    const w = new Worker(HOST_WORKER, { eval: true, workerData: { api: DIST, token, cases, iface: HOST_IFACE } })
    let result: WorkerRun | undefined
    w.once('message', (m: WorkerRun) => (result = m))
    w.once('error', reject)
    w.once('exit', (code) => (code === 0 && result ? resolve(result) : reject(new Error(`the worker exited with code ${code} ${result ? '' : 'without a result'}`))))
  })
}

test.serial('jco oracle: two workers instantiate the shared host component and callAsync it with async host functions: jco\'s values and host calls', async (t) => {
  const c = new Component(Engine.default, fixture('host.wasm'))
  const token = c.share()
  const casesOf = (i: number): Case[] => [...HOST_CASES, ['greet', `worker ${i}`], ['lookup', `missing-${i}`]]
  const runs = [0, 1].map((i) => runHostWorker(token, casesOf(i)))
  // meanwhile the main thread uses the same component through callAsync too
  const here = linkerWith(asyncHost(hostImports([]))).instantiate(new Store(), c).exports as Exports
  t.is(await here.greet.callAsync('main'), 'Hello, main!')
  const results = await Promise.all(runs)
  for (const [i, r] of results.entries()) {
    t.is(r.failed, undefined, `worker ${i}: ${r.failed}`)
    const jcoLog: unknown[][] = []
    const j = await jcoInstance('host', hostImports(jcoLog))
    const expected = casesOf(i).map(([ref, ...args]) => outcome(() => pick(j, ref, 'jco')(...args)))
    t.deepEqual(r.outcomes, expected, `worker ${i}: the outcomes jco gives`)
    t.deepEqual(r.log, jcoLog, `worker ${i}: the host calls jco makes`)
    t.is(r.promises, casesOf(i).length, `worker ${i}: every host function returned a Promise`)
  }
})

// ---------------------------------------------------------------------------------------------
// 8. Bad input
// ---------------------------------------------------------------------------------------------

test.serial('bad input rejects (never throws) with the sync call\'s error, calls no host function, and leaves the store usable', async (t) => {
  const log: unknown[][] = []
  const store = new Store()
  const x = ours('host', asyncHost(hostImports(log)), store)
  const y = ours('iface')
  const cases: [label: string, f: () => Promise<unknown>, cls: abstract new (...a: never[]) => Error, code: string, fragment?: string][] = [
    ['unknown option key { timeoutMS: 5 }', () => x.greet.callAsync('a', { timeoutMS: 5 }), TypeError, 'ERR_INVALID_ARG_VALUE', 'timeoutMS'],
    ['unknown option key on an interface function', () => y.api.add.callAsync(1, 2, { fuell: 5 }), TypeError, 'ERR_INVALID_ARG_VALUE', 'fuell'],
    ['a signal that is no AbortSignal', () => x.greet.callAsync('a', { signal: 'nope' }), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['no argument', () => x.greet.callAsync(), TypeError, 'ERR_INVALID_ARG_COUNT'],
    ['two arguments for one', () => x.greet.callAsync('a', 'b'), TypeError, 'ERR_INVALID_ARG_COUNT'],
    ['too few for an interface function', () => y.api.add.callAsync(1), TypeError, 'ERR_INVALID_ARG_COUNT'],
    ['too many for a function without parameters', () => y['plugin-version'].callAsync(1, 2), TypeError, 'ERR_INVALID_ARG_COUNT'],
    ['a number for a string', () => x.greet.callAsync(5), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a string for a record', () => x['transform-point'].callAsync('p'), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a record missing a field', () => x['describe-point'].callAsync({ x: 1 }, 'L'), TypeError, 'ERR_INVALID_ARG_TYPE'],
  ]
  for (const [label, f, cls, code, fragment] of cases) {
    let p: Promise<unknown> | undefined
    t.notThrows(() => void (p = f()), `${label}: no synchronous throw`)
    assertError(t, await rejection(t, p!, label), cls, code, label, fragment)
  }
  // the sync calls throw the same class and code for the argument errors
  for (const [label, f, cls, code] of [
    ['a number for a string', () => x.greet(5), TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['no argument', () => x.greet(), TypeError, 'ERR_INVALID_ARG_COUNT'],
    ['a string for a record', () => x['transform-point']('p'), TypeError, 'ERR_INVALID_ARG_TYPE'],
  ] as const) {
    assertError(t, thrown(t, f, `sync: ${label}`), cls, code, `sync: ${label}`)
  }
  t.deepEqual(log, [], 'no host function ran')
  // the store is neither busy nor trapped
  const j = await jcoInstance('host', hostImports([]))
  t.is(await x.greet.callAsync('ok'), j.greet('ok'), 'a callAsync afterwards')
  t.deepEqual(await x['transform-point'].callAsync({ x: 1, y: 2 }, { timeoutMs: 5000 }), j.transformPoint({ x: 1, y: 2 }))
  t.is(await y.api.add.callAsync(1, 2), 3)
  t.notThrows(() => store.dispose())
})

test.serial('a host Promise resolving to the wrong type rejects the callAsync with the TypeError of the sync path', async (t) => {
  const base = hostImports([])
  const sync = ours('host', { ...base, root: { ...base.root, 'get-greeting': () => 42 } })
  const se = thrown(t, () => sync.greet('Zoë'), 'sync: a number for a string')
  t.true(se instanceof TypeError, `sync: a TypeError: ${show(se)}`)
  const x = ours('host', { ...base, root: { ...base.root, 'get-greeting': async () => 42 } })
  const e = await rejection(t, x.greet.callAsync('Zoë'), 'async: a number for a string')
  t.true(e instanceof TypeError, `async: a TypeError: ${show(e)}`)
  t.is((e as { code?: unknown }).code, (se as { code?: unknown }).code, 'the same code as the sync path')
  t.true(e instanceof Trap === false)
})

test.serial('jco oracle: a store created with async: true runs components too (sync calls, callAsync on a blocking pool thread, instantiatePre), with jco\'s values', async (t) => {
  const jcoLog: unknown[][] = []
  const j = await jcoInstance('host', hostImports(jcoLog))
  const cases = HOST_CASES
  const expected: Outcome[] = cases.map(([ref, ...args]) => outcome(() => pick(j, ref, 'jco')(...args)))
  const log: unknown[][] = []
  const x = ours('host', asyncHost(hostImports(log)), new Store(Engine.default, { async: true }))
  const got: Outcome[] = []
  for (const [ref, ...args] of cases) got.push(await settled(pick(x, ref, 'ours').callAsync(...args)))
  t.deepEqual(got, expected, 'callAsync in an async store: jco\'s values')
  t.deepEqual(log, jcoLog, 'and jco\'s host calls')
  // synchronous calls with synchronous host functions, and a per-request instance from an InstancePre
  const pre = linkerWith(hostImports([])).instantiatePre(component('host'))
  const y = pre.instantiate(new Store(Engine.default, { async: true })).exports as Exports
  t.deepEqual(outcome(() => y.greet('Zoë')), outcome(() => j.greet('Zoë')), 'a sync call in an async store')
  t.deepEqual(await settled(y.lookup.callAsync('missing-3')), outcome(() => j.lookup('missing-3')), 'callAsync of an InstancePre instance')
})
