//! Errors. Native code produces `Fail` (a plain value); at the N-API boundary `Fail::throw`
//! (or `.or_throw(&env)` on a `Res`) throws it as a typed JS error built by `lib/errors.ts`'s
//! factory (so `instanceof Trap` etc. work) with a stable `code`.

use napi::bindgen_prelude::Env as NapiEnv;
use napi::sys;
use wasmtime::{Trap, WasmBacktrace};

use crate::base::raw as js;

/// Marks a wasmtime error that stands for a JS exception thrown by a host function; the
/// exception object itself waits in the store's pending slot (see `store::StoreCore`).
#[derive(Debug)]
pub struct HostException;

impl std::fmt::Display for HostException {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a host function threw")
    }
}
impl std::error::Error for HostException {}

/// A resource of the process ran out (fiber stacks, threads): `WasmtimeError`
/// `ERR_RESOURCE_EXHAUSTED`, with what ran out and what to do.
#[derive(Debug)]
pub struct Exhausted(pub String);

impl std::fmt::Display for Exhausted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for Exhausted {}

pub struct Frame {
    pub module: Option<String>,
    pub func: Option<String>,
    pub func_index: u32,
    pub offset: Option<usize>,
}

pub enum Fail {
    /// A JS exception is already pending in the env: let it propagate.
    Pending,
    /// Throw element 0 of the referenced one-element array (a host function's exception).
    Throw(sys::napi_ref),
    /// A new error (boxed, so that `Result<_, Fail>` stays small on hot paths).
    New(Box<NewError>),
}

/// A JS error to build: `kind` picks the class in `lib/errors.ts`.
pub struct NewError {
    pub kind: &'static str,
    pub code: &'static str,
    pub message: String,
    pub trap: Option<(String, Vec<Frame>)>,
    /// A trap's core dump (engine option `coredumpOnTrap`), in the tool-conventions format.
    pub coredump: Option<Vec<u8>>,
}

impl Fail {
    /// An error of JS class `kind` with `code`.
    pub fn with(kind: &'static str, code: &'static str, message: impl Into<String>) -> Fail {
        Fail::New(Box::new(NewError { kind, code, message: message.into(), trap: None, coredump: None }))
    }
    pub fn type_error(message: impl Into<String>) -> Fail {
        Fail::with("TypeError", "ERR_INVALID_ARG_TYPE", message)
    }
    pub fn invalid_value(message: impl Into<String>) -> Fail {
        Fail::with("TypeError", "ERR_INVALID_ARG_VALUE", message)
    }
    pub fn arg_count(message: impl Into<String>) -> Fail {
        Fail::with("TypeError", "ERR_INVALID_ARG_COUNT", message)
    }
    pub fn range(message: impl Into<String>) -> Fail {
        Fail::with("RangeError", "ERR_OUT_OF_RANGE", message)
    }
    pub fn compile(message: impl Into<String>) -> Fail {
        Fail::with("CompileError", "ERR_WASM_COMPILE", message)
    }
    pub fn link(message: impl Into<String>) -> Fail {
        Fail::with("LinkError", "ERR_WASM_LINK", message)
    }
    pub fn store_state(code: &'static str, message: impl Into<String>) -> Fail {
        Fail::with("StoreStateError", code, message)
    }
    pub fn wasmtime(message: impl Into<String>) -> Fail {
        Fail::with("WasmtimeError", "ERR_WASMTIME", message)
    }
    pub fn internal(message: impl Into<String>) -> Fail {
        Fail::with("WasmtimeError", "ERR_INTERNAL", message)
    }

    /// Classify an error out of a call or an instantiation. `link_phase` says that errors which
    /// are not traps come from resolving imports (instantiation) rather than from running code.
    pub fn from_wasm(err: wasmtime::Error, link_phase: bool) -> Fail {
        if let Some(trap) = err.downcast_ref::<Trap>() {
            let frames = err.downcast_ref::<WasmBacktrace>().map(frames_of).unwrap_or_default();
            return Fail::New(Box::new(NewError {
                kind: "Trap",
                code: "ERR_WASM_TRAP",
                message: trap.to_string(),
                trap: Some((trap_code(*trap).to_string(), frames)),
                coredump: None,
            }));
        }
        if let Some(e) = err.downcast_ref::<Exhausted>() {
            return Fail::with("WasmtimeError", "ERR_RESOURCE_EXHAUSTED", e.0.clone());
        }
        if let Some(exit) = err.downcast_ref::<wasmtime_wasi::I32Exit>() {
            return Fail::with("WasiExit", "ERR_WASI_EXIT", exit.0.to_string());
        }
        // wasmtime-wasi's own words for `proc_exit(n)` with n ≥ 126 (p1.rs): a plain message.
        if err.chain().any(|c| c.to_string() == "exit with invalid exit status outside of [0..126)") {
            return Fail::with(
                "WasmtimeError",
                "ERR_WASI_EXIT_STATUS",
                "the guest called proc_exit with an exit status outside the 0–125 that WASI allows",
            );
        }
        let mut message = format!("{err:#}");
        if let Some(f) = Fail::resource(&err, &message) {
            return f;
        }
        if message.contains("shared memory support is disabled") {
            // wasmtime names its Rust `Config` method: say what that is here.
            message.push_str(" (create the engine with sharedMemory: true)");
        }
        if link_phase { Fail::link(message) } else { Fail::wasmtime(message) }
    }

    /// A store limit hit or a resource of the process used up, in wasmtime's own words (they are
    /// fixed strings within wasmtime 48 and pinned by tests): not a link failure, and the
    /// message says what to do.
    fn resource(err: &wasmtime::Error, message: &str) -> Option<Fail> {
        if err.is::<wasmtime::PoolConcurrencyLimitError>() {
            return Some(Fail::with(
                "WasmtimeError",
                "ERR_RESOURCE_EXHAUSTED",
                format!(
                    "{message}: every slot of the engine's pooling allocator is in use (dispose stores you are done with, or raise the engine's pooling limits)"
                ),
            ));
        }
        if err.chain().any(|c| c.to_string().starts_with("mmap failed to ")) {
            return Some(Fail::with(
                "WasmtimeError",
                "ERR_RESOURCE_EXHAUSTED",
                format!(
                    "{message}: the process ran out of address space for linear memories (dispose stores you are done with, or give the engine a smaller memoryReservation)"
                ),
            ));
        }
        let limited = ["resource limit exceeded:", "memory minimum size of ", "table minimum size of "];
        if limited.iter().any(|p| message.starts_with(p)) {
            return Some(Fail::with(
                "WasmtimeError",
                "ERR_RESOURCE_LIMIT",
                format!("{message} (over the store's limits, which store.setLimits() raises, or over what the engine allows)"),
            ));
        }
        None
    }

    /// The guest called `proc_exit` (a `WasiExit`, not a failure of the program).
    pub fn is_wasi_exit(&self) -> bool {
        matches!(self, Fail::New(e) if e.kind == "WasiExit")
    }

    /// An error of a runtime operation outside a call (a grow, a GC, a table or global write):
    /// a trap keeps its class and code, anything else is a `WasmtimeError`.
    pub fn from_runtime(err: wasmtime::Error) -> Fail {
        Fail::from_wasm(err, false)
    }

    pub fn from_compile(err: wasmtime::Error) -> Fail {
        Fail::compile(format!("{err:#}"))
    }
}

pub fn trap_code(t: Trap) -> &'static str {
    match t {
        Trap::StackOverflow => "stack_overflow",
        Trap::MemoryOutOfBounds => "memory_out_of_bounds",
        Trap::HeapMisaligned => "heap_misaligned",
        Trap::TableOutOfBounds => "table_out_of_bounds",
        Trap::IndirectCallToNull => "indirect_call_to_null",
        Trap::BadSignature => "bad_signature",
        Trap::IntegerOverflow => "integer_overflow",
        Trap::IntegerDivisionByZero => "integer_division_by_zero",
        Trap::BadConversionToInteger => "bad_conversion_to_integer",
        Trap::UnreachableCodeReached => "unreachable",
        Trap::Interrupt => "interrupt",
        Trap::OutOfFuel => "out_of_fuel",
        Trap::AtomicWaitNonSharedMemory => "atomic_wait_non_shared_memory",
        Trap::NullReference => "null_reference",
        Trap::ArrayOutOfBounds => "array_out_of_bounds",
        Trap::AllocationTooLarge => "allocation_too_large",
        Trap::CastFailure => "cast_failure",
        Trap::CannotEnterComponent => "cannot_enter_component",
        _ => "unknown",
    }
}

fn frames_of(bt: &WasmBacktrace) -> Vec<Frame> {
    bt.frames()
        .iter()
        .map(|f| Frame {
            module: f.module().name().map(str::to_string),
            func: f.func_name().map(str::to_string),
            func_index: f.func_index(),
            offset: f.module_offset(),
        })
        .collect()
}

impl Fail {
    /// Throw this failure into `env` (unless an exception is already pending there), and return
    /// the `napi::Error` that tells napi-rs the exception is pending (it throws nothing more).
    pub fn throw(self, env: &NapiEnv) -> napi::Error {
        // SAFETY: `env` is the env of the N-API callback that is returning this error, on its
        // own thread, where throwing is allowed.
        unsafe { throw(env.raw(), self) };
        napi::Error::new(napi::Status::PendingException, String::new())
    }
}

/// `res.or_throw(&env)`: the boundary of a `#[napi]` method, where a `Fail` becomes a JS exception.
pub trait OrThrow<T> {
    fn or_throw(self, env: &NapiEnv) -> napi::Result<T>;
}

impl<T> OrThrow<T> for Res<T> {
    fn or_throw(self, env: &NapiEnv) -> napi::Result<T> {
        self.map_err(|f| f.throw(env))
    }
}

/// Run `f` and throw its failure: the body of a `#[napi]` method written with `?` on `Res`.
pub fn throwing<T>(env: &NapiEnv, f: impl FnOnce() -> Res<T>) -> napi::Result<T> {
    f().or_throw(env)
}

/// The JS value that a `Fail` stands for, as an exception object (not thrown).
///
/// # Safety
/// On the JS thread of `env`, inside a callback or host call with an open handle scope.
pub unsafe fn exception_value(env: js::Env, fail: Fail) -> js::Value {
    // SAFETY: per this function's contract.
    unsafe {
        match fail {
            Fail::Pending => js::take_exception(env),
            Fail::Throw(r) => {
                let v = js::reference_value(env, r).and_then(|a| js::get_element(env, a, 0).ok()).unwrap_or_else(|| js::undefined(env));
                sys::napi_delete_reference(env, r);
                v
            }
            Fail::New(e) => build_error(env, &e).unwrap_or_else(|| js::undefined(env)),
        }
    }
}

/// Throw `f` as a JS exception (unless one is already pending).
pub unsafe fn throw(env: js::Env, f: Fail) {
    let mut pending = false;
    // SAFETY: on the JS thread of `env`, inside an N-API callback where throwing is allowed.
    unsafe { sys::napi_is_exception_pending(env, &mut pending) };
    match f {
        Fail::Pending => {}
        Fail::Throw(r) => {
            // SAFETY: `r` is a strong reference created in this env; it is deleted here, once.
            unsafe {
                if let Some(v) = js::reference_value(env, r).and_then(|a| js::get_element(env, a, 0).ok())
                    && !pending
                {
                    sys::napi_throw(env, v);
                }
                sys::napi_delete_reference(env, r);
            }
        }
        // SAFETY: on the JS thread of `env`, inside an N-API callback where throwing is allowed.
        Fail::New(e) if !pending => unsafe {
            let err = build_error(env, &e);
            let message = e.message;
            match err {
                Some(e) => {
                    sys::napi_throw(env, e);
                }
                None => {
                    let msg = std::ffi::CString::new(message.replace('\0', " ")).unwrap_or_default();
                    sys::napi_throw_error(env, std::ptr::null(), msg.as_ptr());
                }
            }
        },
        Fail::New(_) => {}
    }
}

/// Build (not throw) the JS error object for a `Fail::New` through the factory.
///
/// SAFETY (caller): on the JS thread of `env`, inside an N-API callback where calling JS is allowed.
pub unsafe fn build_error(env: js::Env, e: &NewError) -> Option<js::Value> {
    let factory = js::error_factory();
    if factory.is_null() {
        return None;
    }
    // SAFETY: on the JS thread of `env`, inside an N-API callback where throwing is allowed.
    unsafe {
        let f = js::reference_value(env, factory)?;
        let mut args =
            vec![js::string_value(env, e.kind).ok()?, js::string_value(env, e.code).ok()?, js::string_value(env, &e.message).ok()?];
        if let Some((trap_code, frames)) = &e.trap {
            args.push(js::string_value(env, trap_code).ok()?);
            args.push(frames_value(env, frames).ok()?);
            if let Some(dump) = &e.coredump {
                args.push(js::uint8_array_copy(env, dump).ok()?);
            }
        }
        js::call_function(env, f, &args).ok()
    }
}

/// The JS `Exception` (lib/exception.ts) around `native`, a wasm exception object's native
/// handle, built by the error factory.
///
/// SAFETY (caller): on the JS thread of `env`, inside a callback; `native` is a live handle.
pub unsafe fn build_exception(env: js::Env, native: js::Value) -> Result<js::Value, Fail> {
    let factory = js::error_factory();
    if factory.is_null() {
        return Err(Fail::internal("the error factory is not registered in this thread"));
    }
    // SAFETY: the caller's contract.
    unsafe {
        let f = js::reference_value(env, factory).ok_or_else(|| Fail::internal("the error factory is gone"))?;
        let args = [
            js::string_value(env, "Exception")?,
            js::string_value(env, "ERR_WASM_EXCEPTION")?,
            js::string_value(env, "a wasm exception")?,
            native,
        ];
        js::call_function(env, f, &args)
    }
}

unsafe fn frames_value(env: js::Env, frames: &[Frame]) -> Result<js::Value, Fail> {
    // SAFETY: on the JS thread of `env`, inside an N-API callback where throwing is allowed.
    unsafe {
        let arr = js::array(env, frames.len())?;
        for (i, f) in frames.iter().enumerate() {
            // [module, func, funcIndex, offset]: lib/errors.ts turns these into frozen Frame objects.
            let item = js::array(env, 4)?;
            let opt = |s: &Option<String>| -> Result<js::Value, Fail> {
                match s {
                    Some(s) => js::string_value(env, s),
                    None => Ok(js::null(env)),
                }
            };
            js::set_element(env, item, 0, opt(&f.module)?)?;
            js::set_element(env, item, 1, opt(&f.func)?)?;
            js::set_element(env, item, 2, js::u32_value(env, f.func_index)?)?;
            let off = match f.offset {
                Some(o) => js::f64_value(env, o as f64)?,
                None => js::null(env),
            };
            js::set_element(env, item, 3, off)?;
            js::set_element(env, arr, i as u32, item)?;
        }
        Ok(arr)
    }
}

pub type Res<T> = Result<T, Fail>;

/// A `napi::Error` that carries a freshly built JS error object (not thrown yet): for promise
/// rejections, where napi-rs rejects with the referenced object itself.
pub fn error_object(env: &napi::Env, f: Fail) -> napi::Error {
    if let Fail::New(e) = &f {
        // SAFETY: on the JS thread of `env`, inside a callback.
        if let Some(v) = unsafe { build_error(env.raw(), e) } {
            // SAFETY: `v` is a live handle of this callback.
            let u = unsafe { napi::bindgen_prelude::Unknown::from_raw_unchecked(env.raw(), v) };
            return napi::Error::from(u);
        }
    }
    napi::Error::from_reason("wasmtime-node: failed to build an error object")
}
