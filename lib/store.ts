import { native, type Native } from './native'
import { Engine, checkEngine } from './engine'
import { LinkError, WasmtimeError, typeError } from './errors'
import { InterruptHandle } from './interrupt'
import { checkKeys, frozenJson, type ImportType, type FuncType, type HostFunction } from './types'
import { AFFINE, isToken, wrapAs, type Shared } from './wrap'
// Used only inside functions, so these import cycles are harmless in CommonJS.
import { Func, funcOf, hostEntry } from './func'
import { Instance, wrapExtern } from './instance'
import { Memory } from './memory'
import { Table } from './table'
import { Global } from './global'
import { Tag } from './tag'
import { configureWasi } from './wasi'
import { ComponentInstance, componentEntry, receivedComponentFunction } from './component'
import { pascal, resourceBridge, type ResourceBridge } from './component-resources'

/** Caps on what the guest may allocate. A guest `memory.grow`/`table.grow` past them returns -1. */
export interface StoreLimits {
  /** Maximum bytes of any one linear memory. */
  memorySize?: number
  /** Maximum elements of any one table. */
  tableElements?: number
  /** Maximum instances, tables and memories in the store. */
  instances?: number
  tables?: number
  memories?: number
}

/** Options of `store.startProfiling`. */
export interface ProfilingOptions {
  /** Milliseconds between samples, at least 1 (the engine ticker's period); default 1. */
  intervalMs?: number
  /** The profile's name (its process in the Firefox profiler); default `'wasm'`. */
  name?: string
}

export interface StoreOptions<T> {
  /** Arbitrary user data, available as `store.data`. */
  data?: T
  /** Initial fuel (the engine needs `consumeFuel: true`). */
  fuel?: number | bigint
  limits?: StoreLimits
  /** Wall-clock limit of every call into wasm, in ms (traps with `interrupt`). */
  timeoutMs?: number
  /** WASI preview 1 for this store (link it with `linker.defineWasi()`). */
  wasi?: import('./wasi').WasiOptions
  /**
   * Run this store's `callAsync`s as fibers on the process-wide thread pool (see
   * `setAsyncThreads`): a host function's pending Promise suspends the guest without holding a
   * thread, and busy guests take turns (every epoch tick, and every `fuelYieldInterval` units
   * of fuel). Synchronous calls still work; a host function may return a Promise only under
   * `callAsync`, and wasm cannot be called from this store's own host functions.
   */
  async?: boolean
  /** With `async: true` and an engine with `consumeFuel`: yield to other guests every this many units of fuel. */
  fuelYieldInterval?: number | bigint
}

/** Options of one call (`callAsync(...args, options)`). */
export interface CallOptions {
  /** Abort the call: it traps with `interrupt`, and the promise rejects with the signal's reason. */
  signal?: AbortSignal
  /** Wall-clock limit of this call, in ms (traps with `interrupt`). */
  timeoutMs?: number
  /** Set the store's fuel to this before the call. */
  fuel?: number | bigint
}


const FREED_CHECK_INTERVAL = 1024
const LIMIT_KEYS = ['memorySize', 'tableElements', 'instances', 'tables', 'memories'] as const
/** Where WASI output callbacks sit in the host-function table (see wasi.ts). */
export const WASI_OUTPUT_MODULE = 'wasmtime-node:wasi'
const noop = () => undefined

const disposeSymbol: symbol = (Symbol as { dispose?: symbol }).dispose ?? Symbol.for('nodejs.dispose')

/**
 * Owns all wasm state (instances, memories, globals, tables, host functions). Thread-affine:
 * it and every object connected to it live in one worker at a time.
 *
 * Ownership: JS values the store needs (host functions, externref payloads) live in arrays
 * owned by this object; the native store reaches them only during a call. Every wrapper
 * (Instance, Func, Memory…) keeps its store alive through an ordinary property, so nothing
 * native holds a JS object and unreachable stores are garbage-collected, cycles included.
 */
export class Store<T = unknown> {
  /** Marks the store as thread-affine (see `transfer`): posting it throws a DataCloneError. */
  readonly threadAffine: symbol = AFFINE
  /** @internal */
  readonly _native: Native.NativeStore
  /** @internal Host functions by slot; the same array for the store's whole life. */
  readonly _fns: HostFunction[] = []
  /** @internal Externref payloads by slot. */
  readonly _externs: unknown[] = []
  /** @internal */
  readonly _freeExterns: number[] = []
  /** @internal Host functions of each linker already bound here (linker id → count). */
  readonly _linkerBound = new Map<number, number>()
  /** @internal */
  _allocs = 0
  /** @internal The last queued `callAsync` (they run one after the other). */
  _asyncTail: Promise<unknown> = Promise.resolve()
  readonly engine: Engine
  data: T

  constructor(engine?: Engine | Shared<'Engine'>, options: StoreOptions<T> = {}) {
    this.engine = engine === undefined ? Engine.default : checkEngine(engine)
    if (!options || typeof options !== 'object') throw typeError('store options must be an object')
    checkKeys(options, ['data', 'fuel', 'limits', 'timeoutMs', 'wasi', 'async', 'fuelYieldInterval'], 'store')
    if (options.async !== undefined && typeof options.async !== 'boolean') throw typeError('async must be a boolean')
    this._native = native.NativeStore.create(this.engine._native, options.async === true)
    // Its wasm state goes as soon as V8 collects it, not when the event loop runs finalizers.
    native.NativeStore.watch(this._native)
    this.data = options.data as T
    if (options.fuel !== undefined) this.setFuel(options.fuel)
    if (options.limits !== undefined) this.setLimits(options.limits)
    if (options.timeoutMs !== undefined) this.setTimeout(options.timeoutMs)
    if (options.wasi !== undefined) configureWasi(this, options.wasi)
    if (options.fuelYieldInterval !== undefined) {
      const n = options.fuelYieldInterval
      if (typeof n !== 'number' && typeof n !== 'bigint') throw typeError('fuelYieldInterval must be a number or a BigInt')
      this._native.setFuelYieldInterval(n)
    }
  }

  /** Whether this store was created with `async: true` (its `callAsync`s run as fibers on the pool). */
  get async(): boolean {
    return this._native.isAsync
  }

  /**
   * The bytes a WASI guest wrote so far to a `'capture'` stdout/stderr. Taken: a later call
   * returns only what was written after this one.
   */
  takeWasiOutput(stream: 'stdout' | 'stderr'): Uint8Array {
    if (stream !== 'stdout' && stream !== 'stderr') throw typeError("stream must be 'stdout' or 'stderr'", 'ERR_INVALID_ARG_VALUE')
    return this._native.takeWasiOutput(stream === 'stdout' ? 1 : 2) as Uint8Array
  }

  /** Set the fuel left (the engine needs `consumeFuel: true`); running out traps with `out_of_fuel`. */
  setFuel(fuel: number | bigint): void {
    if (typeof fuel !== 'number' && typeof fuel !== 'bigint') throw typeError('fuel must be a number or a BigInt')
    this._native.setFuel(fuel)
  }

  /** The fuel left: a number, or a BigInt above 2^53. */
  getFuel(): number | bigint {
    const s = this._native.getFuel()
    const n = Number(s)
    return Number.isSafeInteger(n) ? n : BigInt(s)
  }

  /** Limit every call into wasm to `ms` of wall-clock time (`null`: no limit). */
  setTimeout(ms: number | null): void {
    if (ms !== null && typeof ms !== 'number') throw typeError('timeoutMs must be a number or null')
    this._native.setTimeout(ms, false)
  }

  /** @internal A timeout for the next call only. */
  _setNextTimeout(ms: number): void {
    if (typeof ms !== 'number') throw typeError('timeoutMs must be a number')
    this._native.setTimeout(ms, true)
  }

  /** Trap the running wasm after `ticks` more epoch increments (`engine.incrementEpoch()`). */
  setEpochDeadline(ticks: number): void {
    if (typeof ticks !== 'number') throw typeError('ticks must be a number')
    this._native.setEpochDeadline(ticks)
  }

  /**
   * Start a guest profile (wasmtime's `GuestProfiler`): from the next call on, the wasm stack is
   * sampled every `intervalMs` on the engine's epoch ticks, and host calls are marked. Functions
   * are named from the name sections of the modules (and the first component) instantiated in
   * this store so far. Needs an engine with `epochInterruption` (the default); a call holds the
   * engine's ticker while its store is profiled. `stopProfiling()` returns the profile.
   */
  startProfiling(options: ProfilingOptions = {}): void {
    if (!options || typeof options !== 'object') throw typeError('profiling options must be an object')
    checkKeys(options, ['intervalMs', 'name'], 'startProfiling')
    const { intervalMs = 1, name = 'wasm' } = options
    if (typeof intervalMs !== 'number') throw typeError('intervalMs must be a number')
    if (typeof name !== 'string') throw typeError('name must be a string')
    this._native.startProfiling(name, intervalMs)
  }

  /**
   * End the guest profile started by `startProfiling`: JSON text in the Firefox profiler's
   * "processed profile" format (open it at https://profiler.firefox.com).
   */
  stopProfiling(): string {
    return this._native.stopProfiling()
  }

  /** Replace the store's limits. */
  setLimits(limits: StoreLimits): void {
    if (!limits || typeof limits !== 'object') throw typeError('limits must be an object')
    checkKeys(limits, LIMIT_KEYS, 'limits')
    // Each known field read once, into a plain object (a getter or Proxy is asked once).
    const plain: Record<string, number> = {}
    for (const k of LIMIT_KEYS) {
      const v = (limits as Record<string, unknown>)[k]
      if (v === undefined) continue
      if (typeof v !== 'number') throw typeError(`limits.${k} must be a number`)
      plain[k] = v
    }
    this._native.setLimits(plain)
  }

  /** A handle that stops this store's running wasm from any thread (`share()` it to a worker). */
  interruptHandle(): InterruptHandle {
    return InterruptHandle._wrap(this._native.interruptHandle())
  }

  /**
   * Detach this store from the current thread, to be received (once) by `Store.receive` in
   * any worker — this one included. Afterwards every object of this store here throws
   * `StoreStateError` (`ERR_STORE_MOVED`) and zero-copy memory views are detached.
   *
   * `objects` names objects of this store to re-create on the other side. JS values held by
   * the store move by value when they are primitives: `store.data`, and externref payloads.
   * An object payload cannot cross threads: `store.data` then arrives as `undefined` (pass
   * `data` to `receive`), and an externref payload as a frozen `MovedExternRef` placeholder.
   */
  transfer(objects: Record<string, StoreObject | Func> = {}): StoreTransfer {
    if (!objects || typeof objects !== 'object') throw typeError('objects must be an object')
    const held = (this._fns as unknown as { resources?: ResourceBridge }).resources?.held ?? 0
    // (Running wasm says ERR_STORE_BUSY first, from the native side.)
    if (held > 0 && this._native.callerDepth() === 0) {
      throw new WasmtimeError(`the store's components hold ${held} host resource object(s): JS objects cannot cross threads (drop them in the guest first)`, 'ERR_COMPONENT_UNSUPPORTED')
    }
    const names = Object.keys(objects)
    const natives = names.map((n) => nativeOfObject(objects[n]))
    const id = this._native.transfer(natives)
    const t: StoreTransfer = Object.freeze({
      kind: 'StoreTransfer' as const,
      id,
      names: Object.freeze(names),
      data: isPrimitive(this.data) ? this.data : undefined,
      externs: Object.freeze(this._externs.map(movable)),
      freeExterns: Object.freeze([...this._freeExterns]),
    })
    this._fns.length = 0
    this._externs.length = 0
    return t
  }

  /**
   * Adopt a transferred store in this thread. `imports` gives this thread's JS host functions,
   * by the module/name they were defined with (an Instance's imports, a Linker's `func`, or a
   * `Func`'s `{ module, name }`). Missing ones, or a `Func` of another type, throw `LinkError`
   * naming them, and the token stays receivable. A token can be received once.
   *
   * `T` is the type of the received store's data: inferred from `data` when given, else
   * declared (`Store.receive<number>(token)`: the transferred primitive; not checked).
   */
  static receive<T = unknown>(t: StoreTransfer, opts: { imports?: ReceiveImports; data?: T; wasi?: ReceiveWasi } = {}): { store: Store<T>; objects: Record<string, StoreObject> } {
    if (!isTransferToken(t)) throw typeError('expected a StoreTransfer token from store.transfer()')
    if (!opts || typeof opts !== 'object') throw typeError('receive options must be an object')
    const { fns: wanted, resources } = frozenJson<{ fns: WantedHostFunction[]; resources: { id: number; iface: string; name: string }[] }>(native.NativeStore.transferWants(t.id))
    const fns = bindHostFunctions(wanted, opts.imports ?? {}, opts.wasi ?? {}, resources)
    const [nstore, ...nobjs] = native.NativeStore.receive(t.id, t.names.length) as [Native.NativeStore, ...unknown[]]
    native.NativeStore.watch(nstore)
    const engine = nstore.hasDefaultEngine() ? Engine.default : Engine._wrap(nstore.engine())
    const store = wrapAs(Store, {
      _native: nstore, _fns: [] as HostFunction[], _externs: t.externs.map(unplaceholder), _freeExterns: [...t.freeExterns],
      _linkerBound: new Map(), _allocs: 0, _asyncTail: Promise.resolve(), engine, data: 'data' in opts ? opts.data : t.data,
    }, true) as Store<T>
    fns.forEach(({ type, fn, raw, component }) => store._fns.push(component ? componentEntry(store, fn) : raw ? fn : hostEntry(store, type!, fn)))
    if (resources.length) {
      const bridge = resourceBridge(store)
      for (const r of resources) bridge.setHostClass(r.id, opts.imports![r.iface]![pascal(r.name)] as abstract new () => object)
    }
    const objects: Record<string, StoreObject> = {}
    t.names.forEach((name, i) => {
      objects[name] = wrapObject(store, nobjs[i]) as StoreObject
    })
    return { store, objects }
  }

  /** Run wasmtime's garbage collector now (releases unreachable externrefs). */
  gc(): void {
    this._native.gc()
    this._reclaimExterns()
  }

  /** Free all wasm state now. Every object of this store then throws `StoreStateError` (`ERR_STORE_CLOSED`). */
  dispose(): void {
    this._native.dispose()
    this._fns.length = 0
    this._externs.length = 0
    this._freeExterns.length = 0
  }

  [Symbol.dispose](): void {
    this.dispose()
  }

  /** @internal A JS value as an externref slot (null stays null). */
  _externIn(v: unknown): number | null {
    if (v === null) return null
    if (v instanceof ExternRefBase) v = v.value
    if (++this._allocs % FREED_CHECK_INTERVAL === 0) this._reclaimExterns()
    const slot = this._freeExterns.pop() ?? this._externs.length
    this._externs[slot] = v
    return slot
  }

  /** @internal */
  _externOut(slot: number | null): unknown {
    return slot === null ? null : this._externs[slot]
  }

  /** @internal */
  _reclaimExterns(): void {
    for (const slot of this._native.takeFreedExterns()) {
      this._externs[slot] = undefined
      this._freeExterns.push(slot)
    }
  }
}

/**
 * The WASI output callbacks of a received store (its stdout/stderr were functions): without
 * one, that stream's output is dropped in the receiving thread.
 */
export interface ReceiveWasi {
  stdout?: (chunk: Uint8Array) => void
  stderr?: (chunk: Uint8Array) => void
}

/** What a received store's host-function table needs: a core import, or a component's. */
type WantedHostFunction = ImportType | { readonly component: true; readonly module: string; readonly name: string }

/**
 * Functions given to `Store.receive`, by module and name. For components: by interface (`''` for
 * root-level imports) and WIT or camelCase name, and host resources as their classes (`Logger`).
 */
export type ReceiveImports = Record<string, Record<string, HostFunction | object>>

/** A one-shot, structured-clonable token from `store.transfer()`. */
export interface StoreTransfer extends Shared<'StoreTransfer'> {
  readonly names: readonly string[]
  readonly data: unknown
  readonly externs: readonly unknown[]
  readonly freeExterns: readonly number[]
}

/** Stands for an externref payload object that could not move with its store. */
export const MovedExternRef = Object.freeze({ movedExternRef: true, description: 'an object externref payload left behind by store.transfer()' })

const isPrimitive = (v: unknown) => v === null || v === undefined || (typeof v !== 'object' && typeof v !== 'function' && typeof v !== 'symbol')

/** An externref payload as it can cross threads: primitives by value, objects as the placeholder. */
function movable(v: unknown): unknown {
  return isPrimitive(v) ? v : MovedExternRef
}

/** The placeholder arrives as a structured-clone copy: make it this thread's `MovedExternRef`. */
function unplaceholder(v: unknown): unknown {
  return v && typeof v === 'object' && (v as { movedExternRef?: unknown }).movedExternRef === true ? MovedExternRef : v
}

/** The native object behind something `transfer()` may move. */
function nativeOfObject(o: unknown): unknown {
  if (o instanceof ComponentInstance) return o._native
  if (o instanceof Instance || o instanceof Memory || o instanceof Table || o instanceof Global || o instanceof Tag) return o._native
  const f = funcOf(o)
  if (f) return f._native
  throw typeError('transfer() objects must be Instances, ComponentInstances, Funcs (or exported functions), Memories, Tables, Globals or Tags of the store')
}

/** The public wrapper of a received native object. */
function wrapObject(store: Store, n: unknown): unknown {
  if (n instanceof native.NativeComponentInstance) return ComponentInstance._make(store, n)
  return n instanceof native.NativeInstance ? Instance._wrap(store, n) : wrapExtern(store, n)
}

/** A receive import as a host function and its declared type (a wasm function has one). */
function asHostFunction(v: unknown): { fn: HostFunction; type: FuncType | null } | null {
  if (v instanceof Func) return { fn: v.callable, type: v.type }
  if (typeof v !== 'function') return null
  return { fn: v as HostFunction, type: funcOf(v)?.type ?? null }
}

const typeText = (t: FuncType) => `(${t.params.join(', ')}) -> (${t.results.join(', ')})`
const sameType = (a: FuncType, b: FuncType) => typeText(a) === typeText(b)

/** Match the parked store's host functions with the functions given, or throw naming the gaps. */
function bindHostFunctions(
  wanted: readonly WantedHostFunction[],
  imports: ReceiveImports,
  wasi: ReceiveWasi,
  resources: readonly { iface: string; name: string }[],
): { type?: FuncType; fn: HostFunction; raw?: boolean; component?: boolean }[] {
  if (!imports || typeof imports !== 'object') throw typeError('imports must be an object')
  if (!wasi || typeof wasi !== 'object') throw typeError('wasi must be an object')
  const problems: string[] = []
  for (const r of resources) {
    if (typeof imports[r.iface]?.[pascal(r.name)] !== 'function') problems.push(`missing class ${pascal(r.name)} of "${r.iface}" (resource ${r.name})`)
  }
  const bound = wanted.map((w) => {
    if ('component' in w) {
      const fn = receivedComponentFunction(imports, w.module, w.name)
      if (typeof fn === 'string') {
        problems.push(fn)
        return { fn: () => undefined, component: true }
      }
      return { fn: fn as HostFunction, component: true }
    }
    const type = (w.type as { type: FuncType }).type
    if (w.module === WASI_OUTPUT_MODULE) {
      const cb = wasi[w.name as keyof ReceiveWasi]
      if (cb !== undefined && typeof cb !== 'function') throw typeError(`wasi.${w.name} must be a function`)
      return { type, fn: cb ?? noop, raw: true }
    }
    const where = `"${w.module}"."${w.name}" ${typeText(type)}`
    const given = asHostFunction(imports[w.module]?.[w.name])
    if (!given) {
      problems.push(`missing ${where}`)
      return { type, fn: () => undefined }
    }
    if (given.type && !sameType(given.type, type)) problems.push(`mismatched ${where}: given ${typeText(given.type)}`)
    return { type, fn: given.fn }
  })
  if (problems.length) throw new LinkError(`Store.receive: host functions to re-bind: ${[...new Set(problems)].join('; ')}`)
  return bound
}

if (disposeSymbol !== Symbol.dispose) {
  Object.defineProperty(Store.prototype, disposeSymbol, { value: Store.prototype.dispose })
}

/** Base of `ExternRef` (defined here so the store can unwrap it without a cycle). */
export class ExternRefBase {
  constructor(readonly value: unknown) {}
}

/** What `store.transfer()` moves by name, and `Store.receive()` gives back. */
export type StoreObject = import('./instance').ExportValue | import('./instance').Instance | import('./component').ComponentInstance

export function checkStore(s: unknown): Store {
  if (s instanceof Store) return s
  throw typeError('store must be a Store')
}

/** The shape `store.transfer()` makes, checked before the parked store is consumed. */
function isTransferToken(t: unknown): t is StoreTransfer {
  if (!isToken(t, 'StoreTransfer')) return false
  const { names, externs, freeExterns } = t as StoreTransfer
  return Array.isArray(names) && names.every((n) => typeof n === 'string') && Array.isArray(externs)
    && Array.isArray(freeExterns) && freeExterns.every((i) => Number.isInteger(i) && i >= 0 && i < externs.length)
}

/**
 * @internal Put a linker's host functions not yet known to `store` into its host-function table
 * (`Linker`, `ComponentLinker`): `bind(from)` reserves the slots natively, `entry(i)` is the
 * table entry of function `i`.
 */
export function bindLinkerFns(store: Store, id: number, count: number, bind: (from: number) => number[], entry: (i: number) => HostFunction): void {
  const bound = store._linkerBound.get(id) ?? 0
  if (bound === count) return
  bind(bound).forEach((slot, i) => {
    store._fns[slot] = entry(bound + i)
  })
  store._linkerBound.set(id, count)
}
