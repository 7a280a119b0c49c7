//! Browser tests of the headless client against a fake `fetch`, custom adapters and the in-memory backend:
//! fresh and cached loads, failures of every kind, the outbox, storage trouble, and teardown without leaks.
#![cfg(target_arch = "wasm32")]

use js_sys::{Function, Object, Promise, Reflect, JSON};
use storefront_loyalty::{create_client, Client};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
const PROGRAM = {version: 1, currency: "CNY", locales: ["zh-CN", "en"],
  name: {"zh-CN": "会员俱乐部", en: "Members club"},
  earn: {rate: {points: 1, perAmount: 100}},
  tiers: [{id: "member", name: {"zh-CN": "会员", en: "Member"}, threshold: 0},
          {id: "gold", name: {"zh-CN": "黄金", en: "Gold"}, threshold: 100000, earnMultiplierPercent: 200}],
  rewards: [{id: "ten-off", name: {"zh-CN": "立减10元", en: "10 off"}, kind: "amountOff", cost: 500, amountOff: 1000}]};
function shopper(customerId, available, tier) {
  return {customerId, balance: {available, pending: [], expiring: [], expired: 0, lifetimeEarned: available},
    tier: {metric: "spend", value: 0, currentTierId: tier, nextTierId: null, remaining: 0, progress: 1},
    rewards: {affordable: available >= 500 ? ["ten-off"] : [], blocked: false}, asOf: 1767225600};
}
const json = (body, init = {}) => new Response(typeof body === "string" ? body : JSON.stringify(body),
  {status: 200, ...init, headers: {"content-type": "application/json", ...(init.headers || {})}});
const fake = {calls: [], handler: null};
const realFetch = globalThis.fetch;
export function install(handler) {
  fake.calls = []; fake.handler = handler;
  globalThis.fetch = async (request) => {
    const url = new URL(request.url);
    const call = {method: request.method, path: url.pathname, at: Date.now(),
      credentials: request.credentials, referrerPolicy: request.referrerPolicy,
      headers: Object.fromEntries(request.headers), body: request.method === "POST" ? await request.text() : null};
    fake.calls.push(call);
    return fake.handler(call, request, fake.calls.length);
  };
}
export function calls() { return fake.calls; }
export function forgetCalls() { fake.calls = []; }
export function program() { return structuredClone(PROGRAM); }
export function shopperState(customerId, available, tier) { return shopper(customerId, available, tier); }
export function alice() { return {customerId: "alice", timestamp: 1767225600, digest: "ab".repeat(32)}; }
/** The standard backend: program with an ETag (304 when matched), alice with `available` points. */
export function standard(available) {
  return (call) => {
    if (call.path.endsWith("/program")) {
      if (call.headers["if-none-match"] === '"v1"') return new Response(null, {status: 304});
      return json(PROGRAM, {headers: {etag: '"v1"'}});
    }
    if (call.path.endsWith("/customers/me")) return json(shopper("alice", available, "member"));
    return json({error: {code: "not_found", message: "no route"}}, {status: 404});
  };
}
export function offline() { return () => Promise.reject(new TypeError("Failed to fetch")); }
export function never() {
  return (call, request) => new Promise((_, reject) =>
    request.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))));
}
export function respond(status, body, headers) {
  return () => new Response(body, {status, headers: {"content-type": "application/json", ...headers}});
}
export function sequence(handlers) { let i = 0; return (call, request) => handlers[Math.min(++i, handlers.length) - 1](call, request, i); }
export function byPath(map, fallback) {
  return (call, request, n) => { for (const key of Object.keys(map)) if (call.path.endsWith(key)) return map[key](call, request, n); return fallback(call, request, n); };
}
export function jsonResponse(body, status) { return () => json(body, {status}); }
export function breakStorage() {
  const saved = [Storage.prototype.setItem, Storage.prototype.getItem];
  Storage.prototype.setItem = function () { throw new DOMException("quota", "QuotaExceededError"); };
  Storage.prototype.getItem = function () { throw new DOMException("denied", "SecurityError"); };
  return () => { [Storage.prototype.setItem, Storage.prototype.getItem] = saved; };
}
export function restoreFetch() { globalThis.fetch = realFetch; }
export function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }
export function storageKeys() { return Object.keys(localStorage).filter((k) => k.startsWith("storefront-loyalty:")); }
export function clearStorage() { for (const k of storageKeys()) localStorage.removeItem(k); }
export function heap() { return performance.memory ? performance.memory.usedJSHeapSize : 0; }
export function gc() { if (!globalThis.gc) throw new Error("run Chromium with --js-flags=--expose-gc (webdriver.json)"); globalThis.gc(); }
export function catalogBackend(available) {
  const products = [
    {id: "longjing", title: {"zh-CN": "龙井", en: "Longjing"}, url: "/p/longjing", image: "/img/longjing.jpg", price: 16800,
     categories: ["tea"], popularity: 90, neighbours: ["gaiwan", "cups"], neighbourWeights: [500, 300]},
    {id: "gaiwan", title: {"zh-CN": "盖碗", en: "Gaiwan"}, url: "/p/gaiwan", price: 12000, categories: ["teaware"], popularity: 40},
    {id: "cups", title: {"zh-CN": "品茗杯", en: "Cups"}, url: "/p/cups", price: 6000, categories: ["teaware"], popularity: 30},
    {id: "espresso", title: {"zh-CN": "意式拼配", en: "Espresso"}, url: "/p/espresso", price: 9800, categories: ["coffee"], popularity: 95,
     neighbours: ["grinder"], neighbourWeights: [600]},
    {id: "grinder", title: {"zh-CN": "磨豆机", en: "Grinder"}, url: "/p/grinder", price: 45000, categories: ["coffee-gear"], popularity: 20},
  ];
  const base = standard(available);
  return (call, request, n) => {
    if (call.path.endsWith("/catalog")) {
      const url = new URL(request.url);
      call.query = url.search;
      if (call.headers["if-none-match"] === '"c1"') return new Response(null, {status: 304});
      return new Response(JSON.stringify({products}), {status: 200, headers: {"content-type": "application/json", etag: '"c1"'}});
    }
    return base(call, request, n);
  };
}
export function settle(promise) { return promise.then((v) => ({ok: true, value: v}), (e) => ({ok: false, error: e})); }
"#)]
extern "C" {
    fn install(handler: &JsValue);
    fn calls() -> js_sys::Array;
    #[wasm_bindgen(js_name = forgetCalls)]
    fn forget_calls();
    fn program() -> JsValue;
    #[wasm_bindgen(js_name = shopperState)]
    fn shopper_state(customer: &str, available: f64, tier: &str) -> JsValue;
    fn alice() -> JsValue;
    fn standard(available: f64) -> JsValue;
    fn offline() -> JsValue;
    fn never() -> JsValue;
    fn respond(status: u16, body: &str, headers: &JsValue) -> JsValue;
    fn sequence(handlers: &js_sys::Array) -> JsValue;
    #[wasm_bindgen(js_name = byPath)]
    fn by_path(map: &JsValue, fallback: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = jsonResponse)]
    fn json_response(body: &JsValue, status: u16) -> JsValue;
    #[wasm_bindgen(js_name = breakStorage)]
    fn break_storage() -> Function;
    fn sleep(ms: u32) -> Promise;
    #[wasm_bindgen(js_name = storageKeys)]
    fn storage_keys() -> js_sys::Array;
    #[wasm_bindgen(js_name = clearStorage)]
    fn clear_storage();
    fn heap() -> f64;
    fn gc();
    fn settle(promise: &Promise) -> Promise;
    #[wasm_bindgen(js_name = catalogBackend)]
    fn catalog_backend(available: f64) -> JsValue;
}

const API: &str = "https://loyalty.example/api";

fn obj(text: &str) -> JsValue {
    JSON::parse(text).expect("test JSON parses")
}

fn get(value: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(value.clone(), |v, key| match key.parse::<u32>() {
        Ok(i) => Reflect::get_u32(&v, i).unwrap_or(JsValue::UNDEFINED),
        Err(_) => Reflect::get(&v, &key.into()).unwrap_or(JsValue::UNDEFINED),
    })
}

fn text(value: &JsValue, path: &str) -> String {
    get(value, path).as_string().unwrap_or_else(|| format!("<{path} is not a string>"))
}

fn num(value: &JsValue, path: &str) -> f64 {
    get(value, path).as_f64().unwrap_or(f64::NAN)
}

fn set(target: &JsValue, key: &str, value: &JsValue) {
    Reflect::set(target, &key.into(), value).expect("set");
}

/// A config for the fake HTTP backend, signed in as alice, with quick retries.
fn config(extra: &[(&str, JsValue)]) -> JsValue {
    let config = Object::new();
    set(&config, "apiBase", &API.into());
    set(&config, "identity", &alice());
    set(&config, "retry", &obj(r#"{"attempts": 2, "baseMs": 20, "capMs": 50}"#));
    for (key, value) in extra {
        set(&config, key, value);
    }
    config.into()
}

fn client(config: JsValue) -> Client {
    create_client(config).unwrap_or_else(|e| panic!("client: {:?}", JsValue::from(e)))
}

/// Awaits a promise; Ok(value) or Err(the rejection).
async fn outcome(promise: Promise) -> Result<JsValue, JsValue> {
    let settled = JsFuture::from(settle(&promise)).await.expect("settle never rejects");
    if get(&settled, "ok").as_bool() == Some(true) {
        Ok(get(&settled, "value"))
    } else {
        Err(get(&settled, "error"))
    }
}

async fn pause(ms: u32) {
    JsFuture::from(sleep(ms)).await.expect("sleep");
}

#[wasm_bindgen_test]
async fn a_fresh_load_then_a_cached_load_revalidated_with_the_etag() {
    clear_storage();
    install(&standard(700.0));
    let first = client(config(&[]));
    assert_eq!(text(&first.state(), "status"), "loading");
    let state = outcome(first.ready()).await.expect("ready");
    assert_eq!(text(&state, "status"), "fresh");
    assert_eq!(num(&state, "shopper.balance.available"), 700.0);
    assert_eq!(text(&state, "program.name.zh-CN"), "会员俱乐部");
    let sent = calls();
    let me = sent.iter().find(|c| text(c, "path") == "/api/v1/customers/me").expect("shopper read");
    // base64url("alice") = YWxpY2U
    assert_eq!(
        text(&me, "headers.authorization"),
        format!("LoyaltyShopper YWxpY2U.1767225600.{}", "ab".repeat(32))
    );
    first.destroy();

    // The next page view: the cache shows at once, marked stale, then the program is revalidated by ETag.
    install(&standard(900.0));
    let second = client(config(&[]));
    let state = second.state();
    assert_eq!(text(&state, "status"), "stale", "cached data is never shown as fresh");
    assert_eq!(num(&state, "shopper.balance.available"), 700.0);
    let state = outcome(second.refresh()).await.expect("refresh");
    assert_eq!(text(&state, "status"), "fresh");
    assert_eq!(num(&state, "shopper.balance.available"), 900.0);
    let program_call = calls().iter().find(|c| text(c, "path") == "/api/v1/program").expect("program read");
    assert_eq!(text(&program_call, "headers.if-none-match"), "\"v1\"");
    assert_eq!(text(&state, "program.rewards.0.id"), "ten-off", "a 304 keeps the cached program");
    second.destroy();
}

#[wasm_bindgen_test]
async fn offline_at_load_shows_the_cache_as_offline_and_recovers() {
    clear_storage();
    install(&standard(300.0));
    let warm = client(config(&[]));
    outcome(warm.ready()).await.expect("ready");
    warm.destroy();

    install(&offline());
    let cold = client(config(&[]));
    let state = outcome(cold.ready()).await.expect("the cache is something to show");
    assert_eq!(text(&state, "status"), "offline");
    assert_eq!(text(&state, "error.code"), "offline");
    assert_eq!(num(&state, "shopper.balance.available"), 300.0);
    assert_eq!(calls().length(), 4, "program and shopper, each tried twice");
    let error = outcome(cold.refresh()).await.expect_err("a refresh while offline fails");
    assert_eq!(text(&error, "code"), "offline");
    // Back online.
    install(&standard(300.0));
    let state = outcome(cold.refresh()).await.expect("back online");
    assert_eq!(text(&state, "status"), "fresh");
    assert!(get(&state, "error").is_null());
    cold.destroy();

    // Nothing cached and offline: ready() rejects with the reason.
    clear_storage();
    install(&offline());
    let empty = client(config(&[]));
    let error = outcome(empty.ready()).await.expect_err("nothing to show");
    assert_eq!(text(&error, "code"), "offline");
    assert_eq!(text(&error, "name"), "LoyaltyError");
    empty.destroy();
}

#[wasm_bindgen_test]
async fn server_errors_rate_limits_and_timeouts() {
    // 500, then fine: retried.
    clear_storage();
    let handlers = js_sys::Array::of2(
        &respond(500, "{\"error\": {\"code\": \"boom\", \"message\": \"boom\"}}", &Object::new()),
        &standard(1.0),
    );
    install(&sequence(&handlers));
    let c = client(config(&[("identity", JsValue::NULL)]));
    let state = outcome(c.ready()).await.expect("retried after a 500");
    assert_eq!(text(&state, "status"), "fresh");
    c.destroy();

    // 429 with Retry-After: 1 waits a second before the next try.
    clear_storage();
    let headers = obj(r#"{"retry-after": "1"}"#);
    let handlers = js_sys::Array::of2(&respond(429, "{}", &headers), &standard(1.0));
    install(&sequence(&handlers));
    let c = client(config(&[("identity", JsValue::NULL)]));
    outcome(c.ready()).await.expect("retried after the wait");
    let sent = calls();
    let waited = num(&sent.get(1), "at") - num(&sent.get(0), "at");
    assert!(waited >= 950.0, "Retry-After honoured: waited {waited} ms");
    c.destroy();

    // 404 is final: one request, error with the server's code.
    clear_storage();
    install(&respond(
        404,
        "{\"error\": {\"code\": \"not_found\", \"message\": \"no program here\"}}",
        &Object::new(),
    ));
    let c = client(config(&[("identity", JsValue::NULL)]));
    let error = outcome(c.ready()).await.expect_err("404");
    assert_eq!(text(&error, "code"), "refused");
    assert_eq!(num(&error, "status"), 404.0);
    assert!(text(&error, "message").contains("no program here"));
    assert_eq!(calls().length(), 1, "no retry on 404");
    c.destroy();

    // A backend slower than the timeout: aborted, reported as a timeout.
    clear_storage();
    install(&never());
    let c = client(config(&[
        ("identity", JsValue::NULL),
        ("timeoutMs", 150.into()),
        ("retry", obj(r#"{"attempts": 1}"#)),
    ]));
    let error = outcome(c.ready()).await.expect_err("timed out");
    assert_eq!(text(&error, "code"), "timeout");
    assert!(text(&error, "message").contains("150 ms"));
    c.destroy();
}

#[wasm_bindgen_test]
async fn unreadable_answers_are_refused_with_the_field_named() {
    clear_storage();
    // Truncated JSON.
    install(&respond(200, "{\"version\": 1, \"curr", &Object::new()));
    let c = client(config(&[("identity", JsValue::NULL)]));
    let error = outcome(c.ready()).await.expect_err("malformed");
    assert_eq!(text(&error, "code"), "invalid_response");
    assert!(text(&error, "message").contains("invalid JSON"), "{}", text(&error, "message"));
    c.destroy();

    // A wrong-typed field in the shopper state: the program still loads, the error names the field.
    let bad = shopper_state("alice", 1.0, "member");
    set(&get(&bad, "balance"), "available", &"lots".into());
    let map = Object::new();
    set(&map, "/customers/me", &json_response(&bad, 200));
    install(&by_path(&map, &standard(1.0)));
    let c = client(config(&[]));
    outcome(c.ready()).await.expect("the program is something to show");
    let state = c.state();
    assert_eq!(text(&state, "error.code"), "invalid_response");
    assert!(
        text(&state, "error.message").contains("shopper.balance.available: must be a number, got a string")
    );
    assert!(get(&state, "shopper").is_null());
    c.destroy();

    // The wrong content type (a login page instead of JSON).
    clear_storage();
    install(&respond(200, "<html>sign in</html>", &obj(r#"{"content-type": "text/html"}"#)));
    let c = client(config(&[("identity", JsValue::NULL)]));
    let error = outcome(c.ready()).await.expect_err("html");
    assert!(text(&error, "message").contains("content-type: must be application/json, got text/html"));
    c.destroy();

    // Larger than the cap: not read.
    clear_storage();
    let huge = format!("{{\"padding\": \"{}\"}}", "x".repeat(5_000));
    install(&respond(200, &huge, &Object::new()));
    let c = client(config(&[("identity", JsValue::NULL), ("maxResponseBytes", 1_000.into())]));
    let error = outcome(c.ready()).await.expect_err("too large");
    assert_eq!(text(&error, "code"), "response_too_large");
    c.destroy();
}

#[wasm_bindgen_test]
async fn a_redemption_retried_after_a_dropped_answer_uses_one_key() {
    clear_storage();
    let answer = obj(
        r#"{"id": "r1", "rewardId": "ten-off", "cost": 500, "code": "LOY-ABCDE-FGHJK", "createdAt": 1767225600}"#,
    );
    // The first POST reaches the server but its answer is lost; the second gets the (stored) answer.
    let posts = js_sys::Array::of2(&offline(), &json_response(&answer, 201));
    let map = Object::new();
    set(&map, "/redemptions", &sequence(&posts));
    install(&by_path(&map, &standard(700.0)));
    let c = client(config(&[]));
    outcome(c.ready()).await.expect("ready");
    let redemption = outcome(c.redeem("ten-off".into())).await.expect("redeemed");
    assert_eq!(text(&redemption, "code"), "LOY-ABCDE-FGHJK");
    let posts: Vec<JsValue> = calls().iter().filter(|c| text(c, "method") == "POST").collect();
    assert_eq!(posts.len(), 2);
    let key = text(&posts[0], "headers.idempotency-key");
    assert_eq!(key.len(), 32);
    assert_eq!(text(&posts[1], "headers.idempotency-key"), key, "the retry reuses the key");
    assert_eq!(text(&posts[0], "body"), "{\"rewardId\":\"ten-off\"}");
    assert_eq!(get(&c.state(), "outbox.length").as_f64(), Some(0.0));
    c.destroy();
}

#[wasm_bindgen_test]
async fn the_outbox_survives_a_reload() {
    clear_storage();
    let map = Object::new();
    set(&map, "/redemptions", &offline());
    install(&by_path(&map, &standard(700.0)));
    let c = client(config(&[]));
    outcome(c.ready()).await.expect("ready");
    let pending = c.redeem("ten-off".into());
    pause(30).await;
    let state = c.state();
    assert_eq!(text(&state, "outbox.0.rewardId"), "ten-off");
    let key = text(&state, "outbox.0.key");
    c.destroy();
    let error = outcome(pending).await.expect_err("destroyed before an answer");
    assert_eq!(text(&error, "code"), "destroyed");

    // The page reloads with the network back: the write goes again, with the same key.
    let answer = obj(
        r#"{"id": "r1", "rewardId": "ten-off", "cost": 500, "code": "LOY-22222-33333", "createdAt": 1767225600}"#,
    );
    let map = Object::new();
    set(&map, "/redemptions", &json_response(&answer, 201));
    install(&by_path(&map, &standard(200.0)));
    let c = client(config(&[]));
    outcome(c.ready()).await.expect("ready");
    pause(30).await;
    let post = calls().iter().find(|c| text(c, "method") == "POST").expect("resent");
    assert_eq!(text(&post, "headers.idempotency-key"), key);
    assert_eq!(get(&c.state(), "outbox.length").as_f64(), Some(0.0));
    assert!(
        !storage_keys().iter().any(|k| k.as_string().unwrap_or_default().contains(":outbox:")),
        "answered: no longer saved"
    );
    c.destroy();
}

#[wasm_bindgen_test]
async fn sign_out_forgets_the_shopper_and_another_shoppers_cache_is_never_shown() {
    clear_storage();
    install(&standard(700.0));
    let c = client(config(&[]));
    outcome(c.ready()).await.expect("ready");
    assert!(storage_keys().iter().any(|k| k.as_string().unwrap_or_default().ends_with(":shopper:alice")));
    // The signed identity is never stored: whoever reads the device later cannot replay it.
    let local = web_sys::window().and_then(|w| w.local_storage().ok().flatten()).expect("localStorage");
    for key in storage_keys().iter().filter_map(|k| k.as_string()) {
        let value = local.get_item(&key).ok().flatten().unwrap_or_default();
        assert!(
            !value.contains(&"ab".repeat(32)) && !key.contains(&"ab".repeat(32)),
            "{key} holds the digest"
        );
    }
    c.sign_out();
    let state = c.state();
    assert_eq!(get(&state, "signedIn").as_bool(), Some(false));
    assert!(get(&state, "shopper").is_null());
    assert!(
        !storage_keys().iter().any(|k| k.as_string().unwrap_or_default().contains(":shopper:")),
        "signing out clears the cache"
    );
    // Bob signs in on the same page; alice's data never shows, bob's is read.
    let bob =
        obj(&format!(r#"{{"customerId": "bob", "timestamp": 1767225600, "digest": "{}"}}"#, "cd".repeat(32)));
    let map = Object::new();
    set(&map, "/customers/me", &json_response(&shopper_state("bob", 50.0, "member"), 200));
    install(&by_path(&map, &standard(0.0)));
    c.set_identity(bob).expect("identity");
    outcome(c.refresh()).await.expect("bob's state");
    assert_eq!(text(&c.state(), "shopper.customerId"), "bob");
    let error = c
        .set_identity(obj(r#"{"customerId": "", "timestamp": 0, "digest": "zz"}"#))
        .expect_err("bad identity");
    let message = text(&JsValue::from(error), "message");
    assert!(message.contains("identity.customerId") && message.contains("identity.digest"), "{message}");
    c.destroy();
}

#[wasm_bindgen_test]
async fn a_page_that_starts_as_a_guest_or_as_another_shopper_clears_what_the_one_before_left() {
    clear_storage();
    install(&standard(700.0));
    let local = web_sys::window().and_then(|w| w.local_storage().ok().flatten()).expect("localStorage");
    let key = |rest: &str| format!("storefront-loyalty:1:{API}:{rest}");
    // What alice's pages left when the shop signed her out without calling signOut().
    let seed = || {
        let state = JSON::stringify(&shopper_state("alice", 700.0, "member")).expect("json");
        local.set_item(&key("shopper:alice"), &String::from(state)).expect("set");
        local
            .set_item(
                &key("outbox:alice:b1"),
                r#"{"key": "b1", "kind": "birthday", "birthday": "08-31", "customerId": "alice", "createdAt": 1}"#,
            )
            .expect("set");
        local
            .set_item(
                &key("outbox:alice:r1"),
                r#"{"key": "r1", "rewardId": "ten-off", "customerId": "alice", "createdAt": 1}"#,
            )
            .expect("set");
    };
    let kept = || -> Vec<String> {
        storage_keys()
            .iter()
            .filter_map(|k| k.as_string())
            .filter(|k| k.contains(":shopper:") || k.contains(":outbox:"))
            .collect()
    };
    seed();
    let guest = config(&[("identity", JsValue::NULL)]);
    let c = client(guest);
    assert_eq!(
        kept(),
        vec![key("outbox:alice:r1")],
        "a redemption resumes at her next sign-in; the rest goes"
    );
    c.destroy();
    // Bob's page after alice's: the same.
    clear_storage();
    seed();
    let bob =
        obj(&format!(r#"{{"customerId": "bob", "timestamp": 1767225600, "digest": "{}"}}"#, "cd".repeat(32)));
    let c = client(config(&[("identity", bob)]));
    assert_eq!(kept(), vec![key("outbox:alice:r1")]);
    let _ = outcome(c.ready()).await;
    c.destroy();
    // Alice's own next page keeps her cache (it is shown at once, then revalidated).
    clear_storage();
    seed();
    let c = client(config(&[]));
    assert!(kept().contains(&key("shopper:alice")));
    let _ = outcome(c.ready()).await;
    c.destroy();
    clear_storage();
}

#[wasm_bindgen_test]
async fn works_when_local_storage_is_unavailable() {
    clear_storage();
    let restore = break_storage();
    install(&standard(700.0));
    let c = client(config(&[]));
    let state = outcome(c.ready()).await.expect("memory only, no exception");
    assert_eq!(text(&state, "status"), "fresh");
    let redemption = c.redeem("ten-off".into());
    c.destroy();
    assert_eq!(text(&outcome(redemption).await.expect_err("destroyed"), "code"), "destroyed");
    restore.call0(&JsValue::NULL).expect("restore");
}

#[wasm_bindgen_test]
async fn js_adapters_are_checked_and_their_failures_classified() {
    let error = JsValue::from(create_client(obj(r#"{"adapter": {"program": 1}}"#)).err().expect("refused"));
    let message = text(&error, "message");
    assert_eq!(text(&error, "code"), "invalid_config");
    assert!(message.contains("adapter.program: must be a function, got number"), "{message}");
    assert!(message.contains("adapter.shopper: must be a function, got undefined"), "{message}");
    assert!(message.contains("adapter.redeem: must be a function"), "{message}");

    let adapter: JsValue = js_sys::eval(
        r#"({ attempts: 0,
             program() { this.attempts++; if (this.attempts === 1) throw Object.assign(new Error("busy"), {status: 503}); return PROGRAM_PLACEHOLDER; },
             async shopper({ identity }) { return { customerId: identity.customerId, balance: { available: 40 } }; },
             async redeem() { throw new Error("not here"); } })"#
            .replace("PROGRAM_PLACEHOLDER", &String::from(JSON::stringify(&program()).expect("json")))
            .as_str(),
    )
    .expect("adapter");
    let c = client(config(&[("apiBase", JsValue::UNDEFINED), ("adapter", adapter.clone())]));
    outcome(c.ready()).await.expect("the program after one retry");
    assert_eq!(num(&adapter, "attempts"), 2.0, "a thrown status 503 is retried");
    let state = c.state();
    // The shopper function returned a wrong shape: named, as for HTTP.
    assert!(
        text(&state, "error.message").contains("shopper.balance.pending: is required"),
        "{}",
        text(&state, "error.message")
    );
    // setBirthday is optional: without it the write is refused at once (501), never retried for days.
    let refused = outcome(c.set_birthday("08-31".into())).await.expect_err("no setBirthday");
    assert_eq!(num(&refused, "status"), 501.0);
    assert!(
        text(&refused, "message").contains("adapter.setBirthday is not a function"),
        "{}",
        text(&refused, "message")
    );
    assert_eq!(get(&c.state(), "outbox").unchecked_into::<js_sys::Array>().length(), 0);
    c.destroy();

    // An adapter whose promise never settles is abandoned after timeoutMs, like a request.
    let stuck: JsValue = js_sys::eval(&format!(
        "({{ program: async () => ({}), shopper: () => new Promise(() => {{}}), redeem: async () => ({{}}) }})",
        String::from(JSON::stringify(&program()).expect("json"))
    ))
    .expect("adapter");
    let c = client(config(&[
        ("apiBase", JsValue::UNDEFINED),
        ("adapter", stuck),
        ("timeoutMs", 150.into()),
        ("retry", obj(r#"{"attempts": 1}"#)),
    ]));
    outcome(c.ready()).await.expect("the program loads");
    assert_eq!(text(&c.state(), "error.code"), "timeout");
    c.destroy();
}

#[wasm_bindgen_test]
async fn the_memory_backend_redeems_by_the_rules_and_idempotently() {
    clear_storage();
    let memory = Object::new();
    set(&memory, "program", &program());
    set(&memory, "shopper", &shopper_state("alice", 700.0, "member"));
    let c = client(config(&[("apiBase", JsValue::UNDEFINED), ("memory", memory.into())]));
    outcome(c.ready()).await.expect("ready");
    let first = outcome(c.redeem("ten-off".into())).await.expect("700 buys one");
    assert_eq!(text(&first, "code"), "MEM-00001");
    pause(10).await;
    assert_eq!(num(&c.state(), "shopper.balance.available"), 200.0);
    assert_eq!(text(&c.state(), "shopper.codes.0.code"), "MEM-00001");
    let error = outcome(c.redeem("ten-off".into())).await.expect_err("200 does not");
    assert_eq!(text(&error, "code"), "refused");
    assert!(text(&error, "message").contains("not enough points: 300 more needed"));
    // Points for a product use the shopper's tier.
    let earned = c
        .points_for_product(obj(r#"{"productId": "p", "price": 10000, "currency": "CNY", "quantity": 1}"#))
        .expect("points");
    assert_eq!(num(&earned, "points"), 100.0);
    assert_eq!(text(&c.tier_progress().expect("tier"), "currentTierId"), "member");
    c.destroy();
}

#[wasm_bindgen_test]
fn bad_configs_name_every_setting() {
    let error = JsValue::from(
        create_client(obj(
            r#"{"apiBase": "loyalty.example", "timeoutMs": 5, "apibase": 1, "paths": {"program": "program"},
            "identity": {"customerId": "a", "timestamp": 1, "digest": "xyz"}, "retry": {"baseMs": 500, "capMs": 100},
            "catalogLimit": -1, "historyHalfLifeDays": 0.5, "requireConsent": "yes"}"#,
        ))
        .err()
        .expect("refused"),
    );
    let message = text(&error, "message");
    for expected in [
        "apiBase: must be an absolute https or http URL",
        "timeoutMs: must be a whole number from 100 to 120000",
        "apibase: unknown setting",
        "paths.program: must be a path starting with a single /",
        "identity.digest: must be 64 hex digits",
        "retry.capMs: must be at least retry.baseMs (500)",
        "catalogLimit: must be a whole number from 0 to 5000",
        "historyHalfLifeDays: must be a whole number from 1 to 365",
        "requireConsent: must be true or false",
    ] {
        assert!(message.contains(expected), "{expected} in {message}");
    }
    let error = JsValue::from(create_client(JsValue::from(5)).err().expect("refused"));
    assert_eq!(text(&error, "code"), "invalid_config");
    let error = JsValue::from(
        create_client(obj(r#"{"apiBase": "https://a.example", "memory": {}}"#)).err().expect("both"),
    );
    assert!(text(&error, "message").contains("give only one of apiBase, adapter and memory"));
}

/// The script tag's settings are checked by the shell before the full widget loads (shell/src/settings.rs); for
/// every kind of mistake, the shell says what `createClient` or `elementSettings` would say for the value the
/// loader hands them.
#[wasm_bindgen_test]
fn the_shell_names_a_bad_setting_as_the_full_widget_does() {
    use loyalty_shell::settings::{check, SettingsInput};
    let long = "k".repeat(201);
    // (setting, as written in data-*, the config the loader passes to the full widget, an element setting?)
    let cases: Vec<(&str, &str, String, bool)> = vec![
        ("apiBase", "ftp://shop.example", r#"{"apiBase": "ftp://shop.example"}"#.into(), false),
        ("catalogLimit", "6000", r#"{"catalogLimit": 6000}"#.into(), false),
        ("historyHalfLifeDays", "0", r#"{"historyHalfLifeDays": 0}"#.into(), false),
        ("timeoutMs", "5", r#"{"timeoutMs": 5}"#.into(), false),
        ("requireConsent", "yes", r#"{"requireConsent": "yes"}"#.into(), false),
        ("codesInEvents", "no", r#"{"codesInEvents": "no"}"#.into(), false),
        ("cacheKey", &long, format!(r#"{{"cacheKey": "{long}"}}"#), false),
        (
            "identity.digest",
            "abc",
            r#"{"identity": {"customerId": "a", "timestamp": 1, "digest": "abc"}}"#.into(),
            false,
        ),
        ("locale", "fr", r#"{"locale": "fr"}"#.into(), true),
        ("currency", "yuan", r#"{"currency": "yuan"}"#.into(), true),
        ("signInUrl", "javascript:alert(1)", r#"{"signInUrl": "javascript:alert(1)"}"#.into(), true),
    ];
    for (setting, written, config, element) in cases {
        let mut input =
            SettingsInput { api_base: Some("https://shop.example".into()), ..SettingsInput::default() };
        match setting {
            "apiBase" => input.api_base = Some(written.into()),
            "catalogLimit" => input.catalog_limit = Some(written.into()),
            "historyHalfLifeDays" => input.history_half_life_days = Some(written.into()),
            "timeoutMs" => input.timeout_ms = Some(written.into()),
            "requireConsent" => input.require_consent = Some(written.into()),
            "codesInEvents" => input.codes_in_events = Some(written.into()),
            "cacheKey" => input.cache_key = Some(written.into()),
            "identity.digest" => {
                input.customer_id = Some("a".into());
                input.timestamp = Some("1".into());
                input.digest = Some(written.into());
            }
            "locale" => input.locale = Some(written.into()),
            "currency" => input.currency = Some(written.into()),
            _ => input.sign_in_url = Some(written.into()),
        }
        let shell: Vec<(String, String)> = check(&input).0.into_iter().map(|p| (p.path, p.message)).collect();
        assert_eq!(shell.len(), 1, "{setting}: {shell:?}");
        let error = if element {
            match storefront_loyalty::element_settings(obj(&config)) {
                Ok(_) => panic!("{setting}: elementSettings accepted {config}"),
                Err(error) => JsValue::from(error),
            }
        } else {
            let full = obj(&config);
            if !config.contains("apiBase") {
                set(&full, "apiBase", &JsValue::from_str("https://shop.example"));
            }
            JsValue::from(create_client(full).err().expect("refused"))
        };
        let problems = js_sys::Array::from(&get(&error, "problems"));
        let full: Vec<(String, String)> =
            // elementSettings names a decoded value under its argument ("settings.currency").
            problems.iter().map(|p| (text(&p, "path").replace("settings.", ""), text(&p, "message"))).collect();
        assert!(
            full.contains(&shell[0]),
            "{setting}: the shell says {:?}, the full widget {full:?}",
            shell[0]
        );
    }
}

#[wasm_bindgen_test]
async fn subscribers_hear_changes_and_errors_once() {
    clear_storage();
    install(&offline());
    let c = client(config(&[]));
    let log = js_sys::Array::new();
    let callback = Function::new_with_args(
        "log, state, event",
        "log.push(event.type + ':' + state.status + (event.error ? ':' + event.error.code : ''))",
    )
    .bind1(&JsValue::NULL, &log);
    let unsubscribe: Function = c.subscribe(callback.unchecked_into()).unchecked_into();
    let _ = outcome(c.ready()).await;
    let seen: Vec<String> = log.iter().filter_map(|v| v.as_string()).collect();
    assert_eq!(seen.iter().filter(|s| s.starts_with("error:")).count(), 1, "reported once: {seen:?}");
    assert!(seen.contains(&"error:offline:offline".to_owned()), "{seen:?}");
    unsubscribe.call0(&JsValue::NULL).expect("unsubscribe");
    let before = log.length();
    let _ = outcome(c.refresh()).await;
    assert_eq!(log.length(), before, "no calls after unsubscribing");
    c.destroy();
    unsubscribe.call0(&JsValue::NULL).expect("unsubscribing after destroy is harmless");
}

#[wasm_bindgen_test]
async fn a_thousand_clients_created_and_destroyed_leave_nothing_behind() {
    clear_storage();
    install(&standard(700.0));
    let memory = || {
        wasm_bindgen::memory()
            .unchecked_into::<js_sys::WebAssembly::Memory>()
            .buffer()
            .unchecked_into::<js_sys::ArrayBuffer>()
            .byte_length()
    };
    // Cycles in batches, letting the event loop finish each batch's aborted requests, as a page would.
    async fn cycles(n: u32) {
        for i in 0..n {
            let c = client(config(&[]));
            let _ = c.subscribe(Function::new_no_args(""));
            c.destroy();
            if i % 20 == 19 {
                pause(0).await;
                forget_calls(); // the fake backend's own log is not the client's memory
            }
        }
        pause(100).await;
        // Collect the dropped unsubscribe functions, then let their finalizers free the Rust side.
        gc();
        pause(50).await;
    }
    // A first batch grows the allocator and the glue's tables to their working size.
    cycles(100).await;
    let refs_before = wasm_bindgen::externref_heap_live_count();
    let memory_before = memory();
    let heap_before = heap();
    cycles(1000).await;
    let refs_after = wasm_bindgen::externref_heap_live_count();
    let memory_after = memory();
    let heap_after = heap();
    console_log!(
        "1000 create/destroy cycles: externrefs {refs_before} -> {refs_after}; wasm memory {memory_before} -> {memory_after} bytes; JS heap {heap_before} -> {heap_after} bytes"
    );
    // Wasm memory and live externrefs are exact; the JS heap moves with the rest of the page (other tests' garbage,
    // compiled code), so it is bounded at 1 KB per client: a leaked listener or closure per client still fails.
    assert!(refs_after <= refs_before + 2, "externrefs leaked: {refs_before} -> {refs_after}");
    assert!(
        memory_after - memory_before <= 64 * 1024 && heap_after - heap_before <= 1024.0 * 1024.0,
        "wasm memory grew by {} bytes, JS heap by {} bytes",
        memory_after - memory_before,
        heap_after - heap_before
    );
}

#[wasm_bindgen_test]
async fn recommendations_read_the_catalog_once_rank_with_the_history_and_respect_the_switch() {
    clear_storage();
    install(&catalog_backend(700.0));
    let c = client(config(&[]));
    JsFuture::from(c.ready()).await.expect("ready");
    assert!(
        !calls().iter().any(|call| text(&call, "path").ends_with("/catalog")),
        "not read before it is asked for"
    );
    // A product page: what goes with it first, with its reason, titles in the page's locale, points to earn.
    let list = outcome(
        c.recommend(obj(r#"{"context": "product", "productId": "longjing", "limit": 3, "locale": "en"}"#)),
    )
    .await
    .expect("recommendations");
    assert_eq!(text(&list, "0.productId"), "gaiwan");
    assert_eq!(text(&list, "0.title"), "Gaiwan");
    assert_eq!(text(&list, "0.url"), "/p/gaiwan");
    assert_eq!(num(&list, "0.price"), 12000.0);
    assert_eq!(num(&list, "0.points"), 120.0);
    assert_eq!(
        (text(&list, "0.reasons.0.kind"), text(&list, "0.reasons.0.productId")),
        ("boughtWith".into(), "longjing".into())
    );
    let catalog_calls: Vec<JsValue> =
        calls().iter().filter(|call| text(call, "path").ends_with("/catalog")).collect();
    assert_eq!(catalog_calls.len(), 1);
    assert_eq!(text(&catalog_calls[0], "query"), "?limit=2000&near=longjing");
    assert!(get(&catalog_calls[0], "headers.authorization").is_undefined(), "the catalog is public");
    // Nor does it carry the shop's cookies or the page's address (which names the product viewed).
    assert_eq!(text(&catalog_calls[0], "credentials"), "omit");
    assert_eq!(text(&catalog_calls[0], "referrerPolicy"), "no-referrer");
    // The history: a view of the espresso brings its grinder to the home page, because of that view.
    assert_eq!(
        c.track(obj(r#"{"productId": "espresso", "kind": "view", "dwellSeconds": 40}"#)).ok(),
        Some(true)
    );
    let home = outcome(c.recommend(obj(r#"{"limit": 2, "locale": "zh-CN"}"#))).await.expect("home");
    assert_eq!((text(&home, "0.productId"), text(&home, "0.title")), ("grinder".into(), "磨豆机".into()));
    assert_eq!(text(&home, "0.reasons.0.kind"), "viewed");
    assert_eq!(num(&c.state(), "personalisation.events"), 1.0);
    assert!(storage_keys().iter().any(|k| k.as_string().unwrap_or_default().ends_with(":history")));
    // The switch off: nothing recorded, the list is not personal (popular first), the history stays until forgotten.
    c.set_personalised(false);
    assert_eq!(c.track(obj(r#"{"productId": "cups", "kind": "view"}"#)).ok(), Some(false));
    let plain = outcome(c.recommend(obj(r#"{"limit": 1}"#))).await.expect("plain");
    assert_eq!(
        (text(&plain, "0.productId"), text(&plain, "0.reasons.0.kind")),
        ("espresso".into(), "popular".into())
    );
    assert_eq!(get(&c.state(), "personalisation.recording").as_bool(), Some(false));
    c.forget_history();
    assert_eq!(num(&c.state(), "personalisation.events"), 0.0);
    assert!(!storage_keys().iter().any(|k| k.as_string().unwrap_or_default().ends_with(":history")));
    // Bad requests name the field.
    let bad = outcome(c.recommend(obj(r#"{"context": "checkout"}"#))).await.expect_err("refused");
    assert!(text(&bad, "message").contains("request.context: must be one of"), "{}", text(&bad, "message"));
    assert!(c.track(obj(r#"{"productId": "x", "kind": "like"}"#)).is_err());
    c.destroy();
    clear_storage();
}

#[wasm_bindgen_test]
async fn where_consent_is_required_nothing_is_kept_until_it_is_given() {
    clear_storage();
    install(&catalog_backend(700.0));
    let c = client(config(&[("requireConsent", JsValue::TRUE)]));
    JsFuture::from(c.ready()).await.expect("ready");
    assert_eq!(c.track(obj(r#"{"productId": "espresso", "kind": "view"}"#)).ok(), Some(false));
    assert!(!storage_keys().iter().any(|k| k.as_string().unwrap_or_default().ends_with(":history")));
    // Nor the page's product, through the cached catalog it was ranked near.
    let near_saved = || {
        let local = web_sys::window().and_then(|w| w.local_storage().ok().flatten()).expect("localStorage");
        storage_keys()
            .iter()
            .filter_map(|k| k.as_string())
            .filter(|k| k.ends_with(":catalog"))
            .filter_map(|k| local.get_item(&k).ok().flatten())
            .any(|saved| saved.lines().nth(1).is_some_and(|near| near.contains("longjing")))
    };
    outcome(c.recommend(obj(r#"{"context": "product", "productId": "longjing", "limit": 3}"#)))
        .await
        .expect("recommendations");
    assert!(storage_keys().iter().any(|k| k.as_string().unwrap_or_default().ends_with(":catalog")), "cached");
    assert!(!near_saved(), "the page's product is kept without consent");
    c.set_consent(true);
    outcome(c.recommend(obj(r#"{"context": "product", "productId": "longjing", "limit": 3}"#)))
        .await
        .expect("recommendations");
    assert_eq!(c.track(obj(r#"{"productId": "espresso", "kind": "view"}"#)).ok(), Some(true));
    assert_eq!(get(&c.state(), "personalisation.consent").as_bool(), Some(true));
    // Withdrawn: what was kept is deleted.
    c.set_consent(false);
    assert_eq!(num(&c.state(), "personalisation.events"), 0.0);
    assert!(!storage_keys().iter().any(|k| k.as_string().unwrap_or_default().ends_with(":history")));
    assert!(!near_saved(), "withdrawn consent takes the page's product out of the cache");
    c.destroy();
    clear_storage();
}
