// Process-wide diagnostics.
import { native } from './native'

/**
 * How many native objects exist right now in the whole process (every worker thread counts).
 * A count that keeps growing under a steady workload is a leak; after `store.dispose()` or a
 * garbage collection the counts come back down. Cheap to call (a few atomic loads).
 */
export interface LiveObjects {
  /** wasmtime stores: held by a `Store`, parked by `store.transfer()`, or on an async call. */
  stores: number
  /** Native instance handles (of modules and of components). */
  instances: number
  /** Compiled components (handles to one component shared between workers count once). */
  components: number
  /** Compiled modules (handles to one module shared between workers count once). */
  modules: number
  /** Engines (`Engine.default` counts once created). */
  engines: number
  linkers: number
  instancePres: number
  /**
   * Threads of the package busy right now: `callAsync` jobs on the pool's blocking threads
   * (stores without `async`) and epoch tickers. The pool's own threads, started once per process,
   * are not counted; an async store's pooled call holds no thread (it counts in `asyncCalls`).
   */
  threads: number
  /** `callAsync` calls in flight. */
  asyncCalls: number
  /** Stores detached by `store.transfer()` and not received yet. */
  pendingTransfers: number
  /** Objects that were `share()`d and are still alive. */
  shared: number
  /**
   * Share tokens issued and not received yet. Each `share()` keeps its object alive until one
   * `fromShared` of it (so `postMessage(x.share())` needs nothing else kept); at most 1,024 are
   * kept process-wide, the oldest released first.
   */
  pendingShares: number
}

/** The live-object counts of the process: see {@link LiveObjects}. */
export function liveObjects(): LiveObjects {
  return native.liveObjects()
}
