//! `Tag`: a wasm exception tag (the exception handling proposal, Wasm 3.0).

use std::rc::Rc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wasmtime::{FuncType, Tag, TagType};

use crate::api::store::NativeStore;
use crate::base::error::{Res, throwing};
use crate::base::types;
use crate::store::core::StoreCore;

#[napi]
pub struct NativeTag {
    core: Rc<StoreCore>,
    pub(crate) tag: Tag,
}

impl NativeTag {
    pub fn new(core: Rc<StoreCore>, tag: Tag) -> Self {
        NativeTag { core, tag }
    }
    pub fn core(&self) -> &Rc<StoreCore> {
        &self.core
    }
}

#[napi]
impl NativeTag {
    /// A new tag of `store` whose exceptions carry values of the types `params` (`'i32'`…).
    #[napi(constructor, catch_unwind)]
    pub fn new_in(env: Env, store: &NativeStore, params: Vec<String>) -> napi::Result<Self> {
        throwing(&env, || {
            let params = params.iter().map(|p| types::parse_valtype(p)).collect::<Res<Vec<_>>>()?;
            let core = &store.core;
            let ty = TagType::new(FuncType::new(core.engine(), params, []));
            let tag = Tag::new(&mut core.cx()?, &ty).map_err(crate::base::error::Fail::from_runtime)?;
            Ok(NativeTag::new(core.clone(), tag))
        })
    }

    /// `{"params": [...]}`.
    #[napi(catch_unwind)]
    pub fn type_json(&self, env: Env) -> napi::Result<String> {
        throwing(&env, || {
            let mut out = String::new();
            types::tag_type_json(&mut out, &self.tag.ty(&self.core.cx()?));
            Ok(out)
        })
    }

    /// Whether `other` is the same tag (tags are compared by identity, as in wasm).
    #[napi(catch_unwind)]
    pub fn same(&self, env: Env, other: &NativeTag) -> napi::Result<bool> {
        throwing(&env, || Ok(self.core.id == other.core.id && Tag::eq(&self.tag, &other.tag, &self.core.cx()?)))
    }
}
