// Component resources as jco maps them: a guest resource (defined by a component and exported) is
// an instance of a JS class with its methods, static functions and `[Symbol.dispose]`; a host
// resource is an instance of the JS class given to `ComponentLinker.define` under the resource's
// UpperCamelCase name. Each store has one bridge (`store._fns.resources`) that the native
// conversions call (crate/call/component_resources.rs): it makes guest resource objects and keeps
// the table of host objects whose handles the guest holds.
import type { Store } from './store'
import { typeError } from './errors'

/** jco's class name for a WIT resource: `http-client` → `HttpClient`. */
export const pascal = (name: string): string => name.replace(/(^|-)([a-zA-Z0-9])/g, (_, _d: string, c: string) => c.toUpperCase())

/** WIT name of a resource class key: `HttpClient` → `http-client`. */
export const kebab = (name: string): string => name.replace(/[A-Z]/g, (c, i: number) => `${i ? '-' : ''}${c.toLowerCase()}`)

/**
 * The base class of guest resource objects (each exported resource is a subclass of it, made per
 * instance). `resource[Symbol.dispose]()` drops the handle now — the guest's destructor runs; a
 * resource passed as an `own<T>` argument is moved and its object spent. Either way, later uses
 * throw `StoreStateError` `ERR_RESOURCE_DROPPED`. A resource object collected without dispose is
 * dropped at its store's next component call.
 */
export class ComponentResource {
  /** Made by component calls (or the class's constructor, which calls the guest's). */
  protected constructor() {
    throw typeError('resource objects are made by component calls', 'ERR_ILLEGAL_CONSTRUCTOR')
  }

  [Symbol.dispose](): void {
    throw typeError('[Symbol.dispose] called on an object that is not a component resource', 'ERR_INVALID_THIS')
  }
}

type Class = abstract new (...args: never[]) => object

/** The store's side of component resources (see the file's header). */
export class ResourceBridge {
  /** Guest resource classes, by the class number the native side registered them under. */
  readonly #guestClasses: Class[] = []
  /** The class of guest resources no instance of this store exports (passed through imports). */
  #anonymous?: Class
  readonly #hostClasses = new Map<number, Class>()
  /**
   * Host objects whose handles the guest holds, by rep (0 is never used): how many owned handles
   * it has of each, and how many borrows lent for a call from JS are running.
   */
  readonly #table: (HostEntry | undefined)[] = [undefined]
  readonly #free: number[] = []
  readonly #reps = new WeakMap<object, number>()

  constructor(readonly store: Store) {}

  #anonymousClass(): Class {
    return (this.#anonymous ??= guestClass(this.store, 'resource'))
  }

  /** Register guest resource class number `id`. */
  setGuestClass(id: number, cls: Class): void {
    this.#guestClasses[id] = cls
  }

  setHostClass(typeId: number, cls: Class): void {
    this.#hostClasses.set(typeId, cls)
  }

  /** How many host objects the guest owns handles of (they cannot cross threads). */
  get held(): number {
    return this.#table.reduce((n, e) => n + (e && e.owned > 0 ? 1 : 0), 0)
  }

  // What the native conversions call: arrow functions, called without a receiver.

  /** A new, empty object of guest class `id` (the native side attaches the handle). */
  readonly guest = (id: number | undefined): object =>
    Object.create(((id === undefined ? undefined : this.#guestClasses[id]) ?? this.#anonymousClass()).prototype) as object

  /**
   * The rep of host object `obj` as a resource of type `typeId`, handed to the guest as an owned
   * handle or lent as a borrow (until `unlend`); -1 if it is not of its class.
   */
  readonly lower = (obj: unknown, typeId: number, owned: boolean): number => {
    const cls = this.#hostClasses.get(typeId)
    if (!cls || typeof obj !== 'object' || obj === null || !(obj instanceof cls)) return -1
    let rep = this.#reps.get(obj)
    if (rep === undefined) {
      rep = this.#free.pop() ?? this.#table.length
      this.#table[rep] = { obj, owned: 0, lent: 0 }
      this.#reps.set(obj, rep)
    }
    const e = this.#table[rep]!
    if (owned) e.owned++
    else e.lent++
    return rep
  }

  /** The host object of `rep`; an owned handle comes back to JS (the guest has one less). */
  readonly lift = (rep: number, owned: boolean): object => {
    const e = this.#table[rep]
    if (e === undefined) throw typeError(`unknown host resource ${rep}`, 'ERR_INTERNAL')
    if (owned) {
      e.owned--
      this.#maybeRelease(rep, e)
    }
    return e.obj
  }

  /** A borrow lent for a call from JS ended. */
  readonly unlend = (rep: number): void => {
    const e = this.#table[rep]
    if (e === undefined) return
    e.lent--
    this.#maybeRelease(rep, e)
  }

  /** The guest dropped its owned handle `rep`: the object's `[Symbol.dispose]()` runs, if it has one. */
  readonly hostDrop = (rep: number): void => {
    const e = this.#table[rep]
    if (e === undefined) return
    e.owned--
    this.#maybeRelease(rep, e)
    const dispose = (e.obj as { [Symbol.dispose]?: () => void })[Symbol.dispose]
    if (typeof dispose === 'function') dispose.call(e.obj)
  }

  #maybeRelease(rep: number, e: HostEntry): void {
    if (e.owned > 0 || e.lent > 0) return
    this.#table[rep] = undefined
    this.#reps.delete(e.obj)
    this.#free.push(rep)
  }
}

interface HostEntry { readonly obj: object; owned: number; lent: number }

/** The resource bridge of `store`, made on first use. */
export function resourceBridge(store: Store): ResourceBridge {
  const fns = store._fns as unknown as { resources?: ResourceBridge }
  return (fns.resources ??= new ResourceBridge(store))
}

/**
 * A class for guest resource `name` of `store`: its constructor calls the guest's
 * `[constructor]` (`construct`), when the resource has one.
 */
export function guestClass(store: Store, name: string, construct?: (args: unknown[]) => object): Class {
  const className = pascal(name)
  const cls = {
    [className]: class {
      constructor(...args: unknown[]) {
        if (!construct) throw typeError(`resource ${className} has no constructor: its objects come from the component's functions`, 'ERR_ILLEGAL_CONSTRUCTOR')
        // The object the guest's constructor made, of this class (the bridge's `guest`).
        return construct(args)
      }
    },
  }[className]!
  // `instanceof ComponentResource` without a super() call (the constructor returns another object).
  Object.setPrototypeOf(cls.prototype, ComponentResource.prototype)
  Object.setPrototypeOf(cls, ComponentResource)
  Object.defineProperty(cls.prototype, Symbol.dispose, {
    value: function dispose(this: object) {
      store._native.dropResource(store._fns, this)
    },
    writable: true,
    configurable: true,
  })
  return cls
}

/** Whether `key: value` of a `define` table is a host resource class (jco: `{ Logger: class … }`). */
export const isResourceClass = (key: string, value: unknown): value is Class =>
  typeof value === 'function' && /^[A-Z]/.test(key)

/**
 * The host functions of host resource class `cls`, by WIT name: `[constructor]name`, one
 * `[method]name.m` per prototype method, one `[static]name.f` per static function.
 */
export function hostResourceFunctions(name: string, cls: Class): [string, (...args: never[]) => unknown][] {
  const out: [string, (...args: never[]) => unknown][] = []
  const C = cls as unknown as new (...args: unknown[]) => object
  out.push([`[constructor]${name}`, (...args: unknown[]) => new C(...args)])
  const seen = new Set<string>()
  // Own and inherited methods (a subclass's override first), as `obj.method()` would find them.
  for (let proto = cls.prototype as object | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      const d = Object.getOwnPropertyDescriptor(proto, key)!
      if (key === 'constructor' || typeof d.value !== 'function' || seen.has(`m${key}`)) continue
      seen.add(`m${key}`)
      const m = d.value as (...args: unknown[]) => unknown
      out.push([`[method]${name}.${kebab(key)}`, (self: unknown, ...args: unknown[]) => m.apply(self, args)])
    }
  }
  for (let c = cls as object | null; c && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
    for (const key of Object.getOwnPropertyNames(c)) {
      const d = Object.getOwnPropertyDescriptor(c, key)!
      if (['length', 'name', 'prototype'].includes(key) || typeof d.value !== 'function' || seen.has(`s${key}`)) continue
      seen.add(`s${key}`)
      out.push([`[static]${name}.${kebab(key)}`, d.value as (...args: never[]) => unknown])
    }
  }
  return out
}
