//! storefront-loyalty: the loyalty widget compiled to WebAssembly.
//!
//! Exports the headless API: pure functions over the rules in `loyalty-core`, and `createClient`, a client
//! that syncs with a backend (`client`, `store`, `net`, `storage`). Plain JS objects (camelCase keys) go in
//! and out; failures are JS `Error`s with a stable `code` (and `problems` on bad input). No loyalty rule
//! lives here: this crate converts at the edge and keeps the shopper's data in sync.
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod client;
mod config;
mod dom;
mod error;
use loyalty_shell::history;
mod i18n;
mod net;
mod storage;
mod store;
mod sync_error;
mod views;

pub use client::{create_client, Client};
pub use error::WidgetError;
pub use sync_error::SyncError;
pub use views::{element_settings, ElementSettings, Widget};

use loyalty_core::{FromJson, Problems, Program, ProgramConfig};
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = include_str!("types.d.ts");

/// Decodes a JS value into `T`, naming the argument in every problem's path (`cart.lines[0].quantity`).
///
/// The value crosses as JSON text (the browser's own `JSON.stringify`) and is read by loyalty-core's reader:
/// one lean decode path for the whole widget, which reports every problem rather than the first.
pub(crate) fn decode<T: FromJson>(argument: &str, value: &JsValue) -> Result<T, Problems> {
    let text = if value.is_undefined() {
        None
    } else {
        match js_sys::JSON::stringify(value) {
            Ok(text) => JsValue::from(text).as_string(),
            Err(_) => {
                return Err(Problems::one(argument, "cannot be read as JSON (it holds a BigInt or a cycle)"));
            }
        }
    };
    let text = text.ok_or_else(|| Problems::one(argument, "is required"))?;
    T::from_json_str(&text).map_err(|p| p.under(argument))
}

fn parse_program(value: &JsValue) -> Result<Program, WidgetError> {
    let config: ProgramConfig = decode("program", value).map_err(WidgetError::InvalidProgram)?;
    config.validate().map_err(|p| WidgetError::InvalidProgram(p.under("program")))
}

/// A program from JSON text (a backend's answer, the cache): the same decoder and validation as
/// `parse_program`, in one copy (a second path measured 12 KB of wasm).
pub(crate) fn program_from_text(text: &str) -> Result<Program, Problems> {
    ProgramConfig::from_json_str(text)?.validate()
}

pub(crate) fn input<T: FromJson>(argument: &str, value: &JsValue) -> Result<T, WidgetError> {
    decode(argument, value).map_err(WidgetError::InvalidInput)
}

/// Reads a JS number that must be a whole number (Unix seconds, points) into an `i64`.
fn whole(argument: &str, value: f64, what: &str) -> Result<i64, WidgetError> {
    // 2^53: beyond it a JS number is no longer exact.
    if value.fract() == 0.0 && value.abs() <= 9_007_199_254_740_992.0 {
        return Ok(value as i64);
    }
    // Format with JS's own number printing: Rust's float formatting would add kilobytes to the wasm.
    let shown: String =
        js_sys::Number::from(value).to_string_with_radix(10).map(String::from).unwrap_or_default();
    Err(WidgetError::InvalidInput(Problems::one(argument, format!("must be {what}, got {shown}"))))
}

pub(crate) fn output<T: Serialize>(value: &T) -> Result<JsValue, WidgetError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| WidgetError::Internal(e.to_string()))
}

/// A value as JSON text (for the cache): serialized to a JS value, then the browser's `JSON.stringify`,
/// so no JSON writer is linked into the wasm.
pub(crate) fn json_text<T: Serialize>(value: &T) -> Option<String> {
    let value = output(value).ok()?;
    js_sys::JSON::stringify(&value).ok()?.as_string()
}

loyalty_core::wire_struct! {
    strict;
    /// `shareIntent`'s request.
    #[derive(Debug)]
    pub struct ShareRequest {
        /// Where the link is shared.
        pub channel: loyalty_core::ShareChannel,
        /// A path of the shop to link to instead of the landing page.
        pub page: Option<String>,
        /// The locale of the message (default: the page's language).
        pub locale: Option<String>,
    }
}

/// Reads a referral code as a shopper may type it (any case, spaces and hyphens ignored) and returns it as
/// 8 upper-case characters. Throws `invalid_input` naming `code` when it is mistyped: its check character
/// catches every single changed character and every swap of two neighbours.
#[wasm_bindgen(js_name = parseReferralCode)]
pub fn parse_referral_code(
    #[wasm_bindgen(unchecked_param_type = "string")] code: JsValue,
) -> Result<String, WidgetError> {
    let text = code
        .as_string()
        .ok_or_else(|| WidgetError::InvalidInput(Problems::one("code", "must be a string")))?;
    loyalty_core::ReferralCode::parse(&text)
        .map(|c| c.to_string())
        .map_err(|m| WidgetError::InvalidInput(Problems::one("code", m)))
}

/// `text` (a referral link) as a QR code in SVG markup, with a 4-module quiet zone; `level` is the error
/// correction, `"low"`, `"medium"` (the default), `"quartile"` or `"high"`.
#[wasm_bindgen(js_name = qrCodeSvg)]
pub fn qr_code_svg(
    #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
    #[wasm_bindgen(unchecked_param_type = "QrLevel | undefined")] level: JsValue,
) -> Result<String, WidgetError> {
    let text = text
        .as_string()
        .ok_or_else(|| WidgetError::InvalidInput(Problems::one("text", "must be a string")))?;
    let level = if level.is_undefined() || level.is_null() {
        loyalty_core::QrLevel::Medium
    } else {
        input("level", &level)?
    };
    let qr = loyalty_core::qr_svg(&text, level)
        .map_err(|m| WidgetError::InvalidInput(Problems::one("text", m)))?;
    Ok(qr.to_svg("#000", "#fff"))
}

/// A catalog indexed for ranking, without a client (a developer's own UI, a benchmark): build it once, then
/// rank many times. The ranking is the widget's (`client.recommend` uses the same).
#[wasm_bindgen]
pub struct RecommendationIndex {
    index: loyalty_core::CatalogIndex,
    /// The history `rank` uses, decoded once (as the client holds it).
    history: Vec<loyalty_core::HistoryEvent>,
}

#[wasm_bindgen]
impl RecommendationIndex {
    /// Indexes products given as JSON text: an array of catalog products, or `GET /v1/catalog`'s
    /// `{ "products": [...] }`. Throws `invalid_input` naming the first wrong fields.
    #[wasm_bindgen(js_name = fromJson)]
    pub fn from_json(text: &str) -> Result<RecommendationIndex, WidgetError> {
        let products = if text.trim_start().starts_with('[') {
            Vec::<loyalty_core::CatalogProduct>::from_json_str(text)
        } else {
            crate::store::CatalogAnswer::from_json_str(text).map(|a| a.products)
        }
        .map_err(|p| WidgetError::InvalidInput(p.under("catalog")))?;
        Ok(RecommendationIndex { index: loyalty_core::CatalogIndex::build(&products), history: Vec::new() })
    }

    /// Indexes a catalog in columns (`GET /v1/catalog?format=columns`, see the README): for large catalogs,
    /// about ten times faster than `fromJson`. Throws `invalid_input` naming the column and row.
    #[wasm_bindgen(js_name = fromColumns)]
    pub fn from_columns(text: &str) -> Result<RecommendationIndex, WidgetError> {
        let index = loyalty_core::index_from_columns(text)
            .map_err(|p| WidgetError::InvalidInput(p.under("catalog")))?;
        Ok(RecommendationIndex { index, history: Vec::new() })
    }

    /// Products in the index.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        self.index.len()
    }

    /// Ranks for `request` (`{ context, productId, cart, category, limit, exclude, repurchase, personalised }`)
    /// and the shopper's `history` (`[{ productId, kind, at, dwellSeconds }]`) at `now` (UTC seconds):
    /// `[{ productId, score, points, reasons }]`, without loyalty boosts (no program here).
    #[wasm_bindgen(unchecked_return_type = "RankedProduct[]")]
    pub fn recommend(
        &self,
        #[wasm_bindgen(unchecked_param_type = "HistoryEvent[]")] history: JsValue,
        #[wasm_bindgen(unchecked_param_type = "RankRequest")] request: JsValue,
        now: f64,
    ) -> Result<JsValue, WidgetError> {
        let history: Vec<loyalty_core::HistoryEvent> = input("history", &history)?;
        self.rank_with(&history, request, now)
    }

    /// Keeps a shopper's history in the index for `rank` (decoded once, not at every ranking).
    #[wasm_bindgen(js_name = setHistory)]
    pub fn set_history(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "HistoryEvent[]")] history: JsValue,
    ) -> Result<(), WidgetError> {
        self.history = input("history", &history)?;
        Ok(())
    }

    /// Ranks like `recommend`, with the history given to `setHistory`.
    #[wasm_bindgen(unchecked_return_type = "RankedProduct[]")]
    pub fn rank(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RankRequest")] request: JsValue,
        now: f64,
    ) -> Result<JsValue, WidgetError> {
        self.rank_with(&self.history, request, now)
    }
}

impl RecommendationIndex {
    fn rank_with(
        &self,
        history: &[loyalty_core::HistoryEvent],
        request: JsValue,
        now: f64,
    ) -> Result<JsValue, WidgetError> {
        let request: loyalty_core::RecommendRequest = input("request", &request)?;
        let now = whole("now", now, "whole Unix seconds")?;
        let ranking = loyalty_core::Ranking::default();
        output(&loyalty_core::recommend(&self.index, history, &request, None, &ranking, now))
    }
}

/// Validates a loyalty program and returns it with every default filled in.
/// Throws a `LoyaltyError` with code `invalid_program` listing every problem with its path.
#[wasm_bindgen(js_name = validateProgram, unchecked_return_type = "Program")]
pub fn validate_program(
    #[wasm_bindgen(unchecked_param_type = "ProgramInput")] program: JsValue,
) -> Result<JsValue, WidgetError> {
    output(&parse_program(&program)?)
}

/// What buying a product (in the given quantity) earns, with the breakdown, as its page shows it.
#[wasm_bindgen(js_name = pointsForProduct, unchecked_return_type = "EarnResult")]
pub fn points_for_product(
    #[wasm_bindgen(unchecked_param_type = "ProgramInput")] program: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ProductOffer")] offer: JsValue,
    #[wasm_bindgen(unchecked_param_type = "EarnContext")] context: JsValue,
) -> Result<JsValue, WidgetError> {
    let program = parse_program(&program)?;
    let offer = input("offer", &offer)?;
    let context = input("context", &context)?;
    let result = loyalty_core::points_for_product(&program, &offer, &context)
        .map_err(|p| WidgetError::InvalidInput(p.under("offer")))?;
    output(&result)
}

/// What a cart earns, with the breakdown. The server awards exactly this for the order.
#[wasm_bindgen(js_name = pointsForCart, unchecked_return_type = "EarnResult")]
pub fn points_for_cart(
    #[wasm_bindgen(unchecked_param_type = "ProgramInput")] program: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Cart")] cart: JsValue,
    #[wasm_bindgen(unchecked_param_type = "EarnContext")] context: JsValue,
) -> Result<JsValue, WidgetError> {
    let program = parse_program(&program)?;
    let cart = input("cart", &cart)?;
    let context = input("context", &context)?;
    let result = loyalty_core::points_for_cart(&program, &cart, &context)
        .map_err(|p| WidgetError::InvalidInput(p.under("cart")))?;
    output(&result)
}

/// The shopper's tier standing at `now` (Unix seconds): current and next tier, what is left, what keeps it.
#[wasm_bindgen(js_name = tierProgress, unchecked_return_type = "TierProgress")]
pub fn tier_progress(
    #[wasm_bindgen(unchecked_param_type = "ProgramInput")] program: JsValue,
    #[wasm_bindgen(unchecked_param_type = "TierActivity")] activity: JsValue,
    now: f64,
) -> Result<JsValue, WidgetError> {
    let program = parse_program(&program)?;
    let activity = input("activity", &activity)?;
    let result = loyalty_core::tier_progress(&program, &activity, whole("now", now, "whole Unix seconds")?)
        .map_err(|p| WidgetError::InvalidInput(p.under("activity")))?;
    output(&result)
}

/// What `available` points can buy now, and how many are missing for the next reward.
#[wasm_bindgen(js_name = rewardsOverview, unchecked_return_type = "RewardsOverview")]
pub fn rewards_overview(
    #[wasm_bindgen(unchecked_param_type = "ProgramInput")] program: JsValue,
    available: f64,
) -> Result<JsValue, WidgetError> {
    let program = parse_program(&program)?;
    let available = whole("available", available, "a whole number of points")?;
    output(&loyalty_core::rewards_overview(&program, available))
}
