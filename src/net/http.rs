//! The HTTP adapter: the contract's endpoints over the page's `fetch`, with the shopper's signed identity,
//! `Idempotency-Key` on writes, `If-None-Match` on reads, a timeout per request (an `AbortController`), a cap
//! on the size of any answer (read as a stream and abandoned past the cap), and typed failures.

use super::{describe, Answer, Backend, Call, Pending};
use crate::store::{Fetched, Identity, Resource, WriteKind};
use crate::sync_error::SyncError;
use loyalty_core::{FromJson, Problems};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, Request, RequestInit, Response};

#[wasm_bindgen]
extern "C" {
    /// The global `fetch` at call time (a page's wrapper around it is honoured).
    #[wasm_bindgen(catch, js_name = fetch)]
    fn global_fetch(request: &Request) -> Result<js_sys::Promise, JsValue>;
}

/// Where each endpoint lives, relative to the base URL (configurable for shops with their own API).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Paths {
    pub program: String,
    pub shopper: String,
    pub redemptions: String,
    pub birthday: String,
    pub referral: String,
    pub catalog: String,
}

impl Default for Paths {
    fn default() -> Self {
        Paths {
            program: "/v1/program".into(),
            shopper: "/v1/customers/me".into(),
            redemptions: "/v1/redemptions".into(),
            birthday: "/v1/customers/me/birthday".into(),
            referral: "/v1/referrals/capture".into(),
            catalog: "/v1/catalog".into(),
        }
    }
}

/// The HTTP adapter's settings, validated by `config`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HttpSettings {
    /// Absolute base URL without a trailing slash.
    pub base: String,
    pub paths: Paths,
    /// Extra headers sent with every request.
    pub headers: Vec<(String, String)>,
    pub timeout_ms: u32,
    pub max_response_bytes: u32,
    /// How many popular products the catalog's candidate set holds.
    pub catalog_limit: u32,
}

/// Requests in flight, so that `destroy()` can abort them all.
#[derive(Default)]
struct InFlight {
    next: Cell<u32>,
    controllers: RefCell<Vec<(u32, AbortController)>>,
}

pub(crate) struct HttpBackend {
    settings: Rc<HttpSettings>,
    in_flight: Rc<InFlight>,
}

impl HttpBackend {
    pub(crate) fn new(settings: HttpSettings) -> HttpBackend {
        HttpBackend { settings: Rc::new(settings), in_flight: Rc::default() }
    }
}

impl Backend for HttpBackend {
    fn call(&self, call: Call) -> Pending {
        let settings = Rc::clone(&self.settings);
        let in_flight = Rc::clone(&self.in_flight);
        Box::pin(async move {
            let controller = AbortController::new().map_err(|e| SyncError::Offline(describe(&e)))?;
            let id = in_flight.next.get().wrapping_add(1);
            in_flight.next.set(id);
            in_flight.controllers.borrow_mut().push((id, controller.clone()));
            let answer = send(&settings, call, &controller).await;
            in_flight.controllers.borrow_mut().retain(|(i, _)| *i != id);
            answer
        })
    }

    fn cancel_all(&self) {
        let controllers = std::mem::take(&mut *self.in_flight.controllers.borrow_mut());
        for (_, controller) in controllers {
            controller.abort();
        }
    }
}

/// The contract's shopper credentials: `LoyaltyShopper <base64url(id)>.<timestamp>.<digest>`.
pub(crate) fn authorization(identity: &Identity) -> String {
    format!(
        "LoyaltyShopper {}.{}.{}",
        base64url(identity.customer_id.as_bytes()),
        identity.timestamp,
        identity.digest
    )
}

/// Base64url without padding (RFC 4648 §5), small enough to write here rather than link a crate.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0_u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

async fn send(settings: &HttpSettings, call: Call, controller: &AbortController) -> Answer {
    let headers = Headers::new().map_err(|e| SyncError::Offline(describe(&e)))?;
    let init = RequestInit::new();
    let set = |name: &str, value: &str| {
        // Names and values were checked when the client was created; the rest are ours.
        let _ = headers.set(name, value);
    };
    set("accept", "application/json");
    for (name, value) in &settings.headers {
        set(name, value);
    }
    let path = match &call {
        Call::Read { resource, etag, identity, near } => {
            if let Some(etag) = etag {
                set("if-none-match", etag);
            }
            if let Some(identity) = identity {
                set("authorization", &authorization(identity));
            }
            match resource {
                Resource::Program => settings.paths.program.clone(),
                Resource::Shopper => settings.paths.shopper.clone(),
                Resource::Catalog => {
                    // Public and the same for everyone: no cookies of the shop (when the API is on its
                    // origin), and no Referer, which names the product page the shopper is on.
                    init.set_credentials(web_sys::RequestCredentials::Omit);
                    init.set_referrer_policy(web_sys::ReferrerPolicy::NoReferrer);
                    let near: Vec<String> =
                        near.iter().map(|id| String::from(js_sys::encode_uri_component(id))).collect();
                    let mut path = format!("{}?limit={}", settings.paths.catalog, settings.catalog_limit);
                    if !near.is_empty() {
                        path.push_str("&near=");
                        path.push_str(&near.join(","));
                    }
                    path
                }
            }
        }
        Call::Write { entry, identity } => {
            set("authorization", &authorization(identity));
            set("content-type", "application/json");
            set("idempotency-key", &entry.key);
            let body = js_sys::Object::new();
            let (method, member, value, path) = match entry.kind {
                WriteKind::Redeem => ("POST", "rewardId", &entry.reward_id, &settings.paths.redemptions),
                WriteKind::Birthday => ("PUT", "birthday", &entry.birthday, &settings.paths.birthday),
                WriteKind::Referral => ("POST", "code", &entry.code, &settings.paths.referral),
            };
            init.set_method(method);
            let _ = js_sys::Reflect::set(&body, &member.into(), &JsValue::from_str(value));
            let body = js_sys::JSON::stringify(&body).map_err(|e| SyncError::Adapter(describe(&e)))?;
            init.set_body(&body);
            path.clone()
        }
    };
    init.set_headers(&headers);
    init.set_signal(Some(&controller.signal()));
    let url = format!("{}{}", settings.base, path);
    let request =
        Request::new_with_str_and_init(&url, &init).map_err(|e| SyncError::Offline(describe(&e)))?;

    // The timeout aborts the request and the reading of its body alike.
    let timed_out = Rc::new(Cell::new(false));
    let _timeout = {
        let (controller, timed_out) = (controller.clone(), Rc::clone(&timed_out));
        gloo_timers::callback::Timeout::new(settings.timeout_ms, move || {
            timed_out.set(true);
            controller.abort();
        })
    };
    let failed = |thrown: JsValue| {
        if timed_out.get() {
            SyncError::Timeout { after_ms: settings.timeout_ms }
        } else if controller.signal().aborted() {
            SyncError::Destroyed
        } else {
            SyncError::Offline(describe(&thrown))
        }
    };
    let promise = global_fetch(&request).map_err(&failed)?;
    let response: Response = JsFuture::from(promise).await.map_err(&failed)?.unchecked_into();
    let status = response.status();
    if status == 304 {
        return Ok(Fetched::NotModified);
    }
    let header = |name: &str| response.headers().get(name).ok().flatten();
    let limit = settings.max_response_bytes;
    if let Some(length) = header("content-length").and_then(|l| l.trim().parse::<u64>().ok()) {
        if length > u64::from(limit) {
            controller.abort();
            return Err(SyncError::TooLarge { limit });
        }
    }
    let text = read_body(&response, limit, controller).await.map_err(|e| match e {
        Read::TooLarge => SyncError::TooLarge { limit },
        Read::NotUtf8 => SyncError::InvalidResponse(Problems::one("", "is not UTF-8 text")),
        Read::Failed(thrown) => failed(thrown),
    })?;
    if !(200..300).contains(&status) {
        return Err(status_error(status, &text, header("retry-after").as_deref()));
    }
    let content_type = header("content-type").unwrap_or_default();
    // Bytes compared, not a substring search: `str::contains(&str)` links a 1.5 KB searcher into the wasm.
    if !content_type.as_bytes().windows(4).any(|w| w.eq_ignore_ascii_case(b"json")) {
        let shown = if content_type.is_empty() { "none" } else { content_type.as_str() };
        return Err(SyncError::InvalidResponse(Problems::one(
            "content-type",
            format!("must be application/json, got {shown}"),
        )));
    }
    Ok(Fetched::Body { text, etag: header("etag") })
}

enum Read {
    TooLarge,
    NotUtf8,
    Failed(JsValue),
}

/// Reads the body as a stream, giving up (and aborting the request) as soon as it passes `limit` bytes.
async fn read_body(response: &Response, limit: u32, controller: &AbortController) -> Result<String, Read> {
    let Some(stream) = response.body() else { return Ok(String::new()) };
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut bytes: Vec<u8> = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(Read::Failed)?;
        let done = js_sys::Reflect::get(&chunk, &"done".into()).map_err(Read::Failed)?;
        if done.is_truthy() {
            break;
        }
        let value: js_sys::Uint8Array =
            js_sys::Reflect::get(&chunk, &"value".into()).map_err(Read::Failed)?.unchecked_into();
        if bytes.len() as u64 + u64::from(value.length()) > u64::from(limit) {
            controller.abort();
            return Err(Read::TooLarge);
        }
        let start = bytes.len();
        bytes.resize(start + value.length() as usize, 0);
        value.copy_to(&mut bytes[start..]);
    }
    String::from_utf8(bytes).map_err(|_| Read::NotUtf8)
}

loyalty_core::wire_struct! {
    lenient;
    /// The contract's error body: `{"error": {"code": ..., "message": ...}}`.
    #[derive(Debug)]
    pub struct ErrorBody {
        /// The error.
        pub error: Option<ErrorDetail>,
    }
}

loyalty_core::wire_struct! {
    lenient;
    /// The error's code and message.
    #[derive(Debug)]
    pub struct ErrorDetail {
        /// Stable code.
        pub code: Option<String>,
        /// Readable message.
        pub message: Option<String>,
    }
}

fn status_error(status: u16, body: &str, retry_after: Option<&str>) -> SyncError {
    let detail = ErrorBody::from_json_str(body).ok().and_then(|b| b.error);
    let (code, message) = detail.map_or((None, None), |d| (d.code, d.message));
    SyncError::Status {
        status,
        code,
        message: message.unwrap_or_else(|| format!("HTTP {status}")),
        retry_after_ms: retry_after.and_then(retry_after_ms),
    }
}

/// `Retry-After`: seconds, or an HTTP date (read by the browser's own date parser).
fn retry_after_ms(value: &str) -> Option<u64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds.saturating_mul(1000));
    }
    let at = js_sys::Date::parse(value);
    (at.is_finite()).then(|| (at - js_sys::Date::now()).max(0.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_are_base64url_without_padding() {
        for (id, expected) in
            [("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("会员?>", "5Lya5ZGYPz4")]
        {
            assert_eq!(base64url(id.as_bytes()), expected, "{id}");
        }
        let identity = Identity { customer_id: "c-1".into(), timestamp: 1_767_225_600, digest: "ab".into() };
        assert_eq!(authorization(&identity), "LoyaltyShopper Yy0x.1767225600.ab");
    }
}
