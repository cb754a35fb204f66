// Engine option `strategy: 'winch'` (issue 18): wasmtime's baseline compiler, for large modules'
// fast first start. Real C kernels (programs/kernels, committed wasm32-wasi builds) must print
// exactly what V8 + node:wasi prints for them (the independent oracle, in a child process: the
// bench's own runner, bench/compute-v8.mjs); proposals Winch does not implement are refused with
// a CompileError, never a crash.
import test from 'ava'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import { CompileError, Engine, Instance, Module, Store, runWasi, wat2wasm } from '../dist/index.js'
import { assertError, thrown } from './helpers/assert'

const ROOT = path.resolve(__dirname, '..')
const KERNELS: Record<string, string[]> = { sha256: ['2'], sort: ['20000'], json: ['64', '2'], lz: ['256'] }

function onV8(name: string, args: string[]): string {
  const file = path.join(ROOT, 'programs', 'wasm', `kernel-${name}.wasm`)
  const out = execFileSync(process.execPath, ['--no-warnings', path.join(ROOT, 'bench', 'compute-v8.mjs'), file, '0', name, ...args])
  return (JSON.parse(out.toString()) as { out: string }).out
}

test('strategy winch: C kernels print what they print on V8', (t) => {
  const winch = new Engine({ strategy: 'winch' })
  for (const [name, args] of Object.entries(KERNELS)) {
    const expected = onV8(name, args)
    t.true(expected.length > 0, `${name}: V8 printed something`)
    const m = new Module(winch, fs.readFileSync(path.join(ROOT, 'programs', 'wasm', `kernel-${name}.wasm`)))
    const r = runWasi(m, { args: [name, ...args], stdout: 'capture' })
    t.is(r.exitCode, 0, `${name}: exit code`)
    t.is(Buffer.from(r.stdout!).toString('utf8'), expected, `${name}: the same output as V8`)
  }
})

test('strategy winch: fuel and interrupts work (a loop runs out of fuel; a timeout stops it)', (t) => {
  const bytes = wat2wasm('(module (func (export "spin") (loop (br 0))))')
  const fueled = new Engine({ strategy: 'winch', consumeFuel: true })
  const s1 = new Store(fueled, { fuel: 10_000n })
  const e1 = thrown(t, () => new Instance(s1, new Module(fueled, bytes)).exports.spin(), 'spin with fuel')
  t.is((e1 as { trapCode?: string }).trapCode, 'out_of_fuel')
  const plain = new Engine({ strategy: 'winch' })
  const s2 = new Store(plain, { timeoutMs: 20 })
  const e2 = thrown(t, () => new Instance(s2, new Module(plain, bytes)).exports.spin(), 'spin with a timeout')
  t.is((e2 as { trapCode?: string }).trapCode, 'interrupt')
})

test('strategy winch: a proposal Winch does not implement is a CompileError, also when enabled explicitly', (t) => {
  const gc = wat2wasm('(module (type $s (struct (field i32))) (func (export "f") (result anyref) (struct.new $s (i32.const 1))))')
  assertError(t, thrown(t, () => new Module(new Engine({ strategy: 'winch' }), gc), 'GC module, default features'), CompileError, 'ERR_WASM_COMPILE', 'GC module')
  const e = thrown(t, () => new Module(new Engine({ strategy: 'winch', features: { gc: true } }), gc), 'GC module, gc enabled')
  t.true(e instanceof Error && typeof (e as { code?: string }).code === 'string', 'a coded error, not a crash')
})
