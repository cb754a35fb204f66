// Test 5: interrupts a call running on the main thread. The main thread cannot receive messages
// while wasm runs there, so the 'spinning' signal is a shared Int32 flag that the main thread's
// host function sets (and notifies) at the start of the call; this worker blocks on it. Its
// result carries `interruptedAt` (performance.timeOrigin + performance.now() just before interrupt()).
import { parentPort, workerData } from 'node:worker_threads'
import { api, guarded } from './common.mjs'

const { InterruptHandle } = api
const { flag } = workerData

parentPort.once('message', guarded(({ token }) => {
  const handle = InterruptHandle.fromShared(token)
  parentPort.postMessage({ type: 'ready' })
  // 'ok' (woken) or 'not-equal' (already set): the call is running. 'timed-out': it never started.
  const waited = Atomics.wait(flag, 0, 0, 120_000)
  const interruptedAt = performance.timeOrigin + performance.now()
  if (waited !== 'timed-out') handle.interrupt()
  parentPort.postMessage({ type: 'result', waited, interruptedAt })
}))
