//! The fiber-stack budget of async stores. wasmtime runs each call of an async store on a fiber
//! and keeps the stack of the last one cached in the store until the store is dropped; each
//! stack costs 2 MiB of address space and two memory mappings, and Linux allows 65,530 mappings
//! per process by default (`vm.max_map_count`) — past that, the next allocation anywhere in the
//! process fails, and V8 aborts. So a store takes a share of a fixed budget for its first fiber
//! and gives it back when it is dropped; a call that finds none waits in line.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::base::error::Exhausted;

/// Fiber stacks (2 MiB of address space and two memory mappings each) that async stores may hold
/// at once: a store takes one for its first call and keeps it until it is dropped (wasmtime
/// caches the stack of its last call in the store). A call of a store without one waits in
/// line for a store to be disposed or collected: the process's memory mappings
/// (`vm.max_map_count`, 65,530 by default on Linux) would otherwise run out — an abort.
pub const MAX_FIBERS: usize = 16_384;
/// The fiber-stack budget (see `MAX_FIBERS`).
static STACKS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(max_fibers())));

/// `MAX_FIBERS`, or `WASMTIME_NODE_MAX_FIBERS` (1 to `MAX_FIBERS`) to lower it.
fn max_fibers() -> usize {
    let asked = std::env::var("WASMTIME_NODE_MAX_FIBERS").ok().and_then(|v| v.trim().parse::<usize>().ok());
    asked.filter(|n| (1..=MAX_FIBERS).contains(n)).unwrap_or(MAX_FIBERS)
}

/// How long a store's first pooled call waits for a fiber stack while none is released.
const STACK_WAIT: Duration = Duration::from_secs(2);
/// Fiber stacks given back so far (by stores disposed or collected).
static RELEASED: AtomicUsize = AtomicUsize::new(0);
/// Pooled calls running now: while some run, waiting for a stack is waiting for their stores.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Counts a pooled call in `RUNNING` while it lives.
pub struct Running(());

impl Running {
    pub fn start() -> Running {
        RUNNING.fetch_add(1, Ordering::Relaxed);
        Running(())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A store's share of the fiber-stack budget (see `MAX_FIBERS`), given back when it is dropped.
pub struct StackPermit(#[allow(dead_code)] OwnedSemaphorePermit);

impl Drop for StackPermit {
    fn drop(&mut self) {
        RELEASED.fetch_add(1, Ordering::Relaxed);
    }
}

/// A fiber stack of the budget, waiting in line (FIFO) for stores to be disposed or collected.
/// It fails only when, for `STACK_WAIT`, no stack was given back and no pooled call ran: then
/// the budget is held by idle live stores, which free it only when JS lets go of them, and
/// waiting forever would hang the call. (Running calls end, and their stores are usually
/// disposed then: however long that takes under load, it is progress.)
pub async fn stack_permit() -> wasmtime::Result<StackPermit> {
    let mut seen = RELEASED.load(Ordering::Relaxed);
    loop {
        match tokio::time::timeout(STACK_WAIT, STACKS.clone().acquire_owned()).await {
            Ok(Ok(p)) => return Ok(StackPermit(p)),
            Ok(Err(_)) => break, // closed: never
            Err(_) => {
                let now = RELEASED.load(Ordering::Relaxed);
                if now == seen && RUNNING.load(Ordering::Relaxed) == 0 {
                    break;
                }
                seen = now;
            }
        }
    }
    Err(wasmtime::Error::new(Exhausted(format!(
        "{} async stores hold a fiber stack (each keeps the stack of its last call until it is disposed or collected), \
         none was released for {} s and no call of theirs runs: dispose() async stores you no longer need",
        max_fibers(),
        STACK_WAIT.as_secs()
    ))))
}

/// A fiber stack of the budget if one is free now.
pub fn try_stack_permit() -> Option<StackPermit> {
    STACKS.clone().try_acquire_owned().ok().map(StackPermit)
}
