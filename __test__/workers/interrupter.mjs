// Test 5: interrupts another worker's running call, from this worker: it gets the interrupt
// handle's token and the 'spinning' signal straight from the spinning worker through `port`.
// `interruptedAt` in its result: performance.timeOrigin + performance.now() just before interrupt().
import { parentPort, workerData } from 'node:worker_threads'
import { api, guarded } from './common.mjs'

const { InterruptHandle } = api
const { port } = workerData
let token

port.on('message', guarded((msg) => {
  if (msg.type === 'handle') {
    token = msg.token
  } else if (msg.type === 'spinning') {
    const handle = InterruptHandle.fromShared(token)
    const interruptedAt = performance.timeOrigin + performance.now()
    handle.interrupt()
    parentPort.postMessage({ type: 'result', interrupted: true, interruptedAt, sameId: handle.share().id === token.id })
    port.close()
  }
}))
