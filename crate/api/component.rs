//! `Component`: a compiled component, shareable across threads like `Module` (wasmtime's
//! `Component` is Send + Sync).

use std::borrow::Cow;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime::component::types::{ComponentExtern, ComponentFunc, ComponentItem};

use crate::api::engine::NativeEngine;
use crate::base::args;
use crate::base::engine::EngineInfo;
use crate::base::error::{Fail, Res, error_object, throwing};
use crate::base::live::{Kind, Live};
use crate::base::share::{self, Shareable};
use crate::base::types::json_str;
use crate::call::component_values::type_name;

/// A compiled component and the engine it came from (which travels with it to other threads).
pub struct ComponentInfo {
    component: Component,
    engine: Arc<Shareable<EngineInfo>>,
    _live: Live,
}

#[napi]
pub struct NativeComponent {
    pub(crate) component: Component,
    /// Governs the share token's lifetime: the token works while any handle is alive.
    cell: Arc<Shareable<ComponentInfo>>,
}

impl NativeComponent {
    fn from_component(component: Component, engine: Arc<Shareable<EngineInfo>>) -> Self {
        NativeComponent {
            cell: Shareable::new(ComponentInfo { component: component.clone(), engine, _live: Live::new(Kind::Component) }),
            component,
        }
    }

    /// Fails with a `LinkError` unless this component was compiled by `engine` (`whose` names it).
    pub fn check_engine(&self, engine: &Engine, whose: &str) -> Res<()> {
        if !Engine::same(self.component.engine(), engine) {
            return Err(Fail::link(format!("the component was compiled by another engine than {whose}")));
        }
        Ok(())
    }
}

fn func_json(out: &mut String, f: &ComponentFunc) {
    out.push_str(r#"{"kind":"func","params":["#);
    for (i, (name, ty)) in f.params().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r#"{"name":"#);
        json_str(out, name);
        out.push_str(r#","type":"#);
        json_str(out, &type_name(&ty));
        out.push('}');
    }
    out.push_str(r#"],"result":"#);
    match f.results().next() {
        Some(t) => json_str(out, &type_name(&t)),
        None => out.push_str("null"),
    }
    out.push('}');
}

/// `{ "kind": ..., ... }`: the plain-data descriptor of a component item.
fn item_json(out: &mut String, engine: &Engine, item: &ComponentItem) {
    match item {
        ComponentItem::ComponentFunc(f) => func_json(out, f),
        ComponentItem::ComponentInstance(i) => {
            out.push_str(r#"{"kind":"instance","exports":"#);
            items_json(out, engine, i.exports(engine));
            out.push('}');
        }
        ComponentItem::Type(t) => {
            out.push_str(r#"{"kind":"type","type":"#);
            json_str(out, &type_name(t));
            out.push('}');
        }
        ComponentItem::Resource(_) => out.push_str(r#"{"kind":"resource"}"#),
        ComponentItem::CoreFunc(_) => out.push_str(r#"{"kind":"core-func"}"#),
        ComponentItem::Module(_) => out.push_str(r#"{"kind":"module"}"#),
        ComponentItem::Component(_) => out.push_str(r#"{"kind":"component"}"#),
    }
}

/// `[{ "name", "type" }]` of named component items.
fn items_json<'a>(out: &mut String, engine: &Engine, items: impl Iterator<Item = (&'a str, ComponentExtern<'a>)>) {
    out.push('[');
    for (i, (name, ext)) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r#"{"name":"#);
        json_str(out, name);
        out.push_str(r#","type":"#);
        item_json(out, engine, &ext.ty);
        out.push('}');
    }
    out.push(']');
}

#[napi]
impl NativeComponent {
    /// Compile a component from its binary or its text format.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: Env, engine: &NativeEngine, source: Unknown) -> napi::Result<Self> {
        throwing(&env, || {
            let bytes = args::wasm_bytes(&env, &source)?;
            crate::api::module::count_compile();
            let component = engine.info.value.compile_component(&bytes).map_err(Fail::from_compile)?;
            Ok(NativeComponent::from_component(component, engine.info.clone()))
        })
    }

    /// Compile on libuv's thread pool (`Component.compile`).
    #[napi(catch_unwind)]
    pub fn compile_async(env: Env, engine: &NativeEngine, source: Unknown) -> napi::Result<AsyncTask<ComponentCompileTask>> {
        throwing(&env, || Ok(AsyncTask::new(ComponentCompileTask { engine: engine.info.clone(), bytes: args::wasm_bytes(&env, &source)? })))
    }

    /// Load compiled code from `serialize()`. `lib/` demands `{ trusted: true }`.
    #[napi(factory, catch_unwind)]
    pub fn deserialize(env: Env, engine: &NativeEngine, bytes: Unknown) -> napi::Result<Self> {
        throwing(&env, || {
            let src = args::bytes(&env, &bytes)?.ok_or_else(|| Fail::type_error("expected an ArrayBuffer or an ArrayBufferView"))?;
            // SAFETY: the JS caller declared the bytes trusted (wasmtime still checks the header,
            // the version and the engine configuration, and refuses a mismatch).
            let component = unsafe { Component::deserialize(engine.engine(), src) }
                .map_err(|e| Fail::with("WasmtimeError", "ERR_WASM_DESERIALIZE", format!("cannot load precompiled component: {e:#}")))?;
            Ok(NativeComponent::from_component(component, engine.info.clone()))
        })
    }

    /// A handle to the component named by a token from `share()` (any thread): no recompilation.
    #[napi(factory, catch_unwind)]
    pub fn from_shared(env: Env, id: String) -> napi::Result<Self> {
        throwing(&env, || {
            let cell: Arc<Shareable<ComponentInfo>> = share::lookup(&id, "Component")?;
            Ok(NativeComponent { component: cell.value.component.clone(), cell })
        })
    }

    #[napi(catch_unwind)]
    pub fn share(&self) -> String {
        share::share(&self.cell, "Component")
    }

    /// The engine that compiled this component.
    #[napi(catch_unwind)]
    pub fn engine(&self) -> NativeEngine {
        NativeEngine::from_info(self.cell.value.engine.clone())
    }

    /// JSON array of import descriptors (parsed and frozen once by `lib/`).
    #[napi(catch_unwind)]
    pub fn imports_json(&self) -> String {
        let engine = self.component.engine();
        let ty = self.component.component_type();
        let mut out = String::new();
        items_json(&mut out, engine, ty.imports(engine));
        out
    }

    #[napi(catch_unwind)]
    pub fn exports_json(&self) -> String {
        let engine = self.component.engine();
        let ty = self.component.component_type();
        let mut out = String::new();
        items_json(&mut out, engine, ty.exports(engine));
        out
    }

    #[napi(catch_unwind)]
    pub fn serialize(&self, env: Env) -> napi::Result<Buffer> {
        throwing(&env, || Ok(self.component.serialize().map_err(|e| Fail::wasmtime(format!("{e:#}")))?.into()))
    }
}

/// Compiles on libuv's thread pool: `Component.compile`.
pub struct ComponentCompileTask {
    engine: Arc<Shareable<EngineInfo>>,
    bytes: Cow<'static, [u8]>,
}

impl Task for ComponentCompileTask {
    type Output = Component;
    type JsValue = NativeComponent;

    fn compute(&mut self) -> napi::Result<Component> {
        crate::api::module::count_compile();
        self.engine.value.compile_component(&self.bytes).map_err(|e| napi::Error::from_reason(format!("{e:#}")))
    }

    fn resolve(&mut self, _env: Env, component: Component) -> napi::Result<NativeComponent> {
        Ok(NativeComponent::from_component(component, self.engine.clone()))
    }

    fn reject(&mut self, env: Env, err: napi::Error) -> napi::Result<NativeComponent> {
        Err(error_object(&env, Fail::compile(err.reason.clone())))
    }
}
