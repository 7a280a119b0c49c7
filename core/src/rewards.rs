//! What the balance can buy: affordable rewards, the next one within reach, and the redemption check the
//! server runs before it spends points.

use crate::program::{Program, Reward};
use serde::Serialize;

wire_struct! {
    lenient;
    /// The rewards as a shopper with some balance sees them.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct RewardsOverview {
        /// Ids of the rewards the shopper can redeem now, cheapest first.
        pub affordable: Vec<String>,
        /// The cheapest reward not yet affordable and the points still missing for it.
        pub next: Option<NextReward>,
        /// True when the balance is negative (points reversed after being spent): nothing can be redeemed.
        pub blocked: bool,
    }
}

wire_struct! {
    lenient;
    /// The next reward within reach.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct NextReward {
        /// Its id.
        pub reward_id: String,
        /// Points still missing.
        pub missing: i64,
    }
}

/// Why a redemption is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedeemError {
    /// No reward has this id.
    UnknownReward(String),
    /// The balance is below the cost.
    NotEnoughPoints {
        /// Points still missing.
        missing: i64,
    },
    /// The balance is negative.
    NegativeBalance,
}

impl std::fmt::Display for RedeemError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RedeemError::UnknownReward(id) => write!(f, "unknown reward \"{id}\""),
            RedeemError::NotEnoughPoints { missing } => write!(f, "not enough points: {missing} more needed"),
            RedeemError::NegativeBalance => {
                f.write_str("the balance is negative; redemptions resume once it is positive")
            }
        }
    }
}

impl std::error::Error for RedeemError {}

/// Lists what `available` points can buy now and what comes next.
pub fn rewards_overview(program: &Program, available: i64) -> RewardsOverview {
    let mut rewards: Vec<&Reward> = program.rewards.iter().collect();
    crate::sort::sort_by_key(&mut rewards, |r| r.cost);
    let blocked = available < 0;
    let affordable = if blocked {
        Vec::new()
    } else {
        rewards.iter().filter(|r| r.cost <= available).map(|r| r.id.clone()).collect()
    };
    let next = rewards
        .iter()
        .find(|r| r.cost > available.max(0))
        .map(|r| NextReward { reward_id: r.id.clone(), missing: r.cost - available.max(0) });
    RewardsOverview { affordable, next, blocked }
}

/// Checks that `available` points can buy the reward `reward_id`, and returns it.
pub fn check_redemption<'p>(
    program: &'p Program,
    reward_id: &str,
    available: i64,
) -> Result<&'p Reward, RedeemError> {
    let reward = program.reward(reward_id).ok_or_else(|| RedeemError::UnknownReward(reward_id.to_owned()))?;
    if available < 0 {
        Err(RedeemError::NegativeBalance)
    } else if available < reward.cost {
        Err(RedeemError::NotEnoughPoints { missing: reward.cost - available })
    } else {
        Ok(reward)
    }
}
