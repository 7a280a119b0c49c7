//! Fuzz inputs replayed as ordinary tests: every file under `fuzz/regressions/<target>/` (crashes the fuzzers
//! found, and hand-made tricky inputs) goes through the very check the fuzz target `<target>` runs, shared
//! from `fuzz/src/lib.rs`. To keep a crash, copy `fuzz/artifacts/<target>/crash-*` there (fuzz/README.md).

use std::path::{Path, PathBuf};

#[path = "../../fuzz/src/lib.rs"]
mod checks;

/// Runs `check` on every file of `fuzz/regressions/<target>/` and names the files whose check panicked.
fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no inputs in {}", dir.display());
    let failed: Vec<String> = files
        .iter()
        .filter(|file| {
            let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            std::panic::catch_unwind(|| check(&data)).is_err()
        })
        .map(|file| file.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} inputs failed (see the panics above): {failed:#?}",
        failed.len(),
        files.len()
    );
}

#[test]
fn program() {
    replay("program", checks::check_program);
}

#[test]
fn referral_code() {
    replay("referral_code", checks::check_referral_code);
}

#[test]
fn referral_link() {
    replay("referral_link", checks::check_referral_link);
}

#[test]
fn catalog() {
    replay("catalog", checks::check_catalog);
}

/// What the fix for `regressions/program/every-limit.json` promises: an order whose points would pass
/// `MAX_AMOUNT` is refused with a problem (its components summed in i64 overflowed), also when its exact sums
/// would pass i128 (10,000 lines at a foreign rate of 10^9 and the largest multipliers); up to the limit,
/// points stay exact.
#[test]
fn orders_past_the_largest_point_count_are_refused_or_capped() {
    use loyalty_core::{
        points_for_cart, points_for_product, Cart, CartLine, Currency, EarnContext, ExchangeRate,
        ProductOffer, Program, MAX_AMOUNT,
    };
    let program_text = r#"{"version": 1, "currency": "CNY", "locales": ["en"], "name": {"en": "Club"},
            "earn": {"rate": {"points": 1000000, "perAmount": 1}, "rounding": "nearest",
                     "basis": {"afterDiscounts": false, "includeTax": true},
                     "campaigns": [{"id": "c", "name": {"en": "C"}, "startsAt": 0, "endsAt": 253402300799,
                                    "multiplierPercent": 10000}]},
            "tiers": [{"id": "top", "name": {"en": "Top"}, "threshold": 0, "earnMultiplierPercent": 10000}]}"#;
    let program = Program::from_json(program_text).unwrap_or_else(|p| panic!("{p}"));
    let context = EarnContext { now: 1_767_225_600, tier_id: Some("top".to_owned()) };
    let refused = Err("earns more than 1000000000000000 points, the most one order may earn".to_owned());
    let offer = |price| ProductOffer {
        product_id: "p".to_owned(),
        variant_id: None,
        categories: vec![],
        tags: vec![],
        price,
        currency: Currency::CNY,
        exchange_rate: None,
        quantity: 1,
    };
    let earned = |price| points_for_product(&program, &offer(price), &context).map(|r| r.points);
    // 1,000,000 points per fen, plus 99 times that for the tier and 99 for the campaign: 199,000,000 per fen.
    assert_eq!(earned(100_000), Ok(19_900_000_000_000));
    assert_eq!(earned(5_025_125), Ok(999_999_875_000_000));
    assert_eq!(earned(5_025_126).map_err(|p| p.to_string()), refused);
    assert_eq!(earned(MAX_AMOUNT).map_err(|p| p.to_string()), refused);
    let line = CartLine {
        product_id: "p".to_owned(),
        variant_id: None,
        categories: vec![],
        tags: vec![],
        unit_price: MAX_AMOUNT,
        quantity: 1,
        discount: MAX_AMOUNT,
        tax: MAX_AMOUNT,
    };
    let cart = Cart {
        currency: Currency::USD,
        exchange_rate: Some(ExchangeRate { numerator: ExchangeRate::MAX_TERM, denominator: 1 }),
        lines: vec![line; loyalty_core::MAX_LINES],
        order_discount: 0,
        shipping: 0,
    };
    assert_eq!(
        points_for_cart(&program, &cart, &context).map(|r| r.points).map_err(|p| p.to_string()),
        refused
    );
    // A program that caps orders awards the cap instead: the order (and its tier spend) still counts.
    let capped = Program::from_json(
        &program_text
            .replace(r#""rounding": "nearest","#, r#""rounding": "nearest", "maxPointsPerOrder": 5000,"#),
    )
    .unwrap_or_else(|p| panic!("{p}"));
    let result = points_for_cart(&capped, &cart, &context).unwrap_or_else(|p| panic!("{p}"));
    assert_eq!((result.points, result.capped), (5000, true));
    assert_eq!(result.components.iter().map(|c| c.points).sum::<i64>(), 5000, "the parts add up");
}
