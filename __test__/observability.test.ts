// Issue 19, part 1: seeing inside a guest. Core dumps on trap (engine option `coredumpOnTrap`,
// `trap.coredump`, `wasmtime-node run --coredump-on-trap`), native profiler support
// (`profiler: 'perfmap' | 'jitdump'`) and guest profiles (`store.startProfiling`, runWasi's
// `profile`, `run --profile guest`), each checked by an independent reader: V8 parses the core
// dump (a wasm module by the tool-conventions format) and reads its custom sections and data;
// the perf map and the jitdump are read as the formats `perf` reads; a guest profile is read as
// the Firefox profiler reads its processed format, and its stacks must be the call structure
// the guest's source spells out, named by the guest's own name section.
import test, { type ExecutionContext } from 'ava'
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import { Engine, Instance, Module, Store, StoreStateError, Trap, WasmtimeError, runWasi, runWasiAsync, wat2wasm } from '../dist/index.js'
import { assertError, assertTrap, rejection, thrown } from './helpers/assert'
import { jco } from './helpers/jco'
import { tempDir } from './helpers/programs'

const ROOT = path.resolve(__dirname, '..')
const CLI = path.join(ROOT, 'dist', 'cli.js')

// A guest that writes a marker into its memory, sets a global and traps two calls deep.
const TRAPPING = `(module $crashy
  (memory (export "memory") 1)
  (global $g (export "g") (mut i32) (i32.const 0))
  (data (i32.const 64) "MARKER-in-linear-memory")
  (func $inner (param i32) (global.set $g (local.get 0)) unreachable)
  (func $outer (export "outer") (param i32) (call $inner (i32.add (local.get 0) (i32.const 1))))
  (func (export "_start") (call $outer (i32.const 41))))`

function trapOf(t: ExecutionContext, engine: Engine): Trap {
  const inst = new Instance(new Store(engine), new Module(engine, TRAPPING))
  const e = thrown(t, () => (inst.exports.outer as (x: number) => void)(41), 'outer(41)')
  return e as Trap
}

/** The custom sections of a core dump, as V8 reads them. */
function sections(dump: Uint8Array): Record<string, ArrayBuffer[]> {
  const m = new WebAssembly.Module(dump)
  const out: Record<string, ArrayBuffer[]> = {}
  for (const name of ['core', 'coremodules', 'coreinstances', 'corestack']) out[name] = WebAssembly.Module.customSections(m, name)
  return out
}

test('coredumpOnTrap: a Trap carries a core dump V8 parses, with the tool-conventions sections, the memory\'s bytes and the globals\' values', async (t) => {
  const plain = trapOf(t, new Engine())
  assertTrap(t, plain, 'unreachable', 'without the option')
  t.is(plain.coredump, undefined, 'no core dump unless asked for')

  const e = trapOf(t, new Engine({ coredumpOnTrap: true }))
  assertTrap(t, e, 'unreachable', 'with the option')
  t.true(e.coredump instanceof Uint8Array, 'trap.coredump is a Uint8Array')
  const dump = e.coredump!
  t.deepEqual([...dump.subarray(0, 4)], [0x00, 0x61, 0x73, 0x6d], 'a wasm binary (the format: a core dump is a wasm module)')
  const s = sections(dump)
  for (const name of ['core', 'coremodules', 'coreinstances', 'corestack']) t.is(s[name]!.length, 1, `one "${name}" custom section`)
  t.true(Buffer.from(dump).includes('MARKER-in-linear-memory'), 'the memory\'s contents are in the dump (its data)')
  t.true(Buffer.from(s.coremodules![0]!).includes('crashy'), 'coremodules names the module')
  // The dump defines the store's globals with their values at the trap: wasm-tools (jco's
  // `print`) shows the global set to 42 just before the trap.
  const text = await (await jco()).print(dump)
  t.regex(text, /\(global \(;0;\) \(mut i32\) i32\.const 42\)/, 'the global, set to 42 before the trap, has that value in the dump')
  t.regex(text, /@custom "corestack"/)
})

test('wasmtime-node run --coredump-on-trap PATH writes the dump of a trapping program and exits 134', (t) => {
  const dir = tempDir(t)
  const wasm = path.join(dir, 'crashy.wasm')
  fs.writeFileSync(wasm, wat2wasm(TRAPPING))
  const dump = path.join(dir, 'crashy.coredump')
  const r = spawnSync(process.execPath, [CLI, 'run', '--coredump-on-trap', dump, wasm], { encoding: 'utf8' })
  t.is(r.status, 134, r.stderr)
  t.regex(r.stderr, /core dump written to/)
  const bytes = fs.readFileSync(dump)
  t.is(sections(new Uint8Array(bytes)).corestack!.length, 1, 'a core dump with a corestack section')
  t.true(bytes.includes('MARKER-in-linear-memory'))
})

/** Run `script` (CommonJS, with `wt` the package) in a child Node in `cwd`; returns its pid and output. */
function child(script: string, cwd: string): { pid: number; status: number | null; stdout: string; stderr: string } {
  const code = `const wt = require(${JSON.stringify(path.join(ROOT, 'dist', 'index.js'))}); ${script}; console.log(process.pid)`
  const r = spawnSync(process.execPath, ['-e', code], { cwd, encoding: 'utf8' })
  return { pid: Number(r.stdout.trim().split('\n').pop()), status: r.status, stdout: r.stdout, stderr: r.stderr }
}

const NAMED = `(module (func $compute_checksum (export "f") (result i32) (i32.const 7)) (func $another_named_function (export "g") (result i32) (i32.const 8)))`

test("profiler: 'perfmap' writes /tmp/perf-<pid>.map with the wasm functions' names, as perf reads it", (t) => {
  const dir = tempDir(t)
  const r = child(`const e = new wt.Engine({ profiler: 'perfmap' }); const i = new wt.Instance(new wt.Store(e), new wt.Module(e, ${JSON.stringify(NAMED)})); i.exports.f(); i.exports.g()`, dir)
  t.is(r.status, 0, r.stderr)
  const map = `/tmp/perf-${r.pid}.map`
  t.teardown(() => fs.rmSync(map, { force: true }))
  const lines = fs.readFileSync(map, 'utf8').trim().split('\n')
  // perf's format: START SIZE NAME, hexadecimal addresses
  for (const l of lines) t.regex(l, /^(0x)?[0-9a-f]+ (0x)?[0-9a-f]+ .+$/i, l)
  t.true(lines.some((l) => l.includes('compute_checksum')), 'the first function by its name')
  t.true(lines.some((l) => l.includes('another_named_function')), 'the second function by its name')
})

test("profiler: 'jitdump' writes jit-<pid>.dump (the JiTD format perf inject reads) with the functions' names", (t) => {
  const dir = tempDir(t)
  const r = child(`const e = new wt.Engine({ profiler: 'jitdump' }); const i = new wt.Instance(new wt.Store(e), new wt.Module(e, ${JSON.stringify(NAMED)})); i.exports.f()`, dir)
  t.is(r.status, 0, r.stderr)
  const file = [dir, '/tmp'].map((d) => path.join(d, `jit-${r.pid}.dump`)).find((f) => fs.existsSync(f))
  t.truthy(file, `jit-${r.pid}.dump written (in the working directory or /tmp)`)
  t.teardown(() => fs.rmSync(file!, { force: true }))
  const bytes = fs.readFileSync(file!)
  t.is(bytes.readUInt32LE(0), 0x4a695444, 'the JiTD magic')
  t.true(bytes.includes('compute_checksum'), 'a code-load record names the function')
})

// ---------------------------------------------------------------------------------------------
// Guest profiles (wasmtime's GuestProfiler)
// ---------------------------------------------------------------------------------------------

// `run(k)`: k rounds of `inner` (a hot loop), each followed by a host call `env.tick`.
const PROFILED = `(module $prog
  (import "env" "tick" (func $tick (param i32)))
  (func $inner (param $n i32) (result i32) (local $i i32) (local $s i32)
    (loop $l (local.set $s (i32.add (local.get $s) (i32.mul (local.get $i) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $s))
  (func $outer (export "run") (param $k i32) (result i32) (local $j i32) (local $acc i32)
    (loop $l (local.set $acc (i32.add (local.get $acc) (call $inner (i32.const 100000))))
      (call $tick (local.get $j))
      (local.set $j (i32.add (local.get $j) (i32.const 1))) (br_if $l (i32.lt_u (local.get $j) (local.get $k))))
    (local.get $acc)))`

interface Thread {
  samples: { length: number; stack: (number | null)[] }
  stackTable: { prefix: (number | null)[]; frame: number[] }
  frameTable: { func: number[] }
  funcTable: { name: number[] }
  stringArray: string[]
  markers: { length: number; name: number[]; phase: number[]; data: ({ type?: string; cause?: { stack: number } } | null)[] }
}
interface Profile { meta: { interval: number; product: string }; threads: Thread[] }

/** The function names of stack `s`, outermost first (as the Firefox profiler walks `prefix`). */
function stackNames(th: Thread, s: number | null): string[] {
  const names: string[] = []
  for (let i = s; i !== null && i !== undefined; i = th.stackTable.prefix[i]!) names.unshift(th.stringArray[th.funcTable.name[th.frameTable.func[th.stackTable.frame[i]!]!]!]!)
  return names
}

function parseProfile(t: ExecutionContext, json: unknown): { p: Profile; th: Thread; stacks: string[][] } {
  t.is(typeof json, 'string')
  const p = JSON.parse(json as string) as Profile
  t.is(p.threads.length, 1)
  const th = p.threads[0]!
  return { p, th, stacks: th.samples.stack.map((s) => stackNames(th, s)) }
}

function profiledInstance(store: Store, onTick: () => void = () => {}): (k: number) => number {
  return new Instance(store, new Module(store.engine, PROFILED), { env: { tick: onTick } }).exports.run as (k: number) => number
}

test('store.startProfiling/stopProfiling: a Firefox processed profile whose stacks are the guest\'s calls, named from its name section, with host-call markers', (t) => {
  const store = new Store()
  const run = profiledInstance(store)
  store.startProfiling({ name: 'demo' })
  const K = 1000
  const t0 = performance.now()
  run(K)
  const ms = performance.now() - t0
  const { p, th, stacks } = parseProfile(t, store.stopProfiling())
  t.is(p.meta.product, 'demo')
  t.is(p.meta.interval, 1)
  t.true(th.samples.length >= 5, `${th.samples.length} samples in ${ms.toFixed(0)} ms`)
  // Every sampled stack is a path of the guest's call graph: outer, or outer → inner.
  for (const s of stacks) t.true(['outer', 'outer/inner'].includes(s.join('/')), s.join('/'))
  t.true(stacks.some((s) => s.join('/') === 'outer/inner'), 'the hot loop is sampled inside inner, called by outer')
  // Each host call is an interval (start, end) whose stack is the calling wasm: outer for tick.
  const starts = th.markers.phase.map((ph, i) => [ph, i] as const).filter(([ph]) => ph === 2).map(([, i]) => i)
  t.is(th.markers.phase.filter((ph) => ph === 3).length, starts.length, 'every host-call start has its end')
  t.is(starts.length, K, 'one marker per call of the JS host function')
  t.true(starts.every((i) => stackNames(th, th.markers.data[i]?.cause?.stack ?? null).join('/') === 'outer'), 'each called from outer')
  t.true(starts.every((i) => th.stringArray[th.markers.name[i]!] === 'hostcall'))
})

test('startProfiling: intervalMs spaces the samples (never two within an interval); after stopProfiling nothing is sampled', (t) => {
  const store = new Store()
  const run = profiledInstance(store)
  store.startProfiling({ intervalMs: 25 })
  const t0 = performance.now()
  run(1000)
  const ms = performance.now() - t0
  const { th } = parseProfile(t, store.stopProfiling())
  t.true(th.samples.length <= ms / 25 + 2, `${th.samples.length} samples in ${ms.toFixed(0)} ms at 25 ms`)
  run(10)
  assertError(t, thrown(t, () => store.stopProfiling(), 'stop again'), StoreStateError, 'ERR_PROFILING_INACTIVE', 'stopProfiling without a profile')
  // A second profile of the same store starts afresh.
  store.startProfiling()
  run(300)
  const again = parseProfile(t, store.stopProfiling())
  t.true(again.stacks.every((s) => s[0] === 'outer'))
})

test('startProfiling refuses: a second profile, an engine without epochs, a running store, a disposed store (class and code)', (t) => {
  const store = new Store()
  const run = profiledInstance(store, () => {
    assertError(t, thrown(t, () => store.startProfiling(), 'inside a host call'), StoreStateError, 'ERR_STORE_BUSY', 'startProfiling from a host function')
  })
  run(1)
  store.startProfiling()
  assertError(t, thrown(t, () => store.startProfiling(), 'twice'), StoreStateError, 'ERR_PROFILING_ACTIVE', 'a second startProfiling')
  store.stopProfiling()
  const noEpochs = new Store(new Engine({ epochInterruption: false }))
  assertError(t, thrown(t, () => noEpochs.startProfiling(), 'no epochs'), WasmtimeError, 'ERR_INTERRUPT_UNAVAILABLE', 'an engine without epochs', 'epochInterruption')
  store.dispose()
  assertError(t, thrown(t, () => store.startProfiling(), 'disposed'), StoreStateError, 'ERR_STORE_CLOSED', 'a disposed store')
  assertError(t, thrown(t, () => store.stopProfiling(), 'disposed'), StoreStateError, 'ERR_STORE_CLOSED', 'a disposed store')
})

for (const async of [false, true]) {
  test(`guest profile of callAsync (${async ? 'an async store: a fiber on the pool' : 'a plain store: a blocking thread'})`, async (t) => {
    const store = new Store(Engine.default, { async })
    const run = profiledInstance(store) as ((k: number) => number) & { callAsync(k: number): Promise<number> }
    store.startProfiling()
    await run.callAsync(1000)
    const { th, stacks } = parseProfile(t, store.stopProfiling())
    t.true(th.samples.length >= 3, `${th.samples.length} samples`)
    t.true(stacks.every((s) => s[0] === 'outer'), stacks.map((s) => s.join('/')).join(', '))
    t.true(stacks.some((s) => s.join('/') === 'outer/inner'))
  })
}

// A C program (clang-14, wasm32-wasi): every stack starts at its entry point, the `_start`
// export (named `_start.command_export` by wasi-libc's command wrapper).
const KERNEL = path.join(ROOT, 'programs', 'wasm', 'kernel-matmul.wasm')

test('runWasi({ profile }) and runWasiAsync: the profile of a real C program, every stack rooted at _start; a trap carries its profile', async (t) => {
  for (const r of [runWasi(fs.readFileSync(KERNEL), { args: ['matmul', '128'], stdout: 'capture', profile: { intervalMs: 1 } }), await runWasiAsync(fs.readFileSync(KERNEL), { args: ['matmul', '128'], stdout: 'capture', profile: true })]) {
    t.is(r.exitCode, 0)
    const { th, stacks } = parseProfile(t, r.profile)
    t.true(th.samples.length >= 3, `${th.samples.length} samples`)
    t.true(stacks.every((s) => s[0]!.startsWith('_start')), [...new Set(stacks.map((s) => s[0]))].join(', '))
    t.true(stacks.some((s) => s.includes('main')), 'main is on the sampled stacks')
  }
  const e = thrown(t, () => runWasi(wat2wasm(TRAPPING), { profile: true }), 'a trapping run')
  t.true(e instanceof Trap)
  const { p } = parseProfile(t, (e as { profile?: string }).profile)
  t.is(p.threads.length, 1)
  assertError(t, thrown(t, () => runWasi(wat2wasm(TRAPPING), { profile: 5 as unknown as boolean }), 'profile: 5'), TypeError, 'ERR_INVALID_ARG_TYPE', 'profile: 5')
  assertError(t, await rejection(t, runWasiAsync(fs.readFileSync(KERNEL), { profile: { intervalMs: 0 } }), 'intervalMs 0'), RangeError, 'ERR_OUT_OF_RANGE', 'intervalMs: 0')
})

test('wasmtime-node run --profile guest,PATH,INTERVAL writes the profile of a C program; --profile perfmap names its functions for perf; a bad --profile is a usage error', (t) => {
  const dir = tempDir(t)
  const out = path.join(dir, 'guest.json')
  const r = spawnSync(process.execPath, [CLI, 'run', '--profile', `guest,${out},2ms`, KERNEL, '192'], { encoding: 'utf8' })
  t.is(r.status, 0, r.stderr)
  t.regex(r.stderr, /guest profile written to/)
  const { p, stacks } = parseProfile(t, fs.readFileSync(out, 'utf8'))
  t.is(p.meta.interval, 2)
  t.is(p.meta.product, 'kernel-matmul.wasm')
  t.true(stacks.length >= 1 && stacks.every((s) => s[0]!.startsWith('_start')), `${stacks.length} samples: ${[...new Set(stacks.map((s) => s.join('/')))].join(', ')}`)
  const def = spawnSync(process.execPath, [CLI, 'run', '--profile=guest', KERNEL, '16'], { encoding: 'utf8', cwd: dir })
  t.is(def.status, 0, def.stderr)
  t.is(parseProfile(t, fs.readFileSync(path.join(dir, 'wasmtime-guest-profile.json'), 'utf8')).p.meta.interval, 10, "wasmtime's defaults: that file name, 10 ms")
  const perf = spawnSync(process.execPath, [CLI, 'run', '--profile', 'perfmap', KERNEL, '16'], { encoding: 'utf8' })
  t.is(perf.status, 0, perf.stderr)
  const map = `/tmp/perf-${perf.pid}.map`
  t.teardown(() => fs.rmSync(map, { force: true }))
  t.true(fs.readFileSync(map, 'utf8').includes('main'), 'the perf map names main')
  for (const bad of ['guest,x,0ms', 'sampler', 'perfmap,x']) {
    const u = spawnSync(process.execPath, [CLI, 'run', '--profile', bad, KERNEL], { encoding: 'utf8' })
    t.is(u.status, 2, bad)
    t.regex(u.stderr, /--profile/, bad)
  }
})
