// control.test.ts runs this in a child process, because what it checks is that the *process*
// survives a worker ending while a callAsync of its runs:
//
//   node async-worker-end-child.mjs <how> <rounds> [callTimeoutMs]
//
// Each round starts a control-spin.mjs worker whose callAsync spins in `(loop (br 0))` on a wasm
// thread (with the callAsync option `timeoutMs: callTimeoutMs` when given), and as soon as the
// guest runs ends the worker — `how` = 'terminate': worker.terminate() from here; 'exit': the
// worker calls process.exit(0) itself. It then checks that the worker ended (terminate()
// resolved / 'exit' fired) and that the wasm job ends too (liveObjects().threads counts the
// pool's threads running a callAsync job). After the rounds, a call on this thread's own store must still work. It
// prints one JSON line `{ rounds: [...], after }` on stdout and exits with code 0; a crash of the
// process shows as a signal or a non-zero exit code in the test.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { api } from './common.mjs'

const { Engine, Instance, Module, Store } = api
const here = path.dirname(fileURLToPath(import.meta.url))
const how = process.argv[2]
const rounds = Number(process.argv[3] ?? 5)
const callTimeoutMs = process.argv[4] === undefined ? undefined : Number(process.argv[4])
const BOUND_MS = 10_000 + (callTimeoutMs ?? 0)

const SPIN_WAT = `(module
  (import "host" "started" (func $started))
  (func (export "spin") (call $started) (loop (br 0)))
  (func (export "ok") (result i32) (i32.const 1)))`

/**
 * callAsync jobs running on the pool's blocking threads (the spin's store is not async):
 * `liveObjects().threads` counts them and the epoch tickers ("wasmtime-node-ticker").
 */
function wasmCallThreads() {
  let tickers = 0
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      if (fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').startsWith('wasmtime-node-t')) tickers++
    } catch {
      // the thread ended while we looked
    }
  }
  return api.liveObjects().threads - tickers
}

async function waitUntil(cond, ms) {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) return false
    await new Promise((r) => setTimeout(r, 10))
  }
  return true
}

const timeout = (ms) => new Promise((resolve) => setTimeout(() => resolve('timed out'), ms).unref())

if (how !== 'terminate' && how !== 'exit') throw new Error(`usage: ${process.argv[1]} terminate|exit <rounds> [callTimeoutMs]`)
const module = new Module(Engine.default, SPIN_WAT)
const results = []
for (let i = 0; i < rounds; i++) {
  const w = new Worker(path.join(here, 'control-spin.mjs'), {
    workerData: { module: module.share(), mode: 'async', callTimeoutMs, exitOnRequest: how === 'exit' },
  })
  const errors = []
  w.on('error', (e) => errors.push(String(e)))
  const exited = new Promise((resolve) => w.once('exit', resolve))
  await new Promise((resolve, reject) => {
    w.on('message', (m) => { if (m.type === 'spinning') resolve() })
    exited.then((code) => reject(new Error(`worker exited (${code}) before spinning`)))
  })
  const threadsWhileSpinning = wasmCallThreads()
  const t0 = performance.now()
  let code
  if (how === 'terminate') {
    code = await Promise.race([w.terminate(), timeout(BOUND_MS)])
  } else {
    w.postMessage({ type: 'exit' })
    code = await Promise.race([exited, timeout(BOUND_MS)])
  }
  const endMs = performance.now() - t0
  const threadEnded = await waitUntil(() => wasmCallThreads() === 0, BOUND_MS)
  const threadEndMs = performance.now() - t0
  results.push({ code, endMs, threadsWhileSpinning, threadEnded, threadEndMs, errors })
}

const store = new Store()
const after = new Instance(store, module, { host: { started: () => {} } }).exports.ok()
process.stdout.write(JSON.stringify({ rounds: results, after }) + '\n')
// A wasm thread left spinning (a failure reported above) must not keep this process alive.
process.exit(0)
