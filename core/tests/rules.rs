//! Data-driven tests of the rules through the public API: each feature has one `check` helper and many
//! cases, from a base program that every case adjusts with a JSON patch.

use loyalty_core::*;
use serde_json::{json, Value};

const NOW: Timestamp = 1_767_225_600; // 2026-01-01T00:00:00Z
const DAY: i64 = 86_400;

fn base_program() -> Value {
    json!({
        "version": 1, "currency": "CNY", "locales": ["zh-CN", "en"],
        "name": {"zh-CN": "会员", "en": "Club"},
        "earn": {"rate": {"points": 1, "perAmount": 100}},
        "tiers": [
            {"id": "member", "name": {"zh-CN": "会员", "en": "Member"}, "threshold": 0},
            {"id": "silver", "name": {"zh-CN": "白银", "en": "Silver"}, "threshold": 100000, "earnMultiplierPercent": 125},
            {"id": "gold", "name": {"zh-CN": "黄金", "en": "Gold"}, "threshold": 500000, "earnMultiplierPercent": 150}
        ],
        "rewards": [
            {"id": "ten-off", "name": {"zh-CN": "立减10元", "en": "¥10 off"}, "kind": "amountOff", "cost": 500, "amountOff": 1000},
            {"id": "ship", "name": {"zh-CN": "免运费", "en": "Free shipping"}, "kind": "freeShipping", "cost": 800}
        ]
    })
}

/// Merges `patch` into `target` (RFC 7386 style: objects merge, everything else replaces).
fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(&k);
                } else {
                    merge(t.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p,
    }
}

fn program(patch: Value) -> Program {
    let mut value = base_program();
    merge(&mut value, patch);
    Program::from_json(&value.to_string()).unwrap_or_else(|p| panic!("test program invalid: {p}"))
}

fn names(text: (&str, &str)) -> Value {
    json!({"zh-CN": text.0, "en": text.1})
}

// ---------------------------------------------------------------------------------------------------------
// Validation

fn check_invalid(patch: Value, expected: &[&str]) {
    let mut value = base_program();
    merge(&mut value, patch);
    let problems = Program::from_json(&value.to_string()).expect_err("should be invalid");
    let got: Vec<String> = problems.0.iter().map(ToString::to_string).collect();
    assert_eq!(got, expected, "problems");
}

#[test]
fn valid_program_round_trips_with_defaults() {
    let p = program(json!({}));
    assert_eq!(p.earn.rounding, Rounding::Floor);
    assert_eq!(p.earn.rounding_scope, RoundingScope::Order);
    assert!(p.earn.basis.after_discounts && !p.earn.basis.include_tax && !p.earn.basis.include_shipping);
    assert_eq!(p.lifecycle.expiring_soon_days, 30);
    assert_eq!(p.tier_qualification.sources, vec![EarnSource::Purchase, EarnSource::Referral]);
    let again = Program::from_json(&serde_json::to_string(&p).expect("serializes")).expect("round trip");
    assert_eq!(again, p);
}

#[test]
fn every_problem_is_listed_with_its_path() {
    check_invalid(
        json!({"version": 2, "tiers": [
            {"id": "a", "name": names(("甲", "A")), "threshold": 0},
            {"id": "b", "name": names(("乙", "B")), "threshold": 500},
            {"id": "c", "name": names(("丙", "C")), "threshold": 500}
        ]}),
        &[
            "version: unsupported version 2 (this build reads 1)",
            "tiers[2].threshold: must be greater than tiers[1].threshold (500)",
        ],
    );
    check_invalid(
        json!({"locales": ["zh-CN", "en", "fr"]}),
        &[
            "name: missing the \"fr\" text",
            "tiers[0].name: missing the \"fr\" text",
            "tiers[1].name: missing the \"fr\" text",
            "tiers[2].name: missing the \"fr\" text",
            "rewards[0].name: missing the \"fr\" text",
            "rewards[1].name: missing the \"fr\" text",
        ],
    );
    check_invalid(
        json!({"name": {"zh-CN": null, "en": null, "de": "Klub"}}),
        &[
            "name: missing the \"zh-CN\" text",
            "name: missing the \"en\" text",
            "name.de: locale \"de\" is not in the program's locales",
        ],
    );
    check_invalid(
        json!({"locales": [], "name": {}, "tiers": [], "rewards": []}),
        &["locales: must list at least one locale, e.g. [\"zh-CN\", \"en\"]"],
    );
    check_invalid(
        json!({"locales": ["zh CN", "en", "en"]}),
        &[
            "locales[0]: must be a BCP 47 language tag such as \"zh-CN\", got \"zh CN\"",
            "locales[2]: duplicate locale \"en\"",
        ],
    );
}

#[test]
fn earn_rules_are_validated() {
    check_invalid(
        json!({"earn": {"rate": {"points": -1, "perAmount": 0}}}),
        &[
            "earn.rate.points: must be between 0 and 1000000, got -1",
            "earn.rate.perAmount: must be between 1 and 1000000000, got 0",
        ],
    );
    check_invalid(
        json!({"earn": {
            "bonuses": [
                {"id": "x", "name": names(("甲", "A")), "appliesTo": {}},
                {"id": "x", "name": names(("乙", "B")), "appliesTo": {"tags": ["t"]}, "multiplierPercent": 50}
            ],
            "campaigns": [{"id": "w", "name": names(("丙", "C")), "startsAt": 1767225600, "endsAt": 1767225600000i64, "multiplierPercent": 200}],
            "maxPointsPerOrder": 0,
            "minimumOrder": -5
        }}),
        &[
            "earn.bonuses[1].id: duplicate id \"x\" (also at index 0)",
            "earn.bonuses[0].appliesTo: must list at least one of productIds, categories, tags",
            "earn.bonuses[0]: must set multiplierPercent, extraPointsPerUnit or both",
            "earn.bonuses[1].multiplierPercent: must be between 100 and 10000, got 50",
            "earn.campaigns[0].endsAt: must be Unix seconds, got 1767225600000, which looks like milliseconds",
            "earn.maxPointsPerOrder: must be between 1 and 1000000000000000, got 0",
            "earn.minimumOrder: must be between 0 and 1000000000000000, got -5",
        ],
    );
    check_invalid(
        json!({"earn": {"campaigns": [{"id": "w", "name": names(("丙", "C")), "startsAt": 200, "endsAt": 100, "multiplierPercent": 200}]}}),
        &["earn.campaigns[0].endsAt: must be after startsAt (200)"],
    );
}

#[test]
fn lifecycle_tiers_and_rewards_are_validated() {
    check_invalid(
        json!({"lifecycle": {"pendingDays": 400, "expiry": {"mode": "afterEarning"}}}),
        &[
            "lifecycle.pendingDays: must be between 0 and 365, got 400",
            "lifecycle.expiry.months: must be between 1 and 120, got 0",
        ],
    );
    check_invalid(json!({"tierQualification": {"period": {"kind": "calendarYear"}}}), &[
        "tierQualification.period: calendarYear needs startsAt and endsAt: the current period in UTC seconds",
    ]);
    check_invalid(
        json!({"rewards": [
            {"id": "p", "name": names(("甲", "A")), "kind": "percentOff", "cost": 0, "amountOff": 100},
            {"id": "f", "name": names(("乙", "B")), "kind": "freeProduct", "cost": 10, "percentOff": 101}
        ]}),
        &[
            "rewards[0].cost: must be between 1 and 1000000000000000, got 0",
            "rewards[0].amountOff: does not apply to kind \"percentOff\"",
            "rewards[0].percentOff: is required for kind \"percentOff\"",
            "rewards[1].percentOff: does not apply to kind \"freeProduct\"",
            "rewards[1].productId: is required for kind \"freeProduct\"",
            "rewards[1].percentOff: must be between 1 and 100, got 101",
        ],
    );
    check_invalid(
        json!({"tiers": [{"id": "", "name": names(("甲", "A")), "threshold": -1, "earnMultiplierPercent": 99}]}),
        &[
            "tiers[0].id: must not be empty",
            "tiers[0].threshold: must be between 0 and 1000000000000000, got -1",
            "tiers[0].earnMultiplierPercent: must be between 100 and 10000, got 99",
        ],
    );
}

#[test]
fn malformed_documents_name_every_field() {
    let check = |json: &str, expected: &str| {
        let problems = Program::from_json(json).expect_err("invalid");
        assert_eq!(problems.to_string(), expected);
    };
    check("42", "must be an object, got a number");
    check(
        "{\"version\": 1}",
        "currency: is required; locales: is required; name: is required; earn: is required",
    );
    // Structural problems are all reported together, each at its path.
    check(
        r#"{"version": 1, "currency": "XYZ", "locales": ["en", 7], "name": {"en": "x"},
            "earn": {"rate": {"points": 1.5, "perAmount": "100"}, "rounding": "up", "multipler": 2},
            "tiers": [{"id": "a", "name": {"en": "A"}, "threshold": 99999999999999999999}]}"#,
        "currency: unsupported currency \"XYZ\"; locales[1]: must be a string, got a number; \
         earn.rate.points: must be a whole number, got 1.5; earn.rate.perAmount: must be a number, got a string; \
         earn.rounding: must be one of \"floor\", \"nearest\", \"ceil\", got \"up\"; \
         earn.multipler: unknown field, expected one of: rate, rounding, roundingScope, basis, bonuses, campaigns, \
         exclusions, maxPointsPerOrder, minimumOrder; \
         tiers[0].threshold: is out of range (whole numbers from -9223372036854775808 to \
         9223372036854775807), got 99999999999999999999",
    );
    check("not json", "invalid JSON: expected a JSON value at byte 0");
    check("{\"version\": 1,}", "invalid JSON: expected a member name in double quotes at byte 14");
    // Null means absent: optional members take their default, required ones are reported.
    check(
        r#"{"version": 1, "currency": null, "locales": ["en"], "name": {"en": "x"}, "earn": {"rate": {"points": 1, "perAmount": 100}, "bonuses": null}}"#,
        "currency: is required",
    );
}

#[test]
fn every_wire_type_round_trips_through_its_serde_names() {
    // Output uses serde's Serialize; input uses the wire decoders. The same names must come back.
    let program = program(json!({"earn": {
        "bonuses": [{"id": "b", "name": names(("奖", "B")), "appliesTo": {"tags": ["t"]}, "multiplierPercent": 200, "extraPointsPerUnit": 3}],
        "campaigns": [{"id": "c", "name": names(("活动", "C")), "startsAt": 1, "endsAt": 2, "multiplierPercent": 300, "appliesTo": {"categories": ["x"]}}],
        "exclusions": {"productIds": ["gift"]}, "maxPointsPerOrder": 10, "minimumOrder": 5,
        "rounding": "nearest", "roundingScope": "line", "basis": {"afterDiscounts": false, "includeTax": true, "includeShipping": true}},
        "lifecycle": {"pendingDays": 3, "expiry": {"mode": "afterInactivity", "months": 6}, "expiringSoonDays": 7},
        "tierQualification": {"metric": "pointsEarned", "period": {"kind": "calendarYear", "startsAt": 10, "endsAt": 20}, "sources": ["review"]},
        "rewards": [{"id": "p", "name": names(("折", "P")), "kind": "freeProduct", "cost": 9, "productId": "tea", "minimumOrder": 100}]
    }));
    let text = serde_json::to_string(&program).expect("serializes");
    assert_eq!(Program::from_json(&text).as_ref(), Ok(&program));

    fn round_trip<T: FromJson + serde::Serialize + PartialEq + std::fmt::Debug>(value: T) {
        let text = serde_json::to_string(&value).expect("serializes");
        assert_eq!(T::from_json_str(&text), Ok(value), "{text}");
    }
    let mut full_line = line("a", 100, 2);
    full_line.variant_id = Some("v".into());
    full_line.categories = vec!["c".into()];
    full_line.tags = vec!["t".into()];
    full_line.discount = 5;
    full_line.tax = 7;
    round_trip(Cart {
        currency: Currency::USD,
        exchange_rate: Some(ExchangeRate { numerator: 36, denominator: 5 }),
        lines: vec![full_line],
        order_discount: 3,
        shipping: 4,
    });
    round_trip(ProductOffer {
        product_id: "a".into(),
        variant_id: Some("v".into()),
        categories: vec!["c".into()],
        tags: vec![],
        price: 5,
        currency: Currency::JPY,
        exchange_rate: None,
        quantity: 3,
    });
    round_trip(EarnContext { now: NOW, tier_id: Some("gold".into()) });
    round_trip(TierActivity {
        events: vec![QualifyingEvent { at: 1, source: EarnSource::Signup, spend: -2, points: 3, orders: -1 }],
        retained_tier_id: Some("gold".into()),
    });
    round_trip(LedgerEntry {
        at: 1,
        kind: LedgerKind::Reverse,
        points: 3,
        source: EarnSource::Birthday,
        order_id: Some("o".into()),
    });
    let earned = points_for_cart(&program, &cny(vec![line("a", 10_000, 1)]), &ctx(Some("gold"))).expect("ok");
    round_trip(earned);
    round_trip(balance(&program, &[earn(NOW - DAY, 10, "o")], NOW).expect("ok"));
    round_trip(rewards_overview(&program, 3));
}

// ---------------------------------------------------------------------------------------------------------
// Earning

fn line(product: &str, price: i64, quantity: i64) -> CartLine {
    CartLine {
        product_id: product.into(),
        variant_id: None,
        categories: vec![],
        tags: vec![],
        unit_price: price,
        quantity,
        discount: 0,
        tax: 0,
    }
}

fn cny(lines: Vec<CartLine>) -> Cart {
    Cart { currency: Currency::CNY, exchange_rate: None, lines, order_discount: 0, shipping: 0 }
}

fn ctx(tier: Option<&str>) -> EarnContext {
    EarnContext { now: NOW, tier_id: tier.map(str::to_owned) }
}

/// Checks the total and the breakdown as `(kind, id, points)`.
fn check_cart(
    program: &Program,
    cart: &Cart,
    tier: Option<&str>,
    points: i64,
    parts: &[(EarnComponentKind, Option<&str>, i64)],
) {
    let result = points_for_cart(program, cart, &ctx(tier)).unwrap_or_else(|p| panic!("cart invalid: {p}"));
    let got: Vec<(EarnComponentKind, Option<&str>, i64)> =
        result.components.iter().map(|c| (c.kind, c.id.as_deref(), c.points)).collect();
    assert_eq!((result.points, got.as_slice()), (points, parts));
}

use EarnComponentKind::{Base, Bonus as B, Campaign as C, Cap, Tier as T};

#[test]
fn base_rate_and_rounding() {
    let p = program(json!({}));
    check_cart(&p, &cny(vec![line("a", 12_999, 1)]), None, 129, &[(Base, None, 129)]);
    check_cart(&p, &cny(vec![line("a", 99, 1)]), None, 0, &[]);
    // Per order: 0.99 + 0.99 = 1.98 -> 1; per line: 0 + 0.
    check_cart(&p, &cny(vec![line("a", 99, 1), line("b", 99, 1)]), None, 1, &[(Base, None, 1)]);
    let per_line = program(json!({"earn": {"roundingScope": "line"}}));
    check_cart(&per_line, &cny(vec![line("a", 99, 1), line("b", 99, 1)]), None, 0, &[]);
    let nearest = program(json!({"earn": {"rounding": "nearest"}}));
    check_cart(&nearest, &cny(vec![line("a", 150, 1)]), None, 2, &[(Base, None, 2)]);
    check_cart(&nearest, &cny(vec![line("a", 149, 1)]), None, 1, &[(Base, None, 1)]);
    let ceil = program(json!({"earn": {"rounding": "ceil"}}));
    check_cart(&ceil, &cny(vec![line("a", 101, 1)]), None, 2, &[(Base, None, 2)]);
    // 3 points per ¥2.
    let odd = program(json!({"earn": {"rate": {"points": 3, "perAmount": 200}}}));
    check_cart(&odd, &cny(vec![line("a", 1000, 3)]), None, 45, &[(Base, None, 45)]);
}

#[test]
fn multipliers_are_shares_of_base_points() {
    let p = program(json!({"earn": {
        "bonuses": [
            {"id": "tea", "name": names(("茶", "Tea")), "appliesTo": {"categories": ["tea"]}, "multiplierPercent": 200},
            {"id": "cup", "name": names(("杯", "Cup")), "appliesTo": {"productIds": ["cup"]}, "extraPointsPerUnit": 20},
            {"id": "new", "name": names(("新", "New")), "appliesTo": {"tags": ["new"]}, "multiplierPercent": 150, "extraPointsPerUnit": 5}
        ],
        "campaigns": [
            {"id": "weekend", "name": names(("周末", "Weekend")), "startsAt": NOW - DAY, "endsAt": NOW + DAY, "multiplierPercent": 200},
            {"id": "past", "name": names(("过去", "Past")), "startsAt": NOW - 10 * DAY, "endsAt": NOW, "multiplierPercent": 500},
            {"id": "tea-week", "name": names(("茶周", "Tea week")), "startsAt": NOW, "endsAt": NOW + 1, "multiplierPercent": 300,
             "appliesTo": {"categories": ["tea"]}}
        ]
    }}));
    let mut tea = line("longjing", 10_000, 1);
    tea.categories = vec!["tea".into()];
    tea.tags = vec!["new".into()];
    let cup = line("cup", 5_000, 2);
    check_cart(
        &p,
        &cny(vec![tea, cup]),
        Some("gold"),
        895,
        &[
            (Base, None, 200),
            (T, Some("gold"), 100),
            (B, Some("tea"), 100),
            (B, Some("cup"), 40),
            (B, Some("new"), 55),
            (C, Some("weekend"), 200),
            (C, Some("tea-week"), 200),
            // The "past" campaign ended at NOW (exclusive) and adds nothing.
        ],
    );
}

#[test]
fn exclusions_discounts_tax_and_shipping() {
    let p = program(json!({"earn": {"exclusions": {"tags": ["gift-card"], "productIds": ["deposit"]}}}));
    let mut gift = line("gift", 20_000, 1);
    gift.tags = vec!["gift-card".into()];
    check_cart(
        &p,
        &cny(vec![gift.clone(), line("deposit", 5_000, 1), line("a", 1_000, 1)]),
        None,
        10,
        &[(Base, None, 10)],
    );
    // Discounts reduce what earns: a line discount, and an order discount shared by amount (20000 : 8000,
    // so 714 of the 1000 fall on the gift card, which earns nothing anyway, and 286 on the rest).
    let mut cart = cny(vec![gift, line("a", 10_000, 1)]);
    cart.lines[1].discount = 2_000;
    cart.order_discount = 1_000;
    check_cart(&p, &cart, None, 77, &[(Base, None, 77)]);
    // Tax and shipping earn only when the program says so.
    let mut taxed = cny(vec![line("a", 10_000, 1)]);
    taxed.lines[0].tax = 1_300;
    taxed.shipping = 1_000;
    check_cart(&p, &taxed, None, 100, &[(Base, None, 100)]);
    let all = program(
        json!({"earn": {"basis": {"includeTax": true, "includeShipping": true, "afterDiscounts": false}}}),
    );
    taxed.lines[0].discount = 5_000;
    check_cart(&all, &taxed, None, 123, &[(Base, None, 123)]);
}

#[test]
fn cap_and_minimum_order() {
    let p = program(json!({"earn": {"maxPointsPerOrder": 300, "minimumOrder": 5_000}}));
    check_cart(
        &p,
        &cny(vec![line("a", 100_000, 1)]),
        Some("gold"),
        300,
        &[(Base, None, 1000), (T, Some("gold"), 500), (Cap, None, -1200)],
    );
    let below = points_for_cart(&p, &cny(vec![line("a", 4_999, 1)]), &ctx(None)).expect("ok");
    assert_eq!((below.points, below.minimum_order_met, below.minimum_order), (0, false, Some(5_000)));
    check_cart(&p, &cny(vec![line("a", 5_000, 1)]), None, 50, &[(Base, None, 50)]);
    // On a product page the points stay, with the minimum as a condition.
    let offer = ProductOffer {
        product_id: "a".into(),
        variant_id: None,
        categories: vec![],
        tags: vec![],
        price: 4_999,
        currency: Currency::CNY,
        exchange_rate: None,
        quantity: 1,
    };
    let shown = points_for_product(&p, &offer, &ctx(None)).expect("ok");
    assert_eq!((shown.points, shown.minimum_order_met), (49, false));
    let two = points_for_product(&p, &ProductOffer { quantity: 2, ..offer }, &ctx(None)).expect("ok");
    assert_eq!((two.points, two.minimum_order_met), (99, true));
}

#[test]
fn other_currencies_convert_before_counting() {
    let p = program(json!({}));
    // $10.00 at 7.2 fen per cent = ¥72.00 = 72 points, never 10 "points per dollar" and never 1000.
    let usd = Cart {
        currency: Currency::USD,
        exchange_rate: Some(ExchangeRate { numerator: 36, denominator: 5 }),
        lines: vec![line("a", 1_000, 1)],
        order_discount: 0,
        shipping: 0,
    };
    check_cart(&p, &usd, None, 72, &[(Base, None, 72)]);
    // ¥1,000 (JPY, no minor unit) at 0.048 fen per yen = ¥48.00.
    let jpy = Cart {
        currency: Currency::JPY,
        exchange_rate: Some(ExchangeRate { numerator: 6, denominator: 125 }),
        ..usd.clone()
    };
    let jpy = Cart { lines: vec![line("a", 100_000, 1)], ..jpy };
    check_cart(&p, &jpy, None, 48, &[(Base, None, 48)]);
    let missing = points_for_cart(&p, &Cart { exchange_rate: None, ..usd.clone() }, &ctx(None))
        .expect_err("rate required");
    assert_eq!(
        missing.to_string(),
        "exchangeRate: is required when the currency (USD) is not the program's (CNY)"
    );
    let same = Cart { currency: Currency::CNY, ..usd };
    assert_eq!(
        points_for_cart(&p, &same, &ctx(None)).expect_err("rate not allowed").to_string(),
        "exchangeRate: must be absent when the currency is the program's (CNY)"
    );
}

#[test]
fn qualifying_spend_is_merchandise_after_discounts_in_base_currency() {
    let mut cart = cny(vec![line("a", 10_000, 2), line("b", 5_000, 1)]);
    cart.lines[0].discount = 1_000;
    cart.lines[0].tax = 2_600;
    cart.order_discount = 500;
    cart.shipping = 1_200;
    assert_eq!(qualifying_spend(&cart), 23_500);
    let usd = Cart {
        currency: Currency::USD,
        exchange_rate: Some(ExchangeRate { numerator: 36, denominator: 5 }),
        ..cart
    };
    assert_eq!(qualifying_spend(&usd), 169_200);
}

#[test]
fn bad_carts_list_every_problem() {
    let p = program(json!({}));
    let mut cart = cny(vec![line("", 100, 0), line("b", -1, 1), line("c", 100, 2)]);
    cart.lines[2].discount = 300;
    cart.order_discount = -1;
    let context = EarnContext { now: 1_767_225_600_000, tier_id: Some("platinum".into()) };
    let problems = points_for_cart(&p, &cart, &context).expect_err("invalid");
    let got: Vec<String> = problems.0.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "lines[0].productId: must not be empty",
            "lines[0].quantity: must be between 1 and 1000000, got 0",
            "lines[1].unitPrice: must be between 0 and 1000000000000000, got -1",
            "lines[2].discount: must be between 0 and the line total (200), got 300",
            "orderDiscount: must be between 0 and the subtotal after line discounts (0), got -1",
            "now: must be Unix seconds, got 1767225600000, which looks like milliseconds",
            "tierId: unknown tier \"platinum\"",
        ]
    );
    let offer = ProductOffer {
        product_id: "a".into(),
        variant_id: None,
        categories: vec![],
        tags: vec![],
        price: i64::MAX,
        currency: Currency::CNY,
        exchange_rate: None,
        quantity: 2,
    };
    let problems = points_for_product(&p, &offer, &ctx(None)).expect_err("too large");
    assert_eq!(problems.to_string(), "price: must be between 0 and 1000000000000000, got 9223372036854775807; price: unitPrice × quantity must be at most 1000000000000000");
}

// ---------------------------------------------------------------------------------------------------------
// Tiers

fn purchase(at: Timestamp, spend: i64) -> QualifyingEvent {
    QualifyingEvent { at, source: EarnSource::Purchase, spend, points: spend / 100, orders: 1 }
}

fn check_tier(
    program: &Program,
    activity: TierActivity,
    current: Option<&str>,
    next: Option<&str>,
    remaining: i64,
    progress: f64,
    keep: Option<(i64, Timestamp)>,
) {
    let got = tier_progress(program, &activity, NOW).unwrap_or_else(|p| panic!("invalid: {p}"));
    assert_eq!(
        (
            got.current_tier_id.as_deref(),
            got.next_tier_id.as_deref(),
            got.remaining,
            got.progress,
            got.keep.map(|k| (k.needed, k.by))
        ),
        (current, next, remaining, progress, keep)
    );
}

#[test]
fn lifetime_spend_tiers() {
    let p = program(json!({}));
    let events = |spends: &[i64]| TierActivity {
        events: spends.iter().map(|s| purchase(NOW - DAY, *s)).collect(),
        retained_tier_id: None,
    };
    check_tier(&p, events(&[]), Some("member"), Some("silver"), 100_000, 0.0, None);
    check_tier(&p, events(&[40_000]), Some("member"), Some("silver"), 60_000, 0.4, None);
    check_tier(&p, events(&[60_000, 40_000]), Some("silver"), Some("gold"), 400_000, 0.0, None);
    check_tier(&p, events(&[300_000]), Some("silver"), Some("gold"), 200_000, 0.5, None);
    check_tier(&p, events(&[900_000]), Some("gold"), None, 0, 1.0, None);
    // A refund lowers the standing.
    check_tier(&p, events(&[120_000, -30_000]), Some("member"), Some("silver"), 10_000, 0.9, None);
    // Events after `now` do not count yet.
    let future = TierActivity { events: vec![purchase(NOW + 1, 900_000)], retained_tier_id: None };
    check_tier(&p, future, Some("member"), Some("silver"), 100_000, 0.0, None);
}

#[test]
fn no_tier_below_the_first_threshold() {
    let p = program(json!({"tiers": [{"id": "vip", "name": names(("贵宾", "VIP")), "threshold": 1_000}]}));
    let activity = TierActivity { events: vec![purchase(NOW - DAY, 250)], retained_tier_id: None };
    check_tier(&p, activity, None, Some("vip"), 750, 0.25, None);
    let none = program(json!({"tiers": []}));
    check_tier(&none, TierActivity::default(), None, None, 0, 1.0, None);
}

#[test]
fn points_and_order_metrics_count_only_qualifying_sources() {
    let p = program(json!({"tierQualification": {"metric": "pointsEarned"},
        "tiers": [{"id": "member", "name": names(("会员", "Member")), "threshold": 0},
                  {"id": "vip", "name": names(("贵宾", "VIP")), "threshold": 1_000}]}));
    let birthday =
        QualifyingEvent { at: NOW - DAY, source: EarnSource::Birthday, spend: 0, points: 5_000, orders: 0 };
    let referral =
        QualifyingEvent { at: NOW - DAY, source: EarnSource::Referral, spend: 0, points: 200, orders: 0 };
    let activity = TierActivity {
        events: vec![birthday, referral, purchase(NOW - DAY, 30_000)],
        retained_tier_id: None,
    };
    check_tier(&p, activity.clone(), Some("member"), Some("vip"), 500, 0.5, None);
    let orders = program(json!({"tierQualification": {"metric": "orders"},
        "tiers": [{"id": "regular", "name": names(("常客", "Regular")), "threshold": 3}]}));
    check_tier(&orders, activity, None, Some("regular"), 2, 1.0 / 3.0, None);
}

#[test]
fn calendar_year_tiers_say_what_keeps_them() {
    let end = NOW + 30 * DAY;
    let p = program(
        json!({"tierQualification": {"period": {"kind": "calendarYear", "startsAt": NOW - 335 * DAY, "endsAt": end}}}),
    );
    let last_year = purchase(NOW - 400 * DAY, 900_000);
    let this_year = purchase(NOW - 10 * DAY, 120_000);
    check_tier(
        &p,
        TierActivity { events: vec![last_year.clone(), this_year.clone()], retained_tier_id: None },
        Some("silver"),
        Some("gold"),
        380_000,
        0.05,
        Some((0, end)),
    );
    // Gold retained from last year: 380,000 more by the year's end keeps it.
    let retained = TierActivity { events: vec![last_year, this_year], retained_tier_id: Some("gold".into()) };
    check_tier(&p, retained, Some("gold"), None, 0, 1.0, Some((380_000, end)));
    let progress = tier_progress(&p, &TierActivity::default(), NOW).expect("ok");
    assert_eq!(progress.period_ends_at, Some(end));
}

#[test]
fn a_tier_reached_last_year_is_kept_this_year() {
    let start = NOW - 30 * DAY;
    let p = program(
        json!({"tierQualification": {"period": {"kind": "calendarYear", "startsAt": start, "endsAt": time::add_months(start, 12)}}}),
    );
    let last_year = vec![purchase(start - 100 * DAY, 600_000), purchase(NOW - DAY, 10_000)];
    assert_eq!(retained_tier(&p, &last_year).as_deref(), Some("gold"));
    assert_eq!(
        retained_tier(&p, &[purchase(start - 400 * DAY, 900_000)]),
        None,
        "two years ago does not count"
    );
    assert_eq!(retained_tier(&p, &[purchase(start - DAY, 50_000)]), None, "the base tier needs no keeping");
    let lifetime = program(json!({}));
    assert_eq!(retained_tier(&lifetime, &last_year), None);
}

#[test]
fn rolling_tiers_warn_before_activity_ages_out() {
    let p = program(json!({"tierQualification": {"period": {"kind": "rollingMonths", "months": 12}}}));
    let old = NOW - 300 * DAY;
    let activity = TierActivity {
        events: vec![
            purchase(old, 80_000),
            purchase(NOW - 10 * DAY, 50_000),
            purchase(NOW - 400 * DAY, 999_999),
        ],
        retained_tier_id: None,
    };
    // 130,000 in the window: Silver. When the 80,000 leaves (12 months after it), 50,000 remain: 50,000 short.
    let by = time::add_months(old, 12);
    check_tier(&p, activity, Some("silver"), Some("gold"), 370_000, 0.075, Some((50_000, by)));
}

#[test]
fn unknown_retained_tier_is_an_error() {
    let p = program(json!({}));
    let err = tier_progress(&p, &TierActivity { events: vec![], retained_tier_id: Some("x".into()) }, NOW)
        .expect_err("bad");
    assert_eq!(err.to_string(), "retainedTierId: unknown tier \"x\"");
}

// ---------------------------------------------------------------------------------------------------------
// Balance, pending and expiry

fn earn(at: Timestamp, points: i64, order: &str) -> LedgerEntry {
    LedgerEntry {
        at,
        kind: LedgerKind::Earn,
        points,
        source: EarnSource::Purchase,
        order_id: Some(order.into()),
    }
}

fn entry(at: Timestamp, kind: LedgerKind, points: i64) -> LedgerEntry {
    LedgerEntry { at, kind, points, source: EarnSource::Adjustment, order_id: None }
}

fn check_balance(
    program: &Program,
    ledger: &[LedgerEntry],
    now: Timestamp,
    available: i64,
    pending: &[(i64, Timestamp)],
    expiring: &[(i64, Timestamp)],
    expired: i64,
) {
    let got = balance(program, ledger, now).unwrap_or_else(|p| panic!("invalid: {p}"));
    let pairs = |v: &[DatedPoints]| v.iter().map(|d| (d.points, d.at)).collect::<Vec<_>>();
    assert_eq!(
        (got.available, pairs(&got.pending), pairs(&got.expiring), got.expired),
        (available, pending.to_vec(), expiring.to_vec(), expired)
    );
}

#[test]
fn purchase_points_wait_out_the_return_window() {
    let p = program(json!({"lifecycle": {"pendingDays": 14}}));
    let ledger = [earn(NOW - 20 * DAY, 100, "o1"), earn(NOW - 5 * DAY, 50, "o2"), earn(NOW - DAY, 30, "o3")];
    check_balance(&p, &ledger, NOW, 100, &[(50, NOW + 9 * DAY), (30, NOW + 13 * DAY)], &[], 0);
    // A birthday gift is available at once.
    let gift = LedgerEntry {
        at: NOW - DAY,
        kind: LedgerKind::Earn,
        points: 200,
        source: EarnSource::Birthday,
        order_id: None,
    };
    check_balance(&p, &[gift], NOW, 200, &[], &[], 0);
    // A referral's reward hangs on the friend's order: it waits out the referral return window (the terms'
    // default 30 days here, longer than pendingDays), and its reversal takes it back whole.
    let referral = |kind, at| LedgerEntry {
        at,
        kind,
        points: 500,
        source: EarnSource::Referral,
        order_id: Some("referral-1".into()),
    };
    check_balance(&p, &[referral(LedgerKind::Earn, NOW - DAY)], NOW, 0, &[(500, NOW + 29 * DAY + 1)], &[], 0);
    let reversed = [referral(LedgerKind::Earn, NOW - DAY), referral(LedgerKind::Reverse, NOW)];
    check_balance(&p, &reversed, NOW, 0, &[], &[], 0);
}

#[test]
fn points_expire_after_earning_and_soonest_are_spent_first() {
    let p = program(
        json!({"lifecycle": {"expiry": {"mode": "afterEarning", "months": 12}, "expiringSoonDays": 30}}),
    );
    let first = NOW - 350 * DAY;
    let ledger = [
        earn(first - 30 * DAY, 40, "o0"),
        earn(first, 100, "o1"),
        earn(NOW - 10 * DAY, 70, "o2"),
        entry(NOW - 5 * DAY, LedgerKind::Redeem, 60),
    ];
    // The 40 from o0 expired before the redemption; the redemption took 60 of o1's 100 (soonest to expire).
    let expires = time::add_months(first, 12);
    check_balance(&p, &ledger, NOW, 110, &[], &[(40, expires)], 40);
    check_balance(&p, &ledger, expires, 70, &[], &[], 80);
}

#[test]
fn inactivity_expiry_resets_with_each_purchase() {
    let p = program(
        json!({"lifecycle": {"expiry": {"mode": "afterInactivity", "months": 6}, "expiringSoonDays": 60}}),
    );
    let ledger = [earn(NOW - 400 * DAY, 500, "o1"), earn(NOW - 150 * DAY, 100, "o2")];
    // o1's points expired 6 months after o1 (no purchase in between); o2's expire 6 months after o2.
    let deadline = time::add_months(NOW - 150 * DAY, 6);
    check_balance(&p, &ledger, NOW, 100, &[], &[(100, deadline)], 500);
    let kept =
        [earn(NOW - 400 * DAY, 500, "o1"), earn(NOW - 300 * DAY, 1, "o0"), earn(NOW - 150 * DAY, 100, "o2")];
    check_balance(&p, &kept, NOW, 601, &[], &[(601, deadline)], 0);
}

#[test]
fn refunds_after_spending_leave_a_debt_that_blocks_redemption() {
    let p = program(json!({}));
    let ledger = [
        earn(NOW - 30 * DAY, 500, "o1"),
        entry(NOW - 20 * DAY, LedgerKind::Redeem, 500),
        LedgerEntry {
            at: NOW - 10 * DAY,
            kind: LedgerKind::Reverse,
            points: 300,
            source: EarnSource::Purchase,
            order_id: Some("o1".into()),
        },
    ];
    check_balance(&p, &ledger, NOW, -300, &[], &[], 0);
    let overview = rewards_overview(&p, -300);
    assert!(overview.blocked && overview.affordable.is_empty());
    assert_eq!(check_redemption(&p, "ten-off", -300), Err(RedeemError::NegativeBalance));
    // The next earning pays the debt first.
    let mut later = ledger.to_vec();
    later.push(earn(NOW - DAY, 450, "o2"));
    check_balance(&p, &later, NOW, 150, &[], &[], 0);
}

#[test]
fn reversals_take_the_orders_pending_points_first() {
    let p = program(json!({"lifecycle": {"pendingDays": 30}}));
    let ledger = [
        earn(NOW - 60 * DAY, 100, "o1"),
        earn(NOW - 5 * DAY, 80, "o2"),
        LedgerEntry {
            at: NOW - DAY,
            kind: LedgerKind::Reverse,
            points: 30,
            source: EarnSource::Purchase,
            order_id: Some("o2".into()),
        },
    ];
    check_balance(&p, &ledger, NOW, 100, &[(50, NOW + 25 * DAY)], &[], 0);
}

#[test]
fn bad_ledgers_name_the_entry() {
    let p = program(json!({}));
    let err = balance(&p, &[entry(NOW, LedgerKind::Redeem, -5), entry(-1, LedgerKind::Adjust, 5)], NOW)
        .expect_err("bad");
    assert_eq!(err.to_string(), "ledger[0].points: out of range for this kind of entry: -5; ledger[1].at: must be Unix seconds after 1970, got -1");
}

// ---------------------------------------------------------------------------------------------------------
// Rewards

#[test]
fn rewards_the_balance_can_buy() {
    let p = program(json!({}));
    let check = |available: i64, affordable: &[&str], next: Option<(&str, i64)>| {
        let o = rewards_overview(&p, available);
        assert_eq!(
            (
                o.affordable.iter().map(String::as_str).collect::<Vec<_>>(),
                o.next.as_ref().map(|n| (n.reward_id.as_str(), n.missing))
            ),
            (affordable.to_vec(), next),
            "available {available}"
        );
    };
    check(0, &[], Some(("ten-off", 500)));
    check(499, &[], Some(("ten-off", 1)));
    check(500, &["ten-off"], Some(("ship", 300)));
    check(5_000, &["ten-off", "ship"], None);
    assert_eq!(check_redemption(&p, "ship", 799), Err(RedeemError::NotEnoughPoints { missing: 1 }));
    assert_eq!(check_redemption(&p, "nope", 799), Err(RedeemError::UnknownReward("nope".into())));
    assert_eq!(check_redemption(&p, "ship", 800).map(|r| r.cost), Ok(800));
}

#[test]
fn serde_reads_through_the_same_decoders() {
    // serde_json (and so axum's Json extractor) decodes with the same rules and messages.
    let cart: Cart = serde_json::from_str(
        r#"{"currency": "CNY", "lines": [{"productId": "a", "unitPrice": 5, "quantity": 2}]}"#,
    )
    .expect("decodes");
    assert_eq!(cart.lines[0].quantity, 2);
    let err = serde_json::from_str::<Cart>(
        r#"{"currency": "CNY", "lines": [{"productId": "a", "unitPrice": 1.5}]}"#,
    )
    .expect_err("invalid");
    assert_eq!(
        err.to_string(),
        "lines[0].unitPrice: must be a whole number, got 1.5; lines[0].quantity: is required"
    );
    let program: Program = serde_json::from_value(base_program()).expect("valid program");
    assert_eq!(program.tiers.len(), 3);
    let mut invalid = base_program();
    merge(&mut invalid, json!({"tiers": [{"id": "a", "name": names(("甲", "A")), "threshold": -1}]}));
    let err = serde_json::from_value::<Program>(invalid).expect_err("invalid");
    assert_eq!(err.to_string(), "tiers[0].threshold: must be between 0 and 1000000000000000, got -1");
    assert_eq!(serde_json::from_str::<Rounding>("\"ceil\"").expect("decodes"), Rounding::Ceil);
    assert!(serde_json::from_str::<Currency>("\"cny\"").is_err());
}

#[test]
fn decimal_prices_become_exact_minor_units() {
    let check = |currency: Currency, text: &str, expected: Result<i64, &str>| {
        let got = currency.parse_decimal(text);
        match expected {
            Ok(minor) => assert_eq!(got, Ok(minor), "{text}"),
            Err(part) => {
                let message = got.expect_err(text);
                assert!(message.contains(part), "{text}: {message}");
            }
        }
    };
    check(Currency::CNY, "12.50", Ok(1250));
    check(Currency::CNY, "12.5", Ok(1250));
    check(Currency::CNY, "1299", Ok(129_900));
    check(Currency::CNY, " 0.05 ", Ok(5));
    check(Currency::CNY, "0", Ok(0));
    check(Currency::CNY, "12.500", Ok(1250));
    check(Currency::JPY, "1500", Ok(1500));
    check(Currency::JPY, "1500.0", Ok(1500));
    check(Currency::JPY, "1500.5", Err("more than 0 decimals for JPY"));
    check(Currency::CNY, "12.345", Err("more than 2 decimals"));
    check(Currency::CNY, "-1", Err("decimal amount"));
    check(Currency::CNY, "1e3", Err("decimal amount"));
    check(Currency::CNY, "12.", Err("decimal amount"));
    check(Currency::CNY, ".5", Err("decimal amount"));
    check(Currency::CNY, "1,299.00", Err("decimal amount"));
    check(Currency::CNY, "", Err("decimal amount"));
    check(Currency::CNY, "99999999999999999999", Err("too large"));
}

/// `birthday_award(program with a gift of 200 points known 30 days ahead, birthday, known_since, last, now)`.
fn check_birthday(birthday: &str, known_since: &str, last: Option<&str>, now: &str, expected: Option<&str>) {
    let at = |text: &str| -> Timestamp {
        // "YYYY-MM-DDTHH" in UTC, the hours optional.
        let (date, hour) = text.split_once('T').unwrap_or((text, "0"));
        let (year, day) = date.split_at(4);
        let year: i64 = year.parse().expect("year");
        let day = MonthDay::parse(&day[1..]).expect("month and day");
        day.in_year(year) + hour.parse::<i64>().expect("hour") * 3600
    };
    let program = program(json!({"birthday": {"points": 200}}));
    let birthday = MonthDay::parse(birthday).expect("birthday");
    let award = birthday_award(&program, birthday, at(known_since), last.map(at), at(now));
    let expected = expected.map(|day| BirthdayAward { at: at(day), points: 200 });
    assert_eq!(award, expected, "birthday {birthday}, known since {known_since}, last {last:?}, now {now}");
}

#[test]
fn birthday_gifts_come_once_a_year_on_the_day() {
    // On the day, from its first second, and any time later that year.
    check_birthday("08-31", "2025-01-01", None, "2025-08-31", Some("2025-08-31"));
    check_birthday("08-31", "2025-01-01", None, "2025-12-31T23", Some("2025-08-31"));
    // Not before it.
    check_birthday("08-31", "2025-01-01", None, "2025-08-30T23", None);
    // Once: this year's was given; last year's does not count.
    check_birthday("08-31", "2024-01-01", Some("2025-08-31"), "2025-09-01", None);
    check_birthday("08-31", "2024-01-01", Some("2024-08-31"), "2025-08-31", Some("2025-08-31"));
    // A date typed in fewer than 30 days ahead waits a year; 30 days is enough.
    check_birthday("08-31", "2025-08-31", None, "2025-08-31T12", None);
    check_birthday("08-31", "2025-08-02", None, "2025-08-31", None);
    check_birthday("08-31", "2025-08-01", None, "2025-08-31", Some("2025-08-31"));
    check_birthday("08-31", "2025-08-31", None, "2026-08-31", Some("2026-08-31"));
    // 29 February falls on the 28th in a common year.
    check_birthday("02-29", "2020-01-01", Some("2024-02-29"), "2025-02-28", Some("2025-02-28"));
    check_birthday("02-29", "2020-01-01", Some("2024-02-29"), "2025-02-27T23", None);
    // A gift not seen on the day is still given until the next birthday, but never twice.
    check_birthday("12-31", "2020-01-01", Some("2024-12-31"), "2026-01-02", Some("2025-12-31"));
    check_birthday("12-31", "2020-01-01", Some("2025-12-31"), "2026-12-30T23", None);
    // New Year's Day after a 31 December award: a new year.
    check_birthday("01-01", "2020-01-01", Some("2025-01-01"), "2026-01-01", Some("2026-01-01"));
}

#[test]
fn no_birthday_gift_without_one_in_the_program() {
    let program = program(json!({}));
    let birthday = MonthDay::parse("01-01").expect("birthday");
    assert_eq!(birthday_award(&program, birthday, 0, None, 1_800_000_000), None);
    check_invalid(
        json!({"birthday": {"points": 0, "minDaysKnown": 400}}),
        &[
            "birthday.points: must be between 1 and 1000000, got 0",
            "birthday.minDaysKnown: must be between 0 and 366, got 400",
        ],
    );
}

#[test]
fn a_ledger_whose_total_passes_the_largest_point_count_saturates_instead_of_overflowing() {
    // Each entry is within range (at most MAX_AMOUNT points), but 10,000 of them pass i64: the sums wrapped
    // (or panicked in a debug build) where they now stop at i64::MAX.
    let p = program(json!({}));
    let ledger: Vec<LedgerEntry> =
        (0..10_000).map(|i| earn(NOW - 1_000 * DAY + i, MAX_AMOUNT, &format!("o{i}"))).collect();
    let b = balance(&p, &ledger, NOW).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((b.available, b.lifetime_earned), (i64::MAX, i64::MAX));
    // The same held back as pending.
    let pending = program(json!({"lifecycle": {"pendingDays": 1}}));
    let ledger: Vec<LedgerEntry> = (0..10_000).map(|i| earn(NOW, MAX_AMOUNT, &format!("o{i}"))).collect();
    let b = balance(&pending, &ledger, NOW).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((b.available, b.pending), (0, vec![DatedPoints { points: i64::MAX, at: NOW + DAY }]));
}
