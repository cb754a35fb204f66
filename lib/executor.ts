// The process-wide pool that runs `callAsync` (crate/call/executor.rs).
import { native } from './native'
import { typeError } from './errors'

/**
 * The number of threads of the process-wide pool that runs every `callAsync` of every worker
 * (default: `os.availableParallelism()`, or the environment variable
 * `WASMTIME_NODE_ASYNC_THREADS`). Call it before the first `callAsync` of the process; once the
 * pool runs, a different size throws `StoreStateError` `ERR_ASYNC_POOL_STARTED`.
 */
export function setAsyncThreads(n: number): void {
  if (typeof n !== 'number') throw typeError('the number of threads must be a number')
  native.setAsyncThreads(n)
}

/** The size of the `callAsync` pool: as running, or as it will start. */
export function asyncThreads(): number {
  return native.asyncThreads()
}
