// Shared by the worker scripts of threads.test.ts: the package as a worker loads it, the native
// addon's diagnostics, and the message protocol.
//
// Protocol: every message a worker posts is `{ type, ... }`. `type: 'failed'` means the worker hit
// an exception it did not expect (the test turns it into a failure); an error that a test expects
// travels as data, described by `describeError`.
import { createRequire } from 'node:module'
import { parentPort } from 'node:worker_threads'
import api from '../../dist/index.js'

export { api }

/** The generated N-API loader: `compileCount()` and `sharedRegistrySize()` are process-wide. */
export const native = createRequire(import.meta.url)('../../index.js')

/** The fields of an error that a test asserts on (an Error itself would lose its class and code). */
export function describeError(e) {
  if (!(e instanceof Error)) return { name: typeof e, message: String(e) }
  return { name: e.name, code: e.code, message: e.message, trapCode: e.trapCode }
}

/** Runs `f`; `{ threw: false, value }` or `{ threw: true, error }` (an expected failure, as data). */
export function attempt(f) {
  try {
    return { threw: false, value: f() }
  } catch (e) {
    return { threw: true, error: describeError(e) }
  }
}

/** The error code `f` throws, or 'no error'. */
export function codeOf(f) {
  const r = attempt(f)
  return r.threw ? r.error.code : 'no error'
}

/** Reports an unexpected exception to the test. */
export function fail(e) {
  parentPort.postMessage({ type: 'failed', error: describeError(e) })
}

/** Wraps a message handler so that an unexpected exception is reported instead of killing the worker silently. */
export function guarded(handler) {
  return (msg) => {
    try {
      handler(msg)
    } catch (e) {
      fail(e)
    }
  }
}

/** The little-endian i32 at `offset` of a Memory (read through the copying API). */
export function readI32(memory, offset) {
  const b = memory.read(offset, 4)
  return new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true)
}
