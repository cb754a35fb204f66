// control.test.ts runs this in a child process. The main thread never loads wasmtime-node; it starts
// a worker that does, and that worker spins in a sync wasm call. `terminate`: main calls
// worker.terminate() and prints `{ code, ms, mainLoaded }`. `exit`: main calls process.exit(0) (Node
// then stops the worker and joins it: the test checks that the process really exits).
const { Worker } = require('node:worker_threads')
const path = require('node:path')

const [how, api] = process.argv.slice(2)
const code = `
const W = require(${JSON.stringify(api)})
const { parentPort } = require('node:worker_threads')
const spin = new W.Instance(new W.Store(), new W.Module(W.Engine.default, '(module (func (export "s") (loop $l (br $l))))')).exports.s
parentPort.postMessage('spinning')
spin()`
const worker = new Worker(code, { eval: true })
worker.on('error', (e) => console.error('worker error:', e))
worker.once('message', () => {
  setTimeout(async () => {
    const mainLoaded = Object.keys(require.cache).some((p) => p.startsWith(path.dirname(api)))
    if (how === 'exit') process.exit(0)
    const t0 = performance.now()
    const exitCode = await worker.terminate()
    console.log(JSON.stringify({ code: exitCode, ms: performance.now() - t0, mainLoaded }))
  }, 100)
})
