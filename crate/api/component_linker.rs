//! `ComponentLinker`: host interfaces (by full WIT name) and root-level functions for components,
//! WASI 0.2, and instantiation. Host functions are JS functions owned by the JS
//! `ComponentLinker`, bound into a store's host-function table on first use, as for `Linker`.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wasmtime::component::{Linker, ResourceType};

use crate::api::component::NativeComponent;
use crate::api::component_instance::NativeComponentInstance;
use crate::api::component_instance_pre::NativeComponentInstancePre;
use crate::api::engine::NativeEngine;
use crate::api::store::NativeStore;
use crate::base::error::{Fail, Res, throwing};
use crate::base::live::{Kind, Live};
use crate::call::component_func::define_host;
use crate::call::component_resources::host_dtor;
use crate::call::func::HostKey;
use crate::store::core::{Host, HostResourceDesc, StoreCore};
use crate::store::wasi;

static NEXT_ID: AtomicU64 = AtomicU64::new(1 << 32);
/// Host resource type ids (`ResourceType::host_dynamic`), unique in the process.
static NEXT_RESOURCE: AtomicU32 = AtomicU32::new(1);

#[napi]
pub struct NativeComponentLinker {
    id: u64,
    linker: Linker<Host>,
    engine: wasmtime::Engine,
    /// (interface or "" for the root, name) of each host function, by index.
    funcs: Vec<(String, String)>,
    /// The host resource types this linker defines.
    resources: Vec<HostResourceDesc>,
    _live: Live,
}

fn link_err(e: wasmtime::Error) -> Fail {
    Fail::link(format!("{e:#}"))
}

/// Make `cx`'s store ready for instances of components linked with host resource types `resources`.
pub fn prepare(cx: &mut wasmtime::StoreContextMut<'_, Host>, resources: &[HostResourceDesc]) {
    let host = cx.data_mut();
    host.has_components = true;
    for r in resources {
        if !host.host_resource_types.iter().any(|h| h.id == r.id) {
            host.host_resource_types.push(r.clone());
        }
    }
}

impl NativeComponentLinker {
    fn check(&self, store: &StoreCore, component: &NativeComponent) -> Res<()> {
        component.check_engine(&self.engine, "the linker's")?;
        component.check_engine(store.engine(), "the store's")
    }
}

#[napi]
impl NativeComponentLinker {
    #[napi(constructor, catch_unwind)]
    pub fn new(engine: &NativeEngine) -> Self {
        NativeComponentLinker {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            linker: Linker::new(engine.engine()),
            engine: engine.engine().clone(),
            funcs: Vec::new(),
            resources: Vec::new(),
            _live: Live::new(Kind::Linker),
        }
    }

    /// Identifies this linker's host functions in a store (`Host::linker_slots`).
    #[napi(getter, catch_unwind)]
    pub fn id(&self) -> f64 {
        self.id as f64
    }

    /// Define host function number `funcs.len()`, `name` in interface `iface` (the root when
    /// empty); returns that index.
    #[napi(catch_unwind)]
    pub fn func(&mut self, env: Env, iface: String, name: String) -> napi::Result<u32> {
        throwing(&env, || {
            let index = self.funcs.len() as u32;
            let key = HostKey::Linker(self.id, index);
            let defined = if iface.is_empty() {
                define_host(&mut self.linker.root(), &name, key)
            } else {
                self.linker.instance(&iface).and_then(|mut i| define_host(&mut i, &name, key))
            };
            defined.map_err(link_err)?;
            self.funcs.push((iface, name));
            Ok(index)
        })
    }

    /// Define host resource type `name` in interface `iface` (the root when empty); returns its
    /// id. Its constructor, methods and static functions are host functions (`func`) named
    /// `[constructor]name`, `[method]name.m`, `[static]name.f`; the guest's drop of an owned handle
    /// reaches the store's resource bridge (`hostDrop`).
    #[napi(catch_unwind)]
    pub fn resource(&mut self, env: Env, iface: String, name: String) -> napi::Result<u32> {
        throwing(&env, || {
            let id = NEXT_RESOURCE.fetch_add(1, Ordering::Relaxed);
            let ty = ResourceType::host_dynamic(id);
            let defined = if iface.is_empty() {
                self.linker.root().resource(&name, ty, host_dtor)
            } else {
                self.linker.instance(&iface).and_then(|mut i| i.resource(&name, ty, host_dtor))
            };
            defined.map_err(link_err)?;
            self.resources.push(HostResourceDesc { id, iface, name });
            Ok(id)
        })
    }

    /// Define WASI 0.2, backed by each store's WASI context (the store's `wasi` option).
    #[napi(catch_unwind)]
    pub fn define_wasi(&mut self, env: Env) -> napi::Result<()> {
        throwing(&env, || wasi::add_to_component_linker(&mut self.linker).map_err(link_err))
    }

    /// Bind host functions `from..` of this linker into `store`; returns their slots in order.
    #[napi(catch_unwind)]
    pub fn bind(&self, env: Env, store: &NativeStore, from: u32) -> napi::Result<Vec<u32>> {
        throwing(&env, || {
            let mut cx = store.core.cx()?;
            let empty = wasmtime::FuncType::new(&self.engine, [], []);
            let host = cx.data_mut();
            let mut slots = Vec::new();
            for (i, (iface, name)) in self.funcs.iter().enumerate().skip(from as usize) {
                let slot = host.add_component_fn(iface, name, empty.clone());
                host.linker_slots.insert((self.id, i as u32), slot);
                slots.push(slot);
            }
            Ok(slots)
        })
    }

    /// Instantiate `component` in `store`.
    #[napi(catch_unwind)]
    pub fn instantiate(
        &self,
        env: Env,
        store: &NativeStore,
        component: &NativeComponent,
        fns: Unknown,
    ) -> napi::Result<NativeComponentInstance> {
        throwing(&env, || {
            let core = &store.core;
            self.check(core, component)?;
            let instance = core.enter(fns.raw(), |mut cx| {
                prepare(&mut cx, &self.resources);
                cx.data_mut().profiling.record_component(&component.component);
                self.linker.instantiate(&mut cx, &component.component).map_err(|e| core.wasm_error(e, true))
            })?;
            NativeComponentInstance::new(core.clone(), instance, &component.component)
        })
    }

    /// Resolve `component`'s imports once, for many instantiations.
    #[napi(catch_unwind)]
    pub fn instantiate_pre(&self, env: Env, component: &NativeComponent) -> napi::Result<NativeComponentInstancePre> {
        throwing(&env, || {
            component.check_engine(&self.engine, "the linker's")?;
            Ok(NativeComponentInstancePre::new(
                self.linker.instantiate_pre(&component.component).map_err(link_err)?,
                self.resources.clone(),
            ))
        })
    }

    /// Run a `wasi:cli/command` component's `run` export: `Ok(true)` when it returned ok.
    #[napi(catch_unwind)]
    pub fn run_command(&self, env: Env, store: &NativeStore, component: &NativeComponent, fns: Unknown) -> napi::Result<bool> {
        throwing(&env, || {
            let core = &store.core;
            self.check(core, component)?;
            core.enter(fns.raw(), |mut cx| {
                prepare(&mut cx, &self.resources);
                let command = wasmtime_wasi::p2::bindings::sync::Command::instantiate(&mut cx, &component.component, &self.linker)
                    .map_err(|e| core.wasm_error(e, true))?;
                let ran = command.wasi_cli_run().call_run(&mut cx).map_err(|e| core.wasm_error(e, false))?;
                Ok(ran.is_ok())
            })
        })
    }
}
