//! Engines: `EngineOptions` → wasmtime `Config`, the `EngineInfo` every store and module keeps
//! (the engine, the options the binding needs, its epoch ticker, its compile cache), and the
//! process-wide default engine. Shareable (Send + Sync): the same `Arc` serves every worker.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use napi_derive::napi;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig, Strategy};

use crate::base::error::{Fail, Res};
use crate::base::live::{Kind, Live};
use crate::base::share::Shareable;

#[napi(object)]
#[derive(Default, Clone)]
pub struct PoolingOptions {
    pub total_core_instances: Option<u32>,
    pub total_memories: Option<u32>,
    pub total_tables: Option<u32>,
    pub max_memory_size: Option<f64>,
    pub linear_memory_keep_resident: Option<f64>,
    pub table_keep_resident: Option<f64>,
}

/// Mirrors `EngineOptions` in the public `.d.ts`; `lib/engine.ts` checks the types, this layer
/// the names (strategy, optLevel, features) as it maps them onto wasmtime's `Config`.
#[napi(object)]
#[derive(Default, Clone)]
pub struct EngineOptions {
    pub strategy: Option<String>,
    pub opt_level: Option<String>,
    pub consume_fuel: Option<bool>,
    pub epoch_interruption: Option<bool>,
    pub max_wasm_stack: Option<u32>,
    pub features: Option<HashMap<String, bool>>,
    pub pooling: Option<PoolingOptions>,
    pub parallel_compilation: Option<bool>,
    pub debug_info: Option<bool>,
    pub memory_reservation: Option<f64>,
    pub memory_guard_size: Option<f64>,
    /// Directory of the on-disk compile cache (see cache.rs).
    pub cache_directory: Option<String>,
    /// `'perfmap'` or `'jitdump'`: tell `perf` the wasm functions' names.
    pub profiler: Option<String>,
    /// A trap carries a core dump of the store (`trap.coredump`).
    pub coredump_on_trap: Option<bool>,
    pub shared_memory: Option<bool>,
}

fn feature(config: &mut Config, name: &str, on: bool) -> Res<()> {
    match name {
        "simd" => config.wasm_simd(on),
        "relaxedSimd" => config.wasm_relaxed_simd(on),
        "threads" => config.wasm_threads(on),
        "multiMemory" => config.wasm_multi_memory(on),
        "memory64" => config.wasm_memory64(on),
        "tailCall" => config.wasm_tail_call(on),
        "referenceTypes" => config.wasm_reference_types(on),
        "bulkMemory" => config.wasm_bulk_memory(on),
        "multiValue" => config.wasm_multi_value(on),
        "gc" => config.wasm_gc(on),
        "exceptions" => config.wasm_exceptions(on),
        "extendedConst" => config.wasm_extended_const(on),
        "functionReferences" => config.wasm_function_references(on),
        other => return Err(Fail::invalid_value(format!("unknown wasm feature '{other}'"))),
    };
    Ok(())
}

pub fn build_config(o: &EngineOptions) -> Res<Config> {
    let mut c = Config::new();
    match o.strategy.as_deref() {
        None | Some("cranelift") => {
            c.strategy(Strategy::Cranelift);
        }
        // wasmtime's baseline compiler: compiles many times faster, runs slower; proposals it
        // does not implement (GC, function references, tail calls, exceptions, relaxed SIMD)
        // are off unless enabled explicitly (then compiling fails clearly).
        Some("winch") => {
            c.strategy(Strategy::Winch);
        }
        Some(s) => return Err(Fail::invalid_value(format!("strategy must be 'cranelift' or 'winch', got '{s}'"))),
    }
    match o.opt_level.as_deref() {
        None | Some("speed") => c.cranelift_opt_level(OptLevel::Speed),
        Some("none") => c.cranelift_opt_level(OptLevel::None),
        Some("speed_and_size") => c.cranelift_opt_level(OptLevel::SpeedAndSize),
        Some(s) => return Err(Fail::invalid_value(format!("optLevel must be one of none, speed, speed_and_size, got '{s}'"))),
    };
    #[cfg(unix)]
    c.with_host_stack(std::sync::Arc::new(crate::base::stack_pool::Recycling));
    c.consume_fuel(o.consume_fuel.unwrap_or(false));
    // On by default (unlike wasmtime): interrupts and timeouts then work out of the box.
    c.epoch_interruption(o.epoch_interruption.unwrap_or(true));
    if let Some(s) = o.max_wasm_stack {
        c.max_wasm_stack(s as usize);
    }
    for (name, on) in o.features.iter().flatten() {
        feature(&mut c, name, *on)?;
    }
    if let Some(p) = &o.parallel_compilation {
        c.parallel_compilation(*p);
    }
    if let Some(d) = o.debug_info {
        c.debug_info(d);
    }
    if let Some(r) = o.memory_reservation {
        c.memory_reservation(r as u64);
    }
    if let Some(g) = o.memory_guard_size {
        c.memory_guard_size(g as u64);
    }
    match o.profiler.as_deref() {
        None | Some("none") => {}
        Some("perfmap") => {
            c.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        Some("jitdump") => {
            c.profiler(wasmtime::ProfilingStrategy::JitDump);
        }
        Some(s) => return Err(Fail::invalid_value(format!("profiler must be 'perfmap', 'jitdump' or 'none', got '{s}'"))),
    }
    if let Some(d) = o.coredump_on_trap {
        c.coredump_on_trap(d);
    }
    if o.shared_memory == Some(true) {
        // The threads proposal (atomics, shared memories in modules) and `SharedMemory::new`.
        c.wasm_threads(true);
        c.shared_memory(true);
    }
    if let Some(p) = &o.pooling {
        let mut pc = PoolingAllocationConfig::default();
        if let Some(n) = p.total_core_instances {
            pc.total_core_instances(n);
        }
        if let Some(n) = p.total_memories {
            pc.total_memories(n);
        }
        if let Some(n) = p.total_tables {
            pc.total_tables(n);
        }
        if let Some(n) = p.max_memory_size {
            pc.max_memory_size(n as usize);
        }
        if let Some(n) = p.linear_memory_keep_resident {
            pc.linear_memory_keep_resident(n as usize);
        }
        if let Some(n) = p.table_keep_resident {
            pc.table_keep_resident(n as usize);
        }
        c.allocation_strategy(InstanceAllocationStrategy::Pooling(pc));
    }
    Ok(c)
}

/// An engine and the options that the binding needs to know about.
pub struct EngineInfo {
    pub engine: Engine,
    pub epoch_interruption: bool,
    pub ticker: Ticker,
    pub cache_dir: Option<std::path::PathBuf>,
    /// The pooling allocator is on: memories live in preallocated slots.
    pub pooling: bool,
    /// Engine option `sharedMemory`: `SharedMemory` can be made.
    pub shared_memory: bool,
    _live: Live,
}

impl EngineInfo {
    /// Compile `wasm`, through the engine's on-disk cache when it has one.
    pub fn compile(&self, wasm: &[u8]) -> wasmtime::Result<wasmtime::Module> {
        match &self.cache_dir {
            Some(dir) => crate::base::cache::compile(&self.engine, dir, wasm),
            None => wasmtime::Module::from_binary(&self.engine, wasm),
        }
    }

    /// `compile` for a component (a binary; text is converted by the caller).
    pub fn compile_component(&self, wasm: &[u8]) -> wasmtime::Result<wasmtime::component::Component> {
        match &self.cache_dir {
            Some(dir) => crate::base::cache::compile(&self.engine, dir, wasm),
            None => wasmtime::component::Component::from_binary(&self.engine, wasm),
        }
    }
}

pub fn make_engine(o: &EngineOptions) -> Res<Arc<Shareable<EngineInfo>>> {
    let config = build_config(o)?;
    let engine = Engine::new(&config).map_err(|e| Fail::invalid_value(format!("{e:#}")))?;
    let cache_dir = o.cache_directory.as_ref().map(std::path::PathBuf::from);
    Ok(Shareable::new(EngineInfo {
        engine,
        epoch_interruption: o.epoch_interruption.unwrap_or(true),
        ticker: Default::default(),
        cache_dir,
        pooling: o.pooling.is_some(),
        shared_memory: o.shared_memory == Some(true),
        _live: Live::new(Kind::Engine),
    }))
}

/// The process-wide default engine: one native engine shared by every worker thread.
pub fn default_engine() -> Res<Arc<Shareable<EngineInfo>>> {
    static DEFAULT: OnceLock<Result<Arc<Shareable<EngineInfo>>, String>> = OnceLock::new();
    DEFAULT
        .get_or_init(|| make_engine(&EngineOptions::default()).map_err(|_| "could not create the default engine".to_string()))
        .clone()
        .map_err(Fail::wasmtime)
}

/// Period of the deadline ticker: the resolution of `timeoutMs`.
pub const TICK: Duration = Duration::from_millis(1);

/// One engine's ticker: a thread that advances the epoch every `TICK` while any call with a
/// deadline (or a pooled call: time-slicing) runs, and exits `IDLE_TICKS` after the last one.
#[derive(Default)]
pub struct Ticker {
    /// (calls with a deadline running, whether the thread runs)
    state: Mutex<(usize, bool)>,
}

/// Keeps the ticker going for one call; released when the call ends.
pub struct TickerUse(Arc<Shareable<EngineInfo>>);

impl Drop for TickerUse {
    fn drop(&mut self) {
        let mut st = self.0.value.ticker.state.lock().unwrap_or_else(|e| e.into_inner());
        st.0 -= 1;
    }
}

pub fn use_ticker(info: &Arc<Shareable<EngineInfo>>) -> TickerUse {
    let mut st = info.value.ticker.state.lock().unwrap_or_else(|e| e.into_inner());
    st.0 += 1;
    if !st.1 {
        st.1 = true;
        let weak: Weak<Shareable<EngineInfo>> = Arc::downgrade(info);
        std::thread::Builder::new()
            .name("wasmtime-node-ticker".into())
            .spawn(move || {
                let _live = Live::new(Kind::Thread);
                tick_loop(weak)
            })
            .map_err(|_| st.1 = false)
            .ok();
    }
    TickerUse(info.clone())
}

/// Ticks the ticker keeps running without a user before it exits: calls that follow each other
/// (a loop of `callAsync`s, each needing ticks) reuse one thread instead of starting one each.
const IDLE_TICKS: u32 = 50;

fn tick_loop(info: Weak<Shareable<EngineInfo>>) {
    let mut idle = 0;
    loop {
        std::thread::sleep(TICK);
        let Some(info) = info.upgrade() else { return };
        {
            let mut st = info.value.ticker.state.lock().unwrap_or_else(|e| e.into_inner());
            idle = if st.0 == 0 { idle + 1 } else { 0 };
            if idle > IDLE_TICKS {
                st.1 = false;
                return;
            }
        }
        if idle == 0 {
            info.value.engine.increment_epoch();
        }
    }
}
