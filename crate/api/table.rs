//! `Table`: a wasm table of references.

use std::rc::Rc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wasmtime::{AsContextMut, ExternType, RootScope, Table};

use crate::api::store::NativeStore;
use crate::base::args::{self, index_arg};
use crate::base::error::{Fail, Res, throwing};
use crate::base::types;
use crate::call::values;
use crate::store::core::StoreCore;

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

fn out_of_bounds(index: u64, size: u64) -> Fail {
    Fail::range(format!("table index {index} is out of bounds (size {size})"))
}

#[napi]
impl NativeTable {
    /// A new table of `store` with `element` references, `minimum`..`maximum` of them, each `init`.
    #[napi(constructor, catch_unwind)]
    pub fn new_in(env: Env, store: &NativeStore, element: String, minimum: f64, maximum: Option<f64>, init: Unknown) -> napi::Result<Self> {
        throwing(&env, || {
            let min = args::table_size(minimum, "minimum")?;
            let max = maximum.map(|m| args::table_size(m, "maximum")).transpose()?;
            let ty = types::table_type(&element, min, max)?;
            let core = &store.core;
            let mut cx = core.cx()?;
            let mut scope = RootScope::new(&mut cx);
            let mut cx = scope.as_context_mut();
            // SAFETY: `init` is a live handle of this callback.
            let r = unsafe { values::to_ref(env.raw(), init.raw(), ty.element().heap_type(), &mut cx)? };
            let t = Table::new(&mut cx, ty, r).map_err(|e| Fail::range(format!("{e:#}")))?;
            Ok(NativeTable::new(core.clone(), t))
        })
    }

    #[napi(catch_unwind)]
    pub fn size(&self, env: Env) -> napi::Result<f64> {
        throwing(&env, || Ok(self.table.size(self.core.cx()?) as f64))
    }

    #[napi(catch_unwind)]
    pub fn get(&self, env: Env, index: f64) -> napi::Result<Unknown<'_>> {
        throwing(&env, || {
            let index = index_arg(index, "index")?;
            let mut cx = self.core.cx()?;
            let mut scope = RootScope::new(&mut cx);
            let mut cx = scope.as_context_mut();
            let size = self.table.size(&cx);
            let r = self.table.get(&mut cx, index).ok_or_else(|| out_of_bounds(index, size))?;
            // SAFETY: converting on this thread's env within the callback; `raw` is created in its scope.
            unsafe {
                let raw = values::from_ref(env.raw(), &r, &self.core, &mut cx)?;
                Ok(Unknown::from_raw_unchecked(env.raw(), raw))
            }
        })
    }

    #[napi(catch_unwind)]
    pub fn set(&self, env: Env, index: f64, value: Unknown) -> napi::Result<()> {
        throwing(&env, || {
            let index = index_arg(index, "index")?;
            let mut cx = self.core.cx()?;
            let mut scope = RootScope::new(&mut cx);
            let mut cx = scope.as_context_mut();
            let ty = self.table.ty(&cx);
            let size = self.table.size(&cx);
            if index >= size {
                return Err(out_of_bounds(index, size));
            }
            // SAFETY: `value` is a live handle of this callback.
            let r = unsafe { values::to_ref(env.raw(), value.raw(), ty.element().heap_type(), &mut cx)? };
            self.table.set(&mut cx, index, r).map_err(Fail::from_runtime)
        })
    }

    /// Grow by `delta` elements filled with `init`; returns the previous size.
    #[napi(catch_unwind)]
    pub fn grow(&self, env: Env, delta: f64, init: Unknown) -> napi::Result<f64> {
        throwing(&env, || {
            let delta = index_arg(delta, "delta")?;
            let mut cx = self.core.cx()?;
            let mut scope = RootScope::new(&mut cx);
            let mut cx = scope.as_context_mut();
            let ty = self.table.ty(&cx);
            // SAFETY: `init` is a live handle of this callback.
            let r = unsafe { values::to_ref(env.raw(), init.raw(), ty.element().heap_type(), &mut cx)? };
            let old = self
                .table
                .grow(&mut cx, delta, r)
                .map_err(|e| Fail::with("RangeError", "ERR_WASM_GROW", format!("table.grow({delta}) failed: {e:#}")))?;
            Ok(old as f64)
        })
    }

    #[napi(catch_unwind)]
    pub fn type_json(&self, env: Env) -> napi::Result<String> {
        throwing(&env, || -> Res<String> {
            let mut out = String::new();
            types::extern_type_json(&mut out, &ExternType::Table(self.table.ty(self.core.cx()?)));
            Ok(out)
        })
    }
}
