// Type-level test of the public API, as a user of the package sees it: 'wasmtime-node' resolves
// (package self-reference) to the built dist/index.d.ts. Never run, only type-checked by
// `npm run typecheck` (and __test__/typecheck.test.ts). The first part must compile; every line
// after a `// @ts-expect-error` must NOT compile (tsc fails if it does: the types got looser).
import {
  CompileError, Config, Engine, ExternRef, Func, Global, Instance, InstancePre, InterruptHandle, LinkError, Linker,
  Memory, Module, MovedExternRef, Store, StoreStateError, Table, Trap, WasiExit, WasmtimeError, runWasi,
  runWasiAsync, wat2wasm, withCaller, Caller, Component, ComponentLinker,
  type BufferSource, type CallOptions, type EngineOptions, type ExportType, type ExportValue, type ExportedFunction,
  type Frame, type FuncType, type GlobalType, type HostFunction, type ImportType, type ImportValue, type Imports,
  type MemoryType, type PoolingOptions, type ReceiveImports, type ReceiveWasi, type RunWasiOptions, type Shared,
  type StoreLimits, type StoreObject, type StoreOptions, type StoreTransfer, type TableType, type TrapCode,
  type ValType, type WasiOptions, type WasiOutput, type WasiResult, type WasmFeature,
  type FuncSignature, type UntypedSignature, type WasmToJs, type JsToWasm,
} from 'wasmtime-node'

declare const bytes: Uint8Array
declare const signal: AbortSignal

// ---------------------------------------------------------------------------------------------
// Correct usages: each is assigned to an explicitly typed variable, so its type is checked.
// ---------------------------------------------------------------------------------------------

// Engine, Config, EngineOptions
const pooling: PoolingOptions = { totalCoreInstances: 10, totalMemories: 10, totalTables: 10, maxMemorySize: 1 << 20 }
const features: WasmFeature[] = ['simd', 'threads', 'memory64']
const engineOptions: EngineOptions = {
  strategy: 'cranelift', optLevel: 'speed', consumeFuel: true, epochInterruption: true, maxWasmStack: 1 << 20,
  features: { simd: true, gc: false }, allocator: { pooling }, cache: { directory: '/tmp/cache' },
  parallelCompilation: true, debugInfo: false, memoryReservation: 1 << 30, memoryGuardSize: 1 << 16,
}
const onDemand: EngineOptions = { allocator: 'on-demand', cache: true }
const config: Config = new Config(engineOptions)
const frozenOptions: Readonly<EngineOptions> = config.options
const configToken: Shared<'Config'> = config.share()
const configBack: Config = Config.fromShared(config.share())
const engine: Engine = new Engine(onDemand)
const engineFromConfig: Engine = new Engine(config)
const defaultEngine: Engine = Engine.default
const engineToken: Shared<'Engine'> = engine.share()
const engineBack: Engine = Engine.fromShared(engineToken)
const cwasm: Buffer = engine.precompileModule('(module)')
const epochs: boolean = engine.epochInterruption
engine.incrementEpoch()

// Module
const wasm: Uint8Array = wat2wasm('(module (func (export "f")))')
const source: BufferSource = wasm
const module: Module = new Module(engine, wasm)
const moduleFromWat: Module = new Module(engineToken, '(module)')
const compiled: Promise<Module> = Module.compile(engine, source)
const valid: boolean = Module.validate(engine, bytes)
const moduleName: string | null = module.name
const imports: readonly ImportType[] = module.imports
const exportTypes: readonly ExportType[] = module.exports
const moduleToken: Shared<'Module'> = module.share()
const moduleBack: Module = Module.fromShared(moduleToken)
const moduleEngine: Engine = module.engine
const serialized: Buffer = module.serialize()
const deserialized: Module = Module.deserialize(engine, serialized, { trusted: true })
const fromFile: Module = Module.deserializeFile(engine, '/tmp/m.cwasm', { trusted: true })
for (const e of module.exports) {
  if (e.type.kind === 'func') {
    const ft: FuncType = e.type.type // narrowed by `kind`
    const params: readonly ValType[] = ft.params
  } else if (e.type.kind === 'memory') {
    const mt: MemoryType = e.type.type
  }
}

// Store, StoreOptions, StoreLimits
const limits: StoreLimits = { memorySize: 1 << 20, tableElements: 100, instances: 1, tables: 1, memories: 1 }
const storeOptions: StoreOptions<{ user: string }> = { data: { user: 'u' }, fuel: 10n, limits, timeoutMs: 50 }
const store: Store<{ user: string }> = new Store(engine, storeOptions)
const user: string = store.data.user
const defaultStore: Store = new Store()
const storeOnToken: Store<number> = new Store(engineToken, { data: 1 })
store.setFuel(1_000)
const fuel: number | bigint = store.getFuel()
store.setTimeout(null)
store.setEpochDeadline(1)
store.setLimits({ memorySize: 2 << 20 })
const handle: InterruptHandle = store.interruptHandle()
const handleToken: Shared<'InterruptHandle'> = handle.share()
const handleBack: InterruptHandle = InterruptHandle.fromShared(handleToken)
handleBack.interrupt()
const captured: Uint8Array = store.takeWasiOutput('stdout')
store.gc()
{
  using scoped = new Store(engine) // Symbol.dispose
  const scopedEngine: Engine = scoped.engine
}

// Instance, exports, imports
const host: HostFunction = (a: number, b: number) => a + b
const func: Func = new Func(store, { params: ['i32', 'i32'], results: ['i32'] }, host, { module: 'env', name: 'add' })
const funcType: FuncType = func.type
const callable: ExportedFunction = func.callable
const callResult: unknown = func.call(1, 2)
const callAsyncResult: Promise<unknown> = func.callAsync(1, 2)
const memory: Memory = new Memory(store, { minimum: 1, maximum: 2 })
const globalType: GlobalType = { value: 'i32', mutable: true }
const global: Global = new Global(store, globalType, 0)
global.value = 1
const tableType: TableType = { element: 'externref', minimum: 1 }
const table: Table = new Table(store, tableType, null)
const importValues: ImportValue[] = [host, func, memory, table, global]
const importObject: Imports = { env: { add: host, add2: func, memory, table, global } }
const instance: Instance = new Instance(store, module, importObject)
const instanceFromToken: Instance = new Instance(store, moduleToken)
const exportsRecord: Record<string, ExportValue> = instance.exports
const maybeFunc: Func | null = instance.getFunc('f')
const maybeMemory: Memory | null = instance.getMemory('memory')
const maybeTable: Table | null = instance.getTable('t')
const maybeGlobal: Global | null = instance.getGlobal('g')
const f = instance.exports.f
if (typeof f === 'function') {
  const result: unknown = f(1, 2n) // an ExportedFunction (narrowed by typeof)
  const fType: FuncType = f.type
  const fFunc: Func = f.func
  const callOptions: CallOptions = { signal, timeoutMs: 10, fuel: 100n }
  const later: Promise<unknown> = f.callAsync(1, callOptions)
} else if (f instanceof Memory) {
  const pages: number = f.grow(1) + f.size()
  const view: ArrayBuffer = f.buffer
  const copy: Uint8Array = f.read(0, 4)
  f.write(0, copy)
  const type: MemoryType = f.type
}
const tableSize: number = table.grow(1, null) + table.size()
table.set(0, new ExternRef(store, { any: 'value' }))
const element: unknown = table.get(0)
const externValue: unknown = new ExternRef(store, 'x').value

// Linker, InstancePre
const linker: Linker = new Linker(engine).defineWasi().func('env', 'add', { params: ['i32', 'i32'], results: ['i32'] }, host)
linker.allowShadowing = true
const linkerEngine: Engine = linker.define(store, 'env', 'memory', memory).defineInstance(store, 'other', instance).engine
const linked: Instance = linker.instantiate(store, module)
const pre: InstancePre = linker.instantiatePre(moduleToken)
const preInstance: Instance = pre.instantiate(store)
const preModule: Module = pre.module
const preLinker: Linker = pre.linker

// Moving a store between threads
const storeObject: StoreObject = instance
const transfer: StoreTransfer = store.transfer({ instance, memory, f: callable })
const transferNames: readonly string[] = transfer.names
const receiveImports: ReceiveImports = { env: { add: host, add2: func } }
const receiveWasi: ReceiveWasi = { stdout: (chunk: Uint8Array) => void chunk }
const received: { store: Store } = Store.receive(transfer, { imports: receiveImports, data: 1, wasi: receiveWasi })
const moved: { readonly movedExternRef: true } = MovedExternRef
const receivedTyped: Store<number> = Store.receive<number>(transfer).store // the transferred primitive, declared
const receivedData: { n: number } = Store.receive(transfer, { data: { n: 1 } }).store.data // inferred from `data`
const receivedUnknown: unknown = Store.receive(transfer).store.data
const funcTransfer: StoreTransfer = store.transfer({ func }) // a Func moves too

// Typed exports: `E` of Instance<E> (and of linker.instantiate<E>, linker.instantiatePre<E>)
// declares what the module exports; function members are typed exactly as declared.
interface AddExports {
  add(a: number, b: number): number
  big(x: bigint): bigint
  pair(): [number, bigint]
  nothing(): void
  memory: Memory
  counter: Global
  table: Table
}
const typed = new Instance<AddExports>(store, module, importObject)
const sum: number = typed.exports.add(1, 2)
const bigSum: bigint = typed.exports.big(1n)
const [first, second]: [number, bigint] = typed.exports.pair()
typed.exports.nothing()
const typedMemory: Memory = typed.exports.memory
const typedGlobal: Global = typed.exports.counter
const typedTable: Table = typed.exports.table
const addFunc: Func = typed.exports.add.func // still an ExportedFunction: .func, .type, .callAsync
const addType: FuncType = typed.exports.add.type
const addLater: Promise<number> = typed.exports.add.callAsync(1, 2)
const addLaterOptions: Promise<number> = typed.exports.add.callAsync(1, 2, { timeoutMs: 5, signal })
const addExported: ExportedFunction<(a: number, b: number) => number> = typed.exports.add
const addPlain: (a: number, b: number) => number = typed.exports.add
const typedIsInstance: Instance = typed // usable wherever an Instance is
const typedIsStoreObject: StoreObject = typed
const typedLinked: Instance<AddExports> = linker.instantiate<AddExports>(store, module)
const linkedSum: number = typedLinked.exports.add(1, 2)
const typedPre: InstancePre<AddExports> = linker.instantiatePre<AddExports>(module)
const preSum: number = typedPre.instantiate(store).exports.add(1, 2)
const untypedPre: InstancePre = typedPre
const inlineTyped: bigint = new Instance<{ f(x: bigint): bigint }>(store, module).exports.f(2n)
linker.defineInstance(store, 'typed', typed)
// Untyped exports: an ExportValue; a function's result is `unknown` until narrowed.
const g = instance.exports.g
if (typeof g === 'function') {
  const r: unknown = g(1)
  if (typeof r === 'number') {
    const narrowed: number = r
  }
  const asserted: number = g(1) as number // or declared: see AddExports
}
const untypedCallable: ExportedFunction = typed.exports.add // a typed export is an ExportedFunction

// Typed host functions and Funcs: a literal FuncType types the function (no `as const` needed).
const typedFunc = new Func(store, { params: ['i32', 'i64'], results: ['f64'] }, (a, b) => {
  const n: number = a
  const big: bigint = b
  return n + Number(big)
})
const typedCall: number = typedFunc.call(1, 2n)
const typedCallable: (a: number, b: bigint) => number = typedFunc.callable
const typedCallAsync: Promise<number> = typedFunc.callAsync(1, 2n, { fuel: 10 })
const typedFuncType: readonly ['i32', 'i64'] = typedFunc.type.params
const typedFuncIsFunc: Func = typedFunc
const typedImports: Imports = { env: { f: typedFunc, g: typedFunc.callable } }
const manyResults = new Func(store, { params: [], results: ['i32', 'i64'] }, () => [1, 2n])
const [manyFirst, manySecond]: [number, bigint] = manyResults.call()
const noResults = new Func(store, { params: ['f32'], results: [] }, (x) => void x)
const noResult: void = noResults.call(1.5)
const refFunc = new Func(store, { params: ['funcref', 'externref', 'v128'], results: ['funcref'] }, (fr, ext, v) => {
  const received: ExportedFunction | null = fr // a funcref arrives as a callable (or null)
  const payload: unknown = ext
  const bytes: Uint8Array = v
  return received ?? func // a Func, an exported function or null goes back
})
const refResult: ExportedFunction | null = refFunc.call(null, { any: 'value' }, new Uint8Array(16))
const asyncHost = new Func(store, { params: ['i32'], results: ['i32'] }, async (x) => x + 1) // for callAsync
linker.func('env', 'mul', { params: ['i64', 'i64'], results: ['i64'] }, (a, b) => a * b)
const typedHost: HostFunction<{ params: ['i32'], results: ['i32'] }> = (x) => x * 2
const untypedHost: HostFunction = (...args: unknown[]) => args.length // any function, result unknown
const signature: FuncSignature<{ params: ['i32', 'i64'], results: ['f64'] }> = typedFunc.callable
const anySignature: UntypedSignature = typedFunc.callable
declare const someFuncType: FuncType // not a literal: the function is untyped
const untypedFunc: Func = new Func(store, someFuncType, (...args: unknown[]) => args.length)
const untypedCall: unknown = untypedFunc.call(1, 'anything')
const i64Out: WasmToJs<'i64'> = 1n
const v128Out: WasmToJs<'v128'> = new Uint8Array(16)
const v128In: JsToWasm<'v128'> = new DataView(new ArrayBuffer(16))
const funcrefIn: JsToWasm<'funcref'> = typedFunc

// WASI
const stdout: WasiOutput = (chunk: Uint8Array) => void chunk.byteLength
const wasiOptions: WasiOptions = {
  args: ['prog', '--flag'], env: { HOME: '/' }, stdin: 'text input', stdout, stderr: 'capture',
  preopens: { '/data': '/tmp', '/ro': { path: '/etc', readonly: true } },
}
const wasiStore: Store = new Store(engine, { wasi: { ...wasiOptions, stdin: 'inherit', stdout: 'discard' } })
const runOptions: RunWasiOptions = { ...wasiOptions, fuel: 1_000_000, timeoutMs: 1_000 }
const result: WasiResult = runWasi(bytes, { stdout: 'capture' })
const exitCode: number = result.exitCode
const capturedStdout: Uint8Array | undefined = result.stdout
const fromModule: WasiResult = runWasi(module, runOptions)
const fromWat: WasiResult = runWasi('(module (func (export "_start")))')
const asyncResult: Promise<WasiResult> = runWasiAsync(bytes, { ...runOptions, signal })

// Errors
function describe(e: unknown): string {
  if (e instanceof Trap) {
    const code: TrapCode = e.trapCode
    const frames: readonly Frame[] = e.wasmBacktrace
    const where: string | null = frames[0]?.func ?? null
    return `${code} at ${where}`
  }
  if (e instanceof WasiExit) return `exit ${e.exitCode}`
  if (e instanceof CompileError || e instanceof LinkError || e instanceof StoreStateError) return e.code
  const base: WasmtimeError | null = e instanceof WasmtimeError ? e : null
  return base?.message ?? String(e)
}
const trapCode: TrapCode = 'out_of_fuel'
const errorIsError: Error = new Trap('trap', 'unreachable')

// ---------------------------------------------------------------------------------------------
// Misuses: each next line must fail to compile.
// ---------------------------------------------------------------------------------------------

// @ts-expect-error stdout is 'inherit' | 'capture' | 'discard' | a callback, not 'loud'
runWasi(bytes, { stdout: 'loud' })

// @ts-expect-error unknown option name (excess property: `stdoutt`)
runWasi(bytes, { stdoutt: 'capture' })

// @ts-expect-error runWasiAsync returns a Promise<WasiResult>, not a WasiResult
const notAwaited: WasiResult = runWasiAsync(bytes)

// @ts-expect-error Module.compile returns a Promise<Module>
const notAwaitedModule: Module = Module.compile(engine, bytes)

// @ts-expect-error Module.deserialize runs machine code: `{ trusted: true }` is required
Module.deserialize(engine, serialized)

// @ts-expect-error `trusted` must be the literal `true`, not any boolean
Module.deserialize(engine, serialized, { trusted: Math.random() > 0.5 })

// @ts-expect-error a string is not a Store
new Instance('store', module)

// @ts-expect-error an Engine is not a Store
new Memory(engine, { minimum: 1 })

// @ts-expect-error Store has no `run` method
store.run()

// @ts-expect-error allocator is 'on-demand' or { pooling: {...} }, not the pooling options themselves
new Engine({ allocator: { totalMemories: 10 } })

// @ts-expect-error allocator: 'pooling' is not a value (use { pooling: {} })
new Engine({ allocator: 'pooling' })

// @ts-expect-error pooling sizes are numbers
new Engine({ allocator: { pooling: { totalMemories: '10' } } })

// @ts-expect-error optLevel has no 'fast'
new Engine({ optLevel: 'fast' })

// @ts-expect-error no wasm feature called 'simd128'
new Engine({ features: { simd128: true } })

// @ts-expect-error consumeFuel is a boolean
new Engine({ consumeFuel: 'yes' })

// @ts-expect-error fuel is a number or a BigInt
new Store(engine, { fuel: '1000' })

// @ts-expect-error StoreLimits has no `memory` (it is `memorySize`)
new Store(engine, { limits: { memory: 1 << 20 } })

// @ts-expect-error store data of type number is not a string
const wrongData: Store<string> = new Store(engine, { data: 1 })

// @ts-expect-error a Module token is not an Engine token
Engine.fromShared(module.share())

// @ts-expect-error an Engine token is not a Module token
new Instance(store, engine.share())

// @ts-expect-error Engine.default is read-only
Engine.default = engine

// @ts-expect-error wat2wasm takes WAT text, not bytes
wat2wasm(bytes)

// @ts-expect-error 'i33' is not a value type
new Func(store, { params: ['i33'], results: [] }, host)

// @ts-expect-error a table element is 'funcref' or 'externref'
new Table(store, { element: 'i32', minimum: 1 })

// @ts-expect-error getFunc may return null
const notNull: Func = instance.getFunc('f')

// @ts-expect-error an export may be a Memory, Table or Global: not callable before narrowing
instance.exports.f(1)

// @ts-expect-error only 'stdout' or 'stderr' can be captured
store.takeWasiOutput('stdin')

// @ts-expect-error WASI env values are strings
new Store(engine, { wasi: { env: { N: 1 } } })

// @ts-expect-error WASI args are an array of strings, not one string
runWasi(bytes, { args: 'prog --flag' })

// @ts-expect-error a preopen is a path or { path, readonly }
runWasi(bytes, { preopens: { '/': { dir: '/tmp' } } })

// @ts-expect-error setTimeout takes milliseconds (a number) or null
store.setTimeout('100')

// @ts-expect-error InterruptHandle's constructor is protected: use store.interruptHandle()
new InterruptHandle()

// @ts-expect-error module.exports is read-only
module.exports.push({ name: 'x', type: { kind: 'func', type: { params: [], results: [] } } })

// @ts-expect-error WasmtimeError.code is read-only
errorIsError instanceof WasmtimeError && (errorIsError.code = 'X')

// @ts-expect-error a StoreTransfer token carries names/data/externs, not just kind and id
Store.receive({ kind: 'StoreTransfer', id: '1' })

// @ts-expect-error a receive import is a function or a Func, not a number
Store.receive(transfer, { imports: { env: { add: 42 } } })

// @ts-expect-error a primitive is not a store object
store.transfer({ n: 1 })

// @ts-expect-error Linker.func needs a function type (params and results) before the function
new Linker(engine).func('env', 'add', host)

// @ts-expect-error `hooks` is internal, not exported
import { hooks } from 'wasmtime-node'

// @ts-expect-error ExternRef needs the store it belongs to
new ExternRef({ value: 1 })

// @ts-expect-error a Global's type needs `mutable`
new Global(store, { value: 'i32' }, 0)

// @ts-expect-error Memory.buffer is read-only
memory.buffer = new ArrayBuffer(8)

// @ts-expect-error runWasi's fuel is a number or a BigInt, not a string
runWasi(bytes, { fuel: '10' })

// @ts-expect-error an InstancePre is made by linker.instantiatePre(module)
new InstancePre()

// @ts-expect-error a Date is not an object of a store
store.transfer({ when: new Date() })

// @ts-expect-error exports are read-only
instance.exports.extra = memory

// @ts-expect-error a typed export's result is a number, not a string
const typedString: string = typed.exports.add(1, 2)

// @ts-expect-error a typed export takes what it declares: numbers, not strings
typed.exports.add('1', 2)

// @ts-expect-error a typed export takes exactly its declared arguments
typed.exports.add(1)

// @ts-expect-error an i64 parameter takes a BigInt
typed.exports.big(1)

// @ts-expect-error `sub` is not a declared export
typed.exports.sub(1, 2)

// @ts-expect-error a declared Memory is not callable
typed.exports.memory(1)

// @ts-expect-error callAsync of a typed export resolves to its result type (a number)
const typedAsyncString: Promise<string> = typed.exports.add.callAsync(1, 2)

// @ts-expect-error typed exports are read-only
typed.exports.add = addPlain

// @ts-expect-error an export is a function, a Memory, a Table or a Global, not a string
new Instance<{ name: string }>(store, module)

// @ts-expect-error linker.instantiate<E> gives E's exports: add returns a number
const linkedString: string = linker.instantiate<AddExports>(store, module).exports.add(1, 2)

// @ts-expect-error InstancePre<E>.instantiate gives E's exports
const preString: string = typedPre.instantiate(store).exports.add(1, 2)

// @ts-expect-error a typed instance's declared exports are not another declaration's
const otherExports: Instance<{ add(a: string): string }> = typed

if (typeof g === 'function') {
  // @ts-expect-error an untyped export's result is `unknown`, not `any`: narrow it or declare the exports
  const untypedNumber: number = g(1, 2)
}

// @ts-expect-error an ExportedFunction's result is `unknown` by default
const callableString: string = callable(1, 2)

// @ts-expect-error Func.call's result is `unknown` without a literal FuncType
const funcCallString: string = func.call(1, 2)

// @ts-expect-error a typed Func takes its declared arguments: the i64 is a BigInt
typedFunc.call(1, 2)

// @ts-expect-error a typed Func's result is a number (f64)
const typedCallString: string = typedFunc.call(1, 2n)

// @ts-expect-error a host function's i32 argument is a number, not a string
new Func(store, { params: ['i32'], results: [] }, (s: string) => void s)

// @ts-expect-error a host function's i64 result must be a BigInt
new Func(store, { params: [], results: ['i64'] }, () => 1)

// @ts-expect-error two results go back as an array of two, not one number
new Func(store, { params: [], results: ['i32', 'i32'] }, () => 1)

// @ts-expect-error one result goes back as the value, not in an array
new Func(store, { params: [], results: ['i32'] }, () => [1])

// @ts-expect-error linker.func: an i64 argument arrives as a BigInt, not a number
linker.func('env', 'g', { params: ['i64'], results: [] }, (x: number) => void x)

// @ts-expect-error linker.func: an f64 result is a number, not a string
linker.func('env', 'h', { params: [], results: ['f64'] }, () => 'x')

// @ts-expect-error HostFunction<T> takes T's arguments: an i64 is a BigInt
const badHost: HostFunction<{ params: ['i64'], results: [] }> = (x: number) => void x

// @ts-expect-error an externref argument is unknown: narrow it before use
new Func(store, { params: ['externref'], results: ['i32'] }, (x) => x.length)

// @ts-expect-error an i64 comes out of wasm as a BigInt, not a number
const i64AsNumber: WasmToJs<'i64'> = 1

// @ts-expect-error the received store's data was declared a number
const receivedString: string = Store.receive<number>(transfer).store.data

// @ts-expect-error a received store's data is `unknown` unless declared or given
const receivedDataString: string = Store.receive(transfer).store.data

// Silence "declared but never used" if noUnusedLocals is ever turned on.
// Caller context: typed arguments after the caller; the store's data and the exports typed.
interface Session { user: string }
const withCallerLinker: Linker = new Linker().func('env', 'log', { params: ['i32', 'i32'], results: [] }, (caller: Caller<Session, { memory: Memory }>, ptr, len) => {
  const user: string = caller.data.user
  const text: string = caller.exports.memory.readString(ptr, len)
  void user
  void text
}, { caller: true })
const callerImport = withCaller((caller: Caller<Session>, x: number) => caller.data.user.length + x)
const callerImportResult: number = callerImport(1)
// @ts-expect-error the caller comes first: a caller-context function's first parameter is not an i32
new Linker().func('env', 'f', { params: ['i32'], results: [] }, (x: number, caller: Caller) => void [x, caller], { caller: true })
// @ts-expect-error caller.data is typed by the store's data type
const callerDataWrong: number = withCaller((caller: Caller<Session>) => caller.data.user)()

// Components: exports declared as jco's generated .d.ts would declare them.
interface PluginExports { api: { greet(name: string): string; add(a: number, b: number): number }; pluginVersion(): string }
const componentLinker = new ComponentLinker()
const plugin = componentLinker.instantiate<PluginExports>(new Store(), new Component(undefined, '(component)'))
const greeting: string = plugin.exports.api.greet('x')
const perRequest: number = componentLinker.instantiatePre<PluginExports>(new Component(undefined, '(component)')).instantiate(new Store()).exports.api.add(1, 2)
// @ts-expect-error a declared export returns its declared type
const greetingWrong: number = plugin.exports.api.greet('x')
// untyped component exports are unknown, not any
// @ts-expect-error an untyped export must be narrowed before it is called
const untypedComponentCall = componentLinker.instantiate(new Store(), new Component(undefined, '(component)')).exports.run()

export const used = [
  features, frozenOptions, configToken, configBack, engineFromConfig, defaultEngine, engineBack, cwasm, epochs,
  moduleFromWat, compiled, valid, moduleName, imports, exportTypes, moduleBack, moduleEngine, deserialized, fromFile,
  user, defaultStore, storeOnToken, fuel, captured, funcType, callResult, callAsyncResult, importValues,
  instanceFromToken, exportsRecord, maybeFunc, maybeMemory, maybeTable, maybeGlobal, tableSize, element, externValue,
  linkerEngine, linked, preInstance, preModule, preLinker, storeObject, transferNames, received, moved, wasiStore,
  exitCode, capturedStdout, fromModule, fromWat, asyncResult, describe, trapCode, notAwaited, notAwaitedModule,
  wrongData, notNull, hooks, receivedTyped, receivedData, receivedUnknown, funcTransfer, sum, bigSum, first, second,
  typedMemory, typedGlobal, typedTable, addFunc, addType, addLater, addLaterOptions, addExported, typedIsInstance,
  typedIsStoreObject, linkedSum, preSum, untypedPre, inlineTyped, untypedCallable, typedCall, typedCallable,
  typedCallAsync, typedFuncType, typedFuncIsFunc, typedImports, manyFirst, manySecond, noResult, refResult, asyncHost,
  typedHost, untypedHost, signature, anySignature, untypedCall, i64Out, v128Out, v128In, funcrefIn, typedString,
  typedAsyncString, linkedString, preString, otherExports, callableString, funcCallString, typedCallString, badHost,
  i64AsNumber, receivedString, receivedDataString, withCallerLinker, callerImportResult, callerDataWrong, greeting, perRequest, greetingWrong, untypedComponentCall,
]
