// Differential fuzzing against Node's own WebAssembly (fuzz/run.mjs): a short seeded run, as a
// child process. Seed 1 makes it the same modules, calls and arguments every time; the 25 s
// bound may stop it early on a loaded machine, so the floors below are what the first 60
// modules of seed 1 reach (the counts only grow with more modules). It must find no divergence,
// no timeout and no compile/instantiation error, and must have exercised every conversion path
// of the binding that it fuzzes: v128, externref, funcref, tables, host imports, callAsync.
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
  timeouts: number
  compileErrors: number
  divergences: number
  [counter: string]: unknown
}

// Minimum counts (seed 1, first 60 modules, rounded down): each names a path that must run.
const FLOORS: Record<string, number> = {
  modules: 60,
  calls: 1000,
  asyncCalls: 150, // our calls made with callAsync (V8's sync result is the oracle)
  v128Calls: 200, // exports with v128 params/results called with Uint8Arrays
  simdOps: 400, // SIMD results consumed inside wasm (extract_lane, all_true…, v128 stores)
  hostV128Calls: 40, // v128 host imports (our Uint8Array conversion both ways)
  externrefCalls: 200, // exports with externref params/results (identity checked)
  reclaimedSlots: 1, // externref slots freed by store.gc() and reused afterwards
  funcrefCalls: 150, // exports with funcref params/results
  funcrefResultCalls: 30, // funcrefs from results, tables and globals, called in turn
  tableOps: 400, // table.get/set/size/grow/fill/copy/init run inside wasm
  indirectCalls: 200, // call_indirect run
  tableHostOps: 100, // Table get/set/grow from JS
  hostCalls: 300, // host import calls (arguments compared)
  hostThrows: 10, // calls that ended with the host's exception (the same value on both sides)
}

test('differential fuzzing: wasmtime-node agrees with WebAssembly (seed 1)', (t) => {
  const r = spawnSync(process.execPath, [RUN, '--seconds', '25', '--seed', '1', '--max-modules', '300'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 })
  if (r.error) throw r.error
  const out = `${r.stdout}${r.stderr}`
  const line = r.stdout.split('\n').find((l) => l.startsWith('FUZZ_SUMMARY '))
  if (!line) return t.fail(`no summary line in the output (exit ${r.status}):\n${out}`)
  const s = JSON.parse(line.slice('FUZZ_SUMMARY '.length)) as Summary
  t.log(r.stdout.split('\n').filter((l) => /^fuzz seed|^ {2}(calls|host|executed|timeouts)/.test(l)).join('\n'))
  t.is(r.status, 0, `the fuzzer failed (exit ${r.status}):\n${out}`)
  t.is(s.seed, 1)
  t.is(s.divergences, 0)
  // The generator makes valid, terminating modules: neither may ever happen.
  t.is(s.timeouts, 0)
  t.is(s.compileErrors, 0)
  for (const [name, min] of Object.entries(FLOORS)) {
    const v = s[name]
    t.true(typeof v === 'number' && v >= min, `${name}: ${String(v)} < ${min}`)
  }
  // The trap kinds the generator aims at all occur (the table ones through call_indirect too).
  for (const kind of ['out_of_bounds', 'div_by_zero', 'int_overflow', 'invalid_conversion', 'unreachable', 'table_out_of_bounds', 'indirect_call_to_null', 'bad_signature']) {
    t.true((s.trapKinds[kind] ?? 0) > 0, `no ${kind} trap`)
  }
})
