//! `Func`: calling wasm from JS, and JS host functions called from wasm.

use std::rc::Rc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use smallvec::SmallVec;
use wasmtime::{AsContext, AsContextMut, Caller, Func, FuncType, RootScope, StoreContextMut, Val, ValType};

use crate::error::{self, Fail, HostException, Res};
use crate::js::{self, HandleScope};
use crate::store::{Host, StoreCore};
use crate::{types, values};

/// Which JS function a native host function stands for.
#[derive(Clone, Copy)]
pub enum HostKey {
    /// A slot of the store's host-function table.
    Slot(u32),
    /// Function `index` of linker `id`, mapped to a slot per store (see `Host::linker_slots`).
    Linker(u64, u32),
}

/// A wasmtime host function that calls into JS through the running call's `EntryCtx`.
pub fn host_func(cx: impl AsContextMut<Data = Host>, ty: FuncType, key: HostKey) -> Func {
    let result_types: Box<[ValType]> = ty.results().collect();
    Func::new(cx, ty, host_func_type(key, result_types))
}

/// The closure behind every JS host function (used by `Func::new` and `Linker::func_new`).
pub fn host_func_type(key: HostKey, result_types: Box<[ValType]>) -> impl Fn(Caller<'_, Host>, &[Val], &mut [Val]) -> wasmtime::Result<()> + Send + Sync + 'static {
    move |mut caller, params, results| host_call(key, &result_types, &mut caller, params, results)
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

pub fn host_call(key: HostKey, result_types: &[ValType], caller: &mut Caller<'_, Host>, params: &[Val], results: &mut [Val]) -> wasmtime::Result<()> {
    let entry = caller.data().entry;
    if entry.core.is_null() {
        wasmtime::bail!("a JS host function was called while no JS call is active");
    }
    let slot = slot_of(key, caller.data())?;
    // SAFETY: `entry` was set by `StoreCore::enter` on this thread for the call now on the stack,
    // whose frame keeps an `Rc` to the core alive.
    let core = unsafe { &*entry.core };
    let env = entry.env;
    // SAFETY: `env` is this thread's env; the scope is closed before we return.
    let _scope = unsafe { HandleScope::open(env) };
    core.push_caller((caller as *mut Caller<'_, Host>).cast::<Caller<'static, Host>>());
    core.sync_views();
    // SAFETY: `entry.fns` is a handle of the entry's scope, still open below us.
    let outcome = unsafe { invoke(core, env, entry.fns, slot, result_types, params, results) };
    let outcome = outcome.map_err(|fail| {
        // SAFETY: inside our handle scope on the JS thread.
        let exc = unsafe { exception_value(env, fail) };
        core.set_pending(exc);
        wasmtime::Error::new(HostException)
    });
    core.pop_caller();
    outcome
}

/// The JS value that a `Fail` stands for, as an exception object (not thrown).
unsafe fn exception_value(env: js::Env, fail: Fail) -> js::Value {
    unsafe {
        match fail {
            Fail::Pending => js::take_exception(env),
            Fail::Throw(r) => {
                let v = js::reference_value(env, r).and_then(|a| js::get_element(env, a, 0).ok()).unwrap_or_else(|| js::undefined(env));
                napi::sys::napi_delete_reference(env, r);
                v
            }
            Fail::New { kind, code, message, trap } => {
                error::build_error(env, kind, code, &message, trap.as_ref()).unwrap_or_else(|| js::undefined(env))
            }
        }
    }
}

unsafe fn invoke(core: &StoreCore, env: js::Env, fns: js::Value, slot: u32, result_types: &[ValType], params: &[Val], results: &mut [Val]) -> Res<()> {
    unsafe {
        let f = js::get_element(env, fns, slot)?;
        let mut argv: SmallVec<[js::Value; 8]> = SmallVec::with_capacity(params.len());
        {
            let mut cx = core.cx()?;
            for p in params {
                argv.push(values::from_val(env, p, core, &mut cx)?);
            }
        }
        let ret = js::call_function(env, f, &argv)?;
        let mut cx = core.cx()?;
        match result_types.len() {
            0 => {}
            1 => results[0] = values::to_val(env, ret, &result_types[0], &mut cx)?,
            n => {
                if js::array_length(env, ret)? != Some(n as u32) {
                    return Err(Fail::type_error(format!("a host function with {n} results must return an array of {n} values")));
                }
                for (i, ty) in result_types.iter().enumerate() {
                    results[i] = values::to_val(env, js::get_element(env, ret, i as u32)?, ty, &mut cx)?;
                }
            }
        }
        Ok(())
    }
}

#[napi]
pub struct NativeFunc {
    core: Rc<StoreCore>,
    pub(crate) func: Func,
    params: Box<[ValType]>,
    results: Box<[ValType]>,
}

impl NativeFunc {
    pub fn new(core: Rc<StoreCore>, func: Func, cx: impl AsContext) -> NativeFunc {
        let ty = func.ty(cx);
        NativeFunc { core, func, params: ty.params().collect(), results: ty.results().collect() }
    }

    pub fn check_same_store(&self, cx: &StoreContextMut<'_, Host>) -> Res<()> {
        self.core.check()?;
        if self.core.id != cx.data().id {
            return Err(Fail::store_state("ERR_WRONG_STORE", "this function belongs to another store"));
        }
        Ok(())
    }

    pub fn core(&self) -> &Rc<StoreCore> {
        &self.core
    }

    /// Convert the arguments, call, convert the results: the one path every call takes.
    fn invoke(&self, env: &Env, fns: Unknown, args: &[js::Value]) -> Res<js::Value> {
        if args.len() != self.params.len() {
            return Err(Fail::arg_count(format!("expected {} argument(s), got {}", self.params.len(), args.len())));
        }
        let env = env.raw();
        let core = &*self.core;
        core.enter(fns.raw(), |cx| {
            let mut scope = RootScope::new(cx);
            let mut cx = scope.as_context_mut();
            let mut params: SmallVec<[Val; 4]> = SmallVec::with_capacity(args.len());
            for (a, ty) in args.iter().zip(self.params.iter()) {
                // SAFETY: `a` is an argument handle of this callback.
                params.push(unsafe { values::to_val(env, *a, ty, &mut cx)? });
            }
            let mut results: SmallVec<[Val; 2]> = self.results.iter().map(values::default_val).collect();
            self.func.call(&mut cx, &params, &mut results).map_err(|e| core.wasm_error(e, false))?;
            // SAFETY: converting on the JS thread within this callback's scope.
            unsafe { results_value(env, &results, core, &mut cx) }
        })
    }
}

/// One result → the value; none → undefined; several → an array.
pub unsafe fn results_value(env: js::Env, results: &[Val], core: &StoreCore, cx: &mut StoreContextMut<'_, Host>) -> Res<js::Value> {
    unsafe {
        match results.len() {
            0 => Ok(js::undefined(env)),
            1 => values::from_val(env, &results[0], core, cx),
            n => {
                let arr = js::array(env, n)?;
                for (i, r) in results.iter().enumerate() {
                    js::set_element(env, arr, i as u32, values::from_val(env, r, core, cx)?)?;
                }
                Ok(arr)
            }
        }
    }
}

fn unknown<'a>(env: &Env, v: js::Value) -> Unknown<'a> {
    // SAFETY: `v` is a live handle created in this callback's scope on `env`.
    unsafe { Unknown::from_raw_unchecked(env.raw(), v) }
}

#[napi]
impl NativeFunc {
    /// `args` is an array of the call's arguments; `fns` the store's host-function table.
    #[napi(catch_unwind)]
    pub fn call<'a>(&self, env: &'a Env, fns: Unknown, args: Unknown) -> napi::Result<Unknown<'a>> {
        // SAFETY: `args` is a live handle of this callback.
        let argv = unsafe {
            let raw = env.raw();
            let len = js::array_length(raw, args.raw())?.ok_or_else(|| Fail::type_error("arguments must be an array"))?;
            (0..len).map(|i| js::get_element(raw, args.raw(), i)).collect::<Res<SmallVec<[js::Value; 8]>>>()?
        };
        Ok(unknown(env, self.invoke(env, fns, &argv)?))
    }

    // Fixed-arity entry points: the common signatures are called without building an array.
    #[napi(catch_unwind)]
    pub fn call0<'a>(&self, env: &'a Env, fns: Unknown) -> napi::Result<Unknown<'a>> {
        Ok(unknown(env, self.invoke(env, fns, &[])?))
    }

    #[napi(catch_unwind)]
    pub fn call1<'a>(&self, env: &'a Env, fns: Unknown, a: Unknown) -> napi::Result<Unknown<'a>> {
        Ok(unknown(env, self.invoke(env, fns, &[a.raw()])?))
    }

    #[napi(catch_unwind)]
    pub fn call2<'a>(&self, env: &'a Env, fns: Unknown, a: Unknown, b: Unknown) -> napi::Result<Unknown<'a>> {
        Ok(unknown(env, self.invoke(env, fns, &[a.raw(), b.raw()])?))
    }

    #[napi(catch_unwind)]
    pub fn call3<'a>(&self, env: &'a Env, fns: Unknown, a: Unknown, b: Unknown, c: Unknown) -> napi::Result<Unknown<'a>> {
        Ok(unknown(env, self.invoke(env, fns, &[a.raw(), b.raw(), c.raw()])?))
    }

    #[napi(catch_unwind)]
    pub fn type_json(&self) -> String {
        let mut out = String::new();
        out.push_str("{\"params\":[");
        for (i, p) in self.params.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('"');
            out.push_str(types::valtype_name(p));
            out.push('"');
        }
        out.push_str("],\"results\":[");
        for (i, r) in self.results.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('"');
            out.push_str(types::valtype_name(r));
            out.push('"');
        }
        out.push_str("]}");
        out
    }

    /// The store this function belongs to (its id), for `lib/`'s wrapper cache.
    #[napi(getter, catch_unwind)]
    pub fn store_id(&self) -> f64 {
        self.core.id as f64
    }
}
