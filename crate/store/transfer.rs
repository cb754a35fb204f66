//! Stores between threads: `store.transfer()` parks the wasm store under a one-shot, unguessable
//! token; `Store.receive(token)` takes it out in the receiving thread (the sender's included),
//! where api/store.rs builds a new `StoreCore` (the binding's per-thread state: env, views,
//! kept host exception) around it and fresh wrappers for the objects sent along; `lib/store.ts`
//! re-binds the JS host functions. (wasmtime itself needs no call here: its per-thread set-up
//! runs lazily on each entry.)

use std::collections::VecDeque;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use wasmtime::{Extern, Instance, Store};

use crate::base::engine::EngineInfo;
use crate::base::error::{Fail, Res};
use crate::base::live::{Kind, Live};
use crate::base::share::{Shareable, new_id};
use crate::base::types;
use crate::store::core::Host;

/// Transfers parked and not yet received. Bounded: past this many, the oldest is dropped (its
/// token then fails clearly), so tokens that are never received cannot leak without bound.
const MAX_PARKED: usize = 1024;

/// An object sent along with its store.
pub enum Moved {
    Instance(Instance),
    Extern(Extern),
    /// A component instance: its exports as api/component_instance.rs lists them.
    Component(Box<dyn std::any::Any + Send>),
}

pub struct Parked {
    pub store: Box<Store<Host>>,
    pub engine: Arc<Shareable<EngineInfo>>,
    pub objects: Vec<Moved>,
    _live: Live,
}

static PARKED: LazyLock<Mutex<VecDeque<(String, Parked)>>> = LazyLock::new(|| Mutex::new(VecDeque::new()));

fn parked() -> MutexGuard<'static, VecDeque<(String, Parked)>> {
    PARKED.lock().unwrap_or_else(|e| e.into_inner())
}

fn bad_token() -> Fail {
    Fail::with(
        "StoreStateError",
        "ERR_TRANSFER_TOKEN",
        "unknown store transfer token: it was already received, or never issued, or expired (more than 1024 transfers were pending)",
    )
}

/// Park a store detached from its thread; returns the token id.
pub fn park(store: Box<Store<Host>>, engine: Arc<Shareable<EngineInfo>>, objects: Vec<Moved>) -> String {
    let id = new_id("StoreTransfer");
    let mut q = parked();
    if q.len() >= MAX_PARKED {
        q.pop_front();
    }
    q.push_back((id.clone(), Parked { store, engine, objects, _live: Live::new(Kind::PendingTransfer) }));
    id
}

/// JSON `{"fns": [...], "resources": [...]}` of a parked store: what the receiver must provide.
/// `fns`: its JS host functions by slot (`{module, name, type}`); `resources`: its host resource
/// types of components (`{id, iface, name}`), whose JS classes the receiver gives. The token
/// stays receivable.
pub fn wants_json(id: &str) -> Res<String> {
    let q = parked();
    let (_, parked) = q.iter().find(|(k, _)| k == id).ok_or_else(bad_token)?;
    let host = parked.store.data();
    let mut out = String::from("{\"fns\":[");
    for (i, f) in host.host_fns.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if f.component {
            out.push_str("{\"component\":true,\"module\":");
            types::json_str(&mut out, &f.module);
            out.push_str(",\"name\":");
            types::json_str(&mut out, &f.name);
            out.push('}');
        } else {
            types::import_json(&mut out, &f.module, &f.name, &wasmtime::ExternType::Func(f.ty.clone()));
        }
    }
    out.push_str("],\"resources\":[");
    for (i, r) in host.host_resource_types.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!("{{\"id\":{},\"iface\":", r.id));
        types::json_str(&mut out, &r.iface);
        out.push_str(",\"name\":");
        types::json_str(&mut out, &r.name);
        out.push('}');
    }
    out.push_str("]}");
    Ok(out)
}

/// Take a parked store out (once), if it was sent with `objects` objects — the count the token
/// names. A token that does not match (altered) is refused and stays receivable.
pub fn unpark(id: &str, objects: usize) -> Res<Parked> {
    let mut q = parked();
    let at = q.iter().position(|(k, _)| k == id).ok_or_else(bad_token)?;
    let sent = q[at].1.objects.len();
    if sent != objects {
        return Err(Fail::with(
            "StoreStateError",
            "ERR_TRANSFER_TOKEN",
            format!("this transfer token names {objects} object(s) but {sent} were sent with the store: was it altered?"),
        ));
    }
    q.remove(at).map(|(_, p)| p).ok_or_else(bad_token)
}
