//! The call machinery: JS ↔ wasm value conversion (`values`), calling wasm from JS through
//! native invokers and JS host functions from wasm (`func`), and `callAsync` (`async_call`).

pub mod async_call;
pub mod component_func;
pub mod component_resources;
pub mod component_values;
pub mod executor;
pub mod func;
pub mod values;
