//! The catalog in columns (`GET /v1/catalog?format=columns`): an index decoded from columns ranks exactly as
//! one built from the same products as objects, and every malformed document is refused with the column and
//! row named.

use loyalty_core::{
    index_from_columns, recommend, CatalogColumns, CatalogIndex, CatalogProduct, CatalogShown, HistoryEvent,
    HistoryKind, Ranking, RecommendContext, RecommendRequest,
};
use proptest::prelude::*;

const NOW: i64 = 1_767_225_600;

fn columns_of(products: &[CatalogProduct]) -> String {
    let refs: Vec<&CatalogProduct> = products.iter().collect();
    serde_json::to_string(&CatalogColumns::from_products(&refs, &["en".to_owned(), "zh-CN".to_owned()]))
        .unwrap_or_else(|e| panic!("columns serialize: {e}"))
}

fn decoded(products: &[CatalogProduct]) -> CatalogIndex {
    index_from_columns(&columns_of(products)).unwrap_or_else(|p| panic!("columns decode: {p}"))
}

fn arbitrary_catalog() -> impl Strategy<Value = Vec<CatalogProduct>> {
    let row = (
        prop::collection::vec(0..5u8, 0..3),
        prop::collection::vec(0..6u8, 0..3),
        0..=100u32,
        prop::collection::vec((0..40usize, prop::option::of(0..=1000u32)), 0..10),
        any::<bool>(),
        prop::option::of(0..60i64),
        1..100_000i64,
    );
    prop::collection::vec(row, 1..40).prop_map(|rows| {
        let n = rows.len();
        rows.into_iter()
            .enumerate()
            .map(|(i, (cats, tags, popularity, near, in_stock, days, price))| {
                // Some neighbours are outside the catalog (a candidate set holds only some products).
                let near: Vec<(String, Option<u32>)> =
                    near.into_iter().map(|(j, w)| (format!("p{:02}", j % (n + 3)), w)).collect();
                let weighted = near.iter().all(|(_, w)| w.is_some());
                CatalogProduct {
                    id: format!("p{i:02}"),
                    title: [("en".to_owned(), format!("Product {i}"))].into_iter().collect(),
                    url: format!("/p/{i}"),
                    image: None,
                    price,
                    categories: cats.iter().map(|c| format!("c{c}")).collect(),
                    tags: tags.iter().map(|t| format!("t{t}")).collect(),
                    in_stock,
                    added_at: days.map(|d| NOW - d * 86_400),
                    popularity,
                    neighbours: near.iter().map(|(id, _)| id.clone()).collect(),
                    neighbour_weights: if weighted {
                        near.iter().filter_map(|(_, w)| *w).collect()
                    } else {
                        vec![]
                    },
                }
            })
            .collect()
    })
}

proptest! {
    /// What a list shows of each product (title per locale, link, image) reads back from the columns as the
    /// products hold it.
    #[test]
    fn a_list_reads_back_what_each_product_shows(catalog in arbitrary_catalog()) {
        let shown = CatalogShown::read_str(&columns_of(&catalog)).expect("reads");
        prop_assert_eq!(shown.id.len(), catalog.len());
        for (row, product) in catalog.iter().enumerate() {
            prop_assert_eq!(shown.row(&product.id), Some(row));
            prop_assert_eq!(shown.title(row, "en-GB", None), product.title.get("en").map(String::as_str));
            prop_assert_eq!(shown.url[row].as_deref(), Some(product.url.as_str()));
            prop_assert_eq!(&shown.image[row], &product.image);
        }
    }

    #[test]
    fn columns_rank_as_objects_do(
        catalog in arbitrary_catalog(),
        seen in prop::collection::vec((0..40usize, 0..3u8, 0..100i64), 0..15),
        page in 0..40usize,
        context in 0..3u8,
    ) {
        let n = catalog.len();
        let history: Vec<HistoryEvent> = seen.iter().map(|(i, k, days)| HistoryEvent {
            product_id: format!("p{:02}", i % n),
            kind: [HistoryKind::View, HistoryKind::Cart, HistoryKind::Purchase][*k as usize],
            at: NOW - days * 86_400,
            dwell_seconds: 30,
        }).collect();
        let context = [RecommendContext::Home, RecommendContext::Product, RecommendContext::Cart][context as usize];
        let page = format!("p{:02}", page % n);
        let request = RecommendRequest {
            context,
            product_id: (context == RecommendContext::Product).then(|| page.clone()),
            cart: if context == RecommendContext::Cart { vec![page.clone()] } else { vec![] },
            category: None,
            limit: 10,
            exclude: vec![],
            repurchase: false,
            personalised: true,
        };
        // Weights missing in the objects are written as the ranks' default in permille: compare with the
        // objects carrying those same weights.
        let mut weighted = catalog.clone();
        for p in &mut weighted {
            if p.neighbour_weights.is_empty() {
                p.neighbour_weights =
                    (0..p.neighbours.len()).map(loyalty_core::default_neighbour_weight).collect();
            }
        }
        let ranking = Ranking::default();
        let from_objects = recommend(&CatalogIndex::build(&weighted), &history, &request, None, &ranking, NOW);
        let from_columns = recommend(&decoded(&catalog), &history, &request, None, &ranking, NOW);
        prop_assert_eq!(from_columns, from_objects);
    }
}

/// Decodes `text` and compares the problems (or "ok") with `expected`.
fn check(text: &str, expected: &str) {
    let got = match index_from_columns(text) {
        Ok(index) => format!("ok: {} products", index.len()),
        Err(problems) => problems.to_string(),
    };
    assert_eq!(got, expected, "{text}");
}

#[test]
fn malformed_columns_are_refused_with_the_column_and_row() {
    let ok = r#"{"format": "columns-1", "id": ["a", "b"], "price": [100, 200]}"#;
    check(ok, "ok: 2 products");
    check(
        r#"{"format": "columns-1", "id": ["a"], "price": [1], "title": {"en": ["x\"y"]}, "later": [{"z": null}]}"#,
        "ok: 1 products",
    );
    check(r#"{"id": ["a"], "price": [1]}"#, "format: is required (\"columns-1\")");
    check(
        r#"{"format": "columns-2", "id": [], "price": []}"#,
        "format: must be \"columns-1\", got \"columns-2\"",
    );
    check(r#"{"format": "columns-1", "price": []}"#, "id: is required: the product ids");
    check(
        r#"{"format": "columns-1", "id": ["a", "b", "a", ""], "price": [1, -5, 2, 3]}"#,
        "id[2]: duplicate id \"a\" (also at row 0); id[3]: must be 1 to 128 bytes; \
         price[1]: must be between 0 and 1000000000000000, got -5",
    );
    check(
        r#"{"format": "columns-1", "id": ["a", "b"], "price": [1], "popularity": [1, 101], "inStock": [true, 2]}"#,
        "price: must have 2 entries (one per product), has 1; popularity[1]: must be between 0 and 100, got 101; \
         inStock[1]: must be between 0 and 1, got 2",
    );
    check(
        r#"{"format": "columns-1", "id": ["a", "b"], "price": [1, 2], "terms": ["c:x", "tag"],
            "termCount": [1, 2], "productTerms": [0, 2]}"#,
        "productTerms[1]: must be between 0 and 1, got 2; termCount: must add up to the 2 entries of productTerms; \
         terms[1]: must be \"c:<category>\" or \"t:<tag>\" without control characters, got \"tag\"",
    );
    check(
        r#"{"format": "columns-1", "id": ["a", "b"], "price": [1, 2], "neighbourCount": [1, -1],
            "neighbours": [1, 2], "neighbourWeights": [2000]}"#,
        "neighbours[1]: must be between 0 and 1, got 2; \
         neighbourWeights: must have 2 entries (one per neighbour, or none), has 1; \
         neighbourWeights[0]: must be between 0 and 1000, got 2000; \
         neighbourCount: must add up to the 2 entries of neighbours",
    );
    check(
        r#"{"format": "columns-1", "id": ["a"], "price": [2, 1.5]}"#,
        "price[1]: invalid: must be a whole number, got 1.5",
    );
    // Whole numbers written as decimals (Python's and PHP's encoders) are read exactly, as everywhere.
    check(
        r#"{"format": "columns-1", "id": ["a", "b"], "price": [100.0, 2e2], "addedAt": [1.7e9, null]}"#,
        "ok: 2 products",
    );
    check(
        r#"{"format": "columns-1", "id": ["a"], "price": [2, 1e30]}"#,
        "price[1]: invalid: is out of range (whole numbers from -9223372036854775808 to 9223372036854775807), \
         got 1e30",
    );
    check(
        r#"{"format": "columns-1", "id": ["a", 7], "price": [2]}"#,
        "id[1]: invalid: expected a string at byte 36",
    );
    check(
        r#"{"format": "columns-1", "id": ["a"], "price": [1], "id": ["b"]}"#,
        "id: invalid: duplicate member \"id\"",
    );
    check(
        r#"{"format": "columns-1", "id": ["a"], "price": [1]} x"#,
        "invalid: unexpected text after the JSON value at byte 51",
    );
    check(
        r#"{"format": "columns-1", "id": ["a"], "price": [1], "title": {"en": ["a" "b"]}}"#,
        "title: invalid: expected ',' or ']' at byte 72",
    );
    check(
        r#"{"format": "columns-1", "id": ["a"], "price": [1], "x": "\u00"}"#,
        "x: invalid: invalid \\u escape at byte 59",
    );
    check(
        r#"{"format": "columns-1", "id": ["a"], "price": [1], "x": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"}"#,
        "x: invalid: nesting deeper than 64 at byte 121",
    );
    check("", "invalid: expected an object at the end of the text");
    check("[1]", "invalid: expected an object at byte 0");
}

#[test]
fn many_problems_are_counted_not_all_listed() {
    let prices: Vec<String> = (0..30).map(|_| "-1".to_owned()).collect();
    let ids: Vec<String> = (0..30).map(|i| format!("\"p{i}\"")).collect();
    let text =
        format!(r#"{{"format": "columns-1", "id": [{}], "price": [{}]}}"#, ids.join(","), prices.join(","));
    let problems = index_from_columns(&text).err().unwrap_or_else(|| panic!("accepted"));
    assert_eq!(problems.0.len(), 21);
    assert_eq!(problems.0[20].message, "and 10 more problems");
}
