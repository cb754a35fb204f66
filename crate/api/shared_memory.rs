//! `SharedMemory`: a linear memory of the threads proposal, shareable across threads
//! (wasmtime's `SharedMemory` is Send + Sync): any worker's stores of the same engine import it,
//! and wasm and JS in every worker see the same bytes, growth included.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wasmtime::{MemoryType, SharedMemory, WaitResult};

use crate::api::engine::NativeEngine;
use crate::base::args::{self, index_arg};
use crate::base::engine::EngineInfo;
use crate::base::error::{Fail, Res, throwing};
use crate::base::raw;
use crate::base::share::{self, Shareable};
use crate::base::types;
use crate::store::reclaim::{self, Reclaim};

/// What a share token names: the memory and its engine.
pub struct SharedMemoryInfo {
    memory: SharedMemory,
    engine: Arc<Shareable<EngineInfo>>,
}

/// This thread's handle on a shared memory. Released as soon as V8 has collected its JS object
/// (store/reclaim.rs), not only when its finalizer runs: each memory reserves gigabytes of
/// address space, which a synchronous loop would otherwise exhaust.
struct Held {
    env: raw::Env,
    cell: RefCell<Option<Arc<Shareable<SharedMemoryInfo>>>>,
}

/// V8 external memory reported per handle: makes V8 collect dropped handles early enough.
const HANDLE_WEIGHT: i64 = 1024 * 1024;

impl Held {
    fn new(env: raw::Env, cell: Arc<Shareable<SharedMemoryInfo>>) -> Rc<Held> {
        let mut out = 0;
        // SAFETY: plain accounting call on this thread's env.
        unsafe { napi::sys::napi_adjust_external_memory(env, HANDLE_WEIGHT, &mut out) };
        Rc::new(Held { env, cell: RefCell::new(Some(cell)) })
    }
}

impl Reclaim for Held {
    fn reclaim(&self) {
        if self.cell.borrow_mut().take().is_some() {
            let mut out = 0;
            // SAFETY: plain accounting call on this thread's env (`Held` never leaves it).
            unsafe { napi::sys::napi_adjust_external_memory(self.env, -HANDLE_WEIGHT, &mut out) };
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.reclaim();
    }
}

#[napi]
pub struct NativeSharedMemory {
    held: Rc<Held>,
}

impl NativeSharedMemory {
    pub fn new(env: raw::Env, memory: SharedMemory, engine: Arc<Shareable<EngineInfo>>) -> Self {
        NativeSharedMemory::held(env, Shareable::new(SharedMemoryInfo { memory, engine }))
    }

    fn held(env: raw::Env, cell: Arc<Shareable<SharedMemoryInfo>>) -> Self {
        NativeSharedMemory { held: Held::new(env, cell) }
    }

    /// What this handle holds (gone only once its JS object was collected: unreachable then).
    fn cell(&self) -> Res<Arc<Shareable<SharedMemoryInfo>>> {
        self.held.cell.borrow().clone().ok_or_else(|| Fail::internal("this shared memory handle was released"))
    }

    pub fn memory(&self) -> Res<SharedMemory> {
        Ok(self.cell()?.value.memory.clone())
    }

    pub fn engine_info(&self) -> Res<Arc<Shareable<EngineInfo>>> {
        Ok(self.cell()?.value.engine.clone())
    }

    /// Run `f` on the bytes `[offset, offset + length)`, checked against the current size.
    fn with_range<R>(&self, offset: f64, length: f64, f: impl FnOnce(&[AtomicU8]) -> R) -> Res<R> {
        let (off, len) = (index_arg(offset, "offset")?, index_arg(length, "length")?);
        let memory = self.memory()?;
        let data = memory.data();
        if off.checked_add(len).is_none_or(|end| end > data.len() as u64) {
            return Err(Fail::range(format!("range [{off}, {off}+{len}) is outside the memory's {} bytes", data.len())));
        }
        let cells = &data[off as usize..(off + len) as usize];
        // SAFETY: `UnsafeCell<u8>` and `AtomicU8` have the same size and alignment; other threads
        // (wasm included) access these bytes concurrently, so they are only touched atomically.
        Ok(f(unsafe { &*(cells as *const [std::cell::UnsafeCell<u8>] as *const [AtomicU8]) }))
    }

    /// The byte address `addr` for a wait or notify: in bounds and aligned to `size` bytes.
    fn address(&self, memory: &SharedMemory, addr: f64, size: u64) -> Res<u64> {
        let a = index_arg(addr, "address")?;
        if a % size != 0 {
            return Err(Fail::range(format!("address {a} is not aligned to {size} bytes")));
        }
        if a + size > memory.data_size() as u64 {
            return Err(Fail::range(format!("address {a} is outside the memory's {} bytes", memory.data_size())));
        }
        Ok(a)
    }
}

fn wait_result(r: WaitResult) -> &'static str {
    match r {
        WaitResult::Ok => "ok",
        WaitResult::Mismatch => "not-equal",
        WaitResult::TimedOut => "timed-out",
    }
}

fn timeout(ms: Option<f64>) -> Res<Option<Duration>> {
    match ms {
        None => Ok(None),
        Some(ms) if ms == f64::INFINITY => Ok(None),
        Some(ms) => args::timeout(Some(ms)),
    }
}

#[napi]
impl NativeSharedMemory {
    /// A new shared memory of `engine` (which needs `sharedMemory: true`), in 64 KiB pages.
    #[napi(constructor, catch_unwind)]
    pub fn new_in(env: Env, engine: &NativeEngine, initial: f64, maximum: f64) -> napi::Result<Self> {
        throwing(&env, || {
            let info = &engine.info;
            if !info.value.shared_memory {
                return Err(Fail::with(
                    "WasmtimeError",
                    "ERR_SHARED_MEMORY_UNAVAILABLE",
                    "shared memories need an engine created with sharedMemory: true",
                ));
            }
            let (min, max) = (index_arg(initial, "initial")?, index_arg(maximum, "maximum")?);
            if min > u32::MAX as u64 || max > u32::MAX as u64 || min > max {
                return Err(Fail::range(format!("expected 0 <= initial <= maximum <= 2^32 - 1 pages, got initial {min}, maximum {max}")));
            }
            let memory = SharedMemory::new(&info.value.engine, MemoryType::shared(min as u32, max as u32))
                .map_err(|e| Fail::with("WasmtimeError", "ERR_RESOURCE_EXHAUSTED", format!("cannot make the shared memory: {e:#}")))?;
            Ok(NativeSharedMemory::new(env.raw(), memory, info.clone()))
        })
    }

    /// A handle to the memory named by a token from `share()` (any thread).
    #[napi(factory, catch_unwind)]
    pub fn from_shared(env: Env, id: String) -> napi::Result<Self> {
        throwing(&env, || Ok(NativeSharedMemory::held(env.raw(), share::lookup(&id, "SharedMemory")?)))
    }

    #[napi(catch_unwind)]
    pub fn share(&self, env: Env) -> napi::Result<String> {
        throwing(&env, || Ok(share::share(&self.cell()?, "SharedMemory")))
    }

    /// Release this handle as soon as V8 has collected `object`, its JS object (store/reclaim.rs).
    #[napi(catch_unwind)]
    pub fn watch(env: Env, object: Unknown) -> napi::Result<()> {
        throwing(&env, || {
            // SAFETY: `object` is a live handle of this callback.
            let m = unsafe { raw::unwrap_class::<NativeSharedMemory>(env.raw(), object.raw()) }
                .ok_or_else(|| Fail::type_error("expected a NativeSharedMemory"))?;
            let target: Rc<dyn Reclaim> = m.held.clone();
            // SAFETY: on this env's thread, inside a callback; `object` is live.
            unsafe { reclaim::watch_object(env.raw(), object.raw(), Rc::downgrade(&target)) };
            Ok(())
        })
    }

    /// The engine the memory belongs to.
    #[napi(catch_unwind)]
    pub fn engine(&self, env: Env) -> napi::Result<NativeEngine> {
        throwing(&env, || Ok(NativeEngine::from_info(self.engine_info()?)))
    }

    /// `{"minimum", "maximum", "shared": true}`, as a module's memory type.
    #[napi(catch_unwind)]
    pub fn type_json(&self, env: Env) -> napi::Result<String> {
        throwing(&env, || {
            let mut out = String::new();
            types::extern_type_json(&mut out, &wasmtime::ExternType::Memory(self.memory()?.ty()));
            Ok(out)
        })
    }

    /// Size in pages (64 KiB).
    #[napi(catch_unwind)]
    pub fn size(&self, env: Env) -> napi::Result<f64> {
        throwing(&env, || Ok(self.memory()?.size() as f64))
    }

    /// Grow by `delta` pages (seen by every thread at once); returns the previous size.
    #[napi(catch_unwind)]
    pub fn grow(&self, env: Env, delta: f64) -> napi::Result<f64> {
        throwing(&env, || {
            let delta = index_arg(delta, "delta")?;
            self.memory()?
                .grow(delta)
                .map(|old| old as f64)
                .map_err(|e| Fail::with("RangeError", "ERR_WASM_GROW", format!("memory.grow({delta}) failed: {e:#}")))
        })
    }

    /// A copy of `length` bytes at `offset` (each byte read atomically: other threads may be
    /// writing).
    #[napi(catch_unwind)]
    pub fn read<'a>(&self, env: &'a Env, offset: f64, length: f64) -> napi::Result<Uint8ArraySlice<'a>> {
        throwing(env, || {
            let copy: Vec<u8> = self.with_range(offset, length, |cells| cells.iter().map(|c| c.load(Ordering::Relaxed)).collect())?;
            Uint8ArraySlice::copy_from(env, &copy).map_err(|_| Fail::Pending)
        })
    }

    /// Copy `bytes` to `offset` (each byte stored atomically).
    #[napi(catch_unwind)]
    pub fn write(&self, env: Env, offset: f64, bytes: Unknown) -> napi::Result<()> {
        throwing(&env, || {
            let src = args::bytes(&env, &bytes)?.ok_or_else(|| Fail::type_error("expected an ArrayBuffer or an ArrayBufferView"))?;
            self.with_range(offset, src.len() as f64, |cells| cells.iter().zip(src).for_each(|(c, b)| c.store(*b, Ordering::Relaxed)))
        })
    }

    /// `memory.atomic.notify`: wake up to `count` waiters at `addr`; returns how many woke.
    #[napi(catch_unwind)]
    pub fn notify(&self, env: Env, addr: f64, count: f64) -> napi::Result<u32> {
        throwing(&env, || {
            let memory = self.memory()?;
            let a = self.address(&memory, addr, 4)?;
            let count = if count == f64::INFINITY { u32::MAX } else { index_arg(count, "count")?.min(u32::MAX as u64) as u32 };
            memory.atomic_notify(a, count).map_err(|t| Fail::range(format!("notify: {t}")))
        })
    }

    /// `memory.atomic.wait32`: block this thread while the i32 at `addr` is `expected`, until
    /// notified or `timeout_ms` passed: `'ok'`, `'not-equal'` or `'timed-out'`.
    #[napi(catch_unwind)]
    pub fn wait32(&self, env: Env, addr: f64, expected: i32, timeout_ms: Option<f64>) -> napi::Result<&'static str> {
        throwing(&env, || {
            let memory = self.memory()?;
            let a = self.address(&memory, addr, 4)?;
            let t = timeout(timeout_ms)?;
            memory.atomic_wait32(a, expected as u32, t).map(wait_result).map_err(|t| Fail::range(format!("wait32: {t}")))
        })
    }

    /// `memory.atomic.wait64`, as `wait32` for the i64 at `addr`.
    #[napi(catch_unwind)]
    pub fn wait64(&self, env: Env, addr: f64, expected: BigInt, timeout_ms: Option<f64>) -> napi::Result<&'static str> {
        throwing(&env, || {
            let memory = self.memory()?;
            let a = self.address(&memory, addr, 8)?;
            // lib/ passes BigInt.asIntN(64, expected): always an i64.
            let (value, lossless) = expected.get_i64();
            if !lossless {
                return Err(Fail::range("expected must be an i64 BigInt"));
            }
            let bits = value as u64;
            let t = timeout(timeout_ms)?;
            memory.atomic_wait64(a, bits, t).map(wait_result).map_err(|t| Fail::range(format!("wait64: {t}")))
        })
    }
}
