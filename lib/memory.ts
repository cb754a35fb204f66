import { native, type Native } from './native'
import { AFFINE, wrapAs } from './wrap'
import { typeError } from './errors'
import { Store, checkStore } from './store'
import { checkKeys, checkObject, frozenJson, type MemoryType } from './types'
import { LinearMemory } from './linear-memory'

/** A wasm linear memory. */
export class Memory extends LinearMemory {
  /** Marks the object as thread-affine (see `Store.transfer`). */
  readonly threadAffine: symbol = AFFINE
  /** @internal */
  readonly _native: Native.NativeMemory
  /** @internal */
  readonly _store: Store

  constructor(store: Store, type: { minimum: number; maximum?: number }) {
    super()
    checkStore(store)
    const t = checkObject(type, 'memory type')
    const { minimum, maximum, shared, memory64 } = t // read once: a getter could answer differently the second time
    checkKeys(t, ['minimum', 'maximum', 'shared', 'memory64'], 'memory type')
    // Not silently a plain memory: shared and 64-bit memories cannot be made from JS (yet).
    if (shared !== undefined && shared !== false) throw typeError('a Memory belongs to one store: for a shared memory, use new SharedMemory(engine, { initial, maximum })', 'ERR_INVALID_ARG_VALUE')
    if (memory64 !== undefined && memory64 !== false) throw typeError('64-bit memories cannot be created from JS yet: a module can define one', 'ERR_INVALID_ARG_VALUE')
    if (typeof minimum !== 'number') throw typeError('memory type minimum must be a number')
    if (maximum !== undefined && typeof maximum !== 'number') throw typeError('memory type maximum must be a number')
    this._native = new native.NativeMemory(store._native, minimum, maximum as number | undefined)
    this._store = store
  }

  /** @internal */
  static _wrap(store: Store, n: Native.NativeMemory): Memory {
    const m = wrapAs(Memory, { _native: n, _store: store }, true)
    return m
  }

  get type(): MemoryType {
    return frozenJson<{ type: MemoryType }>(this._native.typeJson()).type
  }

  /** Always `false`: a shared memory is a `SharedMemory`. */
  get shared(): boolean {
    return false
  }

  /**
   * A zero-copy view of the whole memory. Detached (byteLength 0) when the memory grows and
   * when the store is disposed or transferred: read `memory.buffer` again after those.
   * Runtimes that refuse external buffers (Electron >= 21) get an error with code
   * `ERR_EXTERNAL_BUFFER_UNSUPPORTED`: use `read`/`write` there.
   */
  get buffer(): ArrayBuffer {
    return this._native.buffer() as ArrayBuffer
  }
}
