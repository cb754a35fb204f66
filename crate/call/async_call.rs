//! `callAsync`: the wasm runs on the executor's pool (call/executor.rs) while the JS thread stays
//! free — as a fiber for stores created with `async: true`, else on a blocking thread. Host
//! functions still run on the JS thread: the guest sends each host call through a thread-safe
//! function and waits until the JS side answers — at once for a plain function, or when the
//! Promise it returned settles. A waiting fiber is suspended (its pool thread runs other
//! guests); a blocking thread blocks. While the host call is pending, its `Caller` is on
//! the store's caller stack, so JS can use the store's memory, globals and tables (the guest is
//! paused). No JS ever runs off the JS thread, and the JS thread never blocks.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::mem::MaybeUninit;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Weak, mpsc};
use std::time::Instant;

use napi::bindgen_prelude::Env;
use napi::sys;
use wasmtime::component::types::ComponentFunc;
use wasmtime::component::{Func as CFunc, ResourceAny, Type as CType, Val as CVal};
use wasmtime::{AsContextMut, Caller, Func, Store, StoreContextMut, Val, ValRaw, ValType};

use crate::base::engine::{TickerUse, use_ticker};
use crate::base::error::{Fail, HostException, Res, exception_value};
use crate::base::live::{Kind, Live};
use crate::base::raw::{self as js, HandleScope};
use crate::call::component_func;
use crate::call::component_resources::Conv;
use crate::call::exception;
use crate::call::executor;
use crate::call::func::{results_raw, vals_value};
use crate::call::values;
use crate::store::control;
use crate::store::core::{EntryCtx, Host, Route, StoreCore};
use crate::store::interrupt::InterruptTarget;
use crate::store::wasi::{self, Output};

/// The JS thread's answer to a host call: the raw results, or why there are none.
type Answer = std::result::Result<Vec<ValRaw>, Stop>;

enum Stop {
    /// The host function threw (or its Promise rejected): the exception is the store's.
    Threw,
    /// The host function threw a wasm `Exception` of the store: it is the store's pending
    /// exception now, which the guest may catch (`exception::set_pending`).
    Thrown,
    /// The call's deadline passed or it was interrupted while the host's Promise was pending:
    /// the JS side let go of the host call (see `Msg::Abandon`).
    Abandoned,
    /// An interrupt woke the waiting guest (not an answer of the JS thread).
    Wake,
}

/// What the JS side of one `callAsync` keeps while it is in flight (in its thread's `Channel`).
struct AsyncCall {
    id: u64,
    core: Rc<StoreCore>,
    deferred: sys::napi_deferred,
    /// The store's host-function table, held for the duration of the call.
    fns: sys::napi_ref,
    /// Host calls of this call waiting for a Promise: when the call ends without them (its
    /// deadline or an interrupt stopped the guest meanwhile), they are dropped — their callers
    /// leave the store's caller stack, and a late settlement finds nothing to answer.
    awaited: std::cell::RefCell<Vec<std::rc::Weak<std::cell::RefCell<Option<AwaitedHostCall>>>>>,
    /// Host objects lent to a component as borrows for this call: their borrows end with it.
    unlend: Vec<u32>,
    _live: Live,
}

enum Msg {
    Host(HostRequest),
    Done(Box<Store<Host>>, wasmtime::Result<Outcome>),
    /// The guest stops waiting for its host call (deadline or interrupt): answer it now.
    Abandon,
    /// The guest wrote to a WASI stream with a JS callback: deliver the queued chunks.
    Output(Arc<Output>),
    /// The guest's job panicked (a bug): its store is lost; reject the call.
    Lost,
}

/// Where the JS thread's answer to a host call goes: a blocked thread or a suspended fiber.
enum Reply {
    Thread(mpsc::SyncSender<Answer>),
    Fiber(tokio::sync::oneshot::Sender<Answer>),
}

impl Reply {
    fn send(self, a: Answer) {
        // A guest that stopped waiting (its thread or task gone) needs no answer.
        match self {
            Reply::Thread(s) => drop(s.send(a)),
            Reply::Fiber(s) => drop(s.send(a)),
        }
    }
}

struct HostRequest {
    slot: u32,
    kind: HostCallKind,
    reply: Reply,
}

/// A host call's arguments and where its results go, for the JS thread to run against the
/// guest's context (a core `Caller`, or a component host function's store context).
enum HostCallKind {
    Core {
        params: Vec<ValRaw>,
        param_types: Box<[ValType]>,
        result_types: Box<[ValType]>,
        caller: *mut Caller<'static, Host>,
    },
    /// The JS thread writes the results through `results` (the guest waits meanwhile).
    Component {
        params: Vec<CVal>,
        ty: ComponentFunc,
        results: *mut [CVal],
        cx: *mut StoreContextMut<'static, Host>,
    },
    /// The guest dropped its owned handle `rep` of a host resource (the store's resource bridge).
    ResourceDrop {
        rep: u32,
        cx: *mut StoreContextMut<'static, Host>,
    },
}

impl HostRequest {
    /// A host call in wasmtime's raw convention, for the JS thread to run against `caller`.
    fn new(
        slot: u32,
        params: &[ValType],
        results: &[ValType],
        caller: &mut Caller<'_, Host>,
        raw: &[MaybeUninit<ValRaw>],
        reply: Reply,
    ) -> HostRequest {
        let kind = HostCallKind::Core {
            // SAFETY: wasmtime's raw convention: the first `params.len()` slots hold the arguments.
            params: raw[..params.len()].iter().map(|v| unsafe { v.assume_init() }).collect(),
            param_types: params.into(),
            result_types: results.into(),
            caller: (caller as *mut Caller<'_, Host>).cast(),
        };
        HostRequest { slot, kind, reply }
    }
}

// SAFETY: `caller` points into the wasm thread's stack frame, which stays blocked on `reply` until
// the JS thread answers; the JS thread only uses it in that window, so the two never race.
unsafe impl Send for Msg {}

/// A host call made by wasm running on a `callAsync` thread: forward it to the JS thread and wait.
pub fn host_call_remote(
    route: Route,
    slot: u32,
    params: &[ValType],
    results: &[ValType],
    caller: &mut Caller<'_, Host>,
    raw: &mut [MaybeUninit<ValRaw>],
) -> wasmtime::Result<()> {
    let deadline = caller.data().control.deadline;
    let engine = caller.engine().clone();
    let target = InterruptTarget::of(caller.data_mut(), &engine);
    let answered = remote(route, deadline, &target, |reply| HostRequest::new(slot, params, results, caller, raw, reply))?;
    take_answer(answered, raw)
}

/// A component's host call made on a `callAsync` thread: as `host_call_remote`; the JS thread
/// converts the values and writes `results`.
pub fn component_host_call_remote(
    route: Route,
    slot: u32,
    cx: &mut StoreContextMut<'_, Host>,
    ty: &ComponentFunc,
    params: &[CVal],
    results: &mut [CVal],
) -> wasmtime::Result<()> {
    let deadline = cx.data().control.deadline;
    let engine = cx.engine().clone();
    let target = InterruptTarget::of(cx.data_mut(), &engine);
    let kind = HostCallKind::Component {
        params: params.to_vec(),
        ty: ty.clone(),
        results: results as *mut [CVal],
        cx: (cx as *mut StoreContextMut<'_, Host>).cast(),
    };
    let answered = remote(route, deadline, &target, |reply| HostRequest { slot, kind, reply })?;
    take_answer(answered, &mut [])
}

/// A host resource's destructor run on a `callAsync` thread: the JS thread lets go of the object
/// (and calls its `[Symbol.dispose]`), as for a host call.
pub fn component_drop_remote(route: Route, cx: &mut StoreContextMut<'_, Host>, rep: u32) -> wasmtime::Result<()> {
    let deadline = cx.data().control.deadline;
    let engine = cx.engine().clone();
    let target = InterruptTarget::of(cx.data_mut(), &engine);
    let kind = HostCallKind::ResourceDrop { rep, cx: (cx as *mut StoreContextMut<'_, Host>).cast() };
    let answered = remote(route, deadline, &target, |reply| HostRequest { slot: 0, kind, reply })?;
    take_answer(answered, &mut [])
}

/// Send the host call that `request` makes to the JS thread and wait for its answer (see `wait`).
fn remote(
    route: Route,
    deadline: Option<Instant>,
    target: &Arc<crate::base::share::Shareable<InterruptTarget>>,
    request: impl FnOnce(Reply) -> HostRequest,
) -> wasmtime::Result<Answer> {
    // Room for the JS thread's answer and a wake-up, so that neither sender ever blocks.
    let (reply, answer) = mpsc::sync_channel(2);
    let wake = reply.clone();
    // Set up before the JS thread may use the caller: from here on it is theirs until answered.
    let req = request(Reply::Thread(reply));
    target.value.set_waiter(Some(Box::new(move || drop(wake.try_send(Err(Stop::Wake))))));
    let answered =
        send(route, Msg::Host(req)).and_then(|()| wait(&answer, deadline, || send(route, Msg::Abandon)).map_err(|_| unanswered()));
    target.value.set_waiter(None);
    answered
}

fn unanswered() -> wasmtime::Error {
    wasmtime::format_err!("the host function did not answer: its Promise was garbage-collected without settling, or its thread is exiting")
}

/// Write the JS thread's answer into the guest's raw results, or make it the guest's error.
fn take_answer(answer: Answer, raw: &mut [MaybeUninit<ValRaw>]) -> wasmtime::Result<()> {
    match answer {
        Ok(vals) => {
            for (slot, v) in raw.iter_mut().zip(vals) {
                *slot = MaybeUninit::new(v);
            }
            Ok(())
        }
        Err(Stop::Threw) => Err(wasmtime::Error::new(HostException)),
        Err(Stop::Thrown) => Err(wasmtime::Error::new(wasmtime::ThrownException)),
        Err(Stop::Abandoned | Stop::Wake) => Err(wasmtime::Trap::Interrupt.into()),
    }
}

/// A host call made by a pooled fiber (async store): forward it to the JS thread and suspend
/// until it answers. An interrupt or the deadline does not resume the fiber: they ask the JS
/// thread to let go of the host call (`Msg::Abandon`), whose answer then resumes it — so the JS
/// thread, which uses the store through `caller` meanwhile, never shares it with a running guest.
pub async fn host_call_pooled(
    route: Route,
    slot: u32,
    params: &[ValType],
    results: &[ValType],
    caller: &mut Caller<'_, Host>,
    raw: &mut [MaybeUninit<ValRaw>],
) -> wasmtime::Result<()> {
    let deadline = caller.data().control.deadline;
    let flag = caller.data().interrupt.clone();
    let stopped = || flag.load(Ordering::SeqCst) || deadline.is_some_and(|d| Instant::now() >= d);
    if stopped() {
        return Err(wasmtime::Trap::Interrupt.into());
    }
    let (reply, answer) = tokio::sync::oneshot::channel();
    let req = HostRequest::new(slot, params, results, caller, raw, Reply::Fiber(reply));
    let engine = caller.engine().clone();
    let target = InterruptTarget::of(caller.data_mut(), &engine);
    target.value.set_waiter(Some(Box::new(move || drop(send(route, Msg::Abandon)))));
    let timer = deadline.map(|d| {
        tokio::spawn(async move {
            tokio::time::sleep_until(d.into()).await;
            drop(send(route, Msg::Abandon));
        })
    });
    // From here until the answer, the JS thread owns `caller`: nothing below touches it.
    let answered = match send(route, Msg::Host(req)) {
        Ok(()) => {
            if stopped() {
                // An interrupt that came before the waiter was set would be missed otherwise.
                drop(send(route, Msg::Abandon));
            }
            answer.await.map_err(|_| unanswered())
        }
        Err(e) => Err(e),
    };
    target.value.set_waiter(None);
    if let Some(t) = timer {
        t.abort();
    }
    take_answer(answered?, raw)
}

/// Wait for the JS thread's answer. A deadline or an interrupt (which wakes us: see
/// `InterruptTarget::set_waiter`) does not wait for a pending host Promise: then `abandon` asks
/// the JS thread to let go of the host call, and its answer (`Stop::Abandoned`, or the real one
/// if it came first) is awaited — the JS thread never touches the caller after answering, so
/// the guest may then unwind. No polling: an idle waiting guest costs nothing.
fn wait(
    answer: &mpsc::Receiver<Answer>,
    deadline: Option<std::time::Instant>,
    abandon: impl FnOnce() -> wasmtime::Result<()>,
) -> std::result::Result<Answer, mpsc::RecvError> {
    let first = match deadline {
        Some(d) => match answer.recv_timeout(d.saturating_duration_since(std::time::Instant::now())) {
            Ok(a) => a,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(Stop::Wake),
            Err(mpsc::RecvTimeoutError::Disconnected) => return Err(mpsc::RecvError),
        },
        None => answer.recv()?,
    };
    if !matches!(first, Err(Stop::Wake)) {
        return Ok(first);
    }
    abandon().map_err(|_| mpsc::RecvError)?;
    loop {
        match answer.recv()? {
            Err(Stop::Wake) => continue, // another interrupt: the answer is still to come
            a => return Ok(a),
        }
    }
}

/// Channels whose thread-safe function is still alive. N-API frees a thread-safe function when its
/// env is torn down (a worker exiting), even while a guest on the pool still has its route:
/// `send` checks, under this lock, that it was not finalized yet (`finalize_channel` removes it).
static LIVE: LazyLock<Mutex<HashSet<u64>>> = LazyLock::new(|| Mutex::new(HashSet::new()));
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn live() -> std::sync::MutexGuard<'static, HashSet<u64>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

fn send(route: Route, msg: Msg) -> wasmtime::Result<()> {
    let live = live();
    if !live.contains(&route.channel) {
        wasmtime::bail!("the thread of this call is exiting");
    }
    let data = Box::into_raw(Box::new((route.call, msg)));
    // SAFETY: the channel's thread-safe function is alive (checked under the lock its finalizer takes).
    let status = unsafe {
        sys::napi_call_threadsafe_function(
            route.tsfn as sys::napi_threadsafe_function,
            data.cast(),
            sys::ThreadsafeFunctionCallMode::blocking,
        )
    };
    if status != sys::Status::napi_ok {
        // SAFETY: not queued, so still ours.
        drop(unsafe { Box::from_raw(data) });
        wasmtime::bail!("the JS thread is shutting down");
    }
    drop(live);
    Ok(())
}

/// One JS thread's channel for all its `callAsync`s: a thread-safe function made on first use
/// (one per call would cost a libuv handle and an event-loop turn to close it, per call), and the
/// calls in flight by id. It keeps the event loop alive only while calls are in flight.
struct Channel {
    id: u64,
    tsfn: sys::napi_threadsafe_function,
    calls: RefCell<HashMap<u64, Rc<AsyncCall>>>,
}

thread_local! {
    /// This thread's channel; cleared by its finalizer (the env going away).
    static CHANNEL: Cell<*const Channel> = const { Cell::new(ptr::null()) };
}

/// This thread's channel, made on first use.
unsafe fn channel(env: js::Env) -> Res<&'static Channel> {
    let existing = CHANNEL.with(Cell::get);
    if !existing.is_null() {
        // SAFETY: alive until its finalizer clears CHANNEL (on this thread).
        return Ok(unsafe { &*existing });
    }
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let ch = Box::into_raw(Box::new(Channel { id, tsfn: ptr::null_mut(), calls: RefCell::new(HashMap::new()) }));
    // SAFETY (block): N-API calls on the JS thread; on failure the box is reclaimed here.
    unsafe {
        let name = js::string_value(env, "wasmtime-node callAsync")?;
        let mut tsfn = ptr::null_mut();
        let status = sys::napi_create_threadsafe_function(
            env,
            ptr::null_mut(),
            ptr::null_mut(),
            name,
            0,
            1,
            ch.cast(),
            Some(finalize_channel),
            ch.cast(),
            Some(on_message),
            &mut tsfn,
        );
        if status != sys::Status::napi_ok {
            drop(Box::from_raw(ch));
            return Err(Fail::internal("could not create a thread-safe function"));
        }
        // Idle until a call is in flight (see `Channel::add`).
        sys::napi_unref_threadsafe_function(env, tsfn);
        (*ch).tsfn = tsfn;
        live().insert(id);
        CHANNEL.with(|c| c.set(ch));
        Ok(&*ch)
    }
}

impl Channel {
    fn route(&self, call: u64) -> Route {
        Route { channel: self.id, tsfn: self.tsfn as usize, call }
    }

    /// A call is in flight: the event loop stays alive until it settles.
    fn add(&self, env: js::Env, call: Rc<AsyncCall>) {
        let mut calls = self.calls.borrow_mut();
        if calls.is_empty() {
            // SAFETY: on the JS thread that owns the channel.
            unsafe { sys::napi_ref_threadsafe_function(env, self.tsfn) };
        }
        calls.insert(call.id, call);
    }

    fn remove(&self, env: js::Env, id: u64) -> Option<Rc<AsyncCall>> {
        let mut calls = self.calls.borrow_mut();
        let call = calls.remove(&id);
        if call.is_some() && calls.is_empty() {
            // SAFETY: on the JS thread that owns the channel.
            unsafe { sys::napi_unref_threadsafe_function(env, self.tsfn) };
        }
        call
    }
}

/// What a `callAsync` runs: a core function or a component's.
enum Call {
    Core {
        func: Func,
        params: Vec<Val>,
        results: Box<[ValType]>,
    },
    /// `lent`: handles that live for the call (host objects lent as borrows), dropped after it.
    Component {
        func: CFunc,
        params: Vec<CVal>,
        result: Option<CType>,
        lent: Vec<ResourceAny>,
    },
}

/// A `callAsync`'s results, for the JS thread to convert.
enum Outcome {
    Core(Vec<Val>),
    Component(Option<(CVal, CType)>),
}

/// Start `func(params)` on the pool; returns the promise.
pub fn call_async(
    env: &Env,
    core: &Rc<StoreCore>,
    func: Func,
    params: Vec<Val>,
    results: Box<[ValType]>,
    fns: js::Value,
) -> Res<js::Value> {
    start(env, core, Call::Core { func, params, results }, fns, Vec::new())
}

/// Start a component's `func(params)` on the pool; returns the promise.
pub fn call_async_component(
    env: &Env,
    core: &Rc<StoreCore>,
    func: CFunc,
    params: Vec<CVal>,
    result: Option<CType>,
    (lent, unlend): (Vec<ResourceAny>, Vec<u32>),
    fns: js::Value,
) -> Res<js::Value> {
    start(env, core, Call::Component { func, params, result, lent }, fns, unlend)
}

fn start(env: &Env, core: &Rc<StoreCore>, call: Call, fns: js::Value, unlend: Vec<u32>) -> Res<js::Value> {
    let raw_env = env.raw();
    let pool = executor::pool()?;
    let mut store = core.begin_async()?;
    // An interrupt stops the call running when it is made; it does not carry over.
    store.data().interrupt.store(false, std::sync::atomic::Ordering::Relaxed);
    let mut ticker = control::begin_call(&mut store.as_context_mut(), &core.engine_info, false);
    // A component's host functions are synchronous (wasmtime's `func_new`): its calls run on a
    // blocking thread, also in an async store.
    let pooled = store.data().is_async && matches!(call, Call::Core { .. });
    if pooled && ticker.is_none() && core.engine_info.value.epoch_interruption {
        // Epoch ticks are what make a busy pooled guest yield to the others.
        ticker = Some(use_ticker(&core.engine_info));
    }
    wasi::begin_call(store.data());
    // SAFETY (block): N-API calls on the JS thread; every created handle is released on failure.
    unsafe {
        let ch = match channel(raw_env) {
            Ok(ch) => ch,
            Err(f) => {
                core.end_async(store);
                return Err(f);
            }
        };
        let fns = match js::new_reference(raw_env, fns, 1) {
            Ok(r) => r,
            Err(f) => {
                core.end_async(store);
                return Err(f);
            }
        };
        let mut deferred = ptr::null_mut();
        let mut promise = ptr::null_mut();
        sys::napi_create_promise(raw_env, &mut deferred, &mut promise);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        ch.add(
            raw_env,
            Rc::new(AsyncCall {
                id,
                core: core.clone(),
                deferred,
                fns,
                awaited: Default::default(),
                unlend,
                _live: Live::new(Kind::AsyncCall),
            }),
        );
        let route = ch.route(id);
        let job = WasmJob { store, call, route, ticker };
        let lost = move || drop(send(route, Msg::Lost));
        if pooled {
            pool.spawn_fiber(job.run_fiber(), lost);
        } else {
            pool.spawn_blocking(move || {
                let _live = Live::new(Kind::Thread);
                if catch_unwind(AssertUnwindSafe(|| job.run_blocking())).is_err() {
                    lost();
                }
            });
        }
        Ok(promise)
    }
}

struct WasmJob {
    store: Box<Store<Host>>,
    call: Call,
    route: Route,
    ticker: Option<TickerUse>,
}

impl WasmJob {
    /// Run on a blocking thread (a store without `async`): host calls block it.
    fn run_blocking(mut self) {
        let output = self.begin();
        let r = match &self.call {
            Call::Core { func, params, results } => {
                let mut out = result_slots(results);
                func.call(&mut *self.store, params, &mut out).map(|()| Outcome::Core(out))
            }
            Call::Component { func, params, result, lent } => {
                let mut out: Vec<CVal> = result.iter().map(|_| CVal::Bool(false)).collect();
                let r = func.call(&mut *self.store, params, &mut out);
                let released = lent.iter().try_for_each(|any| any.resource_drop(&mut *self.store));
                r.and(released).map(|()| Outcome::Component(out.pop().zip(result.clone())))
            }
        };
        self.end(output, r);
    }

    /// Run as a fiber on the pool (an async store): host calls and yields suspend it. A store's
    /// first fiber waits for a stack of the budget (see `executor::MAX_FIBERS`).
    async fn run_fiber(mut self) {
        let output = self.begin();
        let r = match self.store.data().stack_permit {
            Some(_) => Ok(()),
            None => crate::store::stacks::stack_permit().await.map(|p| self.store.data_mut().stack_permit = Some(p)),
        };
        let r = match (r, &self.call) {
            (Ok(()), Call::Core { func, params, results }) => {
                // Until the JS thread has the store back (`StoreCore::end_async`).
                self.store.data_mut().running = Some(crate::store::stacks::Running::start());
                let mut out = result_slots(results);
                func.call_async(&mut *self.store, params, &mut out).await.map(|()| Outcome::Core(out))
            }
            // Components run on blocking threads (see `start`).
            (Ok(()), Call::Component { .. }) => Err(wasmtime::format_err!("a component call cannot run as a fiber")),
            (Err(e), _) => Err(e),
        };
        self.end(output, r);
    }

    /// Route the guest's host calls and output to the JS thread.
    fn begin(&mut self) -> Option<Arc<Output>> {
        let route = self.route;
        self.store.data_mut().entry = EntryCtx { route: Some(route), ..EntryCtx::NONE };
        let output = self.store.data().wasi.as_ref().map(|w| w.out.clone());
        if let Some(o) = &output {
            o.set_notify(Some(wake_for_output(Arc::downgrade(o), route)));
        }
        output
    }

    /// Hand the store and the outcome back to the JS thread.
    fn end(self, output: Option<Arc<Output>>, r: wasmtime::Result<Outcome>) {
        let WasmJob { mut store, route, ticker, .. } = self;
        store.data_mut().entry = EntryCtx::NONE;
        if let Some(o) = &output {
            o.set_notify(None);
        }
        drop(ticker);
        // If the JS thread is gone, the store goes with the message, here.
        let _ = send(route, Msg::Done(store, r));
    }
}

fn result_slots(results: &[ValType]) -> Vec<Val> {
    results.iter().map(|t| Val::default_for_ty(t).unwrap_or(Val::I32(0))).collect()
}

/// How a `callAsync`'s guest tells the JS thread that output waits for a callback.
fn wake_for_output(out: Weak<Output>, route: Route) -> Box<dyn Fn() + Send> {
    Box::new(move || {
        if let Some(o) = out.upgrade() {
            let _ = send(route, Msg::Output(o));
        }
    })
}

impl AsyncCall {
    /// Let go of what the call holds in JS (on its thread; not needed if the env is gone).
    unsafe fn release(&self, env: js::Env) {
        if !env.is_null() {
            // SAFETY: our strong reference, deleted once (the call is released once).
            unsafe { sys::napi_delete_reference(env, self.fns) };
        }
    }
}

unsafe extern "C" fn finalize_channel(env: sys::napi_env, data: *mut std::ffi::c_void, _hint: *mut std::ffi::c_void) {
    // SAFETY: `data` is the `Channel` boxed in `channel`; the thread-safe function finalizes once.
    let ch = unsafe { Box::from_raw(data as *mut Channel) };
    live().remove(&ch.id);
    CHANNEL.with(|c| c.set(ptr::null()));
    for (_, call) in ch.calls.take() {
        // The env is going away: no promise to settle. Dropping the call drops its awaited host
        // calls, whose guests then stop waiting.
        for cell in call.awaited.take().iter().filter_map(std::rc::Weak::upgrade) {
            drop(cell.borrow_mut().take());
        }
        // SAFETY: on the channel's thread, once per call.
        unsafe { call.release(env) };
    }
}

unsafe extern "C" fn on_message(env: sys::napi_env, _cb: sys::napi_value, context: *mut std::ffi::c_void, data: *mut std::ffi::c_void) {
    // SAFETY: `data` is a `(call id, Msg)` boxed by `send`, delivered once; `context` the live channel.
    let (id, msg) = unsafe { *Box::from_raw(data as *mut (u64, Msg)) };
    let ch = unsafe { &*(context as *const Channel) };
    let call = if env.is_null() { None } else { ch.calls.borrow().get(&id).cloned() };
    let Some(ctx) = call else {
        // The env is being torn down (or the call is gone): answer the guest so it unwinds;
        // a store in the message is dropped here.
        if let Msg::Host(req) = msg {
            req.reply.send(Err(Stop::Abandoned));
        }
        return;
    };
    // SAFETY: on the JS thread of `env`, inside a TSFN callback (for the scope and each arm:
    // `ctx` is the live call's context, and a message is handled once).
    let _scope = unsafe { HandleScope::open(env) };
    match msg {
        // SAFETY (each arm): on the JS thread of `env` in this callback's scope, with the live call.
        Msg::Host(req) => unsafe { start_host_call(env, &ctx, req) },
        // SAFETY: as above; the call is removed first, so it is finished and released once.
        Msg::Done(store, result) => unsafe {
            ch.remove(env, id);
            finish_call(env, &ctx, store, result);
            ctx.release(env);
        },
        // SAFETY: as above.
        Msg::Output(out) => unsafe { forward_output(env, &ctx, &out) },
        Msg::Abandon => abandon_awaited(&ctx),
        // SAFETY: as for `Done`: removed first, released once.
        Msg::Lost => unsafe {
            ch.remove(env, id);
            lose_call(env, &ctx);
            ctx.release(env);
        },
    }
}

/// Deliver output chunks while the call runs. A callback that throws makes the guest's next
/// write trap; its exception becomes the call's rejection (kept as the store's host exception).
unsafe fn forward_output(env: js::Env, ctx: &AsyncCall, out: &Output) {
    // SAFETY: on the JS thread in a TSFN callback's scope; the store is on the wasm thread, so
    // a callback touching it gets ERR_STORE_BUSY rather than aliasing it.
    unsafe {
        let Some(fns) = js::reference_value(env, ctx.fns) else { return };
        if let Err(f) = wasi::deliver(env, fns, out) {
            ctx.core.keep_host_exception(exception_value(env, f));
        }
    }
}

/// The guest stopped waiting (deadline, interrupt): answer its pending host call, whose
/// Promise's settlement, if it ever comes, then finds nothing to answer.
fn abandon_awaited(ctx: &AsyncCall) {
    let pending = ctx.awaited.borrow().iter().filter_map(std::rc::Weak::upgrade).find_map(|cell| cell.borrow_mut().take());
    if let Some(p) = pending {
        p.answer(Err(Stop::Abandoned));
    }
    // Otherwise the answer is already on its way to the guest.
}

/// The guest's job panicked: the store went with it (the core says `StoreClosed` from now on).
unsafe fn lose_call(env: js::Env, ctx: &AsyncCall) {
    for cell in ctx.awaited.take().iter().filter_map(std::rc::Weak::upgrade) {
        drop(cell.borrow_mut().take());
    }
    ctx.core.lose_async();
    let fail = Fail::internal("a panic occurred in wasmtime-node while running this callAsync (this is a bug); its store is lost");
    // SAFETY: on the JS thread; the deferred is settled exactly once (no `Done` follows `Lost`).
    unsafe { sys::napi_reject_deferred(env, ctx.deferred, exception_value(env, fail)) };
}

unsafe fn finish_call(env: js::Env, ctx: &AsyncCall, store: Box<Store<Host>>, result: wasmtime::Result<Outcome>) {
    let core = &ctx.core;
    let output = store.data().wasi.as_ref().map(|w| w.out.clone());
    // The guest is done: host calls still waiting for their Promise were abandoned (a deadline
    // or an interrupt unwound it). Dropping them takes their callers off the stack.
    for cell in ctx.awaited.take().iter().filter_map(std::rc::Weak::upgrade) {
        drop(cell.borrow_mut().take());
    }
    core.end_async(store);
    // SAFETY: on the JS thread in a TSFN callback's scope.
    if !ctx.unlend.is_empty()
        && let Some(fns) = unsafe { js::reference_value(env, ctx.fns) }
        && let Err(f) = crate::call::component_resources::unlend(env, fns, &ctx.unlend)
    {
        // The bridge failing is a bug of ours: its exception is not the call's outcome.
        // SAFETY: on the JS thread; takes the pending exception, if any.
        let _ = unsafe { exception_value(env, f) };
    }
    if let Some(out) = &output {
        // SAFETY: on the JS thread in a TSFN callback's scope.
        unsafe { forward_output(env, ctx, out) };
    }
    let failed = output.as_ref().is_some_and(|o| o.take_failed());
    let settled = result.map_err(|e| core.wasm_error(e, false)).and_then(|outcome| {
        let mut cx = core.cx()?;
        // SAFETY: converting on the JS thread, in the TSFN callback's scope.
        unsafe {
            match outcome {
                Outcome::Core(vals) => vals_value(env, &vals, core, &mut cx),
                Outcome::Component(None) => Ok(js::undefined(env)),
                Outcome::Component(Some((v, ty))) => {
                    let fns = js::reference_value(env, ctx.fns).ok_or_else(|| Fail::internal("host function table is gone"))?;
                    let mut cv = Conv::new(env, fns, core, &mut cx);
                    crate::call::component_values::from_val(&mut cv, &v, &ty)
                }
            }
        }
    });
    // An output callback's exception outranks the call's own outcome (which it may have caused).
    let settled = match core.take_host_exception() {
        Some(exc) if failed => {
            if let Err(f) = settled {
                // SAFETY: on the JS thread; releases what the dropped failure holds.
                unsafe { exception_value(env, f) };
            }
            Err(exc)
        }
        _ => settled,
    };
    // SAFETY: the deferred is settled exactly once, here.
    unsafe {
        match settled {
            Ok(v) => sys::napi_resolve_deferred(env, ctx.deferred, v),
            Err(fail) => sys::napi_reject_deferred(env, ctx.deferred, exception_value(env, fail)),
        };
    }
}

/// A host call waiting for its JS function (or the Promise it returned). Its caller is on the
/// store's caller stack until it is answered — or dropped unanswered (a promise collected
/// without settling), which also takes the caller off the stack.
struct AwaitedHostCall {
    core: Rc<StoreCore>,
    results: ResultSpec,
    /// Taken by the answer; dropped unanswered, it tells the guest that no answer will come.
    reply: Option<Reply>,
}

impl AwaitedHostCall {
    fn answer(mut self, a: Answer) {
        self.core.pop_caller();
        if let Some(r) = self.reply.take() {
            r.send(a);
        }
    }
}

impl Drop for AwaitedHostCall {
    fn drop(&mut self) {
        if self.reply.is_some() {
            self.core.pop_caller();
        }
    }
}

/// What a host call's answer is made of: core results in the raw convention, or component values
/// written through the waiting guest's `results` (with the guest handles lent to JS meanwhile).
enum ResultSpec {
    Core(Box<[ValType]>),
    Component { ty: ComponentFunc, results: *mut [CVal], fns: sys::napi_ref, lent: Vec<Rc<Cell<Option<ResourceAny>>>> },
}

unsafe fn start_host_call(env: js::Env, ctx: &AsyncCall, req: HostRequest) {
    let core = &ctx.core;
    let HostRequest { slot, kind, reply } = req;
    let (ret, results) = match kind {
        HostCallKind::Core { params, param_types, result_types, caller } => {
            core.push_caller(caller);
            // SAFETY: on the JS thread, the caller pushed, the wasm thread waiting.
            (unsafe { call_js(env, ctx, slot, &params, &param_types) }, ResultSpec::Core(result_types))
        }
        HostCallKind::Component { params, ty, results, cx } => {
            core.push_component_caller(cx);
            let mut lent = Vec::new();
            // SAFETY: as above.
            let ret = unsafe { call_component_js(env, ctx, slot, &params, &ty, &mut lent) };
            (ret, ResultSpec::Component { ty, results, fns: ctx.fns, lent })
        }
        HostCallKind::ResourceDrop { rep, cx } => {
            core.push_component_caller(cx);
            // SAFETY: on the JS thread, the guest's context pushed, the wasm thread waiting.
            let ret = unsafe {
                js::reference_value(env, ctx.fns)
                    .ok_or_else(|| Fail::internal("host function table is gone"))
                    .and_then(|fns| js::get_named(env, fns, "resources"))
                    .and_then(|b| js::get_named(env, b, "hostDrop"))
                    .and_then(|f| js::call_function(env, f, &[js::u32_value(env, rep)?]))
                    .map(|_| js::undefined(env))
            };
            (ret, ResultSpec::Core(Box::new([])))
        }
    };
    let awaited = AwaitedHostCall { core: core.clone(), results, reply: Some(reply) };
    match ret {
        Ok(v) if unsafe { js::is_promise(env, v) } => unsafe { await_then(env, ctx, v, awaited) },
        Ok(v) => unsafe { settle(env, awaited, Ok(v)) },
        // SAFETY: on the JS thread (TSFN or promise callback); the AwaitedHostCall's caller is on the stack of callers while the wasm thread waits.
        Err(f) => unsafe { settle(env, awaited, Err(f)) },
    }
}

unsafe fn call_js(env: js::Env, ctx: &AsyncCall, slot: u32, params: &[ValRaw], types: &[ValType]) -> Res<js::Value> {
    // SAFETY: on the JS thread (TSFN or promise callback); the AwaitedHostCall's caller is on the stack of callers while the wasm thread waits.
    unsafe {
        let fns = js::reference_value(env, ctx.fns).ok_or_else(|| Fail::internal("host function table is gone"))?;
        let f = ctx.core.host_fn(fns, slot)?;
        let mut argv = Vec::with_capacity(params.len());
        {
            let mut cx = ctx.core.cx()?;
            for (raw, ty) in params.iter().zip(types) {
                argv.push(values::from_raw(env, *raw, ty, &ctx.core, &mut cx)?);
            }
        }
        js::call_function(env, f, &argv)
    }
}

/// A component host function called with `params` (converted with the store's context, which
/// is the waiting guest's); the guest handles lent to it are kept in `lent` until it settles.
unsafe fn call_component_js(
    env: js::Env,
    ctx: &AsyncCall,
    slot: u32,
    params: &[CVal],
    ty: &ComponentFunc,
    lent: &mut Vec<Rc<Cell<Option<ResourceAny>>>>,
) -> Res<js::Value> {
    // SAFETY: on the JS thread, with the guest's context on the stack of callers.
    unsafe {
        let fns = js::reference_value(env, ctx.fns).ok_or_else(|| Fail::internal("host function table is gone"))?;
        let f = ctx.core.host_fn(fns, slot)?;
        let argv = {
            let mut cx = ctx.core.cx()?;
            let mut cv = Conv::new(env, fns, &ctx.core, &mut cx);
            let argv = component_func::host_args(&mut cv, ty, params);
            lent.append(&mut cv.lent);
            argv?
        };
        js::call_function(env, f, &argv)
    }
}

/// Convert a component host call's outcome (`Err`: what it threw or rejected with) into the
/// waiting guest's results, and release the handles it was lent.
unsafe fn component_results(
    env: js::Env,
    core: &StoreCore,
    spec: ResultSpec,
    outcome: std::result::Result<js::Value, js::Value>,
) -> Res<Vec<ValRaw>> {
    let ResultSpec::Component { ty, results, fns, lent } = spec else { return Err(Fail::internal("not a component host call")) };
    // SAFETY: on the JS thread; `fns` is the live call's reference; `results` points into the
    // guest's frame, which waits for this answer.
    unsafe {
        let fns = js::reference_value(env, fns).ok_or_else(|| Fail::internal("host function table is gone"))?;
        let mut cx = core.cx()?;
        let mut cv = Conv::new(env, fns, core, &mut cx);
        cv.lent = lent;
        let converted = component_func::host_results(&mut cv, &ty, outcome, &mut *results);
        let released = cv.release_lent();
        converted.and(released).map(|()| Vec::new())
    }
}

/// Answer the wasm thread with the host function's value (converted) or its failure.
unsafe fn settle(env: js::Env, mut p: AwaitedHostCall, value: Res<js::Value>) {
    let core = p.core.clone();
    let spec = std::mem::replace(&mut p.results, ResultSpec::Core(Box::new([])));
    let core_call = matches!(spec, ResultSpec::Core(_));
    let converted = match spec {
        ResultSpec::Core(types) => value.and_then(|v| {
            let mut cx = core.cx()?;
            // SAFETY: converting on the JS thread while the caller is on the stack of callers.
            unsafe { results_raw(env, v, &types, &mut cx) }.map(|r| r.into_vec())
        }),
        spec @ ResultSpec::Component { .. } => {
            let outcome = match value {
                Ok(v) => Ok(v),
                // SAFETY: on the JS thread: the thrown value, taken from the pending exception.
                Err(Fail::Pending) => Err(unsafe { js::take_exception(env) }),
                Err(f) => Err(unsafe { exception_value(env, f) }),
            };
            // SAFETY: on the JS thread while the guest's context is on the stack of callers.
            unsafe { component_results(env, &core, spec, outcome) }
        }
    };
    let answer = converted.map_err(|fail| {
        // SAFETY: on the JS thread.
        let exc = unsafe { exception_value(env, fail) };
        // SAFETY: on the JS thread while the guest's context is on the stack of callers.
        if core_call { unsafe { threw(env, &core, exc) } } else { kept(&core, exc) }
    });
    p.answer(answer);
}

/// A host function's exception as the waiting guest's answer: kept as the store's JS exception.
fn kept(core: &StoreCore, exc: js::Value) -> Stop {
    core.keep_host_exception(exc);
    Stop::Threw
}

/// `kept`, for a core host function: a wasm `Exception` of the store also becomes the store's
/// pending exception, which the guest's `try_table` may catch (as on the synchronous path).
///
/// SAFETY (caller): on the JS thread, inside a callback, while the guest's caller is on the
/// store's stack of callers; `exc` is a live handle.
unsafe fn threw(env: js::Env, core: &StoreCore, exc: js::Value) -> Stop {
    let stop = kept(core, exc);
    // SAFETY: the caller's contract.
    match unsafe { exception::native_of(env, exc) } {
        Some(x) if core.cx().is_ok_and(|mut cx| exception::set_pending(x, core, &mut cx)) => Stop::Thrown,
        _ => stop,
    }
}

/// The `AwaitedHostCall` shared by a promise's two callbacks: whichever runs takes it. Each callback
/// owns one `Rc`, dropped by its finalizer — so if the promise is collected without settling
/// (or the thread exits), the `AwaitedHostCall` and its reply channel are dropped, and the wasm thread
/// stops waiting and unwinds instead of blocking forever.
type Shared = Rc<std::cell::RefCell<Option<AwaitedHostCall>>>;

/// `promise.then(onFulfilled, onRejected)` with native callbacks sharing one `AwaitedHostCall`.
unsafe fn await_then(env: js::Env, ctx: &AsyncCall, promise: js::Value, awaited: AwaitedHostCall) {
    let shared: Shared = Rc::new(std::cell::RefCell::new(Some(awaited)));
    let mut awaited = ctx.awaited.borrow_mut();
    awaited.retain(|w| w.upgrade().is_some_and(|c| c.borrow().is_some())); // drop the settled ones
    awaited.push(Rc::downgrade(&shared));
    drop(awaited);
    let attach = || -> Res<()> {
        // SAFETY: on the JS thread (TSFN or promise callback); the AwaitedHostCall's caller is on the stack of callers while the wasm thread waits.
        unsafe {
            let mut then = ptr::null_mut();
            if sys::napi_get_named_property(env, promise, c"then".as_ptr(), &mut then) != sys::Status::napi_ok {
                return Err(Fail::Pending);
            }
            let on_ok = make_callback(env, &shared, on_fulfilled)?;
            let on_err = make_callback(env, &shared, on_rejected)?;
            let mut out = ptr::null_mut();
            if sys::napi_call_function(env, promise, then, 2, [on_ok, on_err].as_ptr(), &mut out) != sys::Status::napi_ok {
                return Err(Fail::Pending);
            }
            Ok(())
        }
    };
    if let Err(f) = attach() {
        let taken = shared.borrow_mut().take();
        if let Some(p) = taken {
            // SAFETY: on the JS thread (TSFN or promise callback); the AwaitedHostCall's caller is on the stack of callers while the wasm thread waits.
            unsafe { settle(env, p, Err(f)) };
        }
    }
}

unsafe fn make_callback(
    env: js::Env,
    shared: &Shared,
    cb: unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value,
) -> Res<js::Value> {
    let data = Rc::into_raw(shared.clone()) as *mut std::ffi::c_void;
    let mut f = ptr::null_mut();
    // SAFETY: creating a function on the JS thread; on failure the Rc is reclaimed here, and on
    // success it is released by `drop_shared` when the function is collected.
    unsafe {
        if sys::napi_create_function(env, c"settle".as_ptr(), 6, Some(cb), data, &mut f) != sys::Status::napi_ok
            || sys::napi_add_finalizer(env, f, data, Some(drop_shared), ptr::null_mut(), ptr::null_mut()) != sys::Status::napi_ok
        {
            drop(Rc::from_raw(data as *const std::cell::RefCell<Option<AwaitedHostCall>>));
            return Err(Fail::internal("could not create a promise callback"));
        }
    }
    Ok(f)
}

unsafe extern "C" fn drop_shared(_env: sys::napi_env, data: *mut std::ffi::c_void, _hint: *mut std::ffi::c_void) {
    // SAFETY: the Rc leaked by `make_callback` for this function, released once.
    drop(unsafe { Rc::from_raw(data as *const std::cell::RefCell<Option<AwaitedHostCall>>) });
}

unsafe fn take_awaited(env: js::Env, info: sys::napi_callback_info) -> Option<(AwaitedHostCall, js::Value)> {
    let mut argc = 1usize;
    let mut argv = [ptr::null_mut(); 1];
    let mut data = ptr::null_mut();
    // SAFETY: on the JS thread (TSFN or promise callback); the AwaitedHostCall's caller is on the stack of callers while the wasm thread waits.
    unsafe {
        sys::napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), ptr::null_mut(), &mut data);
        // The function's own Rc keeps the cell alive during this call.
        let cell = &*(data as *const std::cell::RefCell<Option<AwaitedHostCall>>);
        let p = cell.borrow_mut().take()?;
        let v = if argc > 0 { argv[0] } else { js::undefined(env) };
        Some((p, v))
    }
}

unsafe extern "C" fn on_fulfilled(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: on the JS thread (TSFN or promise callback); the AwaitedHostCall's caller is on the stack of callers while the wasm thread waits.
    if let Some((p, v)) = unsafe { take_awaited(env, info) } {
        // SAFETY: on the JS thread (TSFN or promise callback); the AwaitedHostCall's caller is on the stack of callers while the wasm thread waits.
        unsafe { settle(env, p, Ok(v)) };
    }
    ptr::null_mut()
}

unsafe extern "C" fn on_rejected(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // SAFETY: on the JS thread (TSFN or promise callback); the AwaitedHostCall's caller is on the stack of callers while the wasm thread waits.
    if let Some((mut p, reason)) = unsafe { take_awaited(env, info) } {
        if matches!(p.results, ResultSpec::Component { .. }) {
            // A rejection may be a `result`'s `err` (jco's convention): converted as a throw.
            let core = p.core.clone();
            let spec = std::mem::replace(&mut p.results, ResultSpec::Core(Box::new([])));
            // SAFETY: on the JS thread while the guest's context is on the stack of callers.
            let answer = unsafe { component_results(env, &core, spec, Err(reason)) }.map_err(|fail| {
                // SAFETY: on the JS thread.
                core.keep_host_exception(unsafe { exception_value(env, fail) });
                Stop::Threw
            });
            p.answer(answer);
            return ptr::null_mut();
        }
        let core = p.core.clone();
        // SAFETY: as above.
        p.answer(Err(unsafe { threw(env, &core, reason) }));
    }
    ptr::null_mut()
}
