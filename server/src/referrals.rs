//! Referral rewards on the server: a referred friend's first qualifying paid order rewards the referrer and
//! the friend (the rules are loyalty-core's `referral_reward`), a refund within the return window that takes
//! the order below the minimum reverses both, and the referrer's standing counts what their code brought.
//! Every step runs inside the order webhook's transaction, so a replayed webhook changes nothing.

use crate::db::{self, NewEntry};
use loyalty_core::{
    referral_available_at, referral_cap_since, referral_refund_reverses, referral_reward, same_person,
    EarnSource, LedgerEntry, LedgerKind, Program, QualifyingEvent, ReferralStanding, ReferredOrder,
};
use serde_json::{json, Value};
use sqlx::SqliteConnection;

/// Settles the referral of `friend` on their paid order, if they were referred and it was not settled yet.
/// Returns what happened, for the webhook's response (`null` when the friend was not referred).
pub async fn on_paid(
    tx: &mut SqliteConnection,
    program: &Program,
    friend: &str,
    order_id: &str,
    paid_at: i64,
    spend: i64,
    now: i64,
) -> Result<Value, sqlx::Error> {
    if program.config().referral.is_none() {
        return Ok(Value::Null);
    }
    let referrer: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT r.id, r.email, f.email FROM customers f JOIN customers r ON r.referral_code = f.referred_by
         WHERE f.id = ?",
    )
    .bind(friend)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((referrer, referrer_email, friend_email)) = referrer else {
        return Ok(Value::Null);
    };
    let settled: Option<String> =
        sqlx::query_scalar("SELECT status FROM referral_rewards WHERE friend_id = ?")
            .bind(friend)
            .fetch_optional(&mut *tx)
            .await?;
    let in_period: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM referral_rewards
         WHERE referrer_id = ? AND status = 'rewarded' AND referrer_points > 0 AND created_at >= ?",
    )
    .bind(&referrer)
    .bind(referral_cap_since(program, now))
    .fetch_one(&mut *tx)
    .await?;
    let order = ReferredOrder {
        first_order: settled.is_none(),
        spend,
        same_person: same_person(
            referrer_email.as_deref().unwrap_or(""),
            friend_email.as_deref().unwrap_or(""),
        ),
        referrer_rewards_in_period: u32::try_from(in_period).unwrap_or(u32::MAX),
    };
    let reward = referral_reward(program, &order);
    let refusal = reward.refusal.map(|r| db::wire_name(&r));
    let answer = json!({
        "referrerPoints": reward.referrer_points,
        "friendPoints": reward.friend_points,
        "refused": refusal,
    });
    if !reward.settles() {
        return Ok(answer);
    }
    let status = if reward.referrer_points + reward.friend_points > 0 { "rewarded" } else { "refused" };
    let row: i64 = sqlx::query_scalar(
        "INSERT INTO referral_rewards (friend_id, referrer_id, order_id, paid_at, referrer_points, friend_points,
         refusal, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING rowid",
    )
    .bind(friend)
    .bind(&referrer)
    .bind(order_id)
    .bind(paid_at)
    .bind(reward.referrer_points)
    .bind(reward.friend_points)
    .bind(&refusal)
    .bind(status)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    // The referrer's entry names the reward, not the friend's order (which is not the referrer's business),
    // so that a reversal takes back exactly these points, pending or not.
    let referrer_key = format!("referral-{row}");
    let qualifies_at = referral_available_at(program, paid_at);
    for (customer, points, order) in [
        (referrer.as_str(), reward.referrer_points, referrer_key.as_str()),
        (friend, reward.friend_points, order_id),
    ] {
        append(tx, customer, LedgerKind::Earn, points, order, (paid_at, qualifies_at), now).await?;
    }
    Ok(answer)
}

/// Reverses the referral rewards of the order if a refund at `now` leaves it below the minimum within the
/// return window of `program` (in effect at the payment), while the reward is still pending under `current`. Returns the points taken back from each, for the webhook's response.
pub async fn on_refund(
    tx: &mut SqliteConnection,
    program: &Program,
    current: &Program,
    order_id: &str,
    spend_left: i64,
    now: i64,
) -> Result<Value, sqlx::Error> {
    let row: Option<(i64, String, String, i64, i64, i64)> = sqlx::query_as(
        "SELECT rowid, friend_id, referrer_id, paid_at, referrer_points, friend_points FROM referral_rewards
         WHERE order_id = ? AND status = 'rewarded'",
    )
    .bind(order_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((row, friend, referrer, paid_at, referrer_points, friend_points)) = row else {
        return Ok(Value::Null);
    };
    if !referral_refund_reverses(program, current, paid_at, now, spend_left) {
        return Ok(Value::Null);
    }
    sqlx::query("UPDATE referral_rewards SET status = 'reversed', reversed_at = ? WHERE friend_id = ?")
        .bind(now)
        .bind(&friend)
        .execute(&mut *tx)
        .await?;
    let referrer_key = format!("referral-{row}");
    // The reversal's qualifying event is dated with the reward's own, so the two cancel at the same instant.
    let qualifies_at = referral_available_at(program, paid_at);
    for (customer, points, order) in [
        (referrer.as_str(), referrer_points, referrer_key.as_str()),
        (friend.as_str(), friend_points, order_id),
    ] {
        append(tx, customer, LedgerKind::Reverse, points, order, (now, qualifies_at), now).await?;
    }
    Ok(json!({ "referrerPoints": -referrer_points, "friendPoints": -friend_points }))
}

/// A referral ledger entry at `at.0` and its qualifying event at `at.1` (referral points count toward tiers by
/// default). The qualifying event is dated when the reward can be spent (`referral_available_at`): until then a
/// refund can take it back, so it must not lift the shopper's tier either (an order priced at the higher tier
/// meanwhile would keep that tier's bonus after the reversal).
async fn append(
    tx: &mut SqliteConnection,
    customer: &str,
    kind: LedgerKind,
    points: i64,
    order: &str,
    (at, qualifies_at): (i64, i64),
    now: i64,
) -> Result<(), sqlx::Error> {
    if points <= 0 {
        return Ok(());
    }
    let entry =
        LedgerEntry { at, kind, points, source: EarnSource::Referral, order_id: Some(order.to_owned()) };
    db::append_ledger(&mut *tx, NewEntry { customer, entry, reason: None, actor: None }, now).await?;
    let sign = if kind == LedgerKind::Reverse { -1 } else { 1 };
    let event = QualifyingEvent {
        at: qualifies_at,
        source: EarnSource::Referral,
        spend: 0,
        points: sign * points,
        orders: 0,
    };
    db::append_qualifying(&mut *tx, customer, &event).await
}

/// The shopper's referral standing: their code, friends who signed up with it, friends whose order
/// rewarded them (reversed ones not counted), and the points that earned them.
pub async fn standing(
    conn: &mut SqliteConnection,
    customer: &str,
    code: String,
) -> Result<ReferralStanding, sqlx::Error> {
    let invited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE referred_by = ?")
        .bind(&code)
        .fetch_one(&mut *conn)
        .await?;
    let (rewarded, points_earned): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COALESCE(SUM(referrer_points), 0) FROM referral_rewards
         WHERE referrer_id = ? AND status = 'rewarded' AND referrer_points > 0",
    )
    .bind(customer)
    .fetch_one(&mut *conn)
    .await?;
    Ok(ReferralStanding { code, invited, rewarded, points_earned })
}
