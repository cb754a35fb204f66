//! `InterruptHandle`: stops a store's running wasm from any thread (built on epoch interruption).

use std::sync::Arc;

use napi_derive::napi;

use crate::error::Fail;
use crate::share::{self, Shareable};
use crate::store::{InterruptTarget, NativeStore};

#[napi]
pub struct NativeInterruptHandle {
    target: Arc<Shareable<InterruptTarget>>,
}

#[napi]
impl NativeInterruptHandle {
    /// Stop the wasm the store is running now (it traps with `interrupt`); no effect when idle.
    #[napi(catch_unwind)]
    pub fn interrupt(&self) {
        self.target.value.interrupt();
    }

    #[napi(catch_unwind)]
    pub fn share(&self) -> String {
        share::share(&self.target, "InterruptHandle")
    }

    #[napi(factory, catch_unwind)]
    pub fn from_shared(id: String) -> napi::Result<Self> {
        Ok(NativeInterruptHandle { target: share::lookup(&id, "InterruptHandle")? })
    }
}

#[napi(catch_unwind)]
pub fn store_interrupt_handle(store: &NativeStore) -> napi::Result<NativeInterruptHandle> {
    let core = &store.core;
    if !core.engine_info.value.epoch_interruption {
        return Err(Fail::with("WasmtimeError", "ERR_INTERRUPT_UNAVAILABLE", "this store's engine was created with epochInterruption: false, so it cannot be interrupted").into());
    }
    let mut cx = core.cx()?;
    let target = InterruptTarget::of(cx.data_mut(), &core.engine);
    Ok(NativeInterruptHandle { target })
}
