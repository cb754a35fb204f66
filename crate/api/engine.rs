//! `Engine`: a shareable (Send + Sync) compilation environment. Its configuration and the
//! default engine are in base/engine.rs.

use std::sync::Arc;

use napi::bindgen_prelude::{Buffer, Env, Unknown};
use napi_derive::napi;
use wasmtime::Engine;

use crate::base::args;
use crate::base::engine::{EngineInfo, EngineOptions, build_config, default_engine, make_engine};
use crate::base::error::{Fail, throwing};
use crate::base::share::{self, Shareable};

#[napi]
pub struct NativeEngine {
    pub(crate) info: Arc<Shareable<EngineInfo>>,
}

impl NativeEngine {
    pub fn from_info(info: Arc<Shareable<EngineInfo>>) -> Self {
        NativeEngine { info }
    }

    pub fn engine(&self) -> &Engine {
        &self.info.value.engine
    }
}

#[napi]
impl NativeEngine {
    #[napi(constructor, catch_unwind)]
    pub fn new(env: Env, options: Option<EngineOptions>) -> napi::Result<Self> {
        throwing(&env, || Ok(NativeEngine::from_info(make_engine(&options.unwrap_or_default())?)))
    }

    /// Check options as `new` would, without making an engine (`new Config`).
    #[napi(catch_unwind)]
    pub fn check_options(env: Env, options: EngineOptions) -> napi::Result<()> {
        throwing(&env, || build_config(&options).map(drop))
    }

    /// The process-wide default engine: the same native engine in every worker.
    #[napi(factory, js_name = "default", catch_unwind)]
    pub fn default_(env: Env) -> napi::Result<Self> {
        throwing(&env, || Ok(NativeEngine::from_info(default_engine()?)))
    }

    /// A handle to the engine named by a token from `share()` (any thread).
    #[napi(factory, catch_unwind)]
    pub fn from_shared(env: Env, id: String) -> napi::Result<Self> {
        throwing(&env, || Ok(NativeEngine::from_info(share::lookup(&id, "Engine")?)))
    }

    #[napi(catch_unwind)]
    pub fn share(&self) -> String {
        share::share(&self.info, "Engine")
    }

    /// Compile wasm (or WAT) to the bytes that `Module.deserialize` loads, without a Module.
    #[napi(catch_unwind)]
    pub fn precompile_module(&self, env: Env, source: Unknown) -> napi::Result<Buffer> {
        throwing(&env, || {
            let bytes = args::wasm_bytes(&env, &source)?;
            Ok(self.engine().precompile_module(&bytes).map_err(Fail::from_compile)?.into())
        })
    }

    /// Compile a component (binary or text) to the bytes that `Component.deserialize` loads.
    #[napi(catch_unwind)]
    pub fn precompile_component(&self, env: Env, source: Unknown) -> napi::Result<Buffer> {
        throwing(&env, || {
            let bytes = args::wasm_bytes(&env, &source)?;
            Ok(self.engine().precompile_component(&bytes).map_err(Fail::from_compile)?.into())
        })
    }

    /// What precompiled bytes hold: `"module"`, `"component"`, or `null` when they are not
    /// wasmtime's precompiled code.
    #[napi(catch_unwind)]
    pub fn precompiled_kind(env: Env, bytes: Unknown) -> napi::Result<Option<String>> {
        throwing(&env, || {
            let b = args::bytes(&env, &bytes)?.ok_or_else(|| Fail::type_error("expected an ArrayBuffer or a typed array"))?;
            Ok(wasmtime::Engine::detect_precompiled(b).map(|p| match p {
                wasmtime::Precompiled::Module => "module".to_string(),
                wasmtime::Precompiled::Component => "component".to_string(),
            }))
        })
    }

    #[napi(catch_unwind)]
    pub fn increment_epoch(&self) {
        self.engine().increment_epoch();
    }

    #[napi(getter, catch_unwind)]
    pub fn epoch_interruption(&self) -> bool {
        self.info.value.epoch_interruption
    }

    /// Whether two handles are the same native engine (also across workers).
    #[napi(catch_unwind)]
    pub fn same(&self, other: &NativeEngine) -> bool {
        Engine::same(self.engine(), other.engine())
    }
}
