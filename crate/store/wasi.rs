//! WASI preview 1, through wasmtime-wasi's `p1` (no syscall is implemented here): a store's WASI
//! context built from `WasiOptions`, and the streams behind the guest's stdout and stderr.
//!
//! Output to JS never calls JS from inside a WASI call (the store is mid-call there, and a JS
//! callback touching it would alias it). A `capture` stream accumulates bytes; a `callback`
//! stream queues chunks that are handed to the JS callback at the next safe point: before a JS
//! host function runs, when the call returns to JS, or — for `callAsync` — as soon as the JS
//! thread picks up the notification (see async_call.rs).

use std::collections::VecDeque;
use std::io::ErrorKind;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use napi_derive::napi;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryInputPipe;
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError, StreamResult};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

use crate::base::error::{Fail, HostException, Res};
use crate::base::raw as js;
use crate::store::core::Host;

/// The most a capture buffer or a callback queue holds before the guest's writes trap: a guest
/// must not be able to exhaust the host's memory by printing.
pub const OUTPUT_LIMIT: usize = 64 * 1024 * 1024;

/// How a store's WASI is set up: `lib/store.ts` validates `WasiOptions` into this.
#[napi(object)]
pub struct WasiConfig {
    pub args: Vec<String>,
    /// `[name, value]` pairs.
    pub env: Vec<Vec<String>>,
    /// `"inherit"`, `"bytes"` (then `stdin_bytes`) or `"none"`.
    pub stdin: String,
    /// `"inherit"`, `"capture"`, `"callback"` (then a slot) or `"discard"`.
    pub stdout: String,
    pub stderr: String,
    /// Slots of the JS store's function table holding the output callbacks.
    pub stdout_slot: Option<u32>,
    pub stderr_slot: Option<u32>,
    pub preopens: Vec<Preopen>,
}

#[napi(object)]
pub struct Preopen {
    pub guest: String,
    pub host: String,
    pub readonly: bool,
}

/// A store's WASI state (part of `Host`, so it moves with the store).
pub struct WasiState {
    pub ctx: WasiP1Ctx,
    pub out: Arc<Output>,
}

/// The guest's stdout (index 1) and stderr (index 2) as JS sees them.
#[derive(Default)]
pub struct Output {
    state: Mutex<OutState>,
    /// Callback chunks are queued: a safe point should deliver them.
    queued: AtomicBool,
    /// A callback threw: further writes trap, so the guest stops soon.
    failed: AtomicBool,
    /// Set while a `callAsync` runs: how to wake the JS thread for queued chunks.
    notify: Mutex<Option<Box<dyn Fn() + Send>>>,
}

#[derive(Default)]
struct OutState {
    captured: [Vec<u8>; 3],
    chunks: VecDeque<(usize, Vec<u8>)>,
    queued_bytes: usize,
    /// The JS table slot of fd 1's and fd 2's callback.
    slots: [Option<u32>; 3],
}

impl Output {
    fn lock(&self) -> MutexGuard<'_, OutState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn capture(&self, fd: usize, bytes: &[u8]) -> StreamResult<()> {
        let mut st = self.lock();
        let buf = &mut st.captured[fd];
        if buf.len() + bytes.len() > OUTPUT_LIMIT {
            return Err(StreamError::trap(&format!("captured output of fd {fd} exceeds {OUTPUT_LIMIT} bytes")));
        }
        buf.extend_from_slice(bytes);
        Ok(())
    }

    fn queue(&self, fd: usize, bytes: &[u8]) -> StreamResult<()> {
        if self.failed.load(Ordering::Relaxed) {
            return Err(StreamError::Trap(wasmtime::Error::new(HostException)));
        }
        {
            let mut st = self.lock();
            if st.queued_bytes + bytes.len() > OUTPUT_LIMIT {
                return Err(StreamError::trap(&format!("more than {OUTPUT_LIMIT} bytes of output wait for the JS callback")));
            }
            st.queued_bytes += bytes.len();
            st.chunks.push_back((fd, bytes.to_vec()));
        }
        // Wake the JS thread once per batch: it takes every chunk queued until it runs.
        if self.queued.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        if let Some(wake) = self.notify.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            wake();
        }
        Ok(())
    }

    /// Whether a callback threw since the last call began (and forget it).
    pub fn take_failed(&self) -> bool {
        self.failed.swap(false, Ordering::Relaxed)
    }

    pub fn has_queued(&self) -> bool {
        self.queued.load(Ordering::Acquire)
    }

    pub fn set_notify(&self, wake: Option<Box<dyn Fn() + Send>>) {
        *self.notify.lock().unwrap_or_else(|e| e.into_inner()) = wake;
    }

    /// The queued chunks with their callback slots (a slot of `None` drops the chunk).
    fn take_chunks(&self) -> Vec<(Option<u32>, Vec<u8>)> {
        let mut st = self.lock();
        self.queued.store(false, Ordering::Release);
        st.queued_bytes = 0;
        let slots = st.slots;
        st.chunks.drain(..).map(|(fd, b)| (slots[fd], b)).collect()
    }

    pub fn take_captured(&self, fd: usize) -> Vec<u8> {
        std::mem::take(&mut self.lock().captured[fd])
    }

    pub fn set_callbacks(&self, stdout: Option<u32>, stderr: Option<u32>) {
        self.lock().slots = [None, stdout, stderr];
    }
}

/// Hand queued output chunks to their JS callbacks (`fns[slot](chunk)`), in order. A callback
/// that throws stops the delivery; the exception is pending in `env` (`Fail::Pending`).
///
/// # Safety
/// On the JS thread that owns `fns`, inside an open handle scope, with no borrow of the store
/// held (the callback may use it).
pub unsafe fn deliver(env: js::Env, fns: js::Value, out: &Output) -> Res<()> {
    for (slot, chunk) in out.take_chunks() {
        let Some(slot) = slot else { continue };
        // SAFETY: per this function's contract.
        let r = unsafe {
            js::get_element(env, fns, slot).and_then(|f| js::uint8_array_copy(env, &chunk).and_then(|c| js::call_function(env, f, &[c])))
        };
        if let Err(f) = r {
            out.failed.store(true, Ordering::Relaxed);
            return Err(f);
        }
    }
    Ok(())
}

/// A stdout/stderr stream kept for JS: captured, queued for a callback, or dropped.
#[derive(Clone)]
struct Sink {
    out: Arc<Output>,
    fd: usize,
    mode: SinkMode,
}

#[derive(Clone, Copy)]
enum SinkMode {
    Capture,
    Callback,
    Discard,
}

impl Sink {
    fn put(&self, bytes: &[u8]) -> StreamResult<()> {
        match self.mode {
            SinkMode::Capture => self.out.capture(self.fd, bytes),
            SinkMode::Callback => self.out.queue(self.fd, bytes),
            SinkMode::Discard => Ok(()),
        }
    }
}

impl IsTerminal for Sink {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Sink {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for Sink {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.put(&bytes)
    }
    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Sink {
    async fn ready(&mut self) {}
}

impl AsyncWrite for Sink {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Poll::Ready(self.put(buf).map(|_| buf.len()).map_err(|e| std::io::Error::other(format!("{e:?}"))))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The host process's own stdout or stderr. Written unbuffered through the raw descriptor, and
/// never closed (the guest closing its fd 1 only drops its table entry). Node may have made the
/// descriptor non-blocking (a pipe), so `EAGAIN` waits instead of failing the guest's write.
#[derive(Clone, Copy)]
struct Inherit {
    fd: i32,
}

impl Inherit {
    fn write_all(&self, mut buf: &[u8]) -> std::io::Result<()> {
        while !buf.is_empty() {
            match host_stdio::write(self.fd, buf) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => buf = &buf[n..],
                Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(std::time::Duration::from_millis(1)),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Unix: the raw descriptors 1 and 2, written unbuffered, never closed.
#[cfg(unix)]
mod host_stdio {
    use std::fs::File;
    use std::io::Write;
    use std::mem::ManuallyDrop;
    use std::os::fd::FromRawFd;

    fn borrowed(fd: i32) -> ManuallyDrop<File> {
        // SAFETY: fds 1 and 2 stay open for the life of the process; `ManuallyDrop` makes sure
        // this borrowed `File` never closes them.
        ManuallyDrop::new(unsafe { File::from_raw_fd(fd) })
    }

    pub fn write(fd: i32, buf: &[u8]) -> std::io::Result<usize> {
        borrowed(fd).write(buf)
    }

    pub fn is_terminal(fd: i32) -> bool {
        std::io::IsTerminal::is_terminal(&*borrowed(fd))
    }
}

/// Elsewhere (Windows): the standard handles through std, flushed after each write so that the
/// guest's output is not held back in a buffer.
#[cfg(not(unix))]
mod host_stdio {
    use std::io::{IsTerminal, Write};

    pub fn write(fd: i32, buf: &[u8]) -> std::io::Result<usize> {
        fn put(mut w: impl Write, buf: &[u8]) -> std::io::Result<usize> {
            let n = w.write(buf)?;
            w.flush()?;
            Ok(n)
        }
        if fd == 2 { put(std::io::stderr().lock(), buf) } else { put(std::io::stdout().lock(), buf) }
    }

    pub fn is_terminal(fd: i32) -> bool {
        if fd == 2 { std::io::stderr().is_terminal() } else { std::io::stdout().is_terminal() }
    }
}

impl IsTerminal for Inherit {
    fn is_terminal(&self) -> bool {
        host_stdio::is_terminal(self.fd)
    }
}

impl StdoutStream for Inherit {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(*self)
    }
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(*self)
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for Inherit {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.write_all(&bytes).map_err(|e| StreamError::LastOperationFailed(e.into()))
    }
    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Inherit {
    async fn ready(&mut self) {}
}

impl AsyncWrite for Inherit {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Poll::Ready(self.write_all(buf).map(|_| buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The guest's stdout or stderr: the host process's own, or a sink for JS.
enum GuestOut {
    Inherit(Inherit),
    Js(Sink),
}

impl IsTerminal for GuestOut {
    fn is_terminal(&self) -> bool {
        match self {
            GuestOut::Inherit(i) => i.is_terminal(),
            GuestOut::Js(s) => s.is_terminal(),
        }
    }
}

impl StdoutStream for GuestOut {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        match self {
            GuestOut::Inherit(i) => i.p2_stream(),
            GuestOut::Js(s) => s.p2_stream(),
        }
    }
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        match self {
            GuestOut::Inherit(i) => i.async_stream(),
            GuestOut::Js(s) => s.async_stream(),
        }
    }
}

fn output(out: &Arc<Output>, fd: usize, mode: &str) -> Res<GuestOut> {
    let sink = |mode| GuestOut::Js(Sink { out: out.clone(), fd, mode });
    Ok(match mode {
        "inherit" => GuestOut::Inherit(Inherit { fd: fd as i32 }),
        "capture" => sink(SinkMode::Capture),
        "callback" => sink(SinkMode::Callback),
        "discard" => sink(SinkMode::Discard),
        _ => return Err(Fail::invalid_value(format!("unknown output mode {mode:?}"))),
    })
}

/// Build a WASI context from validated options. Sockets are never granted (no network is
/// inherited and p1 has no way to create one); files only through `preopens`.
pub fn build(cfg: &WasiConfig, stdin: Option<&[u8]>) -> Res<WasiState> {
    let out = Arc::new(Output::default());
    out.set_callbacks(cfg.stdout_slot, cfg.stderr_slot);
    let mut b = WasiCtxBuilder::new();
    b.allow_blocking_current_thread(true);
    b.args(&cfg.args);
    for pair in &cfg.env {
        if let [k, v] = pair.as_slice() {
            b.env(k, v);
        }
    }
    match cfg.stdin.as_str() {
        "inherit" => {
            b.inherit_stdin();
        }
        "bytes" => {
            b.stdin(MemoryInputPipe::new(Bytes::copy_from_slice(stdin.unwrap_or_default())));
        }
        _ => {}
    }
    b.stdout(output(&out, 1, &cfg.stdout)?);
    b.stderr(output(&out, 2, &cfg.stderr)?);
    for p in &cfg.preopens {
        let perms = if p.readonly { FsPerms::ReadOnly } else { FsPerms::ReadWrite };
        b.preopened_dir(&p.host, &p.guest, perms).map_err(|e| {
            Fail::with("TypeError", "ERR_WASI_PREOPEN", format!("preopens[{:?}]: cannot open host directory {:?}: {e:#}", p.guest, p.host))
        })?;
    }
    Ok(WasiState { ctx: b.build_p1(), out })
}

/// A context for a store that links WASI but was given no options: no args, no env, empty
/// stdin, output discarded, no files.
pub fn empty() -> WasiState {
    let mut b = WasiCtxBuilder::new();
    b.allow_blocking_current_thread(true);
    WasiState { ctx: b.build_p1(), out: Arc::new(Output::default()) }
}

/// What the linker's WASI functions operate on.
pub fn ctx_of(host: &mut Host) -> &mut WasiP1Ctx {
    &mut host.wasi.get_or_insert_with(empty).ctx
}

pub fn add_to_linker(linker: &mut wasmtime::Linker<Host>) -> wasmtime::Result<()> {
    wasmtime_wasi::p1::add_to_linker_sync(linker, ctx_of)
}

/// WASI for async stores: the sync functions would `block_on` a tokio runtime, which panics on
/// the pool's threads. (File I/O still runs inline, `allow_blocking_current_thread`: short.)
pub fn add_to_linker_async(linker: &mut wasmtime::Linker<Host>) -> wasmtime::Result<()> {
    wasmtime_wasi::p1::add_to_linker_async(linker, ctx_of)
}

/// The store's output, if chunks wait for a JS callback.
pub fn queued_output(host: &Host) -> Option<Arc<Output>> {
    host.wasi.as_ref().map(|w| &w.out).filter(|o| o.has_queued()).cloned()
}

/// A new outermost call: a callback failure of an earlier call no longer stops output.
pub fn begin_call(host: &Host) {
    if let Some(w) = &host.wasi {
        w.out.take_failed();
    }
}

/// WASI 0.2 for components uses the very same context as preview 1 (wasmtime-wasi's p1 context
/// wraps a p2 one): one `wasi` store option configures both.
impl wasmtime_wasi::WasiView for Host {
    fn ctx(&mut self) -> wasmtime_wasi::WasiCtxView<'_> {
        wasmtime_wasi::WasiView::ctx(ctx_of(self))
    }
}

/// WASI 0.2 (`wasmtime_wasi::p2`) in a component linker. Sockets stay denied: the context grants
/// no network (see `build`).
pub fn add_to_component_linker(linker: &mut wasmtime::component::Linker<Host>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)
}
