//! The door to backends: one async trait, three implementations. Nothing here knows the store's rules or
//! the DOM; each adapter turns a call into JSON text (or a typed failure) and the store decodes it.
//!
//! - [`http::HttpBackend`]: the contract's endpoints over `fetch`, with timeouts, a size cap and the
//!   shopper's signed identity;
//! - [`js_adapter::JsBackend`]: an object of async functions the developer passes (GraphQL, another API);
//! - [`memory::MemoryBackend`]: program and shopper held in memory, for tests and the offline demo.

pub(crate) mod http;
pub(crate) mod js_adapter;
pub(crate) mod memory;

use crate::store::{Fetched, Identity, OutboxEntry, Resource};
use crate::sync_error::SyncError;
use std::future::Future;
use std::pin::Pin;

/// One request to a backend.
#[derive(Debug)]
pub(crate) enum Call {
    /// Read a resource (conditionally, with the entity tag the store holds); `near` for the catalog.
    Read { resource: Resource, etag: Option<String>, identity: Option<Identity>, near: Vec<String> },
    /// A write from the outbox (a redemption, a birthday), with its idempotency key.
    Write { entry: OutboxEntry, identity: Identity },
}

/// What a call comes back with. Writes answer with a body.
pub(crate) type Answer = Result<Fetched, SyncError>;

/// A future the shell can keep after the backend's borrow is gone.
pub(crate) type Pending = Pin<Box<dyn Future<Output = Answer>>>;

/// A backend the store can talk to. A trait object: none of this is hot, and one copy is smaller.
pub(crate) trait Backend {
    /// Starts `call`; the future owns everything it needs.
    fn call(&self, call: Call) -> Pending;

    /// Aborts every request in flight (the client is being destroyed).
    fn cancel_all(&self) {}
}

/// A thrown JS value as readable text: an `Error`'s message, a string as is, anything else by its type.
pub(crate) fn describe(thrown: &wasm_bindgen::JsValue) -> String {
    use wasm_bindgen::JsCast;
    if let Some(error) = thrown.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    thrown.as_string().unwrap_or_else(|| thrown.js_typeof().as_string().unwrap_or_default() + " thrown")
}
