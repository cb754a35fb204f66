import { typeError } from './errors'

const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder()

/** What `LinearMemory` needs of a native memory (a store's `Memory`, or a `SharedMemory`). */
interface NativeLinear {
  size(): number
  grow(delta: number): number
  read(offset: number, length: number): unknown
  write(offset: number, bytes: unknown): void
}

/** The operations `Memory` and `SharedMemory` share: size, growth, copies in and out, text. */
export abstract class LinearMemory {
  /** @internal */
  abstract readonly _native: NativeLinear

  /** Size in 64 KiB pages. */
  size(): number {
    return this._native.size()
  }

  /** Grow by `deltaPages`; returns the previous size in pages. Throws `RangeError` on failure. */
  grow(deltaPages: number): number {
    if (typeof deltaPages !== 'number') throw typeError('deltaPages must be a number')
    return this._native.grow(deltaPages)
  }

  /** A copy of `length` bytes starting at `offset`. */
  read(offset: number, length: number): Uint8Array {
    if (typeof offset !== 'number' || typeof length !== 'number') throw typeError('offset and length must be numbers')
    return this._native.read(offset, length) as Uint8Array
  }

  /** Copy `bytes` into memory at `offset`. */
  write(offset: number, bytes: ArrayBufferView | ArrayBuffer): void {
    if (typeof offset !== 'number') throw typeError('offset must be a number')
    this._native.write(offset, bytes)
  }

  /**
   * The UTF-8 text of the `length` bytes at `offset` (bounds-checked like `read`; malformed
   * UTF-8 becomes U+FFFD, as `TextDecoder` does).
   */
  readString(offset: number, length: number): string {
    return utf8Decoder.decode(this.read(offset, length))
  }

  /**
   * Write `text` as UTF-8 at `offset`; returns the number of bytes written. Bounds-checked like
   * `write`: text that does not fit throws `RangeError` `ERR_OUT_OF_RANGE` and writes nothing.
   */
  writeString(offset: number, text: string): number {
    if (typeof text !== 'string') throw typeError('text must be a string')
    const bytes = utf8Encoder.encode(text)
    this.write(offset, bytes)
    return bytes.length
  }
}
