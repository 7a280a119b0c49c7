//! Property tests of the invariants the rules promise: the breakdown sums to the total, points never fall
//! when a price rises, the cap is never exceeded, tier progress stays in [0, 1], refunds take back exactly
//! what was awarded, balances conserve points, and validation never panics on any JSON at all.

use loyalty_core::*;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const NOW: Timestamp = 1_767_225_600;
const DAY: i64 = 86_400;

fn text(s: &str) -> LocalizedText {
    BTreeMap::from([("en".to_owned(), s.to_owned()), ("zh-CN".to_owned(), s.to_owned())])
}

fn arb_match() -> impl Strategy<Value = ProductMatch> {
    (
        prop::sample::subsequence(vec!["p1", "p2", "p3"], 0..=2),
        prop::sample::subsequence(vec!["tea", "cups"], 0..=2),
        prop::sample::subsequence(vec!["new", "sale"], 0..=2),
    )
        .prop_filter("a match lists something", |(p, c, t)| !(p.is_empty() && c.is_empty() && t.is_empty()))
        .prop_map(|(p, c, t)| ProductMatch {
            product_ids: p.into_iter().map(str::to_owned).collect(),
            categories: c.into_iter().map(str::to_owned).collect(),
            tags: t.into_iter().map(str::to_owned).collect(),
        })
}

fn arb_bonus(i: usize) -> impl Strategy<Value = Bonus> {
    (arb_match(), prop::option::of(100u32..=500), prop::option::of(0i64..=50))
        .prop_filter("a bonus gives something", |(_, m, e)| m.is_some() || e.is_some())
        .prop_map(move |(applies_to, multiplier_percent, extra_points_per_unit)| Bonus {
            id: format!("bonus-{i}"),
            name: text("bonus"),
            applies_to,
            multiplier_percent,
            extra_points_per_unit,
        })
}

fn arb_campaign(i: usize) -> impl Strategy<Value = Campaign> {
    (-3i64..=3, 1i64..=5, 100u32..=400, prop::option::of(arb_match())).prop_map(
        move |(start, len, m, scope)| Campaign {
            id: format!("campaign-{i}"),
            name: text("campaign"),
            starts_at: NOW + start * DAY,
            ends_at: NOW + (start + len) * DAY,
            multiplier_percent: m,
            applies_to: scope,
        },
    )
}

fn arb_tiers() -> impl Strategy<Value = Vec<Tier>> {
    prop::collection::vec((1i64..=200_000, 100u32..=300), 0..=4).prop_map(|steps| {
        let mut threshold = 0;
        steps
            .into_iter()
            .enumerate()
            .map(|(i, (step, multiplier))| {
                let tier = Tier {
                    id: format!("tier-{i}"),
                    name: text("tier"),
                    threshold,
                    earn_multiplier_percent: multiplier,
                    benefits: vec![],
                };
                threshold += step;
                tier
            })
            .collect()
    })
}

prop_compose! {
    fn arb_program()(
        points in 0i64..=10, per_amount in 1i64..=1_000,
        rounding in prop::sample::select(vec![Rounding::Floor, Rounding::Nearest, Rounding::Ceil]),
        per_line in any::<bool>(),
        basis in (any::<bool>(), any::<bool>(), any::<bool>()),
        bonuses in (0usize..=3).prop_flat_map(|n| (0..n).map(arb_bonus).collect::<Vec<_>>()),
        campaigns in (0usize..=2).prop_flat_map(|n| (0..n).map(arb_campaign).collect::<Vec<_>>()),
        exclusions in prop::option::of(arb_match()),
        cap in prop::option::of(1i64..=5_000),
        minimum in prop::option::of(0i64..=20_000),
        tiers in arb_tiers(),
        metric in prop::sample::select(vec![TierMetric::Spend, TierMetric::PointsEarned, TierMetric::Orders]),
        period in prop::sample::select(vec![0u8, 1, 2]),
    ) -> Program {
        let period = match period {
            0 => TierPeriod::default(),
            1 => TierPeriod { kind: TierPeriodKind::RollingMonths, months: 12, starts_at: None, ends_at: None },
            _ => TierPeriod { kind: TierPeriodKind::CalendarYear, months: 0, starts_at: Some(NOW - 200 * DAY), ends_at: Some(NOW + 165 * DAY) },
        };
        ProgramConfig {
            version: 1,
            currency: Currency::CNY,
            locales: vec!["zh-CN".into(), "en".into()],
            name: text("club"),
            earn: EarnRules {
                rate: EarnRate { points, per_amount },
                rounding,
                rounding_scope: if per_line { RoundingScope::Line } else { RoundingScope::Order },
                basis: EarnBasis { after_discounts: basis.0, include_tax: basis.1, include_shipping: basis.2 },
                bonuses,
                campaigns,
                exclusions: exclusions.unwrap_or_default(),
                max_points_per_order: cap,
                minimum_order: minimum,
            },
            lifecycle: PointsLifecycle::default(),
            tier_qualification: TierQualification { metric, period, ..TierQualification::default() },
            tiers,
            rewards: vec![],
            birthday: None,
            referral: None,
        }
        .validate()
        .expect("generated programs are valid")
    }
}

fn arb_line() -> impl Strategy<Value = CartLine> {
    (
        prop::sample::select(vec!["p1", "p2", "p3", "p4"]),
        prop::sample::subsequence(vec!["tea", "cups"], 0..=2),
        prop::sample::subsequence(vec!["new", "sale"], 0..=2),
        0i64..=1_000_000,
        1i64..=20,
        0u32..=100,
        0i64..=10_000,
    )
        .prop_map(|(id, categories, tags, unit_price, quantity, discount_percent, tax)| CartLine {
            product_id: id.to_owned(),
            variant_id: None,
            categories: categories.into_iter().map(str::to_owned).collect(),
            tags: tags.into_iter().map(str::to_owned).collect(),
            unit_price,
            quantity,
            discount: unit_price * quantity * i64::from(discount_percent) / 100,
            tax,
        })
}

fn arb_cart() -> impl Strategy<Value = Cart> {
    (prop::collection::vec(arb_line(), 1..=5), 0u32..=100, 0i64..=5_000).prop_map(|(lines, pct, shipping)| {
        let subtotal: i64 = lines.iter().map(|l| l.unit_price * l.quantity - l.discount).sum();
        Cart {
            currency: Currency::CNY,
            exchange_rate: None,
            lines,
            order_discount: subtotal * i64::from(pct) / 100,
            shipping,
        }
    })
}

fn tier_for(program: &Program, pick: usize) -> Option<String> {
    if program.tiers.is_empty() || pick == 0 {
        None
    } else {
        Some(program.tiers[pick % program.tiers.len()].id.clone())
    }
}

fn offer(line: &CartLine) -> ProductOffer {
    ProductOffer {
        product_id: line.product_id.clone(),
        variant_id: None,
        categories: line.categories.clone(),
        tags: line.tags.clone(),
        price: line.unit_price,
        currency: Currency::CNY,
        exchange_rate: None,
        quantity: line.quantity,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn breakdown_sums_to_total_and_cap_holds(program in arb_program(), cart in arb_cart(), pick in 0usize..5, day in -4i64..=6) {
        let context = EarnContext { now: NOW + day * DAY, tier_id: tier_for(&program, pick) };
        let result = points_for_cart(&program, &cart, &context).expect("valid cart");
        prop_assert_eq!(result.points, result.components.iter().map(|c| c.points).sum::<i64>());
        prop_assert!(result.points >= 0);
        if let Some(cap) = program.earn.max_points_per_order {
            prop_assert!(result.points <= cap);
        }
        prop_assert_eq!(result.capped, result.components.iter().any(|c| c.kind == EarnComponentKind::Cap));
        if !result.minimum_order_met {
            prop_assert_eq!(result.points, 0);
        }
    }

    #[test]
    fn product_points_never_fall_when_the_price_rises(
        program in arb_program(), line in arb_line(), rise in 0i64..=100_000, pick in 0usize..5, day in -4i64..=6,
    ) {
        let context = EarnContext { now: NOW + day * DAY, tier_id: tier_for(&program, pick) };
        let cheaper = points_for_product(&program, &offer(&line), &context).expect("valid");
        let dearer = ProductOffer { price: line.unit_price + rise, ..offer(&line) };
        let dearer = points_for_product(&program, &dearer, &context).expect("valid");
        prop_assert!(cheaper.points <= dearer.points, "{} > {}", cheaper.points, dearer.points);
        prop_assert_eq!(dearer.points, dearer.components.iter().map(|c| c.points).sum::<i64>());
    }

    #[test]
    fn cart_points_never_fall_when_a_line_price_rises(
        program in arb_program(), cart in arb_cart(), which in 0usize..5, rise in 0i64..=100_000, pick in 0usize..5,
    ) {
        let cart = Cart { order_discount: 0, ..cart };
        let context = EarnContext { now: NOW, tier_id: tier_for(&program, pick) };
        let before = points_for_cart(&program, &cart, &context).expect("valid").points;
        let mut dearer = cart.clone();
        let i = which % dearer.lines.len();
        dearer.lines[i].unit_price += rise;
        let after = points_for_cart(&program, &dearer, &context).expect("valid").points;
        prop_assert!(before <= after, "{before} > {after}");
    }

    #[test]
    fn a_product_page_shows_what_a_cart_of_it_earns(program in arb_program(), line in arb_line(), pick in 0usize..5) {
        let context = EarnContext { now: NOW, tier_id: tier_for(&program, pick) };
        let shown = points_for_product(&program, &offer(&line), &context).expect("valid");
        let line = CartLine { discount: 0, tax: 0, ..line };
        let cart = Cart { currency: Currency::CNY, exchange_rate: None, lines: vec![line], order_discount: 0, shipping: 0 };
        let awarded = points_for_cart(&program, &cart, &context).expect("valid");
        if awarded.minimum_order_met {
            prop_assert_eq!(shown, awarded);
        } else {
            prop_assert_eq!(awarded.points, 0);
            prop_assert!(!shown.minimum_order_met);
        }
    }

    #[test]
    fn tier_progress_stays_in_range(
        program in arb_program(),
        events in prop::collection::vec((-800i64..=0, -50_000i64..=300_000, 0i64..=3_000, -1i64..=1), 0..12),
        retained in 0usize..5,
    ) {
        let events = events.into_iter().map(|(days, spend, points, orders)| QualifyingEvent {
            at: NOW + days * DAY, source: EarnSource::Purchase, spend, points, orders,
        }).collect();
        let activity = TierActivity { events, retained_tier_id: tier_for(&program, retained) };
        let progress = tier_progress(&program, &activity, NOW).expect("valid");
        prop_assert!((0.0..=1.0).contains(&progress.progress), "progress {}", progress.progress);
        prop_assert!(progress.remaining >= 0);
        if let Some(keep) = progress.keep {
            prop_assert!(keep.needed >= 0);
        }
        prop_assert_eq!(progress.next_tier_id.is_none(), progress.remaining == 0 && progress.progress == 1.0);
    }

    #[test]
    fn partial_refunds_take_back_exactly_what_was_awarded(
        awarded in 0i64..=1_000_000, amount in 1i64..=10_000_000, cuts in prop::collection::vec(0u32..=100, 0..6),
    ) {
        // Split the order amount into refunds at the given percentages, the last one refunding the rest.
        let mut refunded = 0;
        let mut reversed = 0;
        for cut in cuts {
            let refund = (amount - refunded) * i64::from(cut) / 100;
            let back = points_to_reverse(awarded, amount, refunded, refund);
            prop_assert!(back >= 0);
            reversed += back;
            refunded += refund;
        }
        reversed += points_to_reverse(awarded, amount, refunded, amount - refunded);
        prop_assert_eq!(reversed, awarded);
    }

    #[test]
    fn balances_conserve_points(
        pending_days in 0u32..=30,
        expiry in prop::sample::select(vec![ExpiryMode::Never, ExpiryMode::AfterEarning, ExpiryMode::AfterInactivity]),
        entries in prop::collection::vec((-900i64..=10, 0u8..4, 0i64..=1_000, 0u8..3), 0..15),
    ) {
        let mut config = arb_base();
        config.lifecycle = PointsLifecycle {
            pending_days,
            expiry: Expiry { mode: expiry, months: if expiry == ExpiryMode::Never { 0 } else { 6 } },
            expiring_soon_days: 30,
        };
        let program = config.validate().expect("valid");
        let ledger: Vec<LedgerEntry> = entries.into_iter().map(|(days, kind, points, order)| LedgerEntry {
            at: NOW + days * DAY,
            kind: [LedgerKind::Earn, LedgerKind::Redeem, LedgerKind::Reverse, LedgerKind::Adjust][usize::from(kind)],
            points: if kind == 3 { points - 500 } else { points },
            source: EarnSource::Purchase,
            order_id: Some(format!("o{order}")),
        }).collect();
        let view = balance(&program, &ledger, NOW).expect("valid");
        let net: i64 = ledger.iter().filter(|e| e.at <= NOW).map(|e| match e.kind {
            LedgerKind::Earn | LedgerKind::Adjust => e.points,
            LedgerKind::Redeem | LedgerKind::Reverse => -e.points,
        }).sum();
        let pending: i64 = view.pending.iter().map(|p| p.points).sum();
        prop_assert_eq!(view.available + pending + view.expired, net);
        prop_assert!(view.pending.iter().all(|p| p.at > NOW && p.points > 0));
        prop_assert!(view.expiring.iter().all(|p| p.points > 0));
    }

    #[test]
    fn reading_never_panics_on_arbitrary_text(text in ".{0,64}", bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let _ = Program::from_json(&text);
        let _ = Cart::from_json_str(&text);
        let lossy = String::from_utf8_lossy(&bytes);
        let _ = json::parse(&lossy);
        // Truncating a valid document anywhere gives an error, never a panic.
        let doc = serde_json::to_string(&arb_base()).expect("serializes");
        let cut = bytes.len() * doc.len() / 64;
        let mut end = cut.min(doc.len());
        while !doc.is_char_boundary(end) {
            end -= 1;
        }
        if end < doc.len() {
            prop_assert!(Program::from_json(&doc[..end]).is_err());
        }
    }

    #[test]
    fn validation_never_panics_on_arbitrary_json(value in arb_json()) {
        let _ = Program::from_json(&value.to_string());
    }

    /// The shell's quiet reader and the full decoder accept the same documents and read the same values, for
    /// every wire type the shell reads (they are generated from one field list; this holds the two bodies to it).
    #[test]
    fn the_quiet_reader_accepts_what_the_decoder_accepts(value in arb_json(), path in prop::collection::vec(0usize..16, 1..5)) {
        let mut damaged = serde_json::to_value(arb_base()).expect("serializes");
        damage(&mut damaged, &path, value.clone());
        for text in [value.to_string(), damaged.to_string()] {
            agree::<ProgramConfig>(&text)?;
            agree::<EarnConfig>(&text)?;
            agree::<ShopperState>(&text)?;
            // The shell's glance reads every state the decoder accepts, to the same values.
            if let Ok(state) = ShopperState::from_json_str(&text) {
                prop_assert_eq!(ShopperGlance::read_str(&text), Some(ShopperGlance::from(&state)));
                // And the list's standing, likewise.
                prop_assert_eq!(ShopperStanding::read_str(&text), Some(ShopperStanding::from(&state)));
            }
            // The list's glance of a program reads every program the decoder accepts.
            if ProgramConfig::from_json_str(&text).is_ok() {
                prop_assert!(ProgramGlance::read_str(&text).is_some(), "{}", text);
            }
            agree::<ProductOffer>(&text)?;
            agree::<Cart>(&text)?;
        }
    }

    /// The shell's projection of a program earns what the whole program earns, for any program the whole check
    /// accepts, and is accepted whenever the whole program is.
    #[test]
    fn the_shells_projection_earns_what_the_program_earns(program in arb_program(), cart in arb_cart(), pick in 0usize..5, day in -4i64..=6) {
        let text = serde_json::to_string(&program).expect("serializes");
        let part = EarnConfig::read_str(&text).expect("the projection reads a valid program").validate().expect("and accepts it");
        let context = EarnContext { now: NOW + day * DAY, tier_id: tier_for(&program, pick) };
        prop_assert_eq!(points_for_cart(&part, &cart, &context), points_for_cart(&program, &cart, &context));
        for line in &cart.lines {
            let offer = offer(line);
            prop_assert_eq!(points_for_product(&part, &offer, &context), points_for_product(&program, &offer, &context));
        }
    }

    #[test]
    fn a_damaged_program_the_whole_check_accepts_the_projection_accepts(path in prop::collection::vec(0usize..16, 1..5), value in arb_json()) {
        let mut program = serde_json::to_value(arb_base()).expect("serializes");
        damage(&mut program, &path, value);
        let text = program.to_string();
        if Program::from_json(&text).is_ok() {
            let part = EarnConfig::read_str(&text).map(EarnConfig::validate);
            prop_assert!(matches!(part, Some(Ok(_))), "{text}");
        }
    }

    #[test]
    fn validation_never_panics_when_a_valid_program_is_damaged(path in prop::collection::vec(0usize..16, 1..5), value in arb_json()) {
        let mut program = serde_json::to_value(arb_base()).expect("serializes");
        damage(&mut program, &path, value);
        if let Err(problems) = Program::from_json(&program.to_string()) {
            prop_assert!(!problems.0.is_empty());
            prop_assert!(problems.0.iter().all(|p| !p.message.is_empty()));
        }
    }
}

/// One document through both decoders of `T`: the same verdict, the same value.
fn agree<T: FromJson + ReadJson + PartialEq + std::fmt::Debug>(text: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        T::read_str(text),
        T::from_json_str(text).ok(),
        "{}: {}",
        std::any::type_name::<T>(),
        text
    );
    Ok(())
}

fn arb_base() -> ProgramConfig {
    ProgramConfig::from_json_str(&json!({
        "version": 1, "currency": "CNY", "locales": ["zh-CN", "en"], "name": {"zh-CN": "会员", "en": "Club"},
        "earn": {"rate": {"points": 1, "perAmount": 100},
                 "bonuses": [{"id": "b", "name": {"zh-CN": "奖", "en": "B"}, "appliesTo": {"tags": ["t"]}, "multiplierPercent": 200}],
                 "campaigns": [{"id": "c", "name": {"zh-CN": "活动", "en": "C"}, "startsAt": 1, "endsAt": 2, "multiplierPercent": 200}],
                 "maxPointsPerOrder": 100},
        "lifecycle": {"pendingDays": 3, "expiry": {"mode": "afterEarning", "months": 6}},
        "tierQualification": {"metric": "spend", "period": {"kind": "rollingMonths", "months": 12}},
        "tiers": [{"id": "a", "name": {"zh-CN": "甲", "en": "A"}, "threshold": 0}, {"id": "b", "name": {"zh-CN": "乙", "en": "B"}, "threshold": 10}],
        "rewards": [{"id": "r", "name": {"zh-CN": "奖", "en": "R"}, "kind": "amountOff", "cost": 5, "amountOff": 100}]
    }).to_string())
    .expect("base program decodes")
}

/// Replaces the node found by walking `path` (indices into object fields or array items) with `value`.
fn damage(target: &mut Value, path: &[usize], value: Value) {
    let Some((&first, rest)) = path.split_first() else {
        *target = value;
        return;
    };
    let child = match target {
        Value::Object(map) if !map.is_empty() => {
            let key = map.keys().nth(first % map.len()).cloned().expect("index in range");
            map.get_mut(&key)
        }
        Value::Array(items) if !items.is_empty() => {
            let n = items.len();
            items.get_mut(first % n)
        }
        _ => None,
    };
    match child {
        Some(child) => damage(child, rest, value),
        None => *target = value,
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(vec![0i64, 1, -1, 100, 1_767_225_600, 1_767_225_600_000, i64::MAX])
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "CNY",
            "en",
            "zh-CN",
            "floor",
            "amountOff",
            "calendarYear",
            "purchase",
            ""
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "version",
                    "currency",
                    "locales",
                    "name",
                    "earn",
                    "rate",
                    "points",
                    "perAmount",
                    "tiers",
                    "threshold",
                    "rewards",
                    "kind",
                    "cost",
                    "id",
                    "en",
                    "lifecycle",
                    "expiry",
                    "mode",
                    "months",
                ])
                .prop_map(str::to_owned),
                inner,
                0..8,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// A sweep that asks every few hours over several years gives exactly one gift per year from the first
    /// birthday the shop knew 30 days ahead, each on the day itself, whatever the date and the sweep's rhythm.
    #[test]
    fn birthday_gifts_once_a_year_whatever_the_sweep(
        month in 1_u32..=12,
        day in 1_u32..=31,
        known_after_days in 0_i64..400,
        step_hours in 1_i64..=72,
    ) {
        let Some(birthday) = MonthDay::new(month, day) else { return Ok(()) };
        let program = Program::from_json(&json!({
            "version": 1, "currency": "CNY", "locales": ["en"], "name": {"en": "Club"},
            "earn": {"rate": {"points": 1, "perAmount": 100}}, "birthday": {"points": 50, "minDaysKnown": 30}
        }).to_string()).expect("program");
        let start = NOW; // 2026-01-01
        let known_since = start + known_after_days * DAY;
        let mut last = None;
        let mut gifts = Vec::new();
        let mut now = known_since;
        while now < start + 4 * 365 * DAY {
            if let Some(award) = birthday_award(&program, birthday, known_since, last, now) {
                prop_assert!(award.at <= now && now - award.at < step_hours * 3600 + DAY, "late or early");
                gifts.push(award.at);
                last = Some(award.at);
            }
            now += step_hours * 3600;
        }
        let expected: Vec<i64> = (2026..2030)
            .map(|year| birthday.in_year(year))
            // Every birthday begun by the last sweep (at or before it), known 30 days ahead.
            .filter(|at| known_since + 30 * DAY <= *at && *at <= now - step_hours * 3600)
            .collect();
        prop_assert_eq!(gifts, expected);
    }
}
