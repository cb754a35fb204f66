//! `Linker`: named definitions (host functions, store objects, instances) resolved by name at
//! instantiation. Host functions defined here are JS functions owned by the JS `Linker`; they
//! are bound into a store's host-function table the first time the linker instantiates into it.

use std::sync::atomic::{AtomicU64, Ordering};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wasmtime::Linker;

use crate::engine::NativeEngine;
use crate::error::Fail;
use crate::func::{HostKey, host_closure};
use crate::instance::{NativeInstance, extern_of};
use crate::module::NativeModule;
use crate::store::{Host, NativeStore};
use crate::types;

static NEXT_LINKER_ID: AtomicU64 = AtomicU64::new(1);

#[napi]
pub struct NativeLinker {
    id: u64,
    linker: Linker<Host>,
    engine: wasmtime::Engine,
    /// (module, name, type) of each host function, by index.
    funcs: Vec<(String, String, wasmtime::FuncType)>,
    _live: crate::live::Live,
}

fn link_err(e: wasmtime::Error) -> napi::Error {
    Fail::link(format!("{e:#}")).into()
}

#[napi]
impl NativeLinker {
    #[napi(constructor, catch_unwind)]
    pub fn new(engine: &NativeEngine) -> Self {
        NativeLinker { id: NEXT_LINKER_ID.fetch_add(1, Ordering::Relaxed), linker: Linker::new(&engine.engine), engine: engine.engine.clone(), funcs: Vec::new(), _live: crate::live::Live::new(crate::live::Kind::Linker) }
    }

    #[napi(getter, catch_unwind)]
    pub fn id(&self) -> f64 {
        self.id as f64
    }

    #[napi(catch_unwind)]
    pub fn set_allow_shadowing(&mut self, allow: bool) {
        self.linker.allow_shadowing(allow);
    }

    /// Define host function number `funcs.len()`; returns that index.
    #[napi(catch_unwind)]
    pub fn func(&mut self, module: String, name: String, params: Vec<String>, results: Vec<String>) -> napi::Result<u32> {
        let ty = types::func_type(&self.engine, &params, &results)?;
        let index = self.funcs.len() as u32;
        let key = HostKey::Linker(self.id, index);
        // SAFETY: the closure converts exactly `ty`'s params and results (see `func::host_call`).
        unsafe { self.linker.func_new_unchecked(&module, &name, ty.clone(), host_closure(key, &ty)) }.map_err(link_err)?;
        self.funcs.push((module, name, ty));
        Ok(index)
    }

    /// Define WASI preview 1 (`wasi_snapshot_preview1`), backed by each store's WASI context.
    #[napi(catch_unwind)]
    pub fn define_wasi(&mut self) -> napi::Result<()> {
        crate::wasi::add_to_linker(&mut self.linker).map_err(link_err)
    }

    /// Bind host functions `from..` of this linker into `store`; returns their slots in order.
    #[napi(catch_unwind)]
    pub fn bind(&self, store: &NativeStore, from: u32) -> napi::Result<Vec<u32>> {
        let mut cx = store.core.cx()?;
        let host = cx.data_mut();
        let mut slots = Vec::new();
        for (i, (module, name, ty)) in self.funcs.iter().enumerate().skip(from as usize) {
            let slot = host.add_host_fn(module, name, ty.clone());
            host.linker_slots.insert((self.id, i as u32), slot);
            slots.push(slot);
        }
        Ok(slots)
    }

    #[napi(catch_unwind)]
    pub fn define(&mut self, env: Env, store: &NativeStore, module: String, name: String, item: Unknown) -> napi::Result<()> {
        let cx = store.core.cx()?;
        // SAFETY: `item` is a live handle of this callback.
        let ext = unsafe { extern_of(env.raw(), item.raw(), &cx)? };
        self.linker.define(&cx, &module, &name, ext).map_err(link_err)?;
        Ok(())
    }

    #[napi(catch_unwind)]
    pub fn define_instance(&mut self, store: &NativeStore, name: String, instance: &NativeInstance) -> napi::Result<()> {
        let mut cx = store.core.cx()?;
        instance.core().check()?;
        if instance.core().id != cx.data().id {
            return Err(Fail::store_state("ERR_WRONG_STORE", "the instance belongs to another store").into());
        }
        self.linker.instance(&mut cx, &name, instance.instance).map_err(link_err)?;
        Ok(())
    }

    #[napi(catch_unwind)]
    pub fn instantiate(&self, store: &NativeStore, module: &NativeModule, fns: Unknown) -> napi::Result<NativeInstance> {
        let core = &store.core;
        if !wasmtime::Engine::same(module.module.engine(), core.engine()) {
            return Err(Fail::link("the module was compiled by another engine than the store's").into());
        }
        let instance = core.enter(fns.raw(), |mut cx| {
            self.linker.instantiate(&mut cx, &module.module).map_err(|e| core.wasm_error(e, true))
        })?;
        Ok(NativeInstance::new(core.clone(), instance))
    }
}

/// A module with its imports resolved (wasmtime's `InstancePre`): type-checking and import
/// resolution are done once, so each instantiation only builds the instance.
#[napi]
pub struct NativeInstancePre {
    pre: wasmtime::InstancePre<Host>,
    _live: crate::live::Live,
}

#[napi]
impl NativeLinker {
    #[napi(catch_unwind)]
    pub fn instantiate_pre(&self, module: &NativeModule) -> napi::Result<NativeInstancePre> {
        if !wasmtime::Engine::same(module.module.engine(), &self.engine) {
            return Err(Fail::link("the module was compiled by another engine than the linker's").into());
        }
        let pre = self.linker.instantiate_pre(&module.module).map_err(link_err)?;
        Ok(NativeInstancePre { pre, _live: crate::live::Live::new(crate::live::Kind::InstancePre) })
    }
}

#[napi]
impl NativeInstancePre {
    /// Instantiate in `store`. `lib/` makes sure that store-owned definitions (from `define`)
    /// belong to this store; wasmtime would panic otherwise (caught, but refused earlier).
    #[napi(catch_unwind)]
    pub fn instantiate(&self, store: &NativeStore, fns: Unknown) -> napi::Result<NativeInstance> {
        let core = &store.core;
        if !wasmtime::Engine::same(self.pre.module().engine(), core.engine()) {
            return Err(Fail::link("the module was compiled by another engine than the store's").into());
        }
        let instance = core.enter(fns.raw(), |mut cx| self.pre.instantiate(&mut cx).map_err(|e| core.wasm_error(e, true)))?;
        Ok(NativeInstance::new(core.clone(), instance))
    }
}
