// The cost of epoch interruption (on by default) and of fuel metering on a tight integer loop;
// the cost of a guest profile (store.startProfiling) on a guest that also calls the host.
import { createRequire } from 'node:module'
import { CPU_LOOP } from './modules.mjs'
import { bestOf } from './harness.mjs'

const require = createRequire(import.meta.url)
const wt = require('../dist/index.js')

const WAT = `(module ${CPU_LOOP})`

// k rounds of a 10,000-iteration loop, each followed by a host call.
const HOST_LOOP = `(module
  (import "env" "tick" (func $tick (param i32)))
  (func $inner (param $n i32) (result i32) (local $i i32) (local $s i32)
    (loop $l (local.set $s (i32.add (local.get $s) (i32.mul (local.get $i) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $s))
  (func (export "run") (param $k i32) (result i32) (local $j i32) (local $acc i32)
    (loop $l (local.set $acc (i32.add (local.get $acc) (call $inner (i32.const 10000))))
      (call $tick (local.get $j))
      (local.set $j (i32.add (local.get $j) (i32.const 1))) (br_if $l (i32.lt_u (local.get $j) (local.get $k))))
    (local.get $acc)))`

/** ms per run of HOST_LOOP, best of 5, with a guest profile at `intervalMs` (0: none). */
function profiled(intervalMs) {
  const module = new wt.Module(wt.Engine.default, HOST_LOOP)
  let best = Infinity
  for (let i = 0; i < 6; i++) {
    const store = new wt.Store()
    const run = new wt.Instance(store, module, { env: { tick: () => {} } }).exports.run
    if (intervalMs) store.startProfiling({ intervalMs })
    const t0 = performance.now()
    run(5000)
    const ms = performance.now() - t0
    if (intervalMs) store.stopProfiling()
    if (i > 0) best = Math.min(best, ms)
  }
  return best
}

export function run() {
  const bytes = wt.wat2wasm(WAT)
  const work = (engine) => new wt.Instance(new wt.Store(engine), new wt.Module(engine, bytes)).exports.work
  const N = 5_000_000
  const loop = (f) => bestOf(() => f(N), N, 5)
  const withEpoch = loop(work(wt.Engine.default))
  const without = loop(work(new wt.Engine({ epochInterruption: false })))
  const fuelEngine = new wt.Engine({ consumeFuel: true, epochInterruption: false })
  const fuelStore = new wt.Store(fuelEngine, { fuel: 2n ** 62n })
  const withFuel = loop(new wt.Instance(fuelStore, new wt.Module(fuelEngine, bytes)).exports.work)
  const v8 = loop(new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.work)
  return [
    { name: 'tight loop, default engine (epoch interruption on)', unit: 'ns/iter', ours: withEpoch, peer: v8, peerName: 'V8 WebAssembly' },
    { name: 'tight loop, epochInterruption: false', unit: 'ns/iter', ours: without, peer: v8, peerName: 'V8 WebAssembly' },
    { name: 'tight loop, fuel metering (consumeFuel, no epochs)', unit: 'ns/iter', ours: withFuel, peer: without, peerName: 'no fuel, no epochs' },
    { name: 'tight loop, epoch interruption', unit: 'ns/iter', ours: withEpoch, peer: without, peerName: 'no fuel, no epochs' },
    { name: 'guest profile at 1 ms, a guest making 5,000 host calls (one per 10,000 loop iterations)', unit: 'ms', ours: profiled(1), peer: profiled(0), peerName: 'not profiled' },
  ]
}
