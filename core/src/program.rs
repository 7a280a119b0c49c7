//! The loyalty program a merchant configures: earn rules, point lifecycle, tiers, rewards and the texts a
//! shopper reads, in every locale the shop offers.
//!
//! [`ProgramConfig`] is the document as written (JSON, camelCase keys, `"version": 1`). [`Program`] is a
//! config that passed [`ProgramConfig::validate`]; every rule in this crate takes a `&Program`, so nothing
//! downstream re-checks. Parsing reports every problem at once, each with its path.

use crate::json::{FromJson, Json};
use crate::money::Currency;
use crate::problems::{check_id, check_id_here, check_range, check_unique, Checker, Problems};
use crate::referral::ReferralTerms;
use crate::time::{check_timestamp, Timestamp};
use serde::Serialize;
use std::collections::BTreeMap;

/// The config format version this build reads.
pub const PROGRAM_VERSION: u32 = 1;

/// Largest multiplier accepted, in percent (100x).
pub const MAX_MULTIPLIER_PERCENT: u32 = 10_000;

/// Text in each of the program's locales, keyed by BCP 47 tag: `{"en": "Gold", "zh-CN": "黄金会员"}`.
pub type LocalizedText = BTreeMap<String, String>;

wire_struct! {
    strict;
    /// A loyalty program as the merchant writes it. Use [`Program::from_json`] or [`ProgramConfig::validate`]
    /// to get a [`Program`] the rules accept.
    #[derive(Clone, Debug, PartialEq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ProgramConfig {
        /// Format version; must be [`PROGRAM_VERSION`].
        pub version: u32,
        /// The base currency: earn rules, minimum orders and spend tiers are counted in it.
        pub currency: Currency,
        /// Locales the texts are given in; the first is the fallback. Every text must exist in each of them.
        pub locales: Vec<String>,
        /// The program's name as shoppers see it.
        pub name: LocalizedText,
        /// How purchases earn points.
        pub earn: EarnRules,
        /// When earned points become available and when they expire.
        pub lifecycle: PointsLifecycle = Default::default(),
        /// How shoppers qualify for tiers.
        pub tier_qualification: TierQualification = Default::default(),
        /// VIP tiers, lowest first, with strictly increasing thresholds. May be empty.
        pub tiers: Vec<Tier> = Vec::new(),
        /// What points can buy.
        pub rewards: Vec<Reward> = Vec::new(),
        /// Points on the shopper's birthday, once a year; absent when the program gives none.
        pub birthday: Option<BirthdayGift>,
        /// Referral terms; absent when the program has no referrals.
        pub referral: Option<ReferralTerms>,
    }
}

wire_struct! {
    strict;
    /// Points given on the shopper's birthday (see [`crate::birthday_award`]).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct BirthdayGift {
        /// Points given each year on the day.
        pub points: i64,
        /// A birthday given fewer than this many days before it falls earns from the next year (default 30),
        /// so a date typed in on the day earns nothing.
        pub min_days_known: u32 = thirty(),
    }
}

wire_struct! {
    strict;
    /// How purchases earn points.
    #[derive(Clone, Debug, PartialEq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct EarnRules {
        /// `points` for every `perAmount` minor units of the base currency: 1 point per ¥1 is
        /// `{"points": 1, "perAmount": 100}`.
        pub rate: EarnRate,
        /// How fractional points are rounded.
        pub rounding: Rounding = Default::default(),
        /// Whether rounding happens once per order (default) or for each line.
        pub rounding_scope: RoundingScope = Default::default(),
        /// Which parts of an order's amount earn.
        pub basis: EarnBasis = Default::default(),
        /// Extra points for some products, categories or tags.
        pub bonuses: Vec<Bonus> = Vec::new(),
        /// Time-boxed multipliers such as "double points this weekend".
        pub campaigns: Vec<Campaign> = Vec::new(),
        /// Products, categories or tags that earn nothing (gift cards, say).
        pub exclusions: ProductMatch = Default::default(),
        /// Most points one order can earn, all bonuses included.
        pub max_points_per_order: Option<i64>,
        /// Orders whose merchandise subtotal (after discounts, in base minor units) is below this earn nothing.
        pub minimum_order: Option<i64>,
    }
}

wire_struct! {
    strict;
    /// The base earn rate: `points` per `per_amount` minor units of the base currency.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct EarnRate {
        /// Points earned ...
        pub points: i64,
        /// ... for this many minor units.
        pub per_amount: i64,
    }
}

wire_enum! {
    /// How fractional points become whole points.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub enum Rounding {
        /// Down (the default): 12.9 points earn 12.
        #[default]
        Floor,
        /// To the nearest whole point, halves up.
        Nearest,
        /// Up: 12.1 points earn 13.
        Ceil,
    }
}

wire_enum! {
    /// Where rounding happens.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub enum RoundingScope {
        /// Once for the whole order (the default), so splitting a cart never loses points.
        #[default]
        Order,
        /// For each line, as some shops print per-line points on receipts.
        Line,
    }
}

wire_struct! {
    strict;
    /// Which parts of an order's amount earn points.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct EarnBasis {
        /// Discounts reduce the amount that earns (default true).
        pub after_discounts: bool = yes(),
        /// Tax earns points (default false).
        pub include_tax: bool = Default::default(),
        /// Shipping earns points (default false).
        pub include_shipping: bool = Default::default(),
    }
}

fn yes() -> bool {
    true
}

impl Default for EarnBasis {
    fn default() -> Self {
        EarnBasis { after_discounts: true, include_tax: false, include_shipping: false }
    }
}

wire_struct! {
    strict;
    /// A set of products by id, category or tag. A product matches when any of its attributes is listed.
    #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ProductMatch {
        /// Product ids (a variant matches through its product id).
        pub product_ids: Vec<String> = Vec::new(),
        /// Category ids or handles.
        pub categories: Vec<String> = Vec::new(),
        /// Tags.
        pub tags: Vec<String> = Vec::new(),
    }
}

impl ProductMatch {
    /// True when nothing is listed (matches no product).
    pub fn is_empty(&self) -> bool {
        self.product_ids.is_empty() && self.categories.is_empty() && self.tags.is_empty()
    }

    /// Whether a product with these attributes is in the set.
    pub fn matches(&self, product_id: &str, categories: &[String], tags: &[String]) -> bool {
        self.product_ids.iter().any(|p| p == product_id)
            || categories.iter().any(|c| self.categories.contains(c))
            || tags.iter().any(|t| self.tags.contains(t))
    }
}

wire_struct! {
    strict;
    /// Extra points for matching products: a multiplier on their base points, a fixed number per unit, or both.
    #[derive(Clone, Debug, PartialEq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Bonus {
        /// Stable id, shown in earn breakdowns.
        pub id: String,
        /// What the shopper reads, e.g. "Bonus points on tea".
        pub name: LocalizedText,
        /// The products it applies to.
        pub applies_to: ProductMatch,
        /// Earn this percentage of the base points in total (200 = double); the bonus is the part above 100.
        pub multiplier_percent: Option<u32>,
        /// Fixed extra points per unit bought.
        pub extra_points_per_unit: Option<i64>,
    }
}

wire_struct! {
    strict;
    /// A multiplier active from `starts_at` (inclusive) to `ends_at` (exclusive).
    #[derive(Clone, Debug, PartialEq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Campaign {
        /// Stable id, shown in earn breakdowns.
        pub id: String,
        /// What the shopper reads, e.g. "Double points weekend".
        pub name: LocalizedText,
        /// Start, UTC seconds (the backend resolves the shop's time zone).
        pub starts_at: Timestamp,
        /// End (exclusive), UTC seconds.
        pub ends_at: Timestamp,
        /// Earn this percentage of base points in total while active (200 = double points).
        pub multiplier_percent: u32,
        /// Only these products; absent means the whole order (shipping too, when shipping earns).
        pub applies_to: Option<ProductMatch>,
    }
}

impl Campaign {
    /// Whether the campaign runs at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.starts_at <= now && now < self.ends_at
    }
}

wire_struct! {
    strict;
    /// When earned points become available and when they expire.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct PointsLifecycle {
        /// Points from a purchase (and a referral's reward, which hangs on a purchase) stay pending this many
        /// days (the return window) before they can be spent.
        pub pending_days: u32 = Default::default(),
        /// When points expire.
        pub expiry: Expiry = Default::default(),
        /// Points expiring within this many days are shown as "expiring soon" (default 30).
        pub expiring_soon_days: u32 = thirty(),
    }
}

fn thirty() -> u32 {
    30
}

impl Default for PointsLifecycle {
    fn default() -> Self {
        PointsLifecycle { pending_days: 0, expiry: Expiry::default(), expiring_soon_days: thirty() }
    }
}

wire_struct! {
    strict;
    /// When points expire.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Expiry {
        /// The expiry policy.
        pub mode: ExpiryMode = Default::default(),
        /// Months, for the modes that need them.
        pub months: u32 = Default::default(),
    }
}

wire_enum! {
    /// The expiry policy.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub enum ExpiryMode {
        /// Points never expire.
        #[default]
        Never,
        /// Each earning expires `months` after it was earned.
        AfterEarning,
        /// All points expire `months` after the shopper's last purchase.
        AfterInactivity,
    }
}

wire_struct! {
    strict;
    /// How tier standing is measured.
    #[derive(Clone, Debug, PartialEq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct TierQualification {
        /// What is counted.
        pub metric: TierMetric = Default::default(),
        /// Over which period.
        pub period: TierPeriod = Default::default(),
        /// Which earn sources count for `pointsEarned` (purchases and referrals by default; never a birthday gift
        /// unless listed).
        pub sources: Vec<EarnSource> = default_sources(),
    }
}

fn default_sources() -> Vec<EarnSource> {
    vec![EarnSource::Purchase, EarnSource::Referral]
}

impl Default for TierQualification {
    fn default() -> Self {
        TierQualification {
            metric: TierMetric::default(),
            period: TierPeriod::default(),
            sources: default_sources(),
        }
    }
}

wire_enum! {
    /// What tier thresholds count.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub enum TierMetric {
        /// Spend in base-currency minor units (the default).
        #[default]
        Spend,
        /// Points earned from the qualifying sources.
        PointsEarned,
        /// Number of paid orders.
        Orders,
    }
}

wire_struct! {
    strict;
    /// The period over which the tier metric is counted.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct TierPeriod {
        /// The kind of period.
        pub kind: TierPeriodKind = Default::default(),
        /// Months, for `rollingMonths`.
        pub months: u32 = Default::default(),
        /// Start of the current period, UTC seconds, for `calendarYear` (the backend resolves the shop's time zone).
        pub starts_at: Option<Timestamp>,
        /// End (exclusive) of the current period, for `calendarYear`.
        pub ends_at: Option<Timestamp>,
    }
}

wire_enum! {
    /// The kind of tier qualifying period.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub enum TierPeriodKind {
        /// Everything ever counted; a tier once reached is kept.
        #[default]
        Lifetime,
        /// The current calendar year, as `startsAt`..`endsAt`; a tier reached is kept through the next year.
        CalendarYear,
        /// The last `months` months.
        RollingMonths,
    }
}

wire_enum! {
    /// Where points came from. Tier qualification counts only the sources the program lists.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub enum EarnSource {
        /// A paid order.
        Purchase,
        /// A referred friend's first order.
        Referral,
        /// The birthday gift.
        Birthday,
        /// Joining the program.
        Signup,
        /// A product review.
        Review,
        /// A manual adjustment by the shop.
        Adjustment,
    }
}

wire_struct! {
    strict;
    /// One VIP tier.
    #[derive(Clone, Debug, PartialEq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Tier {
        /// Stable id.
        pub id: String,
        /// Name, e.g. `{"en": "Gold", "zh-CN": "黄金会员"}`.
        pub name: LocalizedText,
        /// Metric value needed, in the metric's unit (minor units for spend).
        pub threshold: i64,
        /// Members of this tier earn this percentage of base points (150 = 1.5x); default 100.
        pub earn_multiplier_percent: u32 = hundred(),
        /// Benefits as shoppers read them.
        pub benefits: Vec<LocalizedText> = Vec::new(),
    }
}

fn hundred() -> u32 {
    100
}

wire_struct! {
    strict;
    /// Something points can buy.
    #[derive(Clone, Debug, PartialEq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Reward {
        /// Stable id.
        pub id: String,
        /// Name, e.g. `{"en": "¥10 off", "zh-CN": "立减 10 元"}`.
        pub name: LocalizedText,
        /// What it gives.
        pub kind: RewardKind,
        /// Points it costs.
        pub cost: i64,
        /// For `amountOff`: minor units of the base currency.
        pub amount_off: Option<i64>,
        /// For `percentOff`: 1..=100.
        pub percent_off: Option<u32>,
        /// For `freeProduct`: the product given.
        pub product_id: Option<String>,
        /// The discount applies to orders of at least this many base minor units.
        pub minimum_order: Option<i64>,
    }
}

wire_enum! {
    /// What a reward gives.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub enum RewardKind {
        /// A fixed amount off an order.
        AmountOff,
        /// A percentage off an order.
        PercentOff,
        /// Free shipping on an order.
        FreeShipping,
        /// A product for free.
        FreeProduct,
    }
}

wire_struct! {
    lenient;
    /// A tier's or a reward's id and name, as a recommendations list names them.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Named {
        /// Stable id.
        pub id: String,
        /// Display name per locale.
        pub name: LocalizedText,
    }
}

wire_struct! {
    lenient;
    /// The base rate of a program's earn rules, passing the rest over.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct RateGlance {
        /// The base earn rate.
        pub rate: EarnRate,
    }
}

wire_struct! {
    lenient;
    /// What a recommendations list reads of a program besides the points (which the module with the earning
    /// rules computes): the currency and base rate (a product that earns more than the base rate says so),
    /// the locales, and the tiers' and rewards' names. Every other member is passed over unread: the program
    /// was checked by the module that computes its points, from the same text.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct ProgramGlance {
        /// The base currency.
        pub currency: Currency,
        /// Locales the texts are given in.
        pub locales: Vec<String> = Vec::new(),
        /// The base rate.
        pub earn: RateGlance,
        /// Tiers by name.
        pub tiers: Vec<Named> = Vec::new(),
        /// Rewards by name.
        pub rewards: Vec<Named> = Vec::new(),
    }
}

wire_struct! {
    strict [name, lifecycle, tier_qualification, rewards, birthday, referral];
    /// The part of a program that earning reads, as a product page's shell decodes it: the members it does not
    /// need are passed over unread, and any other member is refused as [`ProgramConfig`] refuses it.
    /// [`EarnConfig::validate`] applies the checks [`ProgramConfig::validate`] applies to these members, with
    /// the same functions, so a program the whole check accepts gives the same points through either.
    #[derive(Clone, Debug, PartialEq)]
    pub struct EarnConfig {
        /// Format version; must be [`PROGRAM_VERSION`].
        pub version: u32,
        /// The base currency.
        pub currency: Currency,
        /// Locales the texts are given in.
        pub locales: Vec<String>,
        /// How purchases earn points.
        pub earn: EarnRules,
        /// VIP tiers, lowest first.
        pub tiers: Vec<Tier> = Vec::new(),
    }
}

impl EarnConfig {
    /// Checks the members earning reads, as [`ProgramConfig::validate`] checks them.
    pub fn validate(self) -> Result<EarnProgram, Problems> {
        let mut c = Checker::default();
        check_version(&mut c, self.version);
        let locales: &[String] = if check_locales(&mut c, &self.locales) { &self.locales } else { &[] };
        c.field("earn", |c| self.earn.check(c, locales));
        check_tiers(&mut c, &self.tiers, locales);
        c.finish()?;
        Ok(EarnProgram { config: self })
    }
}

/// An [`EarnConfig`] that passed validation: what the shell computes points with.
#[derive(Clone, Debug, PartialEq)]
pub struct EarnProgram {
    config: EarnConfig,
}

impl std::ops::Deref for EarnProgram {
    type Target = EarnConfig;

    fn deref(&self) -> &EarnConfig {
        &self.config
    }
}

/// What the earning rules read of a program: its base currency, earn rules and tiers. A whole [`Program`]
/// gives one, and so does the [`EarnProgram`] of a product page's shell: one computation for both.
#[derive(Clone, Copy, Debug)]
pub struct EarnView<'a> {
    /// The base currency.
    pub currency: Currency,
    /// How purchases earn points.
    pub earn: &'a EarnRules,
    /// VIP tiers, lowest first.
    pub tiers: &'a [Tier],
}

impl<'a> EarnView<'a> {
    /// The tier with this id.
    pub fn tier(&self, id: &str) -> Option<&'a Tier> {
        self.tiers.iter().find(|t| t.id == id)
    }
}

impl<'a> From<&'a Program> for EarnView<'a> {
    fn from(program: &'a Program) -> EarnView<'a> {
        EarnView { currency: program.currency, earn: &program.earn, tiers: &program.tiers }
    }
}

impl<'a> From<&'a EarnProgram> for EarnView<'a> {
    fn from(program: &'a EarnProgram) -> EarnView<'a> {
        EarnView { currency: program.currency, earn: &program.earn, tiers: &program.tiers }
    }
}

/// A program that passed validation. Build one with [`Program::from_json`] or [`ProgramConfig::validate`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Program {
    config: ProgramConfig,
}

/// Reading a `Program` with serde decodes and validates it: an invalid program is an error, listing every
/// problem.
impl<'de> serde::Deserialize<'de> for Program {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let json = <Json as serde::Deserialize>::deserialize(deserializer)?;
        Program::decode(&json).map_err(serde::de::Error::custom)
    }
}

impl std::ops::Deref for Program {
    type Target = ProgramConfig;

    fn deref(&self) -> &ProgramConfig {
        &self.config
    }
}

/// Largest amount (minor units) or point count a program may state.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;

impl Program {
    /// Parses and validates a program from JSON text.
    ///
    /// ```
    /// let json = r#"{"version": 1, "currency": "CNY", "locales": ["en"], "name": {"en": "Club"},
    ///                "earn": {"rate": {"points": 1, "perAmount": 100}}}"#;
    /// let program = loyalty_core::Program::from_json(json).unwrap();
    /// assert_eq!(program.earn.rate.points, 1);
    /// ```
    pub fn from_json(json: &str) -> Result<Program, Problems> {
        ProgramConfig::from_json_str(json)?.validate()
    }

    /// Decodes and validates a program from a parsed JSON document.
    pub fn decode(json: &Json) -> Result<Program, Problems> {
        ProgramConfig::decode(json)?.validate()
    }

    /// The validated config.
    pub fn config(&self) -> &ProgramConfig {
        &self.config
    }

    /// The tier with this id.
    pub fn tier(&self, id: &str) -> Option<&Tier> {
        self.tiers.iter().find(|t| t.id == id)
    }

    /// The reward with this id.
    pub fn reward(&self, id: &str) -> Option<&Reward> {
        self.rewards.iter().find(|r| r.id == id)
    }
}

impl ProgramConfig {
    /// Checks every rule of the format and returns a [`Program`], or every problem found with its path.
    pub fn validate(self) -> Result<Program, Problems> {
        let mut c = Checker::default();
        check_version(&mut c, self.version);
        // Texts are checked against the locales only once the list itself is right; otherwise every text
        // would repeat the same mistake.
        let locales: &[String] = if check_locales(&mut c, &self.locales) { &self.locales } else { &[] };
        c.field("name", |c| check_text(c, locales, &self.name));
        c.field("earn", |c| self.earn.check(c, locales));
        c.field("lifecycle", |c| self.lifecycle.check(c));
        c.field("tierQualification", |c| self.tier_qualification.check(c));
        check_tiers(&mut c, &self.tiers, locales);
        self.check_rewards(&mut c, locales);
        if let Some(gift) = &self.birthday {
            c.field("birthday", |c| {
                check_range(c, "points", gift.points, 1, 1_000_000);
                check_range(c, "minDaysKnown", i64::from(gift.min_days_known), 0, 366);
            });
        }
        if let Some(terms) = &self.referral {
            c.field("referral", |c| terms.check(c, locales));
        }
        c.finish()?;
        Ok(Program { config: self })
    }

    fn check_rewards(&self, c: &mut Checker, locales: &[String]) {
        check_unique(c, "rewards", self.rewards.iter().map(|r| r.id.as_str()));
        c.each("rewards", &self.rewards, |c, _, reward| {
            check_id(c, "id", &reward.id);
            c.field("name", |c| check_text(c, locales, &reward.name));
            check_range(c, "cost", reward.cost, 1, MAX_AMOUNT);
            let kind = reward.kind;
            let wants = |field| match field {
                "amountOff" => kind == RewardKind::AmountOff,
                "percentOff" => kind == RewardKind::PercentOff,
                _ => kind == RewardKind::FreeProduct,
            };
            for (field, present) in [
                ("amountOff", reward.amount_off.is_some()),
                ("percentOff", reward.percent_off.is_some()),
                ("productId", reward.product_id.is_some()),
            ] {
                let kind_name = kind_name(kind);
                if wants(field) && !present {
                    c.fail_at(field, message!("is required for kind \"{kind_name}\""));
                } else if !wants(field) && present {
                    c.fail_at(field, message!("does not apply to kind \"{kind_name}\""));
                }
            }
            if let Some(amount) = reward.amount_off {
                check_range(c, "amountOff", amount, 1, MAX_AMOUNT);
            }
            if let Some(percent) = reward.percent_off {
                check_range(c, "percentOff", i64::from(percent), 1, 100);
            }
            if let Some(product) = &reward.product_id {
                check_id(c, "productId", product);
            }
            if let Some(minimum) = reward.minimum_order {
                check_range(c, "minimumOrder", minimum, 0, MAX_AMOUNT);
            }
        });
    }
}

fn check_version(c: &mut Checker, version: u32) {
    if version != PROGRAM_VERSION {
        c.fail_at("version", message!("unsupported version {version} (this build reads {PROGRAM_VERSION})"));
    }
}

/// Checks the locale list; true when it is usable for checking texts.
fn check_locales(c: &mut Checker, locales: &[String]) -> bool {
    let mut ok = !locales.is_empty();
    if locales.is_empty() {
        c.fail_at("locales", "must list at least one locale, e.g. [\"zh-CN\", \"en\"]");
    }
    c.each("locales", locales, |c, i, tag| {
        let well_formed = !tag.is_empty()
            && tag.len() <= 35
            && tag
                .split('-')
                .all(|part| !part.is_empty() && part.chars().all(|ch| ch.is_ascii_alphanumeric()));
        if !well_formed {
            ok = false;
            c.fail(message!("must be a BCP 47 language tag such as \"zh-CN\", got \"{tag}\""));
        } else if locales[..i].contains(tag) {
            ok = false;
            c.fail(message!("duplicate locale \"{tag}\""));
        }
    });
    ok
}

fn check_tiers(c: &mut Checker, tiers: &[Tier], locales: &[String]) {
    check_unique(c, "tiers", tiers.iter().map(|t| t.id.as_str()));
    c.each("tiers", tiers, |c, i, tier| {
        check_id(c, "id", &tier.id);
        c.field("name", |c| check_text(c, locales, &tier.name));
        check_range(c, "threshold", tier.threshold, 0, MAX_AMOUNT);
        if i > 0 {
            let previous = tiers[i - 1].threshold;
            c.require("threshold", tier.threshold > previous, || {
                message!("must be greater than tiers[{}].threshold ({previous})", i - 1)
            });
        }
        check_multiplier(c, "earnMultiplierPercent", tier.earn_multiplier_percent);
        c.each("benefits", &tier.benefits, |c, _, text| check_text(c, locales, text));
    });
}

fn kind_name(kind: RewardKind) -> &'static str {
    match kind {
        RewardKind::AmountOff => "amountOff",
        RewardKind::PercentOff => "percentOff",
        RewardKind::FreeShipping => "freeShipping",
        RewardKind::FreeProduct => "freeProduct",
    }
}

impl EarnRules {
    fn check(&self, c: &mut Checker, locales: &[String]) {
        c.field("rate", |c| {
            check_range(c, "points", self.rate.points, 0, 1_000_000);
            check_range(c, "perAmount", self.rate.per_amount, 1, 1_000_000_000);
        });
        check_unique(c, "bonuses", self.bonuses.iter().map(|b| b.id.as_str()));
        c.each("bonuses", &self.bonuses, |c, _, bonus| {
            check_id(c, "id", &bonus.id);
            c.field("name", |c| check_text(c, locales, &bonus.name));
            c.field("appliesTo", |c| check_match(c, &bonus.applies_to, true));
            if let Some(m) = bonus.multiplier_percent {
                check_multiplier(c, "multiplierPercent", m);
            }
            if let Some(extra) = bonus.extra_points_per_unit {
                check_range(c, "extraPointsPerUnit", extra, 0, 1_000_000);
            }
            if bonus.multiplier_percent.is_none() && bonus.extra_points_per_unit.is_none() {
                c.fail("must set multiplierPercent, extraPointsPerUnit or both");
            }
        });
        check_unique(c, "campaigns", self.campaigns.iter().map(|b| b.id.as_str()));
        c.each("campaigns", &self.campaigns, |c, _, campaign| {
            check_id(c, "id", &campaign.id);
            c.field("name", |c| check_text(c, locales, &campaign.name));
            check_instant(c, "startsAt", campaign.starts_at);
            check_instant(c, "endsAt", campaign.ends_at);
            c.require("endsAt", campaign.ends_at > campaign.starts_at, || {
                message!("must be after startsAt ({})", campaign.starts_at)
            });
            check_multiplier(c, "multiplierPercent", campaign.multiplier_percent);
            if let Some(scope) = &campaign.applies_to {
                c.field("appliesTo", |c| check_match(c, scope, true));
            }
        });
        c.field("exclusions", |c| check_match(c, &self.exclusions, false));
        if let Some(cap) = self.max_points_per_order {
            check_range(c, "maxPointsPerOrder", cap, 1, MAX_AMOUNT);
        }
        if let Some(minimum) = self.minimum_order {
            check_range(c, "minimumOrder", minimum, 0, MAX_AMOUNT);
        }
    }
}

impl PointsLifecycle {
    fn check(&self, c: &mut Checker) {
        check_range(c, "pendingDays", i64::from(self.pending_days), 0, 365);
        check_range(c, "expiringSoonDays", i64::from(self.expiring_soon_days), 0, 365);
        c.field("expiry", |c| match self.expiry.mode {
            ExpiryMode::Never => c.require("months", self.expiry.months == 0, || {
                "must be absent when mode is \"never\"".into()
            }),
            _ => check_range(c, "months", i64::from(self.expiry.months), 1, 120),
        });
    }
}

impl TierQualification {
    fn check(&self, c: &mut Checker) {
        c.field("period", |c| {
            let p = &self.period;
            match p.kind {
                TierPeriodKind::Lifetime => {}
                TierPeriodKind::RollingMonths => check_range(c, "months", i64::from(p.months), 1, 120),
                TierPeriodKind::CalendarYear => match (p.starts_at, p.ends_at) {
                    (Some(start), Some(end)) => {
                        check_instant(c, "startsAt", start);
                        check_instant(c, "endsAt", end);
                        c.require("endsAt", end > start, || message!("must be after startsAt ({start})"));
                    }
                    _ => c.fail("calendarYear needs startsAt and endsAt: the current period in UTC seconds"),
                },
            }
        });
        c.each("sources", &self.sources, |c, i, source| {
            if self.sources[..i].contains(source) {
                c.fail("duplicate source");
            }
        });
    }
}

fn check_multiplier(c: &mut Checker, field: &'static str, percent: u32) {
    check_range(c, field, i64::from(percent), 100, i64::from(MAX_MULTIPLIER_PERCENT));
}

fn check_instant(c: &mut Checker, field: &'static str, t: Timestamp) {
    if let Err(message) = check_timestamp(t) {
        c.fail_at(field, message);
    }
}

fn check_match(c: &mut Checker, m: &ProductMatch, required: bool) {
    if required && m.is_empty() {
        c.fail("must list at least one of productIds, categories, tags");
    }
    c.each("productIds", &m.product_ids, |c, _, id| check_id_here(c, id));
    c.each("categories", &m.categories, |c, _, id| check_id_here(c, id));
    c.each("tags", &m.tags, |c, _, id| check_id_here(c, id));
}

/// Checks a text has every locale; does nothing when `locales` is empty (the list itself was wrong).
pub(crate) fn check_text(c: &mut Checker, locales: &[String], text: &LocalizedText) {
    if locales.is_empty() {
        return;
    }
    for locale in locales {
        match text.get(locale) {
            None => c.fail(message!("missing the \"{locale}\" text")),
            Some(s) if s.trim().is_empty() => c.key(locale, |c| c.fail("must not be empty")),
            Some(s) if s.len() > 2000 => c.key(locale, |c| c.fail("must be at most 2000 bytes long")),
            Some(_) => {}
        }
    }
    for key in text.keys() {
        if !locales.contains(key) {
            c.key(key, |c| c.fail(message!("locale \"{key}\" is not in the program's locales")));
        }
    }
}
