//! Errors as the host page sees them: a real JS `Error` with a stable `code`, a readable `message`, and,
//! for bad input, a `problems` array of `{ path, message }` naming every field that was wrong.

use loyalty_core::Problems;
use wasm_bindgen::JsValue;

/// Why a call into the widget failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum WidgetError {
    /// The loyalty program did not validate.
    InvalidProgram(Problems),
    /// Some other argument (cart, product, activity, time) did not validate.
    InvalidInput(Problems),
    /// A result could not be handed to JS.
    Internal(String),
}

impl WidgetError {
    /// The stable code JS code can branch on.
    pub fn code(&self) -> &'static str {
        match self {
            WidgetError::InvalidProgram(_) => "invalid_program",
            WidgetError::InvalidInput(_) => "invalid_input",
            WidgetError::Internal(_) => "internal",
        }
    }

    fn problems(&self) -> Option<&Problems> {
        match self {
            WidgetError::InvalidProgram(p) | WidgetError::InvalidInput(p) => Some(p),
            WidgetError::Internal(_) => None,
        }
    }
}

impl std::fmt::Display for WidgetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WidgetError::InvalidProgram(p) => write!(f, "invalid loyalty program: {p}"),
            WidgetError::InvalidInput(p) => write!(f, "invalid input: {p}"),
            WidgetError::Internal(message) => write!(f, "internal error: {message}"),
        }
    }
}

impl From<WidgetError> for JsValue {
    fn from(error: WidgetError) -> JsValue {
        let js = js_sys::Error::new(&error.to_string());
        js.set_name("LoyaltyError");
        let set = |key: &str, value: &JsValue| {
            // Setting a property on a fresh Error object cannot fail; if it somehow did, the message still
            // carries everything.
            let _ = js_sys::Reflect::set(&js, &JsValue::from_str(key), value);
        };
        set("code", &JsValue::from_str(error.code()));
        if let Some(problems) = error.problems() {
            let list = js_sys::Array::new();
            for problem in &problems.0 {
                let item = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&item, &"path".into(), &JsValue::from_str(&problem.path));
                let _ = js_sys::Reflect::set(&item, &"message".into(), &JsValue::from_str(&problem.message));
                list.push(&item);
            }
            set("problems", &list);
        }
        js.into()
    }
}
