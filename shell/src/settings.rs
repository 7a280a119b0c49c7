//! The script tag's settings, checked before the widget starts: every problem at once, named by the setting
//! (the loader names the attribute), with the messages `createClient` and `elementSettings` give for the same
//! values, so a merchant reads the same words whichever module met the mistake first.

use crate::texts;
use loyalty_core::{Currency, Problems};

loyalty_core::wire_struct! {
    lenient;
    /// The settings as the loader read them from `data-*` attributes: text as written.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub struct SettingsInput {
        /// `data-api-base`, resolved against the page when it is a path.
        pub api_base: Option<String>,
        /// `data-customer-id`, `data-timestamp`, `data-digest`: all three or none.
        pub customer_id: Option<String>,
        /// Unix seconds, as written.
        pub timestamp: Option<String>,
        /// The shop server's HMAC-SHA256, hex.
        pub digest: Option<String>,
        /// `data-locale`.
        pub locale: Option<String>,
        /// `data-currency`.
        pub currency: Option<String>,
        /// `data-sign-in-url`.
        pub sign_in_url: Option<String>,
        /// `data-join-url`.
        pub join_url: Option<String>,
        /// `data-cache-key`.
        pub cache_key: Option<String>,
        /// `data-timeout-ms`.
        pub timeout_ms: Option<String>,
        /// `data-catalog-limit`.
        pub catalog_limit: Option<String>,
        /// `data-history-half-life-days`.
        pub history_half_life_days: Option<String>,
        /// `data-require-consent`.
        pub require_consent: Option<String>,
        /// `data-codes-in-events`.
        pub codes_in_events: Option<String>,
    }
}

/// An absolute http(s) URL without its trailing slash (the client's cache is kept under it), or `None`.
pub fn api_base(value: &str) -> Option<String> {
    let rest = value.strip_prefix("https://").or_else(|| value.strip_prefix("http://"))?;
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    // `get` rather than slicing, whose panic links the formatting machinery (`find` gives a boundary).
    let clean = rest.get(..host_end).is_some_and(|host| !host.is_empty())
        && !value.contains(['?', '#'])
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    clean.then(|| value.trim_end_matches('/').to_owned())
}

fn whole(problems: &mut Problems, name: &str, value: Option<&str>, low: u32, high: u32) {
    if let Some(value) = value {
        if !value.parse::<u32>().is_ok_and(|n| (low..=high).contains(&n)) {
            let (low, high) = (texts::decimal(low.into()), texts::decimal(high.into()));
            problems.push(name, texts::join(&["must be a whole number from ", &low, " to ", &high]));
        }
    }
}

fn boolean(problems: &mut Problems, name: &str, value: Option<&str>) {
    if value.is_some_and(|v| v != "true" && v != "false") {
        problems.push(name, "must be true or false");
    }
}

/// Whether `tag` names a locale the widget speaks.
pub fn supported(tag: &str) -> bool {
    let language = tag.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
    crate::texts::LOCALES
        .iter()
        .any(|t| t.tag.split('-').next().is_some_and(|l| l.eq_ignore_ascii_case(&language)))
}

/// Every problem with the settings, by setting name (`apiBase`, `identity.digest`, `timeoutMs` ...).
pub fn check(input: &SettingsInput) -> Problems {
    let mut problems = Problems::default();
    match input.api_base.as_deref() {
        None => problems.push("apiBase", "is required (or give an adapter object, or memory data)"),
        Some(base) if api_base(base).is_none() => problems
            .push("apiBase", "must be an absolute https or http URL, such as https://shop.example/loyalty"),
        Some(_) => {}
    }
    if let Some(id) = &input.customer_id {
        if id.is_empty() || id.len() > 128 || id.contains('\n') {
            problems.push("identity.customerId", "must be 1 to 128 characters without line breaks");
        }
    }
    if let Some(timestamp) = &input.timestamp {
        if !timestamp.parse::<i64>().is_ok_and(|t| t > 0) {
            problems.push("identity.timestamp", "must be Unix seconds");
        }
    }
    if let Some(digest) = &input.digest {
        if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            problems.push("identity.digest", "must be 64 hex digits (HMAC-SHA256 from the shop's server)");
        }
    }
    if let Some(locale) = &input.locale {
        if !supported(locale) {
            problems.push("locale", texts::join(&["must be \"en\" or \"zh-CN\", got \"", locale, "\""]));
        }
    }
    if let Some(currency) = &input.currency {
        if let Err(message) = Currency::parse(currency) {
            problems.push("currency", message);
        }
    }
    for (name, link) in [("signInUrl", &input.sign_in_url), ("joinUrl", &input.join_url)] {
        if let Some(Err(message)) = link.as_deref().map(|l| loyalty_core::check_link(l.trim())) {
            problems.push(name, message);
        }
    }
    if input.cache_key.as_ref().is_some_and(|k| k.is_empty() || k.len() > 200) {
        problems.push("cacheKey", "must be a string of 1 to 200 characters");
    }
    whole(&mut problems, "timeoutMs", input.timeout_ms.as_deref(), 100, 120_000);
    whole(
        &mut problems,
        "catalogLimit",
        input.catalog_limit.as_deref(),
        0,
        loyalty_core::MAX_CATALOG_LIMIT as u32,
    );
    whole(&mut problems, "historyHalfLifeDays", input.history_half_life_days.as_deref(), 1, 365);
    boolean(&mut problems, "requireConsent", input.require_consent.as_deref());
    boolean(&mut problems, "codesInEvents", input.codes_in_events.as_deref());
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_wrong_setting_is_named_once() {
        let input = SettingsInput {
            api_base: Some("https://shop.example/loyalty/".into()),
            catalog_limit: Some("lots".into()),
            history_half_life_days: Some("0".into()),
            require_consent: Some("yes".into()),
            currency: Some("yuan".into()),
            sign_in_url: Some("javascript:alert(1)".into()),
            digest: Some("abc".into()),
            ..SettingsInput::default()
        };
        let said: Vec<String> =
            check(&input).0.iter().map(|p| format!("{}: {}", p.path, p.message)).collect();
        assert_eq!(
            said,
            [
                "identity.digest: must be 64 hex digits (HMAC-SHA256 from the shop's server)",
                "currency: must be an ISO 4217 code of three capital letters such as \"CNY\", got \"yuan\"",
                "signInUrl: must be a path on the shop (/products/x) or an https:// URL, got \"javascript:alert(1)\"",
                "catalogLimit: must be a whole number from 0 to 5000",
                "historyHalfLifeDays: must be a whole number from 1 to 365",
                "requireConsent: must be true or false",
            ]
        );
        assert!(
            check(&SettingsInput { api_base: Some("/loyalty".into()), ..SettingsInput::default() }).0.len()
                == 1
        );
        assert_eq!(
            api_base("https://shop.example/loyalty/").as_deref(),
            Some("https://shop.example/loyalty")
        );
        assert!(check(&SettingsInput {
            api_base: Some("http://127.0.0.1:8080".into()),
            ..SettingsInput::default()
        })
        .0
        .is_empty());
    }
}
