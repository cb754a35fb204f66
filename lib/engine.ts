import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { native, type Native } from './native'
import { SHAREABLE, isToken, token, wrapAs, type Shared } from './wrap'
import { rangeError, typeError } from './errors'
import { checkKeys, deepFreeze } from './types'

export interface PoolingOptions {
  totalCoreInstances?: number
  totalMemories?: number
  totalTables?: number
  maxMemorySize?: number
  /**
   * Bytes at the start of each linear memory slot reset with `memset` and kept resident when an
   * instance is freed, instead of given back to the OS (`madvise`): cheaper per-request instances
   * for small memories, at the cost of that much resident memory per slot (wasmtime's
   * `linear_memory_keep_resident`; default 0).
   */
  linearMemoryKeepResident?: number
  /** The same for each table slot (wasmtime's `table_keep_resident`; default 0). */
  tableKeepResident?: number
}

export type WasmFeature = 'simd' | 'relaxedSimd' | 'threads' | 'multiMemory' | 'memory64' | 'tailCall'
  | 'referenceTypes' | 'bulkMemory' | 'multiValue' | 'gc' | 'exceptions' | 'extendedConst' | 'functionReferences'

/** How an `Engine` compiles and runs wasm. Every field is optional; defaults are wasmtime's. */
export interface EngineOptions {
  /**
   * Code generator: `'cranelift'` (the default), the optimising compiler, or `'winch'`, wasmtime's
   * baseline compiler: compiles a large module many times faster, runs its code slower (no GC,
   * function references, tail calls, exceptions or relaxed SIMD). Modules of one engine can be
   * used by that engine's stores only.
   */
  strategy?: 'cranelift' | 'winch'
  optLevel?: 'none' | 'speed' | 'speed_and_size'
  /** Count fuel (see `Store.setFuel`). Costs some speed. */
  consumeFuel?: boolean
  /** Allow epoch deadlines and interrupts. */
  epochInterruption?: boolean
  /** Maximum bytes of native stack wasm may use. */
  maxWasmStack?: number
  /** Turn wasm proposals on or off. */
  features?: Partial<Record<WasmFeature, boolean>>
  /**
   * `{ pooling }`: preallocated slots for instances, memories and tables, reused from store to
   * store (much faster per-request instantiation; see BENCHMARKS.md).
   */
  allocator?: 'on-demand' | { pooling: PoolingOptions }
  /**
   * An on-disk compile cache: `new Module(engine, bytes)` and `Module.compile` load a module
   * compiled before (by any process with the same wasmtime version and engine options) instead
   * of compiling it. `true` uses `$XDG_CACHE_HOME/wasmtime-node` (or `~/.cache/wasmtime-node`).
   * The directory must be writable only by you: its files are loaded as machine code.
   */
  cache?: boolean | { directory: string }
  parallelCompilation?: boolean
  debugInfo?: boolean
  /** Virtual address space reserved per linear memory, in bytes. */
  memoryReservation?: number
  /** Guard region after each linear memory, in bytes. */
  memoryGuardSize?: number
  /**
   * Native profilers: `'perfmap'` writes `/tmp/perf-<pid>.map`, `'jitdump'` a `jit-<pid>.dump`
   * (for `perf inject --jit`), so that `perf record` shows wasm functions by name. Default `'none'`.
   */
  profiler?: 'perfmap' | 'jitdump' | 'none'
  /**
   * A trap carries a core dump of its store (`trap.coredump`: bytes in the tool-conventions
   * format, with the memories and globals at the trap), for `wasmgdb` and friends.
   */
  coredumpOnTrap?: boolean
  /**
   * The threads proposal with shared memories: `new SharedMemory(engine, ...)`, and modules
   * that define or import a shared memory (wasmtime's `shared_memory`; a tier-2 feature there).
   */
  sharedMemory?: boolean
}

// Names (strategy, optLevel, features) are checked natively (base/engine.rs), types here.
const STRINGS = ['strategy', 'optLevel', 'profiler']
const ENGINE_KEYS = [
  'strategy', 'optLevel', 'consumeFuel', 'epochInterruption', 'maxWasmStack', 'features', 'allocator', 'cache',
  'parallelCompilation', 'debugInfo', 'memoryReservation', 'memoryGuardSize', 'profiler', 'coredumpOnTrap', 'sharedMemory',
]
const BOOLS = ['consumeFuel', 'epochInterruption', 'parallelCompilation', 'debugInfo', 'coredumpOnTrap', 'sharedMemory']
const NUMBERS = ['maxWasmStack', 'memoryReservation', 'memoryGuardSize']

function toNativeOptions(o: EngineOptions): Native.EngineOptions {
  if (!o || typeof o !== 'object') throw typeError('engine options must be an object')
  checkKeys(o, ENGINE_KEYS, 'engine')
  const out: Native.EngineOptions = {}
  for (const k of STRINGS) {
    const v = (o as Record<string, unknown>)[k]
    if (v !== undefined && typeof v !== 'string') throw typeError(`${k} must be a string`)
  }
  for (const k of BOOLS) {
    const v = (o as Record<string, unknown>)[k]
    if (v !== undefined && typeof v !== 'boolean') throw typeError(`${k} must be a boolean`)
  }
  for (const k of NUMBERS) checkCount(o as Record<string, unknown>, k, k === 'maxWasmStack' ? U32_MAX : Number.MAX_SAFE_INTEGER)
  if (o.features !== undefined) {
    if (!o.features || typeof o.features !== 'object') throw typeError('features must be an object')
    for (const v of Object.values(o.features)) if (typeof v !== 'boolean') throw typeError('each feature must be true or false')
    out.features = { ...o.features } as Record<string, boolean>
  }
  if (o.allocator !== undefined && o.allocator !== 'on-demand') {
    if (!o.allocator || typeof o.allocator !== 'object' || !o.allocator.pooling || typeof o.allocator.pooling !== 'object') {
      throw typeError("allocator must be 'on-demand' or { pooling: {...} }", 'ERR_INVALID_ARG_VALUE')
    }
    checkKeys(o.allocator, ['pooling'], 'allocator')
    const p = o.allocator.pooling as Record<string, unknown>
    checkKeys(p, ['totalCoreInstances', 'totalMemories', 'totalTables', 'maxMemorySize', 'linearMemoryKeepResident', 'tableKeepResident'], 'allocator.pooling')
    for (const k of ['totalCoreInstances', 'totalMemories', 'totalTables']) checkCount(p, k, U32_MAX, 'allocator.pooling.')
    for (const k of ['maxMemorySize', 'linearMemoryKeepResident', 'tableKeepResident']) checkCount(p, k, Number.MAX_SAFE_INTEGER, 'allocator.pooling.')
    out.pooling = { ...o.allocator.pooling }
  }
  out.cacheDirectory = cacheDirectory(o.cache)
  Object.assign(out, {
    strategy: o.strategy, optLevel: o.optLevel, consumeFuel: o.consumeFuel, epochInterruption: o.epochInterruption,
    maxWasmStack: o.maxWasmStack, parallelCompilation: o.parallelCompilation, debugInfo: o.debugInfo,
    memoryReservation: o.memoryReservation, memoryGuardSize: o.memoryGuardSize, profiler: o.profiler,
    coredumpOnTrap: o.coredumpOnTrap, sharedMemory: o.sharedMemory,
  })
  return out
}

/** A frozen set of `EngineOptions`. Shareable: `share()` returns a token carrying the options. */
export class Config {
  readonly options: Readonly<EngineOptions>
  constructor(options: EngineOptions = {}) {
    native.NativeEngine.checkOptions(toNativeOptions(options)) // validate early, names included
    let copy: EngineOptions
    try {
      copy = structuredClone(options)
    } catch {
      throw typeError('engine options must be plain data (no functions or class instances)', 'ERR_INVALID_ARG_VALUE')
    }
    this.options = deepFreeze(copy)
  }

  share(): Shared<'Config'> & { readonly options: Readonly<EngineOptions> } {
    return Object.freeze({ ...token('Config', 'options'), options: this.options })
  }

  static fromShared(t: Shared<'Config'>): Config {
    if (!isToken(t, 'Config') || !(t as { options?: unknown }).options) throw typeError('expected a shared Config token')
    return new Config((t as unknown as { options: EngineOptions }).options)
  }
}

let defaultEngine: Engine | undefined

/**
 * Compiles and runs wasm. Shareable: the same native engine may be used from every worker.
 * `Engine.default` is one engine per process (the same native engine in every worker).
 */
export class Engine {
  /** Makes `postMessage(engine)` throw a DataCloneError that says to post `engine.share()`. */
  readonly shareable: symbol = SHAREABLE
  /** @internal */
  readonly _native: Native.NativeEngine

  constructor(config?: Config | EngineOptions) {
    const options = config instanceof Config ? config.options : config ?? {}
    this._native = new native.NativeEngine(toNativeOptions(options as EngineOptions))
  }

  /** The process-wide default engine (wasmtime's default configuration). */
  static get default(): Engine {
    return (defaultEngine ??= wrapAs(Engine, { _native: native.NativeEngine.default() }, 'shareable'))
  }

  /** @internal A wrapper for a native engine; the default engine keeps its one wrapper. */
  static _wrap(n: Native.NativeEngine): Engine {
    if (Engine.default._native.same(n)) return Engine.default
    return wrapAs(Engine, { _native: n }, 'shareable')
  }

  /**
   * Compile wasm bytes (or WAT text) to the bytes `Module.deserialize` loads (a `.cwasm`), for
   * an engine of the same configuration and wasmtime version. Throws `CompileError`.
   */
  precompileModule(bytes: ArrayBufferView | ArrayBuffer | string): Buffer {
    if (!(typeof bytes === 'string' || ArrayBuffer.isView(bytes) || bytes instanceof ArrayBuffer)) {
      throw typeError('expected wasm bytes (an ArrayBuffer or a typed array) or WAT text (a string)')
    }
    return this._native.precompileModule(bytes)
  }

  /**
   * Compile a component (binary, or component text format) to the bytes `Component.deserialize`
   * loads, for an engine of the same configuration and wasmtime version. Throws `CompileError`.
   */
  precompileComponent(bytes: ArrayBufferView | ArrayBuffer | string): Buffer {
    if (!(typeof bytes === 'string' || ArrayBuffer.isView(bytes) || bytes instanceof ArrayBuffer)) {
      throw typeError('expected component bytes (an ArrayBuffer or a typed array) or component WAT text (a string)')
    }
    return this._native.precompileComponent(bytes)
  }

  /** Advance the epoch (for epoch deadlines). Safe from any thread. */
  incrementEpoch(): void {
    this._native.incrementEpoch()
  }

  /** Whether epoch interruption is on (the default): interrupts and timeouts work. */
  get epochInterruption(): boolean {
    return this._native.epochInterruption
  }

  /** A token for `Engine.fromShared` in another worker (survives postMessage). */
  share(): Shared<'Engine'> {
    return token('Engine', this._native.share())
  }

  /** A handle to the same native engine as the one that made `t`. */
  static fromShared(t: Shared<'Engine'>): Engine {
    if (!isToken(t, 'Engine')) throw typeError('expected a shared Engine token ({ kind: "Engine", id })')
    return Engine._wrap(native.NativeEngine.fromShared(t.id))
  }
}

/** The engine given (an Engine or a shared Engine token), or a TypeError. */
export function checkEngine(e: unknown, what = 'engine'): Engine {
  if (e instanceof Engine) return e
  if (isToken(e, 'Engine')) return Engine.fromShared(e)
  throw typeError(`${what} must be an Engine or a shared Engine token`)
}

function cacheDirectory(c: unknown): string | undefined {
  if (c === undefined || c === false) return undefined
  if (c === true) {
    const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache')
    return join(base, 'wasmtime-node')
  }
  if (c && typeof c === 'object') checkKeys(c, ['directory'], 'cache')
  if (c && typeof c === 'object' && typeof (c as { directory?: unknown }).directory === 'string' && (c as { directory: string }).directory !== '') {
    return resolve((c as { directory: string }).directory)
  }
  throw typeError('cache must be true, false or { directory: string }', 'ERR_INVALID_ARG_VALUE')
}

const U32_MAX = 0xffffffff

/** `o[k]`, if present, must be an integer in [0, max] (a RangeError names it otherwise). */
function checkCount(o: Record<string, unknown>, k: string, max: number, prefix = ''): void {
  const v = o[k]
  if (v === undefined) return
  if (typeof v !== 'number') throw typeError(`${prefix}${k} must be a number`)
  if (!Number.isInteger(v) || v < 0 || v > max) throw rangeError(`${prefix}${k} must be an integer in [0, ${max}], got ${v}`)
}
