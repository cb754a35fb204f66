// leak.test.ts runs this in a child process: synchronous loops (no await, so no finalizer runs)
// that create a store with a 1-page memory, instantiate, call and drop it — with `new Instance`,
// an InstancePre, a Linker, and a store with WASI. Prints one JSON line of
// `[{ mode, n, done, bad, peakRssGrowthMiB, liveStoresAtEnd }]`; a failure ends the loop early
// (`done` < `n`) and is printed on stderr.
import { api } from './common.mjs'

const { Engine, Instance, Linker, Module, Store, liveObjects } = api
const WAT = `(module (import "env" "f" (func $f (param i32) (result i32))) (memory 1)
  (func (export "go") (param i32) (result i32) (i32.store (i32.const 0) (local.get 0)) (call $f (i32.load (i32.const 0)))))`
const module = new Module(Engine.default, WAT)
const linker = new Linker(Engine.default)
linker.func('env', 'f', { params: ['i32'], results: ['i32'] }, (x) => x + 1)
linker.defineWasi()
const pre = linker.instantiatePre(module)

const MODES = {
  instance: [200_000, (store) => new Instance(store, module, { env: { f: (x) => x + (store ? 1 : 0) } })],
  pre: [60_000, (store) => pre.instantiate(store)],
  linker: [60_000, (store) => linker.instantiate(store, module)],
  wasi: [60_000, (store) => linker.instantiate(store, module), { wasi: { args: ['x'], stdout: 'capture' } }],
}

const rows = []
for (const [mode, [n, instantiate, opts]] of Object.entries(MODES)) {
  const rss0 = process.memoryUsage().rss
  let peak = rss0
  let done = 0
  let bad = 0
  try {
    for (let i = 0; i < n; i++) {
      const store = new Store(Engine.default, opts)
      if (instantiate(store).exports.go(i) !== i + 1) bad++
      done++
      if (i % 5000 === 0) peak = Math.max(peak, process.memoryUsage().rss)
    }
  } catch (e) {
    process.stderr.write(`${mode}: iteration ${done}: ${e?.code} ${e?.message}\n`)
  }
  peak = Math.max(peak, process.memoryUsage().rss)
  rows.push({ mode, n, done, bad, peakRssGrowthMiB: Math.round((peak - rss0) / 2 ** 20), liveStoresAtEnd: liveObjects().stores })
  // Between modes the event loop turns, so finalizers run and each mode starts afresh.
  await new Promise((r) => setTimeout(r, 200))
}
console.log(JSON.stringify(rows))
