// callAsync: the wasm runs on a thread of its own, host functions run on the JS thread and may
// return Promises; the store is busy meanwhile, calls on one store queue in order; AbortSignal;
// no leak over 100,000 calls; Module.compile.
//
// Timing: nothing asserts speed. The event-loop test asserts a generous lower bound on timer
// ticks during a ~2 s guest (the point of callAsync); the leak test bounds RSS growth; a
// `timeoutMs` must fire no earlier than due and at most 500 ms late, an abort must stop a spinning
// call within 1 s (helpers/assert.ts). Real figures go to t.log. The tests are serial: the
// machine has few cores, and a guest spinning in one test would slow the timers of another.
import test, { type ExecutionContext } from 'ava'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import * as v8 from 'node:v8'
import * as vm from 'node:vm'

import { CompileError, Engine, Instance, Module, Store, StoreStateError, Trap, wat2wasm } from '../dist/index.js'
import type { ExportedFunction } from '../dist/index.js'
import { assertError, assertInterruptLatency, assertTimeoutFired, assertTrap, rejection, thrown, timedRejection } from './helpers/assert'
import { fn, global, i32x4, mem } from './helpers/util'

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function assertBusy(t: ExecutionContext, e: unknown, what: string): void {
  t.true(e instanceof StoreStateError, `${what}: expected a StoreStateError, got ${String(e)}`)
  t.is((e as StoreStateError).code, 'ERR_STORE_BUSY', what)
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

function i32Bytes(v: number): Uint8Array {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setInt32(0, v, true)
  return b
}

function readI32(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getInt32(0, true)
}

// ---------------------------------------------------------------------------------------------
// Same results, same errors
// ---------------------------------------------------------------------------------------------

const VALUES_WAT = `
(module
  (import "host" "fail" (func $fail))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "mul64") (param i64 i64) (result i64) (i64.mul (local.get 0) (local.get 1)))
  (func (export "half") (param f64) (result f64) (f64.div (local.get 0) (f64.const 2)))
  (func (export "multi") (param i32) (result i32 i64 f32 f64)
    (local.get 0) (i64.extend_i32_s (local.get 0)) (f32.const 1.5) (f64.const -0.25))
  (func (export "none"))
  (func (export "id") (param externref) (result externref) (local.get 0))
  (func (export "neg") (param v128) (result v128) (i32x4.neg (local.get 0)))
  (func (export "unreachable") (unreachable))
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "oob") (result i32) (i32.load (i32.const 1000000)))
  (func (export "callFail") (call $fail))
  (memory 1))`

test.serial('callAsync resolves to the expected results, as the sync call does', async (t) => {
  const inst = new Instance(new Store(), new Module(Engine.default, VALUES_WAT), { host: { fail: () => {} } })
  const payload = { some: 'object' }
  // Expected values are wasm's arithmetic worked out here: i32 wraps, i64 wraps mod 2^64.
  const cases: [string, unknown[], unknown][] = [
    ['add', [2, 40], 42],
    ['add', [0x7fffffff, 1], -0x80000000],
    ['mul64', [3n, -5n], -15n],
    ['mul64', [2n ** 40n, 2n ** 30n], 0n], // 2^70 mod 2^64
    ['mul64', [2n ** 32n + 3n, 2n ** 31n], BigInt.asIntN(64, (2n ** 32n + 3n) * 2n ** 31n)],
    ['half', [5], 2.5],
    ['multi', [-7], [-7, -7n, 1.5, -0.25]],
    ['multi', [3], [3, 3n, 1.5, -0.25]],
    ['none', [], undefined],
    ['neg', [i32x4(0x01010101, -1, 0, -0x80000000)], i32x4(-0x01010101, 1, 0, -0x80000000)],
  ]
  for (const [name, args, expected] of cases) {
    const f = fn(inst, name)
    const what = `${name}(${args.map(String).join(', ')})`
    t.deepEqual(f(...args), expected, `sync ${what}`)
    const promise = f.callAsync(...args)
    t.true(promise instanceof Promise, `${name}.callAsync returns a Promise`)
    t.deepEqual(await promise, expected, `callAsync ${what}`)
  }
  t.is(await fn(inst, 'none').callAsync(), undefined)
  t.is(await fn(inst, 'id').callAsync(payload), payload, 'an externref comes back as the same object')
  t.is(await fn(inst, 'id').callAsync(null), null)
  t.is(await fn(inst, 'add').func.callAsync(1, 2), 3, 'Func#callAsync')
})

test.serial('callAsync rejects with the same errors as the sync call', async (t) => {
  let toThrow: unknown
  const inst = new Instance(new Store(), new Module(Engine.default, VALUES_WAT), {
    host: {
      fail: () => {
        throw toThrow
      },
    },
  })
  for (const [name, args, trapCode] of [
    ['unreachable', [], 'unreachable'],
    ['div', [1, 0], 'integer_division_by_zero'],
    ['div', [-0x80000000, -1], 'integer_overflow'],
    ['oob', [], 'memory_out_of_bounds'],
  ] as const) {
    const f = fn(inst, name)
    assertTrap(t, thrown(t, () => f(...args), `sync ${name}`), trapCode, `sync ${name}`)
    const e = await rejection(t, f.callAsync(...args), `async ${name}`)
    assertTrap(t, e, trapCode, `async ${name}`)
    t.is((e as Trap).code, 'ERR_WASM_TRAP')
    t.true((e as Trap).wasmBacktrace.length > 0, `async ${name}: the trap has a wasm backtrace`)
  }

  // A host function's exception comes out as the very same value.
  for (const value of [new Error('from the host'), { not: 'an Error' }, 'a string']) {
    toThrow = value
    const callFail = fn(inst, 'callFail')
    t.is(thrown(t, () => callFail(), 'sync host throw'), value, 'sync: the same value')
    t.is(await rejection(t, callFail.callAsync(), 'async host throw'), value, 'async: the same value')
  }

  // Argument errors reject (never throw synchronously) with the sync call's class and code.
  const add = fn(inst, 'add')
  for (const [args, cls, code] of [
    [[1], TypeError, 'ERR_INVALID_ARG_COUNT'],
    [[1, 2, 3], TypeError, 'ERR_INVALID_ARG_COUNT'],
    [['1', 2], TypeError, 'ERR_INVALID_ARG_TYPE'],
    [[2 ** 40, 1], RangeError, 'ERR_OUT_OF_RANGE'],
  ] as const) {
    assertError(t, thrown(t, () => add(...args), `sync add(${args})`), cls, code, `sync add(${args})`)
    let asyncPromise: Promise<unknown> | undefined
    t.notThrows(() => {
      asyncPromise = add.callAsync(...args)
    }, `add.callAsync(${args}) does not throw synchronously`)
    assertError(t, await rejection(t, asyncPromise!, `async add(${args})`), cls, code, `add.callAsync(${args})`)
  }
})

// ---------------------------------------------------------------------------------------------
// The JS thread stays free; async host functions
// ---------------------------------------------------------------------------------------------

const SPIN_WAT = `
(module
  (import "host" "started" (func $started))
  (global $g (export "g") (mut i32) (i32.const 0))
  (func (export "spin") (call $started) (loop (br 0)))
  (func (export "ok") (result i32) (i32.const 1)))`

test.serial('timers keep firing while a ~2 s guest runs through callAsync', async (t) => {
  const inst = new Instance(new Store(), new Module(Engine.default, SPIN_WAT), { host: { started: () => {} } })
  let ticks = 0
  const interval = setInterval(() => ticks++, 5)
  t.teardown(() => clearInterval(interval))
  // The guest is an endless loop ended by its 2 s timeout.
  const { e, ms: elapsed } = await timedRejection(t, () => fn(inst, 'spin').callAsync({ timeoutMs: 2000 }), 'spin')
  clearInterval(interval)
  assertTrap(t, e, 'interrupt', 'the 2 s timeout')
  assertTimeoutFired(t, elapsed, 2000, 'callAsync { timeoutMs: 2000 }')
  t.log(`${ticks} ticks of a 5 ms interval during a ${elapsed.toFixed(0)} ms callAsync (~${Math.floor(elapsed / 5)} possible)`)
  t.true(ticks > 50, `the event loop ran during the call: ${ticks} ticks (generous lower bound 50)`)
})

test.serial('async host functions: a timer and a file read feed a value back into wasm; memory and globals work while pending', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wasmtime-node-async-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'value.txt')
  fs.writeFileSync(file, '4242')

  const module = new Module(Engine.default, `
    (module
      (import "host" "fetch" (func $fetch (param i32) (result i32)))
      (memory (export "memory") 1)
      (global $g (export "g") (mut i32) (i32.const 0))
      ;; Stores 99 at 0, asks the host for a value (the host writes at 16 and sets $g), then
      ;; returns what it got, the word at 16, and $g.
      (func (export "run") (result i32 i32 i32)
        (i32.store (i32.const 0) (i32.const 99))
        (call $fetch (i32.const 16))
        (i32.load (i32.const 16))
        (global.get $g)))`)
  const seen: Record<string, unknown> = {}
  const store = new Store()
   
  let inst: Instance
  inst = new Instance(store, module, {
    host: {
      fetch: async (ptr: number) => {
        await delay(10)
        const text = await fs.promises.readFile(file, 'utf8')
        // After two awaits the guest is still paused in this call: the store's state is usable.
        const memory = mem(inst)
        seen.guestWrote = readI32(memory.read(0, 4))
        memory.write(ptr, i32Bytes(7))
        global(inst, 'g').value = 5
        seen.global = global(inst, 'g').value
        return Number(text)
      },
    },
  })
  t.deepEqual(await fn(inst, 'run').callAsync(), [4242, 7, 5], 'the file value, the host-written word, the host-set global')
  t.is(seen.guestWrote, 99, 'the host read what the guest wrote before calling it')
  t.is(seen.global, 5)
  t.is(readI32(mem(inst).read(16, 4)), 7, 'the write is visible after the call')
})

// ---------------------------------------------------------------------------------------------
// The store is busy; calls queue
// ---------------------------------------------------------------------------------------------

const GATE_WAT = `
(module
  (import "host" "wait" (func $wait (result i32)))
  (import "host" "log" (func $log (param i32)))
  (global $count (export "count") (mut i32) (i32.const 0))
  (memory (export "memory") 1)
  ;; Waits for the host's answer, then returns it.
  (func (export "gated") (result i32) (call $wait))
  ;; Bumps $count, tells the host, returns it.
  (func (export "inc") (result i32)
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (call $log (global.get $count))
    (global.get $count))
  (func (export "spin") (loop (br 0)))
  (func (export "ok") (result i32) (i32.const 1)))`

function gateRig(log: (v: number) => unknown = () => {}) {
  const gates: ReturnType<typeof deferred<number>>[] = []
  let called = deferred<void>()
  const store = new Store()
  const inst = new Instance(store, new Module(Engine.default, GATE_WAT), {
    host: {
      wait: () => {
        const d = deferred<number>()
        gates.push(d)
        called.resolve()
        return d.promise
      },
      log,
    },
  })
  return {
    store,
    inst,
    gates,
    /** Resolves once the guest has called `wait` (again). */
    waiting: () => called.promise.then(() => void (called = deferred<void>())),
  }
}

test.serial('while a callAsync is in flight, sync calls, transfer() and dispose() throw ERR_STORE_BUSY', async (t) => {
  // 1. The guest is paused in an async host function.
  {
    const { store, inst, gates, waiting } = gateRig()
    const call = fn(inst, 'gated').callAsync()
    await waiting()
    assertBusy(t, thrown(t, () => fn(inst, 'ok')(), 'sync call'), 'a sync call')
    assertBusy(t, thrown(t, () => store.transfer(), 'transfer'), 'transfer()')
    assertBusy(t, thrown(t, () => store.dispose(), 'dispose'), 'dispose()')
    gates[0]!.resolve(41)
    t.is(await call, 41)
    t.is(fn(inst, 'ok')(), 1, 'the store is usable again once the call settles')
    t.notThrows(() => store.dispose())
  }
  // 2. The guest is running wasm (no host call pending).
  {
    const { store, inst } = gateRig()
    const t0 = performance.now()
    const call = fn(inst, 'spin').callAsync({ timeoutMs: 1000 })
    await delay(50)
    assertBusy(t, thrown(t, () => fn(inst, 'ok')(), 'sync call'), 'a sync call while wasm runs')
    assertBusy(t, thrown(t, () => store.transfer(), 'transfer'), 'transfer() while wasm runs')
    assertBusy(t, thrown(t, () => store.dispose(), 'dispose'), 'dispose() while wasm runs')
    assertTrap(t, await rejection(t, call, 'spin'), 'interrupt', 'the spin ends by its timeout')
    assertTimeoutFired(t, performance.now() - t0, 1000, 'callAsync { timeoutMs: 1000 } while refused calls came in')
    t.is(fn(inst, 'ok')(), 1)
    const moved = Store.receive(store.transfer({ inst }), { imports: { host: { wait: () => 0, log: () => {} } } })
    t.is(fn(moved.objects.inst as Instance, 'ok')(), 1, 'transfer() works once the call has settled')
  }
})

test.serial('callAsync calls on one store queue and complete in order', async (t) => {
  const logged: number[] = []
  // The host's log takes a random while, so a call that overtook another would show.
  const { inst } = gateRig(async (v: number) => {
    await delay(Math.floor(Math.random() * 5))
    logged.push(v)
  })
  const inc = fn(inst, 'inc')
  const completed: number[] = []
  const calls = Array.from({ length: 20 }, () => inc.callAsync().then((v) => (completed.push(v as number), v)))
  const expected = Array.from({ length: 20 }, (_, i) => i + 1)
  t.deepEqual(await Promise.all(calls), expected, 'each call saw the previous ones done')
  t.deepEqual(completed, expected, 'they settled in order')
  t.deepEqual(logged, expected, 'their host calls ran in order')
  t.is(await inc.callAsync(), 21, 'a call afterwards')
  // Its host function returns a Promise, which a synchronous call cannot await: a typed error.
  assertError(t, thrown(t, () => inc(), 'a sync call'), TypeError, 'ERR_INVALID_RETURN_VALUE', 'a sync call', 'callAsync')
})

test.serial('100 concurrent callAsync calls over 100 stores all resolve correctly', async (t) => {
  const module = new Module(Engine.default, `
    (module
      (import "host" "tag" (func $tag (result i32)))
      ;; (sum of 1..n, the host's tag)
      (func (export "run") (param $n i64) (result i64 i32)
        (local $i i64) (local $sum i64)
        (block $done
          (loop $l
            (br_if $done (i64.gt_u (local.get $i) (local.get $n)))
            (local.set $sum (i64.add (local.get $sum) (local.get $i)))
            (local.set $i (i64.add (local.get $i) (i64.const 1)))
            (br $l)))
        (local.get $sum) (call $tag)))`)
  const runs = Array.from({ length: 100 }, (_, i) => {
    const inst = new Instance(new Store(undefined, { data: i }), module, {
      host: { tag: async () => (await delay(i % 7), i) },
    })
    const n = BigInt(100_000 + i * 1000)
    return fn(inst, 'run').callAsync(n).then((r) => ({ r, n, i }))
  })
  for (const { r, n, i } of await Promise.all(runs)) t.deepEqual(r, [(n * (n + 1n)) / 2n, i], `store ${i}`)
})

test.serial("an async host function of store A may await store B's callAsync", async (t) => {
  const b = new Instance(new Store(), new Module(Engine.default, `
    (module
      (import "host" "slow" (func $slow (param i32) (result i32)))
      (func (export "double") (param i32) (result i32) (i32.mul (call $slow (local.get 0)) (i32.const 2))))`), {
    host: { slow: async (x: number) => (await delay(5), x) },
  })
  const a = new Instance(new Store(), new Module(Engine.default, `
    (module
      (import "host" "viaB" (func $viaB (param i32) (result i32)))
      (func (export "run") (param i32) (result i32) (i32.add (call $viaB (local.get 0)) (i32.const 1))))`), {
    host: { viaB: async (x: number) => (await fn(b, 'double').callAsync(x)) as number },
  })
  t.is(await fn(a, 'run').callAsync(20), 41)
  t.deepEqual(await Promise.all([1, 2, 3].map((x) => fn(a, 'run').callAsync(x))), [3, 5, 7], 'several, queued on A')
})

// ---------------------------------------------------------------------------------------------
// Rejections and documented limits
// ---------------------------------------------------------------------------------------------

const HOST_WAT = `
(module
  (import "host" "one" (func $one (result i32)))
  (import "host" "two" (func $two (result i32 i32)))
  (func (export "callOne") (result i32) (call $one))
  (func (export "callTwo") (result i32) (call $two) (i32.add))
  (func (export "ok") (result i32) (i32.const 1)))`

function hostRig(one: () => unknown, two: () => unknown = () => [1, 2]) {
  const store = new Store()
  const inst = new Instance(store, new Module(Engine.default, HOST_WAT), { host: { one, two } })
  return { store, inst }
}

test.serial("a host function's rejected Promise makes the call reject with its reason", async (t) => {
  for (const reason of [new Error('nope'), { code: 'CUSTOM' }, 42]) {
    const { inst } = hostRig(() => Promise.reject(reason))
    t.is(await rejection(t, fn(inst, 'callOne').callAsync(), 'immediately rejected'), reason, `immediately rejected: ${String(reason)}`)
    t.is(fn(inst, 'ok')(), 1, 'the store works after')
  }
  const reason = new TypeError('later')
  const { inst } = hostRig(async () => {
    await delay(5)
    throw reason
  })
  t.is(await rejection(t, fn(inst, 'callOne').callAsync(), 'rejected later'), reason, 'an async function that throws after an await')
  t.is(await fn(inst, 'ok').callAsync(), 1)
})

test.serial('a host function returning the wrong type makes the call reject with a TypeError ERR_INVALID_RETURN_VALUE', async (t) => {
  for (const [what, one] of [
    ['a string, sync', () => 'seven'],
    ['a string, via a Promise', async () => 'seven'],
    ['an object, via a Promise', async () => ({})],
    ['undefined for an i32', async () => undefined],
  ] as const) {
    const { inst } = hostRig(one)
    assertError(t, await rejection(t, fn(inst, 'callOne').callAsync(), what), TypeError, 'ERR_INVALID_RETURN_VALUE', what, 'expected a number (i32)')
    t.is(fn(inst, 'ok')(), 1)
  }
  // Several results: an array of the right length is needed.
  const { inst } = hostRig(() => 0, async () => 3)
  const e = await rejection(t, fn(inst, 'callTwo').callAsync(), 'one value for two results')
  assertError(t, e, TypeError, 'ERR_INVALID_RETURN_VALUE', 'one value for two results', 'must return an array of 2 values')
  const good = hostRig(() => 0, async () => [20, 22])
  t.is(await fn(good.inst, 'callTwo').callAsync(), 42)
})

test.serial('inside an async call, a host function calling an export of the same store gets ERR_STORE_BUSY (documented)', async (t) => {
  const errors: unknown[] = []
   
  let inst: Instance
  const tryReenter = () => {
    try {
      fn(inst, 'ok')()
    } catch (e) {
      errors.push(e)
    }
  }
  ;({ inst } = hostRig(
    () => (tryReenter(), 5),
    async () => {
      await delay(1)
      tryReenter()
      return [1, 2]
    },
  ))
  t.is(await fn(inst, 'callOne').callAsync(), 5, 'the call still completes')
  t.is(await fn(inst, 'callTwo').callAsync(), 3)
  t.is(errors.length, 2)
  errors.forEach((e, i) => assertBusy(t, e, `re-entry ${i}`))
  // The same re-entry from a sync call works (README: "call other exports").
  errors.length = 0
  t.is(fn(inst, 'callOne')(), 5)
  t.deepEqual(errors, [], 'sync: a host function may call back into its store')
})

// ---------------------------------------------------------------------------------------------
// AbortSignal
// ---------------------------------------------------------------------------------------------

test.serial("aborting a running callAsync rejects it with the signal's reason", async (t) => {
  for (const reason of [undefined, new Error('my reason')]) {
    let started!: () => void
    const running = new Promise<void>((r) => (started = r))
    const inst = new Instance(new Store(), new Module(Engine.default, SPIN_WAT), { host: { started: () => started() } })
    const ac = new AbortController()
    const call = fn(inst, 'spin').callAsync({ signal: ac.signal })
    await running
    await delay(10)
    const abortedAt = performance.now()
    ac.abort(reason)
    const e = await rejection(t, call, 'aborted spin')
    assertInterruptLatency(t, performance.now() - abortedAt, `a spinning callAsync, abort(${reason === undefined ? '' : 'reason'})`, 'from abort() until the call rejected')
    t.is(e, ac.signal.reason, "the signal's reason itself")
    if (reason === undefined) {
      t.is((e as Error).name, 'AbortError')
    } else {
      t.is(e, reason)
    }
    t.is(fn(inst, 'ok')(), 1, 'the store works after')
    t.is(await fn(inst, 'ok').callAsync({ signal: new AbortController().signal }), 1, 'a signal that never aborts')
  }
})

test.serial("aborting a callAsync while its guest awaits an async host function rejects it with the signal's reason", async (t) => {
  // CallOptions.signal: "Abort the call: it traps with `interrupt`, and the promise rejects with
  // the signal's reason." The guest here returns right after the host call. Whether the promise
  // rejects at once or only once the host function settles is not asserted: only that it rejects.
  const { store, inst, gates, waiting } = gateRig()
  const ac = new AbortController()
  const call = fn(inst, 'gated').callAsync({ signal: ac.signal })
  await waiting()
  ac.abort()
  await delay(20)
  gates[0]!.resolve(5)
  const outcome = await call.then((v) => ({ resolved: v }), (e) => ({ rejected: e }))
  t.deepEqual(outcome, { rejected: ac.signal.reason }, 'an aborted call must not resolve')
  t.is(fn(inst, 'ok')(), 1, 'the store works after')
  t.notThrows(() => store.dispose())
})

test.serial('an already-aborted signal rejects without running the function', async (t) => {
  let hostCalls = 0
  const { store, inst, gates, waiting } = gateRig(() => void hostCalls++)
  const inc = fn(inst, 'inc')

  const signal = AbortSignal.abort()
  const e = await rejection(t, inc.callAsync({ signal }), 'pre-aborted')
  t.is(e, signal.reason)
  t.is((e as Error).name, 'AbortError')
  t.is(global(inst, 'count').value, 0, 'the guest did not run')
  t.is(hostCalls, 0, 'no host call happened')

  // Aborted while queued behind another call: it never runs either.
  const first = fn(inst, 'gated').callAsync()
  await waiting()
  const ac = new AbortController()
  const queued = inc.callAsync({ signal: ac.signal })
  ac.abort()
  gates[0]!.resolve(0)
  t.is(await first, 0)
  t.is(await rejection(t, queued, 'aborted while queued'), ac.signal.reason)
  t.is(global(inst, 'count').value, 0, 'the queued call did not run')
  t.is(hostCalls, 0)
  t.is(inc(), 1, 'the store works')
  t.notThrows(() => store.dispose())
})

// ---------------------------------------------------------------------------------------------
// No leak
// ---------------------------------------------------------------------------------------------

function forceGc(): () => void {
  v8.setFlagsFromString('--expose-gc')
  return vm.runInNewContext('gc') as () => void
}

test.serial('100,000 short callAsync calls do not leak', async (t) => {
  t.timeout(15 * 60_000)
  const gc = forceGc()
  const module = new Module(Engine.default, `
    (module
      (import "host" "id" (func $id (param i32) (result i32)))
      (memory 1)
      (func (export "f") (param i32) (result i32) (i32.add (call $id (local.get 0)) (i32.const 1))))`)
  const STORES = 4
  const BATCH = 1000
  const fs_: ExportedFunction[] = Array.from({ length: STORES }, () => fn(new Instance(new Store(), module, { host: { id: (x: number) => x } }), 'f'))
  let calls = 0
  const batch = async () => {
    const ps: Promise<unknown>[] = []
    for (let i = 0; i < BATCH; i++) ps.push(fs_[i % STORES]!.callAsync(i))
    const r = await Promise.all(ps)
    calls += BATCH
    for (let i = 0; i < BATCH; i += 97) if (r[i] !== i + 1) throw new Error(`call ${i} gave ${String(r[i])}`)
  }
  const rss = async () => {
    for (let i = 0; i < 3; i++) {
      gc()
      await delay(20)
    }
    return process.memoryUsage().rss
  }
  const MiB = 1024 * 1024
  for (let i = 0; i < 10; i++) await batch() // warm-up
  const before = await rss()
  const t0 = performance.now()
  const samples: string[] = []
  for (let i = 0; i < 100; i++) {
    await batch()
    if (i % 25 === 24) samples.push(`${((await rss()) / MiB).toFixed(1)}`)
  }
  const elapsed = performance.now() - t0
  const after = await rss()
  const growth = (after - before) / MiB
  t.log(`${calls} calls (${calls - 10 * BATCH} measured) in ${(elapsed / 1000).toFixed(1)} s: ${((elapsed * 1000) / (calls - 10 * BATCH)).toFixed(1)} µs/call`)
  t.log(`RSS after warm-up ${(before / MiB).toFixed(1)} MiB, every 25,000 calls: ${samples.join(', ')} MiB, at the end ${(after / MiB).toFixed(1)} MiB (growth ${growth.toFixed(1)} MiB)`)
  t.true(growth < 100, `RSS grew ${growth.toFixed(1)} MiB over 100,000 calls (bound 100 MiB)`)
})

// ---------------------------------------------------------------------------------------------
// Module.compile
// ---------------------------------------------------------------------------------------------

test.serial('Module.compile resolves to a working Module; invalid bytes reject with CompileError', async (t) => {
  const wat = '(module (func (export "answer") (result i32) (i32.const 42)))'
  const fromBytes = Module.compile(Engine.default, wat2wasm(wat))
  t.true(fromBytes instanceof Promise)
  const m = await fromBytes
  t.true(m instanceof Module)
  t.deepEqual(m.exports.map((e) => e.name), ['answer'])
  t.is(fn(new Instance(new Store(), m), 'answer')(), 42)
  t.is(fn(new Instance(new Store(), await Module.compile(Engine.default, wat)), 'answer')(), 42, 'from WAT text')
  const engine = new Engine({ consumeFuel: true })
  const onOther = await Module.compile(engine.share(), wat2wasm(wat))
  t.is(fn(new Instance(new Store(engine, { fuel: 1000 }), onOther), 'answer')(), 42, 'on another engine, from its token')

  for (const [what, bytes] of [
    ['garbage', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])],
    ['a truncated module', wat2wasm(wat).subarray(0, 20)],
    ['invalid WAT', '(module (func (result i32)))'],
  ] as const) {
    let p: Promise<Module> | undefined
    t.notThrows(() => {
      p = Module.compile(Engine.default, bytes)
    }, `${what}: no synchronous throw`)
    const e = await rejection(t, p!, what)
    t.true(e instanceof CompileError, `${what}: ${String(e)}`)
    t.is((e as CompileError).code, 'ERR_WASM_COMPILE')
  }
})
