// Call-overhead benchmarks: JS → wasm, wasm → JS host calls, against an empty N-API call of our
// own addon and against Node's own WebAssembly running the same module.
import { createRequire } from 'node:module'
import { bestOf } from './harness.mjs'
import { buildFloor } from './c-napi/build.mjs'

const require = createRequire(import.meta.url)
const wt = require('../dist/index.js')
const native = require('../index.js')

const WAT = `(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "callHost") (param $n i32) (result i32) (local $acc i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $n)))
      (local.set $acc (i32.add (local.get $acc) (call $host (local.get $n))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    local.get $acc))`

export function run() {
  const bytes = wt.wat2wasm(WAT)
  const host = (x) => x + 1

  const store = new wt.Store()
  const ours = new wt.Instance(store, new wt.Module(wt.Engine.default, bytes), { env: { host } }).exports
  const v8 = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { host } }).exports

  const N = 2_000_000
  const noop = native.noop
  const emptyNapi = bestOf(() => { for (let i = 0; i < N; i++) noop() }, N)
  // The floor of any addon: Node-API functions written in C (bench/c-napi/floor.c).
  const floor = require(buildFloor())
  const cNoop = bestOf(() => { for (let i = 0; i < N; i++) floor.noop() }, N)
  const cAdd = bestOf(() => { let s = 0; for (let i = 0; i < N; i++) s = floor.add(s, 1) }, N)
  const addOurs = bestOf(() => { let s = 0; for (let i = 0; i < N; i++) s = ours.add(s, 1) }, N)
  const addV8 = bestOf(() => { let s = 0; for (let i = 0; i < N; i++) s = v8.add(s, 1) }, N)
  const H = 2_000_000
  const hostOurs = bestOf(() => ours.callHost(H), H)
  const hostV8 = bestOf(() => v8.callHost(H), H)
  const hostC = bestOf(() => floor.callN(host, H), H)

  return [
    { name: 'JS → wasm add(i32,i32)->i32', unit: 'ns/call', ours: addOurs, peer: cAdd, peerName: 'C N-API add(i32,i32)', target: '≤ 2×' },
    { name: 'JS → wasm add(i32,i32)->i32', unit: 'ns/call', ours: addOurs, peer: cNoop, peerName: 'C N-API empty function' },
    { name: 'JS → wasm add(i32,i32)->i32', unit: 'ns/call', ours: addOurs, peer: emptyNapi, peerName: 'empty napi-rs call (our addon)' },
    { name: 'JS → wasm add(i32,i32)->i32', unit: 'ns/call', ours: addOurs, peer: addV8, peerName: 'V8 WebAssembly' },
    { name: 'wasm → JS host call', unit: 'ns/call', ours: hostOurs, peer: hostC, peerName: 'C N-API napi_call_function', target: '≤ 120 ns (below the floor)' },
    { name: 'wasm → JS host call', unit: 'ns/call', ours: hostOurs, peer: hostV8, peerName: 'V8 WebAssembly' },
  ]
}
