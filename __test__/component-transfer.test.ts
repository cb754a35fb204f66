// store.transfer() of stores holding component instances (lib/store.ts `transfer`/`receive`,
// lib/component.ts `receivedComponentFunction`): `store.transfer({ inst })` parks the store with
// its component instances, `Store.receive(token, { imports })` adopts it in any thread — a worker
// or the same one — and `objects.inst` is a ComponentInstance whose exports work there. The JS host
// functions are given again: `imports[iface][witName or camelName]`, `imports['']` for root-level
// imports, host resources as their classes (`imports['acme:res/host@0.1.0'].Logger`).
//
// The expected values come from jco (helpers/jco.ts): the same fixture, transpiled by jco and run
// on V8 in *one* instance with the same host functions, making the same calls in the same order,
// must give the same values and make the same host calls as our instance that moved between
// threads in the middle of the sequence (the guest's memory moves with the store, so guest state
// such as the destructor count of `counter` carries over). Where a scenario has a spec value that
// is plain (the resources fixture's counters), jco is also checked against it.
//
// What does not move: JS objects. Guest resource objects (a Counter) stay behind and throw
// `StoreStateError` `ERR_STORE_MOVED` there (the resource stays alive in the component: nothing
// dropped it); a store whose components hold host resource objects (a JS object the guest owns as
// own<logger>) is refused with `WasmtimeError` `ERR_COMPONENT_UNSUPPORTED` and stays usable where
// it is. The fixture resources.wat never keeps a logger past a call (use-logger drops the one it
// makes, make-logger hands its own to the host): the KEEPER component below, written for this
// file, keeps one in a global until `release`.
//
// Fixtures: __test__/components/host.wat (root and interface imports), iface.wat (an exported
// interface, no imports), resources.wat (a host resource `logger`, a guest resource `counter`).
import test, { type ExecutionContext } from 'ava'
import * as path from 'node:path'
import * as vm from 'node:vm'
import { Worker } from 'node:worker_threads'

import {
  Component,
  ComponentInstance,
  ComponentLinker,
  ComponentResource,
  Engine,
  Func,
  Instance,
  LinkError,
  Module,
  Store,
  StoreStateError,
  WasmtimeError,
  wat2wasm,
} from '../dist/index.js'
import type { ReceiveImports, StoreObject, StoreTransfer } from '../dist/index.js'
import { assertError, assertTrap, rejection, thrown } from './helpers/assert'
import { settle } from './helpers/gc'
import { fn } from './helpers/util'
import { type Case, type Exports, HOST_IFACE, asyncHost, component, hostImports, linkerWith, pick, settled, show } from './helpers/components'
import { type HostImports, type Outcome, camel, jco, jcoInstance, outcome } from './helpers/jco'


const API = 'acme:plugin/api@0.1.0'
const RES_HOST = 'acme:res/host@0.1.0'
const COUNTERS = 'acme:res/counters@0.1.0'
const KEEP_HOST = 'acme:keep/host@0.1.0'
const DIST = path.resolve(__dirname, '..', 'dist', 'index.js')
const MOVED = 'ERR_STORE_MOVED'
const RELINK = 'Store.receive: host functions to re-bind: '




/** The same host functions as `Store.receive` takes them: root ones under '', keys by WIT or camelCase name. */
function receiveImports(h: HostImports, naming: 'wit' | 'camel' = 'wit'): ReceiveImports {
  const table = (fns: Record<string, (...args: any[]) => unknown> = {}) =>
    Object.fromEntries(Object.entries(fns).map(([k, f]) => [naming === 'camel' ? camel(k) : k, f]))
  const out: ReceiveImports = { '': table(h.root) }
  for (const [iface, fns] of Object.entries(h.interfaces ?? {})) out[iface] = table(fns)
  return out
}

/** `objects[name]` of a receive, which must be a ComponentInstance. */
function componentOf(objects: Record<string, StoreObject>, name: string): ComponentInstance {
  const o: unknown = objects[name]
  if (!(o instanceof ComponentInstance)) throw new Error(`objects.${name} is not a ComponentInstance: ${show(o)}`)
  return o
}


/** `f` throws StoreStateError ERR_STORE_MOVED. */
function assertMoved(t: ExecutionContext, f: () => unknown, what: string): void {
  assertError(t, thrown(t, f, what), StoreStateError, MOVED, what)
}

/** The gaps a `Store.receive` LinkError names, in its order. */
function gapsOf(t: ExecutionContext, e: unknown, what: string): string[] {
  assertError(t, e, LinkError, 'ERR_WASM_LINK', what)
  const message = e instanceof Error ? e.message : ''
  t.true(message.startsWith(RELINK), `${what}: ${show(message)}`)
  return message.slice(RELINK.length).split('; ')
}


// ---------------------------------------------------------------------------------------------
// host.wat: host functions at the root and in an interface
// ---------------------------------------------------------------------------------------------




const HOST_CASES: readonly Case[] = [
  ['run-log', 'héllo wörld'], ['run-log', ''],
  ['greet', 'Zoë'], ['greet', ''], ['greet', '😀'.repeat(300)],
  ['transform-point', { x: 1, y: 2 }], ['transform-point', { x: -5, y: 2 ** 31 - 1 }],
  ['describe-point', { x: 3, y: -4 }, 'P'], ['describe-point', { x: 0, y: 0 }, '😀'],
  ['lookup', 'abc'], ['lookup', ''], ['lookup', 'missing-1'], ['lookup', 'abcd'],
]

/** The outcomes and host calls of HOST_CASES on a fresh jco instance. */
async function jcoHost(cases: readonly Case[] = HOST_CASES): Promise<{ outcomes: Outcome[]; log: unknown[][] }> {
  const log: unknown[][] = []
  const j = await jcoInstance('host', hostImports(log))
  const outcomes = cases.map(([ref, ...args]) => outcome(() => pick(j, ref, 'jco')(...args)))
  return { outcomes, log }
}

for (const naming of ['wit', 'camel'] as const) {
  test.serial(`same thread: a host.wasm instance transferred and received with its imports by ${naming === 'wit' ? 'WIT' : 'camelCase'} name gives jco's values and host calls for every export; the old exports throw ERR_STORE_MOVED`, async (t) => {
    const expected = await jcoHost()
    t.true(expected.outcomes.some((o) => 'componentError' in o), 'the cases include a result err')
    for (const o of expected.outcomes) if ('threw' in o) t.fail(`the oracle case threw on jco (${o.threw}): fix the case`)

    const before: unknown[][] = []
    const store = new Store()
    const inst = linkerWith(hostImports(before)).instantiate(store, component('host'))
    const old = inst.exports as Exports
    t.is(old.greet('before'), 'Hello, before!', 'used before the transfer')
    const token: StoreTransfer = store.transfer({ inst })
    t.deepEqual(token.names, ['inst'])
    t.deepEqual(structuredClone(token), token, 'the token is structured-clonable')

    // the old thread's objects (this thread's, before the receive)
    for (const [ref, ...args] of HOST_CASES) {
      assertMoved(t, () => pick(old, ref, 'ours')(...args), `old ${ref}`)
      assertMoved(t, () => pick(old, camel(ref), 'ours')(...args), `old ${camel(ref)}`)
    }
    assertError(t, await rejection(t, old.greet.callAsync('x'), 'old greet.callAsync'), StoreStateError, MOVED, 'old greet.callAsync')
    assertMoved(t, () => store.transfer({ inst }), 'store.transfer() again')
    assertMoved(t, () => store.transfer(), 'store.transfer() of nothing')

    const after: unknown[][] = []
    const { store: received, objects } = Store.receive(token, { imports: receiveImports(hostImports(after), naming) })
    t.true(received instanceof Store)
    t.not(received, store)
    t.deepEqual(Object.keys(objects), ['inst'])
    const moved = componentOf(objects, 'inst')
    t.is(moved.constructor, ComponentInstance)
    const x = moved.exports as Exports
    t.deepEqual(Object.keys(x).sort(), Object.keys(old).sort(), 'the same export names')
    const ours = HOST_CASES.map(([ref, ...args]) => outcome(() => pick(x, ref, 'ours')(...args)))
    t.deepEqual(ours, expected.outcomes, 'after the receive: the values and err payloads jco gives')
    t.deepEqual(after, expected.log, 'after the receive: the host functions given to receive were called, with jco\'s arguments in jco\'s order')
    t.deepEqual(before, [['get-greeting', 'before']], 'the host functions of the old thread are not called after the transfer')
    // the camelCase aliases are the same functions
    t.is(x.transformPoint, x['transform-point'])
    t.is(x.describePoint, x['describe-point'])
    t.deepEqual(x.transformPoint({ x: 7, y: 8 }), x['transform-point']({ x: 7, y: 8 }))
    t.is(x.describePoint({ x: 1, y: 1 }, 'Q'), 'Q at (1, 1)')

    // a token is received once
    assertError(t, thrown(t, () => Store.receive(token, { imports: receiveImports(hostImports([]), naming) }), 'second receive'), StoreStateError, 'ERR_TRANSFER_TOKEN', 'a second receive')
    // and the received store moves on again, in the same thread
    const again = Store.receive(received.transfer({ inst: moved, alias: moved }), { imports: receiveImports(hostImports([]), naming === 'wit' ? 'camel' : 'wit') })
    t.deepEqual(Object.keys(again.objects), ['inst', 'alias'])
    t.is((componentOf(again.objects, 'alias').exports as Exports).greet('twice'), 'Hello, twice!', 'a second hop')
    assertMoved(t, () => x.greet('x'), 'the first receive\'s exports after the second hop')
  })
}

test.serial('same thread: a store holding a core instance with a host import, an iface.wasm instance made by instantiatePre and a host.wasm instance moves as one; each works after the receive (jco\'s values)', async (t) => {
  const store = new Store()
  const core = new Instance(store, new Module(Engine.default, `(module
    (import "host" "twice" (func $twice (param i32) (result i32)))
    (func (export "run") (param i32) (result i32) (i32.add (call $twice (local.get 0)) (i32.const 1))))`), { host: { twice: (n: number) => n * 2 } })
  const iface = new ComponentLinker().instantiatePre(component('iface')).instantiate(store)
  const host = linkerWith(hostImports([])).instantiate(store, component('host'))
  const token = store.transfer({ core, iface, host })
  const log: unknown[][] = []
  const { objects } = Store.receive(token, { imports: { ...receiveImports(hostImports(log)), host: { twice: (n: number) => n * 3 } } })
  t.true(objects.core instanceof Instance)
  t.is(fn(objects.core as Instance, 'run')(5), 16, 'the core instance calls the host function given to receive')
  const j = await jcoInstance('iface')
  const i = componentOf(objects, 'iface').exports as Exports
  for (const [ref, ...args] of [[`${API}#greet`, 'wörld'], [`${API}#add`, 2 ** 32 - 1, 2], [`${API}#shout-name`, 'abc-Zé!'], ['plugin-version']] as Case[]) {
    t.deepEqual(outcome(() => pick(i, ref, 'ours')(...args)), outcome(() => pick(j, ref, 'jco')(...args)), `iface: ${ref}`)
  }
  t.is(i.api, i[API], 'the interface under its short name too')
  const expected = await jcoHost([['greet', 'mixed'], ['lookup', 'missing-x']])
  const h = componentOf(objects, 'host').exports as Exports
  t.deepEqual([outcome(() => h.greet('mixed')), outcome(() => h.lookup('missing-x'))], expected.outcomes)
  t.deepEqual(log, expected.log)
})

// ---------------------------------------------------------------------------------------------
// resources.wat: to a worker and back
// ---------------------------------------------------------------------------------------------

/**
 * The host class of `logger` as JS source, `(calls) => Logger` (the worker evaluates the same
 * text): each call is recorded in `calls` by the logger's prefix and its line count.
 */
const LOGGER = `(calls) => class Logger {
  constructor(prefix) { this.prefix = prefix; this.lines = 0; calls.push(['new', prefix]) }
  log(msg) { this.lines++; calls.push(['log', this.prefix + msg, this.lines]); return this.lines }
  static default() { calls.push(['default']); return new Logger('default:') }
  [Symbol.dispose]() { calls.push(['dispose', this.prefix, this.lines]) }
}`
interface LoggerObject { prefix: string; lines: number; log(msg: string): number }
type LoggerClass = new (prefix: string) => LoggerObject
const loggerClass = (calls: unknown[][]): LoggerClass => (vm.runInThisContext(LOGGER) as (c: unknown[][]) => LoggerClass)(calls)

/** A step of the scenario: calls on the exports, its values returned; objects to keep alive pushed to `keep`. */
type Phase = (x: Exports, Logger: LoggerClass, keep: unknown[]) => unknown[]

/** In the main thread, before the first transfer. */
const phaseMain: Phase = (x, Logger, keep) => {
  const { Counter, total, drops } = x[COUNTERS]
  const a = new Counter(5)
  const b = new Counter(10)
  const v: unknown[] = [a.increment(), a.increment(), total(b), drops()]
  new Counter(3)[Symbol.dispose]()
  const m = Counter.merge(new Counter(20), b) // the temporary moved in, dropped by the guest
  v.push(m.get(), drops(), x.useLogger('main'))
  const l = x.makeLogger()
  v.push(l instanceof Logger, l.log('direct'))
  keep.push(a, b, m, l)
  return v
}

/** In the worker (JS source: the worker runs this text, and the jco run evaluates it too). */
const PHASE_WORKER = `(x, Logger, keep) => {
  const { Counter, total, drops } = x['${COUNTERS}']
  const v = [drops()]
  v.push(x.useLogger('worker'))
  const w = new Counter(40)
  v.push(w.increment(), total(w))
  const m = Counter.merge(new Counter(1), w)
  v.push(m.get(), w.get(), drops())
  const d = new Counter(7)
  d[Symbol.dispose]()
  v.push(drops())
  const l = x.makeLogger()
  v.push(l instanceof Logger, l.log('direct'))
  keep.push(w, m, l)
  return v
}`
const phaseWorker = vm.runInThisContext(PHASE_WORKER) as Phase

/** Back in the main thread. */
const phaseBack: Phase = (x, Logger, keep) => {
  const { Counter, total, drops } = x[COUNTERS]
  const v: unknown[] = [drops()]
  const c = new Counter(100)
  v.push(c.increment(), total(c))
  const mine = new Logger('js:')
  v.push(x.logWith(mine, 'lent'), mine.lines, x.useLogger('back'), drops())
  const m = Counter.merge(new Counter(1), c)
  v.push(m.get(), drops())
  keep.push(c, m, mine)
  return v
}

/** The spec's values and host calls of the three phases (jco must give them; so must we). */
const SPEC = {
  main: {
    // 5 → 6, 7; total(b) 10; no destructor yet; a dispose (1); merge 20 + 10, the 20 dropped (2); use-logger: its 2nd line
    values: [6, 7, 10, 0, 30, 2, 2, true, 1],
    calls: [['new', 'g:'], ['log', 'g:main', 1], ['log', 'g:main', 2], ['dispose', 'g:', 2], ['default'], ['new', 'default:'], ['log', 'default:direct', 1]],
  },
  worker: {
    // the destructor count of the main thread (2) carries over; 40 → 41; merge 1 + 41, the 1 dropped (3); a dispose (4)
    values: [2, 2, 41, 41, 42, 41, 3, 4, true, 1],
    calls: [['new', 'g:'], ['log', 'g:worker', 1], ['log', 'g:worker', 2], ['dispose', 'g:', 2], ['default'], ['new', 'default:'], ['log', 'default:direct', 1]],
  },
  back: {
    // 4 from the worker; 100 → 101; a lent logger's first line; use-logger; merge 1 + 101, the 1 dropped (5)
    values: [4, 101, 101, 1, 1, 2, 4, 102, 5],
    calls: [['new', 'js:'], ['log', 'js:lent', 1], ['new', 'g:'], ['log', 'g:back', 1], ['log', 'g:back', 2], ['dispose', 'g:', 2]],
  },
}

const RESOURCES_WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const { ComponentInstance, ComponentResource, Store } = require(workerData.api)
const calls = []
const Logger = (${LOGGER})(calls)
const phase = ${PHASE_WORKER}
const codeOf = (f) => { try { f(); return 'no error' } catch (e) { return e.constructor.name + ' ' + e.code } }
try {
  const missing = codeOf(() => Store.receive(workerData.token, { imports: {} }))
  const { store, objects } = Store.receive(workerData.token, { imports: { [workerData.host]: { Logger } } })
  const inst = objects.inst
  const x = inst.exports
  const keep = []
  const values = phase(x, Logger, keep)
  const kinds = {
    instance: inst instanceof ComponentInstance,
    counter: keep[0] instanceof x[workerData.counters].Counter && keep[0] instanceof ComponentResource,
    logger: keep[2] instanceof Logger,
  }
  const token = store.transfer({ inst })
  const after = {
    get: codeOf(() => keep[0].get()),
    drops: codeOf(() => x[workerData.counters].drops()),
    construct: codeOf(() => new x[workerData.counters].Counter(1)),
    dispose: codeOf(() => keep[1][Symbol.dispose]()),
    useLogger: codeOf(() => x.useLogger('late')),
  }
  parentPort.postMessage({ missing, values, calls, kinds, token, after })
} catch (e) {
  parentPort.postMessage({ failed: String(e && e.stack) })
}
`

/** Runs an eval'd CommonJS worker and resolves with its one message (rejects on failure or after 60 s). */
function runWorker<T>(code: string, workerData: Record<string, unknown>): Promise<T> {
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { api: DIST, ...workerData } })
    let result: T | undefined
    const timer = setTimeout(() => {
      void w.terminate()
      reject(new Error('the worker did not finish within 60 s'))
    }, 60_000)
    w.once('message', (m: T & { failed?: string }) => {
      if (m.failed) reject(new Error(`the worker failed: ${m.failed}`))
      else result = m
    })
    w.once('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    w.once('exit', (code) => {
      clearTimeout(timer)
      if (code === 0 && result) resolve(result)
      else reject(new Error(`the worker exited with code ${code} ${result ? '' : 'without a result'}`))
    })
  })
}

interface ResourcesWorkerRun {
  missing: string
  values: unknown[]
  calls: unknown[][]
  kinds: Record<string, boolean>
  token: StoreTransfer
  after: Record<string, string>
}

test.serial('jco oracle: resources.wasm from main to a worker and back: guest state (destructor counts) carries over, each thread\'s Logger class serves its calls, counters made on either side work; jco\'s values and host calls in one instance', async (t) => {
  // jco: the three phases in one instance, one Logger class
  const jcoCalls: unknown[][] = []
  const JcoLogger = loggerClass(jcoCalls)
  const j = await jcoInstance('resources', { interfaces: { [RES_HOST]: { Logger: JcoLogger } as any } })
  const jcoKeep: unknown[] = []
  const jcoRun: Record<keyof typeof SPEC, { values: unknown[]; calls: unknown[][] }> = {} as any
  for (const [name, phase] of [['main', phaseMain], ['worker', phaseWorker], ['back', phaseBack]] as const) {
    const from = jcoCalls.length
    const values = phase(j, JcoLogger, jcoKeep)
    jcoRun[name] = { values, calls: jcoCalls.slice(from) }
  }
  t.deepEqual(jcoRun, SPEC, 'jco: the spec\'s values and host calls')

  // ours: main, then a worker, then main again
  const mainCalls: unknown[][] = []
  const MainLogger = loggerClass(mainCalls)
  const store = new Store()
  const inst = new ComponentLinker().define(RES_HOST, { Logger: MainLogger } as any).instantiate(store, component('resources'))
  const x = inst.exports as Exports
  const keep: unknown[] = []
  const main = { values: phaseMain(x, MainLogger, keep), calls: [...mainCalls] }
  t.deepEqual(main, jcoRun.main, 'main, before the transfer: jco\'s values and host calls')

  const token = store.transfer({ inst })
  const [a, b, m, l] = keep as [any, any, any, LoggerObject]
  const { Counter, total, drops } = x[COUNTERS]
  assertMoved(t, () => a.get(), 'a counter made before the transfer: get()')
  assertMoved(t, () => b.increment(), 'a counter: increment()')
  assertMoved(t, () => total(m), 'total(counter)')
  assertMoved(t, () => drops(), 'drops()')
  assertMoved(t, () => new Counter(1), 'the old Counter constructor')
  assertMoved(t, () => Counter.merge(a, b), 'the old Counter.merge')
  assertMoved(t, () => x.useLogger('late'), 'useLogger')
  assertMoved(t, () => a[Symbol.dispose](), 'dispose of an old counter')
  t.true(a instanceof ComponentResource, 'an old counter is still a ComponentResource object')
  t.is(l.log('still mine'), 2, 'a host object returned by make-logger is a plain JS object of this thread: it works on')
  mainCalls.length = 0

  const w = await runWorker<ResourcesWorkerRun>(RESOURCES_WORKER, { token, host: RES_HOST, counters: COUNTERS })
  t.is(w.missing, 'LinkError ERR_WASM_LINK', 'the worker: a receive without the Logger class is a LinkError (and the token stays receivable)')
  t.deepEqual({ values: w.values, calls: w.calls }, jcoRun.worker, 'the worker: jco\'s values (the guest state of main) and host calls, on the worker\'s Logger')
  t.deepEqual(w.kinds, { instance: true, counter: true, logger: true }, 'the worker: a ComponentInstance; counters of its own Counter class; its own Logger objects')
  t.deepEqual(w.after, { get: `StoreStateError ${MOVED}`, drops: `StoreStateError ${MOVED}`, construct: `StoreStateError ${MOVED}`, dispose: `StoreStateError ${MOVED}`, useLogger: `StoreStateError ${MOVED}` }, 'the worker\'s objects after it transferred the store back')
  t.deepEqual(mainCalls, [], 'the main thread\'s Logger was not called while the store was in the worker')

  const backCalls: unknown[][] = []
  const BackLogger = loggerClass(backCalls)
  const back = Store.receive(w.token, { imports: { [RES_HOST]: { Logger: BackLogger } } })
  const y = componentOf(back.objects, 'inst').exports as Exports
  t.not(y[COUNTERS].Counter, Counter, 'a new Counter class for the received instance')
  const backRun = { values: phaseBack(y, BackLogger, keep), calls: backCalls }
  t.deepEqual(backRun, jcoRun.back, 'main again: jco\'s values (the worker\'s guest state) and host calls, on the Logger given to this receive')
  t.deepEqual(mainCalls, [], 'the Logger class of the first instantiation is not called after the transfer')
})

// ---------------------------------------------------------------------------------------------
// callAsync after a receive
// ---------------------------------------------------------------------------------------------

test.serial('jco oracle: callAsync after a same-thread receive, with async host functions given to receive: jco\'s values, err payloads and host calls; sync calls too', async (t) => {
  const expected = await jcoHost()
  const store = new Store()
  const inst = linkerWith(hostImports([])).instantiate(store, component('host'))
  t.is(await (inst.exports as Exports).greet.callAsync('before'), 'Hello, before!')
  const log: unknown[][] = []
  const { objects } = Store.receive(store.transfer({ inst }), { imports: receiveImports(asyncHost(hostImports(log))) })
  const x = componentOf(objects, 'inst').exports as Exports
  const got: Outcome[] = []
  for (const [ref, ...args] of HOST_CASES) got.push(await settled(pick(x, ref, 'ours').callAsync(...args)))
  t.deepEqual(got, expected.outcomes, 'one after the other')
  t.deepEqual(log, expected.log, 'the async host functions given to receive, called as jco calls them')
  log.length = 0
  t.deepEqual(await Promise.all(HOST_CASES.map(([ref, ...args]) => settled(pick(x, ref, 'ours').callAsync(...args)))), expected.outcomes, 'issued together')
  t.deepEqual(log, expected.log, 'issued together: the same host calls, in call order')
  // a sync call given a host Promise is refused as before the transfer (ERR_INVALID_RETURN_VALUE)
  const e = thrown(t, () => x.greet('sync'), 'sync greet with an async host function')
  assertError(t, e, TypeError, 'ERR_INVALID_RETURN_VALUE', 'a sync call whose host function returns a Promise')
})

test.serial('jco oracle: resources.wasm after a same-thread receive: callAsync of use-logger with an async Logger.log given to receive makes, uses and drops a logger of that class', async (t) => {
  const store = new Store()
  const inst = new ComponentLinker().define(RES_HOST, { Logger: loggerClass([]) } as any).instantiate(store, component('resources'))
  const c = new (inst.exports as Exports)[COUNTERS].Counter(1)
  c[Symbol.dispose]()
  const calls: unknown[][] = []
  // LOGGER's class, with a log that answers later (the guest waits for the Promise)
  class Async {
    prefix: string
    lines = 0
    constructor(prefix: string) {
      this.prefix = prefix
      calls.push(['new', prefix])
    }
    log(msg: string): Promise<number> {
      return new Promise((resolve) => setTimeout(() => {
        this.lines++
        calls.push(['log', this.prefix + msg, this.lines])
        resolve(this.lines)
      }, 1))
    }
    static default(): Async {
      calls.push(['default'])
      return new Async('default:')
    }
    [Symbol.dispose](): void {
      calls.push(['dispose', this.prefix, this.lines])
    }
  }
  const { objects } = Store.receive(store.transfer({ inst }), { imports: { [RES_HOST]: { Logger: Async } } })
  const x = componentOf(objects, 'inst').exports as Exports
  const got = [await x.useLogger.callAsync('a'), await x.useLogger.callAsync('b'), await x[COUNTERS].drops.callAsync()]
  const jcoCalls: unknown[][] = []
  const j = await jcoInstance('resources', { interfaces: { [RES_HOST]: { Logger: loggerClass(jcoCalls) } as any } })
  new j[COUNTERS].Counter(1)[Symbol.dispose]()
  t.deepEqual(got, [j.useLogger('a'), j.useLogger('b'), j[COUNTERS].drops()], 'jco\'s values (the destructor run before the transfer counted)')
  t.deepEqual(calls, jcoCalls, 'jco\'s host calls, the dispose included')
})

interface HostWorkerRun {
  outcomes: Outcome[]
  log: unknown[][]
  token: StoreTransfer
}

const HOST_CALLASYNC_WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const { ComponentError, Store } = require(workerData.api)
const log = []
const later = (f) => (...args) => new Promise((resolve, reject) => setTimeout(() => { try { resolve(f(...args)) } catch (e) { reject(e) } }, 1))
;(async () => {
  const { store, objects } = Store.receive(workerData.token, {
    imports: {
      '': {
        log: later((msg) => { log.push(['log', msg]) }),
        getGreeting: later((name) => { log.push(['get-greeting', name]); return 'Hello, ' + name + '!' }),
      },
      [workerData.iface]: {
        transform: later((p) => { log.push(['transform', p]); return { x: p.y, y: -p.x } }),
        describe: later((p, label) => { log.push(['describe', p, label]); return label + ' at (' + p.x + ', ' + p.y + ')' }),
        lookup: later((key) => {
          log.push(['lookup', key])
          if (key.startsWith('missing')) throw new ComponentError('no such key: ' + key)
          return key.length
        }),
      },
    },
  })
  const x = objects.inst.exports
  const outcomes = []
  for (const [ref, ...args] of workerData.cases) {
    try {
      outcomes.push({ value: await x[ref].callAsync(...args) })
    } catch (e) {
      if (e instanceof ComponentError) outcomes.push({ componentError: e.payload })
      else outcomes.push({ threw: e instanceof Error ? e.constructor.name + ': ' + e.message : 'non-error: ' + String(e) })
    }
  }
  parentPort.postMessage({ outcomes, log, token: store.transfer({ inst: objects.inst }) })
})().catch((e) => parentPort.postMessage({ failed: String(e && e.stack) }))
`

test.serial('jco oracle: a host.wasm store received in a worker with async host functions: callAsync there gives jco\'s values and host calls; back in main, callAsync works again', async (t) => {
  const expected = await jcoHost()
  const store = new Store()
  const inst = linkerWith(hostImports([])).instantiate(store, component('host'))
  const w = await runWorker<HostWorkerRun>(HOST_CALLASYNC_WORKER, { token: store.transfer({ inst }), cases: HOST_CASES, iface: HOST_IFACE })
  t.deepEqual(w.outcomes, expected.outcomes, 'the worker: jco\'s values and err payloads')
  t.deepEqual(w.log, expected.log, 'the worker: jco\'s host calls')
  const log: unknown[][] = []
  const { objects } = Store.receive(w.token, { imports: receiveImports(asyncHost(hostImports(log)), 'camel') })
  const x = componentOf(objects, 'inst').exports as Exports
  t.is(await x.greet.callAsync('main'), 'Hello, main!')
  t.deepEqual(await settled(x.lookup.callAsync('missing-main')), { componentError: 'no such key: missing-main' })
  t.deepEqual(log, [['get-greeting', 'main'], ['lookup', 'missing-main']])
})

// ---------------------------------------------------------------------------------------------
// Missing imports
// ---------------------------------------------------------------------------------------------

test.serial('host.wasm: a receive without the host functions is a LinkError naming each missing one (root ones as of the root ("")); the token stays receivable', (t) => {
  const store = new Store()
  const inst = linkerWith(hostImports([])).instantiate(store, component('host'))
  const token = store.transfer({ inst })
  const all = [
    'missing log of the root ("")',
    'missing get-greeting of the root ("")',
    `missing transform of "${HOST_IFACE}"`,
    `missing describe of "${HOST_IFACE}"`,
    `missing lookup of "${HOST_IFACE}"`,
  ]
  t.deepEqual(gapsOf(t, thrown(t, () => Store.receive(token), 'no imports'), 'no imports').sort(), [...all].sort(), 'no imports option')
  t.deepEqual(gapsOf(t, thrown(t, () => Store.receive(token, { imports: {} }), 'imports {}'), 'imports {}').sort(), [...all].sort(), 'imports: {}')
  const h = hostImports([])
  const partial = { '': { log: h.root!.log!, getGreeting: 5 as any }, [HOST_IFACE]: { transform: h.interfaces![HOST_IFACE]!.transform! } }
  t.deepEqual(gapsOf(t, thrown(t, () => Store.receive(token, { imports: partial }), 'partial'), 'partial').sort(), [all[1]!, all[3]!, all[4]!].sort(), 'a non-function, and two missing')
  // root functions are looked up under '' only: the same functions at the top level do not count
  const atTop = { log: h.root!.log!, 'get-greeting': h.root!['get-greeting']!, [HOST_IFACE]: h.interfaces![HOST_IFACE]! } as unknown as ReceiveImports
  t.deepEqual(gapsOf(t, thrown(t, () => Store.receive(token, { imports: atTop }), 'root functions at the top level'), 'root functions at the top level'), all.slice(0, 2))
  const log: unknown[][] = []
  const { objects } = Store.receive(token, { imports: receiveImports(hostImports(log)) })
  t.is((componentOf(objects, 'inst').exports as Exports).greet('after the failures'), 'Hello, after the failures!', 'the token was still receivable')
  t.deepEqual(log, [['get-greeting', 'after the failures']])
})

/** A resources.wasm store with a counter made and dropped before its transfer: its token. */
function resourcesToken(): StoreTransfer {
  const store = new Store()
  const inst = new ComponentLinker().define(RES_HOST, { Logger: loggerClass([]) } as any).instantiate(store, component('resources'))
  new (inst.exports as Exports)[COUNTERS].Counter(1)[Symbol.dispose]()
  return store.transfer({ inst })
}

const NO_LOGGER = `missing class Logger of "${RES_HOST}" (resource logger)`

test.serial('resources.wasm: a receive without the Logger class, or with a class lacking a method or a static function, is a LinkError naming each gap; the token stays receivable', (t) => {
  const token = resourcesToken()
  const Full = loggerClass([])
  class NoLog {
    static default() {
      return new NoLog()
    }
  }
  class NoDefault {
    log() {
      return 1
    }
  }
  class Neither {}
  const cases: [string, ReceiveImports | undefined, string[]][] = [
    ['no imports', undefined, [NO_LOGGER]],
    ['no Logger', { [RES_HOST]: {} }, [NO_LOGGER]],
    ['Logger: a plain object', { [RES_HOST]: { Logger: { log: () => 1, default: () => ({}) } } }, [NO_LOGGER]],
    ['the class under its WIT name', { [RES_HOST]: { logger: Full } }, [NO_LOGGER]],
    ['a class without log', { [RES_HOST]: { Logger: NoLog } }, [`missing [method]logger.log in class Logger of "${RES_HOST}"`]],
    ['a class without default', { [RES_HOST]: { Logger: NoDefault } }, [`missing [static]logger.default in class Logger of "${RES_HOST}"`]],
    ['a class with neither', { [RES_HOST]: { Logger: Neither } }, [`missing [method]logger.log in class Logger of "${RES_HOST}"`, `missing [static]logger.default in class Logger of "${RES_HOST}"`]],
  ]
  for (const [what, imports, expected] of cases) {
    const gaps = gapsOf(t, thrown(t, () => Store.receive(token, imports === undefined ? {} : { imports }), what), what)
    t.deepEqual([...new Set(gaps)].sort(), [...expected].sort(), `${what}: the gaps named (${show(gaps)})`)
  }
  const { objects } = Store.receive(token, { imports: { [RES_HOST]: { Logger: Full } } })
  const x = componentOf(objects, 'inst').exports as Exports
  t.is(x[COUNTERS].drops(), 1, 'the token was still receivable, with its guest state')
  t.is(x.useLogger('ok'), 2)
})

test.serial('resources.wasm: a LinkError names each gap once (a missing class is one gap, not one per function of the class)', (t) => {
  const token = resourcesToken()
  for (const [what, imports] of [['no Logger', { [RES_HOST]: {} }], ['Logger: a plain object', { [RES_HOST]: { Logger: {} } }]] as [string, ReceiveImports][]) {
    const gaps = gapsOf(t, thrown(t, () => Store.receive(token, { imports }), what), what)
    t.deepEqual(gaps, [NO_LOGGER], `${what}: the message lists ${show(gaps)}`)
  }
})

// ---------------------------------------------------------------------------------------------
// Host resource objects held by the guest: refused
// ---------------------------------------------------------------------------------------------

/**
 * A component that keeps a host `logger` in a global between calls (resources.wat never does):
 * `keep` makes one (the host's constructor) and keeps its own handle; `log` calls its method;
 * `release` drops it (the host's Symbol.dispose).
 */
const KEEPER_WAT = `(component
  (import "${KEEP_HOST}" (instance $host
    (export "logger" (type $logger (sub resource)))
    (export "[constructor]logger" (func (result (own $logger))))
    (export "[method]logger.log" (func (param "self" (borrow $logger)) (result u32)))))
  (alias export $host "logger" (type $logger))
  (alias export $host "[constructor]logger" (func $new))
  (alias export $host "[method]logger.log" (func $log))
  (core func $new-low (canon lower (func $new)))
  (core func $log-low (canon lower (func $log)))
  (core func $drop (canon resource.drop $logger))
  (core module $m
    (import "h" "new" (func $new (result i32)))
    (import "h" "log" (func $log (param i32) (result i32)))
    (import "h" "drop" (func $drop (param i32)))
    (global $h (mut i32) (i32.const 0))
    (func (export "keep") (global.set $h (call $new)))
    (func (export "log") (result i32) (call $log (global.get $h)))
    (func (export "release") (call $drop (global.get $h)) (global.set $h (i32.const 0))))
  (core instance $i (instantiate $m (with "h" (instance
    (export "new" (func $new-low)) (export "log" (func $log-low)) (export "drop" (func $drop))))))
  (func (export "keep") (canon lift (core func $i "keep")))
  (func (export "log") (result u32) (canon lift (core func $i "log")))
  (func (export "release") (canon lift (core func $i "release"))))`

/** The keeper's host class: each object counts its lines; its dispose is recorded. */
function keeperLogger(calls: unknown[][], name: string) {
  return class Logger {
    lines = 0
    constructor() {
      calls.push([name, 'new'])
    }
    log(): number {
      return ++this.lines
    }
    [Symbol.dispose](): void {
      calls.push([name, 'dispose', this.lines])
    }
  }
}

/** A core module without imports (a store's core instance of it needs nothing re-bound on receive). */
const SEVEN = '(module (func (export "seven") (result i32) (i32.const 7)))'

function assertRefused(t: ExecutionContext, f: () => unknown, what: string): void {
  assertError(t, thrown(t, f, what), WasmtimeError, 'ERR_COMPONENT_UNSUPPORTED', what, 'host resource object')
}

test.serial('a store whose component keeps a host resource object is refused with ERR_COMPONENT_UNSUPPORTED and stays usable in its thread; once the guest drops it, the store transfers, and the received store refuses again while its guest keeps one', async (t) => {
  const { transpile } = await jco()
  const built = await transpile(wat2wasm(KEEPER_WAT), { name: 'keeper', instantiation: 'async', noTypescript: true, quiet: true })
  t.true(Object.keys(built.files).length > 0, 'the keeper fixture is a valid component for jco too')

  const keeper = new Component(Engine.default, KEEPER_WAT)
  const calls: unknown[][] = []
  const store = new Store()
  const inst = new ComponentLinker().define(KEEP_HOST, { Logger: keeperLogger(calls, 'main') } as any).instantiate(store, keeper)
  const x = inst.exports as Exports
  x.keep()
  t.deepEqual([x.log(), x.log()], [1, 2])
  assertRefused(t, () => store.transfer({ inst }), 'transfer({ inst }) while the guest keeps a logger')
  assertRefused(t, () => store.transfer(), 'transfer() of no object, same store')
  // not moved: the store, its instance and the kept host object work on in this thread
  t.is(x.log(), 3, 'the kept logger still serves the guest')
  t.is(fn(new Instance(store, new Module(Engine.default, SEVEN)), 'seven')(), 7, 'a new core instance of the store works')
  t.deepEqual(calls, [['main', 'new']], 'no dispose: the guest still owns the logger')
  x.release()
  t.deepEqual(calls, [['main', 'new'], ['main', 'dispose', 3]], 'the guest\'s drop: Symbol.dispose')

  const token = store.transfer({ inst })
  assertMoved(t, () => x.log(), 'the old exports after the transfer')
  const got: unknown[][] = []
  const received = Store.receive(token, { imports: { [KEEP_HOST]: { Logger: keeperLogger(got, 'received') } } })
  const moved = componentOf(received.objects, 'inst')
  const y = moved.exports as Exports
  y.keep()
  t.is(y.log(), 1, 'a logger of the class given to receive')
  assertRefused(t, () => received.store.transfer({ inst: moved }), 'the received store, once its guest keeps a logger')
  t.is(y.log(), 2)
  y.release()
  t.deepEqual(got, [['received', 'new'], ['received', 'dispose', 2]])
  t.deepEqual(calls, [['main', 'new'], ['main', 'dispose', 3]], 'the first class is not called after the transfer')
  const again = Store.receive(received.store.transfer({ inst: moved }), { imports: { [KEEP_HOST]: { Logger: keeperLogger(got, 'again') } } })
  const z = componentOf(again.objects, 'inst').exports as Exports
  z.keep()
  t.is(z.log(), 1)
  t.deepEqual(got.slice(2), [['again', 'new']])
})

test.serial('resources.wasm: after make-logger (the guest hands its own logger to the host) and use-logger (the guest drops the one it made), the guest holds no host object: the transfer works', (t) => {
  const calls: unknown[][] = []
  const Logger = loggerClass(calls)
  const store = new Store()
  const inst = new ComponentLinker().define(RES_HOST, { Logger } as any).instantiate(store, component('resources'))
  const x = inst.exports as Exports
  const l = x.makeLogger()
  t.true(l instanceof Logger)
  t.is(x.useLogger('u'), 2)
  let token: StoreTransfer | undefined
  t.notThrows(() => (token = store.transfer({ inst })), 'the transfer')
  t.is(l.log('mine'), 1, 'the logger the host got back is a plain JS object: it stays here and works')
  if (!token) return
  const { objects } = Store.receive(token, { imports: { [RES_HOST]: { Logger } } })
  const y = componentOf(objects, 'inst').exports as Exports
  t.is(y.useLogger('v'), 2)
  t.is(y.logWith(l, 'lent'), 2, 'the host\'s logger lent to the received instance (the same class given to receive)')
  t.deepEqual(calls, [
    ['default'], ['new', 'default:'],
    ['new', 'g:'], ['log', 'g:u', 1], ['log', 'g:u', 2], ['dispose', 'g:', 2],
    ['log', 'default:mine', 1],
    ['new', 'g:'], ['log', 'g:v', 1], ['log', 'g:v', 2], ['dispose', 'g:', 2],
    ['log', 'default:lent', 2],
  ])
})

test.serial('resources.wasm: after log-with (a host object lent to the guest as borrow<logger>, the loan ended when the call returned) the guest holds no host object: the transfer works', (t) => {
  const calls: unknown[][] = []
  const Logger = loggerClass(calls)
  const store = new Store()
  const inst = new ComponentLinker().define(RES_HOST, { Logger } as any).instantiate(store, component('resources'))
  const x = inst.exports as Exports
  const mine = new Logger('js:')
  t.is(x.logWith(mine, 'a'), 1)
  t.is(x.logWith(mine, 'b'), 2)
  let token: StoreTransfer | undefined
  const e = (() => {
    try {
      token = store.transfer({ inst })
      return undefined
    } catch (err) {
      return err
    }
  })()
  t.is(e, undefined, `the transfer after log-with returned: ${e instanceof Error ? `${e.constructor.name} ${String((e as { code?: unknown }).code)}: ${e.message}` : 'ok'}`)
  if (!token) return
  const { objects } = Store.receive(token, { imports: { [RES_HOST]: { Logger } } })
  t.is((componentOf(objects, 'inst').exports as Exports).logWith(mine, 'c'), 3, 'the same logger lent again after the receive')
})

test.serial('resources.wasm: a host exception out of Logger.log leaves the guest\'s own<logger> undropped: the transfer is refused (ERR_COMPONENT_UNSUPPORTED) and the store stays in its thread (its component instances trapped, its other objects working)', (t) => {
  const calls: unknown[][] = []
  const boom = new Error('log failed')
  class Failing {
    constructor(prefix: string) {
      calls.push(['new', prefix])
    }
    log(_msg: string): number {
      throw boom
    }
    static default(): Failing {
      return new Failing('default:')
    }
  }
  const store = new Store()
  const inst = new ComponentLinker().define(RES_HOST, { Logger: Failing } as any).instantiate(store, component('resources'))
  const x = inst.exports as Exports
  t.is(thrown(t, () => x.useLogger('x'), 'use-logger with a failing log'), boom, 'the host\'s exception propagates')
  t.deepEqual(calls, [['new', 'g:']], 'made, not dropped')
  assertRefused(t, () => store.transfer({ inst }), 'transfer after the exception')
  // the store was not moved: its component instance is trapped (as after any host exception), not ERR_STORE_MOVED
  assertTrap(t, thrown(t, () => x[COUNTERS].drops(), 'drops() after the exception'), 'cannot_enter_component', 'the trapped instance')
  t.is(fn(new Instance(store, new Module(Engine.default, SEVEN)), 'seven')(), 7, 'a new core instance of the store works')
  t.is(new Func(store, { params: ['i32'], results: ['i32'] }, (n: number) => n + 1).call(41), 42, 'a new Func of the store works')
  t.notThrows(() => store.dispose(), 'dispose works')
})

test.serial('transfer() inside a host function of a running component call is StoreStateError ERR_STORE_BUSY, as for core host functions, also while the guest holds a host object; the store transfers after the call', (t) => {
  const attempt = (f: () => unknown): unknown => {
    try {
      f()
      return undefined
    } catch (e) {
      return e
    }
  }
  // host.wat's log (the guest holds no host object)
  {
    const seen: unknown[] = []
    const h = hostImports([])
    const store = new Store()
    let inst: ComponentInstance | undefined
    inst = linkerWith({ ...h, root: { ...h.root, log: () => void seen.push(attempt(() => store.transfer({ inst: inst! }))) } }).instantiate(store, component('host'))
    ;(inst.exports as Exports).runLog('x')
    assertError(t, seen[0], StoreStateError, 'ERR_STORE_BUSY', 'transfer() inside host.wat\'s log')
    t.notThrows(() => Store.receive(store.transfer({ inst: inst! }), { imports: receiveImports(h) }), 'after the call')
  }
  // Logger.log called by use-logger, whose guest owns that very logger meanwhile
  {
    const seen: unknown[] = []
    const store = new Store()
    let inst: ComponentInstance | undefined
    class Probing {
      lines = 0
      log(_msg: string): number {
        seen.push(attempt(() => store.transfer({ inst: inst! })))
        return ++this.lines
      }
      static default(): Probing {
        return new Probing()
      }
    }
    inst = new ComponentLinker().define(RES_HOST, { Logger: Probing } as any).instantiate(store, component('resources'))
    t.is((inst.exports as Exports).useLogger('x'), 2)
    t.is(seen.length, 2)
    assertError(t, seen[0], StoreStateError, 'ERR_STORE_BUSY', 'transfer() inside Logger.log during use-logger')
    t.notThrows(() => Store.receive(store.transfer({ inst: inst! }), { imports: { [RES_HOST]: { Logger: Probing } } }), 'after the call (the guest dropped its logger)')
  }
})

// ---------------------------------------------------------------------------------------------
// Guest resource objects and garbage collection
// ---------------------------------------------------------------------------------------------

/** Collects garbage until every WeakRef is empty (at most 20 rounds); whether they all are. */
async function collected(refs: readonly WeakRef<object>[]): Promise<boolean> {
  for (let i = 0; i < 20 && refs.some((r) => r.deref() !== undefined); i++) await settle()
  return refs.every((r) => r.deref() === undefined)
}

function resourcesInstance(store: Store): { inst: ComponentInstance; x: Exports } {
  const inst = new ComponentLinker().define(RES_HOST, { Logger: loggerClass([]) } as any).instantiate(store, component('resources'))
  return { inst, x: inst.exports as Exports }
}

test.serial('counters left behind by a transfer: dispose of one throws ERR_STORE_MOVED, and their objects collected in the old thread run no destructor (the resources stay alive in the guest)', async (t) => {
  const store = new Store()
  const { inst, x } = resourcesInstance(store)
  const kept = new x[COUNTERS].Counter(1)
  const holder: { left?: object[] } = { left: Array.from({ length: 5 }, (_, i) => new x[COUNTERS].Counter(i)) }
  const refs = holder.left!.map((o) => new WeakRef(o))
  const token = store.transfer({ inst })
  assertMoved(t, () => kept[Symbol.dispose](), 'dispose of a counter left behind')
  holder.left = undefined
  t.true(await collected(refs), 'the counters left behind were collected')
  const { objects } = Store.receive(token, { imports: { [RES_HOST]: { Logger: loggerClass([]) } } })
  const y = componentOf(objects, 'inst').exports as Exports
  t.is(y[COUNTERS].drops(), 0, 'no destructor ran (the first call after the receive)')
  t.is(y[COUNTERS].drops(), 0, 'nor later')
  const c = new y[COUNTERS].Counter(9)
  t.is(c.increment(), 10)
  c[Symbol.dispose]()
  t.is(y[COUNTERS].drops(), 1, 'a counter of the receiving thread drops as usual')
  assertMoved(t, () => kept.get(), 'the kept old counter')
})

test.serial('counters collected before the transfer (their destructors deferred to the store\'s next call) run their destructors once, at the first call after the receive', async (t) => {
  const make = (x: Exports) => Array.from({ length: 3 }, (_, i) => new WeakRef<object>(new x[COUNTERS].Counter(i)))
  // without a transfer: the next call runs them
  {
    const { x } = resourcesInstance(new Store())
    t.true(await collected(make(x)), 'collected')
    t.is(x[COUNTERS].drops(), 3, 'no transfer: the next call runs the three destructors')
  }
  // with one between the collection and the next call
  {
    const store = new Store()
    const { inst, x } = resourcesInstance(store)
    t.true(await collected(make(x)), 'collected')
    const { objects } = Store.receive(store.transfer({ inst }), { imports: { [RES_HOST]: { Logger: loggerClass([]) } } })
    const y = componentOf(objects, 'inst').exports as Exports
    t.is(y[COUNTERS].drops(), 3, 'the first call after the receive runs the three destructors deferred before the transfer')
    t.is(y[COUNTERS].drops(), 3, 'once')
  }
})
