//! `make eval-recs`: the production ranking against two baselines on real baskets
//! (`../shared/datasets/groceries.csv`, 9,835 baskets of a grocery outlet, in time order).
//!
//! Protocol: the first 80% of baskets train, the last 20% test. For each test basket with at least two items,
//! one item chosen by a seeded generator is hidden and the rest is the cart; each method recommends 10 items
//! not in the cart, and scores a hit when the hidden item is among them (hit rate@10) and its rank's gain
//! (NDCG@10, one relevant item). 95% confidence intervals by bootstrap over test baskets (2,000 resamples,
//! seeded), and for the production ranking's difference to each baseline, paired over the same baskets.
//!
//! The production ranking is `loyalty_core::recommend` in the cart context with the loyalty boosts off (the
//! data has no program), over a catalog whose popularity and neighbours come from the training baskets by
//! `loyalty_core::popularity_ranks` and `loyalty_core::neighbours`, exactly as the reference server computes
//! them from orders. Its one free weight (popularity against bought-together) is chosen on a validation split
//! carved from the training baskets (their last 20%), never on the test baskets.
//!
//! Baselines: most popular (exact training counts), and plain co-occurrence (for each candidate, the sum over
//! cart items of the share of that item's baskets that also held the candidate, over the full matrix).
#![allow(clippy::print_stdout, reason = "a report printed for a person")]

use loyalty_core::{
    neighbours, popularity_ranks, recommend, CatalogIndex, CatalogProduct, Ranking, RecommendContext,
    RecommendRequest,
};
use std::collections::BTreeMap;
use std::time::Instant;

/// A small seeded generator (SplitMix64), so the split and the bootstrap are the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One test case: the cart and the hidden item.
struct Case {
    cart: Vec<String>,
    hidden: String,
}

fn cases(baskets: &[Vec<String>], seed: u64) -> Vec<Case> {
    let mut rng = Rng(seed);
    baskets
        .iter()
        .filter(|b| b.len() >= 2)
        .map(|b| {
            let h = rng.below(b.len());
            Case {
                cart: b.iter().enumerate().filter(|(i, _)| *i != h).map(|(_, x)| x.clone()).collect(),
                hidden: b[h].clone(),
            }
        })
        .collect()
}

/// Counts from training baskets.
struct Counts {
    baskets_with: BTreeMap<String, i64>,
    pairs: BTreeMap<(String, String), i64>,
}

fn count(baskets: &[Vec<String>]) -> Counts {
    let mut baskets_with = BTreeMap::new();
    let mut pairs = BTreeMap::new();
    for b in baskets {
        for (i, x) in b.iter().enumerate() {
            *baskets_with.entry(x.clone()).or_insert(0) += 1;
            for y in &b[i + 1..] {
                let key = if x < y { (x.clone(), y.clone()) } else { (y.clone(), x.clone()) };
                *pairs.entry(key).or_insert(0) += 1;
            }
        }
    }
    Counts { baskets_with, pairs }
}

/// The catalog a backend would serve from these baskets (every item ever seen, in stock).
fn catalog(items: &[String], counts: &Counts) -> Vec<CatalogProduct> {
    let units: Vec<(&str, i64)> = counts.baskets_with.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let ranks: BTreeMap<String, u32> = popularity_ranks(items.len(), &units).into_iter().collect();
    let pairs: Vec<(&str, &str, i64)> =
        counts.pairs.iter().map(|((a, b), n)| (a.as_str(), b.as_str(), *n)).collect();
    let mut near: BTreeMap<String, Vec<(String, u32)>> = neighbours(&units, &pairs).into_iter().collect();
    items
        .iter()
        .map(|id| {
            let (neighbours, neighbour_weights) = near.remove(id).unwrap_or_default().into_iter().unzip();
            CatalogProduct {
                id: id.clone(),
                title: BTreeMap::new(),
                url: "/".into(),
                image: None,
                price: 100,
                categories: vec![],
                tags: vec![],
                in_stock: true,
                added_at: None,
                popularity: ranks.get(id).copied().unwrap_or(0),
                neighbours,
                neighbour_weights,
            }
        })
        .collect()
}

/// A method: the cart in, ten item ids out.
type Method<'a> = Box<dyn Fn(&[String]) -> Vec<String> + 'a>;

fn production<'a>(index: &'a CatalogIndex, ranking: Ranking) -> Method<'a> {
    Box::new(move |cart: &[String]| {
        let request = RecommendRequest {
            context: RecommendContext::Cart,
            product_id: None,
            cart: cart.to_vec(),
            category: None,
            limit: 10,
            exclude: vec![],
            repurchase: false,
            personalised: true,
        };
        recommend(index, &[], &request, None, &ranking, 0).into_iter().map(|r| r.product_id).collect()
    })
}

fn most_popular<'a>(items: &'a [String], counts: &'a Counts) -> Method<'a> {
    let mut order: Vec<&String> = items.iter().collect();
    order.sort_by(|a, b| counts.baskets_with.get(*b).cmp(&counts.baskets_with.get(*a)).then(a.cmp(b)));
    Box::new(move |cart: &[String]| {
        order.iter().filter(|x| !cart.contains(x)).take(10).map(|x| (*x).clone()).collect()
    })
}

fn co_occurrence<'a>(items: &'a [String], counts: &'a Counts) -> Method<'a> {
    Box::new(move |cart: &[String]| {
        let mut scored: Vec<(f64, i64, &String)> = items
            .iter()
            .filter(|x| !cart.contains(x))
            .map(|x| {
                let score: f64 = cart
                    .iter()
                    .map(|c| {
                        let key = if c < x { (c.clone(), x.clone()) } else { (x.clone(), c.clone()) };
                        let together = counts.pairs.get(&key).copied().unwrap_or(0) as f64;
                        together / counts.baskets_with.get(c).copied().unwrap_or(1).max(1) as f64
                    })
                    .sum();
                (score, counts.baskets_with.get(x).copied().unwrap_or(0), x)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(b.2)));
        scored.into_iter().take(10).map(|(_, _, x)| x.clone()).collect()
    })
}

/// Per case: (hit, NDCG gain).
fn run(method: &Method<'_>, cases: &[Case]) -> Vec<(f64, f64)> {
    cases
        .iter()
        .map(|c| match method(&c.cart).iter().position(|x| *x == c.hidden) {
            Some(rank) => (1.0, 1.0 / ((rank + 2) as f64).log2()),
            None => (0.0, 0.0),
        })
        .collect()
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// 95% bootstrap interval of the mean (percentile method).
fn interval(values: &[f64], seed: u64) -> (f64, f64) {
    let mut rng = Rng(seed);
    let mut means: Vec<f64> = (0..2000)
        .map(|_| {
            (0..values.len()).map(|_| values[rng.below(values.len())]).sum::<f64>() / values.len() as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    (means[49], means[1949])
}

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "../shared/datasets/groceries.csv".into());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let baskets: Vec<Vec<String>> = text
        .lines()
        .map(|line| {
            let mut items: Vec<String> = Vec::new();
            for item in line.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                if !items.iter().any(|x| x == item) {
                    items.push(item.to_owned());
                }
            }
            items
        })
        .filter(|b| !b.is_empty())
        .collect();
    let mut items: Vec<String> = baskets.iter().flatten().cloned().collect();
    items.sort();
    items.dedup();
    let cut = baskets.len() * 8 / 10;
    let (train, test) = baskets.split_at(cut);

    // Tuning on a validation split of the training baskets only.
    let inner = train.len() * 8 / 10;
    let (fit, validation) = train.split_at(inner);
    let fit_counts = count(fit);
    let fit_index = CatalogIndex::build(&catalog(&items, &fit_counts));
    let validation_cases = cases(validation, 7);
    let mut best = (f64::NEG_INFINITY, 0.0_f32);
    println!(
        "validation ({} baskets fit, {} cases): popularity weight -> hit rate@10",
        fit.len(),
        validation_cases.len()
    );
    for popular in [0.0_f32, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0] {
        let ranking = Ranking { popular, boosts: false, ..Ranking::default() };
        let hits = mean(
            &run(&production(&fit_index, ranking), &validation_cases).iter().map(|r| r.0).collect::<Vec<_>>(),
        );
        println!("  {popular:>4}: {hits:.4}");
        if hits > best.0 {
            best = (hits, popular);
        }
    }
    let ranking = Ranking { popular: best.1, boosts: false, ..Ranking::default() };
    println!("chosen: popularity weight {}\n", best.1);

    let counts = count(train);
    let products = catalog(&items, &counts);
    let started = Instant::now();
    let index = CatalogIndex::build(&products);
    let built = started.elapsed();
    let test_cases = cases(test, 42);
    println!(
        "{} baskets: {} train, {} test; {} test baskets with 2+ items, one item hidden each (seed 42); {} items",
        baskets.len(),
        train.len(),
        test.len(),
        test_cases.len(),
        items.len()
    );
    let methods: [(&str, Method<'_>); 3] = [
        ("production ranking", production(&index, ranking)),
        ("most popular", most_popular(&items, &counts)),
        ("co-occurrence", co_occurrence(&items, &counts)),
    ];
    let started = Instant::now();
    let results: Vec<(&str, Vec<(f64, f64)>)> =
        methods.iter().map(|(name, m)| (*name, run(m, &test_cases))).collect();
    let ranked = started.elapsed();
    println!("\n| method | hit rate@10 (95% CI) | NDCG@10 (95% CI) |\n|---|---|---|");
    for (i, (name, per_case)) in results.iter().enumerate() {
        let hits: Vec<f64> = per_case.iter().map(|r| r.0).collect();
        let gains: Vec<f64> = per_case.iter().map(|r| r.1).collect();
        let (h0, h1) = interval(&hits, 100 + i as u64);
        let (g0, g1) = interval(&gains, 200 + i as u64);
        println!("| {name} | {:.3} ({h0:.3}-{h1:.3}) | {:.3} ({g0:.3}-{g1:.3}) |", mean(&hits), mean(&gains));
    }
    println!("\npaired difference, production ranking minus each baseline (95% CI over the same baskets):");
    let production_hits: Vec<f64> = results[0].1.iter().map(|r| r.0).collect();
    let production_gains: Vec<f64> = results[0].1.iter().map(|r| r.1).collect();
    for (i, (name, per_case)) in results.iter().enumerate().skip(1) {
        let dh: Vec<f64> = per_case.iter().zip(&production_hits).map(|(b, p)| p - b.0).collect();
        let dg: Vec<f64> = per_case.iter().zip(&production_gains).map(|(b, p)| p - b.1).collect();
        let (h0, h1) = interval(&dh, 300 + i as u64);
        let (g0, g1) = interval(&dg, 400 + i as u64);
        println!(
            "  vs {name}: hit rate {:+.3} ({h0:+.3} to {h1:+.3}), NDCG {:+.3} ({g0:+.3} to {g1:+.3})",
            mean(&dh),
            mean(&dg)
        );
    }
    println!(
        "\nindex built in {:.1} ms ({} KB on the heap); {} rankings in {:.0} ms for all three methods",
        built.as_secs_f64() * 1000.0,
        index.heap_bytes() / 1024,
        test_cases.len(),
        ranked.as_secs_f64() * 1000.0
    );
}
