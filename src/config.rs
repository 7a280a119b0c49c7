//! `createClient(config)`: the JS config object parsed once, at the edge, into validated settings. Every
//! problem is collected and named by its setting (`apiBase: must be an absolute https or http URL`), so a
//! developer sees all their mistakes in one error.

use crate::net::http::{HttpSettings, Paths};
use crate::net::js_adapter::JsBackend;
use crate::net::memory::MemoryBackend;
use crate::net::Backend;
use crate::store::{Identity, RetryPolicy};
use js_sys::{Object, Reflect};
use loyalty_core::{FromJson, Problem, Problems, ShopperState};
use std::collections::BTreeMap;
use wasm_bindgen::{JsCast, JsValue};

/// Every setting `createClient` accepts.
const SETTINGS: [&str; 15] = [
    "apiBase",
    "adapter",
    "memory",
    "identity",
    "headers",
    "paths",
    "timeoutMs",
    "maxResponseBytes",
    "cacheKey",
    "cache",
    "retry",
    "catalogLimit",
    "requireConsent",
    "historyHalfLifeDays",
    "codesInEvents",
];

/// The validated config.
pub(crate) struct ClientConfig {
    pub backend: Box<dyn Backend>,
    pub identity: Option<Identity>,
    /// Scopes the cache to one shop.
    pub cache_key: String,
    /// False: keep nothing in localStorage (memory only).
    pub cache: bool,
    pub retry: RetryPolicy,
    /// Record the shopper's history only after `setConsent(true)` (the EU treats localStorage like cookies).
    pub require_consent: bool,
    /// The ranking's weights (only the half-life of interest is a setting).
    pub ranking: loyalty_core::Ranking,
    /// False: DOM events never carry a discount code (every listener on the document hears them).
    pub codes_in_events: bool,
}

loyalty_core::wire_struct! {
    strict;
    /// How reads and writes are retried.
    #[derive(Clone, Debug)]
    pub struct RetryInput {
        /// Attempts of one read before giving up (1 to 10, default 4).
        pub attempts: Option<u32>,
        /// First backoff ceiling, milliseconds (default 500).
        pub base_ms: Option<u32>,
        /// Largest backoff ceiling, milliseconds (default 30000).
        pub cap_ms: Option<u32>,
    }
}

loyalty_core::wire_struct! {
    strict;
    /// The shopper's identity as the shop's server signed it.
    #[derive(Clone, Debug)]
    pub struct IdentityInput {
        /// The shop's id for the shopper.
        pub customer_id: String,
        /// When the shop's server signed it, Unix seconds.
        pub timestamp: i64,
        /// Hex HMAC-SHA256 from the shop's server.
        pub digest: String,
    }
}

loyalty_core::wire_struct! {
    strict;
    /// Endpoint paths, for a backend whose API lives elsewhere.
    #[derive(Clone, Debug)]
    pub struct PathsInput {
        /// The program (default `/v1/program`).
        pub program: Option<String>,
        /// The shopper's state (default `/v1/customers/me`).
        pub shopper: Option<String>,
        /// Redemptions (default `/v1/redemptions`).
        pub redemptions: Option<String>,
        /// The shopper's birthday (default `/v1/customers/me/birthday`).
        pub birthday: Option<String>,
        /// Referral capture (default `/v1/referrals/capture`).
        pub referral: Option<String>,
        /// The recommendation candidates (default `/v1/catalog`).
        pub catalog: Option<String>,
    }
}

/// Collects problems with their setting's name.
#[derive(Default)]
struct Found(Vec<Problem>);

impl Found {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem { path: path.into(), message: message.into() });
    }

    fn merge(&mut self, problems: Problems) {
        self.0.extend(problems.0);
    }
}

/// A value as JSON text and decoded, with problems under `name`.
fn decode<T: FromJson>(name: &str, value: &JsValue, found: &mut Found) -> Option<T> {
    match crate::decode::<T>(name, value) {
        Ok(value) => Some(value),
        Err(problems) => {
            found.merge(problems);
            None
        }
    }
}

/// Checks a signed identity's form (the backend checks the signature).
pub(crate) fn identity(name: &str, value: &JsValue) -> Result<Identity, Problems> {
    let mut found = Found::default();
    let input: Option<IdentityInput> = decode(name, value, &mut found);
    if let Some(input) = &input {
        let id = &input.customer_id;
        if id.is_empty() || id.len() > 128 || id.contains('\n') {
            found.add(format!("{name}.customerId"), "must be 1 to 128 characters without line breaks");
        }
        if input.timestamp <= 0 {
            found.add(format!("{name}.timestamp"), "must be Unix seconds");
        }
        if input.digest.len() != 64 || !input.digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            found.add(format!("{name}.digest"), "must be 64 hex digits (HMAC-SHA256 from the shop's server)");
        }
    }
    match (input, found.0.is_empty()) {
        (Some(i), true) => {
            Ok(Identity { customer_id: i.customer_id, timestamp: i.timestamp, digest: i.digest })
        }
        _ => Err(Problems(found.0)),
    }
}

/// A whole number of milliseconds or bytes within `range`.
fn whole(
    name: &str,
    value: &JsValue,
    range: std::ops::RangeInclusive<u32>,
    found: &mut Found,
) -> Option<u32> {
    let number = value
        .as_f64()
        .filter(|n| n.fract() == 0.0 && *n >= f64::from(*range.start()) && *n <= f64::from(*range.end()));
    if number.is_none() {
        found.add(name, format!("must be a whole number from {} to {}", range.start(), range.end()));
    }
    number.map(|n| n as u32)
}

/// A header a browser will send as given: a token name and a value without line breaks.
fn header_ok(name: &str, value: &str) -> bool {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    !name.is_empty()
        && name.bytes().all(token)
        && value.chars().all(|c| c == '\t' || (' '..='\u{ff}').contains(&c) && c != '\u{7f}')
}

fn path_ok(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Parses `createClient`'s argument.
pub(crate) fn parse(config: &JsValue) -> Result<ClientConfig, Problems> {
    let Some(object) = config.dyn_ref::<Object>().filter(|_| !config.is_function()) else {
        return Err(Problems::one(
            "config",
            "must be an object such as { apiBase: \"https://shop.example/loyalty\" }",
        ));
    };
    let mut found = Found::default();
    for key in Object::keys(object).iter() {
        let key = key.as_string().unwrap_or_default();
        if !SETTINGS.contains(&key.as_str()) {
            found.add(&key, format!("unknown setting, expected one of: {}", SETTINGS.join(", ")));
        }
    }
    let get =
        |key: &str| Reflect::get(object, &key.into()).ok().filter(|v| !v.is_undefined() && !v.is_null());
    let identity = get("identity").and_then(|v| identity("identity", &v).map_err(|p| found.merge(p)).ok());
    let timeout_ms =
        get("timeoutMs").map_or(Some(10_000), |v| whole("timeoutMs", &v, 100..=120_000, &mut found));
    let max_response_bytes = get("maxResponseBytes")
        .map_or(Some(2_000_000), |v| whole("maxResponseBytes", &v, 1_000..=50_000_000, &mut found));
    let catalog_limit = get("catalogLimit").map_or(Some(loyalty_core::CANDIDATES as u32), |v| {
        // The server's bound on `limit`: a larger setting would only ever be refused.
        whole("catalogLimit", &v, 0..=loyalty_core::MAX_CATALOG_LIMIT as u32, &mut found)
    });
    let mut ranking = loyalty_core::Ranking::default();
    if let Some(days) =
        get("historyHalfLifeDays").and_then(|v| whole("historyHalfLifeDays", &v, 1..=365, &mut found))
    {
        ranking.half_life_days = days as f32;
    }
    let require_consent = match get("requireConsent") {
        None => false,
        Some(v) => v.as_bool().unwrap_or_else(|| {
            found.add("requireConsent", "must be true or false");
            false
        }),
    };
    let headers: Vec<(String, String)> = get("headers")
        .and_then(|v| decode::<BTreeMap<String, String>>("headers", &v, &mut found))
        .unwrap_or_default()
        .into_iter()
        .filter(|(name, value)| {
            let ok = header_ok(name, value);
            if !ok {
                found.add(
                    format!("headers.{name}"),
                    "must be a header name (letters, digits, -) and a one-line Latin-1 value",
                );
            }
            ok
        })
        .collect();
    let mut paths = Paths::default();
    if let Some(input) = get("paths").and_then(|v| decode::<PathsInput>("paths", &v, &mut found)) {
        for (name, given, slot) in [
            ("program", input.program, &mut paths.program),
            ("shopper", input.shopper, &mut paths.shopper),
            ("redemptions", input.redemptions, &mut paths.redemptions),
            ("birthday", input.birthday, &mut paths.birthday),
            ("referral", input.referral, &mut paths.referral),
            ("catalog", input.catalog, &mut paths.catalog),
        ] {
            match given {
                Some(path) if path_ok(&path) => *slot = path,
                Some(_) => found.add(format!("paths.{name}"), "must be a path starting with a single /"),
                None => {}
            }
        }
    }
    let cache = match get("cache") {
        None => true,
        Some(v) => v.as_bool().unwrap_or_else(|| {
            found.add("cache", "must be true or false");
            true
        }),
    };
    let codes_in_events = match get("codesInEvents") {
        None => true,
        Some(v) => v.as_bool().unwrap_or_else(|| {
            found.add("codesInEvents", "must be true or false");
            true
        }),
    };
    let cache_key = get("cacheKey").map(|v| {
        v.as_string().filter(|k| !k.is_empty() && k.len() <= 200).unwrap_or_else(|| {
            found.add("cacheKey", "must be a string of 1 to 200 characters");
            String::new()
        })
    });

    let mut retry = RetryPolicy::default();
    if let Some(input) = get("retry").and_then(|v| decode::<RetryInput>("retry", &v, &mut found)) {
        for (name, given, slot, range) in [
            ("attempts", input.attempts, &mut retry.read_attempts, 1..=10),
            ("baseMs", input.base_ms, &mut retry.base_ms, 10..=60_000),
            ("capMs", input.cap_ms, &mut retry.cap_ms, 10..=600_000),
        ] {
            match given {
                Some(n) if range.contains(&n) => *slot = n,
                Some(_) => found.add(
                    format!("retry.{name}"),
                    format!("must be from {} to {}", range.start(), range.end()),
                ),
                None => {}
            }
        }
    }

    if retry.cap_ms < retry.base_ms {
        found.add("retry.capMs", format!("must be at least retry.baseMs ({})", retry.base_ms));
    }

    let chosen: Vec<&str> =
        ["apiBase", "adapter", "memory"].into_iter().filter(|k| get(k).is_some()).collect();
    let mut default_key = String::new();
    let backend: Option<Box<dyn Backend>> = match chosen[..] {
        ["apiBase"] => {
            let given = get("apiBase").and_then(|v| v.as_string()).unwrap_or_default();
            match (loyalty_shell::settings::api_base(&given), timeout_ms, max_response_bytes, catalog_limit) {
                (Some(base), Some(timeout_ms), Some(max_response_bytes), Some(catalog_limit)) => {
                    default_key.clone_from(&base);
                    Some(Box::new(crate::net::http::HttpBackend::new(HttpSettings {
                        base,
                        paths,
                        headers,
                        timeout_ms,
                        max_response_bytes,
                        catalog_limit,
                    })))
                }
                (None, ..) => {
                    found.add(
                        "apiBase",
                        "must be an absolute https or http URL, such as https://shop.example/loyalty",
                    );
                    None
                }
                _ => None,
            }
        }
        ["adapter"] => {
            default_key = "adapter".into();
            JsBackend::new(&get("adapter").unwrap_or_default(), timeout_ms.unwrap_or(10_000))
                .map(|b| Box::new(b) as Box<dyn Backend>)
                .map_err(|p| found.merge(p))
                .ok()
        }
        ["memory"] => {
            default_key = "memory".into();
            memory(&get("memory").unwrap_or_default(), &mut found)
        }
        [] => {
            found.add("apiBase", "is required (or give an adapter object, or memory data)");
            None
        }
        _ => {
            found.add(
                chosen[1],
                format!("give only one of apiBase, adapter and memory (got {})", chosen.join(" and ")),
            );
            None
        }
    };
    match backend {
        Some(backend) if found.0.is_empty() => Ok(ClientConfig {
            backend,
            identity,
            cache_key: cache_key.unwrap_or(default_key),
            cache,
            retry,
            require_consent,
            ranking,
            codes_in_events,
        }),
        _ => Err(Problems(found.0)),
    }
}

/// `memory: { program, shopper }`: validated now, so a mistake shows at creation.
fn memory(value: &JsValue, found: &mut Found) -> Option<Box<dyn Backend>> {
    let get = |key: &str| Reflect::get(value, &key.into()).ok().filter(|v| !v.is_undefined() && !v.is_null());
    let text = get("program").and_then(|p| js_sys::JSON::stringify(&p).ok()).and_then(|t| t.as_string());
    let Some(text) = text else {
        found.add("memory.program", "is required");
        return None;
    };
    let program = crate::program_from_text(&text).map_err(|p| found.merge(p.under("memory.program"))).ok();
    let shopper = match get("shopper") {
        Some(s) => Some(decode::<ShopperState>("memory.shopper", &s, found)?),
        None => None,
    };
    // `catalog`: an array of products, served as the catalog's answer.
    let catalog = match get("catalog") {
        Some(c) => {
            let products = decode::<Vec<loyalty_core::CatalogProduct>>("memory.catalog", &c, found)?;
            crate::json_text(&crate::store::CatalogAnswerOut { products: &products })
        }
        None => None,
    };
    Some(Box::new(MemoryBackend::new(text, program?, shopper, catalog)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_bases_must_be_absolute_http_urls() {
        for (given, expected) in [
            ("https://shop.example/loyalty/", Some("https://shop.example/loyalty")),
            ("http://127.0.0.1:8080", Some("http://127.0.0.1:8080")),
            ("https://shop.example", Some("https://shop.example")),
            ("/loyalty", None),
            ("shop.example", None),
            ("javascript:alert(1)", None),
            ("https://", None),
            ("https:///path", None),
            ("https://shop.example/a b", None),
            ("https://shop.example/?x=1", None),
            ("ftp://shop.example", None),
        ] {
            assert_eq!(loyalty_shell::settings::api_base(given).as_deref(), expected, "{given}");
        }
    }

    #[test]
    fn headers_and_paths_are_checked() {
        assert!(header_ok("X-Shop", "tea-house"));
        assert!(!header_ok("X Shop", "a"));
        assert!(!header_ok("X-Shop", "a\r\nSet-Cookie: x"));
        assert!(!header_ok("X-Shop", "会员"));
        assert!(path_ok("/api/loyalty/program"));
        assert!(!path_ok("//evil.example/program"));
        assert!(!path_ok("program"));
    }
}
