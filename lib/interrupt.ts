import { native, type Native } from './native'
import { typeError } from './errors'
import { isToken, token, wrapAs, type Shared } from './wrap'

/**
 * Stops a store's running wasm from any thread: the call traps with `trapCode: 'interrupt'`.
 * It acts on the call running when `interrupt()` is made (no effect on an idle store, nor on
 * later calls). Shareable: `share()` gives a token for `InterruptHandle.fromShared` in any worker.
 * Needs an engine with `epochInterruption` (the default).
 */
export class InterruptHandle {
  /** @internal */
  readonly _native!: Native.NativeInterruptHandle

  /** Get one with `store.interruptHandle()` or `InterruptHandle.fromShared()`. */
  protected constructor() {}

  /** @internal */
  static _wrap(n: Native.NativeInterruptHandle): InterruptHandle {
    return wrapAs(InterruptHandle as unknown as new () => InterruptHandle, { _native: n })
  }

  interrupt(): void {
    this._native.interrupt()
  }

  share(): Shared<'InterruptHandle'> {
    return token('InterruptHandle', this._native.share())
  }

  static fromShared(t: Shared<'InterruptHandle'>): InterruptHandle {
    if (!isToken(t, 'InterruptHandle')) throw typeError('expected a shared InterruptHandle token')
    return InterruptHandle._wrap(native.NativeInterruptHandle.fromShared(t.id))
  }
}
