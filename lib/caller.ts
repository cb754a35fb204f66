// Caller context (wasmtime's `Caller`): a host function wrapped with `withCaller(fn)` (or defined
// with `linker.func(..., { caller: true })`) is called as `fn(caller, ...args)`, where the caller
// names the store and the instance whose wasm called it. So one `InstancePre` (one set of host
// functions) serves every store: the function finds the calling store's data and the calling
// instance's memory and allocator through its caller, not through a closure made per store.
import { StoreStateError, typeError } from './errors'
import { wrapExtern, type Exports, type ExportShape, type InstanceExports } from './instance'
import type { Store } from './store'

const CALLER_FN = Symbol('wasmtime-node.withCaller')

/**
 * The context of one host call. Valid during the call — for a host function that returns a
 * Promise (`callAsync`), until that Promise settles; used afterwards it throws `StoreStateError`
 * `ERR_CALLER_EXPIRED`. `T` is the store's data type, `E` the calling instance's exports.
 */
export class Caller<T = unknown, E extends ExportShape<E> = Exports> {
  #store: Store<T>
  /** Host calls of the store running, this one included (names this call: see store.rs). */
  #depth: number
  #live = true
  #exports?: InstanceExports<E>

  /** @internal */
  constructor(store: Store<T>, depth: number) {
    this.#store = store
    this.#depth = depth
  }

  /** The store whose wasm called (not necessarily the one the function was defined with). */
  get store(): Store<T> {
    this.#check()
    return this.#store
  }

  /** The calling store's data (`store.data`). */
  get data(): T {
    this.#check()
    return this.#store.data
  }

  /**
   * The exports of the calling instance, looked up by name when used: its memory, its allocator,
   * its functions. Empty when the host function was called from JS rather than from wasm.
   */
  get exports(): InstanceExports<E> {
    this.#check()
    this.#exports ??= new Proxy(Object.create(null) as InstanceExports<E>, {
      get: (cache, name) => {
        this.#check()
        if (typeof name !== 'string') return undefined
        const c = cache as Record<string, unknown>
        if (!(name in c)) c[name] = wrapExtern(this.#store, this.#store._native.callerExport(this.#depth, name)) ?? undefined
        return c[name]
      },
      set: () => false,
    })
    return this.#exports
  }

  /** @internal The call has returned (or its Promise settled). */
  _end(): void {
    this.#live = false
  }

  #check(): void {
    if (!this.#live) throw new StoreStateError('the caller was used after its host call returned: use it only during the call', 'ERR_CALLER_EXPIRED')
  }
}

/**
 * Make `fn` a host function with caller context: wasm calls it as `fn(caller, ...args)`. Usable
 * anywhere a host function goes (an import object, `new Func`, `linker.func`).
 */
export function withCaller<A extends unknown[], R, T = unknown, E extends ExportShape<E> = Exports>(fn: (caller: Caller<T, E>, ...args: A) => R): (...args: A) => R {
  if (typeof fn !== 'function') throw typeError('withCaller needs a function')
  const marked = (() => {
    throw typeError('a withCaller function is called by wasm, with its caller: call the function you wrapped instead', 'ERR_CALLER_REQUIRED')
  }) as unknown as (...args: A) => R
  Object.defineProperty(marked, CALLER_FN, { value: fn })
  return marked
}

/** The function `withCaller` wrapped, if `fn` is one. */
export function callerFn(fn: unknown): ((caller: Caller, ...args: unknown[]) => unknown) | undefined {
  return typeof fn === 'function' ? (fn as { [CALLER_FN]?: (caller: Caller, ...args: unknown[]) => unknown })[CALLER_FN] : undefined
}

const isThenable = (v: unknown): v is PromiseLike<unknown> => !!v && (typeof v === 'object' || typeof v === 'function') && typeof (v as PromiseLike<unknown>).then === 'function'

/** The host function that gives `fn` its caller (a new one per call, ended when the call is). */
export function callerEntry(store: Store, fn: (caller: Caller, ...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
  return (...args: unknown[]) => {
    const caller = new Caller(store, store._native.callerDepth())
    let r: unknown
    try {
      r = fn(caller, ...args)
    } catch (e) {
      caller._end()
      throw e
    }
    if (!isThenable(r)) {
      caller._end()
      return r
    }
    return Promise.resolve(r).finally(() => caller._end())
  }
}
