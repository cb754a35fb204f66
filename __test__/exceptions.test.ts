// Issue 19, part 2: exception tags in the API. `new Tag(store, { params })` (importable,
// exportable, definable in a Linker, transferable), and wasm exceptions in JS with the shape of
// `WebAssembly.Exception`: one that escapes wasm is an `Exception` with `is(tag)` and
// `getArg(tag, i)`; one a host function throws goes into wasm, where `try_table` catches it by
// tag. The expected values are the constants and the control flow the WAT spells out (the
// exception-handling semantics of the Wasm 3.0 spec); Node 20's V8 does not run `try_table`, so
// it cannot serve as the oracle here.
import test from 'ava'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import { Engine, Exception, Instance, LinkError, Linker, Module, Store, StoreStateError, Tag, Trap, wat2wasm } from '../dist/index.js'
import type { ExportedFunction } from '../dist/index.js'
import { assertError, rejection, thrown } from './helpers/assert'
import { ScriptRunner } from './helpers/spectest-runner'

const GUEST = `(module
  (import "env" "tag" (tag $t (param i32 f64)))
  (import "env" "host" (func $host (param i32)))
  (tag $own (export "own") (param i64 f32 externref))
  (func (export "throwImported") (param i32) (throw $t (local.get 0) (f64.const 2.5)))
  (func (export "throwOwn") (param externref) (throw $own (i64.const -9007199254740993) (f32.const 0.75) (local.get 0)))
  ;; Calls the host; an exception of $t is caught: its i32 + 1000, else -1 when the host returns.
  (func (export "catchHost") (param i32) (result i32)
    (block $h (result i32 f64)
      (try_table (catch $t $h) (call $host (local.get 0)))
      (return (i32.const -1)))
    (drop)
    (i32.add (i32.const 1000)))
  ;; Catches everything (catch_all) and returns 7; returns 0 when the host returns.
  (func (export "catchAll") (param i32) (result i32)
    (block $h
      (try_table (catch_all $h) (call $host (local.get 0)))
      (return (i32.const 0)))
    (i32.const 7))
  ;; Catches an exception of $t by reference and throws it again (throw_ref).
  (func (export "rethrow") (param i32)
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (call $host (local.get 0)))
      (return))
    (throw_ref))
  (func (export "passThrough") (param i32) (call $host (local.get 0))))`

interface Guest {
  throwImported(x: number): void
  throwOwn(x: unknown): void
  catchHost(x: number): number
  catchAll(x: number): number
  rethrow(x: number): void
  passThrough(x: number): void
  own: Tag
}

/** A guest importing `tag`, whose host function `env.host` does what `host` says. */
function guest(store: Store, tag: Tag, host: (x: number) => void): Guest {
  return new Instance(store, new Module(store.engine, GUEST), { env: { tag, host } }).exports as unknown as Guest
}

test('Tag: its type, its descriptor in module imports/exports, and the export is a Tag', (t) => {
  const store = new Store()
  const tag = new Tag(store, { params: ['i32', 'f64'] })
  t.deepEqual(tag.type, { params: ['i32', 'f64'] })
  t.true(Object.isFrozen(tag.type))
  t.deepEqual(new Tag(store, { params: [] }).type, { params: [] })
  const m = new Module(Engine.default, GUEST)
  t.deepEqual(m.imports.find((i) => i.name === 'tag')!.type, { kind: 'tag', type: { params: ['i32', 'f64'] } })
  t.deepEqual(m.exports.find((e) => e.name === 'own')!.type, { kind: 'tag', type: { params: ['i64', 'f32', 'externref'] } })
  const g = guest(store, tag, () => {})
  t.true(g.own instanceof Tag)
  t.deepEqual(g.own.type, { params: ['i64', 'f32', 'externref'] })
})

test('an exception that escapes wasm is an Exception: is(tag) by identity, getArg(tag, i) gives the thrown values', (t) => {
  const store = new Store()
  const tag = new Tag(store, { params: ['i32', 'f64'] })
  const same = new Tag(store, { params: ['i32', 'f64'] })
  const g = guest(store, tag, () => {})
  const e = thrown(t, () => g.throwImported(7), 'throwImported(7)') as Exception
  t.true(e instanceof Exception)
  t.false(e instanceof Error, 'like WebAssembly.Exception, not an Error')
  t.true(e.is(tag))
  t.false(e.is(same), 'a tag of the same type is another tag')
  t.is(e.getArg(tag, 0), 7)
  t.is(e.getArg(tag, 1), 2.5)
  const payload = { note: 'an object payload' }
  const o = thrown(t, () => g.throwOwn(payload), 'throwOwn') as Exception
  t.true(o.is(g.own))
  t.false(o.is(tag))
  t.is(o.getArg(g.own, 0), -9007199254740993n, 'i64 as a BigInt')
  t.is(o.getArg(g.own, 1), 0.75)
  t.is(o.getArg(g.own, 2), payload, 'an externref payload is the very object')
  assertError(t, thrown(t, () => o.getArg(tag, 0), 'getArg with another tag'), TypeError, 'ERR_INVALID_ARG_VALUE', 'getArg(other tag)')
  assertError(t, thrown(t, () => o.getArg(g.own, 3), 'index 3'), RangeError, 'ERR_OUT_OF_RANGE', 'getArg index past the payload')
  assertError(t, thrown(t, () => o.getArg(g.own, -1), 'index -1'), RangeError, 'ERR_OUT_OF_RANGE', 'getArg(-1)')
})

test('a host function throws an Exception into wasm: try_table catches it by tag, catch_all catches it, an uncaught one comes back as the same object', (t) => {
  const store = new Store()
  const tag = new Tag(store, { params: ['i32', 'f64'] })
  const other = new Tag(store, { params: ['i32', 'f64'] })
  let throwing: (x: number) => unknown = () => undefined
  const g = guest(store, tag, (x) => {
    const e = throwing(x)
    if (e !== undefined) throw e
  })
  throwing = (x) => new Exception(tag, [x * 2, 0.5])
  t.is(g.catchHost(21), 1042, 'caught by (catch $t): its i32 + 1000')
  t.is(g.catchAll(1), 7)
  t.is(g.catchHost(-1), 998)
  throwing = () => undefined
  t.is(g.catchHost(5), -1, 'nothing thrown')
  // Another tag of the same type is not caught by (catch $t); it unwinds to JS unchanged.
  let mine: Exception | undefined
  throwing = (x) => (mine = new Exception(other, [x, 1]))
  t.is(thrown(t, () => g.catchHost(3), 'other tag'), mine)
  // Uncaught: the caller gets the object the host threw.
  throwing = (x) => (mine = new Exception(tag, [x, 1]))
  t.is(thrown(t, () => g.passThrough(4), 'passThrough'), mine)
  // Caught by reference and thrown again by wasm (throw_ref): still that object.
  t.is(thrown(t, () => g.rethrow(9), 'rethrow'), mine)
  t.is(mine!.getArg(tag, 0), 9)
})

test('a JS error that is not an Exception unwinds wasm without running its handlers, and reaches the caller unchanged', (t) => {
  const store = new Store()
  const tag = new Tag(store, { params: ['i32', 'f64'] })
  const err = new RangeError('plain')
  const g = guest(store, tag, () => {
    throw err
  })
  t.is(thrown(t, () => g.catchAll(1), 'catchAll'), err)
  t.is(thrown(t, () => g.catchHost(1), 'catchHost'), err)
})

test('one tag shared by two instances: an exception thrown by one is caught by the other', (t) => {
  const store = new Store()
  const tag = new Tag(store, { params: ['i32', 'f64'] })
  const thrower = guest(store, tag, () => {})
  const catcher = guest(store, tag, (x) => thrower.throwImported(x))
  t.is(catcher.catchHost(5), 1005)
  // Its own tag, exported and imported by another instance, works the same.
  const linker = new Linker(Engine.default)
  linker.define(store, 'env', 'tag', tag)
  linker.func('env', 'host', { params: ['i32'], results: [] }, (x: number) => thrower.throwImported(x))
  t.is((linker.instantiate(store, new Module(Engine.default, GUEST)).exports as unknown as Guest).catchHost(6), 1006)
})

test('an Exception of another store goes through wasm as a JS value (a store\'s wasm catches only its own)', (t) => {
  const a = new Store()
  const b = new Store()
  const tagA = new Tag(a, { params: ['i32', 'f64'] })
  const tagB = new Tag(b, { params: ['i32', 'f64'] })
  const foreign = new Exception(tagB, [1, 2])
  const g = guest(a, tagA, () => {
    throw foreign
  })
  t.is(thrown(t, () => g.catchAll(1), 'catchAll'), foreign)
  t.false(foreign.is(tagA))
})

for (const async of [false, true]) {
  test(`callAsync (${async ? 'async store' : 'plain store'}): an exception that escapes rejects the promise with the Exception`, async (t) => {
    const store = new Store(Engine.default, { async })
    const tag = new Tag(store, { params: ['i32', 'f64'] })
    const g = guest(store, tag, () => {})
    const e = (await rejection(t, (g.throwImported as unknown as ExportedFunction).callAsync(11), 'callAsync')) as Exception
    t.true(e instanceof Exception)
    t.is(e.getArg(tag, 0), 11)
  })
}

for (const async of [false, true]) {
  test(`callAsync (${async ? 'async store: a fiber on the pool' : 'plain store: a blocking thread'}): a host function's Exception is caught by the guest's try_table, thrown or as a rejected Promise`, async (t) => {
    const store = new Store(Engine.default, { async })
    const tag = new Tag(store, { params: ['i32', 'f64'] })
    let throwing: (x: number) => unknown = () => undefined
    const g = guest(store, tag, ((x: number) => throwing(x)) as (x: number) => void)
    const catchHost = g.catchHost as unknown as ExportedFunction<(x: number) => number>
    throwing = (x) => {
      throw new Exception(tag, [x * 2, 0.5])
    }
    t.is(await catchHost.callAsync(21), 1042, 'thrown: caught by (catch $t)')
    if (async) {
      throwing = (x) => Promise.reject(new Exception(tag, [x * 3, 0.5]))
      t.is(await catchHost.callAsync(10), 1030, 'a rejected Promise: caught by (catch $t)')
    }
    // Uncaught (another tag): the callAsync rejects with the very object.
    const other = new Tag(store, { params: ['i32', 'f64'] })
    const mine = new Exception(other, [1, 1])
    throwing = () => {
      throw mine
    }
    t.is(await rejection(t, catchHost.callAsync(1), 'other tag'), mine)
    // A plain JS error still unwinds the guest without running its handlers.
    const err = new Error('plain')
    throwing = () => {
      throw err
    }
    t.is(await rejection(t, (g.catchAll as unknown as ExportedFunction<(x: number) => number>).callAsync(1), 'plain error'), err)
    // And the synchronous path of the same store still works.
    throwing = (x) => {
      throw new Exception(tag, [x, 0])
    }
    t.is(g.catchHost(4), 1004)
  })
}

test('a Tag moves with its store (transfer), and stays the same tag there', (t) => {
  const store = new Store()
  const tag = new Tag(store, { params: ['i32', 'f64'] })
  const g = guest(store, tag, () => {})
  const token = store.transfer({ tag, throwImported: g.throwImported as unknown as ExportedFunction })
  assertError(t, thrown(t, () => new Exception(tag, [1, 2]), 'moved tag'), StoreStateError, 'ERR_STORE_MOVED', 'an Exception of a moved Tag')
  const { objects } = Store.receive(token, { imports: { env: { host: () => {} } } })
  const moved = objects.tag as Tag
  t.true(moved instanceof Tag)
  const e = thrown(t, () => (objects.throwImported as (x: number) => void)(3), 'after receive') as Exception
  t.true(e.is(moved))
  t.is(e.getArg(moved, 0), 3)
})

test('Tag and Exception refuse bad input (class and code)', (t) => {
  const store = new Store()
  const tag = new Tag(store, { params: ['i32'] })
  assertError(t, thrown(t, () => new Tag(store, { params: ['i33'] } as never), 'i33'), TypeError, 'ERR_INVALID_ARG_VALUE', "params ['i33']")
  assertError(t, thrown(t, () => new Tag(store, { params: 'i32' } as never), 'string'), TypeError, 'ERR_INVALID_ARG_TYPE', "params 'i32'")
  assertError(t, thrown(t, () => new Tag(store, { param: ['i32'] } as never), 'unknown key'), TypeError, 'ERR_INVALID_ARG_VALUE', 'unknown key param', 'params')
  assertError(t, thrown(t, () => new Tag({} as never, { params: [] }), 'not a store'), TypeError, 'ERR_INVALID_ARG_TYPE', 'store {}')
  assertError(t, thrown(t, () => new Exception(tag, []), 'arity'), TypeError, 'ERR_INVALID_ARG_COUNT', 'no payload for (i32)')
  assertError(t, thrown(t, () => new Exception(tag, ['x']), 'type'), TypeError, 'ERR_INVALID_ARG_TYPE', "payload ['x'] for i32")
  assertError(t, thrown(t, () => new Exception({} as never, [1]), 'not a tag'), TypeError, 'ERR_INVALID_ARG_TYPE', 'tag {}')
  assertError(t, thrown(t, () => new Exception(tag, 1 as never), 'payload 1'), TypeError, 'ERR_INVALID_ARG_TYPE', 'payload 1')
  const e = new Exception(tag, [5])
  assertError(t, thrown(t, () => e.is({} as never), 'is({})'), TypeError, 'ERR_INVALID_ARG_TYPE', 'is({})')
  // Linking: a Tag where a memory is imported, a tag of another type.
  const wrongType = new Tag(store, { params: ['i64', 'f64'] })
  assertError(t, thrown(t, () => new Instance(store, new Module(Engine.default, GUEST), { env: { tag: wrongType, host: () => {} } }), 'wrong tag type'), LinkError, 'ERR_WASM_LINK', 'a tag of another type')
  const needsMemory = new Module(Engine.default, '(module (import "env" "m" (memory 1)))')
  assertError(t, thrown(t, () => new Instance(store, needsMemory, { env: { m: tag } }), 'tag for memory'), LinkError, 'ERR_WASM_LINK', 'a Tag for a memory import')
  // After dispose.
  store.dispose()
  assertError(t, thrown(t, () => e.is(tag), 'disposed'), StoreStateError, 'ERR_STORE_CLOSED', 'is after dispose')
  assertError(t, thrown(t, () => new Exception(tag, [1]), 'disposed'), StoreStateError, 'ERR_STORE_CLOSED', 'new Exception after dispose')
})

test('many exceptions thrown and dropped: the store stays usable and frees them (a loop that never yields)', (t) => {
  const store = new Store()
  const tag = new Tag(store, { params: ['i32', 'f64'] })
  const g = guest(store, tag, (x) => {
    throw new Exception(tag, [x, 0])
  })
  let sum = 0
  for (let i = 0; i < 20_000; i++) {
    try {
      g.throwImported(i)
    } catch (e) {
      sum += (e as Exception).getArg(tag, 0) as number
    }
    sum += g.catchHost(1) - 1001
  }
  t.is(sum, (19_999 * 20_000) / 2)
  store.gc()
  t.is(g.catchHost(2), 1002)
})

test('a trap is still a Trap (not an Exception)', (t) => {
  const store = new Store()
  const m = new Module(Engine.default, '(module (func (export "f") unreachable))')
  const e = thrown(t, () => (new Instance(store, m).exports.f as () => void)(), 'unreachable')
  t.true(e instanceof Trap)
  t.false(e instanceof Exception)
})

test('the spec runner checks assert_exception (Wasm 3.0 scripts): a thrown exception passes, a return or a trap fails', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wtn-exn-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.writeFileSync(path.join(dir, 'x.0.wasm'), wat2wasm(`(module (tag $e) (func (export "throws") (throw $e)) (func (export "returns")) (func (export "traps") unreachable))`))
  const runner = new ScriptRunner(dir)
  t.is(runner.run({ type: 'module', line: 1, filename: 'x.0.wasm' }).kind, 'pass')
  const check = (field: string) => runner.run({ type: 'assert_exception', line: 2, action: { type: 'invoke', field, args: [] } })
  t.deepEqual(check('throws'), { kind: 'pass' })
  t.is(check('returns').kind, 'fail')
  t.is(check('traps').kind, 'fail')
})
