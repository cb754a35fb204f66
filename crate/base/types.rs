//! Type descriptors: parsing the JS spellings (`'i32'`, `{params, results}`…) into wasmtime types,
//! and describing wasmtime types as JSON that `lib/types.ts` turns into frozen plain objects.

use std::fmt::Write;

use wasmtime::{Engine, ExternType, FuncType, GlobalType, MemoryType, Mutability, RefType, TableType, TagType, ValType};

use crate::base::error::{Fail, Res};

pub fn parse_valtype(s: &str) -> Res<ValType> {
    Ok(match s {
        "i32" => ValType::I32,
        "i64" => ValType::I64,
        "f32" => ValType::F32,
        "f64" => ValType::F64,
        "v128" => ValType::V128,
        "funcref" | "anyfunc" => ValType::FUNCREF,
        "externref" => ValType::EXTERNREF,
        other => return Err(Fail::invalid_value(format!("unknown value type '{other}'"))),
    })
}

pub fn parse_reftype(s: &str) -> Res<RefType> {
    match s {
        "funcref" | "anyfunc" => Ok(RefType::FUNCREF),
        "externref" => Ok(RefType::EXTERNREF),
        other => Err(Fail::invalid_value(format!("unknown table element type '{other}'"))),
    }
}

pub fn func_type(engine: &Engine, params: &[String], results: &[String]) -> Res<FuncType> {
    let params = params.iter().map(|p| parse_valtype(p)).collect::<Res<Vec<_>>>()?;
    let results = results.iter().map(|r| parse_valtype(r)).collect::<Res<Vec<_>>>()?;
    Ok(FuncType::new(engine, params, results))
}

pub fn global_type(value: &str, mutable: bool) -> Res<GlobalType> {
    let m = if mutable { Mutability::Var } else { Mutability::Const };
    Ok(GlobalType::new(parse_valtype(value)?, m))
}

pub fn memory_type(minimum: u32, maximum: Option<u32>) -> Res<MemoryType> {
    if let Some(max) = maximum
        && max < minimum
    {
        return Err(Fail::range(format!("memory maximum {max} is below its minimum {minimum}")));
    }
    if minimum > 65536 || maximum.is_some_and(|m| m > 65536) {
        return Err(Fail::range("a 32-bit memory has at most 65536 pages"));
    }
    Ok(MemoryType::new(minimum, maximum))
}

pub fn table_type(element: &str, minimum: u32, maximum: Option<u32>) -> Res<TableType> {
    if let Some(max) = maximum
        && max < minimum
    {
        return Err(Fail::range(format!("table maximum {max} is below its minimum {minimum}")));
    }
    Ok(TableType::new(parse_reftype(element)?, minimum, maximum))
}

pub fn valtype_name(t: &ValType) -> &'static str {
    match t {
        ValType::I32 => "i32",
        ValType::I64 => "i64",
        ValType::F32 => "f32",
        ValType::F64 => "f64",
        ValType::V128 => "v128",
        ValType::Ref(r) => reftype_name(r),
    }
}

pub fn reftype_name(r: &RefType) -> &'static str {
    use wasmtime::HeapType;
    match r.heap_type() {
        HeapType::Func | HeapType::ConcreteFunc(_) | HeapType::NoFunc => "funcref",
        HeapType::Extern | HeapType::NoExtern => "externref",
        HeapType::Any | HeapType::None => "anyref",
        HeapType::Eq => "eqref",
        HeapType::I31 => "i31ref",
        HeapType::Struct | HeapType::ConcreteStruct(_) => "structref",
        HeapType::Array | HeapType::ConcreteArray(_) => "arrayref",
        HeapType::Exn | HeapType::ConcreteExn(_) | HeapType::NoExn => "exnref",
        _ => "ref",
    }
}

pub fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn json_valtypes(out: &mut String, types: impl Iterator<Item = ValType>) {
    out.push('[');
    for (i, t) in types.enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_str(out, valtype_name(&t));
    }
    out.push(']');
}

pub fn func_type_json(out: &mut String, f: &FuncType) {
    signature_json(out, f.params(), f.results());
}

/// `{"params":[…],"results":[…]}`.
pub fn signature_json(out: &mut String, params: impl Iterator<Item = ValType>, results: impl Iterator<Item = ValType>) {
    out.push_str("{\"params\":");
    json_valtypes(out, params);
    out.push_str(",\"results\":");
    json_valtypes(out, results);
    out.push('}');
}

/// `{"params": [...]}`: the values an exception of the tag carries.
pub fn tag_type_json(out: &mut String, t: &TagType) {
    out.push_str("{\"params\":");
    json_valtypes(out, t.ty().params());
    out.push('}');
}

fn opt_u64(out: &mut String, key: &str, v: Option<u64>) {
    if let Some(v) = v {
        let _ = write!(out, ",\"{key}\":{v}");
    }
}

/// `{"kind": ..., "type": {...}}` for one extern type.
pub fn extern_type_json(out: &mut String, t: &ExternType) {
    match t {
        ExternType::Func(f) => {
            out.push_str("{\"kind\":\"func\",\"type\":");
            func_type_json(out, f);
        }
        ExternType::Memory(m) => {
            let _ = write!(out, "{{\"kind\":\"memory\",\"type\":{{\"minimum\":{}", m.minimum());
            opt_u64(out, "maximum", m.maximum());
            if m.is_shared() {
                out.push_str(",\"shared\":true");
            }
            if m.is_64() {
                out.push_str(",\"memory64\":true");
            }
            out.push('}');
        }
        ExternType::Table(tt) => {
            out.push_str("{\"kind\":\"table\",\"type\":{\"element\":");
            json_str(out, reftype_name(tt.element()));
            let _ = write!(out, ",\"minimum\":{}", tt.minimum());
            opt_u64(out, "maximum", tt.maximum());
            out.push('}');
        }
        ExternType::Global(g) => {
            out.push_str("{\"kind\":\"global\",\"type\":{\"value\":");
            json_str(out, valtype_name(g.content()));
            let _ = write!(out, ",\"mutable\":{}}}", g.mutability() == Mutability::Var);
        }
        ExternType::Tag(t) => {
            out.push_str("{\"kind\":\"tag\",\"type\":");
            tag_type_json(out, t);
        }
    }
    out.push('}');
}

pub fn import_json(out: &mut String, module: &str, name: &str, t: &ExternType) {
    out.push_str("{\"module\":");
    json_str(out, module);
    out.push_str(",\"name\":");
    json_str(out, name);
    out.push_str(",\"type\":");
    extern_type_json(out, t);
    out.push('}');
}

pub fn export_json(out: &mut String, name: &str, t: &ExternType) {
    out.push_str("{\"name\":");
    json_str(out, name);
    out.push_str(",\"type\":");
    extern_type_json(out, t);
    out.push('}');
}
