//! `ComponentInstance`: an instantiated component. Its exported functions — at the root and in
//! exported interfaces — are listed once at instantiation; `lib/` builds `exports` from the list
//! and calls them by index.

use std::rc::Rc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wasmtime::StoreContextMut;
use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{Component, Func, Instance, ResourceType, Type};

use crate::base::error::{Fail, Res, throwing};
use crate::base::live::{Kind, Live};
use crate::call::component_func::{call_export, call_export_async};
use crate::store::core::{Host, StoreCore};
use crate::store::transfer::Moved;

/// An exported function: the interface it is in ("" at the root), its name, and whether it
/// returns a `result` (which `lib/` unwraps).
#[napi(object)]
#[derive(Clone)]
pub struct ComponentExportFunc {
    pub iface: String,
    pub name: String,
    pub returns_result: bool,
    /// How many parameters it takes.
    pub params: u32,
}

impl ComponentExportFunc {
    fn of(iface: &str, name: &str, f: &ComponentFunc) -> Self {
        let returns_result = matches!(f.results().next(), Some(Type::Result(_)));
        ComponentExportFunc { iface: iface.to_string(), name: name.to_string(), returns_result, params: f.params().len() as u32 }
    }
}

/// An exported resource type: the interface it is in ("" at the root), its name, and its class
/// number in the store's resource bridge (what `lib/` registers the JS class under).
#[napi(object)]
#[derive(Clone)]
pub struct ComponentExportResource {
    pub iface: String,
    pub name: String,
    pub class_id: u32,
}

#[napi]
pub struct NativeComponentInstance {
    core: Rc<StoreCore>,
    funcs: Vec<(ComponentExportFunc, Func)>,
    resources: Vec<ComponentExportResource>,
    _live: Live,
}

/// Register guest resource type `rt` (exported as `iface`/`name`) in the store: its class number.
fn register_resource(cx: &mut StoreContextMut<'_, Host>, rt: ResourceType, iface: &str, name: &str) -> ComponentExportResource {
    let classes = &mut cx.data_mut().guest_resource_classes;
    let class_id = classes.len() as u32;
    classes.push((rt, class_id));
    ComponentExportResource { iface: iface.to_string(), name: name.to_string(), class_id }
}

impl NativeComponentInstance {
    /// The instance, with its exported functions (root ones, and those of exported interfaces).
    pub fn new(core: Rc<StoreCore>, instance: Instance, component: &Component) -> Res<Self> {
        let engine = component.engine();
        let ty = component.component_type();
        let mut cx = core.cx()?;
        let mut funcs = Vec::new();
        let mut resources = Vec::new();
        for (name, ext) in ty.exports(engine) {
            match ext.ty {
                ComponentItem::ComponentFunc(f) => {
                    if let Some(func) = instance.get_func(&mut cx, name) {
                        funcs.push((ComponentExportFunc::of("", name, &f), func));
                    }
                }
                ComponentItem::Resource(_) => {
                    if let Some(rt) = instance.get_resource(&mut cx, name) {
                        resources.push(register_resource(&mut cx, rt, "", name));
                    }
                }
                ComponentItem::ComponentInstance(i) => {
                    let Some(parent) = instance.get_export_index(&mut cx, None, name) else { continue };
                    for (fname, fext) in i.exports(engine) {
                        let Some(index) = instance.get_export_index(&mut cx, Some(&parent), fname) else { continue };
                        match fext.ty {
                            ComponentItem::ComponentFunc(f) => {
                                if let Some(func) = instance.get_func(&mut cx, index) {
                                    funcs.push((ComponentExportFunc::of(name, fname, &f), func));
                                }
                            }
                            ComponentItem::Resource(_) => {
                                if let Some(rt) = instance.get_resource(&mut cx, index) {
                                    resources.push(register_resource(&mut cx, rt, name, fname));
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(NativeComponentInstance { core, funcs, resources, _live: Live::new(Kind::Instance) })
    }
}

/// What crosses threads with a transferred store: the exports (store-indexed handles).
type Parts = (Vec<(ComponentExportFunc, Func)>, Vec<ComponentExportResource>);

impl NativeComponentInstance {
    /// This instance's part of `store.transfer()` (it must be of `core`'s store).
    pub fn moved(&self, core: &StoreCore) -> Res<Moved> {
        self.core.same_as(core, "an object of another store was given to transfer()")?;
        let funcs = self.funcs.iter().map(|(f, func)| (f.clone(), *func)).collect();
        let resources = self.resources.clone();
        Ok(Moved::Component(Box::new((funcs, resources) as Parts)))
    }

    /// The instance sent along with a store, in the receiving thread's `core`.
    pub fn received(core: Rc<StoreCore>, parts: Box<dyn std::any::Any + Send>) -> Res<Self> {
        let (funcs, resources) = *parts.downcast::<Parts>().map_err(|_| Fail::internal("not a component instance's transfer"))?;
        Ok(NativeComponentInstance { core, funcs, resources, _live: Live::new(Kind::Instance) })
    }
}

#[napi]
impl NativeComponentInstance {
    /// The exported functions, by index (what `call` takes).
    #[napi(catch_unwind)]
    pub fn functions(&self) -> Vec<ComponentExportFunc> {
        self.funcs.iter().map(|(f, _)| f.clone()).collect()
    }

    /// The exported resource types, with their class numbers (see `ComponentExportResource`).
    #[napi(catch_unwind)]
    pub fn resources(&self) -> Vec<ComponentExportResource> {
        self.resources.clone()
    }

    /// Call exported function `index` with `args`; `fns` is the store's host-function table.
    #[napi(catch_unwind)]
    pub fn call<'a>(&self, env: &'a Env, fns: Unknown, index: u32, args: Vec<Unknown>) -> napi::Result<Unknown<'a>> {
        throwing(env, || {
            let (_, func) = self.funcs.get(index as usize).ok_or_else(|| Fail::range(format!("no exported function {index}")))?;
            let argv: Vec<_> = args.iter().map(|a| a.raw()).collect();
            let v = call_export(&self.core, env.raw(), fns.raw(), *func, &argv)?;
            // SAFETY: `v` was created in this callback's scope.
            Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), v) })
        })
    }

    /// Start exported function `index` on another thread (`callAsync`); returns a Promise.
    #[napi(catch_unwind)]
    pub fn call_async<'a>(&self, env: &'a Env, fns: Unknown, index: u32, args: Vec<Unknown>) -> napi::Result<Unknown<'a>> {
        // This call was reserved by `lib/` when `callAsync` was called: it starts now.
        self.core.release_async();
        throwing(env, || {
            let (_, func) = self.funcs.get(index as usize).ok_or_else(|| Fail::range(format!("no exported function {index}")))?;
            let argv: Vec<_> = args.iter().map(|a| a.raw()).collect();
            let promise = call_export_async(env, &self.core, fns.raw(), *func, &argv)?;
            // SAFETY: created in this callback's scope.
            Ok(unsafe { Unknown::from_raw_unchecked(env.raw(), promise) })
        })
    }
}
