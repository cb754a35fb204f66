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
export interface ImportType { readonly module: string; readonly name: string; readonly type: ExternType }
export interface ExportType { readonly name: string; readonly type: ExternType }

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
