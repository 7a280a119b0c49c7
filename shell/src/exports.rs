//! The shell's JavaScript API (wasm-bindgen), kept to strings and numbers so the glue stays small. State is
//! the page's: one program and at most one shopper, held here between calls.

use crate::badge::{self, BadgeInput};
use crate::texts;
use loyalty_core::{Currency, EarnConfig, EarnContext, EarnProgram, ReadJson, ShopperGlance};
use std::cell::Cell;
use wasm_bindgen::prelude::*;

/// Where the loader puts the minimum order's amount, formatted by `Intl` (see [`minimum`]).
const MONEY: char = '\u{1}';

#[derive(Default)]
struct Page {
    program: Option<EarnProgram>,
    /// The signed-in shopper's available balance and tier.
    shopper: Option<(i64, Option<String>)>,
    /// The last badge's points, its minimum order, and the problems of the last one refused.
    points: Option<i64>,
    minimum: Option<i64>,
    problems: String,
}

impl Page {
    const EMPTY: Page =
        Page { program: None, shopper: None, points: None, minimum: None, problems: String::new() };
}

// A `Cell` the page is taken out of and put back into, rather than a `RefCell`: nothing here calls out to
// JavaScript while it holds the page, so there is no second borrow to catch, and the borrow check's panic
// (with its message and formatting) stays out of the wasm. The constant initialiser needs no lazy set-up.
thread_local! {
    static PAGE: Cell<Page> = const { Cell::new(Page::EMPTY) };
}

fn with<T>(f: impl FnOnce(&mut Page) -> T) -> T {
    PAGE.with(|cell| {
        let mut page = cell.take();
        let out = f(&mut page);
        cell.set(page);
        out
    })
}

/// Reads the program's JSON text. False (and no program) when the rules would not accept it.
#[wasm_bindgen]
pub fn program(text: &str) -> bool {
    let program = EarnConfig::read_str(text).and_then(|c| c.validate().ok());
    let ok = program.is_some();
    with(|page| page.program = program);
    ok
}

/// Reads the shopper state's JSON text, which must be `customer_id`'s; an empty text is a guest. False (and a
/// guest) when it does not read, or is someone else's.
#[wasm_bindgen]
pub fn shopper(text: &str, customer_id: &str) -> bool {
    let state = (!text.is_empty()).then(|| ShopperGlance::read_str(text)).flatten();
    let state = state.filter(|s| s.customer_id == customer_id);
    let ok = state.is_some() || text.is_empty();
    with(|page| {
        page.shopper = state.map(|s| (s.balance.available, s.tier.and_then(|t| t.current_tier_id)));
    });
    ok
}

/// A badge's sentence for `input` (a [`BadgeInput`] as JSON), in the locale `tag`; `currency` is the page's
/// (the `data-currency` setting) or empty for the program's; `now` in UTC seconds. An empty text for an empty
/// cart; `undefined` when it cannot be said: no program yet, or the attributes are wrong ([`problems`]).
/// Where the text holds U+0001, the loader puts the minimum order ([`minimum`]) formatted as money.
#[wasm_bindgen]
pub fn badge(input: &str, tag: &str, currency: &str, now: f64) -> Option<String> {
    with(|page| {
        page.points = None;
        page.minimum = None;
        let program = page.program.as_ref()?;
        let Some(input) = BadgeInput::read_str(input) else {
            page.problems = "the badge's attributes could not be read".into();
            return None;
        };
        let default = Currency::known(currency).unwrap_or(program.currency);
        let context =
            EarnContext { now: now as i64, tier_id: page.shopper.as_ref().and_then(|s| s.1.clone()) };
        let result = if input.cart {
            badge::cart(&input, default).and_then(|c| {
                loyalty_core::points_for_cart(program, &c, &context).map_err(|p| p.under("cart"))
            })
        } else {
            badge::offer(&input, default).and_then(|o| {
                loyalty_core::points_for_product(program, &o, &context).map_err(|p| p.under("product"))
            })
        };
        match result {
            Ok(result) => {
                page.points = Some(result.points);
                page.minimum = result.minimum_order;
                let text = badge::text(&result, input.cart, texts::texts(tag), |_| MONEY.to_string());
                Some(text.unwrap_or_default())
            }
            Err(problems) => {
                page.problems = problems.joined();
                None
            }
        }
    })
}

/// The points a product of the catalog earns the shopper now (`text`: its id, price in the program's minor
/// units, categories and tags, separated by U+0000, each list's names by U+0001), or NaN: what the
/// recommendations list shows and boosts with, computed as its badge is.
#[wasm_bindgen(js_name = offerPoints)]
pub fn offer_points(text: &str, now: f64) -> f64 {
    with(|page| {
        let program = page.program.as_ref()?;
        let mut fields = text.split('\u{0}');
        let names = |f: Option<&str>| -> Vec<String> {
            f.unwrap_or_default().split('\u{1}').filter(|n| !n.is_empty()).map(str::to_owned).collect()
        };
        let product_id = fields.next()?.to_owned();
        let price = fields.next()?.parse().ok()?;
        let offer = loyalty_core::ProductOffer {
            product_id,
            variant_id: None,
            categories: names(fields.next()),
            tags: names(fields.next()),
            price,
            currency: program.currency,
            exchange_rate: None,
            quantity: 1,
        };
        let context =
            EarnContext { now: now as i64, tier_id: page.shopper.as_ref().and_then(|s| s.1.clone()) };
        loyalty_core::points_for_product(program, &offer, &context).ok().map(|r| r.points as f64)
    })
    .unwrap_or(f64::NAN)
}

/// The points of the last badge said, or NaN.
#[wasm_bindgen]
pub fn points() -> f64 {
    with(|page| page.points.map_or(f64::NAN, |n| n as f64))
}

/// The last badge's minimum order in major units of [`currency`] (for `Intl.NumberFormat`), or NaN.
#[wasm_bindgen]
pub fn minimum() -> f64 {
    with(|page| match (page.minimum, &page.program) {
        (Some(n), Some(program)) => n as f64 / program.currency.minor_per_major() as f64,
        _ => f64::NAN,
    })
}

/// The problems with the script tag's settings (a [`crate::settings::SettingsInput`] as JSON), one per line
/// as `setting\tmessage`; empty when they are fine.
#[wasm_bindgen]
pub fn settings(input: &str) -> String {
    let Some(input) = crate::settings::SettingsInput::read_str(input) else {
        return "config\tcould not be read".into();
    };
    let mut out = String::new();
    for problem in crate::settings::check(&input).0 {
        out.push_str(&problem.path);
        out.push('\t');
        out.push_str(&problem.message);
        out.push('\n');
    }
    out
}

/// The program's currency, or empty before there is one.
#[wasm_bindgen]
pub fn currency() -> String {
    with(|page| page.program.as_ref().map(|p| p.currency.code().to_owned()).unwrap_or_default())
}

/// Why the last badge could not be said. Built without the feature `messages` (the product page's wasm), it
/// names only where: the attribute, or `product` or `cart` for what the rules refused; the full widget says
/// why.
#[wasm_bindgen]
pub fn problems() -> String {
    with(|page| page.problems.clone())
}

/// The launcher's button: its name, then for a signed-in shopper the balance as shown and its unit for
/// screen readers, separated by U+0001 ("Rewards\u{1}1,250\u{1} points").
#[wasm_bindgen]
pub fn launcher(tag: &str) -> String {
    let texts = texts::texts(tag);
    let mut out = texts.launcher.to_owned();
    if let Some(n) = with(|page| page.shopper.as_ref().map(|s| s.0)) {
        let shown = texts::number(n, texts);
        let spoken = (texts.points)(&shown, n);
        out.push(MONEY);
        out.push_str(&shown);
        out.push(MONEY);
        out.push_str(spoken.strip_prefix(shown.as_str()).unwrap_or(""));
    }
    out
}

/// The shopper's available points (NaN for a guest) and tier id, for the elements' events.
#[wasm_bindgen]
pub fn available() -> f64 {
    with(|page| page.shopper.as_ref().map_or(f64::NAN, |s| s.0 as f64))
}

/// The shopper's current tier id, if any.
#[wasm_bindgen(js_name = tierId)]
pub fn tier_id() -> Option<String> {
    with(|page| page.shopper.as_ref().and_then(|s| s.1.clone()))
}

/// A product page's visit into the device's history (see [`crate::history::visit`]): the saved history and
/// preferences as localStorage holds them (empty when absent), the product, when the visit was (`at`: its
/// arrival, or when the page was left for the time spent there), now (UTC seconds; what the history keeps is
/// judged by it) and the seconds spent on the page (0 on arrival). The text to save, or empty when the
/// shopper's choices keep no history.
#[wasm_bindgen]
pub fn visit(
    history: &str,
    preferences: &str,
    require_consent: bool,
    product_id: &str,
    at: f64,
    now: f64,
    dwell: u32,
) -> String {
    let event = loyalty_core::HistoryEvent {
        product_id: product_id.to_owned(),
        kind: loyalty_core::HistoryKind::View,
        at: at as i64,
        dwell_seconds: dwell.min(3_600),
    };
    let history = (!history.is_empty()).then_some(history);
    let preferences = (!preferences.is_empty()).then_some(preferences);
    crate::history::visit(history, preferences, require_consent, event, now as i64).unwrap_or_default()
}

/// The switch under a recommendations list: the shopper's choices to save (see
/// [`crate::history::personalise`]), from those saved (`preferences`, empty when none).
#[wasm_bindgen]
pub fn personalise(preferences: &str, on: bool) -> String {
    crate::history::personalise(preferences, on)
}
