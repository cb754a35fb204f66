// The README's "From `WebAssembly` to wasmtime-node": each step written both ways — Node's built-in
// `WebAssembly` (V8) and wasmtime-node — runs here on the same guest binary, and both give the
// same results; then what wasmtime-node adds, and the README's claims about what changes. The
// expected values are computed in JS (string upper-casing, BigInt arithmetic), not taken from
// either engine.
import test from 'ava'
import * as path from 'node:path'
import { Worker } from 'node:worker_threads'

import { Caller, CompileError, Engine, Instance, LinkError, Memory, Module, Store, StoreStateError, Trap, wat2wasm, withCaller } from '../dist/index.js'
import { assertError, assertTrap, rejection, thrown } from './helpers/assert'

const API = path.resolve(__dirname, '../dist/index.js')

// The guest of the README's examples: it imports `host.log(ptr, len)` and exports its memory, a
// bump allocator, `add`, `mul64`, `divide`, `shout(ptr, len)` (upper-cases the ASCII letters of a
// UTF-8 string in place, logs it, returns how many letters it changed), `grow` and `spin`.
const GUEST = `(module $guest
  (import "host" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (global $heap (mut i32) (i32.const 1024))
  (func (export "alloc") (param $n i32) (result i32)
    (global.get $heap)
    (global.set $heap (i32.add (global.get $heap) (local.get $n))))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "mul64") (param i64 i64) (result i64) (i64.mul (local.get 0) (local.get 1)))
  (func (export "divide") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "shout") (param $ptr i32) (param $len i32) (result i32)
    (local $i i32) (local $c i32) (local $n i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
      (local.set $c (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
      (if (i32.lt_u (i32.sub (local.get $c) (i32.const 97)) (i32.const 26))
        (then (i32.store8 (i32.add (local.get $ptr) (local.get $i)) (i32.sub (local.get $c) (i32.const 32)))
              (local.set $n (i32.add (local.get $n) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (call $log (local.get $ptr) (local.get $len))
    (local.get $n))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "spin") (loop $forever (br $forever))))`
const bytes = new Uint8Array(wat2wasm(GUEST)) // a Uint8Array<ArrayBuffer>: what the DOM typings of WebAssembly take

/** The guest's exports, as both engines give them. */
interface Guest {
  memory: Memory & WebAssembly.Memory
  alloc(n: number): number
  add(a: number, b: number): number
  mul64(a: bigint, b: bigint): bigint
  divide(a: number, b: number): number
  shout(ptr: number, len: number): number
  grow(pages: number): number
  spin(): void
}

/** What `shout` makes of `text`: its ASCII letters upper-cased, and how many there were. */
const shouted = (text: string) => ({ text: text.replace(/[a-z]/g, (c) => c.toUpperCase()), changed: (text.match(/[a-z]/g) ?? []).length })
const TEXTS = ['héllo', 'hello, world', '', 'naïve café — 😀 ünïcödé', 'ALREADY LOUD']

// ---- 1. Compile and instantiate, with imports ----

/** The README's V8 column of steps 1 and 2 (console.log → logged.push). */
function v8Version(logged: string[]) {
  let instance: WebAssembly.Instance
  const log = (ptr: number, len: number) => logged.push(new TextDecoder().decode(
    new Uint8Array((instance.exports.memory as WebAssembly.Memory).buffer, ptr, len)))
  const module = new WebAssembly.Module(bytes)
  instance = new WebAssembly.Instance(module, { host: { log } })
  return instance.exports as unknown as Guest
}

/** The README's wasmtime-node column of steps 1 and 2. */
function wasmtimeVersion(logged: string[]) {
  const log = withCaller((caller: Caller, ptr: number, len: number) => logged.push(
    (caller.exports.memory as Memory).readString(ptr, len)))
  const module = new Module(Engine.default, bytes)
  const instance = new Instance(new Store(), module, { host: { log } })
  return { instance, exports: instance.exports as unknown as Guest }
}

test('step 1: compile + instantiate with imports: the same exports, the same results', (t) => {
  const v8 = v8Version([])
  const { exports: wt } = wasmtimeVersion([])
  for (const [a, b] of [[2, 3], [-7, 4], [0x7fffffff, 1]]) {
    t.is(v8.add(a!, b!), (a! + b!) | 0)
    t.is(wt.add(a!, b!), (a! + b!) | 0)
  }
  for (const [a, b] of [[2n ** 40n, 3n], [-5n, 7n], [2n ** 62n, 4n]]) {
    t.is(v8.mul64(a!, b!), BigInt.asIntN(64, a! * b!))
    t.is(wt.mul64(a!, b!), BigInt.asIntN(64, a! * b!))
  }
  t.is(wt.mul64(2n ** 40n, 3n), 3298534883328n) // the README's comment
})

test('step 1: the async ways (WebAssembly.instantiate / Module.compile) and WAT text give the same', async (t) => {
  const noLog = { host: { log: () => {} } }
  const { instance: v8 } = await WebAssembly.instantiate(bytes, noLog)
  const wt = new Instance(new Store(), await Module.compile(Engine.default, bytes), noLog)
  const fromText = new Instance(new Store(), new Module(Engine.default, GUEST), noLog)
  t.is((v8.exports as unknown as Guest).add(2, 3), 5)
  t.is((wt.exports as unknown as Guest).add(2, 3), 5)
  t.is((fromText.exports as unknown as Guest).add(2, 3), 5)
  // V8 takes only the binary.
  t.throws(() => new WebAssembly.Module(new TextEncoder().encode(GUEST)), { instanceOf: WebAssembly.CompileError })
})

// ---- 2. A string in and out of memory ----

test('step 2: a string in and out: the guest allocates, the host copies UTF-8 in, reads it back; the same text and logs', (t) => {
  for (const text of TEXTS) {
    const expected = shouted(text)
    // V8
    const v8Logged: string[] = []
    const { memory, alloc, shout } = v8Version(v8Logged)
    const input = new TextEncoder().encode(text)
    const ptr = alloc(input.length)
    new Uint8Array(memory.buffer).set(input, ptr)
    t.is(shout(ptr, input.length), expected.changed)
    const v8Out = new TextDecoder().decode(new Uint8Array(memory.buffer, ptr, input.length))
    // wasmtime-node
    const wtLogged: string[] = []
    const { instance, exports: wt } = wasmtimeVersion(wtLogged)
    const { ptr: p, len } = instance.passString(text, { alloc: 'alloc' })
    t.is(len, input.length)
    t.is(wt.shout(p, len), expected.changed)
    const wtOut = wt.memory.readString(p, len)

    t.is(v8Out, expected.text)
    t.is(wtOut, expected.text)
    t.deepEqual(v8Logged, [expected.text])
    t.deepEqual(wtLogged, [expected.text])
  }
  t.is(shouted('héllo').text, 'HéLLO') // the README's comment
  t.is(shouted('héllo').changed, 4)
})

test('step 2: memory.writeString returns the bytes written; memory.buffer is zero-copy and detached by growth, as in V8', (t) => {
  const v8 = v8Version([])
  const { exports: wt } = wasmtimeVersion([])
  t.is(wt.memory.writeString(2048, 'héllo'), Buffer.byteLength('héllo'))
  t.is(wt.memory.readString(2048, 6), 'héllo')
  for (const memory of [v8.memory, wt.memory]) {
    const before = memory.buffer
    new Uint8Array(before)[100] = 42
    t.is(new Uint8Array(memory.buffer)[100], 42) // the same bytes, no copy
    t.is(memory.grow(1), 1)
    t.is(before.byteLength, 0) // detached
    t.is(memory.buffer.byteLength, 2 * 65536)
  }
})

// ---- 3. Sharing the compiled module with a worker ----

/** A worker that instantiates the module it is sent, calls shout on `text` and posts the result. */
function runInWorker(code: string, message: unknown, text: string): Promise<{ isModule: boolean; out: string; changed: number; logged: string[] }> {
  const worker = new Worker(code, { eval: true, workerData: { api: API, text } })
  return new Promise((resolve, reject) => {
    worker.once('message', (m) => {
      resolve(m)
      void worker.terminate()
    })
    worker.once('error', reject)
    worker.postMessage(message)
  })
}

const V8_WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
parentPort.on('message', (module) => {
  const logged = []
  let instance
  const log = (ptr, len) => logged.push(new TextDecoder().decode(new Uint8Array(instance.exports.memory.buffer, ptr, len)))
  instance = new WebAssembly.Instance(module, { host: { log } })
  const { memory, alloc, shout } = instance.exports
  const input = new TextEncoder().encode(workerData.text)
  const ptr = alloc(input.length)
  new Uint8Array(memory.buffer).set(input, ptr)
  const changed = shout(ptr, input.length)
  const out = new TextDecoder().decode(new Uint8Array(memory.buffer, ptr, input.length))
  parentPort.postMessage({ isModule: module instanceof WebAssembly.Module, out, changed, logged })
})`

const WASMTIME_WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const { Instance, Module, Store, withCaller } = require(workerData.api)
parentPort.on('message', (token) => {
  const logged = []
  const log = withCaller((caller, ptr, len) => logged.push(caller.exports.memory.readString(ptr, len)))
  const module = Module.fromShared(token)
  const instance = new Instance(new Store(), module, { host: { log } })
  const { ptr, len } = instance.passString(workerData.text, { alloc: 'alloc' })
  const changed = instance.exports.shout(ptr, len)
  const out = instance.exports.memory.readString(ptr, len)
  parentPort.postMessage({ isModule: module instanceof Module, out, changed, logged })
})`

test('step 3: a WebAssembly.Module posted to a worker, and a module.share() token posted to another, instantiate there and give the same results', async (t) => {
  const text = 'shared with a worker: ünïcödé'
  const expected = shouted(text)
  const [v8, wt] = await Promise.all([
    runInWorker(V8_WORKER, new WebAssembly.Module(bytes), text),
    runInWorker(WASMTIME_WORKER, new Module(Engine.default, bytes).share(), text),
  ])
  t.deepEqual(v8, { isModule: true, out: expected.text, changed: expected.changed, logged: [expected.text] })
  t.deepEqual(wt, v8)
})

test('step 3: the token is small plain data; a Module posted as it is is refused with a hint to post share(); no instance crosses threads in either', (t) => {
  const module = new Module(Engine.default, bytes)
  const token = module.share()
  t.deepEqual(Object.keys(token).sort(), ['id', 'kind'])
  t.deepEqual(structuredClone(token), token)
  const refused = thrown(t, () => structuredClone(module), 'a Module') as Error | undefined
  t.is(refused?.name, 'DataCloneError')
  t.true(refused?.message.includes('share()'), refused?.message)
  t.true(structuredClone(new WebAssembly.Module(bytes)) instanceof WebAssembly.Module)
  for (const instance of [new WebAssembly.Instance(new WebAssembly.Module(bytes), { host: { log: () => {} } }), wasmtimeVersion([]).instance]) {
    t.is((thrown(t, () => structuredClone(instance), 'an instance') as Error | undefined)?.name, 'DataCloneError')
  }
})

// ---- 4. What wasmtime-node adds ----

test('step 4: the README store: callAsync computes, memory stops growing at the limit, fuel runs out; a timeout-only store interrupts a loop', async (t) => {
  const logged: string[] = []
  const log = withCaller((caller: Caller, ptr: number, len: number) => logged.push((caller.exports.memory as Memory).readString(ptr, len)))
  const engine = new Engine({ consumeFuel: true })
  const store = new Store(engine, {
    fuel: 1_000_000,
    timeoutMs: 100,
    limits: { memorySize: 1 << 20 },
  })
  const instance = new Instance(store, new Module(engine, bytes), { host: { log } })
  const handle = store.interruptHandle()
  t.is(typeof handle.share().id, 'string')
  const ex = instance.exports as unknown as Guest & { add: { callAsync(a: number, b: number): Promise<number> } }
  t.is(await ex.add.callAsync(2, 3), 5)
  t.is(ex.grow(15), 1) // 16 pages: 1 MiB
  t.is(ex.grow(1), -1) // past the limit
  const left = store.getFuel()
  t.true(typeof left === 'number' && left < 1_000_000 && left > 0)
  assertTrap(t, thrown(t, () => ex.spin(), 'spin with fuel'), 'out_of_fuel', 'spin with fuel')

  const timed = new Store(Engine.default, { timeoutMs: 100 })
  const spin = (new Instance(timed, new Module(Engine.default, bytes), { host: { log } }).exports as unknown as Guest).spin
  const t0 = Date.now()
  assertTrap(t, thrown(t, () => spin(), 'spin with timeoutMs'), 'interrupt', 'spin with timeoutMs')
  t.true(Date.now() - t0 >= 90, 'not before the timeout')
})

test('step 4: another thread interrupts a synchronous call through a shared interrupt handle', async (t) => {
  const store = new Store(Engine.default, { timeoutMs: 20_000 }) // a safety net only
  const { spin } = new Instance(store, new Module(Engine.default, bytes), { host: { log: () => {} } }).exports as unknown as Guest
  const worker = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads')
    const { InterruptHandle } = require(workerData.api)
    parentPort.on('message', (t) => {
      const handle = InterruptHandle.fromShared(t)
      setInterval(() => handle.interrupt(), 20) // until terminated: the call may not have begun yet
    })
    parentPort.postMessage('ready')`, { eval: true, workerData: { api: API } })
  await new Promise((resolve) => worker.once('message', resolve))
  worker.postMessage(store.interruptHandle().share())
  const t0 = Date.now()
  const e = thrown(t, () => spin(), 'spin')
  await worker.terminate()
  assertTrap(t, e, 'interrupt', 'interrupted from a worker')
  t.true(Date.now() - t0 < 10_000, 'by the worker, not by the safety timeout')
})

test('step 4: callAsync gives the synchronous results, as a Promise; its timeoutMs stops a loop', async (t) => {
  const { add, mul64, spin } = new Instance(new Store(), new Module(Engine.default, bytes), { host: { log: () => {} } }).exports as unknown as {
    [K in 'add' | 'mul64' | 'spin']: Guest[K] & { callAsync(...args: unknown[]): Promise<unknown> }
  }
  t.is(await add.callAsync(2, 3), 5)
  t.is(await mul64.callAsync(2n ** 40n, 3n), 3298534883328n)
  assertTrap(t, await rejection(t, spin.callAsync({ timeoutMs: 50 }), 'spin'), 'interrupt', 'callAsync timeoutMs')
})

test('step 4, the V8 side: a module memory has no per-instance cap, an imported one stops at its maximum; a spinning worker is stopped by terminate()', async (t) => {
  // The guest's own memory (no maximum declared) grows past 1 MiB.
  t.is(v8Version([]).grow(32), 1)
  const importer = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(wat2wasm(
    '(module (import "host" "memory" (memory 1)) (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))'))),
  { host: { memory: new WebAssembly.Memory({ initial: 1, maximum: 16 }) } })
  const grow = importer.exports.grow as (n: number) => number
  t.is(grow(15), 1)
  t.is(grow(1), -1)

  const worker = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads')
    const instance = new WebAssembly.Instance(new WebAssembly.Module(workerData.bytes), { host: { log() {} } })
    parentPort.postMessage('spinning')
    instance.exports.spin()`, { eval: true, workerData: { bytes } })
  await new Promise((resolve) => worker.once('message', resolve))
  t.is(await worker.terminate(), 1)
})

// ---- What changes, and why ----

test('what changes: functions are plain JS functions in both; wasmtime-node checks arguments where V8 coerces', (t) => {
  const v8 = v8Version([])
  const { exports: wt } = wasmtimeVersion([])
  for (const ex of [v8, wt]) {
    t.is(typeof ex.add, 'function')
    t.is(ex.add.length, 2)
    t.is(ex.add.call(null, 2, 3), 5)
    t.is(ex.add.apply(null, [2, 3]), 5)
  }
  t.is((v8.add as (...a: unknown[]) => number)('2', 3), 5) // V8: ToInt32('2')
  assertError(t, thrown(t, () => (wt.add as (...a: unknown[]) => number)('2', 3), 'a string for an i32'), TypeError, 'ERR_INVALID_ARG_TYPE', 'a string for an i32')
})

test('what changes: i64 is a BigInt in both, and a number for an i64 is a TypeError in both', (t) => {
  const v8 = v8Version([])
  const { exports: wt } = wasmtimeVersion([])
  for (const ex of [v8, wt]) {
    t.is(typeof ex.mul64(6n, 7n), 'bigint')
    t.is(ex.mul64(6n, 7n), 42n)
    t.throws(() => (ex.mul64 as (...a: unknown[]) => bigint)(6, 7n), { instanceOf: TypeError })
  }
})

test('what changes: errors have classes in both, and stable codes in wasmtime-node', (t) => {
  const v8 = v8Version([])
  const { exports: wt } = wasmtimeVersion([])
  // A trap
  const v8Trap = thrown(t, () => v8.divide(1, 0), 'V8 divide')
  t.true(v8Trap instanceof WebAssembly.RuntimeError)
  t.is((v8Trap as { code?: string }).code, undefined)
  const wtTrap = thrown(t, () => wt.divide(1, 0), 'wasmtime divide')
  assertTrap(t, wtTrap, 'integer_division_by_zero', 'wasmtime divide')
  t.true((wtTrap as Trap).wasmBacktrace.length > 0)
  // Invalid bytes
  const junk = new Uint8Array([0, 0x61, 0x73, 0x6d, 9, 9, 9, 9])
  t.throws(() => new WebAssembly.Module(junk), { instanceOf: WebAssembly.CompileError })
  assertError(t, thrown(t, () => new Module(Engine.default, junk), 'compile'), CompileError, 'ERR_WASM_COMPILE', 'compile')
  // A missing import
  t.throws(() => new WebAssembly.Instance(new WebAssembly.Module(bytes), {}), { instanceOf: TypeError }) // no "host" object at all
  t.throws(() => new WebAssembly.Instance(new WebAssembly.Module(bytes), { host: {} }), { instanceOf: WebAssembly.LinkError })
  assertError(t, thrown(t, () => new Instance(new Store(), new Module(Engine.default, bytes), { host: {} }), 'link'), LinkError, 'ERR_WASM_LINK', 'link', 'log')
})

test('what changes: a store is explicit and disposable; its objects refuse use after dispose()', (t) => {
  const store = new Store()
  const ex = new Instance(store, new Module(Engine.default, bytes), { host: { log: () => {} } }).exports as unknown as Guest
  t.is(ex.add(1, 1), 2)
  store.dispose()
  assertError(t, thrown(t, () => ex.add(1, 1), 'after dispose'), StoreStateError, 'ERR_STORE_CLOSED', 'after dispose')
})
