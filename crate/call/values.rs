//! Conversions between wasm values and JS values.
//!
//! i32/f32/f64 ↔ number, i64 ↔ BigInt, v128 ↔ 16-byte Uint8Array. References cross this layer in
//! a "raw" form that `lib/` completes: a funcref is a `NativeFunc` object (or null), an externref
//! is the index of its payload in the JS store's externref table (or null). Keeping externref
//! payloads on the JS side means native code never holds a JS object (see crate/lib.rs).

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::JavaScriptClassExt;
use napi::sys::ValueType as VT;
use wasmtime::{AsContextMut, ExternRef, Func, HeapType, Ref, StoreContextMut, V128, Val, ValRaw, ValType};

use crate::base::error::{Fail, Res};
use crate::base::raw as js;
use crate::call::func::NativeFunc;
use crate::store::core::{Host, StoreCore};

/// The payload of every externref we create: a slot in the JS-side table. Dropping it (wasmtime's
/// GC found it unreachable) queues the slot for reuse by `lib/`.
pub struct ExternSlot {
    pub id: u32,
    freed: Arc<Mutex<Vec<u32>>>,
}

impl Drop for ExternSlot {
    fn drop(&mut self) {
        if let Ok(mut v) = self.freed.lock() {
            v.push(self.id);
        }
    }
}

fn describe(env: js::Env, v: js::Value) -> &'static str {
    // SAFETY: `v` is a live handle of the current callback.
    match unsafe { js::type_of(env, v) } {
        VT::napi_undefined => "undefined",
        VT::napi_null => "null",
        VT::napi_boolean => "a boolean",
        VT::napi_number => "a number",
        VT::napi_string => "a string",
        VT::napi_symbol => "a symbol",
        VT::napi_object => "an object",
        VT::napi_function => "a function",
        VT::napi_bigint => "a BigInt",
        _ => "an external",
    }
}

fn expect(env: js::Env, v: js::Value, want: &str) -> Fail {
    Fail::type_error(format!("expected {want}, got {}", describe(env, v)))
}

/// A JS number; any other type is a TypeError. One N-API call on the hot path: the type is
/// looked up only to word the error.
#[inline]
unsafe fn number(env: js::Env, v: js::Value, want: &str) -> Res<f64> {
    let mut out = 0.0;
    // SAFETY: `v` is a live handle; napi_get_value_double only reads it.
    if unsafe { napi::sys::napi_get_value_double(env, v, &mut out) } == napi::sys::Status::napi_ok {
        return Ok(out);
    }
    Err(expect(env, v, want))
}

#[inline]
fn i32_of(x: f64) -> Res<i32> {
    // In range and integral: the i64 round trip is exact exactly then (NaN fails it too).
    let i = x as i64;
    if i as f64 != x || !(-2147483648..4294967296).contains(&i) {
        return Err(Fail::range(format!("{x} is not an i32 (an integer in [-2^31, 2^32))")));
    }
    Ok(i as u32 as i32)
}

unsafe fn i64_of(env: js::Env, v: js::Value) -> Res<i64> {
    // SAFETY: JS-thread conversion; `env` and the value handles are live in the current callback scope.
    unsafe {
        if js::type_of(env, v) != VT::napi_bigint {
            return Err(expect(env, v, "a BigInt (i64)"));
        }
        js::get_bigint_bits(env, v)?.ok_or_else(|| Fail::range("BigInt is not an i64 (outside [-2^63, 2^64))"))
    }
}

unsafe fn v128_of(env: js::Env, v: js::Value) -> Res<u128> {
    // SAFETY: JS-thread conversion; `env` and the value handles are live in the current callback scope.
    match unsafe { js::bytes_of(env, v) } {
        Ok(Some(b)) if b.len() == 16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            Ok(u128::from_le_bytes(a))
        }
        _ => Err(Fail::type_error("expected a 16-byte Uint8Array (v128)")),
    }
}

/// A JS value as a wasm value of type `ty`. Strict: no coercion from strings, and i32 must be an
/// integer in [-2^31, 2^32) (unsigned values wrap, as a u32 bit pattern).
pub unsafe fn to_val(env: js::Env, v: js::Value, ty: &ValType, cx: &mut StoreContextMut<'_, Host>) -> Res<Val> {
    // SAFETY: JS-thread conversion; `env` and the value handles are live in the current callback scope.
    unsafe {
        Ok(match ty {
            ValType::I32 => Val::I32(i32_of(number(env, v, "a number (i32)")?)?),
            ValType::I64 => Val::I64(i64_of(env, v)?),
            ValType::F32 => Val::F32((number(env, v, "a number (f32)")? as f32).to_bits()),
            ValType::F64 => Val::F64(number(env, v, "a number (f64)")?.to_bits()),
            ValType::V128 => Val::V128(V128::from(v128_of(env, v)?)),
            ValType::Ref(r) => Val::from(to_ref(env, v, r.heap_type(), cx)?),
        })
    }
}

/// `to_val` straight into the raw form `Func::call_unchecked` takes. References are rooted in
/// the caller's `RootScope`, which must outlive the call.
pub unsafe fn to_raw(env: js::Env, v: js::Value, ty: &ValType, cx: &mut StoreContextMut<'_, Host>) -> Res<ValRaw> {
    match ty {
        // SAFETY: JS-thread conversion; `env` and the value handles are live in the current callback scope.
        ValType::Ref(_) => unsafe { to_val(env, v, ty, cx)?.to_raw(&mut *cx).map_err(|e| Fail::wasmtime(format!("{e:#}"))) },
        // SAFETY: as above.
        _ => unsafe { quick_to_raw(env, v, ty) },
    }
}

/// `num_to_raw` with the common case first: a number that is an i32 or, for floats, any
/// number, read with one N-API call; everything else (u32 range, errors, i64, v128) goes the
/// general way.
///
/// SAFETY (caller): on the JS thread of `env`, inside a callback; `v` is a live handle of its scope.
#[inline(always)]
pub unsafe fn quick_to_raw(env: js::Env, v: js::Value, ty: &ValType) -> Res<ValRaw> {
    let mut x = 0.0f64;
    if matches!(ty, ValType::I32 | ValType::F32 | ValType::F64)
        // SAFETY: `v` is a live handle; napi_get_value_double only reads it.
        && unsafe { napi::sys::napi_get_value_double(env, v, &mut x) } == napi::sys::Status::napi_ok
    {
        match ty {
            ValType::F64 => return Ok(ValRaw::f64(x.to_bits())),
            ValType::F32 => return Ok(ValRaw::f32((x as f32).to_bits())),
            _ if (x as i32) as f64 == x => return Ok(ValRaw::i32(x as i32)),
            _ => {}
        }
    }
    // SAFETY: per this function's contract.
    unsafe { num_to_raw(env, v, ty) }
}

/// `num_from_raw` with an i32 result made inline.
///
/// SAFETY (caller): on the JS thread of `env`, inside a callback (the value is made in its scope).
#[inline(always)]
pub unsafe fn quick_from_raw(env: js::Env, raw: ValRaw, ty: &ValType) -> Res<js::Value> {
    if let ValType::I32 = ty {
        let mut out = std::ptr::null_mut();
        // SAFETY: `env` is this thread's live env, inside a callback.
        if unsafe { napi::sys::napi_create_int32(env, raw.get_i32(), &mut out) } == napi::sys::Status::napi_ok {
            return Ok(out);
        }
    }
    // SAFETY: per this function's contract.
    unsafe { num_from_raw(env, raw, ty) }
}

/// `to_raw` of a numeric type (no store needed). A reference type is an internal error.
///
/// SAFETY (caller): on the JS thread of `env`, inside a callback; `v` is a live handle of its scope.
#[inline]
pub unsafe fn num_to_raw(env: js::Env, v: js::Value, ty: &ValType) -> Res<ValRaw> {
    // SAFETY: JS-thread conversion; `env` and the value handles are live in the current callback scope.
    unsafe {
        Ok(match ty {
            ValType::I32 => ValRaw::i32(i32_of(number(env, v, "a number (i32)")?)?),
            ValType::I64 => ValRaw::i64(i64_of(env, v)?),
            ValType::F32 => ValRaw::f32((number(env, v, "a number (f32)")? as f32).to_bits()),
            ValType::F64 => ValRaw::f64(number(env, v, "a number (f64)")?.to_bits()),
            ValType::V128 => ValRaw::v128(v128_of(env, v)?),
            ValType::Ref(_) => return Err(Fail::internal("a reference in a numeric conversion")),
        })
    }
}

/// A raw wasm value of type `ty` as a JS value.
pub unsafe fn from_raw(env: js::Env, raw: ValRaw, ty: &ValType, core: &StoreCore, cx: &mut StoreContextMut<'_, Host>) -> Res<js::Value> {
    // SAFETY: JS-thread conversion; `env` and the value handles are live in the current callback scope.
    unsafe {
        match ty {
            ValType::Ref(_) => {
                let val = Val::from_raw(&mut *cx, raw, ty.clone());
                from_val(env, &val, core, cx)
            }
            _ => quick_from_raw(env, raw, ty),
        }
    }
}

/// `from_raw` of a numeric type (no store needed). A reference type is an internal error.
///
/// SAFETY (caller): on the JS thread of `env`, inside a callback (the value is made in its scope).
#[inline]
pub unsafe fn num_from_raw(env: js::Env, raw: ValRaw, ty: &ValType) -> Res<js::Value> {
    // SAFETY: JS-thread conversion; `env` and the value handles are live in the current callback scope.
    unsafe {
        match ty {
            ValType::I32 => js::i32_value(env, raw.get_i32()),
            ValType::I64 => js::bigint_value(env, raw.get_i64()),
            ValType::F32 => js::f64_value(env, f32::from_bits(raw.get_f32()) as f64),
            ValType::F64 => js::f64_value(env, f64::from_bits(raw.get_f64())),
            ValType::V128 => js::uint8_array_copy(env, &raw.get_v128().to_le_bytes()),
            ValType::Ref(_) => Err(Fail::internal("a reference in a numeric conversion")),
        }
    }
}

pub unsafe fn to_ref(env: js::Env, v: js::Value, heap: &HeapType, cx: &mut StoreContextMut<'_, Host>) -> Res<Ref> {
    // SAFETY: JS-thread conversion; `env` and the value handles are live in the current callback scope.
    unsafe {
        let is_null = js::type_of(env, v) == VT::napi_null;
        match heap {
            HeapType::Func | HeapType::ConcreteFunc(_) | HeapType::NoFunc => {
                if is_null {
                    return Ok(Ref::Func(None));
                }
                let f = js::unwrap_class::<NativeFunc>(env, v).ok_or_else(|| expect(env, v, "a function or null (funcref)"))?;
                f.core().belongs_to(cx, "this function belongs to another store")?;
                Ok(Ref::Func(Some(f.func)))
            }
            HeapType::Extern | HeapType::NoExtern => {
                if is_null {
                    return Ok(Ref::Extern(None));
                }
                let id = number(env, v, "an externref slot")? as u32;
                let freed = cx.data().freed_externs.clone();
                let r = ExternRef::new(cx.as_context_mut(), ExternSlot { id, freed }).map_err(|e| Fail::wasmtime(format!("{e:#}")))?;
                Ok(Ref::Extern(Some(r)))
            }
            _ => Err(Fail::type_error("this reference type cannot cross the JS boundary")),
        }
    }
}

/// A wasm value as a JS value (references in their raw form, see the module comment).
pub unsafe fn from_val(env: js::Env, val: &Val, core: &StoreCore, cx: &mut StoreContextMut<'_, Host>) -> Res<js::Value> {
    // SAFETY: JS-thread conversion; `env` and the value handles are live in the current callback scope.
    unsafe {
        match val {
            Val::I32(x) => js::i32_value(env, *x),
            Val::I64(x) => js::bigint_value(env, *x),
            Val::F32(bits) => js::f64_value(env, f32::from_bits(*bits) as f64),
            Val::F64(bits) => js::f64_value(env, f64::from_bits(*bits)),
            Val::V128(v) => js::uint8_array_copy(env, &v.as_u128().to_le_bytes()),
            Val::FuncRef(f) => func_value(env, *f, core, cx),
            Val::ExternRef(r) => match r {
                None => Ok(js::null(env)),
                Some(r) => {
                    let data = r.data(&mut *cx).map_err(|e| Fail::wasmtime(format!("{e:#}")))?;
                    match data.and_then(|d| d.downcast_ref::<ExternSlot>()) {
                        Some(slot) => js::u32_value(env, slot.id),
                        None => Ok(js::null(env)),
                    }
                }
            },
            _ => Err(Fail::type_error("this reference type cannot cross the JS boundary")),
        }
    }
}

pub unsafe fn from_ref(env: js::Env, r: &Ref, core: &StoreCore, cx: &mut StoreContextMut<'_, Host>) -> Res<js::Value> {
    let val = match r {
        Ref::Func(f) => Val::FuncRef(*f),
        Ref::Extern(e) => Val::ExternRef(*e),
        _ => return Err(Fail::type_error("this reference type cannot cross the JS boundary")),
    };
    // SAFETY: JS-thread conversion; `env` and the value handles are live in the current callback scope.
    unsafe { from_val(env, &val, core, cx) }
}

unsafe fn func_value(env: js::Env, f: Option<Func>, core: &StoreCore, cx: &mut StoreContextMut<'_, Host>) -> Res<js::Value> {
    match f {
        // SAFETY: JS-thread conversion; `env` and the value handles are live in the current callback scope.
        None => Ok(unsafe { js::null(env) }),
        Some(f) => {
            let nf = NativeFunc::new(core.rc()?, f, &*cx);
            let env = napi::Env::from_raw(env);
            let value = nf.into_instance(&env).map_err(|_| Fail::Pending)?.value;
            Ok(value)
        }
    }
}
