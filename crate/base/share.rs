//! The share registry: plain tokens (`{ kind, id }`) that name a shareable native object —
//! engine, module, interrupt handle — so that another worker can get a handle to the *same*
//! object (`fromShared`). The registry holds weak references only, and an entry is removed when
//! its object is dropped, so sharing and dropping many objects leaves nothing behind.
//!
//! What keeps a shared object alive between `share()` and `fromShared()` is a *pin*: each
//! `share()` call pins its object once, and each `fromShared()` releases one pin of it. So
//! `worker.postMessage(new Module(engine, bytes).share())` works whatever the sender's GC does
//! meanwhile. Pins of tokens that are never received are bounded like transfer tokens: at most
//! `MAX_PINS` process-wide, the oldest released first.

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, OnceLock, Weak};

use crate::base::error::{Fail, Res};

type Registry = HashMap<String, Box<dyn Any + Send>>;

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(|| Mutex::new(HashMap::new()));

fn registry() -> MutexGuard<'static, Registry> {
    // A panic while holding the lock cannot leave the map inconsistent (single operations).
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// How many tokens may be issued and not yet received before the oldest stops pinning its object.
const MAX_PINS: usize = 1024;

/// A token's hold on its object: the token id and a strong `Arc` (type-erased).
type Pin = (String, Box<dyn Any + Send>);

/// Pins in issue order. A separate lock from the registry's: dropping a pin may drop its object,
/// whose `Drop` takes the registry lock, so a pin is always dropped after this lock is released.
static PINS: LazyLock<Mutex<VecDeque<Pin>>> = LazyLock::new(|| Mutex::new(VecDeque::new()));

fn pins() -> MutexGuard<'static, VecDeque<Pin>> {
    PINS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Pin `this` for one token; returns the pin that fell out of the bound, to drop unlocked.
fn pin<T: Send + Sync + 'static>(id: &str, this: &Arc<Shareable<T>>) -> Option<Pin> {
    let mut q = pins();
    q.push_back((id.to_owned(), Box::new(this.clone())));
    if q.len() > MAX_PINS { q.pop_front() } else { None }
}

/// Release the oldest pin of `id`, if any; returns it, to drop unlocked.
fn unpin(id: &str) -> Option<Pin> {
    let mut q = pins();
    let at = q.iter().position(|(p, _)| p == id)?;
    q.remove(at)
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

/// The token id of `this` (registered on first use), pinning `this` until one `lookup` of it.
pub fn share<T: Send + Sync + 'static>(this: &Arc<Shareable<T>>, kind: &str) -> String {
    let id = this
        .id
        .get_or_init(|| {
            let id = new_id(kind);
            registry().insert(id.clone(), Box::new(Arc::downgrade(this)));
            id
        })
        .clone();
    drop(pin(&id, this));
    id
}

/// The object a token names, if it still exists.
pub fn lookup<T: Send + Sync + 'static>(id: &str, kind: &str) -> Res<Arc<Shareable<T>>> {
    if !id.starts_with(kind) || id.as_bytes().get(kind.len()) != Some(&b':') {
        return Err(Fail::invalid_value(format!("not a shared {kind} token")));
    }
    let found = registry().get(id).and_then(|b| b.downcast_ref::<Weak<Shareable<T>>>()).and_then(Weak::upgrade);
    if found.is_some() {
        // `found` holds the object, so dropping the pin here cannot drop it.
        drop(unpin(id));
    }
    found.ok_or_else(|| {
        Fail::with(
            "WasmtimeError",
            "ERR_SHARED_GONE",
            format!("the shared {kind} no longer exists: every handle to it was dropped, and its tokens were all received already (or more than {MAX_PINS} tokens were issued since and never received)"),
        )
    })
}

/// Number of tokens issued and not yet received (pins).
pub fn pinned_len() -> usize {
    pins().len()
}

/// Number of registry entries.
pub fn registry_len() -> usize {
    registry().len()
}
