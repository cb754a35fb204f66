// The C test programs of programs/: built once per test run by programs/build.sh (clang-14 for
// wasm32-wasi, gcc for native twins). Without the toolchain the tests that need them are
// skipped with the reason printed (scripts/install-wasi-toolchain.sh installs it; CI does).
import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import test, { type ExecutionContext } from 'ava'

export const ROOT = path.resolve(__dirname, '..', '..')
const DIR = path.join(ROOT, 'programs')
const BUILD = path.join(DIR, 'build')

let state: { ok: true } | { ok: false; why: string } | undefined

function newest(dir: string, ext: string): number {
  return Math.max(0, ...fs.readdirSync(dir).filter((f) => f.endsWith(ext)).map((f) => fs.statSync(path.join(dir, f)).mtimeMs))
}

/** Build the programs unless they are up to date; remember why not when the toolchain is missing. */
function build(): typeof state {
  if (state) return state
  const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0
  if (!have('clang-14') || !have('gcc')) {
    return (state = { ok: false, why: 'clang-14/gcc not installed: run scripts/install-wasi-toolchain.sh' })
  }
  const srcTime = Math.max(newest(DIR, '.c'), newest(DIR, '.h'), fs.statSync(path.join(DIR, 'build.sh')).mtimeMs)
  const built = fs.existsSync(BUILD) && fs.existsSync(path.join(BUILD, 'reactor.wasm')) && newest(BUILD, '.wasm') >= srcTime
  if (!built) {
    try {
      execFileSync('sh', [path.join(DIR, 'build.sh')], { stdio: 'pipe' })
    } catch (e) {
      return (state = { ok: false, why: `programs/build.sh failed: ${(e as { stderr?: Buffer }).stderr?.toString() ?? e}` })
    }
  }
  return (state = { ok: true })
}

/**
 * `test` when the programs are built, else `test.skip` after printing why (decided when the
 * test file loads, so a skipped test shows as skipped, not as passed).
 */
export function programTest(): typeof test {
  const s = build()!
  if (s.ok) return test
  console.log(`[wasi tests] SKIPPING the tests that run C programs: ${s.why}`)
  return test.skip as unknown as typeof test
}

/** The path of a built program: `NAME.wasm` or `NAME.native`. */
export function program(file: string): string {
  return path.join(BUILD, file)
}

/** A fresh temporary directory, removed when the test ends. */
export function tempDir(t: ExecutionContext, prefix = 'wasmtime-node-'): string {
  const d = fs.mkdtempSync(path.join(fs.realpathSync(require('node:os').tmpdir()), prefix))
  t.teardown(() => fs.rmSync(d, { recursive: true, force: true }))
  return d
}
