// Leak loops (issue "Reliability", item 2): 100,000 iterations of each kind of work that
// leak.test.ts and leak-share.test.ts do not already run 100,000 times, with a bound on RSS growth
// after warm-up.
//
//   already covered elsewhere: create/call/drop without dispose, 100,000 stores (leak.test.ts,
//   bounded there by 200 MiB); compile/share/fromShared/drop of 10,000 distinct modules
//   (leak-share.test.ts).
//   here: create/call/dispose, share/fromShared (modules, engines, interrupt handles),
//   transfer/receive, callAsync, traps and host exceptions — 100,000 iterations each.
//
// How each loop is measured: a warm-up (10,000 iterations) brings malloc's arenas, V8's heap and
// wasmtime's caches to their working size; then a settle (helpers/gc.ts: full GCs and event-loop
// turns, where Node runs N-API finalizers) and a census: RSS, the package's live native objects
// (liveObjects()), the process's OS threads and file descriptors. The 100,000 iterations run in
// batches of 250, yielding between batches (a dropped store is freed by a finalizer, which needs
// the event loop) — except the dispose loop, which runs segments of 10,000 without yielding:
// dispose() alone must keep its stores down. liveObjects() is sampled every 1,000 iterations; at five
// checkpoints the loop settles and RSS is sampled (a leak grows linearly through them, a plateau
// does not). At the end, RSS growth is bounded, and every live-object count, the OS thread count
// and the file descriptor count must be back at their baseline exactly (helpers/gc.ts waits for
// callAsync threads and epoch tickers to end). The figures are printed with console.log.
import test, { type ExecutionContext } from 'ava'
import * as fs from 'node:fs'

import { Engine, Func, Instance, InterruptHandle, Linker, liveObjects, Module, Store, StoreStateError, Trap } from '../dist/index.js'
import type { ExportedFunction, Global, Memory, Table } from '../dist/index.js'
import { assertBackToBaseline, baseline, type Census, censusDelta, census, rss, settle, tick } from './helpers/gc'
import { fn, global, mem, table } from './helpers/util'

// The generated N-API loader's process-wide diagnostics.

const native = require('../index.js') as { compileCount(): number }

const MiB = 1024 * 1024
/** The bound the issue states for RSS growth after warm-up. */
const LIMIT = 30 * MiB
// LEAK_LOOPS_SCALE=0.1 runs a tenth of every loop: a quick local check of the tests themselves
// (the figures then say little). Refused in CI, where it would weaken the suite silently; the
// titles show it.
const SCALE = (() => {
  const raw = process.env.LEAK_LOOPS_SCALE
  if (raw === undefined) return 1
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`LEAK_LOOPS_SCALE=${raw} is refused under CI=${process.env.CI}: the leak loops run at full size in CI`)
  const scale = Number(raw)
  if (!(scale > 0 && scale <= 1)) throw new Error(`LEAK_LOOPS_SCALE must be a number in (0, 1], got ${JSON.stringify(raw)}`)
  return scale
})()
const WARMUP = Math.round(10_000 * SCALE)
const N = Math.round(100_000 * SCALE)
const COUNT = N.toLocaleString('en') + (SCALE === 1 ? '' : ` (LEAK_LOOPS_SCALE=${SCALE})`)
/** Iterations between yields to the event loop (finalizers run there). */
const BATCH = 250
/** Iterations between samples of liveObjects(). */
const SAMPLE_EVERY = 1_000
const CHECKPOINTS = 5

const fds = () => fs.readdirSync('/proc/self/fd').length
const fmt = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`
const signed = (bytes: number) => `${bytes >= 0 ? '+' : ''}${(bytes / MiB).toFixed(1)}`

interface Loop {
  name: string
  /** Runs iterations [from, to): may be async (callAsync) unless `yields` is false. */
  batch: (from: number, to: number) => void | Promise<void>
  /** false: no yield to the event loop within segments of WARMUP iterations (the batch must be synchronous). */
  yields?: boolean
}

type Counts = Omit<Census, 'osThreads'>

interface Figures {
  base: Census
  /** File descriptors at the baseline. */
  fds: number
  before: number
  after: number
  growth: number
  checkpoints: number[]
  seconds: number
  /** The most each live-object count rose above its baseline, sampled every SAMPLE_EVERY iterations. */
  peak: Counts
}

/** A batch that runs `iteration(i)` for each i in [from, to), one after the other. */
function sequential(iteration: (i: number) => void): (from: number, to: number) => void {
  return (from, to) => {
    for (let i = from; i < to; i++) iteration(i)
  }
}

/** Warm-up, settle, census; the iterations with samples and checkpoints; settle, RSS. Prints the figures. */
async function measure(t: ExecutionContext, loop: Loop): Promise<Figures> {
  const yields = loop.yields ?? true
  let base: Census | undefined
  /** Filled by the samples taken after the baseline. */
  const peak: Partial<Counts> = {}
  const sample = () => {
    if (!base) return
    const now: Counts = liveObjects()
    for (const k of Object.keys(now) as Array<keyof Counts>) peak[k] = Math.max(peak[k] ?? -Infinity, now[k] - base[k])
  }
  let i = 0
  const runTo = async (end: number) => {
    while (i < end) {
      if (yields) {
        const to = Math.min(end, i + BATCH)
        await loop.batch(i, to)
        i = to
        if (i % SAMPLE_EVERY === 0) sample()
        await tick()
      } else {
        // Segments of the warm-up's size (so that RSS is compared at the same high-water mark),
        // each run without a yield, sampled every SAMPLE_EVERY; a settle between segments.
        const segmentEnd = Math.min(end, i + WARMUP)
        while (i < segmentEnd) {
          const to = Math.min(segmentEnd, i + SAMPLE_EVERY)
          if (loop.batch(i, to) !== undefined) throw new Error(`${loop.name}: a loop that does not yield needs a synchronous batch`)
          i = to
          sample()
        }
        await settle()
      }
    }
  }
  await runTo(WARMUP)
  base = await baseline()
  const before = rss()
  const heapBefore = process.memoryUsage()
  const fdsBefore = fds()
  const t0 = performance.now()
  const checkpoints: number[] = []
  for (let c = 1; c <= CHECKPOINTS; c++) {
    await runTo(WARMUP + Math.round((N * c) / CHECKPOINTS))
    sample()
    await settle()
    checkpoints.push(rss() - before)
  }
  const seconds = (performance.now() - t0) / 1000
  const after = rss()
  const heapAfter = process.memoryUsage()
  const growth = after - before
  const firstHalf = checkpoints[Math.floor(CHECKPOINTS / 2) - 1] ?? 0
  const peaks = peak as Counts
  const lines = [
    `[leak-loops] ${loop.name}`,
    `  iterations: ${N} (after ${WARMUP} warm-up), ${yields ? `yielding every ${BATCH}` : `never yielding within segments of ${WARMUP}`}, ${seconds.toFixed(1)} s (${((seconds * 1e6) / N).toFixed(0)} µs each)`,
    `  RSS before: ${fmt(before)}, after: ${fmt(after)}, growth: ${fmt(growth)} (limit ${fmt(LIMIT)})`,
    `  RSS growth at each ${N / CHECKPOINTS} iterations (MiB, after GC): ${checkpoints.map(signed).join(' ')}`,
    `  growth over the last ${N - Math.floor(CHECKPOINTS / 2) * (N / CHECKPOINTS)} iterations: ${fmt(growth - firstHalf)}`,
    `  V8 heapUsed ${fmt(heapBefore.heapUsed)} → ${fmt(heapAfter.heapUsed)}, external ${fmt(heapBefore.external)} → ${fmt(heapAfter.external)}; file descriptors ${fdsBefore} → ${fds()}`,
    `  baseline: ${JSON.stringify(base)}`,
    `  most above baseline (sampled every ${SAMPLE_EVERY} iterations): ${Object.entries(peaks).map(([k, v]) => `${k} +${v}`).join(', ')}`,
    `  above baseline after the last checkpoint's settle: ${censusDelta(census(), base)}`,
  ]
  console.log(lines.join('\n'))
  return { base, fds: fdsBefore, before, after, growth, checkpoints, seconds, peak: peaks }
}

/**
 * RSS growth within the bound; every count, OS thread and file descriptor back at its baseline.
 * `keep`: the loop's long-lived objects, counted in the baseline (see assertBackToBaseline).
 */
async function assertBounded(t: ExecutionContext, name: string, f: Figures, keep: unknown[]): Promise<void> {
  t.true(f.growth < LIMIT, `${name}: RSS grew by ${fmt(f.growth)} after warm-up, more than ${fmt(LIMIT)} (checkpoints ${f.checkpoints.map(signed).join(' ')} MiB)`)
  await assertBackToBaseline(t, f.base, name, { keep })
  t.is(fds(), f.fds, `${name}: file descriptors not back at their baseline`)
}

/** Counts failed checks by what failed, and keeps the first few details. */
class Checks {
  failed = 0
  passed = 0
  readonly first: string[] = []
  ok(cond: boolean, what: () => string): void {
    if (cond) {
      this.passed++
      return
    }
    this.failed++
    if (this.first.length < 10) this.first.push(what())
  }
  /** Records the error `f` throws, or a failure when it throws nothing. */
  thrown(f: () => unknown, what: string): unknown {
    try {
      f()
    } catch (e) {
      return e
    }
    this.ok(false, () => `${what}: no error`)
    return undefined
  }
  assert(t: ExecutionContext, name: string): void {
    t.is(this.failed, 0, `${name}: ${this.failed} failed checks, first: ${this.first.join(' | ')}`)
    t.true(this.passed > 0)
  }
}

// ---------------------------------------------------------------------------------------------

const CALL_WAT = `
(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run") (param i32) (result i32)
    (i32.store8 (i32.const 0) (local.get 0))
    (i32.add (call $host (local.get 0)) (i32.const 1)))
  (func (export "plain") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func (export "boom") unreachable))`

test.serial(`${COUNT} create/call/dispose cycles (Instance, Linker and InstancePre) without yielding, stores freed at once, RSS bounded, counts back to baseline`, async (t) => {
  t.timeout(10 * 60_000)
  const module = new Module(Engine.default, CALL_WAT)
  const checks = new Checks()
  const linker = new Linker().func('env', 'host', { params: ['i32'], results: ['i32'] }, (x: number) => x * 2)
  const pre = linker.instantiatePre(module)

  const iteration = (i: number) => {
    const store = new Store(undefined, { data: i })
    const x = i & 0x7f
    let instance: Instance
    switch (i % 3) {
      case 0: {
        // A host function closing over the instance and the store.
        let inst: Instance | undefined
        const host = (v: number) => {
          checks.ok(mem(inst!).read(0, 1)[0] === v && store.data === i, () => `host of iteration ${i} saw the wrong memory or store`)
          return v * 2
        }
        instance = inst = new Instance(store, module, { env: { host } })
        break
      }
      case 1:
        instance = linker.instantiate(store, module)
        break
      default:
        instance = pre.instantiate(store)
    }
    const r = fn(instance, 'run')(x)
    checks.ok(r === 2 * x + 1, () => `run(${x}) returned ${r} at iteration ${i}`)
    const buffer = mem(instance).buffer
    checks.ok(new Uint8Array(buffer)[0] === x, () => `memory.buffer[0] at iteration ${i}`)
    store.dispose()
    checks.ok(buffer.byteLength === 0, () => `buffer not detached by dispose at iteration ${i}`)
    if (i === 0) {
      const e = checks.thrown(() => fn(instance, 'run')(1), 'call after dispose')
      checks.ok(e instanceof StoreStateError && e.code === 'ERR_STORE_CLOSED', () => `call after dispose threw ${String(e)}`)
    }
  }

  const name = 'create/call/dispose'
  const f = await measure(t, {
    name,
    batch: sequential(iteration),
    // dispose() frees each wasmtime store at once: no finalizer, hence no event loop, needed.
    yields: false,
  })
  checks.assert(t, name)
  // Sampled between cycles, every 1,000, in segments of 10,000 that never yield: every store
  // created was already freed by its dispose(). (Instance handles, by contrast, go with their JS
  // wrappers' finalizers: the figures above show them piling up until the checkpoint's settle.)
  t.is(f.peak.stores, 0, `${name}: live stores rose above baseline during a loop that disposes every store`)
  await assertBounded(t, name, f, [module, linker, pre])
})

// ---------------------------------------------------------------------------------------------

const SHARE_WAT = (n: number) => `(module (func (export "f") (result i32) (i32.const ${n})))`

test.serial(`${COUNT} share/fromShared rounds of modules, engines and interrupt handles, RSS bounded, counts (share registry included) back to baseline`, async (t) => {
  t.timeout(10 * 60_000)
  const checks = new Checks()
  // A token pins its object until it is received (base/share.rs), so identity is checked with
  // tokens that are received at once: nothing stays pinned, and the census comes back.
  const idOf = (x: { share(): { id: string } }, from: (t: never) => unknown) => {
    const token = x.share()
    from(token as never)
    return token.id
  }
  const mid = (x: Module) => idOf(x, Module.fromShared)
  const eid = (x: Engine) => idOf(x, Engine.fromShared)
  const hid = (x: InterruptHandle) => idOf(x, InterruptHandle.fromShared)
  const module = new Module(Engine.default, SHARE_WAT(7))
  const moduleId = mid(module)
  const custom = new Engine({ optLevel: 'none', parallelCompilation: false })
  const customId = eid(custom)
  const customModule = new Module(custom, SHARE_WAT(8))
  const defaultId = eid(Engine.default)
  const store = new Store()
  const handleId = hid(store.interruptHandle())

  const iteration = (i: number) => {
    // The same module, engine and handle, shared and fetched again and again.
    const token = module.share()
    const handle = Module.fromShared(token)
    checks.ok(token.id === moduleId && mid(handle) === moduleId, () => `module token at ${i}`)
    const e = Engine.fromShared(custom.share())
    checks.ok(eid(e) === customId, () => `engine token at ${i}`)
    checks.ok(Engine.fromShared(Engine.default.share()) === Engine.default && eid(Engine.default) === defaultId, () => `default engine at ${i}`)
    const cm = Module.fromShared(customModule.share())
    checks.ok(eid(cm.engine) === customId, () => `custom module's engine at ${i}`)
    const ih = InterruptHandle.fromShared(store.interruptHandle().share())
    checks.ok(hid(ih) === handleId, () => `interrupt handle at ${i}`)
    if (i % 10 === 0) {
      // Instantiated from the token itself, in a store of the custom engine given by token.
      const r = fn(new Instance(new Store(), token), 'f')()
      const rc = fn(new Instance(new Store(custom.share()), customModule.share()), 'f')()
      checks.ok(r === 7 && rc === 8, () => `f() gave ${r}, ${rc} at ${i}`)
    }
    if (i % 100 === 0) {
      // A fresh module: compiled, shared, fetched, run and dropped (its registry entry goes).
      const fresh = new Module(Engine.default, SHARE_WAT(i))
      const r = fn(new Instance(new Store(), Module.fromShared(fresh.share())), 'f')()
      checks.ok(r === i, () => `fresh module f() gave ${r} at ${i}`)
    }
    if (i % 1000 === 0) {
      // A fresh engine, shared and fetched, compiling through its token, then dropped.
      const engine = new Engine()
      const via = Engine.fromShared(engine.share())
      const m = new Module(engine.share(), SHARE_WAT(i + 1))
      checks.ok(eid(via) === eid(engine) && fn(new Instance(new Store(via), m), 'f')() === i + 1, () => `fresh engine at ${i}`)
    }
  }

  const name = 'share/fromShared'
  const compilesStart = native.compileCount()
  const f = await measure(t, {
    name,
    batch: sequential(iteration),
  })
  const compiled = native.compileCount() - compilesStart
  console.log(`  ${compiled} compilations (fresh modules only)`)
  checks.assert(t, name)
  t.is(compiled, Math.ceil((WARMUP + N) / 100) + Math.ceil((WARMUP + N) / 1000), 'only the fresh modules were compiled: fromShared compiles nothing')
  // The registry (liveObjects().shared) back at its baseline: every fresh module's and engine's
  // entry went with it, and re-sharing the long-lived objects added none.
  await assertBounded(t, name, f, [module, custom, customModule, store])
})

// ---------------------------------------------------------------------------------------------

// Memory, a mutable global, an externref table and two host functions: a store worth moving.
const HOP_WAT = `
(module
  (import "host" "log" (func $log (param i32)))
  (import "util" "plus1" (func $plus1 (param i32) (result i32)))
  (memory (export "mem") 1)
  (global $count (export "count") (mut i32) (i32.const 0))
  (table (export "refs") 1 externref)
  (func (export "inc") (result i32)
    (global.set $count (call $plus1 (global.get $count)))
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
    (call $log (global.get $count))
    (global.get $count)))`

test.serial(`${COUNT} transfer/receive pairs (one store per 100 hops; retired by dispose or dropped), RSS bounded, counts back to baseline`, async (t) => {
  t.timeout(10 * 60_000)
  const module = new Module(Engine.default, HOP_WAT)
  const checks = new Checks()
  const HOPS_PER_STORE = 100
  let logged = -1
  const imports = { host: { log: (v: number) => (logged = v) }, util: { plus1: (x: number) => x + 1 } }
  type Objects = { inst: Instance; mem: Memory; count: Global; refs: Table; plus: ExportedFunction }
  let store: Store | undefined
  let objects: Objects | undefined
  let hops = 0

  const newStore = (i: number) => {
    const s = new Store(undefined, { data: `store ${i}` })
    const inst = new Instance(s, module, { host: imports.host, util: imports.util })
    // A host Func that is no instance's import, re-bound by its name on receive.
    const plus = new Func(s, { params: ['i32'], results: ['i32'] }, imports.util.plus1, { module: 'util', name: 'plus1' }).callable
    table(inst, 'refs').set(0, `payload ${i}`)
    store = s
    objects = { inst, mem: mem(inst, 'mem'), count: global(inst, 'count'), refs: table(inst, 'refs'), plus }
    hops = 0
  }

  const iteration = (i: number) => {
    if (i % HOPS_PER_STORE === 0) {
      // Retire the previous store: disposed, or simply dropped (then collected).
      if (store && (i / HOPS_PER_STORE) % 2 === 0) store.dispose()
      newStore(i)
    }
    const o = objects!
    const r = fn(o.inst, 'inc')()
    checks.ok(r === hops + 1 && logged === hops + 1, () => `inc() gave ${r}, logged ${logged}, hop ${hops} at ${i}`)
    const token = store!.transfer(o)
    const { store: received, objects: got } = Store.receive(token, { imports })
    const g = got as Objects
    const counter = new DataView(g.mem.read(0, 4).buffer).getInt32(0, true)
    checks.ok(g.count.value === hops + 1 && counter === hops + 1, () => `state after the hop: global ${g.count.value}, memory ${counter}, expected ${hops + 1} at ${i}`)
    checks.ok(g.refs.get(0) === `payload ${i - (i % HOPS_PER_STORE)}` && received.data === `store ${i - (i % HOPS_PER_STORE)}`, () => `payload/data at ${i}`)
    if (i % 10 === 0) checks.ok(g.plus(41) === 42, () => `re-bound Func at ${i}`)
    store = received
    objects = g
    hops++
  }

  const name = 'transfer/receive'
  const f = await measure(t, {
    name,
    batch: sequential(iteration),
  })
  checks.assert(t, name)
  await assertBounded(t, name, f, [module, store, objects])
})

// ---------------------------------------------------------------------------------------------

test.serial(`${COUNT} callAsync calls (4 stores in parallel; host calls, Promise-returning hosts, traps, options), RSS bounded, counts back to baseline`, async (t) => {
  t.timeout(10 * 60_000)
  const module = new Module(Engine.default, CALL_WAT)
  const checks = new Checks()
  const CHAINS = 4
  const CALLS_PER_STORE = 1000

  class Chain {
    store!: Store
    run!: ExportedFunction
    plain!: ExportedFunction
    boom!: ExportedFunction
    calls = 0
    constructor(readonly index: number) {
      this.renew()
    }
    renew(): void {
      // Retire the previous store: disposed, or simply dropped (then collected).
      if (this.store && this.calls % (2 * CALLS_PER_STORE) === 0) this.store.dispose()
      this.store = new Store()
      // A Promise-returning host function for x >= 150 (the guest waits for it to settle).
      const host = (x: number) => (x >= 150 ? Promise.resolve(x * 2) : x * 2)
      const inst = new Instance(this.store, module, { env: { host } })
      this.run = fn(inst, 'run')
      this.plain = fn(inst, 'plain')
      this.boom = fn(inst, 'boom')
    }
    async call(i: number): Promise<void> {
      if (this.calls > 0 && this.calls % CALLS_PER_STORE === 0) this.renew()
      this.calls++
      const x = i % 200
      if (i % 50 === 0) {
        const e = await this.boom.callAsync().then(() => undefined, (err: unknown) => err)
        checks.ok(e instanceof Trap && e.trapCode === 'unreachable', () => `boom.callAsync() gave ${String(e)} at ${i}`)
      } else if (i % 10 === 1) {
        const r = await this.plain.callAsync(x)
        checks.ok(r === x + 1, () => `plain.callAsync(${x}) gave ${r} at ${i}`)
      } else {
        const r = i % 100 === 7 ? await this.run.callAsync(x, { timeoutMs: 30_000 }) : await this.run.callAsync(x)
        checks.ok(r === 2 * x + 1, () => `run.callAsync(${x}) gave ${r} at ${i}`)
      }
    }
  }
  const chains = Array.from({ length: CHAINS }, (_, k) => new Chain(k))

  const name = 'callAsync'
  const f = await measure(t, {
    name,
    // Iteration i runs on chain i % CHAINS; the chains run concurrently, each call after the other.
    batch: async (from, to) => {
      await Promise.all(
        chains.map(async (c) => {
          for (let i = from + ((c.index - from) % CHAINS + CHAINS) % CHAINS; i < to; i += CHAINS) await c.call(i)
        }),
      )
    },
  })
  checks.assert(t, name)
  await assertBounded(t, name, f, [module, chains])
})

// ---------------------------------------------------------------------------------------------

const TRAP_WAT = `
(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "boom") unreachable)
  (func (export "oob") (param i32) (result i32) (i32.load (i32.add (i32.const 65536) (local.get 0))))
  (func (export "div") (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
  (func $rec (export "rec") (param i32) (result i32) (i32.add (call $rec (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func (export "callhost") (param i32) (result i32) (call $host (local.get 0)))
  (func (export "ok") (result i32) (i32.const 1)))`

test.serial(`${COUNT} traps and host exceptions (unreachable, out of bounds, divide by zero, stack overflow, thrown Errors and non-Errors, re-entrant traps), RSS bounded, counts back to baseline`, async (t) => {
  t.timeout(10 * 60_000)
  const module = new Module(Engine.default, TRAP_WAT)
  const checks = new Checks()
  const STORE_EVERY = 1000
  let store: Store | undefined
  let inst: Instance | undefined
  let ex: Record<string, ExportedFunction> = {}

  const host = (x: number) => {
    if (x === 1) throw new Error(`host boom ${x}`)
    if (x === 2) throw { notAnError: x }
    if (x === 3) {
      // Re-entrant: a trap inside a nested call, caught here and replaced by a JS error.
      try {
        fn(inst!, 'boom')()
      } catch (e) {
        throw Object.assign(new Error('wrapped'), { cause: e })
      }
    }
    return x
  }

  const iteration = (i: number) => {
    if (i % STORE_EVERY === 0) {
      if (store && (i / STORE_EVERY) % 2 === 0) store.dispose()
      store = new Store()
      inst = new Instance(store, module, { env: { host } })
      ex = inst.exports as Record<string, ExportedFunction>
    }
    let e: unknown
    let want: string
    let good: (e: unknown) => boolean
    if (i % 1000 === 999) {
      want = 'Trap stack_overflow'
      good = (e) => e instanceof Trap && e.trapCode === 'stack_overflow'
      e = checks.thrown(() => ex.rec!(0), want)
    } else {
      switch (i % 6) {
        case 0:
          want = 'Trap unreachable'
          good = (e) => e instanceof Trap && e.trapCode === 'unreachable' && e.wasmBacktrace.length === 1
          e = checks.thrown(() => ex.boom!(), want)
          break
        case 1:
          want = 'Trap memory_out_of_bounds'
          good = (e) => e instanceof Trap && e.trapCode === 'memory_out_of_bounds'
          e = checks.thrown(() => ex.oob!(i & 0xff), want)
          break
        case 2:
          want = 'Trap integer_division_by_zero'
          good = (e) => e instanceof Trap && e.trapCode === 'integer_division_by_zero'
          e = checks.thrown(() => ex.div!(0), want)
          break
        case 3:
          want = 'the host Error'
          good = (e) => e instanceof Error && !(e instanceof Trap) && e.message === 'host boom 1'
          e = checks.thrown(() => ex.callhost!(1), want)
          break
        case 4:
          want = 'the thrown non-Error'
          good = (e) => (e as { notAnError?: number } | undefined)?.notAnError === 2
          e = checks.thrown(() => ex.callhost!(2), want)
          break
        default:
          want = 'the wrapping Error with the re-entrant Trap as cause'
          good = (e) => e instanceof Error && e.message === 'wrapped' && (e.cause as Trap | undefined)?.trapCode === 'unreachable'
          e = checks.thrown(() => ex.callhost!(3), want)
      }
    }
    if (e !== undefined) checks.ok(good(e), () => `expected ${want} at ${i}, got ${String(e)}`)
    // The store keeps working after every failure.
    if (i % 10 === 0) checks.ok(ex.ok!() === 1 && ex.callhost!(9) === 9, () => `store unusable after a failure at ${i}`)
  }

  const name = 'traps and host exceptions'
  const f = await measure(t, {
    name,
    batch: sequential(iteration),
  })
  checks.assert(t, name)
  await assertBounded(t, name, f, [module, store, inst])
})
