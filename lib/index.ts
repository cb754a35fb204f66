// wasmtime-node: the wasmtime WebAssembly engine for Node.js.
export { Config, Engine, type EngineOptions, type PoolingOptions, type WasmFeature } from './engine'
export { Module, wat2wasm, type BufferSource } from './module'
export { Store, type StoreOptions, type StoreLimits, type CallOptions, type ProfilingOptions } from './store'
export { Func, type ExportedFunction } from './func'
export { Memory } from './memory'
export { Table } from './table'
export { Global } from './global'
export { Tag } from './tag'
export { SharedMemory } from './shared-memory'
export { Exception } from './exception'
export { ExternRef } from './externref'
export {
  Instance, type Imports, type ImportValue, type ExportValue, type PassOptions, type Exports, type ExportShape, type ExportOf,
  type InstanceExports,
} from './instance'
export { Linker, InstancePre } from './linker'
export { Caller, withCaller } from './caller'
export { Component, ComponentLinker, ComponentInstance, ComponentInstancePre, type ComponentItem, type ComponentItemType, type ComponentExports, type WitType } from './component'
export { ComponentResource } from './component-resources'
export {
  WasmtimeError, CompileError, LinkError, Trap, WasiExit, StoreStateError, ComponentError,
  type Frame, type TrapCode,
} from './errors'
export type {
  ValType, FuncType, MemoryType, TableType, GlobalType, ExternType, ImportType, ExportType,
  HostFunction, FuncSignature, UntypedSignature, WasmToJs, JsToWasm,
} from './types'
export type { StoreObject } from './store'
export { InterruptHandle } from './interrupt'
export { MovedExternRef, type StoreTransfer, type ReceiveImports } from './store'
export type { Shared } from './wrap'
export { runWasi, runWasiAsync, type WasiOptions, type WasiOutput, type WasiResult, type RunWasiOptions } from './wasi'
export type { ReceiveWasi } from './store'
export { liveObjects, type LiveObjects } from './diagnostics'
export { setAsyncThreads, asyncThreads } from './executor'

// A worker's stores are interrupted when it is terminated (see interrupt.ts).
import { interruptOnTerminate } from './interrupt'
import { guardReceivers } from './brand'
import { Config as C, Engine as E } from './engine'
import { Module as M } from './module'
import { Store as S } from './store'
import { Func as F } from './func'
import { Memory as Me } from './memory'
import { Table as T } from './table'
import { Global as G } from './global'
import { Tag as Tg } from './tag'
import { SharedMemory as SM } from './shared-memory'
import { LinearMemory as LM } from './linear-memory'
import { Exception as Ex } from './exception'
import { Instance as I } from './instance'
import { Linker as L, InstancePre as P } from './linker'
import { InterruptHandle as H } from './interrupt'
import { Component as Co, ComponentLinker as CL, ComponentInstance as CI, ComponentInstancePre as CP } from './component'

interruptOnTerminate()
for (const cls of [E, M, S, F, Me, LM, T, G, Tg, Ex, SM, I, L, P, H, Co, CL, CI, CP]) guardReceivers(cls, '_native')
guardReceivers(C, 'options')
