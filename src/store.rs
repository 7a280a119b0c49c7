//! The client's store: what the widget knows (program, shopper state, outbox of writes) and how it changes.
//!
//! Pure: no browser, no clock, no randomness. The shell (`client.rs`) feeds it messages with the time and a
//! random number, and performs the effects it returns (fetch, send, wake me later, save to the cache, tell
//! the subscribers). So every sync decision (stale-while-revalidate, retries with backoff, the outbox and its
//! expiry, never showing another shopper's data) is tested natively, and no `RefCell` borrow is ever held
//! while JS runs: the shell takes the effects out, drops the borrow, then acts.

use crate::sync_error::SyncError;
use loyalty_core::{CatalogProduct, FromJson, Problems, Program, Redemption, ShopperState};
use serde::Serialize;
use std::rc::Rc;

/// Reads back a write from the outbox's saved text: lenient (older widgets may have saved more).
pub(crate) mod saved {
    loyalty_core::wire_struct! {
        lenient;
        /// A write saved in the outbox, as stored.
        #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        pub struct OutboxEntry {
            /// The `Idempotency-Key`, chosen before the first attempt and kept for every retry.
            pub key: String,
            /// What the write does (entries saved before there was a choice are redemptions).
            pub kind: WriteKind = WriteKind::Redeem,
            /// For a redemption: the reward.
            pub reward_id: String = String::new(),
            /// For a birthday: `MM-DD`.
            pub birthday: String = String::new(),
            /// For a referral capture: the referral code.
            pub code: String = String::new(),
            /// The shopper who asked.
            pub customer_id: String,
            /// When the shopper asked, milliseconds since the epoch (JS time).
            pub created_at: i64,
            /// Attempts so far.
            pub attempts: u32 = 0,
        }
    }

    loyalty_core::wire_enum! {
        /// The writes the outbox carries. Flat on the wire (a kind and plain fields), like every wire type.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        pub enum WriteKind {
            /// Spend points on a reward.
            Redeem,
            /// Give the shopper's birthday, once.
            Birthday,
            /// Tell the backend which friend's link brought the shopper (sent by the client itself).
            Referral,
        }
    }

    loyalty_core::wire_struct! {
        lenient;
        /// The backend's answer to a referral capture.
        #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        pub struct ReferralCaptured {
            /// The code the shopper is now attributed to.
            pub referred_by: String,
        }
    }

    loyalty_core::wire_struct! {
        lenient;
        /// A referral link this browser landed with: first touch, kept until it expires or is sent.
        #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        pub struct Attribution {
            /// The referral code (its check character verified).
            pub code: String,
            /// When the page was opened with it, milliseconds since the epoch.
            pub landed_at: i64,
            /// When it stops counting, milliseconds since the epoch.
            pub expires_at: i64,
        }
    }

    loyalty_core::wire_struct! {
        lenient;
        /// The backend's answer to a birthday write.
        #[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
        pub struct BirthdaySet {
            /// The birthday as stored, `MM-DD`.
            pub birthday: String,
        }
    }
}
pub(crate) use saved::{Attribution, BirthdaySet, OutboxEntry, ReferralCaptured, WriteKind};

/// A catalog answer to write (the memory backend's).
#[derive(Serialize)]
pub(crate) struct CatalogAnswerOut<'a> {
    pub products: &'a [CatalogProduct],
}

loyalty_core::wire_struct! {
    lenient;
    /// `GET /v1/catalog`'s answer.
    #[derive(Clone, Debug)]
    pub struct CatalogAnswer {
        /// The candidate set.
        pub products: Vec<CatalogProduct>,
    }
}

/// A write the shopper asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Write {
    /// Redeem this reward.
    Redeem { reward_id: String },
    /// Give this birthday (`MM-DD`, already checked).
    Birthday { birthday: String },
}

/// A write's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Written {
    /// A redemption, with its code.
    Redemption(Redemption),
    /// The birthday as stored.
    Birthday(BirthdaySet),
    /// The referral as captured.
    Referral(ReferralCaptured),
}

/// How long a write is re-sent: well inside the server's 7-day key retention, so that a device clock a few
/// days off, or a request that takes its time, still never sends a key the server may have forgotten (a
/// forgotten key makes the write a new one). An older write is never sent again: it is checked against the
/// shopper's state instead (`Store::reconcile`).
pub(crate) const OUTBOX_MAX_AGE_MS: i64 = 3 * 24 * 3600 * 1000;

/// How far a write's saved time may lie ahead of the device's clock before its age is not trusted (the clock
/// went back since), and how much earlier than the write a matching code may have been issued (the device's
/// clock against the backend's).
const CLOCK_SLACK_MS: i64 = 24 * 3600 * 1000;

/// How much earlier than a write, by the backend's clock, a code may have been issued and still be the write's.
const RECONCILE_SLACK_MS: i64 = 10 * 60 * 1000;

/// What the store reads from a backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resource {
    Program,
    Shopper,
    /// Read only once something asks for recommendations, and never part of the page's status: a catalog
    /// that cannot be read leaves the rest of the widget as it is.
    Catalog,
}

const RESOURCES: [Resource; 2] = [Resource::Program, Resource::Shopper];

/// The signed identity the shop's server gave the page (the digest is not a secret: it proves the id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Identity {
    pub customer_id: String,
    pub timestamp: i64,
    pub digest: String,
}

/// A successful read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fetched {
    /// A body (JSON text) and its entity tag.
    Body { text: String, etag: Option<String> },
    /// `304 Not Modified`: the cached copy is current.
    NotModified,
}

/// What the store needs to know about its surroundings at each step.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Env {
    /// Milliseconds since the epoch.
    pub now_ms: i64,
    /// A uniform random number in [0, 1), for backoff jitter.
    pub random: f64,
}

/// How reads and writes are retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    /// First backoff ceiling, milliseconds.
    pub base_ms: u32,
    /// Largest backoff ceiling, milliseconds.
    pub cap_ms: u32,
    /// Attempts of one read before the round gives up (the first try included).
    pub read_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { base_ms: 500, cap_ms: 30_000, read_attempts: 4 }
    }
}

/// Longest wait a `Retry-After` can impose before the next try (a server asking for an hour is asked again
/// in ten minutes, or when the shopper comes back).
const RETRY_AFTER_CAP_MS: u64 = 10 * 60 * 1000;

impl RetryPolicy {
    /// Exponential backoff with full jitter (a uniform wait up to the ceiling), never shorter than the
    /// server's `Retry-After`.
    pub(crate) fn delay_ms(&self, attempt: u32, random: f64, retry_after_ms: Option<u64>) -> u64 {
        let ceiling =
            u64::from(self.base_ms).saturating_mul(1_u64 << attempt.min(20)).min(u64::from(self.cap_ms));
        let jitter = (ceiling as f64 * random.clamp(0.0, 1.0)) as u64;
        jitter.max(retry_after_ms.unwrap_or(0).min(RETRY_AFTER_CAP_MS))
    }
}

/// Messages that change the store.
#[derive(Debug)]
pub(crate) enum Msg {
    /// The client starts, with what the cache held for this shop and shopper.
    Start(Cached),
    /// Revalidate everything now (the page asked, or the browser came back online).
    Refresh,
    /// A read finished; `generation` is the sign-in it was made for.
    Fetched { resource: Resource, generation: u32, result: Result<Fetched, SyncError> },
    /// A read's backoff is over.
    RetryDue { resource: Resource, generation: u32 },
    /// The shopper asks for a write; `key` is a fresh idempotency key.
    Write { write: Write, key: String },
    /// A write of this kind finished.
    Sent { key: String, kind: WriteKind, result: Result<String, SyncError> },
    /// The outbox's backoff is over.
    ResendDue,
    /// Another shopper signed in (or the same one with a fresh signature), with their cache.
    SignIn(Identity, Cached),
    /// The shopper signed out.
    SignOut,
    /// The page was opened with this query string (`?ref=...`): a referral link may have brought the visitor.
    Landed(String),
    /// Something wants recommendations: read the catalog (again if `near`, the page's products, changed).
    WantCatalog { near: Vec<String> },
}

/// What the cache held at start.
#[derive(Debug, Default)]
pub(crate) struct Cached {
    /// The program's JSON text and entity tag.
    pub program: Option<(String, Option<String>)>,
    /// The shopper state's JSON text.
    pub shopper: Option<String>,
    /// Writes not yet answered.
    pub outbox: Vec<OutboxEntry>,
    /// A referral link this browser landed with earlier (not per shopper: the visitor may not have signed up).
    pub attribution: Option<Attribution>,
    /// The catalog's JSON text, entity tag, and the `near` it was read for.
    pub catalog: Option<(String, Option<String>, Vec<String>)>,
}

/// Timers the shell keeps, one of each at most.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timer {
    Retry(Resource),
    Outbox,
}

/// What the shell must do.
#[derive(Debug, PartialEq)]
pub(crate) enum Effect {
    /// Read a resource (conditionally, with the entity tag); the answer comes back with `generation`. `near`
    /// (the catalog only): the page's products, whose neighbours the candidate set must hold.
    Fetch {
        resource: Resource,
        etag: Option<String>,
        identity: Option<Identity>,
        generation: u32,
        near: Vec<String>,
    },
    /// Send a write.
    Send { entry: OutboxEntry, identity: Identity },
    /// Wake the store with the timer's message after a delay (replacing a pending one).
    Wake { timer: Timer, after_ms: u64, generation: u32 },
    /// Save the program to the cache.
    SaveProgram { text: String, etag: Option<String> },
    /// Save the shopper state to the cache.
    SaveShopper { customer_id: String, text: String },
    /// Save the catalog to the cache, with what it was asked for.
    SaveCatalog { text: String, etag: Option<String>, near: Vec<String> },
    /// Save one write of the outbox (one storage entry per write, so two tabs never overwrite each other's).
    SaveWrite(OutboxEntry),
    /// Remove one write from the saved outbox.
    ForgetWrite { customer_id: String, key: String },
    /// Remove a shopper's cached state (sign-out).
    ForgetShopper { customer_id: String },
    /// The state changed: tell the subscribers.
    Changed,
    /// An error to report once (error event and console warning).
    Report(SyncError),
    /// A write asked for on this page has its answer.
    Settle { key: String, result: Result<Written, SyncError> },
    /// A round of reads is over (every read fresh or given up): resolve `ready()` and `refresh()`.
    Settled,
    /// Keep the referral attribution on this device (replacing any).
    SaveAttribution(Attribution),
    /// Remove the referral attribution from this device.
    ForgetAttribution,
    /// Something the developer should know, in the console only (the shopper sees nothing).
    Warn(String),
}

/// The sync status the page sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum SyncStatus {
    /// Nothing to show yet: the first read is under way.
    Loading,
    /// Everything shown came from the backend in this page's latest round.
    Fresh,
    /// Something shown came from the cache and is being (or could not yet be) revalidated.
    Stale,
    /// The backend could not be reached; what is shown (if anything) is from the cache.
    Offline,
    /// The backend answered with an error or with something unreadable.
    Error,
}

impl SyncStatus {
    /// The name the page sees (`fresh`, `stale` ...), as in the client's state.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SyncStatus::Loading => "loading",
            SyncStatus::Fresh => "fresh",
            SyncStatus::Stale => "stale",
            SyncStatus::Offline => "offline",
            SyncStatus::Error => "error",
        }
    }
}

/// A resource the store reads: its value and where its reading stands.
#[derive(Debug)]
struct Slot<T> {
    /// Shared, so a view can keep what it renders without holding the store's borrow.
    value: Option<Rc<T>>,
    sync: Reading,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot { value: None, sync: Reading::default() }
    }
}

/// Where reading one resource stands, the same for every resource.
#[derive(Debug, Default)]
struct Reading {
    etag: Option<String>,
    /// True once this page read it from the backend (or the backend confirmed the cached copy).
    fresh: bool,
    /// Attempts in the current round; 0 when idle.
    attempt: u32,
    in_flight: bool,
    waiting: bool,
}

impl Reading {
    fn busy(&self) -> bool {
        self.in_flight || self.waiting
    }
}

/// A write in the outbox with its progress on this page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PendingWrite {
    #[serde(flatten)]
    pub entry: OutboxEntry,
    /// `sending`, `waiting` (to be retried), `checking` (too old to send again: waiting for the shopper's
    /// state to show whether it went through) or `expired` (not found there: not completed).
    pub status: WriteStatus,
    /// Already sent again once after an unreadable answer (see `Store::sent`); this page only.
    #[serde(skip)]
    pub reasked: bool,
}

/// Where a write stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum WriteStatus {
    Sending,
    Waiting,
    /// Past the resend window: never sent again; the next read of the shopper's state settles it.
    Checking,
    Expired,
}

/// The store.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub policy: RetryPolicy,
    identity: Option<Identity>,
    program: Slot<Program>,
    shopper: Slot<ShopperState>,
    outbox: Vec<PendingWrite>,
    error: Option<SyncError>,
    /// True while a round of reads is under way (so `Settled` is sent once per round).
    round: bool,
    updated_at: Option<i64>,
    /// Changes at every sign-in of another shopper and at sign-out: answers and timers of an earlier
    /// generation are about someone else and are dropped.
    generation: u32,
    /// Keys of writes sent and not yet answered, kept across sign-ins so a write is never sent twice at once.
    sending: Vec<String>,
    /// Writes on their way whose shopper signed out: (key, customer), so their answer can clear the saved copy.
    forgotten: Vec<(String, String)>,
    /// A write completed while the shopper was being read: read again when that read ends.
    reread_shopper: bool,
    /// No resend of waiting writes before this (a `Retry-After` on a write), milliseconds.
    outbox_not_before: i64,
    /// The query string of a landing, until the program (which names the parameter) is known.
    landing: Option<String>,
    /// The referral link that brought this browser, until it is sent for a signed-in shopper or expires.
    attribution: Option<Attribution>,
    /// The backend cannot capture referrals (a JS adapter without `captureReferral`): keep the attribution
    /// for the shop's own sign-up form (`client.referral()`), and do not ask again on this page.
    capture_unsupported: bool,
    /// The recommendation candidates, once something asked for them.
    catalog: Slot<Vec<CatalogProduct>>,
    catalog_wanted: bool,
    /// The page's products the catalog was (or is being) read for.
    catalog_near: Vec<String>,
    /// Why the catalog could not be read, if it could not (kept apart from the page's status).
    catalog_error: Option<SyncError>,
}

impl Store {
    pub(crate) fn new(identity: Option<Identity>, policy: RetryPolicy) -> Store {
        Store { identity, policy, ..Store::default() }
    }

    pub(crate) fn program(&self) -> Option<&Rc<Program>> {
        self.program.value.as_ref()
    }

    pub(crate) fn shopper(&self) -> Option<&Rc<ShopperState>> {
        self.shopper.value.as_ref()
    }

    pub(crate) fn identity(&self) -> Option<&Identity> {
        self.identity.as_ref()
    }

    /// The recommendation candidates, if read.
    pub(crate) fn catalog(&self) -> Option<&Rc<Vec<CatalogProduct>>> {
        self.catalog.value.as_ref()
    }

    /// Why the catalog could not be read (when there is none to rank).
    pub(crate) fn catalog_error(&self) -> Option<&SyncError> {
        self.catalog_error.as_ref()
    }

    /// The referral link that brought this browser and still counts.
    pub(crate) fn attribution(&self) -> Option<&Attribution> {
        self.attribution.as_ref()
    }

    pub(crate) fn outbox(&self) -> &[PendingWrite] {
        &self.outbox
    }

    pub(crate) fn error(&self) -> Option<&SyncError> {
        self.error.as_ref()
    }

    /// When the backend last answered a read, milliseconds since the epoch.
    pub(crate) fn updated_at(&self) -> Option<i64> {
        self.updated_at
    }

    fn wanted(&self) -> impl Iterator<Item = Resource> + '_ {
        RESOURCES.into_iter().filter(|r| *r == Resource::Program || self.identity.is_some())
    }

    fn has(&self, resource: Resource) -> bool {
        match resource {
            Resource::Program => self.program.value.is_some(),
            Resource::Shopper => self.shopper.value.is_some(),
            Resource::Catalog => self.catalog.value.is_some(),
        }
    }

    fn reading(&self, resource: Resource) -> &Reading {
        match resource {
            Resource::Program => &self.program.sync,
            Resource::Shopper => &self.shopper.sync,
            Resource::Catalog => &self.catalog.sync,
        }
    }

    fn reading_mut(&mut self, resource: Resource) -> &mut Reading {
        match resource {
            Resource::Program => &mut self.program.sync,
            Resource::Shopper => &mut self.shopper.sync,
            Resource::Catalog => &mut self.catalog.sync,
        }
    }

    fn busy(&self, resource: Resource) -> bool {
        self.reading(resource).busy()
    }

    /// Whether a read's answer or timer (made for `generation`) still concerns the signed-in shopper.
    fn current(&self, resource: Resource, generation: u32) -> bool {
        resource != Resource::Shopper || generation == self.generation
    }

    /// The status the page sees, derived from the slots and the last error.
    pub(crate) fn status(&self) -> SyncStatus {
        let missing = self.wanted().any(|r| !self.has(r));
        match &self.error {
            Some(e) if e.is_offline() => SyncStatus::Offline,
            Some(_) => SyncStatus::Error,
            None if missing => SyncStatus::Loading,
            None if self.wanted().all(|r| self.reading(r).fresh) => SyncStatus::Fresh,
            None => SyncStatus::Stale,
        }
    }

    /// Applies a message; returns what the shell must do, in order.
    pub(crate) fn update(&mut self, msg: Msg, env: Env) -> Vec<Effect> {
        let mut fx = self.apply(msg, env);
        // The state is final before any effect runs, so `Settled` goes first: a subscriber that calls
        // `refresh()` while being told of this round's end then waits for the next round, not this one.
        if let Some(at) = fx.iter().position(|e| *e == Effect::Settled) {
            let settled = fx.remove(at);
            fx.insert(0, settled);
        }
        // Subscribers are told once per message, of the final state: each notice serializes the whole state.
        if let Some(last) = fx.iter().rposition(|e| *e == Effect::Changed) {
            let mut i = 0;
            fx.retain(|e| {
                i += 1;
                *e != Effect::Changed || i - 1 == last
            });
        }
        fx
    }

    fn apply(&mut self, msg: Msg, env: Env) -> Vec<Effect> {
        let mut fx = Vec::new();
        self.apply_msg(msg, env, &mut fx);
        // Every message may be the one that completes what a referral needs (the program that names the
        // parameter, the shopper whose own code must not count, a sign-in to send it for).
        self.attribute(env, &mut fx);
        fx
    }

    fn apply_msg(&mut self, msg: Msg, env: Env, fx: &mut Vec<Effect>) {
        match msg {
            Msg::Start(cached) => {
                self.load_cache(cached, env, fx);
                self.start_round(fx);
                self.send_outbox(env, fx);
            }
            Msg::Refresh => {
                self.start_round(fx);
                if self.catalog_wanted && !self.busy(Resource::Catalog) {
                    self.catalog.sync.attempt = 0;
                    self.fetch(Resource::Catalog, fx);
                }
                if env.now_ms >= self.outbox_not_before {
                    self.send_outbox(env, fx);
                }
            }
            // Answers and timers about a shopper who is no longer signed in here are dropped.
            Msg::Fetched { resource, generation, result } if self.current(resource, generation) => {
                self.fetched(resource, result, env, fx);
            }
            Msg::RetryDue { resource, generation } if self.current(resource, generation) => {
                self.reading_mut(resource).waiting = false;
                self.fetch(resource, fx);
            }
            Msg::Fetched { .. } | Msg::RetryDue { .. } => {}
            Msg::Write { write, key } => self.write(write, key, env, fx),
            Msg::Sent { key, kind, result } => self.sent(key, kind, result, env, fx),
            Msg::ResendDue => self.send_outbox(env, fx),
            Msg::SignIn(identity, cached) => {
                let same = self.identity.as_ref().map(|i| &i.customer_id) == Some(&identity.customer_id);
                if !same {
                    // Another shopper on this device: the one before leaves it, as at a sign-out.
                    self.leave_device(fx);
                    self.forget_shopper_in_memory();
                    self.generation = self.generation.wrapping_add(1);
                }
                self.identity = Some(identity);
                if !same {
                    self.load_cache(Cached { program: None, ..cached }, env, fx);
                }
                self.start_round(fx);
                self.send_outbox(env, fx);
            }
            Msg::SignOut => {
                self.leave_device(fx);
                self.identity = None;
                self.forget_shopper_in_memory();
                self.generation = self.generation.wrapping_add(1);
                fx.push(Effect::Changed);
                self.check_settled(fx);
            }
            Msg::Landed(query) => self.landing = Some(query),
            Msg::WantCatalog { near } => {
                let changed = near != self.catalog_near;
                self.catalog_wanted = true;
                if changed {
                    // Another page's candidates: the copy in hand is shown until the new set arrives.
                    self.catalog_near = near;
                    self.catalog.sync.fresh = false;
                }
                if !self.busy(Resource::Catalog) && (changed || !self.catalog.sync.fresh) {
                    self.catalog.sync.attempt = 0;
                    self.fetch(Resource::Catalog, fx);
                }
            }
        }
    }

    /// The signed-in shopper's data leaves this device's storage: their cached state and their unsent
    /// birthday (personal; the panel asks again at the next sign-in). A redemption holds a reward id and a
    /// key, and resumes at their next sign-in.
    fn leave_device(&self, fx: &mut Vec<Effect>) {
        if let Some(identity) = &self.identity {
            fx.push(Effect::ForgetShopper { customer_id: identity.customer_id.clone() });
        }
        for pending in self.outbox.iter().filter(|p| p.entry.kind == WriteKind::Birthday) {
            let (customer_id, key) = (pending.entry.customer_id.clone(), pending.entry.key.clone());
            fx.push(Effect::ForgetWrite { customer_id, key });
        }
    }

    fn forget_shopper_in_memory(&mut self) {
        self.shopper = Slot::default();
        self.reread_shopper = false;
        // Writes stay saved for their shopper (they resume at the next sign-in); only this page forgets them.
        for pending in self.outbox.drain(..) {
            if self.sending.contains(&pending.entry.key) {
                self.forgotten.push((pending.entry.key, pending.entry.customer_id));
            }
        }
        if self.error.as_ref().is_some_and(SyncError::is_about_shopper) {
            self.error = None;
        }
    }

    fn load_cache(&mut self, cached: Cached, env: Env, fx: &mut Vec<Effect>) {
        if let Some((text, etag)) = cached.program {
            // A cache that no longer decodes (another widget version, a damaged entry) is simply not used.
            if let Ok(program) = crate::program_from_text(&text) {
                self.program =
                    Slot { value: Some(Rc::new(program)), sync: Reading { etag, ..Reading::default() } };
            }
        }
        if let (Some(text), Some(identity)) = (cached.shopper, &self.identity) {
            if let Ok(state) = ShopperState::from_json_str(&text) {
                // Another shopper's data is never shown, even if a cache entry were mislabelled.
                if state.customer_id == identity.customer_id {
                    self.shopper = Slot { value: Some(Rc::new(state)), sync: Reading::default() };
                }
            }
        }
        if let Some((text, etag, near)) = cached.catalog {
            if let Ok(answer) = CatalogAnswer::from_json_str(&text) {
                let products = safe_products(answer.products, fx);
                self.catalog =
                    Slot { value: Some(Rc::new(products)), sync: Reading { etag, ..Reading::default() } };
                self.catalog_near = near;
            }
        }
        if cached.attribution.is_some() && self.attribution.is_none() {
            self.attribution = cached.attribution;
        }
        if let Some(identity) = &self.identity {
            let mine = cached.outbox.into_iter().filter(|e| e.customer_id == identity.customer_id);
            for entry in mine {
                if !self.outbox.iter().any(|p| p.entry.key == entry.key) {
                    self.outbox.push(PendingWrite { entry, status: WriteStatus::Waiting, reasked: false });
                }
            }
        }
        self.expire_outbox(env, fx);
        fx.push(Effect::Changed);
    }

    fn start_round(&mut self, fx: &mut Vec<Effect>) {
        self.round = true;
        let wanted: Vec<Resource> = self.wanted().collect();
        for resource in wanted {
            if !self.busy(resource) {
                self.reading_mut(resource).attempt = 0;
                self.fetch(resource, fx);
            }
        }
        self.check_settled(fx);
    }

    fn fetch(&mut self, resource: Resource, fx: &mut Vec<Effect>) {
        let identity = self.identity.clone();
        if resource == Resource::Shopper && identity.is_none() {
            return;
        }
        // Conditional only when there is a copy that a 304 would confirm.
        let etag = if self.has(resource) { self.reading(resource).etag.clone() } else { None };
        self.reading_mut(resource).in_flight = true;
        let near = if resource == Resource::Catalog { self.catalog_near.clone() } else { Vec::new() };
        let identity = if resource == Resource::Catalog { None } else { identity };
        fx.push(Effect::Fetch { resource, etag, identity, generation: self.generation, near });
    }

    fn fetched(
        &mut self,
        resource: Resource,
        result: Result<Fetched, SyncError>,
        env: Env,
        fx: &mut Vec<Effect>,
    ) {
        self.reading_mut(resource).in_flight = false;
        // An answer for a shopper who has signed out meanwhile is dropped.
        if resource == Resource::Shopper && self.identity.is_none() {
            self.check_settled(fx);
            return;
        }
        let result = result.and_then(|fetched| self.accept(resource, fetched, env, fx));
        match result {
            Ok(()) if resource == Resource::Catalog => {
                self.catalog.sync.attempt = 0;
                self.catalog_error = None;
                fx.push(Effect::Changed);
            }
            Ok(()) => {
                self.updated_at = Some(env.now_ms);
                self.reading_mut(resource).attempt = 0;
                if !self.wanted().any(|r| self.busy(r) || !self.reading(r).fresh) {
                    self.error = None;
                }
                fx.push(Effect::Changed);
            }
            Err(error) => {
                let (policy, generation) = (self.policy, self.generation);
                let reading = self.reading_mut(resource);
                reading.attempt += 1;
                if error.is_retryable() && reading.attempt < policy.read_attempts {
                    reading.waiting = true;
                    let after_ms = policy.delay_ms(reading.attempt - 1, env.random, error.retry_after_ms());
                    fx.push(Effect::Wake { timer: Timer::Retry(resource), after_ms, generation });
                } else if resource == Resource::Catalog {
                    // Recommendations are extra: the page's status and error stay as they are.
                    reading.attempt = 0;
                    fx.push(Effect::Warn(format!(
                        "the catalog for recommendations could not be read: {error}"
                    )));
                    self.catalog_error = Some(error);
                    fx.push(Effect::Changed);
                } else {
                    reading.attempt = 0;
                    if self.error.as_ref() != Some(&error) {
                        fx.push(Effect::Report(error.clone()));
                    }
                    self.error = Some(error);
                    fx.push(Effect::Changed);
                }
            }
        }
        if resource == Resource::Shopper && self.reread_shopper && !self.shopper.sync.busy() {
            self.reread_shopper = false;
            self.fetch(Resource::Shopper, fx);
        }
        self.check_settled(fx);
    }

    /// Takes in a successful read: decoded and checked before anything is shown or saved.
    fn accept(
        &mut self,
        resource: Resource,
        fetched: Fetched,
        env: Env,
        fx: &mut Vec<Effect>,
    ) -> Result<(), SyncError> {
        let (text, etag) = match fetched {
            Fetched::Body { text, etag } => (text, etag),
            Fetched::NotModified => {
                let slot_has_value = self.has(resource);
                return match resource {
                    Resource::Program if slot_has_value => {
                        self.program.sync.fresh = true;
                        Ok(())
                    }
                    Resource::Catalog if slot_has_value => {
                        self.catalog.sync.fresh = true;
                        Ok(())
                    }
                    _ => Err(SyncError::InvalidResponse(Problems::one(
                        "",
                        "304 Not Modified for something this page never had",
                    ))),
                };
            }
        };
        match resource {
            Resource::Program => {
                let program = crate::program_from_text(&text)
                    .map_err(|p| SyncError::InvalidResponse(p.under("program")))?;
                fx.push(Effect::SaveProgram { text, etag: etag.clone() });
                self.program.value = Some(Rc::new(program));
                self.program.sync.etag = etag;
                self.program.sync.fresh = true;
            }
            Resource::Catalog => {
                let answer = CatalogAnswer::from_json_str(&text)
                    .map_err(|p| SyncError::InvalidResponse(p.under("catalog")))?;
                fx.push(Effect::SaveCatalog { text, etag: etag.clone(), near: self.catalog_near.clone() });
                self.catalog.value = Some(Rc::new(safe_products(answer.products, fx)));
                self.catalog.sync.etag = etag;
                self.catalog.sync.fresh = true;
            }
            Resource::Shopper => {
                let state = ShopperState::from_json_str(&text)
                    .map_err(|p| SyncError::InvalidResponse(p.under("shopper")))?;
                let Some(identity) = &self.identity else { return Ok(()) };
                if state.customer_id != identity.customer_id {
                    return Err(SyncError::InvalidResponse(Problems::one(
                        "shopper.customerId",
                        "is not the signed-in shopper",
                    )));
                }
                fx.push(Effect::SaveShopper { customer_id: identity.customer_id.clone(), text });
                self.shopper.value = Some(Rc::new(state));
                self.shopper.sync.fresh = true;
                self.reconcile(env, fx);
            }
        }
        Ok(())
    }

    fn check_settled(&mut self, fx: &mut Vec<Effect>) {
        if self.round && !self.wanted().any(|r| self.busy(r)) {
            self.round = false;
            fx.push(Effect::Settled);
        }
    }

    fn write(&mut self, write: Write, key: String, env: Env, fx: &mut Vec<Effect>) {
        let Some(identity) = self.identity.clone() else {
            fx.push(Effect::Settle { key, result: Err(SyncError::NotSignedIn) });
            return;
        };
        let (kind, reward_id, birthday) = match write {
            Write::Redeem { reward_id } => (WriteKind::Redeem, reward_id, String::new()),
            Write::Birthday { birthday } => (WriteKind::Birthday, String::new(), birthday),
        };
        let entry = OutboxEntry {
            key,
            kind,
            reward_id,
            birthday,
            code: String::new(),
            customer_id: identity.customer_id.clone(),
            created_at: env.now_ms,
            attempts: 0,
        };
        self.send_new(entry, identity, fx);
    }

    /// Adds a write to the outbox, saved before it is sent.
    fn send_new(&mut self, entry: OutboxEntry, identity: Identity, fx: &mut Vec<Effect>) {
        self.outbox.push(PendingWrite { entry: entry.clone(), status: WriteStatus::Sending, reasked: false });
        // Saved before it is sent: a reload or a crash after this point re-sends it with the same key.
        fx.push(Effect::SaveWrite(entry.clone()));
        self.sending.push(entry.key.clone());
        fx.push(Effect::Send { entry, identity });
        fx.push(Effect::Changed);
    }

    /// Takes writes past the resend window out of sending: they wait for a fresh read of the shopper's state
    /// (asked for here when none is on its way), which shows whether they went through. A write whose saved
    /// time is ahead of the clock has an age that cannot be trusted, and is treated as old, as is one older than
    /// the window by the backend's clock (the cached state's time) whatever the device says. A write on its way
    /// is left to its answer.
    fn expire_outbox(&mut self, env: Env, fx: &mut Vec<Effect>) {
        let mut check = false;
        // The backend's time of the latest state read is a lower bound on the time now: a device clock set back
        // since the write cannot make an old write look young (it would be sent with a key the server forgot).
        let known = self.shopper.value.as_ref().map_or(i64::MIN, |s| s.as_of.saturating_mul(1000));
        for pending in &mut self.outbox {
            let age = env.now_ms.saturating_sub(pending.entry.created_at);
            let old = !(-CLOCK_SLACK_MS..=OUTBOX_MAX_AGE_MS).contains(&age)
                || known.saturating_sub(pending.entry.created_at) > OUTBOX_MAX_AGE_MS;
            if old && pending.status == WriteStatus::Waiting {
                pending.status = WriteStatus::Checking;
                check = true;
            }
        }
        if check && self.identity.is_some() && !self.shopper.sync.busy() {
            self.round = true;
            self.shopper.sync.attempt = 0;
            self.fetch(Resource::Shopper, fx);
        }
    }

    /// Settles the writes too old to send again by what the shopper's fresh state shows. A redemption went
    /// through when a code for its reward was issued since it was made (each code answers one write, oldest
    /// first); otherwise it is shown as not completed (the state lists only the latest codes, so "not found"
    /// is not "not done": the shopper is sent to their activity). A birthday went through when the state
    /// has one. A referral capture cannot be seen in the state: it is dropped, with its landing (the server
    /// refuses a second capture anyway).
    fn reconcile(&mut self, env: Env, fx: &mut Vec<Effect>) {
        let Some(state) = self.shopper.value.clone() else { return };
        // The backend's clock against the device's, from the state just read: a write made at device time t was
        // made at about t + offset by the backend's clock, which is the clock its codes' times are on.
        let offset = state.as_of.saturating_mul(1000).saturating_sub(env.now_ms);
        let mut used: Vec<&str> = Vec::new();
        // Oldest first, so each code answers the earliest write it can (the outbox holds a few writes).
        while let Some(i) = (0..self.outbox.len())
            .filter(|&i| self.outbox[i].status == WriteStatus::Checking)
            .min_by_key(|&i| self.outbox[i].entry.created_at)
        {
            let entry = self.outbox[i].entry.clone();
            // Not issued before the write: by the backend's clock, a few minutes' slack (the offset is measured
            // now, and a clock may drift), and never earlier than the device's own slack allows. A code issued
            // before the write answered another redemption, often one already used at checkout.
            let made = entry.created_at.saturating_add(offset).saturating_sub(RECONCILE_SLACK_MS);
            let since = made.max(entry.created_at.saturating_sub(CLOCK_SLACK_MS)).div_euclid(1000);
            // Unused codes first (the shopper never saw this write's code, so has not used it), then the oldest.
            let code = state
                .codes
                .iter()
                .filter(|c| {
                    c.reward_id == entry.reward_id
                        && c.created_at >= since
                        && !used.contains(&c.code.as_str())
                })
                .min_by_key(|c| (c.used, c.created_at));
            let answer = match (entry.kind, code, &state.birthday) {
                (WriteKind::Redeem, Some(c), _) => {
                    used.push(&c.code);
                    let reward = self.program.value.as_ref().and_then(|p| p.reward(&c.reward_id));
                    Ok(Written::Redemption(Redemption {
                        id: String::new(),
                        reward_id: c.reward_id.clone(),
                        cost: reward.map_or(0, |r| r.cost),
                        code: c.code.clone(),
                        created_at: c.created_at,
                    }))
                }
                (WriteKind::Birthday, _, Some(birthday)) => {
                    Ok(Written::Birthday(BirthdaySet { birthday: birthday.clone() }))
                }
                _ => Err(SyncError::NotCompleted),
            };
            let key = entry.key;
            fx.push(Effect::ForgetWrite { customer_id: entry.customer_id, key: key.clone() });
            match (entry.kind, answer) {
                // Shown as not completed until the page is left, as a write given up always was.
                (WriteKind::Redeem, Err(error)) => {
                    self.outbox[i].status = WriteStatus::Expired;
                    fx.push(Effect::Report(error.clone()));
                    fx.push(Effect::Settle { key, result: Err(error) });
                }
                (WriteKind::Referral, _) => {
                    self.outbox.remove(i);
                    if self.attribution.as_ref().is_some_and(|a| a.code == entry.code) {
                        self.attribution = None;
                        fx.push(Effect::ForgetAttribution);
                    }
                    fx.push(Effect::Warn("a referral capture saved days ago was not sent again".into()));
                }
                // A birthday that is not stored is asked for again by the panel.
                (_, result) => {
                    self.outbox.remove(i);
                    fx.push(Effect::Settle { key, result });
                }
            }
        }
        fx.push(Effect::Changed);
    }

    fn send_outbox(&mut self, env: Env, fx: &mut Vec<Effect>) {
        self.expire_outbox(env, fx);
        let Some(identity) = self.identity.clone() else { return };
        for pending in &mut self.outbox {
            if pending.status == WriteStatus::Waiting {
                pending.status = WriteStatus::Sending;
                // Already on its way (sent before a sign-out and a sign-in on this page): its answer will come.
                if !self.sending.contains(&pending.entry.key) {
                    self.sending.push(pending.entry.key.clone());
                    fx.push(Effect::Send { entry: pending.entry.clone(), identity: identity.clone() });
                }
            }
        }
    }

    fn sent(
        &mut self,
        key: String,
        kind: WriteKind,
        result: Result<String, SyncError>,
        env: Env,
        fx: &mut Vec<Effect>,
    ) {
        self.sending.retain(|k| *k != key);
        let owner = self.customer_of_saved(&key);
        self.forgotten.retain(|(k, _)| *k != key);
        let result = result.and_then(|text| match kind {
            WriteKind::Redeem => Redemption::from_json_str(&text)
                .map(Written::Redemption)
                .map_err(|p| SyncError::InvalidResponse(p.under("redemption"))),
            WriteKind::Birthday => BirthdaySet::from_json_str(&text)
                .map(Written::Birthday)
                .map_err(|p| SyncError::InvalidResponse(p.under("birthday"))),
            WriteKind::Referral => ReferralCaptured::from_json_str(&text)
                .map(Written::Referral)
                .map_err(|p| SyncError::InvalidResponse(p.under("referral"))),
        });
        let index = self.outbox.iter().position(|p| p.entry.key == key);
        // An unreadable answer (cut off, or a proxy's page) may still mean the write was done: sent again with
        // its key, the backend answers with what it stored. Once more only, as an answer that stays unreadable
        // is the backend's or a proxy's fault, and the shopper must hear of it.
        let reask = match (&result, index) {
            (Err(SyncError::InvalidResponse(_) | SyncError::TooLarge { .. }), Some(i)) => {
                !self.outbox[i].reasked
            }
            _ => false,
        };
        if kind == WriteKind::Referral && !reask {
            self.captured(&key, &result, fx);
        }
        let Some(index) = index else {
            // The shopper signed out meanwhile: the promise still gets its answer; a retryable failure leaves
            // the saved write to be re-sent at their next sign-in.
            if result.as_ref().is_err_and(|e| !e.is_retryable_write()) || result.is_ok() {
                if let Some(customer_id) = owner {
                    fx.push(Effect::ForgetWrite { customer_id, key: key.clone() });
                }
            }
            fx.push(Effect::Settle { key, result });
            return;
        };
        match result {
            Err(error) if reask || error.is_retryable_write() => {
                let pending = &mut self.outbox[index];
                pending.reasked |= reask;
                pending.entry.attempts = pending.entry.attempts.saturating_add(1);
                pending.status = WriteStatus::Waiting;
                let attempts = pending.entry.attempts;
                fx.push(Effect::SaveWrite(pending.entry.clone()));
                self.expire_outbox(env, fx);
                if self.outbox[index].status == WriteStatus::Waiting {
                    let after_ms = self.policy.delay_ms(attempts - 1, env.random, error.retry_after_ms());
                    if error.retry_after_ms().is_some() {
                        self.outbox_not_before = env.now_ms.saturating_add(after_ms as i64);
                    }
                    fx.push(Effect::Wake { timer: Timer::Outbox, after_ms, generation: self.generation });
                }
            }
            result => {
                // A definitive answer, either way: the write leaves the outbox.
                let pending = self.outbox.remove(index);
                fx.push(Effect::ForgetWrite { customer_id: pending.entry.customer_id, key: key.clone() });
                if kind == WriteKind::Referral {
                    // Nothing the shopper asked for: a refusal (already referred, not a new customer) is
                    // no error to show, and nothing they see changed.
                    fx.push(Effect::Changed);
                    return;
                }
                if let Err(error) = &result {
                    fx.push(Effect::Report(error.clone()));
                }
                fx.push(Effect::Settle { key, result });
                // The balance, activity and codes changed on the backend: read them again.
                if self.shopper.sync.busy() {
                    self.reread_shopper = true;
                } else {
                    self.round = true;
                    self.shopper.sync.attempt = 0;
                    self.fetch(Resource::Shopper, fx);
                }
            }
        }
        fx.push(Effect::Changed);
    }

    /// Takes in a landing, then sends the attribution for the signed-in shopper once everything it needs is
    /// known: the program (the parameter and how long a landing counts) and the shopper's own code.
    fn attribute(&mut self, env: Env, fx: &mut Vec<Effect>) {
        let Some(program) = self.program.value.clone() else { return };
        let Some(terms) = &program.referral else { return };
        let own = self.shopper.value.as_ref().and_then(|s| s.referral.as_ref()).map(|r| r.code.as_str());
        if let Some(query) = self.landing.take() {
            match loyalty_core::landing_code(terms, &query) {
                None => {}
                Some(Err(message)) => {
                    fx.push(Effect::Warn(format!(
                        "the referral code in this page's link is refused: it {message}"
                    )));
                }
                // A shopper opening their own link attributes nothing; an earlier link that still counts wins.
                Some(Ok(code)) if Some(code.as_str()) == own => {}
                Some(Ok(_)) if self.attribution.as_ref().is_some_and(|a| a.expires_at > env.now_ms) => {}
                Some(Ok(code)) => {
                    let days = i64::from(terms.attribution_days);
                    let attribution = Attribution {
                        code: code.to_string(),
                        landed_at: env.now_ms,
                        expires_at: env.now_ms.saturating_add(days * 86_400_000),
                    };
                    fx.push(Effect::SaveAttribution(attribution.clone()));
                    self.attribution = Some(attribution);
                    fx.push(Effect::Changed);
                }
            }
        }
        let Some(attribution) = self.attribution.clone() else { return };
        if attribution.expires_at <= env.now_ms {
            self.attribution = None;
            fx.push(Effect::ForgetAttribution);
            fx.push(Effect::Changed);
            return;
        }
        // Sent only once the shopper's own code is known, so it is never attributed to themselves.
        let (Some(identity), Some(own)) = (self.identity.clone(), own) else { return };
        if own == attribution.code {
            self.attribution = None;
            fx.push(Effect::ForgetAttribution);
            fx.push(Effect::Changed);
            return;
        }
        if self.capture_unsupported {
            return;
        }
        // One key per landing, so a reload re-sends the same write rather than a second one.
        let key = format!("referral-{}-{}", attribution.landed_at, attribution.code);
        if self.outbox.iter().any(|p| p.entry.key == key) || self.sending.contains(&key) {
            return;
        }
        let entry = OutboxEntry {
            key,
            kind: WriteKind::Referral,
            reward_id: String::new(),
            birthday: String::new(),
            code: attribution.code,
            customer_id: identity.customer_id.clone(),
            created_at: env.now_ms,
            attempts: 0,
        };
        self.send_new(entry, identity, fx);
    }

    /// A referral capture was answered: a definitive answer uses the attribution up; a backend that cannot
    /// capture leaves it for the shop's sign-up form.
    fn captured(&mut self, key: &str, result: &Result<Written, SyncError>, fx: &mut Vec<Effect>) {
        match result {
            Err(error) if error.status() == Some(501) => self.capture_unsupported = true,
            Err(error) if error.is_retryable_write() => {}
            answer => {
                if let Err(error) = answer {
                    fx.push(Effect::Warn(format!("the referral was not recorded: {error}")));
                }
                let ours = self.attribution.as_ref().is_some_and(|a| key.ends_with(&format!("-{}", a.code)));
                if ours {
                    self.attribution = None;
                    fx.push(Effect::ForgetAttribution);
                }
            }
        }
    }

    /// Whose saved write this key was (kept while it is on its way).
    fn customer_of_saved(&self, key: &str) -> Option<String> {
        self.forgotten.iter().find(|(k, _)| k == key).map(|(_, c)| c.clone())
    }
}

/// The products whose links may reach the page (a path on the shop or `https://`); the others are left out,
/// each named in the console.
fn safe_products(products: Vec<CatalogProduct>, fx: &mut Vec<Effect>) -> Vec<CatalogProduct> {
    products
        .into_iter()
        .filter(|p| {
            let bad = loyalty_core::check_link(&p.url)
                .err()
                .or_else(|| p.image.as_deref().and_then(|i| loyalty_core::check_link(i).err()));
            if let Some(message) = &bad {
                fx.push(Effect::Warn(format!(
                    "catalog product \"{}\" is left out: its link {message}",
                    p.id
                )));
            }
            bad.is_none()
        })
        .collect()
}

#[cfg(test)]
mod tests;
