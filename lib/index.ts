// wasmtime-node: the wasmtime WebAssembly engine for Node.js.
export { Config, Engine, type EngineOptions, type PoolingOptions, type WasmFeature } from './engine'
export { Module, wat2wasm, type BufferSource } from './module'
export { Store, type StoreOptions, type StoreLimits, type HostFunction, type CallOptions } from './store'
export { Func, type ExportedFunction } from './func'
export { Memory } from './memory'
export { Table } from './table'
export { Global } from './global'
export { ExternRef } from './externref'
export { Instance, type Imports, type ImportValue, type ExportValue } from './instance'
export { Linker, InstancePre } from './linker'
export {
  WasmtimeError, CompileError, LinkError, Trap, WasiExit, StoreStateError,
  type Frame, type TrapCode,
} from './errors'
export type {
  ValType, FuncType, MemoryType, TableType, GlobalType, ExternType, ImportType, ExportType,
} from './types'
export type { StoreObject } from './store'
export { InterruptHandle } from './interrupt'
export { MovedExternRef, type StoreTransfer, type ReceiveImports } from './store'
export type { Shared } from './wrap'
export { runWasi, runWasiAsync, type WasiOptions, type WasiOutput, type WasiResult, type RunWasiOptions } from './wasi'
export type { ReceiveWasi } from './store'
export { liveObjects, type LiveObjects } from './diagnostics'

// Wire the store's late-bound helpers (see store.ts `hooks`).
import { hooks } from './store'
import { interruptOnTerminate } from './interrupt'
import { Func as FuncClass, hostEntry } from './func'
import { Instance as InstanceClass, wrapExtern } from './instance'
import { Memory as MemoryClass } from './memory'
import { Table as TableClass } from './table'
import { Global as GlobalClass } from './global'
import { native } from './native'
import { typeError as makeTypeError } from './errors'

import { configureWasi } from './wasi'

hooks.hostEntry = hostEntry
hooks.configureWasi = configureWasi
interruptOnTerminate()
hooks.nativeOfObject = (o) => {
  if (o instanceof InstanceClass || o instanceof FuncClass || o instanceof MemoryClass || o instanceof TableClass || o instanceof GlobalClass) return o._native
  const f = typeof o === 'function' ? (o as { func?: unknown }).func : undefined
  if (f instanceof FuncClass) return f._native
  throw makeTypeError('transfer() objects must be Instances, Funcs (or exported functions), Memories, Tables or Globals of the store')
}
hooks.wrapObject = (store, n) => (n instanceof native.NativeInstance ? InstanceClass._wrap(store, n) : wrapExtern(store, n))
hooks.asHostFunction = (v) => {
  if (v instanceof FuncClass) return { fn: v.callable, type: v.type }
  if (typeof v !== 'function') return null
  const f = (v as { func?: unknown }).func
  return { fn: v as (...a: unknown[]) => unknown, type: f instanceof FuncClass ? f.type : null }
}
