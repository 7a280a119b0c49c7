//! The server against hostile input: SQL injection attempts through every parameter a caller controls
//! (identity, idempotency keys, ids in bodies, paths and queries), which must be stored and answered as
//! plain data; every query in the source is parameterised; and secrets (shop secrets, webhook secret, admin
//! key, shopper digests) never reach the log, even at trace level.

mod common;

use common::{paid, Server, ADMIN_KEY, SHOP_SECRET, WEBHOOK_SECRET};
use loyalty_server::auth::{shopper_header, webhook_signature};
use reqwest::StatusCode;
use serde_json::json;

/// Classic injection payloads, each also a valid id where the field allows one.
const PAYLOADS: [&str; 8] = [
    "' OR '1'='1",
    "x'; DROP TABLE customers; --",
    "\"; DELETE FROM ledger; --",
    "1 UNION SELECT admin_key FROM config --",
    "%27%20OR%201%3D1",
    "') OR 1=1 --",
    "\\'; SELECT sqlite_version(); --",
    "Robert'); DROP TABLE orders;--",
];

/// Rows in each table, to show that nothing was dropped or emptied.
async fn counts(server: &Server) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for table in ["customers", "ledger", "orders", "order_lines", "redemptions", "idempotency_keys"] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&server.running.state.db)
            .await
            .unwrap_or_else(|e| panic!("{table} is gone: {e}"));
        out.push((table.to_owned(), n));
    }
    out
}

#[tokio::test]
async fn injection_attempts_are_data_through_every_parameter() {
    let server = Server::start().await;
    server.load_program(json!({})).await;
    let admin = |method: reqwest::Method, path: String| {
        server
            .client
            .request(method, server.url(&path))
            .header("authorization", format!("Bearer {ADMIN_KEY}"))
    };
    for (i, payload) in PAYLOADS.iter().enumerate() {
        // As a shopper's id (signed by the shop, so accepted), with the payload in the idempotency key and ids.
        let customer = format!("c{i}-{payload}");
        let me = server.me(&customer).await;
        assert_eq!(me["customerId"], customer.as_str(), "stored and answered as written");
        let order = paid(&format!("o{i}-{payload}"), &customer, server.now() - 60, 100_000, 1);
        let (status, _) = server.webhook(order).await;
        assert_eq!(status, StatusCode::OK, "{payload}");
        let (status, body) = server
            .as_shopper(
                reqwest::Method::POST,
                "/v1/redemptions",
                &customer,
                Some(&format!("key-{payload}")),
                json!({"rewardId": payload}),
            )
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("unknown_reward")),
            "{payload}: {body}"
        );
        let (status, body) = server
            .as_shopper(
                reqwest::Method::POST,
                "/v1/referrals/capture",
                &customer,
                Some(payload),
                json!({"code": payload}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{payload}: {body}");
        // In queries and paths.
        let encoded: String = url_escape(payload);
        let catalog = server
            .client
            .get(server.url(&format!("/v1/catalog?near={encoded}&limit=5")))
            .send()
            .await
            .unwrap();
        assert_eq!(catalog.status(), StatusCode::OK, "{payload}");
        let catalog =
            server.client.get(server.url(&format!("/v1/catalog?limit={encoded}"))).send().await.unwrap();
        assert_eq!(catalog.status(), StatusCode::UNPROCESSABLE_ENTITY, "{payload}");
        for (method, path) in [
            (reqwest::Method::GET, format!("/v1/admin/customers/{encoded}/export")),
            (reqwest::Method::GET, format!("/v1/admin/discount-codes/{encoded}")),
        ] {
            let response = admin(method, path.clone()).send().await.unwrap();
            assert!(
                response.status().is_client_error() || response.status().is_success(),
                "{path}: {}",
                response.status()
            );
        }
        let adjust = admin(
            reqwest::Method::POST,
            format!("/v1/admin/customers/{}/adjustments", url_escape(&customer)),
        )
        .header("idempotency-key", payload.to_string())
        .json(&json!({"points": 5, "reason": payload, "actor": payload}))
        .send()
        .await
        .unwrap();
        assert_eq!(adjust.status(), StatusCode::CREATED, "{payload}");
        // Every table is still there, and the shopper's balance is exactly what the order and adjustment gave.
        let me = server.me(&customer).await;
        assert_eq!(me["balance"]["available"], 1005, "{payload}: {me}");
        assert_eq!(me["activity"][1]["orderId"], format!("o{i}-{payload}").as_str());
        assert_eq!(me["activity"][0]["reason"], *payload);
    }
    let rows = counts(&server).await;
    let customers = rows.iter().find(|(t, _)| t == "customers").map(|(_, n)| *n);
    assert_eq!(customers, Some(PAYLOADS.len() as i64), "{rows:?}");
}

/// Percent-encodes everything but unreserved characters.
fn url_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn every_query_in_the_server_is_parameterised() {
    // SQL text is written as literals with `?` placeholders; a query built with format! would let data
    // become SQL. Every file under server/src, its text with whitespace flattened (a call split over lines).
    fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("readable source dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    sources(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")), &mut files);
    assert!(files.len() > 5, "found {} files", files.len());
    let mut found = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("source");
        let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for pattern in [
            "query(&format!",
            "query(format!",
            "query_as(&format!",
            "query_scalar(&format!",
            "execute(&format!",
        ] {
            if flat.contains(pattern) {
                found.push(format!("{}: {pattern}", path.display()));
            }
        }
        // A format! whose text is SQL, wherever it goes.
        for piece in flat.split("format!(").skip(1) {
            // The format string: the literal up to its closing quote.
            let literal = piece.strip_prefix('"').and_then(|p| p.split('"').next()).unwrap_or_default();
            let upper = literal.to_ascii_uppercase();
            if ["SELECT ", "INSERT ", "UPDATE ", "DELETE "].iter().any(|k| upper.contains(k)) {
                found.push(format!("{}: format!(\"{literal}\"", path.display()));
            }
        }
    }
    assert!(found.is_empty(), "queries built from strings: {found:#?}");
}

#[tokio::test]
async fn secrets_never_reach_the_log_even_at_trace_level() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let log = dir.path().join("server.log");
    /// Kills the server however the test ends.
    struct Running(std::process::Child);
    impl Drop for Running {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_loyalty-server"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "trace")
        .env("LOYALTY_LISTEN", format!("127.0.0.1:{port}"))
        .env("LOYALTY_DATABASE_URL", format!("sqlite://{}/db.sqlite", dir.path().display()))
        .env("LOYALTY_SHOP_ID", "tea-house")
        .env("LOYALTY_SHOP_SECRET", SHOP_SECRET)
        .env("LOYALTY_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("LOYALTY_ADMIN_KEY", ADMIN_KEY)
        .env("LOYALTY_ALLOWED_ORIGINS", "https://tea.example")
        .stdout(std::fs::File::create(&log).expect("log"))
        .stderr(std::fs::File::create(dir.path().join("server.err")).expect("log"))
        .spawn()
        .expect("the server starts");
    let child = Running(child);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(up, "the server did not start");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let program = json!({"program": common::program(json!({}))});
    let put = client
        .put(format!("{base}/v1/admin/program"))
        .header("authorization", format!("Bearer {ADMIN_KEY}"))
        .json(&program)
        .send()
        .await
        .expect("program");
    assert_eq!(put.status(), StatusCode::CREATED);
    let customer = "shopper-7f3a9c2e-private-id";
    let identity = shopper_header(SHOP_SECRET.as_bytes(), "tea-house", customer, now);
    let me = client
        .get(format!("{base}/v1/customers/me"))
        .header("authorization", &identity)
        .send()
        .await
        .expect("me");
    assert_eq!(me.status(), StatusCode::OK);
    // A forged digest and a wrong admin key are refused (and logged as refusals, without the values).
    // Another last hex digit (a fixed "0" equals the real digest one time in 16).
    let last = if identity.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &identity[..identity.len() - 1]);
    let refused = client
        .get(format!("{base}/v1/customers/me"))
        .header("authorization", &forged)
        .send()
        .await
        .expect("forged");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let refused = client
        .put(format!("{base}/v1/admin/program"))
        .header("authorization", "Bearer wrong-key-0123456789")
        .json(&program)
        .send()
        .await
        .expect("admin");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let order = serde_json::to_vec(&paid("o1", customer, now - 60, 100_000, 1)).expect("json");
    let signature = webhook_signature(WEBHOOK_SECRET.as_bytes(), now, &order);
    let hook = client
        .post(format!("{base}/v1/webhooks/orders"))
        .header("content-type", "application/json")
        .header("loyalty-signature", &signature)
        .body(order)
        .send()
        .await
        .expect("webhook");
    assert_eq!(hook.status(), StatusCode::OK);
    // A redemption's discount code, then the admin looking it up by path.
    let redeemed: serde_json::Value = client
        .post(format!("{base}/v1/redemptions"))
        .header("authorization", &identity)
        .header("idempotency-key", "redeem-1")
        .json(&json!({"rewardId": "ten-off"}))
        .send()
        .await
        .expect("redeem")
        .json()
        .await
        .expect("redemption");
    let code = redeemed["code"].as_str().unwrap_or_else(|| panic!("a code: {redeemed}")).to_owned();
    let lookup = client
        .get(format!("{base}/v1/admin/discount-codes/{code}"))
        .header("authorization", format!("Bearer {ADMIN_KEY}"))
        .send()
        .await
        .expect("lookup");
    assert_eq!(lookup.status(), StatusCode::OK);
    drop(child);
    let text = std::fs::read_to_string(&log).unwrap_or_default()
        + &std::fs::read_to_string(dir.path().join("server.err")).unwrap_or_default();
    assert!(text.lines().count() > 10, "the trace log was written: {text}");
    let digest = identity.rsplit('.').next().unwrap_or_default().to_owned();
    let signature_hex = signature.rsplit('=').next().unwrap_or_default().to_owned();
    for (name, secret) in [
        ("shop secret", SHOP_SECRET),
        ("webhook secret", WEBHOOK_SECRET),
        ("admin key", ADMIN_KEY),
        ("wrong admin key", "wrong-key-0123456789"),
        ("shopper digest", digest.as_str()),
        ("webhook signature", signature_hex.as_str()),
        ("discount code", code.as_str()),
        ("shopper id", customer),
    ] {
        assert!(secret.len() >= 12, "{name} is long enough to search for: {secret:?}");
        assert!(!text.contains(secret), "the {name} is in the log");
    }
}
