import { typeError } from './errors'

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref'
export interface FuncType { readonly params: readonly ValType[]; readonly results: readonly ValType[] }
export interface MemoryType { readonly minimum: number; readonly maximum?: number; readonly shared?: boolean; readonly memory64?: boolean }
export interface TableType { readonly element: 'funcref' | 'externref'; readonly minimum: number; readonly maximum?: number }
export interface GlobalType { readonly value: ValType; readonly mutable: boolean }
export type ExternType =
  | { readonly kind: 'func'; readonly type: FuncType }
  | { readonly kind: 'memory'; readonly type: MemoryType }
  | { readonly kind: 'table'; readonly type: TableType }
  | { readonly kind: 'global'; readonly type: GlobalType }
  | { readonly kind: 'tag'; readonly type: TagType }
/** An exception tag's type: the types of the values its exceptions carry. */
export interface TagType { readonly params: readonly ValType[] }
export interface ImportType { readonly module: string; readonly name: string; readonly type: ExternType }
export interface ExportType { readonly name: string; readonly type: ExternType }

// ---- wasm signatures as TypeScript types (types only: nothing here exists at run time) ----

/** Any function as an untyped wasm signature: any arguments, an `unknown` result. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the arguments of an unknown signature; the result is unknown, not any
export type UntypedSignature = (...args: any[]) => unknown

/**
 * The JS value wasm hands out for a value of type `T`: an export's result, a host function's
 * argument. `funcref` comes out as a callable exported function, `externref` as whatever went in.
 */
export type WasmToJs<T> = T extends 'i32' | 'f32' | 'f64' ? number
  : T extends 'i64' ? bigint
  : T extends 'v128' ? Uint8Array
  : T extends 'funcref' ? import('./func').ExportedFunction | null
  : unknown

/**
 * The JS values accepted for a value of type `T`: an export's argument, a host function's
 * result. A `v128` is any 16 bytes; a `funcref` a `Func`, an exported function or null.
 */
export type JsToWasm<T> = T extends 'i32' | 'f32' | 'f64' ? number
  : T extends 'i64' ? bigint
  : T extends 'v128' ? ArrayBufferView | ArrayBuffer
  : T extends 'funcref' ? import('./func').Func | import('./func').ExportedFunction | null
  : unknown

/** A call's result as JS receives it: none → `void`, one → the value, several → an array. */
type ResultOut<R extends readonly unknown[]> = R extends readonly [] ? void
  : R extends readonly [infer A] ? WasmToJs<A>
  : { -readonly [K in keyof R]: WasmToJs<R[K]> }

/** A host function's result(s) as wasm takes them (several: any array of them, read-only too). */
type ResultIn<R extends readonly unknown[]> = R extends readonly [] ? void
  : R extends readonly [infer A] ? JsToWasm<A>
  : { readonly [K in keyof R]: JsToWasm<R[K]> }

/**
 * `never` once `R` is known; while it is not (inferring the `T` of `new Func(store, type, fn)`),
 * a generic mapped type, which makes TypeScript type an array literal returned by `fn` as a
 * tuple instead of an array (`() => [1, 2n]` for results `['i32', 'i64']`).
 */
type TupleContext<R extends readonly unknown[]> = MappedNever<R extends unknown ? never : never>
type MappedNever<X extends readonly unknown[]> = { [K in keyof X]: never }

type Convert<V, D extends 'out' | 'in'> = D extends 'out' ? WasmToJs<V> : JsToWasm<V>

/** The arguments of a call: a tuple of the converted values (any arguments if the list is not a literal). */
type ArgsOf<P extends readonly unknown[], D extends 'out' | 'in'> = Known<P> extends true ? { -readonly [K in keyof P]: Convert<P[K], D> } : Parameters<UntypedSignature>

/** Whether a list of value types is a tuple (a literal type), so that its length and members are known. */
type Known<L extends readonly unknown[]> = number extends L['length'] ? false : true

/**
 * The JS signature of a wasm function of type `T` as called from JS (`exports.f`, `func.call`):
 * `FuncSignature<{ params: ['i32', 'i64'], results: ['f64'] }>` is `(a: number, b: bigint) => number`.
 * A `FuncType` whose params or results are not literal tuples gives `any` arguments / an
 * `unknown` result.
 */
export type FuncSignature<T extends FuncType> = (
  ...args: ArgsOf<T['params'], 'in'>
) => Known<T['results']> extends true ? ResultOut<T['results']> : unknown

/**
 * A host function of wasm type `T`, as the store calls it: arguments as wasm hands them out,
 * the result(s) as wasm takes them (or a Promise of them, for a guest run by `callAsync`). With
 * `T` a literal type, `HostFunction<{ params: ['i32', 'i64'], results: ['f64'] }>` is
 * `(a: number, b: bigint) => number | Promise<number>`; without it (the default, or a
 * `FuncType` of unknown shape) any function: `(...args: any[]) => unknown`.
 */
export type HostFunction<T extends FuncType = FuncType> = (
  ...args: ArgsOf<T['params'], 'out'>
) => (Known<T['results']> extends true ? ResultIn<T['results']> | Promise<ResultIn<T['results']>> : unknown) | TupleContext<T['results']>

const VALTYPES: ReadonlySet<string> = new Set(['i32', 'i64', 'f32', 'f64', 'v128', 'funcref', 'externref'])

export function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k])
    Object.freeze(v)
  }
  return v
}

/** Parse the native layer's JSON descriptors into frozen plain data. */
export function frozenJson<T>(json: string): T {
  return deepFreeze(JSON.parse(json) as T)
}

export const isRef = (t: ValType) => t === 'funcref' || t === 'externref'

function valTypeList(v: unknown, what: string): ValType[] {
  if (!Array.isArray(v)) throw typeError(`${what} must be an array of value types`)
  return v.map((t) => {
    if (typeof t !== 'string') throw typeError(`${what} must contain value type strings`)
    if (!VALTYPES.has(t)) throw typeError(`unknown value type '${t}' in ${what}`, 'ERR_INVALID_ARG_VALUE')
    return t as ValType
  })
}

/** Check a user-given `FuncType` and return a frozen copy. */
export function checkFuncType(t: unknown): FuncType {
  if (!t || typeof t !== 'object') throw typeError('a function type must be an object { params, results }')
  const o = t as Record<string, unknown>
  return deepFreeze({ params: valTypeList(o.params ?? [], 'params'), results: valTypeList(o.results ?? [], 'results') })
}

export function checkValType(t: unknown, what: string): ValType {
  if (typeof t !== 'string') throw typeError(`${what} must be a value type string`)
  if (!VALTYPES.has(t)) throw typeError(`unknown value type '${t}'`, 'ERR_INVALID_ARG_VALUE')
  return t as ValType
}

export function checkObject(v: unknown, what: string): Record<string, unknown> {
  if (!v || typeof v !== 'object') throw typeError(`${what} must be an object`)
  return v as Record<string, unknown>
}

/**
 * Refuse option keys that are not in `known` (an untrusted guest must not run without its
 * timeout because of a typo such as `timeoutMS`): a TypeError `ERR_INVALID_ARG_VALUE` that names
 * the key and the closest known one.
 */
export function checkKeys(o: object, known: readonly string[], what: string): void {
  for (const k of Object.keys(o)) {
    if (known.includes(k)) continue
    const near = closest(k, known)
    throw typeError(`unknown ${what} option '${k}'${near ? ` (did you mean '${near}'?)` : ''}; known: ${known.join(', ')}`, 'ERR_INVALID_ARG_VALUE')
  }
}

/** The known name nearest to `k` (case-insensitive edit distance), if any is near enough. */
function closest(k: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestD = Math.max(2, Math.floor(k.length / 3)) + 1
  for (const c of known) {
    const d = editDistance(k.toLowerCase(), c.toLowerCase())
    if (d < bestD) [best, bestD] = [c, d]
  }
  return best
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    prev = cur
  }
  return prev[b.length]!
}
