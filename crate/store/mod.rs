//! The store core: a wasmtime `Store<Host>` and the binding's per-store, per-thread state around
//! it (`StoreCore`: the running call's context, the caller stack for re-entrancy, zero-copy
//! views, V8 accounting, the pending host exception). Also what each store carries: limits,
//! fuel, deadlines (`control`), interrupt targets (`interrupt`), WASI (`wasi`), and stores
//! parked between threads (`transfer`), the fiber-stack budget of async stores (`stacks`), stores released once V8 has collected them
//! (`reclaim`), and guest profiles (`profiling`).

pub mod control;
pub mod core;
pub mod interrupt;
pub mod profiling;
pub mod reclaim;
pub mod stacks;
pub mod transfer;
pub mod wasi;
