//! `Memory`: linear memory, with copying `read`/`write` and a zero-copy `buffer` that is detached
//! whenever it could dangle (grow, dispose, transfer).

use std::rc::Rc;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use wasmtime::Memory;

use crate::api::store::NativeStore;
use crate::base::args::{self, index_arg};
use crate::base::error::{Fail, Res, throwing};
use crate::base::types;
use crate::store::core::StoreCore;

#[napi]
pub struct NativeMemory {
    core: Rc<StoreCore>,
    pub(crate) mem: Memory,
}

/// The external ArrayBuffer keeps the store alive (its memory is the buffer's backing store).
unsafe extern "C" fn view_finalize(_env: sys::napi_env, _data: *mut std::ffi::c_void, hint: *mut std::ffi::c_void) {
    // SAFETY: `hint` came from `Rc::into_raw` in `buffer` and is released exactly once, here.
    drop(unsafe { Rc::from_raw(hint as *const StoreCore) });
}

fn external_buffers_refused() -> bool {
    // Lets tests exercise the path Electron >= 21 takes (it refuses external buffers).
    std::env::var_os("WASMTIME_NODE_NO_EXTERNAL_BUFFERS").is_some_and(|v| v == "1")
}

fn no_external_buffers() -> Fail {
    Fail::with(
        "WasmtimeError",
        "ERR_EXTERNAL_BUFFER_UNSUPPORTED",
        "this runtime refuses external ArrayBuffers (as Electron >= 21 does), so memory.buffer is unavailable; use memory.read() and memory.write()",
    )
}

impl NativeMemory {
    pub fn new(core: Rc<StoreCore>, mem: Memory) -> Self {
        NativeMemory { core, mem }
    }

    pub fn core(&self) -> &Rc<StoreCore> {
        &self.core
    }

    fn bounds(&self, offset: f64, length: f64) -> Res<(usize, usize)> {
        let (off, len) = (index_arg(offset, "offset")?, index_arg(length, "length")?);
        let size = self.mem.data_size(self.core.cx()?) as u64;
        if off.checked_add(len).is_none_or(|end| end > size) {
            return Err(Fail::range(format!("range [{off}, {off}+{len}) is outside the memory's {size} bytes")));
        }
        Ok((off as usize, len as usize))
    }

    /// A zero-copy ArrayBuffer over the whole memory (see `buffer`).
    fn view(&self, env: &Env) -> Res<sys::napi_value> {
        self.core.sync_views();
        let cx = self.core.cx()?;
        let (ptr, len) = (self.mem.data_ptr(&cx), self.mem.data_size(&cx));
        let mut out = std::ptr::null_mut();
        if len == 0 {
            let mut data = std::ptr::null_mut();
            // SAFETY: plain allocation of an empty buffer on this env.
            unsafe { sys::napi_create_arraybuffer(env.raw(), 0, &mut data, &mut out) };
            return Ok(out);
        }
        if external_buffers_refused() {
            return Err(no_external_buffers());
        }
        let hint = Rc::into_raw(self.core.clone()) as *mut std::ffi::c_void;
        // SAFETY: `ptr..ptr+len` is this memory's live linear memory; it stays valid until the
        // memory grows or the store is dropped: growth and dispose detach this buffer first
        // (`sync_views`/`detach_views`), and the `Rc` in `hint` keeps the store from being dropped
        // while the buffer is reachable. (napi-rs's `ArrayBuffer::from_external` would silently
        // copy where the runtime refuses external buffers: the raw call lets us say so instead.)
        let status = unsafe { sys::napi_create_external_arraybuffer(env.raw(), ptr.cast(), len, Some(view_finalize), hint, &mut out) };
        if status != sys::Status::napi_ok {
            // SAFETY: the finalizer will not run for a buffer that was not created.
            drop(unsafe { Rc::from_raw(hint as *const StoreCore) });
            if status == sys::Status::napi_no_external_buffers_allowed {
                return Err(no_external_buffers());
            }
            return Err(Fail::internal(format!("napi_create_external_arraybuffer failed ({status})")));
        }
        self.core.add_view(out);
        Ok(out)
    }
}

#[napi]
impl NativeMemory {
    /// A new memory of `store` with `minimum`..`maximum` pages.
    #[napi(constructor, catch_unwind)]
    pub fn new_in(env: Env, store: &NativeStore, minimum: f64, maximum: Option<f64>) -> napi::Result<Self> {
        throwing(&env, || {
            let min = args::pages(minimum)?;
            let max = maximum.map(args::pages).transpose()?;
            let ty = types::memory_type(min, max)?;
            let core = &store.core;
            let m = Memory::new(core.cx()?, ty).map_err(|e| Fail::range(format!("{e:#}")))?;
            core.account();
            Ok(NativeMemory::new(core.clone(), m))
        })
    }

    /// Size in pages.
    #[napi(catch_unwind)]
    pub fn size(&self, env: Env) -> napi::Result<f64> {
        throwing(&env, || Ok(self.mem.size(self.core.cx()?) as f64))
    }

    #[napi(catch_unwind)]
    pub fn byte_length(&self, env: Env) -> napi::Result<f64> {
        throwing(&env, || Ok(self.mem.data_size(self.core.cx()?) as f64))
    }

    /// Grow by `delta` pages; returns the previous size in pages.
    #[napi(catch_unwind)]
    pub fn grow(&self, env: Env, delta: f64) -> napi::Result<f64> {
        throwing(&env, || {
            let delta = index_arg(delta, "delta")?;
            let r = self.mem.grow(self.core.cx()?, delta);
            self.core.after_wasm();
            r.map(|old| old as f64).map_err(|e| Fail::with("RangeError", "ERR_WASM_GROW", format!("memory.grow({delta}) failed: {e:#}")))
        })
    }

    /// A copy of `length` bytes at `offset`.
    #[napi(catch_unwind)]
    pub fn read<'a>(&self, env: &'a Env, offset: f64, length: f64) -> napi::Result<Uint8ArraySlice<'a>> {
        let copy = throwing(env, || {
            let (off, len) = self.bounds(offset, length)?;
            let data = self.mem.data(self.core.cx()?);
            Uint8ArraySlice::copy_from(env, &data[off..off + len]).map_err(|_| Fail::Pending)
        })?;
        Ok(copy)
    }

    #[napi(catch_unwind)]
    pub fn write(&self, env: Env, offset: f64, bytes: Unknown) -> napi::Result<()> {
        throwing(&env, || {
            let (src, src_len) = args::bytes(&env, &bytes)?
                .map(|s| (s.as_ptr(), s.len()))
                .ok_or_else(|| Fail::type_error("expected an ArrayBuffer or an ArrayBufferView"))?;
            let (off, len) = self.bounds(offset, src_len as f64)?;
            let dst = self.mem.data_ptr(self.core.cx()?);
            // SAFETY: `bounds` checked `off + len` against the memory's size; the source may be a
            // view of this very memory (`memory.buffer`), so the ranges may overlap: `ptr::copy` is
            // a memmove, and no Rust reference to either range is alive during it.
            unsafe { std::ptr::copy(src, dst.add(off), len) };
            Ok(())
        })
    }

    /// A zero-copy ArrayBuffer over the whole memory. Detached by the store on grow, dispose
    /// and transfer; it keeps the store alive while reachable.
    #[napi(catch_unwind)]
    pub fn buffer(&self, env: Env) -> napi::Result<Unknown<'_>> {
        let v = self.view(&env).map_err(|f| f.throw(&env))?;
        // SAFETY: `v` was just created in this callback's scope.
        Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), v) })
    }

    #[napi(catch_unwind)]
    pub fn type_json(&self, env: Env) -> napi::Result<String> {
        throwing(&env, || {
            let mut out = String::new();
            types::extern_type_json(&mut out, &wasmtime::ExternType::Memory(self.mem.ty(self.core.cx()?)));
            Ok(out)
        })
    }
}
