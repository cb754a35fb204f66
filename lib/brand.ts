// A method or accessor called on something that is not an object of its class — an unbound method
// passed as a callback, `Memory.prototype.read.call({})` — throws TypeError ERR_INVALID_THIS
// naming it, as Node's own classes do, instead of failing inside with an uncoded TypeError.
import { typeError } from './errors'

/** A class, whatever its constructor's visibility. */
type Class = { readonly prototype: object; readonly name: string }

/** `fn` with a receiver check in front. */
function guarded(fn: (...args: unknown[]) => unknown, ok: (self: unknown) => boolean, what: string) {
  return {
    // A method shorthand: no `prototype`, not constructible — like the method it replaces.
    [fn.name](this: unknown, ...args: unknown[]): unknown {
      if (!ok(this)) throw typeError(`${what} called on an object that is not one (an unbound method?)`, 'ERR_INVALID_THIS')
      return fn.apply(this, args)
    },
  }[fn.name]!
}

/**
 * Guard every prototype method and accessor of `cls`. `field`: a property every real object of the
 * class has (its native state), so `Object.create(cls.prototype)` does not pass either.
 */
export function guardReceivers(cls: Class, field: string): void {
  const proto = cls.prototype
  const ok = (self: unknown) => typeof self === 'object' && self !== null && Object.prototype.isPrototypeOf.call(proto, self) && (self as Record<string, unknown>)[field] !== undefined
  for (const key of Object.getOwnPropertyNames(proto)) {
    if (key === 'constructor') continue
    const d = Object.getOwnPropertyDescriptor(proto, key)!
    const what = `${cls.name}.prototype.${key}`
    if (typeof d.value === 'function') d.value = guarded(d.value, ok, what)
    if (d.get) d.get = guarded(d.get, ok, what)
    if (d.set) d.set = guarded(d.set, ok, what)
    Object.defineProperty(proto, key, d)
  }
}
