//! Calendar days in UTC, counted from 1970-01-01, with the civil (proleptic
//! Gregorian) calendar computed by Howard Hinnant's `days_from_civil` and
//! `civil_from_days` algorithms. Pure arithmetic: no clock, no time zones.

use crate::error::FieldError;
use crate::time::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Days from 0000-03-01 (the start of Hinnant's era 0) to 1970-01-01.
const DAYS_0000_03_01_TO_EPOCH: i128 = 719_468;
/// Days in one 400-year era of the Gregorian calendar.
const DAYS_PER_ERA: i128 = 146_097;

/// One calendar day in UTC: the number of days since 1970-01-01 (day 0).
///
/// Ordered and hashable; shown and parsed as ISO 8601 `YYYY-MM-DD`, and
/// (de)serialized as that string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i64);

impl Day {
    /// 1970-01-01.
    pub const EPOCH: Day = Day(0);

    /// The day with this civil date, or `None` when the month is not 1..=12,
    /// the day does not exist in that month, or the date lies beyond the
    /// range of `i64` days.
    pub fn from_civil(year: i64, month: u32, day: u32) -> Option<Day> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        i64::try_from(days_from_civil(i128::from(year), month, day))
            .ok()
            .map(Day)
    }

    /// The civil date `(year, month 1..=12, day 1..=31)` of this day.
    pub fn to_civil(self) -> (i64, u32, u32) {
        civil_from_days(self.0)
    }

    /// The day (UTC) on which the instant `at` falls; instants before the
    /// epoch round down to the earlier day.
    pub fn from_timestamp(at: Timestamp) -> Day {
        Day(at.millis().div_euclid(Timestamp::MILLIS_PER_DAY))
    }

    /// The first instant of this day (00:00:00.000 UTC), saturating at the
    /// range of `Timestamp`.
    pub fn start(self) -> Timestamp {
        Timestamp(self.0.saturating_mul(Timestamp::MILLIS_PER_DAY))
    }

    /// The day `n` days later (earlier when `n` is negative), saturating.
    pub fn plus_days(self, n: i64) -> Day {
        Day(self.0.saturating_add(n))
    }

    /// Days from `self` to `later` (negative when `later` is earlier), saturating.
    pub fn days_until(self, later: Day) -> i64 {
        later.0.saturating_sub(self.0)
    }

    /// The day of the month, 1..=31.
    pub fn day_of_month(self) -> u32 {
        self.to_civil().2
    }

    /// Parse an ISO 8601 calendar date `YYYY-MM-DD` (years 0000..=9999),
    /// surrounding whitespace ignored. Errors name `field` (X2).
    pub fn parse(field: &str, raw: &str) -> Result<Day, FieldError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        let b = s.as_bytes();
        let shape_ok = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        let number = |from: usize, to: usize| -> u32 {
            b[from..to]
                .iter()
                .fold(0, |n, c| n * 10 + u32::from(c - b'0'))
        };
        if !shape_ok {
            return Err(FieldError::new(
                field,
                "must be a date like 2026-11-01 (YYYY-MM-DD)",
            ));
        }
        let (year, month, day) = (number(0, 4), number(5, 7), number(8, 10));
        Day::from_civil(i64::from(year), month, day)
            .ok_or_else(|| FieldError::new(field, format!("{s} is not a date in the calendar")))
    }
}

impl From<Timestamp> for Day {
    fn from(at: Timestamp) -> Self {
        Day::from_timestamp(at)
    }
}

impl std::fmt::Display for Day {
    /// `YYYY-MM-DD`; years outside 0..=9999 use the ISO 8601 expanded form
    /// with a sign (`+10000-01-01`, `-0001-12-31`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (y, m, d) = self.to_civil();
        if (0..=9999).contains(&y) {
            write!(f, "{y:04}-{m:02}-{d:02}")
        } else {
            write!(f, "{y:+05}-{m:02}-{d:02}")
        }
    }
}

impl std::str::FromStr for Day {
    type Err = FieldError;

    /// As [`Day::parse`] with the field named `date`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Day::parse("date", s)
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Day::parse("date", &s).map_err(serde::de::Error::custom)
    }
}

/// Whether `year` is a leap year of the proleptic Gregorian calendar.
pub fn is_leap_year(year: i64) -> bool {
    year.rem_euclid(4) == 0 && (year.rem_euclid(100) != 0 || year.rem_euclid(400) == 0)
}

/// The number of days in `month` (1..=12) of `year`; 0 for any other month.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// The day of a valid civil date, clamped to the range of `Day` for dates
/// beyond it (hundreds of quadrillions of years away). For the cycle
/// arithmetic, whose months and days are always valid.
pub(crate) fn civil_saturating(year: i64, month: u32, day: u32) -> Day {
    let days = days_from_civil(i128::from(year), month, day);
    Day(days.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}

/// Hinnant's `days_from_civil`: days since 1970-01-01 of a valid civil date.
/// Computed in `i128` so that no `i64` year can overflow.
fn days_from_civil(year: i128, month: u32, day: u32) -> i128 {
    let (m, d) = (i128::from(month), i128::from(day));
    // Years start in March, so that the leap day is the last day of a year.
    let y = if m <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let mp = if m > 2 { m - 3 } else { m + 9 }; // March = 0 .. February = 11
    let doy = (153 * mp + 2) / 5 + d - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * DAYS_PER_ERA + doe - DAYS_0000_03_01_TO_EPOCH
}

/// Hinnant's `civil_from_days`: the civil date of a day since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = i128::from(days) + DAYS_0000_03_01_TO_EPOCH;
    let era = z.div_euclid(DAYS_PER_ERA);
    let doe = z - era * DAYS_PER_ERA; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let y = era * 400 + yoe + i128::from(m <= 2);
    // |y| <= |days| / 365 + 1, so it always fits; m and d are small.
    (y as i64, m as u32, d as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_dates_match_the_civil_calendar() {
        assert_eq!(Day::from_civil(1970, 1, 1), Some(Day(0)));
        assert_eq!(Day::from_civil(1969, 12, 31), Some(Day(-1)));
        assert_eq!(Day::from_civil(2000, 3, 1), Some(Day(11_017)));
        assert_eq!(Day::from_civil(2026, 11, 1), Some(Day(20_758)));
        assert_eq!(Day(20_758).to_civil(), (2026, 11, 1));
        assert_eq!(
            Day::from_civil(2024, 2, 29).map(Day::to_civil),
            Some((2024, 2, 29))
        );
        assert_eq!(Day::from_civil(2026, 2, 29), None);
        assert_eq!(Day::from_civil(1900, 2, 29), None);
        assert_eq!(
            Day::from_civil(2000, 2, 29).map(|d| d.day_of_month()),
            Some(29)
        );
        assert_eq!(Day::from_civil(2026, 13, 1), None);
        assert_eq!(Day::from_civil(2026, 4, 31), None);
        assert_eq!(Day::from_civil(2026, 4, 0), None);
    }

    #[test]
    fn timestamps_fall_on_their_utc_day() {
        let nov1 = Day(20_758);
        assert_eq!(Day::from_timestamp(nov1.start()), nov1);
        assert_eq!(
            Day::from_timestamp(nov1.start().plus_millis(-1)),
            nov1.plus_days(-1)
        );
        assert_eq!(
            Day::from_timestamp(nov1.plus_days(1).start().plus_millis(-1)),
            nov1
        );
        assert_eq!(Day::from(Timestamp(-1)), Day(-1));
    }

    #[test]
    fn dates_show_and_parse_as_iso_8601() {
        assert_eq!(Day(20_758).to_string(), "2026-11-01");
        assert_eq!(
            Day::from_civil(5, 1, 2).map(|d| d.to_string()),
            Some("0005-01-02".into())
        );
        assert_eq!(
            Day::from_civil(-1, 12, 31).map(|d| d.to_string()),
            Some("-0001-12-31".into())
        );
        assert_eq!(
            Day::from_civil(10_000, 1, 1).map(|d| d.to_string()),
            Some("+10000-01-01".into())
        );
        assert_eq!(Day::parse("since", " 2026-11-01 "), Ok(Day(20_758)));
        assert_eq!("2026-11-01".parse::<Day>(), Ok(Day(20_758)));
        for bad in [
            "",
            "2026-1-01",
            "2026/11/01",
            "26-11-01",
            "2026-11-01x",
            "+026-11-01",
            "２026-11-01",
        ] {
            assert_eq!(
                Day::parse("since", bad).map_err(|e| e.field),
                Err("since".to_owned()),
                "{bad:?}"
            );
        }
        let e = Day::parse("since", "2026-02-30").err().map(|e| e.message);
        assert_eq!(
            e.as_deref(),
            Some("2026-02-30 is not a date in the calendar")
        );
    }

    proptest! {
        #[test]
        fn civil_dates_round_trip(days in any::<i64>()) {
            let (y, m, d) = Day(days).to_civil();
            prop_assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
            prop_assert_eq!(Day::from_civil(y, m, d), Some(Day(days)));
        }

        #[test]
        fn consecutive_days_are_consecutive_dates(days in -10_000_000i64..10_000_000) {
            let (y, m, d) = Day(days).to_civil();
            let next = Day(days + 1).to_civil();
            let expected = if d < days_in_month(y, m) {
                (y, m, d + 1)
            } else if m < 12 {
                (y, m + 1, 1)
            } else {
                (y + 1, 1, 1)
            };
            prop_assert_eq!(next, expected);
        }

        #[test]
        fn iso_text_round_trips(days in -719_528i64..2_932_897) {
            // 0000-01-01 ..= 9999-12-31
            let text = Day(days).to_string();
            prop_assert_eq!(Day::parse("date", &text), Ok(Day(days)));
        }
    }
}
