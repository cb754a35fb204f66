// Per-request instantiation: a fresh store + instance of a small module (and of one with 16 MiB
// of initial memory), then dispose — against `new WebAssembly.Instance` of the same module.
import { createRequire } from 'node:module'
import { bestOf } from './harness.mjs'

const require = createRequire(import.meta.url)
const wt = require('../dist/index.js')

/** A small plugin: 1 page (or `pages`) of memory, a data segment, a few functions, a global. */
const plugin = (pages) => `(module
  (memory (export "memory") ${pages})
  (global $calls (mut i32) (i32.const 0))
  (data (i32.const 16) "a request-sized plugin")
  (func $hash (export "hash") (param $p i32) (param $n i32) (result i32) (local $h i32)
    (local.set $h (i32.const 0x811c9dc5))
    (block $d (loop $l (br_if $d (i32.eqz (local.get $n)))
      (local.set $h (i32.mul (i32.xor (local.get $h) (i32.load8_u (local.get $p))) (i32.const 0x01000193)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1))) (br $l)))
    (local.get $h))
  (func (export "run") (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (call $hash (i32.const 16) (i32.const 22))))`

// Pooling as the README recommends for per-request instances (slots kept resident, reset by memset).
const POOL = { pooling: { totalCoreInstances: 1000, totalMemories: 1000, totalTables: 1000, maxMemorySize: 32 << 20, linearMemoryKeepResident: 65536, tableKeepResident: 4096 } }

/** `call`: each request also calls the export `run` (then its exports are made: they are lazy). */
function measure(pages, call = false) {
  const bytes = wt.wat2wasm(plugin(pages))
  const N = pages > 1 ? 2000 : 10000
  const perRequest = (engine) => {
    const pre = new wt.Linker(engine).instantiatePre(new wt.Module(engine, bytes))
    const check = pre.instantiate(new wt.Store(engine)).exports.run()
    return bestOf(() => {
      for (let i = 0; i < N; i++) {
        const store = new wt.Store(engine)
        const instance = pre.instantiate(store)
        if (call) instance.exports.run()
        store.dispose()
      }
    }, N, 5) + check * 0
  }
  const onDemand = perRequest(new wt.Engine())
  const pooled = perRequest(new wt.Engine({ allocator: POOL }))
  const v8Module = new WebAssembly.Module(bytes)
  const v8 = bestOf(() => {
    for (let i = 0; i < N; i++) {
      const instance = new WebAssembly.Instance(v8Module, {})
      if (call) instance.exports.run()
    }
  }, N, 5)
  const what = (pages > 1 ? `${(pages * 64) >> 10} MiB initial memory` : 'small module (1 page)') + (call ? ', one export called' : '')
  const peerName = call ? 'new WebAssembly.Instance + the same call' : 'new WebAssembly.Instance'
  return [
    { name: `fresh store + instance per request, ${what}, pooling allocator`, unit: 'ns', ours: pooled, peer: v8, peerName, target: pages > 1 ? '≥ 20× faster (≤ 0.05×)' : '≤ 0.1×' },
    { name: `fresh store + instance per request, ${what}, on-demand allocator`, unit: 'ns', ours: onDemand, peer: v8, peerName, target: pages > 1 ? '' : '≤ 0.5×' },
  ]
}

export function run() {
  return [...measure(1), ...measure(1, true), ...measure(256)]
}
