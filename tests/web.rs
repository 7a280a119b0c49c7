//! Browser tests of the headless API: the exported functions called as JS would call them, in headless
//! Chromium (`wasm-pack test --headless --chrome`).
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Function, Object, Reflect, JSON};
use storefront_loyalty::{
    points_for_cart, points_for_product, rewards_overview, tier_progress, validate_program,
};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const NOW: f64 = 1_767_225_600.0; // 2026-01-01T00:00:00Z

fn json(text: &str) -> JsValue {
    JSON::parse(text).expect("test JSON parses")
}

fn get(value: &JsValue, path: &str) -> JsValue {
    path.split('.').fold(value.clone(), |v, key| match key.parse::<u32>() {
        Ok(i) => Reflect::get_u32(&v, i).expect("index"),
        Err(_) => Reflect::get(&v, &key.into()).expect("property"),
    })
}

fn number(value: &JsValue, path: &str) -> f64 {
    get(value, path).as_f64().unwrap_or_else(|| panic!("{path} is not a number"))
}

fn program() -> JsValue {
    json(
        r#"{
        "version": 1, "currency": "CNY", "locales": ["zh-CN", "en"],
        "name": {"zh-CN": "会员俱乐部", "en": "Members club"},
        "earn": {
            "rate": {"points": 1, "perAmount": 100},
            "bonuses": [{"id": "tea", "name": {"zh-CN": "茶叶加倍", "en": "Double on tea"},
                         "appliesTo": {"categories": ["tea"]}, "multiplierPercent": 200}],
            "campaigns": [{"id": "new-year", "name": {"zh-CN": "新年", "en": "New year"},
                           "startsAt": 1767225600, "endsAt": 1767484800, "multiplierPercent": 300}],
            "exclusions": {"tags": ["gift-card"]},
            "maxPointsPerOrder": 5000
        },
        "tiers": [
            {"id": "member", "name": {"zh-CN": "会员", "en": "Member"}, "threshold": 0},
            {"id": "gold", "name": {"zh-CN": "黄金", "en": "Gold"}, "threshold": 100000, "earnMultiplierPercent": 150}
        ],
        "rewards": [{"id": "ten-off", "name": {"zh-CN": "立减10元", "en": "¥10 off"}, "kind": "amountOff",
                     "cost": 500, "amountOff": 1000}]
    }"#,
    )
}

/// Calls `f` expecting a thrown `LoyaltyError`; returns it.
fn thrown(result: Result<JsValue, storefront_loyalty::WidgetError>) -> JsValue {
    let error: JsValue = result.expect_err("the call should fail").into();
    assert!(error.is_instance_of::<js_sys::Error>(), "a real JS Error reaches the page");
    error
}

#[wasm_bindgen_test]
fn validate_program_fills_defaults() {
    let program = validate_program(program()).expect("valid");
    assert_eq!(get(&program, "earn.rounding").as_string().as_deref(), Some("floor"));
    assert_eq!(number(&program, "lifecycle.expiringSoonDays"), 30.0);
    assert_eq!(number(&program, "tiers.1.earnMultiplierPercent"), 150.0);
    // Maps become plain objects, not JS Maps, so the result is JSON-compatible.
    assert!(get(&program, "name").is_instance_of::<Object>());
    assert_eq!(get(&program, "name.zh-CN").as_string().as_deref(), Some("会员俱乐部"));
}

#[wasm_bindgen_test]
fn invalid_program_throws_an_error_listing_every_problem() {
    let bad = program();
    Reflect::set(&get(&bad, "tiers.1"), &"threshold".into(), &JsValue::from(0)).expect("set");
    Reflect::set(&bad, &"locales".into(), &json(r#"["zh-CN", "en", "fr"]"#)).expect("set");
    let error = thrown(validate_program(bad));
    assert_eq!(get(&error, "code").as_string().as_deref(), Some("invalid_program"));
    assert_eq!(get(&error, "name").as_string().as_deref(), Some("LoyaltyError"));
    let problems: Array = get(&error, "problems").dyn_into().expect("array");
    let paths: Vec<String> = problems.iter().map(|p| get(&p, "path").as_string().expect("path")).collect();
    assert!(paths.contains(&"program.tiers[1].threshold".to_owned()), "{paths:?}");
    assert!(paths.contains(&"program.name".to_owned()), "missing fr text is reported: {paths:?}");
    let message = get(&error, "message").as_string().expect("message");
    assert!(message.contains("must be greater than tiers[0].threshold (0)"), "{message}");
}

#[wasm_bindgen_test]
fn wrong_types_name_the_field() {
    let error = thrown(validate_program(json(
        r#"{"version": 1, "currency": "CNY", "locales": ["en"],
        "name": {"en": "x"}, "earn": {"rate": {"points": "one", "perAmount": 100}}}"#,
    )));
    let first = get(&error, "problems.0");
    assert_eq!(get(&first, "path").as_string().as_deref(), Some("program.earn.rate.points"));
    // Not even an object: still an Error, never a panic.
    let error = thrown(validate_program(JsValue::from_str("nope")));
    assert_eq!(get(&error, "code").as_string().as_deref(), Some("invalid_program"));
    let error = thrown(validate_program(JsValue::UNDEFINED));
    assert_eq!(get(&error, "code").as_string().as_deref(), Some("invalid_program"));
}

#[wasm_bindgen_test]
fn product_points_count_bonus_campaign_and_tier() {
    let offer = json(
        r#"{"productId": "longjing", "categories": ["tea"], "price": 12800, "currency": "CNY", "quantity": 2}"#,
    );
    let context = json(r#"{"now": 1767225600, "tierId": "gold"}"#);
    let result = points_for_product(program(), offer, context).expect("points");
    // Base 256; Gold +128; tea bonus +256; new-year campaign +512.
    assert_eq!(number(&result, "points"), 1152.0);
    let components: Array = get(&result, "components").dyn_into().expect("array");
    let sum: f64 = components.iter().map(|c| number(&c, "points")).sum();
    assert_eq!(sum, 1152.0);
    assert_eq!(get(&result, "components.3.id").as_string().as_deref(), Some("new-year"));
    assert_eq!(number(&result, "eligibleAmount.amount"), 25600.0);
}

#[wasm_bindgen_test]
fn cart_points_respect_exclusions_cap_and_currency() {
    let cart = json(
        r#"{"currency": "USD", "exchangeRate": {"numerator": 36, "denominator": 5},
        "lines": [{"productId": "gift", "tags": ["gift-card"], "unitPrice": 10000, "quantity": 1},
                  {"productId": "cup", "unitPrice": 1000, "quantity": 3}]}"#,
    );
    let result = points_for_cart(program(), cart, json(r#"{"now": 1700000000}"#)).expect("points");
    // $30.00 = 3000 cents × 7.2 = 21600 fen = 216 points; the gift card earns nothing.
    assert_eq!(number(&result, "points"), 216.0);
    let big =
        json(r#"{"currency": "CNY", "lines": [{"productId": "tv", "unitPrice": 9000000, "quantity": 1}]}"#);
    let result = points_for_cart(program(), big, json(r#"{"now": 1700000000}"#)).expect("points");
    assert_eq!(number(&result, "points"), 5000.0);
    assert_eq!(get(&result, "capped").as_bool(), Some(true));
}

#[wasm_bindgen_test]
fn bad_cart_is_an_error_naming_the_field() {
    let cart =
        json(r#"{"currency": "USD", "lines": [{"productId": "cup", "unitPrice": 1000, "quantity": 0}]}"#);
    let error = thrown(points_for_cart(program(), cart, json(r#"{"now": 1700000000}"#)));
    assert_eq!(get(&error, "code").as_string().as_deref(), Some("invalid_input"));
    let message = get(&error, "message").as_string().expect("message");
    assert!(message.contains("cart.exchangeRate: is required"), "{message}");
    assert!(message.contains("cart.lines[0].quantity: must be between 1 and"), "{message}");
    let error = thrown(points_for_cart(program(), json("{}"), json(r#"{"now": 1700000000000}"#)));
    let message = get(&error, "message").as_string().expect("message");
    assert!(message.ends_with("cart.currency: is required; cart.lines: is required"), "{message}");
    // Missing arguments and values JSON cannot carry are errors too, never exceptions of another kind.
    let error = thrown(points_for_cart(program(), JsValue::UNDEFINED, json(r#"{"now": 1700000000}"#)));
    assert!(get(&error, "message").as_string().expect("message").ends_with("cart: is required"));
    let big = js_sys::eval("({ currency: 'CNY', lines: [], orderDiscount: 10n })").expect("eval");
    let error = thrown(points_for_cart(program(), big, json(r#"{"now": 1700000000}"#)));
    let message = get(&error, "message").as_string().expect("message");
    assert!(message.ends_with("cart: cannot be read as JSON (it holds a BigInt or a cycle)"), "{message}");
}

#[wasm_bindgen_test]
fn tier_progress_from_activity() {
    let activity =
        json(r#"{"events": [{"at": 1700000000, "source": "purchase", "spend": 40000, "orders": 1}]}"#);
    let progress = tier_progress(program(), activity, NOW).expect("progress");
    assert_eq!(get(&progress, "currentTierId").as_string().as_deref(), Some("member"));
    assert_eq!(get(&progress, "nextTierId").as_string().as_deref(), Some("gold"));
    assert_eq!(number(&progress, "remaining"), 60000.0);
    assert_eq!(number(&progress, "progress"), 0.4);
    let error = thrown(tier_progress(program(), json("{}"), 1.5));
    assert!(get(&error, "message").as_string().expect("message").contains("now: must be whole Unix seconds"));
}

#[wasm_bindgen_test]
fn rewards_overview_lists_what_the_balance_buys() {
    let overview = rewards_overview(program(), 120.0).expect("overview");
    assert_eq!(get(&overview, "next.rewardId").as_string().as_deref(), Some("ten-off"));
    assert_eq!(number(&overview, "next.missing"), 380.0);
    let overview = rewards_overview(program(), -5.0).expect("overview");
    assert_eq!(get(&overview, "blocked").as_bool(), Some(true));
}

#[wasm_bindgen_test]
fn errors_are_catchable_from_js() {
    // Call through JS, as a page would: the failure is a catchable exception with a code.
    let f = Function::new_with_args(
        "f, p",
        "try { f(p); return 'no error'; } catch (e) { return (e instanceof Error) + ':' + e.code; }",
    );
    let exported = Closure::wrap(Box::new(|p: JsValue| validate_program(p)) as Box<dyn Fn(JsValue) -> _>);
    let outcome = f.call2(&JsValue::NULL, exported.as_ref(), &JsValue::from(42)).expect("call");
    assert_eq!(outcome.as_string().as_deref(), Some("true:invalid_program"));
}

use wasm_bindgen::closure::Closure;

/// Every number from JS at and beyond its limits: NaN, infinities, negatives, fractions where integers
/// belong, values past 2^53 or past the field's range. Each is a `LoyaltyError` naming the field (`expected`
/// is part of its message), or, where a bound is a clamp, the clamped answer.
#[wasm_bindgen_test]
fn numbers_at_and_beyond_their_limits_are_refused_by_name() {
    let offer = |price: &str, quantity: &str| {
        js_sys::eval(&format!(
            "({{productId: 'tea', price: {price}, currency: 'CNY', quantity: {quantity}, categories: []}})"
        ))
        .expect("offer")
    };
    let context = || json(r#"{"now": 1767225600}"#);
    let message = |result: Result<JsValue, storefront_loyalty::WidgetError>| -> String {
        get(&thrown(result), "message").as_string().expect("message")
    };
    // Prices: minor units, whole, 0 to 10^15.
    for (price, expected) in [
        // JSON has no NaN or infinities: the browser's JSON.stringify writes them as null, which is "required".
        // (A message naming NaN measured 1 KB of wasm for a JS replacer closure: not worth its bytes.)
        ("NaN", "offer.price: is required"),
        ("Infinity", "offer.price: is required"),
        ("-1", "offer.price: must be between 0 and 1000000000000000, got -1"),
        ("12.5", "offer.price: must be a whole number"),
        ("1e16", "offer.price: must be between 0 and 1000000000000000"),
        ("2 ** 60", "offer.price: must be between 0 and 1000000000000000, got 1152921504606847000"),
        ("'100'", "offer.price: must be a number, got a string"),
        ("null", "offer.price: is required"),
    ] {
        let got = message(points_for_product(program(), offer(price, "1"), context()));
        assert!(got.contains(expected), "price {price}: {got}");
    }
    for (quantity, expected) in [
        ("0", "offer.quantity: must be between 1 and"),
        ("-3", "offer.quantity: must be between 1 and"),
        ("1.5", "offer.quantity: must be a whole number"),
        ("1e9", "offer.quantity: must be between 1 and"),
    ] {
        let got = message(points_for_product(program(), offer("100", quantity), context()));
        assert!(got.contains(expected), "quantity {quantity}: {got}");
    }
    // The largest price and quantity together earn an exact whole number of points, within the order cap.
    let most =
        points_for_product(program(), offer("1000000000000000", "1"), context()).expect("the largest price");
    assert_eq!(number(&most, "points"), 5000.0, "maxPointsPerOrder caps it");
    // Times and balances passed as plain numbers.
    for (now, expected) in [
        (f64::NAN, "now: must be whole Unix seconds, got NaN"),
        (1.5, "now: must be whole Unix seconds, got 1.5"),
        (f64::INFINITY, "now: must be whole Unix seconds, got Infinity"),
        (1e300, "now: must be whole Unix seconds, got 1e+300"),
    ] {
        let got = message(tier_progress(program(), json(r#"{"value": 0}"#), now));
        assert!(got.contains(expected), "now {now}: {got}");
    }
    for (available, expected) in [
        (f64::NAN, "available: must be a whole number of points, got NaN"),
        (0.5, "available: must be a whole number of points, got 0.5"),
        (-1e20, "available: must be a whole number of points, got -100000000000000000000"),
    ] {
        let got = message(rewards_overview(program(), available));
        assert!(got.contains(expected), "available {available}: {got}");
    }
    // A negative balance (after a refund) is a real state: nothing is affordable, no error.
    let overview = rewards_overview(program(), -200.0).expect("a negative balance");
    assert_eq!(Array::from(&get(&overview, "affordable")).length(), 0);
}
