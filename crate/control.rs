//! Execution control: store limits (a `ResourceLimiter`), epoch-based deadlines and interrupts,
//! the per-engine ticker that drives deadlines, and fuel.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wasmtime::{ResourceLimiter, Store, StoreContextMut, UpdateDeadline};

use crate::engine::EngineInfo;
use crate::error::{Fail, Res};
use crate::share::Shareable;
use crate::store::{Host, NativeStore};

/// Period of the deadline ticker: the resolution of `timeoutMs`.
pub const TICK: Duration = Duration::from_millis(1);

/// `StoreLimits` of the public API, plus the call deadline state.
#[derive(Default)]
pub struct Control {
    /// Maximum bytes of one linear memory.
    pub memory_size: Option<u64>,
    pub table_elements: Option<u64>,
    pub instances: Option<usize>,
    pub tables: Option<usize>,
    pub memories: Option<usize>,
    /// Timeout applied to each outermost call (`store.setTimeout`), and one for the next call only.
    pub default_timeout: Option<Duration>,
    pub next_timeout: Option<Duration>,
    /// When the running call must stop.
    pub deadline: Option<Instant>,
    /// `setEpochDeadline(ticks)`: epoch ticks left before the running wasm traps.
    pub ticks_left: Option<u64>,
}

impl ResourceLimiter for Host {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if self.control.memory_size.is_some_and(|max| desired as u64 > max) {
            return Ok(false); // the guest's memory.grow returns -1; a host grow reports a failure
        }
        if current == 0 {
            self.memory_count += 1;
        } else {
            self.grow_count += 1;
        }
        self.memory_bytes += desired.saturating_sub(current) as u64;
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(self.control.table_elements.is_none_or(|max| desired as u64 <= max))
    }

    fn instances(&self) -> usize {
        self.control.instances.unwrap_or(10_000)
    }

    fn tables(&self) -> usize {
        self.control.tables.unwrap_or(10_000)
    }

    fn memories(&self) -> usize {
        self.control.memories.unwrap_or(10_000)
    }
}

/// Make every epoch tick check, in the running store: an interrupt request, the call's deadline,
/// and `setEpochDeadline` ticks. Nothing else happens per tick, so idle ticks are cheap.
pub fn watch_epochs(store: &mut Store<Host>) {
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|mut cx| {
        let h = cx.data_mut();
        if h.interrupt.swap(false, Ordering::SeqCst) || h.control.deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(UpdateDeadline::Interrupt);
        }
        if let Some(t) = h.control.ticks_left.as_mut() {
            *t = t.saturating_sub(1);
            if *t == 0 {
                h.control.ticks_left = None;
                return Ok(UpdateDeadline::Interrupt);
            }
        }
        Ok(UpdateDeadline::Continue(1))
    });
}

/// One engine's ticker: a thread that advances the epoch every `TICK` while any call with a
/// deadline runs, and exits when none does.
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

fn use_ticker(info: &Arc<Shareable<EngineInfo>>) -> TickerUse {
    let mut st = info.value.ticker.state.lock().unwrap_or_else(|e| e.into_inner());
    st.0 += 1;
    if !st.1 {
        st.1 = true;
        let weak: Weak<Shareable<EngineInfo>> = Arc::downgrade(info);
        std::thread::Builder::new()
            .name("wasmtime-node-ticker".into())
            .spawn(move || {
                let _live = crate::live::Live::new(crate::live::Kind::Thread);
                tick_loop(weak)
            })
            .map_err(|_| st.1 = false)
            .ok();
    }
    TickerUse(info.clone())
}

fn tick_loop(info: Weak<Shareable<EngineInfo>>) {
    loop {
        std::thread::sleep(TICK);
        let Some(info) = info.upgrade() else { return };
        {
            let mut st = info.value.ticker.state.lock().unwrap_or_else(|e| e.into_inner());
            if st.0 == 0 {
                st.1 = false;
                return;
            }
        }
        info.value.engine.increment_epoch();
    }
}

/// At the start of an outermost call: arm its deadline (and the ticker) if it has a timeout.
pub fn begin_call(cx: &mut StoreContextMut<'_, Host>, info: &Arc<Shareable<EngineInfo>>) -> Option<TickerUse> {
    if cx.data().control.ticks_left.is_some() && info.value.epoch_interruption {
        cx.set_epoch_deadline(1); // ticks count from this call, not from a stale deadline
    }
    let c = &mut cx.data_mut().control;
    let timeout = c.next_timeout.take().or(c.default_timeout);
    c.deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    if timeout.is_none() || !info.value.epoch_interruption {
        return None;
    }
    Some(use_ticker(info))
}

fn fuel_error(e: wasmtime::Error) -> Fail {
    Fail::with("WasmtimeError", "ERR_FUEL_UNAVAILABLE", format!("{e:#} (create the engine with consumeFuel: true)"))
}

/// A non-negative integer from JS (number or BigInt) as u64.
fn u64_arg(v: Either<f64, BigInt>, what: &str) -> Res<u64> {
    match v {
        Either::A(x) if x.fract() == 0.0 && (0.0..=9007199254740991.0).contains(&x) => Ok(x as u64),
        Either::B(b) => match b.get_u64() {
            (false, v, true) => Ok(v),
            _ => Err(Fail::range(format!("{what} must be an integer in [0, 2^64)"))),
        },
        Either::A(x) => Err(Fail::range(format!("{what} must be a non-negative integer, got {x}"))),
    }
}

#[napi(catch_unwind)]
pub fn store_set_fuel(store: &NativeStore, fuel: Either<f64, BigInt>) -> napi::Result<()> {
    let fuel = u64_arg(fuel, "fuel")?;
    store.core.cx()?.set_fuel(fuel).map_err(fuel_error)?;
    Ok(())
}

/// Fuel left, as a decimal string (it may exceed 2^53).
#[napi(catch_unwind)]
pub fn store_get_fuel(store: &NativeStore) -> napi::Result<String> {
    Ok(store.core.cx()?.get_fuel().map_err(fuel_error)?.to_string())
}

const MAX_TIMEOUT_MS: f64 = 2147483647.0;

/// Timeout of every outermost call (`ms` null: none); `once` applies it to the next call only.
#[napi(catch_unwind)]
pub fn store_set_timeout(store: &NativeStore, ms: Option<f64>, once: bool) -> napi::Result<()> {
    let t = match ms {
        None => None,
        // The bound of Node's own timers (about 24.8 days); beyond it a deadline could overflow.
        Some(ms) if (0.0..=MAX_TIMEOUT_MS).contains(&ms) => Some(Duration::from_secs_f64(ms / 1000.0)),
        Some(ms) => return Err(Fail::range(format!("timeoutMs must be a number of milliseconds in [0, {MAX_TIMEOUT_MS}], got {ms}")).into()),
    };
    if t.is_some() && !store.core.engine_info.value.epoch_interruption {
        return Err(Fail::with("WasmtimeError", "ERR_INTERRUPT_UNAVAILABLE", "timeouts need an engine with epochInterruption (the default)").into());
    }
    let mut cx = store.core.cx()?;
    let c = &mut cx.data_mut().control;
    if once { c.next_timeout = t } else { c.default_timeout = t }
    Ok(())
}

/// Trap after `ticks` more epoch increments (`engine.incrementEpoch()` or the ticker).
#[napi(catch_unwind)]
pub fn store_set_epoch_deadline(store: &NativeStore, ticks: f64) -> napi::Result<()> {
    let ticks = u64_arg(Either::A(ticks), "ticks")?;
    if !store.core.engine_info.value.epoch_interruption {
        return Err(Fail::with("WasmtimeError", "ERR_INTERRUPT_UNAVAILABLE", "epoch deadlines need an engine with epochInterruption (the default)").into());
    }
    let mut cx = store.core.cx()?;
    cx.data_mut().control.ticks_left = Some(ticks.max(1));
    // Count from now: the stored deadline may be stale if the epoch moved while we were idle.
    cx.set_epoch_deadline(1);
    Ok(())
}

#[napi(object)]
pub struct StoreLimits {
    pub memory_size: Option<f64>,
    pub table_elements: Option<f64>,
    pub instances: Option<f64>,
    pub tables: Option<f64>,
    pub memories: Option<f64>,
}

#[napi(catch_unwind)]
pub fn store_set_limits(store: &NativeStore, limits: StoreLimits) -> napi::Result<()> {
    let n = |v: Option<f64>, what: &str| v.map(|x| u64_arg(Either::A(x), what)).transpose();
    let memory_size = n(limits.memory_size, "memorySize")?;
    let table_elements = n(limits.table_elements, "tableElements")?;
    let instances = n(limits.instances, "instances")?.map(|x| x as usize);
    let tables = n(limits.tables, "tables")?.map(|x| x as usize);
    let memories = n(limits.memories, "memories")?.map(|x| x as usize);
    let mut cx = store.core.cx()?;
    let c = &mut cx.data_mut().control;
    (c.memory_size, c.table_elements, c.instances, c.tables, c.memories) = (memory_size, table_elements, instances, tables, memories);
    // wasmtime reads the instance/table/memory counts when the limiter is installed.
    store.core.reinstall_limiter()?;
    Ok(())
}
