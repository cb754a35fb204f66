//! WIT values ↔ JS values, mapped exactly as jco's transpiled bindings map them, so that code
//! written against a jco-transpiled component runs unchanged: bool; s8–u32, f32, f64 ↔ number;
//! s64/u64 ↔ BigInt; char/string ↔ string; a list of numbers ↔ the typed array of its element
//! type (`list<u8>` ↔ Uint8Array, `list<u32>` ↔ Uint32Array, `list<s64>` ↔ BigInt64Array…; an
//! Array is accepted too), other lists and tuples ↔ Array; record ↔ object with camelCase keys; variant ↔ `{ tag, val }`; enum ↔ string; flags ↔
//! object of booleans (camelCase keys); option ↔ value or undefined (an option of an option: the
//! outer one as `{ tag: 'some', val } | { tag: 'none' }`); result ↔ `{ tag: 'ok' | 'err', val }`
//! (a function's own result is unwrapped by lib/component.ts: returned, or thrown as a
//! `ComponentError`).
//!
//! A wrong JS value is a `TypeError` `ERR_INVALID_ARG_TYPE` (or `RangeError` `ERR_OUT_OF_RANGE`
//! for a number out of its type's range) whose message names the value's path: `p.x[2]`.

use napi::sys;
use wasmtime::component::{Type, Val};

use crate::base::error::{Fail, Res};
use crate::base::raw::{self as js, Env, Value};
use crate::call::component_resources::{Conv, from_resource, to_resource};

/// jco's name for a WIT identifier in JS: kebab-case to lowerCamelCase (`max-size` → `maxSize`).
pub fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '-' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn wrong(path: &str, expected: &str) -> Fail {
    Fail::type_error(format!("{path}: expected {expected}"))
}

fn kind_of(env: Env, v: Value) -> sys::napi_valuetype {
    // SAFETY: `v` is a live handle of the current callback (this module's contract).
    unsafe { js::type_of(env, v) }
}

fn is(env: Env, v: Value, t: sys::napi_valuetype) -> bool {
    kind_of(env, v) == t
}

fn absent(env: Env, v: Value) -> bool {
    matches!(kind_of(env, v), sys::ValueType::napi_undefined | sys::ValueType::napi_null)
}

/// An integral number in `[lo, hi]`.
fn int(env: Env, v: Value, path: &str, ty: &str, lo: f64, hi: f64) -> Res<f64> {
    if !is(env, v, sys::ValueType::napi_number) {
        return Err(wrong(path, &format!("a number ({ty})")));
    }
    // SAFETY: `v` is a number handle of the current callback.
    let x = unsafe { js::f64_of(env, v) }?;
    if x.fract() != 0.0 || !(lo..=hi).contains(&x) {
        return Err(Fail::range(format!("{path}: expected an integer in [{lo}, {hi}] ({ty}), got {x}")));
    }
    Ok(x)
}

/// A BigInt (or an integral number, as jco accepts) in the range of a 64-bit integer type.
fn int64(env: Env, v: Value, path: &str, signed: bool) -> Res<i64> {
    let ty = if signed { "s64" } else { "u64" };
    match kind_of(env, v) {
        sys::ValueType::napi_bigint => {
            // SAFETY: `v` is a BigInt handle of the current callback.
            let bits = unsafe { js::get_bigint_bits(env, v) }?;
            let mut neg_check = 0i64;
            let mut lossless = false;
            // SAFETY: as above.
            unsafe { sys::napi_get_value_bigint_int64(env, v, &mut neg_check, &mut lossless) };
            let in_range = match bits {
                Some(_) if signed => lossless,
                Some(_) => !(lossless && neg_check < 0),
                None => false,
            };
            match bits {
                Some(b) if in_range => Ok(b),
                _ => Err(Fail::range(format!("{path}: the BigInt is out of the range of {ty}"))),
            }
        }
        sys::ValueType::napi_number => {
            let (lo, hi) = if signed { (-(2f64.powi(53)) + 1.0, 2f64.powi(53) - 1.0) } else { (0.0, 2f64.powi(53) - 1.0) };
            Ok(int(env, v, path, ty, lo, hi)? as i64)
        }
        _ => Err(wrong(path, &format!("a BigInt ({ty})"))),
    }
}

fn number(env: Env, v: Value, path: &str, ty: &str) -> Res<f64> {
    if !is(env, v, sys::ValueType::napi_number) {
        return Err(wrong(path, &format!("a number ({ty})")));
    }
    // SAFETY: `v` is a number handle of the current callback.
    unsafe { js::f64_of(env, v) }
}

fn string(env: Env, v: Value, path: &str, what: &str) -> Res<String> {
    if !is(env, v, sys::ValueType::napi_string) {
        return Err(wrong(path, what));
    }
    // SAFETY: `v` is a string handle of the current callback.
    unsafe { js::string_of(env, v) }
}

fn object(env: Env, v: Value, path: &str, what: &str) -> Res<()> {
    match kind_of(env, v) {
        sys::ValueType::napi_object | sys::ValueType::napi_function => Ok(()),
        _ => Err(wrong(path, what)),
    }
}

fn get(env: Env, obj: Value, key: &str) -> Res<Value> {
    // SAFETY: `obj` is an object handle of the current callback.
    unsafe { js::get_named(env, obj, key) }
}

/// `{ tag, val }`: the tag, and the value (undefined when absent).
fn tagged(env: Env, v: Value, path: &str, what: &str) -> Res<(String, Value)> {
    object(env, v, path, what)?;
    let tag = string(env, get(env, v, "tag")?, &format!("{path}.tag"), "a string tag")?;
    Ok((tag, get(env, v, "val")?))
}

/// The elements of an Array, or of a typed array (jco's form of a list of numbers).
fn elements(env: Env, v: Value, path: &str) -> Res<Vec<Value>> {
    // SAFETY: `v` is a live handle of the current callback.
    let n = match unsafe { js::array_length(env, v) }? {
        Some(n) => n,
        // SAFETY: as above.
        None => match unsafe { typed_array_length(env, v) } {
            Some(n) => n,
            None => return Err(wrong(path, "an array")),
        },
    };
    // SAFETY: `v` is an array of length `n`.
    (0..n).map(|i| unsafe { js::get_element(env, v, i) }).collect()
}

/// The length of a typed array, or `None` when `v` is not one.
/// SAFETY (caller): on the JS thread of `env`, inside a callback; handles live in its current scope.
unsafe fn typed_array_length(env: Env, v: Value) -> Option<u32> {
    let mut is = false;
    // SAFETY: the caller's contract (a live handle of the current callback).
    unsafe { sys::napi_is_typedarray(env, v, &mut is) };
    if !is {
        return None;
    }
    let (mut ty, mut len, mut data, mut ab, mut off) = (0, 0usize, std::ptr::null_mut(), std::ptr::null_mut(), 0usize);
    // SAFETY: as above; `v` is a typed array.
    unsafe { sys::napi_get_typedarray_info(env, v, &mut ty, &mut len, &mut data, &mut ab, &mut off) };
    u32::try_from(len).ok()
}

/// jco's typed array for a list of `elem` (every numeric element type but `u8`'s Uint8Array,
/// handled apart), or `None` when a list of `elem` is a plain Array.
fn typed_array_kind(elem: &Type) -> Option<(sys::napi_typedarray_type, usize)> {
    use sys::TypedarrayType as T;
    Some(match elem {
        Type::S8 => (T::int8_array, 1),
        Type::S16 => (T::int16_array, 2),
        Type::U16 => (T::uint16_array, 2),
        Type::S32 => (T::int32_array, 4),
        Type::U32 => (T::uint32_array, 4),
        Type::S64 => (T::bigint64_array, 8),
        Type::U64 => (T::biguint64_array, 8),
        Type::Float32 => (T::float32_array, 4),
        Type::Float64 => (T::float64_array, 8),
        _ => return None,
    })
}

/// A fresh typed array of `kind` holding `items` (little-endian element bytes).
/// SAFETY (caller): on the JS thread of `env`, inside a callback; handles live in its current scope.
unsafe fn typed_array_of(env: Env, kind: (sys::napi_typedarray_type, usize), items: &[Val]) -> Res<Value> {
    let mut bytes = Vec::with_capacity(items.len() * kind.1);
    for v in items {
        match v {
            Val::S8(x) => bytes.extend(x.to_le_bytes()),
            Val::S16(x) => bytes.extend(x.to_le_bytes()),
            Val::U16(x) => bytes.extend(x.to_le_bytes()),
            Val::S32(x) => bytes.extend(x.to_le_bytes()),
            Val::U32(x) => bytes.extend(x.to_le_bytes()),
            Val::S64(x) => bytes.extend(x.to_le_bytes()),
            Val::U64(x) => bytes.extend(x.to_le_bytes()),
            Val::Float32(x) => bytes.extend(x.to_le_bytes()),
            Val::Float64(x) => bytes.extend(x.to_le_bytes()),
            _ => return Err(Fail::internal("a list element of another type than its list's")),
        }
    }
    // SAFETY: the caller's contract (on the JS thread, in a callback).
    unsafe {
        let u8s = js::uint8_array_copy(env, &bytes)?;
        let (mut t, mut len, mut data, mut ab, mut off) = (0, 0usize, std::ptr::null_mut(), std::ptr::null_mut(), 0usize);
        sys::napi_get_typedarray_info(env, u8s, &mut t, &mut len, &mut data, &mut ab, &mut off);
        let mut out = std::ptr::null_mut();
        let status = sys::napi_create_typedarray(env, kind.0, items.len(), ab, 0, &mut out);
        if status != sys::Status::napi_ok {
            return Err(Fail::internal("N-API call failed: create_typedarray"));
        }
        Ok(out)
    }
}

/// The JS value `v` as a value of WIT type `ty`; `path` names it in errors.
pub fn to_val(cv: &mut Conv<'_, '_>, v: Value, ty: &Type, path: &str) -> Res<Val> {
    let env = cv.env;
    Ok(match ty {
        Type::Bool => {
            if !is(env, v, sys::ValueType::napi_boolean) {
                return Err(wrong(path, "a boolean"));
            }
            // SAFETY: `v` is a boolean handle of the current callback.
            Val::Bool(unsafe { js::bool_of(env, v) }?)
        }
        Type::S8 => Val::S8(int(env, v, path, "s8", i8::MIN as f64, i8::MAX as f64)? as i8),
        Type::U8 => Val::U8(int(env, v, path, "u8", 0.0, u8::MAX as f64)? as u8),
        Type::S16 => Val::S16(int(env, v, path, "s16", i16::MIN as f64, i16::MAX as f64)? as i16),
        Type::U16 => Val::U16(int(env, v, path, "u16", 0.0, u16::MAX as f64)? as u16),
        Type::S32 => Val::S32(int(env, v, path, "s32", i32::MIN as f64, i32::MAX as f64)? as i32),
        Type::U32 => Val::U32(int(env, v, path, "u32", 0.0, u32::MAX as f64)? as u32),
        Type::S64 => Val::S64(int64(env, v, path, true)?),
        Type::U64 => Val::U64(int64(env, v, path, false)? as u64),
        Type::Float32 => Val::Float32(number(env, v, path, "f32")? as f32),
        Type::Float64 => Val::Float64(number(env, v, path, "f64")?),
        Type::Char => {
            let s = string(env, v, path, "a one-character string (char)")?;
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Val::Char(c),
                _ => {
                    return Err(Fail::invalid_value(format!(
                        "{path}: expected exactly one character (char), got {} characters",
                        s.chars().count()
                    )));
                }
            }
        }
        Type::String => Val::String(string(env, v, path, "a string")?),
        Type::List(l) => list(cv, v, &l.ty(), path)?,
        Type::FixedLengthList(l) => {
            let items = elements(env, v, path)?;
            let elem = l.ty();
            Val::FixedLengthList(items.iter().enumerate().map(|(i, &e)| to_val(cv, e, &elem, &format!("{path}[{i}]"))).collect::<Res<_>>()?)
        }
        Type::Record(r) => {
            object(env, v, path, "an object (record)")?;
            let mut fields = Vec::with_capacity(r.fields().len());
            for f in r.fields() {
                let key = camel(f.name);
                let fv = get(env, v, &key)?;
                let fpath = format!("{path}.{key}");
                if absent(env, fv) && !matches!(f.ty, Type::Option(_)) {
                    return Err(wrong(&fpath, "a value (the record field is missing)"));
                }
                fields.push((f.name.to_string(), to_val(cv, fv, &f.ty, &fpath)?));
            }
            Val::Record(fields)
        }
        Type::Tuple(t) => {
            let items = elements(env, v, path)?;
            if items.len() != t.types().len() {
                return Err(wrong(path, &format!("an array of {} elements (tuple), got {}", t.types().len(), items.len())));
            }
            Val::Tuple(
                t.types().zip(items).enumerate().map(|(i, (ty, e))| to_val(cv, e, &ty, &format!("{path}[{i}]"))).collect::<Res<_>>()?,
            )
        }
        Type::Variant(var) => {
            let (tag, val) = tagged(env, v, path, "a { tag, val } object (variant)")?;
            let Some(case) = var.cases().find(|c| c.name == tag) else {
                let names: Vec<_> = var.cases().map(|c| c.name).collect();
                return Err(Fail::invalid_value(format!("{path}.tag: {tag:?} is not a case of the variant ({})", names.join(", "))));
            };
            let payload = case.ty.as_ref().map(|t| to_val(cv, val, t, &format!("{path}.val"))).transpose()?;
            Val::Variant(tag, payload.map(Box::new))
        }
        Type::Enum(e) => {
            let s = string(env, v, path, "a string (enum)")?;
            if !e.names().any(|n| n == s) {
                let names: Vec<_> = e.names().collect();
                return Err(Fail::invalid_value(format!("{path}: {s:?} is not a case of the enum ({})", names.join(", "))));
            }
            Val::Enum(s)
        }
        Type::Option(o) => {
            let inner = o.ty();
            if matches!(inner, Type::Option(_)) {
                let (tag, val) = tagged(env, v, path, "a { tag: 'some', val } or { tag: 'none' } object (option of an option)")?;
                match tag.as_str() {
                    "none" => Val::Option(None),
                    "some" => Val::Option(Some(Box::new(to_val(cv, val, &inner, &format!("{path}.val"))?))),
                    _ => return Err(Fail::invalid_value(format!("{path}.tag: expected 'some' or 'none', got {tag:?}"))),
                }
            } else if absent(env, v) {
                Val::Option(None)
            } else {
                Val::Option(Some(Box::new(to_val(cv, v, &inner, path)?)))
            }
        }
        Type::Result(r) => {
            let (tag, val) = tagged(env, v, path, "a { tag: 'ok' | 'err', val } object (result)")?;
            let mut side = |t: Option<Type>, p: &str| t.map(|t| to_val(cv, val, &t, p).map(Box::new)).transpose();
            match tag.as_str() {
                "ok" => Val::Result(Ok(side(r.ok(), &format!("{path}.val"))?)),
                "err" => Val::Result(Err(side(r.err(), &format!("{path}.val"))?)),
                _ => return Err(Fail::invalid_value(format!("{path}.tag: expected 'ok' or 'err', got {tag:?}"))),
            }
        }
        Type::Flags(f) => {
            object(env, v, path, "an object of booleans (flags)")?;
            let mut set = Vec::new();
            for name in f.names() {
                let b = get(env, v, &camel(name))?;
                // Truthiness, as jco reads flags.
                let mut coerced = std::ptr::null_mut();
                // SAFETY: `b` is a live handle of the current callback.
                unsafe { sys::napi_coerce_to_bool(env, b, &mut coerced) };
                // SAFETY: `coerced` is the boolean N-API just made.
                let on = unsafe { js::bool_of(env, coerced) }?;
                if on {
                    set.push(name.to_string());
                }
            }
            Val::Flags(set)
        }
        Type::Own(rt) => to_resource(cv, v, *rt, true, path)?,
        Type::Borrow(rt) => to_resource(cv, v, *rt, false, path)?,
        Type::Map(_) | Type::Future(_) | Type::Stream(_) | Type::ErrorContext => {
            return Err(unsupported(path, ty));
        }
    })
}

fn unsupported(path: &str, ty: &Type) -> Fail {
    Fail::with(
        "WasmtimeError",
        "ERR_COMPONENT_UNSUPPORTED",
        format!("{path}: values of type {} are not supported by this version of wasmtime-node yet", type_name(ty)),
    )
}

fn list(cv: &mut Conv<'_, '_>, v: Value, elem: &Type, path: &str) -> Res<Val> {
    let env = cv.env;
    if matches!(elem, Type::U8)
        // SAFETY: `v` is a live handle of the current callback.
        && let Some(bytes) = unsafe { js::bytes_of(env, v) }?
    {
        return Ok(Val::List(bytes.iter().map(|&b| Val::U8(b)).collect()));
    }
    let items = elements(env, v, path)
        .map_err(|_| wrong(path, if matches!(elem, Type::U8) { "a Uint8Array or an array (list<u8>)" } else { "an array (list)" }))?;
    Ok(Val::List(items.iter().enumerate().map(|(i, &e)| to_val(cv, e, elem, &format!("{path}[{i}]"))).collect::<Res<_>>()?))
}

/// The JS value of `v`, a value of WIT type `ty`.
pub fn from_val(cv: &mut Conv<'_, '_>, v: &Val, ty: &Type) -> Res<Value> {
    let env = cv.env;
    // SAFETY (every N-API call below): on the JS thread of `env`, inside a callback; the handles
    // are created in its scope.
    unsafe {
        Ok(match (v, ty) {
            (Val::Bool(b), _) => js::bool_value(env, *b)?,
            (Val::S8(x), _) => js::i32_value(env, *x as i32)?,
            (Val::U8(x), _) => js::u32_value(env, *x as u32)?,
            (Val::S16(x), _) => js::i32_value(env, *x as i32)?,
            (Val::U16(x), _) => js::u32_value(env, *x as u32)?,
            (Val::S32(x), _) => js::i32_value(env, *x)?,
            (Val::U32(x), _) => js::u32_value(env, *x)?,
            (Val::S64(x), _) => js::bigint_value(env, *x)?,
            (Val::U64(x), _) => js::u64_bigint_value(env, *x)?,
            (Val::Float32(x), _) => js::f64_value(env, *x as f64)?,
            (Val::Float64(x), _) => js::f64_value(env, *x)?,
            (Val::Char(c), _) => js::string_value(env, c.encode_utf8(&mut [0; 4]))?,
            (Val::String(s), _) => js::string_value(env, s)?,
            (Val::List(items), Type::List(l)) => {
                let elem = l.ty();
                if matches!(elem, Type::U8) {
                    let bytes: Vec<u8> = items.iter().map(|i| if let Val::U8(b) = i { *b } else { 0 }).collect();
                    js::uint8_array_copy(env, &bytes)?
                } else if let Some(kind) = typed_array_kind(&elem) {
                    typed_array_of(env, kind, items)?
                } else {
                    array_of(cv, items, |_| elem.clone())?
                }
            }
            (Val::FixedLengthList(items), Type::FixedLengthList(l)) => array_of(cv, items, |_| l.ty())?,
            (Val::Tuple(items), Type::Tuple(t)) => {
                let types: Vec<Type> = t.types().collect();
                array_of(cv, items, |i| types[i].clone())?
            }
            (Val::Record(fields), Type::Record(r)) => {
                let obj = js::object(env)?;
                for ((name, fv), f) in fields.iter().zip(r.fields()) {
                    js::set_named(env, obj, &camel(name), from_val(cv, fv, &f.ty)?)?;
                }
                obj
            }
            (Val::Variant(tag, payload), Type::Variant(var)) => {
                let case_ty = var.cases().find(|c| c.name == tag).and_then(|c| c.ty);
                tag_object(cv, tag, payload.as_deref().zip(case_ty.as_ref()))?
            }
            (Val::Enum(name), _) => js::string_value(env, name)?,
            (Val::Resource(any), _) => from_resource(cv, *any)?,
            (Val::Option(inner), Type::Option(o)) => {
                let inner_ty = o.ty();
                match (inner, matches!(inner_ty, Type::Option(_))) {
                    (None, false) => js::undefined(env),
                    (Some(x), false) => from_val(cv, x, &inner_ty)?,
                    (None, true) => tag_object(cv, "none", None)?,
                    (Some(x), true) => tag_object(cv, "some", Some((x, &inner_ty)))?,
                }
            }
            (Val::Result(r), Type::Result(rt)) => match r {
                Ok(x) => tag_object(cv, "ok", x.as_deref().zip(rt.ok().as_ref()))?,
                Err(x) => tag_object(cv, "err", x.as_deref().zip(rt.err().as_ref()))?,
            },
            (Val::Flags(set), Type::Flags(f)) => {
                let obj = js::object(env)?;
                for name in f.names() {
                    js::set_named(env, obj, &camel(name), js::bool_value(env, set.iter().any(|s| s == name))?)?;
                }
                obj
            }
            (_, ty) => return Err(unsupported("a result", ty)),
        })
    }
}

/// SAFETY (caller): on the JS thread of `env`, inside a callback; handles live in its current scope.
unsafe fn array_of(cv: &mut Conv<'_, '_>, items: &[Val], ty_at: impl Fn(usize) -> Type) -> Res<Value> {
    let env = cv.env;
    // SAFETY: the caller's contract (on the JS thread, in a callback).
    unsafe {
        let arr = js::array(env, items.len())?;
        for (i, x) in items.iter().enumerate() {
            js::set_element(env, arr, i as u32, from_val(cv, x, &ty_at(i))?)?;
        }
        Ok(arr)
    }
}

/// `{ tag }` or `{ tag, val }`.
/// SAFETY (caller): on the JS thread of `env`, inside a callback; handles live in its current scope.
unsafe fn tag_object(cv: &mut Conv<'_, '_>, tag: &str, val: Option<(&Val, &Type)>) -> Res<Value> {
    let env = cv.env;
    // SAFETY: the caller's contract (on the JS thread, in a callback).
    unsafe {
        let obj = js::object(env)?;
        js::set_named(env, obj, "tag", js::string_value(env, tag)?)?;
        if let Some((v, t)) = val {
            js::set_named(env, obj, "val", from_val(cv, v, t)?)?;
        }
        Ok(obj)
    }
}

/// The WIT spelling of a type, for descriptors and messages.
pub fn type_name(ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::S8 => "s8".into(),
        Type::U8 => "u8".into(),
        Type::S16 => "s16".into(),
        Type::U16 => "u16".into(),
        Type::S32 => "s32".into(),
        Type::U32 => "u32".into(),
        Type::S64 => "s64".into(),
        Type::U64 => "u64".into(),
        Type::Float32 => "f32".into(),
        Type::Float64 => "f64".into(),
        Type::Char => "char".into(),
        Type::String => "string".into(),
        Type::List(l) => format!("list<{}>", type_name(&l.ty())),
        Type::FixedLengthList(l) => format!("list<{}, {}>", type_name(&l.ty()), l.len()),
        Type::Map(m) => format!("map<{}, {}>", type_name(&m.key()), type_name(&m.value())),
        Type::Record(r) => {
            format!("record {{ {} }}", r.fields().map(|f| format!("{}: {}", f.name, type_name(&f.ty))).collect::<Vec<_>>().join(", "))
        }
        Type::Tuple(t) => format!("tuple<{}>", t.types().map(|t| type_name(&t)).collect::<Vec<_>>().join(", ")),
        Type::Variant(v) => format!(
            "variant {{ {} }}",
            v.cases()
                .map(|c| match &c.ty {
                    Some(t) => format!("{}({})", c.name, type_name(t)),
                    None => c.name.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Type::Enum(e) => format!("enum {{ {} }}", e.names().collect::<Vec<_>>().join(", ")),
        Type::Option(o) => format!("option<{}>", type_name(&o.ty())),
        Type::Result(r) => {
            let side = |t: Option<Type>| t.map(|t| type_name(&t)).unwrap_or_else(|| "_".into());
            format!("result<{}, {}>", side(r.ok()), side(r.err()))
        }
        Type::Flags(f) => format!("flags {{ {} }}", f.names().collect::<Vec<_>>().join(", ")),
        Type::Own(_) => "own<resource>".into(),
        Type::Borrow(_) => "borrow<resource>".into(),
        Type::Future(_) => "future".into(),
        Type::Stream(_) => "stream".into(),
        Type::ErrorContext => "error-context".into(),
    }
}
