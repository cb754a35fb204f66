import type { Native } from './native'
import { wrapAs } from './wrap'
import { rangeError, typeError } from './errors'
import { Store, checkStore } from './store'
import { refIn, refOut } from './global'
import { checkObject, frozenJson, type TableType } from './types'

/** A wasm table of references (functions or externrefs). */
export class Table {
  /** @internal */
  readonly _native!: Native.NativeTable
  /** @internal */
  readonly _store!: Store
  /** @internal */
  _type?: TableType

  constructor(store: Store, type: TableType, init: unknown = null) {
    checkStore(store)
    const { element, minimum, maximum } = checkObject(type, 'table type') // each read once
    if (element !== 'funcref' && element !== 'externref') throw typeError("table element must be 'funcref' or 'externref'", 'ERR_INVALID_ARG_VALUE')
    if (typeof minimum !== 'number') throw typeError('table minimum must be a number')
    if (maximum !== undefined && typeof maximum !== 'number') throw typeError('table maximum must be a number')
    if (maximum !== undefined && maximum > 0xffffffff) throw rangeError(`table maximum must be at most 2^32-1, got ${maximum}`)
    const n = store._native.newTable(element, minimum, maximum as number | undefined, refIn(store, element, init))
    return Table._wrap(store, n)
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

  /** Grow by `delta` elements set to `init`; returns the previous size. */
  grow(delta: number, init: unknown = null): number {
    if (typeof delta !== 'number') throw typeError('delta must be a number')
    return this._native.grow(delta, refIn(this._store, this.type.element, init))
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
