//! Calling wasm from JS (invokers), and JS host functions called from wasm. `NativeFunc` (a
//! function of a store with its types) is defined here because conversions need it (a funcref's
//! JS form); its `#[napi]` methods are in api/func.rs.
//!
//! Both directions use wasmtime's unchecked (raw) calling convention: the types are known once
//! per function, values are converted straight between JS and `ValRaw`, and no `Vec<Val>` is
//! built per call. Each exported function gets its own native JS function (an "invoker") whose
//! callback data points at the function, so a call does not unwrap any object either.

use std::cell::RefCell;
use std::future::Future;
use std::mem::MaybeUninit;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::Poll;

use napi::sys;
use napi_derive::napi;
use smallvec::SmallVec;
use wasmtime::{AsContext, AsContextMut, Caller, Func, FuncType, RootScope, StoreContextMut, Val, ValRaw, ValType};

use crate::base::error::{self, Fail, Res};
use crate::base::raw::{self as js, HandleScope};
use crate::call::{exception, executor, values};
use crate::store::core::{Host, HostStats, StoreCore};
use crate::store::profiling;
use crate::store::wasi;

/// Which JS function a native host function stands for.
#[derive(Clone, Copy)]
pub enum HostKey {
    /// A slot of the store's host-function table.
    Slot(u32),
    /// Function `index` of linker `id`, mapped to a slot per store (see `Host::linker_slots`).
    Linker(u64, u32),
}

/// The raw-convention closure behind every JS host function.
pub type HostClosure = Box<dyn Fn(Caller<'_, Host>, &mut [MaybeUninit<ValRaw>]) -> wasmtime::Result<()> + Send + Sync>;

pub fn host_closure(key: HostKey, ty: &FuncType) -> HostClosure {
    let params: Box<[ValType]> = ty.params().collect();
    let results: Box<[ValType]> = ty.results().collect();
    Box::new(move |mut caller, raw| host_call(key, &params, &results, &mut caller, raw))
}

/// A wasmtime host function that calls into JS through the running call's `EntryCtx`: an async
/// one in a store created with `async: true` (see `async_host_closure`).
pub fn host_func(cx: impl AsContextMut<Data = Host>, ty: FuncType, key: HostKey) -> Func {
    if cx.as_context().data().is_async {
        return Func::new_async(cx, ty.clone(), async_host_closure(key, &ty));
    }
    let closure = host_closure(key, &ty);
    // SAFETY: `host_call` reads exactly `ty`'s params from `raw` and writes exactly its results,
    // each converted according to its declared type.
    unsafe { Func::new_unchecked(cx, ty, closure) }
}

/// The future of an async host function.
pub type HostFuture<'a> = Box<dyn Future<Output = wasmtime::Result<()>> + Send + 'a>;

/// The closure behind every JS host function of an async store (wasmtime's async host
/// functions, which make the store's entry points async-only). Values go through the raw
/// convention so that both paths share `host_call`'s conversions.
pub fn async_host_closure(
    key: HostKey,
    ty: &FuncType,
) -> impl for<'a> Fn(Caller<'a, Host>, &'a [Val], &'a mut [Val]) -> HostFuture<'a> + Send + Sync + 'static {
    let params: Arc<[ValType]> = ty.params().collect();
    let results: Arc<[ValType]> = ty.results().collect();
    move |caller, args, rets| {
        let (params, results) = (params.clone(), results.clone());
        Box::new(async move {
            let mut caller = caller;
            let marked = profiling::begin_host_call(&mut caller);
            let r = async_host_call(key, &params, &results, &mut caller, args, rets).await;
            profiling::end_host_call(&mut caller, marked);
            r
        })
    }
}

async fn async_host_call(
    key: HostKey,
    params: &[ValType],
    results: &[ValType],
    caller: &mut Caller<'_, Host>,
    args: &[Val],
    rets: &mut [Val],
) -> wasmtime::Result<()> {
    let mut raw: SmallVec<[MaybeUninit<ValRaw>; 8]> = SmallVec::new();
    raw.resize(params.len().max(results.len()), MaybeUninit::new(ValRaw::i32(0)));
    for (slot, a) in raw.iter_mut().zip(args) {
        *slot = MaybeUninit::new(a.to_raw(&mut *caller)?);
    }
    let entry = caller.data().entry;
    if let Some(route) = entry.route {
        let slot = slot_of(key, caller.data())?;
        crate::call::async_call::host_call_pooled(route, slot, params, results, caller, &mut raw).await?;
    } else if !entry.core.is_null() {
        local_host_call(key, params, results, caller, &mut raw).await?;
    } else {
        wasmtime::bail!("a JS host function was called while no JS call is active");
    }
    for ((out, v), ty) in rets.iter_mut().zip(&raw).zip(results) {
        // SAFETY: `host_call` (or the JS thread) wrote one value of each result type, converted
        // by that type and rooted in this caller's store.
        *out = unsafe { Val::from_raw(&mut *caller, v.assume_init(), ty.clone()) };
    }
    Ok(())
}

/// Pointers to a suspended host call's frame, for the JS thread (see `local_host_call`).
struct LocalFrame {
    key: HostKey,
    params: *const [ValType],
    results: *const [ValType],
    caller: *mut Caller<'static, Host>,
    raw: *mut [MaybeUninit<ValRaw>],
    outcome: Arc<Mutex<Option<wasmtime::Result<()>>>>,
}

fn park_frame(frame: LocalFrame) {
    executor::park_local(executor::LocalHostCall {
        run: Box::new(move || {
            // SAFETY: `block_here` runs this on the same thread while the fiber is suspended
            // in `local_host_call`: the frame's pointers are live, nothing else uses them.
            let r = unsafe { host_call(frame.key, &*frame.params, &*frame.results, &mut *frame.caller, &mut *frame.raw) };
            *frame.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
        }),
    });
}

/// A host call of an async store's guest driven by `block_here` on the JS thread (a sync call or
/// an instantiation): suspend the fiber and let `block_here` run the JS function on the
/// thread's own stack — JS must not run on a fiber's stack.
async fn local_host_call(
    key: HostKey,
    params: &[ValType],
    results: &[ValType],
    caller: &mut Caller<'_, Host>,
    raw: &mut [MaybeUninit<ValRaw>],
) -> wasmtime::Result<()> {
    let outcome = Arc::new(Mutex::new(None));
    park_frame(LocalFrame { key, params, results, caller: (caller as *mut Caller<'_, Host>).cast(), raw, outcome: outcome.clone() });
    std::future::poll_fn(|_| match outcome.lock().unwrap_or_else(|e| e.into_inner()).take() {
        Some(r) => Poll::Ready(r),
        None => Poll::Pending,
    })
    .await
}

/// Resolve a host key to a slot of the current store's JS table.
pub fn slot_of(key: HostKey, host: &Host) -> wasmtime::Result<u32> {
    match key {
        HostKey::Slot(s) => Ok(s),
        HostKey::Linker(id, i) => host
            .linker_slots
            .get(&(id, i))
            .copied()
            .ok_or_else(|| wasmtime::format_err!("linker host function {i} is not bound in this store")),
    }
}

fn host_call(
    key: HostKey,
    params: &[ValType],
    results: &[ValType],
    caller: &mut Caller<'_, Host>,
    raw: &mut [MaybeUninit<ValRaw>],
) -> wasmtime::Result<()> {
    let entry = caller.data().entry;
    let slot = slot_of(key, caller.data())?;
    if entry.core.is_null() {
        if let Some(route) = entry.route {
            return profiling::host_call(caller, |caller| {
                crate::call::async_call::host_call_remote(route, slot, params, results, caller, raw)
            });
        }
        wasmtime::bail!("a JS host function was called while no JS call is active");
    }
    // SAFETY: `entry` was set by `StoreCore::enter` on this thread for the call now on the stack,
    // whose frame keeps an `Rc` to the core alive.
    let core = unsafe { &*entry.core };
    let env = entry.env;
    let marked = profiling::begin_host_call(caller);
    let output = wasi::queued_output(caller.data());
    let stats = HostStats::of(caller.data());
    // SAFETY: `env` is this thread's env; the scope is closed before we return.
    let _scope = unsafe { HandleScope::open(env) };
    core.push_caller((caller as *mut Caller<'_, Host>).cast::<Caller<'static, Host>>());
    core.sync_views_with(stats);
    // SAFETY: `entry.fns` is a handle of the entry's scope, still open below us; `raw` holds
    // `params` on entry and has room for `results` (wasmtime's raw calling convention). The
    // guest's queued output goes to its callbacks first, so both keep the guest's order.
    let outcome = match output {
        Some(out) => unsafe { wasi::deliver(env, entry.fns, &out) },
        None => Ok(()),
    };
    // SAFETY: as above: `entry.fns` is live in the entry's scope, `raw` follows the raw convention.
    let outcome = outcome.and_then(|()| unsafe { invoke_host(core, env, entry.fns, slot, params, results, raw) });
    // SAFETY: inside our handle scope on the JS thread.
    let outcome = outcome.map_err(|fail| unsafe { exception::host_failure(core, env, fail, caller) });
    core.pop_caller();
    profiling::end_host_call(caller, marked);
    outcome
}

unsafe fn invoke_host(
    core: &StoreCore,
    env: js::Env,
    fns: js::Value,
    slot: u32,
    params: &[ValType],
    results: &[ValType],
    raw: &mut [MaybeUninit<ValRaw>],
) -> Res<()> {
    // SAFETY: on the JS thread inside a host call or callback; handles are live in the open scope.
    unsafe {
        let f = core.host_fn(fns, slot)?;
        let mut argv: SmallVec<[js::Value; 8]> = SmallVec::with_capacity(params.len());
        {
            let mut cx = core.cx()?;
            for (i, ty) in params.iter().enumerate() {
                argv.push(values::from_raw(env, raw[i].assume_init(), ty, core, &mut cx)?);
            }
        }
        let ret = js::call_function(env, f, &argv)?;
        // A Promise cannot be awaited by a synchronous call. (An externref result may be one:
        // it converts; other result types fail to, and only then is it looked at.)
        if results.is_empty() && js::type_of(env, ret) == sys::ValueType::napi_object && js::is_promise(env, ret) {
            return Err(promise_to_sync_call(env, ret));
        }
        let mut cx = core.cx()?;
        // Convert all before writing any: `raw` still holds the params until then.
        let out = results_raw(env, ret, results, &mut cx).map_err(|f| match f {
            Fail::New(_) if js::is_promise(env, ret) => promise_to_sync_call(env, ret),
            f => f,
        })?;
        for (slot, v) in raw.iter_mut().zip(out) {
            *slot = MaybeUninit::new(v);
        }
        Ok(())
    }
}

/// The error for a host function that returned a Promise to a synchronous call; the Promise's
/// rejection, which nobody will await, is marked handled.
pub unsafe fn promise_to_sync_call(env: js::Env, promise: js::Value) -> Fail {
    // SAFETY: on the JS thread inside a host call; `promise` is a live handle of its scope.
    if let Err(f) = unsafe { js::mark_handled(env, promise) } {
        return f;
    }
    Fail::with(
        "TypeError",
        "ERR_INVALID_RETURN_VALUE",
        "a host function returned a Promise to a synchronous call: call the export with callAsync() to await it, or return a plain value",
    )
}

/// A host function's return value as raw results: one value, or an array of them. A value of
/// the wrong type is a wrong return value (`ERR_INVALID_RETURN_VALUE`), not a wrong argument.
pub unsafe fn results_raw(
    env: js::Env,
    ret: js::Value,
    results: &[ValType],
    cx: &mut StoreContextMut<'_, Host>,
) -> Res<SmallVec<[ValRaw; 4]>> {
    // SAFETY: per this function's contract (the same as `convert_results`).
    unsafe { convert_results(env, ret, results, cx) }.map_err(|f| match f {
        Fail::New(mut e) if e.code == "ERR_INVALID_ARG_TYPE" => {
            e.code = "ERR_INVALID_RETURN_VALUE";
            e.message = format!("host function result: {}", e.message);
            Fail::New(e)
        }
        f => f,
    })
}

unsafe fn convert_results(
    env: js::Env,
    ret: js::Value,
    results: &[ValType],
    cx: &mut StoreContextMut<'_, Host>,
) -> Res<SmallVec<[ValRaw; 4]>> {
    // SAFETY: on the JS thread inside a host call or callback; handles are live in the open scope.
    unsafe {
        match results.len() {
            0 => Ok(SmallVec::new()),
            1 => Ok(SmallVec::from_elem(values::to_raw(env, ret, &results[0], cx)?, 1)),
            n => {
                if js::array_length(env, ret)? != Some(n as u32) {
                    return Err(Fail::type_error(format!("a function with {n} results must return an array of {n} values")));
                }
                let mut out = SmallVec::with_capacity(n);
                for (i, ty) in results.iter().enumerate() {
                    out.push(values::to_raw(env, js::get_element(env, ret, i as u32)?, ty, cx)?);
                }
                Ok(out)
            }
        }
    }
}

/// Results as the JS value of a call: one → the value, none → undefined, several → an array.
pub unsafe fn vals_value(env: js::Env, vals: &[Val], core: &StoreCore, cx: &mut StoreContextMut<'_, Host>) -> Res<js::Value> {
    // SAFETY: on the JS thread inside a host call or callback; handles are live in the open scope.
    unsafe {
        match vals.len() {
            0 => Ok(js::undefined(env)),
            1 => values::from_val(env, &vals[0], core, cx),
            n => {
                let arr = js::array(env, n)?;
                for (i, v) in vals.iter().enumerate() {
                    js::set_element(env, arr, i as u32, values::from_val(env, v, core, cx)?)?;
                }
                Ok(arr)
            }
        }
    }
}

/// A call's raw results as its JS value: one → the value, none → undefined, several → an array;
/// `one` converts each.
///
/// SAFETY (caller): on the JS thread inside a callback's handle scope.
#[inline]
unsafe fn raw_results_value(
    env: js::Env,
    raw: &[ValRaw],
    results: &[ValType],
    mut one: impl FnMut(ValRaw, &ValType) -> Res<js::Value>,
) -> Res<js::Value> {
    match results.len() {
        // SAFETY: the caller's contract.
        0 => Ok(unsafe { js::undefined(env) }),
        1 => one(raw[0], &results[0]),
        len => {
            // SAFETY: the caller's contract.
            let arr = unsafe { js::array(env, len)? };
            for (i, ty) in results.iter().enumerate() {
                // SAFETY: the caller's contract; `arr` is a live handle of this scope.
                unsafe { js::set_element(env, arr, i as u32, one(raw[i], ty)?)? };
            }
            Ok(arr)
        }
    }
}

/// What an invoker's callback needs: everything about one function, resolved once.
struct Invoker {
    core: Rc<StoreCore>,
    func: Func,
    params: Rc<[ValType]>,
    results: Rc<[ValType]>,
    has_refs: bool,
    /// Numeric, with at most `PLAIN_SLOTS` params and results: eligible for `call_plain`.
    plain: bool,
}

/// The raw slots a plain call converts into on the stack.
const PLAIN_SLOTS: usize = 8;

/// A function's parameter and result types, shared between invokers.
pub type Signature = (Rc<[ValType]>, Rc<[ValType]>);

thread_local! {
    /// Numeric signatures already seen, shared by the invokers of every instance (one export of
    /// a per-request instance then allocates no signature). Reference types are not kept: they
    /// may name an engine's registered types, which must not outlive the engine.
    static SIGNATURES: RefCell<Vec<Signature>> = const { RefCell::new(Vec::new()) };
}

/// How many numeric signatures `SIGNATURES` keeps (the oldest goes first).
const SIGNATURE_CACHE: usize = 64;

fn same_types(a: &[ValType], b: &[ValType]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| ValType::eq(x, y))
}

/// `ty`'s parameter and result types, shared with earlier invokers of the same numeric signature.
pub fn signature(ty: &FuncType) -> Signature {
    let params: SmallVec<[ValType; 8]> = ty.params().collect();
    let results: SmallVec<[ValType; 4]> = ty.results().collect();
    let numeric = !params.iter().chain(&results).any(|t| t.is_ref());
    SIGNATURES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if numeric && let Some((p, r)) = cache.iter().find(|(p, r)| same_types(p, &params) && same_types(r, &results)) {
            return (p.clone(), r.clone());
        }
        let sig: Signature = (params.into_iter().collect(), results.into_iter().collect());
        if numeric {
            if cache.len() >= SIGNATURE_CACHE {
                cache.remove(0);
            }
            cache.push(sig.clone());
        }
        sig
    })
}

impl Invoker {
    /// `lib/`'s callable checks the arity (the one check; its fast paths pass exactly the
    /// declared number of arguments). Were it wrong, the missing values stay zero — null for
    /// references — never uninitialised memory.
    fn call(&self, env: js::Env, fns: js::Value, args: &[js::Value]) -> Res<js::Value> {
        if self.plain
            && let Some(r) = self.call_plain(env, fns, args)
        {
            return r;
        }
        self.core.enter(fns, |mut cx| {
            if self.has_refs {
                // References converted to raw form stay rooted until the scope ends.
                let mut scope = RootScope::new(&mut cx);
                self.run(env, args, &mut scope.as_context_mut())
            } else {
                self.run(env, args, &mut cx)
            }
        })
    }

    fn run(&self, env: js::Env, args: &[js::Value], cx: &mut StoreContextMut<'_, Host>) -> Res<js::Value> {
        let n = self.params.len().max(self.results.len());
        let mut raw: SmallVec<[ValRaw; 8]> = SmallVec::from_buf([ValRaw::i32(0); 8]);
        raw.resize(n, ValRaw::i32(0));
        for (i, (a, ty)) in args.iter().zip(self.params.iter()).enumerate() {
            // SAFETY: `a` is an argument handle of this callback.
            raw[i] = unsafe { values::to_raw(env, *a, ty, cx)? };
        }
        if cx.data().is_async {
            self.call_here(cx, &mut raw)?;
        } else {
            // SAFETY: `raw` holds one value of each parameter type, converted by its declared type
            // (funcrefs checked to belong to this store, externrefs rooted by the caller's scope),
            // and has room for every result.
            unsafe { self.func.call_unchecked(&mut *cx, &mut raw[..] as *mut [ValRaw]) }.map_err(|e| self.core.wasm_error(e, false))?;
        }
        // SAFETY: converting on the JS thread within this callback's scope.
        unsafe { raw_results_value(env, &raw, &self.results, |v, ty| values::from_raw(env, v, ty, &self.core, cx)) }
    }
}

impl Invoker {
    /// The hot path (measured in bench/calls.mjs): a numeric signature, converted on the stack,
    /// entered with `enter_plain`. `None` when the store needs `enter`'s general work.
    #[inline]
    fn call_plain(&self, env: js::Env, fns: js::Value, args: &[js::Value]) -> Option<Res<js::Value>> {
        let mut raw = [ValRaw::i32(0); PLAIN_SLOTS];
        let called = self.core.enter_plain(fns, |store| {
            for (i, (a, ty)) in args.iter().zip(self.params.iter()).enumerate() {
                // SAFETY: `a` is an argument handle of this callback; the type is numeric.
                raw[i] = unsafe { values::quick_to_raw(env, *a, ty)? };
            }
            // SAFETY: `raw` holds one value of each (numeric) parameter type, converted by its
            // declared type, and has room for every result (`plain` caps both at its length).
            Ok(unsafe { self.func.call_unchecked(store, &mut raw[..] as *mut [ValRaw]) })
        })?;
        // SAFETY: converting numbers on the JS thread within this callback's scope.
        Some(called.and_then(|()| unsafe { raw_results_value(env, &raw, &self.results, |v, ty| values::quick_from_raw(env, v, ty)) }))
    }

    /// A synchronous call of an async store's export: wasmtime runs it on a fiber, driven here on
    /// the JS thread (`block_here`), with its host functions run on this thread's stack.
    fn call_here(&self, cx: &mut StoreContextMut<'_, Host>, raw: &mut [ValRaw]) -> Res<()> {
        let params: SmallVec<[Val; 8]> = self
            .params
            .iter()
            .zip(raw.iter())
            // SAFETY: each raw value was converted by its declared type in this store (`run`).
            .map(|(ty, v)| unsafe { Val::from_raw(&mut *cx, *v, ty.clone()) })
            .collect();
        let mut out: SmallVec<[Val; 4]> = self.results.iter().map(|t| Val::default_for_ty(t).unwrap_or(Val::I32(0))).collect();
        executor::block_here(self.func.call_async(&mut *cx, &params, &mut out))?.map_err(|e| self.core.wasm_error(e, false))?;
        for (slot, v) in raw.iter_mut().zip(&out) {
            *slot = v.to_raw(&mut *cx).map_err(Fail::from_runtime)?;
        }
        Ok(())
    }
}

/// The native callback of an invoker: `invoker(fns, ...args)`.
unsafe extern "C" fn invoker_callback(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    const INLINE: usize = 9;
    let mut argc = INLINE;
    let mut argv: [sys::napi_value; INLINE] = [ptr::null_mut(); INLINE];
    // SAFETY: standard use of napi_get_cb_info with a buffer of `argc` slots.
    unsafe { sys::napi_get_cb_info(env, info, &mut argc, argv.as_mut_ptr(), ptr::null_mut(), ptr::null_mut()) };
    let mut heap: Vec<sys::napi_value>;
    let args: &[sys::napi_value] = if argc <= INLINE {
        &argv[..argc]
    } else {
        heap = vec![ptr::null_mut(); argc];
        // SAFETY: as above, with a buffer of the full length.
        unsafe { sys::napi_get_cb_info(env, info, &mut argc, heap.as_mut_ptr(), ptr::null_mut(), ptr::null_mut()) };
        &heap[..]
    };
    let result = catch_unwind(AssertUnwindSafe(|| match args {
        [fns, id, rest @ ..] => {
            let mut id_num = 0u32;
            // SAFETY: `id` is an argument handle; napi_get_value_uint32 checks that it is a number.
            let inv = if unsafe { sys::napi_get_value_uint32(env, *id, &mut id_num) } == sys::Status::napi_ok {
                REGISTRY.with_borrow(|r| r.get(id_num))
            } else {
                None
            };
            let Some(inv) = inv else { return Err(Fail::internal("invoke called without an invoker id")) };
            // SAFETY: a registered invoker lives in its owner's `Invokers` until the owner drops,
            // which unregisters it first; the owner is reachable from the callable running this
            // call (lib/func.ts), so it cannot be collected before the call returns.
            let inv = unsafe { &*inv };
            inv.call(env, *fns, rest)
        }
        _ => Err(Fail::internal("invoke called without its host-function table and invoker")),
    }));
    let fail = match result {
        Ok(Ok(v)) => return v,
        Ok(Err(f)) => f,
        Err(_) => Fail::internal("a panic occurred in wasmtime-node (this is a bug); the call was aborted"),
    };
    // SAFETY: throwing on this callback's env.
    unsafe { error::throw(env, fail) };
    ptr::null_mut()
}

/// A function of a store, with its types resolved once: an exported function's `.func`, a
/// host function made by `new Func`, a funcref in JS.
#[napi]
pub struct NativeFunc {
    core: Rc<StoreCore>,
    pub(crate) func: Func,
    pub(crate) params: Rc<[ValType]>,
    pub(crate) results: Rc<[ValType]>,
    pub(crate) invokers: Invokers,
}

impl NativeFunc {
    pub fn new(core: Rc<StoreCore>, func: Func, cx: impl AsContext) -> NativeFunc {
        let (params, results) = signature(&func.ty(cx));
        NativeFunc { core, func, params, results, invokers: Invokers::default() }
    }

    pub fn core(&self) -> &Rc<StoreCore> {
        &self.core
    }
}

/// Invokers owned by the native object whose JS callables use them (an instance's exports, a
/// `Func`), by key (an export's name). JS refers to one by its id in this thread's `REGISTRY`, a
/// small integer: a JS object per invoker (an external, a function) is what a per-request
/// instance would pay most for, in its creation and in the GC (bench/instantiate.mjs). lib/func.ts
/// keeps the owner's JS object reachable from every callable holding an id, so an invoker stays
/// registered while it can be called; an id that is not (forged, or of a dropped owner) is an error.
#[derive(Default)]
pub struct Invokers(RefCell<Vec<(String, Box<Invoker>, u32)>>);

impl Invokers {
    /// The id of `key`'s invoker, made on first request.
    pub fn id(&self, key: &str, core: &Rc<StoreCore>, func: Func, sig: impl FnOnce() -> Signature) -> u32 {
        let mut list = self.0.borrow_mut();
        if let Some((_, _, id)) = list.iter().find(|(k, _, _)| k == key) {
            return *id;
        }
        let inv = Box::new(Invoker::new(core, func, sig()));
        let id = REGISTRY.with_borrow_mut(|r| r.add(&*inv));
        list.push((key.to_string(), inv, id));
        id
    }
}

impl Drop for Invokers {
    fn drop(&mut self) {
        // try_with: a thread's last owners may drop while its thread-locals are torn down.
        let _ = REGISTRY.try_with(|r| {
            let mut r = r.borrow_mut();
            self.0.get_mut().iter().for_each(|(_, _, id)| r.remove(*id));
        });
    }
}

/// This thread's registered invokers: slot `id` points into the `Box` of a live `Invokers`.
#[derive(Default)]
struct Registry {
    slots: Vec<*const Invoker>,
    free: Vec<u32>,
}

impl Registry {
    fn add(&mut self, inv: *const Invoker) -> u32 {
        match self.free.pop() {
            Some(id) => {
                self.slots[id as usize] = inv;
                id
            }
            None => {
                self.slots.push(inv);
                (self.slots.len() - 1) as u32
            }
        }
    }

    fn remove(&mut self, id: u32) {
        self.slots[id as usize] = ptr::null();
        self.free.push(id);
    }

    fn get(&self, id: u32) -> Option<*const Invoker> {
        self.slots.get(id as usize).copied().filter(|p| !p.is_null())
    }
}

thread_local! {
    static REGISTRY: RefCell<Registry> = RefCell::default();
}

impl Invoker {
    fn new(core: &Rc<StoreCore>, func: Func, (params, results): Signature) -> Invoker {
        let has_refs = params.iter().chain(results.iter()).any(|t| t.is_ref());
        let plain = !has_refs && params.len().max(results.len()) <= PLAIN_SLOTS;
        Invoker { core: core.clone(), func, params, results, has_refs, plain }
    }
}

/// The one native function `invoke(fns, invoker, ...args)` that calls the invoker's function
/// (made once per thread by lib/func.ts): a function per export would cost a V8 function
/// instantiation per export of every per-request instance.
pub fn invoke_function(env: js::Env) -> Res<js::Value> {
    let mut f = ptr::null_mut();
    // SAFETY: creating a function on this env.
    let status = unsafe { sys::napi_create_function(env, c"invoke".as_ptr(), 6, Some(invoker_callback), ptr::null_mut(), &mut f) };
    if status != sys::Status::napi_ok {
        return Err(Fail::internal("could not create a native function"));
    }
    Ok(f)
}
