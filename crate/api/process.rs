//! Process-wide functions: per-thread set-up, WAT, interrupting a thread's stores, and
//! diagnostics (counters that tests and users read).

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::base::error::throwing;
use crate::base::live::{self, LiveObjects};
use crate::base::{args, cache, raw, share};
use crate::call::executor;
use crate::store::interrupt;

/// Called once per thread by `lib/` before anything else: registers the error factory that
/// turns native failures into the public error classes.
#[napi(catch_unwind)]
pub fn init(env: Env, make_error: Function<'_, (), ()>, thread_id: u32) -> napi::Result<()> {
    raw::set_thread_id(thread_id);
    // SAFETY: `make_error` is a live handle; a strong reference keeps the factory for this env's
    // lifetime (it is module-level state in lib/, so this creates no cycle).
    let r = throwing(&env, || unsafe { raw::new_reference(env.raw(), make_error.raw(), 1) })?;
    raw::set_error_factory(env.raw(), r);
    crate::call::exception::register();
    // When this thread's env goes away (a worker exiting, even by process.exit()), stop the wasm
    // its stores are running on other threads (callAsync), so that nothing spins on forever.
    // SAFETY: registering a plain C callback whose argument is the thread id (no pointer).
    unsafe { napi::sys::napi_add_env_cleanup_hook(env.raw(), Some(on_env_cleanup), thread_id as usize as *mut std::ffi::c_void) };
    Ok(())
}

unsafe extern "C" fn on_env_cleanup(arg: *mut std::ffi::c_void) {
    interrupt::interrupt_thread(arg as usize as u32);
}

/// Interrupt every store of thread `thread` (called by `lib/` when a worker is terminated).
/// Returns how many stores were signalled.
#[napi(catch_unwind)]
pub fn interrupt_thread(thread: u32) -> u32 {
    interrupt::interrupt_thread(thread)
}

/// WAT text to wasm bytes.
#[napi(catch_unwind)]
pub fn wat2wasm(env: Env, text: String) -> napi::Result<Buffer> {
    throwing(&env, || Ok(args::wat(&text)?.into()))
}

/// The live-object counts of the whole process (all threads).
#[napi(catch_unwind)]
pub fn live_objects() -> LiveObjects {
    live::snapshot()
}

/// Number of compilations done by this process.
#[napi(catch_unwind)]
pub fn compile_count() -> f64 {
    crate::api::module::compile_count() as f64
}

/// `[hits, misses]` of the on-disk compile cache in this process.
#[napi(catch_unwind)]
pub fn compile_cache_stats() -> Vec<f64> {
    let (h, m) = cache::stats();
    vec![h as f64, m as f64]
}

/// Number of live share-registry entries.
#[napi(catch_unwind)]
pub fn shared_registry_size() -> u32 {
    share::registry_len() as u32
}

/// `setAsyncThreads(n)`: the size of the process-wide `callAsync` pool, before its first use.
#[napi(catch_unwind)]
pub fn set_async_threads(env: Env, n: f64) -> napi::Result<()> {
    throwing(&env, || executor::set_threads(args::index_arg(n, "threads")? as usize))
}

/// The size of the `callAsync` pool (running, or as it will start).
#[napi(catch_unwind)]
pub fn async_threads(env: Env) -> napi::Result<u32> {
    throwing(&env, || Ok(executor::threads()? as u32))
}

/// An empty native call: the benchmark baseline for N-API overhead.
#[napi]
pub fn noop() {}
