//! The recommender's native speed (the third column of the browser benchmark): synthetic catalogs of 1,000,
//! 10,000 and 100,000 products, a shopper with 200 history events; decoding the catalog JSON, building the
//! index, and ranking a top 10 (median and p95 of repeated runs). `cargo run --release -p loyalty-core
//! --example bench_recs`.
#![allow(clippy::print_stdout, reason = "a report printed for a person")]

use loyalty_core::{
    index_from_columns, recommend, CatalogColumns, CatalogIndex, CatalogProduct, FromJson, HistoryEvent,
    HistoryKind, Ranking, RecommendContext, RecommendRequest,
};
use std::time::Instant;

/// SplitMix64: the same catalog on every machine.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}

/// A synthetic catalog: 2 of 60 categories, 3 of 400 tags, a popularity, 8 weighted neighbours each.
pub fn catalog(n: usize, seed: u64) -> Vec<CatalogProduct> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|i| {
            let neighbours: Vec<String> = (0..8).map(|_| format!("p{:06}", rng.below(n as u64))).collect();
            CatalogProduct {
                id: format!("p{i:06}"),
                title: [("en".to_owned(), format!("Product {i}"))].into_iter().collect(),
                url: format!("/p/{i}"),
                image: Some(format!("/img/{i}.jpg")),
                price: 100 + rng.below(50_000) as i64,
                categories: (0..2).map(|_| format!("cat-{}", rng.below(60))).collect(),
                tags: (0..3).map(|_| format!("tag-{}", rng.below(400))).collect(),
                in_stock: rng.below(10) > 0,
                added_at: None,
                popularity: rng.below(101) as u32,
                neighbour_weights: (0..8).map(|k| 800 / (k + 1)).collect(),
                neighbours,
            }
        })
        .collect()
}

fn history(n: usize, now: i64) -> Vec<HistoryEvent> {
    let mut rng = Rng(99);
    (0..200)
        .map(|_| HistoryEvent {
            product_id: format!("p{:06}", rng.below(n as u64)),
            kind: [HistoryKind::View, HistoryKind::View, HistoryKind::Cart, HistoryKind::Purchase]
                [rng.below(4) as usize],
            at: now - rng.below(90 * 86_400) as i64,
            dwell_seconds: rng.below(120) as u32,
        })
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let now = 1_767_225_600;
    println!("| products | decode JSON (size) | build index | index from columns (size) | index heap | top 10, median | top 10, p95 |\n|---|---|---|---|---|---|---|");
    for n in [1_000, 10_000, 100_000] {
        let products = catalog(n, 7);
        let text = serde_json::to_string(&products).unwrap_or_default();
        let started = Instant::now();
        let decoded = Vec::<CatalogProduct>::from_json_str(&text).unwrap_or_default();
        let decode = started.elapsed().as_secs_f64() * 1000.0;
        let started = Instant::now();
        let index = CatalogIndex::build(&decoded);
        let build = started.elapsed().as_secs_f64() * 1000.0;
        // The same catalog in columns (`GET /v1/catalog?format=columns`), decoded straight into an index.
        let refs: Vec<&CatalogProduct> = products.iter().collect();
        let columns = serde_json::to_string(&CatalogColumns::from_products(&refs, &["en".to_owned()]))
            .unwrap_or_default();
        let started = Instant::now();
        let from_columns = index_from_columns(&columns).map(|i| i.len()).unwrap_or_default();
        let columns_ms = started.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(from_columns, n);
        let events = history(n, now);
        let request = RecommendRequest {
            context: RecommendContext::Home,
            product_id: None,
            cart: vec![],
            category: None,
            limit: 10,
            exclude: vec![],
            repurchase: false,
            personalised: true,
        };
        let mut times: Vec<f64> = (0..31)
            .map(|_| {
                let started = Instant::now();
                let list = recommend(&index, &events, &request, None, &Ranking::default(), now);
                assert_eq!(list.len(), 10);
                started.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "| {n} | {decode:.1} ms ({:.1} MB) | {build:.1} ms | {columns_ms:.1} ms ({:.1} MB) | {:.1} MB | {:.2} ms | {:.2} ms |",
            text.len() as f64 / 1_048_576.0,
            columns.len() as f64 / 1_048_576.0,
            index.heap_bytes() as f64 / 1_048_576.0,
            percentile(&times, 0.5),
            percentile(&times, 0.95)
        );
    }
}
