// callAsync: round-trip overhead, and event-loop lag while two CPU-bound guests run.
import { createRequire } from 'node:module'
import { CPU_LOOP } from './modules.mjs'
import { Worker } from 'node:worker_threads'

const require = createRequire(import.meta.url)
const wt = require('../dist/index.js')

const WAT = `(module
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  ${CPU_LOOP})`

async function roundTrip() {
  const bytes = wt.wat2wasm(WAT)
  const add = new wt.Instance(new wt.Store(), new wt.Module(wt.Engine.default, bytes)).exports.add
  const N = 3000
  for (let i = 0; i < 300; i++) await add.callAsync(i, 1)
  let t0 = process.hrtime.bigint()
  for (let i = 0; i < N; i++) await add.callAsync(i, 1)
  const ours = Number(process.hrtime.bigint() - t0) / N / 1e3
  // The usual way to keep wasm off the event loop today: a worker running V8's WebAssembly.
  const w = new Worker(`const { parentPort } = require('node:worker_threads')
    const add = new WebAssembly.Instance(new WebAssembly.Module(require('node:worker_threads').workerData)).exports.add
    parentPort.on('message', (a) => parentPort.postMessage(add(a, 1)))`, { eval: true, workerData: bytes })
  const ask = (a) => new Promise((resolve) => { w.once('message', resolve); w.postMessage(a) })
  for (let i = 0; i < 300; i++) await ask(i)
  t0 = process.hrtime.bigint()
  for (let i = 0; i < N; i++) await ask(i)
  const worker = Number(process.hrtime.bigint() - t0) / N / 1e3
  await w.terminate()
  return { name: 'callAsync round trip, add(i32,i32)', unit: 'µs', ours, peer: worker, peerName: 'V8 WebAssembly in a worker, postMessage round trip' }
}

/** p99 lateness of a 1 ms timer while `busy()` runs, in ms. */
async function lagWhile(busy) {
  const lags = []
  let last = performance.now()
  const iv = setInterval(() => {
    const now = performance.now()
    lags.push(now - last - 1)
    last = now
  }, 1)
  await busy()
  clearInterval(iv)
  lags.sort((a, b) => a - b)
  return Math.max(0, lags[Math.floor(lags.length * 0.99)] ?? 0)
}

async function eventLoopLag() {
  const bytes = wt.wat2wasm(WAT)
  const module = new wt.Module(wt.Engine.default, bytes)
  const works = [0, 1].map(() => new wt.Instance(new wt.Store(), module).exports.work)
  const N = 150_000_000
  const ours = await lagWhile(() => Promise.all(works.map((w) => w.callAsync(N))))
  const v8work = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.work
  const v8 = await lagWhile(async () => {
    for (let i = 0; i < 2; i++) {
      v8work(N)
      await new Promise((r) => setImmediate(r))
    }
  })
  return { name: 'event-loop lag p99 while two CPU-bound guests run', unit: 'ms', ours, peer: v8, peerName: 'V8 WebAssembly called on the event loop', target: '< 2 ms' }
}

export async function run() {
  return [await roundTrip(), await eventLoopLag()]
}
