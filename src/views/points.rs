//! The points badge: "Earn 120 points" for a product (from the element's attributes, else the page's
//! schema.org Product JSON-LD) or for a cart (the `cart` property or the `lines` attribute). The number is
//! loyalty-core's, with the shopper's tier, so it is what the server will award.

use super::{report, Inner};
use crate::client::View;
use crate::dom;
use crate::i18n::Texts;
use loyalty_core::{Cart, CartLine, Currency, EarnResult, FromJson, Json, Problems, ProductOffer, Program};
use loyalty_shell::badge::{BadgeInput, JsonLdProduct};
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
    let cart = inner.kind == super::Kind::CartPoints;
    let money = |minimum| dom::money(minimum, program.currency, tag);
    loyalty_shell::badge::text(result, cart, loyalty_shell::texts::texts(tag), money).unwrap_or_default()
}

/// The page's currency for the badge: the setting, else the program's.
fn default_currency(inner: &Inner, program: &Program) -> Currency {
    inner.settings.currency.unwrap_or(program.currency)
}

/// What the element's attributes say, as written, for the shell's badge rules (the same for both modules).
fn input(inner: &Inner) -> BadgeInput {
    let attr = |name| dom::attr(&inner.host, name);
    BadgeInput {
        cart: inner.kind == super::Kind::CartPoints,
        product_id: attr("product-id"),
        price: attr("price"),
        currency: attr("currency"),
        quantity: attr("quantity"),
        variant_id: attr("variant-id"),
        categories: attr("categories"),
        tags: attr("tags"),
        lines: None,
        json_ld: None,
    }
}

/// The product from the element's attributes (`product-id`, `price` in minor units, `currency`,
/// `quantity`, `variant-id`, `categories`, `tags`), else from the page's JSON-LD.
fn offer(inner: &Inner, program: &Program) -> Result<ProductOffer, Problems> {
    let mut input = input(inner);
    let from_page = input.product_id.is_none() && input.price.is_none();
    if from_page {
        input.json_ld = json_ld();
    }
    let offer = loyalty_shell::badge::offer(&input, default_currency(inner, program))?;
    if from_page {
        super::recommendations::visited(inner, &offer.product_id);
    }
    Ok(offer)
}

/// The first schema.org `Product` in the page's JSON-LD: its `productID` or `sku`, and the first offer's
/// `price` (else `lowPrice`) and `priceCurrency`, as written.
fn json_ld() -> Option<JsonLdProduct> {
    dom::json_ld_scripts().iter().find_map(|text| find_product(&loyalty_core::json::parse(text).ok()?))
}

fn find_product(json: &Json) -> Option<JsonLdProduct> {
    match json {
        Json::Array(items) => items.iter().find_map(find_product),
        Json::Object(_) => {
            if let Some(found) = json.get("@graph").and_then(find_product) {
                return Some(found);
            }
            let is_product = match json.get("@type") {
                Some(Json::String(t)) => t == "Product",
                Some(Json::Array(types)) => {
                    types.iter().any(|t| matches!(t, Json::String(s) if s == "Product"))
                }
                _ => false,
            };
            is_product.then(|| {
                let offer = match json.get("offers") {
                    Some(Json::Array(offers)) => offers.first(),
                    other => other,
                };
                JsonLdProduct {
                    id: text_of(json.get("productID")).or_else(|| text_of(json.get("sku"))),
                    price: offer.and_then(|o| text_of(o.get("price")).or_else(|| text_of(o.get("lowPrice")))),
                    currency: offer.and_then(|o| text_of(o.get("priceCurrency"))),
                }
            })
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

/// The cart from the `cart` property, else from the `lines` attribute (JSON) and `currency`.
fn cart(inner: &Inner, program: &Program) -> Result<Cart, Problems> {
    if let Some(value) = inner.cart.borrow().clone() {
        return crate::decode("cart", &value);
    }
    let mut problems = Problems::default();
    let currency = match dom::attr(&inner.host, "currency") {
        Some(code) => Currency::parse(code.trim()).unwrap_or_else(|message| {
            problems.push("currency", message);
            program.currency
        }),
        None => default_currency(inner, program),
    };
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
