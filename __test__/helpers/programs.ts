// The C test programs of programs/: their wasm32-wasi builds are committed in programs/wasm
// (built by programs/build.sh with clang-14; __test__/programs.test.ts checks that a rebuild
// gives the same bytes), so the tests need no toolchain. Their native twins are built here with
// the system C compiler into programs/build; where there is none, the outputs recorded in
// programs/expected-native.json stand in (checked against a real native run wherever `cc` exists).
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import test, { type ExecutionContext } from 'ava'

import { testWith } from './prereq'

export const ROOT = path.resolve(__dirname, '..', '..')
export const PROGRAMS = path.join(ROOT, 'programs')
export const WASM_DIR = path.join(PROGRAMS, 'wasm')
const NATIVE_DIR = path.join(PROGRAMS, 'build')
const RECORDED = path.join(PROGRAMS, 'expected-native.json')

export const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0

/** The tests that run the committed wasm programs (they are in the repo: a missing one is an error). */
export function programTest(): typeof test {
  const missing = ['hasher', 'files', 'argsenv', 'sandbox', 'reactor', 'strings'].filter((p) => !fs.existsSync(path.join(WASM_DIR, `${p}.wasm`)))
  return testWith('programs', missing.length ? `programs/wasm/{${missing.join(',')}}.wasm missing (run programs/build.sh)` : undefined)
}

/** The path of a program: `NAME.wasm` (committed) or `NAME.native` (built on demand). */
export function program(file: string): string {
  return file.endsWith('.native') ? path.join(NATIVE_DIR, file) : path.join(WASM_DIR, file)
}

let nativeState: string | null | undefined // null: built; string: why not

function buildNatives(): string | null {
  if (nativeState !== undefined) return nativeState
  if (!have(process.env.CC ?? 'cc')) return (nativeState = 'no C compiler (cc)')
  const srcTime = Math.max(...['hasher.c', 'files.c', 'argsenv.c', 'sha256.h', 'build-native.sh'].map((f) => fs.statSync(path.join(PROGRAMS, f)).mtimeMs))
  const built = ['hasher', 'files', 'argsenv'].every((p) => fs.existsSync(program(`${p}.native`)) && fs.statSync(program(`${p}.native`)).mtimeMs >= srcTime)
  if (!built) {
    try {
      execFileSync('sh', [path.join(PROGRAMS, 'build-native.sh')], { stdio: 'pipe' })
    } catch (e) {
      return (nativeState = `programs/build-native.sh failed: ${(e as { stderr?: Buffer }).stderr?.toString() ?? e}`)
    }
  }
  return (nativeState = null)
}

export interface NativeRun {
  exitCode: number | null
  stdout: string
  stderr: string
}

export interface NativeOptions {
  /** argv[0] (default: the program's name). */
  argv0?: string
  cwd?: string
  env?: Record<string, string>
  input?: Buffer
}

type Recorded = Record<string, NativeRun>

function recordKey(name: string, args: string[], opts: NativeOptions): string {
  const input = opts.input ? createHash('sha256').update(opts.input).digest('hex') : ''
  return JSON.stringify([opts.argv0 ?? name, args, opts.env ?? {}, input])
}

function loadRecorded(): Recorded {
  return fs.existsSync(RECORDED) ? (JSON.parse(fs.readFileSync(RECORDED, 'utf8')) as Recorded) : {}
}

/**
 * What the native build of program `name` outputs for these arguments (argv[0] is `opts.argv0` or `name`, the
 * environment is exactly `opts.env`). Run for real where a C compiler exists — and then checked
 * against the recorded output, if there is one, so the record stays true; from the record where
 * not. `WASMTIME_NODE_RECORD_NATIVE=1` (with a compiler) writes new records.
 */
export function runNative(name: string, args: string[], opts: NativeOptions = {}): NativeRun {
  const key = recordKey(name, args, opts)
  const recorded = loadRecorded()
  const why = buildNatives()
  if (why !== null) {
    const r = recorded[key]
    if (!r) throw new Error(`no native ${name} to run (${why}) and no output recorded in programs/expected-native.json for ${key}`)
    return r
  }
  const p = spawnSync(program(`${name}.native`), args, { argv0: opts.argv0 ?? name, cwd: opts.cwd, env: opts.env ?? {}, input: opts.input })
  const run: NativeRun = { exitCode: p.status, stdout: p.stdout.toString('utf8'), stderr: p.stderr.toString('utf8') }
  const r = recorded[key]
  if (r && JSON.stringify(r) !== JSON.stringify(run)) {
    throw new Error(`the native ${name} output differs from programs/expected-native.json for ${key}:\nrecorded ${JSON.stringify(r)}\nnow      ${JSON.stringify(run)}`)
  }
  if (!r && process.env.WASMTIME_NODE_RECORD_NATIVE === '1') {
    // Re-read right before writing: other test files may have recorded meanwhile.
    const now = loadRecorded()
    now[key] = run
    const sorted = Object.fromEntries(Object.keys(now).sort().map((k) => [k, now[k]]))
    fs.writeFileSync(RECORDED, JSON.stringify(sorted, null, 2) + '\n')
  }
  return run
}

/** `size` pseudo-random bytes, the same for the same seed (so native outputs can be recorded). */
export function seededBytes(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size)
  let block = createHash('sha256').update(seed).digest()
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off)
    block = createHash('sha256').update(block).digest()
  }
  return out
}

/** A fresh temporary directory, removed when the test ends. */
export function tempDir(t: ExecutionContext, prefix = 'wasmtime-node-'): string {
  const d = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), prefix))
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }))
  return d
}
