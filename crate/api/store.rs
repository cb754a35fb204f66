//! `Store`: the native half of the JS `Store` — its lifetime, execution control (fuel, timeouts,
//! epoch deadlines, limits, interrupt handles), WASI, instantiation, and transfer between
//! threads. The state itself is `StoreCore` (store/core.rs).

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wasmtime::AsContext;

use crate::api::component_instance::NativeComponentInstance;
use crate::api::engine::NativeEngine;
use crate::api::instance::{NativeInstance, extern_of, extern_value};
use crate::api::interrupt::NativeInterruptHandle;
use crate::api::module::NativeModule;
use crate::base::args::{self, u64_arg};
use crate::base::error::{Fail, OrThrow, Res, throwing};
use crate::base::raw;
use crate::call::component_resources::guest_handle;
use crate::call::executor;
use crate::store::control::Limits;
use crate::store::core::StoreCore;
use crate::store::reclaim;
use crate::store::transfer::{self, Moved};
use crate::store::wasi::{self, WasiConfig};

/// The native half of the JS `Store`.
#[napi]
pub struct NativeStore {
    pub(crate) core: Rc<StoreCore>,
}

/// `StoreLimits` of the public API (checked here; see store/control.rs).
#[napi(object)]
pub struct StoreLimits {
    pub memory_size: Option<f64>,
    pub table_elements: Option<f64>,
    pub instances: Option<f64>,
    pub tables: Option<f64>,
    pub memories: Option<f64>,
}

impl StoreLimits {
    fn checked(self) -> Res<Limits> {
        let n = |v: Option<f64>, what: &str| v.map(|x| args::index_arg(x, what)).transpose();
        Ok(Limits {
            memory_size: n(self.memory_size, "memorySize")?,
            table_elements: n(self.table_elements, "tableElements")?,
            instances: n(self.instances, "instances")?.map(|x| x as usize),
            tables: n(self.tables, "tables")?.map(|x| x as usize),
            memories: n(self.memories, "memories")?.map(|x| x as usize),
        })
    }
}

#[napi]
impl NativeStore {
    /// `is_async`: store option `async` (see `Host::is_async`).
    #[napi(constructor, catch_unwind)]
    pub fn new(env: Env, engine: &NativeEngine, is_async: Option<bool>) -> Self {
        NativeStore { core: StoreCore::new(env.raw(), engine.info.clone(), is_async == Some(true)) }
    }

    /// A new store, made the light way (see `raw::light_instance`): one is made per request.
    #[napi(catch_unwind, ts_return_type = "NativeStore")]
    pub fn create<'a>(env: &'a Env, engine: &NativeEngine, is_async: Option<bool>) -> napi::Result<Unknown<'a>> {
        throwing(env, || {
            let store = NativeStore { core: StoreCore::new(env.raw(), engine.info.clone(), is_async == Some(true)) };
            // SAFETY: on the JS thread of `env`, inside a callback; the value is created in its scope.
            unsafe {
                let v = raw::light_instance(env.raw(), "NativeStore\0", store)?;
                Ok(Unknown::from_raw_unchecked(env.raw(), v))
            }
        })
    }

    /// Release `store`'s wasm state as soon as V8 has collected this object (see store/reclaim.rs).
    #[napi(catch_unwind)]
    pub fn watch(env: Env, store: Unknown) -> napi::Result<()> {
        throwing(&env, || {
            // SAFETY: `store` is a live handle of this callback.
            let s = unsafe { raw::unwrap_class::<NativeStore>(env.raw(), store.raw()) }
                .ok_or_else(|| Fail::type_error("expected a NativeStore"))?;
            // SAFETY: on this env's thread, inside a callback.
            unsafe { reclaim::watch(env.raw(), store.raw(), &s.core) };
            Ok(())
        })
    }

    /// Whether this store was created with `async: true`.
    #[napi(getter, catch_unwind)]
    pub fn is_async(&self, env: Env) -> napi::Result<bool> {
        throwing(&env, || Ok(self.core.cx()?.data().is_async))
    }

    /// Whether the store's engine is the process-wide default one (lib/ then needs no wrapper).
    #[napi(catch_unwind)]
    pub fn has_default_engine(&self) -> bool {
        crate::base::engine::default_engine().is_ok_and(|d| Arc::ptr_eq(&d, &self.core.engine_info))
    }

    /// The store's engine, made the light way (`raw::light_instance`): one per received store.
    #[napi(catch_unwind, ts_return_type = "NativeEngine")]
    pub fn engine<'a>(&self, env: &'a Env) -> napi::Result<Unknown<'a>> {
        throwing(env, || {
            // SAFETY: on the JS thread of `env`, inside a callback; the value is created in its scope.
            unsafe {
                let v = raw::light_instance(env.raw(), "NativeEngine\0", NativeEngine::from_info(self.core.engine_info.clone()))?;
                Ok(Unknown::from_raw_unchecked(env.raw(), v))
            }
        })
    }

    /// `[Symbol.dispose]()` of a component's resource object: drop its handle now (the guest's
    /// destructor runs). Later uses of the object throw `ERR_RESOURCE_DROPPED`.
    #[napi(catch_unwind)]
    pub fn drop_resource(&self, env: Env, fns: Unknown, resource: Unknown) -> napi::Result<()> {
        throwing(&env, || {
            // SAFETY: `resource` is a live handle of this callback, on the JS thread.
            let handle = unsafe { guest_handle(env.raw(), resource.raw()) }.ok_or_else(|| {
                Fail::with("TypeError", "ERR_INVALID_THIS", "[Symbol.dispose] called on an object that is not a component resource")
            })?;
            handle.drop_now(fns.raw())
        })
    }

    /// Free all wasm state now; every wrapper then throws `StoreClosed`.
    #[napi(catch_unwind)]
    pub fn dispose(&self, env: Env) -> napi::Result<()> {
        throwing(&env, || self.core.dispose())
    }

    /// Host calls of this store running now: a host function with caller context records it, to
    /// name its own call in `caller_export` (lib/caller.ts).
    #[napi(catch_unwind)]
    pub fn caller_depth(&self) -> u32 {
        self.core.caller_depth() as u32
    }

    /// The export `name` of the instance whose wasm made host call `depth - 1` (a `NativeFunc`,
    /// `NativeMemory`, … or null).
    #[napi(catch_unwind)]
    pub fn caller_export(&self, env: Env, depth: u32, name: String) -> napi::Result<Unknown<'_>> {
        throwing(&env, || {
            let ext = (depth as usize).checked_sub(1).map(|d| self.core.caller_export(d, &name)).transpose()?.flatten();
            let v = match ext {
                Some(ext) => extern_value(&env, &self.core, ext, self.core.cx()?)?,
                // SAFETY: on the JS thread of `env`, inside a callback.
                None => unsafe { raw::null(env.raw()) },
            };
            // SAFETY: `v` was created in this callback's scope.
            Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), v) })
        })
    }

    /// Run wasmtime's garbage collector (frees unreachable externrefs).
    #[napi(catch_unwind)]
    pub fn gc(&self, env: Env) -> napi::Result<()> {
        throwing(&env, || self.core.cx()?.gc(None).map_err(Fail::from_runtime))
    }

    /// Externref slots whose references wasmtime has collected, for `lib/` to reuse.
    #[napi(catch_unwind)]
    pub fn take_freed_externs(&self, env: Env) -> napi::Result<Vec<u32>> {
        throwing(&env, || {
            let freed = self.core.cx()?.data().freed_externs.clone();
            Ok(freed.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default())
        })
    }

    /// Instantiate `module` with `externs` (native wrappers, in import order).
    #[napi(catch_unwind, ts_return_type = "NativeInstance")]
    pub fn instantiate(&self, env: Env, module: &NativeModule, externs: Vec<Unknown>, fns: Unknown) -> napi::Result<Unknown<'_>> {
        throwing(&env, || {
            let core = &self.core;
            module.check_engine(core.engine(), "the store's")?;
            let instance = core.enter(fns.raw(), |mut cx| {
                let ext = externs.iter().map(|e| extern_of(&env, e, &cx)).collect::<Res<Vec<_>>>()?;
                cx.data_mut().profiling.record_module(&module.module);
                let made = if cx.data().is_async {
                    executor::block_here(wasmtime::Instance::new_async(&mut cx, &module.module, &ext))?
                } else {
                    wasmtime::Instance::new(&mut cx, &module.module, &ext)
                };
                made.map_err(|e| core.wasm_error(e, true))
            })?;
            NativeInstance::new(core.clone(), instance).into_js(env.raw())
        })
    }

    /// A `callAsync` was called: the store is busy from now on until it starts (or gives up).
    #[napi(catch_unwind)]
    pub fn reserve_async(&self, env: Env) -> napi::Result<()> {
        throwing(&env, || self.core.reserve_async())
    }

    /// A reserved `callAsync` gave up before reaching the native call (which releases it itself).
    #[napi(catch_unwind)]
    pub fn release_async(&self) {
        self.core.release_async()
    }

    // --- execution control ------------------------------------------------------------------

    #[napi(catch_unwind)]
    pub fn set_fuel(&self, env: Env, fuel: Either<f64, BigInt>) -> napi::Result<()> {
        throwing(&env, || self.core.set_fuel(u64_arg(fuel, "fuel")?))
    }

    /// Fuel left, as a decimal string (it may exceed 2^53).
    #[napi(catch_unwind)]
    pub fn get_fuel(&self, env: Env) -> napi::Result<String> {
        throwing(&env, || Ok(self.core.get_fuel()?.to_string()))
    }

    /// Timeout of every outermost call (`ms` null: none); `once` applies it to the next call only.
    #[napi(catch_unwind)]
    pub fn set_timeout(&self, env: Env, ms: Option<f64>, once: bool) -> napi::Result<()> {
        throwing(&env, || self.core.set_timeout(args::timeout(ms)?, once))
    }

    /// Start a guest profile of this store's calls (store/profiling.rs).
    #[napi(catch_unwind)]
    pub fn start_profiling(&self, env: Env, name: String, interval_ms: f64) -> napi::Result<()> {
        throwing(&env, || {
            if !(interval_ms.is_finite() && (1.0..=60_000.0).contains(&interval_ms)) {
                return Err(Fail::range(format!("intervalMs must be a number of milliseconds in [1, 60000], got {interval_ms}")));
            }
            self.core.start_profiling(&name, Duration::from_secs_f64(interval_ms / 1000.0))
        })
    }

    /// End the guest profile: its JSON text.
    #[napi(catch_unwind)]
    pub fn stop_profiling(&self, env: Env) -> napi::Result<String> {
        throwing(&env, || {
            String::from_utf8(self.core.stop_profiling()?).map_err(|e| Fail::internal(format!("the profile is not UTF-8: {e}")))
        })
    }

    /// Trap after `ticks` more epoch increments.
    #[napi(catch_unwind)]
    pub fn set_epoch_deadline(&self, env: Env, ticks: f64) -> napi::Result<()> {
        throwing(&env, || self.core.set_epoch_deadline(args::index_arg(ticks, "ticks")?))
    }

    #[napi(catch_unwind)]
    pub fn set_fuel_yield_interval(&self, env: Env, n: Either<f64, BigInt>) -> napi::Result<()> {
        throwing(&env, || self.core.set_fuel_yield_interval(u64_arg(n, "fuelYieldInterval")?))
    }

    #[napi(catch_unwind)]
    pub fn set_limits(&self, env: Env, limits: StoreLimits) -> napi::Result<()> {
        throwing(&env, || self.core.set_limits(limits.checked()?))
    }

    /// A handle on this store's interrupt target; also while a `callAsync` runs.
    #[napi(catch_unwind)]
    pub fn interrupt_handle(&self, env: Env) -> napi::Result<NativeInterruptHandle> {
        throwing(&env, || match self.core.interrupt_target()? {
            Some(target) => Ok(NativeInterruptHandle::new(target)),
            None => Err(Fail::with(
                "WasmtimeError",
                "ERR_INTERRUPT_UNAVAILABLE",
                "this store's engine was created with epochInterruption: false, so it cannot be interrupted",
            )),
        })
    }

    // --- WASI -------------------------------------------------------------------------------

    /// Give this store its WASI context (before anything is instantiated in it).
    #[napi(catch_unwind)]
    pub fn configure_wasi(&self, env: Env, config: WasiConfig, stdin: Option<Unknown>) -> napi::Result<()> {
        throwing(&env, || {
            let bytes = match &stdin {
                Some(v) => args::bytes(&env, v)?,
                None => None,
            };
            let state = wasi::build(&config, bytes)?;
            self.core.cx()?.data_mut().wasi = Some(state);
            Ok(())
        })
    }

    /// The bytes captured from fd 1 or 2 so far (taken: a second call returns only newer bytes).
    #[napi(catch_unwind)]
    pub fn take_wasi_output<'a>(&self, env: &'a Env, fd: u32) -> napi::Result<Uint8ArraySlice<'a>> {
        let bytes = throwing(env, || {
            let cx = self.core.cx()?;
            Ok(match (&cx.data().wasi, fd) {
                (Some(w), 1 | 2) => w.out.take_captured(fd as usize),
                _ => Vec::new(),
            })
        })?;
        Uint8ArraySlice::copy_from(env, bytes)
    }

    // --- transfer between threads -----------------------------------------------------------

    /// Detach the store from this thread and park it with `objects` (its wrappers, sent along);
    /// returns the token id.
    #[napi(catch_unwind)]
    pub fn transfer(&self, env: Env, objects: Vec<Unknown>) -> napi::Result<String> {
        throwing(&env, || {
            let core = &self.core;
            let moved = objects.iter().map(|o| moved_of(&env, o, core)).collect::<Res<Vec<_>>>()?;
            let store = core.take_for_transfer()?;
            Ok(transfer::park(store, core.engine_info.clone(), moved))
        })
    }

    /// JSON `{fns, resources}` of a parked store: what the receiver must provide (see
    /// `transfer::wants_json`).
    #[napi(catch_unwind)]
    pub fn transfer_wants(env: Env, id: String) -> napi::Result<String> {
        transfer::wants_json(&id).or_throw(&env)
    }

    /// Adopt a parked store in this thread: `[NativeStore, ...wrappers of the objects sent]`;
    /// `objects` is how many objects the token names.
    #[napi(catch_unwind)]
    pub fn receive(env: &Env, id: String, objects: u32) -> napi::Result<Array<'_>> {
        throwing(env, || {
            let parked = transfer::unpark(&id, objects as usize)?;
            let core = StoreCore::adopt(env.raw(), parked.engine, parked.store);
            let pending = |_| Fail::Pending;
            let mut out = env.create_array(parked.objects.len() as u32 + 1).map_err(pending)?;
            // The store and its instances the light way (`raw::light_instance`), as when made.
            // SAFETY: on the JS thread of `env`, inside this callback.
            let store = unsafe { raw::light_instance(env.raw(), "NativeStore\0", NativeStore { core: core.clone() })? };
            // SAFETY: `store` is a handle created in this callback's scope.
            out.set(0, unsafe { Unknown::from_raw_unchecked(env.raw(), store) }).map_err(pending)?;
            for (i, m) in parked.objects.into_iter().enumerate() {
                let v = match m {
                    Moved::Instance(inst) => NativeInstance::new(core.clone(), inst).into_js(env.raw())?.raw(),
                    Moved::Extern(e) => extern_value(env, &core, e, core.cx()?.as_context())?,
                    Moved::Component(parts) => {
                        NativeComponentInstance::received(core.clone(), parts)?.into_instance(env).map_err(pending)?.value
                    }
                };
                // SAFETY: `v` is a handle created in this callback's scope.
                out.set(i as u32 + 1, unsafe { Unknown::from_raw_unchecked(env.raw(), v) }).map_err(pending)?;
            }
            Ok(out)
        })
    }
}

/// The object a native wrapper stands for, checked to belong to `core`.
fn moved_of(env: &Env, v: &Unknown, core: &StoreCore) -> Res<Moved> {
    // SAFETY: `v` is a live handle of the current callback on this thread.
    if let Some(i) = unsafe { raw::unwrap_class::<NativeInstance>(env.raw(), v.raw()) } {
        i.core().same_as(core, "an object of another store was given to transfer()")?;
        return Ok(Moved::Instance(i.instance));
    }
    // SAFETY: as above.
    if let Some(i) = unsafe { raw::unwrap_class::<NativeComponentInstance>(env.raw(), v.raw()) } {
        return i.moved(core);
    }
    let cx = core.cx()?;
    Ok(Moved::Extern(extern_of(env, v, &cx)?))
}
