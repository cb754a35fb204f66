import { native, type Native } from './native'
import { AFFINE, wrapAs } from './wrap'
import { Store, checkStore } from './store'
import { refIn, refOut } from './func'
import { checkObject, checkValType, frozenJson, type GlobalType } from './types'

/** A wasm global variable. */
export class Global {
  /** Marks the object as thread-affine (see `Store.transfer`). */
  readonly threadAffine: symbol = AFFINE
  /** @internal */
  readonly _native: Native.NativeGlobal
  /** @internal */
  readonly _store: Store
  /** @internal */
  _type?: GlobalType

  constructor(store: Store, type: GlobalType, value: unknown) {
    checkStore(store)
    const t = checkObject(type, 'global type')
    const vt = checkValType(t.value, 'global type value')
    this._native = new native.NativeGlobal(store._native, vt, Boolean(t.mutable), refIn(store, vt, value))
    this._store = store
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
