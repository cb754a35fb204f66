// Async stores (issue 14): `new Store(engine, { async: true })` runs each callAsync as a wasmtime
// fiber on the process-wide pool of `asyncThreads()` threads.
//
// Covered here: thousands of concurrent calls awaiting host Promises hold no thread each; a busy
// guest yields to the others (a child process with a one-thread pool); timeoutMs, interrupt()
// and AbortSignal on pooled calls, spinning or waiting on a host Promise; WASI on the pool;
// store.transfer() after a pooled call; the rules of synchronous calls and the options'
// validation (setAsyncThreads, fuelYieldInterval, async); fuel yielding; the fiber-stack budget
// (a child with WASMTIME_NODE_MAX_FIBERS=4); 50,000 calls in a child; the bounded blocking
// threads of callAsync on stores without `async`.
//
// Timing: nothing asserts speed or latency. Where a hang would be the failure, t.timeout bounds
// the test. The tests are serial: a guest spinning in one would slow another's timers.
import test, { type ExecutionContext } from 'ava'
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'

import {
  Engine, Instance, Linker, Module, Store, StoreStateError,
  asyncThreads, liveObjects, setAsyncThreads,
} from '../dist/index.js'
import type { StoreTransfer } from '../dist/index.js'
import { assertError, assertTrap, rejection, thrown } from './helpers/assert'
import { allOsThreads as osThreads, settle } from './helpers/gc'
import { program, programTest } from './helpers/programs'
import { fn } from './helpers/util'

const WORKERS_DIR = path.join(__dirname, 'workers')

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const POOL_WAT = `
(module
  (import "h" "twice" (func $twice (param i32) (result i32)))
  (import "h" "wait" (func $wait (result i32)))
  (import "h" "poke" (func $poke))
  (func (export "g") (param i32) (result i32) (i32.add (call $twice (local.get 0)) (i32.const 1)))
  (func (export "w") (result i32) (call $wait))
  (func (export "callPoke") (call $poke))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "one") (result i32) (i32.const 1))
  (func (export "spin") (loop (br 0))))`
const POOL = new Module(Engine.default, POOL_WAT)

interface Hosts {
  twice?: (x: number) => unknown
  wait?: () => unknown
  poke?: () => unknown
}

const hostImports = (h: Hosts) => ({
  h: { twice: h.twice ?? ((x: number) => x * 2), wait: h.wait ?? (() => 0), poke: h.poke ?? (() => undefined) },
})

/** An async store with an instance of POOL_WAT. */
function pooled(h: Hosts = {}) {
  const store = new Store(Engine.default, { async: true })
  const inst = new Instance(store, POOL, hostImports(h))
  return { store, inst }
}

/** The peak of the process's OS threads, sampled every 2 ms and whenever `sample()` is called. */
function threadSampler() {
  let peak = osThreads()
  const sample = () => {
    const n = osThreads()
    if (n > peak) peak = n
  }
  const timer = setInterval(sample, 2)
  return {
    sample,
    stop: () => {
      clearInterval(timer)
      sample()
      return peak
    },
  }
}

/** After a pooled call stopped: the store runs wasm again, synchronously and on the pool. */
async function assertUsable(t: ExecutionContext, inst: Instance, what: string): Promise<void> {
  t.is(fn(inst, 'one')(), 1, `${what}: a sync call works after`)
  t.is(await fn(inst, 'add').callAsync(2, 3), 5, `${what}: a pooled call works after`)
}

/** A spinning guest's own timeoutMs, so that a failed stop does not leave it spinning for good. */
const SAFETY_MS = 30_000
/** Far below SAFETY_MS: a stop that has not landed by then is a hang. */
const HANG_MS = 10_000

/** `p`, or a test failure (and undefined) when it has not settled within HANG_MS. */
async function within<T>(t: ExecutionContext, p: Promise<T>, what: string): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  const hang = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), HANG_MS)))
  const r = await Promise.race([p, hang])
  clearTimeout(timer)
  if (r === 'hang') {
    t.fail(`${what}: the call did not stop within ${HANG_MS} ms`)
    return undefined
  }
  return r as T
}

interface ChildRun<R> {
  code: number | null
  signal: NodeJS.Signals | null
  stderr: string
  report: R | undefined
}

/** Runs workers/`script` in a child node process with `env` added; its report is the last stdout line, as JSON. */
async function runChild<R>(t: ExecutionContext, script: string, args: string[], env: Record<string, string>): Promise<ChildRun<R>> {
  const child = spawn(process.execPath, [path.join(WORKERS_DIR, script), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])))
  // 'exit' may come before the pipes are drained.
  await new Promise<void>((resolve) => (child.stdout.readableEnded ? resolve() : child.stdout.once('end', resolve)))
  t.is(signal, null, `${script}: the child must not die of a signal; stderr: ${stderr.slice(-2000)}`)
  t.is(code, 0, `${script}: exit code; stderr: ${stderr.slice(-2000)}`)
  const last = stdout.trim().split('\n').pop()
  let report: R | undefined
  try {
    report = last ? (JSON.parse(last) as R) : undefined
  } catch {
    report = undefined
  }
  if (report === undefined) t.fail(`${script}: no JSON report on stdout: ${stdout.slice(-2000)}`)
  return { code, signal, stderr, report }
}

interface ErrorData {
  name: string
  code?: string
  message: string
  trapCode?: string
}

// ---------------------------------------------------------------------------------------------
// Many calls, few threads
// ---------------------------------------------------------------------------------------------

test.serial('3,000 concurrent pooled calls, each awaiting a 20 ms host Promise, all correct, with no OS thread per call', async (t) => {
  t.timeout(120_000)
  const N = 3000
  const threads = asyncThreads()
  const storesBefore = liveObjects().stores
  const base = osThreads()
  const sampler = threadSampler()
  let pending = 0
  let maxPending = 0
  let hostCalls = 0
  const twice = async (x: number) => {
    hostCalls++
    maxPending = Math.max(maxPending, ++pending)
    sampler.sample()
    await delay(20)
    pending--
    return x * 2
  }
  const calls: Promise<unknown>[] = []
  for (let k = 0; k < N; k++) {
    const { store, inst } = pooled({ twice })
    t.true(store.async)
    calls.push(fn(inst, 'g').callAsync(k).finally(() => store.dispose()))
  }
  const results = await Promise.allSettled(calls)
  const peak = sampler.stop()

  const rejected = results.filter((r) => r.status === 'rejected')
  t.deepEqual(rejected, [], 'no call rejects')
  const values = results.map((r) => (r.status === 'fulfilled' ? r.value : undefined))
  t.deepEqual(values, Array.from({ length: N }, (_, k) => 2 * k + 1), 'call k resolves to 2k + 1')
  t.is(hostCalls, N)
  t.log(`OS threads: ${base} before, peak ${peak} (pool of ${threads}); up to ${maxPending} host Promises pending at once`)
  t.true(peak <= base + threads + 16, `peak OS threads ${peak} > ${base} before + ${threads} pool threads + 16`)
  // Were a call to hold a thread while its host Promise is pending, no more than the pool's
  // threads (or the 64 blocking threads) could be pending at once.
  t.true(maxPending > threads + 64, `only ${maxPending} host Promises were pending at once`)

  await settle()
  t.is(liveObjects().stores, storesBefore, 'every store disposed')
  t.is(liveObjects().asyncCalls, 0, 'no async call left behind')
})

test.serial('callAsync of stores without async runs on a bounded set of reused blocking threads', async (t) => {
  t.timeout(120_000)
  // crate/call/executor.rs MAX_BLOCKING: at most 64 blocking threads, the rest queued.
  const N = 300
  const base = osThreads()
  const sampler = threadSampler()
  const calls: Promise<unknown>[] = []
  for (let k = 0; k < N; k++) {
    const store = new Store()
    t.false(store.async)
    const inst = new Instance(store, POOL, hostImports({ twice: async (x) => (sampler.sample(), await delay(5), x * 2) }))
    calls.push(fn(inst, 'g').callAsync(k).finally(() => store.dispose()))
  }
  const values = await Promise.all(calls)
  const peak = sampler.stop()
  t.deepEqual(values, Array.from({ length: N }, (_, k) => 2 * k + 1))
  t.log(`OS threads: ${base} before, peak ${peak}`)
  t.true(peak <= base + asyncThreads() + 64 + 16, `peak OS threads ${peak} > ${base} + ${asyncThreads()} + 64 + 16`)
})

// ---------------------------------------------------------------------------------------------
// Yielding
// ---------------------------------------------------------------------------------------------

test.serial('with a one-thread pool, a short call started behind two spinning guests settles first', async (t) => {
  t.timeout(60_000)
  type Settled = { name: string; ok: boolean; value?: unknown; error?: ErrorData }
  const { report } = await runChild<{ asyncThreads: number; settled: Settled[] }>(t, 'async-pool-yield.mjs', [], { WASMTIME_NODE_ASYNC_THREADS: '1' })
  if (!report) return
  t.is(report.asyncThreads, 1, 'WASMTIME_NODE_ASYNC_THREADS sets the pool size')
  t.is(report.settled.length, 3)
  t.deepEqual(report.settled[0], { name: 'add', ok: true, value: 5 }, 'add(2, 3) settles first, with 5')
  t.deepEqual(report.settled.slice(1).map((s) => s.name).sort(), ['spin0', 'spin1'])
  for (const s of report.settled.slice(1)) {
    t.false(s.ok, `${s.name} rejects`)
    t.like(s.error, { name: 'Trap', code: 'ERR_WASM_TRAP', trapCode: 'interrupt' }, `${s.name}: its timeoutMs stops it`)
  }
})

test.serial('fuelYieldInterval: a guest counting to 1e6 on a fuel engine gives the right count through callAsync', async (t) => {
  t.timeout(60_000)
  const engine = new Engine({ consumeFuel: true })
  const module = new Module(engine, `
    (module
      (func (export "count") (param $n i32) (result i32) (local $i i32)
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
        (local.get $i)))`)
  const store = new Store(engine, { async: true, fuel: 1e9, fuelYieldInterval: 10_000 })
  const inst = new Instance(store, module)
  const n = 1_000_000
  t.is(await fn(inst, 'count').callAsync(n), n)
  const used = 1e9 - (store.getFuel() as number)
  t.log(`fuel used: ${used}`)
  t.true(used >= n, `counting to ${n} uses at least ${n} fuel (used ${used})`)
  // Concurrent counters on the pool, each yielding every 10,000 units, all finish right.
  const more = [3, 1, 2].map((k) => {
    const s = new Store(engine, { async: true, fuel: 1e9, fuelYieldInterval: 10_000 })
    return fn(new Instance(s, module), 'count').callAsync(k * 100_000)
  })
  t.deepEqual(await Promise.all(more), [300_000, 100_000, 200_000])
})

// ---------------------------------------------------------------------------------------------
// Stopping pooled calls
// ---------------------------------------------------------------------------------------------

test.serial('a pooled call spinning in (loop (br 0)): timeoutMs, interrupt() and an AbortSignal stop it; the store stays usable', async (t) => {
  t.timeout(60_000)
  {
    const { inst } = pooled()
    assertTrap(t, await rejection(t, fn(inst, 'spin').callAsync({ timeoutMs: 100 }), 'timeoutMs 100'), 'interrupt', 'timeoutMs 100')
    await assertUsable(t, inst, 'timeoutMs')
  }
  {
    const { store, inst } = pooled()
    // The SAFETY timeoutMs only ends a guest the interrupt failed to stop, so that it does not
    // spin through the rest of the file; HANG_MS, far below it, tells the two apart.
    const p = fn(inst, 'spin').callAsync({ timeoutMs: SAFETY_MS })
    await delay(50)
    // Taken while the call runs (the store itself is busy): the handle is what reaches it.
    const handle = store.interruptHandle()
    handle.interrupt()
    const e = await within(t, rejection(t, p, 'interrupt()'), 'interrupt()')
    assertTrap(t, e, 'interrupt', 'interrupt()')
    await assertUsable(t, inst, 'interrupt()')
  }
  {
    const { inst } = pooled()
    const ac = new AbortController()
    const reason = new Error('stop spinning')
    const p = fn(inst, 'spin').callAsync({ signal: ac.signal, timeoutMs: SAFETY_MS })
    await delay(50)
    ac.abort(reason)
    t.is(await within(t, rejection(t, p, 'abort'), 'abort'), reason, 'the call rejects with the signal’s reason')
    await assertUsable(t, inst, 'abort')
  }
})

test.serial('a pooled call waiting on a host Promise that never settles: timeoutMs and an AbortSignal stop it; the store stays usable', async (t) => {
  t.timeout(30_000)
  {
    const { inst } = pooled({ wait: () => new Promise(() => {}) })
    assertTrap(t, await rejection(t, fn(inst, 'w').callAsync({ timeoutMs: 100 }), 'timeoutMs 100'), 'interrupt', 'timeoutMs 100')
    await assertUsable(t, inst, 'timeoutMs')
  }
  {
    const { inst } = pooled({ wait: () => new Promise(() => {}) })
    const ac = new AbortController()
    const reason = new Error('stop waiting')
    const p = fn(inst, 'w').callAsync({ signal: ac.signal })
    await delay(50)
    ac.abort(reason)
    t.is(await rejection(t, p, 'abort'), reason, 'the call rejects with the signal’s reason')
    await assertUsable(t, inst, 'abort')
  }
  {
    // A host function that waits the first time only: the call after the timeout gets its own answer.
    let calls = 0
    const { store, inst } = pooled({ wait: () => (++calls === 1 ? new Promise(() => {}) : Promise.resolve(41)) })
    assertTrap(t, await rejection(t, fn(inst, 'w').callAsync({ timeoutMs: 100 }), 'first wait'), 'interrupt', 'first wait')
    t.is(await fn(inst, 'w').callAsync(), 41, 'the next wait resolves')
    t.is(calls, 2)
    store.dispose()
  }
  await settle()
  t.is(liveObjects().asyncCalls, 0, 'no async call left behind')
})

// ---------------------------------------------------------------------------------------------
// WASI, transfer
// ---------------------------------------------------------------------------------------------

const ptest = programTest()
const text = (b: Uint8Array) => Buffer.from(b).toString('utf8')

ptest('WASI on the pool: argsenv prints its arguments and environment through callAsync, and through a sync call', async (t) => {
  t.timeout(60_000)
  const module = new Module(Engine.default, fs.readFileSync(program('argsenv.wasm')))
  const args = ['argsenv', 'on the pool', 'ünï']
  const env = { B: 'two', A: 'one' }
  // argsenv.c: argc, each argv, then the environment sorted.
  const expected = [`argc=${args.length}`, ...args.map((a, i) => `argv[${i}]=${a}`), ...Object.entries(env).map(([k, v]) => `env ${k}=${v}`).sort()].join('\n') + '\n'
  for (const how of ['callAsync', 'sync'] as const) {
    const store = new Store(Engine.default, { async: true, wasi: { args, env, stdout: 'capture', stderr: 'capture' } })
    const inst = new Linker(Engine.default).defineWasi().instantiate(store, module)
    const start = fn(inst, '_start')
    t.is(how === 'callAsync' ? await start.callAsync() : start(), undefined, `${how}: _start returns (exit code 0)`)
    t.is(text(store.takeWasiOutput('stdout')), expected, `${how}: stdout`)
    t.is(text(store.takeWasiOutput('stderr')), 'exiting with 0\n', `${how}: stderr`)
    store.dispose()
  }
})

test.serial('a store transferred after a pooled call is received still async, and its callAsync works', async (t) => {
  t.timeout(30_000)
  const { store, inst } = pooled({ twice: async (x) => (await delay(5), x * 2) })
  t.is(await fn(inst, 'g').callAsync(20), 41)
  const token: StoreTransfer = store.transfer({ inst })
  let received!: Instance
  const pokes: unknown[] = []
  const imports = hostImports({
    twice: async (x) => (await delay(5), x * 3),
    poke: () => {
      try {
        pokes.push(fn(received, 'one')())
      } catch (e) {
        pokes.push(e)
      }
    },
  })
  const { store: back, objects } = Store.receive(token, { imports })
  received = objects.inst as Instance
  t.true(back.async, 'the received store is async')
  t.is(await fn(received, 'g').callAsync(20), 61, 'callAsync with the new host import (x * 3 + 1)')
  t.is(fn(received, 'add')(40, 2), 42, 'a sync call works')
  // The async-store rule follows the store: no wasm from its own host functions.
  fn(received, 'callPoke')()
  t.is(pokes.length, 1)
  assertError(t, pokes[0], StoreStateError, 'ERR_STORE_BUSY', 'wasm called from a host function of the received store')
  back.dispose()
})

// ---------------------------------------------------------------------------------------------
// Synchronous calls of async stores, and the options
// ---------------------------------------------------------------------------------------------

test.serial('sync calls of an async store: plain values work, a host Promise is a typed error, no wasm from its own host functions', (t) => {
  const { store, inst } = pooled({ twice: (x) => x * 2 })
  t.true(store.async)
  t.false(new Store().async)
  t.is(fn(inst, 'g')(21), 43, 'a sync host function through a sync call')
  t.is(fn(inst, 'add')(0x7fffffff, 1), -0x80000000, 'i32 wraps')

  const withPromise = pooled({ twice: (x) => Promise.resolve(x * 2) })
  assertError(t, thrown(t, () => fn(withPromise.inst, 'g')(1), 'host Promise in a sync call'), TypeError, 'ERR_INVALID_RETURN_VALUE', 'host Promise in a sync call')
  t.is(fn(withPromise.inst, 'one')(), 1, 'the store works after')

  let reentered: unknown = 'host function not called'
  const self: { inst?: Instance } = {}
  const r = pooled({
    poke: () => {
      reentered = thrown(t, () => fn(self.inst!, 'one')(), 'wasm from its own host function')
    },
  })
  self.inst = r.inst
  fn(r.inst, 'callPoke')()
  assertError(t, reentered, StoreStateError, 'ERR_STORE_BUSY', 'wasm from its own host function')
  t.is(fn(r.inst, 'one')(), 1, 'the store works after')

  // The same re-entry is allowed in a store without async.
  const plain: { inst?: Instance } = {}
  let plainResult: unknown
  plain.inst = new Instance(new Store(), POOL, hostImports({ poke: () => (plainResult = fn(plain.inst!, 'one')()) }))
  fn(plain.inst, 'callPoke')()
  t.is(plainResult, 1, 'a store without async may call its wasm from its host functions')
})

test.serial('store options: async must be a boolean; fuelYieldInterval needs async: true and is at least 1', (t) => {
  const fuelEngine = new Engine({ consumeFuel: true })
  assertError(t, thrown(t, () => new Store(Engine.default, { async: 'yes' as never }), 'async: "yes"'), TypeError, 'ERR_INVALID_ARG_TYPE', 'async: "yes"')
  assertError(t, thrown(t, () => new Store(fuelEngine, { fuelYieldInterval: 100 }), 'fuelYieldInterval without async'), TypeError, 'ERR_INVALID_ARG_VALUE', 'fuelYieldInterval without async', 'async: true')
  assertError(t, thrown(t, () => new Store(fuelEngine, { async: false, fuelYieldInterval: 100 }), 'fuelYieldInterval, async: false'), TypeError, 'ERR_INVALID_ARG_VALUE', 'fuelYieldInterval, async: false')
  assertError(t, thrown(t, () => new Store(fuelEngine, { async: true, fuelYieldInterval: 0 }), 'fuelYieldInterval: 0'), RangeError, 'ERR_OUT_OF_RANGE', 'fuelYieldInterval: 0')
  assertError(t, thrown(t, () => new Store(fuelEngine, { async: true, fuelYieldInterval: '5' as never }), 'fuelYieldInterval: "5"'), TypeError, 'ERR_INVALID_ARG_TYPE', 'fuelYieldInterval: "5"')
  t.true(new Store(fuelEngine, { async: true, fuelYieldInterval: 5n }).async, 'a BigInt interval is accepted')
  t.false(new Store(Engine.default, { async: false }).async)
})

test.serial('setAsyncThreads: out of range is a RangeError; once the pool runs, only its own size is accepted', async (t) => {
  // Make sure the pool runs (the first pooled call of the process starts it).
  t.is(await fn(pooled().inst, 'add').callAsync(1, 2), 3)
  const n = asyncThreads()
  t.true(Number.isInteger(n) && n >= 1, `asyncThreads() = ${n}`)
  for (const bad of [0, -1, 1025, 1.5]) {
    assertError(t, thrown(t, () => setAsyncThreads(bad), `setAsyncThreads(${bad})`), RangeError, 'ERR_OUT_OF_RANGE', `setAsyncThreads(${bad})`)
  }
  assertError(t, thrown(t, () => setAsyncThreads('2' as never), 'setAsyncThreads("2")'), TypeError, 'ERR_INVALID_ARG_TYPE', 'setAsyncThreads("2")')
  const other = n === 1 ? 2 : n - 1
  assertError(t, thrown(t, () => setAsyncThreads(other), `setAsyncThreads(${other})`), StoreStateError, 'ERR_ASYNC_POOL_STARTED', `setAsyncThreads(${other}) after start`)
  t.notThrows(() => setAsyncThreads(n), 'the running size is accepted')
  t.is(asyncThreads(), n, 'the pool keeps its size')
  t.is(await fn(pooled().inst, 'add').callAsync(2, 2), 4, 'the pool still runs calls')
})

// ---------------------------------------------------------------------------------------------
// The fiber-stack budget, and scale (child processes)
// ---------------------------------------------------------------------------------------------

test.serial('fiber-stack budget of 4: of 6 live stores, 4 calls resolve and 2 reject ERR_RESOURCE_EXHAUSTED; disposing one lets another call run', async (t) => {
  t.timeout(60_000)
  type Outcome = { ok: boolean; value?: unknown; error?: ErrorData; isWasmtimeError?: boolean }
  const { report } = await runChild<{ first: (Outcome & { i: number })[]; fresh: Outcome; retry: Outcome | null }>(
    t, 'async-pool-budget.mjs', [], { WASMTIME_NODE_MAX_FIBERS: '4' },
  )
  if (!report) return
  const ok = report.first.filter((r) => r.ok)
  const refused = report.first.filter((r) => !r.ok)
  t.is(ok.length, 4, 'four stores get a fiber stack')
  for (const r of ok) t.is(r.value, 7, `store ${r.i}`)
  t.is(refused.length, 2, 'two do not')
  for (const r of refused) {
    t.true(r.isWasmtimeError, `store ${r.i}: a WasmtimeError`)
    t.like(r.error, { name: 'WasmtimeError', code: 'ERR_RESOURCE_EXHAUSTED' }, `store ${r.i}`)
    t.regex(r.error?.message ?? '', /dispose\(\)/, `store ${r.i}: the message says what to do`)
  }
  t.deepEqual(report.fresh, { ok: true, value: 7 }, 'after one store is disposed, a new store’s call succeeds')
  t.deepEqual(report.retry, { ok: true, value: 7 }, 'after another is disposed, a refused store’s retry succeeds')
})

test.serial('50,000 async stores in a child process, each callAsync awaiting a 10 ms host Promise: all correct, clean exit', async (t) => {
  t.timeout(180_000)
  const N = 50_000
  type Report = { count: number; correct: number; wrong: unknown[]; errors: unknown[]; errorCount: number; hostCalls: number; peakThreads: number; asyncThreads: number; firstSettledMs: number; totalMs: number }
  const { report } = await runChild<Report>(t, 'async-pool-many.mjs', [String(N)], {})
  if (!report) return
  t.log(`child: peak ${report.peakThreads} OS threads, pool of ${report.asyncThreads}; first call settled ${report.firstSettledMs?.toFixed(0)} ms after dispatch, all in ${report.totalMs?.toFixed(0)} ms`)
  t.is(report.count, N)
  t.deepEqual(report.wrong, [], 'no wrong result')
  t.deepEqual(report.errors, [], 'no rejection')
  t.is(report.errorCount, 0)
  t.is(report.correct, N, 'every call resolves to 2k + 1')
  t.is(report.hostCalls, N)
})
