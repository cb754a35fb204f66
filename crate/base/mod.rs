//! Shared basics: everything here works without a store. Errors (`Fail`) and how they become JS
//! exceptions, thin raw N-API helpers for the hot paths (`raw`), argument checks, wasm type
//! descriptors, engines (`EngineInfo` with its epoch ticker), the registry behind
//! `share()`/`fromShared()`, the on-disk compile cache, live-object counters, and recycled fiber stacks (`stack_pool`).

pub mod args;
pub mod cache;
pub mod engine;
pub mod error;
pub mod live;
pub mod raw;
pub mod share;
#[cfg(unix)]
pub mod stack_pool;
pub mod types;
