//! Server configuration: a TOML file (optional) overridden by `LOYALTY_*` environment variables, checked
//! once at start. A missing or weak secret stops the server with a message naming it, except in demo mode,
//! which generates throwaway secrets and says so.

use serde::Deserialize;
use std::path::PathBuf;

/// Shortest secret accepted, in bytes: HMAC-SHA256 keys below 32 bytes are weak.
pub const MIN_SECRET_LEN: usize = 32;

/// Default of `LOYALTY_HEADER_TIMEOUT_SECONDS`: a browser sends its headers in one go, so 10 s is ample on a
/// slow mobile link, and it also closes a keep-alive connection left idle that long.
pub const DEFAULT_HEADER_TIMEOUT_SECONDS: i64 = 10;

/// Default of `LOYALTY_REQUEST_TIMEOUT_SECONDS`.
pub const DEFAULT_REQUEST_TIMEOUT_SECONDS: i64 = 15;

/// Default of `LOYALTY_WRITE_TIMEOUT_SECONDS`: half a minute in which a client takes not one byte more of an
/// answer is a client that has stopped reading, not a slow link.
pub const DEFAULT_WRITE_TIMEOUT_SECONDS: i64 = 30;

/// The validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on, e.g. `127.0.0.1:8080`.
    pub listen: String,
    /// e.g. `sqlite://data/loyalty.db` (created with its folder if missing).
    pub database_url: String,
    /// The shop's id, part of every shopper digest.
    pub shop_id: String,
    /// Shopper-identity secrets: the current one, and the previous one during a rotation.
    pub shop_secrets: Vec<Vec<u8>>,
    /// Signs order and customer webhooks (server to server).
    pub webhook_secret: Vec<u8>,
    /// Bearer key for the admin API (server to server).
    pub admin_key: String,
    /// Origins allowed to call from the browser (CORS).
    pub allowed_origins: Vec<String>,
    /// How long a shopper digest stays valid, seconds (default 3600).
    pub identity_max_age: i64,
    /// Clock skew tolerated on digests and webhook signatures, seconds (default 300).
    pub clock_skew: i64,
    /// Largest request body accepted, bytes.
    pub max_body_bytes: usize,
    /// How long a connection may take to send a request's headers, and stay idle between requests (default
    /// 10 s): a client that opens connections and dawdles would otherwise hold each one forever.
    pub header_timeout: std::time::Duration,
    /// How long a request may take once its headers are in, until its answer starts (default 15 s).
    pub request_timeout: std::time::Duration,
    /// How long an answer being written may wait for the client to take more of it (default 30 s).
    pub write_timeout: std::time::Duration,
    /// The shopper's writes allowed per minute, per shopper and per client address.
    pub write_limits: crate::limits::WriteLimits,
    /// Behind a proxy: the header whose entries are the forwarded hops (e.g. `x-forwarded-for`), believed
    /// only from `trusted_proxies`.
    pub client_address_header: Option<String>,
    /// The proxies (addresses and networks) whose `client_address_header` is believed.
    pub trusted_proxies: Vec<crate::limits::AddressRange>,
    /// Demo mode: demo data, the demo sign-in route, and the demo shop's static files.
    pub demo: bool,
    /// When set, redemptions ask the shop's own endpoint to create the coupon (see README) instead of
    /// issuing this server's single-use codes.
    pub coupon_endpoint: Option<String>,
    /// Static files served at `/` (the demo shop), if any.
    pub static_dir: Option<PathBuf>,
    /// The widget build served at `/pkg/`, if any.
    pub pkg_dir: Option<PathBuf>,
}

/// The file format; every field optional, environment wins.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    database_url: Option<String>,
    shop_id: Option<String>,
    shop_secret: Option<String>,
    shop_secret_previous: Option<String>,
    webhook_secret: Option<String>,
    admin_key: Option<String>,
    allowed_origins: Option<Vec<String>>,
    identity_max_age_seconds: Option<i64>,
    clock_skew_seconds: Option<i64>,
    max_body_bytes: Option<usize>,
    header_timeout_seconds: Option<i64>,
    request_timeout_seconds: Option<i64>,
    write_timeout_seconds: Option<i64>,
    writes_per_minute_per_shopper: Option<u32>,
    writes_per_minute_per_address: Option<u32>,
    anonymous_writes_per_minute_per_address: Option<u32>,
    client_address_header: Option<String>,
    trusted_proxies: Option<Vec<String>>,
    demo: Option<bool>,
    coupon_endpoint: Option<String>,
    static_dir: Option<PathBuf>,
    pkg_dir: Option<PathBuf>,
}

impl Config {
    /// Reads the file (if given) and the environment (`env` is a lookup so tests can pass their own).
    pub fn load(
        file: Option<&std::path::Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, String> {
        let file: FileConfig = match file {
            None => FileConfig::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?
            }
        };
        let var = |name: &str| env(name).filter(|v| !v.is_empty());
        let demo = match var("LOYALTY_DEMO") {
            Some(v) => v == "1" || v == "true",
            None => file.demo.unwrap_or(false),
        };
        let number = |name: &str, default: i64| -> Result<i64, String> {
            match var(name) {
                Some(v) => v.parse().map_err(|_| format!("{name} must be a whole number, got {v:?}")),
                None => Ok(default),
            }
        };
        let secret = |name: &str, from_file: Option<String>| -> Result<Option<Vec<u8>>, String> {
            match var(name).or(from_file) {
                None => Ok(None),
                Some(s) if s.len() < MIN_SECRET_LEN => Err(format!(
                    "{name} is too weak: {} bytes, at least {MIN_SECRET_LEN} needed (e.g. 64 hex digits from `openssl rand -hex 32`)",
                    s.len()
                )),
                Some(s) => Ok(Some(s.into_bytes())),
            }
        };
        // Demo mode always makes throwaway secrets, ignoring configured ones: its public sign-in route signs
        // with the shop secret, so a real secret must never be in reach of it.
        let required = |name: &str, value: Option<Vec<u8>>| -> Result<Vec<u8>, String> {
            match value {
                _ if demo => {
                    tracing::warn!(
                        "demo mode: generated a throwaway {name}; never use demo mode for a real shop"
                    );
                    Ok(random_hex(32).into_bytes())
                }
                Some(v) => Ok(v),
                None => Err(format!("{name} is not set: set it in the config file or the environment")),
            }
        };
        let mut shop_secrets =
            vec![required("LOYALTY_SHOP_SECRET", secret("LOYALTY_SHOP_SECRET", file.shop_secret)?)?];
        if let Some(previous) =
            secret("LOYALTY_SHOP_SECRET_PREVIOUS", file.shop_secret_previous)?.filter(|_| !demo)
        {
            shop_secrets.push(previous);
        }
        let webhook_secret =
            required("LOYALTY_WEBHOOK_SECRET", secret("LOYALTY_WEBHOOK_SECRET", file.webhook_secret)?)?;
        let admin_key = required("LOYALTY_ADMIN_KEY", secret("LOYALTY_ADMIN_KEY", file.admin_key)?)?;
        let admin_key =
            String::from_utf8(admin_key).map_err(|_| "LOYALTY_ADMIN_KEY must be text".to_owned())?;
        let allowed_origins = match var("LOYALTY_ALLOWED_ORIGINS") {
            Some(list) => list.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
            None => file.allowed_origins.unwrap_or_default(),
        };
        for origin in &allowed_origins {
            if !(origin.starts_with("https://") || origin.starts_with("http://")) || origin.ends_with('/') {
                return Err(format!(
                    "allowed origin {origin:?} must look like https://shop.example (no path)"
                ));
            }
        }
        let shop_id = var("LOYALTY_SHOP_ID").or(file.shop_id).unwrap_or_else(|| {
            if demo {
                "demo-shop".into()
            } else {
                String::new()
            }
        });
        if shop_id.is_empty() || shop_id.contains('\n') {
            return Err("LOYALTY_SHOP_ID is not set (or contains a newline)".into());
        }
        let identity_max_age =
            number("LOYALTY_IDENTITY_MAX_AGE_SECONDS", file.identity_max_age_seconds.unwrap_or(3600))?;
        let clock_skew = number("LOYALTY_CLOCK_SKEW_SECONDS", file.clock_skew_seconds.unwrap_or(300))?;
        if identity_max_age <= 0 || clock_skew < 0 {
            return Err("identity max age must be positive and clock skew not negative".into());
        }
        let max_body_bytes = match var("LOYALTY_MAX_BODY_BYTES") {
            Some(v) => {
                v.parse().map_err(|_| format!("LOYALTY_MAX_BODY_BYTES must be a whole number, got {v:?}"))?
            }
            None => file.max_body_bytes.unwrap_or(1 << 20),
        };
        // Whole seconds from 1 to an hour: 0 would close every connection at once, and a bound far past an
        // hour is no bound against a client that holds connections open.
        let seconds = |name: &str, given: Option<i64>, default: i64| -> Result<std::time::Duration, String> {
            let n = number(name, given.unwrap_or(default))?;
            u64::try_from(n)
                .ok()
                .filter(|n| (1..=3600).contains(n))
                .map(std::time::Duration::from_secs)
                .ok_or_else(|| format!("{name} must be from 1 to 3600 seconds, got {n}"))
        };
        let header_timeout = seconds(
            "LOYALTY_HEADER_TIMEOUT_SECONDS",
            file.header_timeout_seconds,
            DEFAULT_HEADER_TIMEOUT_SECONDS,
        )?;
        let request_timeout = seconds(
            "LOYALTY_REQUEST_TIMEOUT_SECONDS",
            file.request_timeout_seconds,
            DEFAULT_REQUEST_TIMEOUT_SECONDS,
        )?;
        let write_timeout = seconds(
            "LOYALTY_WRITE_TIMEOUT_SECONDS",
            file.write_timeout_seconds,
            DEFAULT_WRITE_TIMEOUT_SECONDS,
        )?;
        let per_minute = |name: &str, given: Option<u32>, default: u32| -> Result<u32, String> {
            let n = number(name, i64::from(given.unwrap_or(default)))?;
            u32::try_from(n).ok().filter(|n| *n > 0).ok_or_else(|| format!("{name} must be at least 1"))
        };
        let defaults = crate::limits::WriteLimits::default();
        let write_limits = crate::limits::WriteLimits {
            per_shopper: per_minute(
                "LOYALTY_WRITES_PER_MINUTE_PER_SHOPPER",
                file.writes_per_minute_per_shopper,
                defaults.per_shopper,
            )?,
            per_address: per_minute(
                "LOYALTY_WRITES_PER_MINUTE_PER_ADDRESS",
                file.writes_per_minute_per_address,
                defaults.per_address,
            )?,
            anonymous_per_address: per_minute(
                "LOYALTY_ANONYMOUS_WRITES_PER_MINUTE_PER_ADDRESS",
                file.anonymous_writes_per_minute_per_address,
                defaults.anonymous_per_address,
            )?,
        };
        let client_address_header = var("LOYALTY_CLIENT_ADDRESS_HEADER")
            .or(file.client_address_header)
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty());
        if let Some(h) = &client_address_header {
            if axum::http::HeaderName::from_bytes(h.as_bytes()).is_err() {
                return Err(format!("LOYALTY_CLIENT_ADDRESS_HEADER must be a header name, got {h:?}"));
            }
        }
        let trusted_proxies = match var("LOYALTY_TRUSTED_PROXIES") {
            Some(list) => list.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
            None => file.trusted_proxies.unwrap_or_default(),
        }
        .iter()
        .map(|range| {
            crate::limits::AddressRange::parse(range).map_err(|e| format!("LOYALTY_TRUSTED_PROXIES: {e}"))
        })
        .collect::<Result<Vec<_>, String>>()?;
        // Each without the other does nothing: say so at start rather than limit every shopper behind the
        // proxy as one address, or believe a header no proxy is named to write.
        match (&client_address_header, trusted_proxies.is_empty()) {
            (Some(_), true) => {
                return Err(
                    "LOYALTY_CLIENT_ADDRESS_HEADER is set but LOYALTY_TRUSTED_PROXIES is not: name the \
                            proxies (addresses or networks) whose header is believed"
                        .into(),
                )
            }
            (None, false) => {
                return Err(
                    "LOYALTY_TRUSTED_PROXIES is set but LOYALTY_CLIENT_ADDRESS_HEADER is not: name the \
                            header the proxies write the client's address in (e.g. x-forwarded-for)"
                        .into(),
                )
            }
            _ => {}
        }
        let coupon_endpoint = var("LOYALTY_COUPON_ENDPOINT").or(file.coupon_endpoint);
        if let Some(url) = &coupon_endpoint {
            check_coupon_endpoint(url)?;
        }
        Ok(Config {
            coupon_endpoint,
            listen: var("LOYALTY_LISTEN").or(file.listen).unwrap_or_else(|| "127.0.0.1:8080".into()),
            database_url: var("LOYALTY_DATABASE_URL")
                .or(file.database_url)
                .unwrap_or_else(|| "sqlite://data/loyalty.db".into()),
            shop_id,
            shop_secrets,
            webhook_secret,
            admin_key,
            allowed_origins,
            identity_max_age,
            clock_skew,
            max_body_bytes,
            header_timeout,
            request_timeout,
            write_timeout,
            write_limits,
            client_address_header,
            trusted_proxies,
            demo,
            static_dir: var("LOYALTY_STATIC_DIR").map(PathBuf::from).or(file.static_dir),
            pkg_dir: var("LOYALTY_PKG_DIR").map(PathBuf::from).or(file.pkg_dir),
        })
    }
}

/// The shop's coupon endpoint gets signed requests: an `https://` URL, or `http://` on a loopback host, with
/// no credentials in it. The URL is parsed, so the host is compared whole (`http://localhost:@evil.example/`
/// names the host `evil.example`, and `http://127.0.0.1.evil.example/` is not loopback).
fn check_coupon_endpoint(url: &str) -> Result<(), String> {
    let refuse = |why: &str| Err(format!("LOYALTY_COUPON_ENDPOINT {why}, got {url:?}"));
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return refuse("must be an absolute URL");
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return refuse("must not carry a user name or password");
    }
    let host = parsed.host_str().unwrap_or("");
    let loopback = host == "localhost"
        || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
        || host == "[::1]";
    match parsed.scheme() {
        "https" if !host.is_empty() => Ok(()),
        "http" if loopback => Ok(()),
        _ => refuse("must be an https:// URL (http only on loopback)"),
    }
}

/// `n` random bytes as hex, from the operating system's generator.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    // The OS generator failing is not recoverable for a server that must mint secrets and codes.
    getrandom::fill(&mut bytes).expect("the operating system's random generator works");
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<Config, String> {
        let vars: Vec<(String, String)> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::load(None, &move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    const S: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn refuses_missing_and_weak_secrets_outside_demo_mode() {
        assert_eq!(
            load(&[]).unwrap_err(),
            "LOYALTY_SHOP_SECRET is not set: set it in the config file or the environment"
        );
        let weak = load(&[("LOYALTY_SHOP_SECRET", "short")]).unwrap_err();
        assert!(weak.starts_with("LOYALTY_SHOP_SECRET is too weak: 5 bytes"), "{weak}");
        let no_shop =
            load(&[("LOYALTY_SHOP_SECRET", S), ("LOYALTY_WEBHOOK_SECRET", S), ("LOYALTY_ADMIN_KEY", S)]);
        assert_eq!(no_shop.unwrap_err(), "LOYALTY_SHOP_ID is not set (or contains a newline)");
        let ok = load(&[
            ("LOYALTY_SHOP_SECRET", S),
            ("LOYALTY_SHOP_SECRET_PREVIOUS", "fedcba9876543210fedcba9876543210"),
            ("LOYALTY_WEBHOOK_SECRET", S),
            ("LOYALTY_ADMIN_KEY", S),
            ("LOYALTY_SHOP_ID", "tea-house"),
            ("LOYALTY_ALLOWED_ORIGINS", "https://tea.example, https://www.tea.example"),
        ])
        .unwrap();
        assert_eq!(ok.shop_secrets.len(), 2);
        assert_eq!(ok.allowed_origins, ["https://tea.example", "https://www.tea.example"]);
        assert!(!ok.demo);
    }

    #[test]
    fn demo_mode_generates_secrets() {
        let real =
            load(&[("LOYALTY_DEMO", "1"), ("LOYALTY_SHOP_SECRET", S), ("LOYALTY_SHOP_SECRET_PREVIOUS", S)])
                .unwrap();
        assert_eq!(real.shop_secrets.len(), 1, "configured secrets are ignored in demo mode");
        assert_ne!(real.shop_secrets[0], S.as_bytes());
        let demo = load(&[("LOYALTY_DEMO", "1")]).unwrap();
        assert!(demo.demo);
        assert_eq!(demo.shop_secrets[0].len(), 64);
        assert_ne!(demo.shop_secrets[0], demo.webhook_secret);
        assert_eq!(demo.shop_id, "demo-shop");
    }

    #[test]
    fn coupon_endpoints_must_be_https_except_on_loopback() {
        let err = load(&[("LOYALTY_DEMO", "1"), ("LOYALTY_COUPON_ENDPOINT", "http://shop.example/coupons")])
            .unwrap_err();
        assert!(err.contains("must be an https:// URL"), "{err}");
        assert!(load(&[("LOYALTY_DEMO", "1"), ("LOYALTY_COUPON_ENDPOINT", "https://shop.example/coupons")])
            .is_ok());
        assert!(
            load(&[("LOYALTY_DEMO", "1"), ("LOYALTY_COUPON_ENDPOINT", "http://127.0.0.1:9000/c")]).is_ok()
        );
        assert!(
            load(&[("LOYALTY_DEMO", "1"), ("LOYALTY_COUPON_ENDPOINT", "http://localhost:9000/c")]).is_ok()
        );
        assert!(load(&[("LOYALTY_DEMO", "1"), ("LOYALTY_COUPON_ENDPOINT", "http://[::1]:9000/c")]).is_ok());
        // The host is compared whole: these only look like loopback.
        for url in [
            "http://localhost:@evil.example/",
            "http://127.0.0.1:@evil.example/c",
            "http://127.0.0.1.evil.example/c",
            "http://localhost.evil.example:9000/c",
            "https://user:secret@shop.example/coupons",
            "shop.example/coupons",
        ] {
            let err = load(&[("LOYALTY_DEMO", "1"), ("LOYALTY_COUPON_ENDPOINT", url)]).unwrap_err();
            assert!(err.contains("LOYALTY_COUPON_ENDPOINT"), "{url}: {err}");
        }
    }

    #[test]
    fn reads_a_file_and_lets_the_environment_win() {
        let dir = std::env::temp_dir().join(format!("loyalty-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("loyalty.toml");
        std::fs::write(
            &path,
            format!(
                "shop_id = \"tea-house\"\nshop_secret = \"{S}\"\nwebhook_secret = \"{S}\"\nadmin_key = \"{S}\"\n\
                 listen = \"0.0.0.0:9000\"\nallowed_origins = [\"https://tea.example\"]\n"
            ),
        )
        .unwrap();
        let env = |name: &str| (name == "LOYALTY_LISTEN").then(|| "127.0.0.1:9001".to_owned());
        let config = Config::load(Some(&path), &env).unwrap();
        assert_eq!((config.shop_id.as_str(), config.listen.as_str()), ("tea-house", "127.0.0.1:9001"));
        assert_eq!(config.allowed_origins, ["https://tea.example"]);
        std::fs::write(&path, "shop_idd = \"x\"\n").unwrap();
        let err = Config::load(Some(&path), &|_| None).unwrap_err();
        assert!(err.contains("unknown field `shop_idd`"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn refuses_bad_origins() {
        let err =
            load(&[("LOYALTY_DEMO", "1"), ("LOYALTY_ALLOWED_ORIGINS", "https://tea.example/")]).unwrap_err();
        assert!(err.contains("must look like https://shop.example"), "{err}");
    }

    #[test]
    fn timeouts_are_whole_seconds_from_one_to_an_hour() {
        let demo = load(&[("LOYALTY_DEMO", "1")]).unwrap();
        assert_eq!(
            (demo.header_timeout.as_secs(), demo.request_timeout.as_secs(), demo.write_timeout.as_secs()),
            (
                DEFAULT_HEADER_TIMEOUT_SECONDS as u64,
                DEFAULT_REQUEST_TIMEOUT_SECONDS as u64,
                DEFAULT_WRITE_TIMEOUT_SECONDS as u64
            )
        );
        let short = load(&[
            ("LOYALTY_DEMO", "1"),
            ("LOYALTY_HEADER_TIMEOUT_SECONDS", "1"),
            ("LOYALTY_REQUEST_TIMEOUT_SECONDS", "2"),
        ])
        .unwrap();
        assert_eq!((short.header_timeout.as_secs(), short.request_timeout.as_secs()), (1, 2));
        for (name, value, expected) in [
            (
                "LOYALTY_HEADER_TIMEOUT_SECONDS",
                "0",
                "LOYALTY_HEADER_TIMEOUT_SECONDS must be from 1 to 3600 seconds, got 0",
            ),
            (
                "LOYALTY_REQUEST_TIMEOUT_SECONDS",
                "3601",
                "LOYALTY_REQUEST_TIMEOUT_SECONDS must be from 1 to 3600 seconds, got 3601",
            ),
            (
                "LOYALTY_WRITE_TIMEOUT_SECONDS",
                "0",
                "LOYALTY_WRITE_TIMEOUT_SECONDS must be from 1 to 3600 seconds, got 0",
            ),
            (
                "LOYALTY_HEADER_TIMEOUT_SECONDS",
                "1.5",
                "LOYALTY_HEADER_TIMEOUT_SECONDS must be a whole number, got \"1.5\"",
            ),
        ] {
            assert_eq!(load(&[("LOYALTY_DEMO", "1"), (name, value)]).unwrap_err(), expected);
        }
    }

    #[test]
    fn the_client_address_header_needs_trusted_proxies() {
        let err =
            load(&[("LOYALTY_DEMO", "1"), ("LOYALTY_CLIENT_ADDRESS_HEADER", "x-forwarded-for")]).unwrap_err();
        assert!(
            err.starts_with("LOYALTY_CLIENT_ADDRESS_HEADER is set but LOYALTY_TRUSTED_PROXIES is not"),
            "{err}"
        );
        let err = load(&[("LOYALTY_DEMO", "1"), ("LOYALTY_TRUSTED_PROXIES", "10.0.0.0/8")]).unwrap_err();
        assert!(
            err.starts_with("LOYALTY_TRUSTED_PROXIES is set but LOYALTY_CLIENT_ADDRESS_HEADER is not"),
            "{err}"
        );
        let err = load(&[
            ("LOYALTY_DEMO", "1"),
            ("LOYALTY_CLIENT_ADDRESS_HEADER", "x-forwarded-for"),
            ("LOYALTY_TRUSTED_PROXIES", "10.0.0.0/8, proxy.example"),
        ])
        .unwrap_err();
        assert_eq!(
            err,
            "LOYALTY_TRUSTED_PROXIES: \"proxy.example\": must be an IP address or a network like 10.0.0.0/8"
        );
        let ok = load(&[
            ("LOYALTY_DEMO", "1"),
            ("LOYALTY_CLIENT_ADDRESS_HEADER", "X-Forwarded-For"),
            ("LOYALTY_TRUSTED_PROXIES", "10.0.0.0/8, ::1"),
            ("LOYALTY_ANONYMOUS_WRITES_PER_MINUTE_PER_ADDRESS", "7"),
        ])
        .unwrap();
        assert_eq!(ok.client_address_header.as_deref(), Some("x-forwarded-for"));
        assert_eq!(ok.trusted_proxies.len(), 2);
        assert_eq!(ok.write_limits.anonymous_per_address, 7);
        // The same in the file, where the proxies are a list.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loyalty.toml");
        std::fs::write(
            &path,
            "demo = true\nclient_address_header = \"x-real-ip\"\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n\
             anonymous_writes_per_minute_per_address = 9\nheader_timeout_seconds = 4\nwrite_timeout_seconds = 5\n",
        )
        .unwrap();
        let from_file = Config::load(Some(&path), &|_| None).unwrap();
        assert_eq!(from_file.client_address_header.as_deref(), Some("x-real-ip"));
        assert_eq!(from_file.trusted_proxies.len(), 2);
        assert_eq!(from_file.write_limits.anonymous_per_address, 9);
        assert_eq!((from_file.header_timeout.as_secs(), from_file.write_timeout.as_secs()), (4, 5));
    }
}
