// Short, with the remedy first: Node 22+ and Deno cut symbol descriptions in DataCloneError
// messages after about 100 characters.
const HINT = 'wasmtime-node: use store.transfer() to move a store to another thread (share() for Engine/Module)'

/**
 * The value of the `threadAffine` property of every Store-connected object (and Linker). It
 * makes `postMessage`/`structuredClone` throw a DataCloneError whose message is this hint,
 * instead of the object arriving as an empty `{}` — on every Node version (Node 20 has no
 * `markAsUncloneable`). It must be the object's first enumerable property, so that the clone
 * fails on it before reaching anything else.
 */
export const AFFINE: symbol = Symbol(HINT)

/**
 * The value of the `shareable` property of `Engine`, `Module`, `Component` and `InterruptHandle`:
 * posted as they are, they would arrive as empty objects; the DataCloneError this makes says to
 * post a `share()` token instead (the same native object, no copy).
 */
export const SHAREABLE: symbol = Symbol('wasmtime-node: post x.share() (a token) and call X.fromShared(token) in the receiver')

/**
 * Make an instance of `cls` around existing native state, without running its constructor
 * (which would create new native state). Thread-affine
 * objects get their `threadAffine` marker first.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function wrapAs<T extends object>(cls: abstract new (...args: any[]) => T, fields: Record<string, unknown>, affine: boolean | 'shareable' = false): T {
  // Plain assignments keep V8's fast properties (wrappers are made per export, per request).
  // The marker goes first, so structured clone meets it before anything else.
  const o = Object.create(cls.prototype) as Record<string, unknown>
  if (affine === 'shareable') o.shareable = SHAREABLE
  else if (affine) o.threadAffine = AFFINE
  for (const k in fields) o[k] = fields[k]
  return o as T
}

/** A plain object that survives postMessage / structured clone: names a shareable native object. */
export interface Shared<K extends string> { readonly kind: K; readonly id: string }

export function token<K extends string>(kind: K, id: string): Shared<K> {
  return Object.freeze({ kind, id })
}

export function isToken<K extends string>(v: unknown, kind: K): v is Shared<K> {
  return !!v && typeof v === 'object' && (v as Shared<K>).kind === kind && typeof (v as Shared<K>).id === 'string'
}
