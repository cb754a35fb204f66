// Shared memory across workers (the threads proposal): one SharedMemory, shared by token like a
// Module. The main thread starts two workers with memory.notify; they sum halves of the numbers
// in it with wasm atomics and tell the main thread with memory.atomic.notify, which it waits for
// with memory.wait32.
import { once } from 'node:events'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { Engine, Instance, Module, SharedMemory, Store } from 'wasmtime-node'

const wat = `(module
  (import "env" "memory" (memory 1 4 shared))
  ;; adds the i32s in bytes [start, end) to the i64 at 0; counts itself done at 8 and notifies
  (func (export "sum") (param $start i32) (param $end i32) (local $s i64)
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $start) (local.get $end)))
      (local.set $s (i64.add (local.get $s) (i64.extend_i32_u (i32.load (local.get $start)))))
      (local.set $start (i32.add (local.get $start) (i32.const 4)))
      (br $l)))
    (drop (i64.atomic.rmw.add (i32.const 0) (local.get $s)))
    (drop (i32.atomic.rmw.add (i32.const 8) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 8) (i32.const 1))))
  (func (export "grow") (result i32) (memory.grow (i32.const 1))))`

const N = 16_000 // the numbers 1..N, from byte 64

if (isMainThread) {
  const engine = new Engine({ sharedMemory: true })
  const memory = new SharedMemory(engine, { initial: 1, maximum: 4 })
  memory.write(64, new Uint8Array(new Int32Array(Array.from({ length: N }, (_, i) => i + 1)).buffer))
  const module = new Module(engine, wat) // compiled once, here
  const half = (N / 2) * 4
  const workers = [0, 1].map((i) => new Worker(new URL(import.meta.url), {
    workerData: { module: module.share(), memory: memory.share(), start: 64 + i * half, end: 64 + (i + 1) * half },
  }))
  // A worker starts with the help of this thread's event loop: block this thread only once
  // both are ready (waiting at 16). Then set 16 to 1 and wake them.
  await Promise.all(workers.map((w) => once(w, 'message'))) // (rejects if a worker fails)
  memory.write(16, new Uint8Array([1]))
  memory.notify(16)
  // Wait until both workers counted themselves done (the i32 at 8 is 2).
  for (;;) {
    const done = new DataView(memory.read(8, 4).buffer).getInt32(0, true)
    if (done === 2) break
    memory.wait32(8, done, 10_000)
  }
  const sum = new DataView(memory.read(0, 8).buffer).getBigInt64(0, true)
  console.log(`2 workers summed 1..${N} in one SharedMemory: ${sum}`)
  // Growth by wasm on this thread is seen by every thread (and the other way round).
  const here = new Instance(new Store(engine), module, { env: { memory } })
  const before = /** @type {() => number} */ (here.exports.grow)()
  console.log(`grown by wasm: ${before} → ${memory.size()} pages`)
  await Promise.all(workers.map((w) => w.terminate()))
} else {
  const module = Module.fromShared(workerData.module)
  const memory = SharedMemory.fromShared(workerData.memory)
  const instance = new Instance(new Store(module.engine), module, { env: { memory } })
  const sum = /** @type {(start: number, end: number) => void} */ (instance.exports.sum)
  parentPort?.postMessage('ready')
  memory.wait32(16, 0) // until the main thread sets 16 to 1 ('not-equal' if it already did)
  sum(workerData.start, workerData.end)
}
