// Core behaviour of the public API: modules, instances, values of every type, globals, tables,
// memories, the linker, and the two entry points (CommonJS and ESM).
import test from 'ava'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'

import {
  Config,
  Engine,
  ExternRef,
  Func,
  Global,
  Instance,
  Linker,
  Memory,
  Module,
  Store,
  Table,
  LinkError,
  wat2wasm,
} from '../dist/index.js'
import type { ExportedFunction } from '../dist/index.js'
import { deepFrozen, fn, global, i32x4, lanes32, mem, normType, plainData, table } from './helpers/util'

const PAGE = 65536

// ---------------------------------------------------------------------------------------------
// Modules
// ---------------------------------------------------------------------------------------------

const DESCRIBED_WAT = `
(module $described
  (import "env" "f" (func (param i32 i64) (result f32)))
  (import "env" "mem" (memory 1 2))
  (import "env" "tab" (table 3 funcref))
  (import "env" "g" (global (mut i64)))
  (func (export "run") (param f64 v128) (result i32 externref)
    (i32.const 0)
    (ref.null extern))
  (export "m" (memory 0))
  (table (export "t") 1 10 externref)
  (global (export "gc") f32 (f32.const 1))
)`

const ADD_WAT = `
(module
  (func (export "add") (param i32 i32) (result i32)
    (i32.add (local.get 0) (local.get 1))))`

// The smallest valid module, written by hand: magic + version.
const EMPTY_MODULE_BYTES = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00])

// A well-formed binary that fails validation: `(func (result i32))` with an empty body.
const INVALID_TYPED_BYTES = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, // type section: [] -> [i32]
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b, // code section: no locals, `end`
])

test('wat2wasm returns wasm bytes', (t) => {
  const bytes = wat2wasm(ADD_WAT)
  t.true(bytes instanceof Uint8Array)
  t.deepEqual([...bytes.subarray(0, 8)], [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00])
  t.true(bytes.length > 8)
})

test('a module compiles from WAT text and from binary, with the same exports', (t) => {
  const fromText = new Module(Engine.default, ADD_WAT)
  const fromBinary = new Module(Engine.default, wat2wasm(ADD_WAT))
  const expected = [{ name: 'add', type: { kind: 'func', type: { params: ['i32', 'i32'], results: ['i32'] } } }]
  t.deepEqual(fromText.exports, expected)
  t.deepEqual(fromBinary.exports, expected)
  t.deepEqual(fromText.imports, [])
  const store = new Store()
  t.is(fn(new Instance(store, fromText), 'add')(2, 3), 5)
  t.is(fn(new Instance(store, fromBinary), 'add')(40, 2), 42)
})

test('a hand-written empty binary module compiles', (t) => {
  const m = new Module(Engine.default, EMPTY_MODULE_BYTES)
  t.deepEqual(m.imports, [])
  t.deepEqual(m.exports, [])
  t.is(m.name, null)
  const inst = new Instance(new Store(), m)
  t.deepEqual(Object.keys(inst.exports), [])
})

test('every kind of ArrayBufferView | ArrayBuffer is accepted as module bytes', (t) => {
  const bytes = wat2wasm(ADD_WAT)
  const padded = new Uint8Array(bytes.length + 11)
  padded.set(bytes, 7)
  const sources: Array<[string, ArrayBufferView | ArrayBuffer]> = [
    ['Uint8Array', new Uint8Array(bytes)],
    ['Buffer', Buffer.from(bytes)],
    ['ArrayBuffer', new Uint8Array(bytes).buffer],
    ['DataView', new DataView(new Uint8Array(bytes).buffer)],
    ['Uint8Array at an offset', padded.subarray(7, 7 + bytes.length)],
    ['DataView at an offset', new DataView(padded.buffer, 7, bytes.length)],
  ]
  const store = new Store()
  for (const [label, src] of sources) {
    const m = new Module(Engine.default, src)
    t.is(m.exports[0]?.name, 'add', label)
    t.is(fn(new Instance(store, m), 'add')(1, 2), 3, label)
  }
})

test('Module.compile resolves to a Module', async (t) => {
  const m = await Module.compile(Engine.default, ADD_WAT)
  t.true(m instanceof Module)
  t.is(fn(new Instance(new Store(), m), 'add')(20, 22), 42)
  const m2 = await Module.compile(Engine.default, wat2wasm(ADD_WAT))
  t.deepEqual(m2.exports, m.exports)
})

test('module imports and exports are described by frozen plain data', (t) => {
  const m = new Module(Engine.default, DESCRIBED_WAT)
  const imports = m.imports
  t.is(imports.length, 4)
  t.deepEqual(
    imports.map((i) => [i.module, i.name, i.type.kind]),
    [
      ['env', 'f', 'func'],
      ['env', 'mem', 'memory'],
      ['env', 'tab', 'table'],
      ['env', 'g', 'global'],
    ],
  )
  t.deepEqual(imports[0], { module: 'env', name: 'f', type: { kind: 'func', type: { params: ['i32', 'i64'], results: ['f32'] } } })
  t.deepEqual(normType(imports[1]!.type.type), { minimum: 1, maximum: 2 })
  t.deepEqual(normType(imports[2]!.type.type), { element: 'funcref', minimum: 3 })
  t.deepEqual(imports[3], { module: 'env', name: 'g', type: { kind: 'global', type: { value: 'i64', mutable: true } } })

  const exports = m.exports
  t.deepEqual(exports.map((e) => [e.name, e.type.kind]), [
    ['run', 'func'],
    ['m', 'memory'],
    ['t', 'table'],
    ['gc', 'global'],
  ])
  t.deepEqual(exports[0], { name: 'run', type: { kind: 'func', type: { params: ['f64', 'v128'], results: ['i32', 'externref'] } } })
  t.deepEqual(normType(exports[1]!.type.type), { minimum: 1, maximum: 2 })
  t.deepEqual(normType(exports[2]!.type.type), { element: 'externref', minimum: 1, maximum: 10 })
  t.deepEqual(exports[3], { name: 'gc', type: { kind: 'global', type: { value: 'f32', mutable: false } } })

  for (const list of [imports, exports]) {
    t.true(Array.isArray(list))
    t.true(Object.isFrozen(list))
    t.true(deepFrozen(list), 'descriptors are frozen all the way down')
    t.true(plainData(list), 'descriptors are plain objects and arrays')
    t.deepEqual(structuredClone(list), list as unknown, 'descriptors survive structured clone')
  }
  t.false(Reflect.set(imports[0] as object, 'name', 'changed'), 'a descriptor cannot be changed')
  t.is(imports[0]!.name, 'f')
})

test('module name comes from the name section, or is null', (t) => {
  t.is(new Module(Engine.default, DESCRIBED_WAT).name, 'described')
  t.is(new Module(Engine.default, '(module $other_name)').name, 'other_name')
  t.is(new Module(Engine.default, ADD_WAT).name, null)
  t.is(new Module(Engine.default, EMPTY_MODULE_BYTES).name, null)
})

test('Module.validate tells valid from invalid bytes without throwing', (t) => {
  t.true(Module.validate(Engine.default, wat2wasm(ADD_WAT)))
  t.true(Module.validate(Engine.default, EMPTY_MODULE_BYTES))
  t.false(Module.validate(Engine.default, new Uint8Array([1, 2, 3, 4])))
  t.false(Module.validate(Engine.default, new Uint8Array(0)))
  t.false(Module.validate(Engine.default, INVALID_TYPED_BYTES))
  const good = wat2wasm(ADD_WAT)
  t.false(Module.validate(Engine.default, good.subarray(0, good.length - 3)), 'truncated')
})

// ---------------------------------------------------------------------------------------------
// Engine, Config, Store
// ---------------------------------------------------------------------------------------------

test('Engine.default is one Engine', (t) => {
  t.true(Engine.default instanceof Engine)
  t.is(Engine.default, Engine.default)
})

test('new engines compile and run code, from options or a Config', (t) => {
  const engines = [new Engine(), new Engine({ optLevel: 'none' }), new Engine(new Config({ optLevel: 'speed' }))]
  for (const engine of engines) {
    t.true(engine instanceof Engine)
    t.not(engine, Engine.default)
    const m = new Module(engine, ADD_WAT)
    const store = new Store(engine)
    t.is(fn(new Instance(store, m), 'add')(7, 8), 15)
  }
})

test('Config keeps its options', (t) => {
  const c = new Config({ optLevel: 'speed', maxWasmStack: 1 << 20 })
  t.is(c.options.optLevel, 'speed')
  t.is(c.options.maxWasmStack, 1 << 20)
})

test('new Store() uses Engine.default', (t) => {
  const store = new Store()
  t.is(store.engine, Engine.default)
  t.is(fn(new Instance(store, new Module(Engine.default, ADD_WAT)), 'add')(1, 1), 2)
})

test('store.data holds user data', (t) => {
  const data = { name: 'request-1', hits: 0 }
  const store = new Store<unknown>(Engine.default, { data })
  t.is(store.data, data)
  const other = { other: true }
  store.data = other
  t.is(store.data, other)
  const typed = new Store<number>(Engine.default, { data: 5 })
  t.is(typed.data, 5)
})

// ---------------------------------------------------------------------------------------------
// Instances and values
// ---------------------------------------------------------------------------------------------

const VALUES_WAT = `
(module $values
  (type $ii_i (func (param i32 i32) (result i32)))
  (table $t 1 funcref)
  (global $eg (export "eg") (mut externref) (ref.null extern))
  (elem declare func $add)
  (func $add (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "i32_id") (param i32) (result i32) (local.get 0))
  (func (export "i32_add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "i32_neg1") (result i32) (i32.const -1))
  (func (export "i32_min") (result i32) (i32.const 0x80000000))
  (func (export "i64_id") (param i64) (result i64) (local.get 0))
  (func (export "i64_add") (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1)))
  (func (export "i64_min") (result i64) (i64.const 0x8000000000000000))
  (func (export "i64_neg1") (result i64) (i64.const -1))
  (func (export "f32_id") (param f32) (result f32) (local.get 0))
  (func (export "f32_add") (param f32 f32) (result f32) (f32.add (local.get 0) (local.get 1)))
  (func (export "f64_id") (param f64) (result f64) (local.get 0))
  (func (export "v128_id") (param v128) (result v128) (local.get 0))
  (func (export "i32x4_add") (param v128 v128) (result v128) (i32x4.add (local.get 0) (local.get 1)))
  (func (export "v128_const") (result v128) (v128.const i32x4 1 2 3 4))
  (func (export "funcref_id") (param funcref) (result funcref) (local.get 0))
  (func (export "funcref_is_null") (param funcref) (result i32) (ref.is_null (local.get 0)))
  (func (export "get_add") (result funcref) (ref.func $add))
  (func (export "call_ref") (param funcref i32 i32) (result i32)
    (table.set $t (i32.const 0) (local.get 0))
    (call_indirect $t (type $ii_i) (local.get 1) (local.get 2) (i32.const 0)))
  (func (export "externref_id") (param externref) (result externref) (local.get 0))
  (func (export "externref_is_null") (param externref) (result i32) (ref.is_null (local.get 0)))
  (func (export "set_eg") (param externref) (global.set $eg (local.get 0)))
  (func (export "get_eg") (result externref) (global.get $eg))
  (func (export "multi") (param i32 i64 f32 f64) (result f64 f32 i64 i32)
    (local.get 3) (local.get 2) (local.get 1) (local.get 0))
  (func (export "none"))
)`

function values() {
  const store = new Store()
  const instance = new Instance(store, new Module(Engine.default, VALUES_WAT))
  const f = (name: string) => fn(instance, name)
  return { store, instance, f }
}

test('i32: numbers in, signed numbers out', (t) => {
  const { f } = values()
  t.is(f('i32_id')(0), 0)
  t.is(f('i32_id')(123), 123)
  t.is(f('i32_id')(-5), -5)
  t.is(f('i32_id')(2 ** 31 - 1), 2 ** 31 - 1)
  t.is(f('i32_id')(-(2 ** 31)), -(2 ** 31))
  t.is(f('i32_id')(2 ** 31), -(2 ** 31), 'unsigned inputs wrap to signed results')
  t.is(f('i32_id')(0xffffffff), -1)
  t.is(f('i32_neg1')(), -1)
  t.is(f('i32_min')(), -(2 ** 31))
  t.is(f('i32_add')(0x7fffffff, 1), -(2 ** 31))
  t.is(typeof f('i32_id')(1), 'number')
})

test('i64: BigInt in, signed BigInt out, edge values', (t) => {
  const { f } = values()
  const id = f('i64_id')
  t.is(id(0n), 0n)
  t.is(id(-5n), -5n)
  t.is(id(-(2n ** 63n)), -(2n ** 63n))
  t.is(id(2n ** 63n - 1n), 2n ** 63n - 1n)
  t.is(id(2n ** 63n), -(2n ** 63n), '2^63 wraps to -2^63')
  t.is(id(2n ** 64n - 1n), -1n, '2^64-1 wraps to -1')
  t.is(f('i64_neg1')(), -1n)
  t.is(f('i64_min')(), -(2n ** 63n))
  t.is(f('i64_add')(2n ** 63n - 1n, 1n), -(2n ** 63n))
  t.is(f('i64_add')(2n ** 40n, 2n ** 40n), 2n ** 41n)
  t.is(typeof id(1n), 'bigint')
})

test('f32: rounding to single precision', (t) => {
  const { f } = values()
  const id = f('f32_id')
  t.is(id(0.1), Math.fround(0.1))
  t.not(id(0.1), 0.1)
  t.is(id(16777217), 16777216)
  t.is(id(1.5), 1.5)
  t.is(id(3.5e38 * 10), Infinity)
  t.is(id(-Infinity), -Infinity)
  t.true(Number.isNaN(id(NaN)))
  t.true(Object.is(id(-0), -0))
  t.is(f('f32_add')(0.1, 0.2), Math.fround(Math.fround(0.1) + Math.fround(0.2)))
})

test('f64: doubles round-trip exactly', (t) => {
  const { f } = values()
  const id = f('f64_id')
  for (const x of [0.1, -2.5, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53 + 2, Infinity, -Infinity]) t.is(id(x), x)
  t.true(Object.is(id(-0), -0))
  t.true(Number.isNaN(id(NaN)))
})

test('v128: 16-byte Uint8Array in and out', (t) => {
  const { instance } = values()
  const f = (name: string) => fn<(...v: Uint8Array[]) => Uint8Array>(instance, name)
  const bytes = new Uint8Array(16).map((_, i) => i * 17)
  const out = f('v128_id')(bytes)
  t.true(out instanceof Uint8Array)
  t.is(out.byteLength, 16)
  t.deepEqual([...out], [...bytes])

  const big = new Uint8Array(40)
  big.set(bytes, 5)
  t.deepEqual([...f('v128_id')(big.subarray(5, 21))], [...bytes], 'a view at an offset is read from its offset')

  t.deepEqual([...f('v128_const')()], [1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0])
  const sum = f('i32x4_add')(i32x4(1, 2, 3, -4), i32x4(10, 20, 30, 40))
  t.deepEqual(lanes32(sum), [11, 22, 33, 36])

  // The result is a copy: changing the input afterwards does not change it.
  const input = new Uint8Array(16).fill(9)
  const copy = f('v128_id')(input)
  input.fill(0)
  t.deepEqual([...copy], new Array(16).fill(9))
})

test('funcref: exported functions come out callable and go back in', (t) => {
  const { store, f } = values()
  const add = f('get_add')() as ExportedFunction
  t.is(typeof add, 'function')
  t.is(add(2, 3), 5)
  t.deepEqual(add.type, { params: ['i32', 'i32'], results: ['i32'] })

  t.is(f('funcref_id')(null), null)
  t.is(f('funcref_is_null')(null), 1)
  t.is(f('funcref_is_null')(f('i32_add')), 0)

  const back = f('funcref_id')(f('i32_add')) as ExportedFunction
  t.is(typeof back, 'function')
  t.is(back(20, 22), 42)

  t.is(f('call_ref')(f('i32_add'), 2, 3), 5, 'an exported function passed as funcref and called indirectly')
  t.is(f('call_ref')(add, 100, 1), 101, 'a funcref returned by wasm passed back in')
  const mul = new Func(store, { params: ['i32', 'i32'], results: ['i32'] }, (a: number, b: number) => a * b)
  t.is(f('call_ref')(mul, 6, 7), 42, 'a host Func passed as funcref')
  t.is(f('funcref_is_null')(mul), 0)
})

test('externref: any JS value, identity preserved; undefined is not null', (t) => {
  const { f, store, instance } = values()
  const id = f('externref_id')
  const obj = { some: 'object' }
  const sym = Symbol('s')
  const fnValue = () => 1
  t.is(id(obj), obj)
  t.is(id(sym), sym)
  t.is(id(fnValue), fnValue)
  t.is(id('text'), 'text')
  t.is(id(42), 42)
  t.is(id(10n), 10n)
  t.is(id(false), false)
  t.is(id(null), null)
  t.is(id(undefined), undefined)

  t.is(f('externref_is_null')(null), 1)
  t.is(f('externref_is_null')(undefined), 0, 'undefined is a non-null externref')
  t.is(f('externref_is_null')(0), 0)
  t.is(f('externref_is_null')(false), 0)
  t.is(f('externref_is_null')(obj), 0)

  // Stored in wasm state and read back later, through wasm and through the Global wrapper.
  const eg = global(instance, 'eg')
  t.is(eg.value, null)
  f('set_eg')(obj)
  t.is(f('get_eg')(), obj)
  t.is(eg.value, obj)
  const stored = { stored: true }
  eg.value = stored
  t.is(f('get_eg')(), stored)
  f('set_eg')(undefined)
  t.is(eg.value, undefined)

  // ExternRef wrapper.
  const ref = new ExternRef(store, obj)
  t.is(ref.value, obj)
  t.is(new ExternRef(store, undefined).value, undefined)
})

test('multi-value results are arrays; one result is a value; none is undefined', (t) => {
  const { f } = values()
  const r = f('multi')(1, 2n, 0.5, 0.25)
  t.true(Array.isArray(r))
  t.deepEqual(r, [0.25, 0.5, 2n, 1])
  t.is(f('none')(), undefined)
  t.is(f('i32_id')(3), 3)
})

test('exported functions carry .type and .func, and work when detached from exports', (t) => {
  const { instance } = values()
  const add = fn(instance, 'i32_add')
  t.deepEqual(add.type, { params: ['i32', 'i32'], results: ['i32'] })
  t.true(Object.isFrozen(add.type))
  t.true(plainData(add.type))
  t.true(add.func instanceof Func)
  t.is(add.func.call(4, 5), 9)
  t.deepEqual(add.func.type, { params: ['i32', 'i32'], results: ['i32'] })
  const { i32_add } = instance.exports as Record<string, ExportedFunction>
  t.is(i32_add!(1, 2), 3)
  t.is(Reflect.apply(add, null, [3, 4]), 7)
  t.deepEqual(fn(instance, 'multi').type, { params: ['i32', 'i64', 'f32', 'f64'], results: ['f64', 'f32', 'i64', 'i32'] })
})

const HOST_TYPES_WAT = `
(module
  (import "env" "probe" (func $probe (param i32 i64 f32 f64 v128 externref funcref)))
  (import "env" "make" (func $make (result i32 i64 f32 f64)))
  (import "env" "make_v128" (func $make_v128 (result v128)))
  (import "env" "make_ref" (func $make_ref (result externref)))
  (import "env" "make_func" (func $make_func (result funcref)))
  (type $v_i (func (result i32)))
  (table $t 1 funcref)
  (elem declare func $seven)
  (func $seven (result i32) (i32.const 7))
  (func (export "run_probe") (param externref)
    (call $probe
      (i32.const -1) (i64.const -1) (f32.const 0.5) (f64.const 0.25)
      (v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
      (local.get 0) (ref.func $seven)))
  (func (export "make") (result i32 i64 f32 f64) (call $make))
  (func (export "make_v128") (result v128) (call $make_v128))
  (func (export "make_ref") (result externref) (call $make_ref))
  (func (export "make_ref_is_null") (result i32) (ref.is_null (call $make_ref)))
  (func (export "call_made_func") (result i32)
    (table.set $t (i32.const 0) (call $make_func))
    (call_indirect $t (type $v_i) (i32.const 0)))
)`

test('host functions receive and return every value type', (t) => {
  const store = new Store()
  const seen: unknown[][] = []
  let refToReturn: unknown = null
  let funcToReturn: unknown = null
  const instance = new Instance(store, new Module(Engine.default, HOST_TYPES_WAT), {
    env: {
      probe: (...args: unknown[]) => {
        seen.push(args)
      },
      make: () => [0xffffffff, 2n ** 64n - 1n, 0.1, 0.1],
      make_v128: () => i32x4(5, -6, 7, -8),
      make_ref: () => refToReturn,
      make_func: () => funcToReturn,
    },
  })
  const marker = { marker: true }
  t.is(fn(instance, 'run_probe')(marker), undefined)
  t.is(seen.length, 1)
  const [a, b, c, d, v, ref, func] = seen[0]!
  t.is(a, -1)
  t.is(b, -1n)
  t.is(c, 0.5)
  t.is(d, 0.25)
  t.true(v instanceof Uint8Array)
  t.deepEqual([...(v as Uint8Array)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])
  t.is(ref, marker, 'externref arrives in the host as the same object')
  t.is(typeof func, 'function')
  t.is((func as ExportedFunction)(), 7, 'a funcref received by the host is callable')

  t.deepEqual(fn(instance, 'make')(), [-1, -1n, Math.fround(0.1), 0.1])
  t.deepEqual(lanes32(fn<() => Uint8Array>(instance, 'make_v128')()), [5, -6, 7, -8])

  const obj = { from: 'host' }
  refToReturn = obj
  t.is(fn(instance, 'make_ref')(), obj)
  t.is(fn(instance, 'make_ref_is_null')(), 0)
  refToReturn = undefined
  t.is(fn(instance, 'make_ref')(), undefined)
  t.is(fn(instance, 'make_ref_is_null')(), 0, 'undefined returned for externref is not null')
  refToReturn = null
  t.is(fn(instance, 'make_ref_is_null')(), 1)

  funcToReturn = new Func(store, { params: [], results: ['i32'] }, () => 99)
  t.is(fn(instance, 'call_made_func')(), 99)
  funcToReturn = func
  t.is(fn(instance, 'call_made_func')(), 7)
})

const IMPORTS_WAT = `
(module
  (import "math" "add" (func $add (param i32 i32) (result i32)))
  (import "math" "wide" (func $wide (param i64) (result i64)))
  (import "env" "memory" (memory 1))
  (import "env" "table" (table 1 funcref))
  (import "env" "global" (global $g (mut i32)))
  (func (export "run") (param i32 i32) (result i32) (call $add (local.get 0) (local.get 1)))
  (func (export "run_wide") (param i64) (result i64) (call $wide (local.get 0)))
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "table_size") (result i32) (table.size 0))
  (func (export "get_global") (result i32) (global.get $g))
  (func (export "memory_size") (result i32) (memory.size))
)`

test('instances take imports of every kind: JS functions, Func, Memory, Table, Global', (t) => {
  const store = new Store()
  const memory = new Memory(store, { minimum: 1 })
  const tbl = new Table(store, { element: 'funcref', minimum: 3 }, null)
  const glob = new Global(store, { value: 'i32', mutable: true }, 17)
  const calls: unknown[][] = []
  const wide = new Func(store, { params: ['i64'], results: ['i64'] }, (x: bigint) => x * 2n)
  const instance = new Instance(store, new Module(Engine.default, IMPORTS_WAT), {
    math: {
      add: (a: number, b: number) => {
        calls.push([a, b])
        return a + b
      },
      wide,
    },
    env: { memory, table: tbl, global: glob },
  })
  t.is(fn(instance, 'run')(2, 40), 42)
  t.deepEqual(calls, [[2, 40]])
  t.is(typeof calls[0]![0], 'number', 'an imported JS function receives i32 as number')
  t.is(fn(instance, 'run_wide')(21n), 42n)
  t.is(fn(instance, 'run_wide')(2n ** 62n), -(2n ** 63n), 'host i64 results wrap like arguments')
  memory.write(10, new Uint8Array([77]))
  t.is(fn(instance, 'load')(10), 77)
  t.is(fn(instance, 'table_size')(), 3)
  t.is(fn(instance, 'get_global')(), 17)
  glob.value = 18
  t.is(fn(instance, 'get_global')(), 18)
})

const EXPORTS_WAT = `(module
  (func (export "zeta") (result i32) (i32.const 1))
  (memory (export "alpha") 1)
  (global (export "mid") i32 (i32.const 7))
  (table (export "tbl") 1 funcref)
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))`

test('instance.exports has the shape of WebAssembly.Instance#exports (V8 on the same bytes is the oracle)', (t) => {
  const bytes = wat2wasm(EXPORTS_WAT)
  const v8 = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports
  const ours = new Instance(new Store(), new Module(Engine.default, bytes)).exports
  t.deepEqual(Object.keys(ours), Object.keys(v8))
  t.is(Object.getPrototypeOf(ours), Object.getPrototypeOf(v8))
  t.is(Object.isFrozen(ours), Object.isFrozen(v8))
  t.is(Object.isExtensible(ours), false)
  // Each export is one object: read twice, the same value.
  t.is(ours.add, ours.add)
  t.is(ours.alpha, ours.alpha)
  t.is((ours.add as ExportedFunction)(40, 2), (v8.add as (a: number, b: number) => number)(40, 2))
  t.is((ours.mid as Global).value, (v8.mid as WebAssembly.Global).value)
  t.is({ ...ours }.zeta, ours.zeta)
  t.is(Reflect.set(ours, 'add', 1), Reflect.set(v8, 'add', 1))
  t.is(Reflect.defineProperty(ours, 'extra', { value: 1 }), Reflect.defineProperty(v8, 'extra', { value: 1 }))
  t.is(typeof ours.add, 'function')
})

test('instance.exports: an export first read after its store closed throws the store state error', (t) => {
  const store = new Store()
  const inst = new Instance(store, new Module(Engine.default, EXPORTS_WAT))
  const add = inst.exports.add as ExportedFunction
  store.dispose()
  const e1 = t.throws(() => inst.exports.zeta)
  t.is(e1?.constructor.name, 'StoreStateError')
  t.is((e1 as { code?: string }).code, 'ERR_STORE_CLOSED')
  const e2 = t.throws(() => add(1, 2))
  t.is((e2 as { code?: string }).code, 'ERR_STORE_CLOSED')
})

test('an exported function keeps working when only it is kept (its instance and exports object collected)', async (t) => {
  const { settle } = await import('./helpers/gc')
  const store = new Store()
  const m = new Module(Engine.default, EXPORTS_WAT)
  // Each callable's invoker is owned by its native instance or Func, which only the callable keeps.
  const adds = Array.from({ length: 50 }, () => new Instance(store, m).exports.add as ExportedFunction)
  const viaGetFunc = Array.from({ length: 50 }, () => new Instance(store, m).getFunc('add')!.callable)
  const mul = new Func(store, { params: ['i32', 'i32'], results: ['i32'] }, (a: number, b: number) => a * b).callable
  await settle()
  adds.forEach((add, i) => t.is(add(i, 1000), i + 1000))
  viaGetFunc.forEach((add, i) => t.is(add(i, 2000), i + 2000))
  t.is(mul(6, 7), 42)
})

test('instance.exports, getFunc and getMemory', (t) => {
  const store = new Store()
  const m = new Module(
    Engine.default,
    `(module
       (memory (export "memory") 1)
       (table (export "tbl") 2 funcref)
       (global (export "glob") (mut i32) (i32.const 3))
       (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))`,
  )
  const instance = new Instance(store, m)
  t.deepEqual(Object.keys(instance.exports).sort(), ['add', 'glob', 'memory', 'tbl'])
  t.true(instance.exports.memory instanceof Memory)
  t.true(instance.exports.tbl instanceof Table)
  t.true(instance.exports.glob instanceof Global)
  t.is(typeof instance.exports.add, 'function')

  const f = instance.getFunc('add')
  t.true(f instanceof Func)
  t.is(f!.call(2, 2), 4)
  t.is(instance.getFunc('missing'), null)
  const memory = instance.getMemory('memory')
  t.true(memory instanceof Memory)
  t.is(memory!.size(), 1)
  t.is(instance.getMemory('missing'), null)
})

test('one module instantiates many times, each instance with its own state', (t) => {
  const m = new Module(
    Engine.default,
    `(module
       (global $n (mut i32) (i32.const 0))
       (func (export "next") (result i32)
         (global.set $n (i32.add (global.get $n) (i32.const 1)))
         (global.get $n)))`,
  )
  const store = new Store()
  const a = new Instance(store, m)
  const b = new Instance(store, m)
  const c = new Instance(new Store(), m)
  t.is(fn(a, 'next')(), 1)
  t.is(fn(a, 'next')(), 2)
  t.is(fn(b, 'next')(), 1)
  t.is(fn(c, 'next')(), 1)
})

// ---------------------------------------------------------------------------------------------
// Func
// ---------------------------------------------------------------------------------------------

test('Func: host functions callable from JS, with a frozen type', (t) => {
  const store = new Store()
  const inc = new Func(store, { params: ['i32'], results: ['i32'] }, (x: number) => x + 1)
  t.is(inc.call(41), 42)
  t.deepEqual(inc.type, { params: ['i32'], results: ['i32'] })
  t.true(Object.isFrozen(inc.type))
  t.true(deepFrozen(inc.type))
  t.true(plainData(inc.type))

  const overflow = new Func(store, { params: ['i32'], results: ['i32'] }, (x: number) => x + 1)
  t.is(overflow.call(0x7fffffff), -(2 ** 31), 'an i32 result of 2^31 is returned signed')

  let seen: unknown[] = []
  const none = new Func(store, { params: ['f64', 'i64'], results: [] }, (...args: unknown[]) => {
    seen = args
  })
  t.is(none.call(1.5, 3n), undefined)
  t.deepEqual(seen, [1.5, 3n])

  const many = new Func(store, { params: [], results: ['i32', 'f32', 'i64'] }, () => [1, 0.1, 5n])
  t.deepEqual(many.call(), [1, Math.fround(0.1), 5n])

  const ext = new Func(store, { params: ['externref'], results: ['externref'] }, (x: unknown) => x)
  const o = {}
  t.is(ext.call(o), o)
})

// ---------------------------------------------------------------------------------------------
// Global
// ---------------------------------------------------------------------------------------------

test('Global: values of every type, get and set', (t) => {
  const store = new Store()
  const g = new Global(store, { value: 'i32', mutable: true }, 1)
  t.is(g.value, 1)
  g.value = 5
  t.is(g.value, 5)
  g.value = 0xffffffff
  t.is(g.value, -1, 'i32 global reads back signed')
  t.deepEqual(g.type, { value: 'i32', mutable: true })
  t.true(Object.isFrozen(g.type))

  const big = new Global(store, { value: 'i64', mutable: true }, 2n ** 64n - 1n)
  t.is(big.value, -1n)
  big.value = -(2n ** 63n)
  t.is(big.value, -(2n ** 63n))

  const f = new Global(store, { value: 'f32', mutable: false }, 0.1)
  t.is(f.value, Math.fround(0.1))
  t.deepEqual(f.type, { value: 'f32', mutable: false })

  const d = new Global(store, { value: 'f64', mutable: true }, 0.1)
  t.is(d.value, 0.1)

  const obj = { in: 'global' }
  const e = new Global(store, { value: 'externref', mutable: true }, obj)
  t.is(e.value, obj)
  e.value = undefined
  t.is(e.value, undefined)
  e.value = null
  t.is(e.value, null)

  const fr = new Global(store, { value: 'funcref', mutable: true }, null)
  t.is(fr.value, null)
  fr.value = new Func(store, { params: [], results: ['i32'] }, () => 11)
  t.is(typeof fr.value, 'function')
  t.is((fr.value as ExportedFunction)(), 11)
})

test('Global: shared between JS and wasm in both directions', (t) => {
  const store = new Store()
  const g = new Global(store, { value: 'i32', mutable: true }, 0)
  const instance = new Instance(
    store,
    new Module(
      Engine.default,
      `(module
         (import "env" "g" (global $g (mut i32)))
         (global $own (export "own") (mut i64) (i64.const 7))
         (global (export "const") f64 (f64.const 2.5))
         (func (export "get") (result i32) (global.get $g))
         (func (export "set") (param i32) (global.set $g (local.get 0)))
         (func (export "get_own") (result i64) (global.get $own)))`,
    ),
    { env: { g } },
  )
  g.value = 10
  t.is(fn(instance, 'get')(), 10)
  fn(instance, 'set')(20)
  t.is(g.value, 20)

  const own = global(instance, 'own')
  t.is(own.value, 7n)
  t.deepEqual(own.type, { value: 'i64', mutable: true })
  own.value = 9n
  t.is(fn(instance, 'get_own')(), 9n)
  const c = global(instance, 'const')
  t.is(c.value, 2.5)
  t.deepEqual(c.type, { value: 'f64', mutable: false })
})

// ---------------------------------------------------------------------------------------------
// Table
// ---------------------------------------------------------------------------------------------

test('Table: size, grow, get and set, shared with wasm', (t) => {
  const store = new Store()
  const tbl = new Table(store, { element: 'funcref', minimum: 2 }, null)
  t.is(tbl.size(), 2)
  t.is(tbl.get(0), null)
  t.deepEqual(normType(tbl.type), { element: 'funcref', minimum: 2 })

  const instance = new Instance(
    store,
    new Module(
      Engine.default,
      `(module
         (import "env" "t" (table $t 2 funcref))
         (type $v_i (func (result i32)))
         (func $one (result i32) (i32.const 1))
         (func $two (export "two") (result i32) (i32.const 2))
         (elem (table $t) (i32.const 0) func $one)
         (func (export "call") (param i32) (result i32) (call_indirect $t (type $v_i) (local.get 0)))
         (func (export "size") (result i32) (table.size $t))
         (table $x (export "xt") 1 externref)
         (func (export "xget") (param i32) (result externref) (table.get $x (local.get 0))))`,
    ),
    { env: { t: tbl } },
  )
  const first = tbl.get(0)
  t.is(typeof first, 'function', 'the element segment put a function in slot 0')
  t.is((first as ExportedFunction)(), 1)
  t.is(tbl.get(1), null)

  tbl.set(1, fn(instance, 'two'))
  t.is(fn(instance, 'call')(1), 2)

  t.is(tbl.grow(3, null), 2, 'grow returns the previous size')
  t.is(tbl.size(), 5)
  t.is(fn(instance, 'size')(), 5)
  tbl.set(4, new Func(store, { params: [], results: ['i32'] }, () => 9))
  t.is(fn(instance, 'call')(4), 9)
  tbl.set(4, null)
  t.is(tbl.get(4), null)

  t.is(tbl.grow(1, fn(instance, 'two')), 5)
  t.is((tbl.get(5) as ExportedFunction)(), 2, 'grow fills new slots with the init value')

  const xt = table(instance, 'xt')
  t.deepEqual(normType(xt.type), { element: 'externref', minimum: 1 })
  const obj = { in: 'table' }
  xt.set(0, obj)
  t.is(xt.get(0), obj)
  t.is(fn(instance, 'xget')(0), obj)
  const fill = { fill: 1 }
  t.is(xt.grow(2, fill), 1)
  t.is(xt.get(2), fill)
})

test('Table: an externref table created from JS', (t) => {
  const store = new Store()
  const init = { init: true }
  const tbl = new Table(store, { element: 'externref', minimum: 3, maximum: 4 }, init)
  t.is(tbl.size(), 3)
  t.is(tbl.get(2), init)
  t.deepEqual(normType(tbl.type), { element: 'externref', minimum: 3, maximum: 4 })
  tbl.set(1, undefined)
  t.is(tbl.get(1), undefined)
})

// ---------------------------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------------------------

const MEMORY_WAT = `
(module
  (import "env" "memory" (memory 1 4))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store8") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
)`

function memoryFixture() {
  const store = new Store()
  const memory = new Memory(store, { minimum: 1, maximum: 4 })
  const instance = new Instance(store, new Module(Engine.default, MEMORY_WAT), { env: { memory } })
  return { store, memory, instance, f: (n: string) => fn(instance, n) }
}

test('Memory: read and write copy bytes', (t) => {
  const { memory, f } = memoryFixture()
  t.is(memory.size(), 1)
  t.deepEqual(normType(memory.type), { minimum: 1, maximum: 4 })
  t.deepEqual([...memory.read(0, 4)], [0, 0, 0, 0])

  memory.write(10, new Uint8Array([1, 2, 3]))
  t.deepEqual([...memory.read(10, 3)], [1, 2, 3])
  t.is(f('load8')(11), 2)

  f('store8')(20, 200)
  const copy = memory.read(20, 1)
  t.true(copy instanceof Uint8Array)
  t.is(copy[0], 200)
  copy[0] = 1
  t.is(memory.read(20, 1)[0], 200, 'read returns a copy')
  t.is(f('load8')(20), 200)

  memory.write(30, Buffer.from([9, 8]))
  memory.write(40, new Uint8Array([7, 6]).buffer)
  memory.write(50, new Uint16Array([0x0102]))
  memory.write(60, new Uint8Array([0, 0, 5, 4, 0]).subarray(2, 4))
  t.deepEqual([...memory.read(30, 2)], [9, 8])
  t.deepEqual([...memory.read(40, 2)], [7, 6])
  t.deepEqual([...memory.read(50, 2)], [0x02, 0x01])
  t.deepEqual([...memory.read(60, 3)], [5, 4, 0])

  memory.write(PAGE - 2, new Uint8Array([0xaa, 0xbb]))
  t.deepEqual([...memory.read(PAGE - 2, 2)], [0xaa, 0xbb], 'the last bytes are reachable')
  t.is(memory.read(PAGE, 0).length, 0, 'a zero-length read at the end is in bounds')
  t.is(memory.read(0, PAGE).length, PAGE)
})

test('Memory: buffer is a zero-copy view shared with wasm', (t) => {
  const { memory, f } = memoryFixture()
  const buf = memory.buffer
  t.true(buf instanceof ArrayBuffer)
  t.is(buf.byteLength, PAGE)
  const view = new Uint8Array(buf)
  view[100] = 42
  t.is(f('load8')(100), 42, 'a write through the buffer is seen by wasm')
  t.is(memory.read(100, 1)[0], 42)
  f('store8')(200, 7)
  t.is(view[200], 7, 'a wasm store is seen through the buffer')
  memory.write(300, new Uint8Array([5]))
  t.is(view[300], 5, 'memory.write is seen through the buffer')
})

test('Memory: host grow detaches old buffers; wasm sees the new size', (t) => {
  const { memory, f } = memoryFixture()
  memory.write(1000, new Uint8Array([0x55]))
  const before = memory.buffer
  t.is(before.byteLength, PAGE)
  t.is(memory.grow(1), 1, 'grow returns the previous size in pages')
  t.is(before.byteLength, 0, 'the old buffer is detached')
  t.is(memory.size(), 2)
  t.is(f('size')(), 2)
  const after = memory.buffer
  t.is(after.byteLength, 2 * PAGE)
  t.is(new Uint8Array(after)[1000], 0x55, 'contents survive the grow')
  new Uint8Array(after)[PAGE + 5] = 3
  t.is(f('load8')(PAGE + 5), 3)
  t.is(memory.grow(0), 2)
})

test('Memory: guest memory.grow detaches old buffers too', (t) => {
  const { memory, f } = memoryFixture()
  const before = memory.buffer
  t.is(f('grow')(2), 1)
  t.is(before.byteLength, 0, 'the old buffer is detached after a guest grow')
  t.is(memory.size(), 3)
  t.is(memory.buffer.byteLength, 3 * PAGE)
  f('store8')(2 * PAGE + 1, 66)
  t.is(memory.read(2 * PAGE + 1, 1)[0], 66)
  t.is(new Uint8Array(memory.buffer)[2 * PAGE + 1], 66)
  t.is(f('grow')(5), -1, 'a guest grow past the maximum fails with -1')
  t.is(memory.size(), 3)
})

test('Memory: store.dispose() detaches buffers', (t) => {
  const { store, memory } = memoryFixture()
  const buf = memory.buffer
  t.is(buf.byteLength, PAGE)
  store.dispose()
  t.is(buf.byteLength, 0)
})

test('Memory: exported memory is the same memory wasm uses', (t) => {
  const store = new Store()
  const instance = new Instance(
    store,
    new Module(
      Engine.default,
      `(module
         (memory (export "memory") 1)
         (data (i32.const 16) "hello")
         (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0))))`,
    ),
  )
  const memory = mem(instance)
  t.is(Buffer.from(memory.read(16, 5)).toString('latin1'), 'hello')
  t.is(Buffer.from(memory.buffer, 16, 5).toString('latin1'), 'hello')
  memory.write(16, Buffer.from('J'))
  t.is(fn(instance, 'peek')(16), 'J'.charCodeAt(0))
})

// ---------------------------------------------------------------------------------------------
// Linker
// ---------------------------------------------------------------------------------------------

const LINKED_WAT = `
(module
  (import "env" "add" (func $add (param i32 i32) (result i32)))
  (import "env" "memory" (memory 1))
  (import "env" "g" (global $g i32))
  (func (export "run") (param i32 i32) (result i32)
    (i32.add (call $add (local.get 0) (local.get 1)) (global.get $g)))
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
)`

test('Linker: func and define, chaining, instantiate', (t) => {
  const store = new Store()
  const linker = new Linker(Engine.default)
  t.is(linker.allowShadowing, false, 'shadowing is off by default')
  const memory = new Memory(store, { minimum: 1 })
  const g = new Global(store, { value: 'i32', mutable: false }, 1000)
  const r1 = linker.func('env', 'add', { params: ['i32', 'i32'], results: ['i32'] }, (a: number, b: number) => a + b)
  t.is(r1, linker)
  t.is(linker.define(store, 'env', 'memory', memory), linker)
  t.is(linker.define(store, 'env', 'g', g), linker)
  const instance = linker.instantiate(store, new Module(Engine.default, LINKED_WAT))
  t.true(instance instanceof Instance)
  t.is(fn(instance, 'run')(1, 2), 1003)
  memory.write(0, new Uint8Array([12]))
  t.is(fn(instance, 'load')(0), 12)
})

test('Linker: host functions defined with func() work in several stores', (t) => {
  const linker = new Linker()
  const seen: number[] = []
  linker.func('env', 'log', { params: ['i32'], results: [] }, (x: number) => {
    seen.push(x)
  })
  const m = new Module(
    Engine.default,
    `(module (import "env" "log" (func $log (param i32)))
       (func (export "go") (param i32) (call $log (local.get 0))))`,
  )
  const a = linker.instantiate(new Store(), m)
  const b = linker.instantiate(new Store(), m)
  fn(a, 'go')(1)
  fn(b, 'go')(2)
  fn(a, 'go')(3)
  t.deepEqual(seen, [1, 2, 3])
})

test('Linker: defineInstance links one instance to another', (t) => {
  const store = new Store()
  const linker = new Linker(Engine.default)
  const lib = linker.instantiate(
    store,
    new Module(
      Engine.default,
      `(module
         (memory (export "memory") 1)
         (func (export "double") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2))))`,
    ),
  )
  t.is(linker.defineInstance(store, 'lib', lib), linker)
  const user = linker.instantiate(
    store,
    new Module(
      Engine.default,
      `(module
         (import "lib" "double" (func $double (param i32) (result i32)))
         (import "lib" "memory" (memory 1))
         (func (export "quad") (param i32) (result i32) (call $double (call $double (local.get 0))))
         (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1))))`,
    ),
  )
  t.is(fn(user, 'quad')(5), 20)
  fn(user, 'poke')(7, 99)
  t.is(mem(lib).read(7, 1)[0], 99, 'the memory is shared between the two instances')
})

test('Linker: shadowing is refused by default and allowed when enabled', (t) => {
  const type = { params: [], results: ['i32'] } as const
  const m = new Module(Engine.default, `(module (import "env" "v" (func $v (result i32))) (func (export "v") (result i32) (call $v)))`)

  const strict = new Linker()
  strict.func('env', 'v', type, () => 1)
  const e = t.throws(() => strict.func('env', 'v', type, () => 2), { instanceOf: LinkError, code: 'ERR_WASM_LINK' })
  t.regex(e?.message ?? '', /v/)
  t.is(fn(strict.instantiate(new Store(), m), 'v')(), 1, 'the first definition stays')

  const store = new Store()
  const strictDefine = new Linker()
  strictDefine.define(store, 'env', 'v', new Func(store, type, () => 1))
  t.throws(() => strictDefine.define(store, 'env', 'v', new Func(store, type, () => 2)), { instanceOf: LinkError, code: 'ERR_WASM_LINK' })

  const loose = new Linker()
  loose.allowShadowing = true
  t.is(loose.allowShadowing, true)
  loose.func('env', 'v', type, () => 1)
  t.notThrows(() => loose.func('env', 'v', type, () => 2))
  t.is(fn(loose.instantiate(new Store(), m), 'v')(), 2, 'the last definition wins')
})

test('Linker: instantiatePre instantiates in many stores', (t) => {
  const linker = new Linker()
  linker.func('env', 'add', { params: ['i32', 'i32'], results: ['i32'] }, (a: number, b: number) => a + b)
  const m = new Module(
    Engine.default,
    `(module (import "env" "add" (func $add (param i32 i32) (result i32)))
       (func (export "run") (param i32) (result i32) (call $add (local.get 0) (i32.const 1))))`,
  )
  const pre = linker.instantiatePre(m)
  for (let i = 0; i < 5; i++) t.is(fn(pre.instantiate(new Store()), 'run')(i), i + 1)
})

// ---------------------------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------------------------

test('CommonJS and ESM entry points expose the same classes', async (t) => {
   
  const cjs = require('../dist/index.js')
  const esm = await import(pathToFileURL(path.join(__dirname, '../dist/index.mjs')).href)
  const names = [
    'Config', 'Engine', 'Module', 'Store', 'Linker', 'Instance', 'Func', 'Memory', 'Table', 'Global',
    'ExternRef', 'WasmtimeError', 'CompileError', 'LinkError', 'Trap', 'StoreStateError', 'wat2wasm',
  ]
  for (const name of names) {
    t.is(typeof cjs[name], 'function', `require() has ${name}`)
    t.is(typeof esm[name], 'function', `import() has ${name}`)
    t.is(esm[name], cjs[name], `${name} is the same object from both entry points`)
  }
  t.is(esm.Engine.default, cjs.Engine.default)
  // Objects made through one entry point work with the other.
  const m = new esm.Module(esm.Engine.default, ADD_WAT)
  const instance = new cjs.Instance(new cjs.Store(), m)
  t.is(instance.exports.add(3, 4), 7)
  t.true(m instanceof Module)
})

test('the internal invoke refuses an invoker id that is not live (forged, or of a collected owner) with an error, not a crash', (t) => {
  const native = require('../index.js')
  const invoke = native.NativeFunc.invokeFunction() as (fns: unknown[], id: unknown, ...args: unknown[]) => unknown
  for (const id of [2 ** 31, 'x', -1, undefined]) {
    const e = t.throws(() => invoke([], id, 1, 2), undefined, String(id))
    t.is((e as { code?: string }).code, 'ERR_INTERNAL', String(id))
  }
})
