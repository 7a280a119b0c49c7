//! The check each fuzz target runs on one input: feed the bytes to loyalty-core and assert what its
//! documentation promises. Shared with `core/tests/fuzz_regressions.rs`, which includes this file as a module
//! (`#[path]`), so every input kept in `fuzz/regressions/<target>/` replays under `cargo test` exactly as the
//! fuzzer ran it. Only loyalty-core, serde_json and std may be used here (core's tests have nothing else).
//!
//! A check must never panic unless loyalty-core broke a promise: inputs that are not valid are refused by
//! the code under test and the check simply returns.

use loyalty_core::json::Json;
use loyalty_core::{
    index_from_columns, landing_code, parse_catalog, points_for_cart, points_for_product, recommend,
    referral_link, rewards_overview, share_intent, Cart, CartLine, CatalogColumns, CatalogIndex,
    CatalogProduct, EarnConfig, EarnContext, EarnResult, FromJson, HistoryEvent, HistoryKind, Loyalty,
    ProductOffer, Program, ProgramConfig, Ranking, ReadJson, RecommendContext, RecommendRequest,
    ReferralCode, ShareChannel, TierMetric, TierProgress, CODE_ALPHABET, CODE_LENGTH, MAX_AMOUNT,
    MAX_QUANTITY,
};
use std::sync::LazyLock;

/// 2026-01-01T00:00:00Z: "now" wherever a rule needs one.
const NOW: i64 = 1_767_225_600;

/// A program with every kind of earn rule, for ranking with loyalty boosts.
const BOOSTING_PROGRAM: &str = r#"{
    "version": 1, "currency": "CNY", "locales": ["en"], "name": {"en": "Club"},
    "earn": {"rate": {"points": 1, "perAmount": 100},
             "bonuses": [{"id": "b", "name": {"en": "Bonus"}, "appliesTo": {"categories": ["a", "b"], "tags": ["t"]},
                          "multiplierPercent": 300, "extraPointsPerUnit": 7}],
             "campaigns": [{"id": "c", "name": {"en": "Double"}, "startsAt": 0, "endsAt": 1893456000,
                            "multiplierPercent": 200}],
             "maxPointsPerOrder": 1000000},
    "tiers": [{"id": "silver", "name": {"en": "Silver"}, "threshold": 0},
              {"id": "gold", "name": {"en": "Gold"}, "threshold": 100000, "earnMultiplierPercent": 150}],
    "rewards": [{"id": "ship", "name": {"en": "Free shipping"}, "kind": "freeShipping", "cost": 500}]
}"#;

static BOOSTING: LazyLock<Program> =
    LazyLock::new(|| Program::from_json(BOOSTING_PROGRAM).expect("the boosting program is valid"));

/// The code every built link carries.
static CODE: LazyLock<ReferralCode> = LazyLock::new(|| ReferralCode::from_random(987_654_321));

/// Target `program`: JSON text through `Program::from_json` (parser and validator). A program that passes
/// must serialise and read back as itself (json.rs: output goes through serde, input through the wire
/// decoders, and the names must agree), and the earn rules must take its extremes: for products and carts at
/// the largest amounts and quantities the rules accept, `points` equals the sum of `components` (EarnResult).
pub fn check_program(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The shell's quiet reader accepts exactly what the decoder accepts (json.rs, ReadJson).
    assert_eq!(
        ProgramConfig::read_str(text),
        ProgramConfig::from_json_str(text).ok(),
        "the quiet reader and the decoder disagree"
    );
    let program = match Program::from_json(text) {
        Ok(program) => program,
        Err(problems) => {
            assert!(!problems.0.is_empty(), "refused with no problem");
            let _ = problems.to_string();
            return;
        }
    };
    let written = serde_json::to_string(&program).expect("a program serialises");
    assert_eq!(Program::from_json(&written).as_ref(), Ok(&program), "does not read back: {written}");
    // The shell's projection accepts every valid program and earns what it earns (below).
    let part = EarnConfig::read_str(text)
        .map(EarnConfig::validate)
        .and_then(Result::ok)
        .expect("the shell's projection refuses a valid program");

    // One product that every bonus, campaign and exclusion names, and one that none does.
    let earn = &program.earn;
    let matches = earn
        .bonuses
        .iter()
        .map(|b| &b.applies_to)
        .chain(earn.campaigns.iter().filter_map(|c| c.applies_to.as_ref()))
        .chain([&earn.exclusions]);
    let (mut ids, mut categories, mut tags) = (Vec::new(), Vec::new(), Vec::new());
    for m in matches {
        ids.extend(m.product_ids.iter().cloned());
        categories.extend(m.categories.iter().cloned());
        tags.extend(m.tags.iter().cloned());
    }
    let named = ids.first().cloned().unwrap_or_else(|| "named".to_owned());
    // A few instants and tiers are enough: every campaign and tier is checked the same way.
    let times = [NOW].into_iter().chain(earn.campaigns.iter().map(|c| c.starts_at)).take(4);
    let tiers = [None].into_iter().chain(program.tiers.iter().map(|t| Some(t.id.clone()))).take(4);
    for (now, tier_id) in times.flat_map(|now| tiers.clone().map(move |tier| (now, tier))) {
        let context = EarnContext { now, tier_id };
        for (price, quantity) in [(1, 1), (99, 3), (MAX_AMOUNT, 1), (MAX_AMOUNT / MAX_QUANTITY, MAX_QUANTITY)]
        {
            for (product_id, categories, tags) in
                [(named.clone(), categories.clone(), tags.clone()), ("plain".to_owned(), vec![], vec![])]
            {
                let offer = ProductOffer {
                    product_id,
                    variant_id: None,
                    categories,
                    tags,
                    price,
                    currency: program.currency,
                    exchange_rate: None,
                    quantity,
                };
                let result = points_for_product(&program, &offer, &context);
                assert_eq!(points_for_product(&part, &offer, &context), result, "the shell earns otherwise");
                if let Ok(result) = result {
                    check_sum(&result);
                }
            }
        }
        let line =
            |product_id: &str, categories: &[String], tags: &[String], unit_price, quantity| CartLine {
                product_id: product_id.to_owned(),
                variant_id: None,
                categories: categories.to_vec(),
                tags: tags.to_vec(),
                unit_price,
                quantity,
                discount: 0,
                tax: 0,
            };
        let half = MAX_AMOUNT / 2;
        let cart = Cart {
            currency: program.currency,
            exchange_rate: None,
            lines: vec![line(&named, &categories, &tags, half, 1), line("plain", &[], &[], half - 7, 1)],
            order_discount: 3,
            shipping: MAX_AMOUNT,
        };
        if let Ok(result) = points_for_cart(&program, &cart, &context) {
            check_sum(&result);
        }
    }
    for available in [-1, 0, 1, MAX_AMOUNT, i64::MAX] {
        let overview = rewards_overview(&program, available);
        if let Some(next) = overview.next {
            assert!(next.missing > 0, "the next reward is missing {} points", next.missing);
        }
    }
}

/// EarnResult: "`points` always equals the sum of `components`".
fn check_sum(result: &EarnResult) {
    let sum: i128 = result.components.iter().map(|c| i128::from(c.points)).sum();
    assert_eq!(i128::from(result.points), sum, "points are not the sum of the components: {result:?}");
}

/// Target `referral_code`: text as a shopper types it, through `ReferralCode::parse`. A code that parses is
/// 8 characters of the alphabet and reads back as itself, in upper or lower case.
pub fn check_referral_code(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(code) = ReferralCode::parse(&text) else { return };
    let shown = code.as_str();
    assert_eq!(shown.chars().count(), CODE_LENGTH, "{shown}");
    assert!(shown.chars().all(|ch| CODE_ALPHABET.contains(ch)), "{shown}");
    assert_eq!(code.to_string(), shown);
    assert_eq!(ReferralCode::parse(shown).as_ref(), Ok(&code), "{text:?}");
    assert_eq!(ReferralCode::parse(&shown.to_lowercase()).as_ref(), Ok(&code), "{text:?}");
}

/// Target `referral_link`: lines of text (landing URL, page origin, page, landing query, locale, `param`,
/// `campaign`) through `referral_link`, `share_intent` and `landing_code`, for a program whose referral terms
/// use the fuzzed landing URL (when it validates) and for two fixed ones (an absolute and a path landing page).
///
/// referral.rs promises that links go only to the shop, never to another origin and never to a
/// `javascript:` or `data:` URL: a link that is built starts with the landing page's origin (of the page the
/// widget runs in, for a path) followed by `/`. The link carries the code, so the landing page reads it back
/// with `landing_code`; the share intent's link is the referral link; and a landing code that parses is one.
pub fn check_referral_link(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut fields = text.split('\n');
    let mut next = || fields.next().unwrap_or("");
    let (landing, page_origin, page, query, locale, param, campaign) =
        (next(), next(), next(), next(), next(), next(), next());

    let mut terms = serde_json::json!({"landingUrl": landing, "referrerPoints": 500,
        "message": {"en": "Try this shop", "zh-CN": "来试试"}});
    if !param.is_empty() {
        terms["param"] = param.into();
    }
    if !campaign.is_empty() {
        terms["campaign"] = campaign.into();
    }
    let fuzzed = Program::from_json(&referral_program(terms).to_string()).ok();
    // One channel per input (they differ only in `utm_source` and the share URL), the page only when given:
    // every call is costly under the fuzzer's instrumentation, and inputs are many.
    let channel = ShareChannel::ALL[data.len() % ShareChannel::ALL.len()];
    let pages = if page.is_empty() { vec![None] } else { vec![None, Some(page)] };
    for program in fuzzed.iter().chain(LINKED.iter()) {
        let terms = program.referral.as_ref().expect("the program has referral terms");
        if let Some(Ok(code)) = landing_code(terms, query) {
            assert_eq!(ReferralCode::parse(code.as_str()).as_ref(), Ok(&code), "{query:?}");
        }
        let base = if terms.landing_url.starts_with('/') { page_origin } else { terms.landing_url.as_str() };
        let origin = origin_of(base);
        for page in &pages {
            let link = referral_link(terms, page_origin, &CODE, channel, *page);
            let intent = share_intent(program, locale, page_origin, &CODE, channel, *page);
            assert_eq!(intent.map(|i| i.link), link, "the share intent's link is not the referral link");
            let Ok(link) = link else { continue };
            let Some(origin) = &origin else {
                panic!("built {link:?} from {base:?}, which names no origin");
            };
            let scheme_ok = link.starts_with("https://") || link.starts_with("http://");
            assert!(scheme_ok && link.starts_with(&format!("{origin}/")), "{link:?} leaves {origin:?}");
            let after_path = link.find('?').map_or("", |at| &link[at..]);
            let carried = after_path.split('#').next().unwrap_or("");
            assert_eq!(
                landing_code(terms, carried),
                Some(Ok(CODE.clone())),
                "the landing page does not read the code back from {link:?}"
            );
        }
    }
}

/// A program with these referral terms.
fn referral_program(terms: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"version": 1, "currency": "CNY", "locales": ["en", "zh-CN"],
        "name": {"en": "Club", "zh-CN": "会员"}, "earn": {"rate": {"points": 1, "perAmount": 100}},
        "referral": terms})
}

/// Two programs whose landing pages are fixed, so the fuzzed page origins and pages are tried even when the
/// fuzzed landing URL is refused: an absolute URL (with a query, a fragment and an old code) and a path.
static LINKED: LazyLock<Vec<Program>> = LazyLock::new(|| {
    ["https://Shop.Example/welcome?lang=en&ref=OLD#top", "/welcome?lang=en"]
        .into_iter()
        .map(|landing| {
            let terms = serde_json::json!({"landingUrl": landing, "referrerPoints": 1,
                "message": {"en": "Hi", "zh-CN": "你好"}});
            Program::from_json(&referral_program(terms).to_string())
                .expect("the fixed referral program is valid")
        })
        .collect()
});

/// The origin a link to `url` must keep, computed on its own as a browser would split it: the scheme and the
/// authority (up to the first `/`, `?` or `#`), lower-cased.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(format!("{}://{}", scheme.to_ascii_lowercase(), rest[..end].to_ascii_lowercase()))
}

/// Target `catalog`: JSON text as a catalog of objects (`json::parse` and `parse_catalog`) and as a catalog
/// in columns (`index_from_columns`). Every accepted catalog is ranked for a few requests; the list respects
/// the request (never the page's product, the cart or the excluded, at most `limit`, no repeats, only known
/// products). A catalog of objects that passes is also written in columns, as the server serves it: that
/// document decodes, and ranks exactly as the objects do (tests/columns.rs).
pub fn check_catalog(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let locales = ["en".to_owned()];
    if let Ok(json) = loyalty_core::json::parse(text) {
        if let Ok(products) = parse_catalog(&json, &locales) {
            let ids: Vec<String> = products.iter().map(|p| p.id.clone()).collect();
            let terms: Vec<String> = products.iter().flat_map(|p| p.categories.clone()).collect();
            // Missing weights are written in columns as the ranks' default in permille, which rounds: compare
            // with objects that carry those same weights (as tests/columns.rs does).
            let mut weighted = products.clone();
            for p in &mut weighted {
                if p.neighbour_weights.is_empty() {
                    p.neighbour_weights =
                        (0..p.neighbours.len()).map(loyalty_core::default_neighbour_weight).collect();
                }
            }
            let from_objects = rank(&CatalogIndex::build(&weighted), &ids, &terms, data.len());
            let refs: Vec<&CatalogProduct> = products.iter().collect();
            let columns = serde_json::to_string(&CatalogColumns::from_products(&refs, &locales))
                .expect("columns serialise");
            let index = index_from_columns(&columns)
                .unwrap_or_else(|p| panic!("the columns of a valid catalog are refused: {p}\n{columns}"));
            let from_columns = rank(&index, &ids, &terms, data.len());
            assert!(from_columns == from_objects, "columns rank differently from objects:\n{columns}");
        }
    }
    if let Ok(index) = index_from_columns(text) {
        // The ids and categories named in the document, to build requests from.
        let json = loyalty_core::json::parse(text).unwrap_or(Json::Null);
        let strings = |key: &str| match json.get(key) {
            Some(Json::Array(items)) => items
                .iter()
                .filter_map(|item| match item {
                    Json::String(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let terms: Vec<String> =
            strings("terms").iter().filter_map(|t| t.strip_prefix("c:").map(str::to_owned)).collect();
        rank(&index, &strings("id"), &terms, data.len());
    }
}

/// Ranks `index` for requests on each context, with and without history and loyalty, checks each list
/// against its request, and returns the lists (product ids) in order.
fn rank(index: &CatalogIndex, ids: &[String], categories: &[String], salt: usize) -> Vec<Vec<String>> {
    let first = ids.first().cloned();
    let last = ids.last().cloned();
    let tier = TierProgress {
        metric: TierMetric::Spend,
        value: 0,
        current_tier_id: Some("silver".to_owned()),
        next_tier_id: Some("gold".to_owned()),
        remaining: 5_000,
        progress: 0.5,
        period_ends_at: None,
        keep: None,
    };
    let rewards = rewards_overview(&BOOSTING, 100);
    let reach = loyalty_core::TierReach::from(&tier);
    let points = loyalty_core::earning((&*BOOSTING).into(), reach.current_tier_id.as_deref(), NOW);
    let loyalty = Loyalty::new((&*BOOSTING).into(), &points, Some(&reach), Some(&rewards));
    let viewed: Vec<HistoryEvent> = ids
        .iter()
        .take(3)
        .map(|id| HistoryEvent {
            product_id: id.clone(),
            kind: HistoryKind::View,
            at: NOW - 86_400,
            dwell_seconds: 40,
        })
        .collect();
    let mut lists = Vec::new();
    for (i, context) in
        [RecommendContext::Home, RecommendContext::Product, RecommendContext::Cart].into_iter().enumerate()
    {
        let request = RecommendRequest {
            context,
            product_id: if context == RecommendContext::Product { first.clone() } else { None },
            cart: if context == RecommendContext::Cart {
                first.iter().chain(&last).cloned().collect()
            } else {
                vec![]
            },
            category: categories.get(i).cloned(),
            limit: ((salt + i * 7) % 60) as u32,
            exclude: last.iter().cloned().collect(),
            repurchase: i == 2,
            personalised: true,
        };
        for (history, loyalty) in [(&[][..], None), (&viewed[..], Some(loyalty))] {
            let list = recommend(index, history, &request, loyalty, &Ranking::default(), NOW);
            let got: Vec<String> = list.iter().map(|r| r.product_id.clone()).collect();
            let limit = request.limit.clamp(1, 50) as usize;
            assert!(got.len() <= limit, "{} recommended for a limit of {}", got.len(), request.limit);
            let blocked = request.product_id.iter().chain(&request.cart).chain(&request.exclude);
            for id in blocked {
                assert!(!got.contains(id), "recommended {id:?}, which the request rules out: {request:?}");
            }
            for (n, id) in got.iter().enumerate() {
                assert!(!got[..n].contains(id), "recommended {id:?} twice");
                assert!(ids.is_empty() || ids.contains(id), "recommended {id:?}, which the catalog lacks");
            }
            lists.push(got);
        }
    }
    lists
}
