import type { Native } from './native'
import { native } from './native'
import { LinkError, StoreStateError, typeError } from './errors'
import { Engine, checkEngine } from './engine'
import { Store, bindLinkerFns, checkStore } from './store'
import { Func, funcIn, funcOf, hostEntry } from './func'
import { Memory } from './memory'
import { Table } from './table'
import { Global } from './global'
import { Tag } from './tag'
import { SharedMemory } from './shared-memory'
import { Instance, type ExportShape, type Exports } from './instance'
import { Module, checkModule } from './module'
import { checkFuncType, checkKeys, checkObject, type FuncType, type HostFunction } from './types'
import { withCaller, type Caller } from './caller'
import { AFFINE, wrapAs, type Shared } from './wrap'

function checkName(v: unknown, what: string): string {
  if (typeof v !== 'string') throw typeError(`${what} must be a string`)
  return v
}

function nativeItem(item: unknown): unknown {
  if (funcOf(item)) return funcIn(item)
  if (item instanceof Memory || item instanceof Table || item instanceof Global || item instanceof Tag || item instanceof SharedMemory) return item._native
  throw typeError('item must be a Func, an exported function, a Memory, a Table, a Global, a Tag or a SharedMemory')
}

/**
 * Resolves imports by name. Holds JS host functions, so it is thread-affine: build one per
 * worker (cheap). Host functions defined with `func` work with any store of the engine;
 * items defined with `define`/`defineInstance` belong to the store they were defined with.
 */
export class Linker {
  /** Marks the linker as thread-affine: it holds JS functions; build one per worker. */
  readonly threadAffine: symbol = AFFINE
  /** @internal */
  readonly _native: Native.NativeLinker
  readonly engine: Engine
  #fns: { type: FuncType; fn: HostFunction }[] = []
  #allowShadowing = false
  /** The store of the items defined with `define`/`defineInstance` (they belong to it). */
  #store?: Store

  constructor(engine?: Engine | Shared<'Engine'>) {
    this.engine = engine === undefined ? Engine.default : checkEngine(engine)
    this._native = new native.NativeLinker(this.engine._native)
  }

  /** Whether a later definition of the same name replaces the earlier one (else LinkError). */
  get allowShadowing(): boolean {
    return this.#allowShadowing
  }

  set allowShadowing(v: boolean) {
    if (typeof v !== 'boolean') throw typeError('allowShadowing must be a boolean')
    this._native.setAllowShadowing(v)
    this.#allowShadowing = v
  }

  /**
   * Define WASI preview 1 (`wasi_snapshot_preview1`). Each store instantiated through this
   * linker uses its own WASI context (`new Store(engine, { wasi })`; a store without one gets
   * an empty context: no args, no env, no files, output dropped). A reactor's `_initialize`
   * is not called for you: call it before other exports.
   */
  defineWasi(): this {
    this._native.defineWasi()
    return this
  }

  /**
   * Define a JS host function `module`.`name` of the given type. A literal `type` types `fn`
   * (see `HostFunction`): `func('env', 'add', { params: ['i32', 'i32'], results: ['i32'] }, (a, b) => a + b)`.
   * With `{ caller: true }` wasm calls it as `fn(caller, ...args)` (see `Caller`, `withCaller`).
   */
  func<const T extends FuncType>(module: string, name: string, type: T, fn: HostFunction<T>, options?: { caller?: false }): this
  func<const T extends FuncType, D = unknown, E extends ExportShape<E> = Exports>(
    module: string, name: string, type: T, fn: (caller: Caller<D, E>, ...args: Parameters<HostFunction<T>>) => ReturnType<HostFunction<T>>, options: { caller: true },
  ): this
  func(module: string, name: string, type: FuncType, fn: (...args: never[]) => unknown, options: { caller?: boolean } = {}): this {
    checkName(module, 'module')
    checkName(name, 'name')
    const t = checkFuncType(type)
    if (typeof fn !== 'function') throw typeError('a host function must be a function')
    checkKeys(checkObject(options, 'options'), ['caller'], 'linker.func options')
    if (options.caller !== undefined && typeof options.caller !== 'boolean') throw typeError('options.caller must be a boolean')
    this._native.func(module, name, [...t.params], [...t.results])
    const host = (options.caller ? withCaller(fn as (caller: Caller, ...args: unknown[]) => unknown) : fn) as HostFunction
    this.#fns.push({ type: t, fn: host })
    return this
  }

  /** Define a store object under `module`.`name`. */
  define(store: Store, module: string, name: string, item: Func | Memory | Table | Global | Tag | SharedMemory): this {
    this.#sameEngine(checkStore(store))
    this.#useStore(store)
    this._native.define(store._native, checkName(module, 'module'), checkName(name, 'name'), nativeItem(item))
    return this
  }

  /** Define every export of `instance` under module name `name`. */
  defineInstance(store: Store, name: string, instance: Instance<object>): this {
    this.#sameEngine(checkStore(store))
    this.#useStore(store)
    if (!(instance instanceof Instance)) throw typeError('instance must be an Instance')
    this._native.defineInstance(store._native, checkName(name, 'name'), instance._native)
    return this
  }

  /**
   * Instantiate `module` in `store`, resolving its imports from this linker. `E` declares the
   * exports' types, as for `new Instance<E>(…)`.
   */
  instantiate<E extends ExportShape<E> = Exports>(store: Store, module: Module | Shared<'Module'>): Instance<E> {
    checkStore(store)
    module = checkModule(module)
    if (this.#store && this.#store !== store) {
      throw new StoreStateError('this linker holds items of another store (defined with define/defineInstance)', 'ERR_WRONG_STORE')
    }
    this.#bind(store)
    return Instance._wrap<E>(store, this._native.instantiate(store._native, module._native, store._fns), module)
  }

  /**
   * Resolve the imports once for many instantiations of `module` (wasmtime's `InstancePre`):
   * each `pre.instantiate(store)` then skips name resolution and type checks. Throws
   * `LinkError` now if an import is missing. Later definitions in this linker do not affect it.
   * `E` declares the exports' types of the instances it makes, as for `new Instance<E>(…)`.
   */
  instantiatePre<E extends ExportShape<E> = Exports>(module: Module | Shared<'Module'>): InstancePre<E> {
    const m = checkModule(module)
    const fields = { linker: this, module: m, _native: this._native.instantiatePre(m._native), _store: this.#store, _fnCount: this.#fns.length }
    return wrapAs(InstancePre as unknown as abstract new () => InstancePre<E>, fields, true)
  }

  /** @internal Bind this linker's host functions into `store` (see `#bind`). */
  _bind(store: Store): void {
    this.#bind(store)
  }

  #sameEngine(store: Store): void {
    if (!store.engine._native.same(this.engine._native)) throw new LinkError('the store belongs to another engine than the linker')
  }

  #useStore(store: Store): void {
    checkStore(store)
    if (this.#store && this.#store !== store) {
      throw new StoreStateError('this linker already holds items of another store', 'ERR_WRONG_STORE')
    }
    this.#store = store
  }

  /** Put this linker's host functions not yet known to `store` into its host-function table. */
  #bind(store: Store): void {
    bindLinkerFns(store, this._native.id, this.#fns.length, (from) => this._native.bind(store._native, from), (i) => hostEntry(store, this.#fns[i]!.type, this.#fns[i]!.fn))
  }

}

/**
 * A module with its imports resolved by a linker, ready to instantiate repeatedly. `E` is the
 * exports' types of its instances (`linker.instantiatePre<E>(module)`).
 */
export class InstancePre<E extends ExportShape<E> = Exports> {
  /** The linker that resolved the imports. */
  readonly linker!: Linker
  /** The module it instantiates. */
  readonly module!: Module
  /** @internal */
  readonly _native!: Native.NativeInstancePre
  /** @internal The store that owns items the linker had defined (only it can instantiate). */
  readonly _store!: Store | undefined
  /** @internal */
  readonly _fnCount!: number

  /** Made by `linker.instantiatePre(module)`. */
  protected constructor() {}

  /** A new instance in `store`. */
  instantiate(store: Store): Instance<E> {
    checkStore(store)
    if (this._store && this._store !== store) {
      throw new StoreStateError('this InstancePre uses items of another store (defined with define/defineInstance)', 'ERR_WRONG_STORE')
    }
    if ((store._linkerBound.get(this.linker._native.id) ?? 0) < this._fnCount) this.linker._bind(store)
    return Instance._wrap<E>(store, this._native.instantiate(store._native, store._fns), this.module)
  }
}
