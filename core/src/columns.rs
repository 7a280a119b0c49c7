//! The catalog in columns: the compact encoding the reference server offers at `GET /v1/catalog?format=columns`,
//! and its decoder straight into a [`CatalogIndex`].
//!
//! Why: a catalog of 100,000 products as an array of objects is about 20 MB of JSON whose tree costs more to
//! build than the index itself (measured 1.2 s in the browser, against a 300 ms target). In columns the same
//! catalog is one object of flat arrays: numbers are read straight into vectors, terms and neighbours arrive
//! already numbered (neighbours as row numbers, so no id lookups), and columns the index does not need (titles,
//! links, images) are skipped without being built. It is still JSON, so any backend can write it.
//!
//! ```json
//! { "format": "columns-1",
//!   "id": ["tea", "pot"], "price": [1200, 8800], "popularity": [90, 40], "inStock": [1, 0],
//!   "addedAt": [1767225600, null],
//!   "terms": ["c:drinks", "t:green"], "termCount": [2, 0], "productTerms": [0, 1],
//!   "neighbourCount": [1, 1], "neighbours": [1, 0], "neighbourWeights": [300, 120],
//!   "title": { "en": ["Tea", "Pot"], "zh-CN": ["茶", "壶"] }, "url": ["/p/tea", "/p/pot"], "image": [null, null] }
//! ```
//!
//! Every column has one entry per product (row), except the flat lists that `termCount` and `neighbourCount`
//! cut into rows. `id` and `price` are required; the rest default to no popularity, in stock, added at an
//! unknown time, no terms, no neighbours. Unknown members are skipped (a later version may add columns).

use crate::catalog::{check_link, default_neighbour_weight, CatalogProduct, MAX_NEIGHBOURS, MAX_POPULARITY};
use crate::json::{ReadJson, Reader};
use crate::problems::Problems;
use crate::program::MAX_AMOUNT;
use crate::recommend::{name_order, CatalogIndex};
use serde::Serialize;
use std::collections::BTreeMap;

/// The value of `format` in a catalog of this version.
pub const COLUMNS_FORMAT: &str = "columns-1";

/// Most problems reported for one document (the rest are counted).
const MAX_PROBLEMS: usize = 20;

/// A candidate set in columns, as the server writes it (see the module's documentation for the layout).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogColumns {
    /// Always [`COLUMNS_FORMAT`].
    pub format: &'static str,
    /// Product ids.
    pub id: Vec<String>,
    /// Titles, one column per locale.
    pub title: BTreeMap<String, Vec<String>>,
    /// Product pages.
    pub url: Vec<String>,
    /// Images, if any.
    pub image: Vec<Option<String>>,
    /// Prices in minor units of the program's currency.
    pub price: Vec<i64>,
    /// Popularity percentiles, 0 to 100.
    pub popularity: Vec<u32>,
    /// 1 when it can be bought now, else 0.
    pub in_stock: Vec<u8>,
    /// When each product was added (UTC seconds), if known.
    pub added_at: Vec<Option<i64>>,
    /// Term names, sorted: `c:<category>` or `t:<tag>`.
    pub terms: Vec<String>,
    /// How many of `product_terms` belong to each row.
    pub term_count: Vec<u32>,
    /// Each row's terms as numbers into `terms`, row after row.
    pub product_terms: Vec<u32>,
    /// How many of `neighbours` belong to each row.
    pub neighbour_count: Vec<u32>,
    /// Each row's neighbours as row numbers, strongest first, row after row.
    pub neighbours: Vec<u32>,
    /// For each neighbour, its weight in permille (see [`CatalogProduct::neighbour_weights`]; where a product
    /// has none, 1/5 of its orders for the first neighbour, 1/10 for the second ...).
    pub neighbour_weights: Vec<u32>,
}

impl CatalogColumns {
    /// Writes products (a candidate set) in columns, titles in `locales`. Neighbours outside the set are left
    /// out: the index could not use them.
    pub fn from_products(products: &[&CatalogProduct], locales: &[String]) -> CatalogColumns {
        let mut rows: Vec<(&str, u32)> =
            products.iter().enumerate().map(|(row, p)| (p.id.as_str(), row as u32)).collect();
        rows.sort_unstable();
        let row_of = |id: &str| rows.binary_search_by(|(i, _)| (*i).cmp(id)).ok().map(|at| rows[at].1);
        let names = |p: &CatalogProduct| -> Vec<String> {
            let all =
                p.categories.iter().map(|c| format!("c:{c}")).chain(p.tags.iter().map(|t| format!("t:{t}")));
            let mut mine: Vec<String> = Vec::new();
            for name in all {
                if !mine.contains(&name) {
                    mine.push(name);
                }
            }
            mine
        };
        let mut terms: BTreeMap<String, u32> =
            products.iter().flat_map(|p| names(p)).map(|n| (n, 0)).collect();
        for (number, slot) in terms.values_mut().enumerate() {
            *slot = number as u32;
        }
        let mut out = CatalogColumns { format: COLUMNS_FORMAT, ..CatalogColumns::default() };
        for locale in locales {
            out.title.insert(
                locale.clone(),
                products.iter().map(|p| p.title.get(locale).cloned().unwrap_or_default()).collect(),
            );
        }
        for p in products {
            out.id.push(p.id.clone());
            out.url.push(p.url.clone());
            out.image.push(p.image.clone());
            out.price.push(p.price);
            out.popularity.push(p.popularity.min(MAX_POPULARITY));
            out.in_stock.push(u8::from(p.in_stock));
            out.added_at.push(p.added_at);
            let mine = names(p);
            out.term_count.push(mine.len() as u32);
            out.product_terms.extend(mine.iter().map(|n| terms[n]));
            let mut count = 0;
            for (rank, id) in p.neighbours.iter().take(MAX_NEIGHBOURS).enumerate() {
                let Some(row) = row_of(id) else { continue };
                out.neighbours.push(row);
                // Weights are always written, as leaving a neighbour out would shift the ranks that stand
                // for a missing weight (`IndexBuilder::add` reads 1/5, 1/10, 1/15 ... by rank).
                let weight =
                    p.neighbour_weights.get(rank).copied().unwrap_or_else(|| default_neighbour_weight(rank));
                out.neighbour_weights.push(weight.min(1000));
                count += 1;
            }
            out.neighbour_count.push(count);
        }
        out.terms = terms.into_keys().collect();
        out
    }
}

/// What a list shows of each product of a catalog in columns: its id, title per locale, link and image. Read
/// by the quiet reader (yes or no, no message: [`index_from_columns`] says what is wrong with a document);
/// a link or image that is not a path on the shop or an `https://` URL ([`check_link`]) reads as none, so a
/// list can never point a shopper at a `javascript:` URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CatalogShown {
    /// Product ids, by row.
    pub id: Vec<String>,
    /// Titles, one column per locale, in the document's order (a list, not a map: this is read in a small
    /// module, where a map's code costs more than a scan of two or three locales).
    pub title: Vec<(String, Vec<String>)>,
    /// Product pages, by row.
    pub url: Vec<Option<String>>,
    /// Images, by row.
    pub image: Vec<Option<String>>,
}

impl CatalogShown {
    /// Reads the columns a list shows; the others are passed over unread.
    pub fn read_str(text: &str) -> Option<CatalogShown> {
        let mut r = Reader::new(text);
        let mut out = CatalogShown::default();
        r.begin_object().ok()?;
        let mut first = true;
        while let Some(key) = r.next_key(first).ok()? {
            first = false;
            match key.as_str() {
                "id" => out.id = ReadJson::read(&mut r, 1)?,
                "title" => {
                    r.begin_object().ok()?;
                    let mut first = true;
                    while let Some(locale) = r.next_key(first).ok()? {
                        first = false;
                        if out.title.iter().any(|(l, _)| *l == locale) {
                            return None;
                        }
                        out.title.push((locale, ReadJson::read(&mut r, 2)?));
                    }
                }
                "url" => out.url = ReadJson::read(&mut r, 1)?,
                "image" => out.image = ReadJson::read(&mut r, 1)?,
                _ => r.skip().ok()?,
            }
        }
        r.end().ok()?;
        let shop_link = |link: &mut Option<String>| {
            if link.as_deref().is_some_and(|l| check_link(l).is_err()) {
                *link = None;
            }
        };
        out.url.iter_mut().for_each(shop_link);
        out.image.iter_mut().for_each(shop_link);
        Some(out)
    }

    /// The row of a product.
    pub fn row(&self, id: &str) -> Option<usize> {
        self.id.iter().position(|p| p == id)
    }

    /// A row's title in the locale `tag`: exactly, else in its language, else in `fallback`, else the first
    /// locale given.
    pub fn title(&self, row: usize, tag: &str, fallback: Option<&str>) -> Option<&str> {
        let language = tag.split('-').next().unwrap_or(tag);
        let locale = |wanted: &str| self.title.iter().find(|(l, _)| l == wanted);
        let (_, column) = locale(tag)
            .or_else(|| self.title.iter().find(|(l, _)| l.split('-').next() == Some(language)))
            .or_else(|| fallback.and_then(locale))
            .or_else(|| self.title.first())?;
        column.get(row).map(String::as_str)
    }
}

/// What a document held, column by column, before the columns are checked against each other.
#[derive(Default)]
struct Read {
    format: Option<String>,
    id: Option<Vec<String>>,
    price: Option<Vec<i64>>,
    popularity: Option<Vec<i64>>,
    in_stock: Option<Vec<i64>>,
    added_at: Option<Vec<Option<i64>>>,
    terms: Option<Vec<String>>,
    term_count: Option<Vec<i64>>,
    product_terms: Option<Vec<i64>>,
    neighbour_count: Option<Vec<i64>>,
    neighbours: Option<Vec<i64>>,
    neighbour_weights: Option<Vec<i64>>,
}

/// Why a document could not be read: where (the row of the column being read, if any) and what.
struct Bad {
    row: Option<usize>,
    message: String,
}

impl From<crate::json::Fault> for Bad {
    fn from(fault: crate::json::Fault) -> Bad {
        Bad { row: None, message: fault.message() }
    }
}

impl From<String> for Bad {
    fn from(message: String) -> Bad {
        Bad { row: None, message }
    }
}

/// Reads an array, each item with `item`.
fn array<'a, T, E: Into<String>>(
    r: &mut Reader<'a>,
    mut item: impl FnMut(&mut Reader<'a>) -> Result<T, E>,
) -> Result<Vec<T>, Bad> {
    r.begin_array()?;
    let mut out = Vec::new();
    let mut first = true;
    while r.next_item(first)? {
        first = false;
        let value = item(r).map_err(|e| Bad { row: Some(out.len()), message: e.into() })?;
        out.push(value);
    }
    Ok(out)
}

/// Reads an array of whole numbers, or of booleans as 0 and 1 (`inStock`).
/// Read in place (no tree: a column of 100,000 numbers is most of a catalog); only a value that is not one
/// is read again whole, for its message, in a build with messages.
fn ints(r: &mut Reader<'_>) -> Result<Vec<i64>, Bad> {
    array(r, |r| {
        if let Ok(b) = r.bool() {
            return Ok(i64::from(b));
        }
        r.int().or_else(|fault| {
            if !cfg!(feature = "messages") {
                return Err(fault.message());
            }
            match r.value()? {
                crate::Json::Number(text) => crate::json::whole_number(&text),
                other => Err(crate::message!("must be a whole number, got {}", other.kind())),
            }
        })
    })
}

fn read(text: &str) -> Result<Read, Problems> {
    let mut r = Reader::new(text);
    let mut read = Read::default();
    let mut key = String::new();
    let walk = |r: &mut Reader<'_>, read: &mut Read, key: &mut String| -> Result<(), Bad> {
        r.begin_object()?;
        let mut first = true;
        while let Some(name) = r.next_key(first)? {
            first = false;
            *key = name;
            let fresh = match key.as_str() {
                "format" => read.format.replace(r.string()?).is_none(),
                "id" => read.id.replace(array(r, Reader::string)?).is_none(),
                "price" => read.price.replace(ints(r)?).is_none(),
                "popularity" => read.popularity.replace(ints(r)?).is_none(),
                "inStock" => read.in_stock.replace(ints(r)?).is_none(),
                "addedAt" => read
                    .added_at
                    .replace(array(r, |r| if r.null() { Ok(None) } else { r.int().map(Some) })?)
                    .is_none(),
                "terms" => read.terms.replace(array(r, Reader::string)?).is_none(),
                "termCount" => read.term_count.replace(ints(r)?).is_none(),
                "productTerms" => read.product_terms.replace(ints(r)?).is_none(),
                "neighbourCount" => read.neighbour_count.replace(ints(r)?).is_none(),
                "neighbours" => read.neighbours.replace(ints(r)?).is_none(),
                "neighbourWeights" => read.neighbour_weights.replace(ints(r)?).is_none(),
                // Titles, links and images are for showing a product, not for ranking it.
                _ => {
                    r.skip()?;
                    true
                }
            };
            if !fresh {
                return Err(Bad::from(crate::message!("duplicate member \"{key}\"")));
            }
        }
        key.clear();
        Ok(r.end()?)
    };
    walk(&mut r, &mut read, &mut key).map_err(|Bad { row, message }| {
        let path = match row {
            Some(row) => crate::message!("{key}[{row}]"),
            None => key.clone(),
        };
        Problems::one(path, crate::message!("invalid: {message}"))
    })?;
    Ok(read)
}

/// Collects the problems of one document, up to [`MAX_PROBLEMS`].
#[derive(Default)]
struct Found(Problems, usize);

impl Found {
    fn push(&mut self, path: String, message: String) {
        if self.1 < MAX_PROBLEMS {
            self.0.push(path, message);
        }
        self.1 += 1;
    }

    /// Checks every value of a column against a range.
    fn range(&mut self, column: &str, values: &[i64], min: i64, max: i64) {
        for (i, v) in values.iter().enumerate() {
            if !(min..=max).contains(v) {
                self.push(
                    crate::message!("{column}[{i}]"),
                    crate::message!("must be between {min} and {max}, got {v}"),
                );
            }
        }
    }

    /// Checks that a column has `rows` entries.
    fn rows(&mut self, column: &str, len: usize, rows: usize, what: &str) {
        if len != rows {
            self.push(column.to_owned(), crate::message!("must have {rows} entries ({what}), has {len}"));
        }
    }

    fn finish(self) -> Result<(), Problems> {
        let Found(mut problems, count) = self;
        if count == 0 {
            return Ok(());
        }
        if count > MAX_PROBLEMS {
            problems.push("", crate::message!("and {} more problems", count - MAX_PROBLEMS));
        }
        Err(problems)
    }
}

/// Cuts a flat list into rows by counts: the offsets, or `None` when the counts do not add up.
fn offsets(counts: &[i64], total: usize) -> Option<Vec<u32>> {
    let mut out = Vec::with_capacity(counts.len() + 1);
    let mut at: usize = 0;
    out.push(0);
    for c in counts {
        at = at.checked_add(usize::try_from(*c).ok()?)?;
        out.push(u32::try_from(at).ok()?);
    }
    (at == total).then_some(out)
}

/// Decodes a catalog in columns and builds its index. Errors name the column and the row
/// (`price[12]: must be between 0 and ...`); the whole document is refused on any problem.
pub fn index_from_columns(text: &str) -> Result<CatalogIndex, Problems> {
    let read = read(text)?;
    let mut found = Found::default();
    match read.format.as_deref() {
        Some(COLUMNS_FORMAT) => {}
        Some(other) => {
            found.push("format".into(), crate::message!("must be \"{COLUMNS_FORMAT}\", got \"{other}\""))
        }
        None => found.push("format".into(), crate::message!("is required (\"{COLUMNS_FORMAT}\")")),
    }
    let Some(ids) = read.id else {
        return Err(Problems::one("id", "is required: the product ids"));
    };
    let n = ids.len();
    if n >= u32::MAX as usize {
        return Err(Problems::one("id", "has too many products"));
    }
    let sorted: Vec<(&str, usize)> =
        name_order(&ids).into_iter().map(|i| (ids[i as usize].as_str(), i as usize)).collect();
    for pair in sorted.windows(2) {
        if pair[0].0 == pair[1].0 {
            found.push(
                crate::message!("id[{}]", pair[1].1),
                crate::message!("duplicate id \"{}\" (also at row {})", pair[0].0, pair[0].1),
            );
        }
    }
    // As the catalog's objects are checked (`check_id`): a control character in an id or a term would read as
    // another product or category wherever ids are joined into text.
    for (i, id) in ids.iter().enumerate() {
        if id.is_empty() || id.len() > 128 {
            found.push(crate::message!("id[{i}]"), "must be 1 to 128 bytes".to_owned());
        } else if id.chars().any(char::is_control) {
            found.push(crate::message!("id[{i}]"), "must not contain control characters".to_owned());
        }
    }
    let rows = "one per product";
    let price = read.price.unwrap_or_else(|| {
        found.push("price".into(), "is required: a price per product".into());
        vec![0; n]
    });
    found.rows("price", price.len(), n, rows);
    found.range("price", &price, 0, MAX_AMOUNT);
    let popularity = read.popularity.unwrap_or_else(|| vec![0; n]);
    found.rows("popularity", popularity.len(), n, rows);
    found.range("popularity", &popularity, 0, i64::from(MAX_POPULARITY));
    let in_stock = read.in_stock.unwrap_or_else(|| vec![1; n]);
    found.rows("inStock", in_stock.len(), n, rows);
    found.range("inStock", &in_stock, 0, 1);
    let added_at = read.added_at.unwrap_or_else(|| vec![None; n]);
    found.rows("addedAt", added_at.len(), n, rows);

    let terms = read.terms.unwrap_or_default();
    let term_count = read.term_count.unwrap_or_else(|| vec![0; n]);
    let product_terms = read.product_terms.unwrap_or_default();
    found.rows("termCount", term_count.len(), n, rows);
    found.range("productTerms", &product_terms, 0, terms.len() as i64 - 1);
    let term_start = offsets(&term_count, product_terms.len());
    if term_start.is_none() {
        found.push(
            "termCount".into(),
            crate::message!("must add up to the {} entries of productTerms", product_terms.len()),
        );
    }
    // Terms numbered in name order, as `IndexBuilder` numbers them.
    let by_name: Vec<(&str, usize)> =
        name_order(&terms).into_iter().map(|i| (terms[i as usize].as_str(), i as usize)).collect();
    for pair in by_name.windows(2) {
        if pair[0].0 == pair[1].0 {
            found.push(
                crate::message!("terms[{}]", pair[1].1),
                crate::message!("duplicate term \"{}\"", pair[0].0),
            );
        }
    }
    for (i, t) in terms.iter().enumerate() {
        if !(t.starts_with("c:") || t.starts_with("t:")) || t.len() < 3 || t.chars().any(char::is_control) {
            found.push(
                crate::message!("terms[{i}]"),
                crate::message!(
                    "must be \"c:<category>\" or \"t:<tag>\" without control characters, got \"{t}\""
                ),
            );
        }
    }

    let neighbour_count = read.neighbour_count.unwrap_or_else(|| vec![0; n]);
    let neighbours = read.neighbours.unwrap_or_default();
    let weights = read.neighbour_weights.unwrap_or_default();
    found.rows("neighbourCount", neighbour_count.len(), n, rows);
    found.range("neighbours", &neighbours, 0, n as i64 - 1);
    if !weights.is_empty() {
        found.rows("neighbourWeights", weights.len(), neighbours.len(), "one per neighbour, or none");
        found.range("neighbourWeights", &weights, 0, 1000);
    }
    let neighbour_start = offsets(&neighbour_count, neighbours.len());
    if neighbour_start.is_none() {
        found.push(
            "neighbourCount".into(),
            crate::message!("must add up to the {} entries of neighbours", neighbours.len()),
        );
    }
    found.finish()?;
    let (Some(term_start), Some(neighbour_start)) = (term_start, neighbour_start) else {
        return Err(Problems::one("", "unreachable: offsets were checked"));
    };

    let mut renumber = vec![0_u32; terms.len()];
    for (new, (_, old)) in by_name.iter().enumerate() {
        renumber[*old] = new as u32;
    }
    let term_names: Vec<String> = by_name.iter().map(|(name, _)| (*name).to_owned()).collect();
    // Each row's terms once, in the order given.
    let mut kept_start = Vec::with_capacity(n + 1);
    let mut kept = Vec::with_capacity(product_terms.len());
    for row in 0..n {
        kept_start.push(kept.len() as u32);
        let mine = kept.len();
        for t in &product_terms[term_start[row] as usize..term_start[row + 1] as usize] {
            let t = renumber[*t as usize];
            if !kept[mine..].contains(&t) {
                kept.push(t);
            }
        }
    }
    kept_start.push(kept.len() as u32);
    // At most MAX_NEIGHBOURS per row, as from JSON; weights as `IndexBuilder::add` reads them.
    let mut near_start = Vec::with_capacity(n + 1);
    let mut near = Vec::with_capacity(neighbours.len());
    let mut near_weight = Vec::with_capacity(neighbours.len());
    for row in 0..n {
        near_start.push(near.len() as u32);
        let (a, b) = (neighbour_start[row] as usize, neighbour_start[row + 1] as usize);
        for (rank, at) in (a..b).take(MAX_NEIGHBOURS).enumerate() {
            near.push(neighbours[at] as u32);
            near_weight.push(match weights.get(at) {
                Some(w) => *w as f32 / 1000.0,
                None => default_neighbour_weight(rank) as f32 / 1000.0,
            });
        }
    }
    near_start.push(near.len() as u32);
    Ok(CatalogIndex::from_columns(
        ids,
        price,
        popularity.iter().map(|p| *p as u8).collect(),
        in_stock.iter().map(|s| *s == 1).collect(),
        added_at.iter().map(|a| a.unwrap_or(i64::MIN)).collect(),
        term_names,
        (kept_start, kept),
        (near_start, near, near_weight),
    ))
}
