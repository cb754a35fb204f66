// The cost of epoch interruption (on by default) and of fuel metering on a tight integer loop.
import { createRequire } from 'node:module'
import { CPU_LOOP } from './modules.mjs'
import { bestOf } from './harness.mjs'

const require = createRequire(import.meta.url)
const wt = require('../dist/index.js')

const WAT = `(module ${CPU_LOOP})`

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
  ]
}
