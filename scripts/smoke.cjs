/* global Bun, Deno */
'use strict'
// Smoke test of wasmtime-node for any runtime (Node, Bun, Deno): plain CommonJS, no dependencies.
//   WASMTIME_NODE_PATH=/path/to/dist/index.js node scripts/smoke.cjs
// Prints `ok <name>` or `FAIL <name>: <error>` per check; exits 1 if any check failed.
const path = require('node:path')

const spec = process.env.WASMTIME_NODE_PATH || 'wasmtime-node'
const target = spec.startsWith('.') ? path.resolve(spec) : spec
const runtime = typeof Bun !== 'undefined' ? `bun ${Bun.version}`
  : typeof Deno !== 'undefined' ? `deno ${Deno.version.deno}` : `node ${process.version}`
console.log(`# ${runtime}, napi ${process.versions.napi}, package ${target}`)

let failed = 0
const ok = (name) => console.log(`ok ${name}`)
const fail = (name, e) => {
  failed++
  const msg = e && e.stack ? String(e.stack).split('\n').slice(0, 3).join(' | ') : String(e)
  console.log(`FAIL ${name}: ${msg}`)
}
function assert(cond, msg) { if (!cond) throw new Error(`assertion failed: ${msg}`) }
function check(name, fn) { try { fn(); ok(name) } catch (e) { fail(name, e) } }

let w
try {
  w = require(target)
  ok('load')
} catch (e) {
  fail('load', e)
  process.exit(1)
}
const { Engine, Module, Store, Instance, Trap, runWasi } = w

const hostWat = `(module
  (import "host" "twice" (func $twice (param i32) (result i32)))
  (memory (export "mem") 1)
  (func (export "run") (param i32 i32) (result i32)
    (i32.add (call $twice (local.get 0)) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "boom") unreachable)
  (func (export "spin") (loop (br 0))))`

check('host-function', () => {
  let seen
  const m = new Module(Engine.default, hostWat)
  const i = new Instance(new Store(), m, { host: { twice: (x) => { seen = x; return x * 2 } } })
  const r = i.exports.run(20, 2)
  assert(r === 42 && seen === 20, `run(20, 2) = ${r}, host saw ${seen}`)
})

check('memory', () => {
  const m = new Module(Engine.default, hostWat)
  const { exports: e } = new Instance(new Store(), m, { host: { twice: (x) => x } })
  e.mem.write(100, new Uint8Array([7, 8, 9]))
  assert(e.load(101) === 8, 'wasm sees memory.write')
  e.store(200, 99)
  assert(e.mem.read(200, 1)[0] === 99, 'memory.read sees wasm store')
  const view = new Uint8Array(e.mem.buffer)
  assert(view.byteLength === 65536, `buffer byteLength ${view.byteLength}`)
  assert(view[102] === 9, 'buffer sees memory.write')
  view[300] = 55
  assert(e.load(300) === 55, 'wasm sees write through buffer')
})

function expectTrap(fn, code) {
  try { fn() } catch (e) {
    assert(e instanceof Trap, `expected a Trap, got ${e && e.stack}`)
    assert(e.trapCode === code, `trapCode ${e.trapCode}, expected ${code}`)
    return
  }
  throw new Error(`no trap (expected ${code})`)
}

check('trap', () => {
  const m = new Module(Engine.default, hostWat)
  const { exports: e } = new Instance(new Store(), m, { host: { twice: (x) => x } })
  expectTrap(() => e.boom(), 'unreachable')
})

check('fuel', () => {
  const engine = new Engine({ consumeFuel: true })
  const store = new Store(engine)
  store.setFuel(10000)
  const { exports: e } = new Instance(store, new Module(engine, hostWat), { host: { twice: (x) => x } })
  expectTrap(() => e.spin(), 'out_of_fuel')
})

check('timeout', () => {
  const store = new Store(Engine.default, { timeoutMs: 50 })
  const { exports: e } = new Instance(store, new Module(Engine.default, hostWat), { host: { twice: (x) => x } })
  const t0 = Date.now()
  expectTrap(() => e.spin(), 'interrupt')
  const ms = Date.now() - t0
  assert(ms < 5000, `interrupt took ${ms} ms`)
})

check('wasi', () => {
  const r = runWasi(`(module
    (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 0) "\\08\\00\\00\\00\\06\\00\\00\\00")
    (data (i32.const 8) "hello\\n")
    (func (export "_start") (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 20)))))`,
  { stdout: 'capture' })
  const out = Buffer.from(r.stdout).toString()
  assert(r.exitCode === 0, `exitCode ${r.exitCode}`)
  assert(out === 'hello\n', `stdout ${JSON.stringify(out)}`)
})

function workerCheck(done) {
  const name = 'worker-share'
  let settled = false
  const finish = (e) => { if (settled) return; settled = true; if (e) fail(name, e); else ok(name); done() }
  try {
    const { Worker } = require('node:worker_threads')
    const m = new Module(Engine.default, '(module (func (export "mul") (param i32 i32) (result i32) (i32.mul (local.get 0) (local.get 1))))')
    const code = `
      const { parentPort, workerData } = require('node:worker_threads')
      const { Module, Store, Instance } = require(workerData.target)
      const i = new Instance(new Store(), Module.fromShared(workerData.token), {})
      parentPort.postMessage(i.exports.mul(6, 7))`
    const worker = new Worker(code, { eval: true, workerData: { target: require.resolve(target), token: m.share() } })
    const timer = setTimeout(() => { finish(new Error('worker timed out after 20 s')); worker.terminate() }, 20000)
    worker.once('message', (v) => {
      clearTimeout(timer)
      finish(v === 42 ? null : new Error(`worker got ${v}`))
      worker.terminate()
    })
    worker.once('error', (e) => { clearTimeout(timer); finish(e) })
    worker.once('exit', (c) => { clearTimeout(timer); finish(new Error(`worker exited with code ${c} before replying`)) })
    globalThis.__keepModule = m // keep the module alive until the worker has its own handle
  } catch (e) { finish(e) }
}

workerCheck(() => {
  console.log(failed ? `${failed} check(s) failed` : 'all checks passed')
  process.exit(failed ? 1 : 0)
})
