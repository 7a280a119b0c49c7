//! The recommendations list's module: a catalog in columns indexed once, then ranked by loyalty-core for each
//! list with the shopper's history (this device's, handed in by the page and never sent anywhere), their
//! standing and the program, and each item said in the page's language. It runs in the shell's worker (see
//! `js/loader.js`, `shellHost`), so downloading, indexing and ranking cost the page's main thread nothing;
//! the page only puts the finished texts into the element, as text.
//!
//! The wasm has no wasm-bindgen and so no glue: the worker writes one text into the module's memory and
//! reads one text back (`exports.rs`). Both texts are fields separated by U+0000 (which JSON text cannot
//! hold raw), an item's fields by U+0001. Like the shell, it links loyalty-core without its messages and
//! reads with the quiet reader: what does not read gives no list, and the full widget says why.

use loyalty_core::{
    CatalogIndex, CatalogShown, Loyalty, Named, ProductOffer, ProgramGlance, Ranking, ReadJson, ReasonKind,
    RecommendContext, RecommendRequest, ShopperStanding,
};
use loyalty_shell::history::{self, Preferences};
use loyalty_shell::list::{self, ListAttributes, Names};
use loyalty_shell::texts::{join, number};

#[cfg(target_arch = "wasm32")]
mod exports;

/// Between the fields of a text.
pub const FIELD: char = '\u{0}';
/// Between the parts of one item.
pub const PART: char = '\u{1}';

/// A catalog read and indexed, kept between lists.
pub struct Catalog {
    index: CatalogIndex,
    shown: CatalogShown,
}

impl Catalog {
    /// Reads `GET /v1/catalog?format=columns`'s answer; `None` when it does not read as the format says.
    pub fn read(text: &str) -> Option<Catalog> {
        let index = loyalty_core::index_from_columns(text).ok()?;
        let shown = CatalogShown::read_str(text)?;
        Some(Catalog { index, shown })
    }
}

/// One list's question, as the worker writes it: the fields in this order, separated by [`FIELD`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListQuestion<'a> {
    /// The program's JSON text.
    pub program: &'a str,
    /// The shopper state's JSON text (empty for a guest).
    pub shopper: &'a str,
    /// Whose the shopper state must be.
    pub customer_id: &'a str,
    /// The saved history, as localStorage holds it (empty when absent).
    pub history: &'a str,
    /// The saved preferences, likewise.
    pub preferences: &'a str,
    /// The shop asks for consent before a history is kept (`data-require-consent`).
    pub require_consent: bool,
    /// The element's `context` attribute as written (empty when absent; so are the others).
    pub context: &'a str,
    /// Its `product-id`.
    pub product_id: &'a str,
    /// Its `cart` (comma-separated product ids).
    pub cart: &'a str,
    /// Its `category`.
    pub category: &'a str,
    /// Its `limit`.
    pub limit: &'a str,
    /// Whether it has `repurchase`.
    pub repurchase: bool,
    /// The element's locale (a BCP 47 tag).
    pub tag: &'a str,
    /// Now, UTC seconds.
    pub now: i64,
    /// Interest halves every this many seconds (`data-history-half-life-days`); 0 for the default.
    pub half_life_seconds: i64,
}

impl<'a> ListQuestion<'a> {
    /// Reads the fields of `text`; `None` when there are not as many as [`ListQuestion`] has.
    pub fn read(text: &'a str) -> Option<ListQuestion<'a>> {
        let mut fields = text.split(FIELD);
        let mut next = || fields.next();
        let question = ListQuestion {
            program: next()?,
            shopper: next()?,
            customer_id: next()?,
            history: next()?,
            preferences: next()?,
            require_consent: next()? == "1",
            context: next()?,
            product_id: next()?,
            cart: next()?,
            category: next()?,
            limit: next()?,
            repurchase: next()? == "1",
            tag: next()?,
            now: next()?.parse().ok()?,
            half_life_seconds: next()?.parse().ok()?,
        };
        next().is_none().then_some(question)
    }

    /// The ranking's request, from the element's attributes (read as the full widget's list reads them).
    fn request(&self, personalised: bool) -> RecommendRequest {
        let attributes = ListAttributes {
            context: self.context,
            product_id: self.product_id,
            cart: self.cart,
            category: self.category,
            limit: self.limit,
            repurchase: self.repurchase,
        };
        attributes.request(personalised)
    }
}

/// The list for `question`, as the page draws it: first the list's own texts (heading, the sentence for an
/// empty list, the switch's label and note, "1" when the switch is on), then one field per product: its id,
/// link, image (may be empty), title, price, points ("Earn 120 points", or empty), why it is there, and the
/// reasons' kinds (comma-separated, for the page's click event). `points` says what a product earns this
/// shopper (in the worker, the shell's earning, which holds the same program and shopper). `None` without a
/// program that reads.
pub fn list(
    catalog: &Catalog,
    question: &ListQuestion<'_>,
    points: &dyn Fn(&ProductOffer) -> Option<i64>,
) -> Option<String> {
    let program = ProgramGlance::read_str(question.program)?;
    let shopper = (!question.shopper.is_empty())
        .then(|| ShopperStanding::read_str(question.shopper))
        .flatten()
        .filter(|s| s.customer_id == question.customer_id);
    let preferences =
        (!question.preferences.is_empty()).then(|| Preferences::read_str(question.preferences)).flatten();
    let preferences = preferences.unwrap_or_default();
    let personalised = preferences.allows_history(question.require_consent);
    let events = if personalised {
        history::load((!question.history.is_empty()).then_some(question.history), question.now)
    } else {
        Vec::new()
    };
    let request = question.request(personalised);
    let mut ranking = Ranking::default();
    if question.half_life_seconds > 0 {
        ranking.half_life_days = question.half_life_seconds as f32 / 86_400.0;
    }
    let loyalty = Loyalty {
        points,
        currency: program.currency,
        rate: program.earn.rate,
        tier: shopper.as_ref().and_then(|s| s.tier.as_ref()),
        rewards: shopper.as_ref().map(|s| &s.rewards),
    };
    let ranked =
        loyalty_core::recommend(&catalog.index, &events, &request, Some(loyalty), &ranking, question.now);

    let texts = list::texts(question.tag);
    let fallback = program.locales.first().map(String::as_str);
    let shown = &catalog.shown;
    let named = |among: &[Named], id: &str| {
        among.iter().find(|n| n.id == id).map(|n| list::local(&n.name, question.tag, fallback).to_owned())
    };
    let title =
        |id: &str| shown.row(id).and_then(|row| shown.title(row, question.tag, fallback)).map(str::to_owned);
    let names = Names {
        product: &title,
        tier: &|id| named(&program.tiers, id),
        reward: &|id| named(&program.rewards, id),
    };
    let heading = match request.context {
        RecommendContext::Product => texts.goes_with,
        RecommendContext::Cart => texts.complete_order,
        RecommendContext::Home => texts.for_you,
    };
    let note = if preferences.personalised { texts.personalised_note } else { texts.not_personalised_note };
    let on = if preferences.personalised { "1" } else { "" };
    let mut out = join(&[heading, "\u{1}", texts.empty, "\u{1}", texts.switch, "\u{1}", note, "\u{1}", on]);
    for item in ranked {
        let Some(row) = shown.row(&item.product_id) else { continue };
        let (Some(url), Some(title)) = (shown.url.get(row).cloned().flatten(), title(&item.product_id))
        else {
            continue;
        };
        let image = shown.image.get(row).cloned().flatten().unwrap_or_default();
        let price = catalog.index.price_of(&item.product_id).unwrap_or(0);
        let price = list::price(price, program.currency, texts.shell);
        let points = match item.points.filter(|p| *p > 0) {
            Some(p) => (texts.shell.earn_badge)(&number(p, texts.shell), p),
            None => String::new(),
        };
        let reasons: Vec<String> =
            item.reasons.iter().filter_map(|r| list::reason(r, &names, texts)).collect();
        let kinds: Vec<&str> = item.reasons.iter().map(|r| kind_name(r.kind)).collect();
        out.push(FIELD);
        let parts =
            [&item.product_id, &url, &image, &title, &price, &points, &reasons.join(" · "), &kinds.join(",")];
        for (i, part) in parts.into_iter().enumerate() {
            if i > 0 {
                out.push(PART);
            }
            // A part never holds a separator: the page would split the item wrongly.
            out.extend(part.chars().filter(|c| *c != FIELD && *c != PART));
        }
    }
    Some(out)
}

/// A product as the shell's earning reads it (`offerPoints` in `shell/src/exports.rs`): id, price, the
/// categories and the tags, separated by U+0000, the names of each list by U+0001. `None` when a name holds
/// either (the catalog's reader refuses control characters in ids and terms; this is the wire's own guard).
pub fn offer_text(offer: &ProductOffer) -> Option<String> {
    let names = offer.categories.iter().chain(&offer.tags);
    if names.chain([&offer.product_id]).any(|n| n.contains([FIELD, PART])) {
        return None;
    }
    let mut out = offer.product_id.clone();
    out.push(FIELD);
    out.push_str(&loyalty_shell::texts::decimal(offer.price.unsigned_abs()));
    for names in [&offer.categories, &offer.tags] {
        out.push(FIELD);
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                out.push(PART);
            }
            out.push_str(name);
        }
    }
    Some(out)
}

/// A reason's kind as the wire names it (the click event's `reasons`).
fn kind_name(kind: ReasonKind) -> &'static str {
    match kind {
        ReasonKind::BoughtWith => "boughtWith",
        ReasonKind::Viewed => "viewed",
        ReasonKind::Similar => "similar",
        ReasonKind::Popular => "popular",
        ReasonKind::PopularIn => "popularIn",
        ReasonKind::BonusPoints => "bonusPoints",
        ReasonKind::ReachesTier => "reachesTier",
        ReasonKind::ReachesReward => "reachesReward",
        ReasonKind::BoughtBefore => "boughtBefore",
        ReasonKind::New => "new",
    }
}
