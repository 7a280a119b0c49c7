//! Over real HTTP: the catalog (upload, popularity rank, co-purchase neighbours, ETag), birthdays, referral
//! capture and the customer webhook, and the admin's adjustments, export and erasure.

mod common;

use common::{paid, Server, WEBHOOK_SECRET};
use loyalty_server::auth::webhook_signature;
use reqwest::StatusCode;
use serde_json::{json, Value};

impl Server {
    async fn customer_webhook(&self, body: Value) -> (StatusCode, Value) {
        let bytes = serde_json::to_vec(&body).expect("json");
        let response = self
            .client
            .post(self.url("/v1/webhooks/customers"))
            .header("loyalty-signature", webhook_signature(WEBHOOK_SECRET.as_bytes(), self.now(), &bytes))
            .body(bytes)
            .send()
            .await
            .expect("request");
        let status = response.status();
        (status, response.json().await.expect("json"))
    }
}

fn product(id: &str) -> Value {
    json!({"id": id, "title": {"zh-CN": format!("商品 {id}"), "en": format!("Product {id}")}, "url": format!("/products/{id}"), "price": 1000})
}

fn order_of(id: &str, customer: &str, at: i64, products: &[&str]) -> Value {
    let lines: Vec<Value> =
        products.iter().map(|p| json!({"productId": p, "unitPrice": 1000, "quantity": 1})).collect();
    json!({"event": "paid", "order": {"id": id, "customerId": customer, "paidAt": at, "currency": "CNY", "lines": lines}})
}

#[tokio::test]
async fn catalog_ranks_and_neighbours_come_from_orders() {
    let server = Server::start().await;
    server.load_program(json!({})).await;
    let products: Vec<Value> = (0..20).map(|i| product(&format!("p{i}"))).collect();
    let uploaded = server.now();
    let (status, _) = server
        .admin(reqwest::Method::PUT, "/v1/admin/catalog", Some(json!({"products": products})), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let now = server.now();
    // p0 sells most and is bought with p1 (3 times) and p2 (once).
    for (i, items) in
        [&["p0", "p1"][..], &["p0", "p1"], &["p0", "p1", "p2"], &["p0"], &["p3"]].iter().enumerate()
    {
        server.webhook(order_of(&format!("o{i}"), "c1", now - 60, items)).await;
    }
    let response = server.client.get(server.url("/v1/catalog")).send().await.unwrap();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let catalog: Value = response.json().await.unwrap();
    let by_id =
        |id: &str| catalog["products"].as_array().unwrap().iter().find(|p| p["id"] == id).unwrap().clone();
    // Percentiles of 20 products by units sold (4, 3, 1, 1; ties by id), never the counts.
    let ranks: Vec<Value> =
        ["p0", "p1", "p2", "p3", "p9"].iter().map(|id| by_id(id)["popularity"].clone()).collect();
    assert_eq!(ranks, vec![json!(100), json!(95), json!(90), json!(85), json!(0)], "nothing sold is 0");
    // p1 is in 3 of p0's 4 orders, p2 in 1: weights are those shares in permille.
    assert_eq!(by_id("p0")["neighbours"], json!(["p1", "p2"]));
    assert_eq!(by_id("p0")["neighbourWeights"], json!([750, 250]));
    // For p2 both are in its one order; p1, sold less than p0, says more about p2 and comes first.
    assert_eq!(by_id("p2")["neighbours"], json!(["p1", "p0"]));
    assert_eq!(by_id("p2")["neighbourWeights"], json!([1000, 1000]));
    assert_eq!(by_id("p3")["neighbours"], json!([]));
    // The candidate set: the most popular in stock, plus the page's product and what goes with it.
    let ids = |body: Value| -> Vec<String> {
        body["products"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()).collect()
    };
    let get = |query: &'static str| server.client.get(server.url(&format!("/v1/catalog{query}"))).send();
    assert_eq!(ids(get("?limit=2").await.unwrap().json().await.unwrap()), ["p0", "p1"]);
    assert_eq!(ids(get("?limit=0&near=p2").await.unwrap().json().await.unwrap()), ["p0", "p1", "p2"]);
    assert_eq!(ids(get("").await.unwrap().json().await.unwrap()).len(), 20, "2,000 by default");
    // The same candidate set in columns: neighbours as row numbers, decoded by loyalty-core into an index.
    let columns = get("?limit=0&near=p2&format=columns").await.unwrap();
    let columns_etag = columns.headers()["etag"].to_str().unwrap().to_owned();
    let text = columns.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["format"], "columns-1");
    assert_eq!(body["id"], json!(["p0", "p1", "p2"]));
    assert_eq!(body["neighbourCount"][2], 2, "p2 goes with p1 and p0");
    let near = body["neighbours"].as_array().unwrap();
    assert_eq!(near[near.len() - 2..], [json!(1), json!(0)], "as row numbers");
    assert_eq!(body["title"]["zh-CN"].as_array().unwrap().len(), 3);
    assert_eq!(loyalty_core::index_from_columns(&text).map(|i| i.len()).ok(), Some(3));
    let products_etag = get("?limit=0&near=p2").await.unwrap().headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(columns_etag, products_etag, "a cache never answers one format with the other");
    let refused = get("?format=xml").await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["problems"][0]["path"], "format");
    let refused = get("?limit=many").await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["problems"][0]["path"], "limit");
    assert_eq!(by_id("p0")["inStock"], true);
    // When the product was first uploaded (the upload may end in the next second).
    let added = by_id("p0")["addedAt"].as_i64().unwrap_or_default();
    assert!((uploaded..=now).contains(&added), "{added} is the upload's time, {uploaded}..={now}");
    let cached =
        server.client.get(server.url("/v1/catalog")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);

    // A bad product refuses the whole upload, with every problem.
    let bad = json!({"products": [product("ok"), {"id": "x", "title": {"en": "X"}, "url": "javascript:alert(1)", "price": -5}]});
    let (status, body) = server.admin(reqwest::Method::PUT, "/v1/admin/catalog", Some(bad), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["error"]["message"],
        "products[1].title: missing the \"zh-CN\" text; products[1].url: must be a path on the shop (/products/x) or an https:// URL, got \"javascript:alert(1)\"; products[1].price: must be between 0 and 1000000000000000, got -5"
    );
    // Replace keeps only what is listed.
    let (status, _) = server
        .admin(
            reqwest::Method::PUT,
            "/v1/admin/catalog",
            Some(json!({"products": [product("p0")], "replace": true})),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let catalog: Value =
        server.client.get(server.url("/v1/catalog")).send().await.unwrap().json().await.unwrap();
    assert_eq!(catalog["products"].as_array().unwrap().len(), 1);
    assert_eq!(
        catalog["products"][0]["neighbours"],
        json!([]),
        "neighbours only name products in the catalog"
    );
}

#[tokio::test]
async fn birthday_is_set_once() {
    let server = Server::start().await;
    server.load_program(json!({})).await;
    let put = |key: &'static str, birthday: &'static str| {
        server.as_shopper(
            reqwest::Method::PUT,
            "/v1/customers/me/birthday",
            "c1",
            Some(key),
            json!({"birthday": birthday}),
        )
    };
    let (status, body) = put("b0", "02-30").await;
    assert_eq!(
        (status, body["error"]["message"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("birthday: is not a day of the year: \"02-30\""))
    );
    let (status, _) = put("b1", "08-31").await;
    assert_eq!(status, StatusCode::OK);
    let (status, again) = put("b1", "08-31").await;
    assert_eq!(
        (status, again["birthday"].as_str()),
        (StatusCode::OK, Some("08-31")),
        "same key, same answer"
    );
    let (status, body) = put("b2", "09-01").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("birthday_already_set"))
    );
    assert_eq!(server.me("c1").await["birthday"], "08-31");
}

#[tokio::test]
async fn birthday_gifts_are_given_once_a_year_on_the_day() {
    let server = Server::start().await;
    server.load_program(json!({"birthday": {"points": 200, "minDaysKnown": 30}})).await;
    let day = 86_400;
    let month_day = |t: i64| loyalty_core::MonthDay::of(t).to_string();
    let set = |customer: &'static str, birthday: String| {
        server.as_shopper(
            reqwest::Method::PUT,
            "/v1/customers/me/birthday",
            customer,
            Some("k"),
            json!({"birthday": birthday}),
        )
    };
    // "early" gives a date 40 days ahead; "late" types in today's date, which earns nothing this year.
    let in_40_days = server.now() + 40 * day;
    assert_eq!(set("early", month_day(in_40_days)).await.0, StatusCode::OK);
    assert_eq!(set("late", month_day(server.now())).await.0, StatusCode::OK);
    let balance = |me: &Value| me["balance"]["available"].as_i64();
    assert_eq!(balance(&server.me("early").await), Some(0));
    assert_eq!(balance(&server.me("late").await), Some(0));
    // On the day, reading the state gives the gift, once, and a sweep finds nothing more to give.
    server.running.state.advance_clock(40 * day);
    let me = server.me("early").await;
    assert_eq!(balance(&me), Some(200));
    assert_eq!(me["activity"][0]["source"], "birthday", "{me}");
    assert_eq!(balance(&server.me("early").await), Some(200));
    assert_eq!(loyalty_server::customers::award_birthdays(&server.running.state).await.ok(), Some(0));
    assert_eq!(balance(&server.me("late").await), Some(0));
    // A year on, the hourly sweep gives both their gifts before either reads anything.
    server.running.state.advance_clock(366 * day);
    assert_eq!(loyalty_server::customers::award_birthdays(&server.running.state).await.ok(), Some(2));
    assert_eq!(balance(&server.me("early").await), Some(400));
    assert_eq!(balance(&server.me("late").await), Some(200));
}

#[tokio::test]
async fn reads_that_give_birthday_gifts_never_wait_for_each_other_on_a_small_pool() {
    // Two connections for 32 shoppers reading at once, each due a gift: a read that held one connection
    // while it waited for a second stalled the pool until the request timeout.
    let server = Server::start_with_env(false, vec![("LOYALTY_DB_MAX_CONNECTIONS", "2".to_owned())]).await;
    server.load_program(json!({"birthday": {"points": 200, "minDaysKnown": 30}})).await;
    let day = 86_400;
    let birthday = loyalty_core::MonthDay::of(server.now() + 40 * day).to_string();
    let shoppers: Vec<String> = (0..32).map(|i| format!("due-{i}")).collect();
    for shopper in &shoppers {
        let (status, _) = server
            .as_shopper(
                reqwest::Method::PUT,
                "/v1/customers/me/birthday",
                shopper,
                Some("b"),
                json!({"birthday": birthday}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    server.running.state.advance_clock(40 * day);
    let reads = shoppers.iter().map(|shopper| async {
        let response = server.me_with(&server.identity(shopper)).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        (status, body["balance"]["available"].as_i64())
    });
    let answers =
        tokio::time::timeout(std::time::Duration::from_secs(10), futures::future::join_all(reads)).await;
    let answers = answers.expect("every read answers within 10 s on a pool of 2 connections");
    assert!(answers.iter().all(|a| *a == (StatusCode::OK, Some(200))), "{answers:?}");
    let gifts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT customer_id, COUNT(*) FROM ledger WHERE source = 'birthday' GROUP BY customer_id ORDER BY customer_id",
    )
    .fetch_all(&server.running.state.db)
    .await
    .unwrap();
    assert_eq!(gifts.len(), 32, "{gifts:?}");
    assert!(gifts.iter().all(|(_, n)| *n == 1), "each gift given exactly once: {gifts:?}");
}

#[tokio::test]
async fn referrals_are_captured_once_for_new_shoppers() {
    let server = Server::start().await;
    server.load_program(json!({})).await;
    let code = server.me("referrer").await["referral"]["code"].as_str().unwrap().to_owned();
    let capture = |customer: &'static str, key: &'static str, code: String| {
        server.as_shopper(
            reqwest::Method::POST,
            "/v1/referrals/capture",
            customer,
            Some(key),
            json!({"code": code}),
        )
    };
    // The shop reports when the friend's account was made: only a new account's landing counts.
    let made = json!({"event": "created", "customer": {"id": "friend", "signedUpAt": server.now()}});
    assert_eq!(server.customer_webhook(made).await.0, StatusCode::OK);
    let (status, body) = capture("referrer", "k", code.clone()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("own_referral_code")));
    let unknown = loyalty_core::ReferralCode::from_random(1).to_string();
    let (status, body) = capture("friend", "k1", unknown).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_referral_code"))
    );
    // A code whose check character does not match is refused before any lookup, naming the field.
    let (status, body) = capture("friend", "k0", "NOPE2345".into()).await;
    assert_eq!(
        (status, body["error"]["code"].as_str(), body["error"]["problems"][0]["path"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_body"), Some("code")),
        "{body}"
    );
    let (status, _) = capture("friend", "k2", code.to_lowercase()).await;
    assert_eq!(status, StatusCode::OK, "codes are case-insensitive");
    // A shopper who already ordered is not a new customer.
    server.webhook(paid("o1", "old", server.now() - 60, 1000, 1)).await;
    let (status, body) = capture("old", "k3", code.clone()).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("not_a_new_customer")));
    // Through the shop's customer webhook, at sign-up.
    let (status, body) = server
        .customer_webhook(json!({"event": "created", "customer": {"id": "friend2", "email": "f2@example.com", "signedUpAt": server.now(), "referralCode": code}}))
        .await;
    assert_eq!((status, body["referral"]["referredBy"].as_str()), (StatusCode::OK, Some(code.as_str())));
    assert_eq!(server.me("referrer").await["referral"]["invited"], 2);
}

/// Terms for the reward tests: 500 and 100 points on a first order of ¥50, at most 2 rewards in 30 days.
fn referral_terms() -> Value {
    json!({"referral": {
        "landingUrl": "/", "referrerPoints": 500, "friendPoints": 100, "minimumOrder": 5000,
        "returnWindowDays": 30, "capRewards": 2, "capDays": 30,
        "message": {"zh-CN": "来买茶", "en": "Come for tea"}
    }})
}

fn order(id: &str, customer: &str, at: i64, price: i64) -> Value {
    json!({"event": "paid", "order": {"id": id, "customerId": customer, "paidAt": at, "currency": "CNY",
        "lines": [{"productId": "longjing", "unitPrice": price, "quantity": 1}]}})
}

#[tokio::test]
async fn a_friends_first_qualifying_order_rewards_both_once_within_the_cap() {
    let server = Server::start().await;
    server.load_program(referral_terms()).await;
    let signed_up = |id: &str, email: &str, code: Option<&str>| json!({"event": "created", "customer": {"id": id, "email": email, "signedUpAt": server.now(), "referralCode": code}});
    assert_eq!(server.customer_webhook(signed_up("ann", "Ann@example.com", None)).await.0, StatusCode::OK);
    let code = server.me("ann").await["referral"]["code"].as_str().unwrap().to_owned();
    for friend in ["f1", "f2", "f3"] {
        let (status, body) =
            server.customer_webhook(signed_up(friend, &format!("{friend}@example.com"), Some(&code))).await;
        assert_eq!(
            (status, body["referral"]["referredBy"].as_str()),
            (StatusCode::OK, Some(code.as_str())),
            "{body}"
        );
    }
    // The same mailbox under another account is refused at sign-up.
    let (_, body) = server.customer_webhook(signed_up("ann2", "ann+2nd@example.com", Some(&code))).await;
    assert_eq!(body["referral"]["refused"], "own_referral_code", "{body}");
    // Points held (available and pending): referral rewards stay pending through the return window.
    let points = |me: &Value| {
        let pending: i64 = me["balance"]["pending"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["points"].as_i64())
            .sum();
        (
            me["balance"]["available"].as_i64().map(|available| available + pending),
            me["referral"]["rewarded"].as_i64(),
            me["referral"]["pointsEarned"].as_i64(),
        )
    };
    let now = server.now();

    // A first order under ¥50 earns its own points only; the next, qualifying one settles the referral.
    let (_, body) = server.webhook(order("f1-a", "f1", now, 3000)).await;
    assert_eq!(body["referral"]["refused"], "belowMinimum", "{body}");
    let (_, body) = server.webhook(order("f1-b", "f1", now, 6000)).await;
    assert_eq!(
        (body["referral"]["referrerPoints"].as_i64(), body["referral"]["friendPoints"].as_i64()),
        (Some(500), Some(100)),
        "{body}"
    );
    // A replayed webhook changes nothing.
    let (_, replay) = server.webhook(order("f1-b", "f1", now, 6000)).await;
    assert_eq!(replay, body);
    assert_eq!(points(&server.me("ann").await), (Some(500), Some(1), Some(500)));
    assert_eq!(points(&server.me("f1").await).0, Some(30 + 60 + 100));
    // Only the first qualifying order counts.
    let (_, body) = server.webhook(order("f1-c", "f1", now, 9000)).await;
    assert_eq!(body["referral"]["refused"], "notFirstOrder", "{body}");

    // The second reward fills the cap; the third friend still gets theirs, the referrer does not.
    server.webhook(order("f2-a", "f2", now, 5000)).await;
    let (_, body) = server.webhook(order("f3-a", "f3", now, 5000)).await;
    assert_eq!(
        (
            body["referral"]["referrerPoints"].as_i64(),
            body["referral"]["friendPoints"].as_i64(),
            body["referral"]["refused"].as_str()
        ),
        (Some(0), Some(100), Some("capReached")),
        "{body}"
    );
    assert_eq!(points(&server.me("ann").await), (Some(1000), Some(2), Some(1000)));
    assert_eq!(server.me("ann").await["referral"]["invited"], 3);

    // A refund within the return window that leaves f2's order under ¥50 reverses both rewards.
    let refund = |id: &str, customer: &str, refund: &str, amount: i64| {
        json!({"event": "refunded", "order": {"id": id, "customerId": customer, "paidAt": now, "currency": "CNY", "lines": []},
            "refund": {"id": refund, "amount": amount}})
    };
    let (_, body) = server.webhook(refund("f2-a", "f2", "r1", 1000)).await;
    assert_eq!(
        (body["referral"]["referrerPoints"].as_i64(), body["referral"]["friendPoints"].as_i64()),
        (Some(-500), Some(-100)),
        "{body}"
    );
    assert_eq!(points(&server.me("ann").await), (Some(500), Some(1), Some(500)));
    assert_eq!(
        points(&server.me("f2").await).0,
        Some(40),
        "50 earned, 10 reversed with the refund, 100 reversed"
    );
    // After the window, a refund takes back the order's points but not the referral's.
    server.running.state.advance_clock(31 * 86_400);
    let (_, body) = server.webhook(refund("f1-b", "f1", "r2", 6000)).await;
    assert_eq!(body["referral"], Value::Null, "{body}");
    assert_eq!(points(&server.me("ann").await), (Some(500), Some(1), Some(500)));
}

#[tokio::test]
async fn a_friend_who_turns_out_to_be_the_referrer_earns_nothing() {
    let server = Server::start().await;
    server.load_program(referral_terms()).await;
    let code = server.me("bob").await["referral"]["code"].as_str().unwrap().to_owned();
    let customer =
        |id: &str, email: &str| json!({"event": "updated", "customer": {"id": id, "email": email}});
    server.customer_webhook(customer("bob", "bob@gmail.com")).await;
    let made = json!({"event": "created", "customer": {"id": "bob-alt", "signedUpAt": server.now()}});
    server.customer_webhook(made).await;
    // Captured before the shop knew the friend's e-mail, which turns out to be Bob's own mailbox.
    let (status, _) = server
        .as_shopper(
            reqwest::Method::POST,
            "/v1/referrals/capture",
            "bob-alt",
            Some("k"),
            json!({"code": code}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    server.customer_webhook(customer("bob-alt", "B.o.b+alt@gmail.com")).await;
    let (_, body) = server.webhook(order("alt-1", "bob-alt", server.now(), 9000)).await;
    assert_eq!(body["referral"]["refused"], "selfReferral", "{body}");
    let me = server.me("bob").await;
    assert_eq!(
        (me["balance"]["available"].as_i64(), me["referral"]["rewarded"].as_i64()),
        (Some(0), Some(0))
    );
    assert_eq!(server.me("bob-alt").await["balance"]["available"], 90);
}

#[tokio::test]
async fn adjustments_are_audited_and_data_can_be_exported_and_erased() {
    let server = Server::start().await;
    server.load_program(json!({})).await;
    server.webhook(paid("o1", "c1", server.now() - 60, 10_000, 1)).await;
    server
        .customer_webhook(json!({"event": "created", "customer": {"id": "c1", "email": "c1@example.com"}}))
        .await;
    let path = "/v1/admin/customers/c1/adjustments";
    let (status, body) = server
        .admin(
            reqwest::Method::POST,
            path,
            Some(json!({"points": 50, "reason": "apology", "actor": "ming"})),
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("idempotency_key_required"))
    );
    let adjust = json!({"points": 50, "reason": "late delivery", "actor": "ming"});
    let (status, _) = server.admin(reqwest::Method::POST, path, Some(adjust.clone()), Some("a1")).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = server.admin(reqwest::Method::POST, path, Some(adjust), Some("a1")).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = server
        .admin(
            reqwest::Method::POST,
            path,
            Some(json!({"points": 0, "reason": "", "actor": "ming"})),
            Some("a2"),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["problems"].as_array().unwrap().len(), 2);
    let me = server.me("c1").await;
    assert_eq!(me["balance"]["available"], 150, "100 earned + 50 adjusted once");
    assert_eq!(me["activity"][0]["reason"], "late delivery");

    let (status, export) =
        server.admin(reqwest::Method::GET, "/v1/admin/customers/c1/export", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(export["profile"]["email"], "c1@example.com");
    assert_eq!(export["ledger"][1]["actor"], "ming");
    assert_eq!(export["orders"][0]["id"], "o1");

    let (status, _) = server
        .as_shopper(
            reqwest::Method::PUT,
            "/v1/customers/me/birthday",
            "c1",
            Some("b1"),
            json!({"birthday": "08-31"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server.admin(reqwest::Method::DELETE, "/v1/admin/customers/c1", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let stored: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM idempotency_keys WHERE response LIKE '%08-31%' OR customer_id LIKE '%c1'",
    )
    .fetch_one(&server.running.state.db)
    .await
    .unwrap();
    assert_eq!(stored, 0, "stored answers with personal data are erased too");
    let (status, _) = server.admin(reqwest::Method::GET, "/v1/admin/customers/c1/export", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let email: Option<String> =
        sqlx::query_scalar("SELECT email FROM customers WHERE email = 'c1@example.com'")
            .fetch_optional(&server.running.state.db)
            .await
            .unwrap();
    assert_eq!(email, None, "personal data is gone");
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ledger WHERE customer_id = 'c1'")
        .fetch_one(&server.running.state.db)
        .await
        .unwrap();
    assert_eq!(left, 0, "the ledger is kept only under a pseudonym");
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ledger WHERE customer_id LIKE 'erased:%'")
        .fetch_one(&server.running.state.db)
        .await
        .unwrap();
    assert_eq!(kept, 2);
    let (status, _) = server.admin(reqwest::Method::DELETE, "/v1/admin/customers/c1", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Every stored value, as text, of every column of every table (read from `sqlite_master`), that holds
/// `needle`: `table.column = value` for each.
async fn stored_anywhere(db: &sqlx::SqlitePool, needle: &str) -> Vec<String> {
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(db)
            .await
            .expect("the schema");
    let mut found = Vec::new();
    for table in tables {
        let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info(?)")
            .bind(&table)
            .fetch_all(db)
            .await
            .expect("the table's columns");
        for column in columns {
            // Names come from the schema itself, not from outside; a test may build this query.
            let sql = format!(
                "SELECT CAST(\"{column}\" AS TEXT) FROM \"{table}\" WHERE instr(CAST(\"{column}\" AS TEXT), ?) > 0"
            );
            let values: Vec<Option<String>> =
                sqlx::query_scalar(&sql).bind(needle).fetch_all(db).await.expect("the column");
            found.extend(values.into_iter().map(|v| format!("{table}.{column} = {}", v.unwrap_or_default())));
        }
    }
    found
}

#[tokio::test]
async fn erasure_leaves_the_id_in_no_table_and_export_holds_everything_stored() {
    let server = Server::start().await;
    let mut terms = referral_terms();
    terms["birthday"] = json!({"points": 200, "minDaysKnown": 30});
    server.load_program(terms).await;
    let now = server.now();
    let signed_up = |id: &str, code: Option<&str>| json!({"event": "created", "customer": {"id": id, "email": format!("{id}@example.com"), "signedUpAt": now, "referralCode": code}});
    let zed = "zed-7q4w";
    assert_eq!(server.customer_webhook(signed_up("ann", None)).await.0, StatusCode::OK);
    let ann_code = server.me("ann").await["referral"]["code"].as_str().unwrap().to_owned();
    // Zed was referred by Ann, and referred Fay.
    let (_, body) = server.customer_webhook(signed_up(zed, Some(&ann_code))).await;
    assert_eq!(body["referral"]["referredBy"], ann_code.as_str(), "{body}");
    let zed_code = server.me(zed).await["referral"]["code"].as_str().unwrap().to_owned();
    server.customer_webhook(signed_up("fay", Some(&zed_code))).await;
    // Gus lands with Zed's code and the widget captures it: its answer, `{"referredBy": <Zed's code>}`, is
    // stored under Gus's key.
    server.customer_webhook(signed_up("gus", None)).await;
    let capture = json!({"code": zed_code});
    let (status, body) =
        server.as_shopper(reqwest::Method::POST, "/v1/referrals/capture", "gus", Some("c1"), capture).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = server.webhook(order("zed-1", zed, now - 60, 9000)).await;
    assert_eq!(body["referral"]["friendPoints"], 100, "{body}");
    let (_, body) = server.webhook(order("fay-1", "fay", now - 60, 9000)).await;
    assert_eq!(body["referral"]["referrerPoints"], 500, "{body}");
    // Points to spend, two codes (one used at checkout), a birthday: keys in both scopes.
    let adjust = json!({"points": 2000, "reason": "welcome", "actor": "ming"});
    let path = format!("/v1/admin/customers/{zed}/adjustments");
    assert_eq!(
        server.admin(reqwest::Method::POST, &path, Some(adjust), Some("a1")).await.0,
        StatusCode::CREATED
    );
    let mut codes = Vec::new();
    for key in ["r1", "r2"] {
        let (status, body) = server
            .as_shopper(
                reqwest::Method::POST,
                "/v1/redemptions",
                zed,
                Some(key),
                json!({"rewardId": "ten-off"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        codes.push(body["code"].as_str().unwrap().to_owned());
    }
    let mut used = order("zed-2", zed, now - 30, 2000);
    used["order"]["discountCodes"] = json!([codes[0]]);
    server.webhook(used).await;
    let (status, _) = server
        .as_shopper(
            reqwest::Method::PUT,
            "/v1/customers/me/birthday",
            zed,
            Some("b1"),
            json!({"birthday": "08-31"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, export) =
        server.admin(reqwest::Method::GET, &format!("/v1/admin/customers/{zed}/export"), None, None).await;
    assert_eq!(status, StatusCode::OK);
    let referrals = &export["referrals"];
    assert_eq!(referrals["asFriend"]["referredBy"], ann_code.as_str(), "{export}");
    assert_eq!(referrals["asFriend"]["reward"]["orderId"], "zed-1", "{export}");
    assert_eq!(referrals["asFriend"]["reward"]["points"], 100, "{export}");
    assert_eq!(referrals["asFriend"]["reward"]["status"], "rewarded", "{export}");
    assert_eq!(referrals["asReferrer"]["code"], zed_code.as_str(), "{export}");
    assert_eq!(referrals["asReferrer"]["invited"], 2, "{export}"); // Fay and Gus
    let as_referrer = referrals["asReferrer"]["rewards"].as_array().expect("rewards as referrer");
    assert_eq!(as_referrer.len(), 1, "{export}");
    assert_eq!(
        (as_referrer[0]["points"].as_i64(), as_referrer[0]["status"].as_str()),
        (Some(500), Some("rewarded"))
    );
    assert!(!as_referrer[0].to_string().contains("fay"), "a friend's id and order are theirs: {export}");
    let sources: Vec<&str> = export["qualifyingEvents"]
        .as_array()
        .expect("qualifying events")
        .iter()
        .filter_map(|e| e["source"].as_str())
        .collect();
    // The referral rewards qualify (count toward tiers) once they can be spent, after the return window.
    assert_eq!(sources, ["purchase", "purchase", "referral", "referral"], "{export}");
    let code_status: Vec<(String, bool)> = export["discountCodes"]
        .as_array()
        .expect("discount codes")
        .iter()
        .map(|c| (c["code"].as_str().unwrap_or("").to_owned(), c["used"].as_bool().unwrap_or(false)))
        .collect();
    assert_eq!(code_status, [(codes[0].clone(), true), (codes[1].clone(), false)], "{export}");
    assert_eq!(export["discountCodes"][0]["orderId"], "zed-2", "{export}");

    assert!(!stored_anywhere(&server.running.state.db, zed).await.is_empty(), "the scan finds the id before");
    let (status, _) =
        server.admin(reqwest::Method::DELETE, &format!("/v1/admin/customers/{zed}"), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        stored_anywhere(&server.running.state.db, zed).await,
        Vec::<String>::new(),
        "no table holds the id"
    );
    assert_eq!(stored_anywhere(&server.running.state.db, "zed-7q4w@example.com").await, Vec::<String>::new());
    // Nor Zed's referral code: it is public (shared beside Zed's name), and the friends' `referred_by` and Gus's
    // stored capture answer kept it, which joined back to the pseudonym's rewards, ledger and orders.
    assert_eq!(stored_anywhere(&server.running.state.db, &zed_code).await, Vec::<String>::new());
    // What the others earned stays theirs.
    let ann = server.me("ann").await;
    assert_eq!(ann["referral"]["rewarded"], 1, "{ann}");
    assert_eq!(server.me("fay").await["referral"]["code"].as_str().map(str::len), Some(8));
}

#[tokio::test]
async fn a_referrers_reward_cannot_be_spent_until_the_friends_return_window_closes() {
    // pendingDays is 0 (the default) and the terms' return window 30 days: the outside review redeemed the
    // reward at once, then the friend refunded.
    let server = Server::start().await;
    server.load_program(referral_terms()).await;
    let code = server.me("ann").await["referral"]["code"].as_str().unwrap().to_owned();
    let friend = json!({"event": "created", "customer": {"id": "f1", "email": "f1@example.com", "signedUpAt": server.now(), "referralCode": code}});
    assert_eq!(server.customer_webhook(friend).await.0, StatusCode::OK);
    let paid = server.now();
    let (_, body) = server.webhook(order("f1-a", "f1", paid, 6000)).await;
    assert_eq!(body["referral"]["referrerPoints"], 500, "{body}");
    let redeem = |key: &'static str| {
        server.as_shopper(
            reqwest::Method::POST,
            "/v1/redemptions",
            "ann",
            Some(key),
            json!({"rewardId": "ten-off"}),
        )
    };
    let (status, body) = redeem("r1").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_enough_points")),
        "{body}"
    );
    let ann = server.me("ann").await;
    assert_eq!(ann["balance"]["available"], 0, "{ann}");
    assert_eq!(ann["balance"]["pending"], json!([{"points": 500, "at": paid + 30 * 86_400 + 1}]), "{ann}");
    // The friend's own purchase points follow pendingDays; their referral bonus waits like the referrer's.
    let f1 = server.me("f1").await;
    assert_eq!(f1["balance"]["available"], 60, "{f1}");
    // Once the window has closed a refund no longer reverses the reward, and it can be spent.
    server.running.state.advance_clock(30 * 86_400 + 1);
    let (status, body) = redeem("r2").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn adjustments_past_the_range_are_refused_naming_points_and_the_balance_still_reads() {
    let server = Server::start().await;
    server.load_program(json!({})).await;
    let path = "/v1/admin/customers/c1/adjustments";
    // -9223372036854775808 has no positive counterpart in i64: its `abs()` wrapped to itself, which passed the
    // range check, and the entry broke every later read of the balance (500).
    for (key, points) in [("a1", i64::MIN), ("a2", i64::MAX), ("a3", -100_000_001), ("a4", 100_000_001)] {
        let body = json!({"points": points, "reason": "typo", "actor": "ming"});
        let (status, answer) = server.admin(reqwest::Method::POST, path, Some(body), Some(key)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{points}: {answer}");
        assert_eq!(answer["error"]["problems"][0]["path"], "points", "{points}: {answer}");
    }
    let body = json!({"points": -100_000_000, "reason": "the largest correction", "actor": "ming"});
    let (status, answer) = server.admin(reqwest::Method::POST, path, Some(body), Some("a5")).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(server.me("c1").await["balance"]["available"], -100_000_000);
}

#[tokio::test]
async fn a_replayed_older_customer_event_changes_nothing() {
    let server = Server::start().await;
    server.load_program(referral_terms()).await;
    let code = server.me("bob").await["referral"]["code"].as_str().unwrap().to_owned();
    server
        .customer_webhook(json!({"event": "updated", "customer": {"id": "bob", "email": "bob@gmail.com", "updatedAt": 100}}))
        .await;
    server
        .customer_webhook(json!({"event": "created", "customer": {"id": "alt", "signedUpAt": server.now(), "updatedAt": 500}}))
        .await;
    let (status, _) = server
        .as_shopper(reqwest::Method::POST, "/v1/referrals/capture", "alt", Some("k"), json!({"code": code}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let updated = |email: &str, at: Option<i64>| json!({"event": "updated", "customer": {"id": "alt", "email": email, "updatedAt": at}});
    let email = || async {
        let (_, export) =
            server.admin(reqwest::Method::GET, "/v1/admin/customers/alt/export", None, None).await;
        export["profile"]["email"].as_str().unwrap_or_default().to_owned()
    };
    server.customer_webhook(updated("alt@example.com", Some(1_000))).await;
    // The shop learns the account is Bob's own mailbox: the self-referral check relies on this e-mail.
    let (status, body) = server.customer_webhook(updated("B.o.b+alt@gmail.com", Some(2_000))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(email().await, "B.o.b+alt@gmail.com");
    // An older event replayed, one of the same time, and one that says no time: each answers 200 and changes
    // nothing (an e-mail already stored is changed only by a newer timed event).
    for (stale, at) in
        [("alt@example.com", Some(1_000)), ("other@example.com", Some(2_000)), ("x@example.com", None)]
    {
        let (status, body) = server.customer_webhook(updated(stale, at)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(email().await, "B.o.b+alt@gmail.com", "{stale} at {at:?} changed the e-mail: {body}");
    }
    let (_, body) = server.webhook(order("alt-1", "alt", server.now(), 9000)).await;
    assert_eq!(body["referral"]["refused"], "selfReferral", "{body}");
    // A newer event still applies.
    server.customer_webhook(updated("alt@example.org", Some(3_000))).await;
    assert_eq!(email().await, "alt@example.org");
}

#[tokio::test]
async fn a_landing_is_captured_only_for_an_account_made_within_attribution_days() {
    let server = Server::start().await;
    server.load_program(referral_terms()).await;
    let code = server.me("ann").await["referral"]["code"].as_str().unwrap().to_owned();
    let day = 86_400;
    let now = server.now();
    let signed_up = |id: &str, at: Option<i64>| json!({"event": "created", "customer": {"id": id, "email": format!("{id}@example.com"), "signedUpAt": at}});
    // attributionDays is 30 (the default): an account the shop made 29 days ago is new, one of 31 days is not.
    server.customer_webhook(signed_up("fresh", Some(now - 29 * day))).await;
    server.customer_webhook(signed_up("old", Some(now - 31 * day))).await;
    let capture = |customer: &'static str| {
        server.as_shopper(
            reqwest::Method::POST,
            "/v1/referrals/capture",
            customer,
            Some("k"),
            json!({"code": code}),
        )
    };
    let (status, body) = capture("fresh").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = capture("old").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_a_new_customer")),
        "an old account without orders is not new: {body}"
    );
    // Without a creation time from the shop the server cannot tell: it refuses.
    let (status, body) = capture("unknown").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("account_age_unknown")),
        "{body}"
    );
    // The same through the shop's customer webhook.
    let with_code = |id: &str, at: Option<i64>| json!({"event": "created", "customer": {"id": id, "signedUpAt": at, "referralCode": code}});
    let (_, body) = server.customer_webhook(with_code("old-2", Some(now - 400 * day))).await;
    assert_eq!(body["referral"]["refused"], "not_a_new_customer", "{body}");
    let (_, body) = server.customer_webhook(with_code("no-date", None)).await;
    assert_eq!(body["referral"]["refused"], "account_age_unknown", "{body}");
    let (_, body) = server.customer_webhook(with_code("new-2", Some(now))).await;
    assert_eq!(body["referral"]["referredBy"], code.as_str(), "{body}");
    assert_eq!(server.me("ann").await["referral"]["invited"], 2);
}

#[tokio::test]
async fn customer_events_from_the_future_are_refused_by_field() {
    // A time in milliseconds, or a wrong clock, would order every later event before it (an e-mail frozen for
    // ever) or keep an account "new" for ever.
    let server = Server::start().await;
    server.load_program(referral_terms()).await;
    let later = server.now() + 3_600;
    for (field, customer) in [
        ("customer.updatedAt", json!({"id": "c1", "email": "c1@example.com", "updatedAt": later})),
        ("customer.signedUpAt", json!({"id": "c1", "signedUpAt": later})),
        ("customer.updatedAt", json!({"id": "c1", "updatedAt": server.now() * 1_000})),
    ] {
        let (status, body) = server.customer_webhook(json!({"event": "updated", "customer": customer})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["problems"][0]["path"], field, "{body}");
    }
    let (status, _) = server.admin(reqwest::Method::GET, "/v1/admin/customers/c1/export", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was recorded");
    // Within the clock skew is fine.
    let soon = json!({"id": "c1", "updatedAt": server.now() + 60, "signedUpAt": server.now() + 60});
    let (status, body) = server.customer_webhook(json!({"event": "created", "customer": soon})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_reward_spendable_under_a_shorter_window_is_no_longer_reversed() {
    // Paid under a 60-day return window; the merchant then shortens it to 30 days. The reward becomes spendable
    // after 30 days (the program now decides), so a refund after that must not reverse it: under the paid-at
    // program's 60 days it did, and the referrer's spent reward became a debt they need never pay back.
    let server = Server::start().await;
    let mut long = referral_terms();
    long["referral"]["returnWindowDays"] = json!(60);
    server.load_program(long).await;
    let code = server.me("ann").await["referral"]["code"].as_str().expect("code").to_owned();
    let friend = json!({"event": "created", "customer": {"id": "f1", "email": "f1@example.com", "signedUpAt": server.now(), "referralCode": code}});
    assert_eq!(server.customer_webhook(friend).await.0, StatusCode::OK);
    let paid = server.now();
    let (_, body) = server.webhook(order("f1-a", "f1", paid, 6000)).await;
    assert_eq!(body["referral"]["referrerPoints"], 500, "{body}");
    server.running.state.advance_clock(86_400);
    server.load_program(referral_terms()).await; // 30 days
    server.running.state.advance_clock(30 * 86_400);
    let (status, body) = server
        .as_shopper(
            reqwest::Method::POST,
            "/v1/redemptions",
            "ann",
            Some("r1"),
            json!({"rewardId": "ten-off"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "spendable under the program now: {body}");
    let refund = json!({"event": "refunded", "order": {"id": "f1-a", "customerId": "f1", "paidAt": paid, "currency": "CNY", "lines": []}, "refund": {"id": "rf1", "amount": 6000}});
    let (status, body) = server.webhook(refund).await;
    assert_eq!((status, &body["referral"]), (StatusCode::OK, &Value::Null), "{body}");
    assert_eq!(server.me("ann").await["balance"]["available"], 0, "spent, and not taken back into debt");

    // Within both windows a refund still reverses the reward.
    let server = Server::start().await;
    server.load_program(referral_terms()).await;
    let code = server.me("ann").await["referral"]["code"].as_str().expect("code").to_owned();
    let friend = json!({"event": "created", "customer": {"id": "f1", "email": "f1@example.com", "signedUpAt": server.now(), "referralCode": code}});
    server.customer_webhook(friend).await;
    let paid = server.now();
    server.webhook(order("f1-a", "f1", paid, 6000)).await;
    server.running.state.advance_clock(10 * 86_400);
    let refund = json!({"event": "refunded", "order": {"id": "f1-a", "customerId": "f1", "paidAt": paid, "currency": "CNY", "lines": []}, "refund": {"id": "rf1", "amount": 6000}});
    let (_, body) = server.webhook(refund).await;
    assert_eq!(body["referral"]["referrerPoints"], -500, "{body}");
}

#[tokio::test]
async fn a_pending_referral_reward_does_not_lift_the_referrers_tier() {
    // Gold at 500 points earned, 150%; the referral reward is 500. On the code before, the pending reward
    // counted toward the tier at once: Ann's own order was priced at Gold (600 instead of 400), and kept
    // that bonus when the friend's refund took the reward back.
    let server = Server::start().await;
    let mut program = referral_terms();
    program["tierQualification"] = json!({"metric": "pointsEarned"});
    program["tiers"] = json!([
        {"id": "member", "name": {"zh-CN": "会员", "en": "Member"}, "threshold": 0},
        {"id": "gold", "name": {"zh-CN": "黄金", "en": "Gold"}, "threshold": 500, "earnMultiplierPercent": 150}
    ]);
    server.load_program(program).await;
    let code = server.me("ann").await["referral"]["code"].as_str().expect("code").to_owned();
    let friend = json!({"event": "created", "customer": {"id": "f1", "email": "f1@example.com", "signedUpAt": server.now(), "referralCode": code}});
    server.customer_webhook(friend).await;
    let (_, body) = server.webhook(order("f1-a", "f1", server.now() - 60, 6000)).await;
    assert_eq!(body["referral"]["referrerPoints"], 500, "{body}");
    let (_, body) = server.webhook(order("ann-1", "ann", server.now() - 30, 40_000)).await;
    assert_eq!(body["points"], 400, "priced at Member while the reward is pending: {body}");
    assert_eq!(server.me("ann").await["tier"]["currentTierId"], "member");
    // Once the window has closed, the reward counts.
    server.running.state.advance_clock(31 * 86_400);
    assert_eq!(server.me("ann").await["tier"]["currentTierId"], "gold");
}
