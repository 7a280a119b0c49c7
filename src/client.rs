//! The headless client: the one handle JS holds (`createClient(config)`), and the shell around the store.
//!
//! The shell feeds the store messages (with the time and a random number) and performs the effects it
//! returns: calls to the backend, timers, the cache, subscribers, promises. Callbacks capture a `Weak` to the
//! client, so answers that arrive after `destroy()` are ignored; every timer, listener and request is owned
//! here and released by `destroy()` (or by dropping the client).

use crate::config::{self, ClientConfig};
use crate::history::{self, Preferences};
use crate::net::{Backend, Call};
use crate::storage::Storage;
use crate::store::{
    Attribution, Cached, Effect, Env, Fetched, Identity, Msg, OutboxEntry, PendingWrite, Store, SyncStatus,
    Timer, Write, WriteKind, Written,
};
use crate::sync_error::SyncError;
use crate::{output, WidgetError};
use js_sys::{Function, Promise};
use loyalty_core::{
    CatalogIndex, CatalogProduct, FromJson, HistoryEvent, IndexBuilder, Program, RecommendContext,
    ShopperState,
};
use serde::Serialize;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn(prefix: &str, error: &JsValue);
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buffer: &mut [u8]);
}

/// A promise's two functions.
struct Settle {
    resolve: Function,
    reject: Function,
}

fn promise(register: impl FnOnce(Settle)) -> Promise {
    let mut register = Some(register);
    Promise::new(&mut |resolve, reject| {
        if let Some(register) = register.take() {
            register(Settle { resolve, reject });
        }
    })
}

struct Inner {
    store: RefCell<Store>,
    backend: Box<dyn Backend>,
    storage: Storage,
    /// A JS `Set` of callbacks: unsubscribing is `Set.prototype.delete` bound to the callback, so no Rust
    /// closure outlives the client (one per subscription measured ~200 bytes of wasm memory each, kept until
    /// the page's GC ran its finalizer).
    subscribers: js_sys::Set,
    timers: RefCell<Vec<(Timer, gloo_timers::callback::Timeout)>>,
    /// `ready()` and `refresh()` promises waiting for the round to end (`true`: resolve only when fresh).
    rounds: RefCell<Vec<(bool, Settle)>>,
    /// Set once the first round ended, so a later `ready()` resolves at once.
    first_round_over: Cell<bool>,
    /// Writes asked for on this page, by idempotency key, until their answer.
    writes: RefCell<Vec<(String, Waiter)>>,
    /// The elements showing this client's state (weak: an element removed from the page is dropped).
    watchers: RefCell<Vec<Weak<dyn Watch>>>,
    online: RefCell<Option<gloo_events::EventListener>>,
    destroyed: Cell<bool>,
    /// The shopper's history (this device only) and their choices about personalisation.
    history: RefCell<Vec<HistoryEvent>>,
    preferences: Cell<Preferences>,
    require_consent: bool,
    /// Whether `loyalty:redeem` and `loyalty:copy` may carry the code (`codesInEvents`).
    codes_in_events: bool,
    /// The ranking's weights (the half-life of interest from the config).
    ranking: loyalty_core::Ranking,
    /// The catalog index, built a slice at a time from the store's catalog.
    index: RefCell<Indexed>,
    /// `recommend()` calls waiting for the first index.
    recommending: RefCell<Vec<(RecommendInput, RecommendWaiter)>>,
}

/// The catalog index and the catalog it was built from.
#[derive(Default)]
struct Indexed {
    source: Option<Rc<Vec<CatalogProduct>>>,
    index: Option<Rc<CatalogIndex>>,
    building: bool,
}

loyalty_core::wire_struct! {
    strict;
    /// `client.recommend`'s request.
    #[derive(Clone, Debug)]
    pub struct RecommendInput {
        /// `home` (default), `product` or `cart`.
        pub context: RecommendContext = RecommendContext::Home,
        /// The product on the page.
        pub product_id: Option<String>,
        /// The cart's product ids.
        pub cart: Vec<String> = Vec::new(),
        /// The page's category (for a shopper without history).
        pub category: Option<String>,
        /// 1 to 50 (default 10).
        pub limit: u32 = 10,
        /// Products never to recommend.
        pub exclude: Vec<String> = Vec::new(),
        /// Recommend products bought before (consumables).
        pub repurchase: bool = false,
        /// The locale of titles (default: the page's language).
        pub locale: Option<String>,
    }
}

loyalty_core::wire_struct! {
    strict;
    /// `client.track`'s event.
    #[derive(Clone, Debug)]
    pub struct TrackInput {
        /// The product.
        pub product_id: String,
        /// `view`, `cart` or `purchase`.
        pub kind: loyalty_core::HistoryKind,
        /// When, UTC seconds (default: now).
        pub at: Option<i64>,
        /// For a view, seconds on the page.
        pub dwell_seconds: u32 = 0,
    }
}

/// One recommendation as the page sees it: the product's details and why.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RecommendationView {
    pub product_id: String,
    pub title: String,
    pub url: String,
    pub image: Option<String>,
    pub price: i64,
    pub currency: Option<loyalty_core::Currency>,
    pub points: Option<i64>,
    pub reasons: Vec<ReasonView>,
}

/// A reason as the page sees it: the core's reason with the title of the product it names.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReasonView {
    #[serde(flatten)]
    pub reason: loyalty_core::Reason,
    /// The title of `productId`, in the request's locale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_title: Option<String>,
}

/// Who waits for recommendations: a promise, or an element.
enum RecommendWaiter {
    Js(Settle),
    Rust(Box<dyn FnOnce(Result<Vec<RecommendationView>, WidgetError>)>),
}

impl RecommendWaiter {
    fn finish(self, result: Result<Vec<RecommendationView>, WidgetError>) {
        match self {
            RecommendWaiter::Js(settle) => {
                let _ = match result.and_then(|list| output(&list)) {
                    Ok(list) => settle.resolve.call1(&JsValue::UNDEFINED, &list),
                    Err(error) => settle.reject.call1(&JsValue::UNDEFINED, &error.into()),
                };
            }
            RecommendWaiter::Rust(done) => done(result),
        }
    }
}

/// Who waits for a write's answer: a promise handed to JS, or an element of the widget.
enum Waiter {
    Js(Settle),
    Rust(Box<dyn FnOnce(Result<Written, SyncError>)>),
}

impl Waiter {
    /// Hands the write's answer over: the promise resolves with it (or rejects), the callback gets it.
    fn finish(self, result: Result<Written, SyncError>) {
        match self {
            Waiter::Js(settle) => {
                let answer = result.map_err(WidgetError::Sync).and_then(|written| match written {
                    Written::Redemption(redemption) => output(&redemption),
                    Written::Birthday(set) => output(&set),
                    Written::Referral(captured) => output(&captured),
                });
                let _ = match answer {
                    Ok(value) => settle.resolve.call1(&JsValue::UNDEFINED, &value),
                    Err(error) => settle.reject.call1(&JsValue::UNDEFINED, &error.into()),
                };
            }
            Waiter::Rust(done) => done(result),
        }
    }
}

/// Starts a write through the outbox with a fresh idempotency key; `waiter` gets its answer (at once, when
/// the client is gone).
fn enqueue(inner: &Rc<Inner>, write: Write, waiter: Waiter) {
    if inner.destroyed.get() {
        return waiter.finish(Err(SyncError::Destroyed));
    }
    let key = fresh_key();
    inner.writes.borrow_mut().push((key.clone(), waiter));
    dispatch(inner, Msg::Write { write, key });
}

/// An element of the widget that shows a client's state: told after every change, with the error when
/// the change is one.
pub(crate) trait Watch {
    fn changed(self: Rc<Self>, error: Option<&SyncError>);
}

/// What an element renders, taken out of the store so no borrow is held while it touches the DOM.
pub(crate) struct View {
    pub status: SyncStatus,
    pub error: Option<SyncError>,
    pub signed_in: bool,
    pub program: Option<Rc<Program>>,
    pub shopper: Option<Rc<ShopperState>>,
    pub outbox: Vec<PendingWrite>,
    /// The referral link that brought this browser, if it still counts.
    pub referral: Option<Attribution>,
}

/// A loyalty client: program, shopper state, sync status, and the shopper's actions, without any UI.
#[wasm_bindgen]
pub struct Client {
    inner: Rc<Inner>,
}

fn now_seconds() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

fn env() -> Env {
    Env { now_ms: js_sys::Date::now() as i64, random: js_sys::Math::random() }
}

/// 128 random bits in hex: an idempotency key.
fn fresh_key() -> String {
    let mut bytes = [0_u8; 16];
    get_random_values(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn cached(storage: &Storage, identity: Option<&Identity>) -> Cached {
    let program = storage.get("program", None).and_then(|saved| {
        let (etag, text) = saved.split_once('\n')?;
        Some((text.to_owned(), (!etag.is_empty()).then(|| etag.to_owned())))
    });
    let customer = identity.map(|i| i.customer_id.as_str());
    let (shopper, outbox) = match customer {
        Some(c) => (
            storage.get("shopper", Some(c)),
            // One entry per write: a damaged one is skipped, the others still resume.
            storage.list("outbox", c).iter().filter_map(|t| OutboxEntry::from_json_str(t).ok()).collect(),
        ),
        None => (None, Vec::new()),
    };
    let attribution = storage.get("referral", None).and_then(|t| Attribution::from_json_str(&t).ok());
    let catalog = storage.get("catalog", None).and_then(|saved| {
        let (etag, rest) = saved.split_once('\n')?;
        let (near, text) = rest.split_once('\n')?;
        let near = near.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect();
        Some((text.to_owned(), (!etag.is_empty()).then(|| etag.to_owned()), near))
    });
    Cached { program, shopper, outbox, attribution, catalog }
}

/// What other shoppers left on this device goes (a page that starts as a guest, or as someone else, after
/// the shop's own sign-out never called `signOut()`): their cached states and unsent birthdays. Redemptions
/// stay, to resume at their owner's next sign-in (a reward id and a key, nothing personal). The price: a page
/// that starts as a guest while the shopper is signed in elsewhere (another tab, a page cached for everyone)
/// takes their cache too; it is only a cache, read again on their next signed-in page, and an unsent
/// birthday is asked for again. Leaving a signed-out shopper's codes on a shared device would cost more.
fn leave_others(storage: &Storage, current: Option<&str>) {
    storage.retain("shopper", &|customer, _| Some(customer) == current);
    storage.retain("outbox", &|_, value| {
        OutboxEntry::from_json_str(value)
            .is_ok_and(|e| Some(e.customer_id.as_str()) == current || e.kind != WriteKind::Birthday)
    });
}

fn dispatch(inner: &Rc<Inner>, msg: Msg) {
    if inner.destroyed.get() {
        return;
    }
    // The borrow ends before any effect runs: effects call into JS, which may call back into the client.
    let effects = match inner.store.try_borrow_mut() {
        Ok(mut store) => store.update(msg, env()),
        Err(_) => return,
    };
    for effect in effects {
        // A subscriber may have destroyed the client while being told of this change.
        if inner.destroyed.get() {
            return;
        }
        perform(inner, effect);
    }
}

fn perform(inner: &Rc<Inner>, effect: Effect) {
    match effect {
        Effect::Fetch { resource, etag, identity, generation, near } => {
            let pending = inner.backend.call(Call::Read { resource, etag, identity, near });
            let weak = Rc::downgrade(inner);
            wasm_bindgen_futures::spawn_local(async move {
                let answer = pending.await;
                // Recommendations are never urgent: the catalog is taken in by a task of its own, so decoding
                // it (and compiling that code the first time) does not lengthen the page's other work.
                if resource == crate::store::Resource::Catalog {
                    next_task().await;
                }
                if let Some(inner) = weak.upgrade() {
                    dispatch(&inner, Msg::Fetched { resource, generation, result: answer });
                }
            });
        }
        Effect::Send { entry, identity } => {
            let (key, kind) = (entry.key.clone(), entry.kind);
            let pending = inner.backend.call(Call::Write { entry, identity });
            let weak = Rc::downgrade(inner);
            wasm_bindgen_futures::spawn_local(async move {
                let result = pending.await.and_then(|answer| match answer {
                    Fetched::Body { text, .. } => Ok(text),
                    Fetched::NotModified => Err(SyncError::Status {
                        status: 304,
                        code: None,
                        message: "not modified is no answer to a write".into(),
                        retry_after_ms: None,
                    }),
                });
                if let Some(inner) = weak.upgrade() {
                    dispatch(&inner, Msg::Sent { key, kind, result });
                }
            });
        }
        Effect::Wake { timer, after_ms, generation } => {
            let weak: Weak<Inner> = Rc::downgrade(inner);
            let msg = move || match timer {
                Timer::Retry(resource) => Msg::RetryDue { resource, generation },
                Timer::Outbox => Msg::ResendDue,
            };
            let timeout =
                gloo_timers::callback::Timeout::new(after_ms.min(u64::from(u32::MAX)) as u32, move || {
                    if let Some(inner) = weak.upgrade() {
                        inner.timers.borrow_mut().retain(|(t, _)| *t != timer);
                        dispatch(&inner, msg());
                    }
                });
            let mut timers = inner.timers.borrow_mut();
            // Replacing a timer drops (and so clears) the one it replaces.
            timers.retain(|(t, _)| *t != timer);
            timers.push((timer, timeout));
        }
        Effect::SaveProgram { text, etag } => {
            inner.storage.set("program", None, &format!("{}\n{text}", etag.unwrap_or_default()));
        }
        Effect::SaveShopper { customer_id, text } => inner.storage.set("shopper", Some(&customer_id), &text),
        Effect::SaveCatalog { text, etag, near } => {
            // The ids it was asked near are the page's product and cart: browsing, kept only where history may
            // be (personalisation on and, where the shop asks for it, consent given). Without them the cached
            // catalog is still the public candidate set.
            let near = if inner.preferences.get().allows_history(inner.require_consent) {
                near.join(",")
            } else {
                String::new()
            };
            let saved = format!("{}\n{near}\n{text}", etag.unwrap_or_default());
            inner.storage.set("catalog", None, &saved);
        }
        Effect::SaveWrite(entry) => {
            if let Some(text) = crate::json_text(&entry) {
                inner.storage.set("outbox", Some(&format!("{}:{}", entry.customer_id, entry.key)), &text);
            }
        }
        Effect::ForgetWrite { customer_id, key } => {
            inner.storage.remove("outbox", Some(&format!("{customer_id}:{key}")));
        }
        Effect::ForgetShopper { customer_id } => inner.storage.remove("shopper", Some(&customer_id)),
        Effect::Changed => {
            notify(inner, None);
            tell_watchers(inner, None);
            index_catalog(inner);
        }
        Effect::Report(error) => {
            let js: JsValue = WidgetError::Sync(error.clone()).into();
            console_warn("storefront-loyalty:", &js);
            notify(inner, Some(js));
            tell_watchers(inner, Some(&error));
        }
        Effect::Settle { key, result } => {
            let settle = {
                let mut waiting = inner.writes.borrow_mut();
                waiting.iter().position(|(k, _)| *k == key).map(|i| waiting.remove(i).1)
            };
            if let Some(waiter) = settle {
                waiter.finish(result);
            }
        }
        Effect::SaveAttribution(attribution) => {
            if let Some(text) = crate::json_text(&attribution) {
                inner.storage.set("referral", None, &text);
            }
        }
        Effect::ForgetAttribution => inner.storage.remove("referral", None),
        Effect::Warn(message) => console_warn("storefront-loyalty:", &JsValue::from_str(&message)),
        Effect::Settled => {
            inner.first_round_over.set(true);
            let waiting = std::mem::take(&mut *inner.rounds.borrow_mut());
            for (need_fresh, settle) in waiting {
                settle_round(inner, need_fresh, settle);
            }
        }
    }
}

/// Builds the index when the store holds a catalog the index was not built from: a slice of products at a
/// time, yielding to the page whenever a slice has run 8 ms, so indexing never blocks the main thread for
/// long. Then answers the `recommend()` calls that waited. A catalog that cannot be read rejects them.
fn index_catalog(inner: &Rc<Inner>) {
    // Only once something on this page asked for recommendations: every other change (and a cached catalog)
    // costs nothing here.
    let asked = !inner.recommending.borrow().is_empty() || inner.index.borrow().index.is_some();
    if !asked {
        return;
    }
    let (catalog, error) = match inner.store.try_borrow() {
        Ok(store) => (store.catalog().cloned(), store.catalog_error().cloned()),
        Err(_) => return,
    };
    let Some(catalog) = catalog else {
        if let Some(error) = error {
            let waiting = std::mem::take(&mut *inner.recommending.borrow_mut());
            for (_, waiter) in waiting {
                waiter.finish(Err(WidgetError::Sync(error.clone())));
            }
        }
        return;
    };
    {
        let mut indexed = inner.index.borrow_mut();
        let current = indexed.source.as_ref().is_some_and(|s| Rc::ptr_eq(s, &catalog));
        if current || indexed.building {
            return;
        }
        indexed.building = true;
    }
    let weak = Rc::downgrade(inner);
    wasm_bindgen_futures::spawn_local(async move {
        // Indexing, ranking and the list's first render each start a task of their own.
        next_task().await;
        let mut builder = IndexBuilder::default();
        let mut started = js_sys::Date::now();
        for slice in catalog.chunks(64) {
            builder.add(slice);
            if js_sys::Date::now() - started > 8.0 {
                next_task().await;
                if weak.strong_count() == 0 {
                    return;
                }
                started = js_sys::Date::now();
            }
        }
        let index = Rc::new(builder.finish());
        match weak.upgrade() {
            Some(inner) => {
                let mut indexed = inner.index.borrow_mut();
                indexed.building = false;
                indexed.source = Some(catalog);
                indexed.index = Some(index);
            }
            None => return,
        }
        next_task().await;
        let Some(inner) = weak.upgrade() else { return };
        let waiting = std::mem::take(&mut *inner.recommending.borrow_mut());
        for (request, waiter) in waiting {
            waiter.finish(recommendations(&inner, &request));
        }
        // A newer catalog may have arrived while this one was indexed.
        index_catalog(&inner);
    });
}

/// Resolves at the next task (a zero-delay timeout), letting the page run in between.
async fn next_task() {
    let mut timer = None;
    let promise = Promise::new(&mut |resolve, _| {
        timer = Some(gloo_timers::callback::Timeout::new(0, move || {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }));
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    drop(timer);
}

/// Ranks for `request` with the index in hand, the shopper's history (when allowed) and their standing.
fn recommendations(inner: &Inner, request: &RecommendInput) -> Result<Vec<RecommendationView>, WidgetError> {
    let index = inner.index.borrow().index.clone().ok_or(WidgetError::NotReady)?;
    let store = inner.store.try_borrow().map_err(|_| WidgetError::Busy)?;
    let catalog = inner.index.borrow().source.clone().ok_or(WidgetError::NotReady)?;
    let program = store.program().cloned();
    let shopper = store.shopper().cloned();
    drop(store);
    let personalised = inner.preferences.get().allows_history(inner.require_consent);
    let core_request = loyalty_core::RecommendRequest {
        context: request.context,
        product_id: request.product_id.clone(),
        cart: request.cart.clone(),
        category: request.category.clone(),
        limit: request.limit,
        exclude: request.exclude.clone(),
        repurchase: request.repurchase,
        personalised,
    };
    let now = now_seconds();
    let tier = shopper.as_deref().and_then(|s| s.tier.as_ref()).map(loyalty_core::TierReach::from);
    let tier_id = tier.as_ref().and_then(|t| t.current_tier_id.as_deref());
    let points = program.as_deref().map(|program| loyalty_core::earning(program.into(), tier_id, now));
    let loyalty = program.as_deref().zip(points.as_ref()).map(|(program, points)| {
        loyalty_core::Loyalty::new(
            program.into(),
            points,
            tier.as_ref(),
            shopper.as_deref().map(|s| &s.rewards),
        )
    });
    let history = inner.history.borrow();
    let list = loyalty_core::recommend(&index, &history, &core_request, loyalty, &inner.ranking, now);
    let locale = request.locale.clone().unwrap_or_else(crate::dom::page_language);
    let fallback = program.as_deref().and_then(|p| p.locales.first());
    let title = |id: &str| {
        catalog
            .iter()
            .find(|p| p.id == id)
            .map(|p| crate::views::local(&p.title, &locale, fallback).to_owned())
    };
    let views: Vec<RecommendationView> = list
        .into_iter()
        .filter_map(|r| {
            let product = catalog.iter().find(|p| p.id == r.product_id)?;
            let reasons = r
                .reasons
                .into_iter()
                .map(|reason| ReasonView {
                    product_title: reason.product_id.as_deref().and_then(title),
                    reason,
                })
                .collect();
            Some(RecommendationView {
                title: crate::views::local(&product.title, &locale, fallback).to_owned(),
                url: product.url.clone(),
                image: product.image.clone(),
                price: product.price,
                currency: program.as_deref().map(|p| p.currency),
                points: r.points,
                reasons,
                product_id: r.product_id,
            })
        })
        .collect();
    Ok(views)
}

/// Asks for recommendations: at once when an index is in hand, else once the catalog is read and indexed.
fn ask_recommendations(inner: &Rc<Inner>, request: RecommendInput, waiter: RecommendWaiter) {
    if inner.destroyed.get() {
        return waiter.finish(Err(WidgetError::Sync(SyncError::Destroyed)));
    }
    let near: Vec<String> = request.product_id.iter().chain(&request.cart).cloned().collect();
    dispatch(inner, Msg::WantCatalog { near });
    if inner.index.borrow().index.is_none() {
        inner.recommending.borrow_mut().push((request, waiter));
        return index_catalog(inner);
    }
    waiter.finish(recommendations(inner, &request));
}

/// `ready()` resolves once there is something to show; `refresh()` only when the round brought fresh data.
fn settle_round(inner: &Rc<Inner>, need_fresh: bool, settle: Settle) {
    let failure = match inner.store.try_borrow() {
        Ok(store) => {
            let nothing = store.program().is_none();
            match store.error() {
                Some(error) if need_fresh || nothing => Some(error.clone()),
                None if nothing => Some(SyncError::Destroyed),
                _ => None,
            }
        }
        Err(_) => None,
    };
    let _ = match failure {
        Some(error) => settle.reject.call1(&JsValue::UNDEFINED, &WidgetError::Sync(error).into()),
        None => settle.resolve.call1(&JsValue::UNDEFINED, &snapshot(inner)),
    };
}

/// Tells every element showing this client; the list is copied first, so an element may come or go
/// while being told.
fn tell_watchers(inner: &Rc<Inner>, error: Option<&SyncError>) {
    let watchers: Vec<Rc<dyn Watch>> = {
        let mut list = inner.watchers.borrow_mut();
        list.retain(|w| w.strong_count() > 0);
        list.iter().filter_map(Weak::upgrade).collect()
    };
    for watcher in watchers {
        if inner.destroyed.get() {
            return;
        }
        watcher.changed(error);
    }
}

/// Calls every subscriber with the new state; a subscriber that throws is reported and the others still run.
fn notify(inner: &Rc<Inner>, error: Option<JsValue>) {
    if inner.subscribers.size() == 0 {
        return;
    }
    // A copy, so a subscriber that unsubscribes (or subscribes) while being called changes nothing here.
    let subscribers = js_sys::Array::from(&inner.subscribers);
    let state = snapshot(inner);
    let event = js_sys::Object::new();
    let _ = js_sys::Reflect::set(
        &event,
        &"type".into(),
        &(if error.is_some() { "error" } else { "change" }).into(),
    );
    if let Some(error) = error {
        let _ = js_sys::Reflect::set(&event, &"error".into(), &error);
    }
    for subscriber in subscribers.iter() {
        let subscriber: Function = subscriber.unchecked_into();
        if let Err(thrown) = subscriber.call2(&JsValue::UNDEFINED, &state, &event) {
            console_warn("storefront-loyalty: a subscriber threw:", &thrown);
        }
    }
}

/// The state as the page sees it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Snapshot<'a> {
    status: SyncStatus,
    error: Option<ErrorView>,
    signed_in: bool,
    customer_id: Option<&'a str>,
    program: Option<&'a Program>,
    shopper: Option<&'a ShopperState>,
    outbox: &'a [PendingWrite],
    updated_at: Option<i64>,
    /// The referral link that brought this browser, until it is recorded for a signed-in shopper.
    referral: Option<&'a Attribution>,
    /// The shopper's choices about personalisation and how much history this device keeps.
    personalisation: Personalisation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Personalisation {
    personalised: bool,
    consent: Option<bool>,
    /// Whether views and purchases are being recorded now.
    recording: bool,
    events: usize,
}

#[derive(Serialize)]
struct ErrorView {
    code: &'static str,
    message: String,
    status: Option<u16>,
}

fn snapshot(inner: &Inner) -> JsValue {
    let Ok(store) = inner.store.try_borrow() else { return JsValue::NULL };
    let snapshot = Snapshot {
        status: store.status(),
        error: store.error().map(|e| ErrorView {
            code: e.code(),
            message: e.to_string(),
            status: e.status(),
        }),
        signed_in: store.identity().is_some(),
        customer_id: store.identity().map(|i| i.customer_id.as_str()),
        program: store.program().map(|p| &**p),
        shopper: store.shopper().map(|s| &**s),
        outbox: store.outbox(),
        updated_at: store.updated_at(),
        referral: store.attribution(),
        personalisation: Personalisation {
            personalised: inner.preferences.get().personalised,
            consent: inner.preferences.get().consent,
            recording: inner.preferences.get().allows_history(inner.require_consent),
            events: inner.history.try_borrow().map_or(0, |h| h.len()),
        },
    };
    output(&snapshot).unwrap_or(JsValue::NULL)
}

/// Creates a client: validates `config`, shows what the cache holds at once, then revalidates.
/// Throws a `LoyaltyError` with code `invalid_config` naming every wrong setting.
#[wasm_bindgen(js_name = createClient)]
pub fn create_client(
    #[wasm_bindgen(unchecked_param_type = "ClientConfig")] config: JsValue,
) -> Result<Client, WidgetError> {
    let ClientConfig {
        backend,
        identity,
        cache_key,
        cache,
        retry,
        require_consent,
        ranking,
        codes_in_events,
    } = config::parse(&config).map_err(WidgetError::InvalidConfig)?;
    let storage = Storage::new(&cache_key, cache);
    let start = cached(&storage, identity.as_ref());
    leave_others(&storage, identity.as_ref().map(|i| i.customer_id.as_str()));
    let preferences = storage
        .get("preferences", None)
        .and_then(|t| Preferences::from_json_str(&t).ok())
        .unwrap_or_default();
    // Nothing is read back from the device unless the shopper's choices allow a history at all.
    let saved_history =
        if preferences.allows_history(require_consent) { storage.get("history", None) } else { None };
    let history = history::load(saved_history.as_deref(), now_seconds());
    let inner = Rc::new(Inner {
        store: RefCell::new(Store::new(identity, retry)),
        backend,
        storage,
        subscribers: js_sys::Set::new(&JsValue::UNDEFINED),
        timers: RefCell::default(),
        rounds: RefCell::default(),
        first_round_over: Cell::new(false),
        writes: RefCell::default(),
        watchers: RefCell::default(),
        online: RefCell::new(None),
        destroyed: Cell::new(false),
        history: RefCell::new(history),
        preferences: Cell::new(preferences),
        require_consent,
        codes_in_events,
        ranking,
        index: RefCell::default(),
        recommending: RefCell::default(),
    });
    // Coming back online revalidates at once rather than waiting for the shopper to act.
    if let Some(window) = web_sys::window() {
        let weak = Rc::downgrade(&inner);
        let listener = gloo_events::EventListener::new(&window, "online", move |_| {
            if let Some(inner) = weak.upgrade() {
                dispatch(&inner, Msg::Refresh);
            }
        });
        *inner.online.borrow_mut() = Some(listener);
    }
    dispatch(&inner, Msg::Start(start));
    // A referral link may have brought the visitor: the store reads the code once the program names the
    // parameter, and keeps it (first touch) until a signed-in shopper can be credited.
    let search = crate::dom::page_query();
    if !search.is_empty() {
        dispatch(&inner, Msg::Landed(search));
    }
    Ok(Client { inner })
}

#[wasm_bindgen]
impl Client {
    /// Resolves with the state once there is something to show (fresh, or cached and marked stale);
    /// rejects with the error when there is nothing at all.
    #[wasm_bindgen(unchecked_return_type = "Promise<ClientState>")]
    pub fn ready(&self) -> Promise {
        let inner = Rc::clone(&self.inner);
        promise(|settle| {
            if inner.destroyed.get() {
                let _ =
                    settle.reject.call1(&JsValue::UNDEFINED, &WidgetError::Sync(SyncError::Destroyed).into());
            } else if inner.first_round_over.get() {
                settle_round(&inner, false, settle);
            } else {
                inner.rounds.borrow_mut().push((false, settle));
            }
        })
    }

    /// The current state: `{ status, error, signedIn, customerId, program, shopper, outbox, updatedAt }`.
    #[wasm_bindgen(unchecked_return_type = "ClientState")]
    pub fn state(&self) -> JsValue {
        snapshot(&self.inner)
    }

    /// Calls `callback(state, event)` on every change (`event.type` is `"change"` or `"error"`, with
    /// `event.error`); returns the function that unsubscribes.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn subscribe(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(state: ClientState, event: ClientEvent) => void")]
        callback: Function,
    ) -> JsValue {
        self.inner.subscribers.add(&callback);
        match js_sys::Reflect::get(&self.inner.subscribers, &"delete".into()) {
            Ok(delete) => {
                delete.unchecked_into::<Function>().bind1(&self.inner.subscribers, &callback).into()
            }
            Err(_) => JsValue::UNDEFINED,
        }
    }

    /// Revalidates now; resolves with the state when fresh data arrived, rejects with the error otherwise.
    #[wasm_bindgen(unchecked_return_type = "Promise<ClientState>")]
    pub fn refresh(&self) -> Promise {
        let inner = Rc::clone(&self.inner);
        promise(|settle| {
            if inner.destroyed.get() {
                let _ =
                    settle.reject.call1(&JsValue::UNDEFINED, &WidgetError::Sync(SyncError::Destroyed).into());
                return;
            }
            inner.rounds.borrow_mut().push((true, settle));
            dispatch(&inner, Msg::Refresh);
        })
    }

    /// What buying a product earns this shopper (their tier counts), with the breakdown.
    #[wasm_bindgen(js_name = pointsForProduct, unchecked_return_type = "EarnResult")]
    pub fn points_for_product(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ProductOffer")] offer: JsValue,
    ) -> Result<JsValue, WidgetError> {
        let offer = crate::input("offer", &offer)?;
        self.with_program(|program, context| {
            loyalty_core::points_for_product(program, &offer, &context)
                .map_err(|p| WidgetError::InvalidInput(p.under("offer")))
        })
    }

    /// What a cart earns this shopper, with the breakdown.
    #[wasm_bindgen(js_name = pointsForCart, unchecked_return_type = "EarnResult")]
    pub fn points_for_cart(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Cart")] cart: JsValue,
    ) -> Result<JsValue, WidgetError> {
        let cart = crate::input("cart", &cart)?;
        self.with_program(|program, context| {
            loyalty_core::points_for_cart(program, &cart, &context)
                .map_err(|p| WidgetError::InvalidInput(p.under("cart")))
        })
    }

    /// The shopper's tier standing as the backend computed it; `null` for guests or before it loads.
    #[wasm_bindgen(js_name = tierProgress, unchecked_return_type = "TierProgress | null")]
    pub fn tier_progress(&self) -> Result<JsValue, WidgetError> {
        let store = self.inner.store.try_borrow().map_err(|_| WidgetError::Busy)?;
        match store.shopper().and_then(|s| s.tier.as_ref()) {
            Some(tier) => output(tier),
            None => Ok(JsValue::NULL),
        }
    }

    /// Redeems a reward: saved to the outbox first, then sent (and re-sent after a reload) with one
    /// idempotency key until the backend answers. Resolves with `{ id, rewardId, cost, code, createdAt }`.
    #[wasm_bindgen(unchecked_return_type = "Promise<Redemption>")]
    pub fn redeem(
        &self,
        #[wasm_bindgen(js_name = rewardId, unchecked_param_type = "string")] reward_id: JsValue,
    ) -> Promise {
        let write = reward_id
            .as_string()
            .filter(|r| !r.is_empty())
            .map(|reward_id| Write::Redeem { reward_id })
            .ok_or_else(|| loyalty_core::Problems::one("rewardId", "must be a reward id (a string)"));
        self.write_promise(write)
    }

    /// Gives the shopper's birthday (`MM-DD`, no year), once, through the outbox like `redeem()`. Resolves
    /// with `{ birthday }`; a birthday already given is refused (`409 birthday_already_set`).
    #[wasm_bindgen(js_name = setBirthday, unchecked_return_type = "Promise<{ birthday: string }>")]
    pub fn set_birthday(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] birthday: JsValue,
    ) -> Promise {
        let write = match birthday.as_string().map(|b| loyalty_core::MonthDay::parse(&b)) {
            Some(Ok(day)) => Ok(Write::Birthday { birthday: day.to_string() }),
            Some(Err(message)) => Err(loyalty_core::Problems::one("birthday", message)),
            None => Err(loyalty_core::Problems::one("birthday", "must be a string such as \"08-31\"")),
        };
        self.write_promise(write)
    }

    /// The referral link that brought this browser (`{ code, landedAt, expiresAt }`), or `null`: for a shop
    /// that passes the code to its own sign-up or order (the client also records it for a signed-in shopper).
    #[wasm_bindgen(unchecked_return_type = "Attribution | null")]
    pub fn referral(&self) -> Result<JsValue, WidgetError> {
        let store = self.inner.store.try_borrow().map_err(|_| WidgetError::Busy)?;
        match store.attribution() {
            Some(attribution) => output(attribution),
            None => Ok(JsValue::NULL),
        }
    }

    /// The signed-in shopper's referral link for a channel and what sharing there opens:
    /// `{ channel, link, text, title, url }`. `page` (a path of this site) links to that page instead of
    /// the program's landing page; `locale` defaults to the page's language.
    #[wasm_bindgen(js_name = shareIntent, unchecked_return_type = "ShareIntent")]
    pub fn share_intent(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ShareRequest")] request: JsValue,
    ) -> Result<JsValue, WidgetError> {
        let request: crate::ShareRequest = crate::input("request", &request)?;
        let store = self.inner.store.try_borrow().map_err(|_| WidgetError::Busy)?;
        let program = store.program().ok_or(WidgetError::NotReady)?;
        if program.referral.is_none() {
            let problem =
                loyalty_core::Problems::one("program.referral", "is missing: the program has no referrals");
            return Err(WidgetError::InvalidInput(problem));
        }
        let code = store.shopper().and_then(|s| s.referral.as_ref()).ok_or(WidgetError::NotReady)?;
        let code = loyalty_core::ReferralCode::parse(&code.code).map_err(|m| {
            WidgetError::Sync(SyncError::InvalidResponse(loyalty_core::Problems::one(
                "shopper.referral.code",
                m,
            )))
        })?;
        let locale = request.locale.unwrap_or_else(crate::dom::page_language);
        let intent = loyalty_core::share_intent(
            program,
            &locale,
            &crate::dom::page_origin(),
            &code,
            request.channel,
            request.page.as_deref(),
        )
        .map_err(|m| WidgetError::InvalidInput(loyalty_core::Problems::one("request.page", m)))?;
        output(&intent)
    }

    /// Ranks products for this shopper, computed here from the shop's catalog and their own history (which
    /// never leaves the device). `request`: `{ context: "home" | "product" | "cart", productId, cart, category,
    /// limit, exclude, repurchase, locale }`. Resolves with `[{ productId, title, url, image, price, currency,
    /// points, reasons }]`; the first call reads the catalog (the popular products and what goes with the page's).
    #[wasm_bindgen(unchecked_return_type = "Promise<Recommendation[]>")]
    pub fn recommend(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RecommendRequest")] request: JsValue,
    ) -> Promise {
        let inner = Rc::clone(&self.inner);
        let request: Result<RecommendInput, WidgetError> = if request.is_undefined() {
            RecommendInput::from_json_str("{}").map_err(WidgetError::InvalidInput)
        } else {
            crate::input("request", &request)
        };
        promise(move |settle| match request {
            Ok(request) => ask_recommendations(&inner, request, RecommendWaiter::Js(settle)),
            Err(error) => {
                let _ = settle.reject.call1(&JsValue::UNDEFINED, &error.into());
            }
        })
    }

    /// Records what the shopper did with a product (`{ productId, kind: "view" | "cart" | "purchase", at?,
    /// dwellSeconds? }`) in this device's history, for recommendations. Returns false (and records nothing)
    /// while personalisation is off or, where the shop requires consent, not given.
    pub fn track(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TrackEvent")] event: JsValue,
    ) -> Result<bool, WidgetError> {
        let event: TrackInput = crate::input("event", &event)?;
        Ok(self.record(HistoryEvent {
            product_id: event.product_id,
            kind: event.kind,
            at: event.at.unwrap_or_else(now_seconds),
            dwell_seconds: event.dwell_seconds,
        }))
    }

    /// Deletes the shopper's history from this device.
    #[wasm_bindgen(js_name = forgetHistory)]
    pub fn forget_history(&self) {
        if let Ok(mut history) = self.inner.history.try_borrow_mut() {
            history.clear();
        }
        self.inner.storage.remove("history", None);
        // And the time spent on product pages the shell kept as they were left, to add to it (js/loader.js).
        self.inner.storage.retain("visit", &|_, _| false);
        // The cached catalog names the products it was asked near (the page's product and cart).
        self.inner.storage.remove("catalog", None);
        dispatch_changed(&self.inner);
    }

    /// The shopper's switch: `false` stops recording and ranks without their history (nothing personal is
    /// used); kept on this device.
    #[wasm_bindgen(js_name = setPersonalised)]
    pub fn set_personalised(&self, on: bool) {
        let preferences = Preferences { personalised: on, ..self.inner.preferences.get() };
        self.set_preferences(preferences);
    }

    /// Where the shop requires consent (`requireConsent: true`), records it: until `true`, nothing is kept;
    /// `false` also deletes what was kept.
    #[wasm_bindgen(js_name = setConsent)]
    pub fn set_consent(&self, granted: bool) {
        let preferences = Preferences { consent: Some(granted), ..self.inner.preferences.get() };
        self.set_preferences(preferences);
        if !granted {
            self.forget_history();
        }
    }

    /// Signs a shopper in (a single-page app after login), or refreshes their signature. Another shopper's
    /// data is dropped at once; theirs is shown from the cache (stale) and revalidated.
    #[wasm_bindgen(js_name = setIdentity)]
    pub fn set_identity(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Identity")] identity: JsValue,
    ) -> Result<(), WidgetError> {
        let identity = config::identity("identity", &identity).map_err(WidgetError::InvalidInput)?;
        let start = cached(&self.inner.storage, Some(&identity));
        dispatch(&self.inner, Msg::SignIn(identity, start));
        Ok(())
    }

    /// Signs the shopper out: their cached state is removed from this device.
    #[wasm_bindgen(js_name = signOut)]
    pub fn sign_out(&self) {
        dispatch(&self.inner, Msg::SignOut);
    }

    /// Cancels timers and requests, drops listeners and subscribers; pending promises reject with
    /// `destroyed`. The client does nothing afterwards.
    pub fn destroy(&self) {
        let inner = &self.inner;
        if inner.destroyed.replace(true) {
            return;
        }
        inner.backend.cancel_all();
        inner.timers.borrow_mut().clear();
        inner.online.borrow_mut().take();
        inner.subscribers.clear();
        inner.watchers.borrow_mut().clear();
        let rounds = std::mem::take(&mut *inner.rounds.borrow_mut());
        let writes = std::mem::take(&mut *inner.writes.borrow_mut());
        for (_, settle) in rounds {
            let _ = settle.reject.call1(&JsValue::UNDEFINED, &WidgetError::Sync(SyncError::Destroyed).into());
        }
        for (_, waiter) in writes {
            waiter.finish(Err(SyncError::Destroyed));
        }
        let recommending = std::mem::take(&mut *inner.recommending.borrow_mut());
        for (_, waiter) in recommending {
            waiter.finish(Err(WidgetError::Sync(SyncError::Destroyed)));
        }
    }
}

/// What the widget's elements use: the same client, through Rust rather than JS.
impl Client {
    /// Another handle on the same client (an element keeps one).
    pub(crate) fn share(&self) -> Client {
        Client { inner: Rc::clone(&self.inner) }
    }

    /// Whether two handles are one client.
    pub(crate) fn same(&self, other: &Client) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }

    /// Tells `watcher` of every change until it is dropped.
    pub(crate) fn watch(&self, watcher: Weak<dyn Watch>) {
        self.inner.watchers.borrow_mut().push(watcher);
    }

    pub(crate) fn view(&self) -> Option<View> {
        let store = self.inner.store.try_borrow().ok()?;
        Some(View {
            status: store.status(),
            error: store.error().cloned(),
            signed_in: store.identity().is_some(),
            program: store.program().cloned(),
            shopper: store.shopper().cloned(),
            outbox: store.outbox().to_vec(),
            referral: store.attribution().cloned(),
        })
    }

    /// Whether the page's DOM events may carry discount codes (`codesInEvents`, default true).
    pub(crate) fn codes_in_events(&self) -> bool {
        self.inner.codes_in_events
    }

    /// Revalidates now (the shopper pressed "try again").
    pub(crate) fn revalidate(&self) {
        dispatch(&self.inner, Msg::Refresh);
    }

    /// Redeems a reward through the outbox, like `redeem()`, and calls `done` with the answer.
    pub(crate) fn redeem_then(
        &self,
        reward_id: String,
        done: Box<dyn FnOnce(Result<loyalty_core::Redemption, SyncError>)>,
    ) {
        let done = move |result: Result<Written, SyncError>| {
            done(result.and_then(|written| match written {
                Written::Redemption(redemption) => Ok(redemption),
                // The store decodes a redemption's answer as a redemption; this cannot happen.
                Written::Birthday(_) | Written::Referral(_) => {
                    Err(SyncError::InvalidResponse(loyalty_core::Problems::one("redemption", "is missing")))
                }
            }))
        };
        self.write_then(Write::Redeem { reward_id }, Box::new(done));
    }

    /// Ranks like `recommend()` and calls `done` with the list (an element of the widget).
    pub(crate) fn recommend_then(
        &self,
        request: RecommendInput,
        done: Box<dyn FnOnce(Result<Vec<RecommendationView>, WidgetError>)>,
    ) {
        ask_recommendations(&self.inner, request, RecommendWaiter::Rust(done));
    }

    /// Records a history event (a product page's view, or `track()`); false when not allowed.
    pub(crate) fn record(&self, event: HistoryEvent) -> bool {
        let inner = &self.inner;
        if !inner.preferences.get().allows_history(inner.require_consent) {
            return false;
        }
        let saved = match inner.history.try_borrow_mut() {
            Ok(mut history) => {
                history::record(&mut history, event, now_seconds());
                Some(history::saved(&history))
            }
            Err(_) => return false,
        };
        if let Some(text) = saved {
            inner.storage.set("history", None, &text);
        }
        true
    }

    /// Whether the shopper has personalisation on (the element's switch shows it).
    pub(crate) fn personalised(&self) -> bool {
        self.inner.preferences.get().personalised
    }

    /// Makes a write through the outbox, like `redeem()` or `setBirthday()`, and calls `done` with the answer.
    pub(crate) fn write_then(&self, write: Write, done: Box<dyn FnOnce(Result<Written, SyncError>)>) {
        enqueue(&self.inner, write, Waiter::Rust(done));
    }
}

/// Tells subscribers and elements of a change the store did not make (the shopper's preferences).
fn dispatch_changed(inner: &Rc<Inner>) {
    notify(inner, None);
    tell_watchers(inner, None);
}

impl Client {
    fn set_preferences(&self, preferences: Preferences) {
        self.inner.preferences.set(preferences);
        if let Some(text) = crate::json_text(&preferences) {
            self.inner.storage.set("preferences", None, &text);
        }
        dispatch_changed(&self.inner);
    }

    /// A promise for a write the page asked for: rejected at once when the input was wrong or the client is
    /// gone, else settled by the write's answer.
    fn write_promise(&self, write: Result<Write, loyalty_core::Problems>) -> Promise {
        let inner = Rc::clone(&self.inner);
        promise(|settle| match write {
            Ok(write) => enqueue(&inner, write, Waiter::Js(settle)),
            Err(problems) => {
                let _ = settle.reject.call1(&JsValue::UNDEFINED, &WidgetError::InvalidInput(problems).into());
            }
        })
    }

    fn with_program<T: Serialize>(
        &self,
        compute: impl FnOnce(&Program, loyalty_core::EarnContext) -> Result<T, WidgetError>,
    ) -> Result<JsValue, WidgetError> {
        let store = self.inner.store.try_borrow().map_err(|_| WidgetError::Busy)?;
        let program = store.program().ok_or(WidgetError::NotReady)?;
        output(&compute(program, earn_context(store.shopper().map(|s| &**s)))?)
    }
}

/// What earning depends on besides the product: now, and the shopper's current tier (none for guests).
pub(crate) fn earn_context(shopper: Option<&ShopperState>) -> loyalty_core::EarnContext {
    let tier_id = shopper.and_then(|s| s.tier.as_ref()).and_then(|t| t.current_tier_id.clone());
    loyalty_core::EarnContext { now: (js_sys::Date::now() / 1000.0) as i64, tier_id }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.backend.cancel_all();
    }
}
