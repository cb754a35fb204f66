//! Live-object counters: how many native stores, instances, modules, engines, linkers, threads…
//! exist right now in the whole process. Tests assert that they come back to their baseline after
//! a workload (a leak shows up as a count, not only as RSS), and users can watch them in
//! production (`liveObjects()`).

use std::sync::atomic::{AtomicI64, Ordering};

/// What is counted. The discriminant indexes `COUNTS`.
#[derive(Clone, Copy)]
pub enum Kind {
    /// wasmtime stores (`Store<Host>`), wherever they are: in a JS `Store`, parked for a transfer,
    /// or on an async call's thread.
    Store = 0,
    /// Native instance wrappers (`Instance` objects and their exports' owners).
    Instance,
    /// Compiled modules (one per `new Module`/`Module.compile`/deserialize; shared handles count once).
    Module,
    /// Engines (the default engine counts once it is created).
    Engine,
    /// Native linkers.
    Linker,
    /// Native `InstancePre`s.
    InstancePre,
    /// OS threads started by the package that are still running (async calls, epoch tickers).
    Thread,
    /// `callAsync` calls in flight.
    AsyncCall,
    /// Stores parked by `store.transfer()` and not received yet.
    PendingTransfer,
    /// Compiled components (shared handles count once).
    Component,
}

const KINDS: usize = 10;
static COUNTS: [AtomicI64; KINDS] = [const { AtomicI64::new(0) }; KINDS];

/// Counts one live object of its kind for as long as it exists.
pub struct Live(Kind);

impl Live {
    pub fn new(kind: Kind) -> Live {
        COUNTS[kind as usize].fetch_add(1, Ordering::Relaxed);
        Live(kind)
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        COUNTS[self.0 as usize].fetch_sub(1, Ordering::Relaxed);
    }
}

/// How many objects of `kind` are alive now (process-wide).
pub fn count(kind: Kind) -> i64 {
    COUNTS[kind as usize].load(Ordering::Relaxed)
}

/// The live-object counts of the whole process (all threads).
#[napi_derive::napi(object)]
pub struct LiveObjects {
    pub stores: i64,
    pub instances: i64,
    /// Compiled components.
    pub components: i64,
    pub modules: i64,
    pub engines: i64,
    pub linkers: i64,
    pub instance_pres: i64,
    /// Threads the package started that are still running.
    pub threads: i64,
    /// `callAsync` calls whose thread-safe function is alive.
    pub async_calls: i64,
    /// Stores detached by `store.transfer()` and not received yet.
    pub pending_transfers: i64,
    /// Entries of the share registry (objects that were `share()`d and are still alive).
    pub shared: i64,
    /// Share tokens issued and not yet received (each keeps its object alive; see base/share.rs).
    pub pending_shares: i64,
}

/// The counts now (see api/process.rs `liveObjects`).
pub fn snapshot() -> LiveObjects {
    let n = |k: Kind| COUNTS[k as usize].load(Ordering::Relaxed);
    LiveObjects {
        stores: n(Kind::Store),
        instances: n(Kind::Instance),
        modules: n(Kind::Module),
        components: n(Kind::Component),
        engines: n(Kind::Engine),
        linkers: n(Kind::Linker),
        instance_pres: n(Kind::InstancePre),
        threads: n(Kind::Thread),
        async_calls: n(Kind::AsyncCall),
        pending_transfers: n(Kind::PendingTransfer),
        shared: crate::base::share::registry_len() as i64,
        pending_shares: crate::base::share::pinned_len() as i64,
    }
}
