// A worker of the demo's pool: runs each request in a fresh store with fuel, a timeout and a
// memory limit, using modules compiled once by the main thread (Module.fromShared: no compile).
import { parentPort, workerData } from 'node:worker_threads'
import { performance } from 'node:perf_hooks'
import { Engine, Module, Store, Linker, Trap } from 'wasmtime-node'

const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort) // a worker's: not null

const t0 = performance.now()
const engine = Engine.fromShared(workerData.engine)
const linker = new Linker(engine)
const plugins = {}
for (const [name, token] of Object.entries(workerData.modules)) {
  plugins[name] = linker.instantiatePre(Module.fromShared(token))
}
const loadMs = performance.now() - t0
const { fuel, timeoutMs, memoryBytes } = workerData.limits

function handle({ plugin, n, body }) {
  const store = new Store(engine, { fuel, timeoutMs, limits: { memorySize: memoryBytes } })
  try {
    const { run, memory } = plugins[plugin].instantiate(store).exports
    if (body) memory.write(0, body)
    return { ok: true, result: run(n) }
  } catch (e) {
    if (e instanceof Trap) return { ok: false, error: e.trapCode }
    return { ok: false, error: /** @type {{ code?: string }} */ (e).code ?? String(e) }
  } finally {
    store.dispose()
  }
}

port.on('message', (msg) => {
  const start = performance.now()
  const out = handle(msg)
  port.postMessage({ id: msg.id, ...out, ms: performance.now() - start })
})
port.postMessage({ ready: true, loadMs })
