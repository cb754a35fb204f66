//! `Global`: a wasm global variable.

use std::rc::Rc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wasmtime::{AsContextMut, ExternType, Global, Mutability, RootScope};

use crate::api::store::NativeStore;
use crate::base::error::{Fail, throwing};
use crate::base::types;
use crate::call::values;
use crate::store::core::StoreCore;

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
    /// A new global of `store` of type `value` (`'i32'`…), holding `init`.
    #[napi(constructor, catch_unwind)]
    pub fn new_in(env: Env, store: &NativeStore, value: String, mutable: bool, init: Unknown) -> napi::Result<Self> {
        throwing(&env, || {
            let ty = types::global_type(&value, mutable)?;
            let core = &store.core;
            let mut cx = core.cx()?;
            let mut scope = RootScope::new(&mut cx);
            let mut cx = scope.as_context_mut();
            // SAFETY: `init` is a live handle of this callback.
            let v = unsafe { values::to_val(env.raw(), init.raw(), ty.content(), &mut cx)? };
            let g = Global::new(&mut cx, ty, v).map_err(Fail::from_runtime)?;
            Ok(NativeGlobal::new(core.clone(), g))
        })
    }

    #[napi(catch_unwind)]
    pub fn get(&self, env: Env) -> napi::Result<Unknown<'_>> {
        throwing(&env, || {
            let mut cx = self.core.cx()?;
            let mut scope = RootScope::new(&mut cx);
            let mut cx = scope.as_context_mut();
            let v = self.global.get(&mut cx);
            // SAFETY: converting on this thread's env within the callback; `raw` is created in its scope.
            unsafe {
                let raw = values::from_val(env.raw(), &v, &self.core, &mut cx)?;
                Ok(Unknown::from_raw_unchecked(env.raw(), raw))
            }
        })
    }

    #[napi(catch_unwind)]
    pub fn set(&self, env: Env, value: Unknown) -> napi::Result<()> {
        throwing(&env, || {
            let mut cx = self.core.cx()?;
            let ty = self.global.ty(&cx);
            if ty.mutability() == Mutability::Const {
                return Err(Fail::with("TypeError", "ERR_IMMUTABLE_GLOBAL", "cannot set an immutable global"));
            }
            let mut scope = RootScope::new(&mut cx);
            let mut cx = scope.as_context_mut();
            // SAFETY: `value` is a live handle of this callback.
            let v = unsafe { values::to_val(env.raw(), value.raw(), ty.content(), &mut cx)? };
            self.global.set(&mut cx, v).map_err(Fail::from_runtime)
        })
    }

    #[napi(catch_unwind)]
    pub fn type_json(&self, env: Env) -> napi::Result<String> {
        throwing(&env, || {
            let mut out = String::new();
            types::extern_type_json(&mut out, &ExternType::Global(self.global.ty(self.core.cx()?)));
            Ok(out)
        })
    }
}
