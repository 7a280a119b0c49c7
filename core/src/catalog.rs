//! The shop's catalog as the widget needs it for recommendations: compact products with the few
//! attributes ranking uses. The backend computes `popularity` (a coarse rank, never raw sales) and
//! `neighbours` (products often bought together) from its orders.

use crate::json::{FromJson, Json};
use crate::problems::{check_id, check_id_here, quoting, Checker, Problems};
use crate::program::{LocalizedText, MAX_AMOUNT};
use serde::Serialize;

/// Highest popularity rank: the best seller. Popularity is a percentile of the whole catalog by recent units
/// sold (1 to 100; 0 for no recent sales), never a sales count.
pub const MAX_POPULARITY: u32 = 100;

/// Most neighbours kept per product.
pub const MAX_NEIGHBOURS: usize = 8;

/// The weight of the neighbour at `rank` (0 for the strongest) when the backend gives none, in permille: the
/// order is all that is known, so 1/5, 1/10, 1/15 ... of a product's orders (200, 100, 67 ...).
pub fn default_neighbour_weight(rank: usize) -> u32 {
    (200.0 / (rank as f32 + 1.0)).round() as u32
}

wire_struct! {
    lenient;
    /// One product of the catalog.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct CatalogProduct {
        /// The shop's product id.
        pub id: String,
        /// Title per locale.
        pub title: LocalizedText,
        /// The product page: a path on the shop (`/products/tea`) or an `https://` URL.
        pub url: String,
        /// An image: a path on the shop or an `https://` URL.
        pub image: Option<String>,
        /// Price in minor units of the program's currency.
        pub price: i64,
        /// Categories.
        pub categories: Vec<String> = Vec::new(),
        /// Tags.
        pub tags: Vec<String> = Vec::new(),
        /// Whether it can be bought now.
        pub in_stock: bool = true,
        /// When the shop added it, UTC seconds (products added lately are "new").
        pub added_at: Option<crate::Timestamp>,
        /// Percentile rank by recent units sold, 0 (none) to 100 (the best seller), computed by the backend.
        pub popularity: u32 = 0,
        /// Ids of products often bought with this one, strongest first, computed by the backend.
        pub neighbours: Vec<String> = Vec::new(),
        /// For each neighbour, the share of this product's orders that also held it, in permille (absent: the
        /// order of `neighbours` is all that is known).
        pub neighbour_weights: Vec<u32> = Vec::new(),
    }
}

/// Checks a URL that will reach the page as an attribute: a path on the shop or `https://`, never a
/// `javascript:` or `data:` URL or a protocol-relative `//host` one.
pub fn check_link(url: &str) -> Result<(), String> {
    let ok_path = url.starts_with('/') && !url.starts_with("//");
    let ok_https =
        url.strip_prefix("https://").is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
    if url.len() > 2048 {
        Err("must be at most 2048 bytes long".into())
    } else if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        // Browsers drop tabs and newlines anywhere in a URL: "/\t/evil.example" is "//evil.example".
        Err("must not contain spaces or control characters".into())
    } else if url.contains('\\') {
        // Browsers read a backslash as "/" in http(s) URLs: "/\evil.example" is "//evil.example".
        Err("must not contain a backslash (browsers read it as \"/\")".into())
    } else if ok_path || ok_https {
        Ok(())
    } else {
        // Joined by hand: the shell checks the script tag's links with this, and links no formatting.
        Err(quoting("must be a path on the shop (/products/x) or an https:// URL, got ", url))
    }
}

impl CatalogProduct {
    fn check(&self, c: &mut Checker, locales: &[String]) {
        check_id(c, "id", &self.id);
        c.field("title", |c| {
            for locale in locales {
                if self.title.get(locale).is_none_or(|t| t.trim().is_empty()) {
                    c.fail(format!("missing the \"{locale}\" text"));
                }
            }
        });
        if let Err(message) = check_link(&self.url) {
            c.fail_at("url", message);
        }
        if let Some(image) = &self.image {
            if let Err(message) = check_link(image) {
                c.fail_at("image", message);
            }
        }
        if !(0..=MAX_AMOUNT).contains(&self.price) {
            c.fail_at("price", format!("must be between 0 and {MAX_AMOUNT}, got {}", self.price));
        }
        c.each("categories", &self.categories, |c, _, id| check_id_here(c, id));
        c.each("tags", &self.tags, |c, _, id| check_id_here(c, id));
        c.each("neighbours", &self.neighbours, |c, _, id| check_id_here(c, id));
        if !self.neighbour_weights.is_empty() && self.neighbour_weights.len() != self.neighbours.len() {
            c.fail_at("neighbourWeights", "must have one weight per neighbour, or be left out");
        }
        c.each("neighbourWeights", &self.neighbour_weights, |c, _, w| {
            if *w > 1000 {
                c.fail(format!("must be a permille from 0 to 1000, got {w}"));
            }
        });
        if self.popularity > MAX_POPULARITY {
            c.fail_at("popularity", format!("must be from 0 to {MAX_POPULARITY}, got {}", self.popularity));
        }
    }
}

/// Popularity ranks from recent units sold (`units`: product id and units, any order) in a catalog of
/// `catalog_size` products: the percentile from the top, so the best seller is 100 and every product that sold
/// is at least 1; ties go by id. Products absent from `units` (or with none sold) are 0.
pub fn popularity_ranks(catalog_size: usize, units: &[(&str, i64)]) -> Vec<(String, u32)> {
    let mut sold: Vec<(&str, i64)> = units.iter().copied().filter(|(_, u)| *u > 0).collect();
    sold.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let n = catalog_size.max(sold.len()).max(1);
    sold.iter()
        .enumerate()
        .map(|(i, (id, _))| ((*id).to_owned(), (MAX_POPULARITY - (i * 100 / n) as u32).max(1)))
        .collect()
}

/// Products bought together. `orders_with` counts the orders holding each product; `pairs` counts the orders
/// holding both of two products (each unordered pair once, or both ways: counts are merged). Each product
/// keeps the [`MAX_NEIGHBOURS`] others with the highest `together / sqrt(orders_with(neighbour))` (its share of
/// the product's orders, discounted by how common the neighbour is everywhere: without the discount, the
/// best sellers are everyone's neighbours), weighted by the share in permille. Ties go by id.
pub fn neighbours(
    orders_with: &[(&str, i64)],
    pairs: &[(&str, &str, i64)],
) -> Vec<(String, Vec<(String, u32)>)> {
    let mut sorted: Vec<(&str, i64)> = orders_with.to_vec();
    sorted.sort_unstable();
    let orders_with = &sorted[..];
    let count = |id: &str| orders_with.binary_search_by(|(p, _)| (*p).cmp(id)).ok().map(|i| orders_with[i].1);
    let mut both: Vec<(&str, &str, i64)> = Vec::with_capacity(pairs.len() * 2);
    for (a, b, n) in pairs {
        if a != b && *n > 0 {
            both.push((a, b, *n));
            both.push((b, a, *n));
        }
    }
    both.sort_unstable();
    let mut merged: Vec<(&str, &str, i64)> = Vec::with_capacity(both.len());
    for (a, b, n) in both {
        match merged.last_mut() {
            Some(last) if last.0 == a && last.1 == b => last.2 += n,
            _ => merged.push((a, b, n)),
        }
    }
    let mut out = Vec::new();
    for group in merged.chunk_by(|x, y| x.0 == y.0) {
        let id = group[0].0;
        let Some(own) = count(id).filter(|c| *c > 0) else { continue };
        let mut near: Vec<(f64, &str, i64)> = group
            .iter()
            .filter_map(|(_, b, n)| {
                let theirs = count(b).filter(|c| *c > 0)?;
                Some((*n as f64 / (theirs as f64).sqrt(), *b, *n))
            })
            .collect();
        near.sort_unstable_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(y.1)));
        let kept = near
            .into_iter()
            .take(MAX_NEIGHBOURS)
            .map(|(_, b, n)| (b.to_owned(), ((n.min(own) * 1000 + own / 2) / own) as u32))
            .collect();
        out.push((id.to_owned(), kept));
    }
    out
}

/// The default number of products a widget downloads for recommendations.
pub const CANDIDATES: usize = 2_000;

/// The most popular products a catalog request may ask for (`limit`), and so the largest `catalogLimit` a
/// widget accepts: one number for both, so a widget is never configured to ask for what the server refuses.
///
/// Why 5,000: a product page ranks tens of products out of a candidate set that already holds the page's own
/// products and what goes with them, so more popular products add little once there are a few thousand.
/// 2,000 products are about 0.7 MB of JSON, so 5,000 are about 1.75 MB, the most that fits the widget's
/// default `maxResponseBytes` (2 MB) in the products format it reads, with room for long titles. 10,000
/// (3.5 MB) would need every shop to raise that limit, and lets any anonymous caller ask the server for
/// twice the work per request. A shop's own UI over a whole large catalog reads it server to server.
pub const MAX_CATALOG_LIMIT: usize = 5_000;

/// The products a widget downloads to rank: the `limit` most popular in stock (ties by id), plus the products
/// named in `near` (the page's products, in stock or not: they are where a list starts from) and their
/// neighbours in stock, so no shopper downloads a whole large catalog and a product page still finds what
/// goes with it. In catalog order.
pub fn candidate_set<'a>(
    products: &'a [CatalogProduct],
    limit: usize,
    near: &[&str],
) -> Vec<&'a CatalogProduct> {
    let mut by_popularity: Vec<usize> = (0..products.len()).filter(|i| products[*i].in_stock).collect();
    let more_popular = |a: &usize, b: &usize| {
        products[*b].popularity.cmp(&products[*a].popularity).then(products[*a].id.cmp(&products[*b].id))
    };
    // Only which products are the `limit` most popular matters, not their order (the set is returned in
    // catalog order): a selection, linear, instead of sorting the whole catalog on every request.
    if limit > 0 && limit < by_popularity.len() {
        by_popularity.select_nth_unstable_by(limit - 1, more_popular);
    }
    let mut keep = vec![false; products.len()];
    for i in by_popularity.into_iter().take(limit) {
        keep[i] = true;
    }
    // Sets, not lists: with 50 `near` ids and 8 neighbours each, a scan of the list per product made a
    // 100,000-product catalog cost about 100 ms per request, and anyone may ask with any `near`.
    let near: std::collections::HashSet<&str> = near.iter().copied().collect();
    let mut wanted: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for (i, p) in products.iter().enumerate() {
        if near.contains(p.id.as_str()) {
            keep[i] = true;
            wanted.extend(p.neighbours.iter().map(String::as_str));
        }
    }
    for (i, p) in products.iter().enumerate() {
        if p.in_stock && wanted.contains(p.id.as_str()) {
            keep[i] = true;
        }
    }
    products.iter().zip(keep).filter(|(_, k)| *k).map(|(p, _)| p).collect()
}

/// Decodes and validates a list of products (titles required in every one of `locales`); ids must be
/// unique.
pub fn parse_catalog(json: &Json, locales: &[String]) -> Result<Vec<CatalogProduct>, Problems> {
    let products = Vec::<CatalogProduct>::decode(json)?;
    let mut c = Checker::default();
    crate::problems::check_unique(&mut c, "", products.iter().map(|p| p.id.as_str()));
    for (i, product) in products.iter().enumerate() {
        c.index(i, |c| product.check(c, locales));
    }
    c.finish()?;
    Ok(products)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn popularity_is_a_percentile_of_the_catalog() {
        let ranks = popularity_ranks(10, &[("b", 5), ("a", 5), ("c", 1), ("d", 0)]);
        let ranks: Vec<(&str, u32)> = ranks.iter().map(|(id, r)| (id.as_str(), *r)).collect();
        assert_eq!(ranks, vec![("a", 100), ("b", 90), ("c", 80)]);
        // In a large catalog, the last seller still ranks above those that sold nothing.
        let many: Vec<(String, i64)> = (0..500).map(|i| (format!("p{i:03}"), 1000 - i)).collect();
        let many: Vec<(&str, i64)> = many.iter().map(|(id, u)| (id.as_str(), *u)).collect();
        let ranks = popularity_ranks(1000, &many);
        assert_eq!((ranks[0].1, ranks[499].1), (100, 51));
    }

    #[test]
    fn neighbours_are_discounted_by_how_common_they_are() {
        // "milk" is in every order; "jam" only with "bread".
        let orders = [("bread", 4), ("jam", 2), ("milk", 10), ("tea", 1)];
        let pairs = [
            ("bread", "milk", 4),
            ("bread", "jam", 2),
            ("milk", "jam", 1),
            ("tea", "milk", 1),
            ("milk", "bread", 0),
        ];
        let near = neighbours(&orders, &pairs);
        let of = |id: &str| near.iter().find(|(p, _)| p == id).map(|(_, n)| n.clone()).unwrap_or_default();
        let pair = |id: &str, w: u32| (id.to_owned(), w);
        // For bread, jam (2 of 4 orders, rare) beats milk (4 of 4, everywhere): 2/sqrt(2) > 4/sqrt(10).
        assert_eq!(of("bread"), vec![pair("jam", 500), pair("milk", 1000)]);
        assert_eq!(of("jam"), vec![pair("bread", 1000), pair("milk", 500)]);
        assert_eq!(of("milk"), vec![pair("bread", 400), pair("tea", 100), pair("jam", 100)]);
        assert_eq!(of("none"), vec![]);
    }

    #[test]
    fn a_widget_downloads_the_popular_and_what_goes_with_its_page() {
        let product = |id: &str, popularity: u32, in_stock: bool, neighbours: &[&str]| CatalogProduct {
            id: id.into(),
            title: Default::default(),
            url: "/".into(),
            image: None,
            price: 1,
            categories: vec![],
            tags: vec![],
            in_stock,
            added_at: None,
            popularity,
            neighbours: neighbours.iter().map(|n| (*n).to_owned()).collect(),
            neighbour_weights: vec![],
        };
        let catalog = [
            product("a", 90, true, &[]),
            product("b", 80, true, &[]),
            product("c", 95, false, &[]),
            product("d", 10, true, &[]),
            product("page", 5, false, &["e", "f"]),
            product("e", 1, true, &[]),
            product("f", 1, false, &[]),
        ];
        let ids = |limit, near: &[&str]| -> Vec<String> {
            candidate_set(&catalog, limit, near).iter().map(|p| p.id.clone()).collect()
        };
        assert_eq!(ids(2, &[]), ["a", "b"], "the most popular in stock");
        assert_eq!(
            ids(2, &["page"]),
            ["a", "b", "page", "e"],
            "the page's product and its neighbours in stock"
        );
        assert_eq!(ids(100, &[]), ["a", "b", "d", "e"]);
    }

    proptest::proptest! {
        /// The selection and the sets give what the plain definition gives: sort the products in stock by
        /// popularity (ties by id), take `limit`, add the `near` products and their neighbours in stock.
        #[test]
        fn the_candidate_set_is_what_its_definition_says(
            rows in proptest::collection::vec(
                (0u32..4, proptest::bool::ANY, proptest::collection::vec(0usize..30, 0..4)),
                0..30,
            ),
            limit in 0usize..35,
            near in proptest::collection::vec(0usize..35, 0..6),
        ) {
            let id = |i: usize| format!("p{i:02}");
            let catalog: Vec<CatalogProduct> = rows
                .iter()
                .enumerate()
                .map(|(i, (popularity, in_stock, neighbours))| CatalogProduct {
                    id: id(i),
                    title: Default::default(),
                    url: "/".into(),
                    image: None,
                    price: 1,
                    categories: vec![],
                    tags: vec![],
                    in_stock: *in_stock,
                    added_at: None,
                    popularity: *popularity,
                    neighbours: neighbours.iter().map(|n| id(*n)).collect(),
                    neighbour_weights: vec![],
                })
                .collect();
            let near: Vec<String> = near.iter().map(|n| id(*n)).collect();
            let near: Vec<&str> = near.iter().map(String::as_str).collect();
            let mut popular: Vec<&CatalogProduct> = catalog.iter().filter(|p| p.in_stock).collect();
            popular.sort_by(|a, b| b.popularity.cmp(&a.popularity).then(a.id.cmp(&b.id)));
            let mut expected: Vec<&str> = popular.iter().take(limit).map(|p| p.id.as_str()).collect();
            for p in catalog.iter().filter(|p| near.contains(&p.id.as_str())) {
                expected.push(&p.id);
                for n in &p.neighbours {
                    if catalog.iter().any(|q| q.id == *n && q.in_stock) {
                        expected.push(n);
                    }
                }
            }
            expected.sort_unstable();
            expected.dedup();
            let chosen: Vec<&str> = candidate_set(&catalog, limit, &near).iter().map(|p| p.id.as_str()).collect();
            proptest::prop_assert_eq!(chosen, expected);
        }
    }

    #[test]
    fn links_are_paths_or_https() {
        for ok in ["/products/tea", "/p?x=1", "https://cdn.example/tea.jpg", "/p/%5Cx", "/a//b"] {
            assert_eq!(check_link(ok), Ok(()), "{ok}");
        }
        // Browsers read a backslash as "/" and drop tabs and newlines anywhere in a URL, so each of these
        // would leave the shop ("/\evil.example" is "//evil.example").
        let backslash = "must not contain a backslash (browsers read it as \"/\")";
        let control = "must not contain spaces or control characters";
        let not_ours =
            |url: &str| format!("must be a path on the shop (/products/x) or an https:// URL, got \"{url}\"");
        for (bad, message) in [
            ("javascript:alert(1)", not_ours("javascript:alert(1)")),
            ("data:text/html,x", not_ours("data:text/html,x")),
            ("//evil.example/x", not_ours("//evil.example/x")),
            ("http://shop.example", not_ours("http://shop.example")),
            ("http://localhost/x", not_ours("http://localhost/x")),
            ("https://", not_ours("https://")),
            ("https:///x", not_ours("https:///x")),
            ("tea", not_ours("tea")),
            ("/\\evil.example", backslash.into()),
            ("\\\\evil.example", backslash.into()),
            ("/\\\\evil.example/x", backslash.into()),
            ("/products\\..\\..\\x", backslash.into()),
            ("https://shop.example\\@evil.example", backslash.into()),
            ("https:\\\\evil.example", backslash.into()),
            ("/a b", control.into()),
            ("/\t/evil.example", control.into()),
            ("/\n/evil.example", control.into()),
            ("/\r/evil.example", control.into()),
            ("/\u{0}/x", control.into()),
            ("/\u{85}/x", control.into()),
            ("/\u{2028}/x", control.into()),
        ] {
            assert_eq!(check_link(bad), Err(message), "{bad:?}");
        }
    }

    #[test]
    fn catalogs_are_checked() {
        let json = crate::json::parse(
            r#"[{"id": "a", "title": {"en": "Tea"}, "url": "/a", "price": 100},
                {"id": "a", "title": {}, "url": "javascript:x", "image": "data:x", "price": -1, "tags": [""]}]"#,
        )
        .unwrap();
        let problems = parse_catalog(&json, &["en".to_owned()]).unwrap_err().to_string();
        assert_eq!(
            problems,
            "[1].id: duplicate id \"a\" (also at index 0); [1].title: missing the \"en\" text; \
             [1].url: must be a path on the shop (/products/x) or an https:// URL, got \"javascript:x\"; \
             [1].image: must be a path on the shop (/products/x) or an https:// URL, got \"data:x\"; \
             [1].price: must be between 0 and 1000000000000000, got -1; [1].tags[0]: must not be empty"
        );
        let ok = crate::json::parse(r#"[{"id": "a", "title": {"en": "Tea"}, "url": "/a", "price": 100}]"#)
            .unwrap();
        let products = parse_catalog(&ok, &["en".to_owned()]).unwrap();
        assert!(products[0].in_stock);
        assert_eq!(products[0].popularity, 0);
    }
}
