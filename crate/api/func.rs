//! `Func`: a wasm function of a store. Its native data (`NativeFunc`) and the call paths live in
//! call/func.rs; here are its methods: the invoker that `lib/` wraps into the public callable,
//! `callAsync`, its type, and the constructor of a JS host function.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::api::store::NativeStore;
use crate::base::error::{Fail, Res, throwing};
use crate::base::raw;
use crate::base::types;
use crate::call::func::{HostKey, NativeFunc, host_func, invoke_function};
use crate::call::values;

#[napi]
impl NativeFunc {
    /// A JS host function of type (params → results) in slot `slot` of the store's JS table,
    /// which must be the next free one. `module`/`name` are what `Store.receive` re-binds it by.
    #[napi(catch_unwind, ts_return_type = "NativeFunc")]
    pub fn host<'a>(
        env: &'a Env,
        store: &NativeStore,
        slot: u32,
        params: Vec<String>,
        results: Vec<String>,
        module: String,
        name: String,
    ) -> napi::Result<Unknown<'a>> {
        throwing(env, || {
            let core = &store.core;
            let ty = types::func_type(core.engine(), &params, &results)?;
            let mut cx = core.cx()?;
            let got = cx.data_mut().add_host_fn(&module, &name, ty.clone());
            if got != slot {
                return Err(Fail::internal(format!("host function table out of sync (slot {slot} vs {got})")));
            }
            let f = host_func(&mut cx, ty, HostKey::Slot(slot));
            // SAFETY: on the JS thread of `env`, inside a callback; the value is created in its scope.
            unsafe {
                let v = raw::light_instance(env.raw(), "NativeFunc\0", NativeFunc::new(core.clone(), f, &cx))?;
                Ok(Unknown::from_raw_unchecked(env.raw(), v))
            }
        })
    }

    /// The native function that calls invokers: `invoke(fns, invoker, ...args)` (see `invoker`).
    #[napi(catch_unwind)]
    pub fn invoke_function(env: Env) -> napi::Result<Unknown<'static>> {
        throwing(&env, || {
            let f = invoke_function(env.raw())?;
            // SAFETY: `f` was just created in this callback's scope.
            Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), f) })
        })
    }

    /// This function's invoker id: what `invoke(fns, id, ...args)` calls, with `fns` the
    /// store's host-function table. `lib/` wraps the pair into the public callable.
    #[napi(catch_unwind)]
    pub fn invoker(&self, env: Env) -> napi::Result<Unknown<'_>> {
        throwing(&env, || {
            let id = self.invokers.id("", self.core(), self.func, || (self.params.clone(), self.results.clone()));
            // SAFETY: on the JS thread of `env`; the number is created in this callback's scope.
            Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), raw::u32_value(env.raw(), id)?) })
        })
    }

    /// Start a call off the JS thread: `args` is an array; returns a Promise (call/async_call.rs).
    #[napi(catch_unwind)]
    pub fn call_async<'a>(&self, env: &'a Env, fns: Unknown, args: Vec<Unknown>) -> napi::Result<Unknown<'a>> {
        // This call was reserved by `lib/` when `callAsync` was called: it starts now.
        self.core().release_async();
        throwing(env, || {
            // `lib/` checked the arity; a wrong count would make wasmtime's typed call fail.
            let params = {
                let mut cx = self.core().cx()?;
                self.params
                    .iter()
                    .zip(&args)
                    // SAFETY: argument handles of this callback.
                    .map(|(ty, a)| unsafe { values::to_val(env.raw(), a.raw(), ty, &mut cx) })
                    .collect::<Res<Vec<_>>>()?
            };
            let promise = crate::call::async_call::call_async(
                env,
                self.core(),
                self.func,
                params,
                self.results.iter().cloned().collect(),
                fns.raw(),
            )?;
            // SAFETY: created in this callback's scope.
            Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), promise) })
        })
    }

    #[napi(catch_unwind)]
    pub fn type_json(&self) -> String {
        let mut out = String::new();
        types::signature_json(&mut out, self.params.iter().cloned(), self.results.iter().cloned());
        out
    }
}
