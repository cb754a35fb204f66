// Small helpers shared by the ava tests. Everything comes from the package's public build.
import type { ExecutionContext } from 'ava'
import { Global, Instance, Memory, Table } from '../../dist/index.js'
import type { ExportedFunction, UntypedSignature } from '../../dist/index.js'

/**
 * The exported function `name` of `instance`, failing loudly when it is missing or not a
 * function. `F` declares its signature (`fn<(x: number) => number>(instance, 'double')`).
 */
export function fn<F extends UntypedSignature = UntypedSignature>(instance: Instance<object>, name: string): ExportedFunction<F> {
  const f = (instance.exports as Record<string, unknown>)[name]
  if (typeof f !== 'function') throw new Error(`export ${JSON.stringify(name)} is not a function (got ${typeof f})`)
  return f as ExportedFunction<F>
}

export function mem(instance: Instance, name = 'memory'): Memory {
  const m = (instance.exports as Record<string, unknown>)[name]
  if (!(m instanceof Memory)) throw new Error(`export ${JSON.stringify(name)} is not a Memory`)
  return m
}

export function table(instance: Instance, name: string): Table {
  const x = (instance.exports as Record<string, unknown>)[name]
  if (!(x instanceof Table)) throw new Error(`export ${JSON.stringify(name)} is not a Table`)
  return x
}

export function global(instance: Instance, name: string): Global {
  const x = (instance.exports as Record<string, unknown>)[name]
  if (!(x instanceof Global)) throw new Error(`export ${JSON.stringify(name)} is not a Global`)
  return x
}

/** True when `value` and everything reachable from it through own properties is frozen. */
export function deepFrozen(value: unknown, seen = new Set<unknown>()): boolean {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return true
  if (seen.has(value)) return true
  seen.add(value)
  if (!Object.isFrozen(value)) return false
  return Reflect.ownKeys(value as object).every((k) => deepFrozen((value as any)[k], seen))
}

/** True when `value` and every nested object are plain objects / arrays (no class instances). */
export function plainData(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return typeof value !== 'function' && typeof value !== 'symbol'
  if (Array.isArray(value)) return value.every(plainData)
  if (Object.getPrototypeOf(value) !== Object.prototype) return false
  return Object.values(value as object).every(plainData)
}

/**
 * A memory/table type with its `false`/`undefined`/`null` optional fields dropped, so that
 * `{minimum: 1, maximum: 2, shared: false, memory64: false}` compares equal to `{minimum: 1, maximum: 2}`.
 */
export function normType(type: object): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(type)) if (v !== false && v !== undefined && v !== null) out[k] = v
  return out
}

/**
 * Asserts that `f` throws a `TypeError` carrying a Node-style `code` (a string starting with `ERR_`).
 * Used where the contract fixes the class but not the exact code.
 */
export function throwsTypeError(t: ExecutionContext, f: () => unknown, label?: string): void {
  const e = t.throws(f, { instanceOf: TypeError }, label) as (TypeError & { code?: unknown }) | undefined
  if (e) t.regex(String(e.code), /^ERR_[A-Z_]+$/, `${label ?? 'TypeError'}: code ${String(e.code)}`)
}

/** Asserts that `f` throws an `Error` with some string `code` (class and code not fixed by the contract). */
export function throwsCoded(t: ExecutionContext, f: () => unknown, label?: string): Error & { code: string } {
  const e = t.throws(f, { instanceOf: Error }, label) as (Error & { code: string }) | undefined
  if (e) {
    t.is(typeof e.code, 'string', `${label ?? 'error'}: code should be a string, got ${String(e.code)}`)
    t.true(e.code.length > 0, `${label ?? 'error'}: code should not be empty`)
  }
  return e as Error & { code: string }
}

/** Bytes of a little-endian i32x4 vector, as a 16-byte Uint8Array. */
export function i32x4(a: number, b: number, c: number, d: number): Uint8Array {
  const v = new Uint8Array(16)
  const dv = new DataView(v.buffer)
  ;[a, b, c, d].forEach((x, i) => dv.setInt32(i * 4, x, true))
  return v
}

/** The four little-endian i32 lanes of a 16-byte view. */
export function lanes32(v: ArrayBufferView): number[] {
  const dv = new DataView(v.buffer, v.byteOffset, v.byteLength)
  return [0, 1, 2, 3].map((i) => dv.getInt32(i * 4, true))
}
