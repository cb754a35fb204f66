//! wasmtime-node: the N-API layer. One file per wasmtime concept; `lib/` (TypeScript) builds the
//! public API on top of these `Native*` classes.

mod async_call;
mod cache;
mod control;
mod engine;
mod error;
mod func;
mod global;
mod instance;
mod interrupt;
mod js;
mod linker;
mod live;
mod memory;
mod module;
mod share;
mod store;
mod table;
mod transfer;
mod types;
mod values;
mod wasi;

use napi::bindgen_prelude::*;
use napi_derive::napi;

/// Called once per thread by `lib/` before anything else: registers the error factory that
/// turns native failures into the public error classes.
#[napi(catch_unwind)]
pub fn init(env: Env, make_error: Function<'_, (), ()>, thread_id: u32) -> napi::Result<()> {
    js::set_thread_id(thread_id);
    // SAFETY: `make_error` is a live handle; a strong reference keeps the factory for this env's
    // lifetime (it is module-level state in lib/, so this creates no cycle).
    let r = unsafe { js::new_reference(env.raw(), make_error.raw(), 1) }?;
    js::set_thread_env(env.raw(), r);
    // When this thread's env goes away (a worker exiting, even by process.exit()), stop the wasm
    // its stores are running on other threads (callAsync), so that nothing spins on forever.
    // SAFETY: registering a plain C callback whose argument is the thread id (no pointer).
    unsafe { napi::sys::napi_add_env_cleanup_hook(env.raw(), Some(on_env_cleanup), thread_id as usize as *mut std::ffi::c_void) };
    Ok(())
}

unsafe extern "C" fn on_env_cleanup(arg: *mut std::ffi::c_void) {
    interrupt::interrupt_thread(arg as usize as u32);
}

/// An empty native call: the benchmark baseline for N-API overhead.
#[napi]
pub fn noop() {}
