//! Recommendations computed where the shopper's history lives (their browser): a compact index of the shop's
//! catalog, the shopper's history as events, and a ranking that blends what was bought together with what
//! the shopper looked at, how similar products are (categories and tags, TF-IDF weighted) and how popular
//! they are; then loyalty-aware boosts, bounded so they re-rank and never swamp relevance; then diversity
//! (maximal marginal relevance). Every recommendation says why, in structured form.
//!
//! Deterministic: the same catalog, history, request and time give the same list, ties broken by product id.
//! Scores are `f32` (a ranking, never money or points).

use crate::catalog::{default_neighbour_weight, CatalogProduct, MAX_NEIGHBOURS, MAX_POPULARITY};
use crate::earn::{points_for_product, EarnContext, ProductOffer};
use crate::money::Currency;
use crate::program::{EarnRate, EarnView};
use crate::rewards::RewardsOverview;
use crate::tier::TierReach;
use crate::time::{Timestamp, DAY};
use serde::Serialize;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

wire_enum! {
    /// What the shopper did with a product.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub enum HistoryKind {
        /// Looked at its page.
        View,
        /// Put it in the cart.
        Cart,
        /// Bought it.
        Purchase,
    }
}

wire_struct! {
    lenient;
    /// One thing the shopper did, kept on their device.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct HistoryEvent {
        /// The product.
        pub product_id: String,
        /// What they did.
        pub kind: HistoryKind,
        /// When, UTC seconds.
        pub at: Timestamp,
        /// For a view: seconds on the page (0 when unknown).
        pub dwell_seconds: u32 = 0,
    }
}

wire_enum! {
    /// Where the list is shown.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub enum RecommendContext {
        /// The home page or the panel: "for you".
        #[default]
        Home,
        /// A product page: what goes with it and what is like it.
        Product,
        /// The cart: what completes the order.
        Cart,
    }
}

wire_struct! {
    strict;
    /// What to recommend.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct RecommendRequest {
        /// Where the list is shown (default `home`).
        pub context: RecommendContext = RecommendContext::Home,
        /// The product on the page (never recommended itself).
        pub product_id: Option<String>,
        /// The cart's products (never recommended).
        pub cart: Vec<String> = Vec::new(),
        /// The page's category, for a shopper without history.
        pub category: Option<String>,
        /// How many, 1 to 50 (default 10).
        pub limit: u32 = 10,
        /// Products never to recommend.
        pub exclude: Vec<String> = Vec::new(),
        /// Recommend products bought before (consumables); default false.
        pub repurchase: bool = false,
        /// Use the shopper's history (false: the shopper turned personalisation off; default true).
        pub personalised: bool = true,
    }
}

wire_enum! {
    /// Why a product is recommended.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub enum ReasonKind {
        /// Often bought with `productId` (the page's product, the cart, or something the shopper bought).
        BoughtWith,
        /// Because the shopper viewed `productId`.
        Viewed,
        /// Like `productId` (categories and tags).
        Similar,
        /// Popular in the shop.
        Popular,
        /// Popular in `category`.
        PopularIn,
        /// Earns more points than usual: `percent` of the base rate.
        BonusPoints,
        /// Buying it reaches the next tier, `tierId`.
        ReachesTier,
        /// Buying it earns enough for `rewardId`.
        ReachesReward,
        /// The shopper bought it before (only when the request allows repurchases).
        BoughtBefore,
        /// New in the shop (added within the ranking's `new_days`).
        New,
    }
}

/// A reason, flat on the wire: the kind and the one detail it needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reason {
    /// Which reason.
    pub kind: ReasonKind,
    /// The product it refers to (`boughtWith`, `viewed`, `similar`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// The category (`popularIn`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Points as a percent of the base rate (`bonusPoints`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent: Option<u32>,
    /// The tier (`reachesTier`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier_id: Option<String>,
    /// The reward (`reachesReward`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reward_id: Option<String>,
}

impl Reason {
    /// A reason of this kind that names nothing.
    pub fn of(kind: ReasonKind) -> Reason {
        Reason { kind, product_id: None, category: None, percent: None, tier_id: None, reward_id: None }
    }
}

/// One recommended product.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recommendation {
    /// The product.
    pub product_id: String,
    /// Its final score (relevance, boosted); only the order means anything.
    pub score: f32,
    /// Points this shopper earns buying one (when the program was given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub points: Option<i64>,
    /// Why, the main reason first.
    pub reasons: Vec<Reason>,
}

/// How the ranking weighs its signals. The defaults were chosen on a validation split of real baskets
/// (`make eval-recs`; README, "Recommendations").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ranking {
    /// Interest in a product halves every this many days.
    pub half_life_days: f32,
    /// Weight of bought-together (the neighbours' shares).
    pub together: f32,
    /// Weight of content similarity (cosine of TF-IDF category and tag vectors); a quarter of it in the cart,
    /// where what completes the order matters more than alternatives to it.
    pub similar: f32,
    /// Weight of popularity (percentile / 100).
    pub popular: f32,
    /// Relevance against diversity in MMR: 1 ranks by relevance alone.
    pub diversity_lambda: f32,
    /// The most the loyalty boosts may add, as a share of relevance.
    pub boost_cap: f32,
    /// Loyalty boosts on (off for an evaluation on data without a program).
    pub boosts: bool,
    /// A product added this many days ago or less is new: for a shopper without history, new products rank
    /// beside the popular ones (default 30).
    pub new_days: u32,
}

impl Default for Ranking {
    fn default() -> Self {
        Ranking {
            half_life_days: 14.0,
            together: 1.0,
            similar: 0.3,
            popular: 0.1,
            diversity_lambda: 0.8,
            boost_cap: 0.2,
            boosts: true,
            new_days: 30,
        }
    }
}

/// The shopper's loyalty standing, for boosts and points.
#[derive(Clone, Copy)]
pub struct Loyalty<'a> {
    /// The points a product earns this shopper, by loyalty-core's earning ([`earning`] where the program is
    /// in hand; a module without the earning rules asks the one that has them, which computes the same).
    /// `None` when they cannot be said.
    pub points: &'a dyn Fn(&ProductOffer) -> Option<i64>,
    /// The program's base currency (the catalog's prices are in it).
    pub currency: Currency,
    /// The program's base rate, against which "more points than usual" is judged.
    pub rate: EarnRate,
    /// Where the shopper stands in the tiers, if signed in.
    pub tier: Option<&'a TierReach>,
    /// What their balance can buy, if signed in.
    pub rewards: Option<&'a RewardsOverview>,
}

impl<'a> Loyalty<'a> {
    /// A shopper's standing under `program`, each product's points computed by `points` (usually
    /// [`earning`] of the same program).
    pub fn new(
        program: EarnView<'_>,
        points: &'a dyn Fn(&ProductOffer) -> Option<i64>,
        tier: Option<&'a TierReach>,
        rewards: Option<&'a RewardsOverview>,
    ) -> Loyalty<'a> {
        Loyalty { points, currency: program.currency, rate: program.earn.rate, tier, rewards }
    }
}

/// The points of a product for a shopper in the tier `tier_id` at `now`, as the badges show and the server
/// awards them: [`Loyalty::points`] for a module that holds the program.
pub fn earning<'a>(
    program: EarnView<'a>,
    tier_id: Option<&str>,
    now: Timestamp,
) -> impl Fn(&ProductOffer) -> Option<i64> + 'a {
    let context = EarnContext { now, tier_id: tier_id.map(str::to_owned) };
    move |offer| points_for_product(program, offer, &context).ok().map(|e| e.points)
}

/// A candidate after the boosts: its score, row, loyalty reasons and points.
type Candidate = (f32, u32, Vec<Reason>, Option<i64>);

/// Sentinel for "no product".
const NONE: u32 = u32::MAX;

/// FNV-1a: a small, fast hash for product ids (no untrusted-input flooding concern: the ids come from the
/// shop's own catalog, and the index lives in one shopper's page).
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for byte in bytes {
            hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }
}

/// The catalog as the ranking reads it: one row per product in columns, ids and terms interned. Build it once
/// per catalog ([`CatalogIndex::build`], or [`IndexBuilder`] in slices), then rank against it many times.
#[derive(Clone, Debug, Default)]
pub struct CatalogIndex {
    ids: Vec<String>,
    /// Row numbers sorted by id, for lookups.
    by_id: Vec<u32>,
    price: Vec<i64>,
    popularity: Vec<u8>,
    in_stock: Vec<bool>,
    /// When each product was added, UTC seconds (`i64::MIN` when unknown).
    added_at: Vec<i64>,
    term_start: Vec<u32>,
    terms: Vec<u32>,
    /// Inverse document frequency of each term.
    idf: Vec<f32>,
    /// 1 / the norm of each product's TF-IDF vector (0 without terms).
    inv_norm: Vec<f32>,
    /// `c:<category>` or `t:<tag>`.
    term_names: Vec<String>,
    neighbour_start: Vec<u32>,
    neighbours: Vec<u32>,
    neighbour_weight: Vec<f32>,
}

/// Builds a [`CatalogIndex`] a slice of products at a time, so a page can index a large catalog between
/// frames; `finish` resolves neighbours and computes the weights.
#[derive(Debug, Default)]
pub struct IndexBuilder {
    index: CatalogIndex,
    /// Term names sorted, with their number.
    term_lookup: Vec<(String, u32)>,
    term_docs: Vec<u32>,
    /// Neighbour ids and weights as given, per product, resolved at `finish`.
    pending_neighbours: Vec<(String, f32)>,
}

impl IndexBuilder {
    /// Adds products; a repeated id keeps its first row (the backend's ids are unique).
    pub fn add(&mut self, products: &[CatalogProduct]) {
        for p in products {
            let index = &mut self.index;
            index.ids.push(p.id.clone());
            index.price.push(p.price);
            index.popularity.push(p.popularity.min(MAX_POPULARITY) as u8);
            index.in_stock.push(p.in_stock);
            index.added_at.push(p.added_at.unwrap_or(i64::MIN));
            index.term_start.push(index.terms.len() as u32);
            let names =
                p.categories.iter().map(|c| format!("c:{c}")).chain(p.tags.iter().map(|t| format!("t:{t}")));
            let mut mine: Vec<u32> = Vec::new();
            for name in names {
                let term = match self.term_lookup.binary_search_by(|(n, _)| n.as_str().cmp(&name)) {
                    Ok(i) => self.term_lookup[i].1,
                    Err(i) => {
                        let term = index.term_names.len() as u32;
                        index.term_names.push(name.clone());
                        self.term_docs.push(0);
                        self.term_lookup.insert(i, (name, term));
                        term
                    }
                };
                if !mine.contains(&term) {
                    mine.push(term);
                    self.term_docs[term as usize] += 1;
                }
            }
            index.terms.extend(mine);
            index.neighbour_start.push(self.pending_neighbours.len() as u32);
            let count = p.neighbours.len().min(MAX_NEIGHBOURS);
            for (rank, id) in p.neighbours.iter().take(count).enumerate() {
                // Without weights, the order is all that is known: 1, 1/2, 1/3 ... of a modest share.
                let weight = match p.neighbour_weights.get(rank) {
                    Some(w) => (*w).min(1000) as f32 / 1000.0,
                    None => default_neighbour_weight(rank) as f32 / 1000.0,
                };
                self.pending_neighbours.push((id.clone(), weight));
            }
        }
    }

    /// Products added so far.
    pub fn len(&self) -> usize {
        self.index.ids.len()
    }

    /// True before the first product.
    pub fn is_empty(&self) -> bool {
        self.index.ids.is_empty()
    }

    /// The finished index.
    pub fn finish(self) -> CatalogIndex {
        let IndexBuilder { mut index, term_docs, pending_neighbours, term_lookup } = self;
        // Term numbers in name order, so the index (and every float sum over terms) does not depend on the
        // order products arrived in.
        let mut renumber = vec![0_u32; term_lookup.len()];
        for (new, (_, old)) in term_lookup.iter().enumerate() {
            renumber[*old as usize] = new as u32;
        }
        index.term_names = term_lookup.into_iter().map(|(name, _)| name).collect();
        let mut docs_by_name = vec![0_u32; term_docs.len()];
        for (old, docs) in term_docs.iter().enumerate() {
            docs_by_name[renumber[old] as usize] = *docs;
        }
        let term_docs = docs_by_name;
        for t in &mut index.terms {
            *t = renumber[*t as usize];
        }
        index.term_start.push(index.terms.len() as u32);
        index.neighbour_start.push(pending_neighbours.len() as u32);
        index.complete(&term_docs);
        // One hash lookup per neighbour: a binary search over the ids touches a string's heap at every step,
        // and measured 1.3 s for 800,000 neighbours of 100,000 products (cache misses), against ~50 ms.
        let rows: HashMap<&str, u32, BuildHasherDefault<Fnv>> =
            index.by_id.iter().map(|r| (index.ids[*r as usize].as_str(), *r)).collect();
        let mut neighbours = Vec::with_capacity(pending_neighbours.len());
        let mut weights = Vec::with_capacity(pending_neighbours.len());
        for (id, weight) in &pending_neighbours {
            // A neighbour the candidate set does not hold is kept as a hole, so offsets stay right.
            neighbours.push(rows.get(id.as_str()).copied().unwrap_or(NONE));
            weights.push(*weight);
        }
        drop(rows);
        index.neighbours = neighbours;
        index.neighbour_weight = weights;
        index
    }
}

/// The rows of `names` in name order (a row's number breaks ties): one sort for every list the index orders
/// by name, so a small module links the sort once.
pub(crate) fn name_order(names: &[String]) -> Vec<u32> {
    let mut rows: Vec<u32> = (0..names.len() as u32).collect();
    rows.sort_unstable_by(|a, b| names[*a as usize].cmp(&names[*b as usize]).then(a.cmp(b)));
    rows
}

impl CatalogIndex {
    /// Completes an index whose columns are filled (terms numbered in name order, offsets closed, `term_docs`
    /// the number of products with each term): the id lookup, inverse document frequencies and norms.
    fn complete(&mut self, term_docs: &[u32]) {
        let n = self.ids.len();
        let mut by_id = name_order(&self.ids);
        by_id.dedup_by(|a, b| self.ids[*a as usize] == self.ids[*b as usize]);
        self.by_id = by_id;
        let docs = n.max(1) as f32;
        self.idf = term_docs.iter().map(|d| (docs / (*d).max(1) as f32).ln() + 1.0).collect();
        self.inv_norm = (0..n)
            .map(|row| {
                let norm: f32 = self.terms_of(row as u32).iter().map(|t| self.idf[*t as usize].powi(2)).sum();
                if norm > 0.0 {
                    1.0 / norm.sqrt()
                } else {
                    0.0
                }
            })
            .collect();
    }

    /// An index from columns already decoded and checked (see `columns.rs`): `term_names` sorted and unique,
    /// every term and neighbour number in range, offsets closed.
    #[allow(clippy::too_many_arguments, reason = "one argument per column; called from one place")]
    pub(crate) fn from_columns(
        ids: Vec<String>,
        price: Vec<i64>,
        popularity: Vec<u8>,
        in_stock: Vec<bool>,
        added_at: Vec<i64>,
        term_names: Vec<String>,
        (term_start, terms): (Vec<u32>, Vec<u32>),
        (neighbour_start, neighbours, neighbour_weight): (Vec<u32>, Vec<u32>, Vec<f32>),
    ) -> CatalogIndex {
        let mut term_docs = vec![0_u32; term_names.len()];
        for t in &terms {
            term_docs[*t as usize] += 1;
        }
        let mut index = CatalogIndex {
            ids,
            by_id: Vec::new(),
            price,
            popularity,
            in_stock,
            added_at,
            term_start,
            terms,
            idf: Vec::new(),
            inv_norm: Vec::new(),
            term_names,
            neighbour_start,
            neighbours,
            neighbour_weight,
        };
        index.complete(&term_docs);
        index
    }

    /// Indexes a catalog at once.
    pub fn build(products: &[CatalogProduct]) -> CatalogIndex {
        let mut builder = IndexBuilder::default();
        builder.add(products);
        builder.finish()
    }

    /// Products in the index.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True for an empty catalog.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Bytes the index holds on the heap (strings included), for reporting.
    pub fn heap_bytes(&self) -> usize {
        let strings: usize = self.ids.iter().chain(&self.term_names).map(|s| s.capacity() + 24).sum();
        strings
            + self.by_id.capacity() * 4
            + self.price.capacity() * 8
            + self.popularity.capacity()
            + self.in_stock.capacity()
            + self.added_at.capacity() * 8
            + (self.term_start.capacity() + self.terms.capacity()) * 4
            + (self.idf.capacity() + self.inv_norm.capacity()) * 4
            + (self.neighbour_start.capacity()
                + self.neighbours.capacity()
                + self.neighbour_weight.capacity())
                * 4
    }

    /// The row of a product id.
    fn row(&self, id: &str) -> Option<u32> {
        self.by_id.binary_search_by(|r| self.ids[*r as usize].as_str().cmp(id)).ok().map(|i| self.by_id[i])
    }

    fn terms_of(&self, row: u32) -> &[u32] {
        let (a, b) = (self.term_start[row as usize] as usize, self.term_start[row as usize + 1] as usize);
        &self.terms[a..b]
    }

    fn neighbours_of(&self, row: u32) -> impl Iterator<Item = (u32, f32)> + '_ {
        let (a, b) =
            (self.neighbour_start[row as usize] as usize, self.neighbour_start[row as usize + 1] as usize);
        self.neighbours[a..b]
            .iter()
            .copied()
            .zip(self.neighbour_weight[a..b].iter().copied())
            .filter(|(r, _)| *r != NONE)
    }

    /// Cosine similarity of two products' TF-IDF vectors.
    fn similarity(&self, a: u32, b: u32) -> f32 {
        let (ta, tb) = (self.terms_of(a), self.terms_of(b));
        let dot: f32 = ta.iter().filter(|t| tb.contains(t)).map(|t| self.idf[*t as usize].powi(2)).sum();
        dot * self.inv_norm[a as usize] * self.inv_norm[b as usize]
    }

    /// A product's price in minor units, if the index holds it.
    pub fn price_of(&self, id: &str) -> Option<i64> {
        self.row(id).map(|row| self.price[row as usize])
    }

    /// The product's categories and tags, as earning needs them.
    fn offer(&self, row: u32, currency: Currency) -> ProductOffer {
        let (mut categories, mut tags) = (Vec::new(), Vec::new());
        for t in self.terms_of(row) {
            let name = &self.term_names[*t as usize];
            if let Some(c) = name.strip_prefix("c:") {
                categories.push(c.to_owned());
            } else if let Some(t) = name.strip_prefix("t:") {
                tags.push(t.to_owned());
            }
        }
        ProductOffer {
            product_id: self.ids[row as usize].clone(),
            variant_id: None,
            categories,
            tags,
            price: self.price[row as usize],
            currency,
            exchange_rate: None,
            quantity: 1,
        }
    }
}

/// A seed of interest: a product and how much it counts, and what the shopper did with it.
#[derive(Clone, Copy, Debug)]
struct Seed {
    row: u32,
    weight: f32,
    /// `BoughtWith` (page product, cart, purchase) or `Viewed` (view, cart from history).
    reason: ReasonKind,
}

/// Ranks the catalog for one request. `history` is the shopper's own (ignored when the request is not
/// personalised); `loyalty` enables the boosts and the points of each item; `now` is UTC seconds.
///
/// ```
/// use loyalty_core::{recommend, CatalogIndex, CatalogProduct, Ranking, RecommendRequest, RecommendContext};
/// let product = |id: &str, popularity: u32, neighbours: &[(&str, u32)]| CatalogProduct {
///     id: id.into(), title: Default::default(), url: format!("/p/{id}"), image: None, price: 1000,
///     categories: vec!["tea".into()], tags: vec![], in_stock: true, added_at: None, popularity,
///     neighbours: neighbours.iter().map(|(n, _)| n.to_string()).collect(),
///     neighbour_weights: neighbours.iter().map(|(_, w)| *w).collect(),
/// };
/// // Cups are in 60% of the pot's orders; the gift box sells best.
/// let index = CatalogIndex::build(&[product("pot", 90, &[("cups", 600)]), product("cups", 10, &[]), product("gift", 100, &[])]);
/// let request = RecommendRequest { context: RecommendContext::Product, product_id: Some("pot".into()), cart: vec![],
///     category: None, limit: 2, exclude: vec![], repurchase: false, personalised: true };
/// let list = recommend(&index, &[], &request, None, &Ranking::default(), 1_700_000_000);
/// assert_eq!(list.iter().map(|r| r.product_id.as_str()).collect::<Vec<_>>(), ["cups", "gift"]);
/// ```
pub fn recommend(
    index: &CatalogIndex,
    history: &[HistoryEvent],
    request: &RecommendRequest,
    loyalty: Option<Loyalty<'_>>,
    ranking: &Ranking,
    now: Timestamp,
) -> Vec<Recommendation> {
    let n = index.len();
    let limit = request.limit.clamp(1, 50) as usize;
    if n == 0 {
        return Vec::new();
    }
    // What may not be recommended.
    let mut blocked = vec![false; n];
    let mut block = |id: &str| {
        if let Some(row) = index.row(id) {
            blocked[row as usize] = true;
        }
    };
    request.exclude.iter().chain(&request.cart).chain(&request.product_id).for_each(|id| block(id));
    let history: &[HistoryEvent] = if request.personalised { history } else { &[] };
    // What the shopper has seen is what the list starts from, not what it shows; bought products come back
    // only for consumables.
    let bought_before =
        |id: &str| history.iter().any(|e| e.kind == HistoryKind::Purchase && e.product_id == id);
    for event in history {
        if !(request.repurchase && bought_before(&event.product_id)) {
            block(&event.product_id);
        }
    }

    // Seeds: the page's product and the cart count most; the history by kind, dwell and age.
    let mut seeds: Vec<Seed> = Vec::new();
    let context_weight = 4.0;
    if let Some(row) = request.product_id.as_deref().and_then(|id| index.row(id)) {
        seeds.push(Seed { row, weight: context_weight, reason: ReasonKind::BoughtWith });
    }
    for row in request.cart.iter().filter_map(|id| index.row(id)) {
        seeds.push(Seed {
            row,
            weight: context_weight / request.cart.len().max(1) as f32 * 2.0,
            reason: ReasonKind::BoughtWith,
        });
    }
    let half_life = (ranking.half_life_days.max(0.01) * DAY as f32).max(1.0);
    for event in history {
        let Some(row) = index.row(&event.product_id) else { continue };
        let age = (now - event.at).max(0) as f32;
        let decay = (-(age / half_life) * std::f32::consts::LN_2).exp();
        let (kind_weight, reason) = match event.kind {
            HistoryKind::View => (0.5 + (event.dwell_seconds.min(120) as f32 / 120.0), ReasonKind::Viewed),
            HistoryKind::Cart => (2.0, ReasonKind::Viewed),
            HistoryKind::Purchase => (3.0, ReasonKind::BoughtWith),
        };
        match seeds.iter_mut().find(|s| s.row == row) {
            Some(seed) => {
                seed.weight += kind_weight * decay;
                if reason == ReasonKind::BoughtWith {
                    seed.reason = reason;
                }
            }
            None => seeds.push(Seed { row, weight: kind_weight * decay, reason }),
        }
    }
    let total: f32 = seeds.iter().map(|s| s.weight).sum();

    // Bought together: each seed's neighbours, by the seed's share of interest; the strongest seed is the reason.
    let mut together = vec![0.0_f32; n];
    let mut together_from = vec![NONE; n];
    let mut best = vec![0.0_f32; n];
    for (i, seed) in seeds.iter().enumerate() {
        for (row, weight) in index.neighbours_of(seed.row) {
            let part = weight * seed.weight / total;
            together[row as usize] += part;
            if part > best[row as usize] {
                best[row as usize] = part;
                together_from[row as usize] = i as u32;
            }
        }
    }
    // The interest profile in term space.
    let mut profile = vec![0.0_f32; index.term_names.len()];
    for seed in &seeds {
        let scale = seed.weight / total * index.inv_norm[seed.row as usize];
        for t in index.terms_of(seed.row) {
            profile[*t as usize] += index.idf[*t as usize] * scale;
        }
    }
    let profile_norm = profile.iter().map(|v| v * v).sum::<f32>().sqrt();
    let new_since = now - i64::from(ranking.new_days) * DAY;
    let is_new = |row: usize| index.added_at[row] >= new_since && index.added_at[row] <= now;
    let category = request.category.as_deref().map(|c| ["c:", c].concat());
    let category_term = category.as_deref().and_then(|c| index.term_names.iter().position(|n| n == c));

    let mut scored: Vec<(f32, u32)> = Vec::with_capacity(n);
    for row in 0..n as u32 {
        let r = row as usize;
        if blocked[r] || !index.in_stock[r] {
            continue;
        }
        let popular = f32::from(index.popularity[r]) / MAX_POPULARITY as f32;
        let similar = if profile_norm > 0.0 {
            let dot: f32 =
                index.terms_of(row).iter().map(|t| profile[*t as usize] * index.idf[*t as usize]).sum();
            dot * index.inv_norm[r] / profile_norm
        } else {
            0.0
        };
        let similar_weight =
            if request.context == RecommendContext::Cart { ranking.similar / 4.0 } else { ranking.similar };
        let mut score = ranking.together * together[r] + similar_weight * similar + ranking.popular * popular;
        if seeds.is_empty() {
            // Cold start: popular and new, first in the page's category.
            let in_category = category_term.is_some_and(|t| index.terms_of(row).contains(&(t as u32)));
            score = popular + if is_new(r) { 0.5 } else { 0.0 } + if in_category { 2.0 } else { 0.0 };
        }
        scored.push((score, row));
    }
    let by_score = |a: &(f32, u32), b: &(f32, u32)| {
        b.0.total_cmp(&a.0).then_with(|| index.ids[a.1 as usize].cmp(&index.ids[b.1 as usize]))
    };
    // The pool: the best `pool_size` in order, kept while passing over every candidate once (a candidate below the
    // pool's last costs one comparison). Smaller than a selection and a sort, which a small module would link
    // beside the one sort it has, and as fast for a catalog of 100,000.
    let pool_size = (limit * 4).max(40);
    let mut best: Vec<(f32, u32)> = Vec::with_capacity(pool_size + 1);
    for candidate in scored {
        if best.len() == pool_size && best.last().is_some_and(|last| by_score(&candidate, last).is_gt()) {
            continue;
        }
        let at = best.partition_point(|kept| by_score(kept, &candidate).is_lt());
        best.insert(at, candidate);
        best.truncate(pool_size);
    }
    let scored = best;

    // Loyalty boosts: a share of relevance, capped, so they re-rank within the pool and never swamp it.
    let pool: Vec<Candidate> = scored
        .into_iter()
        .map(|(score, row)| {
            let (boost, reasons, points) = match loyalty {
                Some(l) => loyalty_boost(index, row, l),
                None => (0.0, Vec::new(), None),
            };
            let boost = if ranking.boosts { boost.min(ranking.boost_cap) } else { 0.0 };
            (score * (1.0 + boost), row, reasons, points)
        })
        .collect();
    // By the same order as the candidates (a total one: rows are distinct), through their keys, so that one
    // sort serves both.
    let mut keys: Vec<(f32, u32)> = pool.iter().map(|p| (p.0, p.1)).collect();
    keys.sort_unstable_by(by_score);
    let mut slots: Vec<Option<Candidate>> = pool.into_iter().map(Some).collect();
    let pool: Vec<Candidate> = keys
        .iter()
        .filter_map(|(_, row)| slots.iter_mut().find(|s| s.as_ref().is_some_and(|p| p.1 == *row))?.take())
        .collect();

    // Diversity: maximal marginal relevance over content similarity, the redundancy summed over what is
    // already chosen (not its maximum), so each further near-duplicate costs more than the last.
    let top = pool.first().map_or(1.0, |p| p.0.max(f32::MIN_POSITIVE));
    let mut chosen: Vec<usize> = Vec::with_capacity(limit);
    let mut left: Vec<usize> = (0..pool.len()).collect();
    while chosen.len() < limit && !left.is_empty() {
        let mmr = |i: usize| {
            let redundancy: f32 = chosen.iter().map(|c| index.similarity(pool[i].1, pool[*c].1)).sum();
            ranking.diversity_lambda * pool[i].0 / top - (1.0 - ranking.diversity_lambda) * redundancy
        };
        let (at, _) = left
            .iter()
            .enumerate()
            .map(|(at, i)| (at, mmr(*i)))
            .fold((0, f32::NEG_INFINITY), |acc, (at, m)| if m > acc.1 { (at, m) } else { acc });
        chosen.push(left.remove(at));
    }

    chosen
        .into_iter()
        .map(|i| {
            let (score, row, loyalty_reasons, points) = pool[i].clone();
            let again = bought_before(&index.ids[row as usize]);
            let mut reasons = vec![if again {
                Reason::of(ReasonKind::BoughtBefore)
            } else if seeds.is_empty() && is_new(row as usize) {
                Reason::of(ReasonKind::New)
            } else {
                main_reason(index, row, &seeds, &together_from, &together, category_term)
            }];
            reasons.extend(loyalty_reasons);
            Recommendation { product_id: index.ids[row as usize].clone(), score, points, reasons }
        })
        .collect()
}

/// The main reason: the seed that brought it (bought together, or viewed), else the most similar seed, else
/// popularity (in the page's category when it is there).
fn main_reason(
    index: &CatalogIndex,
    row: u32,
    seeds: &[Seed],
    together_from: &[u32],
    together: &[f32],
    category_term: Option<usize>,
) -> Reason {
    let with = |kind, seed: &Seed| Reason {
        product_id: Some(index.ids[seed.row as usize].clone()),
        ..Reason::of(kind)
    };
    if together[row as usize] > 0.0 {
        if let Some(seed) = seeds.get(together_from[row as usize] as usize) {
            return with(seed.reason, seed);
        }
    }
    let similar = seeds
        .iter()
        .map(|s| (index.similarity(row, s.row) * s.weight, s))
        .filter(|(sim, _)| *sim > 0.0)
        .fold(None::<(f32, &Seed)>, |best, (sim, s)| match best {
            Some((b, _)) if b >= sim => best,
            _ => Some((sim, s)),
        });
    if let Some((_, seed)) = similar {
        return with(ReasonKind::Similar, seed);
    }
    match category_term.filter(|t| index.terms_of(row).contains(&(*t as u32))) {
        Some(t) => Reason {
            category: index.term_names[t].strip_prefix("c:").map(str::to_owned),
            ..Reason::of(ReasonKind::PopularIn)
        },
        None => Reason::of(ReasonKind::Popular),
    }
}

/// What the program adds to a product's case: more points than the base rate, reaching the next tier or the
/// next reward. Returns the boost (a share of relevance, before the cap), the reasons and the points.
fn loyalty_boost(index: &CatalogIndex, row: u32, loyalty: Loyalty<'_>) -> (f32, Vec<Reason>, Option<i64>) {
    let offer = index.offer(row, loyalty.currency);
    let Some(earned) = (loyalty.points)(&offer) else { return (0.0, Vec::new(), None) };
    let mut boost = 0.0;
    let mut reasons = Vec::new();
    let rate = &loyalty.rate;
    // The base rate's points for this price, in exact integers.
    // Saturating in i64 (a ranking signal, not an award; prices and rates are bounded far below where it
    // would saturate): 128-bit division would add a kilobyte to a small module.
    let base = offer.price.saturating_mul(rate.points) / rate.per_amount.max(1);
    if base > 0 && earned.saturating_mul(100) > base.saturating_mul(110) {
        let percent = (earned.saturating_mul(100) / base).min(10_000) as u32;
        boost += 0.1 * ((percent as f32 - 100.0) / 100.0).min(1.0);
        reasons.push(Reason { percent: Some(percent), ..Reason::of(ReasonKind::BonusPoints) });
    }
    if let Some(tier) = loyalty.tier {
        if let Some(next) = &tier.next_tier_id {
            let reaches = match tier.metric {
                crate::program::TierMetric::Spend => offer.price >= tier.remaining,
                crate::program::TierMetric::PointsEarned => earned >= tier.remaining,
                crate::program::TierMetric::Orders => tier.remaining <= 1,
            };
            if tier.remaining > 0 && reaches {
                boost += 0.1;
                reasons.push(Reason { tier_id: Some(next.clone()), ..Reason::of(ReasonKind::ReachesTier) });
            }
        }
    }
    if let Some(next) = loyalty.rewards.and_then(|r| r.next.as_ref()) {
        if next.missing > 0 && earned >= next.missing {
            boost += 0.05;
            reasons.push(Reason {
                reward_id: Some(next.reward_id.clone()),
                ..Reason::of(ReasonKind::ReachesReward)
            });
        }
    }
    (boost, reasons, Some(earned))
}
