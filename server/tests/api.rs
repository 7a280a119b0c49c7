//! Integration tests over real HTTP against a real SQLite file: authentication, program versions, the order
//! webhook (awards, replays, refunds, cancellations), error bodies and limits, CORS.

mod common;

use common::{error_code, paid, program, Server, ORIGIN, PREVIOUS_SECRET, SHOP_SECRET, WEBHOOK_SECRET};
use loyalty_server::auth::{shopper_header, webhook_signature};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn health_version_header_and_program_versions() {
    let server = Server::start().await;
    let health = server.client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.headers()["loyalty-api-version"], "1");

    let none = server.client.get(server.url("/v1/program")).send().await.unwrap();
    assert_eq!(
        error_code(none).await,
        (StatusCode::NOT_FOUND, "no_program".into(), "no loyalty program is active yet".into())
    );

    // Admin calls need the admin key, never a shopper identity.
    let anonymous = server.client.put(server.url("/v1/admin/program")).json(&json!({})).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // An invalid program lists every problem with its path, and nothing is stored.
    let mut bad = program(json!({}));
    bad["tiers"][1]["threshold"] = json!(0);
    bad["earn"]["rate"]["points"] = json!(1.5);
    let response = server.put_program(json!({ "program": bad })).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["problems"][0]["path"], "program.earn.rate.points");
    let mut bad = program(json!({}));
    bad["tiers"][1]["threshold"] = json!(0);
    let body: Value = server.put_program(json!({ "program": bad })).await.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "program.tiers[1].threshold: must be greater than tiers[0].threshold (0)"
    );

    server.load_program(json!({})).await;
    let response = server.client.get(server.url("/v1/program")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let served: Value = response.json().await.unwrap();
    assert_eq!(served["earn"]["rounding"], "floor", "served with defaults filled in");
    let cached =
        server.client.get(server.url("/v1/program")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);

    // A version scheduled for tomorrow takes effect tomorrow.
    let tomorrow = server.now() + 86_400;
    let next = program(json!({"earn": {"rate": {"points": 2, "perAmount": 100}}}));
    let response = server.put_program(json!({ "program": next, "activatesAt": tomorrow })).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let today: Value =
        server.client.get(server.url("/v1/program")).send().await.unwrap().json().await.unwrap();
    assert_eq!(today["earn"]["rate"]["points"], 1);
    server.running.state.advance_clock(86_400);
    let response =
        server.client.get(server.url("/v1/program")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the ETag changed with the version");
    let later: Value = response.json().await.unwrap();
    assert_eq!(later["earn"]["rate"]["points"], 2);
}

#[tokio::test]
async fn shopper_identity_is_checked() {
    let server = Server::start().await;
    server.load_program(json!({})).await;
    let now = server.now();
    let me = server.client.get(server.url("/v1/customers/me")).send().await.unwrap();
    assert_eq!(error_code(me).await.0, StatusCode::UNAUTHORIZED);
    let cases = [
        (
            shopper_header(b"forged-secret-0123456789abcdef-0123456", "tea-house", "c1", now),
            "identity: the digest does not match",
        ),
        (
            shopper_header(SHOP_SECRET.as_bytes(), "coffee-house", "c1", now),
            "identity: the digest does not match",
        ),
        (
            shopper_header(SHOP_SECRET.as_bytes(), "tea-house", "c1", now - 3600 - 301),
            "identity: expired; the shop's page must sign a fresh one",
        ),
        (
            shopper_header(SHOP_SECRET.as_bytes(), "tea-house", "c1", now + 301),
            "identity: the timestamp is in the future",
        ),
        ("Bearer something".to_owned(), "authorization must use the LoyaltyShopper scheme"),
    ];
    for (header, message) in cases {
        let (status, code, got) = error_code(server.me_with(&header).await).await;
        assert_eq!(
            (status, code.as_str(), got.as_str()),
            (StatusCode::UNAUTHORIZED, "unauthorized", message)
        );
    }
    // The previous secret still works during a rotation.
    let rotated = server.me_with(&shopper_header(PREVIOUS_SECRET.as_bytes(), "tea-house", "c1", now)).await;
    assert_eq!(rotated.status(), StatusCode::OK);
    let me = server.me("c1").await;
    assert_eq!(me["customerId"], "c1");
    assert_eq!(me["balance"]["available"], 0);
    assert_eq!(me["tier"]["currentTierId"], "member");
    assert_eq!(me["rewards"]["next"]["missing"], 500);
    assert_eq!(me["referral"]["code"].as_str().unwrap().len(), 8);
    // The demo's routes (signing identities, paying orders, listing every product) do not exist outside demo mode.
    let demo = server.client.get(server.url("/demo/identity?customer=c1")).send().await.unwrap();
    assert_eq!(demo.status(), StatusCode::NOT_FOUND);
    let products = server.client.get(server.url("/demo/products")).send().await.unwrap();
    assert_eq!(products.status(), StatusCode::NOT_FOUND);
    let order = server.client.post(server.url("/demo/orders")).body("{}").send().await.unwrap();
    assert_eq!(order.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn orders_award_once_and_refunds_reverse_in_proportion() {
    let server = Server::start().await;
    server.load_program(json!({})).await;
    let now = server.now();
    // ¥300.00 earns 300 points (the same as pointsForCart shows).
    let (status, first) = server.webhook(paid("o1", "c1", now - 60, 10_000, 3)).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["points"], 300);
    assert_eq!(first["earned"]["components"][0]["kind"], "base");
    // A replay changes nothing and answers the same.
    let (status, again) = server.webhook(paid("o1", "c1", now - 60, 10_000, 3)).await;
    assert_eq!((status, &again), (StatusCode::OK, &first));
    assert_eq!(server.me("c1").await["balance"]["available"], 300);

    // Refunds: ¥100 of ¥300, twice, then the rest by cancellation; every point comes back exactly once.
    let refund = |id: &str, amount: i64| json!({"event": "refunded", "order": {"id": "o1", "customerId": "c1", "paidAt": now - 60, "currency": "CNY", "lines": []}, "refund": {"id": id, "amount": amount}});
    let (_, r1) = server.webhook(refund("r1", 10_000)).await;
    assert_eq!(r1["points"], -100);
    let (_, replay) = server.webhook(refund("r1", 10_000)).await;
    assert_eq!(replay, r1, "the same refund is applied once");
    let (_, r2) = server.webhook(refund("r2", 10_000)).await;
    assert_eq!(r2["points"], -100);
    let cancel = json!({"event": "cancelled", "order": {"id": "o1", "customerId": "c1", "paidAt": now - 60, "currency": "CNY", "lines": []}});
    let (_, c) = server.webhook(cancel).await;
    assert_eq!(c["points"], -100);
    let me = server.me("c1").await;
    assert_eq!(me["balance"]["available"], 0);
    assert_eq!(me["tier"]["value"], 0, "refunded spend no longer counts toward tiers");
    assert_eq!(me["activity"][0]["kind"], "reverse");

    // Replay keys cannot collide: order "A" refunded with refund id "cancelled" is not order "A:refunded"
    // cancelled.
    server.webhook(paid("A", "c2", now - 60, 10_000, 1)).await;
    server.webhook(paid("A:refunded", "c2", now - 60, 10_000, 1)).await;
    let tricky = json!({"event": "refunded", "order": {"id": "A", "customerId": "c2", "paidAt": now - 60, "currency": "CNY", "lines": []}, "refund": {"id": "cancelled", "amount": 10_000}});
    let (_, first) = server.webhook(tricky).await;
    let (_, second) = server.webhook(json!({"event": "cancelled", "order": {"id": "A:refunded", "customerId": "c2", "paidAt": now - 60, "currency": "CNY", "lines": []}})).await;
    assert_eq!((first["points"].as_i64(), second["points"].as_i64()), (Some(-100), Some(-100)));
    assert_eq!(server.me("c2").await["balance"]["available"], 0);

    // A refund for an order not yet reported paid asks the shop to retry later.
    let (status, body) = server.webhook(json!({"event": "refunded", "order": {"id": "o9", "customerId": "c1", "paidAt": now, "currency": "CNY", "lines": []}, "refund": {"id": "r", "amount": 5}})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("order_unknown")));
}

#[tokio::test]
async fn tier_multiplier_applies_from_the_order_that_follows() {
    let server = Server::start().await;
    server.load_program(json!({})).await;
    let now = server.now();
    let (_, first) = server.webhook(paid("o1", "c1", now - 120, 100_000, 1)).await;
    assert_eq!((first["points"].as_i64(), first["tierId"].as_str()), (Some(1000), Some("member")));
    let (_, second) = server.webhook(paid("o2", "c1", now - 60, 10_000, 1)).await;
    assert_eq!((second["points"].as_i64(), second["tierId"].as_str()), (Some(150), Some("gold")));
    assert_eq!(server.me("c1").await["tier"]["currentTierId"], "gold");
}

#[tokio::test]
async fn purchase_points_stay_pending_through_the_return_window() {
    let server = Server::start().await;
    server.load_program(json!({"lifecycle": {"pendingDays": 14}})).await;
    let now = server.now();
    server.webhook(paid("o1", "c1", now, 12_345, 1)).await;
    let me = server.me("c1").await;
    assert_eq!(me["balance"]["available"], 0);
    assert_eq!(me["balance"]["pending"][0]["points"], 123);
    assert_eq!(me["balance"]["pending"][0]["at"], now + 14 * 86_400);
    server.running.state.advance_clock(14 * 86_400);
    let me = server.me("c1").await;
    assert_eq!(me["balance"]["available"], 123);
}

#[tokio::test]
async fn bad_webhooks_are_refused_and_write_nothing() {
    let server = Server::start().await;
    server.load_program(json!({})).await;
    let now = server.now();
    let body = serde_json::to_vec(&paid("o1", "c1", now, 10_000, 1)).unwrap();
    let unsigned = server.webhook_raw(&body, None).await;
    assert_eq!(error_code(unsigned).await.0, StatusCode::UNAUTHORIZED);
    let wrong = webhook_signature(b"not-the-webhook-secret-0123456789abcdef", now, &body);
    assert_eq!(server.webhook_raw(&body, Some(wrong)).await.status(), StatusCode::UNAUTHORIZED);
    let stale = webhook_signature(WEBHOOK_SECRET.as_bytes(), now - 3600, &body);
    assert_eq!(server.webhook_raw(&body, Some(stale)).await.status(), StatusCode::UNAUTHORIZED);
    // A shopper's identity is no webhook signature.
    let shopper = shopper_header(SHOP_SECRET.as_bytes(), "tea-house", "c1", now);
    assert_eq!(server.webhook_raw(&body, Some(shopper)).await.status(), StatusCode::UNAUTHORIZED);

    let signed = |bytes: &[u8]| webhook_signature(WEBHOOK_SECRET.as_bytes(), now, bytes);
    let not_json = b"{\"event\": ";
    let (status, code, message) =
        error_code(server.webhook_raw(not_json, Some(signed(not_json))).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "bad_request"));
    assert!(message.starts_with("invalid JSON"), "{message}");
    let (status, body) = server
        .webhook(json!({"event": "shipped", "order": {"id": "o1", "customerId": "c1", "paidAt": 1.5, "currency": "CNY",
            "lines": [{"productId": "a", "unitPrice": -1, "quantity": 1}]}}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["error"]["message"],
        "event: must be one of \"paid\", \"refunded\", \"cancelled\", got \"shipped\"; order.paidAt: must be a whole number, got 1.5"
    );
    let (status, body) = server.webhook(json!({"event": "paid", "order": {"id": "o1", "customerId": "c1", "paidAt": now, "currency": "CNY",
            "lines": [{"productId": "a", "unitPrice": -1, "quantity": 1}]}})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["problems"][0]["path"], "order.lines[0].unitPrice");
    // Totals are checked where they are stored: each line's tax is fine, their sum is not.
    let (status, body) = server.webhook(json!({"event": "paid", "order": {"id": "o2", "customerId": "c1", "paidAt": now, "currency": "CNY",
            "lines": [{"productId": "a", "unitPrice": 100, "quantity": 1, "tax": 900_000_000_000_000i64},
                      {"productId": "b", "unitPrice": 100, "quantity": 1, "tax": 900_000_000_000_000i64}]}})).await;
    assert_eq!(
        (status, body["error"]["problems"][0]["path"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("order"))
    );
    let huge = vec![b' '; 70_000];
    let (status, code, _) = error_code(server.webhook_raw(&huge, Some(signed(&huge))).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"));
    // Every write route has the limit: a shopper's and an admin's.
    let padded =
        json!({"rewardId": "ten-off", "birthday": "08-31", "code": "22222222", "pad": "x".repeat(70_000)});
    for route in ["/v1/redemptions", "/v1/referrals/capture"] {
        let response = server
            .client
            .post(server.url(route))
            .header("authorization", server.identity("c1"))
            .header("idempotency-key", "big")
            .json(&padded)
            .send()
            .await
            .unwrap();
        let (status, code, _) = error_code(response).await;
        assert_eq!((status, code.as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"), "{route}");
    }
    let (status, body) =
        server.admin(reqwest::Method::PUT, "/v1/admin/catalog", Some(padded.clone()), None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("body_too_large"))
    );
    // Nothing was written by any of these.
    let me = server.me("c1").await;
    assert_eq!(me["balance"]["lifetimeEarned"], 0);
    assert_eq!(me["activity"], json!([]));
}

#[tokio::test]
async fn cors_answers_only_the_shops_origins() {
    let server = Server::start().await;
    let preflight = |origin: &'static str| {
        server
            .client
            .request(reqwest::Method::OPTIONS, server.url("/v1/customers/me"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let ok = preflight(ORIGIN).await.unwrap();
    assert_eq!(ok.headers()["access-control-allow-origin"], ORIGIN);
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    // An actual request from the shop's origin may read the validator and a 429's or 503's wait.
    let program = server.client.get(server.url("/v1/program")).header("origin", ORIGIN).send().await.unwrap();
    let exposed = program.headers()["access-control-expose-headers"].to_str().unwrap().to_ascii_lowercase();
    for name in ["etag", "retry-after", "loyalty-api-version"] {
        assert!(exposed.contains(name), "{name} in {exposed}");
    }
    // Another site's page gets no CORS grant on a write either: its browser keeps the answer from it.
    let write = server
        .client
        .post(server.url("/v1/redemptions"))
        .header("origin", "https://evil.example")
        .json(&json!({"rewardId": "ten-off"}))
        .send()
        .await
        .unwrap();
    assert!(write.headers().get("access-control-allow-origin").is_none());
    // CSRF: a form on another site can make the browser post, but cannot add the Authorization header (and
    // cookies mean nothing here): the write is refused before anything is read.
    for route in ["/v1/redemptions", "/v1/referrals/capture"] {
        let form = server
            .client
            .post(server.url(route))
            .header("origin", "https://evil.example")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", "session=shopper-session")
            .body("rewardId=ten-off&code=22222222")
            .send()
            .await
            .unwrap();
        assert_eq!(form.status(), StatusCode::UNAUTHORIZED, "{route}");
    }
}

#[tokio::test]
async fn demo_mode_signs_in_demo_shoppers_server_side() {
    let server = Server::start_with(true).await;
    let identity: Value = server
        .client
        .get(server.url("/demo/identity?customer=demo-near-silver"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let me = server.me_with(identity["authorization"].as_str().unwrap()).await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert!(me["balance"]["available"].as_i64().unwrap() > 0);
    assert_eq!(me["tier"]["nextTierId"], "silver");
}

#[tokio::test]
async fn writes_are_rate_limited_per_shopper_and_per_address() {
    let server = Server::start_with_env(
        false,
        vec![
            ("LOYALTY_WRITES_PER_MINUTE_PER_SHOPPER", "2".to_owned()),
            ("LOYALTY_WRITES_PER_MINUTE_PER_ADDRESS", "5".to_owned()),
            ("LOYALTY_CLIENT_ADDRESS_HEADER", "X-Forwarded-For".to_owned()),
            // The test's requests come from loopback: the proxy.
            ("LOYALTY_TRUSTED_PROXIES", "127.0.0.1".to_owned()),
        ],
    )
    .await;
    server.load_program(json!({})).await;
    // A birthday write as `customer` from `address` (the proxy appends the real one last).
    // The same key each time: a replay answers as the first write did, and still counts.
    let put = |customer: &'static str, address: &'static str| {
        server
            .client
            .put(server.url("/v1/customers/me/birthday"))
            .header("authorization", server.identity(customer))
            .header("idempotency-key", "birthday-1")
            .header("x-forwarded-for", format!("1.2.3.4, {address}"))
            .json(&json!({"birthday": "08-31"}))
            .send()
    };
    for _ in 0..2 {
        assert_eq!(put("c1", "10.0.0.1").await.unwrap().status(), StatusCode::OK);
    }
    let refused = put("c1", "10.0.0.1").await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()["retry-after"], "30");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(body["error"]["message"], "too many writes from this shopper: try again in 30 s");
    // Another shopper is not slowed; a shopper's reads never are.
    assert_eq!(put("c2", "10.0.0.1").await.unwrap().status(), StatusCode::OK);
    assert_eq!(server.me_with(&server.identity("c1")).await.status(), StatusCode::OK);
    // Five writes a minute from one address, whoever signs them; the refused one above spent none of them, and
    // a write with a bad identity counts in a bucket of its own.
    let forged = server
        .client
        .put(server.url("/v1/customers/me/birthday"))
        .header("authorization", "LoyaltyShopper forged")
        .header("x-forwarded-for", "10.0.0.1")
        .json(&json!({"birthday": "08-31"}))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(put("c3", "10.0.0.1").await.unwrap().status(), StatusCode::OK);
    assert_eq!(put("c4", "10.0.0.1").await.unwrap().status(), StatusCode::OK);
    let refused = put("c5", "10.0.0.1").await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.text().await.unwrap().contains("too many writes from this address"));
    assert_eq!(put("c3", "10.0.0.2").await.unwrap().status(), StatusCode::OK, "another address");
    // Tokens come back with time: 2 a minute is one every 30 s.
    server.running.state.advance_clock(30);
    assert_eq!(put("c1", "10.0.0.3").await.unwrap().status(), StatusCode::OK);
    assert_eq!(put("c1", "10.0.0.3").await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn demo_mode_refuses_a_real_shops_database() {
    // A leftover LOYALTY_DEMO=1 against a shop's database would open the routes that sign anyone in as any
    // shopper and pay orders for them. The demo's own database starts again in demo mode; a shop's does not.
    let dir = tempfile::tempdir().expect("temp dir");
    let start = |demo: bool, file: &str| {
        let url = format!("sqlite://{}", dir.path().join(file).display());
        let vars = [
            ("LOYALTY_LISTEN", "127.0.0.1:0".to_owned()),
            ("LOYALTY_DATABASE_URL", url),
            ("LOYALTY_SHOP_ID", "tea-house".to_owned()),
            ("LOYALTY_SHOP_SECRET", SHOP_SECRET.to_owned()),
            ("LOYALTY_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
            ("LOYALTY_ADMIN_KEY", common::ADMIN_KEY.to_owned()),
            ("LOYALTY_DEMO", if demo { "1" } else { "0" }.to_owned()),
        ];
        let config = loyalty_server::config::Config::load(None, &move |name| {
            vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
        })
        .expect("config");
        loyalty_server::serve(config, std::future::pending())
    };
    let shop = start(false, "shop.db").await.expect("the shop's server");
    let program = program(json!({}));
    let program = loyalty_core::Program::from_json(&program.to_string()).expect("program");
    loyalty_server::routes::store_program(&shop.state, &program, 0).await.expect("a program");
    shop.task.abort();
    let err = start(true, "shop.db").await.map(|_| ()).expect_err("demo mode on the shop's database");
    assert!(err.contains("demo mode refuses this database"), "{err}");

    let demo = start(true, "demo.db").await.expect("a demo");
    // A later release whose demo program differs still knows its own database (it is marked).
    sqlx::query("UPDATE program_versions SET body = ' ' || body WHERE id = 1")
        .execute(&demo.state.db)
        .await
        .expect("edit");
    demo.task.abort();
    assert!(start(true, "demo.db").await.is_ok(), "the demo's own database starts again in demo mode");
}

#[tokio::test]
async fn an_order_for_a_customer_id_no_identity_can_name_is_refused() {
    let server = Server::start().await;
    server.load_program(json!({})).await;
    for id in ["x".repeat(129), "c1\nc2".to_owned(), String::new()] {
        let (status, body) = server.webhook(paid("o1", &id, server.now() - 60, 10_000, 1)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["problems"][0]["path"], "order.customerId", "{body}");
    }
}
