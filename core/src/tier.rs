//! VIP tier standing: the current tier, what is left to reach the next, and what keeps the current one.
//!
//! The input is the shopper's qualifying activity (one event per paid order, refund or earning), so the
//! widget and the server derive the same standing from the same facts. Time is passed in.

use crate::problems::{Checker, Problems};
use crate::program::{EarnSource, Program, Tier, TierMetric, TierPeriodKind};
use crate::time::{add_months, check_timestamp, Timestamp};
use serde::Serialize;

wire_struct! {
    lenient;
    /// One fact that may count toward a tier: a paid order, a refund, or points earned from some source.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct QualifyingEvent {
        /// When it happened, UTC seconds.
        pub at: Timestamp,
        /// Where it came from; `points` count only for the program's qualifying sources.
        pub source: EarnSource,
        /// Spend in base-currency minor units (negative for a refund).
        pub spend: i64 = Default::default(),
        /// Points earned (negative when reversed).
        pub points: i64 = Default::default(),
        /// Orders: 1 for a paid order, -1 for a cancelled one, 0 otherwise.
        pub orders: i64 = Default::default(),
    }
}

wire_struct! {
    lenient;
    /// The shopper's activity as tier standing needs it.
    #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct TierActivity {
        /// Qualifying events, in any order.
        pub events: Vec<QualifyingEvent> = Vec::new(),
        /// A tier reached in the previous period and kept through this one (calendar-year and rolling
        /// programs), as the backend recorded it.
        pub retained_tier_id: Option<String>,
    }
}

wire_struct! {
    lenient;
    /// What keeps the current tier.
    #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct TierKeep {
        /// Metric still needed (0 when the tier is already secured for the next period).
        pub needed: i64,
        /// By when, UTC seconds.
        pub by: Timestamp,
    }
}

wire_struct! {
    lenient;
    /// Where the shopper stands.
    #[derive(Clone, Debug, PartialEq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct TierProgress {
        /// What the thresholds count.
        pub metric: TierMetric,
        /// The metric counted over the current qualifying period.
        pub value: i64,
        /// The current tier's id; none below the first threshold.
        pub current_tier_id: Option<String>,
        /// The next tier's id; none at the top.
        pub next_tier_id: Option<String>,
        /// Metric left to reach the next tier (0 at the top).
        pub remaining: i64,
        /// From the current threshold to the next, in [0, 1]; 1 at the top.
        pub progress: f64,
        /// When the current qualifying period ends (calendar year), if it does.
        pub period_ends_at: Option<Timestamp>,
        /// What keeps the current tier; none when it cannot be lost (lifetime) or there is no tier.
        pub keep: Option<TierKeep>,
    }
}

wire_struct! {
    lenient;
    /// What ranking reads of a [`TierProgress`]: the current tier (its multiplier), the next one and what is
    /// left to reach it. A module that ranks reads this projection of the shopper's state, passing the rest
    /// over; the whole standing gives one through `From`.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct TierReach {
        /// What the thresholds count.
        pub metric: TierMetric,
        /// The current tier's id; none below the first threshold.
        pub current_tier_id: Option<String>,
        /// The next tier's id; none at the top.
        pub next_tier_id: Option<String>,
        /// Metric left to reach the next tier (0 at the top).
        pub remaining: i64,
    }
}

impl From<&TierProgress> for TierReach {
    fn from(progress: &TierProgress) -> TierReach {
        TierReach {
            metric: progress.metric,
            current_tier_id: progress.current_tier_id.clone(),
            next_tier_id: progress.next_tier_id.clone(),
            remaining: progress.remaining,
        }
    }
}

/// Computes tier standing at `now`.
///
/// ```
/// use loyalty_core::{tier_progress, Program, TierActivity};
/// let program = Program::from_json(r#"{"version": 1, "currency": "CNY", "locales": ["en"],
///   "name": {"en": "Club"}, "earn": {"rate": {"points": 1, "perAmount": 100}},
///   "tiers": [{"id": "silver", "name": {"en": "Silver"}, "threshold": 0},
///             {"id": "gold", "name": {"en": "Gold"}, "threshold": 100000}]}"#).unwrap();
/// let progress = tier_progress(&program, &TierActivity::default(), 1_700_000_000).unwrap();
/// assert_eq!(progress.current_tier_id.as_deref(), Some("silver"));
/// assert_eq!(progress.remaining, 100000); // spend ¥1,000 more to reach Gold
/// ```
pub fn tier_progress(
    program: &Program,
    activity: &TierActivity,
    now: Timestamp,
) -> Result<TierProgress, Problems> {
    check_activity(program, activity, now)?;
    let q = &program.tier_qualification;
    let tiers = &program.tiers;
    let (from, until) = window(program, now);
    let in_window = |e: &&QualifyingEvent| e.at >= from && e.at <= until;
    let value = activity
        .events
        .iter()
        .filter(in_window)
        .map(|e| metric_value(program, e))
        .fold(0_i64, i64::saturating_add);

    let by_value = tiers.iter().rposition(|t| t.threshold <= value);
    let retained = match q.period.kind {
        TierPeriodKind::Lifetime => None,
        _ => activity.retained_tier_id.as_deref().and_then(|id| tiers.iter().position(|t| t.id == id)),
    };
    let current = by_value.max(retained);
    let next = match current {
        Some(i) => tiers.get(i + 1),
        None => tiers.first(),
    };
    let floor = current.map_or(0, |i| tiers[i].threshold);
    let (remaining, progress) = match next {
        None => (0, 1.0),
        Some(next) => {
            let remaining = (next.threshold - value).max(0);
            let span = (next.threshold - floor).max(1);
            let done = (value - floor).clamp(0, span);
            (remaining, done as f64 / span as f64)
        }
    };
    let current_tier: Option<&Tier> = current.map(|i| &tiers[i]);
    let keep = current_tier
        .filter(|t| t.threshold > 0)
        .and_then(|tier| keep_tier(program, activity, tier, value, now));
    Ok(TierProgress {
        metric: q.metric,
        value,
        current_tier_id: current_tier.map(|t| t.id.clone()),
        next_tier_id: next.map(|t| t.id.clone()),
        remaining,
        progress,
        period_ends_at: match q.period.kind {
            TierPeriodKind::CalendarYear => q.period.ends_at,
            _ => None,
        },
        keep,
    })
}

/// The tier reached in the previous qualifying period, which a calendar-year program keeps through the
/// current one: the previous period is the year before the current `startsAt`. Other periods keep nothing
/// (lifetime never loses a tier; a rolling window has no "previous period").
///
/// The server passes this as [`TierActivity::retained_tier_id`].
pub fn retained_tier(program: &Program, events: &[QualifyingEvent]) -> Option<String> {
    let period = &program.tier_qualification.period;
    if period.kind != TierPeriodKind::CalendarYear {
        return None;
    }
    let start = period.starts_at?;
    let previous_start = add_months(start, -12);
    let value = events
        .iter()
        .filter(|e| e.at >= previous_start && e.at < start)
        .map(|e| metric_value(program, e))
        .fold(0_i64, i64::saturating_add);
    program.tiers.iter().rev().find(|t| t.threshold <= value && t.threshold > 0).map(|t| t.id.clone())
}

fn check_activity(program: &Program, activity: &TierActivity, now: Timestamp) -> Result<(), Problems> {
    let mut c = Checker::default();
    if let Err(message) = check_timestamp(now) {
        c.fail_at("now", message);
    }
    c.each("events", &activity.events, |c, _, event| {
        if let Err(message) = check_timestamp(event.at) {
            c.fail_at("at", message);
        }
    });
    if let Some(id) = &activity.retained_tier_id {
        if program.tier(id).is_none() {
            c.fail_at("retainedTierId", message!("unknown tier \"{id}\""));
        }
    }
    c.finish()
}

/// The qualifying window at `now`, both ends inclusive.
fn window(program: &Program, now: Timestamp) -> (Timestamp, Timestamp) {
    let period = &program.tier_qualification.period;
    match period.kind {
        TierPeriodKind::Lifetime => (Timestamp::MIN, now),
        TierPeriodKind::CalendarYear => {
            (period.starts_at.unwrap_or(Timestamp::MIN), period.ends_at.map_or(now, |end| now.min(end - 1)))
        }
        TierPeriodKind::RollingMonths => (add_months(now, -months(program)) + 1, now),
    }
}

fn months(program: &Program) -> i32 {
    i32::try_from(program.tier_qualification.period.months).unwrap_or(i32::MAX)
}

fn metric_value(program: &Program, event: &QualifyingEvent) -> i64 {
    let q = &program.tier_qualification;
    match q.metric {
        TierMetric::Spend => event.spend,
        TierMetric::Orders => event.orders,
        TierMetric::PointsEarned if q.sources.contains(&event.source) => event.points,
        TierMetric::PointsEarned => 0,
    }
}

/// What keeps `tier`: for a calendar year, reaching its threshold again by the period's end; for a rolling
/// window, topping up before old activity ages out and drops the value below the threshold.
fn keep_tier(
    program: &Program,
    activity: &TierActivity,
    tier: &Tier,
    value: i64,
    now: Timestamp,
) -> Option<TierKeep> {
    match program.tier_qualification.period.kind {
        TierPeriodKind::Lifetime => None,
        TierPeriodKind::CalendarYear => {
            let by = program.tier_qualification.period.ends_at?;
            Some(TierKeep { needed: (tier.threshold - value).max(0), by })
        }
        TierPeriodKind::RollingMonths => {
            let n = months(program);
            let from = add_months(now, -n) + 1;
            let mut events: Vec<&QualifyingEvent> =
                activity.events.iter().filter(|e| e.at >= from && e.at <= now).collect();
            crate::sort::sort_by_key(&mut events, |e| e.at);
            // Walk forward through the instants at which events leave the window.
            // Events at the same instant leave together.
            let mut remaining_value = value;
            for (i, event) in events.iter().enumerate() {
                remaining_value -= metric_value(program, event);
                let last_at_this_instant = events.get(i + 1).is_none_or(|next| next.at != event.at);
                if last_at_this_instant && remaining_value < tier.threshold {
                    return Some(TierKeep {
                        needed: tier.threshold - remaining_value,
                        by: add_months(event.at, n),
                    });
                }
            }
            // Below the threshold already (kept through retention): needed now, by the window's edge.
            Some(TierKeep { needed: (tier.threshold - value).max(0), by: now })
        }
    }
}
