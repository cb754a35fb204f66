//! `Exception`: a wasm exception object in JS (`NativeException`, defined in call/exception.rs
//! with the crossings of exceptions between wasm and JS).

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wasmtime::{AsContextMut, ExnRef, ExnRefPre, ExnType, RootScope, Tag};

use crate::api::tag::NativeTag;
use crate::base::error::{Fail, throwing};
use crate::call::exception::NativeException;
use crate::call::values;

#[napi]
impl NativeException {
    /// A new exception of `tag` (in its store) carrying `args`, one per parameter of the tag.
    #[napi(constructor, catch_unwind)]
    pub fn new_in(env: Env, tag: &NativeTag, args: Vec<Unknown>) -> napi::Result<Self> {
        throwing(&env, || {
            let core = tag.core();
            let mut cx = core.cx()?;
            let mut scope = RootScope::new(&mut cx);
            let mut cx = scope.as_context_mut();
            let ty = tag.tag.ty(&cx);
            let params: Vec<_> = ty.ty().params().collect();
            if params.len() != args.len() {
                return Err(Fail::with(
                    "TypeError",
                    "ERR_INVALID_ARG_COUNT",
                    format!("the tag takes {} value(s), got {}", params.len(), args.len()),
                ));
            }
            let mut vals = Vec::with_capacity(args.len());
            for (a, t) in args.iter().zip(&params) {
                // SAFETY: `a` is a live handle of this callback.
                vals.push(unsafe { values::to_val(env.raw(), a.raw(), t, &mut cx)? });
            }
            let pre = ExnRefPre::new(&mut cx, ExnType::from_tag_type(&ty).map_err(Fail::from_runtime)?);
            let exn = ExnRef::new(&mut cx, &pre, &tag.tag, &vals).map_err(Fail::from_runtime)?;
            let owned = exn.to_owned_rooted(&mut cx).map_err(Fail::from_runtime)?;
            Ok(NativeException::new(core.clone(), owned))
        })
    }

    /// Whether this exception's tag is `tag`.
    #[napi(catch_unwind)]
    pub fn is(&self, env: Env, tag: &NativeTag) -> napi::Result<bool> {
        throwing(&env, || {
            let mut cx = self.core.cx()?;
            if tag.core().id != self.core.id {
                return Ok(false);
            }
            let own = self.exn.tag(&mut cx).map_err(Fail::from_runtime)?;
            Ok(Tag::eq(&own, &tag.tag, &cx))
        })
    }

    /// Value `index` of the exception's payload (lib/ checks the tag first).
    #[napi(catch_unwind)]
    pub fn get_arg(&self, env: Env, index: u32) -> napi::Result<Unknown<'_>> {
        throwing(&env, || {
            let mut cx = self.core.cx()?;
            let mut scope = RootScope::new(&mut cx);
            let mut cx = scope.as_context_mut();
            let n = self.exn.tag(&mut cx).map_err(Fail::from_runtime)?.ty(&cx).ty().params().len();
            if index as usize >= n {
                return Err(Fail::range(format!("index {index} is out of range: the exception carries {n} value(s)")));
            }
            let v = self.exn.field(&mut cx, index as usize).map_err(Fail::from_runtime)?;
            // SAFETY: converting on this thread's env within the callback.
            unsafe {
                let raw = values::from_val(env.raw(), &v, &self.core, &mut cx)?;
                Ok(Unknown::from_raw_unchecked(env.raw(), raw))
            }
        })
    }
}
