//! `Global`: a wasm global variable.

use std::rc::Rc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wasmtime::{AsContextMut, ExternType, Global, Mutability, RootScope};

use crate::error::Fail;
use crate::store::StoreCore;
use crate::{types, values};

#[napi]
pub struct NativeGlobal {
    core: Rc<StoreCore>,
    pub(crate) global: Global,
}

impl NativeGlobal {
    pub fn new(core: Rc<StoreCore>, global: Global) -> Self {
        NativeGlobal { core, global }
    }
    pub fn core(&self) -> &Rc<StoreCore> {
        &self.core
    }
}

#[napi]
impl NativeGlobal {
    #[napi(catch_unwind)]
    pub fn get(&self, env: Env) -> napi::Result<Unknown<'_>> {
        let mut cx = self.core.cx()?;
        let mut scope = RootScope::new(&mut cx);
        let mut cx = scope.as_context_mut();
        let v = self.global.get(&mut cx);
        // SAFETY: converting on this thread's env within the callback.
        let raw = unsafe { values::from_val(env.raw(), &v, &self.core, &mut cx)? };
        // SAFETY: `raw` was created in this callback's scope.
        Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), raw) })
    }

    #[napi(catch_unwind)]
    pub fn set(&self, env: Env, value: Unknown) -> napi::Result<()> {
        let mut cx = self.core.cx()?;
        let ty = self.global.ty(&cx);
        if ty.mutability() == Mutability::Const {
            return Err(Fail::with("TypeError", "ERR_IMMUTABLE_GLOBAL", "cannot set an immutable global").into());
        }
        let mut scope = RootScope::new(&mut cx);
        let mut cx = scope.as_context_mut();
        // SAFETY: `value` is a live handle of this callback.
        let v = unsafe { values::to_val(env.raw(), value.raw(), ty.content(), &mut cx)? };
        self.global.set(&mut cx, v).map_err(|e| Fail::invalid_value(format!("{e:#}")))?;
        Ok(())
    }

    #[napi(catch_unwind)]
    pub fn type_json(&self) -> napi::Result<String> {
        let ty = self.global.ty(self.core.cx()?);
        let mut out = String::new();
        types::extern_type_json(&mut out, &ExternType::Global(ty));
        Ok(out)
    }
}
