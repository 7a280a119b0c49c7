//! Server configuration: a TOML file (optional) overridden by `LOYALTY_*` environment variables, checked
//! once at start. A missing or weak secret stops the server with a message naming it, except in demo mode,
//! which generates throwaway secrets and says so.

use serde::Deserialize;
use std::path::PathBuf;

/// Shortest secret accepted, in bytes: HMAC-SHA256 keys below 32 bytes are weak.
pub const MIN_SECRET_LEN: usize = 32;

/// Database connections open at once unless `LOYALTY_DB_MAX_CONNECTIONS` says otherwise.
pub const DEFAULT_DB_MAX_CONNECTIONS: u32 = 8;

/// Default of `LOYALTY_HEADER_TIMEOUT_SECONDS`: a browser sends its headers in one go, so 10 s is ample on a
/// slow mobile link, and it also closes a keep-alive connection left idle that long.
pub const DEFAULT_HEADER_TIMEOUT_SECONDS: i64 = 10;

/// Default of `LOYALTY_MAX_CONNECTIONS`: below the 1,024 file descriptors a process gets by default, with room
/// for the database's files, the static files and the coupon endpoint's calls.
pub const DEFAULT_MAX_CONNECTIONS: i64 = 768;

/// Default of `LOYALTY_MAX_CONNECTIONS_PER_ADDRESS`: a browser opens at most six to one host, and an office
/// or a carrier's NAT puts many shoppers behind one address. Connections from trusted proxies are not counted.
pub const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS: i64 = 64;

/// Default of `LOYALTY_REQUEST_TIMEOUT_SECONDS`.
pub const DEFAULT_REQUEST_TIMEOUT_SECONDS: i64 = 15;

/// Default of `LOYALTY_WRITE_TIMEOUT_SECONDS`: half a minute in which a client takes not one byte more of an
/// answer is a client that has stopped reading, not a slow link.
pub const DEFAULT_WRITE_TIMEOUT_SECONDS: i64 = 30;

/// The validated configuration. Its `Debug` leaves the secrets out (and the database URL, which can hold a
/// password): a config printed by mistake, or by a test's `unwrap_err`, shows none of them.
#[derive(Clone)]
pub struct Config {
    /// Address to listen on, e.g. `127.0.0.1:8080`.
    pub listen: String,
    /// e.g. `sqlite://data/loyalty.db` (created with its folder if missing).
    pub database_url: String,
    /// Most database connections open at once (default 8). No request holds more than one, so a small pool
    /// makes requests wait their turn, never wait for each other.
    pub db_max_connections: u32,
    /// The shop's id, part of every shopper digest.
    pub shop_id: String,
    /// Shopper-identity secrets: the current one, and the previous one during a rotation.
    pub shop_secrets: Vec<Vec<u8>>,
    /// Webhook secrets (server to server): the current one, which also signs calls to the shop's coupon
    /// endpoint, and the previous one during a rotation; a webhook signed with either is accepted.
    pub webhook_secrets: Vec<Vec<u8>>,
    /// Bearer keys for the admin API (server to server): the current one, and the previous one during a
    /// rotation.
    pub admin_keys: Vec<String>,
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
    /// Connections open at once, in all and per client address (`LOYALTY_MAX_CONNECTIONS`,
    /// `LOYALTY_MAX_CONNECTIONS_PER_ADDRESS`).
    pub connection_limits: crate::connections::ConnectionLimits,
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
    db_max_connections: Option<u32>,
    shop_id: Option<String>,
    shop_secret: Option<String>,
    shop_secret_previous: Option<String>,
    webhook_secret: Option<String>,
    webhook_secret_previous: Option<String>,
    admin_key: Option<String>,
    admin_key_previous: Option<String>,
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
    max_connections: Option<i64>,
    max_connections_per_address: Option<i64>,
    demo: Option<bool>,
    coupon_endpoint: Option<String>,
    static_dir: Option<PathBuf>,
    pkg_dir: Option<PathBuf>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |n: usize| format!("<{n} hidden>");
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database_url", &"<hidden>")
            .field("shop_id", &self.shop_id)
            .field("shop_secrets", &hidden(self.shop_secrets.len()))
            .field("webhook_secrets", &hidden(self.webhook_secrets.len()))
            .field("admin_keys", &hidden(self.admin_keys.len()))
            .field("allowed_origins", &self.allowed_origins)
            .field("demo", &self.demo)
            .finish_non_exhaustive()
    }
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
                toml::from_str(&text).map_err(|e| toml_error(path, &text, &e))?
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
        // The webhook secret and the admin key rotate like the shop secret: a previous value is accepted while
        // it is set (never in demo mode, whose secrets are throwaway).
        let mut webhook_secrets =
            vec![required("LOYALTY_WEBHOOK_SECRET", secret("LOYALTY_WEBHOOK_SECRET", file.webhook_secret)?)?];
        if let Some(previous) =
            secret("LOYALTY_WEBHOOK_SECRET_PREVIOUS", file.webhook_secret_previous)?.filter(|_| !demo)
        {
            webhook_secrets.push(previous);
        }
        let mut admin_keys =
            vec![required("LOYALTY_ADMIN_KEY", secret("LOYALTY_ADMIN_KEY", file.admin_key)?)?];
        if let Some(previous) =
            secret("LOYALTY_ADMIN_KEY_PREVIOUS", file.admin_key_previous)?.filter(|_| !demo)
        {
            admin_keys.push(previous);
        }
        let settings = [
            (["LOYALTY_SHOP_SECRET", "LOYALTY_SHOP_SECRET_PREVIOUS"], &shop_secrets),
            (["LOYALTY_WEBHOOK_SECRET", "LOYALTY_WEBHOOK_SECRET_PREVIOUS"], &webhook_secrets),
            (["LOYALTY_ADMIN_KEY", "LOYALTY_ADMIN_KEY_PREVIOUS"], &admin_keys),
        ];
        let named: Vec<(&str, &[u8])> = settings
            .iter()
            .flat_map(|(names, values)| names.iter().copied().zip(values.iter().map(Vec::as_slice)))
            .collect();
        refuse_shared_secrets(&named)?;
        let admin_keys = admin_keys
            .into_iter()
            .zip(["LOYALTY_ADMIN_KEY", "LOYALTY_ADMIN_KEY_PREVIOUS"])
            .map(|(key, name)| String::from_utf8(key).map_err(|_| format!("{name} must be text")))
            .collect::<Result<Vec<_>, _>>()?;
        let allowed_origins = match var("LOYALTY_ALLOWED_ORIGINS") {
            Some(list) => list.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
            None => file.allowed_origins.unwrap_or_default(),
        };
        for origin in &allowed_origins {
            check_origin(origin)?;
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
            // RFC 7239's `Forwarded: for=...` is not a list of addresses: every hop would read as no address,
            // and every shopper behind the proxy would count as the proxy, one bucket for the whole shop.
            if h == "forwarded" {
                return Err("LOYALTY_CLIENT_ADDRESS_HEADER: the Forwarded header's syntax is not read; name a header \
                            with a list of addresses, such as x-forwarded-for"
                    .into());
            }
        }
        let count = |name: &str, given: Option<i64>, default: i64| -> Result<usize, String> {
            let n = number(name, given.unwrap_or(default))?;
            usize::try_from(n)
                .ok()
                .filter(|n| (1..=1_000_000).contains(n))
                .ok_or_else(|| format!("{name} must be from 1 to 1000000, got {n}"))
        };
        let connection_limits = crate::connections::ConnectionLimits {
            total: count("LOYALTY_MAX_CONNECTIONS", file.max_connections, DEFAULT_MAX_CONNECTIONS)?,
            per_address: count(
                "LOYALTY_MAX_CONNECTIONS_PER_ADDRESS",
                file.max_connections_per_address,
                DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
            )?,
        };
        let db_max_connections = number(
            "LOYALTY_DB_MAX_CONNECTIONS",
            i64::from(file.db_max_connections.unwrap_or(DEFAULT_DB_MAX_CONNECTIONS)),
        )?;
        let db_max_connections =
            u32::try_from(db_max_connections).ok().filter(|n| (1..=1024).contains(n)).ok_or_else(|| {
                format!("LOYALTY_DB_MAX_CONNECTIONS must be 1 to 1024, got {db_max_connections}")
            })?;

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
            db_max_connections,
            shop_id,
            shop_secrets,
            webhook_secrets,
            admin_keys,
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
            connection_limits,
            demo,
            static_dir: var("LOYALTY_STATIC_DIR").map(PathBuf::from).or(file.static_dir),
            pkg_dir: var("LOYALTY_PKG_DIR").map(PathBuf::from).or(file.pkg_dir),
        })
    }
}

/// Refuses two settings of different kinds holding the same secret (the shop secret, the webhook secret and
/// the admin key, each with its previous value): whoever holds one, such as a shop's page template that signs
/// identities, would also hold the power of the other (signing webhooks, the admin API). Naming both settings.
fn refuse_shared_secrets(secrets: &[(&str, &[u8])]) -> Result<(), String> {
    let kind = |name: &str| name.trim_end_matches("_PREVIOUS").to_owned();
    for (i, (a, first)) in secrets.iter().enumerate() {
        for (b, second) in &secrets[i + 1..] {
            if kind(a) != kind(b) && first == second {
                return Err(format!("{a} and {b} must differ: each secret must be its own"));
            }
        }
    }
    Ok(())
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
        // Not echoed: the URL holds a password.
        return Err("LOYALTY_COUPON_ENDPOINT must not carry a user name or password".into());
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

/// An allowed origin is compared byte for byte with the browser's `Origin` header, so it must be written as the
/// browser writes one: scheme, lower-case host and a port only where it is not the scheme's default, nothing
/// else. Anything else (a path, a wildcard, upper case, `:443`) could never match, and would fail silently.
fn check_origin(origin: &str) -> Result<(), String> {
    let serialized = reqwest::Url::parse(origin)
        .ok()
        .filter(|url| matches!(url.scheme(), "https" | "http"))
        // A host name of letters, digits, hyphens and dots, or an IP address: no wildcard.
        .filter(|url| {
            url.host_str().is_some_and(|host| {
                !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.[]:".contains(&b))
            })
        })
        .map(|url| url.origin().ascii_serialization());
    match serialized {
        Some(exact) if exact == origin => Ok(()),
        Some(exact) => Err(format!(
            "allowed origin {origin:?} must be written exactly as browsers send it: {exact:?} (no path, no default port, lower case)"
        )),
        None => Err(format!("allowed origin {origin:?} must look like https://shop.example (no path)")),
    }
}

/// A config file's syntax error without the line it quotes (toml prints the offending line, which can be a
/// secret's line, into the log): the file, the line number and what was wrong.
fn toml_error(path: &std::path::Path, text: &str, error: &toml::de::Error) -> String {
    let line = error.span().map(|span| text[..span.start.min(text.len())].lines().count().max(1));
    match line {
        Some(line) => format!("{} line {line}: {}", path.display(), error.message()),
        None => format!("{}: {}", path.display(), error.message()),
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
    const W: &str = "webhook-0123456789abcdef01234567";
    const A: &str = "admin-key-0123456789abcdef012345";

    #[test]
    fn refuses_missing_and_weak_secrets_outside_demo_mode() {
        assert_eq!(
            load(&[]).unwrap_err(),
            "LOYALTY_SHOP_SECRET is not set: set it in the config file or the environment"
        );
        let weak = load(&[("LOYALTY_SHOP_SECRET", "short")]).unwrap_err();
        assert!(weak.starts_with("LOYALTY_SHOP_SECRET is too weak: 5 bytes"), "{weak}");
        let no_shop =
            load(&[("LOYALTY_SHOP_SECRET", S), ("LOYALTY_WEBHOOK_SECRET", W), ("LOYALTY_ADMIN_KEY", A)]);
        assert_eq!(no_shop.unwrap_err(), "LOYALTY_SHOP_ID is not set (or contains a newline)");
        let ok = load(&[
            ("LOYALTY_SHOP_SECRET", S),
            ("LOYALTY_SHOP_SECRET_PREVIOUS", "fedcba9876543210fedcba9876543210"),
            ("LOYALTY_WEBHOOK_SECRET", W),
            ("LOYALTY_ADMIN_KEY", A),
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
        assert_ne!(demo.shop_secrets[0], demo.webhook_secrets[0]);
        assert_eq!(demo.shop_id, "demo-shop");
    }

    #[test]
    fn refuses_equal_secrets_naming_the_settings() {
        let base = [
            ("LOYALTY_SHOP_ID", "tea-house"),
            ("LOYALTY_SHOP_SECRET", S),
            ("LOYALTY_WEBHOOK_SECRET", W),
            ("LOYALTY_ADMIN_KEY", A),
        ];
        let with = |name: &'static str, value: &'static str| {
            let mut vars: Vec<(&str, &str)> = base.iter().copied().filter(|(k, _)| *k != name).collect();
            vars.push((name, value));
            load(&vars)
        };
        assert!(load(&base).is_ok());
        for (name, value, message) in [
            ("LOYALTY_WEBHOOK_SECRET", S, "LOYALTY_SHOP_SECRET and LOYALTY_WEBHOOK_SECRET"),
            ("LOYALTY_ADMIN_KEY", S, "LOYALTY_SHOP_SECRET and LOYALTY_ADMIN_KEY"),
            ("LOYALTY_ADMIN_KEY", W, "LOYALTY_WEBHOOK_SECRET and LOYALTY_ADMIN_KEY"),
            ("LOYALTY_SHOP_SECRET_PREVIOUS", A, "LOYALTY_SHOP_SECRET_PREVIOUS and LOYALTY_ADMIN_KEY"),
            ("LOYALTY_WEBHOOK_SECRET_PREVIOUS", S, "LOYALTY_SHOP_SECRET and LOYALTY_WEBHOOK_SECRET_PREVIOUS"),
            ("LOYALTY_ADMIN_KEY_PREVIOUS", W, "LOYALTY_WEBHOOK_SECRET and LOYALTY_ADMIN_KEY_PREVIOUS"),
        ] {
            let err = with(name, value).unwrap_err();
            assert_eq!(err, format!("{message} must differ: each secret must be its own"), "{name}");
        }
        // A previous value of the same setting may equal nothing else; rotation keeps both.
        let rotating = load(&[
            ("LOYALTY_SHOP_ID", "tea-house"),
            ("LOYALTY_SHOP_SECRET", S),
            ("LOYALTY_WEBHOOK_SECRET", W),
            ("LOYALTY_WEBHOOK_SECRET_PREVIOUS", "fedcba9876543210fedcba9876543210"),
            ("LOYALTY_ADMIN_KEY", A),
            ("LOYALTY_ADMIN_KEY_PREVIOUS", "0000111122223333444455556666777788"),
        ])
        .unwrap();
        assert_eq!(rotating.webhook_secrets.len(), 2);
        assert_eq!(rotating.admin_keys.len(), 2);
        let weak = with("LOYALTY_ADMIN_KEY_PREVIOUS", "short").unwrap_err();
        assert!(weak.starts_with("LOYALTY_ADMIN_KEY_PREVIOUS is too weak"), "{weak}");
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
                "shop_id = \"tea-house\"\nshop_secret = \"{S}\"\nwebhook_secret = \"{W}\"\nadmin_key = \"{A}\"\n\
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
        assert!(err.contains("\"https://tea.example\""), "{err}");
        // Each of these can never equal a browser's Origin header, so it would refuse the shop silently.
        for origin in [
            "https://*.tea.example",
            "https://tea.example/shop",
            "HTTPS://TEA.EXAMPLE",
            "https://tea.example:443",
            "tea.example",
            "ftp://tea.example",
        ] {
            let err = load(&[("LOYALTY_DEMO", "1"), ("LOYALTY_ALLOWED_ORIGINS", origin)]).unwrap_err();
            assert!(err.contains("allowed origin"), "{origin}: {err}");
        }
        for origin in ["https://tea.example", "http://localhost:5173", "https://shop.tea.example:8443"] {
            assert!(load(&[("LOYALTY_DEMO", "1"), ("LOYALTY_ALLOWED_ORIGINS", origin)]).is_ok(), "{origin}");
        }
    }

    #[test]
    fn a_printed_config_shows_no_secret() {
        let config = load(&[
            ("LOYALTY_SHOP_SECRET", "shop-secret-0123456789abcdef-0123456789"),
            ("LOYALTY_WEBHOOK_SECRET", "webhook-secret-0123456789abcdef-012345"),
            ("LOYALTY_ADMIN_KEY", "admin-key-0123456789abcdef-0123456789ab"),
            ("LOYALTY_SHOP_ID", "tea"),
        ])
        .expect("config");
        let printed = format!("{config:?}");
        assert!(!printed.contains("0123456789abcdef") && printed.contains("<1 hidden>"), "{printed}");
    }

    #[test]
    fn config_file_errors_never_quote_a_secret() {
        // toml's own message prints the offending line: a misspelt or unquoted secret went to the log whole.
        let dir = tempfile::tempdir().expect("temp dir");
        for text in [
            "shop_secret = 0123456789abcdef0123456789abcdef\n",
            "admin_key = \"0123456789abcdef0123456789abcdef\nwebhook_secret = 1\n",
            "shop_secrte = \"0123456789abcdef0123456789abcdef\"\n",
        ] {
            let path = dir.path().join("loyalty.toml");
            std::fs::write(&path, text).expect("write");
            let err = Config::load(Some(&path), &|_| None).map(|_| ()).unwrap_err();
            assert!(!err.contains("0123456789abcdef"), "{err}");
            assert!(err.contains("loyalty.toml line 1"), "{err}");
        }
        let err = load(&[
            ("LOYALTY_DEMO", "1"),
            ("LOYALTY_COUPON_ENDPOINT", "https://user:hunter2-secret@shop.example/c"),
        ])
        .unwrap_err();
        assert!(err.contains("LOYALTY_COUPON_ENDPOINT") && !err.contains("hunter2"), "{err}");
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
        // `Forwarded: for=...` reads as no address at every hop: the whole shop would share the proxy's bucket.
        let err = load(&[
            ("LOYALTY_DEMO", "1"),
            ("LOYALTY_CLIENT_ADDRESS_HEADER", "Forwarded"),
            ("LOYALTY_TRUSTED_PROXIES", "10.0.0.0/8"),
        ])
        .unwrap_err();
        assert!(err.contains("the Forwarded header's syntax is not read"), "{err}");
        for (name, value) in [("LOYALTY_MAX_CONNECTIONS", "0"), ("LOYALTY_MAX_CONNECTIONS_PER_ADDRESS", "x")]
        {
            let err = load(&[("LOYALTY_DEMO", "1"), (name, value)]).unwrap_err();
            assert!(err.starts_with(name), "{err}");
        }
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
