// The README's demo (`npm start`): an HTTP service that runs untrusted wasm plugins on a pool
// of worker threads. Each plugin is compiled once, in the main thread, and shared with every
// worker; each request runs in a fresh store with fuel, a timeout and a memory limit. A
// built-in load generator drives it for a few seconds, including a plugin that loops forever
// and one that tries to take too much memory; then it prints a report and exits.
import http from 'node:http'
import os from 'node:os'
import { Worker } from 'node:worker_threads'
import { performance } from 'node:perf_hooks'
import { Engine, Module } from 'wasmtime-node'
import { plugins, reference } from './plugins.mjs'

const WORKERS = Math.max(2, Math.min(4, os.availableParallelism?.() ?? 2))
const CLIENTS = 8
const DURATION_MS = Number(process.env.DEMO_SECONDS ?? 3) * 1000
const LIMITS = { fuel: 200_000_000, timeoutMs: 50, memoryBytes: 4 << 20 }

// ---- compile once, share everywhere ----
const engine = new Engine({ consumeFuel: true })
const t0 = performance.now()
const compiled = Object.fromEntries(
  await Promise.all(Object.entries(plugins).map(async ([name, wat]) => [name, await Module.compile(engine, wat)])),
)
const compileMs = performance.now() - t0

// ---- the worker pool ----
const shared = { engine: engine.share(), modules: Object.fromEntries(Object.entries(compiled).map(([k, m]) => [k, m.share()])), limits: LIMITS }
const workerUrl = new URL('./demo-worker.mjs', import.meta.url)
const pool = await Promise.all(Array.from({ length: WORKERS }, () => new Promise((resolve, reject) => {
  const w = new Worker(workerUrl, { workerData: shared })
  const entry = { worker: w, busy: 0, pending: new Map(), loadMs: 0 }
  w.on('message', (m) => {
    if (m.ready) {
      entry.loadMs = m.loadMs
      return resolve(entry)
    }
    const done = entry.pending.get(m.id)
    entry.pending.delete(m.id)
    entry.busy--
    done(m)
  })
  w.once('error', reject)
})))

let nextId = 0
/** Send a job to the least busy worker. */
function dispatch(job) {
  const w = pool.reduce((a, b) => (b.busy < a.busy ? b : a))
  const id = nextId++
  w.busy++
  return new Promise((resolve) => {
    w.pending.set(id, resolve)
    w.worker.postMessage({ id, ...job })
  })
}

// ---- the HTTP service ----
const STATUS = { interrupt: 504, out_of_fuel: 429 }
const server = http.createServer(async (req, res) => {
  const url = new URL(/** @type {string} */ (req.url), 'http://localhost')
  const plugin = url.pathname.split('/')[2]
  if (!url.pathname.startsWith('/run/') || !(plugin in plugins)) {
    res.writeHead(404).end()
    return
  }
  const chunks = []
  for await (const c of req) chunks.push(c)
  const body = chunks.length ? new Uint8Array(Buffer.concat(chunks)) : undefined
  const n = Number(url.searchParams.get('n') ?? body?.length ?? 0)
  const r = await dispatch({ plugin, n, body })
  const status = r.ok ? 200 : STATUS[r.error] ?? 500
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(r))
})
await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)))
const { port } = /** @type {import('node:net').AddressInfo} */ (server.address())

// ---- the load generator ----
const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS + 1 })
function request(path, body) {
  return new Promise((resolve, reject) => {
    const start = performance.now()
    const req = http.request({ host: '127.0.0.1', port, path, method: body ? 'POST' : 'GET', agent }, (res) => {
      const parts = []
      res.on('data', (d) => parts.push(d))
      res.on('end', () => resolve({ status: res.statusCode, reply: JSON.parse(Buffer.concat(parts).toString() || '{}'), ms: performance.now() - start }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

let seed = 42
const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32)
const samples = []
function record(plugin, input, r) {
  samples.push({ plugin, input, ...r })
}

async function client(deadline) {
  while (performance.now() < deadline) {
    const x = random()
    if (x < 0.65) {
      const n = 1000 + Math.floor(random() * 9000)
      record('primes', n, await request(`/run/primes?n=${n}`))
    } else if (x < 0.98) {
      const body = Buffer.alloc(1024 + Math.floor(random() * 15 * 1024), 0)
      for (let i = 0; i < body.length; i++) body[i] = Math.floor(random() * 256)
      record('checksum', body, await request('/run/checksum', body))
    } else {
      record('hog', 256, await request('/run/hog?n=256'))
    }
  }
}

async function attacker(deadline) {
  // Every 400 ms, a plugin that never returns: each occupies a worker until its timeout.
  while (performance.now() < deadline) {
    record('spin', 0, await request('/run/spin'))
    await new Promise((r) => setTimeout(r, 400))
  }
}

console.log(`wasmtime-node plugin service on http://127.0.0.1:${port}`)
console.log(`  ${Object.keys(plugins).length} plugins compiled once in the main thread (${compileMs.toFixed(1)} ms); ${WORKERS} workers loaded them with Module.fromShared in ${pool.map((w) => `${(w.loadMs * 1000).toFixed(0)} µs`).join(', ')}`)
console.log(`  per request: a fresh store, fuel ${LIMITS.fuel.toLocaleString('en')}, timeout ${LIMITS.timeoutMs} ms, memory ≤ ${LIMITS.memoryBytes >> 20} MiB`)
console.log(`  load: ${CLIENTS} clients for ${DURATION_MS / 1000} s, plus a client sending the looping plugin every 400 ms\n`)

const started = performance.now()
const deadline = started + DURATION_MS
await Promise.all([...Array.from({ length: CLIENTS }, () => client(deadline)), attacker(deadline)])
const elapsed = (performance.now() - started) / 1000

// ---- the report ----
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
let wrong = 0
const rows = []
for (const plugin of Object.keys(plugins)) {
  const mine = samples.filter((s) => s.plugin === plugin)
  if (!mine.length) continue
  const ms = mine.map((s) => s.ms).sort((a, b) => a - b)
  const outcomes = {}
  for (const s of mine) {
    const key = s.status === 200 ? 'ok' : s.reply.error
    outcomes[key] = (outcomes[key] ?? 0) + 1
    if (s.status === 200 && plugin in reference) {
      const want = plugin === 'checksum' ? reference.checksum(s.input.length, s.input) : reference.primes(s.input)
      if (s.reply.result !== want) wrong++
    }
  }
  rows.push([plugin, mine.length, Object.entries(outcomes).map(([k, v]) => `${k} ${v}`).join(', '), pct(ms, 0.5), pct(ms, 0.9), pct(ms, 0.99)])
}
const fmt = (x) => (typeof x === 'number' ? `${x.toFixed(1)} ms` : String(x))
console.log(`${'plugin'.padEnd(10)}${'requests'.padStart(9)}   ${'outcome'.padEnd(32)}${'p50'.padStart(10)}${'p90'.padStart(10)}${'p99'.padStart(10)}`)
for (const [p, n, o, a, b, c] of rows) console.log(`${p.padEnd(10)}${String(n).padStart(9)}   ${o.padEnd(32)}${fmt(a).padStart(10)}${fmt(b).padStart(10)}${fmt(c).padStart(10)}`)
const count = (pred) => samples.filter(pred).length
const runaway = samples.filter((s) => s.plugin === 'spin')
const byTimeout = runaway.filter((s) => s.reply.error === 'interrupt').length
const byFuel = runaway.filter((s) => s.reply.error === 'out_of_fuel').length
const limited = count((s) => s.plugin === 'hog' && s.status !== 200)
const honest = samples.filter((s) => s.plugin === 'primes' || s.plugin === 'checksum')
console.log(`\n${samples.length} requests in ${elapsed.toFixed(1)} s (${(samples.length / elapsed).toFixed(0)} req/s)`)
console.log(`  ${runaway.length} runs of the endless loop stopped: ${byTimeout} by the ${LIMITS.timeoutMs} ms timeout, ${byFuel} out of fuel (whichever came first)`)
console.log(`  ${limited} runs of the memory hog stopped at the ${LIMITS.memoryBytes >> 20} MiB limit`)
console.log(`  ${honest.length - count((s) => (s.plugin === 'primes' || s.plugin === 'checksum') && s.status === 200)} failures and ${wrong} wrong answers among ${honest.length} well-behaved requests`)

agent.destroy()
server.close()
await Promise.all(pool.map((w) => w.worker.terminate()))
if (wrong) process.exitCode = 1
