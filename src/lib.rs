//! storefront-loyalty: the loyalty widget compiled to WebAssembly.
//!
//! This first slice exports the headless API: pure functions over the rules in `loyalty-core`, taking and
//! returning plain JS objects (camelCase keys), throwing a JS `Error` with a stable `code` and a `problems`
//! list on bad input. No loyalty rule lives here; this crate only converts at the edge.
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod error;

pub use error::WidgetError;
use loyalty_core::{Problem, Problems, Program};
use serde::{de::DeserializeOwned, Serialize};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = include_str!("types.d.ts");

/// Decodes a JS value into `T`, naming the argument in every problem's path (`cart.lines[0].quantity`).
fn decode<T: DeserializeOwned>(argument: &str, value: JsValue) -> Result<T, Problems> {
    let de = serde_wasm_bindgen::Deserializer::from(value);
    loyalty_core::deserialize_with_path(de).map_err(|mut problems| {
        // serde-wasm-bindgen's messages come from a JS Error and start with its name.
        for problem in &mut problems.0 {
            if let Some(rest) = problem.message.strip_prefix("Error: ") {
                problem.message = rest.to_owned();
            }
        }
        prefix(argument, problems)
    })
}

fn prefix(argument: &str, mut problems: Problems) -> Problems {
    for problem in &mut problems.0 {
        problem.path = if problem.path.is_empty() {
            argument.to_owned()
        } else {
            format!("{argument}.{}", problem.path)
        };
    }
    problems
}

fn program(value: JsValue) -> Result<Program, WidgetError> {
    let config: loyalty_core::ProgramConfig =
        decode("program", value).map_err(WidgetError::InvalidProgram)?;
    config.validate().map_err(|p| WidgetError::InvalidProgram(prefix("program", p)))
}

fn input<T: DeserializeOwned>(argument: &str, value: JsValue) -> Result<T, WidgetError> {
    decode(argument, value).map_err(WidgetError::InvalidInput)
}

fn now(value: f64) -> Result<i64, WidgetError> {
    // JS numbers are floats; a Unix time in seconds is a whole number well inside the safe integer range.
    if value.fract() != 0.0 || !value.is_finite() || value.abs() > 9.0e15 {
        return Err(WidgetError::InvalidInput(Problems(vec![Problem {
            path: "now".into(),
            message: format!("must be whole Unix seconds, got {value}"),
        }])));
    }
    Ok(value as i64)
}

fn output<T: Serialize>(value: &T) -> Result<JsValue, WidgetError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| WidgetError::Internal(e.to_string()))
}

/// Validates a loyalty program and returns it with every default filled in.
/// Throws a `LoyaltyError` with code `invalid_program` listing every problem with its path.
#[wasm_bindgen(js_name = validateProgram, unchecked_return_type = "Program")]
pub fn validate_program(
    #[wasm_bindgen(unchecked_param_type = "ProgramInput")] program_config: JsValue,
) -> Result<JsValue, WidgetError> {
    output(&program(program_config)?)
}

/// What buying a product (in the given quantity) earns, with the breakdown, as its page shows it.
#[wasm_bindgen(js_name = pointsForProduct, unchecked_return_type = "EarnResult")]
pub fn points_for_product(
    #[wasm_bindgen(unchecked_param_type = "ProgramInput")] program_config: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ProductOffer")] offer: JsValue,
    #[wasm_bindgen(unchecked_param_type = "EarnContext")] context: JsValue,
) -> Result<JsValue, WidgetError> {
    let program = program(program_config)?;
    let offer = input("offer", offer)?;
    let context = input("context", context)?;
    let result = loyalty_core::points_for_product(&program, &offer, &context)
        .map_err(|p| WidgetError::InvalidInput(prefix("offer", p)))?;
    output(&result)
}

/// What a cart earns, with the breakdown. The server awards exactly this for the order.
#[wasm_bindgen(js_name = pointsForCart, unchecked_return_type = "EarnResult")]
pub fn points_for_cart(
    #[wasm_bindgen(unchecked_param_type = "ProgramInput")] program_config: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Cart")] cart: JsValue,
    #[wasm_bindgen(unchecked_param_type = "EarnContext")] context: JsValue,
) -> Result<JsValue, WidgetError> {
    let program = program(program_config)?;
    let cart = input("cart", cart)?;
    let context = input("context", context)?;
    let result = loyalty_core::points_for_cart(&program, &cart, &context)
        .map_err(|p| WidgetError::InvalidInput(prefix("cart", p)))?;
    output(&result)
}

/// The shopper's tier standing at `now` (Unix seconds): current and next tier, what is left, what keeps it.
#[wasm_bindgen(js_name = tierProgress, unchecked_return_type = "TierProgress")]
pub fn tier_progress(
    #[wasm_bindgen(unchecked_param_type = "ProgramInput")] program_config: JsValue,
    #[wasm_bindgen(unchecked_param_type = "TierActivity")] activity: JsValue,
    now_seconds: f64,
) -> Result<JsValue, WidgetError> {
    let program = program(program_config)?;
    let activity = input("activity", activity)?;
    let result = loyalty_core::tier_progress(&program, &activity, now(now_seconds)?)
        .map_err(|p| WidgetError::InvalidInput(prefix("activity", p)))?;
    output(&result)
}

/// What `available` points can buy now, and how many are missing for the next reward.
#[wasm_bindgen(js_name = rewardsOverview, unchecked_return_type = "RewardsOverview")]
pub fn rewards_overview(
    #[wasm_bindgen(unchecked_param_type = "ProgramInput")] program_config: JsValue,
    available: f64,
) -> Result<JsValue, WidgetError> {
    let program = program(program_config)?;
    let available = now(available).map_err(|_| {
        WidgetError::InvalidInput(Problems(vec![Problem {
            path: "available".into(),
            message: format!("must be a whole number of points, got {available}"),
        }]))
    })?;
    output(&loyalty_core::rewards_overview(&program, available))
}
