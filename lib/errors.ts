import { threadId } from 'node:worker_threads'
import { native } from './native'

/** One frame of a trap's wasm backtrace, innermost first. */
export interface Frame {
  /** The module's name (from its name section), if any. */
  readonly module: string | null
  /** The function's name (from the name section), if any. */
  readonly func: string | null
  /** The function's index in its module. */
  readonly funcIndex: number
  /** Byte offset of the instruction in the module binary, if known. */
  readonly offset: number | null
}

/** Base class of every error this package defines; `code` is stable across versions. */
export class WasmtimeError extends Error {
  readonly code: string
  constructor(message: string, code = 'ERR_WASMTIME') {
    super(message)
    this.code = code
  }
  override get name(): string {
    return this.constructor.name
  }
}

/** Invalid or malformed wasm, or invalid WAT. Code `ERR_WASM_COMPILE`. */
export class CompileError extends WasmtimeError {
  constructor(message: string) {
    super(message, 'ERR_WASM_COMPILE')
  }
}

/** Imports missing or of the wrong type/kind. Code `ERR_WASM_LINK`. */
export class LinkError extends WasmtimeError {
  constructor(message: string) {
    super(message, 'ERR_WASM_LINK')
  }
}

export type TrapCode =
  | 'unreachable' | 'memory_out_of_bounds' | 'table_out_of_bounds' | 'indirect_call_to_null'
  | 'bad_signature' | 'integer_overflow' | 'integer_division_by_zero' | 'bad_conversion_to_integer'
  | 'stack_overflow' | 'out_of_fuel' | 'interrupt' | 'heap_misaligned' | 'null_reference' | (string & {})

/** wasm code trapped. Code `ERR_WASM_TRAP`; `trapCode` says why, `wasmBacktrace` where. */
export class Trap extends WasmtimeError {
  readonly trapCode: TrapCode
  readonly wasmBacktrace: readonly Frame[]
  /**
   * With the engine option `coredumpOnTrap`: the store at the trap as a core dump (the
   * tool-conventions format: memories, globals, the stack's frames), else `undefined`.
   */
  readonly coredump?: Uint8Array
  constructor(message: string, trapCode: TrapCode, wasmBacktrace: readonly Frame[] = [], coredump?: Uint8Array) {
    super(message, 'ERR_WASM_TRAP')
    this.trapCode = trapCode
    this.wasmBacktrace = Object.freeze(wasmBacktrace)
    if (coredump) this.coredump = coredump
  }
}

/**
 * A component function returned the `err` case of its `result<T, E>` (jco's convention): `payload`
 * is E. Code `ERR_COMPONENT_ERROR`. A host function implementing an import that returns a
 * `result` throws one (any error with a `payload` property) to return `err(payload)`.
 */
export class ComponentError extends WasmtimeError {
  readonly payload: unknown
  constructor(payload: unknown) {
    super(typeof payload === 'string' ? payload : `${describe(payload)} (see error.payload)`, 'ERR_COMPONENT_ERROR')
    this.payload = payload
  }
}

function describe(v: unknown): string {
  try {
    return typeof v === 'bigint' ? `${v}n` : (JSON.stringify(v) ?? String(v))
  } catch {
    return String(v)
  }
}

/** A WASI program called `proc_exit`. Code `ERR_WASI_EXIT`. */
export class WasiExit extends WasmtimeError {
  readonly exitCode: number
  constructor(exitCode: number) {
    super(`wasi program exited with code ${exitCode}`, 'ERR_WASI_EXIT')
    this.exitCode = exitCode
  }
}

/**
 * The store cannot be used as asked. Codes: `ERR_STORE_MOVED` (transferred away),
 * `ERR_STORE_BUSY` (running wasm), `ERR_STORE_CLOSED` (disposed), `ERR_WRONG_STORE`
 * (an object of another store).
 */
export class StoreStateError extends WasmtimeError {}

/** A TypeError/RangeError with a Node-style `code`. */
export function argError(kind: 'TypeError' | 'RangeError', code: string, message: string): Error {
  const e = kind === 'TypeError' ? new TypeError(message) : new RangeError(message)
  return Object.assign(e, { code })
}

export const typeError = (message: string, code = 'ERR_INVALID_ARG_TYPE') => argError('TypeError', code, message)
export const rangeError = (message: string, code = 'ERR_OUT_OF_RANGE') => argError('RangeError', code, message)

function frameText(f: Frame): string {
  const name = f.func ?? `wasm-function[${f.funcIndex}]`
  const where = f.offset === null ? '' : ` @ 0x${f.offset.toString(16)}`
  return `    at ${f.module ? `${f.module}!` : ''}${name}${where}`
}

let exceptionFactory: ((n: unknown) => unknown) | undefined

/** @internal lib/exception.ts: how a wasm exception's native object becomes an `Exception`. */
export function setExceptionFactory(f: (n: unknown) => unknown): void {
  exceptionFactory = f
}

/** Called by the native layer to build errors (see crate/error.rs), and wasm exceptions. */
function makeError(kind: string, code: string, message: string, trapCode?: string, rawFrames?: [string | null, string | null, number, number | null][], coredump?: Uint8Array): Error {
  switch (kind) {
    case 'Exception':
      // A wasm exception, not an error: `trapCode` holds its native object here.
      return exceptionFactory!(trapCode) as Error
    case 'TypeError':
    case 'RangeError':
      return argError(kind, code, message)
    case 'CompileError':
      return new CompileError(message)
    case 'LinkError':
      return new LinkError(message)
    case 'WasiExit':
      return new WasiExit(Number(message))
    case 'StoreStateError':
      return new StoreStateError(message, code)
    case 'Trap': {
      const frames = (rawFrames ?? []).map(([module, func, funcIndex, offset]) => Object.freeze({ module, func, funcIndex, offset }))
      const text = frames.length ? `${message}\nwasm backtrace:\n${frames.map(frameText).join('\n')}` : message
      return new Trap(text, trapCode ?? 'unknown', frames, coredump)
    }
    default:
      return new WasmtimeError(message, code)
  }
}

native.init(makeError as unknown as () => void, threadId)
