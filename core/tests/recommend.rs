//! The recommender at the crate's boundary: contexts and their reasons, filters, diversity, loyalty boosts
//! that stay bounded, and determinism (property tests).

use loyalty_core::{
    earning, recommend, rewards_overview, CatalogIndex, CatalogProduct, HistoryEvent, HistoryKind,
    IndexBuilder, Loyalty, Program, Ranking, ReasonKind, RecommendContext, RecommendRequest, TierActivity,
    TierReach,
};
use proptest::prelude::*;

const NOW: i64 = 1_767_225_600;
const DAY: i64 = 86_400;

fn product(id: &str, category: &str, popularity: u32, neighbours: &[(&str, u32)]) -> CatalogProduct {
    CatalogProduct {
        id: id.into(),
        title: Default::default(),
        url: format!("/p/{id}"),
        image: None,
        price: 5000,
        categories: vec![category.into()],
        tags: vec![],
        in_stock: true,
        added_at: None,
        popularity,
        neighbours: neighbours.iter().map(|(n, _)| (*n).to_owned()).collect(),
        neighbour_weights: neighbours.iter().map(|(_, w)| *w).collect(),
    }
}

/// A tea and coffee shop: teaware goes with tea, grinders with coffee; "gift" sells best.
fn shop() -> Vec<CatalogProduct> {
    vec![
        product("longjing", "tea", 80, &[("gaiwan", 500), ("cups", 300)]),
        product("puer", "tea", 60, &[("tea-tray", 400)]),
        product("oolong", "tea", 50, &[]),
        product("gaiwan", "teaware", 40, &[("longjing", 600)]),
        product("cups", "teaware", 30, &[]),
        product("tea-tray", "teaware", 20, &[]),
        product("espresso", "coffee", 90, &[("grinder", 500)]),
        CatalogProduct { price: 15000, ..product("grinder", "coffee-gear", 35, &[]) },
        product("gift", "gifts", 100, &[]),
        product("sold-out", "tea", 99, &[]),
    ]
    .into_iter()
    .map(|p| if p.id == "sold-out" { CatalogProduct { in_stock: false, ..p } } else { p })
    .collect()
}

fn request(context: RecommendContext) -> RecommendRequest {
    RecommendRequest {
        context,
        product_id: None,
        cart: vec![],
        category: None,
        limit: 5,
        exclude: vec![],
        repurchase: false,
        personalised: true,
    }
}

fn event(id: &str, kind: HistoryKind, days_ago: i64) -> HistoryEvent {
    HistoryEvent { product_id: id.into(), kind, at: NOW - days_ago * DAY, dwell_seconds: 60 }
}

fn ids(list: &[loyalty_core::Recommendation]) -> Vec<&str> {
    list.iter().map(|r| r.product_id.as_str()).collect()
}

#[test]
fn a_product_page_recommends_what_goes_with_it_and_says_so() {
    let index = CatalogIndex::build(&shop());
    let r = RecommendRequest { product_id: Some("longjing".into()), ..request(RecommendContext::Product) };
    let list = recommend(&index, &[], &r, None, &Ranking::default(), NOW);
    // Bought with it first, then something like it; the second thing bought with it is teaware again, so
    // diversity lets an alternative in before it, but it stays ahead of what is merely popular.
    assert_eq!(ids(&list), ["gaiwan", "puer", "oolong", "cups", "gift"], "{list:?}");
    assert_eq!(list[0].reasons[0].kind, ReasonKind::BoughtWith);
    assert_eq!(list[0].reasons[0].product_id.as_deref(), Some("longjing"));
    assert_eq!(
        (list[1].reasons[0].kind, list[1].reasons[0].product_id.as_deref()),
        (ReasonKind::Similar, Some("longjing"))
    );
    assert!(!ids(&list).contains(&"longjing"), "never the product on the page");
    assert!(!ids(&list).contains(&"sold-out"), "never out of stock");
}

#[test]
fn history_brings_what_the_shopper_looked_at_and_old_interest_fades() {
    let index = CatalogIndex::build(&shop());
    let r = request(RecommendContext::Home);
    // A recent look at the espresso: its grinder comes first, because of that view.
    let recent = [event("espresso", HistoryKind::View, 1), event("puer", HistoryKind::View, 120)];
    let list = recommend(&index, &recent, &r, None, &Ranking::default(), NOW);
    assert_eq!(list[0].product_id, "grinder", "{list:?}");
    assert_eq!(list[0].reasons[0].kind, ReasonKind::Viewed);
    assert_eq!(list[0].reasons[0].product_id.as_deref(), Some("espresso"));
    // The same two views the other way round in time: the pu'er's tray leads.
    let old = [event("espresso", HistoryKind::View, 120), event("puer", HistoryKind::View, 1)];
    let list = recommend(&index, &old, &r, None, &Ranking::default(), NOW);
    assert_eq!(list[0].product_id, "tea-tray", "{list:?}");
    // Viewed products may come back; bought ones do not, unless they are consumables.
    let bought = [event("espresso", HistoryKind::Purchase, 3)];
    let list = recommend(
        &index,
        &bought,
        &RecommendRequest { limit: 9, ..r.clone() },
        None,
        &Ranking::default(),
        NOW,
    );
    assert!(!ids(&list).contains(&"espresso"));
    assert_eq!(list[0].reasons[0].kind, ReasonKind::BoughtWith, "a purchase's neighbours are bought with it");
    let again = RecommendRequest { limit: 9, repurchase: true, ..r.clone() };
    assert!(ids(&recommend(&index, &bought, &again, None, &Ranking::default(), NOW)).contains(&"espresso"));
    // Personalisation off: the history is not used at all.
    let off = RecommendRequest { personalised: false, ..r };
    let list = recommend(&index, &recent, &off, None, &Ranking::default(), NOW);
    assert_eq!(list[0].product_id, "gift");
    assert_eq!(list[0].reasons[0].kind, ReasonKind::Popular);
}

#[test]
fn a_cart_is_completed_and_a_newcomer_sees_what_is_popular_in_the_pages_category() {
    let index = CatalogIndex::build(&shop());
    let cart =
        RecommendRequest { cart: vec!["puer".into(), "espresso".into()], ..request(RecommendContext::Cart) };
    let list = recommend(&index, &[], &cart, None, &Ranking::default(), NOW);
    assert_eq!(&ids(&list)[..2], ["grinder", "tea-tray"], "{list:?}");
    assert!(!ids(&list).contains(&"puer") && !ids(&list).contains(&"espresso"));
    let cold = RecommendRequest { category: Some("teaware".into()), ..request(RecommendContext::Home) };
    let list = recommend(&index, &[], &cold, None, &Ranking::default(), NOW);
    assert_eq!(&ids(&list)[..2], ["gaiwan", "cups"], "{list:?}");
    assert_eq!(list[0].reasons[0].kind, ReasonKind::PopularIn);
    assert_eq!(list[0].reasons[0].category.as_deref(), Some("teaware"));
    // New products rank beside the popular ones for a newcomer, and say so.
    let mut products = shop();
    products.iter_mut().filter(|p| p.id == "tea-tray").for_each(|p| p.added_at = Some(NOW - 3 * DAY));
    products.iter_mut().filter(|p| p.id == "cups").for_each(|p| p.added_at = Some(NOW - 90 * DAY));
    let with_new = CatalogIndex::build(&products);
    let list = recommend(&with_new, &[], &cold, None, &Ranking::default(), NOW);
    assert_eq!(&ids(&list)[..2], ["tea-tray", "gaiwan"], "{list:?}");
    assert_eq!(list[0].reasons[0].kind, ReasonKind::New);
    let excluded = RecommendRequest { exclude: vec!["gaiwan".into()], ..cold };
    assert!(!ids(&recommend(&index, &[], &excluded, None, &Ranking::default(), NOW)).contains(&"gaiwan"));
}

#[test]
fn diversity_keeps_the_list_from_being_one_kind_of_thing() {
    // Twelve near-identical teas lead on popularity; five other things follow.
    let mut products: Vec<CatalogProduct> =
        (0..12).map(|i| product(&format!("tea-{i:02}"), "tea", 90 - i, &[])).collect();
    for (i, c) in ["mugs", "kettles", "books", "snacks", "gifts"].iter().enumerate() {
        products.push(product(&format!("other-{i}"), c, 70 - i as u32, &[]));
    }
    let index = CatalogIndex::build(&products);
    let history = [event("tea-00", HistoryKind::View, 0)];
    let r = RecommendRequest { limit: 10, repurchase: true, ..request(RecommendContext::Home) };
    let plain = Ranking { diversity_lambda: 1.0, ..Ranking::default() };
    let teas = |list: &[loyalty_core::Recommendation]| {
        list.iter().filter(|r| r.product_id.starts_with("tea")).count()
    };
    assert_eq!(teas(&recommend(&index, &history, &r, None, &plain, NOW)), 10);
    let diverse = recommend(&index, &history, &r, None, &Ranking::default(), NOW);
    assert!(teas(&diverse) <= 6, "{:?}", ids(&diverse));
    assert_eq!(diverse.len(), 10);
    // The viewed tea is where the list starts from, not in it; the most relevant other still leads.
    assert!(!ids(&diverse).contains(&"tea-00"));
    assert_eq!(diverse[0].product_id, "tea-01");
}

fn program() -> Program {
    Program::from_json(
        r#"{"version": 1, "currency": "CNY", "locales": ["en"], "name": {"en": "Club"},
            "earn": {"rate": {"points": 1, "perAmount": 100},
                     "bonuses": [{"id": "gear", "name": {"en": "Gear"}, "appliesTo": {"categories": ["coffee-gear"]}, "multiplierPercent": 300}]},
            "tiers": [{"id": "member", "name": {"en": "Member"}, "threshold": 0},
                      {"id": "gold", "name": {"en": "Gold"}, "threshold": 20000}],
            "rewards": [{"id": "big", "name": {"en": "Big"}, "kind": "freeShipping", "cost": 200}]}"#,
    )
    .unwrap_or_else(|p| panic!("{p}"))
}

#[test]
fn loyalty_boosts_give_reasons_and_points_but_stay_bounded() {
    let index = CatalogIndex::build(&shop());
    let program = program();
    // ¥60 spent of ¥200 for Gold: the ¥150 grinder reaches it, a ¥50 product does not; 100 of the 200 points
    // for the reward: the grinder's 450 (triple points) reach it, the gift's 50 do not.
    let tier = loyalty_core::tier_progress(
        &program,
        &TierActivity {
            events: vec![loyalty_core::QualifyingEvent {
                at: NOW - DAY,
                source: loyalty_core::EarnSource::Purchase,
                spend: 6000,
                points: 60,
                orders: 1,
            }],
            retained_tier_id: None,
        },
        NOW,
    )
    .unwrap();
    let rewards = rewards_overview(&program, 100);
    let reach = TierReach::from(&tier);
    let points = earning((&program).into(), reach.current_tier_id.as_deref(), NOW);
    let loyalty = Loyalty::new((&program).into(), &points, Some(&reach), Some(&rewards));
    let r = RecommendRequest { limit: 9, ..request(RecommendContext::Home) };
    let list = recommend(&index, &[], &r, Some(loyalty), &Ranking::default(), NOW);
    let grinder = list.iter().find(|x| x.product_id == "grinder").expect("grinder listed");
    let kinds: Vec<ReasonKind> = grinder.reasons.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        vec![
            ReasonKind::Popular,
            ReasonKind::BonusPoints,
            ReasonKind::ReachesTier,
            ReasonKind::ReachesReward
        ]
    );
    assert_eq!(grinder.reasons[1].percent, Some(300));
    assert_eq!(grinder.reasons[2].tier_id.as_deref(), Some("gold"));
    assert_eq!(grinder.points, Some(450));
    let gift = list.iter().find(|x| x.product_id == "gift").expect("gift listed");
    assert_eq!(gift.points, Some(50));
    assert_eq!(gift.reasons.len(), 1, "no boost: {:?}", gift.reasons);
    // Bounded: triple points lift the grinder (popularity 35) past 40 but not past the gift (100).
    assert!(ids(&list).iter().position(|x| *x == "grinder") > ids(&list).iter().position(|x| *x == "gift"));
}

#[test]
fn an_index_built_in_slices_is_the_same_index() {
    let products = shop();
    let mut builder = IndexBuilder::default();
    for chunk in products.chunks(3) {
        builder.add(chunk);
    }
    let sliced = builder.finish();
    let whole = CatalogIndex::build(&products);
    let r = RecommendRequest {
        product_id: Some("longjing".into()),
        limit: 9,
        ..request(RecommendContext::Product)
    };
    assert_eq!(
        recommend(&sliced, &[], &r, None, &Ranking::default(), NOW),
        recommend(&whole, &[], &r, None, &Ranking::default(), NOW)
    );
}

fn arbitrary_catalog() -> impl Strategy<Value = Vec<CatalogProduct>> {
    prop::collection::vec(
        (0..6u8, 0..=100u32, prop::collection::vec((0..30usize, 0..=1000u32), 0..5), any::<bool>()),
        1..30,
    )
    .prop_map(|rows| {
        let n = rows.len();
        rows.iter()
            .enumerate()
            .map(|(i, (cat, pop, near, stock))| {
                let near: Vec<(String, u32)> =
                    near.iter().map(|(j, w)| (format!("p{:02}", j % n), *w)).collect();
                let mut p = product(&format!("p{i:02}"), &format!("c{cat}"), *pop, &[]);
                p.neighbours = near.iter().map(|(id, _)| id.clone()).collect();
                p.neighbour_weights = near.iter().map(|(_, w)| *w).collect();
                p.in_stock = *stock || i % 3 != 0;
                p
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn rankings_are_deterministic_filtered_and_boost_bounded(
        catalog in arbitrary_catalog(),
        seen in prop::collection::vec((0..30usize, 0..3u8, 0..200i64), 0..12),
        excluded in 0..30usize,
        shuffle in any::<u64>(),
    ) {
        let n = catalog.len();
        let history: Vec<HistoryEvent> = seen.iter().map(|(i, k, days)| {
            let kind = [HistoryKind::View, HistoryKind::Cart, HistoryKind::Purchase][*k as usize];
            event(&format!("p{:02}", i % n), kind, *days)
        }).collect();
        let r = RecommendRequest { limit: 8, exclude: vec![format!("p{:02}", excluded % n)], ..request(RecommendContext::Home) };
        let index = CatalogIndex::build(&catalog);
        let list = recommend(&index, &history, &r, None, &Ranking::default(), NOW);
        // The same catalog in another order gives the same list.
        let mut shuffled = catalog.clone();
        let len = shuffled.len();
        shuffled.rotate_left((shuffle as usize) % len);
        prop_assert_eq!(&recommend(&CatalogIndex::build(&shuffled), &history, &r, None, &Ranking::default(), NOW), &list);
        // Never out of stock, excluded, bought, or twice.
        let bought: Vec<&str> = history.iter().filter(|e| e.kind == HistoryKind::Purchase).map(|e| e.product_id.as_str()).collect();
        for (i, rec) in list.iter().enumerate() {
            let p = catalog.iter().find(|p| p.id == rec.product_id).unwrap();
            prop_assert!(p.in_stock);
            prop_assert!(!r.exclude.contains(&rec.product_id));
            prop_assert!(!bought.contains(&rec.product_id.as_str()));
            prop_assert!(!list[..i].iter().any(|x| x.product_id == rec.product_id));
        }
        // Boosts re-rank within the cap: with diversity off, an item whose boosted score is ahead of another's
        // never had a relevance below 1 / (1 + cap) of it.
        let plain = Ranking { diversity_lambda: 1.0, ..Ranking::default() };
        let program = program();
        let points = earning((&program).into(), None, NOW);
        let loyalty = Loyalty::new((&program).into(), &points, None, None);
        let boosted = recommend(&index, &history, &r, Some(loyalty), &plain, NOW);
        let unboosted = recommend(&index, &history, &r, None, &plain, NOW);
        let relevance = |id: &str| unboosted.iter().find(|x| x.product_id == id).map(|x| x.score);
        for pair in boosted.windows(2) {
            prop_assert!(pair[0].score >= pair[1].score);
            if let (Some(a), Some(b)) = (relevance(&pair[0].product_id), relevance(&pair[1].product_id)) {
                prop_assert!(a * (1.0 + plain.boost_cap) >= b * 0.999, "{} before {}", pair[0].product_id, pair[1].product_id);
            }
        }
    }
}
