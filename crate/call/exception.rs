//! Wasm exceptions crossing into JS and back: an exception object (`ExnRef`) that escaped a
//! call becomes a JS `Exception` (lib/exception.ts, over `NativeException`, whose methods are in
//! api/exception.rs), and a JS `Exception` thrown by a host function is thrown into wasm, where
//! a `try_table` can catch it.

use std::rc::Rc;

use wasmtime::{AsContextMut, ExnRef, OwnedRooted, RootScope};

use crate::base::error::{self, Fail, Res};
use crate::base::raw as js;
use crate::store::core::{Host, StoreCore};

/// A wasm exception object, held for JS.
#[napi_derive::napi]
pub struct NativeException {
    pub(crate) core: Rc<StoreCore>,
    pub(crate) exn: OwnedRooted<ExnRef>,
}

/// The store core's hook (see `StoreCore::wasm_error`): the JS object of an exception that
/// escaped a call. `kept` is the JS exception a host function of the store threw last; when it
/// is this very exception (thrown by JS, not caught in wasm), it is the one returned, so that
/// an exception keeps its identity as it does with the WebAssembly JS API.
///
/// SAFETY (caller): on the JS thread of `env`, inside a callback; `kept` is a live handle.
pub unsafe fn to_js(env: js::Env, core: &Rc<StoreCore>, exn: OwnedRooted<ExnRef>, kept: Option<js::Value>) -> Res<js::Value> {
    // SAFETY: the caller's contract.
    unsafe {
        if let Some(k) = kept
            && let Some(x) = native_of(env, k)
            && same(core, x, &exn)
        {
            return Ok(k);
        }
        let native = js::light_instance(env, "NativeException\0", NativeException { core: core.clone(), exn })?;
        error::build_exception(env, native)
    }
}

fn same(core: &StoreCore, x: &NativeException, exn: &OwnedRooted<ExnRef>) -> bool {
    x.core.id == core.id && core.cx().is_ok_and(|cx| OwnedRooted::ref_eq(&cx, &x.exn, exn).unwrap_or(false))
}

/// The `NativeException` of a JS value, if it is a lib `Exception` (its `_native`).
///
/// SAFETY (caller): on the JS thread of `env`, inside a callback; `v` is a live handle, and
/// the reference does not outlive it.
pub unsafe fn native_of<'a>(env: js::Env, v: js::Value) -> Option<&'a NativeException> {
    // SAFETY: the caller's contract.
    unsafe {
        if js::type_of(env, v) != napi::sys::ValueType::napi_object {
            return None;
        }
        let n = js::get_named(env, v, "_native").ok()?;
        js::unwrap_class::<NativeException>(env, n)
    }
}

/// Throw the wasm exception `x` (a host function's JS exception) into the calling wasm: the
/// error the host function returns. `None` if it belongs to another store (then it goes on as
/// a JS exception: a store's wasm can only catch its own exception objects).
pub fn throw_into(x: &NativeException, core: &StoreCore, cx: &mut impl AsContextMut<Data = Host>) -> Option<wasmtime::Error> {
    if x.core.id != core.id {
        return None;
    }
    let mut scope = RootScope::new(cx);
    let rooted = x.exn.to_rooted(&mut scope);
    Some(scope.as_context_mut().throw::<()>(rooted).unwrap_err())
}

/// Make `x` the pending exception of its store (reached through `cx`, the guest's caller, from
/// the JS thread while a pooled guest waits for its host call): `false` if it belongs to another
/// store. The guest's host call then returns `ThrownException` (call/async_call.rs).
pub fn set_pending(x: &NativeException, core: &StoreCore, cx: &mut impl AsContextMut<Data = Host>) -> bool {
    throw_into(x, core, cx).is_some()
}

/// Register `to_js` with the store core (once per process).
pub fn register() {
    crate::store::core::set_exception_to_js(|env, core, exn, kept| {
        // SAFETY: `wasm_error` calls this on the JS thread inside a callback (its contract).
        unsafe { to_js(env, core, exn, kept) }
    });
}

impl NativeException {
    pub fn new(core: Rc<StoreCore>, exn: OwnedRooted<ExnRef>) -> Self {
        NativeException { core, exn }
    }

    /// Fail unless `self` can be used (its store is live here).
    pub fn check(&self) -> Res<()> {
        self.core.check()
    }
}

/// For callers mapping a failed JS host call: a wasm exception goes into wasm, anything else is
/// kept as the store's pending JS exception (`HostException`).
///
/// SAFETY (caller): on the JS thread of `env`, inside the host call's handle scope.
pub unsafe fn host_failure(core: &StoreCore, env: js::Env, fail: Fail, cx: &mut impl AsContextMut<Data = Host>) -> wasmtime::Error {
    // SAFETY: the caller's contract.
    unsafe {
        let exc = error::exception_value(env, fail);
        core.keep_host_exception(exc);
        if let Some(x) = native_of(env, exc)
            && let Some(e) = throw_into(x, core, cx)
        {
            return e;
        }
        wasmtime::Error::new(error::HostException)
    }
}
