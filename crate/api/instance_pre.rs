//! `InstancePre`: a module with its imports resolved (wasmtime's `InstancePre`): type-checking
//! and import resolution are done once, so each instantiation only builds the instance.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wasmtime::InstancePre;

use crate::api::instance::NativeInstance;
use crate::api::store::NativeStore;
use crate::base::error::{Fail, throwing};
use crate::base::live::{Kind, Live};
use crate::call::executor;
use crate::store::core::Host;

#[napi]
pub struct NativeInstancePre {
    pre: InstancePre<Host>,
    /// The same for stores created with `async: true` (see `NativeLinker::async_linker`).
    async_pre: InstancePre<Host>,
    _live: Live,
}

impl NativeInstancePre {
    pub fn new(pre: InstancePre<Host>, async_pre: InstancePre<Host>) -> Self {
        NativeInstancePre { pre, async_pre, _live: Live::new(Kind::InstancePre) }
    }
}

#[napi]
impl NativeInstancePre {
    /// Instantiate in `store`. `lib/` makes sure that store-owned definitions (from `define`)
    /// belong to this store; wasmtime would panic otherwise (caught, but refused earlier).
    #[napi(catch_unwind, ts_return_type = "NativeInstance")]
    pub fn instantiate(&self, env: Env, store: &NativeStore, fns: Unknown) -> napi::Result<Unknown<'_>> {
        throwing(&env, || {
            let core = &store.core;
            if !wasmtime::Engine::same(self.pre.module().engine(), core.engine()) {
                return Err(Fail::link("the module was compiled by another engine than the store's"));
            }
            let instance = core.enter(fns.raw(), |mut cx| {
                cx.data_mut().profiling.record_module(self.pre.module());
                let made = if cx.data().is_async {
                    executor::block_here(self.async_pre.instantiate_async(&mut cx))?
                } else {
                    self.pre.instantiate(&mut cx)
                };
                made.map_err(|e| core.wasm_error(e, true))
            })?;
            NativeInstance::new(core.clone(), instance).into_js(env.raw())
        })
    }
}
