import { callerEntry, callerFn } from './caller'
import type { Native } from './native'
import { AFFINE, wrapAs } from './wrap'
import { native } from './native'
import { typeError } from './errors'
import { Store, checkStore, type CallOptions } from './store'
import { checkFuncType, checkKeys, frozenJson, type FuncSignature, type FuncType, type HostFunction, type UntypedSignature, type ValType } from './types'

/**
 * A callable wasm function, as in `instance.exports`: `.type`, `.func`, `.callAsync`. `F` is its
 * JS signature: the one declared by `Instance<E>`'s `E`, or `FuncSignature<T>` of a `Func<T>`;
 * without it, any arguments and an `unknown` result (narrow it, or declare the exports).
 */
export type ExportedFunction<F extends UntypedSignature = UntypedSignature> = F & {
  readonly type: FuncType
  readonly func: Func
  /** The call on another thread (see `Func#callAsync`); `CallOptions` may follow the arguments. */
  callAsync(...args: Parameters<F> | [...Parameters<F>, CallOptions]): Promise<Awaited<ReturnType<F>>>
}

type Conv = (v: unknown) => unknown

// ---- reference conversions (numbers, BigInts and v128 are converted natively) ----

/** The `Func` behind a value: a `Func`, or a wasm function's callable (its `.func`); else null. */
export function funcOf(v: unknown): Func | null {
  if (v instanceof Func) return v
  const f = typeof v === 'function' ? (v as Partial<ExportedFunction>).func : undefined
  return f instanceof Func ? f : null
}

/** A funcref argument in the native layer's form. */
export function funcIn(v: unknown): unknown {
  if (v === null) return null
  const f = funcOf(v)
  if (f) return f._native
  throw typeError('expected a wasm function (an export, a Func) or null for a funcref')
}

/** A value of type `t` in the native layer's form (references are converted, numbers are not). */
export function refIn(store: Store, t: ValType, v: unknown): unknown {
  const c = convIn(store, t)
  return c ? c(v) : v
}

/** A value of type `t` from the native layer's form. */
export function refOut(store: Store, t: ValType, v: unknown): unknown {
  const c = convOut(store, t)
  return c ? c(v) : v
}

function convIn(store: Store, t: ValType): Conv | null {
  if (t === 'externref') return (v) => store._externIn(v)
  if (t === 'funcref') return funcIn
  return null
}

function convOut(store: Store, t: ValType): Conv | null {
  if (t === 'externref') return (v) => store._externOut(v as number | null)
  if (t === 'funcref') return (v) => (v === null ? null : Func._wrap(store, v as Native.NativeFunc).callable)
  return null
}

/** Converts a result (one value, an array for several, undefined for none). */
function resultsConv(store: Store, results: readonly ValType[], dir: typeof convIn): Conv | null {
  const convs = results.map((t) => dir(store, t))
  if (!convs.some(Boolean)) return null
  if (results.length === 1) return convs[0] ?? null
  return (r) => {
    if (!Array.isArray(r)) return r // the native layer reports the type error
    return r.map((v, i) => (convs[i] ? convs[i]!(v) : v))
  }
}

function argsConv(store: Store, params: readonly ValType[], dir: typeof convIn): ((args: unknown[]) => unknown[]) | null {
  const convs = params.map((t) => dir(store, t))
  if (!convs.some(Boolean)) return null
  return (args) => args.map((v, i) => (convs[i] ? convs[i]!(v) : v))
}

/**
 * The one arity check of a call (the native invoker relies on it: the fast paths below always
 * pass exactly the declared number of arguments).
 */
function arityError(type: FuncType, got: number): TypeError {
  return typeError(`expected ${type.params.length} argument(s), got ${got}`, 'ERR_INVALID_ARG_COUNT')
}

/** A function's native invoker, by its id in its thread (see `NativeFunc.invoker`). */
type Invoker = number

/** The one native function that calls invokers: `invoke(fns, invoker, ...args)`. */
const invoke = native.NativeFunc.invokeFunction() as (fns: HostFunction[], inv: Invoker, ...args: unknown[]) => unknown

/**
 * The JS function that calls `f`. It calls the function's native invoker directly; common
 * signatures (no references, ≤ 3 params) pass their arguments without building an array.
 */
function makeCallable(f: Func): ExportedFunction {
  return callableOf(f._store, f.type, f._native.invoker() as Invoker, () => f)
}

/**
 * @internal The callable of an instance's export, made from its invoker alone: its `Func` is
 * created only if `.func` or `.callAsync` is used (cheaper per-request instantiation).
 */
export function exportedCallable(store: Store, n: Native.NativeInstance, name: string, type: FuncType, inv: unknown): ExportedFunction {
  let f: Func | undefined
  const callable: ExportedFunction = callableOf(store, type, inv as Invoker, () => {
    if (!f) {
      f = Func._wrap(store, n.exportFunc(name)!, type)
      f._callable = callable
    }
    return f
  })
  return callable
}

function callableOf(store: Store, type: FuncType, inv: Invoker, funcOf: () => Func): ExportedFunction {
  const fns = store._fns
  const np = type.params.length
  const inConv = argsConv(store, type.params, convIn)
  const outConv = resultsConv(store, type.results, convOut)
  // The comment inside each function below is what postMessage's DataCloneError prints.
  let call: (...args: unknown[]) => unknown
  if (inConv || outConv) {
    call = function (...args: unknown[]) {
      /* use store.transfer(): a wasm function belongs to its store's thread (wasmtime-node) */
      if (args.length !== np) throw arityError(type, args.length)
      const r = invoke(fns, inv, ...(inConv ? inConv(args) : args))
      return outConv ? outConv(r) : r
    }
  } else if (np === 0) {
    call = function () {
      /* use store.transfer(): a wasm function belongs to its store's thread (wasmtime-node) */
      if (arguments.length !== 0) throw arityError(type, arguments.length)
      return invoke(fns, inv)
    }
  } else if (np === 1) {
    call = function (a: unknown) {
      /* use store.transfer(): a wasm function belongs to its store's thread (wasmtime-node) */
      if (arguments.length !== 1) throw arityError(type, arguments.length)
      return invoke(fns, inv, a)
    }
  } else if (np === 2) {
    call = function (a: unknown, b: unknown) {
      /* use store.transfer(): a wasm function belongs to its store's thread (wasmtime-node) */
      if (arguments.length !== 2) throw arityError(type, arguments.length)
      return invoke(fns, inv, a, b)
    }
  } else if (np === 3) {
    call = function (a: unknown, b: unknown, c: unknown) {
      /* use store.transfer(): a wasm function belongs to its store's thread (wasmtime-node) */
      if (arguments.length !== 3) throw arityError(type, arguments.length)
      return invoke(fns, inv, a, b, c)
    }
  } else {
    call = function (...args: unknown[]) {
      /* use store.transfer(): a wasm function belongs to its store's thread (wasmtime-node) */
      if (args.length !== np) throw arityError(type, args.length)
      return invoke(fns, inv, ...args)
    }
  }
  // Plain assignments (fast properties) for `type` and `callAsync`; `func` is made on demand.
  const callable = call as ExportedFunction & { type: FuncType; callAsync: unknown }
  callable.type = type
  callable.callAsync = (...args: unknown[]) => callAsync(funcOf(), args, inConv, outConv)
  // `funcOf` holds the native owner of `inv` (the instance or the Func): being reachable from the
  // callable through this getter is what keeps the invoker alive (crate/call/func.rs `Invokers`).
  Object.defineProperty(callable, 'func', { get: funcOf, enumerable: true })
  return callable
}

const noop = () => {}

/**
 * Whether the argument after the declared ones is `callAsync`'s options: a plain object (its
 * keys are then checked, so that `{ timeoutMS: 5 }` is an error, not a call without a timeout).
 */
function isCallOptions(v: unknown): v is CallOptions {
  if (!v || typeof v !== 'object') return false
  const proto = Object.getPrototypeOf(v)
  if (proto !== Object.prototype && proto !== null) return false
  checkKeys(v, ['signal', 'timeoutMs', 'fuel'], 'callAsync')
  return true
}

/**
 * Run `f` on another thread; calls on one store run one after the other, in order. The store is
 * busy meanwhile (sync use throws `ERR_STORE_BUSY`); host functions run on this thread and may
 * return Promises.
 */
function callAsync(f: Func, args: unknown[], inConv: ((a: unknown[]) => unknown[]) | null, outConv: Conv | null): Promise<unknown> {
  const type = f.type
  return queueAsync(f._store, args, type.params.length, (n) => arityError(type, n), inConv, (a) => f._native.callAsync(f._store._fns, a) as Promise<unknown>, outConv)
}

/**
 * @internal A call of `store` on another thread (core functions and components): `args` may end
 * with `CallOptions` after the `np` declared ones; `inConv` converts them before `start` runs the
 * call natively, `outConv` converts its result.
 */
export function queueAsync(
  store: Store,
  args: unknown[],
  np: number,
  arity: (n: number) => Error,
  inConv: ((a: unknown[]) => unknown[]) | null,
  start: (args: unknown[]) => Promise<unknown>,
  outConv: Conv | null,
): Promise<unknown> {
  let opts: CallOptions | undefined
  try {
    opts = args.length === np + 1 && isCallOptions(args[np]) ? (args.pop() as CallOptions) : undefined
  } catch (e) {
    return Promise.reject(e)
  }
  if (opts?.signal !== undefined && !(opts.signal instanceof AbortSignal)) return Promise.reject(typeError('signal must be an AbortSignal'))
  if (args.length !== np) return Promise.reject(arity(args.length))
  // The store is busy from now on, not from when the queued call starts: a sync call, dispose()
  // or transfer() meanwhile throws ERR_STORE_BUSY instead of slipping in before it.
  try {
    store._native.reserveAsync()
  } catch (e) {
    return Promise.reject(e)
  }
  const run = async () => {
    let reserved = true
    try {
      const r = await runAsync(store, inConv ? inConv(args) : args, opts, () => (reserved = false), start)
      return outConv ? outConv(r) : r
    } finally {
      if (reserved) store._native.releaseAsync()
    }
  }
  const result = store._asyncTail.then(run, run)
  store._asyncTail = result.then(noop, noop)
  return result
}

/** `consumed()` is called when the native call takes over the store's reservation. */
async function runAsync(store: Store, args: unknown[], opts: CallOptions | undefined, consumed: () => void, start: (args: unknown[]) => Promise<unknown>): Promise<unknown> {
  const signal = opts?.signal
  if (signal?.aborted) throw signal.reason
  if (opts?.fuel !== undefined) store.setFuel(opts.fuel)
  if (opts?.timeoutMs !== undefined) store._setNextTimeout(opts.timeoutMs)
  let onAbort: (() => void) | undefined
  if (signal) {
    const handle = store.interruptHandle()
    onAbort = () => handle.interrupt()
    signal.addEventListener('abort', onAbort, { once: true })
  }
  try {
    consumed()
    const r = await start(args)
    // Aborted while the guest was paused in a host function, and it then finished: still aborted.
    if (signal?.aborted) throw signal.reason
    return r
  } catch (e) {
    throw signal?.aborted ? signal.reason : e
  } finally {
    if (onAbort) signal!.removeEventListener('abort', onAbort)
  }
}

/** The host function table entry for a JS function of this type (converting references). */
export function hostEntry(store: Store, type: FuncType, fn: HostFunction): HostFunction {
  const inConv = argsConv(store, type.params, convOut)
  const outConv = resultsConv(store, type.results, convIn)
  const withCaller = callerFn(fn)
  if (withCaller) fn = callerEntry(store, withCaller)
  if (!inConv && !outConv) return fn
  return (...args: unknown[]) => {
    const r = fn(...(inConv ? inConv(args) : args))
    return outConv ? outConv(r) : r
  }
}

/** Register `fn` as a host function of `store`; `module`/`name` name it for `Store.receive`. */
export function newHostFunc(store: Store, type: FuncType, fn: HostFunction, module: string, name: string): Func {
  return Func._wrap(store, hostFuncNative(store, type, fn, module, name), type)
}

function hostFuncNative(store: Store, type: FuncType, fn: HostFunction, module: string, name: string): Native.NativeFunc {
  const slot = store._fns.length
  store._fns.push(hostEntry(store, type, fn))
  try {
    return native.NativeFunc.host(store._native, slot, [...type.params], [...type.results], module, name)
  } catch (e) {
    store._fns.length = slot
    throw e
  }
}

/**
 * A wasm function: exported by an instance, or a JS host function with a declared type. `T` is
 * its type when known as a literal (`new Func(store, { params: ['i32'], results: ['i32'] }, fn)`
 * infers it): then `fn`, `call` and `callable` are typed by it (see `HostFunction`, `FuncSignature`).
 */
export class Func<const T extends FuncType = FuncType> {
  /** Marks the object as thread-affine (see `Store.transfer`). */
  readonly threadAffine: symbol = AFFINE
  /** @internal */
  readonly _native: Native.NativeFunc
  /** @internal */
  readonly _store: Store
  /** @internal */
  _type?: FuncType
  /** @internal */
  _callable?: ExportedFunction

  /**
   * A JS host function of the given type. `name` (`{ module, name }`) is what `Store.receive`
   * re-binds it by after a transfer; the default is `{ module: '', name: 'func<N>' }`.
   */
  constructor(store: Store, type: T, fn: HostFunction<T>, name: { module?: string; name?: string } = {}) {
    checkStore(store)
    const t = checkFuncType(type)
    if (typeof fn !== 'function') throw typeError('a host function must be a function')
    if (!name || typeof name !== 'object') throw typeError('name must be an object { module, name }')
    const module = name.module ?? ''
    const fname = name.name ?? `func${store._fns.length}`
    if (typeof module !== 'string' || typeof fname !== 'string') throw typeError('module and name must be strings')
    this._native = hostFuncNative(store, t, fn as HostFunction, module, fname)
    this._store = store
    this._type = t
  }

  /** @internal */
  static _wrap(store: Store, n: Native.NativeFunc, type?: FuncType): Func {
    const f = wrapAs(Func, { _native: n, _store: store }, true)
    if (type) f._type = type
    return f
  }

  get type(): T {
    return (this._type ??= frozenJson(this._native.typeJson())) as T
  }

  /** This function as a plain callable JS function (as found in `instance.exports`). */
  get callable(): ExportedFunction<FuncSignature<T>> {
    return (this._callable ??= makeCallable(this as Func)) as ExportedFunction<FuncSignature<T>>
  }

  /** Call with JS values; one result → value, several → array, none → undefined. */
  call(...args: Parameters<FuncSignature<T>>): ReturnType<FuncSignature<T>> {
    return (this.callable as ExportedFunction)(...args) as ReturnType<FuncSignature<T>>
  }

  /** `call` on another thread (see `ExportedFunction#callAsync`); `CallOptions` may follow the arguments. */
  callAsync(...args: Parameters<FuncSignature<T>> | [...Parameters<FuncSignature<T>>, CallOptions]): Promise<Awaited<ReturnType<FuncSignature<T>>>> {
    return (this.callable as ExportedFunction).callAsync(...args) as Promise<Awaited<ReturnType<FuncSignature<T>>>>
  }
}

