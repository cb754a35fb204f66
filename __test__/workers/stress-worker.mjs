// stress.test.ts: one of 4 workers, each running `ops` mixed operations chosen by a seeded PRNG on a
// pool of stores, and trading stores, modules and interrupts with the other workers over
// MessagePorts (`ports[peer]`), without the main thread relaying.
//
// Every store of the pool has a model: the bytes its memory should hold in [0, REGION), its
// `calls` global (one per fill()), and its `store.data` (an id). Every operation that touches a
// store checks what it can see against that model; a transferred store carries its model in the
// message, and the receiving worker checks that the contents survived the trip.
//
// Operations: share (Module/Engine/InterruptHandle tokens; a freshly compiled module shared with a
// peer, which instantiates it and acks), instantiate (Instance with a module or a module token,
// Linker, InstancePre), call (fill + read back), callAsync, verify, trap (wasm trap and host
// exception), interrupt (a spinning export, interrupted by a peer that got the handle's token:
// synchronous when this worker holds the process-wide sync-spin lock, callAsync otherwise),
// transfer (store.transfer() to a peer, received and checked there), dispose (or drop).
//
// Why no deadlock by design: a worker only ever waits for a peer while spinning, and a peer
// serves interrupt requests from its event loop. At most one worker spins synchronously (event
// loop blocked) at a time — the lock — so the peer it waits for always has a free event loop
// (it runs short operations, or awaits a callAsync). A deadlock would thus be a bug.
//
// Protocol with the test (parentPort): → { type: 'progress', done, op } now and then;
// → { type: 'done', stats, sent } after the operations ('sent[peer]': stores and modules posted
// to that peer); ← { type: 'drain', expect } (how many stores and modules peers sent here); the
// worker waits for them all, for the acks of the modules it shared and for the peers' 'interrupted'
// messages (the time of their interrupt()) of its interrupted spins, verifies and disposes its
// pool → { type: 'drained', stats }; ← { type: 'exit' }: closes its ports and ends. `stats`
// carries the latencies of its spins: start to trap, interrupt() to trap, and how long peers'
// interrupt requests took to reach it.
// An unexpected exception in an operation is recorded as a failed check (with its op), not thrown.
import { parentPort, workerData } from 'node:worker_threads'
import { api, describeError } from './common.mjs'

const { Engine, Instance, InterruptHandle, Linker, Module, Store, StoreStateError, Trap } = api
const { index, seed, ops: OPS, ports, moduleToken, engineToken, customModuleToken, lock, spinBound, region: REGION, poolMax } = workerData

// ---------------------------------------------------------------------------------------------
// PRNG (mulberry32), seeded per worker

let prngState = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0
function random() {
  prngState = (prngState + 0x6d2b79f5) >>> 0
  let x = prngState
  x = Math.imul(x ^ (x >>> 15), x | 1)
  x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296
}
const int = (n) => Math.floor(random() * n)
const pick = (arr) => arr[int(arr.length)]

// ---------------------------------------------------------------------------------------------
// Bookkeeping

const counts = {}
const count = (what, n = 1) => (counts[what] = (counts[what] ?? 0) + n)
const checks = { passed: 0, failed: 0, failures: [] }
function check(cond, what) {
  if (cond) {
    checks.passed++
    return true
  }
  checks.failed++
  if (checks.failures.length < 20) checks.failures.push(`worker ${index}: ${typeof what === 'function' ? what() : what}`)
  return false
}
// Latencies (ms). A spin's start-to-trap time is the sum of its request reaching the peer (the
// peer's event loop, between its operations) and the interrupt itself (interrupt() to the trap).
// Times that cross threads are performance.timeOrigin + performance.now().
const now = () => performance.timeOrigin + performance.now()
/** Per spin of this worker: from its start (inside the call) to its trap. */
const spinLatencies = []
/** Per spin of this worker: from the peer's interrupt() to the trap here. */
const interruptLatencies = []
/** Per spin request served for a peer: from the peer's 'spin' message to interrupt() here. */
const serveLatencies = []
/** Spins of this worker that trapped, by id: { trapAt?, issuedAt? } until both are known. */
const landings = new Map()
function landed(spinId, field, at) {
  const l = landings.get(spinId) ?? {}
  l[field] = at
  if (l.trapAt === undefined || l.issuedAt === undefined) return landings.set(spinId, l)
  landings.delete(spinId)
  interruptLatencies.push(l.trapAt - l.issuedAt)
}
const peers = Object.keys(ports).map(Number)
const sent = Object.fromEntries(peers.map((p) => [p, 0]))
let receivedFromPeers = 0
let nextId = 1
const newId = () => index * 1_000_000 + nextId++

// ---------------------------------------------------------------------------------------------
// The modules, the engine, host functions

const module = Module.fromShared(moduleToken)
const customEngine = Engine.fromShared(engineToken)
let lastTick
let currentSpin = null
const tick = (s) => {
  if (s === -1) throw new Error(`host fail in worker ${index}`)
  lastTick = s
}
// Called by `spin` as it starts: tells the chosen peer to interrupt it (the call is running now).
const started = () => {
  if (!currentSpin) throw new Error('spin started with no interrupter chosen')
  currentSpin.startedAt = performance.now()
  ports[currentSpin.peer].postMessage({ type: 'spin', from: index, spinId: currentSpin.spinId, token: currentSpin.token, sentAt: now() })
}
const imports = { env: { tick, started } }
const linker = new Linker()
  .func('env', 'tick', { params: ['i32'], results: [] }, tick)
  .func('env', 'started', { params: [], results: [] }, started)
const pre = linker.instantiatePre(module)

// ---------------------------------------------------------------------------------------------
// Memory model

const pattern = (s, len) => {
  const b = new Uint8Array(len)
  for (let k = 0; k < len; k++) b[k] = (s + k * 31) & 0xff
  return b
}
const checksum = (bytes) => {
  let s = 0
  for (let k = 0; k < bytes.length; k++) s = (Math.imul(s, 31) + bytes[k]) | 0
  return s
}
function firstDifference(a, b) {
  if (a.length !== b.length) return `length ${a.length} ≠ ${b.length}`
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return `byte ${k}: ${a[k]} ≠ ${b[k]}`
  return null
}

/** A store of the pool: its wasm objects and its model. */
function entryOf(store, inst, id, expected, calls) {
  const ex = inst.exports
  return { store, inst, ex, mem: ex.mem, id, expected, calls, busy: false }
}

/** Checks the whole model of `e`: memory bytes (copied and zero-copy), wasm's checksum, the global, the data. */
function verify(e, where) {
  const bytes = e.mem.read(0, REGION)
  const diff = firstDifference(bytes, e.expected)
  check(diff === null, () => `${where}: store ${e.id} memory differs from its model at ${diff}`)
  check(e.ex.sum(0, REGION) === checksum(e.expected), () => `${where}: store ${e.id}: wasm checksum differs from the model`)
  check(e.ex.calls.value === e.calls, () => `${where}: store ${e.id}: calls global ${e.ex.calls.value}, model ${e.calls}`)
  check(e.store.data === e.id, () => `${where}: store ${e.id}: store.data is ${e.store.data}`)
  if (int(4) === 0) {
    const view = new Uint8Array(e.mem.buffer, 0, REGION)
    check(firstDifference(view, e.expected) === null, () => `${where}: store ${e.id}: zero-copy buffer differs from the model`)
  }
}

/** A fill of a random range of `e` (sync or via callAsync), the model updated, the range read back. */
async function fill(e, how) {
  e.busy = true // a store received meanwhile must not evict this one from the pool
  try {
    await fillRange(e, how)
  } finally {
    e.busy = false
  }
}

async function fillRange(e, how) {
  const len = 1 + int(256)
  const off = int(REGION - len + 1)
  const s = int(256)
  lastTick = undefined
  if (how === 'sync') e.ex.fill(off, len, s)
  else if (how === 'js') e.mem.write(off, pattern(s, len))
  else if (int(4) === 0) await e.ex.fill.callAsync(off, len, s, { timeoutMs: 60_000 })
  else await e.ex.fill.callAsync(off, len, s)
  const want = pattern(s, len)
  e.expected.set(want, off)
  if (how !== 'js') {
    e.calls++
    check(lastTick === s, () => `fill(${how}) of store ${e.id}: the host saw seed ${lastTick}, not ${s}`)
  }
  const got = e.mem.read(off, len)
  check(firstDifference(got, want) === null, () => `fill(${how}) of store ${e.id} [${off}, ${off + len}): ${firstDifference(got, want)}`)
  const sum = how === 'async' && int(2) === 0 ? await e.ex.sum.callAsync(off, len) : e.ex.sum(off, len)
  check(sum === checksum(want), () => `fill(${how}) of store ${e.id}: wasm checksum of the range`)
}

// ---------------------------------------------------------------------------------------------
// The pool

const pool = []

function addToPool(e) {
  pool.push(e)
  while (pool.length > poolMax) {
    // Never the one just added: the caller is about to use it.
    const idle = pool.filter((x) => !x.busy && x !== e)
    if (idle.length === 0) break
    retire(pick(idle), int(2) === 0)
  }
}

function takeFromPool(e) {
  const k = pool.indexOf(e)
  if (k >= 0) pool.splice(k, 1)
}

/** Verifies `e`, removes it from the pool, and disposes or drops it. */
function retire(e, dispose) {
  verify(e, 'retire')
  takeFromPool(e)
  if (dispose) {
    const buffer = e.mem.buffer
    e.store.dispose()
    count('dispose')
    check(buffer.byteLength === 0, 'dispose detaches memory.buffer')
    let code = 'no error'
    try {
      e.ex.ok()
    } catch (err) {
      code = err instanceof StoreStateError ? err.code : String(err)
    }
    check(code === 'ERR_STORE_CLOSED', () => `a call after dispose threw ${code}`)
  } else {
    count('drop')
  }
}

function instantiate() {
  const id = newId()
  const store = new Store(undefined, { data: id })
  let inst
  switch (int(4)) {
    case 0:
      inst = new Instance(store, module, imports)
      count('instantiate.instance')
      break
    case 1:
      inst = new Instance(store, Module.fromShared(moduleToken), imports)
      count('instantiate.token')
      break
    case 2:
      inst = linker.instantiate(store, module)
      count('instantiate.linker')
      break
    default:
      inst = pre.instantiate(store)
      count('instantiate.instancePre')
  }
  const e = entryOf(store, inst, id, new Uint8Array(REGION), 0)
  verify(e, 'instantiate')
  addToPool(e)
  return e
}

const anyEntry = () => {
  const idle = pool.filter((x) => !x.busy)
  return idle.length ? pick(idle) : instantiate()
}

// ---------------------------------------------------------------------------------------------
// Messages from peers

/** Modules this worker shared with a peer, kept alive until the peer acks (id → Module). */
const sharedOut = new Map()
let drainWaiter = null
const wake = () => drainWaiter?.()

function onPeerMessage(peer, m) {
  try {
    if (m.type === 'spin') {
      // A peer is spinning and chose this worker to interrupt it.
      serveLatencies.push(now() - m.sentAt)
      const handle = InterruptHandle.fromShared(m.token)
      const issuedAt = now()
      handle.interrupt()
      ports[peer].postMessage({ type: 'interrupted', spinId: m.spinId, issuedAt })
      count('interrupt.served')
    } else if (m.type === 'interrupted') {
      landed(m.spinId, 'issuedAt', m.issuedAt)
    } else if (m.type === 'store') {
      receivedFromPeers++
      const { store, objects } = Store.receive(m.token, { imports })
      const inst = objects.inst
      check(inst instanceof Instance, 'a received store carries its instance')
      if (objects.mem) {
        // Sent by name too: the same memory as the instance's export.
        check(firstDifference(objects.mem.read(0, REGION), m.expected) === null, 'a memory received by name holds the contents')
        count('transfer.receivedWithMemory')
      }
      const e = entryOf(store, inst, m.id, m.expected, m.calls)
      verify(e, `received from worker ${peer}`)
      count('transfer.received')
      addToPool(e)
    } else if (m.type === 'module') {
      receivedFromPeers++
      try {
        const handle = Module.fromShared(m.token)
        check(handle.share().id === m.token.id, 'a peer module: fromShared gives the same module')
        check(handle.engine.share().id === engineToken.id, "a peer module's engine is the shared custom engine")
        // A store of the module's engine, given by token.
        const store = new Store(engineToken)
        const r = new Instance(store, m.token).exports.f()
        check(r === m.id, () => `a module shared by worker ${peer}: f() gave ${r}, not ${m.id}`)
        store.dispose()
        count('share.peerModule')
      } finally {
        ports[peer].postMessage({ type: 'module-ack', id: m.id })
      }
    } else if (m.type === 'module-ack') {
      check(sharedOut.delete(m.id), () => `an ack for module ${m.id}, which was not shared`)
    } else {
      check(false, () => `unknown message ${m.type} from worker ${peer}`)
    }
  } catch (err) {
    check(false, () => `handling '${m.type}' from worker ${peer}: ${describeError(err).name}: ${describeError(err).message}`)
  }
  wake()
}

for (const peer of peers) ports[peer].on('message', (m) => onPeerMessage(peer, m))

// ---------------------------------------------------------------------------------------------
// Operations

const otherPeer = () => pick(peers)

const operations = {
  share() {
    const handle = Module.fromShared(moduleToken)
    check(handle.share().id === moduleToken.id && module.share().id === moduleToken.id, 'Module.fromShared gives the same module')
    const engine = Engine.fromShared(engineToken)
    check(engine.share().id === engineToken.id, 'Engine.fromShared gives the same engine')
    check(Engine.fromShared(Engine.default.share()) === Engine.default, 'the default engine')
    const cm = Module.fromShared(customModuleToken)
    check(cm.engine.share().id === engineToken.id, "the custom module's engine")
    if (int(4) === 0) {
      const store = new Store(engineToken)
      const r = new Instance(store, customModuleToken).exports.f()
      check(r === 8, () => `the custom-engine module gave ${r}`)
      if (int(2) === 0) store.dispose()
    }
    const e = pool.length ? pick(pool) : null
    if (e) {
      const h = InterruptHandle.fromShared(e.store.interruptHandle().share())
      check(typeof h.interrupt === 'function', 'an interrupt handle from its token')
    }
    count('share.local')
  },

  shareOut() {
    // A freshly compiled module (on the custom engine, given by token), shared with a peer.
    const id = newId()
    const m = new Module(int(2) === 0 ? customEngine : engineToken, `(module (func (export "f") (result i32) (i32.const ${id})))`)
    sharedOut.set(id, m)
    const peer = otherPeer()
    ports[peer].postMessage({ type: 'module', id, token: m.share() })
    sent[peer]++
    count('share.toPeer')
  },

  instantiate() {
    const e = instantiate()
    if (int(2) === 0) return fill(e, 'sync')
  },

  call() {
    count('call')
    return fill(anyEntry(), int(5) === 0 ? 'js' : 'sync')
  },

  callAsync() {
    count('callAsync')
    return fill(anyEntry(), 'async')
  },

  verify() {
    count('verify')
    verify(anyEntry(), 'verify')
  },

  trap() {
    const e = anyEntry()
    let err
    if (int(2) === 0) {
      try {
        e.ex.boom()
      } catch (x) {
        err = x
      }
      check(err instanceof Trap && err.trapCode === 'unreachable', () => `boom() threw ${String(err)}`)
      count('trap.wasm')
    } else {
      try {
        e.ex.hostfail()
      } catch (x) {
        err = x
      }
      check(err instanceof Error && err.message === `host fail in worker ${index}`, () => `hostfail() threw ${String(err)}`)
      count('trap.hostException')
    }
    verify(e, 'after a trap')
  },

  async interrupt() {
    const e = anyEntry()
    const peer = otherPeer()
    const sync = Atomics.compareExchange(lock, 0, 0, index + 1) === 0
    currentSpin = { peer, spinId: newId(), token: e.store.interruptHandle().share(), startedAt: undefined }
    let result
    let err
    // For the watchdog's report, should this spin never end.
    parentPort.postMessage({ type: 'progress', done: opsDone, op: `interrupt: a ${sync ? 'sync' : 'callAsync'} spin, waiting for worker ${peer} to interrupt it` })
    const t0 = performance.now()
    e.busy = true
    try {
      if (sync) {
        try {
          result = e.ex.spin(spinBound)
        } catch (x) {
          err = x
        }
      } else {
        result = await e.ex.spin.callAsync(spinBound).then(
          (r) => r,
          (x) => {
            err = x
          },
        )
      }
    } finally {
      if (sync) Atomics.store(lock, 0, 0)
      e.busy = false
    }
    const trapAt = now()
    const ms = performance.now() - (currentSpin.startedAt ?? t0)
    const { spinId } = currentSpin
    currentSpin = null
    spinLatencies.push(ms)
    // Interrupted: the peer's 'interrupted' message (with its interrupt() time) is on its way.
    if (err instanceof Trap && err.trapCode === 'interrupt') landed(spinId, 'trapAt', trapAt)
    check(err instanceof Trap && err.trapCode === 'interrupt', () => `a ${sync ? 'sync' : 'callAsync'} spin interrupted by worker ${peer}: ${err ? `threw ${String(err)}` : `returned ${result} after ${ms.toFixed(0)} ms: not interrupted`}`)
    count(sync ? 'interrupt.sync' : 'interrupt.async')
    // The store is intact and runs again.
    check(e.ex.ok() === 1, 'the store runs after an interrupt')
    verify(e, 'after an interrupt')
  },

  transfer() {
    const e = anyEntry()
    takeFromPool(e)
    const peer = otherPeer()
    const buffer = e.mem.buffer
    const token = e.store.transfer(int(2) === 0 ? { inst: e.inst } : { inst: e.inst, mem: e.mem })
    check(buffer.byteLength === 0, 'transfer detaches memory.buffer')
    let code = 'no error'
    try {
      e.ex.ok()
    } catch (err) {
      code = err instanceof StoreStateError ? err.code : String(err)
    }
    check(code === 'ERR_STORE_MOVED', () => `a call after transfer threw ${code}`)
    ports[peer].postMessage({ type: 'store', token, id: e.id, expected: e.expected, calls: e.calls })
    sent[peer]++
    count('transfer.sent')
  },

  dispose() {
    if (pool.length === 0) instantiate()
    const idle = pool.filter((x) => !x.busy)
    if (idle.length) retire(pick(idle), int(3) !== 0)
  },
}

// Relative weights of the operations.
const WEIGHTS = { share: 7, shareOut: 4, instantiate: 10, call: 24, callAsync: 12, verify: 6, trap: 5, interrupt: 4, transfer: 12, dispose: 8 }
const table = Object.entries(WEIGHTS)
const totalWeight = table.reduce((s, [, w]) => s + w, 0)
function chooseOp() {
  let r = random() * totalWeight
  for (const [name, w] of table) {
    if ((r -= w) < 0) return name
  }
  return table[table.length - 1][0]
}

const yieldNow = () => new Promise((resolve) => setImmediate(resolve))

/** { median, max } of `ms`, or null when empty. */
function spread(ms) {
  const sorted = [...ms].sort((a, b) => a - b)
  return sorted.length ? { median: sorted[sorted.length >> 1], max: sorted[sorted.length - 1] } : null
}

function stats() {
  return {
    index,
    counts,
    checks,
    pool: pool.length,
    sharedOut: sharedOut.size,
    receivedFromPeers,
    spins: spinLatencies.length,
    spinMs: spread(spinLatencies),
    interruptMs: spread(interruptLatencies),
    serveMs: spread(serveLatencies),
  }
}

let opsDone = 0
/** Milliseconds spent in each kind of operation. */
const opMs = {}

async function main() {
  for (let k = 0; k < 4; k++) instantiate()
  const opCounts = {}
  for (let done = 0; done < OPS; done++) {
    opsDone = done
    const op = chooseOp()
    opCounts[op] = (opCounts[op] ?? 0) + 1
    const t0 = performance.now()
    try {
      await operations[op]()
    } catch (err) {
      const d = describeError(err)
      check(false, `op ${done} (${op}): unexpected ${d.name}${d.code ? ` [${d.code}]` : ''}: ${d.message}`)
    }
    opMs[op] = (opMs[op] ?? 0) + (performance.now() - t0)
    if (done % 100 === 99) parentPort.postMessage({ type: 'progress', done: done + 1, op })
    await yieldNow() // serve peers' messages (interrupts, stores, modules) between operations
  }
  parentPort.postMessage({ type: 'done', ops: opCounts, opMs, sent, stats: stats() })
}

parentPort.on('message', async (m) => {
  if (m.type === 'drain') {
    // Wait for everything peers sent here, and for the acks of the modules shared from here.
    let lastReport = performance.now()
    while (receivedFromPeers < m.expect || sharedOut.size > 0 || landings.size > 0) {
      await new Promise((resolve) => {
        drainWaiter = resolve
        setTimeout(resolve, 100)
      })
      if (performance.now() - lastReport > 1000) {
        lastReport = performance.now()
        parentPort.postMessage({ type: 'progress', done: OPS, op: `drain: ${receivedFromPeers}/${m.expect} received, ${sharedOut.size} shared modules not acked, ${landings.size} interrupts not confirmed by their peer` })
      }
    }
    drainWaiter = null
    check(receivedFromPeers === m.expect, () => `received ${receivedFromPeers} stores/modules from peers, they sent ${m.expect}`)
    for (const e of [...pool]) retire(e, true)
    parentPort.postMessage({ type: 'drained', stats: stats() })
  } else if (m.type === 'exit') {
    for (const peer of peers) ports[peer].close()
    parentPort.close()
  }
})

main().catch((err) => {
  const d = describeError(err)
  parentPort.postMessage({ type: 'failed', error: d })
})
