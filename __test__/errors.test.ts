// Errors: every error class and code of the contract, traps and their backtraces, host exceptions
// keeping their identity, and bad input for every public entry point. After each failure the
// package must still work (a normal call succeeds) — nothing may abort the process.
import test from 'ava'
import type { ExecutionContext } from 'ava'

import {
  CompileError,
  Engine,
  Func,
  Global,
  Instance,
  LinkError,
  Linker,
  Memory,
  Module,
  Store,
  StoreStateError,
  Table,
  Trap,
  WasmtimeError,
  wat2wasm,
} from '../dist/index.js'
import { fn, mem, throwsCoded, throwsTypeError } from './helpers/util'

const PAGE = 65536

const ADD_WAT = `
(module
  (memory (export "memory") 1)
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))`
const ADD_MODULE = new Module(Engine.default, ADD_WAT)

/** A fresh store + instance, and a check that a normal call on it (and on a new store) still works. */
function fixture() {
  const store = new Store()
  const instance = new Instance(store, ADD_MODULE)
  const ok = (t: ExecutionContext) => {
    t.is(fn(instance, 'add')(2, 3), 5, 'a normal call still works on the same store')
    t.is(fn(new Instance(new Store(), ADD_MODULE), 'add')(20, 22), 42, 'a normal call works on a new store')
  }
  return { store, instance, ok }
}

// ---------------------------------------------------------------------------------------------
// Class hierarchy
// ---------------------------------------------------------------------------------------------

test('error classes form a hierarchy under WasmtimeError and Error', (t) => {
  for (const C of [CompileError, LinkError, Trap, StoreStateError]) {
    t.is(typeof C, 'function')
    t.true(C.prototype instanceof WasmtimeError, `${C.name} extends WasmtimeError`)
  }
  t.true(WasmtimeError.prototype instanceof Error)
})

// ---------------------------------------------------------------------------------------------
// CompileError
// ---------------------------------------------------------------------------------------------

test('CompileError: invalid bytes, truncated bytes, invalid WAT, invalid code', async (t) => {
  const { ok } = fixture()
  const good = wat2wasm(ADD_WAT)
  const cases: Array<[string, ArrayBufferView | ArrayBuffer | string]> = [
    ['garbage bytes', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])],
    ['empty bytes', new Uint8Array(0)],
    ['wrong version', new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00])],
    ['truncated', good.subarray(0, good.length - 3)],
    ['truncated header', good.subarray(0, 6)],
    ['invalid WAT: unknown instruction', '(module (func (i32.bogus)))'],
    ['invalid WAT: unbalanced parens', '(module (func'],
    ['invalid WAT: not wat at all', 'hello world'],
    ['type error', '(module (func (result i32) (i64.const 1)))'],
    ['unknown local', '(module (func (local.get 3) drop))'],
  ]
  for (const [label, src] of cases) {
    const e = t.throws(() => new Module(Engine.default, src), { instanceOf: CompileError, code: 'ERR_WASM_COMPILE' }, label)
    t.true(e instanceof WasmtimeError, label)
    t.true(typeof e?.message === 'string' && e.message.length > 0, `${label}: has a message`)
  }
  await t.throwsAsync(Module.compile(Engine.default, new Uint8Array([9, 9, 9])), { instanceOf: CompileError, code: 'ERR_WASM_COMPILE' })
  await t.throwsAsync(Module.compile(Engine.default, '(module (func (i32.bogus)))'), { instanceOf: CompileError, code: 'ERR_WASM_COMPILE' })
  ok(t)
})

test('CompileError: wat2wasm with invalid text', (t) => {
  const { ok } = fixture()
  t.throws(() => wat2wasm('(module (func (i32.bogus)))'), { instanceOf: CompileError, code: 'ERR_WASM_COMPILE' })
  t.throws(() => wat2wasm('(module'), { instanceOf: CompileError, code: 'ERR_WASM_COMPILE' })
  ok(t)
})

test('bad arguments to Module, Module.validate and wat2wasm are TypeErrors', (t) => {
  const { ok } = fixture()
  const bytes = wat2wasm(ADD_WAT)
  t.throws(() => new Module(Engine.default, 42 as any), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => new Module(Engine.default, {} as any), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => new Module(Engine.default, [0, 0x61, 0x73, 0x6d] as any), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => new Module({} as any, bytes), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => new Module(null as any, bytes), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  throwsTypeError(t, () => new (Module as any)(), 'new Module()')
  throwsTypeError(t, () => new (Module as any)(Engine.default), 'new Module(engine)')
  throwsTypeError(t, () => Module.validate(Engine.default, 42 as any), 'Module.validate(engine, 42)')
  throwsTypeError(t, () => Module.validate({} as any, bytes), 'Module.validate({}, bytes)')
  throwsTypeError(t, () => wat2wasm(42 as any), 'wat2wasm(42)')
  throwsTypeError(t, () => (wat2wasm as any)(), 'wat2wasm()')
  ok(t)
})

test('bad engine options are rejected with a coded error', (t) => {
  const { ok } = fixture()
  throwsCoded(t, () => new Engine({ optLevel: 'fastest' as any }), 'unknown optLevel')
  throwsCoded(t, () => new Engine({ strategy: 'interpreter' as any }), 'unknown strategy')
  throwsCoded(t, () => new Engine(42 as any), 'a number as options')
  ok(t)
})

// ---------------------------------------------------------------------------------------------
// Argument conversion
// ---------------------------------------------------------------------------------------------

const CONV_WAT = `
(module
  (func (export "i32") (param i32) (result i32) (local.get 0))
  (func (export "i64") (param i64) (result i64) (local.get 0))
  (func (export "f32") (param f32) (result f32) (local.get 0))
  (func (export "f64") (param f64) (result f64) (local.get 0))
  (func (export "v128") (param v128) (result v128) (local.get 0))
  (func (export "funcref") (param funcref) (result i32) (ref.is_null (local.get 0)))
  (func (export "two") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "none"))
)`

function conv() {
  const store = new Store()
  const instance = new Instance(store, new Module(Engine.default, CONV_WAT))
  return { store, instance, f: (n: string) => fn(instance, n) }
}

test('arguments: wrong JS type is TypeError ERR_INVALID_ARG_TYPE', (t) => {
  const { f } = conv()
  const bad: Array<[string, unknown]> = [
    ['i32', '1'],
    ['i32', 1n],
    ['i32', null],
    ['i32', undefined],
    ['i32', {}],
    ['i64', 1],
    ['i64', '1'],
    ['i64', null],
    ['f32', '1.5'],
    ['f32', 1n],
    ['f64', '1.5'],
    ['f64', 1n],
    ['f64', undefined],
    ['v128', new Uint8Array(15)],
    ['v128', new Uint8Array(17)],
    ['v128', new Array(16).fill(0)],
    ['v128', 0],
    ['v128', 'sixteen bytes!!!'],
    ['funcref', 42],
    ['funcref', {}],
    ['funcref', 'f'],
  ]
  for (const [name, value] of bad) {
    const e = t.throws(() => f(name)(value), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' }, `${name} ← ${String(value)}`)
    t.true(e instanceof TypeError)
  }
  t.is(f('i32')(7), 7, 'a normal call still works')
  t.is(f('i64')(7n), 7n)
})

test('arguments: out-of-range integers are RangeError ERR_OUT_OF_RANGE', (t) => {
  const { f } = conv()
  const bad: Array<[string, unknown]> = [
    ['i32', 2 ** 32],
    ['i32', -(2 ** 31) - 1],
    ['i32', 1.5],
    ['i32', -0.5],
    ['i32', NaN],
    ['i32', Infinity],
    ['i32', -Infinity],
    ['i32', 2 ** 53],
    ['i64', 2n ** 64n],
    ['i64', -(2n ** 63n) - 1n],
    ['i64', 2n ** 100n],
  ]
  for (const [name, value] of bad) {
    t.throws(() => f(name)(value), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }, `${name} ← ${String(value)}`)
  }
  // The edges themselves are accepted.
  t.is(f('i32')(2 ** 32 - 1), -1)
  t.is(f('i32')(-(2 ** 31)), -(2 ** 31))
  t.is(f('i64')(2n ** 64n - 1n), -1n)
  t.is(f('i64')(-(2n ** 63n)), -(2n ** 63n))
})

test('arguments: wrong count is TypeError ERR_INVALID_ARG_COUNT', (t) => {
  const { store, f } = conv()
  t.throws(() => f('two')(1), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_COUNT' }, 'too few')
  t.throws(() => f('two')(), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_COUNT' }, 'none')
  t.throws(() => f('two')(1, 2, 3), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_COUNT' }, 'too many')
  t.throws(() => f('none')(1), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_COUNT' }, 'one to a nullary function')
  const host: Func = new Func(store, { params: ['i32'], results: ['i32'] }, (x: number) => x) // untyped: wrong calls on purpose
  t.throws(() => host.call(), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_COUNT' }, 'Func.call too few')
  t.throws(() => host.call(1, 2), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_COUNT' }, 'Func.call too many')
  t.throws(() => f('two').func.call(1), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_COUNT' }, '.func.call too few')
  t.throws(() => host.call('1'), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' }, 'Func.call wrong type')
  t.throws(() => host.call(2 ** 32), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }, 'Func.call out of range')
  t.is(f('two')(1, 2), 3)
  t.is(host.call(5), 5)
})

test('host function results of the wrong type are TypeErrors', (t) => {
  const { ok } = fixture()
  const store = new Store()
  let result: unknown
  const m = new Module(
    Engine.default,
    `(module
       (import "env" "one" (func $one (result i32)))
       (import "env" "big" (func $big (result i64)))
       (import "env" "two" (func $two (result i32 i32)))
       (func (export "one") (result i32) (call $one))
       (func (export "big") (result i64) (call $big))
       (func (export "two") (result i32) (call $two) (i32.add)))`,
  )
  const instance = new Instance(store, m, { env: { one: () => result, big: () => result, two: () => result } })
  const cases: Array<[string, unknown]> = [
    ['one', 'not a number'],
    ['one', undefined],
    ['one', 1n],
    ['big', 1],
    ['big', 'x'],
    ['two', 5],
    ['two', [1]],
    ['two', [1, 2, 3]],
    ['two', [1, 'x']],
  ]
  for (const [name, value] of cases) {
    result = value
    t.throws(() => fn(instance, name)(), { instanceOf: TypeError }, `${name} returning ${String(value)}`)
  }
  result = 41
  t.is(fn(instance, 'one')(), 41)
  result = [20, 22]
  t.is(fn(instance, 'two')(), 42)
  result = 3n
  t.is(fn(instance, 'big')(), 3n)
  ok(t)
})

// ---------------------------------------------------------------------------------------------
// LinkError
// ---------------------------------------------------------------------------------------------

const NEEDS_WAT = `
(module
  (import "needed_mod" "needed_fn" (func $f (param i32) (result i32)))
  (func (export "run") (param i32) (result i32) (call $f (local.get 0))))`

test('LinkError: a missing import names its module and field', (t) => {
  const { ok } = fixture()
  const m = new Module(Engine.default, NEEDS_WAT)
  const store = new Store()
  for (const imports of [undefined, {}, { needed_mod: {} }, { other: { needed_fn: (x: number) => x } }]) {
    const e = t.throws(() => new Instance(store, m, imports as any), { instanceOf: LinkError, code: 'ERR_WASM_LINK' }, JSON.stringify(imports))
    t.true(e instanceof WasmtimeError)
    t.regex(e?.message ?? '', /needed_mod/)
    t.regex(e?.message ?? '', /needed_fn/)
  }
  const e = t.throws(() => new Linker().instantiate(store, m), { instanceOf: LinkError, code: 'ERR_WASM_LINK' }, 'Linker')
  t.regex(e?.message ?? '', /needed_mod/)
  t.regex(e?.message ?? '', /needed_fn/)
  t.is(fn(new Instance(store, m, { needed_mod: { needed_fn: (x: number) => x * 2 } }), 'run')(21), 42)
  ok(t)
})

test('LinkError: imports of the wrong type name the import', (t) => {
  const { ok } = fixture()
  const store = new Store()
  const funcImport = new Module(Engine.default, NEEDS_WAT)
  const wrongSig = new Func(store, { params: ['i64'], results: ['i32'] }, () => 0)
  const cases: Array<[string, Module, unknown]> = [
    ['Func of another signature', funcImport, wrongSig],
    ['a Memory for a function', funcImport, new Memory(store, { minimum: 1 })],
    ['a string for a function', funcImport, 'not a function'],
    ['a number for a function', funcImport, 42],
  ]
  const memImport = new Module(Engine.default, `(module (import "needed_mod" "needed_fn" (memory 2)))`)
  cases.push(['a memory that is too small', memImport, new Memory(store, { minimum: 1 })])
  cases.push(['a function for a memory', memImport, () => 0])
  const globImport = new Module(Engine.default, `(module (import "needed_mod" "needed_fn" (global (mut i32))))`)
  cases.push(['an immutable global for a mutable one', globImport, new Global(store, { value: 'i32', mutable: false }, 1)])
  cases.push(['a global of another type', globImport, new Global(store, { value: 'i64', mutable: true }, 1n)])
  const tableImport = new Module(Engine.default, `(module (import "needed_mod" "needed_fn" (table 1 funcref)))`)
  cases.push(['an externref table for a funcref table', tableImport, new Table(store, { element: 'externref', minimum: 1 }, null)])

  for (const [label, m, value] of cases) {
    const e = t.throws(() => new Instance(store, m, { needed_mod: { needed_fn: value as any } }), { instanceOf: LinkError, code: 'ERR_WASM_LINK' }, label)
    t.regex(e?.message ?? '', /needed_mod/, `${label}: message names the module`)
    t.regex(e?.message ?? '', /needed_fn/, `${label}: message names the field`)
  }
  const linker = new Linker()
  linker.define(store, 'needed_mod', 'needed_fn', wrongSig)
  const e = t.throws(() => linker.instantiate(store, funcImport), { instanceOf: LinkError, code: 'ERR_WASM_LINK' }, 'Linker')
  t.regex(e?.message ?? '', /needed_fn/)
  ok(t)
})

test('bad arguments to Instance are TypeErrors', (t) => {
  const { store, ok } = fixture()
  throwsTypeError(t, () => new (Instance as any)(), 'new Instance()')
  throwsTypeError(t, () => new (Instance as any)(store), 'new Instance(store)')
  throwsTypeError(t, () => new Instance(store, {} as any), 'a plain object as module')
  throwsTypeError(t, () => new Instance(store, wat2wasm(ADD_WAT) as any), 'bytes as module')
  throwsTypeError(t, () => new Instance({} as any, ADD_MODULE), 'a plain object as store')
  throwsTypeError(t, () => new Instance(null as any, ADD_MODULE), 'null as store')
  throwsTypeError(t, () => new Instance(store, ADD_MODULE, 'imports' as any), 'a string as imports')
  ok(t)
})

test('bad arguments to Store are TypeErrors', (t) => {
  const { ok } = fixture()
  throwsTypeError(t, () => new Store(42 as any), 'new Store(42)')
  throwsTypeError(t, () => new Store({} as any), 'new Store({})')
  throwsTypeError(t, () => new Store(Engine.default, 'options' as any), 'options as a string')
  ok(t)
})

// ---------------------------------------------------------------------------------------------
// Traps
// ---------------------------------------------------------------------------------------------

const TRAPS_WAT = `
(module $traps
  (type $v_v (func))
  (memory 1)
  (table $t 2 funcref)
  (func $takes_i32 (param i32))
  (elem (i32.const 0) $takes_i32)
  (func (export "unreachable") unreachable)
  (func (export "oob_load") (result i32) (i32.load (i32.const 65536)))
  (func (export "oob_store") (i32.store (i32.const -1) (i32.const 1)))
  (func (export "div_zero") (result i32) (i32.div_s (i32.const 1) (i32.const 0)))
  (func (export "rem_zero") (result i64) (i64.rem_u (i64.const 1) (i64.const 0)))
  (func (export "int_overflow") (result i32) (i32.div_s (i32.const 0x80000000) (i32.const -1)))
  (func (export "trunc_overflow") (result i32) (i32.trunc_f64_s (f64.const 1e10)))
  (func (export "bad_conv") (result i32) (i32.trunc_f32_s (f32.const nan)))
  (func $recurse (export "stack_overflow") (call $recurse))
  (func (export "null_call") (call_indirect (type $v_v) (i32.const 1)))
  (func (export "bad_sig") (call_indirect (type $v_v) (i32.const 0)))
  (func (export "table_oob") (call_indirect (type $v_v) (i32.const 5)))
  (func (export "table_get_oob") (result funcref) (table.get $t (i32.const 9)))
  (func (export "ok") (result i32) (i32.const 42))
)`

const TRAP_CASES: Array<[string, string]> = [
  ['unreachable', 'unreachable'],
  ['oob_load', 'memory_out_of_bounds'],
  ['oob_store', 'memory_out_of_bounds'],
  ['div_zero', 'integer_division_by_zero'],
  ['rem_zero', 'integer_division_by_zero'],
  ['int_overflow', 'integer_overflow'],
  ['trunc_overflow', 'integer_overflow'],
  ['bad_conv', 'bad_conversion_to_integer'],
  ['stack_overflow', 'stack_overflow'],
  ['null_call', 'indirect_call_to_null'],
  ['bad_sig', 'bad_signature'],
  ['table_oob', 'table_out_of_bounds'],
  ['table_get_oob', 'table_out_of_bounds'],
]

const TRAPS_MODULE = new Module(Engine.default, TRAPS_WAT)

for (const [exportName, trapCode] of TRAP_CASES) {
  test(`Trap '${trapCode}' from ${exportName}`, (t) => {
    const instance = new Instance(new Store(), TRAPS_MODULE)
    const e = t.throws(() => fn(instance, exportName)(), { instanceOf: Trap, code: 'ERR_WASM_TRAP' }) as Trap | undefined
    t.true(e instanceof WasmtimeError)
    t.true(e instanceof Error)
    t.is(e?.trapCode, trapCode)
    t.true(typeof e?.message === 'string' && e.message.length > 0)
    t.true(Array.isArray(e?.wasmBacktrace))
    t.is(fn(instance, 'ok')(), 42, 'the instance still works after the trap')
    const again = t.throws(() => fn(instance, exportName)(), { instanceOf: Trap }) as Trap | undefined
    t.is(again?.trapCode, trapCode, 'the same trap again')
    t.is(fn(instance, 'ok')(), 42)
  })
}

test('Trap backtrace: function names from the name section, innermost first, numeric offsets', (t) => {
  const m = new Module(
    Engine.default,
    `(module $bt
       (func $inner (param i32) (result i32) unreachable)
       (func $middle (param i32) (result i32) (call $inner (local.get 0)))
       (func $outer (export "outer") (param i32) (result i32) (call $middle (local.get 0))))`,
  )
  const instance = new Instance(new Store(), m)
  const e = t.throws(() => fn(instance, 'outer')(1), { instanceOf: Trap, code: 'ERR_WASM_TRAP' }) as Trap | undefined
  t.is(e?.trapCode, 'unreachable')
  const frames = e?.wasmBacktrace ?? []
  t.true(frames.length >= 3, `three frames at least, got ${frames.length}`)
  t.deepEqual(frames.slice(0, 3).map((f) => f.func), ['inner', 'middle', 'outer'])
  t.deepEqual(frames.slice(0, 3).map((f) => f.funcIndex), [0, 1, 2])
  for (const f of frames.slice(0, 3)) {
    t.is(f.module, 'bt')
    t.is(typeof f.offset, 'number')
    t.true(Number.isInteger(f.offset) && (f.offset as number) >= 0, `offset ${String(f.offset)}`)
  }
})

test('Trap backtrace without a name section has null names and function indexes', (t) => {
  const bytes = wat2wasm(`(module
    (func (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
    (func (export "f") (param i32) (result i32) (call 0 (local.get 0))))`)
  const instance = new Instance(new Store(), new Module(Engine.default, bytes))
  const e = t.throws(() => fn(instance, 'f')(0), { instanceOf: Trap }) as Trap | undefined
  t.is(e?.trapCode, 'integer_division_by_zero')
  const frames = e?.wasmBacktrace ?? []
  t.true(frames.length >= 2)
  t.deepEqual(frames.slice(0, 2).map((f) => f.funcIndex), [0, 1])
  t.is(frames[0]?.func ?? null, null)
  t.is(fn(instance, 'f')(1), 1)
})

test('a trap inside a nested call passes through the host unchanged', (t) => {
  const store = new Store()
  let inner: Instance
  let caughtInHost: unknown
  const outer = new Instance(
    store,
    new Module(Engine.default, `(module (import "h" "cb" (func $cb)) (func (export "go") (call $cb)))`),
    {
      h: {
        cb: () => {
          try {
            fn(inner, 'unreachable')()
          } catch (e) {
            caughtInHost = e
            throw e
          }
        },
      },
    },
  )
  inner = new Instance(store, TRAPS_MODULE)
  const e = t.throws(() => fn(outer, 'go')(), { instanceOf: Trap })
  t.true(caughtInHost instanceof Trap, 'the host saw a Trap')
  t.is(e as unknown, caughtInHost, 'the caller got the very object the host rethrew')
  t.is((e as Trap).trapCode, 'unreachable')
  t.is(fn(inner, 'ok')(), 42)
})

// ---------------------------------------------------------------------------------------------
// Host exceptions keep their identity
// ---------------------------------------------------------------------------------------------

const LEVELS_WAT = `
(module
  (import "h" "level" (func $level (param i32) (result i32)))
  (func $a (param i32) (result i32) (call $level (local.get 0)))
  (func $b (param i32) (result i32) (i32.add (call $a (local.get 0)) (i32.const 0)))
  (func (export "enter") (param i32) (result i32) (call $b (local.get 0))))`

class CustomError extends Error {
  extra = 'kept'
}

const THROWN: Array<[string, () => unknown]> = [
  ['an Error', () => new Error('boom')],
  ['an Error subclass', () => new CustomError('custom')],
  ['a TypeError', () => new TypeError('type')],
  ['a plain object', () => ({ plain: true })],
  ['a string', () => 'just a string'],
  ['a number', () => 42],
  ['a symbol', () => Symbol('thrown')],
  ['null', () => null],
  ['undefined', () => undefined],
]

for (const [label, make] of THROWN) {
  test(`a host exception (${label}) reaches the caller as the same value through 3 levels of nesting`, (t) => {
    const store = new Store()
    let thrown: unknown
    let throwAt = 3
    const visited: number[] = []
    const instance = new Instance(store, new Module(Engine.default, LEVELS_WAT), {
      h: {
        level: (n: number) => {
          visited.push(n)
          if (n === throwAt) {
            thrown = make()
            throw thrown
          }
          if (n >= 3) return 100
          return fn<(n: number) => number>(instance, 'enter')(n + 1) + 1
        },
      },
    })
    let caught: unknown = 'nothing was thrown'
    try {
      fn(instance, 'enter')(1)
    } catch (e) {
      caught = e
    }
    t.deepEqual(visited, [1, 2, 3])
    t.is(caught, thrown, 'identity preserved')
    if (thrown instanceof CustomError) t.is((caught as CustomError).extra, 'kept')

    // The store is still fine: the same path without a throw, and a throw at the first level.
    throwAt = -1
    t.is(fn(instance, 'enter')(1), 102)
    throwAt = 1
    visited.length = 0
    caught = 'nothing was thrown'
    try {
      fn(instance, 'enter')(1)
    } catch (e) {
      caught = e
    }
    t.is(caught, thrown)
    t.deepEqual(visited, [1])
    throwAt = -1
    t.is(fn(instance, 'enter')(2), 101)
  })
}

test('a host exception caught by an intermediate host function does not disturb the outer call', (t) => {
  const store = new Store()
  const marker = new Error('inner')
  let caughtInMiddle: unknown
  const instance = new Instance(store, new Module(Engine.default, LEVELS_WAT), {
    h: {
      level: (n: number) => {
        if (n === 3) throw marker
        if (n === 2) {
          try {
            fn(instance, 'enter')(3)
          } catch (e) {
            caughtInMiddle = e
            return 50
          }
          return -1
        }
        return fn<(n: number) => number>(instance, 'enter')(n + 1) + 1
      },
    },
  })
  t.is(fn(instance, 'enter')(1), 51)
  t.is(caughtInMiddle, marker)
})

test('a host Func that throws: Func.call and wasm calls both rethrow the same object', (t) => {
  const store = new Store()
  const marker = { marker: 1 }
  const thrower = new Func(store, { params: [], results: [] }, () => {
    throw marker
  })
  let caught: unknown
  try {
    thrower.call()
  } catch (e) {
    caught = e
  }
  t.is(caught, marker)
  const instance = new Instance(
    store,
    new Module(Engine.default, `(module (import "m" "f" (func $f)) (func (export "go") (call $f)))`),
    { m: { f: thrower } },
  )
  caught = undefined
  try {
    fn(instance, 'go')()
  } catch (e) {
    caught = e
  }
  t.is(caught, marker)
})

// ---------------------------------------------------------------------------------------------
// Memory, Table, Global bad input
// ---------------------------------------------------------------------------------------------

test('Memory: out-of-bounds and malformed offsets are RangeError ERR_OUT_OF_RANGE', (t) => {
  const { instance, ok } = fixture()
  const memory = mem(instance)
  const bad: Array<[string, () => unknown]> = [
    ['read past the end', () => memory.read(PAGE, 1)],
    ['read across the end', () => memory.read(PAGE - 1, 2)],
    ['read longer than memory', () => memory.read(0, PAGE + 1)],
    ['read at a negative offset', () => memory.read(-1, 1)],
    ['read a negative length', () => memory.read(0, -1)],
    ['read at a fractional offset', () => memory.read(1.5, 1)],
    ['read a fractional length', () => memory.read(0, 1.5)],
    ['read at NaN', () => memory.read(NaN, 1)],
    ['read at 2^53', () => memory.read(2 ** 53, 1)],
    ['read at 2^32', () => memory.read(2 ** 32, 1)],
    ['write past the end', () => memory.write(PAGE, new Uint8Array(1))],
    ['write across the end', () => memory.write(PAGE - 1, new Uint8Array(2))],
    ['write at a negative offset', () => memory.write(-1, new Uint8Array(1))],
    ['write at a fractional offset', () => memory.write(0.5, new Uint8Array(1))],
  ]
  for (const [label, f] of bad) t.throws(f, { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }, label)
  t.is(memory.read(PAGE - 1, 1).length, 1)
  t.notThrows(() => memory.write(PAGE - 1, new Uint8Array([1])))
  ok(t)
})

test('Memory: wrong argument types are TypeErrors', (t) => {
  const { instance, ok } = fixture()
  const memory = mem(instance)
  t.throws(() => memory.read('0' as any, 1), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => memory.read(0, '1' as any), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => memory.write(0, 'bytes' as any), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => memory.write(0, 42 as any), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => memory.write('0' as any, new Uint8Array(1)), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  throwsTypeError(t, () => (memory as any).read(), 'read()')
  throwsTypeError(t, () => (memory as any).write(0), 'write(0)')
  ok(t)
})

test('Memory: negative, fractional and impossible sizes', (t) => {
  const { store, ok } = fixture()
  const memory = new Memory(store, { minimum: 1, maximum: 2 })
  t.throws(() => memory.grow(-1), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }, 'grow(-1)')
  t.throws(() => memory.grow(1.5), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }, 'grow(1.5)')
  throwsCoded(t, () => memory.grow(2), 'grow past the maximum')
  t.is(memory.size(), 1, 'a failed grow changes nothing')
  t.is(memory.grow(1), 1)
  throwsCoded(t, () => memory.grow(1), 'grow past the maximum again')
  t.is(memory.size(), 2)

  t.throws(() => new Memory(store, { minimum: -1 }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }, 'minimum -1')
  t.throws(() => new Memory(store, { minimum: 1, maximum: -1 }), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }, 'maximum -1')
  throwsCoded(t, () => new Memory(store, { minimum: 2, maximum: 1 }), 'minimum > maximum')
  throwsCoded(t, () => new Memory(store, { minimum: 70000 }), 'more pages than a 32-bit memory can have')
  throwsTypeError(t, () => new Memory(store, { minimum: '1' } as any), 'minimum as a string')
  throwsTypeError(t, () => new Memory(store, 1 as any), 'a number as the type')
  throwsTypeError(t, () => new Memory({} as any, { minimum: 1 }), 'a plain object as the store')
  ok(t)
})

test('Table: out-of-range indexes and negative sizes are RangeError ERR_OUT_OF_RANGE', (t) => {
  const { store, ok } = fixture()
  const tbl = new Table(store, { element: 'funcref', minimum: 2, maximum: 3 }, null)
  t.throws(() => tbl.get(2), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }, 'get(size)')
  t.throws(() => tbl.get(-1), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }, 'get(-1)')
  t.throws(() => tbl.get(0.5), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }, 'get(0.5)')
  t.throws(() => tbl.get(2 ** 32), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }, 'get(2^32)')
  t.throws(() => tbl.set(5, null), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }, 'set(5)')
  t.throws(() => tbl.set(-1, null), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }, 'set(-1)')
  t.throws(() => tbl.grow(-1, null), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }, 'grow(-1)')
  throwsCoded(t, () => tbl.grow(5, null), 'grow past the maximum')
  t.is(tbl.size(), 2)
  t.throws(() => new Table(store, { element: 'funcref', minimum: -1 }, null), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }, 'minimum -1')

  t.throws(() => tbl.set(0, 42), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' }, 'a number in a funcref table')
  t.throws(() => tbl.set(0, {}), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' }, 'an object in a funcref table')
  t.throws(() => tbl.set(0, () => 1), { instanceOf: TypeError }, 'a plain JS function in a funcref table')
  throwsTypeError(t, () => new Table(store, { element: 'i32' as any, minimum: 1 }, null), 'element i32')
  throwsTypeError(t, () => new Table(store, { element: 'funcref', minimum: 1 }, 42), 'a number as funcref init')
  t.is(tbl.get(0), null)
  ok(t)
})

test('Global: bad values, and setting an immutable global', (t) => {
  const { store, ok } = fixture()
  const imm = new Global(store, { value: 'i32', mutable: false }, 5)
  throwsCoded(t, () => {
    imm.value = 6
  }, 'setting an immutable global')
  t.is(imm.value, 5, 'the value did not change')

  const g32 = new Global(store, { value: 'i32', mutable: true }, 0)
  t.throws(() => { g32.value = 'x' }, { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' }, 'i32 ← string')
  t.throws(() => { g32.value = 1n }, { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' }, 'i32 ← bigint')
  t.throws(() => { g32.value = 2 ** 32 }, { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }, 'i32 ← 2^32')
  t.throws(() => { g32.value = 0.5 }, { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }, 'i32 ← 0.5')
  const g64 = new Global(store, { value: 'i64', mutable: true }, 0n)
  t.throws(() => { g64.value = 1 }, { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' }, 'i64 ← number')
  t.throws(() => { g64.value = 2n ** 64n }, { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }, 'i64 ← 2^64')
  const gf = new Global(store, { value: 'funcref', mutable: true }, null)
  t.throws(() => { gf.value = 42 }, { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' }, 'funcref ← number')
  t.is(g32.value, 0)
  t.is(g64.value, 0n)
  t.is(gf.value, null)

  t.throws(() => new Global(store, { value: 'i64', mutable: false }, 1), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' }, 'new i64 global from a number')
  t.throws(() => new Global(store, { value: 'i32', mutable: false }, 'x'), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' }, 'new i32 global from a string')
  t.throws(() => new Global(store, { value: 'i32', mutable: false }, 2 ** 32), { instanceOf: RangeError, code: 'ERR_OUT_OF_RANGE' }, 'new i32 global out of range')
  throwsTypeError(t, () => new Global(store, { value: 'i33' as any, mutable: false }, 0), 'unknown value type')
  throwsTypeError(t, () => new Global({} as any, { value: 'i32', mutable: false }, 0), 'a plain object as the store')
  ok(t)
})

test('Func and Linker: bad types and non-functions are TypeErrors', (t) => {
  const { store, ok } = fixture()
  throwsTypeError(t, () => new Func(store, { params: ['i32'], results: ['i32'] }, 42 as any), 'a number as the function')
  throwsTypeError(t, () => new Func(store, { params: ['bogus' as any], results: [] }, () => {}), 'unknown param type')
  throwsTypeError(t, () => new Func(store, { params: [], results: ['bogus' as any] }, () => {}), 'unknown result type')
  throwsTypeError(t, () => new Func(store, { params: 'i32' as any, results: [] }, () => {}), 'params not an array')
  throwsTypeError(t, () => new Func({} as any, { params: [], results: [] }, () => {}), 'a plain object as the store')
  throwsTypeError(t, () => new (Func as any)(store), 'new Func(store)')

  const linker = new Linker()
  throwsTypeError(t, () => linker.func('env', 'f', { params: ['nope' as any], results: [] }, () => {}), 'linker.func with a bad type')
  throwsTypeError(t, () => linker.func('env', 'f', { params: [], results: [] }, 'no' as any), 'linker.func with a non-function')
  throwsTypeError(t, () => linker.func(1 as any, 'f', { params: [], results: [] }, () => {}), 'linker.func with a numeric module name')
  throwsTypeError(t, () => linker.define(store, 'env', 'x', {} as any), 'linker.define with a plain object')
  throwsTypeError(t, () => linker.define(store, 'env', 'x', (() => {}) as any), 'linker.define with a plain function')
  throwsTypeError(t, () => linker.define({} as any, 'env', 'x', new Memory(store, { minimum: 1 })), 'linker.define with a non-store')
  throwsTypeError(t, () => linker.defineInstance(store, 'x', {} as any), 'linker.defineInstance with a plain object')
  throwsTypeError(t, () => linker.instantiate(store, {} as any), 'linker.instantiate with a plain object')
  throwsTypeError(t, () => linker.instantiate({} as any, ADD_MODULE), 'linker.instantiate with a non-store')
  throwsTypeError(t, () => new Linker({} as any), 'new Linker({})')
  // The linker is still usable afterwards.
  linker.func('env', 'f', { params: [], results: ['i32'] }, () => 8)
  const m = new Module(Engine.default, `(module (import "env" "f" (func $f (result i32))) (func (export "g") (result i32) (call $f)))`)
  t.is(fn(linker.instantiate(store, m), 'g')(), 8)
  ok(t)
})

test('LinkError: defining the same name twice without allowShadowing', (t) => {
  const { store, ok } = fixture()
  const linker = new Linker()
  linker.define(store, 'env', 'm', new Memory(store, { minimum: 1 }))
  const e = t.throws(() => linker.define(store, 'env', 'm', new Memory(store, { minimum: 1 })), { instanceOf: LinkError, code: 'ERR_WASM_LINK' })
  t.regex(e?.message ?? '', /\bm\b/)
  ok(t)
})

// ---------------------------------------------------------------------------------------------
// Cross-store use: StoreStateError ERR_WRONG_STORE
// ---------------------------------------------------------------------------------------------

test('objects of one store used with another are StoreStateError ERR_WRONG_STORE', (t) => {
  const a = new Store()
  const b = new Store()
  const wrong = { instanceOf: StoreStateError, code: 'ERR_WRONG_STORE' }
  const memA = new Memory(a, { minimum: 1 })
  const globA = new Global(a, { value: 'i32', mutable: true }, 1)
  const tableA = new Table(a, { element: 'funcref', minimum: 1 }, null)
  const funcA = new Func(a, { params: [], results: [] }, () => {})

  const memModule = new Module(Engine.default, `(module (import "env" "memory" (memory 1)))`)
  const globModule = new Module(Engine.default, `(module (import "env" "g" (global (mut i32))))`)
  const tableModule = new Module(Engine.default, `(module (import "env" "t" (table 1 funcref)))`)
  const funcModule = new Module(Engine.default, `(module (import "env" "f" (func)))`)

  t.throws(() => new Instance(b, memModule, { env: { memory: memA } }), wrong, 'a Memory of A imported in B')
  t.throws(() => new Instance(b, globModule, { env: { g: globA } }), wrong, 'a Global of A imported in B')
  t.throws(() => new Instance(b, tableModule, { env: { t: tableA } }), wrong, 'a Table of A imported in B')
  t.throws(() => new Instance(b, funcModule, { env: { f: funcA } }), wrong, 'a Func of A imported in B')

  const linker = new Linker()
  t.throws(() => linker.define(b, 'env', 'g', globA), wrong, 'linker.define(B, Global of A)')
  t.throws(() => linker.define(b, 'env', 'memory', memA), wrong, 'linker.define(B, Memory of A)')
  const instA = new Instance(a, ADD_MODULE)
  t.throws(() => linker.defineInstance(b, 'lib', instA), wrong, 'linker.defineInstance(B, instance of A)')

  const linkerA = new Linker()
  linkerA.define(a, 'env', 'g', globA)
  t.throws(() => linkerA.instantiate(b, globModule), wrong, 'a linker holding A items instantiated in B')

  const instB = new Instance(
    b,
    new Module(
      Engine.default,
      `(module
         (table (export "t") 1 funcref)
         (global (export "gf") (mut funcref) (ref.null func))
         (func (export "take") (param funcref) (result i32) (ref.is_null (local.get 0)))
         (func (export "nop")))`,
    ),
  )
  t.throws(() => fn(instB, 'take')(fn(instA, 'add')), wrong, 'a function of A passed as funcref to B')
  t.throws(() => fn(instB, 'take')(funcA), wrong, 'a Func of A passed as funcref to B')
  t.throws(() => (instB.exports.t as Table).set(0, funcA), wrong, 'a Func of A stored in a table of B')
  t.throws(() => tableA.set(0, fn(instB, 'nop')), wrong, 'a function of B stored in a table of A')
  t.throws(() => { (instB.exports.gf as Global).value = funcA }, wrong, 'a Func of A stored in a global of B')

  // Both stores still work, and same-store use does.
  t.is(fn(instA, 'add')(1, 2), 3)
  t.is(fn(instB, 'take')(null), 1)
  t.is(fn(instB, 'take')(fn(instB, 'nop')), 0)
  t.notThrows(() => new Instance(a, memModule, { env: { memory: memA } }))
  t.notThrows(() => tableA.set(0, funcA))
})

test('a module compiled by another engine is rejected, not a crash', (t) => {
  const { ok } = fixture()
  const other = new Engine()
  const m = new Module(other, ADD_WAT)
  throwsCoded(t, () => new Instance(new Store(), m), 'module of another engine in a default store')
  throwsCoded(t, () => new Linker().instantiate(new Store(), m), 'linker in default engine')
  t.is(fn(new Instance(new Store(other), m), 'add')(1, 1), 2)
  ok(t)
})

// ---------------------------------------------------------------------------------------------
// Use after dispose: StoreStateError ERR_STORE_CLOSED
// ---------------------------------------------------------------------------------------------

function disposedFixture(dispose: (s: Store) => void) {
  const store = new Store()
  const instance = new Instance(
    store,
    new Module(
      Engine.default,
      `(module
         (memory (export "memory") 1)
         (table (export "table") 1 funcref)
         (global (export "g") (mut i32) (i32.const 1))
         (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))`,
    ),
  )
  const add = fn(instance, 'add')
  const memory = mem(instance)
  const tbl = instance.exports.table as Table
  const g = instance.exports.g as Global
  const hostFunc = new Func(store, { params: [], results: [] }, () => {})
  const ownGlobal = new Global(store, { value: 'i32', mutable: true }, 1)
  const addFunc = add.func
  dispose(store)
  return { store, add, memory, tbl, g, hostFunc, ownGlobal, addFunc }
}

for (const [label, dispose] of [
  ['dispose()', (s: Store) => s.dispose()],
  ['[Symbol.dispose]()', (s: Store) => s[Symbol.dispose]()],
] as Array<[string, (s: Store) => void]>) {
  test(`after store.${label} every wrapper throws StoreStateError ERR_STORE_CLOSED`, (t) => {
    const { store, add, memory, tbl, g, hostFunc, ownGlobal, addFunc } = disposedFixture(dispose)
    const closed = { instanceOf: StoreStateError, code: 'ERR_STORE_CLOSED' }
    const cases: Array<[string, () => unknown]> = [
      ['exported function call', () => add(1, 2)],
      ['exported .func.call', () => addFunc.call(1, 2)],
      ['host Func.call', () => hostFunc.call()],
      ['memory.read', () => memory.read(0, 1)],
      ['memory.write', () => memory.write(0, new Uint8Array(1))],
      ['memory.size', () => memory.size()],
      ['memory.grow', () => memory.grow(1)],
      ['global.value get', () => g.value],
      ['global.value set', () => { g.value = 2 }],
      ['own global.value get', () => ownGlobal.value],
      ['table.get', () => tbl.get(0)],
      ['table.set', () => tbl.set(0, null)],
      ['table.size', () => tbl.size()],
      ['table.grow', () => tbl.grow(1, null)],
      ['new Instance', () => new Instance(store, ADD_MODULE)],
      ['new Func', () => new Func(store, { params: [], results: [] }, () => {})],
      ['new Memory', () => new Memory(store, { minimum: 1 })],
      ['new Global', () => new Global(store, { value: 'i32', mutable: false }, 0)],
      ['new Table', () => new Table(store, { element: 'funcref', minimum: 1 }, null)],
      ['linker.instantiate', () => new Linker().instantiate(store, ADD_MODULE)],
      ['linker.define', () => new Linker().define(store, 'env', 'g', ownGlobal)],
    ]
    for (const [what, f] of cases) {
      const e = t.throws(f, closed, what)
      t.true(e instanceof WasmtimeError, what)
    }
    t.notThrows(() => store.dispose(), 'dispose is idempotent')
    t.throws(() => add(1, 2), closed, 'still closed after a second dispose')
    // Other stores are unaffected.
    t.is(fn(new Instance(new Store(), ADD_MODULE), 'add')(2, 2), 4)
  })
}

test('disposing one store leaves another store of the same module working', (t) => {
  const a = new Store()
  const b = new Store()
  const ia = new Instance(a, ADD_MODULE)
  const ib = new Instance(b, ADD_MODULE)
  mem(ib).write(0, new Uint8Array([9]))
  a.dispose()
  t.throws(() => fn(ia, 'add')(1, 1), { instanceOf: StoreStateError, code: 'ERR_STORE_CLOSED' })
  t.is(fn(ib, 'add')(1, 1), 2)
  t.is(mem(ib).read(0, 1)[0], 9)
})
