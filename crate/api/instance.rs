//! `Instance`: an instantiated module, and the conversions of externs (func, memory, table,
//! global) between their native wrappers and wasmtime's `Extern`.

use std::rc::Rc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wasmtime::{AsContext, Extern, Instance, StoreContextMut};

use crate::api::global::NativeGlobal;
use crate::api::memory::NativeMemory;
use crate::api::shared_memory::NativeSharedMemory;
use crate::api::table::NativeTable;
use crate::api::tag::NativeTag;
use crate::base::error::{Fail, Res, throwing};
use crate::base::live::{Kind, Live};
use crate::base::raw;
use crate::call::func::{Invokers, NativeFunc, signature};
use crate::store::core::{Host, StoreCore};

const OTHER_STORE: &str = "an object of another store was used with this store";

/// The wasmtime extern behind one of our native wrappers, checked to belong to `cx`'s store.
pub fn extern_of(env: &Env, v: &Unknown, cx: &StoreContextMut<'_, Host>) -> Res<Extern> {
    let (env, v) = (env.raw(), v.raw());
    // SAFETY (each unwrap): `v` is a live handle of the current callback on this thread, and the
    // references do not outlive it.
    if let Some(f) = unsafe { raw::unwrap_class::<NativeFunc>(env, v) } {
        f.core().belongs_to(cx, OTHER_STORE)?;
        return Ok(Extern::Func(f.func));
    }
    // SAFETY: as above.
    if let Some(m) = unsafe { raw::unwrap_class::<NativeMemory>(env, v) } {
        m.core().belongs_to(cx, OTHER_STORE)?;
        return Ok(Extern::Memory(m.mem));
    }
    // SAFETY: as above.
    if let Some(t) = unsafe { raw::unwrap_class::<NativeTable>(env, v) } {
        t.core().belongs_to(cx, OTHER_STORE)?;
        return Ok(Extern::Table(t.table));
    }
    // SAFETY: as above.
    if let Some(g) = unsafe { raw::unwrap_class::<NativeGlobal>(env, v) } {
        g.core().belongs_to(cx, OTHER_STORE)?;
        return Ok(Extern::Global(g.global));
    }
    // SAFETY: as above.
    if let Some(t) = unsafe { raw::unwrap_class::<NativeTag>(env, v) } {
        t.core().belongs_to(cx, OTHER_STORE)?;
        return Ok(Extern::Tag(t.tag));
    }
    // SAFETY: as above.
    if let Some(m) = unsafe { raw::unwrap_class::<NativeSharedMemory>(env, v) } {
        if !wasmtime::Engine::same(&m.engine_info()?.value.engine, cx.engine()) {
            return Err(Fail::link("the shared memory belongs to another engine than the store's"));
        }
        return Ok(Extern::SharedMemory(m.memory()?));
    }
    Err(Fail::type_error("expected a Func, Memory, Table, Global, Tag or SharedMemory"))
}

/// A JS wrapper for a wasmtime extern.
pub fn extern_value(env: &Env, core: &Rc<StoreCore>, e: Extern, cx: impl AsContext) -> Res<raw::Value> {
    let env = env.raw();
    // SAFETY (each arm): on the JS thread of `env`, inside a callback (made per export, per
    // instantiation: the light way, see `raw::light_instance`).
    unsafe {
        match e {
            Extern::Func(f) => raw::light_instance(env, "NativeFunc\0", NativeFunc::new(core.clone(), f, cx)),
            Extern::Memory(m) => raw::light_instance(env, "NativeMemory\0", NativeMemory::new(core.clone(), m)),
            Extern::Table(t) => raw::light_instance(env, "NativeTable\0", NativeTable::new(core.clone(), t)),
            Extern::Global(g) => raw::light_instance(env, "NativeGlobal\0", NativeGlobal::new(core.clone(), g)),
            Extern::Tag(t) => raw::light_instance(env, "NativeTag\0", NativeTag::new(core.clone(), t)),
            Extern::SharedMemory(m) => {
                raw::light_instance(env, "NativeSharedMemory\0", NativeSharedMemory::new(env, m, core.engine_info.clone()))
            }
        }
    }
}

#[napi]
pub struct NativeInstance {
    core: Rc<StoreCore>,
    pub(crate) instance: Instance,
    /// The invokers of the exported functions used from JS (see `Invokers`).
    invokers: Invokers,
    _live: Live,
}

impl NativeInstance {
    pub fn new(core: Rc<StoreCore>, instance: Instance) -> Self {
        NativeInstance { core, instance, invokers: Invokers::default(), _live: Live::new(Kind::Instance) }
    }
    pub fn core(&self) -> &Rc<StoreCore> {
        &self.core
    }

    /// An export's JS form: its wrapper, or with `invoker` a function's invoker id (see `Invokers`).
    fn export_value(&self, env: &Env, name: &str, ext: Extern, invoker: bool, cx: &StoreContextMut<'_, Host>) -> Res<raw::Value> {
        match ext {
            // SAFETY: on the JS thread of `env`, inside a callback.
            Extern::Func(f) if invoker => unsafe {
                raw::u32_value(env.raw(), self.invokers.id(name, &self.core, f, || signature(&f.ty(cx))))
            },
            ext => extern_value(env, &self.core, ext, cx),
        }
    }

    /// This instance as a JS object, made the light way (see `raw::light_instance`): one is made
    /// per instantiation.
    pub fn into_js<'a>(self, env: raw::Env) -> Res<Unknown<'a>> {
        // SAFETY: on the JS thread of `env`, inside a callback; the value is created in its scope.
        unsafe {
            let v = raw::light_instance(env, "NativeInstance\0", self)?;
            Ok(Unknown::from_raw_unchecked(env, v))
        }
    }
}

#[napi]
impl NativeInstance {
    /// `[name, wrapper, name, wrapper, …]` for all exports, in order. With `invokers`, a
    /// function export comes as its invoker (see `NativeFunc::invoker`) rather than as a
    /// `NativeFunc`: one native object per export instead of two, which is what per-request
    /// instantiation pays for (`exportFunc` gives the `NativeFunc` when it is asked for).
    #[napi(catch_unwind)]
    pub fn exports<'a>(&self, env: &'a Env, invokers: Option<bool>) -> napi::Result<Array<'a>> {
        throwing(env, || {
            let mut cx = self.core.cx()?;
            let exports: Vec<(String, Extern)> = self.instance.exports(&mut cx).map(|e| (e.name().to_string(), e.into_extern())).collect();
            let pending = |_| Fail::Pending;
            let mut out = env.create_array(exports.len() as u32 * 2).map_err(pending)?;
            for (i, (name, ext)) in exports.into_iter().enumerate() {
                let v = self.export_value(env, &name, ext, invokers == Some(true), &cx)?;
                out.set(2 * i as u32, name).map_err(pending)?;
                // SAFETY: `v` is a handle created in this callback's scope.
                out.set(2 * i as u32 + 1, unsafe { Unknown::from_raw_unchecked(env.raw(), v) }).map_err(pending)?;
            }
            Ok(out)
        })
    }

    /// Export `name` as `exports` gives it (null if there is none): lib/instance.ts makes an
    /// instance's exports on first use, one by one.
    #[napi(catch_unwind)]
    pub fn get_export<'a>(&self, env: &'a Env, name: String, invoker: bool) -> napi::Result<Unknown<'a>> {
        throwing(env, || {
            let mut cx = self.core.cx()?;
            let v = match self.instance.get_export(&mut cx, &name) {
                Some(ext) => self.export_value(env, &name, ext, invoker, &cx)?,
                // SAFETY: on the JS thread, inside this callback.
                None => unsafe { raw::null(env.raw()) },
            };
            // SAFETY: `v` is a handle created in this callback's scope.
            Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), v) })
        })
    }

    /// The exported function `name` as a `NativeFunc` (null if there is none).
    #[napi(catch_unwind)]
    pub fn export_func(&self, env: Env, name: String) -> napi::Result<Option<NativeFunc>> {
        throwing(&env, || {
            let mut cx = self.core.cx()?;
            Ok(self.instance.get_func(&mut cx, &name).map(|f| NativeFunc::new(self.core.clone(), f, &cx)))
        })
    }
}
