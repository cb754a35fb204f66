//! Checks of arguments that come from JS: integers, page counts, timeouts, wasm sources.
//! `lib/` validates types and option names first; these guard the native layer's own invariants.

use std::borrow::Cow;
use std::time::Duration;

use napi::ValueType;
use napi::bindgen_prelude::{BigInt, Either, Env, FromNapiValue, JsValue, Unknown};

use crate::base::error::{Fail, Res};
use crate::base::raw;

const MAX_SAFE_INTEGER: f64 = 9007199254740991.0;

/// An integer byte offset, length, index or count from JS, checked.
pub fn index_arg(x: f64, what: &str) -> Res<u64> {
    if !(x.fract() == 0.0 && (0.0..=MAX_SAFE_INTEGER).contains(&x)) {
        return Err(Fail::range(format!("{what} must be a non-negative integer, got {x}")));
    }
    Ok(x as u64)
}

/// A non-negative integer from JS (number or BigInt) as u64.
pub fn u64_arg(v: Either<f64, BigInt>, what: &str) -> Res<u64> {
    match v {
        Either::A(x) => index_arg(x, what),
        Either::B(b) => match b.get_u64() {
            (false, v, true) => Ok(v),
            _ => Err(Fail::range(format!("{what} must be an integer in [0, 2^64)"))),
        },
    }
}

/// A page count of a 32-bit memory.
pub fn pages(x: f64) -> Res<u32> {
    let p = index_arg(x, "page count")?;
    if p > 65536 {
        return Err(Fail::range(format!("{p} pages exceeds the 65536 pages of a 32-bit memory")));
    }
    Ok(p as u32)
}

/// A table size: `u32::MAX` at most (wasmtime's own bound for 32-bit tables).
pub fn table_size(x: f64, what: &str) -> Res<u32> {
    Ok(index_arg(x, what)?.min(u32::MAX as u64) as u32)
}

/// The bound of Node's own timers (about 24.8 days); beyond it a deadline could overflow.
const MAX_TIMEOUT_MS: f64 = 2147483647.0;

/// A timeout in milliseconds (`None`: no timeout).
pub fn timeout(ms: Option<f64>) -> Res<Option<Duration>> {
    match ms {
        None => Ok(None),
        Some(ms) if (0.0..=MAX_TIMEOUT_MS).contains(&ms) => Ok(Some(Duration::from_secs_f64(ms / 1000.0))),
        Some(ms) => Err(Fail::range(format!("timeoutMs must be a number of milliseconds in [0, {MAX_TIMEOUT_MS}], got {ms}"))),
    }
}

/// WAT text compiled to wasm bytes.
pub fn wat(text: &str) -> Res<Vec<u8>> {
    wat::parse_str(text).map_err(|e| Fail::compile(format!("invalid WAT: {e}")))
}

/// Wasm bytes from a string (WAT text) or a BufferSource (binary).
pub fn wasm_bytes(env: &Env, source: &Unknown) -> Res<Cow<'static, [u8]>> {
    if source.get_type().map_err(|_| Fail::Pending)? == ValueType::String {
        let text = String::from_unknown(*source).map_err(|_| Fail::type_error("invalid string"))?;
        return Ok(wat(&text)?.into());
    }
    match bytes(env, source)? {
        Some(b) => Ok(b.to_vec().into()),
        None => Err(Fail::type_error("expected wasm bytes (an ArrayBuffer or a typed array) or WAT text (a string)")),
    }
}

/// The bytes of an ArrayBuffer, any typed array or a DataView, borrowed for the current call
/// (`None` when `v` is none of those).
pub fn bytes<'a>(env: &Env, v: &Unknown) -> Res<Option<&'a [u8]>> {
    // SAFETY: `v` is a live handle of the current callback on this env.
    unsafe { raw::bytes_of(env.raw(), v.raw()) }
}
