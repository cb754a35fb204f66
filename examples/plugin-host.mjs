// A plugin host (`node examples/plugin-host.mjs`): one guest compiled once, its host functions
// defined once, one InstancePre — and every request in a fresh store with its own data, a
// timeout and a memory limit. The host functions find the request they serve through their
// `caller` (its store's data, its instance's memory), not through closures made per request.
import { Engine, Linker, Module, Store, Trap, WasmtimeError } from 'wasmtime-node'

// The guest: `handle(ptr, len)` upper-cases the ASCII letters of a UTF-8 request, logs the
// request, responds with the result and returns how many letters it changed. A request that
// starts with "!" hits its bug: an endless loop.
const guest = `(module $upper
  (import "env" "log" (func $log (param i32 i32)))
  (import "env" "respond" (func $respond (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "done")
  (global $heap (mut i32) (i32.const 1024))
  ;; A bump allocator (a store serves one request, so nothing is freed); 0 when memory is refused.
  (func (export "alloc") (param $size i32) (result i32)
    (local $ptr i32) (local $end i32)
    (local.set $ptr (global.get $heap))
    (local.set $end (i32.add (local.get $ptr) (local.get $size)))
    (if (i32.gt_u (local.get $end) (i32.mul (memory.size) (i32.const 65536)))
      (then (if (i32.eq (i32.const -1) (memory.grow (i32.shr_u
              (i32.sub (i32.add (local.get $end) (i32.const 65535)) (i32.mul (memory.size) (i32.const 65536)))
              (i32.const 16))))
        (then (return (i32.const 0))))))
    (global.set $heap (local.get $end))
    (local.get $ptr))
  (func (export "handle") (param $ptr i32) (param $len i32) (result i32)
    (local $i i32) (local $c i32) (local $n i32)
    (call $log (local.get $ptr) (local.get $len))
    (if (i32.and (i32.ne (local.get $len) (i32.const 0)) (i32.eq (i32.load8_u (local.get $ptr)) (i32.const 33)))
      (then (loop $forever (br $forever))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
      (local.set $c (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
      (if (i32.lt_u (i32.sub (local.get $c) (i32.const 97)) (i32.const 26))
        (then (i32.store8 (i32.add (local.get $ptr) (local.get $i)) (i32.sub (local.get $c) (i32.const 32)))
              (local.set $n (i32.add (local.get $n) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (call $respond (local.get $ptr) (local.get $len))
    (call $log (i32.const 0) (i32.const 4))
    (local.get $n)))`

/** @typedef {{ logs: string[], response: string | null }} RequestData  what one request collects */
/** @typedef {{ memory: import('wasmtime-node').Memory, alloc(size: number): number, handle(ptr: number, len: number): number }} Plugin */
/** @typedef {import('wasmtime-node').Caller<RequestData, Plugin>} PluginCaller */

const engine = Engine.default // epoch interruption is on by default: timeouts work
const module = new Module(engine, guest) // compiled once

// Defined once, for every store: `caller` says which request (store) and which memory.
const linker = new Linker(engine)
  .func('env', 'log', { params: ['i32', 'i32'], results: [] },
    /** @param {PluginCaller} caller */
    (caller, ptr, len) => void caller.data.logs.push(caller.exports.memory.readString(ptr, len)), { caller: true })
  .func('env', 'respond', { params: ['i32', 'i32'], results: [] },
    /** @param {PluginCaller} caller */
    (caller, ptr, len) => void (caller.data.response = caller.exports.memory.readString(ptr, len)), { caller: true })

// Imports resolved and type-checked once; each request only instantiates.
/** @type {import('wasmtime-node').InstancePre<Plugin>} */
const pre = linker.instantiatePre(module)

/** Serve one request in its own store: 100 ms per call, 1 MiB of guest memory. */
function serve(request) {
  /** @type {Store<RequestData>} */
  const store = new Store(engine, { data: { logs: [], response: null }, timeoutMs: 100, limits: { memorySize: 1 << 20 } })
  try {
    const instance = pre.instantiate(store)
    // The guest allocates room for the request; the host copies the UTF-8 bytes in.
    const { ptr, len } = instance.passString(request, { alloc: 'alloc' })
    const changed = instance.exports.handle(ptr, len)
    return `ok ${JSON.stringify(store.data.response)} (${changed} letters changed; logs: ${store.data.logs.join(' | ')})`
  } catch (e) {
    // Errors have stable codes; a trap also says why (here `interrupt`: the timeout).
    if (e instanceof Trap) return `stopped: ${e.name} ${e.code} ${e.trapCode} (logs: ${store.data.logs.join(' | ')})`
    if (e instanceof WasmtimeError) return `refused: ${e.name} ${e.code}`
    throw e
  } finally {
    store.dispose() // free the request's memory now, not at the next GC
  }
}

const requests = [
  'hello, world',
  'héllo, wörld — ünïcode passes through',
  '!spin', // the bug: loops until the 100 ms timeout interrupts it
  'x'.repeat(2 << 20), // 2 MiB: the guest's allocator is refused memory past the 1 MiB limit
  'still serving after that',
]
requests.forEach((request, i) => {
  const shown = request.length > 40 ? `<${request.length} chars>` : JSON.stringify(request)
  console.log(`#${i + 1} ${shown}: ${serve(request)}`)
})
