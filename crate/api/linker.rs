//! `Linker`: named definitions (host functions, store objects, instances) resolved by name at
//! instantiation. Host functions defined here are JS functions owned by the JS `Linker`; they
//! are bound into a store's host-function table the first time the linker instantiates into it.

use std::sync::atomic::{AtomicU64, Ordering};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wasmtime::Linker;

use crate::api::engine::NativeEngine;
use crate::api::instance::{NativeInstance, extern_of};
use crate::api::instance_pre::NativeInstancePre;
use crate::api::module::NativeModule;
use crate::api::store::NativeStore;
use crate::base::error::{Fail, Res, throwing};
use crate::base::live::{Kind, Live};
use crate::base::types;
use crate::call::executor;
use crate::call::func::{HostKey, async_host_closure, host_closure};
use crate::store::core::Host;
use crate::store::wasi;

static NEXT_LINKER_ID: AtomicU64 = AtomicU64::new(1);

#[napi]
pub struct NativeLinker {
    id: u64,
    linker: Linker<Host>,
    /// The same definitions for stores created with `async: true`: their host functions (JS and
    /// WASI) are wasmtime async functions.
    async_linker: Linker<Host>,
    engine: wasmtime::Engine,
    /// (module, name, type) of each host function, by index.
    funcs: Vec<(String, String, wasmtime::FuncType)>,
    _live: Live,
}

fn link_err(e: wasmtime::Error) -> Fail {
    Fail::link(format!("{e:#}"))
}

#[napi]
impl NativeLinker {
    #[napi(constructor, catch_unwind)]
    pub fn new(engine: &NativeEngine) -> Self {
        NativeLinker {
            id: NEXT_LINKER_ID.fetch_add(1, Ordering::Relaxed),
            linker: Linker::new(engine.engine()),
            async_linker: Linker::new(engine.engine()),
            engine: engine.engine().clone(),
            funcs: Vec::new(),
            _live: Live::new(Kind::Linker),
        }
    }

    /// Identifies this linker's host functions in a store (`Host::linker_slots`).
    #[napi(getter, catch_unwind)]
    pub fn id(&self) -> f64 {
        self.id as f64
    }

    #[napi(catch_unwind)]
    pub fn set_allow_shadowing(&mut self, allow: bool) {
        self.linker.allow_shadowing(allow);
        self.async_linker.allow_shadowing(allow);
    }

    /// Define host function number `funcs.len()`; returns that index.
    #[napi(catch_unwind)]
    pub fn func(&mut self, env: Env, module: String, name: String, params: Vec<String>, results: Vec<String>) -> napi::Result<u32> {
        throwing(&env, || {
            let ty = types::func_type(&self.engine, &params, &results)?;
            let index = self.funcs.len() as u32;
            let key = HostKey::Linker(self.id, index);
            // SAFETY: the closure converts exactly `ty`'s params and results (see `call::func::host_call`).
            unsafe { self.linker.func_new_unchecked(&module, &name, ty.clone(), host_closure(key, &ty)) }.map_err(link_err)?;
            self.async_linker.func_new_async(&module, &name, ty.clone(), async_host_closure(key, &ty)).map_err(link_err)?;
            self.funcs.push((module, name, ty));
            Ok(index)
        })
    }

    /// Define WASI preview 1 (`wasi_snapshot_preview1`), backed by each store's WASI context.
    #[napi(catch_unwind)]
    pub fn define_wasi(&mut self, env: Env) -> napi::Result<()> {
        throwing(&env, || {
            wasi::add_to_linker(&mut self.linker).map_err(link_err)?;
            wasi::add_to_linker_async(&mut self.async_linker).map_err(link_err)
        })
    }

    /// Bind host functions `from..` of this linker into `store`; returns their slots in order.
    #[napi(catch_unwind)]
    pub fn bind(&self, env: Env, store: &NativeStore, from: u32) -> napi::Result<Vec<u32>> {
        throwing(&env, || {
            let mut cx = store.core.cx()?;
            let host = cx.data_mut();
            let mut slots = Vec::new();
            for (i, (module, name, ty)) in self.funcs.iter().enumerate().skip(from as usize) {
                let slot = host.add_host_fn(module, name, ty.clone());
                host.linker_slots.insert((self.id, i as u32), slot);
                slots.push(slot);
            }
            Ok(slots)
        })
    }

    #[napi(catch_unwind)]
    pub fn define(&mut self, env: Env, store: &NativeStore, module: String, name: String, item: Unknown) -> napi::Result<()> {
        throwing(&env, || {
            let cx = store.core.cx()?;
            let ext = extern_of(&env, &item, &cx)?;
            self.linker.define(&cx, &module, &name, ext.clone()).map_err(link_err)?;
            self.async_linker.define(&cx, &module, &name, ext).map_err(link_err)?;
            Ok(())
        })
    }

    #[napi(catch_unwind)]
    pub fn define_instance(&mut self, env: Env, store: &NativeStore, name: String, instance: &NativeInstance) -> napi::Result<()> {
        throwing(&env, || {
            let mut cx = store.core.cx()?;
            instance.core().belongs_to(&cx, "the instance belongs to another store")?;
            self.linker.instance(&mut cx, &name, instance.instance).map_err(link_err)?;
            self.async_linker.instance(&mut cx, &name, instance.instance).map_err(link_err)?;
            Ok(())
        })
    }

    #[napi(catch_unwind, ts_return_type = "NativeInstance")]
    pub fn instantiate(&self, env: Env, store: &NativeStore, module: &NativeModule, fns: Unknown) -> napi::Result<Unknown<'_>> {
        throwing(&env, || {
            let core = &store.core;
            module.check_engine(core.engine(), "the store's")?;
            let instance = core.enter(fns.raw(), |mut cx| {
                cx.data_mut().profiling.record_module(&module.module);
                let made = if cx.data().is_async {
                    executor::block_here(self.async_linker.instantiate_async(&mut cx, &module.module))?
                } else {
                    self.linker.instantiate(&mut cx, &module.module)
                };
                made.map_err(|e| core.wasm_error(e, true))
            })?;
            NativeInstance::new(core.clone(), instance).into_js(env.raw())
        })
    }

    #[napi(catch_unwind)]
    pub fn instantiate_pre(&self, env: Env, module: &NativeModule) -> napi::Result<NativeInstancePre> {
        throwing(&env, || -> Res<NativeInstancePre> {
            module.check_engine(&self.engine, "the linker's")?;
            let pre = self.linker.instantiate_pre(&module.module).map_err(link_err)?;
            let async_pre = self.async_linker.instantiate_pre(&module.module).map_err(link_err)?;
            Ok(NativeInstancePre::new(pre, async_pre))
        })
    }
}
