//! The recommendations list's module at its boundary: a catalog in columns and a question in, the list's texts
//! out, as the worker exchanges them. The points come from the earning rules of the whole program, as in the
//! worker they come from the shell's.

use loyalty_core::{earning, EarnView, ProductOffer, Program};
use loyalty_recs::{list, offer_text, Catalog, ListQuestion, FIELD, PART};

const NOW: i64 = 1_780_000_000;

/// Tea goes with cups (60% of its orders) and a pot (30%); the gift box sells best. The cups' title holds
/// the module's separators, the pot's link is a script.
fn catalog(pot_url: &str) -> Catalog {
    let text = format!(
        r#"{{"format": "columns-1", "id": ["tea", "cups", "pot", "gift"], "price": [16800, 4900, 8800, 20000],
        "popularity": [50, 10, 20, 100], "terms": ["c:tea", "c:teaware"], "termCount": [1, 1, 1, 1],
        "productTerms": [0, 1, 1, 0], "neighbourCount": [2, 0, 0, 0], "neighbours": [1, 2], "neighbourWeights": [600, 300],
        "title": {{"en": ["Tea", "Glass\u0000 cups\u0001", "Pot", "Gift box"], "zh-CN": ["龙井", "玻璃杯", "茶壶", "礼盒"]}},
        "url": ["/p/tea", "/p/cups", "{pot_url}", "https://shop.example/gift"], "image": [null, "/i/cups.jpg", null, null]}}"#
    );
    Catalog::read(&text).expect("the catalog reads")
}

fn program() -> (String, Program) {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../server/demo/program.json"))
        .expect("the demo program");
    let program = Program::from_json(&text).expect("the demo program is valid");
    (text, program)
}

fn question<'a>(program: &'a str, tag: &'a str, preferences: &'a str) -> ListQuestion<'a> {
    ListQuestion { program, product_id: "tea", tag, preferences, now: NOW, ..ListQuestion::default() }
}

/// The list as parts: the head, then each item's parts.
fn parts(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut fields = text.split(FIELD).map(|f| f.split(PART).map(str::to_owned).collect::<Vec<_>>());
    let head = fields.next().expect("a head");
    (head, fields.collect())
}

#[test]
fn a_product_page_lists_what_goes_with_its_product_with_the_points_it_earns() {
    let (text, program) = program();
    let points = earning(EarnView::from(&program), None, NOW);
    let out = list(&catalog("/p/pot"), &question(&text, "en", ""), &points).expect("a list");
    let (head, items) = parts(&out);
    assert_eq!(head[0], "Goes well with this");
    assert_eq!(head[4], "1", "personalised by default");
    let ids: Vec<&str> = items.iter().map(|i| i[0].as_str()).collect();
    // Bought together first; then diversity puts the gift box before a second piece of teaware.
    assert_eq!(ids, ["cups", "gift", "pot"], "never the page's own product");
    let cups = &items[0];
    assert_eq!(cups[1..5], ["/p/cups", "/i/cups.jpg", "Glass cups", "CN¥49.00"], "separators never pass");
    let offer = |id: &str, price, category: &str| ProductOffer {
        product_id: id.into(),
        variant_id: None,
        categories: vec![category.into()],
        tags: vec![],
        price,
        currency: program.currency,
        exchange_rate: None,
        quantity: 1,
    };
    let earned = points(&offer("cups", 4900, "teaware")).expect("points");
    assert_eq!(cups[5], format!("Earn {earned} points"), "what the badge (and the award) says");
    assert!(cups[6].starts_with("Often bought with Tea"), "{}", cups[6]);
    assert!(cups[7].starts_with("boughtWith"), "{}", cups[7]);
    assert!(items[2][6].starts_with("Often bought with Tea"), "{}", items[2][6]);
    assert_eq!(items[1][1..3], ["https://shop.example/gift", ""], "an https link; no image");
}

#[test]
fn the_list_speaks_the_element_s_locale() {
    let (text, program) = program();
    let points = earning(EarnView::from(&program), None, NOW);
    let (head, items) =
        parts(&list(&catalog("/p/pot"), &question(&text, "zh-CN", ""), &points).expect("a list"));
    assert_eq!(head[0], "搭配推荐");
    assert_eq!(items[0][3], "玻璃杯");
    assert_eq!(items[0][4], "¥49.00");
    assert!(items[0][6].starts_with("常与「龙井」一起购买"), "{}", items[0][6]);
    // A locale the catalog lacks falls back to the program's first.
    let (_, items) = parts(&list(&catalog("/p/pot"), &question(&text, "fr", ""), &points).expect("a list"));
    assert_eq!(items[0][3], "玻璃杯");
}

#[test]
fn a_link_that_is_not_the_shop_s_is_never_listed() {
    let (text, program) = program();
    let points = earning(EarnView::from(&program), None, NOW);
    for bad in ["javascript:alert(1)", "//evil.example/p", "/\\\\evil.example", "data:text/html,x"] {
        let out = list(&catalog(bad), &question(&text, "en", ""), &points).expect("a list");
        let (_, items) = parts(&out);
        assert!(items.iter().all(|i| i[0] != "pot"), "{bad}: {out:?}");
    }
}

#[test]
fn with_personalisation_off_the_history_is_not_read_and_the_switch_says_so() {
    let (text, program) = program();
    let points = earning(EarnView::from(&program), None, NOW);
    let history =
        format!(r#"{{"version":1,"events":[{{"productId":"gift","kind":"view","at":{}}}]}}"#, NOW - 60);
    let on = ListQuestion { history: &history, ..question(&text, "en", "") };
    let (_, items) = parts(&list(&catalog("/p/pot"), &on, &points).expect("a list"));
    assert!(items.iter().all(|i| i[0] != "gift"), "what the shopper has seen is not listed again");
    let off = ListQuestion { history: &history, ..question(&text, "en", r#"{"personalised":false}"#) };
    let (head, items) = parts(&list(&catalog("/p/pot"), &off, &points).expect("a list"));
    assert_eq!(head[3], "Not personalised: the same for every shopper.");
    assert_eq!(head[4], "");
    assert!(items.iter().any(|i| i[0] == "gift"), "the history was not read");
}

#[test]
fn without_a_program_there_is_no_list_and_another_shopper_s_state_is_not_read() {
    let points = |_: &ProductOffer| Some(7);
    assert_eq!(list(&catalog("/p/pot"), &question("{", "en", ""), &points), None);
    let (text, _) = program();
    let state = r#"{"customerId":"someone-else","tier":{"metric":"spend","currentTierId":"gold","nextTierId":"black","remaining":1},"rewards":{"affordable":[],"blocked":false}}"#;
    let mine = ListQuestion { shopper: state, customer_id: "me", ..question(&text, "en", "") };
    let (_, items) = parts(&list(&catalog("/p/pot"), &mine, &points).expect("a list"));
    assert!(items.iter().all(|i| !i[6].contains("Reaches")), "no tier boost from another shopper's state");
    let theirs = ListQuestion { customer_id: "someone-else", ..mine };
    let (_, items) = parts(&list(&catalog("/p/pot"), &theirs, &points).expect("a list"));
    assert!(items.iter().any(|i| i[6].contains("Reaches Black")), "{items:?}");
    assert!(items.iter().all(|i| i[5] == "Earn 7 points"), "the points are the earning's, as given");
}

#[test]
fn a_catalog_whose_ids_or_terms_hold_control_characters_is_refused() {
    for (id, term) in
        [("cheap\\u00009999999", "c:coffee"), ("bean", "c:coffee\\u0001single-origin"), ("a\\nb", "t:x")]
    {
        let text = format!(
            r#"{{"format": "columns-1", "id": ["{id}", "other"], "price": [100, 5000], "terms": ["{term}"],
            "termCount": [0, 1], "productTerms": [0], "title": {{"en": ["A", "B"]}}, "url": ["/p/a", "/p/b"]}}"#
        );
        assert!(Catalog::read(&text).is_none(), "{text}");
    }
}

#[test]
fn questions_and_products_cross_as_fields() {
    let text =
        ["p", "s", "me", "h", "", "1", "cart", "", "a,b", "", "3", "", "en", "1780000000", "0"].join("\u{0}");
    let question = ListQuestion::read(&text).expect("reads");
    assert_eq!(
        (question.customer_id, question.require_consent, question.cart, question.now),
        ("me", true, "a,b", NOW)
    );
    assert_eq!(ListQuestion::read(&format!("{text}\u{0}extra")), None, "one field too many");
    assert_eq!(ListQuestion::read("p\u{0}s"), None, "too few");
    let offer = ProductOffer {
        product_id: "cups".into(),
        variant_id: None,
        categories: vec!["teaware".into(), "glass".into()],
        tags: vec!["gift".into()],
        price: 4900,
        currency: loyalty_core::Currency::known("CNY").expect("CNY"),
        exchange_rate: None,
        quantity: 1,
    };
    assert_eq!(offer_text(&offer).as_deref(), Some("cups\u{0}4900\u{0}teaware\u{1}glass\u{0}gift"));
    // A name holding a separator would read back as another product or category: not written at all.
    for (id, category) in [("cheap\u{0}9999999", "teaware"), ("cups", "coffee\u{1}single-origin")] {
        let odd = ProductOffer { product_id: id.into(), categories: vec![category.into()], ..offer.clone() };
        assert_eq!(offer_text(&odd), None, "{id:?} {category:?}");
    }
}
