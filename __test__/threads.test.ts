// The thread model, with real worker_threads: engines and modules are shared by token (no
// recompilation), stores move between threads with store.transfer()/Store.receive() keeping their
// wasm state and re-binding host functions locally, interrupt handles work from any thread,
// thread-affine objects refuse postMessage, and workers ending with wasm state leave the process
// healthy.
//
// Worker scripts live in ./workers (plain .mjs, loading ../../dist like any user would). They talk
// to the test with `{ type, ... }` messages (see workers/common.mjs). Every worker a test starts is
// terminated when the test ends, whatever happens. The tests are serial: compileCount() is
// process-wide, and the machine has few cores.
import test, { type ExecutionContext } from 'ava'
import * as path from 'node:path'
import { MessageChannel, Worker, type MessagePort, type Transferable } from 'node:worker_threads'

import {
  Component,
  Config,
  Engine,
  ExternRef,
  Func,
  Instance,
  InterruptHandle,
  Linker,
  Module,
  MovedExternRef,
  Store,
  StoreStateError,
} from '../dist/index.js'
import type { ExportedFunction, Global, Memory, StoreTransfer, Table } from '../dist/index.js'
import { assertInterruptLatency, assertTrap, now, thrown } from './helpers/assert'
import { fn, global, mem, table } from './helpers/util'

// The generated N-API loader's process-wide diagnostics.

const native = require('../index.js') as { compileCount(): number; sharedRegistrySize(): number }

const WORKERS_DIR = path.join(__dirname, 'workers')

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

type Msg = { type: string; [field: string]: any }

/** Messages in arrival order, awaited one at a time; after `end`, waiting fails. */
class Inbox<M> {
  #queue: M[] = []
  #waiters: Array<{ resolve: (m: M) => void; reject: (e: Error) => void }> = []
  #ended: Error | undefined

  push(m: M): void {
    const w = this.#waiters.shift()
    if (w) w.resolve(m)
    else this.#queue.push(m)
  }

  end(e: Error): void {
    this.#ended ??= e
    for (const w of this.#waiters.splice(0)) w.reject(e)
  }

  next(): Promise<M> {
    if (this.#queue.length) return Promise.resolve(this.#queue.shift()!)
    if (this.#ended) return Promise.reject(this.#ended)
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }))
  }
}

/** The messages of a MessagePort (a persistent listener, so that none is missed between awaits). */
function inboxOf<M>(port: MessagePort): Inbox<M> {
  const inbox = new Inbox<M>()
  port.on('message', (m: M) => inbox.push(m))
  return inbox
}

/** A worker under test: its messages in order, its failure, its exit code. */
class TestWorker {
  readonly worker: Worker
  /** The exit code, once the worker has ended. */
  readonly exited: Promise<number>
  /** Rejects when the worker reports an unexpected exception, crashes or ends: for races. */
  readonly failed: Promise<never>
  readonly #inbox = new Inbox<Msg>()

  constructor(readonly file: string, workerData?: unknown, transferList?: readonly Transferable[]) {
    this.worker = new Worker(path.join(WORKERS_DIR, file), { workerData, transferList: transferList as Transferable[] })
    let rejectFailed!: (e: Error) => void
    this.failed = new Promise<never>((_, reject) => (rejectFailed = reject))
    this.failed.catch(() => {}) // observed only through races; never an unhandled rejection
    const end = (e: Error) => {
      rejectFailed(e)
      this.#inbox.end(e)
    }
    this.worker.on('message', (m: Msg) => {
      if (m.type === 'failed') end(new Error(`worker ${file} failed: ${m.error.name}: ${m.error.message}`))
      else this.#inbox.push(m)
    })
    this.worker.on('error', (e) => end(Object.assign(new Error(`worker ${file} crashed: ${e.message}`), { cause: e })))
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        end(new Error(`worker ${file} exited (code ${code}) before sending the message awaited`))
        resolve(code)
      })
    })
  }

  /** The next message. */
  next(): Promise<Msg> {
    return this.#inbox.next()
  }

  /** The next message, which must be of `type`. */
  async expect(type: string): Promise<Msg> {
    const m = await this.#inbox.next()
    if (m.type !== type) throw new Error(`worker ${this.file}: expected a '${type}' message, got ${JSON.stringify(m)}`)
    return m
  }

  post(msg: unknown, transferList?: readonly Transferable[]): void {
    this.worker.postMessage(msg, transferList as Transferable[])
  }

  terminate(): Promise<number> {
    return this.worker.terminate()
  }
}

/** Starts a worker that is terminated when the test ends, whatever happens. */
function spawn(t: ExecutionContext, file: string, workerData?: unknown, transferList?: readonly Transferable[]): TestWorker {
  const w = new TestWorker(file, workerData, transferList)
  t.teardown(async () => {
    await w.terminate()
  })
  return w
}

/** Runs a one-shot worker: its 'result' message, once it has also ended on its own with code 0. */
async function runWorker(t: ExecutionContext, file: string, workerData?: unknown, transferList?: readonly Transferable[]): Promise<Msg> {
  const w = spawn(t, file, workerData, transferList)
  const result = await w.expect('result')
  t.is(await w.exited, 0, `${file} ends cleanly`)
  return result
}

/** Asserts that every one of `uses` throws StoreStateError ERR_STORE_MOVED. */
function assertMoved(t: ExecutionContext, where: string, uses: Record<string, () => unknown>): void {
  for (const [what, use] of Object.entries(uses)) {
    const e = t.throws(use, { instanceOf: StoreStateError }, `${where}: ${what}`)
    t.is((e as StoreStateError | undefined)?.code, 'ERR_STORE_MOVED', `${where}: ${what}`)
  }
}

/** What `f` throws (ava's t.throws refuses DataCloneError: a DOMException is not an Error), or undefined. */
function thrownBy(f: () => unknown): unknown {
  try {
    f()
  } catch (e) {
    return e
  }
  return undefined
}

/** What the hop workers report for an old wrapper used after the transfer. */
const MOVED = 'ERR_STORE_MOVED'

function readI32(memory: Memory, offset: number): number {
  const b = memory.read(offset, 4)
  return new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true)
}

function i32Bytes(v: number): Uint8Array {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setInt32(0, v, true)
  return b
}

// ---------------------------------------------------------------------------------------------
// Modules
// ---------------------------------------------------------------------------------------------

const MIX_WAT = `
(module
  (import "env" "mix" (func $mix (param i32) (result i32)))
  (func (export "run") (param i32) (result i32)
    (i32.mul (call $mix (local.get 0)) (i32.const 2))))`

const ANSWER_WAT = '(module (func (export "answer") (result i32) (i32.const 42)))'

// A store worth moving: memory, a mutable global, an externref table, and a host import.
const HOP_WAT = `
(module
  (import "host" "log" (func $log (param i32)))
  (memory (export "mem") 1)
  (global $count (export "count") (mut i32) (i32.const 0))
  (table (export "refs") 2 externref)
  ;; Bumps the global and the i32 counter at address 0, logs the global, returns it.
  (func $inc (export "inc") (result i32)
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
    (call $log (global.get $count))
    (global.get $count))
  ;; Writes $hop into slot $hop % 64 (i32 slots from address 16), then inc.
  (func (export "record") (param $hop i32) (result i32)
    (i32.store
      (i32.add (i32.const 16) (i32.shl (i32.rem_u (local.get $hop) (i32.const 64)) (i32.const 2)))
      (local.get $hop))
    (call $inc)))`

// `spin` counts to $bound, far more iterations than any test waits for, after telling the host
// it has started. Bounded rather than `(loop (br 0))`: native code cannot be terminated, so if
// interrupts were broken an endless loop would hang the thread (and the test run) for good. The
// interrupt tests bound the time from interrupt() to the trap (1 s, helpers/assert.ts), so a late
// interrupt fails them too, not only a lost one.
const SPIN_WAT = `
(module
  (import "host" "started" (func $started))
  (func (export "spin") (param $bound i64) (result i64)
    (local $i i64)
    (call $started)
    (loop $l
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $l (i64.lt_u (local.get $i) (local.get $bound))))
    (local.get $i))
  (func (export "ok") (result i32) (i32.const 1)))`
const SPIN_BOUND = 50_000_000_000n // on the order of a minute

// ---------------------------------------------------------------------------------------------
// Sharing engines and modules
// ---------------------------------------------------------------------------------------------

test.serial('a module compiled once runs in 4 workers from its token alone, without recompiling', async (t) => {
  const module = new Module(Engine.default, MIX_WAT)
  const token = module.share()
  // The token only names the compiled module: no bytes travel.
  t.deepEqual(Object.keys(token).sort(), ['id', 'kind'])
  t.is(token.kind, 'Module')

  const compiled = native.compileCount()
  const arg = 5
  const results = await Promise.all([0, 1, 2, 3].map((index) => runWorker(t, 'share-module.mjs', { module: token, index, arg })))
  t.is(native.compileCount(), compiled, 'no worker compiled anything')

  results.forEach((r, index) => {
    // run(x) = 2 * mix(x), and each worker's mix adds its own 1000 * (index + 1).
    const expected = 2 * (arg + 1000 * (index + 1))
    t.true(r.sameId, `worker ${index}: Module.fromShared(t).share().id === t.id`)
    t.deepEqual(r.results, [expected, expected, expected], `worker ${index}: via the handle, the token, a Linker`)
    t.is(r.compileCountAfter, r.compileCountBefore, `worker ${index}: compileCount`)
    t.is(r.moduleEngineId, Engine.default.share().id, `worker ${index}: the module's engine`)
    t.deepEqual(r.exports, module.exports, `worker ${index}: exports`)
  })
  // Workers that used (and dropped) handles to the module leave it intact here.
  t.is(fn(new Instance(new Store(), module, { env: { mix: (x: number) => x } }), 'run')(21), 42)
})

test.serial('Engine.default is the same native engine in a worker; Engine and Config tokens work there', async (t) => {
  const config = new Config({ optLevel: 'none', parallelCompilation: false })
  const custom = new Engine(config)
  const defaultId = Engine.default.share().id
  t.is(Engine.default.share().id, defaultId, 'share() ids are stable')
  t.not(custom.share().id, defaultId)

  const r = await runWorker(t, 'engine.mjs', {
    defaultToken: Engine.default.share(),
    customToken: custom.share(),
    configToken: config.share(),
    wat: ANSWER_WAT,
  })
  t.is(r.defaultId, defaultId, "the worker's Engine.default is the main thread's native engine")
  t.true(r.fromSharedIsDefault, 'Engine.fromShared(default token) is Engine.default in the worker')
  t.is(r.customFromSharedId, custom.share().id)
  t.deepEqual(r.onDefault, { storeEngineId: defaultId, moduleEngineId: defaultId, answer: 42 })
  t.deepEqual(r.onCustom, { storeEngineId: custom.share().id, moduleEngineId: custom.share().id, answer: 42 })
  t.deepEqual(r.configOptions, config.options)
})

// ---------------------------------------------------------------------------------------------
// Moving stores
// ---------------------------------------------------------------------------------------------

test.serial('a store can be received in the thread that transferred it; object data and externref payloads stay behind', (t) => {
  const module = new Module(Engine.default, HOP_WAT)
  const payload = { an: 'object' }
  const store = new Store(undefined, { data: { session: 1 } })
  const inst = new Instance(store, module, { host: { log: () => {} } })
  table(inst, 'refs').set(0, 'a string payload')
  table(inst, 'refs').set(1, payload)
  fn(inst, 'inc')()

  const token = store.transfer({ inst })
  const { store: received, objects } = Store.receive(token, { imports: { host: { log: () => {} } } })
  // Documented: object data "arrives as `undefined` (pass `data` to `receive`)".
  t.is(received.data, undefined, 'object store.data arrives as undefined')
  const refs = table(objects.inst as Instance, 'refs')
  t.is(refs.get(0), 'a string payload', 'a primitive externref payload moves by value')
  t.is(refs.get(1), MovedExternRef, 'an object payload becomes the MovedExternRef placeholder, even in the same thread')
  t.true(Object.isFrozen(MovedExternRef))
  t.is(fn(objects.inst as Instance, 'inc')(), 2)

  // `data` given to receive replaces whatever the token carried.
  const replacement = { fresh: true }
  const again = Store.receive(received.transfer(), { data: replacement, imports: { host: { log: () => {} } } })
  t.is(again.store.data, replacement)
})

/** Sends the store to a store-hop worker; returns its report and the log calls made there, in order. */
async function hopVia(w: TestWorker, msg: Record<string, unknown>): Promise<{ report: Msg; logs: Msg[] }> {
  w.post({ op: 'hop', ...msg })
  const logs: Msg[] = []
  for (;;) {
    const m = await w.next()
    if (m.type === 'log') logs.push(m)
    else if (m.type === 'hopped') return { report: m, logs }
    else throw new Error(`unexpected message ${JSON.stringify(m)}`)
  }
}

interface HopExpectation {
  data: unknown
  before: { count: number; memCounter: number }
  results: number[]
  plus: number
  logs: number[]
}

/** Checks a store-hop worker's report (see workers/store-hop.mjs) against what that hop should see. */
function assertHop(t: ExecutionContext, name: string, { report, logs }: { report: Msg; logs: Msg[] }, x: HopExpectation): void {
  const last = x.results[x.results.length - 1]
  const refs = { ref0: 'a primitive payload', ref1: 'MovedExternRef', tableSize: 2 }
  t.deepEqual(report.kinds, { store: true, inst: true, mem: true, count: true, refs: true, inc: true, plus: true }, `${name}: received objects`)
  t.deepEqual(report.data, x.data, `${name}: store.data`)
  t.deepEqual(report.before, { ...x.before, ...refs }, `${name}: wasm state on arrival`)
  t.deepEqual(report.results, x.results, `${name}: inc() results`)
  t.is(report.viaInstanceCount, last, `${name}: the instance's exports share the state`)
  t.deepEqual(report.after, { count: last, memCounter: x.before.memCounter + x.results.length, ...refs }, `${name}: wasm state after its calls`)
  t.is(report.plus, x.plus, `${name}: the Func runs this worker's util.plus1`)
  t.deepEqual(logs.map((l) => [l.from, l.value]), x.logs.map((v) => [name, v]), `${name}: wasm called this worker's log`)
  t.like(report.doubleReceive, { threw: true, error: { code: 'ERR_TRANSFER_TOKEN' } }, `${name}: a second receive fails`)
  t.is(report.bufferLengthBefore, 65536)
  t.deepEqual(report.afterMove, {
    bufferLength: 0, inc: MOVED, instInc: MOVED, memRead: MOVED, memBuffer: MOVED, count: MOVED, refs: MOVED, plus: MOVED, transferAgain: MOVED,
  }, `${name}: its old wrappers after it transferred the store on`)
}

test.serial('a stateful store hops main → worker A → worker B → main, keeping its state and re-binding host functions', async (t) => {
  const module = new Module(Engine.default, HOP_WAT)
  const mainLog: number[] = []
  const store = new Store(undefined, { data: 'session-7' })
  const inst = new Instance(store, module, { host: { log: (v: number) => mainLog.push(v) } })
  // A host function that is no instance's import: re-bound by the name given here.
  const plus = new Func(store, { params: ['i32'], results: ['i32'] }, (x: number) => x + 1, { module: 'util', name: 'plus1' })
  const memory = mem(inst, 'mem')
  const count = global(inst, 'count')
  const refs = table(inst, 'refs')
  const inc = fn(inst, 'inc')
  memory.write(0, i32Bytes(1000)) // the memory counter starts apart from the global's 0
  refs.set(0, 'a primitive payload')
  refs.set(1, { an: 'object payload' })
  t.deepEqual([inc(), inc()], [1, 2])
  t.deepEqual(mainLog, [1, 2])
  t.is(plus.call(1), 2)

  const view = memory.buffer
  t.is(view.byteLength, 65536)
  const objects = { inst, mem: memory, count, refs, inc, plus }
  const toA = store.transfer(objects)
  t.true(Object.isFrozen(toA))
  t.is(toA.kind, 'StoreTransfer')
  t.deepEqual([...toA.names], Object.keys(objects))
  t.deepEqual(structuredClone(toA), toA, 'the token is plain data')
  t.is(view.byteLength, 0, 'a buffer taken before the transfer is detached')
  assertMoved(t, 'main after transfer', {
    'inc()': () => inc(),
    'instance export': () => fn(inst, 'inc')(),
    'memory.read': () => memory.read(0, 4),
    'memory.buffer': () => memory.buffer,
    'global.value': () => count.value,
    'table.get': () => refs.get(0),
    'Func.call': () => plus.call(1),
    'new Instance': () => new Instance(store, module, { host: { log: () => {} } }),
    'store.transfer': () => store.transfer(),
  })

  const a = spawn(t, 'store-hop.mjs', { name: 'A', tag: 100 })
  const b = spawn(t, 'store-hop.mjs', { name: 'B', tag: 200 })

  const atA = await hopVia(a, { token: toA, calls: 1, probeMissing: true, setData: '$object' })
  // Receiving with host functions missing fails, names them, and leaves the token receivable.
  t.true(atA.report.missing[0].threw)
  t.like(atA.report.missing[0].error, { name: 'LinkError', code: 'ERR_WASM_LINK' })
  t.regex(atA.report.missing[0].error.message, /"host"\."log"/)
  t.regex(atA.report.missing[0].error.message, /"util"\."plus1"/)
  t.true(atA.report.missing[1].threw)
  t.like(atA.report.missing[1].error, { name: 'LinkError', code: 'ERR_WASM_LINK' })
  t.regex(atA.report.missing[1].error.message, /"util"\."plus1"/)
  t.notRegex(atA.report.missing[1].error.message, /"host"\."log"/, 'only the missing one is named')
  assertHop(t, 'A', atA, {
    data: 'session-7',
    before: { count: 2, memCounter: 1002 },
    results: [3],
    plus: 101,
    logs: [3],
  })
  t.deepEqual(mainLog, [1, 2], "main's log is not called once the store has left")

  const atB = await hopVia(b, { token: atA.report.token, calls: 2, setData: 99 })
  assertHop(t, 'B', atB, {
    // A set an object as store.data: documented to arrive as undefined.
    data: undefined,
    before: { count: 3, memCounter: 1003 },
    results: [4, 5],
    plus: 201,
    logs: [4, 5],
  })

  // Back home, with a new local log.
  const mainLog2: number[] = []
  const imports = { host: { log: (v: number) => mainLog2.push(v) }, util: { plus1: (x: number) => x + 300 } }
  const back = Store.receive(atB.report.token as StoreTransfer, { imports })
  t.is(back.store.data, 99, 'primitive store.data moves by value')
  // A Func comes back as a callable, like an export.
  const o = back.objects as { inst: Instance; mem: Memory; count: Global; refs: Table; inc: ExportedFunction; plus: ExportedFunction }
  t.is(o.count.value, 5)
  t.is(readI32(o.mem, 0), 1005)
  t.is(o.refs.get(0), 'a primitive payload')
  t.is(o.refs.get(1), MovedExternRef)
  t.is(o.inc(), 6)
  t.is(fn(o.inst, 'inc')(), 7)
  t.is(o.plus(1), 301)
  t.deepEqual(mainLog2, [6, 7])
  t.deepEqual(mainLog, [1, 2])
  t.is(o.mem.buffer.byteLength, 65536, 'a fresh buffer works')
  const e = t.throws(() => Store.receive(atB.report.token as StoreTransfer, { imports }), { instanceOf: Error })
  t.is((e as { code?: string } | undefined)?.code, 'ERR_TRANSFER_TOKEN', 'a token is received once')
})

test.serial('stress: a store goes round a ring of main + 4 workers 1,000 times, worker to worker, state intact', async (t) => {
  t.timeout(10 * 60_000)
  const ROUNDS = 1000
  const N = 4
  const SLOTS = 64 // HOP_WAT's record() slots
  const module = new Module(Engine.default, HOP_WAT)

  // channels[k] carries the store from node k to node k + 1; node 0 is main, nodes 1..N the workers.
  const channels = Array.from({ length: N + 1 }, () => new MessageChannel())
  t.teardown(() => channels.forEach((c) => (c.port1.close(), c.port2.close())))
  const workers = Array.from({ length: N }, (_, i) => {
    const inPort = channels[i]!.port2
    const outPort = channels[i + 1]!.port1
    return spawn(t, 'ring.mjs', { name: `ring${i}`, inPort, outPort, slots: SLOTS }, [inPort, outPort])
  })
  const toRing = channels[0]!.port1
  const fromRing = inboxOf<{ token: StoreTransfer; hop: number }>(channels[N]!.port2)
  const anyWorkerFailed = Promise.race(workers.map((w) => w.failed))

  let mainLogs = 0
  let lastLogged = -1
  const imports = { host: { log: (v: number) => ((mainLogs += 1), (lastLogged = v)) } }
  let store = new Store()
  const inst = new Instance(store, module, imports)
  type RingObjects = { mem: Memory; count: Global; record: ExportedFunction }
  let objects: RingObjects = { mem: mem(inst, 'mem'), count: global(inst, 'count'), record: fn(inst, 'record') }

  /** The main thread's hop: the same checks as a ring worker's (workers/ring.mjs). */
  function mainHop(hop: number): void {
    const problems = [
      objects.count.value !== hop && `count ${String(objects.count.value)}`,
      readI32(objects.mem, 0) !== hop && `memory counter ${readI32(objects.mem, 0)}`,
      hop > 0 && readI32(objects.mem, 16 + 4 * ((hop - 1) % SLOTS)) !== hop - 1 && `slot of hop ${hop - 1}`,
    ].filter(Boolean)
    if (problems.length) throw new Error(`main at hop ${hop}: ${problems.join(', ')}`)
    const r = objects.record(hop)
    if (r !== hop + 1 || lastLogged !== hop + 1) throw new Error(`main: record(${hop}) returned ${r}, logged ${lastLogged}`)
  }

  let hop = 0
  for (let round = 0; round < ROUNDS; round++) {
    mainHop(hop)
    toRing.postMessage({ token: store.transfer(objects), hop: hop + 1 })
    const arrived = await Promise.race([fromRing.next(), anyWorkerFailed])
    if (arrived.hop !== hop + 1 + N) throw new Error(`round ${round}: hop ${arrived.hop} came back, expected ${hop + 1 + N}`)
    hop = arrived.hop
    const received = Store.receive(arrived.token, { imports })
    store = received.store
    objects = received.objects as RingObjects
  }

  const total = ROUNDS * (N + 1)
  t.is(hop, total)
  t.is(objects.count.value, total, 'the global counted every hop')
  t.is(readI32(objects.mem, 0), total, 'the memory counter counted every hop')
  // Slot s holds the last hop h < total with h % SLOTS === s.
  const expectedSlots = Array.from({ length: SLOTS }, (_, s) => total - 1 - ((total - 1 - s) % SLOTS))
  t.deepEqual(Array.from({ length: SLOTS }, (_, s) => readI32(objects.mem, 16 + 4 * s)), expectedSlots, 'every hop wrote its slot')
  t.is(mainLogs, ROUNDS, "main's log ran once per main hop")

  for (const w of workers) {
    w.post({ type: 'stop' })
    const stats = await w.expect('stats')
    t.like(stats, { hops: ROUNDS, logs: ROUNDS }, `${stats.name}: hops received, and its own log ran for each`)
    t.is(await w.exited, 0, `${stats.name} ends cleanly`)
  }
  t.log(`${total} hops, ${N * ROUNDS} of them worker-to-worker transfers`)
})

test.serial('a store cannot be transferred from inside one of its host functions', (t) => {
  const module = new Module(Engine.default, HOP_WAT)
  const store = new Store()
  let attempted: unknown = 'not attempted'
  let inst: Instance | undefined
  const log = () => {
    if (attempted !== 'not attempted') return
    try {
      store.transfer({ inst: inst! })
      attempted = 'no error'
    } catch (e) {
      attempted = e
    }
  }
  inst = new Instance(store, module, { host: { log } })
  t.is(fn(inst, 'inc')(), 1)
  t.true(attempted instanceof StoreStateError, `transfer inside a host function: ${String(attempted)}`)
  t.is((attempted as StoreStateError).code, 'ERR_STORE_BUSY')
  // The refused transfer changed nothing: the store still works here, and transfers once idle.
  t.is(fn(inst, 'inc')(), 2)
  const { objects } = Store.receive(store.transfer({ inst }), { imports: { host: { log: () => {} } } })
  t.is(fn(objects.inst as Instance, 'inc')(), 3)
})

// ---------------------------------------------------------------------------------------------
// Interrupts across threads
// ---------------------------------------------------------------------------------------------

/** Checks a spin.mjs report: idle interrupt harmless, the spin interrupted, the store fine after. */
function assertInterrupted(t: ExecutionContext, r: Msg): void {
  t.deepEqual(r.idleThenOk, { threw: false, value: 1 }, 'an interrupt while idle does not affect a later call')
  t.true(r.spun.threw, `spin should have been interrupted, but returned ${r.spun.value}`)
  t.like(r.spun.error, { name: 'Trap', code: 'ERR_WASM_TRAP', trapCode: 'interrupt' })
  t.deepEqual(r.afterwards, { threw: false, value: 1 }, 'the store runs again after the interrupt')
}

test.serial("the main thread interrupts a worker's running call through a shared InterruptHandle", async (t) => {
  const module = new Module(Engine.default, SPIN_WAT)
  const w = spawn(t, 'spin.mjs', { module: module.share(), bound: SPIN_BOUND })
  const { token } = await w.expect('handle')
  t.deepEqual(Object.keys(token).sort(), ['id', 'kind'])
  t.is(token.kind, 'InterruptHandle')
  await w.expect('spinning') // sent from inside the call: it is running now
  const interruptedAt = now()
  InterruptHandle.fromShared(token).interrupt()
  const r = await w.expect('result')
  assertInterrupted(t, r)
  assertInterruptLatency(t, r.stoppedAt - interruptedAt, "main thread → worker's sync call")
  t.is(await w.exited, 0)
})

test.serial("a worker interrupts another worker's running call, with no help from the main thread", async (t) => {
  const module = new Module(Engine.default, SPIN_WAT)
  const { port1, port2 } = new MessageChannel()
  const spinner = spawn(t, 'spin.mjs', { module: module.share(), bound: SPIN_BOUND, signalPort: port1 }, [port1])
  const interrupter = spawn(t, 'interrupter.mjs', { port: port2 }, [port2])
  const issued = await interrupter.expect('result')
  t.like(issued, { interrupted: true, sameId: true })
  const r = await spinner.expect('result')
  assertInterrupted(t, r)
  assertInterruptLatency(t, r.stoppedAt - issued.interruptedAt, "worker → worker's sync call")
  t.is(await spinner.exited, 0)
  t.is(await interrupter.exited, 0)
})

test.serial('a worker interrupts a call running on the main thread', async (t) => {
  const module = new Module(Engine.default, SPIN_WAT)
  const flag = new Int32Array(new SharedArrayBuffer(4))
  const w = spawn(t, 'atomics-interrupter.mjs', { flag })
  const store = new Store()
  const started = () => {
    Atomics.store(flag, 0, 1)
    Atomics.notify(flag, 0)
  }
  const inst = new Instance(store, module, { host: { started } })
  w.post({ token: store.interruptHandle().share() })
  await w.expect('ready')
  const e = thrown(t, () => fn(inst, 'spin')(SPIN_BOUND), 'spin should have been interrupted')
  const stoppedAt = now()
  assertTrap(t, e, 'interrupt', 'the main thread\'s sync spin')
  const r = await w.expect('result')
  t.not(r.waited, 'timed-out')
  assertInterruptLatency(t, stoppedAt - r.interruptedAt, 'worker → main-thread sync call')
  t.is(fn(inst, 'ok')(), 1, 'the store runs again after the interrupt')
  t.is(await w.exited, 0)
})

// ---------------------------------------------------------------------------------------------
// What may and may not be posted
// ---------------------------------------------------------------------------------------------

// One export per arity class of the package's callable wrappers (0, 1, 2, 3, more, references).
const AFFINE_WAT = `
(module
  (memory (export "mem") 1)
  (table (export "tab") 1 funcref)
  (global (export "g") (mut i32) (i32.const 0))
  (func (export "f0"))
  (func (export "f1") (param i32))
  (func (export "f2") (param i32 i32))
  (func (export "f3") (param i32 i32 i32))
  (func (export "f4") (param i32 i32 i32 i32))
  (func (export "fref") (param externref)))`

test.serial('thread-affine objects refuse postMessage with a DataCloneError that points to store.transfer()', async (t) => {
  const store = new Store()
  const inst = new Instance(store, new Module(Engine.default, AFFINE_WAT))
  const affine: Record<string, unknown> = {
    Store: store,
    Instance: inst,
    'exported function ()': fn(inst, 'f0'),
    'exported function (i32)': fn(inst, 'f1'),
    'exported function (i32, i32)': fn(inst, 'f2'),
    'exported function (i32, i32, i32)': fn(inst, 'f3'),
    'exported function (i32 x4)': fn(inst, 'f4'),
    'exported function (externref)': fn(inst, 'fref'),
    'Func of an export': fn(inst, 'f1').func,
    'host Func': new Func(store, { params: [], results: [] }, () => {}),
    Memory: mem(inst, 'mem'),
    Table: table(inst, 'tab'),
    Global: global(inst, 'g'),
    ExternRef: new ExternRef(store, { payload: 1 }),
    Linker: new Linker(),
  }

  const { port1, port2 } = new MessageChannel()
  t.teardown(() => (port1.close(), port2.close()))
  const overPort = inboxOf<unknown>(port2)
  const w = spawn(t, 'echo.mjs')
  const routes: Array<[string, (v: unknown) => void]> = [
    ['MessagePort', (v) => port1.postMessage(v)],
    ['worker.postMessage', (v) => w.post(v)],
  ]
  for (const [kind, obj] of Object.entries(affine)) {
    for (const [route, post] of routes) {
      for (const [shape, value] of [['itself', obj], ['inside an object', { nested: [obj] }]] as const) {
        const label = `${kind}, ${shape}, via ${route}`
        const e = thrownBy(() => post(value)) as DOMException | undefined
        t.is(e?.name, 'DataCloneError', label)
        t.true(e?.message.includes('store.transfer()'), `${label}: ${e?.message}`)
      }
    }
  }
  // Nothing crossed: the first message to arrive on each route is the one posted after the failures.
  port1.postMessage('after')
  t.is(await overPort.next(), 'after')
  w.post('after')
  t.deepEqual(await w.expect('echo'), { type: 'echo', value: 'after' })
})

test('shareable objects posted as they are refuse with a DataCloneError that points to share()', (t) => {
  const shareables: Record<string, unknown> = {
    Engine: Engine.default,
    'custom Engine': new Engine({ optLevel: 'none' }),
    Module: new Module(Engine.default, '(module)'),
    Component: new Component(Engine.default, '(component)'),
    InterruptHandle: new Store().interruptHandle(),
  }
  for (const [kind, obj] of Object.entries(shareables)) {
    for (const [shape, value] of [['itself', obj], ['inside an object', { nested: [obj] }]] as const) {
      const e = thrownBy(() => structuredClone(value)) as DOMException | undefined
      t.is(e?.name, 'DataCloneError', `${kind}, ${shape}`)
      t.true(e?.message.includes('share()'), `${kind}, ${shape}: ${e?.message}`)
    }
  }
})

const DESCRIBED_WAT = `
(module
  (import "env" "f" (func (param i32 i64) (result f32)))
  (memory (export "mem") 1 2)
  (table (export "tab") 1 10 externref)
  (global (export "g") (mut i64) (i64.const 0))
  (func (export "run") (param f64 externref) (result i32 v128)
    (i32.const 0)
    (v128.const i32x4 0 0 0 0)))`

test.serial('type descriptors are plain data: they clone, and cross to a worker unchanged', async (t) => {
  const module = new Module(Engine.default, DESCRIBED_WAT)
  const inst = new Instance(new Store(), module, { env: { f: () => 0 } })
  const descriptors = { imports: module.imports, exports: module.exports, funcType: fn(inst, 'run').type }
  t.deepEqual(structuredClone(descriptors), descriptors)
  const w = spawn(t, 'echo.mjs')
  w.post({ type: 'descriptors', descriptors, module: module.share() })
  const r = await w.expect('descriptors')
  t.deepEqual(r.received, descriptors, 'posted descriptors arrive equal')
  t.deepEqual(r.own, descriptors, "the worker's own descriptors of the shared module are equal")
})

// ---------------------------------------------------------------------------------------------
// Workers ending with wasm state
// ---------------------------------------------------------------------------------------------

test.serial('workers ending with live stores, or with an unreceived transfer token, exit cleanly; the process stays healthy', async (t) => {
  const module = new Module(Engine.default, HOP_WAT)
  const moduleToken = module.share()
  const log = () => {}

  /** A store with one instance whose inc() was called once, transferred away. */
  function transferredStore(): StoreTransfer {
    const store = new Store()
    const inst = new Instance(store, module, { host: { log } })
    fn(inst, 'inc')()
    return store.transfer({ inc: fn(inst, 'inc'), mem: mem(inst, 'mem') })
  }

  // Stores created there and never disposed, plus a store received there and never disposed.
  const live = await runWorker(t, 'live-stores.mjs', { mode: 'live', module: moduleToken, transfer: transferredStore() })
  t.deepEqual(live.logged, [1, 1, 1, 2])
  t.deepEqual(live.received, { inc: 2, memCounter: 2 })

  // A transfer token posted to a worker that ends without receiving it.
  const unreceived = transferredStore()
  const ignoring = spawn(t, 'live-stores.mjs', { mode: 'ignore' })
  ignoring.post({ token: unreceived })
  t.like(await ignoring.expect('result'), { gotKind: 'StoreTransfer' })
  t.is(await ignoring.exited, 0)

  // A worker holding live stores, terminated from outside.
  const lingering = spawn(t, 'live-stores.mjs', { mode: 'linger', module: moduleToken })
  t.like(await lingering.expect('ready'), { logged: [1, 1, 1] })
  t.is(await lingering.terminate(), 1, 'terminate() ends it')

  // Healthy: the main thread compiles, instantiates and calls; the shared module still works in
  // a new worker; and the store nobody received is still waiting, here, with its state.
  t.is(fn(new Instance(new Store(), new Module(Engine.default, ANSWER_WAT)), 'answer')(), 42)
  t.is(fn(new Instance(new Store(), module, { host: { log } }), 'inc')(), 1)
  const again = await runWorker(t, 'live-stores.mjs', { mode: 'live', module: moduleToken })
  t.deepEqual(again.logged, [1, 1, 1])
  const { objects } = Store.receive(unreceived, { imports: { host: { log } } })
  t.is((objects.inc as () => number)(), 2)
  t.is(readI32(objects.mem as Memory, 0), 2)
})
