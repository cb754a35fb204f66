// Test 6: echoes what it receives, so the test can see what (if anything) crossed the thread
// boundary. For `{ type: 'descriptors', module }` it also reports the same descriptors as this
// worker computes them from the shared module.
import { parentPort } from 'node:worker_threads'
import { api, guarded } from './common.mjs'

const { Instance, Module, Store } = api

parentPort.on('message', guarded((msg) => {
  if (msg.type !== 'descriptors') return parentPort.postMessage({ type: 'echo', value: msg })
  const module = Module.fromShared(msg.module)
  const instance = new Instance(new Store(), module, { env: { f: () => 0 } })
  parentPort.postMessage({
    type: 'descriptors',
    received: msg.descriptors,
    own: { imports: module.imports, exports: module.exports, funcType: instance.exports.run.type },
  })
}))
