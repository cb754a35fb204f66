//! The process-wide executor of `callAsync`: a fixed pool of threads (a tokio multi-thread
//! runtime) shared by every worker of the process.
//!
//! - Stores created with `async: true` run each `callAsync` as a wasmtime fiber on the pool
//!   (`call_async`): a host function awaiting a JS Promise suspends the fiber, not a thread, and
//!   epoch ticks (and fuel, with `fuelYieldInterval`) make a busy guest yield to the others.
//!   Fiber stacks are budgeted per store (store/stacks.rs).
//! - Other stores run `callAsync` on the runtime's blocking threads: reused, at most
//!   `MAX_BLOCKING` of them (a host Promise keeps one waiting), the rest queued.
//! - `block_here` runs an async store's call on the JS thread itself (sync calls and
//!   instantiation): its host functions run on the JS thread's own stack, never on the fiber's.

use std::cell::Cell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use tokio::runtime::{Builder, Runtime};

use crate::base::error::{Fail, Res};

/// Blocking threads for the `callAsync`s of other stores (and async WASI's file operations).
pub const MAX_BLOCKING: usize = 64;
const MAX_THREADS: usize = 1024;

/// Pool size chosen before first use (0: the default).
static THREADS: AtomicUsize = AtomicUsize::new(0);
static POOL: Mutex<Option<&'static Pool>> = Mutex::new(None);

pub struct Pool {
    runtime: Runtime,
    threads: usize,
}

fn default_threads() -> Res<usize> {
    match std::env::var("WASMTIME_NODE_ASYNC_THREADS") {
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_THREADS).contains(&n) => Ok(n),
            _ => Err(Fail::range(format!("WASMTIME_NODE_ASYNC_THREADS must be an integer from 1 to {MAX_THREADS}, got {v:?}"))),
        },
        Err(_) => Ok(std::thread::available_parallelism().map_or(2, |n| n.get())),
    }
}

/// `setAsyncThreads(n)`: the pool's size, before its first use.
pub fn set_threads(n: usize) -> Res<()> {
    if !(1..=MAX_THREADS).contains(&n) {
        return Err(Fail::range(format!("the number of async threads must be an integer from 1 to {MAX_THREADS}")));
    }
    let pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    match *pool {
        Some(p) if p.threads != n => Err(Fail::store_state(
            "ERR_ASYNC_POOL_STARTED",
            format!("the async thread pool already runs with {} threads; call setAsyncThreads() before the first callAsync", p.threads),
        )),
        _ => {
            THREADS.store(n, Ordering::Relaxed);
            Ok(())
        }
    }
}

/// The pool's size: as set, or what it will be when started.
pub fn threads() -> Res<usize> {
    if let Some(p) = *POOL.lock().unwrap_or_else(|e| e.into_inner()) {
        return Ok(p.threads);
    }
    match THREADS.load(Ordering::Relaxed) {
        0 => default_threads(),
        n => Ok(n),
    }
}

/// The pool, started on first use. It lives as long as the process: its threads are shared by
/// every worker, and a worker exiting must not stop the others' calls.
pub fn pool() -> Res<&'static Pool> {
    let mut slot = POOL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = *slot {
        return Ok(p);
    }
    let threads = match THREADS.load(Ordering::Relaxed) {
        0 => default_threads()?,
        n => n,
    };
    let runtime = Builder::new_multi_thread()
        .worker_threads(threads)
        .max_blocking_threads(MAX_BLOCKING)
        .thread_keep_alive(Duration::from_secs(10))
        .thread_name("wasmtime-node-pool")
        .thread_stack_size(8 << 20)
        // New calls arrive in the global queue while guests yield on the local ones: look at it
        // often, so that a short call started behind long ones waits a slice, not 61 of them.
        .global_queue_interval(2)
        .enable_time()
        .build()
        .map_err(|e| Fail::with("WasmtimeError", "ERR_RESOURCE_EXHAUSTED", format!("could not start the async thread pool: {e}")))?;
    let p: &'static Pool = Box::leak(Box::new(Pool { runtime, threads }));
    *slot = Some(p);
    Ok(p)
}

impl Pool {
    /// Run `job` as a task (a guest fiber) on the pool. A panic in it reaches `on_panic`
    /// instead of the pool thread.
    pub fn spawn_fiber<F>(&'static self, job: F, on_panic: impl FnOnce() + Send + 'static)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.runtime.spawn(async move {
            if CatchPanic(Some(Box::pin(job))).await.is_err() {
                on_panic();
            }
        });
    }

    /// Run `job` on one of the pool's blocking threads (queued when all are busy).
    pub fn spawn_blocking(&'static self, job: impl FnOnce() + Send + 'static) {
        self.runtime.spawn_blocking(job);
    }

    pub fn handle(&self) -> &tokio::runtime::Handle {
        self.runtime.handle()
    }
}

/// A future whose panics become an `Err` (the task settles instead of vanishing). The panicked
/// future is leaked, not dropped: unwinding a half-run fiber could panic again (an abort).
struct CatchPanic<F>(Option<Pin<Box<F>>>);

impl<F: Future<Output = ()>> Future for CatchPanic<F> {
    type Output = Result<(), ()>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(job) = self.0.as_mut() else { return Poll::Ready(Err(())) };
        match catch_unwind(AssertUnwindSafe(|| job.as_mut().poll(cx))) {
            Ok(Poll::Ready(())) => Poll::Ready(Ok(())),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => {
                std::mem::forget(self.0.take());
                Poll::Ready(Err(()))
            }
        }
    }
}

/// A host call of an async store's guest running under `block_here`, parked for the JS thread.
pub struct LocalHostCall {
    pub run: Box<dyn FnOnce()>,
}

thread_local! {
    /// The host call the guest fiber under `block_here` waits for (one at a time).
    static LOCAL_HOST_CALL: Cell<Option<LocalHostCall>> = const { Cell::new(None) };
}

/// Park `call` for `block_here`, which runs it on the JS thread's stack.
pub fn park_local(call: LocalHostCall) {
    LOCAL_HOST_CALL.with(|c| c.set(Some(call)));
}

struct Unpark(std::thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Drive an async store's call to completion on this (the JS) thread. Its fiber suspends for
/// each host call (see `park_local`), which then runs here, on the thread's own stack: V8 must
/// not run on a fiber's stack. Epoch and fuel yields just poll again; a wait for WASI I/O parks
/// the thread until the pool's timer or blocking thread wakes it.
pub fn block_here<F: Future>(fut: F) -> Res<F::Output> {
    let _runtime = pool()?.handle().enter();
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return Ok(v);
        }
        match LOCAL_HOST_CALL.with(|c| c.take()) {
            Some(call) => (call.run)(),
            None => std::thread::park(),
        }
    }
}
