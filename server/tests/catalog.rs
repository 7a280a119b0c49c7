//! Over real HTTP: what an anonymous caller may ask of the public catalog, and the work identical requests
//! share (one computation per catalog version and query, however many ask at once).

mod common;

use common::{Server, ADMIN_KEY};
use loyalty_core::MAX_CATALOG_LIMIT;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn product(id: &str, price: i64) -> Value {
    json!({"id": id, "title": {"zh-CN": format!("商品 {id}"), "en": format!("Product {id}")},
           "url": format!("/products/{id}"), "price": price})
}

async fn shop_with_products(prices: &[i64]) -> Server {
    let server = Server::start().await;
    server.load_program(json!({})).await;
    upload(&server, prices).await;
    server
}

async fn upload(server: &Server, prices: &[i64]) {
    let products: Vec<Value> =
        prices.iter().enumerate().map(|(i, p)| product(&format!("p{i}"), *p)).collect();
    let (status, body) = server
        .admin(reqwest::Method::PUT, "/v1/admin/catalog", Some(json!({"products": products})), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_limit_above_the_bound_is_refused_by_name() {
    let server = shop_with_products(&[100, 200]).await;
    let get = |limit: usize| server.client.get(server.url(&format!("/v1/catalog?limit={limit}"))).send();
    assert_eq!(get(MAX_CATALOG_LIMIT).await.unwrap().status(), StatusCode::OK);
    for limit in [MAX_CATALOG_LIMIT + 1, 100_000] {
        let refused = get(limit).await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{limit}");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_query");
        assert_eq!(body["error"]["problems"][0]["path"], "limit");
        assert_eq!(
            body["error"]["problems"][0]["message"],
            format!("must be a whole number from 0 to {MAX_CATALOG_LIMIT}")
        );
    }
    // The shop's own server, with the admin key, may read a whole large catalog (it is its own data).
    let admin = |limit: usize| {
        server
            .client
            .get(server.url(&format!("/v1/catalog?limit={limit}&format=columns")))
            .header("authorization", format!("Bearer {ADMIN_KEY}"))
            .send()
    };
    assert_eq!(admin(100_000).await.unwrap().status(), StatusCode::OK);
    assert_eq!(admin(100_001).await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn identical_requests_compute_once_even_when_they_arrive_together() {
    let server = shop_with_products(&[100, 200, 300]).await;
    let answers = server.running.state.catalog_answers.clone();
    let (before, catalogs_before) = (answers.computed(), answers.catalogs_computed());
    // Twenty at once, asking the same thing in different words: near's order, repeats and unknown ids.
    let queries =
        ["?limit=2&near=p2,p0", "?near=p0,p2&limit=2", "?limit=2&near=p2,p0,p0,nope", "?limit=2&near=p0,,p2"];
    let requests = (0..20)
        .map(|i| server.client.get(server.url(&format!("/v1/catalog{}", queries[i % queries.len()]))).send());
    let responses = futures::future::join_all(requests).await;
    let mut etags = std::collections::BTreeSet::new();
    for response in responses {
        let response = response.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        etags.insert(response.headers()["etag"].to_str().unwrap().to_owned());
    }
    assert_eq!(etags.len(), 1, "one answer: {etags:?}");
    assert_eq!(answers.computed() - before, 1, "one computation of the answer");
    assert_eq!(answers.catalogs_computed() - catalogs_before, 1, "one computation of the catalog");
    // The same again later is served from what was kept; another query is computed.
    let again = server.client.get(server.url("/v1/catalog?limit=2&near=p0,p2")).send().await.unwrap();
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etags.first().unwrap());
    assert_eq!(answers.computed() - before, 1);
    let other = server.client.get(server.url("/v1/catalog?limit=1")).send().await.unwrap();
    assert_eq!(other.status(), StatusCode::OK);
    assert_eq!(answers.computed() - before, 2);
    let columns = server.client.get(server.url("/v1/catalog?limit=1&format=columns")).send().await.unwrap();
    assert_ne!(columns.headers()["etag"], other.headers()["etag"], "a format is a query of its own");
    assert_eq!(answers.computed() - before, 3);
    // Every limit from the number of products in stock up asks for all of them: one answer, not one per
    // limit (varying it was a way around the cache).
    let mut all = std::collections::BTreeSet::new();
    for limit in [3, 4, 60, 5000] {
        let response =
            server.client.get(server.url(&format!("/v1/catalog?limit={limit}"))).send().await.unwrap();
        all.insert(response.headers()["etag"].to_str().unwrap().to_owned());
    }
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(answers.computed() - before, 4, "one computation for them all");
}

#[tokio::test]
async fn a_changed_catalog_is_answered_afresh() {
    let server = shop_with_products(&[100, 200]).await;
    let answers = server.running.state.catalog_answers.clone();
    let first: Value =
        server.client.get(server.url("/v1/catalog?limit=5")).send().await.unwrap().json().await.unwrap();
    assert_eq!(first["products"][0]["price"], 100);
    let computed = answers.computed();
    upload(&server, &[150, 200]).await;
    let second: Value =
        server.client.get(server.url("/v1/catalog?limit=5")).send().await.unwrap().json().await.unwrap();
    assert_eq!(second["products"][0]["price"], 150, "the upload is seen at once");
    assert_eq!(answers.computed(), computed + 1);
    // And once a minute the catalog is recomputed (popularity, neighbours), so answers are too.
    server.running.state.advance_clock(61);
    let third = server.client.get(server.url("/v1/catalog?limit=5")).send().await.unwrap();
    assert_eq!(third.status(), StatusCode::OK);
    assert_eq!(answers.computed(), computed + 2);
}

#[test]
fn the_bound_is_one_number_in_the_contract_the_readme_and_the_widget() {
    let spec: Value = serde_json::from_str(include_str!("../openapi.json")).expect("openapi.json is JSON");
    let limit = spec["paths"]["/v1/catalog"]["get"]["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "limit"))
        .expect("the limit parameter is documented");
    assert_eq!(limit["schema"]["maximum"], json!(MAX_CATALOG_LIMIT));
    let readme = include_str!("../../README.md");
    let row = |start: &str| readme.lines().find(|l| l.starts_with(start)).unwrap_or_default().to_owned();
    assert!(
        row("| `catalogLimit` |").contains(&format!("(0 to {MAX_CATALOG_LIMIT},")),
        "README's catalogLimit row"
    );
    assert!(
        row("| `data-catalog-limit`").contains(&format!("at most {MAX_CATALOG_LIMIT})")),
        "README's attribute row"
    );
    let thousands = format!("{},{:03}", MAX_CATALOG_LIMIT / 1000, MAX_CATALOG_LIMIT % 1000);
    assert!(row("| `timeoutMs`, `maxResponseBytes`, `catalogLimit`").contains(&format!("; 0-{thousands};")));
    // The widget's check reads the constant itself (src/config.rs), not a copy of the number.
    let widget = include_str!("../../src/config.rs");
    assert!(widget.contains(r#"whole("catalogLimit", &v, 0..=loyalty_core::MAX_CATALOG_LIMIT as u32"#));
}
