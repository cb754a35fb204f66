// A component made by a mainstream toolchain: the JavaScript guest __test__/componentize/guest.js
// (world `guest` of guest.wit: it imports acme:guest/host, exports acme:guest/process), made a
// component by componentize-js (SpiderMonkey inside the component) with
// scripts/build-componentize.mjs, committed as __test__/components/componentize.wasm.
//
// The oracle is jco (helpers/jco.ts): the same component transpiled to JS + core wasm and run on
// V8, with the same host function and the same arguments, must give the same values, the same
// ComponentError payloads and make the same host calls as on wasmtime-node.
import test from 'ava'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'
import { inspect } from 'node:util'
import { Worker } from 'node:worker_threads'

import { Component, ComponentError, ComponentLinker, Engine, Store } from '../dist/index.js'
import { assertTrap, thrown } from './helpers/assert'
import { fixture, jco, jcoInstance, outcome } from './helpers/jco'

type Process = Record<string, (...args: any[]) => any>

const FILE = 'componentize.wasm'
const HOST = 'acme:guest/host'
const PROCESS = 'acme:guest/process'

const show = (v: unknown) => inspect(v, { breakLength: Infinity, maxStringLength: 32, maxArrayLength: 6, depth: 4 })

/** scripts/build-componentize.mjs: its digests of the sources and of the component. */
interface BuildScript {
  SOURCES: string[]
  RECORD: string
  ROOT: string
  sourceDigest(): string
  parseRecord(text: string): { source: string; wasm: string }
  sha256(data: Uint8Array): string
}
const buildScript = () => import(pathToFileURL(path.join(__dirname, '..', 'scripts', 'build-componentize.mjs')).href) as Promise<BuildScript>

let compiled: Promise<Component> | undefined
/**
 * The component compiled once for the file (Engine.default), off the JS thread: its 12 MB take
 * seconds to compile, and the fuel test compiles it for its own engine at the same time.
 */
const component = (): Promise<Component> => (compiled ??= Component.compile(Engine.default, fixture(FILE)))

/** A host `log` that records into `log`. */
const hostLog = (log: string[]) => ({ log: (msg: string) => void log.push(msg) })

/** The linker with the host interface: each line the guest logs goes to `log`. */
const linkerWith = (log: string[], engine?: Engine) => new ComponentLinker(engine).define(HOST, hostLog(log))

/** A fresh instance on wasmtime-node: its exported interface. */
async function ours(log: string[], store = new Store()): Promise<Process> {
  const exports = linkerWith(log).instantiate(store, await component()).exports as Record<string, Process>
  return exports.process
}

/** A fresh instance of the jco transpilation on V8: its exported interface. */
async function theirs(log: string[]): Promise<Process> {
  return (await jcoInstance('componentize', { interfaces: { [HOST]: hostLog(log) } })).process as Process
}

// ---------------------------------------------------------------------------------------------
// The build
// ---------------------------------------------------------------------------------------------

test('the committed componentize.wasm is the build of guest.js + guest.wit (npm run build:componentize)', async (t) => {
  const s = await buildScript()
  const recorded = s.parseRecord(fs.readFileSync(path.join(s.ROOT, s.RECORD), 'utf8'))
  const rerun = 'run `npm run build:componentize` and commit __test__/components/componentize.wasm and componentize.wasm.src-sha256'
  // componentize-js's output is not reproducible (see the script), so the check is on digests:
  // the sources, componentize-js's version and the options as recorded at the build…
  t.is(s.sourceDigest(), recorded.source, `guest.js, guest.wit, the options or componentize-js's version changed since componentize.wasm was built: ${rerun}`)
  // … and the committed component as it came out of that build
  t.is(s.sha256(fixture(FILE)), recorded.wasm, `componentize.wasm is not the one recorded by its build: ${rerun}`)
  // a component binary (layer 1), made by componentize-js
  const bytes = Buffer.from(fixture(FILE))
  t.deepEqual([...bytes.subarray(0, 8)], [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00])
  t.true(bytes.includes('ComponentizeJS'), 'processed-by ComponentizeJS')
})

test('the component has the world of guest.wit and nothing of WASI: for jco and for wasmtime-node', async (t) => {
  const wit = await (await jco()).componentWit(fixture(FILE))
  const lines = wit.split('\n').map((l) => l.trim()).filter((l) => /^(import|export) /.test(l))
  t.deepEqual(lines, [`import ${HOST};`, `export ${PROCESS};`], wit)
  const c = await component()
  t.deepEqual(c.imports, [{ name: HOST, type: { kind: 'instance', exports: [{ name: 'log', type: { kind: 'func', params: [{ name: 'msg', type: 'string' }], result: null } }] } }])
  t.deepEqual(c.exports.map((e) => e.name), [PROCESS])
  const fns = c.exports[0].type.kind === 'instance' ? c.exports[0].type.exports : []
  t.deepEqual(Object.fromEntries(fns.map((f) => [f.name, f.type.kind === 'func' ? `${f.type.params.map((p) => `${p.name}: ${p.type}`).join(', ')} -> ${f.type.result}` : f.type.kind])), {
    summary: 'type',
    'word-count': 'text: string -> u32',
    reverse: 'text: string -> string',
    'word-frequencies': 'text: string, top: u32 -> list<tuple<string, u32>>',
    summarize: 'values: list<u32> -> option<record { count: u32, sum: u64, min: u32, max: u32, mean: f64 }>',
    'transform-json': 'json: string -> result<string, string>',
    fib: 'n: u32 -> u64',
    served: ' -> u32',
  })
})

// ---------------------------------------------------------------------------------------------
// The same as jco
// ---------------------------------------------------------------------------------------------

const LOREM = 'The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs. '
const CASES: [fn: string, ...args: unknown[]][] = [
  ['wordCount', ''],
  ['wordCount', '   '],
  ['wordCount', ' hello  wörld\tfoo\nbar '],
  ['wordCount', LOREM.repeat(200)],
  ['reverse', ''],
  ['reverse', 'abc'],
  ['reverse', 'ünïcødé 😀 漢字 a\u0301'],
  ['reverse', 'x'.repeat(50_000) + 'y'],
  ['wordFrequencies', LOREM, 4],
  ['wordFrequencies', 'b a B c A b', 10],
  ['wordFrequencies', '', 3],
  ['wordFrequencies', LOREM.repeat(50), 0],
  ['summarize', []],
  ['summarize', [7]],
  ['summarize', [1, 2, 3, 4]],
  ['summarize', [0, 4_294_967_295, 4_294_967_295, 12]],
  ['summarize', Array.from({ length: 10_000 }, (_, i) => (i * 2_654_435_761) >>> 0)],
  ['transformJson', '{}'],
  ['transformJson', '{"b":1,"a":[1,{"z":2.5,"y":null}],"c":"ünï","d":true}'],
  ['transformJson', JSON.stringify({ list: Array.from({ length: 500 }, (_, i) => ({ i, s: `item ${i}` })) })],
  ['transformJson', '{bad json'],
  ['transformJson', ''],
  ['transformJson', '[1, 2]'],
  ['transformJson', 'null'],
  ['transformJson', '"just a string"'],
  ['fib', 0],
  ['fib', 1],
  ['fib', 10],
  ['fib', 93],
  ['served'],
]

test('every export gives the same values, ComponentError payloads and host calls as the jco transpilation on V8', async (t) => {
  const logs = { ours: [] as string[], jco: [] as string[] }
  const a = await ours(logs.ours)
  const b = await theirs(logs.jco)
  let errors = 0
  for (const [fn, ...args] of CASES) {
    const label = `${fn}(${args.map(show).join(', ')})`
    const mine = outcome(() => a[fn](...args))
    const oracle = outcome(() => b[fn](...args))
    t.deepEqual(mine, oracle, label)
    if ('threw' in oracle) t.fail(`${label}: the oracle case threw on jco (${oracle.threw}): fix the case`)
    if ('componentError' in mine) errors++
  }
  t.is(errors, 5, 'the err cases of transform-json are ComponentErrors on both sides')
  t.deepEqual(logs.ours, logs.jco, 'the same host calls, in the same order')
  t.true(logs.ours.length >= 10, show(logs.ours))
  // spot checks, independent of jco
  t.is(a.wordCount(' hello  wörld\tfoo\nbar '), 4)
  t.is(a.reverse('ab😀c'), 'c😀ba', 'a surrogate pair crosses the boundary whole')
  t.deepEqual(a.summarize([0, 4_294_967_295, 4_294_967_295, 12]), { count: 4, sum: 8_589_934_602n, min: 0, max: 4_294_967_295, mean: 2_147_483_650.5 })
  t.is(a.summarize([]), undefined)
  t.is(a.fib(93), 12_200_160_415_121_876_738n, 'u64 above 2^63 as a BigInt')
  t.deepEqual(a.wordFrequencies('b a B c A b', 2), [['b', 3], ['a', 2]])
  t.is(a.transformJson('{"b":1,"a":[1,{"z":2.5}]}'), '{"a":[2,{"z":5}],"b":2}')
})

test('an err of result<string, string> is a ComponentError whose payload is the err value, as on jco', async (t) => {
  const log: string[] = []
  const x = await ours(log)
  const e = thrown(t, () => x.transformJson('{bad'), 'transformJson of bad JSON')
  t.true(e instanceof ComponentError, show(e))
  const payload = (e as ComponentError).payload
  t.is(typeof payload, 'string')
  t.regex(payload as string, /^invalid JSON: JSON\.parse: /)
  t.deepEqual(log, ['transform-json: rejected (SyntaxError)'], 'the host call made before the err')
  const jlog: string[] = []
  const j = await theirs(jlog)
  const theirsError = thrown(t, () => j.transformJson('{bad'), 'jco transformJson of bad JSON') as { constructor: { name: string }; payload: unknown }
  t.is(theirsError.constructor.name, 'ComponentError')
  t.is(theirsError.payload, payload)
  t.deepEqual(jlog, log)
})

test('a JS exception in a function without a result traps; the instance then refuses to be entered (as on jco)', async (t) => {
  const store = new Store()
  const x = await ours([], store)
  t.is(x.fib(10), 55n)
  const e = thrown(t, () => x.fib(94), 'fib(94)')
  assertTrap(t, e, 'unreachable', 'fib(94): the RangeError is uncaught')
  assertTrap(t, thrown(t, () => x.fib(10), 'fib(10) after the trap'), 'cannot_enter_component', 'after the trap')
  // the same on jco: fib(94) throws, and the instance is not entered again
  const j = await theirs([])
  t.true('threw' in outcome(() => j.fib(94)), 'jco: fib(94) throws')
  t.regex((outcome(() => j.fib(10)) as { threw: string }).threw, /cannot enter component instance/)
  // a new store is a new start
  t.is((await ours([])).fib(10), 55n)
})

// ---------------------------------------------------------------------------------------------
// Per request, fuel, workers
// ---------------------------------------------------------------------------------------------

test('per request: one InstancePre, 20 instances in fresh stores, each from the build snapshot, all giving the same results', async (t) => {
  const log: string[] = []
  const pre = linkerWith(log).instantiatePre(await component())
  const results = []
  for (let i = 0; i < 20; i++) {
    const store = new Store()
    const x = (pre.instantiate(store).exports as Record<string, Process>).process
    results.push({
      served: x.served(),
      words: x.wordCount(LOREM),
      frequencies: x.wordFrequencies(LOREM, 3),
      json: x.transformJson('{"n":21,"k":["a"]}'),
      servedAfter: x.served(),
    })
    store.dispose()
  }
  const first = results[0]
  t.deepEqual(first, { served: 0, words: 15, frequencies: [['the', 4], ['fox', 2], ['brown', 1]], json: '{"k":["a"],"n":42}', servedAfter: 4 })
  for (const [i, r] of results.entries()) t.deepEqual(r, first, `instance ${i}: no state carried over from the ones before`)
  t.is(log.length, 40, 'two host calls per instance')
  t.deepEqual(new Set(log), new Set(['word-frequencies: 11 distinct of 15', 'transform-json: 2 keys, 18 chars']))
})

test('fuel: the guest runs on fuel; too little fuel traps with out_of_fuel; the fuel used grows with the work', async (t) => {
  const engine = new Engine({ consumeFuel: true })
  const c = await Component.compile(engine, fixture(FILE))
  const instance = (fuel: number) => {
    const store = new Store(engine, { fuel })
    return { store, x: (linkerWith([], engine).instantiate(store, c).exports as Record<string, Process>).process }
  }
  const BIG = 10_000_000_000
  const used = (n: number) => {
    const { store, x } = instance(BIG)
    const before = Number(store.getFuel())
    t.is(typeof x.fib(n), 'bigint')
    return before - Number(store.getFuel())
  }
  // each a first call of a fresh instance: ~1.9 M units (a later call of the same instance
  // ~0.9 M: most of it is the guest's fixed cost of a call, not the loop of fib)
  const [u10, u90] = [used(10), used(90)]
  t.log(`fuel used by a first call: fib(10) ${u10}, fib(90) ${u90}`)
  t.true(u10 > 10_000 && u90 > u10, `fuel used: fib(10) ${u10}, fib(90) ${u90}`)
  t.is(used(10), u10, 'the same work, the same fuel')
  // enough for fib(10) but not for fib(90)
  const between = Math.floor((u10 + u90) / 2)
  t.is(instance(between).x.fib(10), 55n)
  assertTrap(t, thrown(t, () => instance(between).x.fib(90), 'fib(90) with too little fuel'), 'out_of_fuel', 'fib(90) with fuel for fib(10) and a half')
  // a small budget: the first call runs out
  const { x, store } = instance(10_000)
  assertTrap(t, thrown(t, () => x.wordCount('a b c'), 'word-count with 10,000 fuel'), 'out_of_fuel', 'word-count with 10,000 fuel')
  t.is(Number(store.getFuel()), 0)
})

interface WorkerResult {
  type: 'result'
  results: Record<string, unknown>
  log: string[]
}

function runWorker(workerData: unknown): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(path.join(__dirname, 'workers', 'componentize-worker.mjs'), { workerData })
    let result: WorkerResult | undefined
    w.on('message', (m: { type: string; error?: { name: string; message: string } }) => {
      if (m.type === 'failed') reject(new Error(`componentize-worker.mjs failed: ${m.error?.name}: ${m.error?.message}`))
      else result = m as WorkerResult
    })
    w.on('error', reject)
    w.on('exit', (code) => (code === 0 && result ? resolve(result) : reject(new Error(`componentize-worker.mjs exited with code ${code} ${result ? '' : 'without a result'}`))))
  })
}

test('Component.share(): two workers call the component compiled in the main thread, with the same results as the main thread', async (t) => {
  const token = (await component()).share()
  const text = `${LOREM} worker text`
  const runs = [0, 1].map((index) => runWorker({ component: token, index, text }))
  const expected = async (index: number) => {
    const log: string[] = []
    const x = await ours(log)
    const results = {
      wordCount: x.wordCount(text),
      reverse: x.reverse(text),
      wordFrequencies: x.wordFrequencies(text, 3),
      transformJson: x.transformJson(JSON.stringify({ worker: index, text })),
      fib: x.fib(80 + index),
      served: x.served(),
    }
    return { results, log }
  }
  const got = await Promise.all(runs)
  for (const [index, r] of got.entries()) {
    const e = await expected(index)
    t.deepEqual(r.results, e.results, `worker ${index}`)
    t.deepEqual(r.log, e.log, `worker ${index}: the host calls`)
  }
  t.not(got[0].results.fib, got[1].results.fib, 'each worker its own arguments')
  t.is(got[0].results.served, 5)
})
