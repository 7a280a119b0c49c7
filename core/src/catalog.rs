//! The shop's catalog as the widget needs it for recommendations: compact products with the few
//! attributes ranking uses. The backend computes `popularity` (a coarse rank, never raw sales) and
//! `neighbours` (products often bought together) from its orders.

use crate::json::{FromJson, Json};
use crate::problems::{check_id, check_id_here, Checker, Problems};
use crate::program::{LocalizedText, MAX_AMOUNT};
use serde::Serialize;

/// Highest popularity rank: the top tenth of products by recent units sold.
pub const MAX_POPULARITY: u32 = 5;

/// Most neighbours kept per product.
pub const MAX_NEIGHBOURS: usize = 8;

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
        /// Coarse rank 0 (no recent sales) to 5 (top tenth), computed by the backend.
        pub popularity: u32 = 0,
        /// Ids of products often bought with this one, most often first, computed by the backend.
        pub neighbours: Vec<String> = Vec::new(),
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
        Err("must not contain spaces or control characters".into())
    } else if ok_path || ok_https {
        Ok(())
    } else {
        Err(format!("must be a path on the shop (/products/x) or an https:// URL, got \"{url}\""))
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
    }
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
    fn links_are_paths_or_https() {
        for ok in ["/products/tea", "/p?x=1", "https://cdn.example/tea.jpg"] {
            assert_eq!(check_link(ok), Ok(()), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "//evil.example/x",
            "http://shop.example",
            "https://",
            "https:///x",
            "/a b",
            "tea",
        ] {
            assert!(check_link(bad).is_err(), "{bad}");
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
