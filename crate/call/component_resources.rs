//! Component resources ↔ JS objects, as jco maps them.
//!
//! - A **guest** resource (defined by a component, exported as a class) reaches JS as an instance
//!   of its JS class, made by the store's bridge, onto which a `GuestHandle` is wrapped
//!   (`napi_wrap`): the `ResourceAny` handle, released by
//!   `[Symbol.dispose]()`, when passed as `own<T>` (moved), or — queued, run at the store's next
//!   component call — when the object is collected.
//! - A **host** resource (a JS class given to `ComponentLinker.define`) is any JS object of that
//!   class. Its type is `ResourceType::host_dynamic(id)`; the `rep` the guest holds indexes the
//!   store's JS table of such objects (lib/component-resources.ts), and the guest's drop of an
//!   owned handle calls the object's `[Symbol.dispose]()`.
//!
//! The JS side of both is the store's resource bridge, `fns.resources` (an object of functions
//! hung on the store's host-function table, which every component call carries).

use std::cell::Cell;
use std::rc::Rc;

use wasmtime::StoreContextMut;
use wasmtime::component::{ResourceAny, ResourceDynamic, ResourceType, Val};

use crate::base::error::{Fail, Res};
use crate::base::raw::{self as js, Env as RawEnv, HandleScope, Value};
use crate::store::core::{Host, StoreCore};

/// A conversion's context: what resources need besides the value (the store, and the bridge).
pub struct Conv<'a, 'b> {
    pub env: RawEnv,
    pub fns: Value,
    pub core: &'a StoreCore,
    pub cx: &'a mut StoreContextMut<'b, Host>,
    /// Handles that live for one call: guest handles lent to a host function, host objects lent
    /// to the guest. Released when the call returns.
    pub lent: Vec<Rc<Cell<Option<ResourceAny>>>>,
    /// Host objects lent to the guest as borrows for this call (their reps): see `lent`.
    pub lent_reps: Vec<u32>,
}

impl<'a, 'b> Conv<'a, 'b> {
    pub fn new(env: RawEnv, fns: Value, core: &'a StoreCore, cx: &'a mut StoreContextMut<'b, Host>) -> Self {
        Conv { env, fns, core, cx, lent: Vec::new(), lent_reps: Vec::new() }
    }
}

impl Conv<'_, '_> {
    /// The store's resource bridge function `name` (see lib/component-resources.ts).
    fn bridge(&self, name: &str) -> Res<Value> {
        // SAFETY: `fns` is a live handle of the entry's scope, on the JS thread.
        unsafe {
            let bridge = js::get_named(self.env, self.fns, "resources")?;
            if js::type_of(self.env, bridge) != napi::sys::ValueType::napi_object {
                return Err(Fail::internal("the store has no component resource bridge"));
            }
            js::get_named(self.env, bridge, name)
        }
    }

    fn call_bridge(&self, name: &str, args: &[Value]) -> Res<Value> {
        let f = self.bridge(name)?;
        // SAFETY: on the JS thread, in the entry's scope.
        unsafe { js::call_function(self.env, f, args) }
    }

    /// Release the handles that lived for the call (see `lent`; wasmtime requires a host function
    /// to release the borrows it was given before it returns).
    pub fn release_lent(&mut self) -> Res<()> {
        for cell in self.lent.drain(..) {
            if let Some(any) = cell.take() {
                any.resource_drop(&mut *self.cx).map_err(|e| Fail::internal(format!("releasing a borrowed resource: {e:#}")))?;
            }
        }
        let reps = std::mem::take(&mut self.lent_reps);
        unlend(self.env, self.fns, &reps)
    }
}

/// A guest resource handle, wrapped (`napi_wrap`) into the JS object of its class.
pub struct GuestHandle {
    core: Rc<StoreCore>,
    handle: Rc<Cell<Option<ResourceAny>>>,
}

impl napi::bindgen_prelude::TypeTag for GuestHandle {
    fn type_tag() -> napi::sys::napi_type_tag {
        napi::sys::napi_type_tag { lower: 0x7761_736d_7265_7331, upper: 0x636f_6d70_6f6e_656e }
    }
}

fn dropped() -> Fail {
    Fail::store_state(
        "ERR_RESOURCE_DROPPED",
        "this resource was dropped (disposed, or moved into the component as an own<T> argument) and can no longer be used",
    )
}

/// The guest handle wrapped in JS value `v`, if it is a guest resource object.
/// SAFETY (caller): on the JS thread of `env`, inside a callback; `v` is live in its current scope.
pub unsafe fn guest_handle<'a>(env: RawEnv, v: Value) -> Option<&'a GuestHandle> {
    // SAFETY: the caller's contract.
    unsafe { js::unwrap_class::<GuestHandle>(env, v) }
}

impl GuestHandle {
    /// `[Symbol.dispose]()`: drop the handle now (the guest's destructor runs for an owned one).
    /// Later uses throw `ERR_RESOURCE_DROPPED`; a second drop does nothing.
    pub fn drop_now(&self, fns: Value) -> Res<()> {
        let Some(any) = self.handle.get() else { return Ok(()) };
        if !any.owned() {
            // A borrow lent to a host call is released when that call returns.
            return Ok(());
        }
        self.handle.set(None);
        self.core.enter(fns, |mut cx| {
            drain_pending(&self.core, &mut cx)?;
            any.resource_drop(&mut cx).map_err(|e| self.core.wasm_error(e, false))
        })
    }
}

impl Drop for GuestHandle {
    fn drop(&mut self) {
        // Collected without dispose: the guest destructor runs at the store's next component call
        // (from here it could not reach JS host functions, nor run under the call's limits).
        if let Some(any) = self.handle.take()
            && any.owned()
        {
            self.core.defer_resource_drop(any);
        }
    }
}

/// Run the guest destructors of resources collected without dispose (see `Drop` above).
pub fn drain_pending(core: &StoreCore, cx: &mut StoreContextMut<'_, Host>) -> Res<()> {
    for any in core.take_deferred_resource_drops() {
        any.resource_drop(&mut *cx).map_err(|e| core.wasm_error(e, false))?;
    }
    Ok(())
}

/// The JS object for resource handle `any` (a value of type `ty`).
pub fn from_resource(cv: &mut Conv<'_, '_>, any: ResourceAny) -> Res<Value> {
    if let Some(id) = host_type_id(cv, any.ty()) {
        let res = ResourceDynamic::try_from_resource_any(any, &mut *cv.cx).map_err(|e| Fail::internal(format!("{e:#}")))?;
        debug_assert_eq!(res.ty(), id);
        // SAFETY: on the JS thread, in the entry's scope.
        let (rep, owned) = unsafe { (js::u32_value(cv.env, res.rep())?, js::bool_value(cv.env, res.owned())?) };
        return cv.call_bridge("lift", &[rep, owned]);
    }
    let class = guest_class(cv, any.ty());
    let cell = Rc::new(Cell::new(Some(any)));
    if !any.owned() {
        cv.lent.push(cell.clone());
    }
    let native = GuestHandle { core: cv.core.rc()?, handle: cell };
    // SAFETY: on the JS thread, in the entry's scope.
    unsafe {
        let class = match class {
            Some(c) => js::u32_value(cv.env, c)?,
            None => js::undefined(cv.env),
        };
        let obj = cv.call_bridge("guest", &[class])?;
        js::wrap_tagged(cv.env, obj, native)?;
        Ok(obj)
    }
}

/// The resource handle for JS value `v`, of resource type `rt` (`own` when `owned`).
pub fn to_resource(cv: &mut Conv<'_, '_>, v: Value, rt: ResourceType, owned: bool, path: &str) -> Res<Val> {
    if let Some(id) = host_type_id(cv, rt) {
        // SAFETY: on the JS thread, in the entry's scope.
        let rep = unsafe {
            let id_v = js::u32_value(cv.env, id)?;
            let r = cv.call_bridge("lower", &[v, id_v, js::bool_value(cv.env, owned)?])?;
            js::f64_of(cv.env, r)?
        };
        if rep < 0.0 {
            return Err(Fail::type_error(format!("{path}: expected an instance of the host resource class defined for this import")));
        }
        // A borrow is passed as an owned handle without destructor (wasmtime lends it to the
        // callee), dropped when the call returns: wasmtime makes borrowed host handles only
        // inside host calls, and a borrow argument is made for a call from JS.
        let any =
            ResourceDynamic::new_own(rep as u32, id).try_into_resource_any(&mut *cv.cx).map_err(|e| Fail::internal(format!("{e:#}")))?;
        if !owned {
            cv.lent.push(Rc::new(Cell::new(Some(any))));
            cv.lent_reps.push(rep as u32);
        }
        return Ok(Val::Resource(any));
    }
    // SAFETY: on the JS thread, in the entry's scope; `v` is a live handle.
    let native = unsafe { guest_handle(cv.env, v) };
    let Some(native) = native else {
        // `self` is a method's receiver (a WIT keyword, never a parameter's own name).
        if path == "self" {
            return Err(Fail::with(
                "TypeError",
                "ERR_INVALID_THIS",
                "a resource method called on an object that is not a resource of the component (an unbound method?)",
            ));
        }
        return Err(Fail::type_error(format!("{path}: expected a resource object (an instance of the component's resource class)")));
    };
    cv.core.same_as(&native.core, &format!("{path}: the resource belongs to another store"))?;
    let Some(any) = native.handle.get() else { return Err(dropped()) };
    if any.ty() != rt {
        return Err(Fail::type_error(format!("{path}: the resource is of another type than the parameter's")));
    }
    if owned {
        if !any.owned() {
            return Err(Fail::type_error(format!("{path}: a borrowed resource cannot be passed as own<T>")));
        }
        // Moved into the component: this object is spent.
        native.handle.set(None);
    }
    Ok(Val::Resource(any))
}

/// End the borrows of host objects `reps` lent to the guest for a call (the bridge's `unlend`).
pub fn unlend(env: RawEnv, fns: Value, reps: &[u32]) -> Res<()> {
    if reps.is_empty() {
        return Ok(());
    }
    // SAFETY: on the JS thread, in the entry's scope (`fns` is live there).
    unsafe {
        let f = js::get_named(env, js::get_named(env, fns, "resources")?, "unlend")?;
        for &rep in reps {
            js::call_function(env, f, &[js::u32_value(env, rep)?])?;
        }
    }
    Ok(())
}

/// The id of host resource type `rt`, if it is one of the store's host resource types.
fn host_type_id(cv: &Conv<'_, '_>, rt: ResourceType) -> Option<u32> {
    cv.cx.data().host_resource_types.iter().map(|r| r.id).find(|&id| ResourceType::host_dynamic(id) == rt)
}

/// The store's class number of guest resource type `rt` (registered by the instance exporting it).
fn guest_class(cv: &Conv<'_, '_>, rt: ResourceType) -> Option<u32> {
    cv.cx.data().guest_resource_classes.iter().find(|(t, _)| *t == rt).map(|&(_, c)| c)
}

/// A host resource's destructor: the guest dropped its owned handle `rep` of host type `id`.
pub fn host_dtor(mut cx: StoreContextMut<'_, Host>, rep: u32) -> wasmtime::Result<()> {
    let entry = cx.data().entry;
    if entry.core.is_null() {
        return match entry.route {
            // A `callAsync`: the JS thread runs it, as it runs host calls.
            Some(route) => crate::call::async_call::component_drop_remote(route, &mut cx, rep),
            None => wasmtime::bail!("a host resource was dropped while no JS call is active"),
        };
    }
    // SAFETY: `entry` was set by `StoreCore::enter` on this thread for the call now on the stack.
    let core = unsafe { &*entry.core };
    // SAFETY: `env` is this thread's env; the scope is closed before we return.
    let _scope = unsafe { HandleScope::open(entry.env) };
    // SAFETY: on the JS thread, inside the entry's scope.
    let outcome = unsafe {
        js::get_named(entry.env, entry.fns, "resources")
            .and_then(|b| js::get_named(entry.env, b, "hostDrop"))
            .and_then(|f| js::call_function(entry.env, f, &[js::u32_value(entry.env, rep)?]))
    };
    // SAFETY: inside our handle scope on the JS thread.
    outcome.map(|_| ()).map_err(|fail| unsafe { core.host_failure(entry.env, fail) })
}
