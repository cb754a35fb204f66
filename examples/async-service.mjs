// A plugin service on one Node thread: many concurrent requests, each running a wasm plugin in
// its own store, whose host function does async I/O (here a simulated 20 ms database read).
//
//   node examples/async-service.mjs [requests]
//
// Stores made with `async: true` run `callAsync` as fibers on a fixed pool of threads
// (`asyncThreads()`, default os.availableParallelism()): while a plugin awaits the host's
// Promise it holds no thread, and a plugin that spins is sliced (and stopped by its timeout).
import { Engine, Linker, Module, Store, asyncThreads, liveObjects } from '../dist/index.js'

const requests = Number(process.argv[2] ?? 2000)

// The plugin: `handle(id)` asks the host for the row of `id` and returns row * 10 + 7.
const plugin = new Module(Engine.default, `(module
  (import "db" "read" (func $read (param i32) (result i32)))
  (func (export "handle") (param $id i32) (result i32)
    (i32.add (i32.mul (call $read (local.get $id)) (i32.const 10)) (i32.const 7)))
  (func (export "runaway") (loop (br 0))))`)

// One linker and one pre-instantiated module serve every request.
const linker = new Linker(Engine.default)
linker.func('db', 'read', { params: ['i32'], results: ['i32'] }, async (id) => {
  await new Promise((r) => setTimeout(r, 20)) // the database round trip
  return id % 1000
})
const pre = linker.instantiatePre(plugin)

async function serve(id) {
  const store = new Store(Engine.default, { async: true, timeoutMs: 1000 })
  try {
    const { handle } = /** @type {Record<string, import('wasmtime-node').ExportedFunction>} */ (pre.instantiate(store).exports)
    return await handle.callAsync(id)
  } finally {
    store.dispose() // gives the store's fiber stack back at once
  }
}

const t0 = performance.now()
const results = await Promise.all(Array.from({ length: requests }, (_, id) => serve(id)))
const ms = performance.now() - t0
const wrong = results.filter((r, id) => r !== (id % 1000) * 10 + 7).length
console.log(`${requests} requests in ${ms.toFixed(0)} ms on ${asyncThreads()} pool threads, ${wrong} wrong results`)

// A runaway plugin is stopped by its timeout; the others keep being served meanwhile.
const store = new Store(Engine.default, { async: true })
const { runaway: spin } = /** @type {Record<string, import('wasmtime-node').ExportedFunction>} */ (pre.instantiate(store).exports)
const runaway = spin.callAsync({ timeoutMs: 200 }).catch((e) => `${e.name} ${e.trapCode}`)
const during = await Promise.all([1, 2, 3].map(serve))
console.log(`while a plugin spins: served ${during.join(', ')}; the spinning one ended with: ${await runaway}`)
store.dispose()
console.log('native objects left:', liveObjects().stores, 'stores')
if (wrong) process.exitCode = 1
