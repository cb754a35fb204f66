import { Worker } from 'node:worker_threads'
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
  /** Makes `postMessage(handle)` throw a DataCloneError that says to post `handle.share()`. */
  readonly shareable!: symbol
  /** @internal */
  readonly _native!: Native.NativeInterruptHandle

  /** Get one with `store.interruptHandle()` or `InterruptHandle.fromShared()`. */
  protected constructor() {}

  /** @internal */
  static _wrap(n: Native.NativeInterruptHandle): InterruptHandle {
    return wrapAs(InterruptHandle as unknown as new () => InterruptHandle, { _native: n }, 'shareable')
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

/**
 * `worker.terminate()` cannot stop native code: a worker stuck in a wasm loop would never exit.
 * So terminating a worker first interrupts every store living in it (each running call traps
 * with `interrupt`, and V8's termination then proceeds). Installed in every thread that loads
 * this package, for the workers that thread starts.
 */
export function interruptOnTerminate(): void {
  const proto = Worker.prototype as Worker & { [PATCHED]?: true }
  if (proto[PATCHED]) return
  const terminate = proto.terminate
  Object.defineProperty(proto, PATCHED, { value: true })
  proto.terminate = function (this: Worker, ...args: unknown[]) {
    if (this.threadId >= 0) native.interruptThread(this.threadId)
    return (terminate as (...a: unknown[]) => Promise<number>).apply(this, args)
  } as Worker['terminate']
}

const PATCHED = Symbol.for('wasmtime-node.interruptOnTerminate')
