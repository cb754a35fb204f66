// Component-model resources (the fixture __test__/components/resources.wat): a host resource
// `logger` that the guest imports (a JS class given to ComponentLinker.define, as jco takes it), and
// a guest resource `counter` that the component exports (a JS class in the exports, as jco makes it).
//
// The expected values come from jco (helpers/jco.ts): each scenario runs on wasmtime-node and on the
// jco transpilation of the same fixture, with the same host class and the same calls, and must give
// the same values, make the same host calls (with the same `this`) and run the guest destructor as
// many times. Each scenario's jco result is also checked against the values written by hand from the
// component-model spec, so that a fixture bug or a jco change shows up as such. Where the two
// implementations differ by design (the class and code of an error), each side is checked on its own.
//
// The WIT of the fixture (the world as jco's componentWit prints it; the interfaces as in the .wat):
//
//   interface host {                                   // acme:res/host@0.1.0, imported
//     resource logger { constructor(prefix: string); log: func(msg: string) -> u32; default: static func() -> logger; }
//   }
//   interface counters {                               // acme:res/counters@0.1.0, exported
//     resource counter {
//       constructor(start: u32); increment: func() -> u32; get: func() -> u32;
//       merge: static func(a: counter, b: borrow<counter>) -> counter;
//     }
//     total: func(c: borrow<counter>) -> u32;
//     drops: func() -> u32;                            // the runs of counter's destructor
//   }
//   world root {
//     import acme:res/host@0.1.0;
//     use acme:res/host@0.1.0.{logger};
//     export acme:res/counters@0.1.0;
//     export use-logger: func(msg: string) -> u32;     // logger("g:"), log(msg) twice, drop: the last log's result
//     export make-logger: func() -> logger;            // logger.default(), moved to the caller
//     export log-with: func(l: borrow<logger>, msg: string) -> u32;   // l.log(msg)
//   }
import test, { type ExecutionContext } from 'ava'
import * as fs from 'node:fs'
import * as path from 'node:path'

import { Component, ComponentLinker, Engine, Store, StoreStateError, wat2wasm } from '../dist/index.js'
import { assertError, thrown } from './helpers/assert'
import { settle } from './helpers/gc'
import { COMPONENTS, fixture, jco, jcoInstance, transpiledFixture } from './helpers/jco'

type Exports = Record<string, any>
type Side = 'ours' | 'jco'
const SIDES: readonly Side[] = ['ours', 'jco']

const NAME = 'resources'
const HOST = 'acme:res/host@0.1.0'
const COUNTERS = 'acme:res/counters@0.1.0'

let compiled: Component | undefined
/** The fixture compiled once for the file (Engine.default), from its committed binary. */
const component = (): Component => (compiled ??= new Component(Engine.default, fixture(`${NAME}.wasm`)))

/**
 * The host side of `logger`: a JS class, and the record of what was done with it. Each call is
 * logged with the index of its `this` among the loggers made so far (-1: not one of them), so
 * that the logs show which object the host got. `dispose: false`: a class without Symbol.dispose.
 */
interface Host {
  Logger: any
  calls: unknown[][]
  made: object[]
}
function hostLogger(opts: { dispose?: boolean } = {}): Host {
  const calls: unknown[][] = []
  const made: object[] = []
  class Logger {
    prefix: string
    lines = 0
    constructor(prefix: string) {
      this.prefix = prefix
      made.push(this)
      calls.push(['new', prefix, made.length - 1])
    }
    /** The number of lines this logger logged, this one included. */
    log(msg: string): number {
      this.lines++
      calls.push(['log', made.indexOf(this), this.prefix + msg])
      return this.lines
    }
    static default(): Logger {
      const l = new Logger('default:')
      calls.push(['default', made.indexOf(l)])
      return l
    }
  }
  if (opts.dispose !== false) {
    Object.defineProperty(Logger.prototype, Symbol.dispose, {
      value: function (this: Logger) {
        calls.push(['dispose', made.indexOf(this), this.lines])
      },
    })
  }
  return { Logger, calls, made }
}

/** A fresh instance of the fixture on wasmtime-node, in `store`, with this Logger class. */
function ours(Logger: unknown, store = new Store()): Exports {
  const linker = new ComponentLinker().define(HOST, { Logger } as any)
  return linker.instantiate(store, component()).exports as Exports
}

/** A fresh instance of the fixture on either side: its exports (root functions by their camelCase names on both). */
async function instance(side: Side, Logger: unknown): Promise<Exports> {
  return side === 'ours' ? ours(Logger) : jcoInstance(NAME, { interfaces: { [HOST]: { Logger } as any } })
}

const describe = (e: unknown): string => {
  if (!(e instanceof Error)) return `non-error: ${String(e)}`
  const code = (e as { code?: unknown }).code
  return `${e.constructor.name}${code === undefined ? '' : ` ${String(code)}`}: ${e.message}`
}

type Scenario = (x: Exports, host: Host) => unknown
interface Run {
  result: unknown
  calls: unknown[][]
}

/** Runs `scenario` on a fresh instance on each side, each with its own host class. */
async function onBoth(scenario: Scenario, hostOpts: { dispose?: boolean } = {}): Promise<Record<Side, Run>> {
  const out = {} as Record<Side, Run>
  for (const side of SIDES) {
    const host = hostLogger(hostOpts)
    let result: unknown
    try {
      result = await scenario(await instance(side, host.Logger), host)
    } catch (e) {
      result = { threw: describe(e) }
    }
    out[side] = { result, calls: host.calls }
  }
  return out
}

/** jco gives the values of the spec (`expected`), and wasmtime-node gives the same as jco. */
function sameAsJco(t: ExecutionContext, runs: Record<Side, Run>, expected: Run): void {
  t.deepEqual(runs.jco, expected, 'jco: the values and host calls the spec gives')
  t.deepEqual(runs.ours.result, runs.jco.result, 'wasmtime-node: the same values as jco')
  t.deepEqual(runs.ours.calls, runs.jco.calls, 'wasmtime-node: the same host calls as jco (same arguments, same `this`, same order)')
}

// ---------------------------------------------------------------------------------------------
// The fixture
// ---------------------------------------------------------------------------------------------

const WORLD = `package root:component;

world root {
  import acme:res/host@0.1.0;
  use acme:res/host@0.1.0.{logger};

  export acme:res/counters@0.1.0;
  export use-logger: func(msg: string) -> u32;
  export make-logger: func() -> logger;
  export log-with: func(l: borrow<logger>, msg: string) -> u32;
}`

test('resources.wasm is exactly the wat2wasm of resources.wat, and jco reads the WIT it was written for', async (t) => {
  const fresh = Buffer.from(wat2wasm(fs.readFileSync(path.join(COMPONENTS, `${NAME}.wat`), 'utf8')))
  t.true(fresh.equals(Buffer.from(fixture(`${NAME}.wasm`))), 'resources.wasm differs from its .wat: run scripts/build-components.sh and commit')
  const { componentWit } = await jco()
  t.is((await componentWit(fixture(`${NAME}.wasm`))).trim(), WORLD)
  // the interfaces, as jco's generated declarations spell them
  const { dir } = await transpiledFixture(NAME)
  const dts = (f: string) => fs.readFileSync(path.join(dir, 'interfaces', f), 'utf8').trim()
  t.is(dts('acme-res-host.d.ts'), `/** @module Interface acme:res/host@0.1.0 **/

export class Logger {
  constructor(prefix: string)
  log(msg: string): number;
  static 'default'(): Logger;
}`)
  t.is(dts('acme-res-counters.d.ts'), `/** @module Interface acme:res/counters@0.1.0 **/
export function total(c: Counter): number;
export function drops(): number;

export class Counter {
  constructor(start: number)
  increment(): number;
  get(): number;
  static merge(a: Counter, b: Counter): Counter;
}`)
  // wasmtime compiles it: `logger` is imported twice (in the interface, and by `use` at the world level)
  t.deepEqual(component().imports.map((i) => i.name), [HOST, 'logger'])
  t.deepEqual(component().exports.map((e) => e.name), [COUNTERS, 'use-logger', 'make-logger', 'log-with'])
})

// ---------------------------------------------------------------------------------------------
// jco oracle: the same scenario on both sides
// ---------------------------------------------------------------------------------------------

test('jco oracle: a guest resource: constructor, methods, a borrow parameter, dispose running the guest destructor once', async (t) => {
  const runs = await onBoth((x) => {
    const { Counter, total, drops } = x[COUNTERS]
    const c = new Counter(5)
    const d = new Counter(2 ** 32 - 1)
    const out: unknown[] = [c instanceof Counter, d instanceof Counter, drops()]
    out.push(c.increment(), c.increment(), c.get(), total(c), d.get(), d.increment(), total(d), drops())
    c[Symbol.dispose]()
    out.push(drops())
    c[Symbol.dispose]() // a second dispose: nothing
    out.push(drops())
    d[Symbol.dispose]()
    out.push(drops())
    return out
  })
  sameAsJco(t, runs, {
    // increment wraps (i32.add): 2^32 - 1 + 1 is 0
    result: [true, true, 0, 6, 7, 7, 7, 2 ** 32 - 1, 0, 0, 0, 1, 1, 2],
    calls: [],
  })
})

test('jco oracle: a static function taking own<counter> moves it into the guest, which drops it (destructor); the borrowed one stays', async (t) => {
  const runs = await onBoth((x) => {
    const { Counter, total, drops } = x[COUNTERS]
    const a = new Counter(10)
    const b = new Counter(32)
    const m = Counter.merge(a, b)
    const out: unknown[] = [m instanceof Counter, m !== a && m !== b, m.get(), b.get(), total(m), drops()]
    // `a` was moved: disposing it is a no-op (no second destructor run). This is what lets `using a`
    // end its scope quietly after a move (see the `using` test).
    a[Symbol.dispose]()
    out.push(drops())
    // chained: the inner result is an own temporary moved into the outer call
    const m2 = Counter.merge(Counter.merge(new Counter(1), b), m)
    out.push(m2.get(), m.get(), b.get(), drops())
    for (const r of [m, b, m2]) r[Symbol.dispose]()
    out.push(drops())
    return out
  })
  sameAsJco(t, runs, {
    // merge(a, b): 42, a dropped by the guest (drops 1); merge(merge(1, b) = 33, m) = 75: the 1 and the 33 dropped (drops 3)
    result: [true, true, 42, 32, 42, 1, 1, 75, 42, 32, 3, 6],
    calls: [],
  })
})

test('jco oracle: a host resource made, used and dropped by the guest: the constructor, a method called on that very object, Symbol.dispose on the guest\'s drop', async (t) => {
  const runs = await onBoth((x) => [x.useLogger('hi'), x.useLogger(''), x.useLogger('héllo 😀')])
  sameAsJco(t, runs, {
    result: [2, 2, 2],
    calls: [
      ['new', 'g:', 0], ['log', 0, 'g:hi'], ['log', 0, 'g:hi'], ['dispose', 0, 2],
      ['new', 'g:', 1], ['log', 1, 'g:'], ['log', 1, 'g:'], ['dispose', 1, 2],
      ['new', 'g:', 2], ['log', 2, 'g:héllo 😀'], ['log', 2, 'g:héllo 😀'], ['dispose', 2, 2],
    ],
  })
})

test('jco oracle: a host class without Symbol.dispose: the guest\'s drop calls nothing', async (t) => {
  const runs = await onBoth((x) => [x.useLogger('a'), x.useLogger('b')], { dispose: false })
  sameAsJco(t, runs, {
    result: [2, 2],
    calls: [['new', 'g:', 0], ['log', 0, 'g:a'], ['log', 0, 'g:a'], ['new', 'g:', 1], ['log', 1, 'g:b'], ['log', 1, 'g:b']],
  })
})

test('jco oracle: make-logger gives the host back the very object Logger.default() returned, its ownership with it (no dispose)', async (t) => {
  const runs = await onBoth((x, host) => {
    const l = x.makeLogger()
    const l2 = x.makeLogger()
    return [l === host.made[0], l2 === host.made[1], l instanceof host.Logger, l !== l2, l.log('direct'), l2.log('direct')]
  })
  sameAsJco(t, runs, {
    result: [true, true, true, true, 1, 1],
    calls: [['new', 'default:', 0], ['default', 0], ['new', 'default:', 1], ['default', 1], ['log', 0, 'default:direct'], ['log', 1, 'default:direct']],
  })
})

test('jco oracle: a borrow<logger> parameter lends the host\'s object to the guest: its method gets that object as `this`; the guest\'s drop of a borrow calls no dispose', async (t) => {
  const runs = await onBoth((x, host) => {
    const mine = new host.Logger('js:')
    const fromGuest = x.makeLogger()
    return [x.logWith(mine, 'a'), x.logWith(mine, 'b'), x.logWith(fromGuest, 'c'), mine.lines, fromGuest.lines, x.useLogger('d')]
  })
  sameAsJco(t, runs, {
    result: [1, 2, 1, 2, 1, 2],
    calls: [
      ['new', 'js:', 0], ['new', 'default:', 1], ['default', 1],
      ['log', 0, 'js:a'], ['log', 0, 'js:b'], ['log', 1, 'default:c'],
      ['new', 'g:', 2], ['log', 2, 'g:d'], ['log', 2, 'g:d'], ['dispose', 2, 2],
    ],
  })
})

test('jco oracle: `using` disposes counters at the end of the block, the last declared first', async (t) => {
  const runs = await onBoth((x) => {
    const { Counter, drops } = x[COUNTERS]
    const seen: unknown[][] = []
    {
      using a = new Counter(1)
      using _probe = { [Symbol.dispose]: () => seen.push(['probe', drops()]) }
      using b = new Counter(2)
      seen.push(['in', a.get() + b.get(), drops()])
    }
    seen.push(['after', drops()])
    return seen
  })
  sameAsJco(t, runs, {
    // b, then the probe (which sees b's destructor run), then a
    result: [['in', 3, 0], ['probe', 1], ['after', 2]],
    calls: [],
  })
})

test('`using` a counter that is then moved into the guest: the disposal at the end of the scope is a no-op (jco 1.35 throws there)', async (t) => {
  // `using a = …` reads a[Symbol.dispose] once, at the declaration (explicit resource management:
  // AddDisposableResource / GetDisposeMethod; esbuild's lowering, which tsx applies, does the same),
  // and calls that function at the end of the scope. A move must therefore make the very function
  // that dispose was a no-op, not swap the property: jco 1.35 swaps the property (`arg0[symbolDispose]
  // = emptyFunc`), so its captured dispose runs after the move and throws "unknown handle index".
  // The expectation is the spec's (the guest owns a moved resource: nothing for the host to do).
  const scenario: Scenario = (x) => {
    const { Counter, drops } = x[COUNTERS]
    const seen: unknown[][] = []
    {
      using a = new Counter(3)
      const b = new Counter(4)
      using m = Counter.merge(a, b) // a is moved: the guest drops it (1)
      b[Symbol.dispose]() // (2)
      seen.push(['merged', m.get(), drops()])
    } // m disposed (3); a: nothing
    seen.push(['after', drops()])
    return seen
  }
  const runs = await onBoth(scenario)
  const jcoThrew = (runs.jco.result as { threw?: unknown }).threw
  t.regex(String(jcoThrew), /^RuntimeError: unknown handle index \d+$/, `jco 1.35: its dispose, captured before the move, throws at the end of the scope (got ${JSON.stringify(runs.jco.result)})`)
  t.deepEqual(runs.ours.result, [['merged', 7, 2], ['after', 3]], 'wasmtime-node: the spec\'s values')
})

test('jco oracle: wrong resource arguments are TypeErrors (ours: ERR_INVALID_ARG_TYPE; a wrong receiver: ERR_INVALID_THIS); the instance works on', async (t) => {
  for (const side of ['jco', 'ours'] as const) {
    const host = hostLogger()
    const x = await instance(side, host.Logger)
    const other = await instance(side, hostLogger().Logger) // another instance (ours: another store too)
    const { Counter, total, drops } = x[COUNTERS]
    const c = new Counter(7)
    const logger = x.makeLogger()
    const foreign = new other[COUNTERS].Counter(9)
    // A counter of another instance is of another resource type (resource types are generative:
    // each instance defines its own); on our side it is of another store too. See the next test
    // for the same store.
    const notCounters: [string, unknown][] = [['a Logger', logger], ['a plain object', {}], ['null', null], ['undefined', undefined], ['a number', 5]]
    const notLoggers: [string, unknown][] = [['a Counter', c], ['a plain object with a log method', { log: () => 1 }], ['null', null], ['a string', 'js:']]
    const expectType = (f: () => unknown, what: string, code = 'ERR_INVALID_ARG_TYPE') => {
      const e = thrown(t, f, `${side}: ${what}`)
      if (side === 'jco') t.true(e instanceof TypeError, `jco: ${what}: a TypeError, got ${describe(e)}`)
      else assertError(t, e, TypeError, code, `ours: ${what}`)
    }
    for (const [label, v] of notCounters) {
      expectType(() => total(v), `total(${label})`)
      expectType(() => Counter.merge(v, c), `Counter.merge(${label}, c)`)
    }
    // a method called on something that is no Counter: the package's code for a wrong receiver
    // (Node's; see badinput.test.ts), as for its own classes
    for (const [label, v] of [['a Logger', logger], ['a plain object', {}], ['Object.create(Counter.prototype)', Object.create(Counter.prototype)]] as const) {
      expectType(() => Counter.prototype.get.call(v), `Counter.prototype.get.call(${label})`, 'ERR_INVALID_THIS')
      expectType(() => Counter.prototype.increment.call(v), `Counter.prototype.increment.call(${label})`, 'ERR_INVALID_THIS')
    }
    for (const [label, v] of notLoggers) expectType(() => x.logWith(v, 'm'), `logWith(${label})`)
    if (side === 'jco') expectType(() => total(foreign), 'total(a counter of another instance)')
    // nothing reached the guest: the instance and the objects still work, and no destructor ran
    t.is(c.get(), 7, `${side}: c unchanged`)
    t.is(total(c), 7, `${side}: c still borrowable`)
    t.is(x.logWith(logger, 'after'), 1, `${side}: the logger still lendable`)
    t.is(drops(), 0, `${side}: no destructor ran`)
    t.is(foreign.get(), 9, `${side}: the other instance's counter unchanged`)
    t.false(host.calls.some((call) => call[0] === 'dispose'), `${side}: no host dispose`)
  }
})

test('a counter of another instance of the same store: TypeError ERR_INVALID_ARG_TYPE (another resource type); of another store: StoreStateError ERR_WRONG_STORE', (t) => {
  const store = new Store()
  const x = ours(hostLogger().Logger, store)
  const sibling = ours(hostLogger().Logger, store)
  const stranger = ours(hostLogger().Logger)
  const { Counter, total, drops } = x[COUNTERS]
  const c = new Counter(1)
  const s = new sibling[COUNTERS].Counter(2)
  const f = new stranger[COUNTERS].Counter(3)
  assertError(t, thrown(t, () => total(s), 'total(sibling counter)'), TypeError, 'ERR_INVALID_ARG_TYPE', 'total of a counter of another instance of the store')
  assertError(t, thrown(t, () => Counter.merge(s, c), 'merge(sibling counter, c)'), TypeError, 'ERR_INVALID_ARG_TYPE', 'merge moving a counter of another instance')
  // the package's rule for any object of one store used with another (errors.test.ts)
  assertError(t, thrown(t, () => total(f), 'total(foreign counter)'), StoreStateError, 'ERR_WRONG_STORE', 'total of a counter of another store')
  assertError(t, thrown(t, () => Counter.merge(f, c), 'merge(foreign counter, c)'), StoreStateError, 'ERR_WRONG_STORE', 'merge moving a counter of another store')
  t.deepEqual([c.get(), s.get(), f.get(), drops(), sibling[COUNTERS].drops(), stranger[COUNTERS].drops()], [1, 2, 3, 0, 0, 0], 'nothing moved, nothing dropped')
})

test('jco oracle: a counter that becomes garbage without dispose runs the guest destructor once, eventually; a live one does not', async (t) => {
  // jco registers each counter with a FinalizationRegistry that runs the destructor: compared.
  // Bounded: 10 s of collections at most.
  const runs = await onBoth(async (x) => {
    const { Counter, drops } = x[COUNTERS]
    const kept = new Counter(100)
    const garbage = (n: number) => Array.from({ length: n }, (_, i) => new Counter(i)).reduce((sum, k) => sum + k.get(), 0)
    const sum = garbage(3)
    const t0 = performance.now()
    while (drops() < 3 && performance.now() - t0 < 10_000) await settle()
    t.log(`destructors after ${(performance.now() - t0).toFixed(0)} ms: ${drops()}`)
    await settle() // and no more than 3 come later
    const out = [sum, drops(), kept.get()]
    kept[Symbol.dispose]()
    out.push(drops())
    return out
  })
  sameAsJco(t, runs, { result: [3, 3, 100, 4], calls: [] })
})

// ---------------------------------------------------------------------------------------------
// wasmtime-node: the API
// ---------------------------------------------------------------------------------------------

test('exports: the interface under its full WIT name and its short name (one object); Counter a class whose objects have Symbol.dispose; root functions under WIT and camelCase names', (t) => {
  const x = ours(hostLogger().Logger)
  const api = x[COUNTERS]
  t.truthy(api)
  t.is(x.counters, api, 'exports.counters: the same object, as in jco')
  t.is(typeof api.Counter, 'function')
  t.is(typeof api.total, 'function')
  t.is(typeof api.drops, 'function')
  t.is(typeof api.Counter.merge, 'function', 'the static function')
  for (const name of ['use-logger', 'make-logger', 'log-with']) {
    t.is(typeof x[name], 'function', name)
    t.is(typeof x[name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())], 'function', `${name} camelCase`)
  }
  const c = new api.Counter(1)
  t.true(c instanceof api.Counter)
  t.is(typeof c[Symbol.dispose], 'function')
  t.is(typeof c.increment, 'function')
  t.is(typeof c.get, 'function')
  const m = api.Counter.merge(new api.Counter(2), c)
  t.true(m instanceof api.Counter, 'what a function returns is a Counter too')
  t.is(typeof m[Symbol.dispose], 'function')
  t.is(x['use-logger']('x'), 2)
})

test('dispose runs the guest destructor once; a second dispose is a no-op; every later use is StoreStateError ERR_RESOURCE_DROPPED', (t) => {
  const x = ours(hostLogger().Logger)
  const { Counter, total, drops } = x[COUNTERS]
  const c = new Counter(1)
  const other = new Counter(2)
  t.is(c[Symbol.dispose](), undefined)
  t.is(drops(), 1)
  t.is(c[Symbol.dispose](), undefined, 'a second dispose')
  t.is(drops(), 1, 'no second destructor run')
  const dropped = (f: () => unknown, what: string) => assertError(t, thrown(t, f, what), StoreStateError, 'ERR_RESOURCE_DROPPED', what)
  dropped(() => c.get(), 'get after dispose')
  dropped(() => c.increment(), 'increment after dispose')
  dropped(() => total(c), 'total (a borrow) after dispose')
  dropped(() => Counter.merge(c, other), 'merge moving a disposed counter')
  t.is(c[Symbol.dispose](), undefined, 'dispose after the failed uses: still a no-op')
  t.deepEqual([drops(), other.get(), total(other)], [1, 2, 2], 'the instance works on, the other counter untouched')
})

test('a counter moved into the guest (own parameter) is StoreStateError ERR_RESOURCE_DROPPED when used again; its dispose is a no-op', (t) => {
  const x = ours(hostLogger().Logger)
  const { Counter, total, drops } = x[COUNTERS]
  const a = new Counter(1)
  const b = new Counter(2)
  const m = Counter.merge(a, b)
  t.is(drops(), 1, 'the guest dropped a')
  const moved = (f: () => unknown, what: string) => assertError(t, thrown(t, f, what), StoreStateError, 'ERR_RESOURCE_DROPPED', what)
  moved(() => a.get(), 'get of a moved counter')
  moved(() => a.increment(), 'increment of a moved counter')
  moved(() => total(a), 'total of a moved counter')
  moved(() => Counter.merge(a, b), 'merge moving a moved counter again')
  t.is(a[Symbol.dispose](), undefined)
  t.is(drops(), 1, 'disposing a moved counter runs no destructor: the guest owned it')
  t.deepEqual([m.get(), b.get(), total(m)], [3, 2, 3])
})

test('make-logger: the host object comes back as itself, and a logger the guest drops is disposed once, on the guest\'s drop', (t) => {
  const host = hostLogger()
  const x = ours(host.Logger)
  const l = x['make-logger']()
  t.is(l, host.made[0], 'the object Logger.default() returned')
  t.is(x['use-logger']('z'), 2)
  t.deepEqual(host.calls, [['new', 'default:', 0], ['default', 0], ['new', 'g:', 1], ['log', 1, 'g:z'], ['log', 1, 'g:z'], ['dispose', 1, 2]])
})
