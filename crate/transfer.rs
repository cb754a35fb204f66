//! Store transfer between threads: `store.transfer()` parks the wasm store under a one-shot,
//! unguessable token; `Store.receive(token)` adopts it in the receiving thread (the sender's
//! included). This is the single place where the binding's per-thread state is rebuilt: a new
//! `StoreCore` (JS-thread state: env, views, pending exception) around the same wasmtime store,
//! and fresh wrappers for the objects sent along. `lib/store.ts` re-binds the JS host functions.
//! (wasmtime itself needs no call here: its per-thread set-up runs lazily on each entry.)

use std::collections::VecDeque;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wasmtime::{AsContext, Extern, Instance, Store};

use crate::engine::EngineInfo;
use crate::error::{Fail, Res};
use crate::instance::{NativeInstance, extern_value};
use crate::share::{Shareable, new_id};
use crate::store::{Host, NativeStore, StoreCore};
use crate::{js, types};

/// Transfers parked and not yet received. Bounded: past this many, the oldest is dropped (its
/// token then fails clearly), so tokens that are never received cannot leak without bound.
const MAX_PENDING: usize = 1024;

enum Moved {
    Instance(Instance),
    Extern(Extern),
}

struct Parked {
    store: Box<Store<Host>>,
    engine: Arc<Shareable<EngineInfo>>,
    objects: Vec<Moved>,
}

static PENDING: LazyLock<Mutex<VecDeque<(String, Parked)>>> = LazyLock::new(|| Mutex::new(VecDeque::new()));

fn pending() -> MutexGuard<'static, VecDeque<(String, Parked)>> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Stores parked by `transfer()` and not received yet (diagnostics).
pub fn pending_count() -> usize {
    pending().len()
}

fn bad_token() -> Fail {
    Fail::with(
        "StoreStateError",
        "ERR_TRANSFER_TOKEN",
        "unknown store transfer token: it was already received, or never issued, or expired (more than 1024 transfers were pending)",
    )
}

/// The object a native wrapper stands for, checked to belong to `core`.
unsafe fn moved_of(env: js::Env, v: js::Value, core: &StoreCore) -> Res<Moved> {
    // SAFETY: `env`/`v` are live handles of the current callback on this thread.
    unsafe {
        if let Some(i) = js::unwrap_class::<NativeInstance>(env, v) {
            if !std::ptr::eq(&**i.core(), core) {
                return Err(Fail::store_state("ERR_WRONG_STORE", "an object of another store was given to transfer()"));
            }
            return Ok(Moved::Instance(i.instance));
        }
        let cx = core.cx()?;
        Ok(Moved::Extern(crate::instance::extern_of(env, v, &cx)?))
    }
}

/// Detach the store from this thread and park it; returns the token id.
#[napi(catch_unwind)]
pub fn store_transfer(env: Env, store: &NativeStore, objects: Vec<Unknown>) -> napi::Result<String> {
    let core = &store.core;
    core.check()?;
    // SAFETY: `objects` are live handles of this callback.
    let moved = objects.iter().map(|o| unsafe { moved_of(env.raw(), o.raw(), core) }).collect::<Res<Vec<_>>>()?;
    let wasm_store = core.take_for_transfer()?;
    let id = new_id("StoreTransfer");
    let mut q = pending();
    if q.len() >= MAX_PENDING {
        q.pop_front();
    }
    q.push_back((id.clone(), Parked { store: wasm_store, engine: core.engine_info.clone(), objects: moved }));
    Ok(id)
}

/// JSON `[{module, name, type}]` of the parked store's JS host functions, by slot: what the
/// receiver must provide. The token stays receivable.
#[napi(catch_unwind)]
pub fn transfer_host_functions(id: String) -> napi::Result<String> {
    let q = pending();
    let (_, parked) = q.iter().find(|(k, _)| *k == id).ok_or_else(bad_token)?;
    let mut out = String::from("[");
    for (i, f) in parked.store.data().host_fns.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        types::import_json(&mut out, &f.module, &f.name, &wasmtime::ExternType::Func(f.ty.clone()));
    }
    out.push(']');
    Ok(out)
}

/// Adopt a parked store in this thread: `[NativeStore, ...wrappers of the objects sent]`.
#[napi(catch_unwind)]
pub fn store_receive(env: &Env, id: String) -> napi::Result<Unknown<'_>> {
    let parked = {
        let mut q = pending();
        let at = q.iter().position(|(k, _)| *k == id).ok_or_else(bad_token)?;
        q.remove(at).map(|(_, p)| p).ok_or_else(bad_token)?
    };
    let core = StoreCore::adopt(env.raw(), parked.engine, parked.store);
    let raw = env.raw();
    // SAFETY: building values on this thread's env within the callback.
    unsafe {
        let arr = js::array(raw, parked.objects.len() + 1)?;
        for (i, m) in parked.objects.into_iter().enumerate() {
            let v = match m {
                Moved::Instance(inst) => NativeInstance::new(core.clone(), inst).into_instance(env)?.value,
                Moved::Extern(e) => extern_value(env, &core, e, core.cx()?.as_context())?,
            };
            js::set_element(raw, arr, (i + 1) as u32, v)?;
        }
        let store = NativeStore { core }.into_instance(env)?.value;
        js::set_element(raw, arr, 0, store)?;
        Ok(Unknown::from_raw_unchecked(raw, arr))
    }
}
