#[napi_derive::napi]
pub fn noop() {}
