//! `SharedMemory`: a linear memory of the threads proposal, shareable across threads
//! (wasmtime's `SharedMemory` is Send + Sync): any worker's stores of the same engine import it,
//! and wasm and JS in every worker see the same bytes, growth included.

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
use crate::base::share::{self, Shareable};
use crate::base::types;

/// What a share token names: the memory and its engine.
pub struct SharedMemoryInfo {
    memory: SharedMemory,
    engine: Arc<Shareable<EngineInfo>>,
}

#[napi]
pub struct NativeSharedMemory {
    pub(crate) memory: SharedMemory,
    cell: Arc<Shareable<SharedMemoryInfo>>,
}

impl NativeSharedMemory {
    pub fn new(memory: SharedMemory, engine: Arc<Shareable<EngineInfo>>) -> Self {
        NativeSharedMemory { cell: Shareable::new(SharedMemoryInfo { memory: memory.clone(), engine }), memory }
    }

    pub fn engine_info(&self) -> &Arc<Shareable<EngineInfo>> {
        &self.cell.value.engine
    }

    /// The bytes `[offset, offset + length)`, checked against the current size.
    fn range(&self, offset: f64, length: f64) -> Res<&[AtomicU8]> {
        let (off, len) = (index_arg(offset, "offset")?, index_arg(length, "length")?);
        let data = self.memory.data();
        if off.checked_add(len).is_none_or(|end| end > data.len() as u64) {
            return Err(Fail::range(format!("range [{off}, {off}+{len}) is outside the memory's {} bytes", data.len())));
        }
        let cells = &data[off as usize..(off + len) as usize];
        // SAFETY: `UnsafeCell<u8>` and `AtomicU8` have the same size and alignment; other threads
        // (wasm included) access these bytes concurrently, so they are only touched atomically.
        Ok(unsafe { &*(cells as *const [std::cell::UnsafeCell<u8>] as *const [AtomicU8]) })
    }

    /// The byte address `addr` for a wait or notify: in bounds and aligned to `size` bytes.
    fn address(&self, addr: f64, size: u64) -> Res<u64> {
        let a = index_arg(addr, "address")?;
        if a % size != 0 {
            return Err(Fail::range(format!("address {a} is not aligned to {size} bytes")));
        }
        if a + size > self.memory.data_size() as u64 {
            return Err(Fail::range(format!("address {a} is outside the memory's {} bytes", self.memory.data_size())));
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
            Ok(NativeSharedMemory::new(memory, info.clone()))
        })
    }

    /// A handle to the memory named by a token from `share()` (any thread).
    #[napi(factory, catch_unwind)]
    pub fn from_shared(env: Env, id: String) -> napi::Result<Self> {
        throwing(&env, || {
            let cell: Arc<Shareable<SharedMemoryInfo>> = share::lookup(&id, "SharedMemory")?;
            Ok(NativeSharedMemory { memory: cell.value.memory.clone(), cell })
        })
    }

    #[napi(catch_unwind)]
    pub fn share(&self) -> String {
        share::share(&self.cell, "SharedMemory")
    }

    /// The engine the memory belongs to.
    #[napi(catch_unwind)]
    pub fn engine(&self) -> NativeEngine {
        NativeEngine::from_info(self.engine_info().clone())
    }

    /// `{"minimum", "maximum", "shared": true}`, as a module's memory type.
    #[napi(catch_unwind)]
    pub fn type_json(&self) -> String {
        let mut out = String::new();
        types::extern_type_json(&mut out, &wasmtime::ExternType::Memory(self.memory.ty()));
        out
    }

    /// Size in pages (64 KiB).
    #[napi(catch_unwind)]
    pub fn size(&self) -> f64 {
        self.memory.size() as f64
    }

    /// Grow by `delta` pages (seen by every thread at once); returns the previous size.
    #[napi(catch_unwind)]
    pub fn grow(&self, env: Env, delta: f64) -> napi::Result<f64> {
        throwing(&env, || {
            let delta = index_arg(delta, "delta")?;
            self.memory
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
            let cells = self.range(offset, length)?;
            let copy: Vec<u8> = cells.iter().map(|c| c.load(Ordering::Relaxed)).collect();
            Uint8ArraySlice::copy_from(env, &copy).map_err(|_| Fail::Pending)
        })
    }

    /// Copy `bytes` to `offset` (each byte stored atomically).
    #[napi(catch_unwind)]
    pub fn write(&self, env: Env, offset: f64, bytes: Unknown) -> napi::Result<()> {
        throwing(&env, || {
            let src = args::bytes(&env, &bytes)?.ok_or_else(|| Fail::type_error("expected an ArrayBuffer or an ArrayBufferView"))?;
            let cells = self.range(offset, src.len() as f64)?;
            cells.iter().zip(src).for_each(|(c, b)| c.store(*b, Ordering::Relaxed));
            Ok(())
        })
    }

    /// `memory.atomic.notify`: wake up to `count` waiters at `addr`; returns how many woke.
    #[napi(catch_unwind)]
    pub fn notify(&self, env: Env, addr: f64, count: f64) -> napi::Result<u32> {
        throwing(&env, || {
            let a = self.address(addr, 4)?;
            let count = if count == f64::INFINITY { u32::MAX } else { index_arg(count, "count")?.min(u32::MAX as u64) as u32 };
            self.memory.atomic_notify(a, count).map_err(|t| Fail::range(format!("notify: {t}")))
        })
    }

    /// `memory.atomic.wait32`: block this thread while the i32 at `addr` is `expected`, until
    /// notified or `timeout_ms` passed: `'ok'`, `'not-equal'` or `'timed-out'`.
    #[napi(catch_unwind)]
    pub fn wait32(&self, env: Env, addr: f64, expected: i32, timeout_ms: Option<f64>) -> napi::Result<&'static str> {
        throwing(&env, || {
            let a = self.address(addr, 4)?;
            let t = timeout(timeout_ms)?;
            self.memory.atomic_wait32(a, expected as u32, t).map(wait_result).map_err(|t| Fail::range(format!("wait32: {t}")))
        })
    }

    /// `memory.atomic.wait64`, as `wait32` for the i64 at `addr`.
    #[napi(catch_unwind)]
    pub fn wait64(&self, env: Env, addr: f64, expected: BigInt, timeout_ms: Option<f64>) -> napi::Result<&'static str> {
        throwing(&env, || {
            let a = self.address(addr, 8)?;
            // lib/ passes BigInt.asIntN(64, expected): always an i64.
            let (value, lossless) = expected.get_i64();
            if !lossless {
                return Err(Fail::range("expected must be an i64 BigInt"));
            }
            let bits = value as u64;
            let t = timeout(timeout_ms)?;
            self.memory.atomic_wait64(a, bits, t).map(wait_result).map_err(|t| Fail::range(format!("wait64: {t}")))
        })
    }
}
