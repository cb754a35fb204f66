// Bad input, generated: a table of cases over every public entry point (wrong types and arities,
// NaN/±Infinity/2^53+1/negative numbers where integers are expected, BigInt where a number is
// expected and the reverse, detached and shared ArrayBuffers, typed-array views with offsets,
// getters that throw, Proxy import objects, invalid WAT, truncated and corrupted binaries, offsets
// near 2^32, objects of another store, everything after dispose() and after transfer(),
// re-entrant misuse).
//
// Each case pins the error it must throw (or reject with), written beside its input: the class
// (constructor name) and the exact `code`, and for a Trap its `trapCode` ('Trap ERR_WASM_TRAP
// unreachable'). The expectations come from what a careful API throws for that input (a wrong
// type → TypeError ERR_INVALID_ARG_TYPE, a number out of range → RangeError ERR_OUT_OF_RANGE, a
// closed store → StoreStateError ERR_STORE_CLOSED…), not from a run of the code. Afterwards a
// health check must pass (a fresh compile + instantiate + call in a new store). Cases that hand
// the library a user object whose getter (or Proxy trap, or host function, or abort reason)
// throws pass when exactly that exception propagates, unchanged.
//
// Two lists hold snapshots of today's outcome, which the tests require to stay exactly as
// recorded (a change either way fails: a fix means "move the case to the main table"):
// KNOWN_WRONG (`wrong(...)`, written beside the related cases), inputs that get a typed, coded
// error but not the right one, each with the error it should get; and KNOWN_GAPS (`gap(...)`,
// near the end), inputs that get no typed error at all (no throw, no code, a hang). Each is a bug
// to fix in lib/ or crate/.
import test, { type ExecutionContext } from 'ava'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import {
  Component,
  ComponentLinker,
  Config,
  Engine,
  ExternRef,
  Func,
  Exception,
  Global,
  Instance,
  InstancePre,
  InterruptHandle,
  Linker,
  Memory,
  Module,
  SharedMemory,
  Store,
  Table,
  Tag,
  runWasi,
  runWasiAsync,
  setAsyncThreads,
  wat2wasm,
  withCaller,
} from '../dist/index.js'
import type { ExportedFunction, StoreTransfer } from '../dist/index.js'
import { fn, global, mem, table } from './helpers/util'

// ---------------------------------------------------------------------------------------------
// The harness
// ---------------------------------------------------------------------------------------------

/**
 * An expected error: '<class> <code>', plus the trapCode for a Trap — 'TypeError
 * ERR_INVALID_ARG_TYPE', 'Trap ERR_WASM_TRAP unreachable'. The class is the constructor's name.
 */
type Expect = string

const CLASSES = ['TypeError', 'RangeError', 'CompileError', 'LinkError', 'Trap', 'StoreStateError', 'WasmtimeError', 'WasiExit']
const EXPECT = /^(\w+) (ERR_[A-Z0-9_]+)(?: ([a-z_]+))?$/

/** Checked where a case is written, so that a typo fails the file rather than passing unseen. */
function expectation(e: Expect): Expect {
  const m = EXPECT.exec(e)
  if (!m || !CLASSES.includes(m[1]!) || (m[1] === 'Trap') !== (m[3] !== undefined)) throw new Error(`malformed expectation ${JSON.stringify(e)}`)
  return e
}

// The expectations that recur.
const TYPE = 'TypeError ERR_INVALID_ARG_TYPE'
const VALUE = 'TypeError ERR_INVALID_ARG_VALUE'
const COUNT = 'TypeError ERR_INVALID_ARG_COUNT'
const RANGE = 'RangeError ERR_OUT_OF_RANGE'
const GROW = 'RangeError ERR_WASM_GROW'
const COMPILE = 'CompileError ERR_WASM_COMPILE'
const LINK = 'LinkError ERR_WASM_LINK'
const CLOSED = 'StoreStateError ERR_STORE_CLOSED'
const MOVED = 'StoreStateError ERR_STORE_MOVED'
const BUSY = 'StoreStateError ERR_STORE_BUSY'
const WRONG_STORE = 'StoreStateError ERR_WRONG_STORE'
const TOKEN = 'StoreStateError ERR_TRANSFER_TOKEN'
const DESERIALIZE = 'WasmtimeError ERR_WASM_DESERIALIZE'
const NO_FUEL = 'WasmtimeError ERR_FUEL_UNAVAILABLE'
const NO_INTERRUPT = 'WasmtimeError ERR_INTERRUPT_UNAVAILABLE'
const TRAP = (trapCode: string): Expect => `Trap ERR_WASM_TRAP ${trapCode}`
/** Node's code for a callback that returned the wrong thing (a host function's result). */
const RETURN_VALUE = 'TypeError ERR_INVALID_RETURN_VALUE'

interface Case {
  /** The public entry point (class, method, option or conversion) the case exercises. */
  entry: string
  what: string
  /** The error it must throw; absent where a user exception must propagate. */
  expect?: Expect
  /** Throws, or returns a Promise that rejects. */
  run: () => unknown
  /** Set for the cases where a user-supplied exception must come out unchanged. */
  propagates?: { value: unknown } | { test: (e: unknown) => boolean; describe: string }
}

/** A case that misbehaves today, pinned to what it does: any change fails the test. */
interface Snapshot extends Case {
  /** Today's outcome, as `outcomeKey` writes it. */
  today: string
  /** What it should throw once fixed. */
  should: Expect
}

type Outcome =
  | { kind: 'coded'; code: string; name: string; message: string; trapCode?: string }
  | { kind: 'propagated'; name: string; message: string }
  | { kind: 'uncoded'; name: string; code: unknown; message: string }
  | { kind: 'no-throw'; value: string }
  | { kind: 'hang'; ms: number }

interface Result {
  c: Case
  outcome: Outcome
  /** The case returned a Promise (its error, if any, is a rejection). */
  async: boolean
  healthy: boolean
  healthError?: string
}

const CODE = /^ERR_[A-Z0-9_]+$/
const ASYNC_LIMIT_MS = 10_000

const CASES: Case[] = []
const KNOWN_WRONG: Snapshot[] = []
const KNOWN_GAPS: Snapshot[] = []

/** A case that must throw (or reject with) exactly `expect`. */
function bad(entry: string, what: string, expect: Expect, run: () => unknown): void {
  CASES.push({ entry, what, expect: expectation(expect), run })
}

/** A case where `boom` (thrown by a user getter, trap or callback) must propagate unchanged. */
function propagates(entry: string, what: string, run: (boom: Error) => unknown): void {
  const boom = new Error(`boom (${entry}: ${what})`)
  CASES.push({ entry, what, run: () => run(boom), propagates: { value: boom } })
}

/** A typed, coded error today, but not the right one: `today` is pinned, `should` is the fix. */
function wrong(entry: string, what: string, today: Expect, should: Expect, run: () => unknown): void {
  if (expectation(today) === expectation(should)) throw new Error(`${entry} — ${what}: today's error is the right one`)
  KNOWN_WRONG.push({ entry, what, today, should, run })
}

/** No typed error today (see `outcomeKey` for how `today` reads); `should` is the fix. */
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- empty today; kept for the next gap found
function gap(entry: string, what: string, today: string, should: Expect, run: () => unknown): void {
  if (EXPECT.test(today)) throw new Error(`${entry} — ${what}: a coded error belongs in KNOWN_WRONG`)
  KNOWN_GAPS.push({ entry, what, today, should: expectation(should), run })
}

/** Deliberately ill-typed arguments. */

const A = (v: unknown): any => v

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`
  if (typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'function') return v.name ? `function ${v.name}` : 'a function'
  if (v instanceof Error) return `${v.constructor.name}: ${v.message.split('\n')[0]}`
  if (v && typeof v === 'object') {
    const proto = Object.getPrototypeOf(v)
    if (proto === Object.prototype || proto === null) {
      try {
        return JSON.stringify(v)
      } catch {
        return '[object Object]'
      }
    }
    return `[object ${(v as object).constructor?.name ?? '?'}]`
  }
  if (Object.is(v, -0)) return '-0'
  return String(v)
}

function describeThrown(e: unknown): { name: string; code: unknown; message: string } {
  if (e instanceof Error) return { name: e.constructor.name, code: (e as { code?: unknown }).code, message: e.message.split('\n')[0]! }
  return { name: typeof e, code: undefined, message: show(e) }
}

function classify(c: Case, e: unknown): Outcome {
  const d = describeThrown(e)
  if (c.propagates) {
    const ok = 'value' in c.propagates ? e === c.propagates.value : c.propagates.test(e)
    if (ok) return { kind: 'propagated', name: d.name, message: d.message }
    const wanted = 'value' in c.propagates ? 'the user exception, unchanged' : c.propagates.describe
    return { kind: 'uncoded', ...d, message: `expected ${wanted} to propagate, got ${d.name}: ${d.message}` }
  }
  if (e instanceof Error && typeof d.code === 'string' && CODE.test(d.code)) {
    const trapCode = (e as { trapCode?: unknown }).trapCode
    return { kind: 'coded', code: d.code, name: d.name, message: d.message, ...(d.name === 'Trap' ? { trapCode: String(trapCode) } : {}) }
  }
  return { kind: 'uncoded', ...d }
}

/**
 * An outcome in the form expectations and snapshots are written in: 'TypeError
 * ERR_INVALID_ARG_TYPE', 'Trap ERR_WASM_TRAP unreachable', 'no-throw: returned undefined',
 * 'uncoded TypeError (code undefined): <first line>', 'hang'.
 */
function outcomeKey(o: Outcome): string {
  switch (o.kind) {
    case 'coded':
      return o.trapCode === undefined ? `${o.name} ${o.code}` : `${o.name} ${o.code} ${o.trapCode}`
    case 'propagated':
      return `propagated ${o.name}: ${o.message}`
    case 'uncoded':
      return `uncoded ${o.name} (code ${show(o.code)}): ${o.message}`
    case 'no-throw':
      return `no-throw: ${o.value}`
    case 'hang':
      return 'hang'
  }
}

const HEALTH_WAT = `
(module
  (memory (export "memory") 1)
  (func (export "answer") (result i32) (i32.const 42)))`

/** The package still works: a fresh compile, instantiate, call and memory round trip. */
function healthCheck(): void {
  const store = new Store()
  try {
    const instance = new Instance(store, new Module(Engine.default, HEALTH_WAT))
    const answer = fn(instance, 'answer')()
    if (answer !== 42) throw new Error(`answer() returned ${show(answer)}`)
    const memory = mem(instance)
    memory.write(100, new Uint8Array([1, 2, 3]))
    const back = Array.from(memory.read(100, 3)).join()
    if (back !== '1,2,3') throw new Error(`memory round trip gave ${back}`)
  } finally {
    store.dispose()
  }
}

async function runCase(c: Case): Promise<Result> {
  let outcome: Outcome
  let async = false
  try {
    const v = c.run()
    if (v instanceof Promise) {
      async = true
      let timer: NodeJS.Timeout | undefined
      const hang = new Promise<'hang'>((resolve) => {
        timer = setTimeout(() => resolve('hang'), ASYNC_LIMIT_MS)
      })
      try {
        const r = await Promise.race([v, hang])
        outcome = r === 'hang' ? { kind: 'hang', ms: ASYNC_LIMIT_MS } : { kind: 'no-throw', value: `resolved ${show(r)}` }
      } finally {
        clearTimeout(timer)
      }
    } else {
      outcome = { kind: 'no-throw', value: `returned ${show(v)}` }
    }
  } catch (e) {
    outcome = classify(c, e)
  }
  try {
    healthCheck()
    return { c, outcome, async, healthy: true }
  } catch (e) {
    return { c, outcome, async, healthy: false, healthError: show(e) }
  }
}

function outcomeText(r: Result): string {
  const o = r.outcome
  switch (o.kind) {
    case 'coded':
      return `${r.async ? 'rejected: ' : ''}${outcomeKey(o)}: ${o.message}`
    case 'propagated':
      return `propagated ${o.name}: ${o.message}`
    case 'uncoded':
      return `${r.async ? 'rejected with' : 'threw'} ${o.name} with code ${show(o.code)}: ${o.message}`
    case 'no-throw':
      return `did not throw (${o.value})`
    case 'hang':
      return `still pending after ${o.ms} ms`
  }
}

/** Whether a main-table case did what it must: its pinned error, or the user exception. */
function passed(r: Result): boolean {
  return r.c.propagates ? r.outcome.kind === 'propagated' : r.outcome.kind === 'coded' && outcomeKey(r.outcome) === r.c.expect
}

const caseName = (c: Case) => `${c.entry} — ${c.what}`

function countBy<T>(items: T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const x of items) out[key(x)] = (out[key(x)] ?? 0) + 1
  return Object.fromEntries(Object.entries(out).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])))
}

const table2 = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([k, n]) => `    ${String(n).padStart(4)}  ${k}`)
    .join('\n')

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

const PAGE = 65536
const E = Engine.default
const FUEL_ENGINE = new Engine({ consumeFuel: true })
const NO_EPOCH_ENGINE = new Engine({ epochInterruption: false })
const OTHER_ENGINE = new Engine()

const ADD_WAT = `(module (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))`

const VALUES_WAT = `
(module
  (func (export "i32") (param i32) (result i32) (local.get 0))
  (func (export "i64") (param i64) (result i64) (local.get 0))
  (func (export "f32") (param f32) (result f32) (local.get 0))
  (func (export "f64") (param f64) (result f64) (local.get 0))
  (func (export "v128") (param v128) (result v128) (local.get 0))
  (func (export "externref") (param externref) (result externref) (local.get 0))
  (func (export "funcref") (param funcref) (result funcref) (local.get 0))
  (func (export "mixed") (param i32 i64 f64 externref) (result i32) (local.get 0))
  (func (export "none")))`

const OBJECTS_WAT = `
(module
  (import "host" "cb" (func $cb (result i32)))
  (memory (export "memory") 1 2)
  (table (export "table") 2 4 funcref)
  (global (export "gi32") (mut i32) (i32.const 0))
  (global (export "gi64") (mut i64) (i64.const 0))
  (global (export "gf64") (mut f64) (f64.const 0))
  (global (export "gv128") (mut v128) (v128.const i64x2 0 0))
  (global (export "gfunc") (mut funcref) (ref.null func))
  (global (export "gconst") i32 (i32.const 7))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "run") (result i32) (call $cb)))`

const HOST_RESULTS_WAT = `
(module
  (import "h" "i" (func $i (result i32)))
  (import "h" "l" (func $l (result i64)))
  (import "h" "d" (func $d (result f64)))
  (import "h" "v" (func $v (result v128)))
  (import "h" "r" (func $r (result funcref)))
  (import "h" "m" (func $m (result i32 i32)))
  (func (export "i") (result i32) (call $i))
  (func (export "l") (result i64) (call $l))
  (func (export "d") (result f64) (call $d))
  (func (export "v") (result v128) (call $v))
  (func (export "r") (result funcref) (call $r))
  (func (export "m") (result i32 i32) (call $m)))`

const VALUES = new Module(E, VALUES_WAT)
const OBJECTS = new Module(E, OBJECTS_WAT)
const HOST_RESULTS = new Module(E, HOST_RESULTS_WAT)
const EMPTY = new Module(E, '(module)')
const ADD = new Module(E, ADD_WAT)
const ADD_OTHER_ENGINE = new Module(OTHER_ENGINE, ADD_WAT)
const IMPORT_FUNC = new Module(E, '(module (import "env" "f" (func (param i32) (result i32))))')
const IMPORT_MEM = new Module(E, '(module (import "env" "mem" (memory 1)))')
const IMPORT_MEM2 = new Module(E, '(module (import "env" "mem" (memory 2)))')
const IMPORT_TABLE = new Module(E, '(module (import "env" "tab" (table 1 funcref)))')
const IMPORT_GLOBAL = new Module(E, '(module (import "env" "g" (global i32)))')
const IMPORT_GLOBAL_I64 = new Module(E, '(module (import "env" "g" (global i64)))')
const IMPORT_GLOBAL_MUT = new Module(E, '(module (import "env" "g" (global (mut i32))))')
const START_TRAP = new Module(E, '(module (func $s unreachable) (start $s))')
const RECURSE = new Module(E, '(module (import "h" "cb" (func $cb)) (func (export "f") (call $cb)))')
const WASI_START = '(module (func (export "_start")))'

const VOID_TYPE = { params: [], results: [] } as const
const HOST_CB_TYPE = { params: [], results: ['i32'] } as const

function lazy<T>(make: () => T): () => T {
  let v: { value: T } | undefined
  return () => (v ??= { value: make() }).value
}

function detached(n = 8): ArrayBuffer {
  const b = new ArrayBuffer(n)
  structuredClone(b, { transfer: [b] })
  return b
}

/** A Uint8Array of `n` bytes whose buffer was then detached (it now has length 0). */
function detachedView(n = 16): Uint8Array {
  const u = new Uint8Array(n)
  structuredClone(u.buffer, { transfer: [u.buffer] })
  return u
}

/** `bytes` at offset `at` of a larger buffer, and a view that is off by `skew` bytes. */
function offsetView(bytes: Uint8Array, at: number, skew: number): Uint8Array {
  const big = new Uint8Array(bytes.length + at + 8)
  big.set(bytes, at)
  return new Uint8Array(big.buffer, at + skew, bytes.length)
}

function patched(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const c = bytes.slice()
  c[at] = value
  return c
}

/** An object whose `key` getter throws `boom` (enumerable, so Object.entries/spread reach it). */
function throwingGetter(boom: Error, key: string, base: Record<string, unknown> = {}): Record<string, unknown> {
  return Object.defineProperty({ ...base }, key, { get() { throw boom }, enumerable: true })
}

const GOOD_BYTES = wat2wasm(ADD_WAT)
const SERIALIZED = new Uint8Array(ADD.serialize())
const SERIALIZED_FUEL = new Uint8Array(new Module(FUEL_ENGINE, ADD_WAT).serialize())

const TMP = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'wasmtime-node-badinput-'))
const EMPTY_FILE = path.join(TMP, 'empty.cwasm')
const GARBAGE_FILE = path.join(TMP, 'garbage.cwasm')
const PLAIN_WASM_FILE = path.join(TMP, 'plain.wasm')
const REGULAR_FILE = path.join(TMP, 'not-a-directory')
fs.writeFileSync(EMPTY_FILE, '')
fs.writeFileSync(GARBAGE_FILE, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31 + 7) & 255)))
fs.writeFileSync(PLAIN_WASM_FILE, GOOD_BYTES)
fs.writeFileSync(REGULAR_FILE, 'x')
test.after.always(() => fs.rmSync(TMP, { recursive: true, force: true }))

/** Everything OBJECTS_WAT exports, in a fresh store of the default engine. */
function objects(cb: () => unknown = () => 1) {
  const store = new Store()
  const instance = new Instance(store, OBJECTS, { host: { cb } })
  return {
    store,
    instance,
    add: fn(instance, 'add'),
    run: fn(instance, 'run'),
    memory: mem(instance),
    table: table(instance, 'table'),
    gi32: global(instance, 'gi32'),
    gi64: global(instance, 'gi64'),
    gf64: global(instance, 'gf64'),
    gv128: global(instance, 'gv128'),
    gfunc: global(instance, 'gfunc'),
    gconst: global(instance, 'gconst'),
  }
}
type Objects = ReturnType<typeof objects>

const obj = lazy(() => objects())
const vals = lazy(() => new Instance(new Store(), VALUES))
const v = (name: string): ExportedFunction => fn(vals(), name)
/** A host function of another (live) store. */
const foreignFunc = lazy(() => new Func(new Store(), VOID_TYPE, () => {}))
/** A host function of a disposed store. */
const deadFunc = lazy(() => {
  const s = new Store()
  const f = new Func(s, VOID_TYPE, () => {})
  s.dispose()
  return f
})
const foreign = lazy(() => {
  const s = new Store()
  return {
    store: s,
    memory: new Memory(s, { minimum: 1 }),
    table: new Table(s, { element: 'funcref', minimum: 1 }),
    global: new Global(s, { value: 'i32', mutable: false }, 1),
    func: new Func(s, { params: ['i32'], results: ['i32'] }, (x: number) => x),
    instance: new Instance(s, ADD),
  }
})

/** A fresh instance of HOST_RESULTS whose every import returns what `ret` returns. */
function hostReturning(ret: () => unknown) {
  const h = { i: ret, l: ret, d: ret, v: ret, r: ret, m: ret }
  return new Instance(new Store(), HOST_RESULTS, { h }).exports as Record<string, ExportedFunction>
}

// ---------------------------------------------------------------------------------------------
// Generated value lists
// ---------------------------------------------------------------------------------------------

/**
 * Not a non-negative safe integer: applied to every integer parameter (sizes, offsets, indexes,
 * counts, ticks). Other non-numbers (null, {}, undefined) take the same `typeof` path as '1'
 * and appear once per entry point below.
 */
const BAD_INTEGERS: [string, unknown, Expect][] = [
  ['NaN', NaN, RANGE],
  ['Infinity', Infinity, RANGE],
  ['-1', -1, RANGE],
  ['1.5', 1.5, RANGE],
  ['2**53+1', 2 ** 53 + 1, RANGE],
  ["'1'", '1', TYPE],
  ['1n', 1n, TYPE],
]

/** Not an i32 (an integer in [-2^31, 2^32)). */
const BAD_I32: [string, unknown, Expect][] = [
  ['NaN', NaN, RANGE],
  ['1.5', 1.5, RANGE],
  ['2**32', 2 ** 32, RANGE],
  ['-(2**31)-1', -(2 ** 31) - 1, RANGE],
  ["'1'", '1', TYPE],
  ['undefined', undefined, TYPE],
  ['{}', {}, TYPE],
  ['1n', 1n, TYPE],
]

/** Not an i64 (a BigInt in [-2^63, 2^64)). */
const BAD_I64: [string, unknown, Expect][] = [
  ['1', 1, TYPE],
  ["'1'", '1', TYPE],
  ['null', null, TYPE],
  ['2n**64n', 2n ** 64n, RANGE],
  ['-(2n**63n)-1n', -(2n ** 63n) - 1n, RANGE],
]

/** Not a number (f32/f64: any number is fine, NaN included): each is a TypeError. */
const BAD_FLOAT: [string, unknown][] = [
  ["'1'", '1'],
  ['undefined', undefined],
  ['1n', 1n],
]

/** Not 16 bytes (v128): each is a TypeError ERR_INVALID_ARG_TYPE. */
const BAD_V128: [string, () => unknown][] = [
  ['Uint8Array(15)', () => new Uint8Array(15)],
  ['a 16-byte view whose buffer was detached', () => detachedView(16)],
  ['a 15-byte view at offset 1 of a 32-byte buffer', () => new Uint8Array(new ArrayBuffer(32), 1, 15)],
  ['1n', () => 1n],
]

/** Not a wasm function of this store, nor null (funcref). */
const BAD_FUNCREF: [string, () => unknown, Expect][] = [
  ['5', () => 5, TYPE],
  ['a plain JS function', () => (x: number) => x, TYPE],
  ['an ExternRef', () => new ExternRef(obj().store, 1), TYPE],
  ['a Func of another store', foreignFunc, WRONG_STORE],
  ['a Func of a disposed store', deadFunc, CLOSED],
]

// ---------------------------------------------------------------------------------------------
// Every integer parameter × BAD_INTEGERS, plus values near 2^32 and past the ends
// ---------------------------------------------------------------------------------------------

const fuelStore = lazy(() => new Store(FUEL_ENGINE))
const INTEGER_PARAMS: [string, (x: unknown) => unknown][] = [
  ['memory.grow(delta)', (x) => obj().memory.grow(A(x))],
  ['memory.read(offset, 1)', (x) => obj().memory.read(A(x), 1)],
  ['memory.read(0, length)', (x) => obj().memory.read(0, A(x))],
  ['memory.write(offset, bytes)', (x) => obj().memory.write(A(x), new Uint8Array(1))],
  ['table.get(index)', (x) => obj().table.get(A(x))],
  ['table.grow(delta)', (x) => obj().table.grow(A(x))],
  ['store.setEpochDeadline(ticks)', (x) => obj().store.setEpochDeadline(A(x))],
  // setFuel takes a BigInt too: its 1n case is -1n, out of range.
  ['store.setFuel(fuel)', (x) => fuelStore().setFuel(A(typeof x === 'bigint' ? -x : x))],
  ['new Memory({ minimum })', (x) => new Memory(new Store(), A({ minimum: x }))],
]
for (const [entry, call] of INTEGER_PARAMS) {
  for (const [what, x, expect] of BAD_INTEGERS) {
    if (entry.startsWith('store.setFuel') && what === '1n') bad(entry, '-1n', RANGE, () => call(x))
    else bad(entry, what, expect, () => call(x))
  }
}
bad('memory.grow(delta)', '2**32', GROW, () => obj().memory.grow(2 ** 32))
bad('memory.grow(delta)', '2 (past the maximum of 2 pages)', GROW, () => obj().memory.grow(2))
bad('memory.read(offset, 1)', '65536 (the end)', RANGE, () => obj().memory.read(PAGE, 1))
bad('memory.read(offset, 1)', '2**32-1 (length 2)', RANGE, () => obj().memory.read(2 ** 32 - 1, 2))
bad('memory.read(0, length)', '2**32', RANGE, () => obj().memory.read(0, 2 ** 32))
bad('memory.write(offset, bytes)', '2**32-1 (2 bytes)', RANGE, () => obj().memory.write(2 ** 32 - 1, new Uint8Array(2)))
bad('memory.write(offset, bytes)', '2**32 (0 bytes)', RANGE, () => obj().memory.write(2 ** 32, new Uint8Array(0)))
bad('memory.readString(offset, length)', '65535, 2 (past the end)', RANGE, () => obj().memory.readString(PAGE - 1, 2))
bad('memory.readString(offset, length)', "'0', 1", TYPE, () => obj().memory.readString(A('0'), 1))
bad('memory.writeString(offset, text)', "65535, 'ab' (past the end)", RANGE, () => obj().memory.writeString(PAGE - 1, 'ab'))
bad('memory.writeString(offset, text)', '0, 5', TYPE, () => obj().memory.writeString(0, A(5)))
bad('instance.passBytes(bytes)', "'x'", TYPE, () => obj().instance.passBytes(A('x')))
bad('instance.passBytes(bytes)', 'no cabi_realloc export', VALUE, () => obj().instance.passBytes(new Uint8Array(1)))
bad('instance.passBytes(bytes, opts)', 'opts: 5', TYPE, () => obj().instance.passBytes(new Uint8Array(1), A(5)))
bad('instance.passBytes(bytes, opts)', 'an unknown option', VALUE, () => obj().instance.passBytes(new Uint8Array(1), A({ allocator: 'x' })))
bad('instance.passString(text)', '5', TYPE, () => obj().instance.passString(A(5)))
bad('table.get(index)', '2 (the size)', RANGE, () => obj().table.get(2))
bad('table.get(index)', '2**32-1', RANGE, () => obj().table.get(2 ** 32 - 1))
bad('table.grow(delta)', '3 (past the maximum of 4)', GROW, () => obj().table.grow(3))
bad('table.grow(delta)', '2**32', GROW, () => obj().table.grow(2 ** 32))
bad('store.setFuel(fuel)', '2n**64n', RANGE, () => fuelStore().setFuel(2n ** 64n))
bad('new Memory({ minimum })', '2**32', RANGE, () => new Memory(new Store(), { minimum: 2 ** 32 }))

// ---------------------------------------------------------------------------------------------
// Engine and Config
// ---------------------------------------------------------------------------------------------

for (const [what, options, expect] of [
  ['5', 5, TYPE],
  ["strategy: 'interpreter'", { strategy: 'interpreter' }, VALUE],
  ["optLevel: 'fast'", { optLevel: 'fast' }, VALUE],
  ["profiler: 'vtune'", { profiler: 'vtune' }, VALUE],
  ['profiler: 5', { profiler: 5 }, TYPE],
  ["coredumpOnTrap: 'yes'", { coredumpOnTrap: 'yes' }, TYPE],
  ["sharedMemory: 'yes'", { sharedMemory: 'yes' }, TYPE],
  ['maxWasmStack: 2**53+1', { maxWasmStack: 2 ** 53 + 1 }, RANGE],
  ['features: { bogus: true }', { features: { bogus: true } }, VALUE],
  ["cache: { directory: '' }", { cache: { directory: '' } }, VALUE],
  ['maxWasmStack: 2**32 + 4096', { maxWasmStack: 2 ** 32 + 4096 }, RANGE],
  ["allocator.pooling.totalMemories: '1'", { allocator: { pooling: { totalMemories: '1' } } }, TYPE],
  ['allocator.pooling.totalMemories: null', { allocator: { pooling: { totalMemories: null } } }, TYPE],
  ['allocator.pooling.totalMemories: 1.5', { allocator: { pooling: { totalMemories: 1.5, totalCoreInstances: 1, totalTables: 1 } } }, RANGE],
  ['allocator.pooling.totalMemories: NaN', { allocator: { pooling: { totalMemories: NaN, totalCoreInstances: 1, totalTables: 1 } } }, RANGE],
  ['allocator.pooling.maxMemorySize: -1', { allocator: { pooling: { maxMemorySize: -1, totalCoreInstances: 1, totalMemories: 1, totalTables: 1 } } }, RANGE],
  ["allocator.pooling.linearMemoryKeepResident: '64k'", { allocator: { pooling: { linearMemoryKeepResident: '64k' } } }, TYPE],
  ['allocator.pooling.tableKeepResident: -1', { allocator: { pooling: { tableKeepResident: -1 } } }, RANGE],
  ['allocator.pooling.keepResident: 1', { allocator: { pooling: { keepResident: 1 } } }, VALUE],
] as [string, unknown, Expect][]) {
  bad('new Engine', what, expect, () => new Engine(A(options)))
}
// 0 bytes of stack is a number out of range; today wasmtime's refusal comes out as a TypeError.
wrong('new Engine', 'maxWasmStack: 0', VALUE, RANGE, () => new Engine({ maxWasmStack: 0 }))
bad('new Config', '5', TYPE, () => new Config(A(5)))
bad('new Config', 'an option holding a function', VALUE, () => new Config(A({ onCompile: () => {} })))
bad('Config.fromShared', 'a Config token carrying bad options', VALUE, () => Config.fromShared(A({ kind: 'Config', id: 'x', options: { optLevel: 'fast' } })))
bad('engine.precompileModule', '5', TYPE, () => E.precompileModule(A(5)))
bad('engine.precompileModule', 'garbage bytes', COMPILE, () => E.precompileModule(new Uint8Array([1, 2, 3, 4])))

// ---------------------------------------------------------------------------------------------
// Module, wat2wasm
// ---------------------------------------------------------------------------------------------

for (const [what, src, expect] of [
  ['5', () => 5, TYPE],
  ['garbage bytes', () => new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), COMPILE],
  ['a corrupted magic number', () => patched(GOOD_BYTES, 0, 0xff), COMPILE],
  ['truncated by one byte', () => GOOD_BYTES.subarray(0, GOOD_BYTES.length - 1), COMPILE],
  ['a view at offset 5 of a buffer holding the module at offset 4', () => offsetView(GOOD_BYTES, 4, 1), COMPILE],
  // A detached buffer is refused as such everywhere (V8's WebAssembly.Module calls it empty bytes).
  ['a detached ArrayBuffer', () => detached(), VALUE],
  ['a typed array whose buffer was detached', () => detachedView(GOOD_BYTES.length), VALUE],
  ['invalid WAT: unknown instruction', () => '(module (func (i32.bogus)))', COMPILE],
] as [string, () => unknown, Expect][]) {
  bad('new Module', what, expect, () => new Module(E, A(src())))
}
// As V8's WebAssembly.Module: a SharedArrayBuffer is not a BufferSource.
bad('new Module', 'a SharedArrayBuffer holding a valid module', TYPE, () => {
  const sab = new SharedArrayBuffer(GOOD_BYTES.length)
  new Uint8Array(sab).set(GOOD_BYTES)
  return new Module(E, A(sab))
})
bad('Module.compile', 'engine: null', TYPE, () => Module.compile(A(null), ADD_WAT))
bad('Module.compile', 'invalid WAT', COMPILE, () => Module.compile(E, '(module (func (i32.bogus)))'))
bad('Module.validate', 'a SharedArrayBuffer', TYPE, () => Module.validate(E, A(new SharedArrayBuffer(8))))
bad('wat2wasm', 'a lone surrogate in an identifier', COMPILE, () => wat2wasm('(module $\uD800)'))

const TRUSTED = { trusted: true } as const
bad('Module.deserialize', 'no options', VALUE, () => A(Module.deserialize)(E, SERIALIZED))
bad('Module.deserialize', 'plain wasm (not precompiled)', DESERIALIZE, () => Module.deserialize(E, GOOD_BYTES, TRUSTED))
bad('Module.deserialize', 'a view one byte off inside a larger buffer', DESERIALIZE, () => Module.deserialize(E, offsetView(SERIALIZED, 8, 1), TRUSTED))
bad('Module.deserialize', 'compiled by an engine of another configuration', DESERIALIZE, () => Module.deserialize(E, SERIALIZED_FUEL, TRUSTED))
bad('Module.deserialize', 'a detached ArrayBuffer', VALUE, () => Module.deserialize(E, detached(), TRUSTED))
bad('Module.deserializeFile', 'a missing file', DESERIALIZE, () => Module.deserializeFile(E, path.join(TMP, 'missing.cwasm'), TRUSTED))
bad('Module.deserializeFile', 'a directory', DESERIALIZE, () => Module.deserializeFile(E, TMP, TRUSTED))
bad('Module.deserializeFile', 'a plain .wasm file', DESERIALIZE, () => Module.deserializeFile(E, PLAIN_WASM_FILE, TRUSTED))

for (const [cls, from] of [
  ['Module', (t: unknown) => Module.fromShared(A(t))],
  ['Engine', (t: unknown) => Engine.fromShared(A(t))],
  ['InterruptHandle', (t: unknown) => InterruptHandle.fromShared(A(t))],
  ['Component', (t: unknown) => Component.fromShared(A(t))],
] as [string, (t: unknown) => unknown][]) {
  bad(`${cls}.fromShared`, 'a token of another kind', VALUE, () => from({ kind: cls, id: 'Other:0123' }))
  bad(`${cls}.fromShared`, 'a token of an object that no longer exists', 'WasmtimeError ERR_SHARED_GONE', () => from({ kind: cls, id: `${cls}:00000000000000000000000000000000` }))
}

// ---------------------------------------------------------------------------------------------
// Components: Component, ComponentLinker, ComponentInstance; caller context
// ---------------------------------------------------------------------------------------------

// `add(a: u32, b: u32) -> u32`, `pick(c: char) -> char`, and a root import `tick: func() -> u32`.
const COMPONENT_WAT = `(component
  (import "tick" (func $tick (result u32)))
  (core func $tick_lowered (canon lower (func $tick)))
  (core module $m
    (import "host" "tick" (func $t (result i32)))
    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
    (func (export "pick") (param i32) (result i32) (local.get 0))
    (func (export "tock") (result i32) (call $t)))
  (core instance $hi (export "tick" (func $tick_lowered)))
  (core instance $i (instantiate $m (with "host" (instance $hi))))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
  (func (export "pick") (param "c" char) (result char) (canon lift (core func $i "pick")))
  (func (export "tock") (result u32) (canon lift (core func $i "tock"))))`
const COMPONENT = new Component(E, COMPONENT_WAT)
const component = () => new ComponentLinker(E).define({ tick: () => 7 }).instantiate(new Store(E), COMPONENT).exports as Record<string, (...a: unknown[]) => unknown>

bad('new Component', 'source: 5', TYPE, () => new Component(E, A(5)))
bad('new Component', 'a core module (not a component)', COMPILE, () => new Component(E, '(module)'))
bad('new Component', 'invalid component text', COMPILE, () => new Component(E, '(component (bogus))'))
bad('new Component', 'engine: "x"', TYPE, () => new Component(A('x'), COMPONENT_WAT))
bad('Component.compile', 'invalid component text', COMPILE, () => Component.compile(E, '(component (bogus))'))
bad('Component.deserialize', 'no options', VALUE, () => A(Component.deserialize)(E, COMPONENT.serialize()))
bad('Component.deserialize', 'plain component bytes (not precompiled)', DESERIALIZE, () => Component.deserialize(E, wat2wasm(COMPONENT_WAT), TRUSTED))
bad('new ComponentLinker', 'engine: 5', TYPE, () => new ComponentLinker(A(5)))
bad('ComponentLinker.define', 'no functions', TYPE, () => new ComponentLinker(E).define(A('acme:x/y')))
bad('ComponentLinker.define', 'a function that is a number', TYPE, () => new ComponentLinker(E).define({ tick: A(5) }))
bad('ComponentLinker.instantiate', 'a missing import', LINK, () => new ComponentLinker(E).instantiate(new Store(E), COMPONENT))
bad('ComponentLinker.instantiate', 'component: a Module', TYPE, () => new ComponentLinker(E).instantiate(new Store(E), A(new Module(E, '(module)'))))
bad('ComponentLinker.instantiate', 'a store of a disposed store', CLOSED, () => {
  const s = new Store(E)
  s.dispose()
  return new ComponentLinker(E).define({ tick: () => 1 }).instantiate(s, COMPONENT)
})
bad('ComponentLinker.instantiatePre', 'a missing import', LINK, () => new ComponentLinker(E).instantiatePre(COMPONENT))
bad('component export', 'u32 given -1', RANGE, () => component().add!(-1, 2))
bad('component export', 'u32 given 1.5', RANGE, () => component().add!(1.5, 2))
bad('component export', 'u32 given "1"', TYPE, () => component().add!('1', 2))
bad('component export', 'u32 given 2^32', RANGE, () => component().add!(2 ** 32, 0))
bad('component export', 'one argument of two', COUNT, () => component().add!(1))
bad('component export', 'char given two characters', VALUE, () => component().pick!('ab'))
bad('component export', 'char given a number', TYPE, () => component().pick!(65))
bad('component host function', 'returning a string for a u32', TYPE, () => {
  const exports = new ComponentLinker(E).define({ tick: () => 'x' }).instantiate(new Store(E), COMPONENT).exports as Record<string, () => unknown>
  return exports.tock!()
})
propagates('component host function', 'throwing', (boom) => {
  const exports = new ComponentLinker(E).define({ tick: () => { throw boom } }).instantiate(new Store(E), COMPONENT).exports as Record<string, () => unknown>
  return exports.tock!()
})
// A store holding component instances transfers (component-transfer.test.ts), unless its guest
// owns a host resource object (a JS object: it cannot cross threads). This component keeps the
// logger its `keep` makes.
bad('Store.transfer', 'a store whose component keeps a host resource object (an own<logger> not dropped)', 'WasmtimeError ERR_COMPONENT_UNSUPPORTED', () => {
  const s = new Store(E)
  const keeper = new Component(E, `(component
    (import "acme:keep/host@0.1.0" (instance $host
      (export "logger" (type $logger (sub resource)))
      (export "[constructor]logger" (func (result (own $logger))))))
    (alias export $host "[constructor]logger" (func $new))
    (core func $new-low (canon lower (func $new)))
    (core module $m
      (import "h" "new" (func $new (result i32)))
      (global $h (mut i32) (i32.const 0))
      (func (export "keep") (global.set $h (call $new))))
    (core instance $i (instantiate $m (with "h" (instance (export "new" (func $new-low))))))
    (func (export "keep") (canon lift (core func $i "keep"))))`)
  const inst = new ComponentLinker(E).define('acme:keep/host@0.1.0', A({ Logger: class Logger {} })).instantiate(s, keeper)
  ;(inst.exports as Record<string, () => unknown>).keep!()
  return s.transfer({ inst })
})
bad('runWasiAsync', 'a component', 'WasmtimeError ERR_COMPONENT_UNSUPPORTED', () => runWasiAsync(wat2wasm(COMPONENT_WAT)))
bad('withCaller', 'a number', TYPE, () => withCaller(A(5)))
bad('withCaller', 'the wrapped function called directly', 'TypeError ERR_CALLER_REQUIRED', () => withCaller(() => 1)())
bad('Linker.func', 'options: { caler: true } (a typo)', VALUE, () => new Linker(E).func('m', 'f', { params: [], results: [] }, () => {}, A({ caler: true })))
bad('Linker.func', 'options.caller: 1', TYPE, () => new Linker(E).func('m', 'f', { params: [], results: [] }, () => {}, A({ caller: 1 })))
bad('Caller', 'used after its call returned', 'StoreStateError ERR_CALLER_EXPIRED', () => {
  let kept: { store: unknown } | undefined
  const store = new Store(E)
  new Func(store, { params: [], results: [] }, withCaller((c: { store: unknown }) => void (kept = c))).call()
  return kept!.store
})

// ---------------------------------------------------------------------------------------------
// Store: constructor, options and methods
// ---------------------------------------------------------------------------------------------

bad('new Store', 'engine: 5', TYPE, () => new Store(A(5)))
bad('new Store', 'fuel on an engine without consumeFuel', NO_FUEL, () => new Store(E, { fuel: 1 }))
bad('new Store', 'timeoutMs on an engine without epochInterruption', NO_INTERRUPT, () => new Store(NO_EPOCH_ENGINE, { timeoutMs: 5 }))
bad('new Store', 'timeoutMs: Number.MAX_VALUE', RANGE, () => new Store(E, { timeoutMs: Number.MAX_VALUE }))
bad('new Store', "async: 'yes'", TYPE, () => new Store(E, A({ async: 'yes' })))
bad('new Store', "fuelYieldInterval: '5'", TYPE, () => new Store(E, A({ async: true, fuelYieldInterval: '5' })))
bad('new Store', 'fuelYieldInterval without async: true', VALUE, () => new Store(FUEL_ENGINE, { fuel: 10, fuelYieldInterval: 5 }))
bad('new Store', 'fuelYieldInterval on an engine without consumeFuel', NO_FUEL, () => new Store(E, { async: true, fuelYieldInterval: 5 }))
bad('new Store', 'fuelYieldInterval: 0', RANGE, () => new Store(FUEL_ENGINE, { async: true, fuel: 10, fuelYieldInterval: 0 }))
bad('new Store', 'fuelYieldInterval: -1', RANGE, () => new Store(FUEL_ENGINE, { async: true, fuel: 10, fuelYieldInterval: -1 }))
bad('setAsyncThreads', "n: '2'", TYPE, () => setAsyncThreads(A('2')))
bad('setAsyncThreads', 'n: 0', RANGE, () => setAsyncThreads(0))
bad('setAsyncThreads', 'n: 1.5', RANGE, () => setAsyncThreads(1.5))
bad('setAsyncThreads', 'n: 100000', RANGE, () => setAsyncThreads(100000))
bad('store.getFuel', 'an engine without consumeFuel', NO_FUEL, () => new Store().getFuel())
for (const [what, x, expect] of [['NaN', NaN, RANGE], ['1e300', 1e300, RANGE], ["'5'", '5', TYPE], ['5n', 5n, TYPE]] as [string, unknown, Expect][]) {
  bad('store.setTimeout', what, expect, () => obj().store.setTimeout(A(x)))
}
bad('store.setEpochDeadline', 'an engine without epochInterruption', NO_INTERRUPT, () => new Store(NO_EPOCH_ENGINE).setEpochDeadline(1))
for (const [what, limits, expect] of [
  ['memorySize: 2**53+1', { memorySize: 2 ** 53 + 1 }, RANGE],
  ["tableElements: '10'", { tableElements: '10' }, TYPE],
  ['memories: 1n', { memories: 1n }, TYPE],
  ["a Proxy whose get trap returns 'x'", new Proxy({}, { get: () => 'x' }), TYPE],
] as [string, unknown, Expect][]) {
  bad('store.setLimits', what, expect, () => new Store().setLimits(A(limits)))
}
bad('store.interruptHandle', 'an engine without epochInterruption', NO_INTERRUPT, () => new Store(NO_EPOCH_ENGINE).interruptHandle())
for (const [what, options, expect] of [
  ['5', 5, TYPE],
  ['{ interval: 1 } (unknown key)', { interval: 1 }, VALUE],
  ["intervalMs: '1'", { intervalMs: '1' }, TYPE],
  ['intervalMs: 0', { intervalMs: 0 }, RANGE],
  ['intervalMs: NaN', { intervalMs: NaN }, RANGE],
  ['intervalMs: 1e9', { intervalMs: 1e9 }, RANGE],
  ['name: 5', { name: 5 }, TYPE],
] as [string, unknown, Expect][]) {
  bad('store.startProfiling', what, expect, () => new Store().startProfiling(A(options)))
}
bad('store.startProfiling', 'an engine without epochInterruption', NO_INTERRUPT, () => new Store(NO_EPOCH_ENGINE).startProfiling())
bad('store.stopProfiling', 'no profile started', 'StoreStateError ERR_PROFILING_INACTIVE', () => new Store().stopProfiling())
for (const [what, type, expect] of [
  ['5', 5, TYPE],
  ["{ params: 'i32' }", { params: 'i32' }, TYPE],
  ["{ params: ['i33'] }", { params: ['i33'] }, VALUE],
  ['{ params: [1] }', { params: [1] }, TYPE],
  ["{ parameters: ['i32'] } (unknown key)", { parameters: ['i32'] }, VALUE],
] as [string, unknown, Expect][]) {
  bad('new Tag', what, expect, () => new Tag(new Store(), A(type)))
}
bad('new Tag', 'a disposed store', CLOSED, () => {
  const s = new Store()
  s.dispose()
  return new Tag(s, { params: [] })
})
const I32_TAG = () => new Tag(new Store(), { params: ['i32'] })
for (const [what, tag, payload, expect] of [
  ['tag: {}', {}, [1], TYPE],
  ['payload: 1', 'tag', 1, TYPE],
  ['payload: [] for (i32)', 'tag', [], COUNT],
  ["payload: ['1'] for (i32)", 'tag', ['1'], TYPE],
  ['payload: [1n] for (i32)', 'tag', [1n], TYPE],
] as [string, unknown, unknown, Expect][]) {
  bad('new Exception', what, expect, () => new Exception(A(tag === 'tag' ? I32_TAG() : tag), A(payload)))
}
bad('exception.is', 'tag: 5', TYPE, () => new Exception(I32_TAG(), [1]).is(A(5)))
bad('exception.getArg', 'index: 1.5', RANGE, () => {
  const tag = I32_TAG()
  return new Exception(tag, [1]).getArg(tag, 1.5)
})
bad('exception.getArg', 'another tag', VALUE, () => new Exception(I32_TAG(), [1]).getArg(I32_TAG(), 0))
bad('store.takeWasiOutput', "'stdin'", VALUE, () => new Store().takeWasiOutput(A('stdin')))
bad('store.transfer', '{ x: {} }', TYPE, () => new Store().transfer(A({ x: {} })))
bad('store.transfer', 'a Memory of another store', WRONG_STORE, () => new Store().transfer({ x: foreign().memory }))

/** A transfer token of a store holding one JS host function ("host"."cb"). */
function hostTransfer(): StoreTransfer {
  const s = new Store()
  new Instance(s, OBJECTS, { host: { cb: () => 1 } })
  return s.transfer()
}
bad('Store.receive', 'a forged token', TOKEN, () => Store.receive(A({ kind: 'StoreTransfer', id: 'StoreTransfer:00', names: [], externs: [], freeExterns: [] })))
bad('Store.receive', 'a token received twice', TOKEN, () => {
  const token = new Store().transfer()
  Store.receive(token)
  return Store.receive(token)
})
bad('Store.receive', 'a missing host function', LINK, () => Store.receive(hostTransfer(), { imports: {} }))
bad('Store.receive', 'a token whose externs were replaced by 5', TYPE, () => Store.receive(A({ ...new Store().transfer(), externs: 5 })))

// ---------------------------------------------------------------------------------------------
// WASI options, runWasi, runWasiAsync
// ---------------------------------------------------------------------------------------------

for (const [what, wasi, expect] of [
  ['wasi: 5', 5, TYPE],
  ['args: [1]', { args: [1] }, TYPE],
  ['args: a string with a NUL byte', { args: ['prog', 'a\0b'] }, VALUE],
  ['env: a value with a NUL byte', { env: { A: 'x\0y' } }, VALUE],
  ['stdin: a SharedArrayBuffer', { stdin: new SharedArrayBuffer(4) }, TYPE],
  ['preopens: a guest path with a NUL byte', { preopens: { '/x\0y': TMP } }, VALUE],
] as [string, unknown, Expect][]) {
  bad('WasiOptions', what, expect, () => new Store(E, A({ wasi })))
}
// Not a type error: the host path cannot be opened as a directory (as Node's fs: ENOTDIR).
wrong('WasiOptions', 'preopens: a regular file', 'TypeError ERR_WASI_PREOPEN', 'WasmtimeError ERR_WASI_PREOPEN', () => new Store(E, { wasi: { preopens: { '/x': REGULAR_FILE } } }))
for (const [what, module, options, expect] of [
  ['a module without _start or _initialize', '(module)', {}, VALUE],
  ['a module with an unknown import', '(module (import "x" "y" (func)) (func (export "_start")))', {}, LINK],
  ['fuel: 1000 for an endless loop', '(module (func (export "_start") (loop (br 0))))', { fuel: 1000 }, TRAP('out_of_fuel')],
  ['timeoutMs: 20 for an endless loop', '(module (func (export "_start") (loop (br 0))))', { timeoutMs: 20 }, TRAP('interrupt')],
] as [string, unknown, unknown, Expect][]) {
  bad('runWasi', what, expect, () => runWasi(A(module), A(options)))
}
// The module lacks the memory export WASI needs: an import/export contract, found at run time.
wrong('runWasi', 'a WASI call without an exported memory', 'WasmtimeError ERR_WASMTIME', LINK, () => runWasi('(module (import "wasi_snapshot_preview1" "proc_exit" (func $e (param i32))) (func (export "_start") (call $e (i32.const 3))))'))
bad('runWasiAsync', 'module: 5', TYPE, () => runWasiAsync(A(5)))
bad('runWasiAsync', 'a _start that traps', TRAP('unreachable'), () => runWasiAsync('(module (func (export "_start") unreachable))'))
bad('runWasiAsync', 'signal: {}', TYPE, () => runWasiAsync(WASI_START, A({ signal: {} })))

// ---------------------------------------------------------------------------------------------
// Instance and imports
// ---------------------------------------------------------------------------------------------

bad('new Instance', 'store: 5', TYPE, () => new Instance(A(5), ADD))
bad('new Instance', 'a missing import namespace', LINK, () => new Instance(new Store(), IMPORT_FUNC, {}))
bad('new Instance', 'a function import given 42', LINK, () => new Instance(new Store(), IMPORT_FUNC, A({ env: { f: 42 } })))
bad('new Instance', 'a function import given a Func of another signature', LINK, () => {
  const s = new Store()
  return new Instance(s, IMPORT_FUNC, { env: { f: new Func(s, { params: ['i64'], results: [] }, () => {}) } })
})
bad('new Instance', 'a memory import below the declared minimum', LINK, () => {
  const s = new Store()
  return new Instance(s, IMPORT_MEM2, { env: { mem: new Memory(s, { minimum: 1 }) } })
})
bad('new Instance', 'an i32 global import given a Global of type f32', LINK, () => {
  const s = new Store()
  return new Instance(s, IMPORT_GLOBAL, { env: { g: new Global(s, { value: 'f32', mutable: false }, 1) } })
})
// A mismatched import is a LinkError (README; and V8's WebAssembly.Instance for this very input).
wrong('new Instance', 'an i64 global import given a number', TYPE, LINK, () => new Instance(new Store(), IMPORT_GLOBAL_I64, A({ env: { g: 1 } })))
bad('new Instance', 'a mutable global import given a number', LINK, () => new Instance(new Store(), IMPORT_GLOBAL_MUT, A({ env: { g: 1 } })))
bad('new Instance', 'a start function that traps', TRAP('unreachable'), () => new Instance(new Store(), START_TRAP))
bad('new Instance', 'a module of another engine', LINK, () => new Instance(new Store(), ADD_OTHER_ENGINE))
bad('Proxy imports', 'an import object whose get trap returns 42', LINK, () => new Instance(new Store(), HOST_RESULTS, new Proxy({}, { get: () => 42 })))
bad('Proxy imports', 'a namespace whose get trap returns {}', LINK, () => new Instance(new Store(), HOST_RESULTS, { h: new Proxy({}, { get: () => ({}) }) }))
bad('Proxy imports', 'a namespace whose functions return the wrong types', RETURN_VALUE, () => {
  const h = new Proxy({}, { get: () => () => 'not a number' })
  return fn(new Instance(new Store(), HOST_RESULTS, { h }), 'i')()
})

// ---------------------------------------------------------------------------------------------
// Linker, InstancePre
// ---------------------------------------------------------------------------------------------

bad('new Linker', 'engine: 5', TYPE, () => new Linker(A(5)))
bad('linker.allowShadowing', "= 'yes'", TYPE, () => {
  A(new Linker()).allowShadowing = 'yes'
})
bad('linker.func', "params: ['i33']", VALUE, () => new Linker().func('m', 'f', A({ params: ['i33'] }), () => {}))
bad('linker.func', 'fn: 5', TYPE, () => new Linker().func('m', 'f', VOID_TYPE, A(5)))
bad('linker.func', 'the same name twice', LINK, () => new Linker().func('m', 'f', VOID_TYPE, () => {}).func('m', 'f', VOID_TYPE, () => {}))
bad('linker.defineWasi', 'twice', LINK, () => new Linker().defineWasi().defineWasi())
bad('linker.define', 'a Memory of another store', WRONG_STORE, () => new Linker().define(obj().store, 'm', 'x', foreign().memory))
bad('linker.define', 'items of two stores', WRONG_STORE, () => new Linker().define(obj().store, 'm', 'x', obj().memory).define(foreign().store, 'm', 'y', foreign().memory))
bad('linker.define', 'a store of another engine than the linker', LINK, () => new Linker(OTHER_ENGINE).define(foreign().store, 'm', 'mem', foreign().memory))
bad('linker.defineInstance', 'an Instance of another store', WRONG_STORE, () => new Linker().defineInstance(obj().store, 'x', foreign().instance))
bad('linker.defineInstance', 'a store of another engine than the linker', LINK, () => new Linker(OTHER_ENGINE).defineInstance(foreign().store, 'i', foreign().instance))
bad('linker.instantiate', 'an import of another signature', LINK, () => new Linker().func('env', 'f', VOID_TYPE, () => {}).instantiate(new Store(), IMPORT_FUNC))
bad('linker.instantiate', 'a store other than the one of its items', WRONG_STORE, () => new Linker().define(foreign().store, 'env', 'mem', foreign().memory).instantiate(new Store(), IMPORT_MEM))
bad('linker.instantiate', 'a linker of another engine', LINK, () => new Linker(OTHER_ENGINE).instantiate(new Store(), EMPTY))
bad('linker.instantiatePre', 'a missing import', LINK, () => new Linker().instantiatePre(IMPORT_FUNC))
const preOf = (linker: Linker, m: Module): InstancePre => linker.instantiatePre(m)
bad('instancePre.instantiate', 'a store other than the one of its items', WRONG_STORE, () => preOf(new Linker().define(foreign().store, 'env', 'mem', foreign().memory), IMPORT_MEM).instantiate(new Store()))
bad('instancePre.instantiate', 'a store of another engine', LINK, () => preOf(new Linker(), EMPTY).instantiate(new Store(OTHER_ENGINE)))

// ---------------------------------------------------------------------------------------------
// Func
// ---------------------------------------------------------------------------------------------

for (const [what, args, expect] of [
  ['params: [1]', () => [new Store(), { params: [1] }, () => {}], TYPE],
  ["results: ['anyfunc']", () => [new Store(), { results: ['anyfunc'] }, () => {}], VALUE],
  ['name: { module: 1 }', () => [new Store(), VOID_TYPE, () => {}, { module: 1 }], TYPE],
] as [string, () => unknown[], Expect][]) {
  bad('new Func', what, expect, () => new (Func as unknown as new (...a: unknown[]) => Func)(...args()))
}
const hostFunc = lazy((): Func => new Func(new Store(), { params: ['i32', 'i64'], results: ['i32'] }, (x: number) => x)) // untyped: wrong calls on purpose
bad('func.call', 'too few arguments', COUNT, () => hostFunc().call(1))
bad('func.call', 'a number for the i64', TYPE, () => hostFunc().call(1, 1))
bad('func.callAsync', 'too many arguments', COUNT, () => hostFunc().callAsync(1, 1n, 1))

// ---------------------------------------------------------------------------------------------
// Exported functions: argument conversion, arity, callAsync and CallOptions
// ---------------------------------------------------------------------------------------------

for (const [what, x, expect] of BAD_I32) bad('exported (param i32)', what, expect, () => v('i32')(x))
for (const [what, x, expect] of BAD_I64) bad('exported (param i64)', what, expect, () => v('i64')(x))
for (const [what, x] of BAD_FLOAT) bad('exported (param f32)', what, TYPE, () => v('f32')(x))
for (const [what, x] of BAD_FLOAT) bad('exported (param f64)', what, TYPE, () => v('f64')(x))
for (const [what, x] of BAD_V128) bad('exported (param v128)', what, TYPE, () => v('v128')(x()))
for (const [what, x, expect] of BAD_FUNCREF) bad('exported (param funcref)', what, expect, () => v('funcref')(x()))
bad('exported arity', '(param i32) with no argument', COUNT, () => v('i32')())
bad('exported (param i32 i64 f64 externref)', 'a number for the i64', TYPE, () => v('mixed')(1, 1, 1, null))
bad('exported callAsync', 'a bad argument', TYPE, () => v('i32').callAsync('x'))
bad('CallOptions', 'fuel on an engine without consumeFuel', NO_FUEL, () => v('none').callAsync({ fuel: 10 }))
bad('CallOptions', 'timeoutMs: -1', RANGE, () => v('none').callAsync({ timeoutMs: -1 }))
bad('CallOptions', 'timeoutMs: 1e300', RANGE, () => v('none').callAsync({ timeoutMs: 1e300 }))
bad('CallOptions', 'signal: 5', TYPE, () => v('none').callAsync(A({ signal: 5 })))

// Host function results: the guest's call fails with a typed error, the host function having run.
// A wrong result is not a wrong argument: Node's code for it is ERR_INVALID_RETURN_VALUE.
for (const [what, ret, call] of [
  ["(result i32) returning '1'", () => '1', (x) => x.i!()],
  ['(result i32) returning a Promise (sync call)', () => Promise.resolve(1), (x) => x.i!()],
  ['(result i64) returning 1', () => 1, (x) => x.l!()],
  ['(result v128) returning a detached view', () => detachedView(16), (x) => x.v!()],
  ['(result i32 i32) returning [1]', () => [1], (x) => x.m!()],
  ["(result i32) resolving to '1' (callAsync)", async () => '1', (x) => x.i!.callAsync()],
] as [string, () => unknown, (x: Record<string, ExportedFunction>) => unknown][]) {
  bad('host function result', what, RETURN_VALUE, () => call(hostReturning(ret)))
}
bad('host function result', '(result funcref) returning a Func of another store', WRONG_STORE, () => hostReturning(foreignFunc).r!())

// ---------------------------------------------------------------------------------------------
// Memory, Table, Global: constructors, values
// ---------------------------------------------------------------------------------------------

bad('new Memory', 'maximum below the minimum', RANGE, () => new Memory(new Store(), { minimum: 2, maximum: 1 }))
bad('new Memory', 'maximum: 2**32', RANGE, () => new Memory(new Store(), { minimum: 1, maximum: 2 ** 32 }))
bad('memory.write bytes', 'a SharedArrayBuffer', TYPE, () => obj().memory.write(0, A(new SharedArrayBuffer(8))))
bad('memory.write bytes', 'an 8-byte view at offset 3 crossing the end of memory', RANGE, () => obj().memory.write(PAGE - 4, new Uint8Array(new ArrayBuffer(64), 3, 8)))

for (const [what, args, expect] of [
  ["element: 'anyfunc'", () => [new Store(), { element: 'anyfunc', minimum: 1 }], VALUE],
  ['minimum: -1', () => [new Store(), { element: 'funcref', minimum: -1 }], RANGE],
  ['maximum below the minimum', () => [new Store(), { element: 'funcref', minimum: 2, maximum: 1 }], RANGE],
  ['maximum: 2**40', () => [new Store(), { element: 'externref', minimum: 0, maximum: 2 ** 40 }], RANGE],
  ['a funcref init of 5', () => [new Store(), { element: 'funcref', minimum: 1 }, 5], TYPE],
] as [string, () => unknown[], Expect][]) {
  bad('new Table', what, expect, () => new (Table as unknown as new (...a: unknown[]) => Table)(...args()))
}
bad('table.set(index, v)', 'index -1', RANGE, () => obj().table.set(-1, null))
bad('table.set(index, v)', 'index 2 (the size)', RANGE, () => obj().table.set(2, null))
for (const [what, x, expect] of BAD_FUNCREF.filter(([w]) => w === 'a plain JS function' || w === 'a Func of a disposed store')) {
  bad('table.set(index, v)', `value: ${what}`, expect, () => obj().table.set(0, x()))
}
bad('table.grow(delta, init)', 'init: 5', TYPE, () => obj().table.grow(1, 5))

bad('new Global', 'an i64 initialised with 1', TYPE, () => new Global(new Store(), { value: 'i64', mutable: false }, 1))
bad('new Global', 'a v128 initialised with Uint8Array(3)', TYPE, () => new Global(new Store(), { value: 'v128', mutable: false }, new Uint8Array(3)))
bad('new Global', 'a funcref initialised with a Func of another store', WRONG_STORE, () => new Global(new Store(), { value: 'funcref', mutable: false }, foreignFunc()))
const setGlobal = (g: () => Global, x: () => unknown) => () => {
  g().value = x()
}
for (const [what, x, expect] of [['NaN', NaN, RANGE], ['2**32', 2 ** 32, RANGE], ["'1'", '1', TYPE]] as [string, unknown, Expect][]) {
  bad('global.value = (i32)', what, expect, setGlobal(() => obj().gi32, () => x))
}
bad('global.value = (i64)', '1', TYPE, setGlobal(() => obj().gi64, () => 1))
bad('global.value = (f64)', "'1'", TYPE, setGlobal(() => obj().gf64, () => '1'))
bad('global.value = (v128)', 'a detached view', TYPE, setGlobal(() => obj().gv128, () => detachedView(16)))
bad('global.value = (funcref)', '5', TYPE, setGlobal(() => obj().gfunc, () => 5))
bad('global.value = (funcref)', 'a Func of another store', WRONG_STORE, setGlobal(() => obj().gfunc, foreignFunc))
bad('global.value = (immutable)', '1', 'TypeError ERR_IMMUTABLE_GLOBAL', setGlobal(() => obj().gconst, () => 1))

// ---------------------------------------------------------------------------------------------
// Everything after dispose() and after transfer()
// ---------------------------------------------------------------------------------------------

interface Dead extends Objects {
  func: Func
  pre: InstancePre
  token?: StoreTransfer
}

function deadObjects(kill: 'dispose' | 'transfer'): () => Dead {
  return lazy(() => {
    const fx = objects()
    const linker = new Linker().func('host', 'cb', HOST_CB_TYPE, () => 1)
    const dead: Dead = { ...fx, func: fx.add.func, pre: linker.instantiatePre(OBJECTS) }
    if (kill === 'dispose') fx.store.dispose()
    else dead.token = fx.store.transfer()
    return dead
  })
}

const STATE_OPS: [string, (x: Dead) => unknown][] = [
  ['store.setFuel(1)', (x) => x.store.setFuel(1)],
  ['store.interruptHandle()', (x) => x.store.interruptHandle()],
  ['store.transfer()', (x) => x.store.transfer()],
  ['new Instance(store, ...)', (x) => new Instance(x.store, OBJECTS, { host: { cb: () => 1 } })],
  ['linker.instantiate(store, ...)', (x) => new Linker().instantiate(x.store, EMPTY)],
  ['linker.define(store, ..., memory)', (x) => new Linker().define(x.store, 'm', 'mem', x.memory)],
  ['instancePre.instantiate(store)', (x) => x.pre.instantiate(x.store)],
  ['an exported function', (x) => x.add(1, 2)],
  ['callAsync', (x) => x.add.callAsync(1, 2)],
  ["instance.getFunc('run')", (x) => x.instance.getFunc('run')],
  ['memory.grow(1)', (x) => x.memory.grow(1)],
  ['memory.buffer', (x) => x.memory.buffer],
  ['table.set(0, null)', (x) => x.table.set(0, null)],
  ['global.value = 1', (x) => {
    x.gi32.value = 1
  }],
]
const disposed = deadObjects('dispose')
const transferred = deadObjects('transfer')
for (const [what, op] of STATE_OPS) bad('after store.dispose()', what, CLOSED, () => op(disposed()))
for (const [what, op] of STATE_OPS) bad('after store.transfer()', what, MOVED, () => op(transferred()))

// ---------------------------------------------------------------------------------------------
// Objects of another store
// ---------------------------------------------------------------------------------------------

bad('another store', 'a function import: an export of another store', WRONG_STORE, () => new Instance(new Store(), IMPORT_FUNC, { env: { f: fn(foreign().instance, 'add') } }))
bad('another store', 'a memory import: a Memory of another store', WRONG_STORE, () => new Instance(new Store(), IMPORT_MEM, { env: { mem: foreign().memory } }))
bad('another store', 'a table import: a Table of another store', WRONG_STORE, () => new Instance(new Store(), IMPORT_TABLE, { env: { tab: foreign().table } }))
bad('another store', 'a global import: a Global of another store', WRONG_STORE, () => new Instance(new Store(), IMPORT_GLOBAL, { env: { g: foreign().global } }))
bad('another store', 'table.grow init: a Func of another store', WRONG_STORE, () => obj().table.grow(1, foreignFunc()))

// ---------------------------------------------------------------------------------------------
// Re-entrant misuse
// ---------------------------------------------------------------------------------------------

/** Run `op` inside a host function called by wasm of the same store (synchronous call). */
function insideHost(op: (fx: Objects) => unknown): () => unknown {
  return () => {
    let fx: Objects | undefined
    fx = objects(() => {
      op(fx!)
      return 1
    })
    return fx.run()
  }
}
bad('re-entrancy', 'store.dispose() inside a host function', BUSY, insideHost((fx) => fx.store.dispose()))
bad('re-entrancy', 'store.transfer() inside a host function', BUSY, insideHost((fx) => fx.store.transfer()))
bad('re-entrancy', 'unbounded host -> wasm -> host recursion', TRAP('stack_overflow'), () => {
  let f: ExportedFunction | undefined
  f = fn(new Instance(new Store(), RECURSE, { h: { cb: () => f!() } }), 'f')
  return f()
})

/**
 * Call `run` with callAsync; once its host function is waiting (its Promise pending, the store
 * busy on another thread), try `op`; then let the call finish, and check it finished normally.
 * Rejects with what `op` threw.
 */
async function duringCallAsync(op: (fx: Objects) => unknown): Promise<unknown> {
  let entered!: () => void
  let release!: (x: number) => void
  const inHost = new Promise<void>((r) => {
    entered = r
  })
  const fx = objects(() => {
    entered()
    return new Promise<number>((r) => {
      release = r
    })
  })
  const call = fx.run.callAsync()
  await inHost
  let result: { threw: unknown } | { value: unknown }
  try {
    result = { value: op(fx) }
  } catch (e) {
    result = { threw: e }
  }
  release(41)
  const r = await call
  if (r !== 41) throw new Error(`the interrupted callAsync resolved to ${show(r)}, not 41`)
  if (fx.add(1, 2) !== 3) throw new Error('the store does not work after the callAsync')
  if ('threw' in result) throw result.threw
  return result.value
}
bad('re-entrancy', 'a sync export call while a callAsync of the store runs', BUSY, () => duringCallAsync((fx) => fx.add(1, 2)))
bad('re-entrancy', 'store.dispose() while a callAsync runs', BUSY, () => duringCallAsync((fx) => fx.store.dispose()))
bad('re-entrancy', 'store.transfer() while a callAsync runs', BUSY, () => duringCallAsync((fx) => fx.store.transfer()))
bad('re-entrancy', 'a host function calls a sync export during callAsync', BUSY, () => {
  let fx: Objects | undefined
  fx = objects(() => fx!.add(1, 2))
  return fx.run.callAsync()
})
bad('re-entrancy', 'a host function disposes its store during callAsync', BUSY, () => {
  let fx: Objects | undefined
  fx = objects(() => {
    fx!.store.dispose()
    return 1
  })
  return fx.run.callAsync()
})
// The store is busy from the moment callAsync is called (issue 14): dispose() is refused.
bad('re-entrancy', 'store.dispose() right after callAsync() (before it starts)', BUSY, () => {
  const fx = objects()
  const p = fx.add.callAsync(1, 2)
  fx.store.dispose()
  return p
})

// ---------------------------------------------------------------------------------------------
// User exceptions that must propagate unchanged (getters, Proxy traps, callbacks, abort reasons)
// ---------------------------------------------------------------------------------------------

propagates('new Engine', 'a throwing allocator.pooling.totalMemories getter', (b) => new Engine(A({ allocator: { pooling: throwingGetter(b, 'totalMemories') } })))
propagates('new Store', 'a throwing fuel getter', (b) => new Store(FUEL_ENGINE, A(throwingGetter(b, 'fuel'))))
propagates('store.setLimits', 'a non-enumerable throwing getter (read natively)', (b) => new Store().setLimits(A(Object.defineProperty({}, 'memorySize', { get() { throw b } }))))
propagates('WasiOptions', 'a throwing env value getter', (b) => new Store(E, A({ wasi: { env: throwingGetter(b, 'HOME') } })))
propagates('runWasi', 'a throwing options getter', (b) => runWasi(WASI_START, A(throwingGetter(b, 'stdout'))))
propagates('new Memory', 'a throwing minimum getter', (b) => new Memory(new Store(), A(throwingGetter(b, 'minimum'))))
propagates('Module.deserialize', 'a throwing trusted getter', (b) => Module.deserialize(E, SERIALIZED, A(throwingGetter(b, 'trusted'))))
propagates('store.transfer', 'an objects map with a throwing getter', (b) => new Store().transfer(A(throwingGetter(b, 'inst'))))
propagates('Store.receive', 'options with a throwing imports getter', (b) => Store.receive(hostTransfer(), A(throwingGetter(b, 'imports'))))
propagates('Proxy imports', 'an import object whose get trap throws', (b) => new Instance(new Store(), HOST_RESULTS, new Proxy({}, { get() { throw b } })))
propagates('Proxy imports', 'a namespace whose get trap throws', (b) => new Instance(new Store(), HOST_RESULTS, { h: new Proxy({}, { get() { throw b } }) }))
propagates('host function', 'an exception thrown through wasm', (b) => hostReturning(() => { throw b }).i!())
propagates('host function', 'a rejected Promise (callAsync)', (b) => hostReturning(() => Promise.reject(b)).i!.callAsync())
propagates('CallOptions', 'an already aborted signal', (b) => v('none').callAsync({ signal: AbortSignal.abort(b) }))
CASES.push({
  entry: 'Proxy imports',
  what: 'a revoked Proxy as the import object',
  run: () => {
    const r = Proxy.revocable({}, {})
    r.revoke()
    return new Instance(new Store(), IMPORT_FUNC, A(r.proxy))
  },
  propagates: { test: (e) => e instanceof TypeError && /revoked/.test(e.message), describe: "V8's TypeError for a revoked Proxy" },
})

// ---------------------------------------------------------------------------------------------
// Known gaps: no typed error today. Each `today` is the outcome pinned (see outcomeKey); the
// test fails when it changes, either way. Fixed → move the case to the main table.
// ---------------------------------------------------------------------------------------------

// A detached buffer is not "no bytes": it is a buffer that can no longer be used (issue 15).
bad('memory.write', 'a detached ArrayBuffer', VALUE, () => obj().memory.write(0, detached()))
bad('memory.write', 'a typed array whose buffer was detached', VALUE, () => obj().memory.write(0, detachedView(8)))
bad('WasiOptions', 'stdin: a detached ArrayBuffer', VALUE, () => new Store(E, { wasi: { stdin: detached() } }))
bad('Store.receive', "a token naming an object that was not sent ('ghost')", TOKEN, () => Store.receive(A({ ...new Store().transfer(), names: ['ghost'] })).objects)
// Node's code for a method called on the wrong receiver is ERR_INVALID_THIS: every prototype method
// and accessor of every class, called on a plain object and on a bare `Object.create(prototype)`.
const INVALID_THIS = 'TypeError ERR_INVALID_THIS'
const RECEIVER_CLASSES = { Config, Engine, Module, Store, Func, Memory, Table, Global, Tag, Exception, SharedMemory, Instance, Linker, InstancePre, InterruptHandle, Component, ComponentLinker } as const
for (const [name, cls] of Object.entries(RECEIVER_CLASSES)) {
  const proto = cls.prototype as object
  for (const key of Object.getOwnPropertyNames(proto)) {
    if (key === 'constructor') continue
    const d = Object.getOwnPropertyDescriptor(proto, key)!
    const member = (d.value ?? d.get ?? d.set) as (this: unknown, ...args: unknown[]) => unknown
    for (const [label, self] of [['{}', () => ({})], ['Object.create(prototype)', () => Object.create(proto)]] as const) {
      bad(`${name}.prototype.${key}`, `this: ${label} (an unbound ${d.value ? 'method' : 'accessor'})`, INVALID_THIS, () => member.call(self(), 0, 1))
    }
  }
}
bad('Memory.prototype.read', 'an unbound method passed as a callback', INVALID_THIS, () => [0].map(obj().memory.read as (x: number) => unknown))

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

test.serial('controls: the valid inputs the bad cases are derived from are accepted', (t) => {
  // So that each bad case fails because of what it changes, not because its base was broken.
  t.is(fn(new Instance(new Store(), new Module(E, GOOD_BYTES)), 'add')(2, 3), 5)
  t.is(fn(new Instance(new Store(), new Module(E, offsetView(GOOD_BYTES, 4, 0))), 'add')(2, 3), 5, 'a view at the right offset compiles')
  t.is(fn(new Instance(new Store(), Module.deserialize(E, SERIALIZED, TRUSTED)), 'add')(2, 3), 5)
  t.is(fn(new Instance(new Store(), Module.deserialize(E, offsetView(SERIALIZED, 8, 0), TRUSTED)), 'add')(2, 3), 5)
  t.is(v('i32')(-(2 ** 31)), -(2 ** 31))
  t.is(v('i32')(2 ** 32 - 1), -1, 'unsigned values wrap to the same bits')
  t.is(v('i64')(2n ** 64n - 1n), -1n)
  t.true(Number.isNaN(v('f64')(NaN)))
  const bytes = new Uint8Array(32).map((_, i) => i)
  t.deepEqual(Array.from(v('v128')(new Uint8Array(bytes.buffer, 3, 16)) as Uint8Array), Array.from(bytes.subarray(3, 19)), 'a v128 view at an offset')
  t.is((v('v128')(new Uint32Array(4)) as Uint8Array).length, 16, 'any 16-byte view is a v128')
  const fx = objects()
  fx.memory.write(10, new Uint8Array(bytes.buffer, 4, 3))
  t.deepEqual(Array.from(fx.memory.read(9, 5)), [0, 4, 5, 6, 0], 'memory.write honours a view offset')
  t.is(fx.memory.read(PAGE, 0).length, 0, 'an empty read at the very end is fine')
  t.is(fx.table.grow(2), 2, 'the table can grow to its maximum')
  t.is(fx.memory.grow(1), 1, 'the memory can grow to its maximum')
  fx.gi32.value = 2 ** 32 - 1
  t.is(fx.gi32.value, -1)
  t.is(v('funcref')(null), null)
  t.is(runWasi(WASI_START).exitCode, 0)
  const fs2 = new Store(FUEL_ENGINE)
  fs2.setFuel(2n ** 64n - 1n)
  t.is(fs2.getFuel(), 2n ** 64n - 1n)
  healthCheck()
  t.pass()
})

test.serial(`bad input: ${CASES.length} generated cases each throw their pinned error class and code and leave the process healthy`, async (t) => {
  t.true(CASES.length >= 200, `only ${CASES.length} cases`)
  const started = Date.now()
  const results: Result[] = []
  for (const c of CASES) results.push(await runCase(c))
  const failures = results.filter((r) => !passed(r) || !r.healthy)
  const pinned = results.filter((r) => !r.c.propagates)

  const lines = [
    `[badinput] ${results.length} cases in ${Date.now() - started} ms: ${pinned.length} pin an error class and code, ` +
      `${results.length - pinned.length} a user exception propagated unchanged; ${failures.length} failures ` +
      `(${KNOWN_WRONG.length} known wrong errors and ${KNOWN_GAPS.length} known gaps are checked separately)`,
    '[badinput] cases per entry point:',
    table2(countBy(results, (r) => r.c.entry)),
    '[badinput] cases per expected error:',
    table2(countBy(results, (r) => r.c.expect ?? 'user exception propagated')),
  ]
  if (failures.length) {
    lines.push('[badinput] FAILURES (not the pinned error, or an unhealthy process afterwards):')
    for (const r of failures) lines.push(`    ${failureText(r)}`)
  } else {
    lines.push('[badinput] every case threw its pinned error and left the process healthy')
  }
  console.log(lines.join('\n'))

  t.deepEqual(failures.map(failureText), [])
})

function failureText(r: Result): string {
  const wanted = r.c.expect ?? 'the user exception, unchanged'
  const got = passed(r) ? '' : `: expected ${wanted}, got ${outcomeText(r)}`
  return `${caseName(r.c)}${got}${r.healthy ? '' : ` — health check FAILED: ${r.healthError}`}`
}

/**
 * Run each snapshot case: its outcome must be exactly `today`, and the process healthy after it.
 * Returns one line per case that changed, saying which way.
 */
async function checkSnapshots(t: ExecutionContext, title: string, list: Snapshot[]): Promise<string[]> {
  const changed: string[] = []
  const lines = [`[badinput] ${title} (${list.length}): pinned to today's outcome — to fix in lib/ or crate/`]
  for (const s of list) {
    const r = await runCase(s)
    const now = outcomeKey(r.outcome)
    let verdict = ''
    if (now === s.should) verdict = `FIXED: it now throws ${s.should}: move it to the main table`
    else if (now !== s.today) verdict = `CHANGED: it was ${s.today}, it is now ${now} (it should be ${s.should})`
    if (!r.healthy) verdict += `${verdict ? '; ' : ''}health check FAILED: ${r.healthError}`
    if (verdict) changed.push(`${caseName(s)}: ${verdict}`)
    lines.push(`    ${caseName(s)}\n        now: ${outcomeText(r)}\n        should be: ${s.should}${verdict ? `\n        ${verdict}` : ''}`)
    t.log(`${caseName(s)}: ${outcomeText(r)}`)
  }
  console.log(lines.join('\n'))
  return changed
}

test.serial(`known wrong: ${KNOWN_WRONG.length} inputs that get a coded error other than the right one still get exactly that one`, async (t) => {
  t.deepEqual(await checkSnapshots(t, 'KNOWN WRONG: a typed, coded error, but not the right one', KNOWN_WRONG), [])
})

test.serial(`known gaps: ${KNOWN_GAPS.length} inputs without a typed error still behave exactly as recorded and leave the process healthy`, async (t) => {
  t.deepEqual(await checkSnapshots(t, 'KNOWN GAPS: no typed error with a code', KNOWN_GAPS), [])
})
