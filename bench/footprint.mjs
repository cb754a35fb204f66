// Memory footprint: 10,000 live stores, each with an instance of a 1-page module, in a child
// process (so nothing else is in the figures): resident memory and address space per store,
// with the default memory reservation and with `memoryReservation` set to 64 MiB.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const N = 10_000
const CHILD = `
const wt = require(${JSON.stringify(fileURLToPath(new URL('../dist/index.js', import.meta.url)))})
const status = () => Object.fromEntries(require('fs').readFileSync('/proc/self/status', 'utf8').split('\\n').filter((l) => /^Vm(RSS|Size)/.test(l)).map((l) => [l.split(':')[0], parseInt(l.split(':')[1]) * 1024]))
const mode = process.argv[1]
const bytes = wt.wat2wasm('(module (memory (export "m") 1) (func (export "f") (result i32) (i32.const 1)))')
const keep = []
let make
if (mode === 'v8') {
  const m = new WebAssembly.Module(bytes)
  make = () => new WebAssembly.Instance(m, {})
} else {
  const engine = mode === 'reserve' ? new wt.Engine({ memoryReservation: 64 << 20, memoryGuardSize: 64 << 10 }) : wt.Engine.default
  const m = new wt.Module(engine, bytes)
  make = () => { const s = new wt.Store(engine); return [s, new wt.Instance(s, m, {})] }
}
for (let i = 0; i < 100; i++) keep.push(make())
global.gc?.()
const before = status()
for (let i = 0; i < ${N}; i++) keep.push(make())
global.gc?.()
const after = status()
console.log(JSON.stringify({ rss: (after.VmRSS - before.VmRSS) / ${N}, vsz: (after.VmSize - before.VmSize) / ${N}, live: keep.length }))
`

function measure(mode) {
  return JSON.parse(execFileSync(process.execPath, ['--expose-gc', '-e', CHILD, mode]).toString())
}

export function run() {
  const ours = measure('default')
  const reserve = measure('reserve')
  const v8 = measure('v8')
  const KiB = (x) => x / 1024
  return [
    { name: `resident memory per live store + instance (${N.toLocaleString('en')} alive)`, unit: 'KiB', ours: KiB(ours.rss), peer: KiB(v8.rss), peerName: 'per V8 WebAssembly.Instance', target: '≤ 4 KiB' },
    { name: 'address space per store with a memory, default reservation', unit: 'MiB', ours: ours.vsz / 2 ** 20, peer: v8.vsz / 2 ** 20, peerName: 'per V8 instance' },
    { name: 'address space per store with a memory, memoryReservation 64 MiB', unit: 'MiB', ours: reserve.vsz / 2 ** 20, peer: ours.vsz / 2 ** 20, peerName: 'default reservation' },
    { name: 'resident memory per store, memoryReservation 64 MiB', unit: 'KiB', ours: KiB(reserve.rss), peer: KiB(ours.rss), peerName: 'default reservation' },
  ]
}
