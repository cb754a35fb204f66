import { native, type Native } from './native'
import { Engine, checkEngine } from './engine'
import { typeError } from './errors'

export interface StoreLimits { memorySize?: number; tableElements?: number; instances?: number; tables?: number; memories?: number }
export interface StoreOptions<T> {
  /** Arbitrary user data, available as `store.data`. */
  data?: T
}

/** A JS function the store calls from wasm (after conversions: see func.ts). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type HostFunction = (...args: any[]) => any

const FREED_CHECK_INTERVAL = 1024

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
  #allocs = 0
  readonly engine: Engine
  data: T

  constructor(engine?: Engine, options: StoreOptions<T> = {}) {
    this.engine = engine === undefined ? Engine.default : checkEngine(engine)
    if (!options || typeof options !== 'object') throw typeError('store options must be an object')
    this._native = new native.NativeStore(this.engine._native)
    this.data = options.data as T
  }

  /** Run wasmtime's garbage collector now (releases unreachable externrefs). */
  gc(): void {
    this._native.gc()
    this.#reclaimExterns()
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
    if (++this.#allocs % FREED_CHECK_INTERVAL === 0) this.#reclaimExterns()
    const slot = this._freeExterns.pop() ?? this._externs.length
    this._externs[slot] = v
    return slot
  }

  /** @internal */
  _externOut(slot: number | null): unknown {
    return slot === null ? null : this._externs[slot]
  }

  #reclaimExterns(): void {
    for (const slot of this._native.takeFreedExterns()) {
      this._externs[slot] = undefined
      this._freeExterns.push(slot)
    }
  }
}

if (disposeSymbol !== Symbol.dispose) {
  Object.defineProperty(Store.prototype, disposeSymbol, { value: Store.prototype.dispose })
}

/** Base of `ExternRef` (defined here so the store can unwrap it without a cycle). */
export class ExternRefBase {
  constructor(readonly value: unknown) {}
}

export function checkStore(s: unknown): Store {
  if (s instanceof Store) return s
  throw typeError('store must be a Store')
}
