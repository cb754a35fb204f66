// A worker of shared-memory.test.ts: instantiates modules over one SharedMemory and calls their
// exports on request. `engine` ('ours' or 'v8') says whose WebAssembly runs here: ours takes
// share tokens (a Module, a SharedMemory); V8 takes the wasm bytes and a WebAssembly.Memory
// whose SharedArrayBuffer it shares.
//
// Requests: `{ op: 'instantiate', module, memory }` (replies `{ type: 'ready', exported }`, the
// token of the instance's own exported shared memory if it has one) and `{ op: 'call', name, args }`
// (replies `{ type: 'result', value }`, or `{ type: 'error', error }`), and `{ op: 'callUntil',
// name, value, ms }` (calls `name()` until it returns `value`).
import { parentPort, workerData } from 'node:worker_threads'
import { api, describeError } from './common.mjs'

let exports
parentPort.on('message', (req) => {
  try {
    if (req.op === 'instantiate') {
      if (workerData.engine === 'v8') {
        const imports = req.memory ? { env: { memory: req.memory } } : {}
        exports = new WebAssembly.Instance(new WebAssembly.Module(req.module), imports).exports
        parentPort.postMessage({ type: 'ready' })
        return
      }
      const module = api.Module.fromShared(req.module)
      const imports = req.memory ? { env: { memory: api.SharedMemory.fromShared(req.memory) } } : {}
      exports = new api.Instance(new api.Store(module.engine), module, imports).exports
      const own = exports.memory instanceof api.SharedMemory ? exports.memory.share() : undefined
      parentPort.postMessage({ type: 'ready', exported: own })
    } else if (req.op === 'call') {
      const value = exports[req.name](...req.args)
      parentPort.postMessage({ type: 'result', value })
    } else if (req.op === 'callUntil') {
      // Call `name` until it returns `value` (at most `ms`): for a partner blocked in a wait,
      // whose thread cannot send another request meanwhile.
      const end = Date.now() + req.ms
      let value
      do value = exports[req.name]()
      while (value !== req.value && Date.now() < end)
      parentPort.postMessage({ type: 'result', value })
    }
  } catch (e) {
    parentPort.postMessage({ type: 'error', error: describeError(e) })
  }
})
