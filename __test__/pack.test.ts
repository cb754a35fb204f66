// Distribution: the packed root package + the linux-x64-gnu binary package install into a fresh
// project on a PATH without cargo/rustc, and work there (scripts/smoke.cjs, the CLI). The
// published file list holds nothing users do not need.
import test from 'ava'
import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import { ROOT, tempDir } from './helpers/programs'

/** PATH without any directory that provides cargo or rustc. */
function pathWithoutRust(): string {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((d) => !['cargo', 'rustc', 'rustup'].some((b) => fs.existsSync(path.join(d, b))))
    .join(path.delimiter)
}

test('npm pack lists only what users need', (t) => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' })
  const files: string[] = JSON.parse(out)[0].files.map((f: { path: string }) => f.path)
  t.true(files.includes('dist/index.js') && files.includes('dist/index.d.ts') && files.includes('dist/index.mjs'))
  t.true(files.includes('index.js') && files.includes('dist/cli.js'))
  const unwanted = files.filter((f) => /^(__test__|crate|lib|target|bench|programs|scripts|examples|node_modules|npm)\/|\.node$|Cargo|\.rs$/.test(f))
  t.deepEqual(unwanted, [])
})

test('the packed packages install without a Rust toolchain and pass the smoke script', (t) => {
  const out = tempDir(t, 'wtn-pack-')
  const tarballs = execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'pack.mjs'), '--out', out], { cwd: ROOT, encoding: 'utf8' })
    .trim().split('\n').filter((l) => l.endsWith('.tgz'))
  t.is(tarballs.length, 2, tarballs.join('\n'))
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'wtn-project-'))
  t.teardown(() => fs.rmSync(project, { recursive: true, force: true }))
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'smoke-project', private: true }))
  fs.copyFileSync(path.join(ROOT, 'scripts', 'smoke.cjs'), path.join(project, 'smoke.cjs'))
  fs.writeFileSync(path.join(project, 'exit7.wat'), `(module
    (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
    (memory (export "memory") 1)
    (func (export "_start") (call $exit (i32.const 7))))`)
  const env = { ...process.env, PATH: pathWithoutRust() }
  delete env.WASMTIME_NODE_PATH
  t.not(spawnSync('sh', ['-c', 'command -v cargo || command -v rustc'], { env }).status, 0, 'no Rust toolchain on this PATH')
  const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', ...tarballs], { cwd: project, env, encoding: 'utf8' })
  t.is(install.status, 0, install.stderr)
  t.true(fs.existsSync(path.join(project, 'node_modules', 'wasmtime-node-linux-x64-gnu', 'wasmtime-node.linux-x64-gnu.node')))
  t.false(fs.existsSync(path.join(project, 'node_modules', 'wasmtime-node', 'wasmtime-node.linux-x64-gnu.node')), 'the binary comes from the platform package')
  const smoke = spawnSync(process.execPath, ['smoke.cjs'], { cwd: project, env, encoding: 'utf8' })
  t.log(smoke.stdout.trim())
  t.is(smoke.status, 0, `${smoke.stdout}\n${smoke.stderr}`)
  t.notRegex(smoke.stdout, /FAIL/)
  const cli = spawnSync(path.join(project, 'node_modules', '.bin', 'wasmtime-node'), ['run', 'exit7.wat'], { cwd: project, env, encoding: 'utf8' })
  t.is(cli.status, 7, cli.stderr)
  const esm = spawnSync(process.execPath, ['--input-type=module', '-e', "import { Engine, Module } from 'wasmtime-node'; console.log(new Module(Engine.default, '(module)').exports.length)"], { cwd: project, env, encoding: 'utf8' })
  t.is(esm.stdout.trim(), '0', esm.stderr)
})

test('Electron-style refusal of external buffers: memory.buffer throws a clear error, read/write work', (t) => {
  const script = `
    const { Engine, Module, Store, Instance } = require(${JSON.stringify(path.join(ROOT, 'dist', 'index.js'))})
    const mem = new Instance(new Store(), new Module(Engine.default, '(module (memory (export "m") 1))'), {}).exports.m
    mem.write(8, new Uint8Array([1, 2, 3]))
    let code = 'none', message = ''
    try { mem.buffer } catch (e) { code = e.code; message = e.message }
    console.log(JSON.stringify({ code, message, read: [...mem.read(8, 3)] }))
  `
  const r = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, WASMTIME_NODE_NO_EXTERNAL_BUFFERS: '1' }, encoding: 'utf8' })
  t.is(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  t.is(out.code, 'ERR_EXTERNAL_BUFFER_UNSUPPORTED')
  t.regex(out.message, /memory\.read\(\) and memory\.write\(\)/)
  t.deepEqual(out.read, [1, 2, 3])
})
