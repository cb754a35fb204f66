//! `Module`: compiled code, shareable across threads (wasmtime's `Module` is Send + Sync).

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wasmtime::{Engine, Module};

use crate::api::engine::NativeEngine;
use crate::base::args;
use crate::base::engine::EngineInfo;
use crate::base::error::{Fail, Res, error_object, throwing};
use crate::base::live::{Kind, Live};
use crate::base::share::{self, Shareable};
use crate::base::types;

/// Number of compilations done by this process (diagnostics: proves that sharing a module with
/// a worker does not recompile it).
static COMPILES: AtomicU64 = AtomicU64::new(0);

pub fn compile_count() -> u64 {
    COMPILES.load(Ordering::Relaxed)
}

/// Count one compilation (of a module or a component).
pub fn count_compile() {
    COMPILES.fetch_add(1, Ordering::Relaxed);
}

/// A compiled module and the engine handle it came from (which travels with it to other threads).
pub struct ModuleInfo {
    module: Module,
    engine: Arc<Shareable<EngineInfo>>,
    _live: Live,
}

#[napi]
pub struct NativeModule {
    pub(crate) module: Module,
    /// Governs the share token's lifetime: the token works while any handle is alive.
    cell: Arc<Shareable<ModuleInfo>>,
}

impl NativeModule {
    fn from_module(module: Module, engine: Arc<Shareable<EngineInfo>>) -> Self {
        NativeModule { cell: Shareable::new(ModuleInfo { module: module.clone(), engine, _live: Live::new(Kind::Module) }), module }
    }

    fn compile(engine: &Arc<Shareable<EngineInfo>>, bytes: &[u8]) -> wasmtime::Result<Module> {
        count_compile();
        engine.value.compile(bytes)
    }

    /// Fails with a `LinkError` unless this module was compiled by `engine` (`whose` names it).
    pub fn check_engine(&self, engine: &Engine, whose: &str) -> Res<()> {
        if !Engine::same(self.module.engine(), engine) {
            return Err(Fail::link(format!("the module was compiled by another engine than {whose}")));
        }
        Ok(())
    }
}

/// JSON array of descriptors, one per item.
fn json_array<T>(items: impl Iterator<Item = T>, mut each: impl FnMut(&mut String, T)) -> String {
    let mut out = String::from("[");
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(&mut out, item);
    }
    out.push(']');
    out
}

fn deserialize_fail(e: wasmtime::Error) -> Fail {
    Fail::with("WasmtimeError", "ERR_WASM_DESERIALIZE", format!("cannot load precompiled module: {e:#}"))
}

#[napi]
impl NativeModule {
    #[napi(constructor, catch_unwind)]
    pub fn new(env: Env, engine: &NativeEngine, source: Unknown) -> napi::Result<Self> {
        throwing(&env, || {
            let bytes = args::wasm_bytes(&env, &source)?;
            let module = NativeModule::compile(&engine.info, &bytes).map_err(Fail::from_compile)?;
            Ok(NativeModule::from_module(module, engine.info.clone()))
        })
    }

    /// Compile on libuv's thread pool (`Module.compile`).
    #[napi(catch_unwind)]
    pub fn compile_async(env: Env, engine: &NativeEngine, source: Unknown) -> napi::Result<AsyncTask<CompileTask>> {
        throwing(&env, || Ok(AsyncTask::new(CompileTask { engine: engine.info.clone(), bytes: args::wasm_bytes(&env, &source)? })))
    }

    #[napi(catch_unwind)]
    pub fn validate(env: Env, engine: &NativeEngine, source: Unknown) -> napi::Result<bool> {
        throwing(&env, || Ok(Module::validate(engine.engine(), &args::wasm_bytes(&env, &source)?).is_ok()))
    }

    /// Load compiled code from `serialize()` / `Engine.precompileModule`. `lib/` demands
    /// `{ trusted: true }`: the bytes are machine code that wasmtime runs as they are.
    #[napi(factory, catch_unwind)]
    pub fn deserialize(env: Env, engine: &NativeEngine, bytes: Unknown) -> napi::Result<Self> {
        throwing(&env, || {
            let src = args::bytes(&env, &bytes)?.ok_or_else(|| Fail::type_error("expected an ArrayBuffer or an ArrayBufferView"))?;
            // SAFETY: the JS caller declared the bytes trusted (wasmtime still checks the header,
            // the version and the engine configuration, and refuses a mismatch).
            let module = unsafe { Module::deserialize(engine.engine(), src) }.map_err(deserialize_fail)?;
            Ok(NativeModule::from_module(module, engine.info.clone()))
        })
    }

    /// `deserialize` from a file (memory-mapped by wasmtime rather than read).
    #[napi(factory, catch_unwind)]
    pub fn deserialize_file(env: Env, engine: &NativeEngine, path: String) -> napi::Result<Self> {
        // SAFETY: as in `deserialize`; the JS caller declared the file trusted, and must not
        // modify it while it is mapped.
        let module = unsafe { Module::deserialize_file(engine.engine(), &path) }.map_err(|e| deserialize_fail(e).throw(&env))?;
        Ok(NativeModule::from_module(module, engine.info.clone()))
    }

    /// A handle to the module named by a token from `share()` (any thread): no recompilation.
    #[napi(factory, catch_unwind)]
    pub fn from_shared(env: Env, id: String) -> napi::Result<Self> {
        throwing(&env, || {
            let cell: Arc<Shareable<ModuleInfo>> = share::lookup(&id, "Module")?;
            Ok(NativeModule { module: cell.value.module.clone(), cell })
        })
    }

    #[napi(catch_unwind)]
    pub fn share(&self) -> String {
        share::share(&self.cell, "Module")
    }

    /// The engine that compiled this module.
    #[napi(catch_unwind)]
    pub fn engine(&self) -> NativeEngine {
        NativeEngine::from_info(self.cell.value.engine.clone())
    }

    #[napi(getter, catch_unwind)]
    pub fn name(&self) -> Option<String> {
        self.module.name().map(str::to_string)
    }

    /// JSON array of import descriptors (parsed and frozen once by `lib/`).
    #[napi(catch_unwind)]
    pub fn imports_json(&self) -> String {
        json_array(self.module.imports(), |out, imp| types::import_json(out, imp.module(), imp.name(), &imp.ty()))
    }

    #[napi(catch_unwind)]
    pub fn exports_json(&self) -> String {
        json_array(self.module.exports(), |out, exp| types::export_json(out, exp.name(), &exp.ty()))
    }

    #[napi(catch_unwind)]
    pub fn serialize(&self, env: Env) -> napi::Result<Buffer> {
        throwing(&env, || Ok(self.module.serialize().map_err(|e| Fail::wasmtime(format!("{e:#}")))?.into()))
    }
}

/// Compiles on libuv's thread pool: `Module.compile`.
pub struct CompileTask {
    engine: Arc<Shareable<EngineInfo>>,
    bytes: Cow<'static, [u8]>,
}

impl Task for CompileTask {
    type Output = Module;
    type JsValue = NativeModule;

    fn compute(&mut self) -> napi::Result<Module> {
        NativeModule::compile(&self.engine, &self.bytes).map_err(|e| napi::Error::from_reason(format!("{e:#}")))
    }

    fn resolve(&mut self, _env: Env, module: Module) -> napi::Result<NativeModule> {
        Ok(NativeModule::from_module(module, self.engine.clone()))
    }

    fn reject(&mut self, env: Env, err: napi::Error) -> napi::Result<NativeModule> {
        Err(error_object(&env, Fail::compile(err.reason.clone())))
    }
}
