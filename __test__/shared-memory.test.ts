// Issue 19, part 3: SharedMemory across worker_threads (the threads proposal). A SharedMemory is
// shareable like a Module: its token goes to workers, whose stores (of the same engine) import
// it; wasm in every worker runs atomics on the same bytes, and growth anywhere is seen
// everywhere. Real workers (./workers/shared-memory.mjs) run the same module over one memory;
// the results must equal the single-threaded run, an independent JS computation, and V8 running
// the same bytes over a `WebAssembly.Memory({ shared: true })` in its own workers.
import test, { type ExecutionContext } from 'ava'
import * as path from 'node:path'
import { Worker } from 'node:worker_threads'

import { Engine, Instance, LinkError, Memory, Module, SharedMemory, Store, WasmtimeError, wat2wasm } from '../dist/index.js'
import { assertError, thrown } from './helpers/assert'

const KERNEL = `(module
  (import "env" "memory" (memory 8 16 shared))
  ;; adds 1 to the i32 at 0, n times, atomically
  (func (export "count") (param $n i32) (local $i i32)
    (loop $l
      (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
  ;; sums the i32s in bytes [start, end) and adds the sum to the i64 at 8, atomically
  (func (export "sum") (param $start i32) (param $end i32) (local $s i64)
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $start) (local.get $end)))
      (local.set $s (i64.add (local.get $s) (i64.extend_i32_u (i32.load (local.get $start)))))
      (local.set $start (i32.add (local.get $start) (i32.const 4)))
      (br $l)))
    (drop (i64.atomic.rmw.add (i32.const 8) (local.get $s))))
  (func (export "total") (result i64) (i64.atomic.load (i32.const 8)))
  ;; waits at 16 while it holds 0: 0 woken, 1 not-equal, 2 timed out
  (func (export "wait") (result i32) (memory.atomic.wait32 (i32.const 16) (i32.const 0) (i64.const -1)))
  ;; wakes one waiter at 24: how many woke
  (func (export "notify") (result i32) (memory.atomic.notify (i32.const 24) (i32.const 1)))
  (func (export "spin") (loop $l (br $l)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size)))`

// A module that defines (and exports) its own shared memory.
const OWNER = `(module
  (memory (export "memory") 1 4 shared)
  (func (export "store") (param i32 i32) (i32.atomic.store (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.atomic.load (local.get 0)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size)))`

const PAGE = 65536
const engine = new Engine({ sharedMemory: true })

type Reply = { type: string; value?: unknown; exported?: unknown; error?: { name: string; code?: string; message: string } }

/** A worker of ./workers/shared-memory.mjs running our or V8's WebAssembly; ended with the test. */
class W {
  readonly worker: Worker
  readonly #replies: Reply[] = []
  readonly #waiting: ((r: Reply) => void)[] = []
  #failure: Error | undefined

  constructor(t: ExecutionContext, kind: 'ours' | 'v8') {
    this.worker = new Worker(path.join(__dirname, 'workers', 'shared-memory.mjs'), { workerData: { engine: kind } })
    this.worker.on('message', (r: Reply) => (this.#waiting.length ? this.#waiting.shift()!(r) : this.#replies.push(r)))
    this.worker.on('error', (e) => (this.#failure = e))
    t.teardown(() => this.worker.terminate())
  }

  request(msg: unknown): Promise<Reply> {
    if (this.#failure) return Promise.reject(this.#failure)
    this.worker.postMessage(msg)
    return this.#replies.length ? Promise.resolve(this.#replies.shift()!) : new Promise((resolve) => this.#waiting.push(resolve))
  }

  async call(name: string, ...args: unknown[]): Promise<unknown> {
    const r = await this.request({ op: 'call', name, args })
    if (r.type !== 'result') throw new Error(`${name}: ${JSON.stringify(r.error)}`)
    return r.value
  }
}

/** `n` workers running ours with `module` over `memory`, instantiated. */
async function oursWorkers(t: ExecutionContext, n: number, module: Module, memory: SharedMemory): Promise<W[]> {
  const ws = Array.from({ length: n }, () => new W(t, 'ours'))
  for (const w of ws) t.is((await w.request({ op: 'instantiate', module: module.share(), memory: memory.share() })).type, 'ready')
  return ws
}

async function v8Workers(t: ExecutionContext, n: number, memory: WebAssembly.Memory): Promise<W[]> {
  const ws = Array.from({ length: n }, () => new W(t, 'v8'))
  for (const w of ws) t.is((await w.request({ op: 'instantiate', module: wat2wasm(KERNEL), memory })).type, 'ready')
  return ws
}

const i32At = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset).getInt32(0, true)

// The data the parallel sum reads: 4 × 16,384 i32 values from byte 65,536 on, and their sum.
const VALUES = 4 * 16_384
const valueAt = (i: number) => (i * 7919) % 100_003
const DATA = new Uint8Array(new Int32Array(Array.from({ length: VALUES }, (_, i) => valueAt(i))).buffer)
const EXPECTED_SUM = Array.from({ length: VALUES }, (_, i) => BigInt(valueAt(i))).reduce((a, b) => a + b, 0n)

test('SharedMemory: type, size, grow, read/write, no buffer; a Memory is not shared', (t) => {
  const m = new SharedMemory(engine, { initial: 1, maximum: 3 })
  t.deepEqual(m.type, { minimum: 1, maximum: 3, shared: true })
  t.true(m.shared)
  t.false(new Memory(new Store(), { minimum: 1 }).shared)
  t.is(m.size(), 1)
  t.is(m.grow(1), 1)
  t.is(m.size(), 2)
  assertError(t, thrown(t, () => m.grow(2), 'past maximum'), RangeError, 'ERR_WASM_GROW', 'grow past the maximum')
  m.write(PAGE + 10, new Uint8Array([1, 2, 3]))
  t.deepEqual(Array.from(m.read(PAGE + 9, 5)), [0, 1, 2, 3, 0])
  t.is(m.writeString(100, 'héllo'), 6)
  t.is(m.readString(100, 6), 'héllo')
  assertError(t, thrown(t, () => m.read(2 * PAGE - 2, 4), 'read past end'), RangeError, 'ERR_OUT_OF_RANGE', 'read past the end')
  assertError(t, thrown(t, () => m.buffer, 'buffer'), WasmtimeError, 'ERR_SHARED_MEMORY_BUFFER', 'memory.buffer', 'read() and write()')
  t.is(m.engine.share().id, engine.share().id, 'its engine')
})

test('an engine without sharedMemory refuses shared memories: new SharedMemory, and modules that define one', (t) => {
  assertError(t, thrown(t, () => new SharedMemory(Engine.default, { initial: 1, maximum: 1 }), 'default engine'), WasmtimeError, 'ERR_SHARED_MEMORY_UNAVAILABLE', 'new SharedMemory on the default engine', 'sharedMemory: true')
  // It compiles (the threads proposal is on by default); instantiating it is what fails.
  const owner = new Module(Engine.default, OWNER)
  assertError(t, thrown(t, () => new Instance(new Store(), owner), 'a module defining a shared memory'), LinkError, 'ERR_WASM_LINK', 'instantiating a module that defines a shared memory', 'sharedMemory: true')
})

test('4 workers count on one shared memory with atomics: the total of every increment, as the single-threaded run and V8 find', async (t) => {
  const N = 4
  const ITER = 50_000
  const module = new Module(engine, KERNEL)
  const memory = new SharedMemory(engine, { initial: 8, maximum: 16 })
  const ws = await oursWorkers(t, N, module, memory)
  await Promise.all(ws.map((w) => w.call('count', ITER)))
  t.is(i32At(memory.read(0, 4)), N * ITER)
  // Single-threaded, same module: N calls on this thread.
  const alone = new SharedMemory(engine, { initial: 8, maximum: 16 })
  const inst = new Instance(new Store(engine), module, { env: { memory: alone } })
  for (let i = 0; i < N; i++) (inst.exports.count as (n: number) => void)(ITER)
  t.is(i32At(alone.read(0, 4)), N * ITER)
  // V8 on the same bytes, in its own workers over a shared WebAssembly.Memory.
  const v8mem = new WebAssembly.Memory({ initial: 8, maximum: 16, shared: true })
  const vs = await v8Workers(t, N, v8mem)
  await Promise.all(vs.map((w) => w.call('count', ITER)))
  t.is(new Int32Array(v8mem.buffer)[0], i32At(memory.read(0, 4)))
})

test('a parallel sum over data written from JS: 4 workers, each a quarter, equal to a JS sum, one thread, and V8', async (t) => {
  const module = new Module(engine, KERNEL)
  const memory = new SharedMemory(engine, { initial: 8, maximum: 16 })
  memory.write(PAGE, DATA)
  const quarter = DATA.length / 4
  const ws = await oursWorkers(t, 4, module, memory)
  await Promise.all(ws.map((w, i) => w.call('sum', PAGE + i * quarter, PAGE + (i + 1) * quarter)))
  const ours = new Instance(new Store(engine), module, { env: { memory } }).exports.total as () => bigint
  t.is(ours(), EXPECTED_SUM)
  const alone = new SharedMemory(engine, { initial: 8, maximum: 16 })
  alone.write(PAGE, DATA)
  const single = new Instance(new Store(engine), module, { env: { memory: alone } }).exports as { sum(a: number, b: number): void; total(): bigint }
  single.sum(PAGE, PAGE + DATA.length)
  t.is(single.total(), EXPECTED_SUM)
  const v8mem = new WebAssembly.Memory({ initial: 8, maximum: 16, shared: true })
  new Uint8Array(v8mem.buffer).set(DATA, PAGE)
  const vs = await v8Workers(t, 4, v8mem)
  await Promise.all(vs.map((w, i) => w.call('sum', PAGE + i * quarter, PAGE + (i + 1) * quarter)))
  t.is(new BigInt64Array(v8mem.buffer)[1], EXPECTED_SUM)
})

test('wait and notify across threads: wasm in a worker woken from JS here, and JS here woken by wasm in a worker', async (t) => {
  const module = new Module(engine, KERNEL)
  const memory = new SharedMemory(engine, { initial: 8, maximum: 16 })
  const [w] = await oursWorkers(t, 1, module, memory)
  // The worker's wasm waits at 16; notify until it has been woken (it may not be waiting yet).
  const waited = w!.call('wait')
  let woke = 0
  for (let i = 0; i < 10_000 && woke === 0; i++) {
    woke = memory.notify(16, 1)
    if (woke === 0) await new Promise((r) => setTimeout(r, 1))
  }
  t.is(woke, 1, 'one waiter woken')
  t.is(await waited, 0, 'memory.atomic.wait32 returned 0: woken')
  // JS here waits at 24 while wasm in the worker notifies until it woke someone. The loop runs
  // in the worker: blocked in wait32, this thread cannot send it requests.
  const notifier = w!.request({ op: 'callUntil', name: 'notify', value: 1, ms: 30_000 })
  t.is(memory.wait32(24, 0, 30_000), 'ok')
  t.like(await notifier, { type: 'result', value: 1 })
  t.is(memory.wait32(24, 1, 0), 'not-equal')
  t.is(memory.wait32(24, 0, 1), 'timed-out')
  t.is(memory.wait64(32, 5n, 0), 'not-equal')
  t.is(memory.wait64(32, 0n, 1), 'timed-out')
  memory.write(40, new Uint8Array(8).fill(0xff))
  t.is(memory.wait64(40, -1n, 1), 'timed-out', 'the i64 at 40 is -1 (all ones)')
  t.is(memory.wait64(40, 2n ** 64n - 1n, 1), 'timed-out', 'the same bits as an unsigned BigInt')
  t.is(memory.wait64(40, 1n, 0), 'not-equal')
})

test('a worker terminated while spinning in wasm on the shared memory: the others finish, the memory stays usable', async (t) => {
  const module = new Module(engine, KERNEL)
  const memory = new SharedMemory(engine, { initial: 8, maximum: 16 })
  const [spinner, a, b] = await oursWorkers(t, 3, module, memory)
  void spinner!.call('spin').catch(() => {})
  await new Promise((r) => setTimeout(r, 20))
  const counted = Promise.all([a!.call('count', 40_000), b!.call('count', 40_000)])
  t.is(await spinner!.worker.terminate(), 1, 'terminated with exit code 1')
  await counted
  t.is(i32At(memory.read(0, 4)), 80_000)
  const here = new Instance(new Store(engine), module, { env: { memory } }).exports as { count(n: number): void }
  here.count(5)
  t.is(i32At(memory.read(0, 4)), 80_005)
})

test('a module-defined shared memory exported in one worker, imported here and in another worker; growth anywhere is seen everywhere', async (t) => {
  const owner = new Module(engine, OWNER)
  const [first, second] = [new W(t, 'ours'), new W(t, 'ours')]
  const ready = await first.request({ op: 'instantiate', module: owner.share() })
  const token = ready.exported as ReturnType<SharedMemory['share']>
  t.is(token.kind, 'SharedMemory')
  const memory = SharedMemory.fromShared(token)
  const importer = new Module(engine, '(module (import "env" "memory" (memory 1 4 shared)) (func (export "load") (param i32) (result i32) (i32.atomic.load (local.get 0))) (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))) (func (export "size") (result i32) (memory.size)))')
  t.is((await second.request({ op: 'instantiate', module: importer.share(), memory: token })).type, 'ready')
  await first.call('store', 40, 1234)
  t.is(await second.call('load', 40), 1234)
  t.is(i32At(memory.read(40, 4)), 1234)
  t.is(await second.call('grow', 2), 1, 'grown by the second worker')
  t.is(await first.call('size'), 3, 'the owner sees it')
  t.is(memory.size(), 3, 'and so does this thread')
  t.is(memory.grow(1), 3)
  t.is(await first.call('size'), 4)
  t.is(await second.call('grow', 1), -1, 'at the maximum')
  const here = new Instance(new Store(engine), importer, { env: { memory } }).exports as { load(a: number): number }
  t.is(here.load(40), 1234)
})

test('SharedMemory refuses bad input (class and code)', (t) => {
  assertError(t, thrown(t, () => new SharedMemory(engine, { initial: 2, maximum: 1 }), 'initial > maximum'), RangeError, 'ERR_OUT_OF_RANGE', 'initial > maximum')
  assertError(t, thrown(t, () => new SharedMemory(engine, { initial: 1 } as never), 'no maximum'), TypeError, 'ERR_INVALID_ARG_TYPE', 'no maximum')
  assertError(t, thrown(t, () => new SharedMemory(engine, { initial: 1, maximum: 1, shared: true } as never), 'unknown key'), TypeError, 'ERR_INVALID_ARG_VALUE', 'unknown key shared')
  assertError(t, thrown(t, () => new SharedMemory({} as never, { initial: 1, maximum: 1 }), 'not an engine'), TypeError, 'ERR_INVALID_ARG_TYPE', 'engine {}')
  assertError(t, thrown(t, () => SharedMemory.fromShared({ kind: 'Module', id: 'x' } as never), 'a module token'), TypeError, 'ERR_INVALID_ARG_TYPE', 'a Module token')
  const m = new SharedMemory(engine, { initial: 1, maximum: 1 })
  assertError(t, thrown(t, () => m.wait32(2, 0, 0), 'misaligned'), RangeError, 'ERR_OUT_OF_RANGE', 'wait32 at 2')
  assertError(t, thrown(t, () => m.wait32(PAGE, 0, 0), 'past the end'), RangeError, 'ERR_OUT_OF_RANGE', 'wait32 past the end')
  assertError(t, thrown(t, () => m.wait32(0, 1.5, 0), 'expected 1.5'), TypeError, 'ERR_INVALID_ARG_VALUE', 'expected 1.5')
  assertError(t, thrown(t, () => m.wait64(4, 0n, 0), 'misaligned 64'), RangeError, 'ERR_OUT_OF_RANGE', 'wait64 at 4')
  assertError(t, thrown(t, () => m.wait64(0, 0 as never, 0), 'a number'), TypeError, 'ERR_INVALID_ARG_TYPE', 'wait64 expected 0')
  assertError(t, thrown(t, () => m.notify(1), 'misaligned notify'), RangeError, 'ERR_OUT_OF_RANGE', 'notify at 1')
  assertError(t, thrown(t, () => m.wait32(0, 0, -5), 'negative timeout'), RangeError, 'ERR_OUT_OF_RANGE', 'timeout -5')
  // Another engine's store cannot import it.
  const other = new Engine({ sharedMemory: true })
  const importer = new Module(other, '(module (import "env" "memory" (memory 1 1 shared)))')
  assertError(t, thrown(t, () => new Instance(new Store(other), importer, { env: { memory: m } }), 'other engine'), LinkError, 'ERR_WASM_LINK', 'a store of another engine')
  // A plain Memory where a shared one is imported, and the reverse.
  const sharedImport = new Module(engine, '(module (import "env" "memory" (memory 1 1 shared)))')
  const s = new Store(engine)
  assertError(t, thrown(t, () => new Instance(s, sharedImport, { env: { memory: new Memory(s, { minimum: 1, maximum: 1 }) } }), 'plain memory'), LinkError, 'ERR_WASM_LINK', 'a Memory for a shared import')
  const plainImport = new Module(engine, '(module (import "env" "memory" (memory 1)))')
  assertError(t, thrown(t, () => new Instance(new Store(engine), plainImport, { env: { memory: m } }), 'shared for plain'), LinkError, 'ERR_WASM_LINK', 'a SharedMemory for a plain import')
})

// Each shared memory reserves about 4 GiB of address space: ~32,000 dropped but not yet released
// ones exhaust a process. A handle is released once V8 collects it, also in a loop that never
// yields (store/reclaim.rs), and by its finalizer in one that does.
for (const yields of [false, true]) {
  test(`40,000 shared memories made and dropped in a loop that ${yields ? 'yields to the event loop' : 'never yields'}: none left reserving address space`, async (t) => {
    for (let i = 0; i < 40_000; i++) {
      const m = new SharedMemory(engine, { initial: 1, maximum: 2 })
      if (i % 10_000 === 0) m.write(0, new Uint8Array([1]))
      if (yields && i % 1000 === 0) await new Promise((r) => setImmediate(r))
    }
    // The process still has room for one more, and it works.
    const last = new SharedMemory(engine, { initial: 1, maximum: 2 })
    t.is(last.grow(1), 1)
  })
}
