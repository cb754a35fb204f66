//! `InterruptHandle`: stops a store's running wasm from any thread (built on epoch interruption).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};

use napi_derive::napi;

use crate::error::Fail;
use crate::share::{self, Shareable};
use crate::store::{InterruptTarget, NativeStore};

#[napi]
pub struct NativeInterruptHandle {
    target: Arc<Shareable<InterruptTarget>>,
}

#[napi]
impl NativeInterruptHandle {
    /// Stop the wasm the store is running now (it traps with `interrupt`); no effect when idle.
    #[napi(catch_unwind)]
    pub fn interrupt(&self) {
        self.target.value.interrupt();
    }

    #[napi(catch_unwind)]
    pub fn share(&self) -> String {
        share::share(&self.target, "InterruptHandle")
    }

    #[napi(factory, catch_unwind)]
    pub fn from_shared(id: String) -> napi::Result<Self> {
        Ok(NativeInterruptHandle { target: share::lookup(&id, "InterruptHandle")? })
    }
}

#[napi(catch_unwind)]
pub fn store_interrupt_handle(store: &NativeStore) -> napi::Result<NativeInterruptHandle> {
    let core = &store.core;
    if !core.engine_info.value.epoch_interruption {
        return Err(Fail::with("WasmtimeError", "ERR_INTERRUPT_UNAVAILABLE", "this store's engine was created with epochInterruption: false, so it cannot be interrupted").into());
    }
    let mut cx = core.cx()?;
    let target = InterruptTarget::of(cx.data_mut(), &core.engine);
    Ok(NativeInterruptHandle { target })
}

/// The interrupt targets of the live stores of each thread (by `worker_threads.threadId`), so
/// that terminating a worker can stop wasm that would otherwise keep it from ever exiting.
type ThreadStores = HashMap<u32, HashMap<u64, Weak<Shareable<InterruptTarget>>>>;

static THREAD_STORES: LazyLock<Mutex<ThreadStores>> = LazyLock::new(|| Mutex::new(HashMap::new()));

fn thread_stores() -> std::sync::MutexGuard<'static, ThreadStores> {
    THREAD_STORES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Record that store `id` now lives in thread `thread`.
pub fn register(thread: u32, id: u64, target: &Arc<Shareable<InterruptTarget>>) {
    thread_stores().entry(thread).or_default().insert(id, Arc::downgrade(target));
}

pub fn unregister(thread: u32, id: u64) {
    let mut all = thread_stores();
    if let Some(stores) = all.get_mut(&thread) {
        stores.remove(&id);
        if stores.is_empty() {
            all.remove(&thread);
        }
    }
}

/// Interrupt every store of thread `thread` (called by `lib/` when a worker is terminated).
/// Returns how many stores were signalled.
#[napi(catch_unwind)]
pub fn interrupt_thread(thread: u32) -> u32 {
    let targets: Vec<_> = thread_stores().get(&thread).map(|s| s.values().filter_map(Weak::upgrade).collect()).unwrap_or_default();
    for t in &targets {
        t.value.interrupt();
    }
    targets.len() as u32
}
