//! Errors as the host page sees them: a real JS `Error` with a stable `code`, a readable `message`, and,
//! for bad input, a `problems` array of `{ path, message }` naming every field that was wrong.

use crate::sync_error::SyncError;
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
    /// `createClient`'s config did not validate.
    InvalidConfig(Problems),
    /// Talking to the backend failed (the code is the sync error's: `offline`, `timeout` ...).
    Sync(SyncError),
    /// The client has no program yet (wait for `ready()`).
    NotReady,
    /// Called back into the client while it was updating (from inside a subscriber); try again after.
    Busy,
    /// A result could not be handed to JS.
    Internal(String),
}

impl WidgetError {
    /// The stable code JS code can branch on.
    pub fn code(&self) -> &'static str {
        match self {
            WidgetError::InvalidProgram(_) => "invalid_program",
            WidgetError::InvalidInput(_) => "invalid_input",
            WidgetError::InvalidConfig(_) => "invalid_config",
            WidgetError::Sync(e) => e.code(),
            WidgetError::NotReady => "not_ready",
            WidgetError::Busy => "busy",
            WidgetError::Internal(_) => "internal",
        }
    }

    fn problems(&self) -> Option<&Problems> {
        match self {
            WidgetError::InvalidProgram(p) | WidgetError::InvalidInput(p) | WidgetError::InvalidConfig(p) => {
                Some(p)
            }
            WidgetError::Sync(e) => e.problems(),
            _ => None,
        }
    }
}

impl std::fmt::Display for WidgetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WidgetError::InvalidProgram(p) => write!(f, "invalid loyalty program: {p}"),
            WidgetError::InvalidInput(p) => write!(f, "invalid input: {p}"),
            WidgetError::InvalidConfig(p) => write!(f, "invalid loyalty client config: {p}"),
            WidgetError::Sync(e) => write!(f, "{e}"),
            WidgetError::NotReady => {
                f.write_str("the loyalty program has not loaded yet: wait for client.ready()")
            }
            WidgetError::Busy => {
                f.write_str("the loyalty client is busy updating: call again from outside the subscriber")
            }
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
        if let WidgetError::Sync(SyncError::Status { status, .. }) = &error {
            set("status", &JsValue::from(*status));
        }
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
