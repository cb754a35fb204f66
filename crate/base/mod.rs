//! Shared basics: everything here works without a store. Errors (`Fail`) and how they become JS
//! exceptions, thin raw N-API helpers for the hot paths (`raw`), argument checks, wasm type
//! descriptors, engines (`EngineInfo` with its epoch ticker), the registry behind
//! `share()`/`fromShared()`, the on-disk compile cache, and live-object counters.

pub mod args;
pub mod cache;
pub mod engine;
pub mod error;
pub mod live;
pub mod raw;
pub mod share;
pub mod types;
