import type { Native } from './native'
import { wrapAs, type Shared } from './wrap'
import { native } from './native'
import { LinkError, WasmtimeError, typeError } from './errors'
import { Store, checkStore } from './store'
import { Func, exportedCallable, funcOf, newHostFunc, type ExportedFunction } from './func'
import { Memory } from './memory'
import { Table } from './table'
import { Global } from './global'
import { Tag } from './tag'
import { SharedMemory } from './shared-memory'
import { Module, checkModule } from './module'
import { checkKeys, type FuncType, type HostFunction, type ImportType, type UntypedSignature } from './types'

export type ImportValue = HostFunction | Func | Memory | Table | Global | Tag | SharedMemory
export type Imports = Record<string, Record<string, ImportValue>>
export type ExportValue = ExportedFunction | Memory | Table | Global | Tag | SharedMemory
/** The exports of an instance whose exports' types are not declared. */
export type Exports = Record<string, ExportValue>

/**
 * What `E` of `Instance<E>` may declare for each export: a function's JS signature (typed
 * exactly as the user declares it: `(a: number, b: number) => number`), a `Memory`, a `Table`
 * or a `Global`.
 */
export type ExportShape<E> = { [K in keyof E]: UntypedSignature | Memory | Table | Global | Tag | SharedMemory }

/** An export as declared in `E`, as it is in `exports`: a declared signature becomes an `ExportedFunction` of it. */
export type ExportOf<V> = V extends UntypedSignature ? (V extends { readonly func: Func } ? V : ExportedFunction<V>) : V

/** `instance.exports` for the declared exports `E` (read-only). */
export type InstanceExports<E> = { readonly [K in keyof E]: ExportOf<E[K]> }

const utf8 = new TextEncoder()

/** The public wrapper of a native extern. */
export function wrapExtern(store: Store, n: unknown, type?: FuncType): ExportValue | null {
  if (n instanceof native.NativeFunc) return Func._wrap(store, n, type).callable
  if (n instanceof native.NativeMemory) return Memory._wrap(store, n)
  if (n instanceof native.NativeTable) return Table._wrap(store, n)
  if (n instanceof native.NativeGlobal) return Global._wrap(store, n)
  if (n instanceof native.NativeTag) return Tag._wrap(store, n)
  if (n instanceof native.NativeSharedMemory) return SharedMemory._wrap(n)
  return null
}

/** The native extern for an import value, checked against the import's kind. */
function importExtern(store: Store, imp: ImportType, v: unknown): unknown {
  const where = `"${imp.module}"."${imp.name}"`
  const kind = imp.type.kind
  if (v === undefined) throw new LinkError(`unknown import: ${where} (${kind}) was not provided`)
  if (kind === 'func') {
    const f = funcOf(v)
    if (f) return f._native
    if (typeof v === 'function') return newHostFunc(store, imp.type.type, v as HostFunction, imp.module, imp.name)._native
  } else if (kind === 'global' && (typeof v === 'number' || typeof v === 'bigint') && !imp.type.type.mutable) {
    return new Global(store, imp.type.type, v)._native
  } else if ((kind === 'memory' && v instanceof Memory) || (kind === 'table' && v instanceof Table) || (kind === 'global' && v instanceof Global) || (kind === 'tag' && v instanceof Tag) || (kind === 'memory' && v instanceof SharedMemory)) {
    return v._native
  }
  throw new LinkError(`import ${where} must be a ${kind}, got ${typeof v === 'object' ? (v === null ? 'null' : v.constructor?.name ?? 'an object') : typeof v}`)
}

function buildExports(store: Store, n: Native.NativeInstance, module?: Module): Record<string, ExportValue> {
  if (module) return LazyExports.make(store, n, module)
  const flat = n.exports(false) as unknown[]
  const exports: Record<string, ExportValue> = Object.create(null)
  for (let i = 0; i < flat.length; i += 2) {
    const w = wrapExtern(store, flat[i + 1])
    if (w) exports[flat[i] as string] = w
  }
  return Object.freeze(exports)
}

/**
 * The exports of an instance of a known module, each made on first use (a per-request instance
 * then pays only for the exports it uses: bench/instantiate.mjs). A frozen null-prototype object
 * like `WebAssembly.Instance#exports`, whose properties are getters shared by all instances of
 * the module (`plans`); the values are cached in the private state.
 */
class LazyExports {
  readonly #store: Store
  readonly #native: Native.NativeInstance
  readonly #values: Array<ExportValue | undefined>

  private constructor(store: Store, n: Native.NativeInstance, count: number) {
    this.#store = store
    this.#native = n
    this.#values = new Array(count)
  }

  static make(store: Store, n: Native.NativeInstance, module: Module): Record<string, ExportValue> {
    const plan = planOf(module)
    const o = new LazyExports(store, n, plan.names.length)
    Object.defineProperties(o, plan.descriptors)
    Object.setPrototypeOf(o, null)
    return Object.freeze(o) as unknown as Record<string, ExportValue>
  }

  /** Export `i` of `o`'s instance, made on first use. */
  static at(o: unknown, i: number, plan: ExportPlan): ExportValue {
    if (!(typeof o === 'object' && o !== null && #values in o)) throw typeError('an instance export getter was called on another object', 'ERR_INVALID_THIS')
    const e = o as LazyExports
    let v = e.#values[i]
    if (v === undefined) {
      const name = plan.names[i]!
      const type = plan.funcTypes.get(name)
      const n = e.#native.getExport(name, !!type)
      v = (type && n !== null ? exportedCallable(e.#store, e.#native, name, type, n) : wrapExtern(e.#store, n)) ?? undefined
      e.#values[i] = v
    }
    return v!
  }
}

/** What the lazy exports of a module's instances share. */
interface ExportPlan {
  names: string[]
  funcTypes: Map<string, FuncType>
  descriptors: PropertyDescriptorMap
}

const plans = new WeakMap<Module, ExportPlan>()

function planOf(module: Module): ExportPlan {
  let plan = plans.get(module)
  if (!plan) {
    const names = module.exports.map((e) => e.name)
    const descriptors: PropertyDescriptorMap = {}
    const p: ExportPlan = { names, funcTypes: module._exportFuncTypes(), descriptors }
    names.forEach((name, i) => {
      descriptors[name] = { enumerable: true, configurable: false, get(this: unknown) { return LazyExports.at(this, i, p) } }
    })
    plans.set(module, (plan = p))
  }
  return plan
}

/**
 * An instantiated module. `E` declares its exports' types, checked by nobody but you:
 * `new Instance<{ add(a: number, b: number): number; memory: Memory }>(store, module)` types
 * `instance.exports.add(1, 2)` as a number. Without it every export is an `ExportValue`, and a
 * function's result is `unknown`.
 */
export class Instance<E extends ExportShape<E> = Exports> {
  /** @internal */
  readonly _native!: Native.NativeInstance
  /** @internal */
  readonly _store!: Store
  /** The exports, like `WebAssembly.Instance#exports`: functions are callable JS functions. */
  readonly exports!: InstanceExports<E>

  /**
   * Instantiate `module` in `store`. `imports` is shaped like `WebAssembly.instantiate`'s:
   * `{ module: { name: value } }`; a plain JS function takes its type from the import.
   * Throws `LinkError` for missing or mismatched imports, `Trap` if the start function traps.
   */
  constructor(store: Store, module: Module | Shared<'Module'>, imports?: Imports) {
    checkStore(store)
    module = checkModule(module)
    if (imports !== undefined && (imports === null || typeof imports !== 'object')) throw typeError('imports must be an object')
    const externs = module.imports.map((imp) => {
      const ns = imports?.[imp.module]
      if (ns === undefined || ns === null) throw new LinkError(`unknown import: "${imp.module}"."${imp.name}" (${imp.type.kind}): no import object "${imp.module}"`)
      if (typeof ns !== 'object' && typeof ns !== 'function') throw new LinkError(`import object "${imp.module}" must be an object`)
      return importExtern(store, imp, (ns as Record<string, unknown>)[imp.name])
    })
    return Instance._wrap<E>(store, store._native.instantiate(module._native, externs, store._fns), module)
  }

  /** @internal */
  static _wrap<E extends ExportShape<E> = Exports>(store: Store, n: Native.NativeInstance, module?: Module): Instance<E> {
    return wrapAs(Instance, { _native: n, _store: store, exports: buildExports(store, n, module) }, true) as Instance<E>
  }

  /** The exported function `name`, or null. */
  getFunc(name: string): Func | null {
    const e = (this.exports as Readonly<Exports>)[name]
    return typeof e === 'function' ? e.func : null
  }

  /** The exported memory `name`, or null. */
  getMemory(name: string): Memory | null {
    const e = (this.exports as Readonly<Exports>)[name]
    return e instanceof Memory ? e : null
  }

  getTable(name: string): Table | null {
    const e = (this.exports as Readonly<Exports>)[name]
    return e instanceof Table ? e : null
  }

  getGlobal(name: string): Global | null {
    const e = (this.exports as Readonly<Exports>)[name]
    return e instanceof Global ? e : null
  }

  /**
   * Copy `bytes` into guest memory allocated by the guest's own allocator, for passing to an
   * export as (ptr, len): `const { ptr, len } = instance.passBytes(data)`. `alloc` names the
   * allocator export — `cabi_realloc(0, 0, align, size)` (the component model's, exported by
   * wit-bindgen and most toolchains: the default) or a `malloc(size)`-like one — and `memory`
   * the memory export. The guest owns the allocation (free it through the guest as it expects).
   */
  passBytes(bytes: ArrayBufferView | ArrayBuffer, opts: PassOptions = {}): { ptr: number; len: number } {
    if (!ArrayBuffer.isView(bytes) && !(bytes instanceof ArrayBuffer)) throw typeError('bytes must be an ArrayBuffer or an ArrayBufferView')
    const len = bytes.byteLength
    const { memory, alloc } = allocatorOf(this, opts)
    const ptr = alloc(len)
    memory.write(ptr, bytes)
    return { ptr, len }
  }

  /** `passBytes` for a string, as UTF-8: `len` is its length in bytes. */
  passString(text: string, opts: PassOptions = {}): { ptr: number; len: number } {
    if (typeof text !== 'string') throw typeError('text must be a string')
    return this.passBytes(utf8.encode(text), opts)
  }
}

/** Options of `passBytes`/`passString`. */
export interface PassOptions {
  /** The allocator export: `cabi_realloc` (default) or a `(size) -> ptr` function such as `malloc`. */
  alloc?: string
  /** The memory export (default `memory`). */
  memory?: string
}

interface Allocator {
  memory: Memory
  alloc: (size: number) => number
}

/** Allocators resolved per instance and (alloc, memory) names: resolved once, used per call. */
const allocators = new WeakMap<Instance<object>, Map<string, Allocator> & { last?: [string, string, Allocator] }>()

/** The memory and a `(size) => ptr` allocation through the guest's allocator export. */
function allocatorOf(inst: Instance<object>, opts: PassOptions): Allocator {
  if (!opts || typeof opts !== 'object') throw typeError('options must be an object')
  for (const k in opts) if (k !== 'alloc' && k !== 'memory') checkKeys(opts, ['alloc', 'memory'], 'passBytes')
  const allocName = opts.alloc ?? 'cabi_realloc'
  const memName = opts.memory ?? 'memory'
  if (typeof allocName !== 'string' || typeof memName !== 'string') throw typeError('alloc and memory must be export names (strings)')
  let byName = allocators.get(inst)
  if (!byName) allocators.set(inst, (byName = new Map()))
  // The same names as last time (the usual case) need no lookup.
  const last = byName.last
  if (last && last[0] === allocName && last[1] === memName) return last[2]
  const key = `${allocName}\0${memName}`
  let a = byName.get(key)
  if (!a) byName.set(key, (a = resolveAllocator(inst, allocName, memName)))
  byName.last = [allocName, memName, a]
  return a
}

function resolveAllocator(inst: Instance<object>, allocName: string, memName: string): Allocator {
  const memory = inst.getMemory(memName)
  if (!memory) throw typeError(`the instance exports no memory "${memName}"`, 'ERR_INVALID_ARG_VALUE')
  const fn = (inst.exports as Readonly<Exports>)[allocName]
  if (typeof fn !== 'function') throw typeError(`the instance exports no function "${allocName}" to allocate with`, 'ERR_INVALID_ARG_VALUE')
  const { params, results } = fn.type
  const i32 = (ts: readonly string[]) => ts.every((t) => t === 'i32')
  let call: (size: number) => unknown
  if (params.length === 4 && results.length === 1 && i32(params) && i32(results)) call = (size) => fn(0, 0, 1, size)
  else if (params.length === 1 && results.length === 1 && i32(params) && i32(results)) call = (size) => fn(size)
  else throw typeError(`"${allocName}" must be (i32) -> i32 like malloc, or (i32, i32, i32, i32) -> i32 like cabi_realloc`, 'ERR_INVALID_ARG_VALUE')
  const alloc = (size: number) => {
    const ptr = (call(size) as number) >>> 0
    // 0 is NULL for both conventions (an empty request may legitimately get any pointer).
    if (ptr === 0 && size > 0) throw new WasmtimeError(`the guest's allocator "${allocName}" returned NULL for ${size} bytes`, 'ERR_GUEST_ALLOC')
    return ptr
  }
  return { memory, alloc }
}
