//! Instants and calendar arithmetic in UTC.
//!
//! Every instant in this crate is a [`Timestamp`]: whole seconds since the Unix epoch, UTC. Nothing here
//! reads the clock; callers pass `now` in. Boundaries that depend on the shop's time zone (campaign windows,
//! calendar-year tier periods, birthdays) are resolved by the backend into UTC instants inside the program it
//! sends, so the widget carries no time-zone database. "N months later" is computed on the UTC calendar.

/// Seconds since 1970-01-01T00:00:00Z.
pub type Timestamp = i64;

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// Latest instant accepted anywhere (year 9999), which also catches milliseconds passed by mistake.
pub const MAX_TIMESTAMP: Timestamp = 253_402_300_799;

/// Checks that `t` is a plausible instant in seconds; a value in milliseconds gets a hint.
pub fn check_timestamp(t: Timestamp) -> Result<(), String> {
    if t > MAX_TIMESTAMP {
        Err(message!("must be Unix seconds, got {t}, which looks like milliseconds"))
    } else if t < 0 {
        Err(message!("must be Unix seconds after 1970, got {t}"))
    } else {
        Ok(())
    }
}

/// Days since the epoch to (year, month 1..=12, day 1..=31), proleptic Gregorian.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// (year, month, day) to days since the epoch, proleptic Gregorian.
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub(crate) fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// The same wall-clock time `months` later on the UTC calendar (negative goes back), with the day clamped
/// to the end of a shorter month: 31 January plus one month is 28 or 29 February.
pub fn add_months(t: Timestamp, months: i32) -> Timestamp {
    let days = t.div_euclid(DAY);
    let secs = t.rem_euclid(DAY);
    let (year, month, day) = civil_from_days(days);
    let index = year * 12 + i64::from(month) - 1 + i64::from(months);
    let (new_year, new_month) = (index.div_euclid(12), (index.rem_euclid(12) + 1) as u32);
    let new_day = day.min(days_in_month(new_year, new_month));
    days_from_civil(new_year, new_month, new_day) * DAY + secs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(t: Timestamp, months: i32, expected: Timestamp) {
        assert_eq!(add_months(t, months), expected, "add_months({t}, {months})");
    }

    #[test]
    fn months_are_added_on_the_utc_calendar() {
        // 2024-01-31T10:00:00Z + 1 month = 2024-02-29T10:00:00Z (leap year, clamped).
        check(1_706_695_200, 1, 1_709_200_800);
        // 2023-01-31 + 1 month = 2023-02-28.
        check(1_675_159_200, 1, 1_677_578_400);
        // 2024-03-15T00:00:00Z - 12 months = 2023-03-15T00:00:00Z.
        check(1_710_460_800, -12, 1_678_838_400);
        // The epoch + 0 months is itself.
        check(0, 0, 0);
        // 2025-12-01 + 1 month crosses the year: 2026-01-01.
        check(1_764_547_200, 1, 1_767_225_600);
    }

    #[test]
    fn civil_round_trip_over_four_centuries() {
        for days in (-200_000..200_000).step_by(97) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn milliseconds_are_caught() {
        assert!(check_timestamp(1_700_000_000).is_ok());
        assert!(check_timestamp(1_700_000_000_000).unwrap_err().contains("milliseconds"));
        assert!(check_timestamp(-1).is_err());
    }
}
