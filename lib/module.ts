import { native, type Native } from './native'
import { SHAREABLE, isToken, token, wrapAs, type Shared } from './wrap'
import { Engine, checkEngine } from './engine'
import { typeError } from './errors'
import { frozenJson, type ExportType, type FuncType, type ImportType } from './types'

export type BufferSource = ArrayBufferView | ArrayBuffer

function checkSource(bytes: unknown): BufferSource | string {
  if (typeof bytes === 'string' || ArrayBuffer.isView(bytes) || bytes instanceof ArrayBuffer || bytes instanceof SharedArrayBuffer) {
    return bytes as BufferSource | string
  }
  throw typeError('expected wasm bytes (an ArrayBuffer or a typed array) or WAT text (a string)')
}

/** Compiled wasm code. Shareable: usable from any store of its engine, in any worker. */
export class Module {
  /** Makes `postMessage(module)` throw a DataCloneError that says to post `module.share()`. */
  readonly shareable: symbol = SHAREABLE
  /** @internal */
  readonly _native: Native.NativeModule
  /** @internal */
  readonly _engine: Engine
  /** @internal */
  _imports?: readonly ImportType[]
  /** @internal */
  _exports?: readonly ExportType[]
  /** @internal Exported functions' types by name (instances reuse them: no per-instance query). */
  _funcTypes?: Map<string, FuncType>

  /** Compile wasm bytes, or WAT text given as a string. Throws `CompileError`. */
  constructor(engine: Engine | Shared<'Engine'>, bytes: BufferSource | string) {
    this._engine = checkEngine(engine)
    this._native = new native.NativeModule(this._engine._native, checkSource(bytes))
  }

  /** @internal */
  static _wrap(n: Native.NativeModule, engine: Engine): Module {
    const m = wrapAs(Module, { _native: n, _engine: engine }, 'shareable')
    return m
  }

  /** Compile off the JS thread. */
  static compile(engine: Engine | Shared<'Engine'>, bytes: BufferSource | string): Promise<Module> {
    try {
      const e = checkEngine(engine)
      const src = checkSource(bytes)
      return native.NativeModule.compileAsync(e._native, src).then((n) => Module._wrap(n as Native.NativeModule, e))
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** Whether `bytes` is a valid module for `engine`. */
  static validate(engine: Engine | Shared<'Engine'>, bytes: BufferSource | string): boolean {
    return native.NativeModule.validate(checkEngine(engine)._native, checkSource(bytes))
  }

  /** The module's name from its name section (`(module $name ...)`), or null. */
  get name(): string | null {
    return this._native.name ?? null
  }

  get imports(): readonly ImportType[] {
    return (this._imports ??= frozenJson(this._native.importsJson()))
  }

  get exports(): readonly ExportType[] {
    return (this._exports ??= frozenJson(this._native.exportsJson()))
  }

  /** @internal */
  _exportFuncTypes(): Map<string, FuncType> {
    if (!this._funcTypes) {
      this._funcTypes = new Map()
      for (const e of this.exports) if (e.type.kind === 'func') this._funcTypes.set(e.name, e.type.type)
    }
    return this._funcTypes
  }

  /** A token for `Module.fromShared` in another worker: O(1), no copy, no recompilation. */
  share(): Shared<'Module'> {
    return token('Module', this._native.share())
  }

  /** A handle to the same compiled module as the one that made `t`. */
  static fromShared(t: Shared<'Module'>): Module {
    if (!isToken(t, 'Module')) throw typeError('expected a shared Module token ({ kind: "Module", id })')
    const n = native.NativeModule.fromShared(t.id)
    return Module._wrap(n, Engine._wrap(n.engine()))
  }

  /** The engine that compiled this module. */
  get engine(): Engine {
    return this._engine
  }

  /**
   * Load compiled code made by `serialize()` or `Engine.precompileModule` — no compilation.
   * The bytes are machine code that runs as it is: pass only bytes you produced yourself,
   * hence the required `{ trusted: true }`. An engine of another configuration or wasmtime
   * version is refused (`WasmtimeError`, code `ERR_WASM_DESERIALIZE`).
   */
  static deserialize(engine: Engine | Shared<'Engine'>, bytes: BufferSource, opts: { trusted: true }): Module {
    const e = checkEngine(engine)
    checkTrusted(opts)
    if (!(ArrayBuffer.isView(bytes) || bytes instanceof ArrayBuffer)) throw typeError('bytes must be an ArrayBuffer or a typed array')
    return Module._wrap(native.NativeModule.deserialize(e._native, bytes), e)
  }

  /** `deserialize` from a file (memory-mapped; do not modify the file while the module lives). */
  static deserializeFile(engine: Engine | Shared<'Engine'>, path: string, opts: { trusted: true }): Module {
    const e = checkEngine(engine)
    checkTrusted(opts)
    if (typeof path !== 'string') throw typeError('path must be a string')
    return Module._wrap(native.NativeModule.deserializeFile(e._native, path), e)
  }

  /** The compiled code, loadable with `Module.deserialize` by a compatible engine. */
  serialize(): Buffer {
    return this._native.serialize()
  }
}

/** The module given (a Module or a shared Module token), or a TypeError. */
export function checkModule(m: unknown): Module {
  if (m instanceof Module) return m
  if (isToken(m, 'Module')) return Module.fromShared(m)
  throw typeError('module must be a Module or a shared Module token')
}

/** Compile WAT text to a wasm binary. Throws `CompileError`. */
export function wat2wasm(text: string): Uint8Array {
  if (typeof text !== 'string') throw typeError('wat2wasm expects a string')
  const b = native.wat2Wasm(text)
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

function checkTrusted(opts: unknown): void {
  if (!opts || typeof opts !== 'object' || (opts as { trusted?: unknown }).trusted !== true) {
    throw typeError('Module.deserialize runs the bytes as machine code: pass { trusted: true } to confirm they come from serialize() or precompileModule() of your own', 'ERR_INVALID_ARG_VALUE')
  }
}
