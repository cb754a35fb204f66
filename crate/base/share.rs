//! The share registry: plain tokens (`{ kind, id }`) that name a shareable native object —
//! engine, module, interrupt handle — so that another worker can get a handle to the *same*
//! object (`fromShared`). The registry holds weak references only: a token never keeps its object
//! alive, and an entry is removed when its object is dropped, so sharing and dropping many
//! objects leaves nothing behind.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, OnceLock, Weak};

use crate::base::error::{Fail, Res};

type Registry = HashMap<String, Box<dyn Any + Send>>;

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(|| Mutex::new(HashMap::new()));

fn registry() -> MutexGuard<'static, Registry> {
    // A panic while holding the lock cannot leave the map inconsistent (single operations).
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// An unguessable identifier: `kind:` and 128 random bits.
pub fn new_id(kind: &str) -> String {
    format!("{kind}:{:032x}", rand::random::<u128>())
}

/// A shareable value and, once shared, its token id.
pub struct Shareable<T: Send + Sync + 'static> {
    pub value: T,
    id: OnceLock<String>,
}

impl<T: Send + Sync + 'static> Shareable<T> {
    pub fn new(value: T) -> Arc<Self> {
        Arc::new(Shareable { value, id: OnceLock::new() })
    }
}

impl<T: Send + Sync + 'static> Drop for Shareable<T> {
    fn drop(&mut self) {
        if let Some(id) = self.id.get() {
            registry().remove(id);
        }
    }
}

/// The token id of `this` (registered on first use).
pub fn share<T: Send + Sync + 'static>(this: &Arc<Shareable<T>>, kind: &str) -> String {
    this.id
        .get_or_init(|| {
            let id = new_id(kind);
            registry().insert(id.clone(), Box::new(Arc::downgrade(this)));
            id
        })
        .clone()
}

/// The object a token names, if it still exists.
pub fn lookup<T: Send + Sync + 'static>(id: &str, kind: &str) -> Res<Arc<Shareable<T>>> {
    if !id.starts_with(kind) || id.as_bytes().get(kind.len()) != Some(&b':') {
        return Err(Fail::invalid_value(format!("not a shared {kind} token")));
    }
    let found = registry().get(id).and_then(|b| b.downcast_ref::<Weak<Shareable<T>>>()).and_then(Weak::upgrade);
    found.ok_or_else(|| {
        Fail::with(
            "WasmtimeError",
            "ERR_SHARED_GONE",
            format!("the shared {kind} no longer exists: every handle to it was dropped before this token was used (keep one alive until the receiver has called fromShared)"),
        )
    })
}

/// Number of registry entries.
pub fn registry_len() -> usize {
    registry().len()
}
