// Caller context (issue 17, item 1): `withCaller(fn)` and `linker.func(..., { caller: true })` call
// `fn(caller, ...args)`, with the calling store, its data and the calling instance's exports. The
// expected values come from the guests' own data segments and globals, written in the WAT below.
import test from 'ava'

import { Caller, Component, ComponentLinker, Engine, Func, Instance, Linker, Memory, Module, Store, StoreStateError, withCaller } from '../dist/index.js'
import type { Global } from '../dist/index.js'
import { assertError, thrown } from './helpers/assert'

// `run()` logs its greeting through the host: `log(ptr, len)` of a string in its own memory.
const GREETER = (greeting: string) => `(module
  (import "env" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "${greeting}")
  (func (export "run") (call $log (i32.const 16) (i32.const ${greeting.length}))))`

interface Log {
  lines: string[]
}

const readLog = (caller: Caller<Log>, ptr: number, len: number) => {
  caller.data.lines.push((caller.exports.memory as Memory).readString(ptr, len))
}

test('one InstancePre with a caller-context host function serves many stores: each call sees its own store, data and memory', (t) => {
  const linker = new Linker().func('env', 'log', { params: ['i32', 'i32'], results: [] }, readLog, { caller: true })
  const preA = linker.instantiatePre(new Module(Engine.default, GREETER('hello from a')))
  const preB = linker.instantiatePre(new Module(Engine.default, GREETER('bonjour de b')))
  const stores = Array.from({ length: 6 }, () => new Store<Log>(Engine.default, { data: { lines: [] } }))
  stores.forEach((s, i) => ((i % 2 ? preB : preA).instantiate(s).exports.run as () => void)())
  stores.forEach((s, i) => t.deepEqual(s.data.lines, [i % 2 ? 'bonjour de b' : 'hello from a'], `store ${i}`))
})

test('withCaller in an import object and in new Func: caller.store is the calling store; exports are live objects', (t) => {
  const store = new Store<Log>(undefined, { data: { lines: [] } })
  let seen: Store<Log> | undefined
  const log = withCaller((caller: Caller<Log>, ptr: number, len: number) => {
    seen = caller.store
    readLog(caller, ptr, len)
  })
  const inst = new Instance(store, new Module(Engine.default, GREETER('via imports')), { env: { log } })
  ;(inst.exports.run as () => void)()
  t.is(seen, store)
  const viaFunc = new Func(store, { params: ['i32', 'i32'], results: [] }, log)
  const inst2 = new Instance(store, new Module(Engine.default, GREETER('via new Func')), { env: { log: viaFunc } })
  ;(inst2.exports.run as () => void)()
  t.deepEqual(store.data.lines, ['via imports', 'via new Func'])
})

test('a caller used after its call returned throws StoreStateError ERR_CALLER_EXPIRED', (t) => {
  let kept: Caller | undefined
  const inst = new Instance(new Store(), new Module(Engine.default, GREETER('x')), { env: { log: withCaller((caller: Caller) => void (kept = caller)) } })
  ;(inst.exports.run as () => void)()
  for (const [what, use] of [['store', () => kept!.store], ['data', () => kept!.data], ['exports', () => kept!.exports]] as const) {
    assertError(t, thrown(t, use, what), StoreStateError, 'ERR_CALLER_EXPIRED', `caller.${what} after the call`)
  }
})

test('a caller-context function called from JS (not from wasm) has no calling instance: its exports are empty', (t) => {
  const store = new Store()
  let memory: unknown = 'unset'
  const f = new Func(store, { params: [], results: ['i32'] }, withCaller((caller: Caller) => {
    memory = caller.exports.memory
    return 7
  }))
  t.is(f.call(), 7)
  t.is(memory, undefined)
})

test('nested host calls: each caller names its own calling instance, also after an inner call returned', (t) => {
  // X.run calls host a, which calls Y.go, which calls host b. X exports idx = 1, Y exports idy = 2.
  const store = new Store()
  const seen: Record<string, unknown> = {}
  let yGo: () => void = () => {}
  let outer: Caller | undefined
  const a = withCaller((caller: Caller) => {
    outer = caller
    seen.aBefore = caller.exports.idy // X has no idy (and idx stays unlooked-up until B runs)
    yGo()
    seen.aAfter = (caller.exports.idx as Global | undefined)?.value
  })
  const b = withCaller((caller: Caller) => {
    seen.b = (caller.exports.idy as Global | undefined)?.value
    // The outer call's caller, used while the inner one runs: still X's exports (first lookup).
    seen.outerDuringB = (outer!.exports.idx as Global | undefined)?.value
  })
  const x = new Instance(store, new Module(Engine.default, '(module (import "env" "a" (func $a)) (global (export "idx") i32 (i32.const 1)) (func (export "run") (call $a)))'), { env: { a } })
  const y = new Instance(store, new Module(Engine.default, '(module (import "env" "b" (func $b)) (global (export "idy") i32 (i32.const 2)) (func (export "go") (call $b)))'), { env: { b } })
  yGo = y.exports.go as () => void
  ;(x.exports.run as () => void)()
  t.deepEqual(seen, { aBefore: undefined, b: 2, outerDuringB: 1, aAfter: 1 })
})

test('the caller calls back into its instance: a guest allocator through caller.exports', (t) => {
  // alloc(n) bumps a pointer; the host copies a reply into the guest through it.
  const wat = `(module
    (import "env" "ask" (func $ask (result i32)))
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "alloc") (param i32) (result i32) (global.get $next) (global.set $next (i32.add (global.get $next) (local.get 0))))
    (func (export "run") (result i32) (i32.load8_u (call $ask))))`
  const ask = withCaller((caller: Caller) => {
    const ptr = (caller.exports.alloc as (n: number) => number)(4)
    ;(caller.exports.memory as Memory).write(ptr, new Uint8Array([42, 0, 0, 0]))
    return ptr
  })
  const inst = new Instance(new Store(), new Module(Engine.default, wat), { env: { ask } })
  t.is((inst.exports.run as () => number)(), 42)
})

test('callAsync: the caller stays valid across an awaited Promise, and expires when it settles', async (t) => {
  for (const async of [false, true]) {
    const store = new Store<Log>(undefined, { data: { lines: [] }, async })
    let kept: Caller<Log> | undefined
    const log = withCaller(async (caller: Caller<Log>, ptr: number, len: number) => {
      kept = caller
      await new Promise((r) => setTimeout(r, 5))
      readLog(caller, ptr, len)
    })
    const inst = new Instance(store, new Module(Engine.default, GREETER(`async ${async}`)), { env: { log } })
    const run = inst.exports.run as { callAsync(): Promise<unknown> }
    await run.callAsync()
    t.deepEqual(store.data.lines, [`async ${async}`])
    assertError(t, thrown(t, () => kept!.exports, 'after'), StoreStateError, 'ERR_CALLER_EXPIRED', 'caller.exports after the Promise settled')
  }
})

test('bad input: withCaller of a non-function, a wrapped function called directly, linker.func option typos', (t) => {
  t.throws(() => withCaller(42 as never), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
  t.throws(() => withCaller(() => 1)(), { instanceOf: TypeError, code: 'ERR_CALLER_REQUIRED' })
  const type = { params: [], results: [] } as const
  t.throws(() => new Linker().func('env', 'f', type, () => {}, { caler: true } as never), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_VALUE', message: /caler.*caller/ })
  t.throws(() => new Linker().func('env', 'f', type, () => {}, { caller: 1 } as never), { instanceOf: TypeError, code: 'ERR_INVALID_ARG_TYPE' })
})

test("components' host functions take a caller too: the calling store and its data, one InstancePre for every store", (t) => {
  // `run()` calls the root import `tick` twice and returns the sum of what it returned.
  const component = new Component(Engine.default, `(component
    (import "tick" (func $tick (result u32)))
    (core func $tick_lowered (canon lower (func $tick)))
    (core module $m
      (import "host" "tick" (func $t (result i32)))
      (func (export "run") (result i32) (i32.add (call $t) (call $t))))
    (core instance $hi (export "tick" (func $tick_lowered)))
    (core instance $i (instantiate $m (with "host" (instance $hi))))
    (func (export "run") (result u32) (canon lift (core func $i "run"))))`)
  const seen: Array<Store<{ n: number }>> = []
  const linker = new ComponentLinker().define({
    tick: withCaller((caller: Caller<{ n: number }>) => {
      seen.push(caller.store)
      t.is(caller.exports.memory, undefined, 'a component hides its core exports')
      return ++caller.data.n
    }),
  })
  const pre = linker.instantiatePre(component)
  const stores = [new Store(undefined, { data: { n: 0 } }), new Store(undefined, { data: { n: 10 } })]
  t.deepEqual(stores.map((s) => (pre.instantiate(s).exports.run as () => number)()), [1 + 2, 11 + 12])
  t.deepEqual(stores.map((s) => s.data.n), [2, 12])
  t.deepEqual(seen, [stores[0], stores[0], stores[1], stores[1]])
})
