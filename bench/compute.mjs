// Real C kernels (programs/kernels/*.c, clang-14 -O2 for wasm32-wasi) on both engines: ours
// through runWasi, V8 through node:wasi (in a child process). "first run" is bytes → result (compile, instantiate,
// run); "warm" is the best of later runs of the same compiled module in fresh instances.
// Every run's output is checked against the others (same checksum on both engines). V8 runs in
// a child process of its own (bench/compute-v8.mjs).
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

const require = createRequire(import.meta.url)
const wt = require('../dist/index.js')
const ROOT = new URL('..', import.meta.url).pathname
const BUILD = path.join(ROOT, 'programs', 'wasm') // committed builds of programs/kernels

// name → arguments (sized so one run takes ~0.1–0.5 s here)
const KERNELS = {
  nbody: ['1000000'],
  sha256: ['48'],
  sort: ['400000'],
  json: ['2048', '8'],
  matmul: ['256', '8'],
  lz: ['4096'],
}
const WARM_RUNS = 3

const now = () => performance.now()

function ensureBuilt() {
  const missing = Object.keys(KERNELS).some((k) => !existsSync(path.join(BUILD, `kernel-${k}.wasm`)))
  if (!missing) return true
  if (spawnSync('sh', ['-c', 'command -v clang-14']).status !== 0) return false
  execFileSync('sh', [path.join(ROOT, 'programs', 'build.sh')], { stdio: 'inherit' })
  return true
}

/**
 * V8 + node:wasi, in a child process (see compute-v8.mjs): { first, warm, out }. Node 20's
 * node:wasi itself crashes now and then (SIGSEGV/SIGABRT in that child, which has no addon
 * loaded): such a run is retried, up to 8 times (about 1 run in 3 of lz crashes), and said so.
 */
function runV8(file, name, args) {
  const script = new URL('./compute-v8.mjs', import.meta.url).pathname
  for (let attempt = 1; ; attempt++) {
    try {
      const r = execFileSync(process.execPath, ['--no-warnings', script, file, String(WARM_RUNS), name, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      return JSON.parse(r.toString())
    } catch (e) {
      if (!e.signal || attempt === 8) throw e
      console.log(`compute: node:wasi crashed (${e.signal}) running ${name} on V8; retrying`)
    }
  }
}

/** Ours: runWasi with captured output; returns [ms, output]. */
function runOurs(engine, source, name, args) {
  const t0 = now()
  const m = source instanceof wt.Module ? source : new wt.Module(engine, source)
  const r = wt.runWasi(m, { args: [name, ...args], stdout: 'capture' })
  const ms = now() - t0
  if (r.exitCode !== 0) throw new Error(`${name} exited with ${r.exitCode} on wasmtime`)
  return [ms, Buffer.from(r.stdout).toString('utf8'), m]
}

const trace = (...a) => process.env.BENCH_TRACE && console.error(...a)

function warm(fn) {
  let best = Infinity
  let out
  for (let i = 0; i < WARM_RUNS; i++) {
    const [ms, o] = fn()
    best = Math.min(best, ms)
    out = o
  }
  return [best, out]
}

const geomean = (xs) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length)

export function run() {
  if (!ensureBuilt()) {
    console.log('compute: SKIPPED (clang-14 not installed: sh scripts/install-wasi-toolchain.sh)')
    return []
  }
  const noEpoch = new wt.Engine({ epochInterruption: false })
  const rows = []
  const ratios = { first: [], warm: [], noEpochWarm: [] }
  for (const [name, args] of Object.entries(KERNELS)) {
    const file = path.join(BUILD, `kernel-${name}.wasm`)
    const bytes = readFileSync(file)
    trace(name, 'v8')
    const { first: v8First, warm: v8Warm, out: v8Out } = runV8(file, name, args)
    trace(name, 'ours first')
    const [ourFirst, ourOut, ourModule] = runOurs(wt.Engine.default, bytes, name, args)
    trace(name, 'ours warm')
    const [ourWarm, ourWarmOut] = warm(() => runOurs(wt.Engine.default, ourModule, name, args))
    trace(name, 'no epoch')
    const noEpochModule = new wt.Module(noEpoch, bytes)
    const [ourNoEpoch] = warm(() => runOurs(noEpoch, noEpochModule, name, args))
    for (const o of [ourOut, ourWarmOut]) {
      if (o !== v8Out) throw new Error(`${name}: outputs differ between engines:\n${v8Out}\n${o}`)
    }
    ratios.first.push(ourFirst / v8First)
    ratios.warm.push(ourWarm / v8Warm)
    ratios.noEpochWarm.push(ourNoEpoch / v8Warm)
    rows.push({ name: `${name}: first run (compile + run)`, unit: 'ms', ours: ourFirst, peer: v8First, peerName: 'V8 + node:wasi, first run' })
    rows.push({ name: `${name}: warm`, unit: 'ms', ours: ourWarm, peer: v8Warm, peerName: 'V8 + node:wasi, warm' })
    rows.push({ name: `${name}: warm, epochInterruption: false`, unit: 'ms', ours: ourNoEpoch, peer: ourWarm, peerName: 'default engine (epochs on)' })
  }
  const n = Object.keys(KERNELS).length
  rows.push({ name: `compute geomean of ${n} kernels, warm`, unit: '×', ours: geomean(ratios.warm), peer: 1, peerName: 'V8 warm = 1', target: '≤ 1.1× (issue 18)' })
  rows.push({ name: `compute geomean of ${n} kernels, first run`, unit: '×', ours: geomean(ratios.first), peer: 1, peerName: 'V8 first run = 1' })
  rows.push({ name: `compute geomean, warm, epochInterruption: false`, unit: '×', ours: geomean(ratios.noEpochWarm), peer: 1, peerName: 'V8 warm = 1' })
  return rows
}
