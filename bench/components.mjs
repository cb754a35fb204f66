// Components: calls and per-request instantiation on wasmtime-node beside the same component
// transpiled by jco (@bytecodealliance/jco) running on V8 — the only other way to run a component
// in Node. The component is the test fixture __test__/components/iface.wasm (an exported
// interface `acme:plugin/api@0.1.0` with `add(u32, u32)` and `greet(string) -> string`).
import { createRequire } from 'node:module'
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { bestOf } from './harness.mjs'

const require = createRequire(import.meta.url)
const wt = require('../dist/index.js')

/** jco's transpilation of `bytes`, loaded: `instantiate(getCoreModule, imports)`. */
async function transpiled(bytes) {
  const { transpile } = await import('@bytecodealliance/jco')
  const { files } = await transpile(bytes, { name: 'bench', instantiation: 'async', noTypescript: true, quiet: true })
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wasmtime-node-bench-jco-'))
  for (const [name, data] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
    writeFileSync(path.join(dir, name), data)
  }
  const mod = await import(pathToFileURL(path.join(dir, 'bench.js')).href)
  const core = (p) => new WebAssembly.Module(readFileSync(path.join(dir, p)))
  return { instantiate: () => mod.instantiate(core, {}) }
}

export async function run() {
  const bytes = readFileSync(new URL('../__test__/components/iface.wasm', import.meta.url))
  const jco = await transpiled(bytes)
  const component = new wt.Component(wt.Engine.default, bytes)
  const pre = new wt.ComponentLinker(wt.Engine.default).instantiatePre(component)
  const ours = pre.instantiate(new wt.Store()).exports.api
  const peer = (await jco.instantiate()).api
  const peerName = 'jco-transpiled on V8'
  const rows = []
  const N = 50_000
  rows.push({
    name: 'component call add(u32, u32) -> u32',
    unit: 'ns/call',
    ours: bestOf(() => { for (let i = 0; i < N; i++) ours.add(i, 1) }, N),
    peer: bestOf(() => { for (let i = 0; i < N; i++) peer.add(i, 1) }, N),
    peerName,
  })
  rows.push({
    name: 'component call greet(string) -> string',
    unit: 'ns/call',
    ours: bestOf(() => { for (let i = 0; i < N; i++) ours.greet('Node') }, N),
    peer: bestOf(() => { for (let i = 0; i < N; i++) peer.greet('Node') }, N),
    peerName,
  })
  const M = 2_000
  const oursInst = bestOf(() => {
    for (let i = 0; i < M; i++) {
      const store = new wt.Store()
      pre.instantiate(store).exports.api.add(1, 2)
      store.dispose()
    }
  }, M)
  // jco's instantiate is async (it awaits its core modules): timed as a sequence of awaits.
  await jco.instantiate()
  let peerInst = Infinity
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < M; i++) (await jco.instantiate()).api.add(1, 2)
    peerInst = Math.min(peerInst, Number(process.hrtime.bigint() - t0) / M)
  }
  rows.push({ name: 'component instance per request (InstancePre + store + call + dispose)', unit: 'ns/op', ours: oursInst, peer: peerInst, peerName })
  return rows
}
