//! The birthday gift: the date a shopper gives (`MM-DD`, no year: a shop has no need of a shopper's age), and
//! when the program's yearly points for it are due.
//!
//! A birthday is given once. Its gift falls on the day itself (29 February is 28 February in other years) at
//! 00:00 UTC, once per calendar year, and only for a date the shop knew at least `minDaysKnown` days before
//! it came: typing in today's date earns nothing until next year.

use crate::program::Program;
use crate::time::{civil_from_days, days_from_civil, days_in_month, Timestamp, DAY};
use std::fmt;

/// A day of the year, as a shopper's birthday: `MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MonthDay {
    month: u32,
    day: u32,
}

impl MonthDay {
    /// Reads `MM-DD` (two digits each), accepting any day that exists in some year, 29 February included.
    ///
    /// ```
    /// let birthday = loyalty_core::MonthDay::parse("02-29").unwrap();
    /// assert_eq!((birthday.month(), birthday.day()), (2, 29));
    /// assert!(loyalty_core::MonthDay::parse("02-30").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<MonthDay, String> {
        let digits =
            |s: &str| (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?;
        let parts = text.split_once('-').and_then(|(m, d)| Some((digits(m)?, digits(d)?)));
        let Some((month, day)) = parts else {
            return Err(format!("must be a month and day as MM-DD, such as \"08-31\", got \"{text}\""));
        };
        MonthDay::new(month, day).ok_or_else(|| format!("is not a day of the year: \"{text}\""))
    }

    /// The day `month`/`day`, if it exists in some year (so 29 February does).
    pub fn new(month: u32, day: u32) -> Option<MonthDay> {
        ((1..=12).contains(&month) && day >= 1 && day <= days_in_month(2000, month))
            .then_some(MonthDay { month, day })
    }

    /// The day of the year `t` falls on, in UTC.
    pub fn of(t: Timestamp) -> MonthDay {
        let (_, month, day) = civil_from_days(t.div_euclid(DAY));
        MonthDay { month, day }
    }

    /// 1 to 12.
    pub fn month(self) -> u32 {
        self.month
    }

    /// 1 to 31.
    pub fn day(self) -> u32 {
        self.day
    }

    /// 00:00 UTC of this day in `year`; 29 February falls on 28 February in a common year.
    pub fn in_year(self, year: i64) -> Timestamp {
        days_from_civil(year, self.month, self.day.min(days_in_month(year, self.month))) * DAY
    }
}

impl fmt::Display for MonthDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}-{:02}", self.month, self.day)
    }
}

/// A birthday gift that is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BirthdayAward {
    /// The birthday it celebrates, 00:00 UTC: also the ledger entry's instant, one per year.
    pub at: Timestamp,
    /// Points given.
    pub points: i64,
}

/// The birthday gift due at `now`, if any: the program has one, the shop knew the date `minDaysKnown` days
/// before the latest birthday that has begun, and that birthday's gift was not given yet (`last_award` is the
/// instant of the latest gift). A missed gift stays due until the next birthday begins.
///
/// ```
/// use loyalty_core::{birthday_award, MonthDay, Program};
/// let program = Program::from_json(r#"{"version": 1, "currency": "CNY", "locales": ["en"],
///     "name": {"en": "Club"}, "earn": {"rate": {"points": 1, "perAmount": 100}},
///     "birthday": {"points": 200}}"#).unwrap();
/// let august_31 = MonthDay::parse("08-31").unwrap();
/// let known_since = 1_735_689_600; // 2025-01-01
/// let now = 1_756_641_600; // 2025-08-31T12:00Z
/// let award = birthday_award(&program, august_31, known_since, None, now).unwrap();
/// assert_eq!((award.at, award.points), (1_756_598_400, 200)); // 2025-08-31T00:00Z
/// assert_eq!(birthday_award(&program, august_31, known_since, Some(award.at), now), None);
/// ```
pub fn birthday_award(
    program: &Program,
    birthday: MonthDay,
    known_since: Timestamp,
    last_award: Option<Timestamp>,
    now: Timestamp,
) -> Option<BirthdayAward> {
    let gift = program.birthday.as_ref()?;
    // The latest birthday that has begun: last year's until this year's comes, so a gift whose day passed
    // unseen (a sweep that ran late, a shopper who reads their state on 2 January) is still given.
    let year = civil_from_days(now.div_euclid(DAY)).0;
    let at =
        Some(birthday.in_year(year)).filter(|at| *at <= now).unwrap_or_else(|| birthday.in_year(year - 1));
    let known_in_time = known_since.saturating_add(i64::from(gift.min_days_known) * DAY) <= at;
    let given = last_award.is_some_and(|last| last >= at);
    (known_in_time && !given).then_some(BirthdayAward { at, points: gift.points })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_days_are_read_strictly() {
        for (text, expected) in [("01-01", Some((1, 1))), ("12-31", Some((12, 31))), ("02-29", Some((2, 29)))]
        {
            assert_eq!(MonthDay::parse(text).ok().map(|b| (b.month(), b.day())), expected, "{text}");
            assert_eq!(MonthDay::parse(text).map(|b| b.to_string()).as_deref(), Ok(text));
        }
        for bad in [
            "",
            "8-31",
            "08-31 ",
            "13-01",
            "00-10",
            "04-31",
            "02-30",
            "08/31",
            "+8-31",
            "1999-08-31",
            "٠٨-٣١",
        ] {
            assert!(MonthDay::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn february_29_falls_on_the_28th_in_common_years() {
        let leap_day = MonthDay::parse("02-29").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(leap_day.in_year(2024), 1_709_164_800); // 2024-02-29
        assert_eq!(leap_day.in_year(2025), 1_740_700_800); // 2025-02-28
    }
}
