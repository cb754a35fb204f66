//! `Table`: a wasm table of references.

use std::rc::Rc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wasmtime::{AsContextMut, ExternType, RootScope, Table};

use crate::error::Fail;
use crate::memory::index_arg;
use crate::store::StoreCore;
use crate::{types, values};

#[napi]
pub struct NativeTable {
    core: Rc<StoreCore>,
    pub(crate) table: Table,
}

impl NativeTable {
    pub fn new(core: Rc<StoreCore>, table: Table) -> Self {
        NativeTable { core, table }
    }
    pub fn core(&self) -> &Rc<StoreCore> {
        &self.core
    }
}

#[napi]
impl NativeTable {
    #[napi(catch_unwind)]
    pub fn size(&self) -> napi::Result<f64> {
        Ok(self.table.size(self.core.cx()?) as f64)
    }

    #[napi(catch_unwind)]
    pub fn get(&self, env: Env, index: f64) -> napi::Result<Unknown<'_>> {
        let index = index_arg(index, "index")?;
        let mut cx = self.core.cx()?;
        let mut scope = RootScope::new(&mut cx);
        let mut cx = scope.as_context_mut();
        let size = self.table.size(&cx);
        let r = self.table.get(&mut cx, index).ok_or_else(|| Fail::range(format!("table index {index} is out of bounds (size {size})")))?;
        // SAFETY: converting on this thread's env within the callback.
        let raw = unsafe { values::from_ref(env.raw(), &r, &self.core, &mut cx)? };
        // SAFETY: `raw` was created in this callback's scope.
        Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), raw) })
    }

    #[napi(catch_unwind)]
    pub fn set(&self, env: Env, index: f64, value: Unknown) -> napi::Result<()> {
        let index = index_arg(index, "index")?;
        let mut cx = self.core.cx()?;
        let mut scope = RootScope::new(&mut cx);
        let mut cx = scope.as_context_mut();
        let ty = self.table.ty(&cx);
        let size = self.table.size(&cx);
        if index >= size {
            return Err(Fail::range(format!("table index {index} is out of bounds (size {size})")).into());
        }
        // SAFETY: `value` is a live handle of this callback.
        let r = unsafe { values::to_ref(env.raw(), value.raw(), ty.element().heap_type(), &mut cx)? };
        self.table.set(&mut cx, index, r).map_err(|e| Fail::invalid_value(format!("{e:#}")))?;
        Ok(())
    }

    /// Grow by `delta` elements filled with `init`; returns the previous size.
    #[napi(catch_unwind)]
    pub fn grow(&self, env: Env, delta: f64, init: Unknown) -> napi::Result<f64> {
        let delta = index_arg(delta, "delta")?;
        let mut cx = self.core.cx()?;
        let mut scope = RootScope::new(&mut cx);
        let mut cx = scope.as_context_mut();
        let ty = self.table.ty(&cx);
        // SAFETY: `init` is a live handle of this callback.
        let r = unsafe { values::to_ref(env.raw(), init.raw(), ty.element().heap_type(), &mut cx)? };
        let old = self.table.grow(&mut cx, delta, r).map_err(|e| Fail::with("RangeError", "ERR_WASM_GROW", format!("table.grow({delta}) failed: {e:#}")))?;
        Ok(old as f64)
    }

    #[napi(catch_unwind)]
    pub fn type_json(&self) -> napi::Result<String> {
        let ty = self.table.ty(self.core.cx()?);
        let mut out = String::new();
        types::extern_type_json(&mut out, &ExternType::Table(ty));
        Ok(out)
    }
}
