-- Referral rewards: one row per referred friend whose paid order settled the referral (rewarded, or refused
-- as self-referral), so a friend is rewarded once, ever; a refund in the return window reverses it.
CREATE TABLE referral_rewards (
    friend_id TEXT PRIMARY KEY,
    referrer_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    paid_at INTEGER NOT NULL,
    referrer_points INTEGER NOT NULL,
    friend_points INTEGER NOT NULL,
    refusal TEXT,                  -- loyalty_core::ReferralRefusal, when something was withheld
    status TEXT NOT NULL,          -- rewarded | refused | reversed
    created_at INTEGER NOT NULL,
    reversed_at INTEGER
);
CREATE INDEX referral_rewards_referrer ON referral_rewards (referrer_id, created_at);
CREATE INDEX referral_rewards_order ON referral_rewards (order_id);
