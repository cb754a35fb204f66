import { native, type Native } from './native'
import { AFFINE, wrapAs } from './wrap'
import { typeError } from './errors'
import { Store, checkStore } from './store'
import { checkKeys, checkObject, checkValType, frozenJson, type TagType } from './types'

/**
 * A wasm exception tag (Wasm 3.0 exception handling), like `WebAssembly.Tag`: exceptions thrown
 * with it carry values of the types `params`. It belongs to a store: import it into that store's
 * instances (`imports: { env: { tag } }`), or read one an instance exports.
 */
export class Tag {
  /** Marks the object as thread-affine (see `Store.transfer`). */
  readonly threadAffine: symbol = AFFINE
  /** @internal */
  readonly _native: Native.NativeTag
  /** @internal */
  readonly _store: Store
  /** @internal */
  _type?: TagType

  constructor(store: Store, type: TagType) {
    checkStore(store)
    const t = checkObject(type, 'tag type')
    checkKeys(t, ['params'], 'tag type')
    const params = t.params ?? []
    if (!Array.isArray(params)) throw typeError('tag type params must be an array of value types')
    this._native = new native.NativeTag(store._native, params.map((p, i) => checkValType(p, `params[${i}]`)))
    this._store = store
  }

  /** @internal */
  static _wrap(store: Store, n: Native.NativeTag): Tag {
    return wrapAs(Tag, { _native: n, _store: store }, true)
  }

  /** `{ params }`: the types of the values its exceptions carry. */
  get type(): TagType {
    return (this._type ??= frozenJson<TagType>(this._native.typeJson()))
  }
}
