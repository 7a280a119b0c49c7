//! The points badge: "Earn 120 points" for a product (from the element's attributes, else the page's
//! schema.org Product JSON-LD) or for a cart (the `cart` property or the `lines` attribute). The number is
//! loyalty-core's, with the shopper's tier, so it is what the server will award.

use super::{report, Inner};
use crate::client::View;
use crate::dom;
use crate::i18n::{self, Texts};
use loyalty_core::{Cart, CartLine, Currency, EarnResult, FromJson, Json, Problems, ProductOffer, Program};
use std::rc::Rc;

pub(super) fn render(inner: &Rc<Inner>, view: &View, texts: &Texts) {
    let body = &inner.places.body;
    let Some(program) = view.program.as_deref() else {
        // The skeleton keeps the badge's size, so the page does not move when the number arrives.
        dom::set_attr(body, "data-loading", "");
        dom::set_attr(body, "aria-busy", "true");
        dom::set_text(body, "");
        return;
    };
    dom::remove_attr(body, "data-loading");
    dom::remove_attr(body, "aria-busy");
    let context = crate::client::earn_context(view.shopper.as_deref());
    let earned = match inner.kind {
        super::Kind::CartPoints => cart(inner, program)
            .and_then(|c| loyalty_core::points_for_cart(program, &c, &context).map_err(|p| p.under("cart"))),
        _ => offer(inner, program).and_then(|o| {
            loyalty_core::points_for_product(program, &o, &context).map_err(|p| p.under("product"))
        }),
    };
    match earned {
        // An empty cart earns nothing worth saying; the badge keeps its place.
        Ok(result)
            if inner.kind == super::Kind::CartPoints
                && result.eligible_amount.amount == 0
                && result.points == 0 =>
        {
            dom::set_text(body, "");
            dom::set_attr(&inner.host, "data-points", "0");
        }
        Ok(result) => {
            dom::remove_attr(body, "hidden");
            dom::set_text(body, &badge_text(inner, program, &result, texts));
            dom::set_attr(&inner.host, "data-points", &result.points.to_string());
        }
        Err(problems) => {
            // Nothing wrong is shown to the shopper; the merchant hears it once in the console.
            dom::set_text(body, "");
            dom::set_attr(body, "hidden", "");
            dom::remove_attr(&inner.host, "data-points");
            report(inner, problems);
        }
    }
}

fn badge_text(inner: &Inner, program: &Program, result: &EarnResult, texts: &Texts) -> String {
    let tag = texts.tag;
    if result.points == 0 && result.minimum_order_met {
        return texts.no_points.to_owned();
    }
    let n = result.points;
    let mut text = if inner.kind == super::Kind::CartPoints {
        (texts.cart_badge)(&i18n::number(n, texts), n)
    } else {
        (texts.earn_badge)(&i18n::number(n, texts), n)
    };
    if let (Some(minimum), false) = (result.minimum_order, result.minimum_order_met) {
        text.push_str(&(texts.from_minimum)(&dom::money(minimum, program.currency, tag)));
    }
    if result.capped {
        text.push_str(&format!(" ({})", texts.capped));
    }
    text
}

/// A whole-number attribute.
fn whole(problems: &mut Problems, name: &str, value: Option<String>) -> Option<i64> {
    let value = value?;
    match value.trim().parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            problems.push(name, format!("must be a whole number (minor units for prices), got \"{value}\""));
            None
        }
    }
}

fn list(value: Option<String>) -> Vec<String> {
    value
        .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn currency(problems: &mut Problems, inner: &Inner, program: &Program) -> Currency {
    match dom::attr(&inner.host, "currency") {
        Some(code) => Currency::parse(code.trim()).unwrap_or_else(|message| {
            problems.push("currency", message);
            program.currency
        }),
        None => inner.settings.currency.unwrap_or(program.currency),
    }
}

/// The product from the element's attributes (`product-id`, `price` in minor units, `currency`,
/// `quantity`, `variant-id`, `categories`, `tags`), else from the page's JSON-LD.
fn offer(inner: &Inner, program: &Program) -> Result<ProductOffer, Problems> {
    let host = &inner.host;
    let mut problems = Problems::default();
    let quantity = whole(&mut problems, "quantity", dom::attr(host, "quantity")).unwrap_or(1);
    let mut offer = match (dom::attr(host, "product-id"), dom::attr(host, "price")) {
        (None, None) => {
            let offer = json_ld(program)?;
            super::recommendations::visited(inner, &offer.product_id);
            offer
        }
        (id, price) => {
            let currency = currency(&mut problems, inner, program);
            let price = whole(&mut problems, "price", price.clone());
            if id.as_deref().is_none_or(|i| i.trim().is_empty()) {
                problems.push("product-id", "is required with price");
            }
            if price.is_none() && !problems.0.iter().any(|p| p.path == "price") {
                problems.push("price", "is required with product-id (minor units, e.g. 12900 for ¥129.00)");
            }
            ProductOffer {
                product_id: id.unwrap_or_default(),
                variant_id: None,
                categories: Vec::new(),
                tags: Vec::new(),
                price: price.unwrap_or(0),
                currency,
                exchange_rate: None,
                quantity: 1,
            }
        }
    };
    offer.quantity = quantity;
    if let Some(variant) = dom::attr(host, "variant-id") {
        offer.variant_id = Some(variant);
    }
    let categories = list(dom::attr(host, "categories"));
    if !categories.is_empty() {
        offer.categories = categories;
    }
    let tags = list(dom::attr(host, "tags"));
    if !tags.is_empty() {
        offer.tags = tags;
    }
    if problems.0.is_empty() {
        Ok(offer)
    } else {
        Err(problems)
    }
}

/// The first schema.org `Product` in the page's JSON-LD: its `productID` or `sku`, and the first offer's
/// `price` (a decimal, turned into exact minor units) and `priceCurrency`.
fn json_ld(program: &Program) -> Result<ProductOffer, Problems> {
    for text in dom::json_ld_scripts() {
        let Ok(json) = loyalty_core::json::parse(&text) else { continue };
        if let Some(offer) = find_product(&json, program) {
            return offer;
        }
    }
    Err(Problems::one(
        "product-id",
        "is missing: give product-id and price, or put schema.org Product JSON-LD on the page",
    ))
}

fn find_product(json: &Json, program: &Program) -> Option<Result<ProductOffer, Problems>> {
    match json {
        Json::Array(items) => items.iter().find_map(|i| find_product(i, program)),
        Json::Object(_) => {
            if let Some(graph) = json.get("@graph") {
                if let Some(found) = find_product(graph, program) {
                    return Some(found);
                }
            }
            let is_product = match json.get("@type") {
                Some(Json::String(t)) => t == "Product",
                Some(Json::Array(types)) => {
                    types.iter().any(|t| matches!(t, Json::String(s) if s == "Product"))
                }
                _ => false,
            };
            is_product.then(|| product_offer(json, program))
        }
        _ => None,
    }
}

fn text_of(json: Option<&Json>) -> Option<String> {
    match json? {
        Json::String(s) => Some(s.clone()),
        Json::Int(n) => Some(n.to_string()),
        Json::Number(n) => Some(n.clone()),
        _ => None,
    }
}

fn product_offer(product: &Json, program: &Program) -> Result<ProductOffer, Problems> {
    let id = text_of(product.get("productID")).or_else(|| text_of(product.get("sku")));
    let offer = match product.get("offers") {
        Some(Json::Array(offers)) => offers.first(),
        other => other,
    };
    let price = offer.and_then(|o| text_of(o.get("price")).or_else(|| text_of(o.get("lowPrice"))));
    let currency = offer.and_then(|o| text_of(o.get("priceCurrency")));
    let mut problems = Problems::default();
    let currency = match currency {
        Some(code) => Currency::parse(&code).unwrap_or_else(|m| {
            problems.push("json-ld.offers.priceCurrency", m);
            program.currency
        }),
        None => program.currency,
    };
    let price = match price {
        Some(p) => currency.parse_decimal(&p).map_err(|m| problems.push("json-ld.offers.price", m)).ok(),
        None => {
            problems.push("json-ld.offers.price", "is missing");
            None
        }
    };
    if id.is_none() {
        problems.push("json-ld.productID", "is missing (productID or sku)");
    }
    match (id, price) {
        (Some(product_id), Some(price)) if problems.0.is_empty() => Ok(ProductOffer {
            product_id,
            variant_id: None,
            categories: Vec::new(),
            tags: Vec::new(),
            price,
            currency,
            exchange_rate: None,
            quantity: 1,
        }),
        _ => Err(problems),
    }
}

/// The cart from the `cart` property, else from the `lines` attribute (JSON) and `currency`.
fn cart(inner: &Inner, program: &Program) -> Result<Cart, Problems> {
    if let Some(value) = inner.cart.borrow().clone() {
        return crate::decode("cart", &value);
    }
    let mut problems = Problems::default();
    let currency = currency(&mut problems, inner, program);
    let lines = match dom::attr(&inner.host, "lines") {
        Some(text) => {
            Vec::<CartLine>::from_json_str(&text).map_err(|p| problems.0.extend(p.under("lines").0)).ok()
        }
        None => Some(Vec::new()),
    };
    match lines {
        Some(lines) if problems.0.is_empty() => {
            Ok(Cart { currency, exchange_rate: None, lines, order_discount: 0, shipping: 0 })
        }
        _ => Err(problems),
    }
}
