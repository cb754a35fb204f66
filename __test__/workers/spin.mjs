// Test 5: runs a long wasm loop that another thread interrupts. The loop is bounded (by `bound`
// iterations, far longer than the test waits) rather than infinite: a worker stuck in native
// code cannot be terminated, so a broken interrupt must end in a failed assertion, not a hang.
//
// The interrupt handle's token and the 'spinning' signal go to `signalPort` (another worker) when
// given, else to the parent. 'spinning' is posted by a host function called at the start of
// `spin`, so whoever gets it knows the call is running. The result carries `stoppedAt`, the time
// the call's failure reached this thread (performance.timeOrigin + performance.now(), comparable
// across threads).
import { parentPort, workerData } from 'node:worker_threads'
import { api, attempt } from './common.mjs'

const { Instance, Store } = api
const { module, bound, signalPort } = workerData
const port = signalPort ?? parentPort

const store = new Store()
const instance = new Instance(store, module, { host: { started: () => port.postMessage({ type: 'spinning' }) } })
const { spin, ok } = instance.exports

// An interrupt while nothing runs must not affect a later call.
store.interruptHandle().interrupt()
const idleThenOk = attempt(() => ok())

port.postMessage({ type: 'handle', token: store.interruptHandle().share() })
const spun = attempt(() => spin(bound))
const stoppedAt = performance.timeOrigin + performance.now()
// The interrupt stopped that call only: the store works afterwards.
const afterwards = attempt(() => ok())

parentPort.postMessage({ type: 'result', idleThenOk, spun, stoppedAt, afterwards })
signalPort?.close()
