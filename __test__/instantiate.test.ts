// InstancePre (wasmtime's, native), the pooling allocator, and the on-disk compile cache.
import test from 'ava'
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import { Component, Engine, Linker, LinkError, Module, Store, StoreStateError, WasmtimeError } from '../dist/index.js'
import { assertError, thrown } from './helpers/assert'
import { fn, global, mem } from './helpers/util'

const native = require('../index.js')

const PLUGIN = `(module
  (import "host" "twice" (func $twice (param i32) (result i32)))
  (memory (export "memory") 1)
  (global $g (export "g") (mut i32) (i32.const 0))
  (data (i32.const 8) "seed")
  (func (export "run") (param i32) (result i32)
    (global.set $g (i32.add (global.get $g) (i32.const 1)))
    (i32.store (i32.const 0) (call $twice (local.get 0)))
    (i32.load (i32.const 0))))`

function tmp(t: { teardown(f: () => void): void }): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'wtn-inst-'))
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }))
  return d
}

test('InstancePre: each instantiate is a fresh instance with the linker host functions bound', (t) => {
  const linker = new Linker(Engine.default)
  let calls = 0
  linker.func('host', 'twice', { params: ['i32'], results: ['i32'] }, (x: number) => (calls++, 2 * x))
  const pre = linker.instantiatePre(new Module(Engine.default, PLUGIN))
  for (let i = 1; i <= 3; i++) {
    const store = new Store()
    const a = pre.instantiate(store)
    const b = pre.instantiate(store)
    t.is(fn(a, 'run')(i), 2 * i)
    t.is(global(a, 'g').value, 1, 'fresh globals per instance')
    t.is(global(b, 'g').value, 0)
    t.deepEqual([...mem(b).read(8, 4)], [...Buffer.from('seed')], 'data segments applied')
    t.is(mem(b).read(0, 4)[0], 0, 'memory not shared between instances')
    store.dispose()
  }
  t.is(calls, 3)
})

test('InstancePre: missing imports fail at instantiatePre, with LinkError', (t) => {
  const e = thrown(t, () => new Linker(Engine.default).instantiatePre(new Module(Engine.default, PLUGIN)), 'instantiatePre')
  assertError(t, e, LinkError, 'ERR_WASM_LINK', 'instantiatePre with host.twice undefined', 'twice')
})

test('InstancePre: store-owned definitions tie it to that store; other engines are refused', (t) => {
  const owner = new Store()
  const linker = new Linker(Engine.default)
  const twice = new (require('../dist/index.js').Func)(owner, { params: ['i32'], results: ['i32'] }, (x: number) => 2 * x)
  linker.define(owner, 'host', 'twice', twice)
  const pre = linker.instantiatePre(new Module(Engine.default, PLUGIN))
  t.is(fn(pre.instantiate(owner), 'run')(4), 8)
  assertError(t, thrown(t, () => pre.instantiate(new Store()), 'another store'), StoreStateError, 'ERR_WRONG_STORE', 'instantiate into another store')
  const other = new Engine({ epochInterruption: false })
  const free = new Linker(Engine.default).instantiatePre(new Module(Engine.default, '(module)'))
  assertError(t, thrown(t, () => free.instantiate(new Store(other)), 'store of another engine'), LinkError, 'ERR_WASM_LINK', 'instantiate into a store of another engine', "another engine than the store's")
  assertError(t, thrown(t, () => new Linker(other).instantiatePre(new Module(Engine.default, '(module)')), 'linker of another engine'), LinkError, 'ERR_WASM_LINK', 'instantiatePre on a linker of another engine', "another engine than the linker's")
  owner.dispose()
  assertError(t, thrown(t, () => pre.instantiate(owner), 'disposed store'), StoreStateError, 'ERR_STORE_CLOSED', 'instantiate into the disposed owner')
})

for (const [how, extra] of [
  ['', {}],
  [', memory and tables kept resident (reset by memset)', { linearMemoryKeepResident: 65536, tableKeepResident: 4096 }],
] as const) {
test(`pooling allocator${how}: thousands of per-request stores reuse the slots; exhaustion is WasmtimeError ERR_RESOURCE_EXHAUSTED, not a crash`, (t) => {
  const engine = new Engine({ allocator: { pooling: { totalCoreInstances: 8, totalMemories: 8, totalTables: 8, maxMemorySize: 1 << 20, ...extra } } })
  const linker = new Linker(engine)
  linker.func('host', 'twice', { params: ['i32'], results: ['i32'] }, (x: number) => 2 * x)
  const pre = linker.instantiatePre(new Module(engine, PLUGIN))
  for (let i = 0; i < 3000; i++) {
    const store = new Store(engine)
    const inst = pre.instantiate(store)
    t.is(mem(inst).read(0, 4)[0], 0, 'a reused memory slot starts zeroed')
    if (fn(inst, 'run')(i) !== 2 * i) t.fail(`wrong result at ${i}`)
    store.dispose()
  }
  const live = Array.from({ length: 8 }, () => new Store(engine))
  live.forEach((s) => pre.instantiate(s))
  // Exhaustion is not a link failure: its own code, wasmtime's words and what to do.
  const e = thrown(t, () => pre.instantiate(new Store(engine)), 'a ninth instance')
  assertError(t, e, WasmtimeError, 'ERR_RESOURCE_EXHAUSTED', 'a ninth instance with 8 slots', 'maximum concurrent limit of 8 for core instances reached')
  t.true(!(e instanceof LinkError) && /dispose stores/.test((e as Error).message), (e as Error).message)
  live.forEach((s) => s.dispose())
  t.is(fn(pre.instantiate(new Store(engine)), 'run')(5), 10, 'slots come back after dispose')
})
}

test('address space used up (ulimit -v): WasmtimeError ERR_RESOURCE_EXHAUSTED saying what to do; the process keeps working', (t) => {
  // About 19 GiB of address space: Node starts, and each 1-page memory reserves 4 GiB + guard.
  const script = path.join(__dirname, 'workers', 'address-space-child.cjs')
  const api = path.resolve(__dirname, '../dist/index.js')
  const r = spawnSync('bash', ['-c', `ulimit -v 20000000 && exec "${process.execPath}" "${script}" "${api}"`], { encoding: 'utf8', timeout: 120_000 })
  t.is(r.status, 0, r.stderr)
  const { plain, small } = JSON.parse(r.stdout.trim().split('\n').pop()!)
  t.true(plain.held >= 1 && plain.held < 1000, `stores that fit: ${plain.held}`)
  t.like(plain.error, { linkError: false, wasmtimeError: true, code: 'ERR_RESOURCE_EXHAUSTED' })
  t.regex(plain.error.message, /^mmap failed to reserve .*: the process ran out of address space .*dispose stores.*memoryReservation/)
  t.is(plain.after, 7, 'after the dispose, instantiation works again')
  t.is(small.held, 200, 'with a 1 MiB memoryReservation, 200 stores fit where a handful did')
  t.is(small.error, undefined)
})

test('compile cache: a second compile (also in another process) loads the cached module', (t) => {
  const dir = tmp(t)
  const engine = new Engine({ cache: { directory: dir } })
  const wat = `(module (func (export "f") (result i32) (i32.const ${Date.now() % 1000})))`
  const [h0, m0] = native.compileCacheStats() as number[]
  const a = new Module(engine, wat)
  const files = fs.readdirSync(dir)
  t.is(files.length, 1)
  t.regex(files[0]!, /^[0-9a-f]{64}\.cwasm$/)
  const b = new Module(engine, wat)
  const [h1, m1] = native.compileCacheStats() as number[]
  t.deepEqual([h1! - h0!, m1! - m0!], [1, 1], 'one miss, then one hit')
  t.is(fn(new (require('../dist/index.js').Instance)(new Store(engine), b), 'f')(), fn(new (require('../dist/index.js').Instance)(new Store(engine), a), 'f')())
  const script = `const wt = require(${JSON.stringify(path.resolve(__dirname, '../dist/index.js'))}); const n = require(${JSON.stringify(path.resolve(__dirname, '../index.js'))});
    new wt.Module(new wt.Engine({ cache: { directory: ${JSON.stringify(dir)} } }), ${JSON.stringify(wat)}); console.log(n.compileCacheStats().join(','))`
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
  t.is(r.stdout.trim(), '1,0', r.stderr)
})

test.serial('compile cache: components are cached too (new Component and Component.compile, and another process)', async (t) => {
  const dir = tmp(t)
  const engine = new Engine({ cache: { directory: dir } })
  const bytes = fs.readFileSync(path.join(__dirname, 'components', 'scalars.wasm'))
  const [h0, m0] = native.compileCacheStats() as number[]
  const a = new Component(engine, bytes)
  t.is(fs.readdirSync(dir).length, 1, 'one entry written')
  const b = await Component.compile(engine, bytes)
  const [h1, m1] = native.compileCacheStats() as number[]
  t.deepEqual([h1! - h0!, m1! - m0!], [1, 1], 'one miss, then one hit')
  t.deepEqual(b.exports, a.exports, 'the cached component has the same exports')
  const script = `const wt = require(${JSON.stringify(path.resolve(__dirname, '../dist/index.js'))}); const n = require(${JSON.stringify(path.resolve(__dirname, '../index.js'))});
    new wt.Component(new wt.Engine({ cache: { directory: ${JSON.stringify(dir)} } }), require('fs').readFileSync(${JSON.stringify(path.join(__dirname, 'components', 'scalars.wasm'))})); console.log(n.compileCacheStats().join(','))`
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
  t.is(r.stdout.trim(), '1,0', r.stderr)
})

test('compile cache: another engine configuration gets its own entry; a corrupt entry is recompiled', async (t) => {
  const dir = tmp(t)
  const wat = '(module (func (export "f") (result i32) (i32.const 7)))'
  new Module(new Engine({ cache: { directory: dir } }), wat)
  new Module(new Engine({ cache: { directory: dir }, consumeFuel: true }), wat)
  const files = fs.readdirSync(dir)
  t.is(files.length, 2)
  for (const f of files) fs.writeFileSync(path.join(dir, f), 'garbage')
  const m = await Module.compile(new Engine({ cache: { directory: dir } }), wat)
  t.is(fn(new (require('../dist/index.js').Instance)(new Store(m.engine), m), 'f')(), 7)
  t.true(fs.readdirSync(dir).some((f) => fs.readFileSync(path.join(dir, f)).subarray(0, 4).toString('latin1') === '\x7fELF'), 'rewritten')
})

test('compile cache: bad options are typed errors; an unwritable directory only loses the caching', (t) => {
  for (const cache of ['yes', { directory: 3 }, { directory: '' }, 1]) {
    assertError(t, thrown(t, () => new Engine({ cache: cache as never }), 'bad cache'), TypeError, 'ERR_INVALID_ARG_VALUE', `cache: ${JSON.stringify(cache)}`)
  }
  const file = path.join(tmp(t), 'not-a-dir')
  fs.writeFileSync(file, 'x')
  const m = new Module(new Engine({ cache: { directory: path.join(file, 'sub') } }), '(module (func (export "f") (result i32) (i32.const 3)))')
  t.is(fn(new (require('../dist/index.js').Instance)(new Store(m.engine), m), 'f')(), 3)
})
