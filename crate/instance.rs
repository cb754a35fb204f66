//! `Instance`: an instantiated module, and the conversions of externs (func, memory, table,
//! global) between their native wrappers and wasmtime's `Extern`.

use std::rc::Rc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wasmtime::{AsContext, Extern, Instance, StoreContextMut};

use crate::error::{Fail, Res};
use crate::func::NativeFunc;
use crate::global::NativeGlobal;
use crate::js;
use crate::memory::NativeMemory;
use crate::store::{Host, StoreCore};
use crate::table::NativeTable;

fn same_store(core: &StoreCore, cx: &StoreContextMut<'_, Host>) -> Res<()> {
    core.check()?;
    if core.id != cx.data().id {
        return Err(Fail::store_state("ERR_WRONG_STORE", "an object of another store was used with this store"));
    }
    Ok(())
}

/// The wasmtime extern behind one of our native wrappers, checked to belong to `cx`'s store.
pub unsafe fn extern_of(env: js::Env, v: js::Value, cx: &StoreContextMut<'_, Host>) -> Res<Extern> {
    // SAFETY: `env`/`v` are live handles of the current callback on this thread.
    unsafe {
        if let Some(f) = js::unwrap_class::<NativeFunc>(env, v) {
            same_store(f.core(), cx)?;
            return Ok(Extern::Func(f.func));
        }
        if let Some(m) = js::unwrap_class::<NativeMemory>(env, v) {
            same_store(m.core(), cx)?;
            return Ok(Extern::Memory(m.mem));
        }
        if let Some(t) = js::unwrap_class::<NativeTable>(env, v) {
            same_store(t.core(), cx)?;
            return Ok(Extern::Table(t.table));
        }
        if let Some(g) = js::unwrap_class::<NativeGlobal>(env, v) {
            same_store(g.core(), cx)?;
            return Ok(Extern::Global(g.global));
        }
        Err(Fail::type_error("expected a Func, Memory, Table or Global"))
    }
}

/// A JS wrapper for a wasmtime extern.
pub fn extern_value(env: &Env, core: &Rc<StoreCore>, e: Extern, cx: impl AsContext) -> Res<js::Value> {
    let to = |r: napi::Result<js::Value>| r.map_err(|_| Fail::Pending);
    match e {
        Extern::Func(f) => to(NativeFunc::new(core.clone(), f, cx).into_instance(env).map(|i| i.value)),
        Extern::Memory(m) => to(NativeMemory::new(core.clone(), m).into_instance(env).map(|i| i.value)),
        Extern::Table(t) => to(NativeTable::new(core.clone(), t).into_instance(env).map(|i| i.value)),
        Extern::Global(g) => to(NativeGlobal::new(core.clone(), g).into_instance(env).map(|i| i.value)),
        // SAFETY: `env`/`v` are live handles of the current callback on this thread.
        _ => Ok(unsafe { js::null(env.raw()) }),
    }
}

#[napi]
pub struct NativeInstance {
    core: Rc<StoreCore>,
    pub(crate) instance: Instance,
    _live: crate::live::Live,
}

impl NativeInstance {
    pub fn new(core: Rc<StoreCore>, instance: Instance) -> Self {
        NativeInstance { core, instance, _live: crate::live::Live::new(crate::live::Kind::Instance) }
    }
    pub fn core(&self) -> &Rc<StoreCore> {
        &self.core
    }
}

#[napi]
impl NativeInstance {
    /// `[name, wrapper, name, wrapper, …]` for all exports, in order. With `invokers`, a
    /// function export comes as its invoker (see `NativeFunc::invoker`) rather than as a
    /// `NativeFunc`: one native object per export instead of two, which is what per-request
    /// instantiation pays for (`exportFunc` gives the `NativeFunc` when it is asked for).
    #[napi(catch_unwind)]
    pub fn exports(&self, env: Env, invokers: Option<bool>) -> napi::Result<Unknown<'_>> {
        let mut cx = self.core.cx()?;
        let exports: Vec<(String, Extern)> = self.instance.exports(&mut cx).map(|e| (e.name().to_string(), e.into_extern())).collect();
        let raw = env.raw();
        // SAFETY: building values on this thread's env within the callback.
        unsafe {
            let arr = js::array(raw, exports.len() * 2)?;
            for (i, (name, ext)) in exports.into_iter().enumerate() {
                js::set_element(raw, arr, (2 * i) as u32, js::string_value(raw, &name)?)?;
                let v = match ext {
                    Extern::Func(f) if invokers == Some(true) => {
                        let ty = f.ty(&cx);
                        crate::func::invoker_value(raw, &self.core, f, ty.params().collect(), ty.results().collect())?
                    }
                    ext => extern_value(&env, &self.core, ext, &cx)?,
                };
                js::set_element(raw, arr, (2 * i + 1) as u32, v)?;
            }
            Ok(Unknown::from_raw_unchecked(raw, arr))
        }
    }

    /// The exported function `name` as a `NativeFunc` (null if there is none).
    #[napi(catch_unwind)]
    pub fn export_func(&self, name: String) -> napi::Result<Option<NativeFunc>> {
        let mut cx = self.core.cx()?;
        Ok(self.instance.get_func(&mut cx, &name).map(|f| NativeFunc::new(self.core.clone(), f, &cx)))
    }
}
