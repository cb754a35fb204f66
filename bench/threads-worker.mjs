// Worker side of bench/threads.mjs: answers one message at a time.
import { parentPort } from 'node:worker_threads'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const wt = require('../dist/index.js')

const handlers = {
  // Time Module.fromShared(token) over `reps` repetitions.
  fromShared({ token, reps }) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < reps; i++) wt.Module.fromShared(token)
    return { ns: Number(process.hrtime.bigint() - t0) / reps }
  },
  // Time compiling the same bytes here.
  compile({ bytes }) {
    const t0 = process.hrtime.bigint()
    new wt.Module(wt.Engine.default, bytes)
    return { ns: Number(process.hrtime.bigint() - t0) }
  },
  v8Module({ module }) {
    return { ok: module instanceof WebAssembly.Module }
  },
  // Receive a store and send it straight back.
  bounce({ transfer }) {
    const { store, objects } = wt.Store.receive(transfer)
    return { transfer: store.transfer(objects) }
  },
  bounceBuffer({ buffer }) {
    return { buffer }
  },
  // Run `calls` calls of the CPU-bound export, ours or V8's.
  spin({ token, bytes, calls, n, engine }) {
    let f
    if (engine === 'v8') f = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.work
    else f = new wt.Instance(new wt.Store(), wt.Module.fromShared(token)).exports.work
    let acc = 0
    for (let i = 0; i < calls; i++) acc = (acc + f(n)) | 0
    return { acc }
  },
}

parentPort.on('message', (msg) => {
  try {
    parentPort.postMessage({ ok: true, ...handlers[msg.op](msg) })
  } catch (e) {
    parentPort.postMessage({ ok: false, error: String(e && e.stack) })
  }
})
