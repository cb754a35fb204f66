import { native, type Native } from './native'
import { WasmtimeError, typeError } from './errors'
import { Engine, checkEngine } from './engine'
import { checkKeys, checkObject, frozenJson, type MemoryType } from './types'
import { isToken, token, wrapAs, SHAREABLE, type Shared } from './wrap'
import { LinearMemory } from './linear-memory'

/**
 * A shared linear memory (the threads proposal), shareable like a `Module`: `share()` it, post
 * the token to a worker and `SharedMemory.fromShared(token)` there; the stores of every worker
 * (of the same engine) import it (`imports: { env: { memory } }`) and all of them, wasm and JS,
 * see the same bytes and the same growth. Needs an engine with `sharedMemory: true`; such an
 * engine also compiles modules that define a shared memory, whose export is a `SharedMemory`.
 *
 * Node 20's N-API cannot put a `SharedArrayBuffer` over external memory, so there is no
 * `buffer`: `read`/`write` copy (each byte accessed atomically), and `wait32`/`wait64`/`notify`
 * are the atomics (`Atomics.wait`/`notify` on the wasm side's terms). `size`, `grow`, `read`,
 * `write`, `readString` and `writeString` work as a `Memory`'s, for every thread at once.
 */
export class SharedMemory extends LinearMemory {
  /** Makes `postMessage(memory)` throw a DataCloneError that says to post `memory.share()`. */
  readonly shareable: symbol = SHAREABLE
  /** @internal */
  readonly _native: Native.NativeSharedMemory

  constructor(engine: Engine, type: { initial: number; maximum: number }) {
    super()
    checkEngine(engine)
    const t = checkObject(type, 'shared memory type')
    const { initial, maximum } = t
    checkKeys(t, ['initial', 'maximum'], 'shared memory type')
    if (typeof initial !== 'number') throw typeError('shared memory initial must be a number of pages')
    if (typeof maximum !== 'number') throw typeError('shared memory maximum must be a number of pages (a shared memory needs one)')
    this._native = new native.NativeSharedMemory(engine._native, initial, maximum)
    native.NativeSharedMemory.watch(this._native)
  }

  /** @internal */
  static _wrap(n: Native.NativeSharedMemory): SharedMemory {
    // Released once V8 collects `n` (its wrapper holds it), even in a loop that never yields.
    native.NativeSharedMemory.watch(n)
    return wrapAs(SharedMemory, { _native: n }, 'shareable')
  }

  /** A token for `SharedMemory.fromShared` in another worker: the same memory, no copy. */
  share(): Shared<'SharedMemory'> {
    return token('SharedMemory', this._native.share())
  }

  /** A handle to the memory that made `t` (in any worker). */
  static fromShared(t: Shared<'SharedMemory'>): SharedMemory {
    if (!isToken(t, 'SharedMemory')) throw typeError('expected a shared SharedMemory token ({ kind: "SharedMemory", id })')
    return SharedMemory._wrap(native.NativeSharedMemory.fromShared(t.id))
  }

  /** The engine whose stores can import it. */
  get engine(): Engine {
    return Engine._wrap(this._native.engine())
  }

  /** Always `true` (a `Memory`'s is `false`). */
  get shared(): boolean {
    return true
  }

  get type(): MemoryType {
    return frozenJson<{ type: MemoryType }>(this._native.typeJson()).type
  }

  /** `memory.atomic.notify`: wake up to `count` (default all) waiters at byte `address`; returns how many woke. */
  notify(address: number, count = Infinity): number {
    if (typeof address !== 'number' || typeof count !== 'number') throw typeError('address and count must be numbers')
    return this._native.notify(address, count)
  }

  /**
   * `memory.atomic.wait32`: block this thread while the i32 at `address` equals `expected`,
   * until notified or `timeoutMs` passes (default: forever). Like `Atomics.wait`: `'ok'`,
   * `'not-equal'` or `'timed-out'`.
   */
  wait32(address: number, expected: number, timeoutMs?: number): 'ok' | 'not-equal' | 'timed-out' {
    if (typeof address !== 'number' || typeof expected !== 'number') throw typeError('address and expected must be numbers')
    if (!Number.isInteger(expected) || expected < -(2 ** 31) || expected >= 2 ** 32) throw typeError('expected must be an i32 (an integer in [-2^31, 2^32))', 'ERR_INVALID_ARG_VALUE')
    if (timeoutMs !== undefined && typeof timeoutMs !== 'number') throw typeError('timeoutMs must be a number')
    return this._native.wait32(address, expected | 0, timeoutMs) as 'ok' | 'not-equal' | 'timed-out'
  }

  /** `memory.atomic.wait64`, as `wait32` for the i64 (a BigInt) at `address`. */
  wait64(address: number, expected: bigint, timeoutMs?: number): 'ok' | 'not-equal' | 'timed-out' {
    if (typeof address !== 'number') throw typeError('address must be a number')
    if (typeof expected !== 'bigint') throw typeError('expected must be a BigInt')
    if (timeoutMs !== undefined && typeof timeoutMs !== 'number') throw typeError('timeoutMs must be a number')
    return this._native.wait64(address, BigInt.asIntN(64, expected), timeoutMs) as 'ok' | 'not-equal' | 'timed-out'
  }

  /**
   * Not available: Node 20's N-API cannot make a `SharedArrayBuffer` over this memory (and an
   * `ArrayBuffer` would wrongly claim to be unshared). Use `read`/`write`.
   */
  get buffer(): never {
    throw new WasmtimeError('a SharedMemory has no buffer in this version: Node-API cannot create a SharedArrayBuffer over external memory; use read() and write()', 'ERR_SHARED_MEMORY_BUFFER')
  }
}
