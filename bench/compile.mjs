// Compilation of a big module (generated, ~10 MB): a cold compile against the on-disk cache and
// Module.deserialize, beside V8's compile times (default, eager Liftoff, eager TurboFan), each
// measured in a fresh `node` process so no cache or tier-up carries over.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'

const require = createRequire(import.meta.url)
const wt = require('../dist/index.js')

/** `count` functions of integer and float work, each calling the previous one. */
function bigModule(count) {
  const parts = ['(module (memory 1)']
  for (let i = 0; i < count; i++) {
    const call = i ? `(drop (call $f${i - 1} (local.get 0) (local.get 1)))` : ''
    parts.push(`(func $f${i} (export "f${i}") (param i32 i32) (result i32) (local i32 f64)
      ${call}
      (local.set 2 (i32.add (i32.mul (local.get 0) (i32.const ${i + 3})) (local.get 1)))
      (block (loop (br_if 1 (i32.ge_u (local.get 2) (i32.const ${1000 + i})))
        (local.set 3 (f64.add (local.get 3) (f64.sqrt (f64.convert_i32_u (local.get 2)))))
        (i32.store (i32.and (local.get 2) (i32.const 0xfffc)) (i32.xor (local.get 2) (i32.trunc_f64_u (local.get 3))))
        (local.set 2 (i32.add (local.get 2) (i32.load (i32.and (i32.mul (local.get 2) (i32.const 7)) (i32.const 0xfffc)))))
        (local.set 2 (i32.add (local.get 2) (i32.const 1))) (br 0)))
      (if (result i32) (i32.gt_s (local.get 2) (i32.const ${i})) (then (i32.sub (local.get 2) (local.get 0))) (else (i32.add (local.get 2) (local.get 1)))))`)
  }
  parts.push(')')
  return wt.wat2wasm(parts.join('\n'))
}

const ms = (f) => {
  const t0 = performance.now()
  const r = f()
  return [performance.now() - t0, r]
}

/** V8's `new WebAssembly.Module(bytes)` time in a fresh process with `flags`. */
function v8Compile(file, flags) {
  const script = `const b=require('fs').readFileSync(${JSON.stringify(file)});const t=performance.now();new WebAssembly.Module(b);console.log(performance.now()-t)`
  return Number(execFileSync(process.execPath, [...flags, '-e', script]).toString())
}

export function run() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wtn-cache-'))
  try {
    const bytes = bigModule(Number(process.env.BENCH_BIG_FUNCS ?? 24000))
    const file = path.join(dir, 'big.wasm')
    writeFileSync(file, bytes)
    const mib = (bytes.length / 2 ** 20).toFixed(1)
    const cached = new wt.Engine({ cache: { directory: path.join(dir, 'cache') } })
    const [cold, m] = ms(() => new wt.Module(cached, bytes))
    const serialized = m.serialize()
    const [warm] = ms(() => new wt.Module(cached, bytes))
    const [deser] = ms(() => wt.Module.deserialize(cached, serialized, { trusted: true }))
    // wasmtime's baseline compiler, for a fast first start (the code then runs slower).
    const winch = new wt.Engine({ strategy: 'winch' })
    const [coldWinch] = ms(() => new wt.Module(winch, bytes))
    const serial = new wt.Engine({ parallelCompilation: false })
    const [coldSerial] = ms(() => new wt.Module(serial, bytes))
    const v8Default = v8Compile(file, [])
    const v8Eager = v8Compile(file, ['--no-wasm-lazy-compilation'])
    const v8Turbo = v8Compile(file, ['--no-wasm-lazy-compilation', '--no-liftoff'])
    const what = `${mib} MiB module`
    return [
      { name: `compile cache hit, ${what}`, unit: 'ms', ours: warm, peer: cold, peerName: 'cold compile (2 threads)', target: '≤ 1/20 (≤ 0.05×)' },
      { name: `Module.deserialize, ${what}`, unit: 'ms', ours: deser, peer: cold, peerName: 'cold compile (2 threads)' },
      { name: `cold compile, ${what}, parallel compilation`, unit: 'ms', ours: cold, peer: coldSerial, peerName: 'parallelCompilation: false' },
      { name: `cold compile, ${what}`, unit: 'ms', ours: cold, peer: v8Default, peerName: 'V8 new WebAssembly.Module (Node defaults)' },
      { name: `cold compile, ${what}`, unit: 'ms', ours: cold, peer: v8Eager, peerName: 'V8 eager Liftoff' },
      { name: `cold compile, ${what}`, unit: 'ms', ours: cold, peer: v8Turbo, peerName: 'V8 eager TurboFan (optimising, like Cranelift)' },
      { name: `compile cache hit, ${what}`, unit: 'ms', ours: warm, peer: v8Default, peerName: 'V8 new WebAssembly.Module (Node defaults)' },
      { name: `cold compile, ${what}, strategy: 'winch'`, unit: 'ms', ours: coldWinch, peer: cold, peerName: 'Cranelift (the default)' },
      { name: `cold compile, ${what}, strategy: 'winch'`, unit: 'ms', ours: coldWinch, peer: v8Eager, peerName: 'V8 eager Liftoff (baseline, like Winch)' },
    ]
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
