// SharedMemory across workers: a parallel sum over one shared memory, by 1 and by 2 workers
// (each summing its half `REPS` times), ours against V8 over a WebAssembly.Memory({ shared }).
import { Worker } from 'node:worker_threads'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const wt = require('../dist/index.js')

const PAGES = 16
const KERNEL = `(module
  (import "env" "memory" (memory ${PAGES} ${PAGES} shared))
  (func (export "sum") (param $start i32) (param $end i32) (param $reps i32) (result i64) (local $p i32) (local $s i64)
    (loop $r
      (local.set $p (local.get $start))
      (block $d (loop $l
        (br_if $d (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $s (i64.add (local.get $s) (i64.extend_i32_u (i32.load (local.get $p)))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $l)))
      (local.set $reps (i32.sub (local.get $reps) (i32.const 1)))
      (br_if $r (i32.gt_s (local.get $reps) (i32.const 0))))
    (local.get $s)))`

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const wt = require(workerData.api)
let sum
parentPort.on('message', ({ start, end, reps }) => {
  const t0 = performance.now()
  const s = sum(start, end, reps)
  parentPort.postMessage({ ms: performance.now() - t0, s: String(s) })
})
if (workerData.kind === 'v8') {
  sum = new WebAssembly.Instance(new WebAssembly.Module(workerData.bytes), { env: { memory: workerData.memory } }).exports.sum
} else {
  const m = wt.Module.fromShared(workerData.module)
  sum = new wt.Instance(new wt.Store(m.engine), m, { env: { memory: wt.SharedMemory.fromShared(workerData.memory) } }).exports.sum
}
parentPort.postMessage({ ready: true })`

function start(workerData) {
  const w = new Worker(WORKER, { eval: true, workerData: { api: require.resolve('../dist/index.js'), ...workerData } })
  const next = () => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject) })
  return { ready: next(), run: (msg) => { const p = next(); w.postMessage(msg); return p }, close: () => w.terminate() }
}

/** Wall ms for `n` workers to sum the whole data `REPS` times (each its share), best of 3. */
async function timed(workers, bytes, reps) {
  await Promise.all(workers.map((w) => w.ready))
  let best = Infinity
  for (let round = 0; round < 4; round++) {
    const share = bytes / workers.length
    const t0 = performance.now()
    await Promise.all(workers.map((w, i) => w.run({ start: i * share, end: (i + 1) * share, reps })))
    if (round > 0) best = Math.min(best, performance.now() - t0)
  }
  return best
}

export async function run() {
  const bytes = PAGES * 65536
  const reps = 300
  const data = new Uint8Array(bytes).map((_, i) => (i * 31) & 0xff)
  const oursOn = (engine) => {
    const memory = new wt.SharedMemory(engine, { initial: PAGES, maximum: PAGES })
    memory.write(0, data)
    const module = new wt.Module(engine, KERNEL)
    return (n) => Array.from({ length: n }, () => start({ kind: 'ours', module: module.share(), memory: memory.share() }))
  }
  const v8mem = new WebAssembly.Memory({ initial: PAGES, maximum: PAGES, shared: true })
  new Uint8Array(v8mem.buffer).set(data)
  const wasm = wt.wat2wasm(KERNEL)
  const ours = oursOn(new wt.Engine({ sharedMemory: true }))
  const noEpochs = oursOn(new wt.Engine({ sharedMemory: true, epochInterruption: false }))
  const v8 = (n) => Array.from({ length: n }, () => start({ kind: 'v8', bytes: wasm, memory: v8mem }))
  const results = {}
  for (const [name, make] of [['ours', ours], ['noEpochs', noEpochs], ['v8', v8]]) {
    for (const n of [1, 2]) {
      const ws = make(n)
      results[`${name}${n}`] = await timed(ws, bytes, reps)
      await Promise.all(ws.map((w) => w.close()))
    }
  }
  return [
    { name: `shared-memory parallel sum (${PAGES} pages × ${reps}), 2 workers vs 1: speed-up`, unit: '×', ours: results.ours1 / results.ours2, peer: results.v81 / results.v82, peerName: 'V8 WebAssembly, same scaling', better: 'higher' },
    { name: `shared-memory parallel sum (${PAGES} pages × ${reps}), 2 workers`, unit: 'ms', ours: results.ours2, peer: results.v82, peerName: 'V8 WebAssembly.Memory({ shared: true }), 2 workers' },
    { name: `shared-memory parallel sum (${PAGES} pages × ${reps}), 1 worker`, unit: 'ms', ours: results.ours1, peer: results.v81, peerName: 'V8 WebAssembly, 1 worker' },
    { name: `shared-memory parallel sum (${PAGES} pages × ${reps}), 2 workers, epochInterruption: false`, unit: 'ms', ours: results.noEpochs2, peer: results.v82, peerName: 'V8 WebAssembly.Memory({ shared: true }), 2 workers' },
    { name: `shared-memory parallel sum (${PAGES} pages × ${reps}), 2 workers vs 1, epochInterruption: false`, unit: '×', ours: results.noEpochs1 / results.noEpochs2, peer: results.v81 / results.v82, peerName: 'V8 WebAssembly, same scaling', better: 'higher' },
  ]
}
