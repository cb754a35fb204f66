//! wasmtime-node: the N-API layer under `lib/` (TypeScript).
//!
//! Four layers, each a folder, each depending only on the ones above it:
//!
//! | layer    | what lives there |
//! |----------|------------------|
//! | `base/`  | shared basics with no store: errors, raw N-API for hot paths, argument checks, type descriptors, engines and their epoch ticker, the share registry, the compile cache, live-object counters |
//! | `store/` | the store core: per-store state (`Host`, `StoreCore`), limits, fuel, deadlines and epochs, interrupts, WASI state, parked transfers |
//! | `call/`  | the call machinery: value conversion, JS → wasm invokers, wasm → JS host calls, `callAsync` |
//! | `api/`   | the `#[napi]` classes, one file per wasmtime concept, plus the process-wide functions |
//!
//! Ownership: native → JS edges are weak or call-scoped (a native object never holds a strong
//! reference to a JS value beyond a call), JS → JS edges carry ownership (each JS wrapper keeps
//! its `Store` alive), native → native edges are `Rc`/`Arc`. A new wasm concept gets its class
//! in `api/NAME.rs`; what its calls need from the store goes to `store/`, conversions to `call/`.

// In layer order: napi-rs expands a `#[napi] impl` only after its struct (NativeFunc is
// defined in call/ and implemented in api/).
mod base;
mod store;
mod call;
mod api;
