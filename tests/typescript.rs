//! The hand-written TypeScript in `src/types.d.ts` must name exactly the fields the Rust wire types have:
//! every interface is compared with a serialised value of its Rust type (serde writes every field, absent
//! options as null), so a field added, renamed or removed on one side fails here.
#![cfg(not(target_arch = "wasm32"))]

use loyalty_core::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Field names of every `export interface` in the file, with those of the interfaces it extends.
fn interfaces(ts: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut own: BTreeMap<String, (Option<String>, BTreeSet<String>)> = BTreeMap::new();
    let mut rest = ts;
    while let Some(start) = rest.find("export interface ") {
        rest = &rest[start + "export interface ".len()..];
        let header_end = rest.find('{').expect("interface body");
        let mut header = rest[..header_end].split_whitespace();
        let name = header.next().expect("interface name").to_owned();
        let base = match header.next() {
            Some("extends") => Some(header.next().expect("base").to_owned()),
            _ => None,
        };
        let body_end = rest.find("\n}").expect("end of interface");
        let fields = rest[header_end + 1..body_end]
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("/*") && !l.starts_with('*'))
            .filter_map(|l| l.split([':', '?']).next())
            .map(|f| f.trim().to_owned())
            .collect();
        own.insert(name, (base, fields));
        rest = &rest[body_end..];
    }
    own.keys()
        .map(|name| {
            let mut fields = BTreeSet::new();
            let mut next = Some(name.clone());
            while let Some(n) = next {
                let (base, f) = &own[&n];
                fields.extend(f.iter().cloned());
                next = base.clone().filter(|b| own.contains_key(b));
            }
            (name.clone(), fields)
        })
        .collect()
}

fn keys(value: &serde_json::Value) -> BTreeSet<String> {
    value.as_object().expect("an object").keys().cloned().collect()
}

fn check<T: Serialize>(ts: &BTreeMap<String, BTreeSet<String>>, interface: &str, value: &T) {
    let value = serde_json::to_value(value).expect("serializes");
    let declared = ts.get(interface).unwrap_or_else(|| panic!("src/types.d.ts has no interface {interface}"));
    assert_eq!(declared, &keys(&value), "fields of {interface} in src/types.d.ts against the Rust type");
}

#[test]
fn typescript_declarations_match_the_rust_types() {
    let ts = interfaces(include_str!("../src/types.d.ts"));
    let program =
        Program::from_json(include_str!("../server/demo/program.json")).expect("demo program is valid");
    let config = program.config();
    check(&ts, "Program", config);
    check(&ts, "EarnRules", &config.earn);
    check(&ts, "EarnRate", &config.earn.rate);
    check(&ts, "EarnBasis", &config.earn.basis);
    check(&ts, "ProductMatch", &config.earn.exclusions);
    check(&ts, "Bonus", &config.earn.bonuses[0]);
    check(&ts, "Campaign", &config.earn.campaigns[0]);
    check(&ts, "PointsLifecycle", &config.lifecycle);
    check(&ts, "Expiry", &config.lifecycle.expiry);
    check(&ts, "TierQualification", &config.tier_qualification);
    check(&ts, "TierPeriod", &config.tier_qualification.period);
    check(&ts, "Tier", &config.tiers[0]);
    check(&ts, "Reward", &config.rewards[0]);
    check(&ts, "ReferralTerms", config.referral.as_ref().expect("the demo program has referral terms"));
    check(&ts, "ExchangeRate", &ExchangeRate::ONE);
    let line = CartLine {
        product_id: "a".into(),
        variant_id: None,
        categories: vec![],
        tags: vec![],
        unit_price: 1,
        quantity: 1,
        discount: 0,
        tax: 0,
    };
    check(&ts, "CartLine", &line);
    let cart = Cart {
        currency: Currency::CNY,
        exchange_rate: None,
        lines: vec![line],
        order_discount: 0,
        shipping: 0,
    };
    check(&ts, "Cart", &cart);
    let offer = ProductOffer {
        product_id: "a".into(),
        variant_id: None,
        categories: vec![],
        tags: vec![],
        price: 1,
        currency: Currency::CNY,
        exchange_rate: None,
        quantity: 1,
    };
    check(&ts, "ProductOffer", &offer);
    let context = EarnContext { now: 1_767_225_600, tier_id: None };
    check(&ts, "EarnContext", &context);
    let earned = points_for_cart(&program, &cart, &context).expect("earns");
    check(&ts, "EarnResult", &earned);
    check(&ts, "Money", &earned.eligible_amount);
    check(&ts, "EarnComponent", &EarnComponent { kind: EarnComponentKind::Base, id: None, points: 1 });
    let event = QualifyingEvent { at: 1, source: EarnSource::Purchase, spend: 1, points: 1, orders: 1 };
    check(&ts, "QualifyingEvent", &event);
    let activity = TierActivity { events: vec![event], retained_tier_id: None };
    check(&ts, "TierActivity", &activity);
    let progress = tier_progress(&program, &activity, 1_767_225_600).expect("progress");
    check(&ts, "TierProgress", &progress);
    check(&ts, "TierKeep", &TierKeep { needed: 1, by: 1 });
    check(&ts, "RewardsOverview", &rewards_overview(&program, 0));
    let balance = BalanceView {
        available: 1,
        pending: vec![DatedPoints { points: 1, at: 1 }],
        expiring: vec![],
        expired: 0,
        lifetime_earned: 1,
    };
    check(&ts, "BalanceView", &balance);
    check(&ts, "DatedPoints", &balance.pending[0]);
    let state = ShopperState {
        customer_id: "c".into(),
        program_version: 1,
        balance,
        tier: Some(progress),
        rewards: rewards_overview(&program, 1),
        referral: Some(ReferralStanding { code: "ABC".into(), invited: 0, rewarded: 0, points_earned: 0 }),
        birthday: None,
        activity: vec![Activity {
            at: 1,
            kind: LedgerKind::Earn,
            points: 1,
            source: Some(EarnSource::Purchase),
            order_id: None,
            reason: None,
        }],
        codes: vec![IssuedCode { code: "LOY".into(), reward_id: "r".into(), created_at: 1, used: false }],
        as_of: 1,
    };
    check(&ts, "ShopperState", &state);
    check(&ts, "ReferralStanding", state.referral.as_ref().expect("set"));
    check(&ts, "Activity", &state.activity[0]);
    check(&ts, "IssuedCode", &state.codes[0]);
    let redemption =
        Redemption { id: "r".into(), reward_id: "r".into(), cost: 1, code: "LOY".into(), created_at: 1 };
    check(&ts, "Redemption", &redemption);
}
