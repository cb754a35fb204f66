// The core API in one page (`node examples/basics.mjs`): compile a module once, instantiate it with a JS host
// function, share memory with it, and see a trap with its wasm backtrace.
import { Engine, Module, Store, Instance, Trap } from 'wasmtime-node'

const wat = `(module $demo
  (import "host" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "hello from wasm")
  (func (export "greet") (call $log (i32.const 0) (i32.const 15)))
  (func $fib (export "fib") (param $n i64) (result i64)
    (if (result i64) (i64.lt_u (local.get $n) (i64.const 2))
      (then (local.get $n))
      (else (i64.add (call $fib (i64.sub (local.get $n) (i64.const 1)))
                     (call $fib (i64.sub (local.get $n) (i64.const 2)))))))
  (func $divide (export "divide") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1))))`

const module = new Module(Engine.default, wat)
console.log('exports:', module.exports.map((e) => `${e.name} (${e.type.kind})`).join(', '))

const store = new Store()
let instance
const log = (ptr, len) => {
  // Inside a host function the same store's memory is usable.
  const text = new TextDecoder().decode(instance.exports.memory.read(ptr, len))
  console.log(`host.log: "${text}"`)
}
instance = new Instance(store, module, { host: { log } })
// An export may be a function, a memory, a table or a global: name the functions' type.
const { greet, fib, divide } = /** @type {Record<string, import('wasmtime-node').ExportedFunction>} */ (instance.exports)

greet()
console.log('fib(30) =', fib(30n))
try {
  divide(1, 0)
} catch (e) {
  if (!(e instanceof Trap)) throw e
  console.log(`trap: ${e.trapCode} in ${e.wasmBacktrace.map((f) => f.func).join(' <- ')}`)
}
store.dispose()
