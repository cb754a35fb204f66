// Leak tests: many stores whose host functions close over the store and the instance (the cycle
// that N-API references cannot see through), dropped without dispose(), must be collected; and
// many create/call/dispose cycles must not grow the process either.
//
// The loops yield to the event loop now and then: Node runs N-API finalizers from the event loop,
// so a loop that never yields cannot free anything a finalizer owns, whatever the package does.
// Real servers yield between requests, so this is the realistic shape.
import test from 'ava'
import * as v8 from 'node:v8'
import * as vm from 'node:vm'

import { Engine, Instance, Memory, Module, Store, StoreStateError } from '../dist/index.js'
import type { ExportedFunction } from '../dist/index.js'

const MiB = 1024 * 1024
const LIMIT = 200 * MiB

const WAT = `
(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run") (param i32) (result i32)
    (i32.store8 (i32.const 0) (local.get 0))
    (i32.add (call $host (local.get 0)) (i32.const 1))))`

/** `global.gc` when available (or obtainable); the tests never depend on it. */
function findGc(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc
  if (typeof g === 'function') return g
  try {
    v8.setFlagsFromString('--expose-gc')
    const fromContext = vm.runInNewContext('gc') as unknown
    if (typeof fromContext === 'function') return fromContext as () => void
  } catch {
    // not available: fine
  }
  return undefined
}

const gc = findGc()

const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Lets pending finalizers run, collecting garbage first when we can. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    gc?.()
    await tick()
  }
  await new Promise<void>((resolve) => setTimeout(resolve, 50))
  gc?.()
  await tick()
}

const rss = () => process.memoryUsage().rss
const fmt = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`

test.serial('100,000 stores with host functions closing over store and instance, dropped without dispose()', async (t) => {
  t.timeout(10 * 60_000)
  const module = new Module(Engine.default, WAT)
  let wrong = 0
  let hostCalls = 0
  let collected = 0
  const registry = new FinalizationRegistry<number>(() => {
    collected++
  })

  const iteration = (i: number) => {
    const store = new Store(Engine.default, { data: { i } })
    registry.register(store, i)
    let instance: Instance | undefined
    const host = (x: number) => {
      hostCalls++
      // Closes over the instance (through its exports) and over the store.
      const memory = instance!.exports.memory as Memory
      if (memory.read(0, 1)[0] !== (x & 0xff)) wrong++
      return (store.data as { i: number }).i + x
    }
    instance = new Instance(store, module, { env: { host } })
    const r = (instance.exports.run as ExportedFunction)(i & 0x7f)
    if (r !== i + (i & 0x7f) + 1) wrong++
  }

  const WARMUP = 5_000
  const N = 100_000
  const YIELD_EVERY = 250
  let i = 0
  for (; i < WARMUP; i++) {
    iteration(i)
    if (i % YIELD_EVERY === 0) await tick()
  }
  await settle()
  const before = rss()

  // The peak during the loop (no forced GC there) shows that V8 learns of the native memory
  // and collects dropped stores in time by itself.
  let peak = before
  for (; i < WARMUP + N; i++) {
    iteration(i)
    if (i % YIELD_EVERY === 0) {
      await tick()
      peak = Math.max(peak, rss())
    }
  }
  await settle()
  const after = rss()

  const growth = after - before
  t.log(`gc available: ${gc ? 'yes' : 'no'}`)
  t.log(`rss after ${WARMUP} warm-up iterations: ${fmt(before)}`)
  t.log(`rss after ${N} more iterations: ${fmt(after)}`)
  t.log(`growth: ${fmt(growth)} (limit ${fmt(LIMIT)})`)
  t.log(`stores seen collected by a FinalizationRegistry: ${collected} of ${WARMUP + N}`)
  t.log(`peak rss during the loop: ${fmt(peak)} (+${fmt(peak - before)})`)
  t.true(peak - before < LIMIT, `rss peaked ${fmt(peak - before)} above the warm-up level: GC did not keep up`)
  t.is(hostCalls, WARMUP + N, 'every call reached the host function')
  if (gc) {
    // With a full GC available, unreachable stores must actually be collected: a native strong
    // reference to the host closure (which captures the store) would keep every one alive.
    t.true(collected > (WARMUP + N) / 2, `only ${collected} stores were collected`)
  }
  t.is(wrong, 0, 'every call returned the right value and the host saw the right memory')
  t.true(growth < LIMIT, `rss grew by ${fmt(growth)}, more than ${fmt(LIMIT)}`)
})

test.serial('20,000 create/call/dispose cycles', async (t) => {
  t.timeout(10 * 60_000)
  const module = new Module(Engine.default, WAT)
  let wrong = 0
  let closedChecked = false

  const iteration = (i: number) => {
    const store = new Store()
    let instance: Instance | undefined
    const host = (x: number) => {
      const memory = instance!.exports.memory as Memory
      if (memory.read(0, 1)[0] !== (x & 0xff)) wrong++
      return x * 2
    }
    instance = new Instance(store, module, { env: { host } })
    const run = instance.exports.run as ExportedFunction
    const x = i & 0x7f
    if (run(x) !== x * 2 + 1) wrong++
    const buffer = (instance.exports.memory as Memory).buffer
    store.dispose()
    if (buffer.byteLength !== 0) wrong++
    if (!closedChecked) {
      closedChecked = true
      t.throws(() => run(1), { instanceOf: StoreStateError, code: 'ERR_STORE_CLOSED' })
    }
  }

  const WARMUP = 1_000
  const N = 20_000
  let i = 0
  for (; i < WARMUP; i++) {
    iteration(i)
    if (i % 250 === 0) await tick()
  }
  await settle()
  const before = rss()
  for (; i < WARMUP + N; i++) {
    iteration(i)
    if (i % 250 === 0) await tick()
  }
  await settle()
  const after = rss()
  const growth = after - before
  t.log(`gc available: ${gc ? 'yes' : 'no'}`)
  t.log(`rss after ${WARMUP} warm-up cycles: ${fmt(before)}`)
  t.log(`rss after ${N} more cycles: ${fmt(after)}`)
  t.log(`growth: ${fmt(growth)} (limit ${fmt(LIMIT)})`)
  t.is(wrong, 0, 'every cycle returned the right value and detached its buffer on dispose')
  t.true(growth < LIMIT, `rss grew by ${fmt(growth)}, more than ${fmt(LIMIT)}`)
})
