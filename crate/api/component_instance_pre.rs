//! `ComponentInstancePre`: a component with its imports resolved by a `ComponentLinker`
//! (wasmtime's component `InstancePre`): type-checking and import resolution happen once, so each
//! per-request instantiation only builds the instance.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wasmtime::component::InstancePre;

use crate::api::component_instance::NativeComponentInstance;
use crate::api::component_linker::prepare;
use crate::api::store::NativeStore;
use crate::base::error::{Fail, throwing};
use crate::base::live::{Kind, Live};
use crate::store::core::{Host, HostResourceDesc};

#[napi]
pub struct NativeComponentInstancePre {
    pre: InstancePre<Host>,
    /// The linker's host resource types.
    resources: Vec<HostResourceDesc>,
    _live: Live,
}

impl NativeComponentInstancePre {
    pub fn new(pre: InstancePre<Host>, resources: Vec<HostResourceDesc>) -> Self {
        NativeComponentInstancePre { pre, resources, _live: Live::new(Kind::InstancePre) }
    }
}

#[napi]
impl NativeComponentInstancePre {
    /// Instantiate in `store` (`lib/` binds the linker's host functions into it first).
    #[napi(catch_unwind)]
    pub fn instantiate(&self, env: Env, store: &NativeStore, fns: Unknown) -> napi::Result<NativeComponentInstance> {
        throwing(&env, || {
            let core = &store.core;
            let component = self.pre.component();
            if !wasmtime::Engine::same(component.engine(), core.engine()) {
                return Err(Fail::link("the component was compiled by another engine than the store's"));
            }
            let instance = core.enter(fns.raw(), |mut cx| {
                prepare(&mut cx, &self.resources);
                cx.data_mut().profiling.record_component(component);
                self.pre.instantiate(&mut cx).map_err(|e| core.wasm_error(e, true))
            })?;
            NativeComponentInstance::new(core.clone(), instance, component)
        })
    }
}
