//! Stores released as soon as V8 has collected their JS object — without waiting for the event
//! loop. Node runs N-API finalizers from the event loop, so a synchronous loop that drops stores
//! would keep every one of them (and its linear memory's reservation of 4 GiB and more of address
//! space) until the loop ends: about 32,000 such stores exhaust a process's address space.
//!
//! But a weak reference is cleared by the garbage collector itself, and V8 collects during a
//! synchronous loop. So each store's JS object is watched through a weak reference, and whenever
//! stores are created, those whose object is gone are disposed at once: their wasm store, its
//! memories and its instances go; what remains until the finalizer runs is the small `StoreCore`.
//! Nothing JS-visible changes: no JS can reach a collected store, and every wrapper of its objects
//! holds the store's JS object (lib/), so they are gone too. Shared memories (api/shared_memory.rs)
//! reserve as much address space each and are released the same way (`Reclaim`).

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use napi::sys;

use crate::base::live::{self, Kind};
use crate::base::raw;
use crate::store::core::StoreCore;

/// What a watched JS object owns, released once the object is collected.
pub trait Reclaim {
    /// Release what can go now (a store in use is left to its finalizer).
    fn reclaim(&self);
}

impl Reclaim for StoreCore {
    fn reclaim(&self) {
        // A busy store is on a stack or a call (so its object cannot really be gone): leave it
        // to its finalizer. Otherwise the wasm state goes now.
        if !self.is_busy() {
            let _ = self.dispose();
        }
    }
}

struct Watched {
    /// Weak (count 0) reference to the owner's JS object.
    object: sys::napi_ref,
    target: Weak<dyn Reclaim>,
}

struct Watch {
    env: raw::Env,
    stores: Vec<Watched>,
    /// Length of `stores` after the last sweep: the next one comes when it has grown by half.
    swept_at: usize,
}

thread_local! {
    static WATCH: RefCell<Option<Watch>> = const { RefCell::new(None) };
}

/// Fewest watched stores before sweeps start (small programs never pay for them).
const MIN_SWEEP: usize = 256;
/// Live wasm stores (process-wide) from which new stores are watched. Below it nothing piles up
/// that matters, and a store disposed after each request (the common pattern) never pays for a
/// weak reference (≈ 5 µs with its share of V8's weak-handle processing, measured).
const WATCH_FROM: i64 = 1024;

/// Watch `object`, the JS object owning `core`, once many stores are alive; sweep when the list
/// has grown enough (amortised O(1) per store).
pub unsafe fn watch(env: raw::Env, object: raw::Value, core: &Rc<StoreCore>) {
    if live::count(Kind::Store) < WATCH_FROM {
        return;
    }
    let target: Rc<dyn Reclaim> = core.clone();
    // SAFETY: the caller's contract.
    unsafe { watch_object(env, object, Rc::downgrade(&target)) };
}

/// Watch `object`, whose collection releases `target` (see `watch`).
///
/// SAFETY (caller): on the JS thread of `env`, inside a callback; `object` is a live handle.
pub unsafe fn watch_object(env: raw::Env, object: raw::Value, target: Weak<dyn Reclaim>) {
    // SAFETY: `object` is a live handle of the current callback; a count-0 reference is weak.
    let Ok(r) = (unsafe { raw::new_reference(env, object, 0) }) else { return };
    WATCH.with(|w| {
        let mut w = w.borrow_mut();
        let w = w.get_or_insert_with(|| Watch { env, stores: Vec::new(), swept_at: 0 });
        w.stores.push(Watched { object: r, target });
        if w.stores.len() >= MIN_SWEEP.max(w.swept_at + w.swept_at / 2) {
            // SAFETY: on this env's thread, inside a callback.
            unsafe { sweep(w) };
        }
    });
}

/// Release what the collected objects owned, and forget the ones already gone.
unsafe fn sweep(w: &mut Watch) {
    let env = w.env;
    let mut dead: Vec<Rc<dyn Reclaim>> = Vec::new();
    w.stores.retain(|s| {
        let Some(core) = s.target.upgrade() else {
            // SAFETY: our reference, deleted once.
            unsafe { sys::napi_delete_reference(env, s.object) };
            return false;
        };
        // SAFETY: a reference of this env; the value is not used beyond the check.
        if unsafe { raw::reference_value(env, s.object) }.is_some() {
            return true;
        }
        // SAFETY: as above.
        unsafe { sys::napi_delete_reference(env, s.object) };
        dead.push(core);
        false
    });
    w.swept_at = w.stores.len();
    for target in dead {
        target.reclaim();
    }
}
