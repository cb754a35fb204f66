// Re-entrancy: inside a host function (that is, while wasm of the same store is on the stack)
// every object of the store stays usable — memory, globals, tables, other exports, nested
// wasm → host → wasm chains — and nothing crashes.
import test from 'ava'

import { Engine, Func, Global, Instance, Module, Store, StoreStateError, Table } from '../dist/index.js'
import type { ExportedFunction } from '../dist/index.js'
import { assertError, assertTrap, thrown } from './helpers/assert'
import { fn, global, mem, table } from './helpers/util'

const PAGE = 65536

const WAT = `
(module
  (import "host" "cb" (func $cb (param i32) (result i32)))
  (type $i_i (func (param i32) (result i32)))
  (memory (export "memory") 1 10)
  (global $g (export "g") (mut i32) (i32.const 0))
  (table $t (export "table") 2 funcref)
  (func $double (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
  (func $triple (export "triple") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  (elem (i32.const 0) $double)

  ;; Calls the host, returns what it returned.
  (func (export "run") (param i32) (result i32) (call $cb (local.get 0)))

  ;; Stores a byte at 100, calls the host with 100, then adds the byte the host left at 200.
  (func (export "store_call_load") (param i32) (result i32)
    (i32.store8 (i32.const 100) (local.get 0))
    (i32.add (call $cb (i32.const 100)) (i32.load8_u (i32.const 200))))

  ;; Sets the global, calls the host, returns the global as the host left it.
  (func (export "global_roundtrip") (param i32) (result i32)
    (global.set $g (local.get 0))
    (drop (call $cb (i32.const 0)))
    (global.get $g))

  ;; Calls the host, then calls table slot $idx with $x.
  (func (export "call_slot_after_cb") (param $idx i32) (param $x i32) (result i32)
    (drop (call $cb (i32.const 0)))
    (call_indirect (type $i_i) (local.get $x) (local.get $idx)))

  ;; Calls the host, then returns memory.size and stores 0xAB at the address the host returned.
  (func (export "size_after_cb") (result i32)
    (local $addr i32)
    (local.set $addr (call $cb (i32.const 0)))
    (i32.store8 (local.get $addr) (i32.const 0xAB))
    (memory.size))

  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "get_g") (result i32) (global.get $g))
  (func (export "unreachable") (result i32) unreachable)
)`

const MODULE = new Module(Engine.default, WAT)

function setup(cb: (x: number) => number) {
  const store = new Store()
  let current: (x: number) => number = cb
  const instance = new Instance(store, MODULE, { host: { cb: (x: number) => current(x) } })
  return {
    store,
    instance,
    f: (name: string) => fn(instance, name),
    setCb(next: (x: number) => number) {
      current = next
    },
  }
}

test('a host function reads and writes memory while wasm is on the stack', (t) => {
  let seen = -1
  let seenViaBuffer = -1
  const { instance, f } = setup((addr) => {
    const memory = mem(instance)
    seen = memory.read(addr, 1)[0]!
    seenViaBuffer = new Uint8Array(memory.buffer)[addr]!
    memory.write(200, new Uint8Array([30]))
    new Uint8Array(memory.buffer)[201] = 31
    return 1000
  })
  t.is(f('store_call_load')(77), 1030)
  t.is(seen, 77, 'the host saw the byte wasm stored just before the call')
  t.is(seenViaBuffer, 77)
  t.is(f('load8')(201), 31, 'a write through the buffer inside the host call is seen by wasm')
})

test('a host function sets globals while wasm is on the stack', (t) => {
  let seen: unknown
  const { instance, f } = setup(() => {
    const g = global(instance, 'g')
    seen = g.value
    g.value = (g.value as number) + 1
    return 0
  })
  t.is(f('global_roundtrip')(41), 42)
  t.is(seen, 41)
  t.is(global(instance, 'g').value, 42)
  t.is(f('get_g')(), 42)
})

test('a host function gets and sets table entries and calls them', (t) => {
  let fromSlot0: unknown
  const { instance, f } = setup(() => {
    const tbl = table(instance, 'table')
    fromSlot0 = (tbl.get(0) as ExportedFunction)(10)
    tbl.set(1, fn(instance, 'triple'))
    t.is(typeof tbl.get(1), 'function')
    return 0
  })
  t.is(f('call_slot_after_cb')(1, 5), 15, 'wasm calls the function the host put in the table')
  t.is(fromSlot0, 20, 'the host called the function it read from the table (nested wasm)')
  t.is(f('call_slot_after_cb')(0, 5), 10)
})

test('a host function calls other exports, host Funcs and other instances of the same store', (t) => {
  const store = new Store()
  const other = new Instance(
    store,
    new Module(Engine.default, `(module (func (export "neg") (param i32) (result i32) (i32.sub (i32.const 0) (local.get 0))))`),
  )
  const hostFunc = new Func(store, { params: ['i32'], results: ['i32'] }, (x: number) => x + 1)
  let instance: Instance
  instance = new Instance(store, MODULE, {
    host: {
      cb: (x: number) => {
        const a = fn<(x: number) => number>(instance, 'double')(x) // 2x
        const b = fn(instance, 'triple').func.call(x) as number // 3x
        const c = fn<(x: number) => number>(other, 'neg')(x) // -x
        const d = hostFunc.call(x) // x + 1
        return a + b + c + d
      },
    },
  })
  t.is(fn(instance, 'run')(10), 20 + 30 - 10 + 11)
  t.is(fn(instance, 'run')(-3), -6 - 9 + 3 - 2)
})

test('wasm → host → wasm → host nested 5 levels deep, with the depth in the result', (t) => {
  const store = new Store()
  const m = new Module(
    Engine.default,
    `(module
       (import "host" "down" (func $down (param i32) (result i32)))
       (memory (export "memory") 1)
       ;; enter(x): remember x at address x, ask the host for level x+1, return down(x+1) * 10 + x,
       ;; and check that our own memory cell survived the nested calls.
       (func (export "enter") (param $x i32) (result i32)
         (local $r i32)
         (i32.store8 (local.get $x) (i32.add (local.get $x) (i32.const 100)))
         (local.set $r (i32.add (i32.mul (call $down (i32.add (local.get $x) (i32.const 1))) (i32.const 10)) (local.get $x)))
         (if (i32.ne (i32.load8_u (local.get $x)) (i32.add (local.get $x) (i32.const 100)))
           (then unreachable))
         (local.get $r)))`,
  )
  const seen: number[] = []
  let active = 0
  let maxActive = 0
  const instance: Instance = new Instance(store, m, {
    host: {
      down: (d: number) => {
        active++
        maxActive = Math.max(maxActive, active)
        try {
          seen.push(d)
          // Everything of the store is usable at every depth.
          t.is(mem(instance).read(d - 1, 1)[0], d - 1 + 100)
          if (d === 5) return 5
          return fn(instance, 'enter')(d)
        } finally {
          active--
        }
      },
    },
  })
  t.is(fn(instance, 'enter')(0), 543210)
  t.deepEqual(seen, [1, 2, 3, 4, 5])
  t.is(maxActive, 5, 'five host frames were live at once')
  t.is(active, 0)
  // Run it again: the store's call state was fully unwound.
  seen.length = 0
  t.is(fn(instance, 'enter')(0), 543210)
  t.deepEqual(seen, [1, 2, 3, 4, 5])
})

test('a host function that grows memory: the guest sees the new size, old buffers detach', (t) => {
  let oldBuffer: ArrayBuffer | undefined
  const { instance, f } = setup(() => {
    const memory = mem(instance)
    oldBuffer = memory.buffer
    t.is(memory.grow(2), 1)
    t.is(oldBuffer.byteLength, 0, 'the buffer taken before the grow is detached')
    t.is(memory.buffer.byteLength, 3 * PAGE)
    return 2 * PAGE + 7 // an address only valid after the grow
  })
  t.is(f('size_after_cb')(), 3, 'wasm sees the grown memory')
  t.is(f('load8')(2 * PAGE + 7), 0xab, 'wasm stored into the new page')
  t.is(mem(instance).read(2 * PAGE + 7, 1)[0], 0xab)
  t.is(new Uint8Array(mem(instance).buffer)[2 * PAGE + 7], 0xab)
  t.is(f('size')(), 3)
})

test('a host function that makes wasm grow memory (nested), then reads the new pages', (t) => {
  let sizeInHost = 0
  const { instance, f } = setup(() => {
    const memory = mem(instance)
    const before = memory.buffer
    t.is(fn(instance, 'grow')(1), 1)
    t.is(before.byteLength, 0, 'a nested guest grow detaches the host view')
    sizeInHost = memory.buffer.byteLength
    memory.write(PAGE + 3, new Uint8Array([0x44]))
    return PAGE + 4
  })
  t.is(f('size_after_cb')(), 2)
  t.is(sizeInHost, 2 * PAGE)
  t.is(f('load8')(PAGE + 3), 0x44)
  t.is(f('load8')(PAGE + 4), 0xab)
})

test('a trap in a nested call caught by the host: the outer call carries on', (t) => {
  let trap: unknown
  const { instance, f } = setup((x) => {
    try {
      fn(instance, 'unreachable')()
    } catch (e) {
      trap = e
    }
    return x + 1
  })
  t.is(f('run')(41), 42)
  assertTrap(t, trap, 'unreachable', 'the nested trap the host caught')
  t.is(f('run')(1), 2)
})

test('a host function receives a funcref and calls it re-entrantly', (t) => {
  const store = new Store()
  const m = new Module(
    Engine.default,
    `(module
       (import "host" "apply" (func $apply (param funcref i32) (result i32)))
       (elem declare func $sq)
       (func $sq (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
       (func (export "go") (param i32) (result i32) (call $apply (ref.func $sq) (local.get 0))))`,
  )
  const instance = new Instance(store, m, {
    host: { apply: (f: ExportedFunction<(x: number) => number>, x: number) => f(x) + f(x + 1) },
  })
  t.is(fn(instance, 'go')(3), 9 + 16)
})

test('Func.call from JS into a host Func that calls back into wasm', (t) => {
  const store = new Store()
  let instance: Instance
  const viaFunc = new Func(store, { params: ['i32'], results: ['i32'] }, (x: number) => fn<(x: number) => number>(instance, 'run')(x) + 1)
  instance = new Instance(store, MODULE, { host: { cb: (x: number) => fn(instance, 'double')(x) } })
  t.is(viaFunc.call(5), 11)
})

// A store cannot be disposed while its wasm is on the stack (StoreCore::dispose: "cannot
// dispose a store while it is running wasm"; README: a running store refuses dispose()/transfer()).
// The refusal is a StoreStateError ERR_STORE_BUSY thrown by dispose() itself, inside the host
// function; the store stays live, and disposes normally once the call has returned.
test('dispose() inside a host function throws StoreStateError ERR_STORE_BUSY there; the store stays usable, then disposes', (t) => {
  const refusals: unknown[] = []
  const { store, f, setCb } = setup((x) => {
    try {
      store.dispose()
    } catch (e) {
      refusals.push(e)
    }
    return x + 1
  })
  t.is(f('run')(41), 42, 'the call completes with what the host returned')
  t.is(refusals.length, 1)
  assertError(t, refusals[0], StoreStateError, 'ERR_STORE_BUSY', 'dispose() inside a host function', 'cannot dispose a store while it is running wasm')
  t.is(f('double')(4), 8, 'the store is still live')

  // Uncaught, the refusal is the host function's exception: the call throws that very object.
  setCb(() => {
    store.dispose()
    return 0
  })
  const e = thrown(t, () => f('run')(0), 'run with an uncaught dispose()')
  assertError(t, e, StoreStateError, 'ERR_STORE_BUSY', 'the call whose host function called dispose()')
  t.is(f('double')(5), 10, 'the store is still live')

  // Once no wasm runs, dispose() closes it.
  store.dispose()
  for (const use of [() => f('double')(4), () => f('run')(0)]) {
    assertError(t, thrown(t, use, 'a call after dispose'), StoreStateError, 'ERR_STORE_CLOSED', 'a call after dispose()')
  }
})

test('many nested calls in a row leave no state behind', (t) => {
  let depth = 0
  const { instance, f } = setup((x) => {
    depth++
    const r = x > 0 ? fn<(x: number) => number>(instance, 'run')(x - 1) + 1 : 0
    depth--
    return r
  })
  for (let i = 0; i < 200; i++) t.is(f('run')(20), 20)
  t.is(depth, 0)
  t.is(f('double')(21), 42)
  const g = instance.exports.g as Global
  g.value = 3
  t.is(f('get_g')(), 3)
  t.true(instance.exports.table instanceof Table)
})
