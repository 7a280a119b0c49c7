//! Redemptions over real HTTP: Idempotency-Key semantics, no overspending under concurrent requests, the
//! negative-balance block, and the single-use discount codes the shop consumes.

mod common;

use common::{paid, Server};
use reqwest::StatusCode;
use serde_json::{json, Value};

impl Server {
    async fn redeem(&self, customer: &str, key: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.as_shopper(reqwest::Method::POST, "/v1/redemptions", customer, key, body).await
    }
}

#[tokio::test]
async fn idempotency_keys_follow_the_draft() {
    let server = Server::start().await;
    server.load_program(json!({})).await;
    server.webhook(paid("o1", "c1", server.now() - 60, 120_000, 1)).await; // 1200 points
    let body = json!({"rewardId": "ten-off"});

    let (status, missing) = server.redeem("c1", None, body.clone()).await;
    assert_eq!(
        (status, missing["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("idempotency_key_required"))
    );

    let (status, first) = server.redeem("c1", Some("k1"), body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["cost"], 500);
    assert!(first["code"].as_str().unwrap().starts_with("LOY-"));
    let (status, again) = server.redeem("c1", Some("k1"), body.clone()).await;
    assert_eq!((status, &again), (StatusCode::CREATED, &first), "the stored first result");
    let me = server.me("c1").await;
    assert_eq!(me["balance"]["available"], 700, "debited once");
    assert_eq!(me["codes"][0]["code"], first["code"], "the shopper can find the code again");
    assert_eq!(me["codes"][0]["used"], false);

    let (status, reused) = server.redeem("c1", Some("k1"), json!({"rewardId": "other"})).await;
    assert_eq!(
        (status, reused["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("idempotency_key_reused"))
    );

    // Errors are stored too: the same key answers the same even after the balance changed.
    let (status, unknown) = server.redeem("c1", Some("k2"), json!({"rewardId": "nope"})).await;
    assert_eq!((status, unknown["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("unknown_reward")));
    let (status, again) = server.redeem("c1", Some("k2"), json!({"rewardId": "nope"})).await;
    assert_eq!((status, again), (StatusCode::NOT_FOUND, unknown));

    // A key is per shopper: another shopper's k1 is their own.
    server.webhook(paid("o2", "c2", server.now() - 60, 50_000, 1)).await;
    let (status, _) = server.redeem("c2", Some("k1"), body.clone()).await;
    assert_eq!(status, StatusCode::CREATED);

    // A first request still running: the repeat is told to wait.
    sqlx::query("INSERT INTO idempotency_keys (customer_id, key, request_hash, state, created_at) VALUES ('c1', 'k3', ?, 'running', ?)")
        .bind(common::request_hash(&body))
        .bind(server.now())
        .execute(&server.running.state.db)
        .await
        .unwrap();
    let (status, running) = server.redeem("c1", Some("k3"), body.clone()).await;
    assert_eq!(
        (status, running["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("idempotency_key_in_flight"))
    );
    // ... unless it was abandoned long ago (its process died): then this one runs.
    server.running.state.advance_clock(120);
    let (status, _) = server.redeem("c1", Some("k3"), body.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    // Keys expire after 7 days.
    server.running.state.advance_clock(8 * 86_400);
    let (status, fresh) = server.redeem("c1", Some("k2"), json!({"rewardId": "nope"})).await;
    assert_eq!((status, fresh["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("unknown_reward")));
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM idempotency_keys WHERE key = 'k1'")
        .fetch_one(&server.running.state.db)
        .await
        .unwrap();
    assert_eq!(count, 0, "expired keys are deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_redemptions_never_overspend() {
    let server = Server::start().await;
    server.load_program(json!({})).await;
    server.webhook(paid("o1", "c1", server.now() - 60, 370_000, 1)).await; // 3700 points: 7 rewards of 500
    let requests = (0..20).map(|i| {
        let server = &server;
        async move { server.redeem("c1", Some(&format!("key-{i}")), json!({"rewardId": "ten-off"})).await }
    });
    let results = futures::future::join_all(requests).await;
    let created = results.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    let refused: Vec<&str> = results.iter().filter_map(|(_, b)| b["error"]["code"].as_str()).collect();
    assert_eq!(created, 7);
    assert_eq!(refused, vec!["not_enough_points"; 13]);
    let me = server.me("c1").await;
    assert_eq!(me["balance"]["available"], 200);
    let codes: std::collections::HashSet<&str> =
        results.iter().filter_map(|(_, b)| b["code"].as_str()).collect();
    assert_eq!(codes.len(), 7, "every code is distinct");
}

#[tokio::test]
async fn a_negative_balance_blocks_redemption_until_it_is_paid_back() {
    let server = Server::start().await;
    server.load_program(json!({})).await;
    let now = server.now();
    server.webhook(paid("o1", "c1", now - 60, 60_000, 1)).await; // 600 points
    let (status, _) = server.redeem("c1", Some("k1"), json!({"rewardId": "ten-off"})).await;
    assert_eq!(status, StatusCode::CREATED);
    // The order is refunded in full after the points were spent: 600 taken back, balance -500.
    let refund = json!({"event": "refunded", "order": {"id": "o1", "customerId": "c1", "paidAt": now - 60, "currency": "CNY", "lines": []},
        "refund": {"id": "r1", "amount": 60_000}});
    server.webhook(refund).await;
    let me = server.me("c1").await;
    assert_eq!(me["balance"]["available"], -500);
    assert_eq!(me["rewards"]["blocked"], true);
    server.webhook(paid("o2", "c1", now - 30, 70_000, 1)).await; // 700 points: pays back 500 first
    let (status, body) = server.redeem("c1", Some("k2"), json!({"rewardId": "ten-off"})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("not_enough_points")));
    assert_eq!(server.me("c1").await["balance"]["available"], 200);
}

#[tokio::test]
async fn discount_codes_are_single_use() {
    let server = Server::start().await;
    server.load_program(json!({})).await;
    server.webhook(paid("o1", "c1", server.now() - 60, 200_000, 1)).await;
    let (_, first) = server.redeem("c1", Some("k1"), json!({"rewardId": "ten-off"})).await;
    let code = first["code"].as_str().unwrap().to_owned();

    let anonymous =
        server.client.get(server.url(&format!("/v1/admin/discount-codes/{code}"))).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let (_, view) =
        server.admin(reqwest::Method::GET, &format!("/v1/admin/discount-codes/{code}"), None, None).await;
    assert_eq!((view["consumed"].as_bool(), view["reward"]["amountOff"].as_i64()), (Some(false), Some(1000)));

    let path = format!("/v1/admin/discount-codes/{code}/consume");
    let (status, used) =
        server.admin(reqwest::Method::POST, &path, Some(json!({"orderId": "o9"})), None).await;
    assert_eq!(
        (status, used["consumed"].as_bool(), used["orderId"].as_str()),
        (StatusCode::OK, Some(true), Some("o9"))
    );
    let (status, again) =
        server.admin(reqwest::Method::POST, &path, Some(json!({"orderId": "o9"})), None).await;
    assert_eq!((status, again), (StatusCode::OK, used), "the same order again is a no-op");
    let (status, other) =
        server.admin(reqwest::Method::POST, &path, Some(json!({"orderId": "o10"})), None).await;
    assert_eq!((status, other["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("code_already_used")));
    let (status, _) = server
        .admin(
            reqwest::Method::POST,
            "/v1/admin/discount-codes/LOY-NOPE/consume",
            Some(json!({"orderId": "o9"})),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // An order webhook naming a code uses it up.
    let (_, second) = server.redeem("c1", Some("k2"), json!({"rewardId": "ten-off"})).await;
    let code2 = second["code"].as_str().unwrap().to_owned();
    let mut order = paid("o3", "c1", server.now(), 5_000, 1);
    order["order"]["discountCodes"] = json!([code2, "SHOP-OWN-COUPON"]);
    let (status, _) = server.webhook(order).await;
    assert_eq!(status, StatusCode::OK);
    let (status, other) = server
        .admin(
            reqwest::Method::POST,
            &format!("/v1/admin/discount-codes/{code2}/consume"),
            Some(json!({"orderId": "o4"})),
            None,
        )
        .await;
    assert_eq!((status, other["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("code_already_used")));
}

/// How the test shop's coupon endpoint behaves.
#[derive(Clone, Copy)]
enum Shop {
    /// A code per reward.
    Works,
    /// Always the same code (a shop bug: the second one collides).
    SameCode,
    /// Down.
    Fails,
    /// Redirects to another URL of its own that would answer with a code.
    Redirects,
}

/// A running test shop: its coupon URL, and how many calls reached it and its redirect target.
struct CouponShop {
    url: String,
    calls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    redirected: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl CouponShop {
    fn calls(&self) -> usize {
        self.calls.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A shop's coupon endpoint for the test: checks the signature, answers with a code, or fails.
async fn coupon_shop(behaviour: Shop) -> CouponShop {
    use axum::routing::post;
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let redirected = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (counter, elsewhere) = (calls.clone(), redirected.clone());
    let app = axum::Router::new().route(
        "/elsewhere",
        post(move || async move {
            elsewhere.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            axum::Json(json!({"code": "REDIRECTED"}))
        }),
    );
    let app = app.route(
        "/coupons",
        post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| async move {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if matches!(behaviour, Shop::Redirects) {
                return axum::response::IntoResponse::into_response((
                    StatusCode::TEMPORARY_REDIRECT,
                    [("location", "/elsewhere")],
                ));
            }
            let signature = headers.get("loyalty-signature").and_then(|v| v.to_str().ok()).map(str::to_owned);
            let now =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs()
                    as i64;
            if loyalty_server::auth::verify_webhook(
                signature.as_deref(),
                &[common::WEBHOOK_SECRET.as_bytes().to_vec()],
                &body,
                now,
                300,
            )
            .is_err()
            {
                return axum::response::IntoResponse::into_response((
                    StatusCode::UNAUTHORIZED,
                    axum::Json(json!({"error": "bad signature"})),
                ));
            }
            let request: Value = serde_json::from_slice(&body).expect("json");
            let code = match behaviour {
                Shop::Fails => {
                    return axum::response::IntoResponse::into_response((
                        StatusCode::SERVICE_UNAVAILABLE,
                        axum::Json(json!({"error": "down"})),
                    ))
                }
                Shop::SameCode => "SAVE10".to_owned(),
                Shop::Works | Shop::Redirects => {
                    format!("SHOP-{}", request["redemptionId"].as_str().unwrap_or("x").to_uppercase())
                }
            };
            axum::response::IntoResponse::into_response((StatusCode::OK, axum::Json(json!({ "code": code }))))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    CouponShop { url: format!("http://{addr}/coupons"), calls, redirected }
}

#[tokio::test]
async fn the_shop_can_issue_the_codes_itself() {
    let shop = coupon_shop(Shop::Works).await;
    let server = Server::start_with_env(false, vec![("LOYALTY_COUPON_ENDPOINT", shop.url.clone())]).await;
    server.load_program(json!({})).await;
    server.webhook(paid("o1", "c1", server.now() - 60, 60_000, 1)).await;
    let (status, body) = server.redeem("c1", Some("k1"), json!({"rewardId": "ten-off"})).await;
    let expected = format!("SHOP-{}", body["id"].as_str().unwrap_or("").to_uppercase());
    assert_eq!((status, body["code"].as_str()), (StatusCode::CREATED, Some(expected.as_str())));
    let (status, again) = server.redeem("c1", Some("k1"), json!({"rewardId": "ten-off"})).await;
    assert_eq!((status, &again), (StatusCode::CREATED, &body), "the stored answer, not a second coupon");
    let me = server.me("c1").await;
    assert_eq!(me["balance"]["available"], 100);
    assert_eq!(me["codes"][0]["code"], expected.as_str());
    // Past the key's lifetime the redemption answers again with the shop's code: no second coupon is
    // minted and nothing is refunded.
    server.running.state.advance_clock(8 * 86_400);
    let (status, replay) = server.redeem("c1", Some("k1"), json!({"rewardId": "ten-off"})).await;
    assert_eq!((status, &replay["code"], &replay["id"]), (StatusCode::CREATED, &body["code"], &body["id"]));
    assert_eq!(shop.calls(), 1, "the shop was asked once");
    assert_eq!(server.me("c1").await["balance"]["available"], 100);
}

#[tokio::test]
async fn the_coupon_call_follows_no_redirect() {
    // A redirect would carry the signed body and the shopper's id to another URL, https to http included.
    let shop = coupon_shop(Shop::Redirects).await;
    let server = Server::start_with_env(false, vec![("LOYALTY_COUPON_ENDPOINT", shop.url.clone())]).await;
    server.load_program(json!({})).await;
    server.webhook(paid("o1", "c1", server.now() - 60, 60_000, 1)).await;
    let (status, body) = server.redeem("c1", Some("k1"), json!({"rewardId": "ten-off"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_GATEWAY, Some("coupon_endpoint_failed"))
    );
    assert_eq!(shop.calls(), 1);
    assert_eq!(shop.redirected.load(std::sync::atomic::Ordering::SeqCst), 0, "the redirect was not followed");
    assert_eq!(server.me("c1").await["balance"]["available"], 600, "the points came back");
}

#[tokio::test]
async fn a_failing_shop_endpoint_spends_nothing_and_the_key_can_be_retried() {
    let shop = coupon_shop(Shop::Fails).await;
    let server = Server::start_with_env(false, vec![("LOYALTY_COUPON_ENDPOINT", shop.url.clone())]).await;
    server.load_program(json!({})).await;
    server.webhook(paid("o1", "c1", server.now() - 60, 60_000, 1)).await;
    let (status, body) = server.redeem("c1", Some("k1"), json!({"rewardId": "ten-off"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_GATEWAY, Some("coupon_endpoint_failed"))
    );
    let me = server.me("c1").await;
    assert_eq!(me["balance"]["available"], 600, "the reserved points came back");
    assert_eq!(me["activity"][0]["reason"], "redemption failed: points returned");
    assert_eq!(me["codes"], json!([]), "a failed redemption is not listed as a code");
    // Not stored under the key: the same key may try again.
    let (status, _) = server.redeem("c1", Some("k1"), json!({"rewardId": "ten-off"})).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
}

#[tokio::test]
async fn a_shop_code_that_cannot_be_stored_returns_the_points() {
    let shop = coupon_shop(Shop::SameCode).await;
    let server = Server::start_with_env(false, vec![("LOYALTY_COUPON_ENDPOINT", shop.url.clone())]).await;
    server.load_program(json!({})).await;
    server.webhook(paid("o1", "c1", server.now() - 60, 120_000, 1)).await;
    let (status, first) = server.redeem("c1", Some("k1"), json!({"rewardId": "ten-off"})).await;
    assert_eq!((status, first["code"].as_str()), (StatusCode::CREATED, Some("SAVE10")));
    // The shop hands out the same code again: it cannot be stored, so the second redemption is undone.
    let (status, second) = server.redeem("c1", Some("k2"), json!({"rewardId": "ten-off"})).await;
    assert_eq!(
        (status, second["error"]["code"].as_str()),
        (StatusCode::BAD_GATEWAY, Some("coupon_endpoint_failed"))
    );
    assert_eq!(server.me("c1").await["balance"]["available"], 700, "one debit of 500 stands");
}

/// The ledger entries of a shopper, as `(kind, points)`.
async fn ledger_of(server: &Server, customer: &str) -> Vec<(String, i64)> {
    sqlx::query_as("SELECT kind, points FROM ledger WHERE customer_id = ? ORDER BY id")
        .bind(customer)
        .fetch_all(&server.running.state.db)
        .await
        .expect("read the ledger")
}

#[tokio::test]
async fn a_finished_redemption_replayed_after_its_key_expired_returns_its_code_and_never_refunds() {
    // The outside review's critical finding: once the key had expired, the same request with the same key
    // answered 502 and credited the cost back, while the code from the first answer still worked.
    let server = Server::start().await;
    server.load_program(json!({})).await;
    server.webhook(paid("o1", "c1", server.now() - 60, 200_000, 1)).await; // 2000 points
    let body = json!({"rewardId": "ten-off"});
    let (status, first) = server.redeem("c1", Some("k1"), body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(server.me("c1").await["balance"]["available"], 1500);

    for days in [8, 400] {
        server.running.state.advance_clock(days * 86_400);
        let (status, replay) = server.redeem("c1", Some("k1"), body.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "after {days} more days: {replay}");
        for field in ["id", "code", "rewardId", "cost", "reward", "createdAt"] {
            assert_eq!(replay[field], first[field], "{field} after {days} more days");
        }
        assert_eq!(replay["balance"]["available"], 1500, "the balance as it is now");
        let me = server.me("c1").await;
        assert_eq!(me["balance"]["available"], 1500, "nothing refunded after {days} more days");
        assert_eq!(me["codes"].as_array().map(Vec::len), Some(1), "no second redemption");
        assert_eq!(me["codes"][0]["code"], first["code"]);
    }
    assert_eq!(
        ledger_of(&server, "c1").await,
        vec![("earn".to_owned(), 2000), ("redeem".to_owned(), 500)],
        "one debit, no correcting entry"
    );
    // The same key with another body is still refused, however old the redemption.
    let (status, other) = server.redeem("c1", Some("k1"), json!({"rewardId": "other"})).await;
    assert_eq!(
        (status, other["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("idempotency_key_reused"))
    );
    // The code still works once, at checkout.
    let code = first["code"].as_str().unwrap();
    let (status, used) = server
        .admin(
            reqwest::Method::POST,
            &format!("/v1/admin/discount-codes/{code}/consume"),
            Some(json!({"orderId": "o2"})),
            None,
        )
        .await;
    assert_eq!((status, used["consumed"].as_bool()), (StatusCode::OK, Some(true)));
    let (status, replay) = server.redeem("c1", Some("k1"), body).await;
    assert_eq!(
        (status, &replay["code"]),
        (StatusCode::CREATED, &first["code"]),
        "used or not, the same answer"
    );
    assert_eq!(server.me("c1").await["balance"]["available"], 1500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_taken_over_attempt_cannot_finish_or_refund_the_others_work() {
    // An attempt that waits past the abandonment limit is taken over by its own retry. Before the claim was
    // fenced, the first finished with a code and the retry then "resumed" it and refunded it.
    let server = Server::start().await;
    server.load_program(json!({})).await;
    server.webhook(paid("o1", "c1", server.now() - 60, 200_000, 1)).await; // 2000 points
    let body = json!({"rewardId": "ten-off"});
    let lock = server.running.state.write_lock.lock().await;
    let first = redeem_in_background(&server, &body);
    // Let the first attempt claim the key and queue for the write lock.
    for _ in 0..200 {
        let claimed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM idempotency_keys WHERE key = 'k1'")
            .fetch_one(&server.running.state.db)
            .await
            .unwrap();
        if claimed == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    server.running.state.advance_clock(120);
    let second = redeem_in_background(&server, &body);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    drop(lock);
    let (first, second) = (first.await.unwrap(), second.await.unwrap());
    let answers = [&first, &second];
    let created: Vec<&Value> =
        answers.iter().filter(|(s, _)| *s == StatusCode::CREATED).map(|(_, b)| b).collect();
    assert_eq!(created.len(), 1, "exactly one attempt redeems: {first:?} {second:?}");
    let other = answers.iter().find(|(s, _)| *s != StatusCode::CREATED).unwrap();
    assert_eq!(
        (other.0, other.1["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("idempotency_key_in_flight")),
        "the attempt that lost its claim changes nothing"
    );
    let me = server.me("c1").await;
    assert_eq!(me["balance"]["available"], 1500, "one debit, no refund");
    assert_eq!(me["codes"][0]["code"], created[0]["code"]);
    assert_eq!(ledger_of(&server, "c1").await.len(), 2, "earn and one redeem, nothing else");
    let (status, again) = server.redeem("c1", Some("k1"), body).await;
    assert_eq!((status, &again), (StatusCode::CREATED, created[0]), "the holder's answer is the key's");
}

#[tokio::test]
async fn a_reservation_left_from_a_shop_mode_is_completed_with_the_servers_own_code() {
    // Points reserved while the shop's coupon endpoint was configured, the process gone before the call ended,
    // and the server restarted without the endpoint: the retry completes it with a code of the server's own,
    // never calls an endpoint that is not configured, and never refunds.
    let server = Server::start().await;
    server.load_program(json!({})).await;
    server.webhook(paid("o1", "c1", server.now() - 60, 60_000, 1)).await; // 600 points
    let db = &server.running.state.db;
    let at = server.now() - 30;
    sqlx::query("INSERT INTO ledger (customer_id, at, kind, points, source, reason, created_at) VALUES ('c1', ?, 'redeem', 500, 'purchase', 'x', ?)")
        .bind(at)
        .bind(at)
        .execute(db)
        .await
        .unwrap();
    sqlx::query("INSERT INTO redemptions (id, customer_id, reward_id, cost, code, created_at, idempotency_key, state) VALUES ('rdm_left', 'c1', 'ten-off', 500, 'pending:rdm_left', ?, 'k1', 'reserved')")
        .bind(at)
        .execute(db)
        .await
        .unwrap();
    let (status, body) = server.redeem("c1", Some("k1"), json!({"rewardId": "ten-off"})).await;
    assert_eq!((status, body["id"].as_str()), (StatusCode::CREATED, Some("rdm_left")), "{body}");
    assert!(body["code"].as_str().is_some_and(|c| c.starts_with("LOY-")), "{body}");
    let me = server.me("c1").await;
    assert_eq!(me["balance"]["available"], 100, "the one reserved debit stands, nothing refunded");
    assert_eq!(me["codes"][0]["code"], body["code"]);
}

#[tokio::test]
async fn a_shopper_named_like_an_admin_scope_shares_no_key_with_the_admin() {
    // The admin's keys for shopper c1 were scoped `admin:c1`, the very scope of a shopper whose id is
    // `admin:c1`: the admin's adjustment then met the shopper's redemption under the same key.
    let server = Server::start().await;
    server.load_program(json!({})).await;
    server.webhook(paid("o1", "admin:c1", server.now() - 60, 60_000, 1)).await;
    let (status, _) = server.redeem("admin:c1", Some("k1"), json!({"rewardId": "ten-off"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let adjustment = json!({"points": 50, "reason": "goodwill", "actor": "staff-1"});
    let (status, body) = server
        .admin(reqwest::Method::POST, "/v1/admin/customers/c1/adjustments", Some(adjustment), Some("k1"))
        .await;
    assert!(status.is_success(), "{status} {body}");
    assert_eq!(server.me("c1").await["balance"]["available"], 50);
    assert_eq!(server.me("admin:c1").await["balance"]["available"], 100);
}

/// A reservation as an attempt cut off during the shop's coupon call leaves it: the debit in the ledger and the
/// redemption `reserved` under key `k1`, made `at`; `reward` is the reward's JSON as stored with it, or none
/// for a redemption made before the server kept it.
async fn leave_reservation(server: &Server, cost: i64, at: i64, reward: Option<Value>) {
    let db = &server.running.state.db;
    sqlx::query("INSERT INTO ledger (customer_id, at, kind, points, source, reason, created_at) VALUES ('c1', ?, 'redeem', ?, 'purchase', 'x', ?)")
        .bind(at)
        .bind(cost)
        .bind(at)
        .execute(db)
        .await
        .expect("debit");
    sqlx::query("INSERT INTO redemptions (id, customer_id, reward_id, cost, code, created_at, idempotency_key, state, reward) VALUES ('rdm_left', 'c1', 'ten-off', ?, 'pending:rdm_left', ?, 'k1', 'reserved', ?)")
        .bind(cost)
        .bind(at)
        .bind(reward.map(|r| r.to_string()))
        .execute(db)
        .await
        .expect("reservation");
}

#[tokio::test]
async fn a_resumed_reservation_refunds_what_was_debited_and_gives_what_was_paid_for() {
    // A reservation of "ten-off" at 500 points is left by an attempt cut off; then the merchant raises its
    // cost to 5,000 and its value. Completing or refunding it later must use the reward as it was paid for:
    // the refund read today's price and created 4,500 points.
    for stored in [true, false] {
        let shop = coupon_shop(Shop::Fails).await;
        let server = Server::start_with_env(false, vec![("LOYALTY_COUPON_ENDPOINT", shop.url.clone())]).await;
        server.load_program(json!({})).await;
        server.webhook(paid("o1", "c1", server.now() - 60, 60_000, 1)).await; // 600 points
        let old = ten_off(500, 1000);
        leave_reservation(&server, 500, server.now(), stored.then(|| old.clone())).await;
        server.running.state.advance_clock(60);
        let dearer = ten_off(5000, 5000);
        server.load_program(json!({"rewards": [dearer]})).await;
        let (status, body) = server.redeem("c1", Some("k1"), json!({"rewardId": "ten-off"})).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
        assert_eq!(shop.calls(), 1);
        assert_eq!(
            server.me("c1").await["balance"]["available"],
            600,
            "stored reward {stored}: 500 back, not 5,000"
        );
        assert_eq!(ledger_of(&server, "c1").await.last(), Some(&("adjust".to_owned(), 500)));
    }
    // Without the endpoint any more, the reservation is completed with the reward it paid for.
    for stored in [true, false] {
        let server = Server::start().await;
        server.load_program(json!({})).await;
        server.webhook(paid("o1", "c1", server.now() - 60, 60_000, 1)).await;
        let old = ten_off(500, 1000);
        leave_reservation(&server, 500, server.now(), stored.then_some(old)).await;
        server.running.state.advance_clock(60);
        let dearer = ten_off(5000, 5000);
        server.load_program(json!({"rewards": [dearer]})).await;
        let (status, body) = server.redeem("c1", Some("k1"), json!({"rewardId": "ten-off"})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(
            (body["cost"].as_i64(), body["reward"]["amountOff"].as_i64()),
            (Some(500), Some(1000)),
            "{body}"
        );
        let code = body["code"].as_str().expect("a code");
        let (_, view) =
            server.admin(reqwest::Method::GET, &format!("/v1/admin/discount-codes/{code}"), None, None).await;
        assert_eq!(view["reward"]["amountOff"], 1000, "stored reward {stored}: {view}");
        assert_eq!(server.me("c1").await["balance"]["available"], 100);
    }
}

#[tokio::test]
async fn a_code_whose_points_were_given_back_cannot_be_used() {
    // What the replay bug left behind: a redemption refunded after it had finished, its code still issued. The
    // code is withdrawn whichever way it comes: looked up, consumed by the shop, or named by an order.
    let server = Server::start().await;
    server.load_program(json!({})).await;
    server.webhook(paid("o1", "c1", server.now() - 60, 60_000, 1)).await;
    let db = &server.running.state.db;
    let now = server.now();
    sqlx::query("INSERT INTO redemptions (id, customer_id, reward_id, cost, code, created_at, state) VALUES ('rdm_old', 'c1', 'ten-off', 500, 'failed:rdm_old', ?, 'refunded')")
        .bind(now)
        .execute(db)
        .await
        .expect("refunded redemption");
    sqlx::query("INSERT INTO discount_codes (code, customer_id, redemption_id, reward, created_at) VALUES ('LOY-AAAAA-BBBBB', 'c1', 'rdm_old', '{}', ?)")
        .bind(now)
        .execute(db)
        .await
        .expect("its code");
    let (status, body) =
        server.admin(reqwest::Method::GET, "/v1/admin/discount-codes/LOY-AAAAA-BBBBB", None, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::GONE, Some("code_withdrawn")),
        "{body}"
    );
    let (status, body) = server
        .admin(
            reqwest::Method::POST,
            "/v1/admin/discount-codes/LOY-AAAAA-BBBBB/consume",
            Some(json!({"orderId": "o2"})),
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::GONE, Some("code_withdrawn")),
        "{body}"
    );
    let mut order = paid("o3", "c1", server.now() - 10, 10_000, 1);
    order["order"]["discountCodes"] = json!(["LOY-AAAAA-BBBBB"]);
    let (status, _) = server.webhook(order).await;
    assert!(status.is_success());
    let consumed: Option<i64> =
        sqlx::query_scalar("SELECT consumed_at FROM discount_codes WHERE code = 'LOY-AAAAA-BBBBB'")
            .fetch_one(db)
            .await
            .expect("the code");
    assert_eq!(consumed, None, "an order does not use a withdrawn code");
    // A code a finished redemption holds works as before.
    let (_, redeemed) = server.redeem("c1", Some("k1"), json!({"rewardId": "ten-off"})).await;
    let code = redeemed["code"].as_str().expect("a code");
    let (status, _) = server
        .admin(
            reqwest::Method::POST,
            &format!("/v1/admin/discount-codes/{code}/consume"),
            Some(json!({"orderId": "o2"})),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

/// A running key row for `k1` of shopper c1, as an attempt that died left it, made `at`.
async fn leave_running_key(server: &Server, at: i64, attempt: &str) {
    sqlx::query("INSERT INTO idempotency_keys (customer_id, key, request_hash, state, created_at, attempt) VALUES ('c1', 'k1', ?, 'running', ?, ?)")
        .bind(common::request_hash(&json!({"rewardId": "ten-off"})))
        .bind(at)
        .bind(attempt)
        .execute(&server.running.state.db)
        .await
        .expect("key row");
}

#[tokio::test]
async fn a_reservation_nobody_comes_back_for_is_finished_by_the_sweep() {
    use loyalty_server::redemptions::{sweep_reservations, RESERVATION_SWEEP_AFTER_SECONDS};
    // The shop's code: the attempt died during the shop's call and its key expired with it (no key row); the
    // shopper never repeats it. The sweep asks the shop once and stores the code; the shopper sees it, and a
    // late repeat of the key answers it without another call.
    let shop = coupon_shop(Shop::Works).await;
    let server = Server::start_with_env(false, vec![("LOYALTY_COUPON_ENDPOINT", shop.url.clone())]).await;
    server.load_program(json!({})).await;
    server.webhook(paid("o1", "c1", server.now() - 60, 60_000, 1)).await; // 600 points
                                                                          // (The reservation is made in the past rather than the clock moved on: the test shop checks signatures
                                                                          // against its own clock.)
    leave_reservation(&server, 500, server.now() - RESERVATION_SWEEP_AFTER_SECONDS + 30, None).await;
    assert_eq!(sweep_reservations(&server.running.state).await.expect("sweep"), 0, "too young to sweep");
    assert_eq!(shop.calls(), 0);
    sqlx::query("UPDATE redemptions SET created_at = created_at - 60")
        .execute(&server.running.state.db)
        .await
        .expect("older");
    assert_eq!(sweep_reservations(&server.running.state).await.expect("sweep"), 1);
    assert_eq!(shop.calls(), 1);
    let me = server.me("c1").await;
    assert_eq!(
        (me["balance"]["available"].as_i64(), me["codes"][0]["code"].as_str()),
        (Some(100), Some("SHOP-RDM_LEFT")),
        "{me}"
    );
    let (status, body) = server.redeem("c1", Some("k1"), json!({"rewardId": "ten-off"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CREATED, Some("SHOP-RDM_LEFT")), "{body}");
    assert_eq!(shop.calls(), 1, "the repeat answers the stored redemption");
    assert_eq!(sweep_reservations(&server.running.state).await.expect("sweep"), 0, "nothing left");

    // The shop down: the sweep gives the points back, once.
    let shop = coupon_shop(Shop::Fails).await;
    let server = Server::start_with_env(false, vec![("LOYALTY_COUPON_ENDPOINT", shop.url.clone())]).await;
    server.load_program(json!({})).await;
    server.webhook(paid("o1", "c1", server.now() - 60, 60_000, 1)).await;
    let at = server.now() - RESERVATION_SWEEP_AFTER_SECONDS - 1;
    leave_reservation(&server, 500, at, None).await;
    leave_running_key(&server, at, "dead").await;
    assert_eq!(sweep_reservations(&server.running.state).await.expect("sweep"), 1);
    assert_eq!(sweep_reservations(&server.running.state).await.expect("sweep"), 0);
    assert_eq!(server.me("c1").await["balance"]["available"], 600);
    assert_eq!(ledger_of(&server, "c1").await.last(), Some(&("adjust".to_owned(), 500)));
}

#[tokio::test]
async fn the_sweep_leaves_a_reservation_whose_attempt_is_alive() {
    use loyalty_server::redemptions::{sweep_reservations, RESERVATION_SWEEP_AFTER_SECONDS};
    // The server's own code (no endpoint any more); the key's attempt took the key over a moment ago and is
    // still running: the sweep must not race it. Once that attempt is silent past the take-over time, the
    // sweep finishes the reservation under the key, and the shopper's repeat gets that answer.
    let server = Server::start().await;
    server.load_program(json!({})).await;
    server.webhook(paid("o1", "c1", server.now() - 60, 60_000, 1)).await;
    leave_reservation(&server, 500, server.now(), None).await;
    server.running.state.advance_clock(RESERVATION_SWEEP_AFTER_SECONDS + 1);
    leave_running_key(&server, server.now(), "alive").await;
    assert_eq!(sweep_reservations(&server.running.state).await.expect("sweep"), 0);
    assert!(server.me("c1").await["codes"].as_array().is_some_and(Vec::is_empty));
    server.running.state.advance_clock(61);
    assert_eq!(sweep_reservations(&server.running.state).await.expect("sweep"), 1);
    let me = server.me("c1").await;
    let code = me["codes"][0]["code"].as_str().expect("a code").to_owned();
    assert_eq!(me["balance"]["available"], 100);
    let (status, body) = server.redeem("c1", Some("k1"), json!({"rewardId": "ten-off"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CREATED, Some(code.as_str())), "{body}");
}

/// A redemption of `body` as c1 with key `k1`, sent from a task of its own: its status and answer.
fn redeem_in_background(server: &Server, body: &Value) -> tokio::task::JoinHandle<(StatusCode, Value)> {
    let (base, identity, body) = (server.base.clone(), server.identity("c1"), body.clone());
    tokio::spawn(async move {
        let response = reqwest::Client::new()
            .post(format!("{base}/v1/redemptions"))
            .header("authorization", identity)
            .header("idempotency-key", "k1")
            .json(&body)
            .send()
            .await
            .expect("request");
        (response.status(), response.json::<Value>().await.expect("json"))
    })
}

/// The "ten-off" reward at `cost` points, worth `amount_off` minor units.
fn ten_off(cost: i64, amount_off: i64) -> Value {
    let yuan = amount_off / 100;
    json!({"id": "ten-off", "name": {"zh-CN": format!("立减{yuan}元"), "en": format!("¥{yuan} off")},
        "kind": "amountOff", "cost": cost, "amountOff": amount_off})
}
