// callAsync: round-trip overhead, and event-loop lag while two CPU-bound guests run.
import { createRequire } from 'node:module'
import { CPU_LOOP } from './modules.mjs'
import { Worker } from 'node:worker_threads'
import { readFileSync } from 'node:fs'

const require = createRequire(import.meta.url)
const wt = require('../dist/index.js')

const WAT = `(module
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  ${CPU_LOOP})`

/** Mean µs of a sequential `callAsync` round trip of `add` in a store made with `opts`. */
async function ourRoundTrip(bytes, opts) {
  const add = new wt.Instance(new wt.Store(wt.Engine.default, opts), new wt.Module(wt.Engine.default, bytes)).exports.add
  const N = 3000
  for (let i = 0; i < 300; i++) await add.callAsync(i, 1)
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < N; i++) await add.callAsync(i, 1)
  return Number(process.hrtime.bigint() - t0) / N / 1e3
}

async function roundTrip() {
  const bytes = wt.wat2wasm(WAT)
  const N = 3000
  const ours = await ourRoundTrip(bytes, { async: true })
  const blocking = await ourRoundTrip(bytes, {})
  // The usual way to keep wasm off the event loop today: a worker running V8's WebAssembly.
  const w = new Worker(`const { parentPort } = require('node:worker_threads')
    const add = new WebAssembly.Instance(new WebAssembly.Module(require('node:worker_threads').workerData)).exports.add
    parentPort.on('message', (a) => parentPort.postMessage(add(a, 1)))`, { eval: true, workerData: bytes })
  const ask = (a) => new Promise((resolve) => { w.once('message', resolve); w.postMessage(a) })
  for (let i = 0; i < 300; i++) await ask(i)
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < N; i++) await ask(i)
  const worker = Number(process.hrtime.bigint() - t0) / N / 1e3
  await w.terminate()
  const peerName = 'V8 WebAssembly in a worker, postMessage round trip'
  return [
    { name: 'callAsync round trip, add(i32,i32), async store (fiber on the pool)', unit: 'µs', ours, peer: worker, peerName, target: '≤ 30 µs' },
    { name: 'callAsync round trip, add(i32,i32), plain store (blocking thread)', unit: 'µs', ours: blocking, peer: worker, peerName },
  ]
}

const threadCount = () => Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const HOST_WAT = `(module (import "h" "f" (func $f (param i32) (result i32)))
  (func (export "w") (param i32) (result i32) (i32.add (call $f (local.get 0)) (i32.const 1))))`

/** `fn()` while sampling the process's OS threads and RSS: [ms, peak extra threads, RSS growth MiB]. */
async function measured(fn) {
  const rss0 = process.memoryUsage().rss
  const threads0 = threadCount()
  let peak = threads0
  const iv = setInterval(() => (peak = Math.max(peak, threadCount())), 2)
  const t0 = performance.now()
  await fn()
  const ms = performance.now() - t0
  clearInterval(iv)
  return [ms, peak - threads0, (process.memoryUsage().rss - rss0) / 2 ** 20]
}

/** 10,000 guests in flight, each awaiting a 50 ms host Promise; V8: the same requests on a pool of workers. */
async function inFlight() {
  const N = 10_000
  const module = new wt.Module(wt.Engine.default, HOST_WAT)
  const imports = { h: { f: async (x) => (await sleep(50), x * 2) } }
  const insts = Array.from({ length: N }, () => new wt.Instance(new wt.Store(wt.Engine.default, { async: true }), module, imports))
  let failures = 0
  const check = (i, k) => i.exports.w.callAsync(k).then((r) => r === 2 * k + 1 || failures++, () => failures++).finally(() => i._store.dispose())
  const [ms, threads, rss] = await measured(() => Promise.all(insts.map(check)))
  const pool = wt.asyncThreads()
  const workers = Array.from({ length: pool }, () => new Worker(`const { parentPort, workerData } = require('node:worker_threads')
    const w = new WebAssembly.Instance(new WebAssembly.Module(workerData), { h: { f: (x) => x * 2 } }).exports.w
    parentPort.on('message', (k) => setTimeout(() => parentPort.postMessage([k, w(k)]), 50))`, { eval: true, workerData: wt.wat2wasm(HOST_WAT) }))
  const waiting = new Map()
  for (const w of workers) w.on('message', ([k, r]) => waiting.get(k)(r))
  const ask = (_, k) => new Promise((resolve) => {
    waiting.set(k, resolve)
    workers[k % pool].postMessage(k)
  })
  const [v8ms] = await measured(() => Promise.all(Array.from({ length: N }, ask)))
  await Promise.all(workers.map((w) => w.terminate()))
  const note = `peak +${threads} OS threads, RSS +${rss.toFixed(0)} MiB, ${failures} failures`
  return { name: `10,000 concurrent callAsync awaiting a 50 ms host Promise (${note})`, unit: 'ms', ours: ms, peer: v8ms, peerName: `V8 WebAssembly on ${pool} workers, waiting there`, target: '≤ 500 ms' }
}

/** Latency of short calls started while 4 CPU-bound guests (seconds each) hold the pool. */
async function fairness() {
  const module = new wt.Module(wt.Engine.default, WAT)
  const work = Array.from({ length: 4 }, () => new wt.Instance(new wt.Store(wt.Engine.default, { async: true }), module).exports.work)
  const adds = Array.from({ length: 200 }, () => new wt.Instance(new wt.Store(wt.Engine.default, { async: true }), module).exports.add)
  const long = Promise.all(work.map((w) => w.callAsync(600_000_000)))
  await sleep(50)
  const lat = []
  for (const add of adds) {
    const t0 = performance.now()
    await add.callAsync(1, 2)
    lat.push(performance.now() - t0)
    await sleep(2)
  }
  await long
  lat.sort((a, b) => a - b)
  const name = `short callAsync latency while 4 CPU-bound guests share the pool of ${wt.asyncThreads()}`
  return [
    { name: `${name}, p99`, unit: 'ms', ours: lat[Math.floor(lat.length * 0.99)], peer: 10, peerName: 'the target', target: '≤ 10 ms' },
    { name: `${name}, max`, unit: 'ms', ours: lat[lat.length - 1], peer: 50, peerName: 'the target', target: '≤ 50 ms' },
  ]
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
  return [...(await roundTrip()), await inFlight(), ...(await fairness()), await eventLoopLag()]
}
