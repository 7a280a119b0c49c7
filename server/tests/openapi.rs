//! The contract document (`server/openapi.json`) against the server: every documented operation is called,
//! every response's status must be documented for it, and every JSON body must match its schema. A route
//! added, removed or changed without the document fails here.

mod common;

use common::{paid, Server, ADMIN_KEY, WEBHOOK_SECRET};
use loyalty_server::auth::webhook_signature;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn document() -> Value {
    serde_json::from_str(include_str!("../openapi.json")).expect("openapi.json is JSON")
}

/// Validates `value` against a schema, for the subset of JSON Schema the document uses: `$ref` (local),
/// `type` (one or a list), `const`, `enum`, `properties`, `required`, `additionalProperties`, `items`,
/// `oneOf`, `minimum`, `maximum`, `minLength`, `maxLength`. Returns every mismatch with its path.
fn validate(doc: &Value, schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let target = reference
            .strip_prefix('#')
            .and_then(|p| doc.pointer(p))
            .unwrap_or_else(|| panic!("unresolved {reference}"));
        return validate(doc, target, value, path, errors);
    }
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = options
            .iter()
            .filter(|option| {
                let mut e = Vec::new();
                validate(doc, option, value, path, &mut e);
                e.is_empty()
            })
            .count();
        if matching != 1 {
            errors.push(format!("{path}: matches {matching} of the oneOf options: {value}"));
        }
        return;
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let ok = types.contains(&actual) || (actual == "integer" && types.contains(&"number"));
        if !ok {
            errors.push(format!("{path}: is {actual}, expected {types:?}"));
            return;
        }
    }
    if let Some(expected) = schema.get("const") {
        if expected != value {
            errors.push(format!("{path}: is {value}, expected {expected}"));
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        if !options.contains(value) {
            errors.push(format!("{path}: {value} is not one of {options:?}"));
        }
    }
    if let (Some(min), Some(n)) = (schema.get("minimum").and_then(Value::as_f64), value.as_f64()) {
        if n < min {
            errors.push(format!("{path}: {n} is below {min}"));
        }
    }
    if let (Some(max), Some(n)) = (schema.get("maximum").and_then(Value::as_f64), value.as_f64()) {
        if n > max {
            errors.push(format!("{path}: {n} is above {max}"));
        }
    }
    if let Some(s) = value.as_str() {
        let len = s.chars().count() as u64;
        if schema.get("minLength").and_then(Value::as_u64).is_some_and(|min| len < min)
            || schema.get("maxLength").and_then(Value::as_u64).is_some_and(|max| len > max)
        {
            errors.push(format!("{path}: length {len} is out of bounds"));
        }
    }
    if let Some(object) = value.as_object() {
        let properties = schema.get("properties").and_then(Value::as_object);
        for name in
            schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
        {
            if !object.contains_key(name) {
                errors.push(format!("{path}.{name}: is required"));
            }
        }
        for (name, item) in object {
            match (properties.and_then(|p| p.get(name)), schema.get("additionalProperties")) {
                (Some(sub), _) => validate(doc, sub, item, &format!("{path}.{name}"), errors),
                (None, Some(Value::Bool(false))) => {
                    errors.push(format!("{path}.{name}: is not in the document"))
                }
                (None, Some(extra)) if extra.is_object() => {
                    validate(doc, extra, item, &format!("{path}.{name}"), errors)
                }
                _ => {}
            }
        }
    }
    if let (Some(items), Some(list)) = (schema.get("items"), value.as_array()) {
        for (i, item) in list.iter().enumerate() {
            validate(doc, items, item, &format!("{path}[{i}]"), errors);
        }
    }
}

struct Checked<'a> {
    server: &'a Server,
    doc: Value,
    called: BTreeSet<(String, String)>,
}

impl Checked<'_> {
    /// Calls `path` (an instance of `template`), checks the status is documented for the operation and the
    /// body matches its schema; returns both.
    async fn call(
        &mut self,
        method: Method,
        template: &str,
        path: &str,
        auth: Option<String>,
        headers: &[(&str, String)],
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.server.client.request(method.clone(), self.server.url(path));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        assert_eq!(
            response.headers().get("loyalty-api-version").map(|v| v.to_str().unwrap_or("")),
            Some("1"),
            "{method} {path}"
        );
        let text = response.text().await.expect("body");
        let operation = self
            .doc
            .pointer(&format!("/paths/{}/{}", template.replace('/', "~1"), method.as_str().to_lowercase()))
            .unwrap_or_else(|| panic!("{method} {template} is not in openapi.json"))
            .clone();
        let documented = operation["responses"].get(status.as_str()).unwrap_or_else(|| {
            panic!("{method} {template} answered {status}, which openapi.json does not list: {text}")
        });
        let value: Value =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("JSON body") };
        if let Some(schema) = documented.pointer("/content/application~1json/schema").or_else(|| {
            documented.get("$ref").and_then(Value::as_str).and_then(|r| {
                self.doc.pointer(&format!("{}/content/application~1json/schema", r.trim_start_matches('#')))
            })
        }) {
            let mut errors = Vec::new();
            validate(&self.doc, schema, &value, "body", &mut errors);
            assert!(errors.is_empty(), "{method} {path} {status}: {errors:#?}\n{value}");
        }
        self.called.insert((method.as_str().to_lowercase(), template.to_owned()));
        (status, value)
    }
}

#[tokio::test]
async fn every_operation_answers_as_documented() {
    let server = Server::start().await;
    let doc = document();
    let mut c = Checked { server: &server, doc: doc.clone(), called: BTreeSet::new() };
    let admin = || Some(format!("Bearer {ADMIN_KEY}"));
    let key = |k: &str| vec![("idempotency-key", k.to_owned())];

    c.call(Method::GET, "/healthz", "/healthz", None, &[], None).await;
    c.call(Method::GET, "/v1/program", "/v1/program", None, &[], None).await; // 404: none yet
    let program = common::program(json!({}));
    c.call(
        Method::PUT,
        "/v1/admin/program",
        "/v1/admin/program",
        admin(),
        &[],
        Some(json!({"program": {"version": 2}})),
    )
    .await;
    c.call(
        Method::PUT,
        "/v1/admin/program",
        "/v1/admin/program",
        admin(),
        &[],
        Some(json!({"program": program})),
    )
    .await;
    let (_, served) = c.call(Method::GET, "/v1/program", "/v1/program", None, &[], None).await;
    assert_eq!(served["version"], 1);
    let products = json!({"products": [{"id": "p1", "title": {"zh-CN": "茶", "en": "Tea"}, "url": "/p1", "price": 100}]});
    c.call(Method::PUT, "/v1/admin/catalog", "/v1/admin/catalog", admin(), &[], Some(products)).await;
    c.call(Method::GET, "/v1/catalog", "/v1/catalog", None, &[], None).await;
    c.call(Method::GET, "/v1/catalog", "/v1/catalog?format=columns", None, &[], None).await;

    c.call(Method::GET, "/v1/customers/me", "/v1/customers/me", None, &[], None).await; // 401
    let me = Some(server.identity("c1"));
    let now = server.now();
    let order = serde_json::to_vec(&paid("o1", "c1", now - 60, 100_000, 1)).expect("json");
    let signature = webhook_signature(WEBHOOK_SECRET.as_bytes(), now, &order);
    let (status, _) = c
        .call(
            Method::POST,
            "/v1/webhooks/orders",
            "/v1/webhooks/orders",
            None,
            &[("loyalty-signature", signature)],
            Some(serde_json::from_slice(&order).expect("json")),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    c.call(Method::POST, "/v1/webhooks/orders", "/v1/webhooks/orders", None, &[], Some(json!({}))).await; // 401
    let customer = json!({"event": "created", "customer": {"id": "c1", "email": "c1@example.com"}});
    let bytes = serde_json::to_vec(&customer).expect("json");
    let signature = webhook_signature(WEBHOOK_SECRET.as_bytes(), now, &bytes);
    c.call(
        Method::POST,
        "/v1/webhooks/customers",
        "/v1/webhooks/customers",
        None,
        &[("loyalty-signature", signature)],
        Some(customer),
    )
    .await;
    let (status, state) =
        c.call(Method::GET, "/v1/customers/me", "/v1/customers/me", me.clone(), &[], None).await;
    assert_eq!((status, state["balance"]["available"].as_i64()), (StatusCode::OK, Some(1000)));

    c.call(
        Method::PUT,
        "/v1/customers/me/birthday",
        "/v1/customers/me/birthday",
        me.clone(),
        &key("b1"),
        Some(json!({"birthday": "08-31"})),
    )
    .await;
    c.call(
        Method::PUT,
        "/v1/customers/me/birthday",
        "/v1/customers/me/birthday",
        me.clone(),
        &key("b2"),
        Some(json!({"birthday": "09-01"})),
    )
    .await; // 409
    let (_, redemption) = c
        .call(
            Method::POST,
            "/v1/redemptions",
            "/v1/redemptions",
            me.clone(),
            &key("r1"),
            Some(json!({"rewardId": "ten-off"})),
        )
        .await;
    c.call(
        Method::POST,
        "/v1/redemptions",
        "/v1/redemptions",
        me.clone(),
        &[],
        Some(json!({"rewardId": "ten-off"})),
    )
    .await; // 400
    c.call(
        Method::POST,
        "/v1/redemptions",
        "/v1/redemptions",
        me.clone(),
        &key("r2"),
        Some(json!({"rewardId": 5})),
    )
    .await; // 422
    let code = redemption["code"].as_str().expect("code").to_owned();
    let code_path = format!("/v1/admin/discount-codes/{code}");
    c.call(Method::GET, "/v1/admin/discount-codes/{code}", &code_path, admin(), &[], None).await;
    c.call(
        Method::GET,
        "/v1/admin/discount-codes/{code}",
        "/v1/admin/discount-codes/NOPE",
        admin(),
        &[],
        None,
    )
    .await; // 404
    let consume = format!("{code_path}/consume");
    c.call(
        Method::POST,
        "/v1/admin/discount-codes/{code}/consume",
        &consume,
        admin(),
        &[],
        Some(json!({"orderId": "o2"})),
    )
    .await;
    c.call(
        Method::POST,
        "/v1/admin/discount-codes/{code}/consume",
        &consume,
        admin(),
        &[],
        Some(json!({"orderId": "o3"})),
    )
    .await; // 409

    let referrer = server.me("friend").await["referral"]["code"].as_str().expect("code").to_owned();
    // A landing counts for an account the shop reports as new (`signedUpAt`).
    let made = serde_json::to_vec(&json!({"event": "created", "customer": {"id": "new", "signedUpAt": now}}))
        .expect("json");
    let response = server
        .client
        .post(server.url("/v1/webhooks/customers"))
        .header("loyalty-signature", webhook_signature(WEBHOOK_SECRET.as_bytes(), server.now(), &made))
        .body(made)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let new = Some(server.identity("new"));
    c.call(
        Method::POST,
        "/v1/referrals/capture",
        "/v1/referrals/capture",
        new.clone(),
        &key("c1"),
        Some(json!({"code": referrer})),
    )
    .await;
    c.call(
        Method::POST,
        "/v1/referrals/capture",
        "/v1/referrals/capture",
        new,
        &key("c2"),
        Some(json!({"code": "NOPE2345"})),
    )
    .await; // 404

    let adjust = json!({"points": 5, "reason": "goodwill", "actor": "ops"});
    c.call(
        Method::POST,
        "/v1/admin/customers/{id}/adjustments",
        "/v1/admin/customers/c1/adjustments",
        admin(),
        &key("a1"),
        Some(adjust),
    )
    .await;
    c.call(
        Method::POST,
        "/v1/admin/customers/{id}/adjustments",
        "/v1/admin/customers/c1/adjustments",
        None,
        &key("a2"),
        Some(json!({})),
    )
    .await; // 401
    c.call(
        Method::GET,
        "/v1/admin/customers/{id}/export",
        "/v1/admin/customers/c1/export",
        admin(),
        &[],
        None,
    )
    .await;
    c.call(Method::DELETE, "/v1/admin/customers/{id}", "/v1/admin/customers/c1", admin(), &[], None).await;
    c.call(Method::DELETE, "/v1/admin/customers/{id}", "/v1/admin/customers/c1", admin(), &[], None).await; // 404

    // Every documented operation was exercised.
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object().expect("operations").keys().map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    let missed: Vec<_> = documented.difference(&c.called).collect();
    assert!(missed.is_empty(), "documented but never called here: {missed:?}");
    // And an undocumented route does not exist.
    let nope = server.client.get(server.url("/v1/nope")).send().await.expect("request");
    assert_eq!(nope.status(), StatusCode::NOT_FOUND);
}

#[test]
fn the_validator_catches_mismatches() {
    let doc = document();
    let schema = json!({"$ref": "#/components/schemas/TierProgress"});
    let mut errors = Vec::new();
    validate(
        &doc,
        &schema,
        &json!({"metric": "height", "value": 1.5, "progress": 2, "extra": true}),
        "body",
        &mut errors,
    );
    assert_eq!(errors.len(), 9, "{errors:#?}");
    for expected in [
        "body.value: is number, expected [\"integer\"]",
        "body.progress: 2 is above 1",
        "body.extra: is not in the document",
        "body.keep: is required",
    ] {
        assert!(errors.iter().any(|e| e == expected), "{expected} in {errors:#?}");
    }
}
