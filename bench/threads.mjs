// Thread-model benchmarks: Module.fromShared (10 KB vs 10 MB), store transfer round trips, and
// throughput of one module shared by 1 vs 2 workers.
import { Worker } from 'node:worker_threads'
import { createRequire } from 'node:module'
import { CPU_LOOP } from './modules.mjs'

const require = createRequire(import.meta.url)
const wt = require('../dist/index.js')

function startWorker() {
  const w = new Worker(new URL('./threads-worker.mjs', import.meta.url))
  const ask = (msg, transferList) =>
    new Promise((resolve, reject) => {
      w.once('message', (r) => (r.ok ? resolve(r) : reject(new Error(r.error))))
      w.postMessage(msg, transferList)
    })
  return { ask, close: () => w.terminate() }
}

/** A module of about `codeKiB` of code and `dataKiB` of data. */
function makeModule(funcs, dataBytes) {
  const body = Array.from({ length: 40 }, (_, i) => `(local.set 0 (i32.add (i32.mul (local.get 0) (i32.const ${i + 3})) (i32.const ${i})))`).join(' ')
  const fns = Array.from({ length: funcs }, (_, i) => `(func (export "f${i}") (param i32) (result i32) ${body} (local.get 0))`).join('\n')
  const data = dataBytes ? `(memory 1) (data (i32.const 0) "${'\\2a'.repeat(dataBytes)}")` : ''
  return wt.wat2wasm(`(module ${data} ${fns})`)
}

const CPU_WAT = `(module ${CPU_LOOP})`

async function fromSharedRows() {
  const w = startWorker()
  const small = makeModule(30, 0)
  const big = makeModule(60, 10 * 1024 * 1024 - 200_000)
  const rows = []
  const results = {}
  for (const [label, bytes] of [['10 KB', small], ['10 MB', big]]) {
    const m = new wt.Module(wt.Engine.default, bytes)
    await w.ask({ op: 'fromShared', token: m.share(), reps: 2000 }) // warm-up
    const shared = (await w.ask({ op: 'fromShared', token: m.share(), reps: 2000 })).ns
    const compile = (await w.ask({ op: 'compile', bytes })).ns
    const v8m = new WebAssembly.Module(bytes)
    const t0 = process.hrtime.bigint()
    await w.ask({ op: 'v8Module', module: v8m })
    const v8post = Number(process.hrtime.bigint() - t0)
    results[label] = { bytes: bytes.byteLength, shared, compile, v8post }
    rows.push({ name: `Module.fromShared in a worker, ${label} (${(bytes.byteLength / 1024).toFixed(0)} KiB)`, unit: 'µs', ours: shared / 1e3, peer: compile / 1e3, peerName: 'compiling it in the worker' })
    rows.push({ name: `Module.fromShared in a worker, ${label}`, unit: 'µs', ours: shared / 1e3, peer: v8post / 1e3, peerName: 'posting a WebAssembly.Module (round trip)' })
  }
  await w.close()
  rows.push({ name: 'fromShared cost, 10 MB / 10 KB', unit: '×', ours: results['10 MB'].shared / results['10 KB'].shared, peer: 1, peerName: 'O(1) ideal', target: '≈ 1' })
  return rows
}

async function transferRows() {
  const w = startWorker()
  const store = new wt.Store()
  const inst = new wt.Instance(store, new wt.Module(wt.Engine.default, '(module (memory (export "mem") 16))'))
  let objects = { inst }
  let current = store
  const ROUNDS = 2000
  const bounce = async () => {
    const r = await w.ask({ op: 'bounce', transfer: current.transfer(objects) })
    ;({ store: current, objects } = wt.Store.receive(r.transfer))
  }
  for (let i = 0; i < 200; i++) await bounce()
  // Thread wake-ups make single runs noisy: the best of 5 batches, ours and the floor interleaved.
  const batch = async (f) => {
    const t = process.hrtime.bigint()
    for (let i = 0; i < ROUNDS / 5; i++) await f()
    return Number(process.hrtime.bigint() - t) / (ROUNDS / 5)
  }
  let ours = Infinity
  let empty = Infinity
  for (let b = 0; b < 5; b++) {
    ours = Math.min(ours, await batch(bounce))
    empty = Math.min(empty, await batch(() => w.ask({ op: 'bounceBuffer', buffer: null })))
  }
  const check = objects.inst.exports.mem.byteLength ?? objects.inst.exports.mem.size()
  let buffer = new ArrayBuffer(1024 * 1024)
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < ROUNDS; i++) ({ buffer } = await w.ask({ op: 'bounceBuffer', buffer }))
  const copy = Number(process.hrtime.bigint() - t0) / ROUNDS
  await w.close()
  void check
  return [
    { name: 'store transfer round trip main → worker → main (1 MiB memory)', unit: 'µs', ours: ours / 1e3, peer: copy / 1e3, peerName: 'posting a 1 MiB ArrayBuffer there and back (copies)', target: '≤ 100 µs' },
    { name: 'store transfer round trip main → worker → main (1 MiB memory)', unit: 'µs', ours: ours / 1e3, peer: empty / 1e3, peerName: 'an empty postMessage round trip (the floor)' },
    { name: "store transfer, the binding's own part per transfer + receive ((round trip − empty round trip) / 2)", unit: 'µs', ours: (ours - empty) / 2e3, peer: 15, peerName: 'the target', target: '≤ 15 µs (issue 18)' },
  ]
}

async function throughputRows() {
  const bytes = wt.wat2wasm(CPU_WAT)
  const module = new wt.Module(wt.Engine.default, bytes) // keeps the token valid
  const token = module.share()
  const calls = 40
  const n = 5_000_000
  const rate = async (workers, engine) => {
    const ws = Array.from({ length: workers }, startWorker)
    await Promise.all(ws.map((w) => w.ask({ op: 'spin', token, bytes, calls: 1, n: 1000, engine }))) // warm up
    const t0 = process.hrtime.bigint()
    await Promise.all(ws.map((w) => w.ask({ op: 'spin', token, bytes, calls, n, engine })))
    const s = Number(process.hrtime.bigint() - t0) / 1e9
    await Promise.all(ws.map((w) => w.close()))
    return (workers * calls) / s
  }
  void module
  const [o1, o2, v1, v2] = [await rate(1, 'ours'), await rate(2, 'ours'), await rate(1, 'v8'), await rate(2, 'v8')]
  return [
    { name: 'CPU-bound export, calls/s: 2 workers vs 1 (one shared module)', unit: '×', ours: o2 / o1, peer: v2 / v1, peerName: 'V8 WebAssembly, same scaling', target: '≥ 1.8×', better: 'higher' },
    { name: 'CPU-bound export, calls/s on 1 worker', unit: 'calls/s', ours: o1, peer: v1, peerName: 'V8 WebAssembly', better: 'higher' },
  ]
}

export async function run() {
  return [...(await fromSharedRows()), ...(await transferRows()), ...(await throughputRows())]
}
