//! `InterruptHandle`: stops a store's running wasm from any thread (built on epoch interruption;
//! the target is in store/interrupt.rs). Shareable: `share()` / `fromShared()`.

use std::sync::Arc;

use napi::bindgen_prelude::Env;
use napi_derive::napi;

use crate::base::error::throwing;
use crate::base::share::{self, Shareable};
use crate::store::interrupt::InterruptTarget;

#[napi]
pub struct NativeInterruptHandle {
    target: Arc<Shareable<InterruptTarget>>,
}

impl NativeInterruptHandle {
    pub fn new(target: Arc<Shareable<InterruptTarget>>) -> Self {
        NativeInterruptHandle { target }
    }
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
    pub fn from_shared(env: Env, id: String) -> napi::Result<Self> {
        throwing(&env, || Ok(NativeInterruptHandle { target: share::lookup(&id, "InterruptHandle")? }))
    }
}
