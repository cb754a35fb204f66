// Differential fuzzing against Node's own WebAssembly (fuzz/run.mjs): a short seeded run, as a
// child process. Seed 1 and a fixed number of modules make it the same run every time (unless
// the 20 s bound stops it first on a very slow machine); it must find no divergence and must
// have done real work: enough modules, calls and traps.
import test from 'ava'
import { spawnSync } from 'node:child_process'
import * as path from 'node:path'

const ROOT = path.resolve(__dirname, '..')
const RUN = path.join(ROOT, 'fuzz', 'run.mjs')

interface Summary {
  seed: number
  modules: number
  calls: number
  traps: number
  trapKinds: Record<string, number>
  nanCases: number
  nanBitModules: number
  timeouts: number
  divergences: number
}

test('differential fuzzing: wasmtime-node agrees with WebAssembly (seed 1)', (t) => {
  const r = spawnSync(process.execPath, [RUN, '--seconds', '20', '--seed', '1', '--max-modules', '200'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 })
  if (r.error) throw r.error
  const out = `${r.stdout}${r.stderr}`
  const line = r.stdout.split('\n').find((l) => l.startsWith('FUZZ_SUMMARY '))
  t.truthy(line, `no summary line in the output:\n${out}`)
  const s = JSON.parse(line!.slice('FUZZ_SUMMARY '.length)) as Summary
  console.log(r.stdout.split('\n').find((l) => l.startsWith('fuzz seed ')))
  console.log(line)
  t.is(r.status, 0, `the fuzzer reported divergences (exit ${r.status}):\n${out}`)
  t.is(s.divergences, 0)
  t.true(s.modules >= 100, `only ${s.modules} modules`)
  t.true(s.calls >= 1000, `only ${s.calls} calls`)
  t.true(s.traps > 0, 'no call trapped')
  // The kinds the generator aims at all occur.
  for (const kind of ['out_of_bounds', 'div_by_zero', 'int_overflow', 'invalid_conversion', 'unreachable']) {
    t.true((s.trapKinds[kind] ?? 0) > 0, `no ${kind} trap`)
  }
})
