// control.test.ts: runs an endless guest loop, `(loop (br 0))`, in this worker — a synchronous
// call (mode 'sync') or a callAsync (mode 'async') — until something outside stops it: an
// interrupt made by another thread, or worker.terminate().
//
// workerData: { module: a Module token of SPIN_WAT, mode, port?, callTimeoutMs?, exitOnRequest? }
// (`callTimeoutMs`: the callAsync's timeoutMs option; `exitOnRequest`: a `{ type: 'exit' }`
// message from the parent makes the worker call process.exit(0)). It posts `{ type: 'handle',
// token }` and then `{ type: 'spinning' }` to `port` (another worker) when given, else to the
// parent. 'spinning' is posted by the host function the guest calls right before its loop, so
// whoever gets it knows the call is running. When the call ends it posts to the parent
// `{ type: 'result', spun, stoppedAt, afterwards }`: `stoppedAt` is the time the call's failure
// reached this thread (performance.timeOrigin + performance.now(), comparable across threads),
// `afterwards` a later call on the same store.
import { parentPort, workerData } from 'node:worker_threads'
import { api, attempt, describeError, fail } from './common.mjs'

const { Instance, Module, Store } = api
const { module, mode, port: signalPort, callTimeoutMs, exitOnRequest } = workerData
const port = signalPort ?? parentPort
const now = () => performance.timeOrigin + performance.now()

const store = new Store()
const instance = new Instance(store, Module.fromShared(module), {
  host: { started: () => port.postMessage({ type: 'spinning' }) },
})
const { spin, ok } = instance.exports

port.postMessage({ type: 'handle', token: store.interruptHandle().share() })
if (exitOnRequest) parentPort.on('message', (m) => { if (m.type === 'exit') process.exit(0) })

function report(spun, stoppedAt) {
  parentPort.postMessage({ type: 'result', spun, stoppedAt, afterwards: attempt(() => ok()) })
  signalPort?.close()
}

if (mode === 'sync') {
  let spun
  try {
    spun = { threw: false, value: spin() }
  } catch (e) {
    spun = { threw: true, error: describeError(e) }
  }
  report(spun, now())
} else if (mode === 'async') {
  spin.callAsync(...(callTimeoutMs === undefined ? [] : [{ timeoutMs: callTimeoutMs }])).then(
    (value) => report({ threw: false, value }, now()),
    (e) => report({ threw: true, error: describeError(e) }, now()),
  ).catch(fail)
} else {
  fail(new Error(`unknown mode ${mode}`))
}
