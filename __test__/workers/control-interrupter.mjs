// control.test.ts: interrupts a call running in another thread. Messages come from `port` (the
// spinning worker, see control-spin.mjs) when given, else from the parent: `{ type: 'handle',
// token }`, then `{ type: 'spinning' }` once the call runs. On 'spinning' it calls
// `InterruptHandle.fromShared(token).interrupt()` and posts `{ type: 'result', interruptedAt }`
// to the parent (performance.timeOrigin + performance.now() just before interrupt()).
import { parentPort, workerData } from 'node:worker_threads'
import { api, guarded } from './common.mjs'

const { InterruptHandle } = api
const port = workerData?.port ?? parentPort
let handle

port.on('message', guarded((msg) => {
  if (msg.type === 'handle') {
    handle = InterruptHandle.fromShared(msg.token)
  } else if (msg.type === 'spinning') {
    const interruptedAt = performance.timeOrigin + performance.now()
    handle.interrupt()
    parentPort.postMessage({ type: 'result', interruptedAt })
    if (workerData?.port) port.close()
    else parentPort.close()
  }
}))
