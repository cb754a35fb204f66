// Test 7: workers that end while holding wasm state.
//   'live':    creates stores (host functions closing over store and instance, a memory buffer,
//              an interrupt handle), receives a transferred store and uses it, disposes nothing,
//              and ends naturally.
//   'ignore':  gets a transfer token, never receives it, and ends naturally.
//   'linger':  like 'live', then waits until the test terminates it.
import { parentPort, workerData } from 'node:worker_threads'
import { api, readI32 } from './common.mjs'

const { Instance, Store } = api
const { mode, module, transfer } = workerData

/** Stores that stay reachable until the worker ends (kept in a module-level array on purpose). */
const kept = []

function makeLiveStores() {
  const results = []
  for (let i = 0; i < 3; i++) {
    const store = new Store(undefined, { data: { i } })
    let instance
    // Closes over the store and the instance: the cycle the package must cope with at teardown.
    const log = (v) => { if (store.data.i !== i || !instance) throw new Error('wrong store'); results.push(v) }
    instance = new Instance(store, module, { host: { log } })
    instance.exports.inc()
    kept.push({ store, instance, buffer: instance.exports.mem.buffer, handle: store.interruptHandle() })
  }
  return results
}

if (mode === 'ignore') {
  parentPort.once('message', (msg) => {
    // Deliberately not Store.receive(msg.token).
    parentPort.postMessage({ type: 'result', gotKind: msg.token.kind })
  })
} else {
  const logged = makeLiveStores()
  let received = null
  if (transfer) {
    const { objects } = Store.receive(transfer, { imports: { host: { log: (v) => logged.push(v) } } })
    received = { inc: objects.inc(), memCounter: readI32(objects.mem, 0) }
    kept.push(objects)
  }
  parentPort.postMessage({ type: mode === 'linger' ? 'ready' : 'result', logged, received })
  if (mode === 'linger') parentPort.on('message', () => {})
}
