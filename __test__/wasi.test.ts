// WASI preview 1 with real C programs (programs/*.c, built with clang-14 for wasm32-wasi and
// with gcc natively): outputs and exit codes must match the native build; the sandbox must hold
// (.., absolute paths, symlinks out, read-only preopens, sockets, the host's own stdio).
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'

import { Engine, Linker, Module, Store, Trap, WasiExit, WasmtimeError, runWasi, runWasiAsync } from '../dist/index.js'
import { ROOT, program, programTest, runNative, seededBytes, tempDir } from './helpers/programs'
import { fn } from './helpers/util'

const ptest = programTest()
const text = (b: Uint8Array | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8')
const modules = new Map<string, Module>()
/** Each program compiled once for the file (Engine.default). */
const mod = (name: string) => modules.get(name) ?? modules.set(name, new Module(Engine.default, fs.readFileSync(program(`${name}.wasm`)))).get(name)!

const native = runNative

ptest('hasher: stdin and a preopened directory, same output as the native build and as node:crypto', (t) => {
  const dir = tempDir(t)
  const files: Record<string, Buffer> = { 'a.txt': Buffer.from('hello\n'), 'b.bin': seededBytes('hasher b.bin', 300_000), 'empty': Buffer.alloc(0) }
  for (const [n, b] of Object.entries(files)) fs.writeFileSync(path.join(dir, n), b)
  fs.mkdirSync(path.join(dir, 'subdir'))
  const input = seededBytes('hasher stdin', 100_000)
  const wasm = runWasi(mod('hasher'), { args: ['hasher', '.'], stdin: input, stdout: 'capture', stderr: 'capture', preopens: { '.': dir } })
  const nat = native('hasher', ['.'], { cwd: dir, input })
  t.is(wasm.exitCode, 0)
  t.is(nat.exitCode, 0)
  t.is(text(wasm.stdout), nat.stdout)
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')
  const expected = [`${sha(input)}  -`, ...Object.keys(files).sort().map((n) => `${sha(files[n])}  ./${n}`)].join('\n') + '\n'
  t.is(text(wasm.stdout), expected)
})

ptest('files: create/list/rename/append/remove gives the native output, and leaves the directory empty', (t) => {
  const wasmDir = tempDir(t)
  const nativeDir = tempDir(t)
  const wasm = runWasi(mod('files'), { args: ['files', '.'], stdout: 'capture', stderr: 'capture', preopens: { '.': wasmDir } })
  const nat = native('files', ['.'], { cwd: nativeDir })
  t.is(nat.exitCode, 0, nat.stdout)
  t.is(wasm.exitCode, 0, text(wasm.stdout))
  t.is(text(wasm.stdout), nat.stdout)
  t.regex(nat.stdout, /failures: 0/)
  t.deepEqual(fs.readdirSync(wasmDir), [])
})

ptest('argsenv: arguments, environment and exit code match the native build', (t) => {
  const env = { A: '1', EXIT_CODE: '7', Z: 'last one', UNICODE: 'ünï cødé' }
  const args = ['one', 'two words', '', 'ünï']
  const wasm = runWasi(mod('argsenv'), { args: ['argsenv', ...args], env, stdout: 'capture', stderr: 'capture' })
  const nat = native('argsenv', args, { env })
  t.is(nat.exitCode, 7)
  t.is(wasm.exitCode, 7)
  t.is(text(wasm.stdout), nat.stdout)
  t.is(text(wasm.stderr), nat.stderr)
  t.regex(nat.stdout, /argv\[2\]=two words\nargv\[3\]=\nargv\[4\]=ünï/)
})

ptest('the host environment is never passed implicitly', (t) => {
  process.env.WASMTIME_NODE_SECRET = 'do-not-leak'
  t.teardown(() => delete process.env.WASMTIME_NODE_SECRET)
  const r = runWasi(mod('argsenv'), { stdout: 'capture' })
  t.is(r.exitCode, 0)
  t.is(text(r.stdout), 'argc=0\n')
})

ptest('output callbacks receive the same bytes as capture, in order', (t) => {
  const input = randomBytes(50_000)
  const chunks: Uint8Array[] = []
  const r = runWasi(mod('sandbox'), { args: ['sandbox', 'echo'], stdin: input, stdout: (c) => chunks.push(c) })
  t.is(r.exitCode, 0)
  t.is(r.stdout, undefined)
  t.true(chunks.length > 1, 'the guest flushes every 4 KiB: several chunks')
  t.true(chunks.every((c) => c instanceof Uint8Array))
  t.true(Buffer.concat(chunks).equals(input))
})

test('proc_exit with a status outside 0–125 is a clear WasmtimeError ERR_WASI_EXIT_STATUS', (t) => {
  const exit = (n: number) => `(module (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
    (memory (export "memory") 1) (func (export "_start") (call $exit (i32.const ${n}))))`
  t.is(runWasi(exit(125)).exitCode, 125)
  const e = t.throws(() => runWasi(exit(300)), { instanceOf: WasmtimeError })
  t.is((e as WasmtimeError).code, 'ERR_WASI_EXIT_STATUS')
  t.regex((e as Error).message, /^the guest called proc_exit with an exit status outside the 0–125/)
})

ptest('a throwing output callback makes the run throw that very exception', async (t) => {
  const boom = new Error('callback failed')
  const e = t.throws(() => runWasi(mod('sandbox'), { args: ['sandbox', 'big', '10'], stdout: () => { throw boom } }))
  t.is(e, boom)
  // Also when the guest then ends with proc_exit (its normal end does not swallow the exception).
  const exiting = ['sandbox', 'big', '5', 'exit', '3']
  t.is(t.throws(() => runWasi(mod('sandbox'), { args: exiting, stdout: () => { throw boom } })), boom, 'runWasi, then proc_exit')
  t.is(await t.throwsAsync(runWasiAsync(mod('sandbox'), { args: exiting, stdout: () => { throw boom } })), boom, 'runWasiAsync, then proc_exit')
})

ptest('runWasiAsync streams output while the guest still runs, and a timeout stops a spinning program', async (t) => {
  let settled = false
  let pendingAtFirstChunk: boolean | undefined
  const p = runWasiAsync(mod('sandbox'), {
    args: ['sandbox', 'big', '100000', 'spin'],
    timeoutMs: 300,
    stdout: () => { pendingAtFirstChunk ??= !settled },
  })
  p.finally(() => { settled = true }).catch(() => {})
  const e = await t.throwsAsync(p, { instanceOf: Trap })
  t.is((e as Trap).trapCode, 'interrupt')
  t.true(pendingAtFirstChunk, 'the first chunk arrived before the run ended')
})

ptest('runWasiAsync: exit code, captured output, abort signal', async (t) => {
  const r = await runWasiAsync(mod('sandbox'), { args: ['sandbox', 'big', '5', 'exit', '3'], stdout: 'capture' })
  t.deepEqual({ code: r.exitCode, out: text(r.stdout) }, { code: 3, out: 'xxxxx' })
  const ac = new AbortController()
  const p = runWasiAsync(mod('sandbox'), { args: ['sandbox', 'spin'], signal: ac.signal })
  setTimeout(() => ac.abort(new Error('enough')), 50)
  await t.throwsAsync(p, { message: 'enough' })
})

ptest('fuel stops a spinning program (runWasi picks a fuel-metering engine for bytes)', (t) => {
  const bytes = fs.readFileSync(program('sandbox.wasm'))
  const e = t.throws(() => runWasi(bytes, { args: ['sandbox', 'spin'], fuel: 1_000_000 }), { instanceOf: Trap })
  t.is((e as Trap).trapCode, 'out_of_fuel')
})

ptest('proc_exit: exitCode from runWasi, WasiExit from a direct call', (t) => {
  t.is(runWasi(mod('sandbox'), { args: ['sandbox', 'exit', '42'] }).exitCode, 42)
  t.is(runWasi(mod('sandbox'), { args: ['sandbox', 'exit', '0'] }).exitCode, 0)
  const store = new Store(Engine.default, { wasi: { args: ['sandbox', 'exit', '9'] } })
  const instance = new Linker(Engine.default).defineWasi().instantiate(store, mod('sandbox'))
  const e = t.throws(() => fn(instance, '_start')(), { instanceOf: WasiExit })
  t.is((e as WasiExit).exitCode, 9)
  t.is((e as WasiExit).code, 'ERR_WASI_EXIT')
})

ptest('a reactor: _initialize, then exports; output captured per call; exit from an export', (t) => {
  const store = new Store(Engine.default, { wasi: { stdout: 'capture' } })
  const instance = new Linker(Engine.default).defineWasi().instantiate(store, mod('reactor'))
  fn(instance, '_initialize')()
  t.is(fn(instance, 'bump')(5), 105)
  t.is(fn(instance, 'bump')(1), 106)
  t.is(text(store.takeWasiOutput('stdout')), 'bump 5 -> 105\nbump 1 -> 106\n')
  t.is(text(store.takeWasiOutput('stdout')), '', 'taken')
  const e = t.throws(() => fn(instance, 'exit_with')(3), { instanceOf: WasiExit })
  t.is((e as WasiExit).exitCode, 3)
})

ptest('a callback sees output written before a host function runs, in order with it', (t) => {
  // wasi-libc may write a line in several fd_write calls: join adjacent chunks.
  const log: string[] = []
  const out = (c: Uint8Array) => {
    const last = log.length - 1
    if (log[last]?.startsWith('out:')) log[last] += text(c)
    else log.push(`out:${text(c)}`)
  }
  const store = new Store(Engine.default, { wasi: { stdout: out } })
  const instance = new Linker(Engine.default).defineWasi().instantiate(store, mod('reactor'))
  fn(instance, '_initialize')()
  fn(instance, 'bump')(1)
  log.push('between calls')
  fn(instance, 'bump')(2)
  t.deepEqual(log, ['out:bump 1 -> 101\n', 'between calls', 'out:bump 2 -> 103\n'])
})

ptest('a store with WASI callbacks moves to another store owner via transfer/receive', (t) => {
  const before: string[] = []
  const after: string[] = []
  const store = new Store(Engine.default, { wasi: { stdout: (c) => before.push(text(c)) } })
  const instance = new Linker(Engine.default).defineWasi().instantiate(store, mod('reactor'))
  fn(instance, '_initialize')()
  fn(instance, 'bump')(1)
  const token = store.transfer({ instance })
  const { objects } = Store.receive(token, { wasi: { stdout: (c) => after.push(text(c)) } })
  t.is(fn(objects.instance as never, 'bump')(2), 103)
  t.is(before.join(''), 'bump 1 -> 101\n')
  t.is(after.join(''), 'bump 2 -> 103\n')
})

ptest('sandbox: nothing outside the preopens is reachable', (t) => {
  const root = tempDir(t)
  const box = path.join(root, 'box')
  const ro = path.join(root, 'ro')
  fs.mkdirSync(box)
  fs.mkdirSync(ro)
  fs.writeFileSync(path.join(root, 'secret.txt'), 'secret')
  fs.writeFileSync(path.join(box, 'ok.txt'), 'fine')
  fs.writeFileSync(path.join(ro, 'r.txt'), 'read me')
  fs.symlinkSync(path.join(root, 'secret.txt'), path.join(box, 'abs-link'))
  fs.symlinkSync('../secret.txt', path.join(box, 'rel-link'))
  fs.symlinkSync(root, path.join(box, 'dir-link'))
  const probes = [
    ['read', '/box/ok.txt', 'ok'],
    ['read', '/box/../secret.txt', 'error'],
    ['read', '/box/../../../../etc/passwd', 'error'],
    ['read', '/etc/passwd', 'error'],
    ['read', '../secret.txt', 'error'],
    ['read', `${root}/secret.txt`, 'error'],
    ['read', '/box/abs-link', 'error'],
    ['read', '/box/rel-link', 'error'],
    ['read', '/box/dir-link/secret.txt', 'error'],
    ['list', '/', 'error'],
    ['list', '/box', 'ok'],
    ['write', '/box/new.txt', 'ok'],
    ['write', '/box/../escaped.txt', 'error'],
    ['read', '/ro/r.txt', 'ok'],
    ['write', '/ro/w.txt', 'error'],
    ['write', '/ro/r.txt', 'error'],
  ]
  const r = runWasi(mod('sandbox'), {
    args: ['sandbox', ...probes.flatMap(([cmd, p]) => [cmd, p])],
    stdout: 'capture',
    preopens: { '/box': box, '/ro': { path: ro, readonly: true } },
  })
  t.is(r.exitCode, 0)
  const lines = text(r.stdout).trim().split('\n')
  t.is(lines.length, probes.length)
  probes.forEach(([cmd, p, want], i) => t.true(lines[i].startsWith(`${cmd} ${p}: ${want}`), `${lines[i]} (wanted ${want})`))
  t.is(fs.readFileSync(path.join(root, 'secret.txt'), 'utf8'), 'secret')
  t.is(fs.readFileSync(path.join(ro, 'r.txt'), 'utf8'), 'read me')
  t.false(fs.existsSync(path.join(root, 'escaped.txt')))
  t.false(fs.existsSync(path.join(ro, 'w.txt')))
  t.is(fs.readFileSync(path.join(box, 'new.txt'), 'utf8'), 'x')
})

ptest('sandbox: no sockets', (t) => {
  const r = runWasi(mod('sandbox'), { args: ['sandbox', 'sockets'], stdout: 'capture', preopens: { '.': tempDir(t) } })
  t.is(text(r.stdout), 'sockets accepted: 0\n')
  const imports = mod('sandbox').imports.map((i) => i.name)
  t.false(imports.includes('sock_open'), 'preview 1 has no way to create a socket')
})

ptest("a guest closing or renumbering its stdio never touches the host process's own", (t) => {
  const dir = tempDir(t)
  const script = `
    const { runWasi } = require(${JSON.stringify(path.join(ROOT, 'dist/index.js'))})
    const wasm = require('fs').readFileSync(${JSON.stringify(program('sandbox.wasm'))})
    const a = runWasi(wasm, { args: ['sandbox', 'closestdio'], stdin: 'inherit' })
    const b = runWasi(wasm, { args: ['sandbox', 'renumber', '/d/out.txt'], preopens: { '/d': ${JSON.stringify(dir)} } })
    console.log('host stdout ok', a.exitCode, b.exitCode)
    console.error('host stderr ok')
  `
  const r = spawnSync(process.execPath, ['-e', script], { input: 'stdin data', encoding: 'utf8' })
  t.is(r.status, 0, r.stderr)
  t.is(r.stdout, 'host stdout ok 0 0\n')
  t.is(r.stderr, 'stderr still works\nhost stderr ok\n')
  t.is(fs.readFileSync(path.join(dir, 'out.txt'), 'utf8'), 'into the file\n')
})

ptest('inherited stdout copes with a pipe (a large output through a child process)', (t) => {
  const script = `
    const { runWasi } = require(${JSON.stringify(path.join(ROOT, 'dist/index.js'))})
    const r = runWasi(require('fs').readFileSync(${JSON.stringify(program('sandbox.wasm'))}), { args: ['sandbox', 'big', '3000000'] })
    process.exitCode = r.exitCode
  `
  const r = spawnSync(process.execPath, ['-e', script], { maxBuffer: 1 << 26 })
  t.is(r.status, 0, r.stderr.toString())
  t.is(r.stdout.length, 3_000_000)
})

test('a store without WASI options gets an empty context: no args, no env, output dropped', (t) => {
  const wat = `(module
    (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 100) "hi")
    (func (export "argc") (result i32) (drop (call $sizes (i32.const 0) (i32.const 4))) (i32.load (i32.const 0)))
    (func (export "write") (result i32)
      (i32.store (i32.const 16) (i32.const 100)) (i32.store (i32.const 20) (i32.const 2))
      (call $write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24))))`
  const store = new Store()
  const instance = new Linker().defineWasi().instantiate(store, new Module(Engine.default, wat))
  t.is(fn(instance, 'argc')(), 0)
  t.is(fn(instance, 'write')(), 0, 'errno 0: written (and dropped)')
  t.is(store.takeWasiOutput('stdout').length, 0)
})

test('bad WASI options throw typed errors', (t) => {
  const bad: [unknown, string][] = [
    [{ args: 'x' }, 'ERR_INVALID_ARG_TYPE'],
    [{ args: [1] }, 'ERR_INVALID_ARG_TYPE'],
    [{ env: { A: 1 } }, 'ERR_INVALID_ARG_TYPE'],
    [{ env: { 'A=B': 'c' } }, 'ERR_INVALID_ARG_VALUE'],
    [{ stdin: 42 }, 'ERR_INVALID_ARG_TYPE'],
    [{ stdout: 'loud' }, 'ERR_INVALID_ARG_TYPE'],
    [{ stderr: 3 }, 'ERR_INVALID_ARG_TYPE'],
    [{ preopens: { '/x': 5 } }, 'ERR_INVALID_ARG_TYPE'],
    [{ preopens: { '/x': { path: '/tmp', readonly: 'yes' } } }, 'ERR_INVALID_ARG_TYPE'],
    [{ preopens: { '/x': '/definitely/not/a/dir' } }, 'ERR_WASI_PREOPEN'],
    ['nope', 'ERR_INVALID_ARG_TYPE'],
  ]
  for (const [wasi, code] of bad) {
    const e = t.throws(() => new Store(Engine.default, { wasi: wasi as never }), undefined, JSON.stringify(wasi))
    t.is((e as { code?: string }).code, code, JSON.stringify(wasi))
  }
  t.is((t.throws(() => runWasi(42 as never)) as { code?: string }).code, 'ERR_INVALID_ARG_TYPE')
  t.is((t.throws(() => runWasi('(module)')) as { code?: string }).code, 'ERR_INVALID_ARG_VALUE', 'neither _start nor _initialize')
  t.is((t.throws(() => new Store().takeWasiOutput('stdin' as never)) as { code?: string }).code, 'ERR_INVALID_ARG_VALUE')
})

test('Module.serialize / deserialize / deserializeFile and Engine.precompileModule', (t) => {
  const wat = '(module (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))'
  const m = new Module(Engine.default, wat)
  const viaSerialize = Module.deserialize(Engine.default, m.serialize(), { trusted: true })
  const pre = Engine.default.precompileModule(wat)
  const viaPrecompile = Module.deserialize(Engine.default, pre, { trusted: true })
  for (const x of [viaSerialize, viaPrecompile]) t.is(fn(new (require('../dist/index.js').Instance)(new Store(), x), 'add')(2, 3), 5)
  const dir = tempDir(t)
  const file = path.join(dir, 'add.cwasm')
  fs.writeFileSync(file, pre)
  const fromFile = Module.deserializeFile(Engine.default, file, { trusted: true })
  t.deepEqual(fromFile.exports.map((e) => e.name), ['add'])
  t.is((t.throws(() => Module.deserialize(Engine.default, pre, {} as never)) as { code?: string }).code, 'ERR_INVALID_ARG_VALUE')
  t.is((t.throws(() => Module.deserialize(Engine.default, Buffer.from('garbage'), { trusted: true })) as { code?: string }).code, 'ERR_WASM_DESERIALIZE')
  const fuelEngine = new Engine({ consumeFuel: true })
  t.is((t.throws(() => Module.deserialize(fuelEngine, pre, { trusted: true })) as { code?: string }).code, 'ERR_WASM_DESERIALIZE', 'another configuration is refused')
  t.is((t.throws(() => Module.deserializeFile(Engine.default, path.join(dir, 'missing.cwasm'), { trusted: true })) as { code?: string }).code, 'ERR_WASM_DESERIALIZE')
})
