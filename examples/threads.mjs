// Threads: compile once, share the compiled module with workers (no recompilation), and move a
// stateful store from the main thread to a worker and back with store.transfer().
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { Engine, Module, Store, Instance } from 'wasmtime-node'

const wat = `(module
  (import "host" "log" (func $log (param i32)))
  (global $count (mut i32) (i32.const 0))
  (func (export "tick") (result i32)
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (call $log (global.get $count))
    (global.get $count)))`

const where = isMainThread ? 'main' : `worker ${workerData.n}`
// Host functions belong to a thread: every thread supplies its own.
const imports = { host: { log: (n) => console.log(`[${where}] count is ${n}`) } }
/** `instance.exports.tick()` (an export may be a function, a memory, a table or a global: name its type). */
const tick = (/** @type {Instance} */ instance) => /** @type {import('wasmtime-node').ExportedFunction} */ (instance.exports.tick)()

if (isMainThread) {
  const module = new Module(Engine.default, wat) // compiled once, here
  const store = new Store()
  const instance = new Instance(store, module, imports)
  tick(instance)

  // Move the store (and the instance in it) to a worker; it sends it back after one tick.
  const worker = new Worker(new URL(import.meta.url), { workerData: { n: 1, module: module.share() } })
  worker.postMessage(store.transfer({ instance }))
  let back
  worker.once('message', (token) => (back = token))
  worker.once('exit', () => {
    // (Received after the worker exits only so that its console output comes first.)
    const { objects } = Store.receive(back, { imports })
    tick(/** @type {Instance} */ (objects.instance)) // count is 3: the state came back intact
    // A share token does not keep its module alive: `module` must stay reachable until the
    // worker has called Module.fromShared — referring to it here does that.
    console.log(`main: one compiled module (${module.exports.length} exports) served both threads`)
  })
} else {
  const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort) // a worker's: not null
  port.once('message', (token) => {
    const { store, objects } = Store.receive(token, { imports })
    tick(/** @type {Instance} */ (objects.instance)) // count is 2
    // The shared module is usable here too, without recompiling:
    const other = new Instance(store, Module.fromShared(workerData.module), imports)
    tick(other) // a fresh instance: its count is 1
    port.postMessage(store.transfer({ instance: objects.instance }))
    port.close()
  })
}
