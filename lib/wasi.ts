// WASI preview 1: options, the store's WASI set-up, and the one-call helpers.
import { Component, ComponentLinker, isComponentBinary } from './component'
import { Engine } from './engine'
import { native } from './native'
import { checkKeys, type HostFunction } from './types'
import { WasiExit, WasmtimeError, typeError } from './errors'
import { Linker } from './linker'
import { Module, type BufferSource } from './module'
import { Store, WASI_OUTPUT_MODULE, type ProfilingOptions } from './store'
import type { Instance } from './instance'

/** A guest's stdout or stderr. */
export type WasiOutput = 'inherit' | 'capture' | 'discard' | ((chunk: Uint8Array) => void)

/**
 * WASI preview 1 for a store (`new Store(engine, { wasi })`). The guest sees nothing of the host
 * but what is given here: no env, no args, no files, no sockets unless granted.
 */
export interface WasiOptions {
  /** The guest's argv (argv[0] included). Default: none. */
  args?: string[]
  /** The guest's environment. Default: empty (the host's is never passed implicitly). */
  env?: Record<string, string>
  /** Bytes or text to read, or `'inherit'` (the process's stdin). Default: empty. */
  stdin?: Uint8Array | ArrayBuffer | string | 'inherit'
  /**
   * Default `'discard'` for a store, `'inherit'` for `runWasi`. `'capture'` keeps the bytes (up
   * to 64 MiB, past that writes trap) for `store.takeWasiOutput()` / `WasiResult.stdout`. A
   * function receives each chunk the guest writes: before a JS host function runs and when a
   * call returns (sync calls), or as written (`callAsync`, `runWasiAsync`). A callback that
   * throws makes the call throw that exception.
   */
  stdout?: WasiOutput
  stderr?: WasiOutput
  /**
   * Guest path → host directory (a path, or `{ path, readonly }`). The guest can reach only
   * these directories: `..`, absolute paths and symlinks that lead out are refused.
   */
  preopens?: Record<string, string | { path: string; readonly?: boolean }>
}

export interface WasiResult {
  exitCode: number
  /** Present when stdout was `'capture'`. */
  stdout?: Uint8Array
  stderr?: Uint8Array
  /** With the `profile` option: the run's guest profile (see `store.stopProfiling`). */
  profile?: string
}

/** `runWasi` options: WASI plus limits for the run. */
export interface RunWasiOptions extends WasiOptions {
  /** Fuel for the run (then an engine with `consumeFuel` is used for bytes/WAT input). */
  fuel?: number | bigint
  /** Wall-clock limit of the run in ms (traps with `interrupt`). */
  timeoutMs?: number
  /**
   * Profile the run (`true`: every 1 ms): the result's `profile`, or the thrown error's when
   * the guest traps (see `store.startProfiling`). Core modules only.
   */
  profile?: boolean | ProfilingOptions
}


const WASI_KEYS = ['args', 'env', 'stdin', 'stdout', 'stderr', 'preopens'] as const

/** @internal Validate `opts` and give `store` its WASI context. */
export function configureWasi(store: Store, opts: unknown): void {
  if (!opts || typeof opts !== 'object') throw typeError('wasi options must be an object')
  checkKeys(opts, WASI_KEYS, 'wasi')
  const o = opts as WasiOptions
  const args = o.args ?? []
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw typeError('wasi.args must be an array of strings')
  if (args.some((a) => a.includes('\0'))) throw typeError('wasi.args must not contain NUL characters', 'ERR_INVALID_ARG_VALUE')
  const env = envPairs(o.env)
  const [stdin, stdinBytes] = stdinOf(o.stdin)
  const [stdout, stdoutSlot] = outputOf(store, o.stdout, 'stdout')
  const [stderr, stderrSlot] = outputOf(store, o.stderr, 'stderr')
  const preopens = preopensOf(o.preopens)
  store._native.configureWasi({ args, env, stdin, stdout, stderr, stdoutSlot, stderrSlot, preopens }, stdinBytes)
}

function envPairs(env: unknown): string[][] {
  if (env === undefined) return []
  if (!env || typeof env !== 'object') throw typeError('wasi.env must be an object of strings')
  return Object.entries(env).map(([k, v]) => {
    if (typeof v !== 'string') throw typeError(`wasi.env.${k} must be a string`)
    if (k === '' || k.includes('=') || k.includes('\0') || v.includes('\0')) throw typeError(`wasi.env: invalid variable ${JSON.stringify(k)}`, 'ERR_INVALID_ARG_VALUE')
    return [k, v]
  })
}

function stdinOf(v: unknown): [string, Uint8Array | ArrayBuffer | undefined] {
  if (v === undefined) return ['none', undefined]
  if (v === 'inherit') return ['inherit', undefined]
  if (typeof v === 'string') return ['bytes', Buffer.from(v, 'utf8')]
  if (ArrayBuffer.isView(v)) return ['bytes', new Uint8Array(v.buffer, v.byteOffset, v.byteLength)]
  if (v instanceof ArrayBuffer) return ['bytes', v]
  throw typeError("wasi.stdin must be a Uint8Array, an ArrayBuffer, a string or 'inherit'")
}

/** The native mode of an output, and the slot of its callback in the store's table. */
function outputOf(store: Store, v: unknown, name: 'stdout' | 'stderr'): [string, number | undefined] {
  if (v === undefined) return ['discard', undefined]
  if (v === 'inherit' || v === 'capture' || v === 'discard') return [v, undefined]
  if (typeof v !== 'function') throw typeError(`wasi.${name} must be 'inherit', 'capture', 'discard' or a function`)
  return ['callback', addOutputCallback(store, name, v as HostFunction)]
}

/**
 * @internal Put an output callback in the store's host-function table (a slot like any host
 * function's, so that `Store.receive` can re-bind it by module/name after a transfer).
 */
export function addOutputCallback(store: Store, name: string, fn: HostFunction): number {
  const slot = store._fns.length
  native.NativeFunc.host(store._native, slot, [], [], WASI_OUTPUT_MODULE, name)
  store._fns.push(fn)
  return slot
}

function preopensOf(v: unknown): { guest: string; host: string; readonly: boolean }[] {
  if (v === undefined) return []
  if (!v || typeof v !== 'object') throw typeError('wasi.preopens must be an object: guest path → host directory')
  return Object.entries(v).map(([guest, d]) => {
    const spec = typeof d === 'string' ? { path: d } : d
    if (!spec || typeof spec !== 'object' || typeof (spec as { path?: unknown }).path !== 'string') {
      throw typeError(`wasi.preopens[${JSON.stringify(guest)}] must be a directory path or { path, readonly }`)
    }
    checkKeys(spec, ['path', 'readonly'], `wasi.preopens[${JSON.stringify(guest)}]`)
    if (guest.includes('\0') || (spec as { path: string }).path.includes('\0')) throw typeError('wasi.preopens paths must not contain NUL characters', 'ERR_INVALID_ARG_VALUE')
    const ro = (spec as { readonly?: unknown }).readonly ?? false
    if (typeof ro !== 'boolean') throw typeError(`wasi.preopens[${JSON.stringify(guest)}].readonly must be a boolean`)
    return { guest, host: (spec as { path: string }).path, readonly: ro }
  })
}

let fuelEngine: Engine | undefined
const wasiLinkers = new WeakMap<Engine, Linker>()

/** A linker with WASI for `engine` (one per engine and thread: it has no JS functions). */
function wasiLinker(engine: Engine): Linker {
  let l = wasiLinkers.get(engine)
  if (!l) wasiLinkers.set(engine, (l = new Linker(engine).defineWasi()))
  return l
}

function moduleOf(m: unknown, fuel: boolean): Module {
  if (m instanceof Module) return m
  if (!(typeof m === 'string' || ArrayBuffer.isView(m) || m instanceof ArrayBuffer)) {
    throw typeError('module must be a Module, wasm bytes or WAT text')
  }
  const engine = fuel ? (fuelEngine ??= new Engine({ consumeFuel: true })) : Engine.default
  return new Module(engine, m as BufferSource | string)
}

function checkRunOptions(opts: unknown, async = false): RunWasiOptions {
  if (!opts || typeof opts !== 'object') throw typeError('options must be an object')
  checkKeys(opts, async ? [...WASI_KEYS, 'fuel', 'timeoutMs', 'profile', 'signal'] : [...WASI_KEYS, 'fuel', 'timeoutMs', 'profile'], async ? 'runWasiAsync' : 'runWasi')
  const { profile } = opts as RunWasiOptions
  if (profile !== undefined && typeof profile !== 'boolean' && (!profile || typeof profile !== 'object')) throw typeError('profile must be a boolean or profiling options')
  return opts as RunWasiOptions
}

interface Run {
  store: Store
  instance: Instance
  start: ((...a: unknown[]) => unknown) & { callAsync(...a: unknown[]): Promise<unknown> }
  capture: [boolean, boolean]
  /** The run is profiled (option `profile`). */
  profiling?: boolean
}

/** Instantiate a WASI command or reactor in a fresh store (an async one for `runWasiAsync`: it runs on the pool). */
function prepare(module: unknown, opts: RunWasiOptions, pooled = false): Run {
  const m = moduleOf(module, opts.fuel !== undefined)
  const { fuel, timeoutMs, profile, signal: _signal, ...wasiOptions } = opts as RunWasiOptions & { signal?: unknown }
  const wasi: WasiOptions = { stdout: 'inherit', stderr: 'inherit', ...wasiOptions }
  const store = new Store(m.engine, { wasi, fuel, timeoutMs, async: pooled })
  try {
    const instance = wasiLinker(m.engine).instantiate(store, m)
    const ex = instance.exports as Record<string, unknown>
    const start = ex._start ?? ex._initialize
    if (typeof start !== 'function') throw typeError('the module exports neither _start (a command) nor _initialize (a reactor)', 'ERR_INVALID_ARG_VALUE')
    if (profile) store.startProfiling(profile === true ? {} : profile)
    return { store, instance, start: start as Run['start'], capture: [wasi.stdout === 'capture', wasi.stderr === 'capture'], profiling: !!profile }
  } catch (e) {
    store.dispose()
    throw e
  }
}

const componentWasiLinkers = new WeakMap<Engine, ComponentLinker>()

/**
 * Run a `wasi:cli/command` component (WASI 0.2) in a fresh store: exit code 0 when `run` returns
 * ok, 1 when it returns err, n for `exit(n)`.
 */
function runCommand(source: Component | BufferSource, opts: RunWasiOptions): WasiResult {
  const engine = opts.fuel !== undefined ? (fuelEngine ??= new Engine({ consumeFuel: true })) : Engine.default
  const c = source instanceof Component ? source : new Component(engine, source)
  const { fuel, timeoutMs, profile, ...wasiOptions } = opts
  if (profile) throw new WasmtimeError('runWasi profiles core modules only in this version: for a component, use store.startProfiling after instantiating it', 'ERR_COMPONENT_UNSUPPORTED')
  const wasi: WasiOptions = { stdout: 'inherit', stderr: 'inherit', ...wasiOptions }
  const store = new Store(c.engine, { wasi, fuel, timeoutMs })
  try {
    let linker = componentWasiLinkers.get(c.engine)
    if (!linker) componentWasiLinkers.set(c.engine, (linker = new ComponentLinker(c.engine).defineWasi()))
    let code = 0
    try {
      code = linker._runCommand(store, c) ? 0 : 1
    } catch (e) {
      code = exitCodeOf(e)
    }
    return finish({ store, capture: [wasi.stdout === 'capture', wasi.stderr === 'capture'] }, code)
  } finally {
    store.dispose()
  }
}

function finish(run: Pick<Run, 'store' | 'capture' | 'profiling'>, exitCode: number): WasiResult {
  const r: WasiResult = { exitCode }
  if (run.capture[0]) r.stdout = run.store.takeWasiOutput('stdout')
  if (run.capture[1]) r.stderr = run.store.takeWasiOutput('stderr')
  if (run.profiling) r.profile = run.store.stopProfiling()
  return r
}

/** `proc_exit(n)` ends the run with exit code n; anything else propagates (with the profile). */
function exitCodeOf(e: unknown, run?: Run): number {
  if (e instanceof WasiExit) return e.exitCode
  if (run?.profiling && e instanceof Error) Object.assign(e, { profile: run.store.stopProfiling() })
  throw e
}

/**
 * Run a WASI command (`_start`; a reactor's `_initialize`) in a fresh store and return its exit
 * code and captured output. stdout/stderr default to `'inherit'`. A trap throws `Trap`.
 */
export function runWasi(module: Module | Component | BufferSource | string, options: RunWasiOptions = {}): WasiResult {
  const opts = checkRunOptions(options)
  if (module instanceof Component || isComponentBinary(module)) return runCommand(module as Component | BufferSource, opts)
  const run = prepare(module, opts)
  try {
    let code = 0
    try {
      run.start()
    } catch (e) {
      code = exitCodeOf(e, run)
    }
    return finish(run, code)
  } finally {
    run.store.dispose()
  }
}

/**
 * `runWasi` off the event loop: the program runs as a fiber on the process-wide pool (an async
 * store, see `StoreOptions.async`); output callbacks receive chunks as written.
 */
export async function runWasiAsync(module: Module | BufferSource | string, options: RunWasiOptions & { signal?: AbortSignal } = {}): Promise<WasiResult> {
  const opts = checkRunOptions(options, true) as RunWasiOptions & { signal?: AbortSignal }
  if (module instanceof Component || isComponentBinary(module)) {
    throw new WasmtimeError('runWasiAsync does not run components yet (this version of wasmtime-node): use runWasi', 'ERR_COMPONENT_UNSUPPORTED')
  }
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) throw typeError('signal must be an AbortSignal')
  const run = prepare(module, opts, true)
  try {
    let code = 0
    try {
      await (opts.signal ? run.start.callAsync({ signal: opts.signal }) : run.start.callAsync())
    } catch (e) {
      code = exitCodeOf(e, run)
    }
    return finish(run, code)
  } finally {
    run.store.dispose()
  }
}
