// async-pool.test.ts runs this in a child process started with WASMTIME_NODE_MAX_FIBERS=4:
//
//   node async-pool-budget.mjs
//
// Six async stores, all kept alive, each make one callAsync of a trivial export: four get a
// fiber stack of the budget, the other two wait for one to be released, and with none released
// for 2 s reject. Then one store that holds a stack is disposed: a new store's call succeeds;
// another is disposed: one of the rejected stores, retried, succeeds. Prints one JSON line:
// `{ first: [{ i, ok, value | error, isWasmtimeError }], fresh, retry }`.
import { api, describeError } from './common.mjs'

const { Engine, Instance, Module, Store, WasmtimeError } = api

const module = new Module(Engine.default, '(module (func (export "seven") (result i32) (i32.const 7)))')
const outcome = (p) => p.then(
  (value) => ({ ok: true, value }),
  (e) => ({ ok: false, error: describeError(e), isWasmtimeError: e instanceof WasmtimeError }),
)

const stores = Array.from({ length: 6 }, () => new Store(Engine.default, { async: true }))
const instances = stores.map((s) => new Instance(s, module))
const first = await Promise.all(instances.map((inst, i) => outcome(inst.exports.seven.callAsync()).then((r) => ({ i, ...r }))))

const holders = first.filter((r) => r.ok).map((r) => r.i)
const rejected = first.filter((r) => !r.ok).map((r) => r.i)

// Give one stack back: a new store's first call gets it.
stores[holders[0]].dispose()
const fresh = await outcome(new Instance(new Store(Engine.default, { async: true }), module).exports.seven.callAsync())

// And another: a store whose first call was refused gets it on its next call.
stores[holders[1]].dispose()
const retry = rejected.length ? await outcome(instances[rejected[0]].exports.seven.callAsync()) : null

console.log(JSON.stringify({ first, fresh, retry, alive: stores.length }))
