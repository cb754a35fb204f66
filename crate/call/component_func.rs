//! Component functions: a component's exports called from JS, and the JS host functions that a
//! component imports. Values go through `Val` (wasmtime's dynamic component values), converted
//! by `component_values`. Calls are synchronous, on the store's JS thread.

use napi::sys;
use wasmtime::StoreContextMut;
use wasmtime::component::types::ComponentFunc;
use wasmtime::component::{Func, LinkerInstance, Type, Val};

use crate::base::error::{Fail, Res};
use crate::base::raw::{self as js, HandleScope};
use crate::call::component_resources::{Conv, drain_pending};
use crate::call::component_values::{from_val, to_val};
use crate::call::func::{HostKey, slot_of};
use crate::store::core::{Host, StoreCore};
use crate::store::profiling;

/// Define `name` in `inst` (the linker's root, or an interface) as the JS host function `key`.
pub fn define_host(inst: &mut LinkerInstance<'_, Host>, name: &str, key: HostKey) -> wasmtime::Result<()> {
    inst.func_new(name, move |mut cx, ty, params, results| profiling::host_call(&mut cx, |cx| host_call(key, cx, &ty, params, results)))
}

fn host_call(
    key: HostKey,
    cx: &mut StoreContextMut<'_, Host>,
    ty: &ComponentFunc,
    params: &[Val],
    results: &mut [Val],
) -> wasmtime::Result<()> {
    let entry = cx.data().entry;
    let slot = slot_of(key, cx.data())?;
    if entry.core.is_null() {
        if let Some(route) = entry.route {
            return crate::call::async_call::component_host_call_remote(route, slot, cx, ty, params, results);
        }
        wasmtime::bail!("a JS host function was called while no JS call is active");
    }
    // SAFETY: `entry` was set by `StoreCore::enter` on this thread for the call now on the stack,
    // whose frame keeps an `Rc` to the core alive.
    let core = unsafe { &*entry.core };
    let env = entry.env;
    // SAFETY: `env` is this thread's env; the scope is closed before we return.
    let _scope = unsafe { HandleScope::open(env) };
    core.push_component_caller((cx as *mut StoreContextMut<'_, Host>).cast());
    let mut cv = Conv::new(env, entry.fns, core, cx);
    // SAFETY: `entry.fns` is a handle of the entry's scope, still open below us.
    let outcome = unsafe { invoke(&mut cv, slot, ty, params, results) };
    // Borrows lent to JS end with the call, whatever its outcome (wasmtime checks it).
    let released = cv.release_lent();
    let outcome = outcome.and(released);
    // SAFETY: inside our handle scope on the JS thread.
    let outcome = outcome.map_err(|fail| unsafe { core.host_failure(env, fail) });
    core.pop_caller();
    outcome
}

/// Call JS function `slot` of `fns` with `params`, and convert what it returns (or, for a
/// function returning `result<T, E>`, what it throws with a `payload`) into `results`.
/// SAFETY (caller): on the JS thread of `env`, inside a callback; handles live in its current scope.
unsafe fn invoke(cv: &mut Conv<'_, '_>, slot: u32, ty: &ComponentFunc, params: &[Val], results: &mut [Val]) -> Res<()> {
    let env = cv.env;
    // SAFETY: on the JS thread inside a host call; handles are live in the open scope.
    unsafe {
        let f = cv.core.host_fn(cv.fns, slot)?;
        let argv = host_args(cv, ty, params)?;
        let ret = match js::call_function(env, f, &argv) {
            // No component value is a Promise: a synchronous call cannot await it.
            Ok(v) if js::type_of(env, v) == sys::ValueType::napi_object && js::is_promise(env, v) => {
                return Err(crate::call::func::promise_to_sync_call(env, v));
            }
            Ok(v) => Ok(v),
            Err(Fail::Pending) => Err(js::take_exception(env)),
            Err(f) => return Err(f),
        };
        host_results(cv, ty, ret, results)
    }
}

/// The JS arguments of a host call.
pub fn host_args(cv: &mut Conv<'_, '_>, ty: &ComponentFunc, params: &[Val]) -> Res<Vec<js::Value>> {
    params.iter().zip(ty.params()).map(|(v, (_, t))| from_val(cv, v, &t)).collect()
}

/// A host function's outcome — the value it returned (`Ok`), or what it threw (`Err`) — as its
/// results. jco's convention for a function returning `result<T, E>`: returning is `ok`, unless
/// what is returned is itself a `{ tag: 'ok' | 'err', val }`; throwing a value with a `payload`
/// (or a non-Error) is `err`. Any other exception is thrown on.
/// SAFETY (caller): on the JS thread of `cv.env`, inside a callback; handles live in its current scope.
pub unsafe fn host_results(cv: &mut Conv<'_, '_>, ty: &ComponentFunc, ret: Result<js::Value, js::Value>, results: &mut [Val]) -> Res<()> {
    let env = cv.env;
    let (Some(rty), Some(out)) = (ty.results().next(), results.first_mut()) else {
        return match ret {
            Ok(_) => Ok(()),
            // SAFETY: on the JS thread.
            Err(exc) => Err(unsafe { rethrow(env, exc) }),
        };
    };
    let what = "the host function's result";
    // SAFETY: the caller's contract.
    unsafe {
        *out = match (&rty, ret) {
            (Type::Result(_), Ok(v)) if is_result_object(env, v)? => to_val(cv, v, &rty, what)?,
            (Type::Result(r), Ok(v)) => Val::Result(Ok(r.ok().map(|t| to_val(cv, v, &t, what).map(Box::new)).transpose()?)),
            (Type::Result(r), Err(exc)) => match payload_of(env, exc)? {
                Some(p) => Val::Result(Err(r.err().map(|t| to_val(cv, p, &t, "the thrown error's payload").map(Box::new)).transpose()?)),
                None => return Err(rethrow(env, exc)),
            },
            (_, Ok(v)) => to_val(cv, v, &rty, what)?,
            (_, Err(exc)) => return Err(rethrow(env, exc)),
        };
    }
    Ok(())
}

/// `exc` thrown again, as the pending exception.
/// SAFETY (caller): on the JS thread of `env`, inside a callback, with no exception pending.
unsafe fn rethrow(env: js::Env, exc: js::Value) -> Fail {
    // SAFETY: the caller's contract.
    unsafe { sys::napi_throw(env, exc) };
    Fail::Pending
}

/// Whether `v` is an object whose `tag` is `'ok'` or `'err'`.
/// SAFETY (caller): on the JS thread of `env`, inside a callback; handles live in its current scope.
unsafe fn is_result_object(env: js::Env, v: js::Value) -> Res<bool> {
    // SAFETY: the caller's contract (on the JS thread, in a callback).
    unsafe {
        if js::type_of(env, v) != sys::ValueType::napi_object {
            return Ok(false);
        }
        let tag = js::get_named(env, v, "tag")?;
        if js::type_of(env, tag) != sys::ValueType::napi_string {
            return Ok(false);
        }
        Ok(matches!(js::string_of(env, tag)?.as_str(), "ok" | "err"))
    }
}

/// The `err` payload of an exception thrown by a host function returning a `result` (jco's
/// convention): `e.payload` when `e` has an own `payload` property (a `ComponentError`), `e`
/// itself when it is not an `Error`; `None` for any other `Error` (it propagates).
/// SAFETY (caller): on the JS thread of `env`, inside a callback; handles live in its current scope.
unsafe fn payload_of(env: js::Env, e: js::Value) -> Res<Option<js::Value>> {
    // SAFETY: the caller's contract (on the JS thread, in a callback).
    unsafe {
        let mut is_error = false;
        sys::napi_is_error(env, e, &mut is_error);
        if !matches!(js::type_of(env, e), sys::ValueType::napi_object | sys::ValueType::napi_function) {
            return Ok(Some(e));
        }
        let key = js::string_value(env, "payload")?;
        let mut has = false;
        sys::napi_has_own_property(env, e, key, &mut has);
        if has {
            js::get_named(env, e, "payload").map(Some)
        } else if is_error {
            Ok(None)
        } else {
            Ok(Some(e))
        }
    }
}

/// Call export `func` of a component instance with JS `args`; its result as a JS value (a
/// `result<T, E>` as `{ tag, val }`: lib/component.ts returns or throws it).
pub fn call_export(core: &StoreCore, env: js::Env, fns: js::Value, func: Func, args: &[js::Value]) -> Res<js::Value> {
    core.enter(fns, |mut cx| {
        drain_pending(core, &mut cx)?;
        let ty = func.ty(&cx);
        let names: Vec<(String, Type)> = ty.params().map(|(n, t)| (n.to_string(), t)).collect();
        if args.len() != names.len() {
            return Err(Fail::arg_count(format!("expected {} argument(s), got {}", names.len(), args.len())));
        }
        let mut cv = Conv::new(env, fns, core, &mut cx);
        let params = names.iter().zip(args).map(|((n, t), &a)| to_val(&mut cv, a, t, n)).collect::<Res<Vec<_>>>()?;
        let result_ty = ty.results().next();
        let mut results = vec![Val::Bool(false); usize::from(result_ty.is_some())];
        let called = func.call(&mut *cv.cx, &params, &mut results).map_err(|e| core.wasm_error(e, false));
        let released = cv.release_lent();
        called.and(released)?;
        match (result_ty, results.first()) {
            (Some(t), Some(v)) => from_val(&mut cv, v, &t),
            // SAFETY: on the JS thread inside a callback.
            _ => Ok(unsafe { js::undefined(env) }),
        }
    })
}

/// Start export `func` of a component instance with JS `args` on the pool (`callAsync`); returns
/// the Promise of its result (as `call_export` gives it).
pub fn call_export_async(env: &napi::Env, core: &std::rc::Rc<StoreCore>, fns: js::Value, func: Func, args: &[js::Value]) -> Res<js::Value> {
    let (params, result, lent) = {
        let mut cx = core.cx()?;
        let ty = func.ty(&cx);
        let names: Vec<(String, Type)> = ty.params().map(|(n, t)| (n.to_string(), t)).collect();
        if args.len() != names.len() {
            return Err(Fail::arg_count(format!("expected {} argument(s), got {}", names.len(), args.len())));
        }
        let mut cv = Conv::new(env.raw(), fns, core, &mut cx);
        let params = names.iter().zip(args).map(|((n, t), &a)| to_val(&mut cv, a, t, n)).collect::<Res<Vec<_>>>();
        let params = match params {
            Ok(p) => p,
            Err(f) => {
                cv.release_lent()?;
                return Err(f);
            }
        };
        let lent = cv.lent.drain(..).filter_map(|c| c.take()).collect();
        (params, ty.results().next(), (lent, std::mem::take(&mut cv.lent_reps)))
    };
    crate::call::async_call::call_async_component(env, core, func, params, result, lent, fns)
}
