// A component made by a mainstream toolchain: the JavaScript guest __test__/componentize/guest.js,
// made a component by componentize-js (SpiderMonkey inside: ~12 MiB; see
// scripts/build-componentize.mjs), on wasmtime-node beside the same component transpiled by jco
// and running on V8. Calls and per-request instances in this process; load times (from files on
// disk to the result of a first call) each in a fresh `node` process, best of 5, so that no
// in-process cache of either side carries over.
//
// The engine's on-disk compile cache (`new Engine({ cache })`) is for core modules only; a
// component's compiled code is kept with `serialize()` and loaded with `Component.deserialize`.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { bestOf } from './harness.mjs'

const require = createRequire(import.meta.url)
const wt = require('../dist/index.js')
const DIST = fileURLToPath(new URL('../dist/index.js', import.meta.url))
const HOST = 'acme:guest/host'
const TEXT = 'The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs.'
const JSON_TEXT = JSON.stringify({ name: 'bench', tags: ['a', 'b'], n: 21, nested: { y: 1, x: [1, 2, 3] } })

const ms = (f) => {
  const t0 = performance.now()
  const r = f()
  return [performance.now() - t0, r]
}

/** The best of `runs` fresh `node` processes, each printing its own load time in ms. */
function freshProcess(args, runs = 5) {
  let best = Infinity
  for (let i = 0; i < runs; i++) best = Math.min(best, Number(execFileSync(process.execPath, args).toString()))
  return best
}

export async function run() {
  const bytes = readFileSync(new URL('../__test__/components/componentize.wasm', import.meta.url))
  const mib = (bytes.length / 2 ** 20).toFixed(1)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wasmtime-node-bench-componentize-'))
  try {
    // jco: transpile to JS + core wasm files, as a jco user ships them
    const { transpile } = await import('@bytecodealliance/jco')
    const [transpileMs, { files }] = await (async () => {
      const t0 = performance.now()
      const r = await transpile(bytes, { name: 'guest', instantiation: 'async', noTypescript: true, quiet: true })
      return [performance.now() - t0, r]
    })()
    const jcoDir = path.join(dir, 'jco')
    for (const [name, data] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(jcoDir, name)), { recursive: true })
      writeFileSync(path.join(jcoDir, name), data)
    }
    const jsUrl = pathToFileURL(path.join(jcoDir, 'guest.js')).href
    const jcoLoadScript = `import{readFileSync}from'node:fs';import{join}from'node:path';const t0=performance.now();const m=await import(${JSON.stringify(jsUrl)});` +
      `const x=(await m.instantiate((p)=>new WebAssembly.Module(readFileSync(join(${JSON.stringify(jcoDir)},p))),{${JSON.stringify(HOST)}:{log(){}}})).process;` +
      `x.wordCount('a b c');console.log(performance.now()-t0)`
    const jcoFirstLoad = freshProcess(['--input-type=module', '-e', jcoLoadScript], 1)

    // ours: a cold compile, serialized to a file for the load rows
    const [cold, component] = ms(() => new wt.Component(wt.Engine.default, bytes))
    const serializedFile = path.join(dir, 'guest.cwasm')
    writeFileSync(serializedFile, component.serialize())
    const oursLoadScript = `const wt=require(${JSON.stringify(DIST)});const{readFileSync}=require('node:fs');const t0=performance.now();` +
      `const c=wt.Component.deserialize(wt.Engine.default,readFileSync(${JSON.stringify(serializedFile)}),{trusted:true});` +
      `const x=new wt.ComponentLinker().define(${JSON.stringify(HOST)},{log(){}}).instantiate(new wt.Store(),c).exports.process;` +
      `x.wordCount('a b c');console.log(performance.now()-t0)`

    // calls: one instance each side
    const linker = new wt.ComponentLinker(wt.Engine.default).define(HOST, { log() {} })
    const pre = linker.instantiatePre(component)
    const ours = pre.instantiate(new wt.Store()).exports.process
    const mod = await import(jsUrl)
    const coreModules = new Map()
    const core = (p) => {
      let m = coreModules.get(p)
      if (!m) coreModules.set(p, (m = new WebAssembly.Module(readFileSync(path.join(jcoDir, p)))))
      return m
    }
    const jcoInstance = async () => (await mod.instantiate(core, { [HOST]: { log() {} } })).process
    const peer = await jcoInstance()
    if (ours.wordCount(TEXT) !== peer.wordCount(TEXT) || ours.transformJson(JSON_TEXT) !== peer.transformJson(JSON_TEXT)) throw new Error('componentize bench: ours and jco disagree')

    const peerName = 'jco-transpiled on V8'
    const rows = []
    const N = 200
    rows.push({
      name: 'componentize-js guest call word-count(string) -> u32',
      unit: 'ns/call',
      ours: bestOf(() => { for (let i = 0; i < N; i++) ours.wordCount(TEXT) }, N),
      peer: bestOf(() => { for (let i = 0; i < N; i++) peer.wordCount(TEXT) }, N),
      peerName,
    })
    rows.push({
      name: 'componentize-js guest call transform-json(string) -> result<string, string> (+1 host call)',
      unit: 'ns/call',
      ours: bestOf(() => { for (let i = 0; i < N; i++) ours.transformJson(JSON_TEXT) }, N),
      peer: bestOf(() => { for (let i = 0; i < N; i++) peer.transformJson(JSON_TEXT) }, N),
      peerName,
    })
    const M = 50
    const oursInst = bestOf(() => {
      for (let i = 0; i < M; i++) {
        const store = new wt.Store()
        pre.instantiate(store).exports.process.wordCount(TEXT)
        store.dispose()
      }
    }, M, 5)
    // jco's instantiate is async: timed as a sequence of awaits (its core modules compiled once, reused)
    await jcoInstance()
    let peerInst = Infinity
    for (let r = 0; r < 5; r++) {
      const t0 = process.hrtime.bigint()
      for (let i = 0; i < M; i++) (await jcoInstance()).wordCount(TEXT)
      peerInst = Math.min(peerInst, Number(process.hrtime.bigint() - t0) / M)
    }
    rows.push({ name: 'componentize-js guest instance per request (InstancePre + store + call + dispose)', unit: 'ns/op', ours: oursInst, peer: peerInst, peerName: `${peerName} (core modules compiled once)` })

    const oursLoad = freshProcess(['-e', oursLoadScript])
    const peerLoad = freshProcess(['--input-type=module', '-e', jcoLoadScript])
    rows.push({
      name: `componentize-js guest load, ${mib} MiB: Component.deserialize + instantiate + first call (fresh process)`,
      unit: 'ms',
      ours: oursLoad,
      peer: peerLoad,
      peerName: `${peerName}: import JS + compile core wasm + instantiate + first call (fresh process)`,
    })
    rows.push({
      name: `componentize-js guest cold compile, ${mib} MiB (new Component)`,
      unit: 'ms',
      ours: cold,
      peer: transpileMs + jcoFirstLoad,
      peerName: 'jco transpile + first load on V8',
    })
    return rows
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
