// The `wasmtime-node` CLI (the package's bin, dist/cli.js), run as a real child process.
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'

import { ROOT, program, programTest, runNative, tempDir } from './helpers/programs'

const ptest = programTest()
const CLI = path.join(ROOT, 'dist', 'cli.js')
const bin = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).bin

function cli(args: string[], opts: { input?: string | Buffer; cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { input: opts.input, cwd: opts.cwd, env: opts.env ?? process.env, maxBuffer: 1 << 26 })
  return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8'), raw: r.stdout }
}

const TRAPPING = `(module $calc
  (func $inner (export "inner") (param i32) (result i32) (if (i32.eqz (local.get 0)) (then unreachable)) (local.get 0))
  (func (export "outer") (param i32) (result i32) (call $inner (local.get 0)))
  (func (export "add") (param i32 i64) (result i64) (i64.add (i64.extend_i32_s (local.get 0)) (local.get 1)))
  (func (export "spin") (loop $l (br $l))))`

test('the package declares the CLI as its bin', (t) => {
  t.deepEqual(bin, { 'wasmtime-node': 'dist/cli.js' })
  t.true(fs.readFileSync(CLI, 'utf8').startsWith('#!/usr/bin/env node'))
})

test('--help for the tool and for each command', (t) => {
  for (const args of [['--help'], ['run', '--help'], ['compile', '--help']]) {
    const r = cli(args)
    t.is(r.code, 0, args.join(' '))
    t.regex(r.stdout, /^Usage: wasmtime-node/, args.join(' '))
  }
  // No command at all is a usage error: the help goes to stderr, exit code 2.
  const none = cli([])
  t.is(none.code, 2)
  t.is(none.stdout, '')
  t.regex(none.stderr, /^Usage: wasmtime-node <command>/)
  t.regex(cli(['run', '--help']).stdout, /--invoke NAME[\s\S]*--dir HOST\[::GUEST\][\s\S]*--env[\s\S]*--fuel N[\s\S]*--timeout MS/)
  t.regex(cli(['--version']).stdout, /^wasmtime-node \d+\.\d+\.\d+/)
})

test('usage errors exit 2 with a message; a missing file exits 1', (t) => {
  for (const args of [['run'], ['run', '--bogus', 'x.wasm'], ['run', '--fuel', 'many', 'x.wasm'], ['frobnicate'], ['compile']]) {
    const r = cli(args)
    t.is(r.code, 2, args.join(' '))
    // One error line and where the usage is — not the whole help again.
    const help = args[0] === 'frobnicate' ? 'wasmtime-node --help' : `wasmtime-node ${args[0]} --help`
    t.is(r.stderr.split('\n').length, 3, `${args.join(' ')}: ${r.stderr}`)
    t.regex(r.stderr, /^error: .+\nFor usage, run `/, args.join(' '))
    t.true(r.stderr.includes(`\`${help}\``), `${args.join(' ')}: ${r.stderr}`)
    t.false(r.stderr.includes('Usage:'), args.join(' '))
  }
  const r = cli(['run', '/no/such/file.wasm'])
  t.is(r.code, 1)
  t.regex(r.stderr, /ENOENT|no such file/i)
})

test('--invoke calls an export of a WAT file with typed arguments and prints the results', (t) => {
  const dir = tempDir(t)
  const file = path.join(dir, 'calc.wat')
  fs.writeFileSync(file, TRAPPING)
  t.deepEqual(cli(['run', '--invoke', 'add', file, '2', '40']).stdout, '42\n')
  t.deepEqual(cli(['run', '--invoke', 'add', file, '-1', '-9223372036854775807']).stdout, '-9223372036854775808\n')
  const bad = cli(['run', '--invoke', 'add', file, '1'])
  t.is(bad.code, 2)
  t.regex(bad.stderr, /takes 2 argument/)
  t.is(cli(['run', '--invoke', 'nope', file]).code, 2)
})

test('a trap prints the message and the wasm backtrace, and exits 134', (t) => {
  const dir = tempDir(t)
  const file = path.join(dir, 'calc.wat')
  fs.writeFileSync(file, TRAPPING)
  const r = cli(['run', '--invoke', 'outer', file, '0'])
  t.is(r.code, 134)
  t.regex(r.stderr, /unreachable/)
  t.regex(r.stderr, /wasm backtrace:\n\s+at calc!inner[\s\S]*\n\s+at calc!/)
})

test('--timeout and --fuel stop a guest that loops forever', (t) => {
  const dir = tempDir(t)
  const file = path.join(dir, 'calc.wat')
  fs.writeFileSync(file, TRAPPING)
  const timed = cli(['run', '--timeout', '100', '--invoke', 'spin', file])
  t.is(timed.code, 134)
  t.regex(timed.stderr, /interrupt/)
  const fuel = cli(['run', '--fuel', '10000', '--invoke', 'spin', file])
  t.is(fuel.code, 134)
  t.regex(fuel.stderr, /fuel/)
})

ptest('run: args, --env, exit code and output equal the native build', (t) => {
  const r = cli(['run', '--env', 'EXIT_CODE=5', '--env', 'GREETING=hi there', program('argsenv.wasm'), 'a', '--not-an-option', 'c d'])
  const nat = runNative('argsenv', ['a', '--not-an-option', 'c d'], { argv0: 'argsenv.wasm', env: { EXIT_CODE: '5', GREETING: 'hi there' } })
  t.is(r.code, 5)
  t.is(nat.exitCode, 5)
  t.is(r.stdout, nat.stdout)
  t.is(r.stderr, nat.stderr)
})

ptest('--env NAME passes the host value; other host variables stay out', (t) => {
  const r = cli(['run', '--env', 'PASSED', program('argsenv.wasm')], { env: { ...process.env, PASSED: 'yes', NOT_PASSED: 'no' } })
  t.is(r.code, 0)
  t.regex(r.stdout, /env PASSED=yes/)
  t.notRegex(r.stdout, /NOT_PASSED/)
})

ptest('--dir HOST::GUEST and stdin from the parent', (t) => {
  const dir = tempDir(t)
  const data = randomBytes(20_000)
  fs.writeFileSync(path.join(dir, 'f.bin'), data)
  const input = Buffer.from('piped input')
  const r = cli(['run', '--dir', `${dir}::/data`, program('hasher.wasm'), '/data'], { input })
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
  t.is(r.code, 0, r.stderr)
  t.is(r.stdout, `${sha(input)}  -\n${sha(data)}  /data/f.bin\n`)
  const denied = cli(['run', program('hasher.wasm'), '/data'], { input })
  t.is(denied.code, 2, 'without --dir the directory is not there')
})

ptest('compile to .cwasm, then run the .cwasm with the same result', (t) => {
  const dir = tempDir(t)
  const out = path.join(dir, 'argsenv.cwasm')
  const c = cli(['compile', program('argsenv.wasm'), '-o', out])
  t.is(c.code, 0, c.stderr)
  t.true(fs.readFileSync(out).subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])), 'an ELF object')
  const a = cli(['run', '--env', 'EXIT_CODE=3', program('argsenv.wasm'), 'x'])
  const b = cli(['run', '--env', 'EXIT_CODE=3', out, 'x'])
  t.is(b.code, 3)
  t.is(b.stdout, a.stdout.replace('argv[0]=argsenv.wasm', 'argv[0]=argsenv.cwasm'))
})

ptest('a large output through a pipe arrives whole', (t) => {
  const r = cli(['run', program('sandbox.wasm'), 'big', '4000000'])
  t.is(r.code, 0, r.stderr)
  t.is(r.raw.length, 4_000_000)
})

test('run: a wasi:cli/command component runs with WASI 0.2, with the same output and exit code as its core module', (t) => {
  // __test__/components/argsenv.command.wasm is programs/wasm/argsenv.wasm made a command
  // component by jco's preview-1 adapter (scripts/build-components.sh).
  const dir = path.join(__dirname, 'components')
  const core = cli(['run', '--env', 'K=V', path.join(ROOT, 'programs', 'wasm', 'argsenv.wasm'), 'a', 'b'])
  const comp = cli(['run', '--env', 'K=V', path.join(dir, 'argsenv.command.wasm'), 'a', 'b'])
  t.is(comp.code, core.code)
  t.is(comp.code, 0)
  // argv[0] is the file's name: the rest is the same.
  const rest = (s: string) => s.split('\n').filter((l) => !l.startsWith('argv[0]=')).join('\n')
  t.is(rest(comp.stdout), rest(core.stdout))
  t.true(comp.stdout.includes('argv[0]=argsenv.command.wasm'), comp.stdout)
  t.is(comp.stderr, core.stderr)
})

test('run --invoke of a component export: arguments and result in WAVE, as wasmtime run', (t) => {
  // The fixtures' documented behaviour (their WIT is in a comment at the top of each .wat).
  const dir = path.join(__dirname, 'components')
  const invoke = (file: string, call: string) => cli(['run', '--invoke', call, path.join(dir, file)])
  const cases: Array<[string, string, string]> = [
    ['iface.wasm', 'acme:plugin/api@0.1.0#greet("Node \\"x\\"")', '"Hello, Node \\"x\\"!"\n'],
    ['iface.wasm', 'acme:plugin/api@0.1.0#add(4294967295, 2)', '1\n'],
    ['types.wasm', 'echo-point({x: 1, y: -2})', '{x: 1, y: -2}\n'],
    ['types.wasm', 'divide(7, 2)', 'ok(3)\n'],
    ['types.wasm', 'divide(7, 0)', 'err("division by zero")\n'],
    ['types.wasm', 'check(0)', 'err\n'],
  ]
  for (const [file, call, out] of cases) {
    const r = invoke(file, call)
    t.is(r.code, 0, `${call}: ${r.stderr}`)
    t.is(r.stdout, out, call)
  }
  for (const bad of ['nope()', 'acme:plugin/api@0.1.0#add(1)', 'acme:plugin/api@0.1.0#add(1, "x")', 'acme:plugin/api@0.1.0#add(-1, 2)']) {
    const r = invoke('iface.wasm', bad)
    t.is(r.code, 2, `${bad} is a usage error`)
    t.regex(r.stderr, /^error: --invoke: /, bad)
  }
})

ptest('compile a command component to .cwasm (a precompiled component), then run it: the same output as the core program natively', (t) => {
  const dir = tempDir(t)
  const out = path.join(dir, 'argsenv.cwasm')
  const c = cli(['compile', path.join(__dirname, 'components', 'argsenv.command.wasm'), '-o', out])
  t.is(c.code, 0, c.stderr)
  t.true(fs.readFileSync(out).subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])), 'an ELF object')
  const r = cli(['run', '--env', 'K=V', out, 'x', 'y'])
  const native = runNative('argsenv', ['x', 'y'], { argv0: 'argsenv.cwasm', env: { K: 'V' } })
  t.is(r.code, native.exitCode)
  t.is(r.stdout, native.stdout)
  // and the same as the component itself, exit code included (an adapted proc_exit(3) is err: 1)
  const a = cli(['run', '--env', 'EXIT_CODE=3', path.join(__dirname, 'components', 'argsenv.command.wasm')])
  const b = cli(['run', '--env', 'EXIT_CODE=3', out])
  t.is(b.code, a.code)
  t.is(b.stdout, a.stdout.replace('argv[0]=argsenv.command.wasm', 'argv[0]=argsenv.cwasm'))
  // component text is precompiled as a component too
  const wat = path.join(__dirname, 'components', 'host.wat')
  const h = cli(['compile', wat, '-o', path.join(dir, 'host.cwasm')])
  t.is(h.code, 0, h.stderr)
  const inv = cli(['run', '--invoke', 'greet("x")', path.join(dir, 'host.cwasm')])
  t.not(inv.code, 0, 'host.wat imports host functions the CLI does not define: a link error, after loading it as a component')
  t.regex(inv.stderr, /LinkError|import/i)
})
