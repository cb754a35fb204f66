import type { Native } from './native'
import { wrapAs } from './wrap'
import { typeError } from './errors'
import { Store, checkStore } from './store'
import { Func, funcIn } from './func'
import { checkObject, checkValType, frozenJson, type GlobalType } from './types'

/** Converts a reference value between JS and the native layer's raw form. */
export function refIn(store: Store, t: string, v: unknown): unknown {
  if (t === 'externref') return store._externIn(v)
  if (t === 'funcref') return funcIn(v)
  return v
}

export function refOut(store: Store, t: string, v: unknown): unknown {
  if (t === 'externref') return store._externOut(v as number | null)
  if (t === 'funcref') return v === null ? null : Func._wrap(store, v as Native.NativeFunc).callable
  return v
}

/** A wasm global variable. */
export class Global {
  /** @internal */
  readonly _native!: Native.NativeGlobal
  /** @internal */
  readonly _store!: Store
  /** @internal */
  _type?: GlobalType

  constructor(store: Store, type: GlobalType, value: unknown) {
    checkStore(store)
    const t = checkObject(type, 'global type')
    const vt = checkValType(t.value, 'global type value')
    const n = store._native.newGlobal(vt, Boolean(t.mutable), refIn(store, vt, value))
    return Global._wrap(store, n)
  }

  /** @internal */
  static _wrap(store: Store, n: Native.NativeGlobal): Global {
    const g = wrapAs(Global, { _native: n, _store: store }, true)
    return g
  }

  get type(): GlobalType {
    return (this._type ??= frozenJson<{ type: GlobalType }>(this._native.typeJson()).type)
  }

  get value(): unknown {
    return refOut(this._store, this.type.value, this._native.get())
  }

  set value(v: unknown) {
    this._native.set(refIn(this._store, this.type.value, v))
  }
}
