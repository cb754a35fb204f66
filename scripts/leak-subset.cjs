'use strict'
// A representative subset of the leak loops (__test__/leak-loops.test.ts, __test__/leak.test.ts),
// a few hundred iterations each: small enough to run under valgrind memcheck (scripts/valgrind.sh)
// or under an AddressSanitizer build of the addon.
//
//   node scripts/leak-subset.cjs                     every section, LEAK_SUBSET_N=200 iterations
//   LEAK_SUBSET_N=50 node scripts/leak-subset.cjs    fewer iterations
//   node scripts/leak-subset.cjs create traps wasi   only the named sections
//
// Sections: create (create/call/dispose), drop (create/call/drop without dispose, then GC),
// share (Module/Engine/InterruptHandle share/fromShared, fresh modules and engines), transfer
// (store.transfer/Store.receive), traps (unreachable, out-of-bounds memory — a trap delivered by
// SIGSEGV —, divide by zero, stack overflow, host exceptions, re-entrant traps), interrupt (a
// timeout and an InterruptHandle from a timer stopping spinning wasm), async (callAsync, host
// calls from the wasm thread, Promise-returning hosts, a trap), worker (a store transferred to a
// worker thread and back, a module shared with it), wasi (runWasi with captured output, a WASI
// store with a callback output).
//
// Prints one line per section; exits 1 if a check failed (an exception is a failure too).
const path = require('node:path')
const v8 = require('node:v8')
const vm = require('node:vm')

const ROOT = path.resolve(__dirname, '..')
const api = require(process.env.WASMTIME_NODE_PATH || path.join(ROOT, 'dist', 'index.js'))
const { Engine, Func, Instance, InterruptHandle, Linker, Module, Store, StoreStateError, Trap, runWasi } = api

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc')
const tick = () => new Promise((resolve) => setImmediate(resolve))
async function settle() {
  for (let i = 0; i < 5; i++) {
    gc()
    await tick()
  }
  await new Promise((resolve) => setTimeout(resolve, 50))
  gc()
  await tick()
}

/**
 * Collects dropped stores every `every` iterations. Needed under valgrind: each linear memory
 * reserves 4 GiB + guard of address space, valgrind gives its client far less address space than
 * the kernel would, and a dropped store releases its reservation only once collected (without
 * this, the drop section fails there with "mmap failed to reserve 0x104000000 bytes").
 */
async function collectEvery(i, every = 8) {
  if (i % every !== every - 1) return
  gc()
  await tick()
}

const N = Number(process.env.LEAK_SUBSET_N || 200)
let failures = 0
function check(cond, what) {
  if (cond) return
  failures++
  if (failures <= 20) console.log(`FAIL ${typeof what === 'function' ? what() : what}`)
}
function thrown(f) {
  try {
    f()
  } catch (e) {
    return e
  }
  return undefined
}
const readI32 = (memory, offset) => new DataView(memory.read(offset, 4).buffer).getInt32(0, true)

const CALL_WAT = `
(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "run") (param i32) (result i32)
    (i32.store8 (i32.const 0) (local.get 0))
    (i32.add (call $host (local.get 0)) (i32.const 1)))
  (func (export "plain") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func (export "boom") unreachable))`

const TRAP_WAT = `
(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "boom") unreachable)
  (func (export "oob") (param i32) (result i32) (i32.load (i32.add (i32.const 65536) (local.get 0))))
  (func (export "div") (param i32) (result i32) (i32.div_s (i32.const 1) (local.get 0)))
  (func $rec (export "rec") (param i32) (result i32) (i32.add (call $rec (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func (export "callhost") (param i32) (result i32) (call $host (local.get 0)))
  (func (export "ok") (result i32) (i32.const 1)))`

const HOP_WAT = `
(module
  (import "host" "log" (func $log (param i32)))
  (memory (export "mem") 1)
  (global $count (export "count") (mut i32) (i32.const 0))
  (table (export "refs") 1 externref)
  (func (export "inc") (result i32)
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
    (call $log (global.get $count))
    (global.get $count)))`

const SPIN_WAT = `
(module
  (import "host" "started" (func $started))
  (func (export "spin") (param $bound i64) (result i64)
    (local $i i64)
    (call $started)
    (loop $l
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $l (i64.lt_u (local.get $i) (local.get $bound))))
    (local.get $i))
  (func (export "ok") (result i32) (i32.const 1)))`

// A WASI command: writes "hello from wasi\\n" to stdout and to stderr, then exits with code 3.
const WASI_WAT = `
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from wasi\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 16))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $proc_exit (i32.const 3))))`

const sections = {
  create() {
    const module = new Module(Engine.default, CALL_WAT)
    const linker = new Linker().func('env', 'host', { params: ['i32'], results: ['i32'] }, (x) => x * 2)
    const pre = linker.instantiatePre(module)
    for (let i = 0; i < N; i++) {
      const store = new Store(undefined, { data: i })
      let inst
      const host = (v) => {
        check(inst.exports.memory.read(0, 1)[0] === v, 'host sees the memory')
        return v * 2
      }
      inst = i % 3 === 0 ? new Instance(store, module, { env: { host } }) : i % 3 === 1 ? linker.instantiate(store, module) : pre.instantiate(store)
      const x = i & 0x7f
      check(inst.exports.run(x) === 2 * x + 1, `run(${x})`)
      const buffer = inst.exports.memory.buffer
      check(new Uint8Array(buffer)[0] === x, 'memory.buffer')
      store.dispose()
      check(buffer.byteLength === 0, 'dispose detaches the buffer')
      const e = thrown(() => inst.exports.run(1))
      check(e instanceof StoreStateError && e.code === 'ERR_STORE_CLOSED', 'use after dispose')
    }
  },

  async drop() {
    const module = new Module(Engine.default, CALL_WAT)
    let collected = 0
    const registry = new FinalizationRegistry(() => collected++)
    for (let i = 0; i < N; i++) {
      const store = new Store(undefined, { data: { i } })
      registry.register(store, i)
      let inst
      const host = (v) => (inst.exports.memory.read(0, 1)[0] === v ? store.data.i + v : -1)
      inst = new Instance(store, module, { env: { host } })
      check(inst.exports.run(i & 0x7f) === i + (i & 0x7f) + 1, 'run')
      void inst.exports.memory.buffer // an external buffer, released by the finalizer
      await collectEvery(i)
    }
    await settle()
    await settle()
    return `${collected}/${N} dropped stores collected`
  },

  share() {
    const module = new Module(Engine.default, '(module (func (export "f") (result i32) (i32.const 7)))')
    const custom = new Engine({ optLevel: 'none' })
    const store = new Store()
    for (let i = 0; i < N; i++) {
      const token = module.share()
      check(Module.fromShared(token).share().id === token.id, 'module token')
      check(Engine.fromShared(custom.share()).share().id === custom.share().id, 'engine token')
      check(Engine.fromShared(Engine.default.share()) === Engine.default, 'default engine')
      void InterruptHandle.fromShared(store.interruptHandle().share())
      if (i % 10 === 0) check(new Instance(new Store(), token).exports.f() === 7, 'instantiate from a token')
      if (i % 40 === 0) {
        const fresh = new Module(custom.share(), `(module (func (export "f") (result i32) (i32.const ${i})))`)
        check(new Instance(new Store(custom), Module.fromShared(fresh.share())).exports.f() === i, 'fresh module')
      }
    }
    const engine = new Engine()
    check(new Instance(new Store(engine), new Module(Engine.fromShared(engine.share()), '(module (func (export "f") (result i32) (i32.const 1)))')).exports.f() === 1, 'fresh engine')
  },

  async transfer() {
    const module = new Module(Engine.default, HOP_WAT)
    let logged = -1
    const imports = { host: { log: (v) => (logged = v) }, util: { plus1: (x) => x + 1 } }
    let store
    let objects
    for (let i = 0; i < N; i++) {
      if (i % 20 === 0) {
        if (store && i % 40 === 0) store.dispose()
        store = new Store(undefined, { data: `s${i}` })
        const inst = new Instance(store, module, imports)
        inst.exports.refs.set(0, `payload ${i}`)
        const plus = new Func(store, { params: ['i32'], results: ['i32'] }, imports.util.plus1, { module: 'util', name: 'plus1' }).callable
        objects = { inst, mem: inst.exports.mem, count: inst.exports.count, refs: inst.exports.refs, plus }
      }
      const hops = i % 20
      check(objects.inst.exports.inc() === hops + 1 && logged === hops + 1, 'inc before the hop')
      const buffer = objects.mem.buffer
      const r = Store.receive(store.transfer(objects), { imports })
      check(buffer.byteLength === 0, 'transfer detaches the buffer')
      store = r.store
      objects = r.objects
      check(objects.count.value === hops + 1 && readI32(objects.mem, 0) === hops + 1, 'state after the hop')
      check(objects.plus(1) === 2 && objects.refs.get(0) === `payload ${i - hops}` && store.data === `s${i - hops}`, 'objects after the hop')
      await collectEvery(i, 40)
    }
  },

  async traps() {
    const module = new Module(Engine.default, TRAP_WAT)
    let inst
    const host = (x) => {
      if (x === 1) throw new Error('host boom')
      if (x === 2) throw { notAnError: 2 }
      if (x === 3) {
        try {
          inst.exports.boom()
        } catch (e) {
          throw Object.assign(new Error('wrapped'), { cause: e })
        }
      }
      return x
    }
    for (let i = 0; i < N; i++) {
      if (i % 50 === 0) inst = new Instance(new Store(), module, { env: { host } })
      const ex = inst.exports
      const kind = i % 7
      let e
      if (kind === 0) { e = thrown(() => ex.boom()); check(e instanceof Trap && e.trapCode === 'unreachable', () => `unreachable: ${e}`) }
      else if (kind === 1) { e = thrown(() => ex.oob(i & 0xff)); check(e instanceof Trap && e.trapCode === 'memory_out_of_bounds', () => `oob: ${e}`) }
      else if (kind === 2) { e = thrown(() => ex.div(0)); check(e instanceof Trap && e.trapCode === 'integer_division_by_zero', () => `div: ${e}`) }
      else if (kind === 3) { e = thrown(() => ex.callhost(1)); check(e instanceof Error && e.message === 'host boom', () => `host: ${e}`) }
      else if (kind === 4) { e = thrown(() => ex.callhost(2)); check(e && e.notAnError === 2, () => `non-Error: ${e}`) }
      else if (kind === 5) { e = thrown(() => ex.callhost(3)); check(e && e.message === 'wrapped' && e.cause && e.cause.trapCode === 'unreachable', () => `re-entrant: ${e}`) }
      else if (i % 35 === 6) { e = thrown(() => ex.rec(0)); check(e instanceof Trap && e.trapCode === 'stack_overflow', () => `stack overflow: ${e}`) }
      check(ex.ok() === 1 && ex.callhost(9) === 9, 'the store works after a failure')
      await collectEvery(i, 50)
    }
  },

  async interrupt() {
    const module = new Module(Engine.default, SPIN_WAT)
    const rounds = Math.max(2, Math.round(N / 50))
    for (let i = 0; i < rounds; i++) {
      // A per-store timeout (the engine's ticker thread).
      const timed = new Store(undefined, { timeoutMs: 20 })
      const a = new Instance(timed, module, { host: { started: () => {} } })
      const e1 = thrown(() => a.exports.spin(10n ** 15n))
      check(e1 instanceof Trap && e1.trapCode === 'interrupt', () => `timeout: ${e1}`)
      // An interrupt handle used from a timer while a callAsync spins on its thread.
      const store = new Store()
      const handle = InterruptHandle.fromShared(store.interruptHandle().share())
      const b = new Instance(store, module, { host: { started: () => setTimeout(() => handle.interrupt(), 10) } })
      const e2 = await b.exports.spin.callAsync(10n ** 15n).then(() => undefined, (e) => e)
      check(e2 instanceof Trap && e2.trapCode === 'interrupt', () => `interrupt: ${e2}`)
      check(b.exports.ok() === 1, 'runs after the interrupt')
      if (i % 2) store.dispose()
      await collectEvery(i, 4)
    }
  },

  async async() {
    const module = new Module(Engine.default, CALL_WAT)
    const calls = Math.max(4, Math.round(N / 4))
    let inst
    for (let i = 0; i < calls; i++) {
      if (i % 25 === 0) inst = new Instance(new Store(), module, { env: { host: (x) => (x % 2 ? Promise.resolve(x * 2) : x * 2) } })
      const x = i & 0x7f
      if (i % 10 === 9) {
        const e = await inst.exports.boom.callAsync().then(() => undefined, (err) => err)
        check(e instanceof Trap && e.trapCode === 'unreachable', 'callAsync trap')
      } else {
        check((await inst.exports.run.callAsync(x)) === 2 * x + 1, 'run.callAsync')
        check((await inst.exports.plain.callAsync(x)) === x + 1, 'plain.callAsync')
      }
      await collectEvery(i, 25)
    }
  },

  async worker() {
    const { Worker } = require('node:worker_threads')
    const module = new Module(Engine.default, HOP_WAT)
    const store = new Store()
    const inst = new Instance(store, module, { host: { log: () => {} } })
    inst.exports.inc()
    const code = `
      const { parentPort, workerData } = require('node:worker_threads')
      const { Store, Instance, Module } = require(${JSON.stringify(process.env.WASMTIME_NODE_PATH || path.join(ROOT, 'dist', 'index.js'))})
      parentPort.on('message', (m) => {
        if (m === 'end') return parentPort.close()
        const { store, objects } = Store.receive(m.token, { imports: { host: { log: () => {} } } })
        objects.inst.exports.inc()
        const extra = new Instance(new Store(), Module.fromShared(workerData.module), { host: { log: () => {} } })
        extra.exports.inc()
        parentPort.postMessage({ token: store.transfer(objects) })
      })`
    const w = new Worker(code, { eval: true, workerData: { module: module.share() } })
    let token = store.transfer({ inst })
    const rounds = Math.max(2, Math.round(N / 20))
    for (let i = 0; i < rounds; i++) {
      w.postMessage({ token })
      token = (await new Promise((resolve, reject) => (w.once('message', resolve), w.once('error', reject)))).token
      const back = Store.receive(token, { imports: { host: { log: () => {} } } })
      check(back.objects.inst.exports.inc() === 2 * i + 3, 'the store came back with its state')
      token = back.store.transfer(back.objects)
    }
    w.postMessage('end')
    check((await new Promise((resolve) => w.once('exit', resolve))) === 0, 'the worker ends cleanly')
    return `${rounds} round trips`
  },

  wasi() {
    const module = new Module(Engine.default, WASI_WAT)
    const runs = Math.max(4, Math.round(N / 10))
    for (let i = 0; i < runs; i++) {
      const r = runWasi(module, { args: ['hello', String(i)], env: { N: String(i) }, stdout: 'capture', stderr: 'capture' })
      check(r.exitCode === 3, `exit code ${r.exitCode}`)
      check(Buffer.from(r.stdout).toString() === 'hello from wasi\n' && Buffer.from(r.stderr).toString() === 'hello from wasi\n', 'captured output')
    }
    // A WASI store with a callback output, through a linker.
    const chunks = []
    const store = new Store(undefined, { wasi: { stdout: (c) => chunks.push(Buffer.from(c).toString()) } })
    const inst = new Linker().defineWasi().instantiate(store, module)
    const e = thrown(() => inst.exports._start())
    check(e && e.code === 'ERR_WASI_EXIT' && e.exitCode === 3, 'proc_exit')
    check(chunks.join('') === 'hello from wasi\n', () => `callback output ${JSON.stringify(chunks)}`)
    store.dispose()
    return `${runs} runWasi runs`
  },
}

async function main() {
  const wanted = process.argv.slice(2)
  const unknown = wanted.filter((s) => !(s in sections))
  if (unknown.length) {
    console.error(`unknown section(s): ${unknown.join(', ')}; sections: ${Object.keys(sections).join(' ')}`)
    process.exit(2)
  }
  console.log(`# leak-subset: N=${N}, ${process.version}, pid ${process.pid}`)
  for (const name of wanted.length ? wanted : Object.keys(sections)) {
    const t0 = Date.now()
    const before = failures
    let note
    try {
      note = await sections[name]()
    } catch (e) {
      check(false, `${name}: threw ${e && e.stack ? e.stack : e}`)
    }
    await settle()
    const rss = (process.memoryUsage().rss / 1048576).toFixed(1)
    console.log(`${failures === before ? 'ok' : 'FAILED'} ${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s, rss ${rss} MiB${note ? `, ${note}` : ''}`)
  }
  console.log(failures ? `# ${failures} failed checks` : '# all checks passed')
  process.exitCode = failures ? 1 : 0
}

main()
