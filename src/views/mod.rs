//! The widget's elements: what a shopper sees. Each custom element (defined by `www/lib/elements.js`)
//! holds one `Widget`, which renders into the element's shadow root through the `dom` door, re-renders
//! when its client changes, and turns clicks into the client's commands. Views hold no loyalty rule: the
//! numbers come from loyalty-core (points for a product or cart) or from the backend (balance, tier).
//!
//! Re-entrancy: event details go to the page's listeners, which may call back into the widget or the
//! client, so no `RefCell` borrow is held while an event is dispatched.

mod panel;
mod points;
mod recommendations;

use crate::client::{Client, View, Watch};
use crate::dom::{self, El};
use crate::i18n::{self, Texts};
use crate::sync_error::SyncError;
use crate::WidgetError;
use loyalty_core::{Currency, LocalizedText, Problems, Redemption};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use web_sys::{Element, ShadowRoot};

/// Settings the elements share (from `defineElements` or the script tag), checked once.
#[wasm_bindgen]
#[derive(Clone, Debug, Default)]
pub struct ElementSettings {
    locale: Option<String>,
    currency: Option<Currency>,
    sign_in_url: Option<String>,
    join_url: Option<String>,
}

mod input {
    loyalty_core::wire_struct! {
        lenient;
        /// The elements' settings as given.
        #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        pub struct SettingsInput {
            /// A BCP 47 tag the widget speaks; else the page's `lang`, else the browser's.
            pub locale: Option<String>,
            /// The currency of prices on the page (default: the program's).
            pub currency: Option<loyalty_core::Currency>,
            /// Where a guest signs in.
            pub sign_in_url: Option<String>,
            /// Where a guest joins.
            pub join_url: Option<String>,
        }
    }
}

/// A link the shop gives for guests: an `https://` URL or a path on the shop's own site, checked by core's
/// one link rule (no `http:`, `javascript:`, `data:`, `//host`, backslashes or control characters, which
/// would leave the shop or run something when clicked). The problem names the setting.
fn check_link(problems: &mut Problems, name: &str, value: Option<String>) -> Option<String> {
    let value = value?.trim().to_owned();
    match loyalty_core::check_link(&value) {
        Ok(()) => Some(value),
        Err(message) => {
            problems.push(name, message);
            None
        }
    }
}

/// Checks the elements' settings: `{ locale, currency, signInUrl, joinUrl }`.
/// Throws a `LoyaltyError` with code `invalid_config` naming every wrong setting.
#[wasm_bindgen(js_name = elementSettings)]
pub fn element_settings(
    #[wasm_bindgen(unchecked_param_type = "ElementSettingsInput")] value: JsValue,
) -> Result<ElementSettings, WidgetError> {
    let raw: input::SettingsInput = crate::decode("settings", &value).map_err(WidgetError::InvalidConfig)?;
    let mut problems = Problems::default();
    if let Some(locale) = &raw.locale {
        if !i18n::supported(locale) {
            problems.push("locale", format!("must be \"en\" or \"zh-CN\", got \"{locale}\""));
        }
    }
    let settings = ElementSettings {
        locale: raw.locale,
        currency: raw.currency,
        sign_in_url: check_link(&mut problems, "signInUrl", raw.sign_in_url),
        join_url: check_link(&mut problems, "joinUrl", raw.join_url),
    };
    if problems.0.is_empty() {
        Ok(settings)
    } else {
        Err(WidgetError::InvalidConfig(problems))
    }
}

/// Which element a widget is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Launcher,
    Panel,
    Points,
    CartPoints,
    Recommendations,
}

/// What the shopper is doing in the panel, beyond what the store knows.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ui {
    /// A reward waiting for "confirm".
    pub confirming: Option<String>,
    /// A reward being redeemed.
    pub redeeming: Option<String>,
    /// The last redemption: its code, or what went wrong.
    pub redeemed: Option<Result<Redemption, String>>,
    /// A code just copied (or `Err` with the code when copying failed).
    pub copied: Option<Result<String, String>>,
    /// The birthday being chosen: month and day as picked (0 for not yet).
    pub birthday: (u32, u32),
    /// A birthday being saved.
    pub saving_birthday: bool,
    /// What went wrong with the birthday (a wrong choice, or a failed save).
    pub birthday_problem: Option<&'static str>,
    /// The recommendations list and the product visit it recorded.
    pub recommendations: recommendations::Shown,
}

struct Inner {
    kind: Kind,
    host: Element,
    root: ShadowRoot,
    client: RefCell<Client>,
    settings: ElementSettings,
    ui: RefCell<Ui>,
    /// The element's own places: filled once at mount, then updated in place.
    places: Places,
    listeners: RefCell<Vec<gloo_events::EventListener>>,
    /// The balance last shown, to announce a change (not the first showing).
    shown_balance: Cell<Option<i64>>,
    ready_sent: Cell<bool>,
    /// Whether the launcher's dialog is open: its panel is built only then (most page views never open it).
    open: Cell<bool>,
    /// A cart set through the `cart` property (an object), which wins over the `lines` attribute.
    cart: RefCell<Option<JsValue>>,
    /// An attribute problem already reported, so the console hears it once.
    reported: RefCell<Option<String>>,
    destroyed: Cell<bool>,
}

/// The elements a widget keeps and updates.
struct Places {
    /// Where the content goes (panel body, badge, list).
    body: Element,
    /// A polite live region for announcements.
    live: Option<Element>,
    /// The launcher's button, its name and count, and its dialog.
    button: Option<Element>,
    name: Option<Element>,
    count: Option<Element>,
    dialog: Option<Element>,
    /// The panel's heading and status line.
    title: Option<Element>,
    status: Option<Element>,
}

impl Places {
    /// Only a place for content (badges, the recommendations list).
    fn bare(body: Element) -> Places {
        Places {
            body,
            live: None,
            button: None,
            name: None,
            count: None,
            dialog: None,
            title: None,
            status: None,
        }
    }
}

/// One mounted element of the widget. Created by the custom element when it is connected; `destroy()`
/// when it leaves the page.
#[wasm_bindgen]
pub struct Widget {
    inner: Rc<Inner>,
}

impl Watch for Inner {
    fn changed(self: Rc<Self>, error: Option<&SyncError>) {
        render(&self);
        if let Some(error) = error {
            let js: JsValue = WidgetError::Sync(error.clone()).into();
            emit_error(&self, &js);
        }
    }
}

impl Inner {
    fn texts(&self) -> &'static Texts {
        let tag = dom::attr(&self.host, "locale")
            .or_else(|| self.settings.locale.clone())
            .unwrap_or_else(dom::page_language);
        i18n::texts(&tag)
    }
}

fn kind_of(name: &str) -> Option<Kind> {
    Some(match name {
        "launcher" => Kind::Launcher,
        "panel" => Kind::Panel,
        "points" => Kind::Points,
        "cart-points" => Kind::CartPoints,
        "recommendations" => Kind::Recommendations,
        _ => return None,
    })
}

#[wasm_bindgen]
impl Widget {
    /// Mounts an element: `kind` is `launcher`, `panel`, `points`, `cart-points` or `recommendations`;
    /// `root` is the element's shadow root (its styles already adopted).
    #[wasm_bindgen(constructor)]
    pub fn new(
        kind: &str,
        host: Element,
        root: ShadowRoot,
        client: &Client,
        settings: &ElementSettings,
    ) -> Result<Widget, WidgetError> {
        let mut kind = kind_of(kind).ok_or_else(|| {
            WidgetError::InvalidInput(Problems::one("kind", format!("unknown element \"{kind}\"")))
        })?;
        if kind == Kind::Points && dom::attr(&host, "cart").is_some() {
            kind = Kind::CartPoints;
        }
        let places = mount(kind, &root);
        let inner = Rc::new(Inner {
            kind,
            host,
            root,
            client: RefCell::new(client.share()),
            settings: settings.clone(),
            ui: RefCell::default(),
            places,
            listeners: RefCell::default(),
            shown_balance: Cell::new(None),
            ready_sent: Cell::new(false),
            open: Cell::new(false),
            cart: RefCell::new(None),
            reported: RefCell::new(None),
            destroyed: Cell::new(false),
        });
        listen(&inner);
        let weak: Weak<dyn Watch> = Rc::downgrade(&inner) as Weak<dyn Watch>;
        client.watch(weak);
        render(&inner);
        Ok(Widget { inner })
    }

    /// Re-renders after an attribute changed (product, price, quantity, locale, cart lines).
    #[wasm_bindgen(js_name = attributeChanged)]
    pub fn attribute_changed(&self) {
        *self.inner.reported.borrow_mut() = None;
        render(&self.inner);
    }

    /// Shows another client's state (`element.client = client`).
    #[wasm_bindgen(js_name = setClient)]
    pub fn set_client(&self, client: &Client) {
        if self.inner.client.borrow().same(client) {
            return;
        }
        *self.inner.client.borrow_mut() = client.share();
        *self.inner.ui.borrow_mut() = Ui::default();
        self.inner.shown_balance.set(None);
        self.inner.ready_sent.set(false);
        client.watch(Rc::downgrade(&self.inner) as Weak<dyn Watch>);
        render(&self.inner);
    }

    /// Sets the cart a cart badge shows: `{ currency, lines: [{ productId, unitPrice, quantity }] }`.
    #[wasm_bindgen(js_name = setCart)]
    pub fn set_cart(&self, #[wasm_bindgen(unchecked_param_type = "Cart | null")] cart: JsValue) {
        *self.inner.cart.borrow_mut() = (!cart.is_null() && !cart.is_undefined()).then_some(cart);
        *self.inner.reported.borrow_mut() = None;
        render(&self.inner);
    }

    /// Opens the launcher's panel (for a "see my points" link elsewhere on the page).
    pub fn open(&self) {
        open(&self.inner);
    }

    /// Closes the launcher's panel.
    pub fn close(&self) {
        if let Some(dialog) = &self.inner.places.dialog {
            dom::close_dialog(dialog);
        }
    }

    /// Stops rendering and drops every listener; the element's content stays as last shown.
    pub fn destroy(&self) {
        recommendations::leave(&self.inner);
        self.inner.destroyed.set(true);
        self.inner.listeners.borrow_mut().clear();
    }
}

impl Drop for Widget {
    fn drop(&mut self) {
        self.inner.listeners.borrow_mut().clear();
    }
}

/// Builds the element's fixed frame; content is rendered into `body` afterwards.
fn mount(kind: Kind, root: &ShadowRoot) -> Places {
    let live = || El::new("div").class("sr-only").attr("aria-live", "polite").attr("role", "status");
    match kind {
        Kind::Launcher => {
            let count = El::new("span").part("count");
            let count_el = count.0.clone();
            let name = El::new("span").class("name");
            let name_el = name.0.clone();
            let button = El::button("launcher", "", "open", "")
                .attr("aria-haspopup", "dialog")
                .attr("aria-expanded", "false")
                .child(
                    El::svg("svg")
                        .attr("viewBox", "0 0 24 24")
                        .attr("aria-hidden", "true")
                        .attr("class", "icon")
                        .child(El::svg("path").attr(
                            "d",
                            "M12 2l2.9 6.3 6.9.7-5.2 4.6 1.5 6.8L12 17l-6.1 3.4 1.5-6.8L2.2 9l6.9-.7z",
                        )),
                )
                .child(name)
                .child(count);
            let (panel, title, status, body) = panel_frame(true);
            let live = live();
            let dialog = El::new("dialog").part("dialog").attr("aria-labelledby", "title").child(panel);
            let places = Places {
                body: body.0,
                live: Some(live.0.clone()),
                button: Some(button.0.clone()),
                name: Some(name_el),
                count: Some(count_el),
                dialog: Some(dialog.0.clone()),
                title: Some(title),
                status: Some(status),
            };
            dom::replace_children(root, &[button, dialog, live]);
            places
        }
        Kind::Panel => {
            let (panel, title, status, body) = panel_frame(false);
            let live = live();
            let places = Places {
                live: Some(live.0.clone()),
                title: Some(title),
                status: Some(status),
                ..Places::bare(body.0)
            };
            dom::replace_children(root, &[panel, live]);
            places
        }
        Kind::Points | Kind::CartPoints => {
            let badge = El::new("span").part("badge");
            let body = badge.0.clone();
            dom::replace_children(root, &[badge]);
            Places::bare(body)
        }
        Kind::Recommendations => {
            let section = El::new("section").part("recommendations");
            let body = section.0.clone();
            dom::replace_children(root, &[section]);
            Places::bare(body)
        }
    }
}

/// The panel: a heading (and a close button in the launcher's dialog), a status line, the body.
fn panel_frame(closable: bool) -> (El, Element, Element, El) {
    let title = El::new("h2").part("title").attr("id", "title");
    let title_el = title.0.clone();
    let mut header = El::new("header").part("header").child(title);
    if closable {
        header = header.child(El::button("close", "×", "close", "").attr("aria-label", "Close"));
    }
    let status = El::new("p").part("status").attr("hidden", "");
    let status_el = status.0.clone();
    let body = El::new("div").part("body");
    let body_el = El(body.0.clone());
    let panel = El::new("section")
        .part("panel")
        .attr("aria-labelledby", "title")
        .child(header)
        .child(status)
        .child(body);
    (panel, title_el, status_el, body_el)
}

fn listen(inner: &Rc<Inner>) {
    let weak = Rc::downgrade(inner);
    let click = dom::listen(&inner.root, "click", move |event| {
        let Some(inner) = weak.upgrade() else { return };
        if let Some((action, id, _)) = dom::action_of(event) {
            act(&inner, &action, id);
        }
    });
    let weak = Rc::downgrade(inner);
    let change = dom::listen(&inner.root, "change", move |event| {
        let Some(inner) = weak.upgrade() else { return };
        if let Some((action, _, control)) = dom::action_of(event) {
            if action == "personalised" {
                let client = inner.client.borrow().share();
                return client.set_personalised(dom::checked(&control));
            }
            let picked = dom::value(&control).parse().unwrap_or(0);
            let mut ui = inner.ui.borrow_mut();
            match action.as_str() {
                "birthday-month" => ui.birthday.0 = picked,
                "birthday-day" => ui.birthday.1 = picked,
                _ => {}
            }
        }
    });
    let mut listeners = vec![click, change];
    // A product page's visit gets its dwell time when the page is left.
    if matches!(inner.kind, Kind::Recommendations | Kind::Points) {
        let weak = Rc::downgrade(inner);
        listeners.extend(dom::on_page_hide(move || {
            if let Some(inner) = weak.upgrade() {
                recommendations::leave(&inner);
            }
        }));
    }
    if let Some(dialog) = &inner.places.dialog {
        let weak = Rc::downgrade(inner);
        listeners.push(dom::listen(dialog, "close", move |_| {
            let Some(inner) = weak.upgrade() else { return };
            inner.open.set(false);
            if let Some(button) = &inner.places.button {
                dom::set_attr(button, "aria-expanded", "false");
                dom::focus(button);
            }
            {
                let mut ui = inner.ui.borrow_mut();
                ui.confirming = None;
                ui.copied = None;
            }
            dom::emit(&inner.host, "close", &JsValue::NULL);
        }));
    }
    *inner.listeners.borrow_mut() = listeners;
}

fn open(inner: &Rc<Inner>) {
    let (Some(dialog), Some(button)) = (&inner.places.dialog, &inner.places.button) else { return };
    inner.open.set(true);
    render(inner);
    dom::show_modal(dialog);
    dom::set_attr(button, "aria-expanded", "true");
    // The heading first, so a screen reader starts at the top and Tab reaches the first control.
    if let Some(title) = &inner.places.title {
        dom::set_attr(title, "tabindex", "-1");
        dom::focus(title);
    }
    dom::emit(&inner.host, "open", &JsValue::NULL);
}

/// A control was used.
fn act(inner: &Rc<Inner>, action: &str, id: String) {
    if inner.destroyed.get() {
        return;
    }
    let focus: Option<(&str, String)>;
    match action {
        "open" => return open(inner),
        "close" => {
            if let Some(dialog) = &inner.places.dialog {
                dom::close_dialog(dialog);
            }
            return;
        }
        "retry" => {
            inner.client.borrow().share().revalidate();
            return;
        }
        "redeem" => {
            let mut ui = inner.ui.borrow_mut();
            ui.confirming = Some(id.clone());
            ui.redeemed = None;
            focus = Some(("confirm", id));
        }
        "cancel" => {
            inner.ui.borrow_mut().confirming = None;
            focus = Some(("redeem", id));
        }
        "confirm" => {
            {
                let mut ui = inner.ui.borrow_mut();
                if ui.redeeming.is_some() {
                    return;
                }
                ui.confirming = None;
                ui.redeeming = Some(id.clone());
            }
            let weak = Rc::downgrade(inner);
            let client = inner.client.borrow().share();
            render(inner);
            announce(inner, inner.texts().redeeming);
            client.redeem_then(id, Box::new(move |result| redeemed(&weak, result)));
            return;
        }
        "birthday" => return save_birthday(inner),
        "share" => return share(inner, &id),
        // The link opens the product by itself; the page hears which one, where it was and why.
        "recommendation" => {
            if let Some(detail) = recommendations::click_detail(inner, &id) {
                dom::emit(&inner.host, "recommendation-click", &detail);
            }
            return;
        }
        // A discount code's button names it by a handle (its reward and time), never by the code itself: the
        // page's scripts read attributes along every click's path (`composedPath`), analytics included.
        "copy-code" => {
            let code = code_by_handle(inner, &id);
            if let Some(code) = code {
                copy(inner, code);
            }
            return;
        }
        "copy" => {
            copy(inner, id);
            return;
        }
        _ => return,
    }
    render(inner);
    if let Some((action, id)) = focus {
        if let Some(control) = dom::control(inner.root.as_ref(), action, &id) {
            dom::focus(&control);
        }
    }
}

/// The handle a discount code's copy button names it by: its reward and when it was issued, which say nothing
/// a script could spend.
pub(crate) fn code_handle(reward_id: &str, created_at: i64) -> String {
    format!("{created_at}-{reward_id}")
}

/// The code a copy button's handle names: the redemption just made, or one of the shopper's codes.
fn code_by_handle(inner: &Rc<Inner>, handle: &str) -> Option<String> {
    if let Some(Ok(redemption)) = &inner.ui.borrow().redeemed {
        if code_handle(&redemption.reward_id, redemption.created_at) == handle {
            return Some(redemption.code.clone());
        }
    }
    let view = inner.client.borrow().view()?;
    let shopper = view.shopper?;
    shopper.codes.iter().find(|c| code_handle(&c.reward_id, c.created_at) == handle).map(|c| c.code.clone())
}

/// Copies `text` (a discount code or the referral link), shows and announces the outcome, and tells the page
/// (without the text where the shop keeps codes out of its events).
fn copy(inner: &Rc<Inner>, text: String) {
    let weak = Rc::downgrade(inner);
    let root: Element = inner.places.body.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let copied = dom::copy_text(&root, &text).await;
        let Some(inner) = weak.upgrade() else { return };
        inner.ui.borrow_mut().copied = Some(if copied { Ok(text.clone()) } else { Err(text.clone()) });
        render(&inner);
        let texts = inner.texts();
        announce(&inner, if copied { texts.copied } else { texts.copy_failed });
        if copied {
            let detail = inner.client.borrow().codes_in_events().then(|| ("text", JsValue::from_str(&text)));
            dom::emit(&inner.host, "copy", &dom::object(detail.as_slice()));
        }
    });
}

/// A share channel was chosen: the share sheet opens from here; a network's link opens by itself. Either
/// way the page hears of it (`loyalty:share`, with the channel and the link).
fn share(inner: &Rc<Inner>, source: &str) {
    let Some(channel) = loyalty_core::ShareChannel::ALL.into_iter().find(|c| c.source() == source) else {
        return;
    };
    let Some(view) = inner.client.borrow().view() else { return };
    let (Some(program), Some(code)) =
        (view.program.as_deref(), view.shopper.as_ref().and_then(|s| s.referral.as_ref()))
    else {
        return;
    };
    let Ok(code) = loyalty_core::ReferralCode::parse(&code.code) else { return };
    let tag = inner.texts().tag;
    let Ok(intent) = loyalty_core::share_intent(program, tag, &dom::page_origin(), &code, channel, None)
    else {
        return;
    };
    let detail = dom::object(&[("channel", source.into()), ("link", intent.link.as_str().into())]);
    if channel != loyalty_core::ShareChannel::Native {
        return dom::emit(&inner.host, "share", &detail);
    }
    let weak = Rc::downgrade(inner);
    wasm_bindgen_futures::spawn_local(async move {
        let shared = dom::share_sheet(&intent.title, &intent.text, &intent.link).await;
        if let (true, Some(inner)) = (shared, weak.upgrade()) {
            dom::emit(&inner.host, "share", &detail);
        }
    });
}

/// "Save birthday": checks the day exists, then sends it through the outbox.
fn save_birthday(inner: &Rc<Inner>) {
    let (month, day) = {
        let ui = inner.ui.borrow();
        if ui.saving_birthday {
            return;
        }
        ui.birthday
    };
    let texts = inner.texts();
    let Some(birthday) = loyalty_core::MonthDay::new(month, day) else {
        inner.ui.borrow_mut().birthday_problem = Some(texts.birthday_invalid);
        render(inner);
        announce(inner, texts.birthday_invalid);
        return;
    };
    {
        let mut ui = inner.ui.borrow_mut();
        ui.saving_birthday = true;
        ui.birthday_problem = None;
    }
    render(inner);
    announce(inner, texts.saving);
    let weak = Rc::downgrade(inner);
    let write = crate::store::Write::Birthday { birthday: birthday.to_string() };
    inner.client.borrow().share().write_then(
        write,
        Box::new(move |result| {
            let Some(inner) = weak.upgrade() else { return };
            let texts = inner.texts();
            {
                let mut ui = inner.ui.borrow_mut();
                ui.saving_birthday = false;
                ui.birthday_problem = result.is_err().then_some(texts.birthday_failed);
            }
            render(&inner);
            match result {
                Ok(_) => {
                    announce(&inner, texts.birthday_saved);
                    let detail = dom::object(&[("birthday", JsValue::from_str(&birthday.to_string()))]);
                    dom::emit(&inner.host, "birthday", &detail);
                }
                Err(error) => {
                    announce(&inner, texts.birthday_failed);
                    emit_error(&inner, &WidgetError::Sync(error).into());
                }
            }
        }),
    );
}

/// A redemption's answer arrived.
fn redeemed(weak: &Weak<Inner>, result: Result<Redemption, SyncError>) {
    let Some(inner) = weak.upgrade() else { return };
    let texts = inner.texts();
    let outcome = result.clone().map_err(|_| texts.redeem_failed.to_owned());
    {
        let mut ui = inner.ui.borrow_mut();
        ui.redeeming = None;
        ui.redeemed = Some(outcome);
    }
    render(&inner);
    match result {
        Ok(redemption) => {
            announce(&inner, &(texts.redeemed)(&redemption.reward_id));
            let handle = code_handle(&redemption.reward_id, redemption.created_at);
            if let Some(control) = dom::control(inner.root.as_ref(), "copy-code", &handle) {
                dom::focus(&control);
            }
            // Every listener on the document hears it (tag managers, analytics): the code only if allowed.
            let code = inner.client.borrow().codes_in_events().then(|| JsValue::from_str(&redemption.code));
            let mut detail = vec![("rewardId", JsValue::from_str(&redemption.reward_id))];
            detail.extend(code.map(|code| ("code", code)));
            detail.push(("cost", JsValue::from_f64(redemption.cost as f64)));
            let detail = dom::object(&detail);
            dom::emit(&inner.host, "redeem", &detail);
        }
        Err(error) => {
            announce(&inner, texts.redeem_failed);
            let js: JsValue = WidgetError::Sync(error).into();
            emit_error(&inner, &js);
        }
    }
}

fn announce(inner: &Inner, text: &str) {
    if let Some(live) = &inner.places.live {
        dom::set_text(live, text);
    }
}

fn emit_error(inner: &Inner, error: &JsValue) {
    let get = |key: &str| js_sys::Reflect::get(error, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
    let detail = dom::object(&[("code", get("code")), ("message", get("message")), ("error", error.clone())]);
    dom::emit(&inner.host, "error", &detail);
}

/// A text in the shopper's locale: the exact tag, else the same language, else the program's first locale.
pub(crate) fn local<'a>(text: &'a LocalizedText, tag: &str, fallback: Option<&String>) -> &'a str {
    loyalty_shell::list::local(text, tag, fallback.map(String::as_str))
}

/// Renders the element from its client's current state.
fn render(inner: &Rc<Inner>) {
    if inner.destroyed.get() {
        return;
    }
    let client = inner.client.borrow().share();
    let Some(view) = client.view() else { return };
    let texts = inner.texts();
    let ui = inner.ui.borrow().clone();
    let focused = dom::focused_key(&inner.root);
    match inner.kind {
        Kind::Launcher | Kind::Panel => render_panel(inner, &view, texts, &ui),
        Kind::Points | Kind::CartPoints => points::render(inner, &view, texts),
        Kind::Recommendations => recommendations::render(inner, &view, texts),
    }
    // A re-render replaces controls: put focus back on the same one if it is still there.
    if let Some((action, id)) = focused {
        if dom::focused_key(&inner.root).is_none() {
            if let Some(control) = dom::control(inner.root.as_ref(), &action, &id) {
                dom::focus(&control);
            }
        }
    }
    if !inner.ready_sent.get() && view.program.is_some() {
        inner.ready_sent.set(true);
        dom::emit(&inner.host, "ready", &change_detail(&view));
    } else if view.program.is_some() {
        dom::emit(&inner.host, "change", &change_detail(&view));
    }
}

fn change_detail(view: &View) -> JsValue {
    let shopper = view.shopper.as_ref();
    dom::object(&[
        ("status", JsValue::from_str(view.status.as_str())),
        ("signedIn", JsValue::from_bool(view.signed_in)),
        ("points", shopper.map_or(JsValue::NULL, |s| JsValue::from_f64(s.balance.available as f64))),
        (
            "tierId",
            shopper
                .and_then(|s| s.tier.as_ref())
                .and_then(|t| t.current_tier_id.as_deref())
                .map_or(JsValue::NULL, JsValue::from_str),
        ),
    ])
}

fn render_panel(inner: &Rc<Inner>, view: &View, texts: &'static Texts, ui: &Ui) {
    let tag = texts.tag;
    if let Some(title) = &inner.places.title {
        let name = view.program.as_ref().map(|p| local(&p.name, tag, p.locales.first()).to_owned());
        dom::set_text(title, name.as_deref().unwrap_or(texts.launcher));
    }
    if let Some(status) = &inner.places.status {
        render_status(status, view, texts);
    }
    if inner.places.button.is_some() {
        if let Some(name) = &inner.places.name {
            dom::set_text(name, texts.launcher);
        }
        if let Some(count) = &inner.places.count {
            match view.shopper.as_ref() {
                Some(shopper) => {
                    // The number shows; screen readers hear it with its unit ("1,250 points").
                    let n = shopper.balance.available;
                    let shown = i18n::number(n, texts);
                    let spoken = (texts.points)(&shown, n);
                    let unit = spoken.strip_prefix(shown.as_str()).unwrap_or("");
                    dom::replace_children(
                        count,
                        &[El::new("span").text(&shown), El::new("span").class("sr-only").text(unit)],
                    );
                    dom::remove_attr(count, "hidden");
                }
                None => dom::set_attr(count, "hidden", ""),
            }
        }
        if let Some(close) = dom::control(inner.root.as_ref(), "close", "") {
            dom::set_attr(&close, "aria-label", texts.close);
        }
    }
    if inner.kind == Kind::Launcher && !inner.open.get() {
        return;
    }
    let content = panel::body(view, texts, ui, &inner.settings);
    if view.program.is_none() {
        dom::set_attr(&inner.places.body, "aria-busy", "true");
    } else {
        dom::remove_attr(&inner.places.body, "aria-busy");
    }
    dom::replace_children(&inner.places.body, &content);
    // Balance changes are announced politely (not the first showing).
    if let Some(shopper) = &view.shopper {
        let n = shopper.balance.available;
        if let Some(before) = inner.shown_balance.replace(Some(n)) {
            if before != n {
                announce(inner, &(texts.balance_now)(&panel::points(texts, n)));
            }
        }
    }
}

fn render_status(status: &Element, view: &View, texts: &Texts) {
    use crate::store::SyncStatus;
    let expired = view.error.as_ref().is_some_and(|e| e.code() == "unauthorized");
    let text = match view.status {
        SyncStatus::Stale => Some(texts.stale),
        SyncStatus::Offline => Some(texts.offline),
        SyncStatus::Error if expired => Some(texts.session_expired),
        SyncStatus::Error => Some(texts.error),
        SyncStatus::Loading | SyncStatus::Fresh => None,
    };
    match text {
        Some(text) => {
            let mut children = vec![El::new("span").text(text)];
            if view.status == SyncStatus::Error || view.status == SyncStatus::Offline {
                children.push(El::button("retry", texts.retry, "retry", ""));
            }
            dom::replace_children(status, &children);
            dom::set_attr(status, "data-status", view.status.as_str());
            dom::remove_attr(status, "hidden");
        }
        None => {
            dom::replace_children(status, &[]);
            dom::set_attr(status, "hidden", "");
        }
    }
}

/// Reports bad attributes once to the console, naming each.
fn report(inner: &Inner, problems: Problems) {
    let message = problems.to_string();
    let mut reported = inner.reported.borrow_mut();
    if reported.as_deref() != Some(message.as_str()) {
        let error: JsValue = WidgetError::InvalidInput(problems).into();
        console_error(&format!("storefront-loyalty: <{}>", dom::tag(&inner.host)), &error);
        *reported = Some(message);
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(prefix: &str, error: &JsValue);
}
