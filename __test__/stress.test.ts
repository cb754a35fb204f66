// Stress (issue "Reliability", item 4): 4 workers × 10,000 mixed operations chosen by a seeded
// PRNG — share/fromShared of modules and engines, instantiate (Instance, Linker, InstancePre),
// calls that write known bytes and read them back, callAsync, traps, interrupts made by another
// worker on a store spinning in wasm, store.transfer() to another worker and receive there,
// dispose — must finish in bounded time with no crash, no deadlock and consistent memory contents.
//
// The workers (workers/stress-worker.mjs, which describes the operations and the protocol) talk to
// each other over a mesh of MessagePorts; the main thread only starts them, collects their
// reports and runs the watchdog: if they have not all finished within TIME_LIMIT_MS, the test
// fails saying which worker was where (a deadlock or a lost interrupt), and the workers are
// terminated (which interrupts their running wasm).
//
//   STRESS_SEED=n      another PRNG seed (the default makes runs repeatable)
//   STRESS_OPS=n       operations per worker (default 10,000)
//   STRESS_TIME_LIMIT_MS=n   the watchdog's limit (default 120,000)
import test from 'ava'
import * as path from 'node:path'
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads'

import { Engine, Instance, Module, Store } from '../dist/index.js'
import { assertInterruptLatency } from './helpers/assert'
import { fn } from './helpers/util'
import { onCI } from './helpers/prereq'

const native = require('../index.js') as { compileCount(): number; sharedRegistrySize(): number }

const WORKERS = 4
const OPS = Number(process.env.STRESS_OPS ?? 10_000)
const SEED = Number(process.env.STRESS_SEED ?? 0x5eed_2024)
const TIME_LIMIT_MS = Number(process.env.STRESS_TIME_LIMIT_MS ?? 120_000)
// The knobs are for exploring by hand: CI always runs the full size.
if (onCI && OPS < 10_000) throw new Error(`STRESS_OPS=${OPS} is refused under CI: the stress test runs at full size there`)
/** Bytes of each store's memory that the workers model and check. */
const REGION = 2048
/** Stores each worker keeps at most. */
const POOL_MAX = 8
// Iterations of `spin`: tens of seconds, far longer than an interrupt takes to arrive. Bounded,
// so that a lost interrupt shows as a failed check ("not interrupted"), not as a hung thread.
const SPIN_BOUND = 30_000_000_000n
/** A spin's start to its trap, peer scheduling included (see the end of the test); 1 s was exceeded (1025 ms) under load. */
const SPIN_TO_TRAP_BOUND_MS = 5000

// fill(off, len, seed): byte off+k = (seed + 31k) & 0xff, then calls++ and tick(seed).
// sum(off, len): s = s * 31 + byte, over the range (i32 arithmetic). spin: calls started(), then
// loops up to $bound times. hostfail: the host function throws (tick(-1)).
const STRESS_WAT = `
(module
  (import "env" "tick" (func $tick (param i32)))
  (import "env" "started" (func $started))
  (memory (export "mem") 1)
  (global $calls (export "calls") (mut i32) (i32.const 0))
  (func (export "fill") (param $off i32) (param $len i32) (param $seed i32)
    (local $k i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $k) (local.get $len)))
        (i32.store8 (i32.add (local.get $off) (local.get $k))
          (i32.add (local.get $seed) (i32.mul (local.get $k) (i32.const 31))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $l)))
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (call $tick (local.get $seed)))
  (func (export "sum") (param $off i32) (param $len i32) (result i32)
    (local $k i32) (local $s i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $k) (local.get $len)))
        (local.set $s (i32.add (i32.mul (local.get $s) (i32.const 31))
          (i32.load8_u (i32.add (local.get $off) (local.get $k)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $l)))
    (local.get $s))
  (func (export "spin") (param $bound i64) (result i64)
    (local $i i64)
    (call $started)
    (loop $l
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $l (i64.lt_u (local.get $i) (local.get $bound))))
    (local.get $i))
  (func (export "boom") unreachable)
  (func (export "hostfail") (call $tick (i32.const -1)))
  (func (export "ok") (result i32) (i32.const 1)))`

type Msg = { type: string; [field: string]: any }

interface Stats {
  index: number
  counts: Record<string, number>
  checks: { passed: number; failed: number; failures: string[] }
  pool: number
  sharedOut: number
  receivedFromPeers: number
  spins: number
  spinMs: { median: number; max: number } | null
  interruptMs: { median: number; max: number } | null
  serveMs: { median: number; max: number } | null
}

interface Tracked {
  worker: Worker
  index: number
  phase: string
  progress: number
  lastOp: string
  errors: string[]
  exitCode?: number
  done?: Msg
  drained?: Msg
}

test.serial(`stress: ${WORKERS} workers × ${OPS.toLocaleString('en')} mixed operations (seed ${SEED}), bounded time, consistent memory`, async (t) => {
  t.timeout(TIME_LIMIT_MS + 60_000)
  const module = new Module(Engine.default, STRESS_WAT)
  const custom = new Engine({ optLevel: 'none' })
  const customModule = new Module(custom, '(module (func (export "f") (result i32) (i32.const 8)))')
  const lock = new Int32Array(new SharedArrayBuffer(4))
  const registryBefore = native.sharedRegistrySize()

  // A mesh: one MessageChannel per pair of workers.
  const ports: Array<Record<number, MessagePort>> = Array.from({ length: WORKERS }, () => ({}))
  for (let i = 0; i < WORKERS; i++) {
    for (let j = i + 1; j < WORKERS; j++) {
      const { port1, port2 } = new MessageChannel()
      ports[i]![j] = port1
      ports[j]![i] = port2
    }
  }

  const t0 = performance.now()
  const tracked: Tracked[] = []
  let notify: () => void = () => {}
  const changed = () => notify()

  for (let index = 0; index < WORKERS; index++) {
    const workerData = {
      index,
      seed: SEED,
      ops: OPS,
      ports: ports[index],
      moduleToken: module.share(),
      engineToken: custom.share(),
      customModuleToken: customModule.share(),
      lock,
      spinBound: SPIN_BOUND,
      region: REGION,
      poolMax: POOL_MAX,
    }
    const worker = new Worker(path.join(__dirname, 'workers', 'stress-worker.mjs'), {
      workerData,
      transferList: Object.values(ports[index]!),
    })
    const w: Tracked = { worker, index, phase: 'running', progress: 0, lastOp: '-', errors: [] }
    tracked.push(w)
    worker.on('message', (m: Msg) => {
      if (m.type === 'progress') {
        w.progress = m.done
        w.lastOp = m.op
      } else if (m.type === 'done') {
        w.done = m
        w.progress = OPS
        w.phase = 'done'
      } else if (m.type === 'drained') {
        w.drained = m
        w.phase = 'drained'
      } else if (m.type === 'failed') {
        w.errors.push(`failed: ${m.error.name}: ${m.error.message}`)
        w.phase = 'failed'
      } else {
        w.errors.push(`unexpected message ${JSON.stringify(m).slice(0, 200)}`)
      }
      changed()
    })
    worker.on('error', (e) => {
      w.errors.push(`crashed: ${e.stack ?? e}`)
      w.phase = 'crashed'
      changed()
    })
    worker.on('messageerror', (e) => {
      w.errors.push(`messageerror: ${String(e)}`)
      changed()
    })
    worker.on('exit', (code) => {
      w.exitCode = code
      if (w.phase !== 'exiting') {
        w.errors.push(`exited with code ${code} in phase ${w.phase}`)
        w.phase = 'exited'
      }
      changed()
    })
  }
  t.teardown(async () => {
    await Promise.all(tracked.map((w) => w.worker.terminate()))
  })

  /** Resolves when `cond` holds; rejects when a worker failed or the deadline passed. */
  const deadline = t0 + TIME_LIMIT_MS
  const until = (cond: () => boolean, what: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const where = tracked.map((w) => `worker ${w.index}: ${w.phase}, ${w.progress}/${OPS} ops, last reported: ${w.lastOp}`)
        reject(new Error(`watchdog: not all workers ${what} within ${TIME_LIMIT_MS / 1000} s — a deadlock, or a lost interrupt:\n  ${where.join('\n  ')}`))
      }, Math.max(0, deadline - performance.now()))
      notify = () => {
        const errors = tracked.flatMap((w) => w.errors.map((e) => `worker ${w.index}: ${e}`))
        if (errors.length) {
          clearTimeout(timer)
          reject(new Error(errors.join('\n')))
        } else if (cond()) {
          clearTimeout(timer)
          resolve()
        }
      }
      notify()
    })

  // 1. The operations.
  await until(() => tracked.every((w) => w.done), 'finished their operations')
  const opsDone = performance.now()
  // 2. Drain: every store and module sent to a worker must arrive there.
  for (const w of tracked) {
    const expect = tracked.reduce((s, o) => s + (o.index === w.index ? 0 : o.done!.sent[w.index]), 0)
    w.phase = 'draining'
    w.worker.postMessage({ type: 'drain', expect })
  }
  await until(() => tracked.every((w) => w.drained), 'drained their messages')
  // 3. Exit, naturally.
  for (const w of tracked) {
    w.phase = 'exiting'
    w.worker.postMessage({ type: 'exit' })
  }
  await until(() => tracked.every((w) => w.exitCode !== undefined), 'exited')
  const seconds = (performance.now() - t0) / 1000

  // Report.
  const final = tracked.map((w) => w.drained!.stats as Stats)
  const ops: Record<string, number> = {}
  const counts: Record<string, number> = {}
  const opMs: Record<string, number> = {}
  for (const w of tracked) for (const [k, v] of Object.entries(w.done!.ops as Record<string, number>)) ops[k] = (ops[k] ?? 0) + v
  for (const w of tracked) for (const [k, v] of Object.entries(w.done!.opMs as Record<string, number>)) opMs[k] = (opMs[k] ?? 0) + v
  for (const s of final) for (const [k, v] of Object.entries(s.counts)) counts[k] = (counts[k] ?? 0) + v
  const totalOps = Object.values(ops).reduce((a, b) => a + b, 0)
  const passed = final.reduce((s, x) => s + x.checks.passed, 0)
  const failed = final.reduce((s, x) => s + x.checks.failed, 0)
  const failures = final.flatMap((x) => x.checks.failures)
  const sortedKeys = (o: Record<string, number>) => Object.keys(o).sort().map((k) => `${k}=${o[k]}`).join(' ')
  console.log(
    [
      `[stress] ${WORKERS} workers × ${OPS} ops, seed ${SEED}: ${totalOps} operations in ${((opsDone - t0) / 1000).toFixed(1)} s, ${seconds.toFixed(1)} s with drain and exit (limit ${TIME_LIMIT_MS / 1000} s)`,
      `  operations chosen: ${sortedKeys(ops)}`,
      `  mean ms per operation: ${Object.keys(ops).sort().map((k) => `${k}=${(opMs[k]! / ops[k]!).toFixed(2)}`).join(' ')}`,
      `  done (all workers): ${sortedKeys(counts)}`,
      ...final.map((s) => `  worker ${s.index}: ${s.checks.passed} checks passed, ${s.checks.failed} failed; ${s.spins} spins interrupted by peers, ms from start to trap: median ${s.spinMs?.median.toFixed(1)}, max ${s.spinMs?.max.toFixed(1)}; from the peer's interrupt() to the trap: max ${s.interruptMs?.max.toFixed(1)}; peers' interrupt requests reached it within ${s.serveMs?.max.toFixed(1)} ms; stores received from peers (incl. modules) ${s.receivedFromPeers}`),
      `  consistency checks: ${passed} passed, ${failed} failed`,
      ...failures.map((f) => `  FAILED ${f}`),
    ].join('\n'),
  )

  t.is(totalOps, WORKERS * OPS, 'every operation ran')
  t.deepEqual(tracked.map((w) => w.exitCode), tracked.map(() => 0), 'every worker ended cleanly')
  t.is(failed, 0, `failed checks:\n${failures.join('\n')}`)
  t.true(passed > WORKERS * OPS, `only ${passed} checks ran`)
  t.is(counts['interrupt.served'], (counts['interrupt.sync'] ?? 0) + (counts['interrupt.async'] ?? 0), 'every spin was interrupted by the peer it asked')
  t.true((counts['interrupt.sync'] ?? 0) > 0 && (counts['interrupt.async'] ?? 0) > 0, 'both sync and callAsync spins were interrupted')
  t.is(counts['transfer.received'], counts['transfer.sent'], 'every store sent to a peer was received and checked there')
  t.is(counts['share.peerModule'], counts['share.toPeer'], 'every module shared with a peer was instantiated there')
  t.true(final.every((s) => s.sharedOut === 0 && s.pool === 0), 'every shared module was acked and every store disposed')
  t.true(seconds * 1000 < TIME_LIMIT_MS, `took ${seconds.toFixed(1)} s`)
  // The interrupts: from the peer's interrupt() to the trap, within the interrupt bound (1 s). A
  // spin's whole time, from its start to its trap, adds its request reaching the peer — the peer's
  // event loop between operations, itself possibly waiting on a spin of its own, on 2 cores shared
  // with spinning wasm threads — which is scheduling, not the interrupt: bounded more loosely.
  const spins = final.reduce((n, s) => n + s.spins, 0)
  assertInterruptLatency(t, Math.max(...final.map((s) => s.interruptMs?.max ?? 0)), `the slowest of ${spins} interrupts`, "from the peer's interrupt() to the trap")
  const spinMax = Math.max(...final.map((s) => s.spinMs?.max ?? 0))
  t.log(`the slowest of ${spins} spins: ${spinMax.toFixed(1)} ms from its start to its trap (bound ${SPIN_TO_TRAP_BOUND_MS} ms)`)
  t.true(spinMax <= SPIN_TO_TRAP_BOUND_MS, `a spin took ${spinMax.toFixed(1)} ms from its start to its trap (bound ${SPIN_TO_TRAP_BOUND_MS} ms)`)

  // The process is healthy afterwards: the main thread compiles, instantiates and calls.
  const inst = new Instance(new Store(), module, { env: { tick: () => {}, started: () => {} } })
  fn(inst, 'fill')(0, 16, 3)
  t.is(fn(inst, 'sum')(0, 1), 3)
  console.log(`  share registry: ${registryBefore} entries before, ${native.sharedRegistrySize()} after (modules the workers dropped go once collected)`)
})
