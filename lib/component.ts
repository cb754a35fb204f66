// The component model: `Component` (compiled, shareable like `Module`), `ComponentLinker` (host
// interfaces by full WIT name, WASI 0.2) and `ComponentInstance` (its exports as JS functions).
// WIT values map to JS exactly as jco's transpiled bindings map them (crate/call/component_values.rs).
import { native, type Native } from './native'
import { AFFINE, SHAREABLE, isToken, token, wrapAs, type Shared } from './wrap'
import { Engine, checkEngine } from './engine'
import { ComponentError, typeError } from './errors'
import { Store, bindLinkerFns, checkStore } from './store'
import type { HostFunction } from './types'
import { frozenJson } from './types'
import type { BufferSource } from './module'
import { callerEntry, callerFn } from './caller'
import { queueAsync } from './func'
import { guestClass, hostResourceFunctions, isResourceClass, kebab, pascal, resourceBridge } from './component-resources'

/** A WIT type, spelled as in WIT: `u32`, `list<u8>`, `record { a: u32 }`, `option<string>`… */
export type WitType = string

/** What a component imports or exports, as plain data. */
export type ComponentItemType =
  | { readonly kind: 'func'; readonly params: readonly { readonly name: string; readonly type: WitType }[]; readonly result: WitType | null }
  | { readonly kind: 'instance'; readonly exports: readonly ComponentItem[] }
  | { readonly kind: 'type'; readonly type: WitType }
  | { readonly kind: 'resource' | 'core-func' | 'module' | 'component' }

export interface ComponentItem { readonly name: string; readonly type: ComponentItemType }

function checkSource(bytes: unknown): BufferSource | string {
  if (typeof bytes === 'string' || ArrayBuffer.isView(bytes) || bytes instanceof ArrayBuffer) return bytes as BufferSource | string
  throw typeError('expected component bytes (an ArrayBuffer or a typed array) or component WAT text (a string)')
}

/** A compiled component. Shareable: usable from any store of its engine, in any worker. */
export class Component {
  /** Makes `postMessage(component)` throw a DataCloneError that says to post `component.share()`. */
  readonly shareable: symbol = SHAREABLE
  /** @internal */
  readonly _native!: Native.NativeComponent
  readonly engine!: Engine
  /** @internal (not `#private`: `_wrap` makes components without running the constructor) */
  _imports?: readonly ComponentItem[]
  /** @internal */
  _exports?: readonly ComponentItem[]

  /** Compile a component's binary, or its text format given as a string. Throws `CompileError`. */
  constructor(engine: Engine | Shared<'Engine'> | undefined, source: BufferSource | string) {
    this.engine = engine === undefined ? Engine.default : checkEngine(engine)
    this._native = new native.NativeComponent(this.engine._native, checkSource(source))
  }

  /** @internal */
  static _wrap(n: Native.NativeComponent, engine: Engine): Component {
    return wrapAs(Component, { _native: n, engine }, 'shareable')
  }

  /** Compile off the JS thread. */
  static compile(engine: Engine | Shared<'Engine'> | undefined, source: BufferSource | string): Promise<Component> {
    try {
      const e = engine === undefined ? Engine.default : checkEngine(engine)
      return native.NativeComponent.compileAsync(e._native, checkSource(source)).then((n) => Component._wrap(n as Native.NativeComponent, e))
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** The component's imports: `{ name, type }` plain data (interfaces by full WIT name). */
  get imports(): readonly ComponentItem[] {
    return (this._imports ??= frozenJson(this._native.importsJson()))
  }

  get exports(): readonly ComponentItem[] {
    return (this._exports ??= frozenJson(this._native.exportsJson()))
  }

  /** A token for `Component.fromShared` in another worker: O(1), no copy, no recompilation. */
  share(): Shared<'Component'> {
    return token('Component', this._native.share())
  }

  static fromShared(t: Shared<'Component'>): Component {
    if (!isToken(t, 'Component')) throw typeError('expected a shared Component token ({ kind: "Component", id })')
    const n = native.NativeComponent.fromShared(t.id)
    return Component._wrap(n, Engine._wrap(n.engine()))
  }

  /** The compiled code, loadable with `Component.deserialize` by a compatible engine. */
  serialize(): Uint8Array {
    return this._native.serialize()
  }

  /** Load compiled code made by `serialize()`: machine code that runs as it is, hence `{ trusted: true }`. */
  static deserialize(engine: Engine | Shared<'Engine'>, bytes: BufferSource, opts: { trusted: true }): Component {
    const e = checkEngine(engine)
    if (!opts || typeof opts !== 'object' || opts.trusted !== true) {
      throw typeError('Component.deserialize runs the bytes as machine code: pass { trusted: true } to confirm they come from serialize() of your own', 'ERR_INVALID_ARG_VALUE')
    }
    if (!(ArrayBuffer.isView(bytes) || bytes instanceof ArrayBuffer)) throw typeError('bytes must be an ArrayBuffer or a typed array')
    return Component._wrap(native.NativeComponent.deserialize(e._native, bytes), e)
  }
}

/** The component given (a Component or a shared Component token), or a TypeError. */
export function checkComponent(c: unknown): Component {
  if (c instanceof Component) return c
  if (isToken(c, 'Component')) return Component.fromShared(c)
  throw typeError('component must be a Component or a shared Component token')
}

/** Whether `bytes` hold a component (rather than a core module): the binary's layer/version. */
export function isComponentBinary(bytes: unknown): boolean {
  if (!(ArrayBuffer.isView(bytes) || bytes instanceof ArrayBuffer)) return false
  const b = ArrayBuffer.isView(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : new Uint8Array(bytes)
  return b.length >= 8 && b[0] === 0 && b[1] === 0x61 && b[2] === 0x73 && b[3] === 0x6d && b[6] === 1 && b[7] === 0
}

/** jco's name for a WIT identifier in JS: kebab-case to lowerCamelCase. */
export const camel = (name: string): string => name.replace(/-([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase())

/** The short name of an interface (`acme:plugin/api@0.1.0` → `api`), camelCased: jco's export name. */
const ifaceAlias = (name: string): string => camel(name.replace(/@.*$/, '').replace(/^.*\//, ''))

type HostFn = (...args: never[]) => unknown

/**
 * Resolves a component's imports: host functions in interfaces (by full WIT name) or at the root,
 * and WASI 0.2. Holds JS functions, so it is thread-affine: build one per worker (cheap).
 */
export class ComponentLinker {
  readonly threadAffine: symbol = AFFINE
  /** @internal */
  readonly _native: Native.NativeComponentLinker
  readonly engine: Engine
  #fns: HostFn[] = []
  /** Host resource types: (type id, class). */
  #resources: [number, abstract new (...args: never[]) => object][] = []

  constructor(engine?: Engine | Shared<'Engine'>) {
    this.engine = engine === undefined ? Engine.default : checkEngine(engine)
    this._native = new native.NativeComponentLinker(this.engine._native)
  }

  /**
   * Define host functions: `define('acme:plugin/host@0.1.0', { log(msg) {…} })` for an imported
   * interface, `define({ log })` for root-level imports. Keys are WIT names (`do-thing`); the
   * camelCase form (`doThing`) is accepted too. A function implementing an import that returns
   * `result<T, E>` returns T, or throws a `ComponentError(payload)` for `err(payload)`. A function
   * wrapped with `withCaller` gets the calling store and its data (`caller.exports` is empty: a
   * component does not expose its core exports).
   */
  define(iface: string | Record<string, HostFn>, fns?: Record<string, HostFn>): this {
    const [name, table] = typeof iface === 'string' ? [iface, fns] : ['', iface]
    if (!table || typeof table !== 'object') throw typeError('define expects an object of functions')
    for (const [key, fn] of Object.entries(table)) {
      if (typeof fn !== 'function') throw typeError(`${name ? `${name}.` : ''}${key} must be a function (or a class, for a resource)`)
      if (isResourceClass(key, fn)) {
        const wit = kebab(key)
        this.#resources.push([this._native.resource(name, wit), fn])
        for (const [fname, f] of hostResourceFunctions(wit, fn)) this.#func(name, fname, f)
      } else {
        this.#func(name, key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), fn)
      }
    }
    return this
  }

  #func(iface: string, wit: string, fn: HostFn): void {
    this._native.func(iface, wit)
    this.#fns.push(fn)
  }

  /** Define WASI 0.2 (`wasi:cli`, `wasi:filesystem`, `wasi:clocks`, …), configured by the store's `wasi` option. */
  defineWasi(): this {
    this._native.defineWasi()
    return this
  }

  /**
   * Instantiate `component` in `store`. Throws `LinkError` for imports it does not define. `E`
   * declares the exports' types (as jco's generated `.d.ts` would), unchecked at run time.
   */
  instantiate<E extends object = ComponentExports>(store: Store, component: Component | Shared<'Component'>): ComponentInstance<E> {
    checkStore(store)
    const c = checkComponent(component)
    this.#bind(store)
    return ComponentInstance._make<E>(store, this._native.instantiate(store._native, c._native, store._fns))
  }

  /**
   * Resolve `component`'s imports once (wasmtime's `InstancePre`): each `pre.instantiate(store)`
   * then skips name resolution and type checks. Throws `LinkError` now if an import is missing.
   */
  instantiatePre<E extends object = ComponentExports>(component: Component | Shared<'Component'>): ComponentInstancePre<E> {
    const c = checkComponent(component)
    return wrapAs(ComponentInstancePre as unknown as abstract new () => ComponentInstancePre<E>, { linker: this, component: c, _native: this._native.instantiatePre(c._native) }, true)
  }

  /** @internal Bind this linker's host functions into `store`. */
  _bind(store: Store): void {
    this.#bind(store)
  }

  /** @internal Run a `wasi:cli/command` component; true when `run` returned ok. */
  _runCommand(store: Store, component: Component): boolean {
    this.#bind(store)
    return this._native.runCommand(store._native, component._native, store._fns)
  }

  #bind(store: Store): void {
    if (this.#resources.length) {
      const bridge = resourceBridge(store)
      for (const [id, cls] of this.#resources) bridge.setHostClass(id, cls)
    }
    bindLinkerFns(store, this._native.id, this.#fns.length, (from) => this._native.bind(store._native, from), (i) => componentEntry(store, this.#fns[i]!))
  }

}

/** @internal The host-function table entry of a component's JS host function. */
export function componentEntry(store: Store, fn: HostFn): HostFunction {
  const withCaller = callerFn(fn)
  return (withCaller ? callerEntry(store, withCaller) : fn) as HostFunction
}

/**
 * @internal For `Store.receive`: the JS function that implements component import `name` of
 * `iface` ("" at the root), found in `imports[iface]` by WIT or camelCase name — for a resource's
 * constructor, method or static function, in its class there (`Logger`) — or a message saying
 * what is missing.
 */
export function receivedComponentFunction(imports: Readonly<Record<string, Readonly<Record<string, unknown>>>>, iface: string, name: string): HostFn | string {
  const table = imports[iface] ?? {}
  const where = iface ? `"${iface}"` : 'the root ("")'
  const m = /^\[(constructor|method|static)\]([^.]+)/.exec(name)
  if (m) {
    const cls = table[pascal(m[2]!)]
    if (typeof cls !== 'function') return `missing class ${pascal(m[2]!)} of ${where} (resource ${m[2]})`
    const fn = hostResourceFunctions(m[2]!, cls as abstract new () => object).find(([n]) => n === name)?.[1]
    return fn ?? `missing ${name} in class ${pascal(m[2]!)} of ${where}`
  }
  const fn = table[name] ?? table[camel(name)]
  return typeof fn === 'function' ? (fn as HostFn) : `missing ${name} of ${where}`
}

/** A component with its imports resolved by a `ComponentLinker`, ready to instantiate repeatedly. */
export class ComponentInstancePre<E extends object = ComponentExports> {
  readonly threadAffine!: symbol
  readonly linker!: ComponentLinker
  readonly component!: Component
  /** @internal */
  readonly _native!: Native.NativeComponentInstancePre

  /** Made by `linker.instantiatePre(component)`. */
  protected constructor() {}

  /** A new instance in `store`. */
  instantiate(store: Store): ComponentInstance<E> {
    checkStore(store)
    this.linker._bind(store)
    return ComponentInstance._make<E>(store, this._native.instantiate(store._native, store._fns))
  }
}

/** A function's own `result<T, E>`: T returned, or E thrown as a `ComponentError` (jco's convention). */
function unwrapResult(r: unknown): unknown {
  const { tag, val } = r as { tag: 'ok' | 'err'; val?: unknown }
  if (tag === 'err') throw new ComponentError(val)
  return val
}

/** Untyped component exports: functions and interfaces (objects of functions) by name. */
export type ComponentExports = Readonly<Record<string, unknown>>

/** An instantiated component. `E` is the exports' declared type. */
export class ComponentInstance<E extends object = ComponentExports> {
  readonly threadAffine!: symbol
  /** @internal */
  readonly _native!: Native.NativeComponentInstance
  /** @internal */
  readonly _store!: Store
  /**
   * Root functions under their WIT name and camelCase alias; exported interfaces as objects of
   * functions under their full WIT name and the camelCase alias of their short name.
   */
  readonly exports!: Readonly<E>

  /** @internal */
  static _make<E extends object>(store: Store, n: Native.NativeComponentInstance): ComponentInstance<E> {
    const out: Record<string, unknown> = Object.create(null)
    const scope = (iface: string): Record<string, unknown> => {
      if (!iface) return out
      const target = (out[iface] ??= Object.create(null)) as Record<string, unknown>
      out[ifaceAlias(iface)] ??= target
      return target
    }
    const call = (index: number, returnsResult: boolean) => (args: unknown[]) => {
      const r = n.call(store._fns, index, args)
      return returnsResult ? unwrapResult(r) : r
    }
    const callAsync = (index: number, f: Native.ComponentExportFunc) => (...args: unknown[]) =>
      queueAsync(store, args, f.params, (got) => typeError(`expected ${f.params} argument(s), got ${got}`, 'ERR_INVALID_ARG_COUNT'), null,
        (a) => n.callAsync(store._fns, index, a) as Promise<unknown>, f.returnsResult ? unwrapResult : null)
    const functions = n.functions()
    const resources = n.resources()
    const classes = new Map<string, Record<string, unknown>>()
    if (resources.length) {
      const bridge = resourceBridge(store)
      for (const r of resources) {
        const ctor = functions.findIndex((f) => f.iface === r.iface && f.name === `[constructor]${r.name}`)
        const cls = guestClass(store, r.name, ctor < 0 ? undefined : (call(ctor, functions[ctor]!.returnsResult) as (a: unknown[]) => object))
        bridge.setGuestClass(r.classId, cls)
        classes.set(`${r.iface}#${r.name}`, cls as unknown as Record<string, unknown>)
        scope(r.iface)[pascal(r.name)] = cls
      }
    }
    functions.forEach((f, index) => {
      const invoke = call(index, f.returnsResult)
      const m = /^\[(constructor|method|static)\]([^.]+)(?:\.(.+))?$/.exec(f.name)
      if (m) {
        const cls = classes.get(`${f.iface}#${m[2]}`)
        if (!cls || !m[3]) return
        const name = camel(m[3])
        if (m[1] === 'method') {
          const method = { [name](this: unknown, ...args: unknown[]) {
            if (!(this instanceof (cls as unknown as abstract new () => object))) throw typeError(`${pascal(m[2]!)}.prototype.${name} called on an object that is not one (an unbound method?)`, 'ERR_INVALID_THIS')
            return invoke([this, ...args])
          } }[name]
          Object.defineProperty(cls.prototype, name, { value: method, writable: true, configurable: true })
        } else {
          Object.defineProperty(cls, name, { value: { [name]: (...args: unknown[]) => invoke(args) }[name], writable: true, configurable: true })
        }
        return
      }
      const fn = Object.assign((...args: unknown[]) => invoke(args), { callAsync: callAsync(index, f) })
      Object.defineProperty(fn, 'name', { value: camel(f.name) })
      const target = scope(f.iface)
      target[f.name] = fn
      target[camel(f.name)] ??= fn
    })
    for (const v of Object.values(out)) if (typeof v === 'object') Object.freeze(v)
    return wrapAs(ComponentInstance as unknown as abstract new () => ComponentInstance<E>, { threadAffine: AFFINE, _native: n, _store: store, exports: Object.freeze(out) })
  }
}

