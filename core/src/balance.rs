//! The shopper's points balance derived from the ledger: available, pending (with the date each becomes
//! available), and expiring soon.
//!
//! The ledger is the list of facts (earned, redeemed, reversed, adjusted); the balance is computed from it at
//! `now` with the program's lifecycle rules, so pending and expiry need no scheduled job and the server and
//! widget agree. Spending uses the points that expire soonest first. A reversal of points already spent can
//! leave the balance negative; later earnings pay that back first, and nothing can be redeemed until the
//! balance is positive again.

use crate::problems::{Checker, Problems};
use crate::program::{EarnSource, ExpiryMode, Program};
use crate::time::{add_months, check_timestamp, Timestamp, DAY};
use serde::Serialize;

wire_enum! {
    /// What a ledger entry records.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub enum LedgerKind {
        /// Points earned (`points` > 0). Purchase and referral points stay pending for the program's return
        /// window.
        Earn,
        /// Points spent on a reward (`points` > 0 is the amount spent).
        Redeem,
        /// Points taken back after a refund or cancellation (`points` > 0 is the amount taken back).
        Reverse,
        /// A manual correction by the shop, either sign.
        Adjust,
    }
}

wire_struct! {
    lenient;
    /// One fact in a shopper's points ledger.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct LedgerEntry {
        /// When it happened, UTC seconds.
        pub at: Timestamp,
        /// What it records.
        pub kind: LedgerKind,
        /// How many points (see [`LedgerKind`] for the sign).
        pub points: i64,
        /// For earnings: where the points came from (default purchase).
        pub source: EarnSource = purchase(),
        /// The order an earning or reversal belongs to; a reversal takes from that order's points first.
        pub order_id: Option<String>,
    }
}

fn purchase() -> EarnSource {
    EarnSource::Purchase
}

wire_struct! {
    lenient;
    /// Points that become available at a date.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct DatedPoints {
        /// How many.
        pub points: i64,
        /// When, UTC seconds.
        pub at: Timestamp,
    }
}

wire_struct! {
    lenient;
    /// The balance as a shopper sees it.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct BalanceView {
        /// Points that can be spent now; negative when a reversal took back points already spent.
        pub available: i64,
        /// Points not yet available, earliest first, with the date each becomes available.
        pub pending: Vec<DatedPoints>,
        /// Available points that expire within the program's "expiring soon" window, earliest first.
        pub expiring: Vec<DatedPoints>,
        /// Points that have expired so far.
        pub expired: i64,
        /// Points earned in all (before spending, reversals and expiry).
        pub lifetime_earned: i64,
    }
}

struct Lot {
    available_at: Timestamp,
    expires_at: Option<Timestamp>,
    remaining: i64,
    order_id: Option<String>,
}

/// Computes the balance at `now` from the ledger (entries in any order; those after `now` are ignored).
pub fn balance(program: &Program, ledger: &[LedgerEntry], now: Timestamp) -> Result<BalanceView, Problems> {
    check_ledger(ledger, now)?;
    let lifecycle = &program.lifecycle;
    let months = i32::try_from(lifecycle.expiry.months).unwrap_or(i32::MAX);
    let pending_seconds = i64::from(lifecycle.pending_days) * DAY;

    let mut entries: Vec<&LedgerEntry> = ledger.iter().filter(|e| e.at <= now).collect();
    crate::sort::sort_by_key(&mut entries, |e| e.at);

    let mut state = State { lots: Vec::new(), debt: 0, expired: 0, last_purchase: None };
    let mut lifetime_earned: i64 = 0;
    for entry in entries {
        state.expire(program, entry.at);
        state.settle(entry.at);
        match entry.kind {
            LedgerKind::Earn | LedgerKind::Adjust if entry.points >= 0 => {
                let is_purchase = entry.kind == LedgerKind::Earn && entry.source == EarnSource::Purchase;
                let is_referral = entry.kind == LedgerKind::Earn && entry.source == EarnSource::Referral;
                if entry.kind == LedgerKind::Earn {
                    lifetime_earned = lifetime_earned.saturating_add(entry.points);
                }
                if is_purchase {
                    state.last_purchase = Some(entry.at);
                }
                let available_at = if is_referral {
                    // A referral's reward hangs on the friend's order: it waits out that order's return
                    // window, whatever `pendingDays` says, because a refund inside it takes the reward back.
                    crate::referral::referral_available_at(program, entry.at)
                } else if is_purchase {
                    entry.at + pending_seconds
                } else {
                    entry.at
                };
                let expires_at = match lifecycle.expiry.mode {
                    ExpiryMode::AfterEarning => Some(add_months(entry.at, months)),
                    _ => None,
                };
                state.lots.push(Lot {
                    available_at,
                    expires_at,
                    remaining: entry.points,
                    order_id: entry.order_id.clone(),
                });
            }
            LedgerKind::Earn | LedgerKind::Adjust => state.spend(-entry.points, entry.at, None),
            LedgerKind::Redeem => state.spend(entry.points, entry.at, None),
            LedgerKind::Reverse => state.spend(entry.points, entry.at, entry.order_id.as_deref()),
        }
        state.settle(entry.at);
    }
    state.expire(program, now);
    state.settle(now);

    // Each entry is in range, but enough of them pass i64: totals saturate rather than wrap (a wrapped total
    // could even turn negative), here and wherever lots are added up.
    let available_lots = state
        .lots
        .iter()
        .filter(|l| l.available_at <= now)
        .fold(0i64, |sum, l| sum.saturating_add(l.remaining));
    let mut pending: Vec<DatedPoints> = Vec::new();
    let mut expiring: Vec<DatedPoints> = Vec::new();
    let soon = now + i64::from(lifecycle.expiring_soon_days) * DAY;
    let inactivity_deadline = match lifecycle.expiry.mode {
        ExpiryMode::AfterInactivity => state.last_purchase.map(|t| add_months(t, months)),
        _ => None,
    };
    for lot in state.lots.iter().filter(|l| l.remaining > 0) {
        if lot.available_at > now {
            push_dated(&mut pending, lot.remaining, lot.available_at);
        } else if let Some(at) = lot.expires_at.or(inactivity_deadline).filter(|at| *at <= soon) {
            push_dated(&mut expiring, lot.remaining, at);
        }
    }
    crate::sort::sort_by_key(&mut pending, |p| p.at);
    crate::sort::sort_by_key(&mut expiring, |p| p.at);
    Ok(BalanceView {
        available: available_lots - state.debt,
        pending,
        expiring,
        expired: state.expired,
        lifetime_earned,
    })
}

fn push_dated(list: &mut Vec<DatedPoints>, points: i64, at: Timestamp) {
    match list.iter_mut().find(|d| d.at == at) {
        Some(existing) => existing.points = existing.points.saturating_add(points),
        None => list.push(DatedPoints { points, at }),
    }
}

fn check_ledger(ledger: &[LedgerEntry], now: Timestamp) -> Result<(), Problems> {
    let mut c = Checker::default();
    if let Err(message) = check_timestamp(now) {
        c.fail_at("now", message);
    }
    c.each("ledger", ledger, |c, _, entry| {
        if let Err(message) = check_timestamp(entry.at) {
            c.fail_at("at", message);
        }
        let bound = crate::program::MAX_AMOUNT;
        let ok = match entry.kind {
            LedgerKind::Adjust => (-bound..=bound).contains(&entry.points),
            _ => (0..=bound).contains(&entry.points),
        };
        if !ok {
            c.fail_at("points", format!("out of range for this kind of entry: {}", entry.points));
        }
    });
    c.finish()
}

struct State {
    lots: Vec<Lot>,
    debt: i64,
    expired: i64,
    last_purchase: Option<Timestamp>,
}

impl State {
    /// Drops what has expired by `t`.
    fn expire(&mut self, program: &Program, t: Timestamp) {
        let months = i32::try_from(program.lifecycle.expiry.months).unwrap_or(i32::MAX);
        let inactivity_deadline = match program.lifecycle.expiry.mode {
            ExpiryMode::AfterInactivity => self.last_purchase.map(|p| add_months(p, months)),
            _ => None,
        };
        for lot in &mut self.lots {
            let lot_deadline = lot.expires_at.or(inactivity_deadline.filter(|d| lot.available_at <= *d));
            if lot_deadline.is_some_and(|d| d <= t) && lot.remaining > 0 {
                self.expired = self.expired.saturating_add(lot.remaining);
                lot.remaining = 0;
            }
        }
        self.lots.retain(|l| l.remaining > 0);
    }

    /// Pays any debt from points available at `t`.
    fn settle(&mut self, t: Timestamp) {
        if self.debt > 0 {
            let paid = self.take_available(self.debt, t);
            self.debt -= paid;
        }
    }

    /// Takes `amount` points: from the named order's lot first (pending or not), then from available points
    /// that expire soonest; what is missing becomes debt.
    fn spend(&mut self, amount: i64, t: Timestamp, order_id: Option<&str>) {
        let mut left = amount;
        if let Some(order) = order_id {
            for lot in self.lots.iter_mut().filter(|l| l.order_id.as_deref() == Some(order)) {
                let take = left.min(lot.remaining);
                lot.remaining -= take;
                left -= take;
            }
        }
        left -= self.take_available(left, t);
        self.debt = self.debt.saturating_add(left);
        self.lots.retain(|l| l.remaining > 0);
    }

    fn take_available(&mut self, amount: i64, t: Timestamp) -> i64 {
        let mut order: Vec<usize> =
            (0..self.lots.len()).filter(|i| self.lots[*i].available_at <= t).collect();
        crate::sort::sort_by_key(&mut order, |i| {
            (self.lots[*i].expires_at.unwrap_or(Timestamp::MAX), self.lots[*i].available_at)
        });
        let mut taken = 0;
        for i in order {
            let take = (amount - taken).min(self.lots[i].remaining);
            self.lots[i].remaining -= take;
            taken += take;
            if taken == amount {
                break;
            }
        }
        taken
    }
}
