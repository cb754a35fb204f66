//! The call machinery: JS ↔ wasm value conversion (`values`), calling wasm from JS through
//! native invokers and JS host functions from wasm (`func`), `callAsync` (`async_call`), and
//! wasm exceptions crossing into JS and back (`exception`).

pub mod async_call;
pub mod component_func;
pub mod component_resources;
pub mod component_values;
pub mod exception;
pub mod executor;
pub mod func;
pub mod values;
