//! `Store`: the thread-affine owner of all wasm state, and the machinery every call goes through.
//!
//! Ownership (DESIGN §3): the JS `Store` (lib/) owns a `NativeStore`, which owns an
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
use std::sync::{Arc, Mutex};

use napi::sys;
use wasmtime::{AsContextMut, Caller, Engine, FuncType, ResourceLimiter, Store, StoreContextMut};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wasmtime::RootScope;

use crate::control::{self, Control};
use crate::engine::{EngineInfo, NativeEngine};
use crate::share::Shareable;
use crate::error::{Fail, HostException, Res};
use crate::func::{HostKey, NativeFunc, host_func};
use crate::global::NativeGlobal;
use crate::interrupt;
use crate::instance::{NativeInstance, extern_of};
use crate::js;
use crate::memory::{NativeMemory, index_arg};
use crate::module::NativeModule;
use crate::table::NativeTable;
use crate::{types, values};

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

/// What V8 is told a store costs besides its linear memories (wasmtime's store, instance
/// metadata, code references). Memories also reserve address space far beyond their size, so
/// each counts at least `MEMORY_WEIGHT`: this makes V8 collect dropped stores early enough.
const STORE_BASE_COST: i64 = 32 * 1024;
const MEMORY_WEIGHT: u64 = 1024 * 1024;

/// How a running call reaches JS: set by the entry point that started wasm, for its duration.
#[derive(Clone, Copy)]
pub struct EntryCtx {
    pub env: js::Env,
    /// The JS store's host-function table (an array), valid in the entry's handle scope.
    pub fns: js::Value,
    pub core: *const StoreCore,
    /// Set instead of the above while `callAsync` runs the wasm on another thread: host calls
    /// are sent to the JS thread through this thread-safe function (see async_call.rs).
    pub tsfn: sys::napi_threadsafe_function,
    /// Identifies that async call: its thread-safe function may be used only while the id is live.
    pub call_id: u64,
}

// SAFETY: `env`/`fns`/`core` are non-null only while a call made on the JS thread that owns
// `core` is on the stack; the entry point resets them before returning, so a `Host` that moves to
// another thread never carries a live pointer, and nothing dereferences a stale one. `tsfn` is a
// thread-safe function handle, which N-API allows to be called from any thread.
unsafe impl Send for EntryCtx {}

impl EntryCtx {
    pub const NONE: EntryCtx = EntryCtx { env: ptr::null_mut(), fns: ptr::null_mut(), core: ptr::null(), tsfn: ptr::null_mut(), call_id: 0 };
}

/// The name and type under which a host function was defined: what `Store.receive` re-binds.
pub struct HostFnDesc {
    pub module: String,
    pub name: String,
    pub ty: FuncType,
}

/// The `T` of `Store<T>`: all of it is `Send`, so the store can move between threads.
pub struct Host {
    pub id: u64,
    pub entry: EntryCtx,
    pub host_fns: Vec<HostFnDesc>,
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
    pub wasi: Option<crate::wasi::WasiState>,
    /// Counts this wasmtime store in `liveObjects().stores` while it exists.
    pub _live: crate::live::Live,
}

/// What an `InterruptHandle` acts on: a store's flag and its engine's epoch.
pub struct InterruptTarget {
    flag: Arc<AtomicBool>,
    engine: Engine,
}

impl InterruptTarget {
    /// The shareable interrupt target of the store behind `host`, made on first request.
    pub fn of(host: &mut Host, engine: &Engine) -> Arc<Shareable<InterruptTarget>> {
        let flag = host.interrupt.clone();
        host.interrupt_target.get_or_insert_with(|| Shareable::new(InterruptTarget { flag, engine: engine.clone() })).clone()
    }

    /// Stop the store's running wasm: raise the flag and advance the epoch so that running code
    /// checks it at its next loop header or function entry.
    pub fn interrupt(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.engine.increment_epoch();
    }
}

impl Host {
    /// Record a JS host function's name and type; returns its slot.
    pub fn add_host_fn(&mut self, module: &str, name: &str, ty: FuncType) -> u32 {
        self.host_fns.push(HostFnDesc { module: module.to_string(), name: name.to_string(), ty });
        (self.host_fns.len() - 1) as u32
    }
}

/// The counters of `Host` that the JS side follows.
#[derive(Clone, Copy)]
pub struct HostStats {
    memory_bytes: u64,
    memory_count: u64,
    grow_count: u64,
}

impl HostStats {
    pub fn of(h: &Host) -> HostStats {
        HostStats { memory_bytes: h.memory_bytes, memory_count: h.memory_count, grow_count: h.grow_count }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum State {
    Live,
    Moved,
    Closed,
}

pub struct StoreCore {
    me: Weak<StoreCore>,
    pub id: u64,
    /// `worker_threads.threadId` of the thread this core lives in.
    thread: u32,
    pub engine: Engine,
    pub engine_info: Arc<Shareable<EngineInfo>>,
    env: js::Env,
    state: Cell<State>,
    store: UnsafeCell<Option<Box<Store<Host>>>>,
    callers: UnsafeCell<Vec<*mut Caller<'static, Host>>>,
    /// Entries into wasm currently on the stack.
    depth: Cell<u32>,
    /// A `callAsync` holds the store (on another thread).
    async_active: Cell<bool>,
    /// Weak references to live zero-copy `ArrayBuffer`s over this store's memories.
    views: RefCell<Vec<sys::napi_ref>>,
    views_seen_grow: Cell<u64>,
    /// A JS exception thrown by a host function, on its way out through wasm frames.
    pending: Cell<sys::napi_ref>,
    accounted: Cell<i64>,
}

impl StoreCore {
    pub fn new(env: js::Env, info: Arc<Shareable<EngineInfo>>) -> Rc<StoreCore> {
        let id = NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed);
        let host = Host {
            id,
            entry: EntryCtx::NONE,
            host_fns: Vec::new(),
            linker_slots: HashMap::new(),
            freed_externs: Arc::new(Mutex::new(Vec::new())),
            memory_bytes: 0,
            memory_count: 0,
            grow_count: 0,
            interrupt: Arc::new(AtomicBool::new(false)),
            interrupt_target: None,
            control: Control::default(),
            wasi: None,
            _live: crate::live::Live::new(crate::live::Kind::Store),
        };
        let mut store = Box::new(Store::new(&info.value.engine, host));
        store.limiter(|h| h as &mut dyn ResourceLimiter);
        if info.value.epoch_interruption {
            control::watch_epochs(&mut store);
        }
        StoreCore::adopt(env, info, store)
    }

    /// A core around an existing store: a new one, or one received from a transfer.
    pub fn adopt(env: js::Env, info: Arc<Shareable<EngineInfo>>, mut store: Box<Store<Host>>) -> Rc<StoreCore> {
        let thread = js::thread_id();
        if info.value.epoch_interruption {
            let target = InterruptTarget::of(store.data_mut(), &info.value.engine);
            interrupt::register(thread, store.data().id, &target);
        }
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
            views: RefCell::new(Vec::new()),
            views_seen_grow: Cell::new(0),
            pending: Cell::new(ptr::null_mut()),
            accounted: Cell::new(0),
        });
        core.views_seen_grow.set(core.host_stats().map_or(0, |s| s.grow_count));
        core.account();
        core
    }

    pub fn rc(&self) -> Res<Rc<StoreCore>> {
        // The weak self-reference is upgradable whenever `&self` is reachable: someone holds an Rc.
        self.me.upgrade().ok_or_else(|| Fail::internal("store core reached without an owner"))
    }

    pub fn env(&self) -> js::Env {
        self.env
    }

    pub fn check(&self) -> Res<()> {
        match self.state.get() {
            State::Live => Ok(()),
            State::Moved => Err(Fail::store_state("ERR_STORE_MOVED", "this store was transferred with store.transfer(); use the objects returned by Store.receive()")),
            State::Closed => Err(Fail::store_state("ERR_STORE_CLOSED", "this store was disposed")),
        }
    }

    pub fn is_busy(&self) -> bool {
        self.depth.get() > 0 || self.async_active.get()
    }

    /// Hand the store to a `callAsync` (another thread) until `end_async` gives it back.
    /// Views are detached: the memory will change under them, and may move if it grows.
    pub fn begin_async(&self) -> Res<Box<Store<Host>>> {
        let store = self.take_store("this store is running wasm")?;
        self.async_active.set(true);
        Ok(store)
    }

    /// Take the wasm store out of this core (for another thread), detaching views first: they
    /// must not outlive this thread's hold on the memory, which may change or move.
    fn take_store(&self, busy: &str) -> Res<Box<Store<Host>>> {
        self.check()?;
        if self.is_busy() {
            return Err(Fail::store_state("ERR_STORE_BUSY", busy));
        }
        self.detach_views();
        // SAFETY: not busy, so no caller pointers or contexts are live.
        unsafe { (*self.store.get()).take() }.ok_or_else(|| Fail::store_state("ERR_STORE_BUSY", "this store is in use by an asynchronous call"))
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

    pub fn end_async(&self, store: Box<Store<Host>>) {
        // SAFETY: JS-thread state; the async call has finished with the store.
        unsafe { *self.store.get() = Some(store) };
        self.async_active.set(false);
        self.after_wasm();
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
            if let Some(&top) = (*self.callers.get()).last() {
                return Ok((*top).as_context_mut());
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
    pub fn enter<R>(&self, fns: js::Value, f: impl FnOnce(StoreContextMut<'_, Host>) -> Res<R>) -> Res<R> {
        if self.async_active.get() {
            // Its wasm frames live on another thread's stack: calling in here would break
            // wasmtime's stack-limit and activation bookkeeping.
            return Err(Fail::store_state("ERR_STORE_BUSY", "this store's callAsync is running: wasm cannot be called until it finishes (memory, globals and tables are usable from its host functions)"));
        }
        let mut cx = self.cx()?;
        let saved = cx.data().entry;
        let _deadline = if self.depth.get() == 0 {
            // An interrupt stops the call running when it is made; it does not carry over.
            cx.data().interrupt.store(false, Ordering::Relaxed);
            crate::wasi::begin_call(cx.data());
            control::begin_call(&mut cx, &self.engine_info)
        } else {
            None
        };
        cx.data_mut().entry = EntryCtx { env: self.env, fns, core: self as *const StoreCore, tsfn: ptr::null_mut(), call_id: 0 };
        self.depth.set(self.depth.get() + 1);
        let result = f(cx);
        self.depth.set(self.depth.get() - 1);
        let mut output = None;
        if let Ok(mut cx) = self.cx() {
            cx.data_mut().entry = saved;
            output = crate::wasi::queued_output(cx.data());
            let stats = HostStats::of(cx.data());
            self.after_wasm_with(stats);
        }
        match output {
            // SAFETY: on the JS thread inside the entry point's scope; no store borrow is held.
            Some(out) => self.settle_output(unsafe { crate::wasi::deliver(self.env, fns, &out) }, result),
            None => result,
        }
    }

    /// The outcome of a call after its queued output went to the JS callbacks: a callback's
    /// exception replaces a successful result; otherwise the call's own error wins.
    fn settle_output<R>(&self, delivered: Res<()>, result: Res<R>) -> Res<R> {
        match (delivered, result) {
            (Err(f), Ok(_)) => Err(f),
            (Err(f), Err(e)) => {
                // SAFETY: on the JS thread; clears the callback's exception in favour of `e`.
                unsafe { crate::func::exception_value(self.env, f) };
                Err(e)
            }
            (Ok(()), r) => r,
        }
    }

    pub fn wasm_error(&self, e: wasmtime::Error, link_phase: bool) -> Fail {
        if e.is::<HostException>() {
            if let Some(f) = self.take_pending() {
                return f;
            }
        }
        Fail::from_wasm(e, link_phase)
    }

    /// Keep a host function's exception until the entry point rethrows it. The value is boxed
    /// in a one-element array because N-API cannot reference primitives (`throw 42`) directly.
    pub fn set_pending(&self, exc: js::Value) {
        // SAFETY: on the JS thread, inside a host call, with `exc` a live handle.
        unsafe {
            let boxed = js::array(self.env, 1).and_then(|a| js::set_element(self.env, a, 0, exc).map(|_| a));
            let r = boxed.and_then(|a| js::new_reference(self.env, a, 1)).unwrap_or(ptr::null_mut());
            let old = self.pending.replace(r);
            if !old.is_null() {
                sys::napi_delete_reference(self.env, old);
            }
        }
    }

    /// A pending exception (see `set_pending`) as a failure to throw, if there is one.
    pub fn take_pending(&self) -> Option<Fail> {
        let r = self.pending.replace(ptr::null_mut());
        (!r.is_null()).then_some(Fail::Throw(r))
    }

    pub fn push_caller(&self, c: *mut Caller<'static, Host>) {
        // SAFETY: JS-thread-only state (see `cx`).
        unsafe { (*self.callers.get()).push(c) };
    }

    pub fn pop_caller(&self) {
        // SAFETY: JS-thread-only state (see `cx`).
        unsafe { (*self.callers.get()).pop() };
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
            (State::Live, Some(s)) if self.engine_info.value.pooling => STORE_BASE_COST + s.memory_bytes as i64,
            (State::Live, Some(s)) => STORE_BASE_COST + s.memory_bytes.max(s.memory_count * MEMORY_WEIGHT) as i64,
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
                if let Some(ab) = js::reference_value(self.env, r) {
                    sys::napi_detach_arraybuffer(self.env, ab);
                }
                sys::napi_delete_reference(self.env, r);
            }
        }
    }

    pub fn add_view(&self, ab: js::Value) {
        let mut views = self.views.borrow_mut();
        if views.len() >= 64 {
            // Forget views that were garbage-collected, so the list stays short.
            // SAFETY: weak references of this env, each deleted once.
            views.retain(|&r| unsafe {
                let alive = js::reference_value(self.env, r).is_some();
                if !alive {
                    sys::napi_delete_reference(self.env, r);
                }
                alive
            });
        }
        // SAFETY: `ab` is a live handle; a weak (count 0) reference does not keep it alive.
        if let Ok(r) = unsafe { js::new_reference(self.env, ab, 0) } {
            views.push(r);
        }
    }

    /// `store.transfer()`: hand the wasm store over (this core then says `StoreMoved`). Views are
    /// detached first: they must not outlive this thread's ownership of the memory.
    pub fn take_for_transfer(&self) -> Res<Box<Store<Host>>> {
        let store = self.take_store("cannot transfer a store while it is running wasm (a call, a host function or a callAsync)")?;
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
            return Err(Fail::store_state("ERR_STORE_BUSY", "cannot dispose a store while it is running wasm"));
        }
        self.detach_views();
        self.state.set(State::Closed);
        interrupt::unregister(self.thread, self.id);
        // SAFETY: not busy, so no caller pointers or contexts are live.
        unsafe { *self.store.get() = None };
        self.account();
        Ok(())
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

impl Drop for StoreCore {
    fn drop(&mut self) {
        // Views hold an Rc to the core, so none is alive here; only dead weak refs remain.
        for r in self.views.get_mut().drain(..) {
            // SAFETY: weak refs of this env, deleted once.
            unsafe { sys::napi_delete_reference(self.env, r) };
        }
        let p = self.pending.get();
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

/// The native half of the JS `Store`.
#[napi]
pub struct NativeStore {
    pub(crate) core: Rc<StoreCore>,
}

fn wasm_fail(e: wasmtime::Error) -> Fail {
    Fail::invalid_value(format!("{e:#}"))
}

#[napi]
impl NativeStore {
    #[napi(constructor, catch_unwind)]
    pub fn new(env: Env, engine: &NativeEngine) -> Self {
        NativeStore { core: StoreCore::new(env.raw(), engine.info.clone()) }
    }

    #[napi(getter, catch_unwind)]
    pub fn id(&self) -> f64 {
        self.core.id as f64
    }

    #[napi(catch_unwind)]
    pub fn engine(&self) -> NativeEngine {
        NativeEngine::from_info(self.core.engine_info.clone())
    }

    #[napi(catch_unwind)]
    pub fn dispose(&self) -> napi::Result<()> {
        Ok(self.core.dispose()?)
    }

    /// Throws the store-state error (moved, closed) if the store cannot be used.
    #[napi(catch_unwind)]
    pub fn check(&self) -> napi::Result<()> {
        Ok(self.core.check()?)
    }

    /// A JS host function of type (params → results) in slot `slot` of the JS table, which must
    /// be the next free one. `module`/`name` are what `Store.receive` re-binds it by.
    #[napi(catch_unwind)]
    pub fn new_func(&self, slot: u32, params: Vec<String>, results: Vec<String>, module: String, name: String) -> napi::Result<NativeFunc> {
        let ty = types::func_type(&self.core.engine, &params, &results)?;
        let mut cx = self.core.cx()?;
        let got = cx.data_mut().add_host_fn(&module, &name, ty.clone());
        if got != slot {
            return Err(Fail::internal(format!("host function table out of sync (slot {slot} vs {got})")).into());
        }
        let f = host_func(&mut cx, ty, HostKey::Slot(slot));
        Ok(NativeFunc::new(self.core.clone(), f, &cx))
    }

    #[napi(catch_unwind)]
    pub fn new_memory(&self, minimum: f64, maximum: Option<f64>) -> napi::Result<NativeMemory> {
        let min = pages(minimum)?;
        let max = maximum.map(pages).transpose()?;
        let ty = types::memory_type(min, max)?;
        let m = wasmtime::Memory::new(self.core.cx()?, ty).map_err(|e| Fail::range(format!("{e:#}")))?;
        self.core.account();
        Ok(NativeMemory::new(self.core.clone(), m))
    }

    #[napi(catch_unwind)]
    pub fn new_global(&self, env: Env, value: String, mutable: bool, init: Unknown) -> napi::Result<NativeGlobal> {
        let ty = types::global_type(&value, mutable)?;
        let mut cx = self.core.cx()?;
        let mut scope = RootScope::new(&mut cx);
        let mut cx = scope.as_context_mut();
        // SAFETY: `init` is a live handle of this callback.
        let v = unsafe { values::to_val(env.raw(), init.raw(), ty.content(), &mut cx)? };
        let g = wasmtime::Global::new(&mut cx, ty, v).map_err(wasm_fail)?;
        Ok(NativeGlobal::new(self.core.clone(), g))
    }

    #[napi(catch_unwind)]
    pub fn new_table(&self, env: Env, element: String, minimum: f64, maximum: Option<f64>, init: Unknown) -> napi::Result<NativeTable> {
        let min = index_arg(minimum, "minimum")?.min(u32::MAX as u64) as u32;
        let max = maximum.map(|m| index_arg(m, "maximum").map(|m| m.min(u32::MAX as u64) as u32)).transpose()?;
        let ty = types::table_type(&element, min, max)?;
        let mut cx = self.core.cx()?;
        let mut scope = RootScope::new(&mut cx);
        let mut cx = scope.as_context_mut();
        // SAFETY: `init` is a live handle of this callback.
        let r = unsafe { values::to_ref(env.raw(), init.raw(), ty.element().heap_type(), &mut cx)? };
        let t = wasmtime::Table::new(&mut cx, ty, r).map_err(|e| Fail::range(format!("{e:#}")))?;
        Ok(NativeTable::new(self.core.clone(), t))
    }

    /// Instantiate `module` with `externs` (native wrappers, in import order).
    #[napi(catch_unwind)]
    pub fn instantiate(&self, env: Env, module: &NativeModule, externs: Vec<Unknown>, fns: Unknown) -> napi::Result<NativeInstance> {
        let core = &self.core;
        if !Engine::same(module.module.engine(), &core.engine) {
            return Err(Fail::link("the module was compiled by another engine than the store's").into());
        }
        let instance = core.enter(fns.raw(), |mut cx| {
            let mut ext = Vec::with_capacity(externs.len());
            for e in &externs {
                // SAFETY: `e` is a live handle of this callback.
                ext.push(unsafe { extern_of(env.raw(), e.raw(), &cx)? });
            }
            wasmtime::Instance::new(&mut cx, &module.module, &ext).map_err(|e| core.wasm_error(e, true))
        })?;
        Ok(NativeInstance::new(core.clone(), instance))
    }

    /// Run wasmtime's garbage collector (frees unreachable externrefs).
    #[napi(catch_unwind)]
    pub fn gc(&self) -> napi::Result<()> {
        let mut cx = self.core.cx()?;
        cx.gc(None).map_err(wasm_fail)?;
        Ok(())
    }

    /// Externref slots whose references wasmtime has collected, for `lib/` to reuse.
    #[napi(catch_unwind)]
    pub fn take_freed_externs(&self) -> napi::Result<Vec<u32>> {
        let cx = self.core.cx()?;
        let freed = cx.data().freed_externs.clone();
        let v = freed.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default();
        Ok(v)
    }
}

fn pages(x: f64) -> Res<u32> {
    let p = index_arg(x, "page count")?;
    if p > 65536 {
        return Err(Fail::range(format!("{p} pages exceeds the 65536 pages of a 32-bit memory")));
    }
    Ok(p as u32)
}
