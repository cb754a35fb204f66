//! Thin, checked wrappers over raw N-API calls, for the hot paths (calls, host calls, value
//! conversion, the async hop) and for building errors; plus the per-thread JS context (the error
//! factory registered by `lib/`, the thread id). Everywhere else the crate uses napi-rs types.

use std::cell::Cell;
use std::ptr;

use napi::sys;

use crate::base::error::Fail;

pub type Env = sys::napi_env;
pub type Value = sys::napi_value;

thread_local! {
    /// A reference to `lib/`'s error factory. Node runs one env per thread (main thread or
    /// worker), so a thread-local is exactly per-env here.
    static ERROR_FACTORY: Cell<sys::napi_ref> = const { Cell::new(ptr::null_mut()) };
    /// `worker_threads.threadId` of this thread (0 for the main thread).
    static THREAD_ID: Cell<u32> = const { Cell::new(0) };
}

pub fn set_thread_id(id: u32) {
    THREAD_ID.with(|t| t.set(id));
}

pub fn thread_id() -> u32 {
    THREAD_ID.with(|t| t.get())
}

pub fn set_error_factory(env: Env, factory: sys::napi_ref) {
    let old = ERROR_FACTORY.with(|f| f.replace(factory));
    if !old.is_null() {
        // SAFETY: `old` was created by `napi_create_reference` in this same env and is not used again.
        unsafe { sys::napi_delete_reference(env, old) };
    }
}

pub fn error_factory() -> sys::napi_ref {
    ERROR_FACTORY.with(|f| f.get())
}

fn ok(status: sys::napi_status, what: &str) -> Result<(), Fail> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else if status == sys::Status::napi_pending_exception {
        Err(Fail::Pending)
    } else {
        Err(Fail::internal(format!("N-API call failed: {what} (status {status})")))
    }
}

/// SAFETY (all functions below): `env` must be the current thread's live env and `v` a value
/// handle of the current handle scope; the callers in this crate only pass handles they received
/// from N-API within the same callback.
pub unsafe fn type_of(env: Env, v: Value) -> sys::napi_valuetype {
    let mut t = 0;
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    unsafe { sys::napi_typeof(env, v, &mut t) };
    t
}

pub unsafe fn f64_value(env: Env, x: f64) -> Result<Value, Fail> {
    let mut out = ptr::null_mut();
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    ok(unsafe { sys::napi_create_double(env, x, &mut out) }, "create_double")?;
    Ok(out)
}

pub unsafe fn i32_value(env: Env, x: i32) -> Result<Value, Fail> {
    let mut out = ptr::null_mut();
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    ok(unsafe { sys::napi_create_int32(env, x, &mut out) }, "create_int32")?;
    Ok(out)
}

pub unsafe fn u32_value(env: Env, x: u32) -> Result<Value, Fail> {
    let mut out = ptr::null_mut();
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    ok(unsafe { sys::napi_create_uint32(env, x, &mut out) }, "create_uint32")?;
    Ok(out)
}

pub unsafe fn bigint_value(env: Env, x: i64) -> Result<Value, Fail> {
    let mut out = ptr::null_mut();
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    ok(unsafe { sys::napi_create_bigint_int64(env, x, &mut out) }, "create_bigint")?;
    Ok(out)
}

/// A BigInt in [-2^63, 2^64) as the i64 with the same bits; `None` when out of range.
pub unsafe fn get_bigint_bits(env: Env, v: Value) -> Result<Option<i64>, Fail> {
    let mut signed = 0i64;
    let mut lossless = false;
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    ok(unsafe { sys::napi_get_value_bigint_int64(env, v, &mut signed, &mut lossless) }, "bigint")?;
    if lossless {
        return Ok(Some(signed));
    }
    let mut unsigned = 0u64;
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    ok(unsafe { sys::napi_get_value_bigint_uint64(env, v, &mut unsigned, &mut lossless) }, "bigint")?;
    Ok(lossless.then_some(unsigned as i64))
}

pub unsafe fn null(env: Env) -> Value {
    let mut out = ptr::null_mut();
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    unsafe { sys::napi_get_null(env, &mut out) };
    out
}

pub unsafe fn undefined(env: Env) -> Value {
    let mut out = ptr::null_mut();
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    unsafe { sys::napi_get_undefined(env, &mut out) };
    out
}

pub unsafe fn string_value(env: Env, s: &str) -> Result<Value, Fail> {
    let mut out = ptr::null_mut();
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    ok(unsafe { sys::napi_create_string_utf8(env, s.as_ptr().cast(), s.len() as isize, &mut out) }, "create_string")?;
    Ok(out)
}

pub unsafe fn array(env: Env, len: usize) -> Result<Value, Fail> {
    let mut out = ptr::null_mut();
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    ok(unsafe { sys::napi_create_array_with_length(env, len, &mut out) }, "create_array")?;
    Ok(out)
}

pub unsafe fn set_element(env: Env, arr: Value, i: u32, v: Value) -> Result<(), Fail> {
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    ok(unsafe { sys::napi_set_element(env, arr, i, v) }, "set_element")
}

pub unsafe fn get_element(env: Env, arr: Value, i: u32) -> Result<Value, Fail> {
    let mut out = ptr::null_mut();
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    ok(unsafe { sys::napi_get_element(env, arr, i, &mut out) }, "get_element")?;
    Ok(out)
}

pub unsafe fn array_length(env: Env, arr: Value) -> Result<Option<u32>, Fail> {
    let mut is = false;
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    ok(unsafe { sys::napi_is_array(env, arr, &mut is) }, "is_array")?;
    if !is {
        return Ok(None);
    }
    let mut len = 0;
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    ok(unsafe { sys::napi_get_array_length(env, arr, &mut len) }, "array_length")?;
    Ok(Some(len))
}

/// A fresh Uint8Array holding a copy of `bytes`.
pub unsafe fn uint8_array_copy(env: Env, bytes: &[u8]) -> Result<Value, Fail> {
    let mut data: *mut std::ffi::c_void = ptr::null_mut();
    let mut ab = ptr::null_mut();
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    ok(unsafe { sys::napi_create_arraybuffer(env, bytes.len(), &mut data, &mut ab) }, "create_arraybuffer")?;
    if !bytes.is_empty() {
        // SAFETY: N-API just allocated `bytes.len()` writable bytes at `data`.
        unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), data.cast::<u8>(), bytes.len()) };
    }
    let mut out = ptr::null_mut();
    ok(unsafe { sys::napi_create_typedarray(env, sys::TypedarrayType::uint8_array, bytes.len(), ab, 0, &mut out) }, "create_typedarray")?;
    Ok(out)
}

/// The bytes of an ArrayBuffer, a typed array or a DataView (any element type), borrowed for
/// the current callback. `None` when `v` is none of those.
pub unsafe fn bytes_of<'a>(env: Env, v: Value) -> Result<Option<&'a [u8]>, Fail> {
    let mut is = false;
    let mut data: *mut std::ffi::c_void = ptr::null_mut();
    let mut len = 0usize;
    // The ArrayBuffer behind `v` (`v` itself for an ArrayBuffer).
    let mut ab = v;
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    unsafe { sys::napi_is_typedarray(env, v, &mut is) };
    if is {
        let mut ty = 0;
        let mut elems = 0usize;
        let mut off = 0usize;
        // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
        ok(unsafe { sys::napi_get_typedarray_info(env, v, &mut ty, &mut elems, &mut data, &mut ab, &mut off) }, "typedarray_info")?;
        len = elems * typed_array_elem_size(ty);
    } else {
        // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
        unsafe { sys::napi_is_dataview(env, v, &mut is) };
        if is {
            let mut off = 0usize;
            // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
            ok(unsafe { sys::napi_get_dataview_info(env, v, &mut len, &mut data, &mut ab, &mut off) }, "dataview_info")?;
        } else {
            // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
            unsafe { sys::napi_is_arraybuffer(env, v, &mut is) };
            if !is {
                return Ok(None);
            }
            // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
            ok(unsafe { sys::napi_get_arraybuffer_info(env, v, &mut data, &mut len) }, "arraybuffer_info")?;
        }
    }
    if len == 0 || data.is_null() {
        // Only an empty buffer can be a detached one: checked here, off the hot path.
        let mut detached = false;
        // SAFETY: `ab` is the live ArrayBuffer handle behind `v`.
        unsafe { sys::napi_is_detached_arraybuffer(env, ab, &mut detached) };
        if detached {
            return Err(Fail::invalid_value("the ArrayBuffer is detached (transferred or closed): its bytes are gone"));
        }
        return Ok(Some(&[]));
    }
    // SAFETY: N-API reported `len` readable bytes at `data`, alive while `v` is (this callback).
    Ok(Some(unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) }))
}

fn typed_array_elem_size(ty: sys::napi_typedarray_type) -> usize {
    use sys::TypedarrayType as T;
    match ty {
        T::int16_array | T::uint16_array => 2,
        T::int32_array | T::uint32_array | T::float32_array => 4,
        T::float64_array | T::bigint64_array | T::biguint64_array => 8,
        _ => 1,
    }
}

pub unsafe fn call_function(env: Env, f: Value, args: &[Value]) -> Result<Value, Fail> {
    let mut out = ptr::null_mut();
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    let recv = unsafe { undefined(env) };
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    ok(unsafe { sys::napi_call_function(env, recv, f, args.len(), args.as_ptr(), &mut out) }, "call_function")?;
    Ok(out)
}

pub unsafe fn reference_value(env: Env, r: sys::napi_ref) -> Option<Value> {
    let mut out = ptr::null_mut();
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    let status = unsafe { sys::napi_get_reference_value(env, r, &mut out) };
    (status == sys::Status::napi_ok && !out.is_null()).then_some(out)
}

pub unsafe fn new_reference(env: Env, v: Value, count: u32) -> Result<sys::napi_ref, Fail> {
    let mut out = ptr::null_mut();
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    ok(unsafe { sys::napi_create_reference(env, v, count, &mut out) }, "create_reference")?;
    Ok(out)
}

pub unsafe fn take_exception(env: Env) -> Value {
    let mut out = ptr::null_mut();
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    unsafe { sys::napi_get_and_clear_last_exception(env, &mut out) };
    out
}

/// Whether Node is tearing down `env`'s thread (`worker.terminate()`, `process.exit()`): N-API then
/// refuses to run JS, which a read of a plain data property of the global object shows without
/// running any. (Node sets that state from the terminating thread; nothing else of it can be seen
/// from a thread that is busy in wasm.)
///
/// SAFETY: `env` is this thread's live env, inside a callback (not on a fiber stack).
pub unsafe fn env_stopping(env: Env) -> bool {
    // SAFETY: the contract above; the scope keeps the probe's handles from accumulating.
    let _scope = unsafe { HandleScope::open(env) };
    let (mut global, mut value) = (ptr::null_mut(), ptr::null_mut());
    // SAFETY: as above.
    if unsafe { sys::napi_get_global(env, &mut global) } != sys::Status::napi_ok {
        return false;
    }
    // SAFETY: as above; `undefined` is a non-writable data property of every global object.
    let status = unsafe { sys::napi_get_named_property(env, global, c"undefined".as_ptr(), &mut value) };
    status == sys::Status::napi_pending_exception || status == sys::Status::napi_cannot_run_js
}

/// A handle scope closed on drop, so that a long-running guest calling the host in a loop does
/// not accumulate handles in the outer callback's scope.
pub struct HandleScope(Env, sys::napi_handle_scope);

impl HandleScope {
    pub unsafe fn open(env: Env) -> Self {
        let mut s = ptr::null_mut();
        // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
        unsafe { sys::napi_open_handle_scope(env, &mut s) };
        HandleScope(env, s)
    }
}

impl Drop for HandleScope {
    fn drop(&mut self) {
        if !self.1.is_null() {
            // SAFETY: the scope was opened on this env by `open` and scopes close in LIFO order
            // because `HandleScope` values are only kept on the stack.
            unsafe { sys::napi_close_handle_scope(self.0, self.1) };
        }
    }
}

/// The native object behind a JS instance of one of our `#[napi]` classes, or `None` when `v` is
/// not an instance of `T`. (napi-rs only converts class references in generated argument glue;
/// values found inside arrays or passed as `unknown` come through here.)
///
/// SAFETY: `v` must be a live handle of the current callback; the returned reference must not
/// outlive the callback (the JS object, which owns the native value, is kept alive by it).
pub unsafe fn unwrap_class<'a, T: napi::bindgen_prelude::TypeTag + 'static>(env: Env, v: Value) -> Option<&'a T> {
    unsafe {
        if type_of(env, v) != sys::ValueType::napi_object {
            return None;
        }
        let mut matches = false;
        let tag = T::type_tag();
        if sys::napi_check_object_type_tag(env, v, &tag, &mut matches) != sys::Status::napi_ok || !matches {
            return None;
        }
        let mut p: *mut std::ffi::c_void = ptr::null_mut();
        if sys::napi_unwrap(env, v, &mut p) != sys::Status::napi_ok || p.is_null() {
            return None;
        }
        Some(&*(p as *const T))
    }
}

pub unsafe fn is_promise(env: Env, v: Value) -> bool {
    let mut is = false;
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    unsafe { sys::napi_is_promise(env, v, &mut is) };
    is
}

unsafe extern "C" fn ignore(_env: sys::napi_env, _info: sys::napi_callback_info) -> sys::napi_value {
    ptr::null_mut()
}

/// `promise.catch(() => {})`: a rejection of a promise nobody awaits must not take the process
/// down as an unhandled rejection.
pub unsafe fn mark_handled(env: Env, promise: Value) -> Result<(), Fail> {
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    unsafe {
        let mut catch = ptr::null_mut();
        ok(sys::napi_get_named_property(env, promise, c"catch".as_ptr(), &mut catch), "get catch")?;
        let mut noop = ptr::null_mut();
        ok(sys::napi_create_function(env, c"ignore".as_ptr(), 6, Some(ignore), ptr::null_mut(), &mut noop), "create_function")?;
        let mut out = ptr::null_mut();
        ok(sys::napi_call_function(env, promise, catch, 1, &noop, &mut out), "call catch")
    }
}

// Plain objects and scalars, for the component model's values (call/component_values.rs), which
// are built and read property by property.

/// SAFETY (caller): `env` is this thread's live env, inside a callback; value handles are live in its current scope.
pub unsafe fn object(env: Env) -> Result<Value, Fail> {
    let mut out = ptr::null_mut();
    // SAFETY: `env` is this thread's live env (this fn's contract).
    ok(unsafe { sys::napi_create_object(env, &mut out) }, "create_object")?;
    Ok(out)
}

/// SAFETY (caller): `env` is this thread's live env, inside a callback; value handles are live in its current scope.
pub unsafe fn set_named(env: Env, obj: Value, key: &str, v: Value) -> Result<(), Fail> {
    // SAFETY: this fn's contract.
    let k = unsafe { string_value(env, key) }?;
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    ok(unsafe { sys::napi_set_property(env, obj, k, v) }, "set_property")
}

/// SAFETY (caller): `env` is this thread's live env, inside a callback; value handles are live in its current scope.
pub unsafe fn get_named(env: Env, obj: Value, key: &str) -> Result<Value, Fail> {
    // SAFETY: this fn's contract.
    let k = unsafe { string_value(env, key) }?;
    let mut out = ptr::null_mut();
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    ok(unsafe { sys::napi_get_property(env, obj, k, &mut out) }, "get_property")?;
    Ok(out)
}

/// SAFETY (caller): `env` is this thread's live env, inside a callback; value handles are live in its current scope.
pub unsafe fn bool_value(env: Env, b: bool) -> Result<Value, Fail> {
    let mut out = ptr::null_mut();
    // SAFETY: `env` is this thread's live env (this fn's contract).
    ok(unsafe { sys::napi_get_boolean(env, b, &mut out) }, "get_boolean")?;
    Ok(out)
}

/// SAFETY (caller): `env` is this thread's live env, inside a callback; value handles are live in its current scope.
pub unsafe fn bool_of(env: Env, v: Value) -> Result<bool, Fail> {
    let mut b = false;
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    ok(unsafe { sys::napi_get_value_bool(env, v, &mut b) }, "get_value_bool")?;
    Ok(b)
}

/// SAFETY (caller): `env` is this thread's live env, inside a callback; value handles are live in its current scope.
pub unsafe fn f64_of(env: Env, v: Value) -> Result<f64, Fail> {
    let mut x = 0.0;
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    ok(unsafe { sys::napi_get_value_double(env, v, &mut x) }, "get_value_double")?;
    Ok(x)
}

/// A JS string's UTF-8 (lone surrogates become U+FFFD, as TextEncoder does).
/// SAFETY (caller): `env` is this thread's live env, inside a callback; value handles are live in its current scope.
pub unsafe fn string_of(env: Env, v: Value) -> Result<String, Fail> {
    let mut len = 0usize;
    // SAFETY: `env` is this thread's live env and the handles are live in the current scope (this fn's contract).
    ok(unsafe { sys::napi_get_value_string_utf8(env, v, ptr::null_mut(), 0, &mut len) }, "string length")?;
    let mut buf = vec![0u8; len + 1];
    // SAFETY: `buf` has room for `len` bytes and the terminating NUL N-API writes.
    ok(unsafe { sys::napi_get_value_string_utf8(env, v, buf.as_mut_ptr().cast(), buf.len(), &mut len) }, "string")?;
    buf.truncate(len);
    Ok(String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// SAFETY (caller): `env` is this thread's live env, inside a callback; value handles are live in its current scope.
pub unsafe fn u64_bigint_value(env: Env, x: u64) -> Result<Value, Fail> {
    let mut out = ptr::null_mut();
    // SAFETY: `env` is this thread's live env (this fn's contract).
    ok(unsafe { sys::napi_create_bigint_uint64(env, x, &mut out) }, "create_bigint_uint64")?;
    Ok(out)
}

/// A JS object of `#[napi]` class `T` around `value` (`js_name`: the class's JS name and a NUL,
/// napi-rs's key for it), made the light way:
/// `napi_wrap` with our own finalizer, and the class's type tag so that napi-rs's method glue and
/// `unwrap_class` accept it. napi-rs's own way (`T::into_instance`) also keeps a second reference
/// per object, a boxed callback list and an entry in a per-thread map — ≈ 300 bytes held until
/// the finalizer runs, which per-request objects (stores, instances) pile up in synchronous loops,
/// and a few hundred nanoseconds per object. Nothing here uses `Reference<T>`, which needs them.
/// SAFETY (caller): `env` is this thread's live env, inside a callback; value handles are live in its current scope.
pub unsafe fn light_instance<T: napi::bindgen_prelude::TypeTag + 'static>(
    env: Env,
    js_name: &'static str,
    value: T,
) -> Result<Value, Fail> {
    let ctor_ref = napi::__private::get_class_constructor(js_name)
        .ok_or_else(|| Fail::internal(format!("class {js_name} is not registered in this thread")))?;
    // SAFETY: `env` is this thread's live env, inside a callback (this fn's contract); the
    // constructor reference is napi-rs's, alive as long as the env.
    unsafe {
        let mut ctor = ptr::null_mut();
        ok(sys::napi_get_reference_value(env, ctor_ref, &mut ctor), "class constructor")?;
        // The factory flag makes napi-rs's constructor glue return `this` untouched.
        napi::__private::___CALL_FROM_FACTORY.with(|f| f.set(true));
        let mut obj = ptr::null_mut();
        let status = sys::napi_new_instance(env, ctor, 0, ptr::null_mut(), &mut obj);
        napi::__private::___CALL_FROM_FACTORY.with(|f| f.set(false));
        ok(status, "new instance")?;
        wrap_tagged(env, obj, value)?;
        Ok(obj)
    }
}

/// Attach `value` to the JS object `obj` (`napi_wrap`, freed by its finalizer) with `T`'s type
/// tag, so that `unwrap_class::<T>` finds it.
/// SAFETY (caller): `env` is this thread's live env, inside a callback; `obj` is a live object
/// handle of its current scope that has no wrapped value yet.
pub unsafe fn wrap_tagged<T: napi::bindgen_prelude::TypeTag + 'static>(env: Env, obj: Value, value: T) -> Result<(), Fail> {
    /// SAFETY (caller: Node, once): `data` is the `Box<T>` this function was registered with.
    unsafe extern "C" fn drop_box<T>(_env: sys::napi_env, data: *mut std::ffi::c_void, _hint: *mut std::ffi::c_void) {
        // SAFETY: `data` is the `Box<T>` given to `napi_wrap` below, finalized once.
        drop(unsafe { Box::from_raw(data.cast::<T>()) });
    }
    // SAFETY: the caller's contract.
    unsafe {
        let data = Box::into_raw(Box::new(value));
        if let Err(e) = ok(sys::napi_wrap(env, obj, data.cast(), Some(drop_box::<T>), ptr::null_mut(), ptr::null_mut()), "wrap") {
            drop(Box::from_raw(data));
            return Err(e);
        }
        let tag = T::type_tag();
        ok(sys::napi_type_tag_object(env, obj, &tag), "type tag")
    }
}
