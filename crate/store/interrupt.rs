//! Interrupts: what an `InterruptHandle` acts on (a store's flag and its engine's epoch), and the
//! stores of each thread, so that terminating a worker can stop the wasm it is running.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Weak};

use wasmtime::Engine;

use crate::base::share::Shareable;
use crate::store::core::Host;

/// What an `InterruptHandle` acts on: a store's flag and its engine's epoch.
pub struct InterruptTarget {
    flag: Arc<AtomicBool>,
    engine: Engine,
    /// Set while the store's guest waits for the JS thread (an async call's host function):
    /// wakes it, since a waiting guest reaches no epoch check.
    waiter: Mutex<Option<Box<dyn Fn() + Send>>>,
}

impl InterruptTarget {
    /// The shareable interrupt target of the store behind `host`, made on first request.
    pub fn of(host: &mut Host, engine: &Engine) -> Arc<Shareable<InterruptTarget>> {
        let flag = host.interrupt.clone();
        host.interrupt_target
            .get_or_insert_with(|| Shareable::new(InterruptTarget { flag, engine: engine.clone(), waiter: Mutex::new(None) }))
            .clone()
    }

    /// Stop the store's running wasm: raise the flag and advance the epoch so that running code
    /// checks it at its next loop header or function entry.
    pub fn interrupt(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.engine.increment_epoch();
        if let Some(wake) = self.waiter().as_ref() {
            wake();
        }
    }

    /// `wake` is how to reach the guest while it waits (`None`: it no longer waits).
    pub fn set_waiter(&self, wake: Option<Box<dyn Fn() + Send>>) {
        *self.waiter() = wake;
    }

    fn waiter(&self) -> std::sync::MutexGuard<'_, Option<Box<dyn Fn() + Send>>> {
        self.waiter.lock().unwrap_or_else(|e| e.into_inner())
    }
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

/// Interrupt every store of thread `thread` (a worker being terminated, or its env going away).
/// Returns how many stores were signalled.
pub fn interrupt_thread(thread: u32) -> u32 {
    let targets: Vec<_> = thread_stores().get(&thread).map(|s| s.values().filter_map(Weak::upgrade).collect()).unwrap_or_default();
    for t in &targets {
        t.value.interrupt();
    }
    targets.len() as u32
}
