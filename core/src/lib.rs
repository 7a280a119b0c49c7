//! loyalty-core: the rules of a shop's loyalty program, as pure functions.
//!
//! The same code runs in the shopper's browser (compiled to WebAssembly, to show "earn 120 points") and on
//! the server (natively, to award those 120 points), so what is shown and what is awarded never disagree.
//! This crate knows nothing of browsers, HTTP or storage; time is passed in as UTC seconds, money is integer
//! minor units with an ISO 4217 currency, points are integers.
//!
//! ```
//! use loyalty_core::{points_for_product, EarnContext, Program, ProductOffer, Currency};
//!
//! let program = Program::from_json(r#"{
//!     "version": 1, "currency": "CNY", "locales": ["zh-CN", "en"],
//!     "name": {"zh-CN": "会员俱乐部", "en": "Members club"},
//!     "earn": {"rate": {"points": 1, "perAmount": 100}}
//! }"#).unwrap();
//! let offer = ProductOffer {
//!     product_id: "tea-1".into(), variant_id: None, categories: vec![], tags: vec![],
//!     price: 12_900, currency: Currency::CNY, exchange_rate: None, quantity: 1,
//! };
//! let earned = points_for_product(&program, &offer, &EarnContext { now: 1_700_000_000, tier_id: None }).unwrap();
//! assert_eq!(earned.points, 129); // ¥129.00 at 1 point per ¥1
//! ```

#[macro_use]
pub mod json;
// First among the rest, so that its `message!` is in scope in every module after it.
#[macro_use]
mod problems;
mod balance;
mod birthday;
mod catalog;
mod columns;
mod earn;
mod money;
mod program;
mod qr;
mod recommend;
mod referral;
mod rewards;
mod shopper;
mod sort;
mod tier;
pub mod time;

pub use balance::{balance, BalanceView, DatedPoints, LedgerEntry, LedgerKind};
pub use birthday::{birthday_award, BirthdayAward, MonthDay};
pub use catalog::{
    candidate_set, check_link, default_neighbour_weight, neighbours, parse_catalog, popularity_ranks,
    CatalogProduct, CANDIDATES, MAX_CATALOG_LIMIT, MAX_NEIGHBOURS, MAX_POPULARITY,
};
pub use columns::{index_from_columns, CatalogColumns, CatalogShown, COLUMNS_FORMAT};
pub use earn::{
    points_for_cart, points_for_product, points_to_reverse, qualifying_spend, Cart, CartLine, EarnComponent,
    EarnComponentKind, EarnContext, EarnResult, ProductOffer, MAX_LINES, MAX_QUANTITY,
};
pub use json::{FromJson, Json, ReadJson};
pub use money::{Currency, ExchangeRate, Money};
pub use problems::{Checker, Problem, Problems};
pub use program::{
    BirthdayGift, Bonus, Campaign, EarnBasis, EarnConfig, EarnProgram, EarnRate, EarnRules, EarnSource,
    EarnView, Expiry, ExpiryMode, LocalizedText, Named, PointsLifecycle, ProductMatch, Program,
    ProgramConfig, ProgramGlance, RateGlance, Reward, RewardKind, Rounding, RoundingScope, Tier, TierMetric,
    TierPeriod, TierPeriodKind, TierQualification, MAX_AMOUNT, MAX_MULTIPLIER_PERCENT, PROGRAM_VERSION,
};
pub use qr::{qr_svg, QrSvg, QUIET_ZONE};
pub use recommend::{
    earning, recommend, CatalogIndex, HistoryEvent, HistoryKind, IndexBuilder, Loyalty, Ranking, Reason,
    ReasonKind, RecommendContext, RecommendRequest, Recommendation,
};
pub use referral::{
    landing_code, referral_available_at, referral_cap_since, referral_capture_allowed, referral_link,
    referral_refund_reverses, referral_reversed, referral_reward, same_person, share_intent, QrLevel,
    ReferralCode, ReferralRefusal, ReferralReward, ReferralTerms, ReferredOrder, ShareChannel, ShareIntent,
    CODE_ALPHABET, CODE_LENGTH,
};
pub use rewards::{check_redemption, rewards_overview, NextReward, RedeemError, RewardsOverview};
pub use shopper::{
    Activity, BalanceGlance, IssuedCode, Redemption, ReferralStanding, ShopperGlance, ShopperStanding,
    ShopperState, TierGlance,
};
pub use tier::{
    retained_tier, tier_progress, QualifyingEvent, TierActivity, TierKeep, TierProgress, TierReach,
};
pub use time::Timestamp;
