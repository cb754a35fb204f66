//! The `#[napi]` classes that `lib/` builds the public API on, one file per wasmtime concept
//! (a class's operations are its methods), and the process-wide functions (`process`).

pub mod component;
pub mod component_instance;
pub mod component_instance_pre;
pub mod component_linker;
pub mod engine;
pub mod exception;
pub mod func;
pub mod global;
pub mod instance;
pub mod instance_pre;
pub mod interrupt;
pub mod linker;
pub mod memory;
pub mod module;
pub mod process;
pub mod shared_memory;
pub mod store;
pub mod table;
pub mod tag;
