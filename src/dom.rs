//! The one door to the DOM (STYLE.md rule 2): a flat list of small functions over web-sys, and `El`, a
//! builder that makes an element, sets its attributes and text, and appends children. Nothing else in the
//! crate calls the DOM API, and no string reaches the DOM as HTML: text goes in through `textContent`,
//! attributes through `setAttribute`.
//!
//! Numbers, money and dates are formatted here too, by the browser's `Intl` (through `toLocaleString`), so
//! the wasm carries no locale data and no float formatting.

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Document, Element, Event, HtmlElement};

fn document() -> Option<Document> {
    web_sys::window()?.document()
}

/// An element under construction (or already in place): each method sets one thing and hands it back.
pub(crate) struct El(pub Element);

impl El {
    /// A new HTML element; an inert `div` stand-in never happens in a browser (the document exists), but a
    /// worker has none, and then the widget renders nothing rather than panicking.
    pub fn new(tag: &str) -> El {
        El(document()
            .and_then(|d| d.create_element(tag).ok())
            .unwrap_or_else(|| Object::new().unchecked_into()))
    }

    /// A new SVG element (for the progress bar, drawn without inline styles).
    pub fn svg(tag: &str) -> El {
        El(document()
            .and_then(|d| d.create_element_ns(Some("http://www.w3.org/2000/svg"), tag).ok())
            .unwrap_or_else(|| Object::new().unchecked_into()))
    }

    pub fn attr(self, name: &str, value: &str) -> El {
        let _ = self.0.set_attribute(name, value);
        self
    }

    pub fn class(self, class: &str) -> El {
        self.attr("class", class)
    }

    /// The `part` name for `::part()` theming, which is also the class the widget's own styles use.
    pub fn part(self, part: &str) -> El {
        self.attr("part", part).attr("class", part)
    }

    pub fn text(self, text: &str) -> El {
        self.0.set_text_content(Some(text));
        self
    }

    pub fn child(self, child: El) -> El {
        let _ = self.0.append_child(&child.0);
        self
    }

    pub fn children(self, children: impl IntoIterator<Item = El>) -> El {
        for child in children {
            let _ = self.0.append_child(&child.0);
        }
        self
    }

    /// Marks a control: a click on it (or inside it) is reported to the widget as `(action, id)`, and the
    /// pair also names it, so focus can be put back on the same control after a re-render.
    pub fn action(self, action: &str, id: &str) -> El {
        self.attr("data-action", action).attr("data-id", id)
    }

    /// A `<button type="button">` with a text and an action.
    pub fn button(part: &str, label: &str, action: &str, id: &str) -> El {
        El::new("button").attr("type", "button").part(part).text(label).action(action, id)
    }
}

/// Replaces everything under `parent` (an element or a shadow root) with `children`, in one DOM call.
pub(crate) fn replace_children(parent: &JsValue, children: &[El]) {
    let list = js_sys::Array::new();
    for child in children {
        list.push(&child.0);
    }
    parent.unchecked_ref::<ParentNode>().replace_children_with(&list);
}

pub(crate) fn set_text(element: &Element, text: &str) {
    // Skipping an unchanged text keeps screen readers from hearing a live region repeat itself.
    if element.text_content().as_deref() != Some(text) {
        element.set_text_content(Some(text));
    }
}

pub(crate) fn set_attr(element: &Element, name: &str, value: &str) {
    let _ = element.set_attribute(name, value);
}

pub(crate) fn remove_attr(element: &Element, name: &str) {
    let _ = element.remove_attribute(name);
}

pub(crate) fn attr(element: &Element, name: &str) -> Option<String> {
    element.get_attribute(name)
}

/// The element's tag, lowercase (`loyalty-points`), for console messages.
pub(crate) fn tag(element: &Element) -> String {
    element.tag_name().to_ascii_lowercase()
}

/// Calls `handler` on every `kind` event at `target` until the returned listener is dropped.
pub(crate) fn listen(
    target: &web_sys::EventTarget,
    kind: &'static str,
    handler: impl FnMut(&Event) + 'static,
) -> gloo_events::EventListener {
    gloo_events::EventListener::new(target, kind, handler)
}

/// Calls `handler` when the page is left (`pagehide`), as long as the listener is kept.
pub(crate) fn on_page_hide(mut handler: impl FnMut() + 'static) -> Option<gloo_events::EventListener> {
    let window = web_sys::window()?;
    Some(gloo_events::EventListener::new(&window, "pagehide", move |_| handler()))
}

pub(crate) fn focus(element: &Element) {
    if let Some(element) = element.dyn_ref::<HtmlElement>() {
        let _ = element.focus();
    }
}

/// The control (`data-action`, `data-id`) an event happened on, if any.
pub(crate) fn action_of(event: &Event) -> Option<(String, String, Element)> {
    let target: Element = event.target()?.dyn_into().ok()?;
    let control = target.closest("[data-action]").ok().flatten()?;
    let action = control.get_attribute("data-action")?;
    let id = control.get_attribute("data-id").unwrap_or_default();
    Some((action, id, control))
}

/// The focused control inside a shadow root, by its (action, id) key.
pub(crate) fn focused_key(root: &web_sys::ShadowRoot) -> Option<(String, String)> {
    let active = root.active_element()?;
    Some((active.get_attribute("data-action")?, active.get_attribute("data-id").unwrap_or_default()))
}

/// Finds a control by its (action, id) key; ids come from the backend, so no selector is built from them.
pub(crate) fn control(root: &web_sys::Node, action: &str, id: &str) -> Option<Element> {
    let root: &JsValue = root.as_ref();
    let list = if let Some(root) = root.dyn_ref::<web_sys::ShadowRoot>() {
        root.query_selector_all("[data-action]").ok()?
    } else {
        root.dyn_ref::<Element>()?.query_selector_all("[data-action]").ok()?
    };
    (0..list.length()).filter_map(|i| list.item(i)?.dyn_into::<Element>().ok()).find(|e| {
        e.get_attribute("data-action").as_deref() == Some(action)
            && e.get_attribute("data-id").unwrap_or_default() == id
    })
}

/// Dispatches `loyalty:<name>` on `host`: it bubbles and crosses shadow boundaries, so a listener on the
/// document hears every widget.
pub(crate) fn emit(host: &Element, name: &str, detail: &JsValue) {
    let init = web_sys::CustomEventInit::new();
    init.set_bubbles(true);
    init.set_composed(true);
    init.set_detail(detail);
    if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict(&format!("loyalty:{name}"), &init) {
        let _ = host.dispatch_event(&event);
    }
}

/// A plain object from (key, value) pairs, for event details.
pub(crate) fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (key, value) in pairs {
        let _ = Reflect::set(&object, &JsValue::from_str(key), value);
    }
    object.into()
}

pub(crate) fn show_modal(dialog: &Element) {
    if let Some(dialog) = dialog.dyn_ref::<web_sys::HtmlDialogElement>() {
        if !dialog.open() {
            let _ = dialog.show_modal();
        }
    }
}

pub(crate) fn close_dialog(dialog: &Element) {
    if let Some(dialog) = dialog.dyn_ref::<web_sys::HtmlDialogElement>() {
        dialog.close();
    }
}

/// The origin of the page the widget runs in (`https://shop.example`), for referral links to a path.
pub(crate) fn page_origin() -> String {
    web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default()
}

/// The page's query string (`?ref=...`), where a referral link puts its code.
pub(crate) fn page_query() -> String {
    web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default()
}

/// Whether the browser has a share sheet (the Web Share API: phones, Safari, Chrome on Windows).
pub(crate) fn can_share() -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w.navigator(), &"share".into()).ok())
        .is_some_and(|share| share.is_function())
}

/// Opens the share sheet with a title, text and link; true when the shopper shared (false when they closed
/// it, or the browser refused).
pub(crate) async fn share_sheet(title: &str, text: &str, url: &str) -> bool {
    let Some(navigator) = web_sys::window().map(|w| w.navigator()) else { return false };
    let Ok(share) = js_sys::Reflect::get(&navigator, &"share".into()) else { return false };
    let Some(share) = share.dyn_ref::<js_sys::Function>() else { return false };
    let data = object(&[("title", title.into()), ("text", text.into()), ("url", url.into())]);
    match share.call1(&navigator, &data).map(|p| p.dyn_into::<js_sys::Promise>()) {
        Ok(Ok(promise)) => wasm_bindgen_futures::JsFuture::from(promise).await.is_ok(),
        _ => false,
    }
}

/// The page's language (`<html lang>`), else the browser's.
pub(crate) fn page_language() -> String {
    let lang = document().and_then(|d| d.document_element()).and_then(|e| e.get_attribute("lang"));
    match lang.filter(|l| !l.trim().is_empty()) {
        Some(lang) => lang,
        None => web_sys::window().and_then(|w| w.navigator().language()).unwrap_or_default(),
    }
}

/// The text of every `<script type="application/ld+json">` in the page (for schema.org Product data).
pub(crate) fn json_ld_scripts() -> Vec<String> {
    let Some(list) = document().and_then(|d| d.query_selector_all("script[type='application/ld+json']").ok())
    else {
        return Vec::new();
    };
    (0..list.length()).filter_map(|i| list.item(i)?.text_content()).collect()
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["navigator", "clipboard"], js_name = writeText, catch)]
    fn clipboard_write_text(text: &str) -> Result<js_sys::Promise, JsValue>;
    /// A document, for the one call web-sys leaves out.
    type LegacyDocument;
    /// The older copy command, for where the Clipboard API is missing (deprecated, so not in web-sys, but
    /// the only fallback there is).
    #[wasm_bindgen(method, js_name = execCommand, catch)]
    fn exec_command(this: &LegacyDocument, command: &str) -> Result<bool, JsValue>;
    /// An `Intl.NumberFormat` or `Intl.DateTimeFormat`: both have `format(value)`.
    type Formatter;
    #[wasm_bindgen(method, catch)]
    fn format(this: &Formatter, value: &JsValue) -> Result<String, JsValue>;
    /// `Intl.NumberFormat(locale, options)` (the `Intl` constructors may be called without `new`).
    #[wasm_bindgen(js_namespace = Intl, js_name = NumberFormat, catch)]
    fn number_format(locale: &str, options: &JsValue) -> Result<Formatter, JsValue>;
    #[wasm_bindgen(js_namespace = Intl, js_name = DateTimeFormat, catch)]
    fn date_time_format(locale: &str, options: &JsValue) -> Result<Formatter, JsValue>;
    /// An element, document fragment or shadow root: whatever has children.
    type ParentNode;
    #[wasm_bindgen(method, js_name = replaceChildren, variadic)]
    fn replace_children_with(this: &ParentNode, nodes: &js_sys::Array);
}

/// Copies `text` to the clipboard; where the Clipboard API is missing or refused (an insecure context, an
/// iframe without permission), selects it in a hidden field inside `root` and uses the older copy command.
pub(crate) async fn copy_text(root: &Element, text: &str) -> bool {
    if let Ok(promise) = clipboard_write_text(text) {
        if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
            return true;
        }
    }
    let Some(document) = document() else { return false };
    let field = El::new("textarea").attr("readonly", "").attr("aria-hidden", "true").class("offscreen");
    field.0.set_text_content(Some(text));
    let _ = root.append_child(&field.0);
    let copied = match field.0.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        Some(area) => {
            area.select();
            document.unchecked_ref::<LegacyDocument>().exec_command("copy").unwrap_or(false)
        }
        None => false,
    };
    field.0.remove();
    copied
}

/// Options for an `Intl` formatter.
fn options(pairs: &[(&str, &str)]) -> JsValue {
    let pairs: Vec<(&str, JsValue)> = pairs.iter().map(|(k, v)| (*k, JsValue::from_str(v))).collect();
    object(&pairs)
}

thread_local! {
    /// `Intl` formatters by locale and style. Creating one costs far more than using it (measured: number
    /// formatting through `toLocaleString`, which builds a formatter per call, was 38 ms of a 51 ms first
    /// render), so each is made once per page.
    static FORMATTERS: std::cell::RefCell<Vec<(String, Formatter)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Formats `value` with the formatter for `key` (locale and style), made by `make` the first time.
fn formatted(
    key: String,
    value: &JsValue,
    make: impl FnOnce() -> Result<Formatter, JsValue>,
) -> Option<String> {
    FORMATTERS.with(|cache| {
        let mut cache = cache.borrow_mut();
        let index = match cache.iter().position(|(k, _)| *k == key) {
            Some(index) => index,
            None => {
                // Only a bad locale tag or currency throws; ours are checked, so this is a last resort.
                cache.push((key, make().ok()?));
                cache.len() - 1
            }
        };
        cache[index].1.format(value).ok()
    })
}

fn format(value: f64, locale: &str, style: &str, pairs: &[(&str, &str)]) -> String {
    let key = format!("{locale}|{style}");
    let number = JsValue::from_f64(value);
    formatted(key, &number, || number_format(locale, &options(pairs))).unwrap_or_else(|| {
        js_sys::Number::from(value).to_string_with_radix(10).map(String::from).unwrap_or_default()
    })
}

fn format_date(at_ms: f64, locale: &str, style: &str, pairs: &[(&str, &str)]) -> String {
    let key = format!("{locale}|{style}");
    let date = js_sys::Date::new(&JsValue::from_f64(at_ms));
    formatted(key, &date, || date_time_format(locale, &options(pairs))).unwrap_or_default()
}

/// A ratio or multiplier (1.5) in the locale's style.
pub(crate) fn decimal(value: f64, locale: &str) -> String {
    format(value, locale, "d", &[("maximumFractionDigits", "2")])
}

/// A share (0.42) as a percentage in the locale's style: `42%`.
pub(crate) fn percent(value: f64, locale: &str) -> String {
    format(value, locale, "p", &[("style", "percent")])
}

/// Minor units of a currency as the locale writes money: `¥1,299.00`, `US$12.50`.
pub(crate) fn money(minor: i64, currency: loyalty_core::Currency, locale: &str) -> String {
    let major = minor as f64 / currency.minor_per_major() as f64;
    let style = format!("m{}", currency.code());
    format(major, locale, &style, &[("style", "currency"), ("currency", currency.code())])
}

/// A day of the year as the locale writes it without a year: `August 31`, `8月31日`; with `day` 0, the
/// month's name alone. Formatted in UTC, so the shopper's time zone cannot move it to another day.
pub(crate) fn month_day(month: u32, day: u32, locale: &str) -> String {
    let at = js_sys::Date::utc(2000.0, f64::from(month) - 1.0) + f64::from(day.max(1) - 1) * 86_400_000.0;
    if day > 0 {
        format_date(at, locale, "md", &[("month", "long"), ("day", "numeric"), ("timeZone", "UTC")])
    } else {
        format_date(at, locale, "m", &[("month", "long"), ("timeZone", "UTC")])
    }
}

/// Whether a checkbox is checked.
pub(crate) fn checked(control: &Element) -> bool {
    js_sys::Reflect::get(control, &"checked".into()).ok().and_then(|v| v.as_bool()).unwrap_or(false)
}

/// The current value of a form control (a `<select>`, an `<input>`), read without naming its type.
pub(crate) fn value(control: &Element) -> String {
    js_sys::Reflect::get(control, &"value".into()).ok().and_then(|v| v.as_string()).unwrap_or_default()
}

/// A date (UTC seconds) in the locale's medium style: `Mar 5, 2026` or `2026年3月5日`.
pub(crate) fn date(seconds: i64, locale: &str) -> String {
    format_date(seconds as f64 * 1000.0, locale, "date", &[("dateStyle", "medium")])
}
