// Issue 19, part 1: seeing inside a guest. Core dumps on trap (engine option `coredumpOnTrap`,
// `trap.coredump`, `wasmtime-node run --coredump-on-trap`) and native profiler support
// (`profiler: 'perfmap' | 'jitdump'`), each checked by an independent reader: V8 parses the core
// dump (a wasm module by the tool-conventions format) and reads its custom sections and data;
// the perf map and the jitdump are read as the formats `perf` reads.
import test, { type ExecutionContext } from 'ava'
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import { Engine, Instance, Module, Store, Trap, wat2wasm } from '../dist/index.js'
import { assertTrap, thrown } from './helpers/assert'
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
