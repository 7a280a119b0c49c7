//! The shopper's state as the backend sends it to the widget (`GET /v1/customers/me`) and the answer to a
//! redemption (`POST /v1/redemptions`): the contract's read model, declared once so that the reference server
//! writes exactly what the widget reads.
//!
//! Decoding is lenient (members a newer backend adds are ignored) but typed: a wrong-typed field is a problem
//! with its path, never a silent default.

use crate::balance::{BalanceView, LedgerKind};
use crate::program::EarnSource;
use crate::rewards::RewardsOverview;
use crate::tier::{TierProgress, TierReach};
use crate::time::Timestamp;
use serde::Serialize;

wire_struct! {
    lenient;
    /// Everything the widget shows about one signed-in shopper, computed by the backend at `as_of`.
    #[derive(Clone, Debug, PartialEq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ShopperState {
        /// The shop's id for the shopper.
        pub customer_id: String,
        /// The program version the numbers were computed with (0 when the backend does not version).
        pub program_version: i64 = 0,
        /// Available, pending and expiring points.
        pub balance: BalanceView,
        /// Tier standing; none when the program has no tiers.
        pub tier: Option<TierProgress>,
        /// What the balance can buy now.
        pub rewards: RewardsOverview,
        /// The shopper's referral code and how many friends it brought.
        pub referral: Option<ReferralStanding>,
        /// The birthday the shopper gave (`MM-DD`), if any.
        pub birthday: Option<String>,
        /// Recent ledger activity, newest first.
        pub activity: Vec<Activity> = Vec::new(),
        /// Discount codes from redemptions, newest first (so a code is never lost to a reload).
        pub codes: Vec<IssuedCode> = Vec::new(),
        /// When the backend computed this, UTC seconds.
        pub as_of: Timestamp,
    }
}

wire_struct! {
    lenient;
    /// What a product page's shell reads of a [`ShopperState`]: whose it is, the available balance and the
    /// current tier (which earns its multiplier). Everything else is passed over unread; a state the full
    /// decoder accepts reads here to the same values (a property test holds it).
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct ShopperGlance {
        /// The shop's id for the shopper.
        pub customer_id: String,
        /// The balance's available points.
        pub balance: BalanceGlance,
        /// The current tier, if any.
        pub tier: Option<TierGlance>,
    }
}

wire_struct! {
    lenient;
    /// What a recommendations list reads of a [`ShopperState`]: whose it is, the tier standing and what the
    /// balance can buy (the loyalty boosts and the points of each product). Everything else is passed over
    /// unread; a state the full decoder accepts reads here to the same values (a property test holds it).
    #[derive(Clone, Debug, PartialEq)]
    pub struct ShopperStanding {
        /// The shop's id for the shopper.
        pub customer_id: String,
        /// Where the shopper stands in the tiers; none when the program has no tiers.
        pub tier: Option<TierReach>,
        /// What the balance can buy.
        pub rewards: RewardsOverview,
    }
}

impl From<&ShopperState> for ShopperStanding {
    fn from(state: &ShopperState) -> ShopperStanding {
        ShopperStanding {
            customer_id: state.customer_id.clone(),
            tier: state.tier.as_ref().map(TierReach::from),
            rewards: state.rewards.clone(),
        }
    }
}

wire_struct! {
    lenient;
    /// A [`BalanceView`]'s available points.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct BalanceGlance {
        /// Points that can be spent now.
        pub available: i64,
    }
}

wire_struct! {
    lenient;
    /// A [`TierProgress`]'s current tier.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct TierGlance {
        /// The current tier's id; none below the first threshold.
        pub current_tier_id: Option<String>,
    }
}

impl From<&ShopperState> for ShopperGlance {
    fn from(state: &ShopperState) -> ShopperGlance {
        ShopperGlance {
            customer_id: state.customer_id.clone(),
            balance: BalanceGlance { available: state.balance.available },
            tier: state.tier.as_ref().map(|t| TierGlance { current_tier_id: t.current_tier_id.clone() }),
        }
    }
}

wire_struct! {
    lenient;
    /// The shopper's referral code and its results.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ReferralStanding {
        /// The code friends use.
        pub code: String,
        /// Friends who signed up with it.
        pub invited: i64 = 0,
        /// Friends whose first order earned the reward.
        pub rewarded: i64 = 0,
        /// Points the shopper has earned from referrals (reversals deducted).
        pub points_earned: i64 = 0,
    }
}

wire_struct! {
    lenient;
    /// One line of recent activity.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Activity {
        /// When, UTC seconds.
        pub at: Timestamp,
        /// What happened.
        pub kind: LedgerKind,
        /// Points (see [`LedgerKind`] for the sign).
        pub points: i64,
        /// Where earned points came from.
        pub source: Option<EarnSource>,
        /// The order, if any.
        pub order_id: Option<String>,
        /// What it was for, as the shopper may read it.
        pub reason: Option<String>,
    }
}

wire_struct! {
    lenient;
    /// A discount code a redemption produced.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct IssuedCode {
        /// The code to enter at checkout.
        pub code: String,
        /// The reward it is for.
        pub reward_id: String,
        /// When it was issued, UTC seconds.
        pub created_at: Timestamp,
        /// Whether an order has used it.
        pub used: bool = false,
    }
}

wire_struct! {
    lenient;
    /// The backend's answer to a redemption: the points are spent and the code is ready.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Redemption {
        /// The redemption's id.
        pub id: String,
        /// The reward redeemed.
        pub reward_id: String,
        /// Points spent.
        pub cost: i64,
        /// The discount code to enter at checkout.
        pub code: String,
        /// When, UTC seconds.
        pub created_at: Timestamp,
    }
}
