//! Guest profiling (wasmtime's `GuestProfiler`): while profiling, a store samples its wasm stack
//! on the engine's epoch ticks (control.rs `watch_epochs`) and marks its calls of JS host
//! functions (`host_call`), as `wasmtime run --profile guest` does. The result is a Firefox
//! "processed profile".
//!
//! Host calls are marked by our own host-function trampolines (call/func.rs, component_func.rs)
//! rather than by wasmtime's call hooks: its `call-hook` feature costs every host call of every
//! store two dynamic calls (≈ 10% of a JS host call, bench/calls.mjs), profiled or not; this
//! costs one branch. WASI's host functions are not marked.

use std::time::{Duration, Instant};

use wasmtime::component::Component;
use wasmtime::{AsContext, AsContextMut, CallHook, GuestProfiler, Module, StoreContextMut};

use crate::base::error::{Fail, Res};
use crate::store::core::{Host, StoreCore};

/// A store's profiling state: the code it instantiated (what a profile can name), and the
/// running profile.
#[derive(Default)]
pub struct Profiling {
    modules: Vec<Module>,
    /// The first component instantiated: its core modules are named too.
    component: Option<Component>,
    active: Option<Box<Active>>,
}

struct Active {
    profiler: GuestProfiler,
    interval: Duration,
    last: Instant,
}

impl Profiling {
    pub fn record_module(&mut self, m: &Module) {
        if !self.modules.iter().any(|x| Module::same(x, m)) {
            self.modules.push(m.clone());
        }
    }

    pub fn record_component(&mut self, c: &Component) {
        self.component.get_or_insert_with(|| c.clone());
    }

    pub fn is_active(&self) -> bool {
        self.active.is_some()
    }
}

/// On an epoch tick of a running call: a sample, if the interval has passed since the last one.
pub fn tick(cx: &mut StoreContextMut<'_, Host>) {
    let Some(mut a) = cx.data_mut().profiling.active.take() else { return };
    let now = Instant::now();
    let since = now.saturating_duration_since(a.last);
    if since >= a.interval {
        a.profiler.sample(&*cx, since);
        a.last = now;
    }
    cx.data_mut().profiling.active = Some(a);
}

/// Run `f`, a call of a JS host function from wasm, marked in the store's profile if it has one.
#[inline]
pub fn host_call<C: AsContextMut<Data = Host>, R>(cx: &mut C, f: impl FnOnce(&mut C) -> R) -> R {
    let marked = begin_host_call(cx);
    let r = f(cx);
    end_host_call(cx, marked);
    r
}

/// The start of a host call: marked if the store is profiled (then `true`).
#[inline]
pub fn begin_host_call(cx: &mut impl AsContextMut<Data = Host>) -> bool {
    let profiled = cx.as_context().data().profiling.is_active();
    if profiled {
        mark(cx, CallHook::CallingHost);
    }
    profiled
}

/// The end of a host call whose start `begin_host_call` marked.
#[inline]
pub fn end_host_call(cx: &mut impl AsContextMut<Data = Host>, marked: bool) {
    if marked {
        mark(cx, CallHook::ReturningFromHost);
    }
}

#[cold]
fn mark(cx: &mut impl AsContextMut<Data = Host>, kind: CallHook) {
    let mut cx = cx.as_context_mut();
    if let Some(mut a) = cx.data_mut().profiling.active.take() {
        a.profiler.call_hook(&cx, kind);
        cx.data_mut().profiling.active = Some(a);
    }
}

impl StoreCore {
    /// Start a profile of this store's calls, sampled every `interval` (rounded up to the
    /// ticker's 1 ms), naming the functions of the code instantiated in the store so far.
    pub fn start_profiling(&self, name: &str, interval: Duration) -> Res<()> {
        if !self.engine_info.value.epoch_interruption {
            return Err(Fail::with(
                "WasmtimeError",
                "ERR_INTERRUPT_UNAVAILABLE",
                "guest profiling needs an engine with epochInterruption (the default): samples are taken on its epoch ticks",
            ));
        }
        let engine = self.engine.clone();
        self.with_idle_store("startProfiling", |store| {
            let p = &store.data().profiling;
            if p.is_active() {
                return Err(Fail::store_state("ERR_PROFILING_ACTIVE", "this store is being profiled already (stopProfiling() first)"));
            }
            let modules = p.modules.iter().map(|m| (m.name().unwrap_or("wasm").to_string(), m.clone()));
            let profiler = match &p.component {
                Some(c) => GuestProfiler::new_component(&engine, name, interval, c.clone(), modules),
                None => GuestProfiler::new(&engine, name, interval, modules),
            }
            .map_err(Fail::from_runtime)?;
            let active = Active { profiler, interval, last: Instant::now() };
            store.data_mut().profiling.active = Some(Box::new(active));
            Ok(())
        })
    }

    /// End the profile: its JSON text (Firefox's processed profile format).
    pub fn stop_profiling(&self) -> Res<Vec<u8>> {
        let mut cx = self.cx()?;
        let Some(a) = cx.as_context_mut().data_mut().profiling.active.take() else {
            return Err(Fail::store_state("ERR_PROFILING_INACTIVE", "this store is not being profiled (startProfiling() first)"));
        };
        let mut out = Vec::new();
        a.profiler.finish(&mut out).map_err(Fail::from_runtime)?;
        Ok(out)
    }
}
