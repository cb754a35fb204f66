import { native, type Native } from './native'
import { AFFINE, wrapAs } from './wrap'
import { rangeError, typeError } from './errors'
import { Store, checkStore } from './store'
import { refIn, refOut } from './func'
import { checkObject, frozenJson, type TableType } from './types'

/** A wasm table of references (functions or externrefs). */
export class Table {
  /** Marks the object as thread-affine (see `Store.transfer`). */
  readonly threadAffine: symbol = AFFINE
  /** @internal */
  readonly _native: Native.NativeTable
  /** @internal */
  readonly _store: Store
  /** @internal */
  _type?: TableType

  /** `init` fills every element; omitted, the element type's default (null; externref: undefined, as in the WebAssembly JS API). */
  constructor(store: Store, type: TableType, ...init: [unknown?]) {
    checkStore(store)
    const { element, minimum, maximum } = checkObject(type, 'table type') // each read once
    if (element !== 'funcref' && element !== 'externref') throw typeError("table element must be 'funcref' or 'externref'", 'ERR_INVALID_ARG_VALUE')
    if (typeof minimum !== 'number') throw typeError('table minimum must be a number')
    if (maximum !== undefined && typeof maximum !== 'number') throw typeError('table maximum must be a number')
    if (maximum !== undefined && maximum > 0xffffffff) throw rangeError(`table maximum must be at most 2^32-1, got ${maximum}`)
    this._native = new native.NativeTable(store._native, element, minimum, maximum as number | undefined, refIn(store, element, initOf(element, init)))
    this._store = store
  }

  /** @internal */
  static _wrap(store: Store, n: Native.NativeTable): Table {
    const t = wrapAs(Table, { _native: n, _store: store }, true)
    return t
  }

  get type(): TableType {
    return (this._type ??= frozenJson<{ type: TableType }>(this._native.typeJson()).type)
  }

  size(): number {
    return this._native.size()
  }

  /** Grow by `delta` elements set to `init` (omitted: the element type's default); returns the previous size. */
  grow(delta: number, ...init: [unknown?]): number {
    if (typeof delta !== 'number') throw typeError('delta must be a number')
    const element = this.type.element
    return this._native.grow(delta, refIn(this._store, element, initOf(element, init)))
  }

  get(index: number): unknown {
    if (typeof index !== 'number') throw typeError('index must be a number')
    return refOut(this._store, this.type.element, this._native.get(index))
  }

  set(index: number, value: unknown): void {
    if (typeof index !== 'number') throw typeError('index must be a number')
    this._native.set(index, refIn(this._store, this.type.element, value))
  }
}

/**
 * The fill value given (an explicit `undefined` included: it is a valid externref), or the
 * element type's default value when none was given, as `WebAssembly.Table` does.
 */
function initOf(element: string, init: [unknown?]): unknown {
  if (init.length > 0) return init[0]
  return element === 'externref' ? undefined : null
}
