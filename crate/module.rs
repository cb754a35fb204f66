//! `Module`: compiled code, shareable across threads (wasmtime's `Module` is Send + Sync).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wasmtime::Module;

use crate::engine::{EngineInfo, NativeEngine};
use crate::error::{Fail, Res};
use crate::share::{self, Shareable};
use crate::{js, types};

/// Number of compilations done by this process (diagnostics: proves that sharing a module with
/// a worker does not recompile it).
static COMPILES: AtomicU64 = AtomicU64::new(0);

/// `[hits, misses]` of the on-disk compile cache in this process.
#[napi(catch_unwind)]
pub fn compile_cache_stats() -> Vec<f64> {
    let (h, m) = crate::cache::stats();
    vec![h as f64, m as f64]
}

#[napi(catch_unwind)]
pub fn compile_count() -> f64 {
    COMPILES.load(Ordering::Relaxed) as f64
}

/// Wasm bytes from a string (WAT text) or a BufferSource (binary).
pub fn wasm_bytes(env: &Env, source: &Unknown) -> Res<std::borrow::Cow<'static, [u8]>> {
    // SAFETY: `source` is a live handle of the current callback on this env.
    unsafe {
        let raw = source.raw();
        if js::type_of(env.raw(), raw) == napi::sys::ValueType::napi_string {
            let text: String = String::from_napi_value(env.raw(), raw).map_err(|_| Fail::type_error("invalid string"))?;
            let bin = wat::parse_str(&text).map_err(|e| Fail::compile(format!("invalid WAT: {e}")))?;
            return Ok(bin.into());
        }
        match js::bytes_of(env.raw(), raw)? {
            Some(b) => Ok(b.to_vec().into()),
            None => Err(Fail::type_error("expected wasm bytes (an ArrayBuffer or a typed array) or WAT text (a string)")),
        }
    }
}

#[napi(catch_unwind)]
pub fn wat2wasm(text: String) -> napi::Result<Buffer> {
    let bin = wat::parse_str(&text).map_err(|e| Fail::compile(format!("invalid WAT: {e}")))?;
    Ok(bin.into())
}

/// A compiled module and the engine handle it came from (which travels with it to other threads).
pub struct ModuleInfo {
    module: Module,
    engine: Arc<Shareable<EngineInfo>>,
    _live: crate::live::Live,
}

#[napi]
pub struct NativeModule {
    pub(crate) module: Module,
    /// Governs the share token's lifetime: the token works while any handle is alive.
    cell: Arc<Shareable<ModuleInfo>>,
}

impl NativeModule {
    fn from_module(module: Module, engine: Arc<Shareable<EngineInfo>>) -> Self {
        NativeModule { cell: Shareable::new(ModuleInfo { module: module.clone(), engine, _live: crate::live::Live::new(crate::live::Kind::Module) }), module }
    }
}

#[napi]
impl NativeModule {
    #[napi(constructor, catch_unwind)]
    pub fn new(env: Env, engine: &NativeEngine, source: Unknown) -> napi::Result<Self> {
        let bytes = wasm_bytes(&env, &source)?;
        COMPILES.fetch_add(1, Ordering::Relaxed);
        let module = engine.info.value.compile(&bytes).map_err(Fail::from_compile)?;
        Ok(NativeModule::from_module(module, engine.info.clone()))
    }

    #[napi(catch_unwind)]
    pub fn validate(env: Env, engine: &NativeEngine, source: Unknown) -> napi::Result<bool> {
        let bytes = wasm_bytes(&env, &source)?;
        Ok(Module::validate(&engine.engine, &bytes).is_ok())
    }

    #[napi(getter, catch_unwind)]
    pub fn name(&self) -> Option<String> {
        self.module.name().map(str::to_string)
    }

    /// JSON array of import descriptors (parsed and frozen once by `lib/`).
    #[napi(catch_unwind)]
    pub fn imports_json(&self) -> String {
        let mut out = String::from("[");
        for (i, imp) in self.module.imports().enumerate() {
            if i > 0 {
                out.push(',');
            }
            types::import_json(&mut out, imp.module(), imp.name(), &imp.ty());
        }
        out.push(']');
        out
    }

    #[napi(catch_unwind)]
    pub fn exports_json(&self) -> String {
        let mut out = String::from("[");
        for (i, exp) in self.module.exports().enumerate() {
            if i > 0 {
                out.push(',');
            }
            types::export_json(&mut out, exp.name(), &exp.ty());
        }
        out.push(']');
        out
    }

    #[napi(catch_unwind)]
    pub fn serialize(&self) -> napi::Result<Buffer> {
        let bytes = self.module.serialize().map_err(|e| Fail::wasmtime(format!("{e:#}")))?;
        Ok(bytes.into())
    }

    /// Load compiled code from `serialize()` / `Engine.precompileModule`. `lib/` demands
    /// `{ trusted: true }`: the bytes are machine code that wasmtime runs as they are.
    #[napi(factory, catch_unwind)]
    pub fn deserialize(env: Env, engine: &NativeEngine, bytes: Unknown) -> napi::Result<Self> {
        // SAFETY: `bytes` is a live handle of this callback.
        let src = unsafe { js::bytes_of(env.raw(), bytes.raw())? }.ok_or_else(|| Fail::type_error("expected an ArrayBuffer or an ArrayBufferView"))?;
        // SAFETY: the JS caller declared the bytes trusted (wasmtime still checks the header,
        // the version and the engine configuration, and refuses a mismatch).
        let module = unsafe { Module::deserialize(&engine.engine, src) }.map_err(deserialize_fail)?;
        Ok(NativeModule::from_module(module, engine.info.clone()))
    }

    /// `deserialize` from a file (memory-mapped by wasmtime rather than read).
    #[napi(factory, catch_unwind)]
    pub fn deserialize_file(engine: &NativeEngine, path: String) -> napi::Result<Self> {
        // SAFETY: as in `deserialize`; the JS caller declared the file trusted, and must not
        // modify it while it is mapped.
        let module = unsafe { Module::deserialize_file(&engine.engine, &path) }.map_err(deserialize_fail)?;
        Ok(NativeModule::from_module(module, engine.info.clone()))
    }

    /// A handle to the module named by a token from `share()` (any thread): no recompilation.
    #[napi(factory, catch_unwind)]
    pub fn from_shared(id: String) -> napi::Result<Self> {
        let cell: Arc<Shareable<ModuleInfo>> = share::lookup(&id, "Module")?;
        Ok(NativeModule { module: cell.value.module.clone(), cell })
    }

    #[napi(catch_unwind)]
    pub fn share(&self) -> String {
        share::share(&self.cell, "Module")
    }

    /// Whether two handles are the same compiled module (also across workers).
    #[napi(catch_unwind)]
    pub fn same(&self, other: &NativeModule) -> bool {
        Arc::ptr_eq(&self.cell, &other.cell)
    }

    /// The engine that compiled this module.
    #[napi(catch_unwind)]
    pub fn engine(&self) -> NativeEngine {
        NativeEngine::from_info(self.cell.value.engine.clone())
    }

    #[napi(catch_unwind)]
    pub fn same_engine(&self, engine: &NativeEngine) -> bool {
        wasmtime::Engine::same(self.module.engine(), &engine.engine)
    }
}

/// Compiles on libuv's thread pool: `Module.compile`.
pub struct CompileTask {
    engine: Arc<Shareable<EngineInfo>>,
    bytes: std::borrow::Cow<'static, [u8]>,
}

impl Task for CompileTask {
    type Output = Module;
    type JsValue = NativeModule;

    fn compute(&mut self) -> napi::Result<Module> {
        COMPILES.fetch_add(1, Ordering::Relaxed);
        self.engine.value.compile(&self.bytes).map_err(|e| napi::Error::from_reason(format!("{e:#}")))
    }

    fn resolve(&mut self, _env: Env, module: Module) -> napi::Result<NativeModule> {
        Ok(NativeModule::from_module(module, self.engine.clone()))
    }

    fn reject(&mut self, env: Env, err: napi::Error) -> napi::Result<NativeModule> {
        Err(crate::error::error_object(&env, Fail::compile(err.reason.clone())))
    }
}

#[napi(catch_unwind)]
pub fn compile_module(env: Env, engine: &NativeEngine, source: Unknown) -> napi::Result<AsyncTask<CompileTask>> {
    let bytes = wasm_bytes(&env, &source)?;
    Ok(AsyncTask::new(CompileTask { engine: engine.info.clone(), bytes }))
}

fn deserialize_fail(e: wasmtime::Error) -> Fail {
    Fail::with("WasmtimeError", "ERR_WASM_DESERIALIZE", format!("cannot load precompiled module: {e:#}"))
}
