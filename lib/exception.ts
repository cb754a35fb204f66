import { native, type Native } from './native'
import { rangeError, setExceptionFactory, typeError } from './errors'
import { refIn, refOut } from './func'
import { Tag } from './tag'

/**
 * A wasm exception, like `WebAssembly.Exception`: one that wasm threw and no `try_table`
 * caught (it reaches JS as the thrown value), or one made here to throw from a host function
 * into wasm, where a `try_table` of its tag catches it. An exception that crosses back keeps
 * its identity: the object a host function threw is the one its JS caller catches.
 */
export class Exception {
  /** @internal */
  readonly _native: Native.NativeException

  /** An exception of `tag` carrying `payload`, one value per type of `tag.type.params`. */
  constructor(tag: Tag, payload: unknown[]) {
    if (!(tag instanceof Tag)) throw typeError('tag must be a Tag')
    if (!Array.isArray(payload)) throw typeError('payload must be an array')
    const params = tag.type.params
    if (payload.length !== params.length) throw typeError(`the tag takes ${params.length} value(s), got ${payload.length}`, 'ERR_INVALID_ARG_COUNT')
    this._native = new native.NativeException(tag._native, payload.map((v, i) => refIn(tag._store, params[i]!, v)))
  }

  /** @internal */
  static _wrap(n: Native.NativeException): Exception {
    const e = Object.create(Exception.prototype) as { _native: Native.NativeException }
    e._native = n
    return e as Exception
  }

  /** Whether this exception was thrown with `tag`. */
  is(tag: Tag): boolean {
    if (!(tag instanceof Tag)) throw typeError('tag must be a Tag')
    return this._native.is(tag._native)
  }

  /** Value `index` of the payload; `tag` must be the exception's tag (as `WebAssembly.Exception`). */
  getArg(tag: Tag, index: number): unknown {
    if (!this.is(tag)) throw typeError('the exception was not thrown with this tag', 'ERR_INVALID_ARG_VALUE')
    if (!Number.isInteger(index) || index < 0) throw rangeError(`index must be a non-negative integer, got ${index}`)
    const params = tag.type.params
    if (index >= params.length) throw rangeError(`index ${index} is out of range: the exception carries ${params.length} value(s)`)
    return refOut(tag._store, params[index]!, this._native.getArg(index))
  }
}

setExceptionFactory((n) => Exception._wrap(n as Native.NativeException))
