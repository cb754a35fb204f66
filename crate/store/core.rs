//! `StoreCore`: the thread-affine owner of all wasm state, and what every call goes through.
//!
//! Ownership: the JS `Store` (lib/) owns a `NativeStore`, which owns an
//! `Rc<StoreCore>`; every native wrapper (func, memory…) holds another `Rc` (native → native).
//! JS things the store needs — host functions, externref payloads — stay in JS arrays owned by
//! the JS `Store` and reach native code only for the duration of a call (`EntryCtx`).
//!
//! The wasmtime `Store<Host>` sits in a `Box` that can leave this thread as a whole (transfer,
//! async calls): `Host` is `Send`. While wasm runs, host functions receive a `Caller`; a pointer
//! to it is pushed on `callers`, so that JS code running inside the host call (reading memory,
//! calling other exports) uses the caller's context instead of aliasing the store.

use std::cell::{Cell, RefCell, UnsafeCell};
use std::collections::HashMap;
use std::ptr;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use napi::sys;
use wasmtime::{AsContextMut, Caller, Engine, ExnRef, Extern, FuncType, OwnedRooted, ResourceLimiter, RootScope, Store, StoreContextMut};

use crate::base::engine::EngineInfo;
use crate::base::error::{self, Fail, HostException, Res};
use crate::base::live::{Kind, Live};
use crate::base::raw;
use crate::base::share::Shareable;
use crate::store::control::{self, Control};
use crate::store::interrupt::{self, InterruptTarget};
use crate::store::profiling::Profiling;
use crate::store::wasi;

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

/// What V8 is told a store costs besides its linear memories (wasmtime's store, instance
/// metadata, code references). Memories also reserve address space far beyond their size, so
/// each counts at least `MEMORY_WEIGHT`: this makes V8 collect dropped stores early enough.
const STORE_BASE_COST: i64 = 32 * 1024;
const MEMORY_WEIGHT: u64 = 1024 * 1024;
/// An async store keeps the fiber stack of its last call (wasmtime reuses it for the next one)
/// until it is dropped: counted as its resident part, not its 2 MiB of address space — V8 would
/// otherwise run a full GC every few hundred calls (measured: most of the time of 10,000 calls).
/// The stacks' address space and mappings have their own budget (store/stacks.rs).
const FIBER_STACK_WEIGHT: i64 = 64 * 1024;

/// How a `callAsync`'s guest reaches the JS thread: that thread's channel (a thread-safe function,
/// by address, and its id, checked for liveness before each use) and the call's id on it.
#[derive(Clone, Copy)]
pub struct Route {
    pub channel: u64,
    pub tsfn: usize,
    pub call: u64,
}

/// How a running call reaches JS: set by the entry point that started wasm, for its duration.
#[derive(Clone, Copy)]
pub struct EntryCtx {
    pub env: raw::Env,
    /// The JS store's host-function table (an array), valid in the entry's handle scope.
    pub fns: raw::Value,
    pub core: *const StoreCore,
    /// Set instead of the above while `callAsync` runs the wasm on the pool: host calls are sent
    /// to the JS thread (see async_call.rs).
    pub route: Option<Route>,
}

// SAFETY: `env`/`fns`/`core` are non-null only while a call made on the JS thread that owns
// `core` is on the stack; the entry point resets them before returning, so a `Host` that moves to
// another thread never carries a live pointer, and nothing dereferences a stale one. `route` is
// plain data (a thread-safe function may be called from any thread).
unsafe impl Send for EntryCtx {}

impl EntryCtx {
    pub const NONE: EntryCtx = EntryCtx { env: ptr::null_mut(), fns: ptr::null_mut(), core: ptr::null(), route: None };
}

/// The name and type under which a host function was defined: what `Store.receive` re-binds.
pub struct HostFnDesc {
    pub module: String,
    pub name: String,
    pub ty: FuncType,
    /// A component's host function (`module` is its interface, "" at the root; `ty` is empty).
    pub component: bool,
}

/// A host resource type of a `ComponentLinker` used in this store: its id
/// (`ResourceType::host_dynamic`), interface ("" at the root) and WIT name.
#[derive(Clone)]
pub struct HostResourceDesc {
    pub id: u32,
    pub iface: String,
    pub name: String,
}

/// The `T` of `Store<T>`: all of it is `Send`, so the store can move between threads.
pub struct Host {
    pub id: u64,
    pub entry: EntryCtx,
    pub host_fns: Vec<HostFnDesc>,
    /// A component was instantiated in this store (such a store cannot be transferred yet).
    pub has_components: bool,
    /// The ids of the host resource types (`ResourceType::host_dynamic`) bound into this store.
    pub host_resource_types: Vec<HostResourceDesc>,
    /// Guest resource types exported by this store's component instances → their JS class number
    /// in the store's resource bridge.
    pub guest_resource_classes: Vec<(wasmtime::component::ResourceType, u32)>,
    /// Owned guest resources collected in JS, still to drop, while the store is parked for a
    /// transfer (see `StoreCore::deferred_drops`).
    pub deferred_drops: Vec<wasmtime::component::ResourceAny>,
    /// (linker id, index in that linker) → slot in this store's host-function table.
    pub linker_slots: HashMap<(u64, u32), u32>,
    pub freed_externs: Arc<Mutex<Vec<u32>>>,
    /// Bytes of linear memory allocated in this store (for V8's external-memory accounting).
    pub memory_bytes: u64,
    pub memory_count: u64,
    /// Bumped whenever an existing memory grows: zero-copy views must then be detached.
    pub grow_count: u64,
    /// Set by an `InterruptHandle` (any thread); checked when the engine's epoch advances.
    pub interrupt: Arc<AtomicBool>,
    /// The shareable target of this store's interrupt handles, made on first request.
    pub interrupt_target: Option<Arc<Shareable<InterruptTarget>>>,
    /// Execution limits and the current call's deadline (see control.rs).
    pub control: Control,
    /// WASI context (store option `wasi`, or an empty one made when a WASI import is first used).
    pub wasi: Option<wasi::WasiState>,
    /// Store option `async`: host functions are wasmtime async functions, so that a `callAsync`
    /// runs as a fiber on the pool and a pending host Promise suspends it (call/executor.rs).
    pub is_async: bool,
    /// This store's share of the executor's fiber-stack budget (call/executor.rs): held while
    /// wasmtime keeps a stack cached in the store, that is until the store is dropped.
    pub stack_permit: Option<crate::store::stacks::StackPermit>,
    /// Set while a pooled call of this store runs (see `stacks::Running`).
    pub running: Option<crate::store::stacks::Running>,
    /// The code instantiated here and the running guest profile (profiling.rs).
    pub profiling: Profiling,
    /// Counts this wasmtime store in `liveObjects().stores` while it exists.
    pub _live: Live,
}

impl Host {
    /// Record a JS host function's name and type; returns its slot.
    pub fn add_host_fn(&mut self, module: &str, name: &str, ty: FuncType) -> u32 {
        self.host_fns.push(HostFnDesc { module: module.to_string(), name: name.to_string(), ty, component: false });
        (self.host_fns.len() - 1) as u32
    }

    /// Record a component's JS host function (`ty`: an empty placeholder); returns its slot.
    pub fn add_component_fn(&mut self, iface: &str, name: &str, ty: FuncType) -> u32 {
        let slot = self.add_host_fn(iface, name, ty);
        self.host_fns[slot as usize].component = true;
        slot
    }
}

/// The counters of `Host` that the JS side follows.
#[derive(Clone, Copy)]
pub struct HostStats {
    memory_bytes: u64,
    memory_count: u64,
    grow_count: u64,
    fiber_stack: bool,
}

impl HostStats {
    fn stack_cost(&self) -> i64 {
        if self.fiber_stack { FIBER_STACK_WEIGHT } else { 0 }
    }

    pub fn of(h: &Host) -> HostStats {
        HostStats {
            memory_bytes: h.memory_bytes,
            memory_count: h.memory_count,
            grow_count: h.grow_count,
            fiber_stack: h.stack_permit.is_some(),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum State {
    Live,
    Moved,
    Closed,
}

/// Makes the JS object of a wasm exception that escaped a call (`wasm_error`): the call layer
/// owns exceptions' JS class (call/exception.rs) and registers it at start-up.
pub type ExceptionToJs = fn(raw::Env, &Rc<StoreCore>, OwnedRooted<ExnRef>, Option<raw::Value>) -> Res<raw::Value>;

static EXCEPTION_TO_JS: OnceLock<ExceptionToJs> = OnceLock::new();

pub fn set_exception_to_js(f: ExceptionToJs) {
    let _ = EXCEPTION_TO_JS.set(f);
}

/// A host call running in a store, innermost last: through it, JS inside the call uses the store
/// (see `StoreCore::cx`). Core host functions get a `Caller`; component host functions a
/// `StoreContextMut`.
#[derive(Clone, Copy)]
enum CallerRef {
    Core(*mut Caller<'static, Host>),
    Component(*mut StoreContextMut<'static, Host>),
}

pub struct StoreCore {
    me: Weak<StoreCore>,
    pub id: u64,
    /// `worker_threads.threadId` of the thread this core lives in.
    thread: u32,
    pub engine: Engine,
    pub engine_info: Arc<Shareable<EngineInfo>>,
    env: raw::Env,
    state: Cell<State>,
    store: UnsafeCell<Option<Box<Store<Host>>>>,
    callers: UnsafeCell<Vec<CallerRef>>,
    /// Entries into wasm currently on the stack.
    depth: Cell<u32>,
    /// A `callAsync` holds the store (on another thread).
    async_active: Cell<bool>,
    /// `callAsync`s called and not started yet (queued behind each other): the store is busy
    /// from the moment `callAsync` is called.
    reserved: Cell<u32>,
    /// Weak references to live zero-copy `ArrayBuffer`s over this store's memories.
    views: RefCell<Vec<sys::napi_ref>>,
    views_seen_grow: Cell<u64>,
    /// A JS exception thrown by a host function, on its way out through wasm frames.
    host_exception: Cell<sys::napi_ref>,
    accounted: Cell<i64>,
    /// What this store's interrupt handles act on (engines with epoch interruption), kept here so
    /// that a handle can be made while a `callAsync` holds the store. Made at once in a worker
    /// (whose termination interrupts its stores), on first use in the main thread (most stores
    /// never get a handle: ≈ 90 bytes and a registration saved per store).
    interrupt_target: RefCell<Option<Arc<Shareable<InterruptTarget>>>>,
    /// Fuel was set (see `wasm_error`); carried over a transfer by `Control::fuel_given`.
    fuel_given: Cell<bool>,
    /// Owned guest resources whose JS objects were collected: dropped at the next component call.
    deferred_drops: RefCell<Vec<wasmtime::component::ResourceAny>>,
    /// Weak references to the host-function table's functions by slot, made at a slot's first
    /// call: a host call then skips the array lookup (measured in bench/calls.mjs). Weak, so that
    /// a function whose closure holds the store does not keep it alive; the table holds them.
    host_refs: RefCell<Vec<sys::napi_ref>>,
}

impl StoreCore {
    pub fn new(env: raw::Env, info: Arc<Shareable<EngineInfo>>, is_async: bool) -> Rc<StoreCore> {
        let id = NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed);
        let host = Host {
            id,
            entry: EntryCtx::NONE,
            host_fns: Vec::new(),
            has_components: false,
            linker_slots: HashMap::new(),
            host_resource_types: Vec::new(),
            guest_resource_classes: Vec::new(),
            deferred_drops: Vec::new(),
            freed_externs: Arc::new(Mutex::new(Vec::new())),
            memory_bytes: 0,
            memory_count: 0,
            grow_count: 0,
            interrupt: Arc::new(AtomicBool::new(false)),
            interrupt_target: None,
            control: Control::default(),
            wasi: None,
            is_async,
            stack_permit: None,
            running: None,
            profiling: Profiling::default(),
            _live: Live::new(Kind::Store),
        };
        let mut store = Box::new(Store::new(&info.value.engine, host));
        store.limiter(|h| h as &mut dyn ResourceLimiter);
        if info.value.epoch_interruption {
            control::watch_epochs(&mut store);
        }
        StoreCore::adopt(env, info, store)
    }

    /// A core around an existing store: a new one, or one received from a transfer.
    pub fn adopt(env: raw::Env, info: Arc<Shareable<EngineInfo>>, mut store: Box<Store<Host>>) -> Rc<StoreCore> {
        let thread = raw::thread_id();
        let interrupt_target =
            (info.value.epoch_interruption && thread != 0).then(|| InterruptTarget::of(store.data_mut(), &info.value.engine));
        if let Some(target) = &interrupt_target {
            interrupt::register(thread, store.data().id, target);
        }
        let fuel_given = store.data().control.fuel_given;
        let deferred_drops = std::mem::take(&mut store.data_mut().deferred_drops);
        let core = Rc::new_cyclic(|me| StoreCore {
            me: me.clone(),
            id: store.data().id,
            thread,
            engine: info.value.engine.clone(),
            engine_info: info,
            env,
            state: Cell::new(State::Live),
            store: UnsafeCell::new(Some(store)),
            callers: UnsafeCell::new(Vec::new()),
            depth: Cell::new(0),
            async_active: Cell::new(false),
            reserved: Cell::new(0),
            views: RefCell::new(Vec::new()),
            views_seen_grow: Cell::new(0),
            host_exception: Cell::new(ptr::null_mut()),
            accounted: Cell::new(0),
            interrupt_target: RefCell::new(interrupt_target),
            fuel_given: Cell::new(fuel_given),
            deferred_drops: RefCell::new(deferred_drops),
            host_refs: RefCell::new(Vec::new()),
        });
        core.views_seen_grow.set(core.host_stats().map_or(0, |s| s.grow_count));
        core.account();
        core
    }

    pub fn rc(&self) -> Res<Rc<StoreCore>> {
        // The weak self-reference is upgradable whenever `&self` is reachable: someone holds an Rc.
        self.me.upgrade().ok_or_else(|| Fail::internal("store core reached without an owner"))
    }

    pub fn env(&self) -> raw::Env {
        self.env
    }

    pub fn check(&self) -> Res<()> {
        match self.state.get() {
            State::Live => Ok(()),
            State::Moved => Err(Fail::store_state(
                "ERR_STORE_MOVED",
                "this store was transferred with store.transfer(); use the objects returned by Store.receive()",
            )),
            State::Closed => Err(Fail::store_state("ERR_STORE_CLOSED", "this store was disposed")),
        }
    }

    /// Fails with `ERR_WRONG_STORE` (`message`) unless `other` is this very store, and with the
    /// store-state error if this store cannot be used.
    pub fn same_as(&self, other: &StoreCore, message: &str) -> Res<()> {
        self.check()?;
        if !ptr::eq(self, other) {
            return Err(Fail::store_state("ERR_WRONG_STORE", message.to_string()));
        }
        Ok(())
    }

    /// Like `same_as`, for an object of this store used in the context `cx` (maybe a `Caller`).
    pub fn belongs_to(&self, cx: &StoreContextMut<'_, Host>, message: &str) -> Res<()> {
        self.check()?;
        if self.id != cx.data().id {
            return Err(Fail::store_state("ERR_WRONG_STORE", message.to_string()));
        }
        Ok(())
    }

    pub fn is_busy(&self) -> bool {
        self.running() || self.reserved.get() > 0
    }

    /// Wasm of this store is on a stack: a call (or a host function under it) or a `callAsync`.
    fn running(&self) -> bool {
        self.depth.get() > 0 || self.async_active.get()
    }

    /// A `callAsync` was called: the store is busy until it has run (`release_async`).
    pub fn reserve_async(&self) -> Res<()> {
        self.check()?;
        self.reserved.set(self.reserved.get() + 1);
        Ok(())
    }

    /// A reserved `callAsync` starts (or gave up before starting).
    pub fn release_async(&self) {
        self.reserved.set(self.reserved.get().saturating_sub(1));
    }

    /// Hand the store to a `callAsync` (another thread) until `end_async` gives it back.
    /// Views are detached: the memory will change under them, and may move if it grows.
    /// Other queued `callAsync`s do not stop it: they wait in line in `lib/`.
    pub fn begin_async(&self) -> Res<Box<Store<Host>>> {
        // Interrupt handles must be available while the store is away.
        self.interrupt_target()?;
        let store = self.take_store("this store is running wasm", true)?;
        self.async_active.set(true);
        Ok(store)
    }

    /// Take the wasm store out of this core (for another thread), detaching views first: they
    /// must not outlive this thread's hold on the memory, which may change or move.
    fn take_store(&self, busy: &str, for_queued_call: bool) -> Res<Box<Store<Host>>> {
        self.check()?;
        if if for_queued_call { self.running() } else { self.is_busy() } {
            return Err(Fail::store_state("ERR_STORE_BUSY", busy));
        }
        self.detach_views();
        // SAFETY: not busy, so no caller pointers or contexts are live.
        unsafe { (*self.store.get()).take() }
            .ok_or_else(|| Fail::store_state("ERR_STORE_BUSY", "this store is in use by an asynchronous call"))
    }

    /// Install the limiter again (wasmtime takes the instance/table/memory caps at that point).
    pub fn reinstall_limiter(&self) -> Res<()> {
        self.check()?;
        if self.is_busy() {
            return Err(Fail::store_state("ERR_STORE_BUSY", "cannot change limits while the store runs wasm"));
        }
        // SAFETY: not busy, so no caller pointers or contexts are live.
        let store = unsafe { (*self.store.get()).as_mut() }.ok_or_else(|| Fail::store_state("ERR_STORE_BUSY", "store in use"))?;
        store.limiter(|h| h as &mut dyn ResourceLimiter);
        Ok(())
    }

    pub fn end_async(&self, mut store: Box<Store<Host>>) {
        store.data_mut().running = None;
        // SAFETY: JS-thread state; the async call has finished with the store.
        unsafe { *self.store.get() = Some(store) };
        self.async_active.set(false);
        self.after_wasm();
    }

    /// A `callAsync` lost the store (its job panicked): this core is closed from now on.
    pub fn lose_async(&self) {
        self.async_active.set(false);
        self.state.set(State::Closed);
        interrupt::unregister(self.thread, self.id);
        self.account();
    }

    /// The context to operate on: the innermost active `Caller` while wasm is calling the host,
    /// otherwise the store itself.
    pub fn cx(&self) -> Res<StoreContextMut<'_, Host>> {
        self.check()?;
        // SAFETY: the JS thread is the only one touching `callers` and `store`; a pointer on
        // `callers` refers to a `Caller` living in a host-call frame below us on this very stack
        // (it is popped before that frame returns). Using it rather than the `Store` is what
        // wasmtime itself does inside host functions, so no second `&mut Store` is formed while
        // the caller's borrow is live. Contexts handed out here are used and dropped before
        // control returns to JS, so two never coexist in use.
        unsafe {
            match (*self.callers.get()).last() {
                Some(CallerRef::Core(top)) => return Ok((**top).as_context_mut()),
                Some(CallerRef::Component(top)) => return Ok((**top).as_context_mut()),
                None => {}
            }
            match (*self.store.get()).as_mut() {
                Some(s) => Ok(s.as_context_mut()),
                None => Err(Fail::store_state("ERR_STORE_BUSY", "this store is in use by an asynchronous call")),
            }
        }
    }

    /// Run `f`, which enters wasm, with `fns` reachable by host functions. Restores the previous
    /// entry context afterwards (entries nest when a host function calls back into wasm). `f`
    /// maps wasmtime errors with `wasm_error`, so a host function's exception comes out as the
    /// very JS object it threw.
    pub fn enter<R>(&self, fns: raw::Value, f: impl FnOnce(StoreContextMut<'_, Host>) -> Res<R>) -> Res<R> {
        if self.async_active.get() || self.reserved.get() > 0 {
            // Its wasm frames live on another thread's stack: calling in here would break
            // wasmtime's stack-limit and activation bookkeeping. A queued callAsync goes first.
            return Err(Fail::store_state(
                "ERR_STORE_BUSY",
                "this store has a callAsync queued or running: wasm cannot be called until it finishes (memory, globals and tables are usable from its host functions)",
            ));
        }
        let mut cx = self.cx()?;
        if cx.data().is_async && self.depth.get() > 0 {
            // Its fiber is suspended under us: wasmtime cannot start another call of the store.
            return Err(Fail::store_state(
                "ERR_STORE_BUSY",
                "a store created with async: true cannot call its wasm from its own host functions (memory, globals and tables are usable)",
            ));
        }
        let saved = cx.data().entry;
        if cx.data().is_async && cx.data().stack_permit.is_none() {
            // Every entry of an async store runs on a fiber (`executor::block_here`): it takes
            // a stack without waiting (the JS thread cannot), over the budget if need be.
            cx.data_mut().stack_permit = crate::store::stacks::try_stack_permit();
        }
        let _deadline = if self.depth.get() == 0 {
            // An interrupt stops the call running when it is made; it does not carry over.
            cx.data().interrupt.store(false, Ordering::Relaxed);
            wasi::begin_call(cx.data());
            control::begin_call(&mut cx, &self.engine_info, self.thread != 0)
        } else {
            None
        };
        cx.data_mut().entry = EntryCtx { env: self.env, fns, core: self as *const StoreCore, route: None };
        self.depth.set(self.depth.get() + 1);
        let result = f(cx);
        self.depth.set(self.depth.get() - 1);
        let mut output = None;
        if let Ok(mut cx) = self.cx() {
            cx.data_mut().entry = saved;
            output = wasi::queued_output(cx.data());
            let stats = HostStats::of(cx.data());
            self.after_wasm_with(stats);
        }
        match output {
            // SAFETY: on the JS thread inside the entry point's scope; no store borrow is held.
            Some(out) => self.settle_output(unsafe { wasi::deliver(self.env, fns, &out) }, result),
            None => result,
        }
    }

    /// `enter` for the common case, with none of its general work: an outermost synchronous call
    /// of a live, idle store without WASI output to deliver, timeouts or tick deadlines, on the
    /// main thread or with an engine without epochs (a worker's call watches for termination).
    /// `None` (and `f` not run) when `enter` is needed. `f` gets the store itself and returns
    /// wasmtime's error unmapped (inside `Ok`), so that `wasm_error` runs after the store is
    /// released.
    #[inline]
    pub fn enter_plain<R>(&self, fns: raw::Value, f: impl FnOnce(&mut Store<Host>) -> Res<wasmtime::Result<R>>) -> Option<Res<R>> {
        if self.state.get() != State::Live || self.async_active.get() || self.reserved.get() != 0 || self.depth.get() != 0 {
            return None;
        }
        // SAFETY: the JS thread is the only one touching `callers` and `store` (see `cx`); at
        // depth 0 no host call is on the stack, so no `Caller` or context is in use, and the
        // store reference below is the only one until `f` returns (host calls inside `f` reach
        // the store through their own `Caller`, as in `enter`).
        let store = unsafe {
            if !(*self.callers.get()).is_empty() {
                return None;
            }
            (*self.store.get()).as_deref_mut()?
        };
        let h = store.data_mut();
        if h.is_async
            || h.wasi.is_some()
            || !h.control.is_plain()
            || h.profiling.is_active()
            || (self.thread != 0 && self.engine_info.value.epoch_interruption)
        {
            return None;
        }
        h.interrupt.store(false, Ordering::Relaxed);
        h.control.begin_plain();
        h.entry = EntryCtx { env: self.env, fns, core: self as *const StoreCore, route: None };
        self.depth.set(1);
        let result = f(&mut *store);
        self.depth.set(0);
        // SAFETY: as above; `f` and every host call in it have returned.
        let store = unsafe { (*self.store.get()).as_deref_mut() };
        if let Some(store) = store {
            store.data_mut().entry = EntryCtx::NONE;
            let stats = HostStats::of(store.data());
            self.after_wasm_with(stats);
        }
        Some(result.and_then(|r| r.map_err(|e| self.wasm_error(e, false))))
    }

    /// Run `f` on the store itself, which must be live and idle: no wasm running (also not a
    /// `callAsync`) and no host call on the stack. For what only a whole `Store` can do.
    pub fn with_idle_store<R>(&self, what: &str, f: impl FnOnce(&mut Store<Host>) -> Res<R>) -> Res<R> {
        self.check()?;
        let busy = || Fail::store_state("ERR_STORE_BUSY", format!("{what} cannot be called while the store runs wasm"));
        if self.async_active.get() || self.reserved.get() != 0 || self.depth.get() != 0 {
            return Err(busy());
        }
        // SAFETY: as in `enter_plain`: on the JS thread, at depth 0 with no caller on the stack,
        // this is the only reference to the store until `f` returns (`f` does not enter wasm).
        let store = unsafe {
            if !(*self.callers.get()).is_empty() {
                return Err(busy());
            }
            (*self.store.get()).as_deref_mut().ok_or_else(busy)?
        };
        f(store)
    }

    /// The outcome of a call after its queued output went to the JS callbacks: a callback's
    /// exception replaces a successful result; otherwise the call's own error wins.
    fn settle_output<R>(&self, delivered: Res<()>, result: Res<R>) -> Res<R> {
        match (delivered, result) {
            (Err(f), Ok(_)) => Err(f),
            // `proc_exit` is the program's normal end: the callback's exception still counts.
            (Err(f), Err(e)) if e.is_wasi_exit() => Err(f),
            (Err(f), Err(e)) => {
                // SAFETY: on the JS thread; clears the callback's exception in favour of `e`.
                unsafe { error::exception_value(self.env, f) };
                Err(e)
            }
            (Ok(()), r) => r,
        }
    }

    pub fn wasm_error(&self, e: wasmtime::Error, link_phase: bool) -> Fail {
        if e.is::<HostException>()
            && let Some(f) = self.take_host_exception()
        {
            return f;
        }
        if e.is::<wasmtime::ThrownException>()
            && let Some(f) = self.thrown_exception()
        {
            return f;
        }
        let dump = e.downcast_ref::<wasmtime::WasmCoreDump>().and_then(|d| self.serialize_coredump(d));
        let mut fail = Fail::from_wasm(e, link_phase);
        if let (Fail::New(err), Some(bytes)) = (&mut fail, dump) {
            err.coredump = Some(bytes);
        }
        if let Fail::New(err) = &mut fail
            && err.trap.as_ref().is_some_and(|(code, _)| code == "out_of_fuel")
            && !self.fuel_given.get()
        {
            // wasmtime's default (a metering store starts empty) surprises: say what to do.
            err.message.push_str(
                ": this store was never given fuel, and an engine with consumeFuel starts every store at 0 (pass { fuel: n } to new Store, or call store.setFuel(n))",
            );
        }
        fail
    }

    /// The wasm exception pending in the store (it escaped the call), as the JS value to throw:
    /// made by the call layer's hook (`set_exception_to_js`). `None` if there is none.
    fn thrown_exception(&self) -> Option<Fail> {
        let to_js = EXCEPTION_TO_JS.get()?;
        let exn = {
            let mut cx = self.cx().ok()?;
            let mut scope = RootScope::new(&mut cx);
            let pending = scope.as_context_mut().take_pending_exception()?;
            pending.to_owned_rooted(&mut scope).ok()?
        };
        // SAFETY: on the JS thread, inside the callback that ran the call (`wasm_error`'s use).
        let kept = self.take_host_exception().map(|f| unsafe { error::exception_value(self.env, f) });
        let core = self.rc().ok()?;
        Some(match to_js(self.env, &core, exn, kept) {
            Ok(v) => {
                self.keep_host_exception(v);
                self.take_host_exception()?
            }
            Err(f) => f,
        })
    }

    /// A trap's core dump (engine option `coredumpOnTrap`) as bytes: the store's memories and
    /// globals at the trap. `None` when the store is not reachable here.
    fn serialize_coredump(&self, dump: &wasmtime::WasmCoreDump) -> Option<Vec<u8>> {
        let mut cx = self.cx().ok()?;
        let name = dump.modules().first().and_then(|m| m.name()).unwrap_or("wasm").to_string();
        Some(dump.serialize(&mut cx, &name))
    }

    /// `setFuel` was called on this store (or on the store it was transferred from).
    pub fn fuel_given(&self) {
        self.fuel_given.set(true);
    }

    /// Keep a host function's exception until the entry point rethrows it. The value is boxed
    /// in a one-element array because N-API cannot reference primitives (`throw 42`) directly.
    /// A host function's failure as the error that unwinds its wasm caller: the JS exception is
    /// kept in the store's slot (see `wasm_error`), wasmtime carries a `HostException` marker.
    ///
    /// SAFETY (caller): on the JS thread of `env`, inside a handle scope.
    pub unsafe fn host_failure(&self, env: raw::Env, fail: Fail) -> wasmtime::Error {
        // SAFETY: the caller's contract.
        let exc = unsafe { error::exception_value(env, fail) };
        self.keep_host_exception(exc);
        wasmtime::Error::new(HostException)
    }

    pub fn keep_host_exception(&self, exc: raw::Value) {
        // SAFETY: on the JS thread, inside a host call, with `exc` a live handle.
        unsafe {
            let boxed = raw::array(self.env, 1).and_then(|a| raw::set_element(self.env, a, 0, exc).map(|_| a));
            let r = boxed.and_then(|a| raw::new_reference(self.env, a, 1)).unwrap_or(ptr::null_mut());
            let old = self.host_exception.replace(r);
            if !old.is_null() {
                sys::napi_delete_reference(self.env, old);
            }
        }
    }

    /// The kept host exception (see `keep_host_exception`) as a failure to throw, if there is one.
    pub fn take_host_exception(&self) -> Option<Fail> {
        let r = self.host_exception.replace(ptr::null_mut());
        (!r.is_null()).then_some(Fail::Throw(r))
    }

    /// The JS function in slot `slot` of the host-function table `fns`.
    ///
    /// SAFETY (caller): on the JS thread of this core, inside a handle scope; `fns` is this
    /// store's table (slots are only ever appended to it, never replaced while the core lives).
    pub unsafe fn host_fn(&self, fns: raw::Value, slot: u32) -> Res<raw::Value> {
        let cached = self.host_refs.borrow().get(slot as usize).copied().filter(|r| !r.is_null());
        // SAFETY: a weak reference of this env (the caller's contract).
        if let Some(f) = cached.and_then(|r| unsafe { raw::reference_value(self.env, r) }) {
            return Ok(f);
        }
        // SAFETY: the caller's contract.
        let f = unsafe { raw::get_element(self.env, fns, slot)? };
        // SAFETY: as above; a weak reference (count 0) to a live handle.
        if let Ok(r) = unsafe { raw::new_reference(self.env, f, 0) } {
            let mut refs = self.host_refs.borrow_mut();
            if refs.len() <= slot as usize {
                refs.resize(slot as usize + 1, ptr::null_mut());
            }
            let old = std::mem::replace(&mut refs[slot as usize], r);
            if !old.is_null() {
                // SAFETY: a weak reference of this env whose function was collected; deleted once.
                unsafe { sys::napi_delete_reference(self.env, old) };
            }
        }
        Ok(f)
    }

    pub fn push_caller(&self, c: *mut Caller<'static, Host>) {
        // SAFETY: JS-thread-only state (see `cx`).
        unsafe { (*self.callers.get()).push(CallerRef::Core(c)) };
    }

    /// A component host function's store context, for JS running inside it (see `cx`).
    pub fn push_component_caller(&self, c: *mut StoreContextMut<'static, Host>) {
        // SAFETY: JS-thread-only state (see `cx`).
        unsafe { (*self.callers.get()).push(CallerRef::Component(c)) };
    }

    pub fn pop_caller(&self) {
        // SAFETY: JS-thread-only state (see `cx`).
        unsafe { (*self.callers.get()).pop() };
    }

    /// How many host calls of this store are running (their callers are on the stack): the
    /// innermost is `caller_depth() - 1`. A host function with caller context records it.
    pub fn caller_depth(&self) -> usize {
        // SAFETY: JS-thread-only state (see `cx`).
        unsafe { (*self.callers.get()).len() }
    }

    /// The export `name` of the instance whose wasm made host call `depth` (wasmtime's
    /// `Caller::get_export`): `None` if it has none, or if the host function was called from JS.
    pub fn caller_export(&self, depth: usize, name: &str) -> Res<Option<Extern>> {
        self.check()?;
        // SAFETY: as in `cx`: the pointer refers to a `Caller` in a host-call frame below us on
        // this stack, in use by nothing else while this runs.
        let caller = unsafe { (&*self.callers.get()).get(depth).copied() };
        match caller {
            None => Err(Fail::store_state(
                "ERR_CALLER_EXPIRED",
                "the caller was used after its host call returned: use it only during the call",
            )),
            // SAFETY: as above.
            Some(CallerRef::Core(c)) => Ok(unsafe { (*c).get_export(name) }),
            // A component's host function sees no core exports (the component model hides them).
            Some(CallerRef::Component(_)) => Ok(None),
        }
    }

    /// What must happen whenever control returns to JS from wasm (or a memory was grown).
    pub fn after_wasm(&self) {
        if let Some(stats) = self.host_stats() {
            self.after_wasm_with(stats);
        }
    }

    fn after_wasm_with(&self, stats: HostStats) {
        self.sync_views_with(stats);
        if self.depth.get() == 0 {
            self.account_with(Some(stats));
        }
    }

    fn host_stats(&self) -> Option<HostStats> {
        self.cx().ok().map(|cx| HostStats::of(cx.data()))
    }

    /// Tell V8 what this store costs, so that it collects dropped stores in time.
    pub fn account(&self) {
        self.account_with(self.host_stats());
    }

    fn account_with(&self, stats: Option<HostStats>) {
        let want = match (self.state.get(), stats) {
            // Pooled memories reserve their address space once, in the engine: count bytes only.
            (State::Live, Some(s)) if self.engine_info.value.pooling => STORE_BASE_COST + s.memory_bytes as i64 + s.stack_cost(),
            (State::Live, Some(s)) => STORE_BASE_COST + s.memory_bytes.max(s.memory_count * MEMORY_WEIGHT) as i64 + s.stack_cost(),
            (State::Live, None) => self.accounted.get(),
            _ => 0,
        };
        let delta = want - self.accounted.get();
        if delta != 0 {
            let mut out = 0i64;
            // SAFETY: plain accounting call on this thread's env.
            unsafe { sys::napi_adjust_external_memory(self.env, delta, &mut out) };
            self.accounted.set(want);
        }
    }

    /// Detach zero-copy views if a memory grew since they were made.
    pub fn sync_views(&self) {
        if let Some(stats) = self.host_stats() {
            self.sync_views_with(stats);
        }
    }

    pub fn sync_views_with(&self, stats: HostStats) {
        if stats.grow_count != self.views_seen_grow.get() {
            self.views_seen_grow.set(stats.grow_count);
            self.detach_views();
        }
    }

    pub fn detach_views(&self) {
        let views = std::mem::take(&mut *self.views.borrow_mut());
        for r in views {
            // SAFETY: `r` is a weak reference made by `add_view` in this env; deleted once here.
            unsafe {
                if let Some(ab) = raw::reference_value(self.env, r) {
                    sys::napi_detach_arraybuffer(self.env, ab);
                }
                sys::napi_delete_reference(self.env, r);
            }
        }
    }

    pub fn add_view(&self, ab: raw::Value) {
        let mut views = self.views.borrow_mut();
        if views.len() >= 64 {
            // Forget views that were garbage-collected, so the list stays short.
            // SAFETY: weak references of this env, each deleted once.
            views.retain(|&r| unsafe {
                let alive = raw::reference_value(self.env, r).is_some();
                if !alive {
                    sys::napi_delete_reference(self.env, r);
                }
                alive
            });
        }
        // SAFETY: `ab` is a live handle; a weak (count 0) reference does not keep it alive.
        if let Ok(r) = unsafe { raw::new_reference(self.env, ab, 0) } {
            views.push(r);
        }
    }

    /// `store.transfer()`: hand the wasm store over (this core then says `StoreMoved`). Views are
    /// detached first: they must not outlive this thread's ownership of the memory.
    pub fn take_for_transfer(&self) -> Res<Box<Store<Host>>> {
        let mut store = self.take_store(
            "cannot transfer a store while it is running wasm (a call, a host function or a callAsync, also one queued)",
            false,
        )?;
        // Resources collected here are dropped by the receiver, at its first component call.
        store.data_mut().deferred_drops = self.take_deferred_resource_drops();
        self.state.set(State::Moved);
        interrupt::unregister(self.thread, self.id);
        self.account();
        Ok(store)
    }

    /// `store.dispose()`: free all wasm state now; every wrapper then throws `StoreClosed`.
    pub fn dispose(&self) -> Res<()> {
        if self.state.get() == State::Closed {
            return Ok(());
        }
        if self.is_busy() {
            return Err(Fail::store_state("ERR_STORE_BUSY", "cannot dispose a store while it is running wasm or has a callAsync queued"));
        }
        self.detach_views();
        self.state.set(State::Closed);
        interrupt::unregister(self.thread, self.id);
        // SAFETY: not busy, so no caller pointers or contexts are live.
        unsafe { *self.store.get() = None };
        self.account();
        Ok(())
    }

    /// The target of this store's interrupt handles (`None`: the engine has no epoch interruption).
    pub fn interrupt_target(&self) -> Res<Option<Arc<Shareable<InterruptTarget>>>> {
        self.check()?;
        if !self.engine_info.value.epoch_interruption {
            return Ok(None);
        }
        if let Some(t) = self.interrupt_target.borrow().clone() {
            return Ok(Some(t));
        }
        let t = InterruptTarget::of(self.cx()?.data_mut(), &self.engine);
        *self.interrupt_target.borrow_mut() = Some(t.clone());
        Ok(Some(t))
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Queue an owned guest resource for dropping (its JS object was collected).
    pub fn defer_resource_drop(&self, r: wasmtime::component::ResourceAny) {
        if self.state.get() == State::Live {
            self.deferred_drops.borrow_mut().push(r);
        }
    }

    pub fn take_deferred_resource_drops(&self) -> Vec<wasmtime::component::ResourceAny> {
        std::mem::take(&mut *self.deferred_drops.borrow_mut())
    }
}

impl Drop for StoreCore {
    fn drop(&mut self) {
        // Views hold an Rc to the core, so none is alive here; only dead weak refs remain.
        for r in self.views.get_mut().drain(..).chain(self.host_refs.get_mut().drain(..)).filter(|r| !r.is_null()) {
            // SAFETY: weak refs of this env, deleted once.
            unsafe { sys::napi_delete_reference(self.env, r) };
        }
        let p = self.host_exception.get();
        if !p.is_null() {
            // SAFETY: strong ref of this env, deleted once.
            unsafe { sys::napi_delete_reference(self.env, p) };
        }
        if self.state.get() == State::Live {
            interrupt::unregister(self.thread, self.id);
        }
        self.state.set(State::Closed);
        self.account();
    }
}
