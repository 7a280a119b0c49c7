//! The JS adapter: the developer hands the client an object of (async) functions with the contract's
//! shapes, for a GraphQL backend, a Shopify-style storefront API, or a test double.
//!
//! ```js
//! createClient({ adapter: {
//!   program: async ({ etag }) => ({ ...program }),                 // the loyalty program
//!   shopper: async ({ identity }) => ({ ...shopperState }),         // GET /v1/customers/me's shape
//!   redeem: async ({ rewardId, idempotencyKey, identity }) => ({ ...redemption }),
//!   setBirthday: async ({ birthday, idempotencyKey, identity }) => ({ birthday }), // optional
//!   captureReferral: async ({ code, idempotencyKey, identity }) => ({ referredBy: code }), // optional
//!   catalog: async ({ etag, near }) => ({ products }),         // optional: recommendations' candidates
//! }})
//! ```
//!
//! What a function returns goes through the same decoder as an HTTP body, so a wrong shape gets the same
//! error naming the field. A function that throws or rejects with an object carrying a numeric `status`
//! (and optionally `retryAfter` seconds and `code`) is treated like that HTTP status; anything else thrown is
//! `adapter_failed` and retried like a network failure.

use super::{describe, Answer, Backend, Call, Pending};
use crate::store::{Fetched, Identity, Resource, WriteKind};
use crate::sync_error::SyncError;
use js_sys::{Function, Object, Reflect};
use loyalty_core::{Problem, Problems};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The functions an adapter object must have.
pub(crate) const FUNCTIONS: [&str; 3] = ["program", "shopper", "redeem"];

pub(crate) struct JsBackend {
    adapter: Object,
    timeout_ms: u32,
}

impl JsBackend {
    /// Checks that `adapter` has every function; each missing one is a problem naming it.
    pub(crate) fn new(adapter: &JsValue, timeout_ms: u32) -> Result<JsBackend, Problems> {
        let Some(object) = adapter.dyn_ref::<Object>().filter(|_| !adapter.is_function()) else {
            return Err(Problems::one("adapter", "must be an object of async functions"));
        };
        let missing: Vec<Problem> = FUNCTIONS
            .iter()
            .filter_map(|name| {
                let function = Reflect::get(object, &(*name).into()).unwrap_or(JsValue::UNDEFINED);
                (!function.is_function()).then(|| Problem {
                    path: format!("adapter.{name}"),
                    message: format!("must be a function, got {}", type_of(&function)),
                })
            })
            .collect();
        if missing.is_empty() {
            Ok(JsBackend { adapter: object.clone(), timeout_ms })
        } else {
            Err(Problems(missing))
        }
    }
}

fn type_of(value: &JsValue) -> String {
    if value.is_null() {
        return "null".into();
    }
    value.js_typeof().as_string().unwrap_or_default()
}

fn identity_object(identity: &Identity) -> Object {
    let object = Object::new();
    let set = |key: &str, value: JsValue| {
        let _ = Reflect::set(&object, &key.into(), &value);
    };
    set("customerId", JsValue::from_str(&identity.customer_id));
    set("timestamp", JsValue::from_f64(identity.timestamp as f64));
    set("digest", JsValue::from_str(&identity.digest));
    object
}

impl Backend for JsBackend {
    fn call(&self, call: Call) -> Pending {
        let argument = Object::new();
        let set = |key: &str, value: JsValue| {
            let _ = Reflect::set(&argument, &key.into(), &value);
        };
        let name = match &call {
            Call::Read { resource, etag, identity, near } => {
                if let Some(etag) = etag {
                    set("etag", JsValue::from_str(etag));
                }
                if let Some(identity) = identity {
                    set("identity", identity_object(identity).into());
                }
                match resource {
                    Resource::Program => "program",
                    Resource::Shopper => "shopper",
                    Resource::Catalog => {
                        let ids: js_sys::Array = near.iter().map(|id| JsValue::from_str(id)).collect();
                        set("near", ids.into());
                        "catalog"
                    }
                }
            }
            Call::Write { entry, identity } => {
                set("idempotencyKey", JsValue::from_str(&entry.key));
                set("identity", identity_object(identity).into());
                match entry.kind {
                    WriteKind::Redeem => {
                        set("rewardId", JsValue::from_str(&entry.reward_id));
                        "redeem"
                    }
                    WriteKind::Birthday => {
                        set("birthday", JsValue::from_str(&entry.birthday));
                        "setBirthday"
                    }
                    WriteKind::Referral => {
                        set("code", JsValue::from_str(&entry.code));
                        "captureReferral"
                    }
                }
            }
        };
        // Looked up at each call, so a developer may swap a function on the object.
        let function: Option<Function> =
            Reflect::get(&self.adapter, &name.into()).ok().and_then(|f| f.dyn_into().ok());
        let Some(function) = function else {
            // Optional functions (setBirthday, captureReferral, catalog) may be absent: a definitive refusal, never retried.
            let message = format!("adapter.{name} is not a function");
            let refusal = SyncError::Status {
                status: 501,
                code: Some("not_supported".into()),
                message,
                retry_after_ms: None,
            };
            return Box::pin(std::future::ready(Err(refusal)));
        };
        let returned = function.call1(&self.adapter, &argument);
        let timeout_ms = self.timeout_ms;
        Box::pin(async move {
            let value = match returned {
                Ok(value) => value,
                Err(error) => return Err(thrown(error)),
            };
            // The adapter's promise races a timer, as an HTTP request does: one that never settles cannot
            // hold a round (or a write) forever. Dropping `_timer` at the end clears it.
            let expired = Object::new();
            let mut reject = None;
            let deadline = js_sys::Promise::new(&mut |_, r| reject = Some(r));
            let _timer = reject.map(|reject| {
                let expired = expired.clone();
                gloo_timers::callback::Timeout::new(timeout_ms, move || {
                    let _ = reject.call1(&JsValue::UNDEFINED, &expired);
                })
            });
            let race =
                js_sys::Promise::race(&js_sys::Array::of2(&js_sys::Promise::resolve(&value), &deadline));
            let value = JsFuture::from(race).await.map_err(|error| {
                if Object::is(&error, &expired) {
                    SyncError::Timeout { after_ms: timeout_ms }
                } else {
                    thrown(error)
                }
            })?;
            to_text(name, &value)
        })
    }
}

/// A returned value as JSON text for the store's decoder.
fn to_text(name: &str, value: &JsValue) -> Answer {
    let text = if value.is_undefined() {
        None
    } else {
        js_sys::JSON::stringify(value).ok().and_then(|t| t.as_string())
    };
    let text = text.ok_or_else(|| {
        SyncError::InvalidResponse(Problems::one(
            name,
            "the adapter returned nothing that can be read as JSON",
        ))
    })?;
    Ok(Fetched::Body { text, etag: None })
}

/// What a thrown value means: an HTTP-like failure when it carries a numeric `status`.
fn thrown(error: JsValue) -> SyncError {
    let field = |key: &str| Reflect::get(&error, &key.into()).ok().filter(|v| !v.is_undefined());
    let status = field("status").and_then(|s| s.as_f64()).filter(|s| (100.0..600.0).contains(s));
    match status {
        Some(status) => SyncError::Status {
            status: status as u16,
            code: field("code").and_then(|c| c.as_string()),
            message: describe(&error),
            retry_after_ms: field("retryAfter")
                .and_then(|s| s.as_f64())
                .filter(|s| *s >= 0.0)
                .map(|s| (s * 1000.0) as u64),
        },
        None => SyncError::Adapter(describe(&error)),
    }
}
