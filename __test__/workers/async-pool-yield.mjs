// async-pool.test.ts runs this in a child process started with WASMTIME_NODE_ASYNC_THREADS=1:
//
//   node async-pool-yield.mjs
//
// Two async stores' callAsyncs spin in `(loop (br 0))` (timeoutMs 3000) on the pool's only
// thread; once both have started (which already needs the pool to switch between them), a
// third async store calls `add(2, 3)`. A busy guest yields to the others every epoch tick, so
// the short call settles before the spinners. Prints one JSON line:
// `{ asyncThreads, settled: [{ name, ok, value | error }] }` in the order the calls settled.
import { api, describeError } from './common.mjs'

const { Engine, Instance, Module, Store, asyncThreads } = api

const WAT = `(module
  (import "h" "started" (func $started (param i32)))
  (func (export "spin") (param i32) (call $started (local.get 0)) (loop (br 0)))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))`
const module = new Module(Engine.default, WAT)

const started = new Set()
let bothStarted
const allStarted = new Promise((resolve) => (bothStarted = resolve))
const onStarted = (i) => {
  started.add(i)
  if (started.size === 2) bothStarted()
}
const instance = () => new Instance(new Store(Engine.default, { async: true }), module, { h: { started: onStarted } })

const settled = []
const record = (name, p) => p.then(
  (value) => void settled.push({ name, ok: true, value }),
  (e) => void settled.push({ name, ok: false, error: describeError(e) }),
)

const spinners = [0, 1].map((i) => record(`spin${i}`, instance().exports.spin.callAsync(i, { timeoutMs: 3000 })))
await allStarted
const add = record('add', instance().exports.add.callAsync(2, 3))
await Promise.all([...spinners, add])
console.log(JSON.stringify({ asyncThreads: asyncThreads(), settled }))
