//! Execution control of a store: limits (a `ResourceLimiter`), epoch-based deadlines and
//! interrupts (driven by the engine's ticker, base/engine.rs), and fuel.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use wasmtime::{ResourceLimiter, Store, StoreContextMut, UpdateDeadline};

use crate::base::engine::{EngineInfo, TickerUse, use_ticker};
use crate::base::error::{Fail, Res};
use crate::base::raw;
use crate::base::share::Shareable;
use crate::store::core::{Host, StoreCore};
use crate::store::profiling;

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
    /// `setFuel` was called (an out-of-fuel trap then needs no hint).
    pub fuel_given: bool,
    /// The running sync call is in a worker thread: epoch ticks look, now and then, whether the
    /// worker is being terminated (see `begin_call`).
    pub watch_exit: bool,
    /// Epoch ticks seen by the running call (the exit probe runs every `EXIT_PROBE_TICKS`).
    pub ticks_seen: u32,
}

/// How often, in epoch ticks (1 ms), a sync call in a worker looks whether the worker is being
/// terminated: a termination then takes effect within about this many milliseconds.
const EXIT_PROBE_TICKS: u32 = 16;

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
/// and `setEpochDeadline` ticks (after a profile's sample, if one runs); a pooled guest then
/// yields (time-slicing). Nothing else happens per tick, so idle ticks are cheap.
pub fn watch_epochs(store: &mut Store<Host>) {
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|mut cx| {
        profiling::tick(&mut cx);
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
        if h.control.watch_exit && !h.is_async && h.entry.route.is_none() && !h.entry.env.is_null() {
            h.control.ticks_seen = h.control.ticks_seen.wrapping_add(1);
            // SAFETY: a sync call of a store that is not async runs on its JS thread's own stack,
            // inside the N-API callback that entered wasm, whose env `entry.env` is.
            if h.control.ticks_seen % EXIT_PROBE_TICKS == 0 && unsafe { raw::env_stopping(h.entry.env) } {
                return Ok(UpdateDeadline::Interrupt);
            }
        }
        // A pooled call of an async store lets the pool's other guests run for a tick.
        if h.is_async && h.entry.route.is_some() {
            return Ok(UpdateDeadline::Yield(1));
        }
        Ok(UpdateDeadline::Continue(1))
    });
}

/// At the start of an outermost call: arm its deadline (and the ticker) if it has a timeout;
/// a profiled store's call holds the ticker too (its samples are taken on ticks).
///
/// A sync call in a worker thread holds the ticker too, to notice `worker.terminate()`: the
/// terminating thread interrupts the worker's stores itself only if it loaded this package
/// (lib/interrupt.ts); otherwise nothing else could stop a guest that never returns, and the
/// termination (or `process.exit()`) would wait for it forever. The main thread pays nothing.
pub fn begin_call(cx: &mut StoreContextMut<'_, Host>, info: &Arc<Shareable<EngineInfo>>, in_worker: bool) -> Option<TickerUse> {
    let epochs = info.value.epoch_interruption;
    let profiling = cx.data().profiling.is_active();
    if cx.data().control.ticks_left.is_some() && epochs {
        cx.set_epoch_deadline(1); // ticks count from this call, not from a stale deadline
    }
    let c = &mut cx.data_mut().control;
    let timeout = c.next_timeout.take().or(c.default_timeout);
    c.deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    c.watch_exit = in_worker && epochs;
    c.ticks_seen = 0;
    if !epochs || (timeout.is_none() && !c.watch_exit && !profiling) {
        return None;
    }
    Some(use_ticker(info))
}

impl Control {
    /// Whether an outermost call needs none of `begin_call`'s work: no timeout and no tick
    /// deadline (a worker's exit watch is the caller's to rule out).
    #[inline]
    pub fn is_plain(&self) -> bool {
        self.default_timeout.is_none() && self.next_timeout.is_none() && self.ticks_left.is_none()
    }

    /// `begin_call` for a plain call (`is_plain`): no deadline, nothing watched.
    #[inline]
    pub fn begin_plain(&mut self) {
        self.deadline = None;
        self.watch_exit = false;
        self.ticks_seen = 0;
    }
}

fn fuel_error(e: wasmtime::Error) -> Fail {
    Fail::with("WasmtimeError", "ERR_FUEL_UNAVAILABLE", format!("{e:#} (create the engine with consumeFuel: true)"))
}

fn no_epochs(what: &str) -> Fail {
    Fail::with("WasmtimeError", "ERR_INTERRUPT_UNAVAILABLE", format!("{what} need an engine with epochInterruption (the default)"))
}

/// The caps of `StoreLimits` (each `None`: no cap).
pub struct Limits {
    pub memory_size: Option<u64>,
    pub table_elements: Option<u64>,
    pub instances: Option<usize>,
    pub tables: Option<usize>,
    pub memories: Option<usize>,
}

/// The execution-control operations of a store (`lib/` `Store` methods).
impl StoreCore {
    pub fn set_fuel(&self, fuel: u64) -> Res<()> {
        let mut cx = self.cx()?;
        cx.set_fuel(fuel).map_err(fuel_error)?;
        cx.data_mut().control.fuel_given = true;
        self.fuel_given();
        Ok(())
    }

    pub fn get_fuel(&self) -> Res<u64> {
        self.cx()?.get_fuel().map_err(fuel_error)
    }

    /// Timeout of every outermost call (`None`: none); `once` applies it to the next call only.
    pub fn set_timeout(&self, t: Option<Duration>, once: bool) -> Res<()> {
        if t.is_some() && !self.engine_info.value.epoch_interruption {
            return Err(no_epochs("timeouts"));
        }
        let mut cx = self.cx()?;
        let c = &mut cx.data_mut().control;
        if once {
            c.next_timeout = t
        } else {
            c.default_timeout = t
        }
        Ok(())
    }

    /// Trap after `ticks` more epoch increments (`engine.incrementEpoch()` or the ticker).
    pub fn set_epoch_deadline(&self, ticks: u64) -> Res<()> {
        if !self.engine_info.value.epoch_interruption {
            return Err(no_epochs("epoch deadlines"));
        }
        let mut cx = self.cx()?;
        cx.data_mut().control.ticks_left = Some(ticks.max(1));
        // Count from now: the stored deadline may be stale if the epoch moved while we were idle.
        cx.set_epoch_deadline(1);
        Ok(())
    }

    /// `fuelYieldInterval`: a pooled guest yields to the others every `n` units of fuel.
    pub fn set_fuel_yield_interval(&self, n: u64) -> Res<()> {
        let mut cx = self.cx()?;
        if !cx.data().is_async {
            return Err(Fail::invalid_value("fuelYieldInterval needs a store created with async: true"));
        }
        if n == 0 {
            return Err(Fail::range("fuelYieldInterval must be at least 1"));
        }
        cx.fuel_async_yield_interval(Some(n)).map_err(fuel_error)
    }

    pub fn set_limits(&self, l: Limits) -> Res<()> {
        let mut cx = self.cx()?;
        let c = &mut cx.data_mut().control;
        (c.memory_size, c.table_elements, c.instances, c.tables, c.memories) =
            (l.memory_size, l.table_elements, l.instances, l.tables, l.memories);
        // wasmtime reads the instance/table/memory counts when the limiter is installed.
        self.reinstall_limiter()
    }
}
