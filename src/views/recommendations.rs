//! `<loyalty-recommendations>`: the ranked list for the page (a product page's "goes well with", the cart's
//! "complete your order", "picked for you" elsewhere), each product with its image (lazy, fixed size), title,
//! price, the points it earns this shopper and why it is there; and the shopper's switch to turn
//! personalisation off. On a product page it also records the visit in the device's history.

use super::Inner;
use crate::client::{RecommendInput, RecommendationView, View};
use crate::dom::{self, El};
use crate::i18n::{self, Texts};
use loyalty_core::{HistoryEvent, HistoryKind, Program, ReasonKind, RecommendContext};
use std::rc::Rc;

/// What the element shows, kept between renders.
#[derive(Clone, Debug, Default)]
pub(crate) struct Shown {
    /// The request the list answers, as a key (attributes, locale, shopper, switch).
    pub key: String,
    /// The key asked for and not answered yet.
    pub asking: Option<String>,
    /// The list, or nothing to show (no catalog).
    pub list: Option<Result<Vec<RecommendationView>, ()>>,
    /// The product whose visit was recorded, and when (UTC seconds), for its dwell time.
    pub visit: Option<(String, i64)>,
}

/// The request the element's attributes describe (read as the shell's list reads them).
fn request(inner: &Inner, texts: &Texts) -> RecommendInput {
    let attr = |name: &str| dom::attr(&inner.host, name).unwrap_or_default();
    let (context, product_id, cart) = (attr("context"), attr("product-id"), attr("cart"));
    let (category, limit) = (attr("category"), attr("limit"));
    let attributes = loyalty_shell::list::ListAttributes {
        context: &context,
        product_id: &product_id,
        cart: &cart,
        category: &category,
        limit: &limit,
        repurchase: dom::attr(&inner.host, "repurchase").is_some(),
    };
    let r = attributes.request(false);
    RecommendInput {
        context: r.context,
        product_id: r.product_id,
        cart: r.cart,
        category: r.category,
        limit: r.limit,
        exclude: r.exclude,
        repurchase: r.repurchase,
        locale: Some(texts.tag.to_owned()),
    }
}

pub(super) fn render(inner: &Rc<Inner>, view: &View, texts: &'static Texts) {
    let request = request(inner, texts);
    record_visit(inner, &request);
    let client = inner.client.borrow().share();
    let personalised = client.personalised();
    // What the list depends on, as one string (Display only: Debug formatting would link Unicode tables).
    let key = format!(
        "{}|{}|{}|{}|{}|{}|{}|{}",
        request.context as u8,
        request.product_id.as_deref().unwrap_or_default(),
        request.cart.join(","),
        request.category.as_deref().unwrap_or_default(),
        request.limit,
        texts.tag,
        personalised,
        view.shopper.as_ref().map_or(0, |s| s.as_of),
    );
    let shown = inner.ui.borrow().recommendations.clone();
    if view.program.is_some() && shown.key != key && shown.asking.as_deref() != Some(key.as_str()) {
        inner.ui.borrow_mut().recommendations.asking = Some(key.clone());
        let weak = Rc::downgrade(inner);
        let asked = key.clone();
        client.recommend_then(
            request.clone(),
            Box::new(move |result| {
                let Some(inner) = weak.upgrade() else { return };
                {
                    let mut ui = inner.ui.borrow_mut();
                    let shown = &mut ui.recommendations;
                    if shown.asking.as_deref() == Some(asked.as_str()) {
                        shown.asking = None;
                    }
                    shown.key = asked;
                    shown.list = Some(result.map_err(|_| ()));
                }
                super::render(&inner);
            }),
        );
    }
    let shown = inner.ui.borrow().recommendations.clone();
    let list_texts = loyalty_shell::list::texts(texts.tag);
    let heading = match request.context {
        RecommendContext::Product => list_texts.goes_with,
        RecommendContext::Cart => list_texts.complete_order,
        RecommendContext::Home => list_texts.for_you,
    };
    let mut content = vec![El::new("h2").part("title").attr("id", "recommendations-title").text(heading)];
    let body = &inner.places.body;
    dom::set_attr(body, "aria-labelledby", "recommendations-title");
    match (&shown.list, view.program.as_deref()) {
        (Some(Ok(list)), Some(program)) if !list.is_empty() => {
            dom::remove_attr(body, "aria-busy");
            let items = list.iter().map(|r| item(r, program, texts));
            content.push(El::new("ul").part("rec-list").attr("role", "list").children(items));
        }
        (Some(_), _) => {
            dom::remove_attr(body, "aria-busy");
            content.push(El::new("p").part("empty").text(list_texts.empty));
        }
        (None, _) => {
            // Placeholders of the list's size, so nothing moves when it arrives.
            dom::set_attr(body, "aria-busy", "true");
            let blocks =
                (0..request.limit).map(|_| El::new("li").part("rec-skeleton").attr("aria-hidden", "true"));
            content.push(El::new("ul").part("rec-list").children(blocks));
        }
    }
    let switch = El::new("input")
        .attr("type", "checkbox")
        .attr("role", "switch")
        .action("personalised", "")
        .attr("aria-describedby", "personalised-note");
    let switch = if personalised { switch.attr("checked", "") } else { switch };
    content.push(
        El::new("div")
            .part("rec-switch")
            .child(El::new("label").child(switch).child(El::new("span").text(list_texts.switch)))
            .child(El::new("p").part("note").attr("id", "personalised-note").text(if personalised {
                list_texts.personalised_note
            } else {
                list_texts.not_personalised_note
            })),
    );
    dom::replace_children(body, &content);
}

/// One product: a link holding its image, title, price and points, then why it is recommended.
fn item(r: &RecommendationView, program: &Program, texts: &Texts) -> El {
    let mut link = El::new("a").part("rec-link").attr("href", &r.url).action("recommendation", &r.product_id);
    let image = match &r.image {
        Some(src) => El::new("img")
            .part("rec-image")
            .attr("src", src)
            .attr("alt", "")
            .attr("loading", "lazy")
            .attr("decoding", "async")
            .attr("width", "96")
            .attr("height", "96"),
        None => El::new("span").part("rec-image").attr("aria-hidden", "true"),
    };
    link = link.child(image).child(El::new("span").part("rec-title").text(&r.title));
    let currency = r.currency.unwrap_or(program.currency);
    let shell_texts = loyalty_shell::texts::texts(texts.tag);
    link = link.child(El::new("span").part("rec-price").text(&loyalty_shell::list::price(
        r.price,
        currency,
        shell_texts,
    )));
    if let Some(points) = r.points.filter(|p| *p > 0) {
        link = link.child(
            El::new("span")
                .part("rec-points")
                .text(&(texts.earn_badge)(&i18n::number(points, texts), points)),
        );
    }
    let reasons: Vec<String> =
        r.reasons.iter().filter_map(|reason| reason_text(reason, program, texts)).collect();
    El::new("li")
        .part("rec-item")
        .child(link)
        .child(El::new("p").part("rec-reason").text(&reasons.join(" · ")))
}

fn reason_text(reason: &crate::client::ReasonView, program: &Program, texts: &Texts) -> Option<String> {
    let tag = texts.tag;
    let fallback = program.locales.first().map(String::as_str);
    let title = reason.product_title.clone();
    let names = loyalty_shell::list::Names {
        product: &|_| title.clone(),
        tier: &|id| program.tier(id).map(|t| loyalty_shell::list::local(&t.name, tag, fallback).to_owned()),
        reward: &|id| {
            program.reward(id).map(|r| loyalty_shell::list::local(&r.name, tag, fallback).to_owned())
        },
    };
    loyalty_shell::list::reason(&reason.reason, &names, loyalty_shell::list::texts(tag))
}

/// On a product page, the visit goes into the device's history once (dwell time is added when the page is
/// left, see `leave`).
fn record_visit(inner: &Inner, request: &RecommendInput) {
    let (RecommendContext::Product, Some(product)) = (request.context, &request.product_id) else { return };
    visited(inner, product);
}

/// Records a visit of `product` once per element (a badge that found its product in the page's JSON-LD is on
/// that product's page, so it records it too; two elements' visits of one page merge into one).
pub(super) fn visited(inner: &Inner, product: &str) {
    if inner.ui.borrow().recommendations.visit.as_ref().is_some_and(|(p, _)| p == product) {
        return;
    }
    let now = (js_sys::Date::now() / 1000.0) as i64;
    let event =
        HistoryEvent { product_id: product.to_owned(), kind: HistoryKind::View, at: now, dwell_seconds: 0 };
    if inner.client.borrow().record(event) {
        inner.ui.borrow_mut().recommendations.visit = Some((product.to_owned(), now));
    }
}

/// The page is being left (or the element removed): the visit's dwell time is added to the history.
pub(super) fn leave(inner: &Inner) {
    let Some((product, since)) = inner.ui.borrow_mut().recommendations.visit.take() else { return };
    let now = (js_sys::Date::now() / 1000.0) as i64;
    let dwell = u32::try_from((now - since).clamp(0, 3_600)).unwrap_or(0);
    let event = HistoryEvent { product_id: product, kind: HistoryKind::View, at: now, dwell_seconds: dwell };
    inner.client.borrow().record(event);
}

/// The detail of `loyalty:recommendation-click`.
pub(super) fn click_detail(inner: &Inner, product_id: &str) -> Option<wasm_bindgen::JsValue> {
    let shown = inner.ui.borrow().recommendations.clone();
    let list = shown.list?.ok()?;
    let position = list.iter().position(|r| r.product_id == product_id)?;
    let r = &list[position];
    let kinds: Vec<ReasonKind> = r.reasons.iter().map(|reason| reason.reason.kind).collect();
    Some(dom::object(&[
        ("productId", product_id.into()),
        ("url", r.url.as_str().into()),
        ("position", wasm_bindgen::JsValue::from_f64(position as f64)),
        ("reasons", crate::output(&kinds).ok()?),
    ]))
}
