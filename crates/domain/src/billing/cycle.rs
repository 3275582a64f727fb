//! Monthly billing cycles anchored on a day of the month.

use super::calendar::{Day, civil_saturating};
use crate::error::FieldError;
use serde::Serialize;

/// The day of the month on which every monthly cycle starts, 1..=28 so that
/// every month, February included, has that day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct AnchorDay(u8);

impl AnchorDay {
    /// The smallest anchor.
    pub const MIN: u8 = 1;
    /// The largest anchor: the last day every month has.
    pub const MAX: u8 = 28;

    /// Accept `v` when it is 1..=28; the error names `field` (X2).
    pub fn parse(field: &str, v: i64) -> Result<AnchorDay, FieldError> {
        match u8::try_from(v) {
            Ok(d) if (Self::MIN..=Self::MAX).contains(&d) => Ok(AnchorDay(d)),
            _ => Err(FieldError::new(
                field,
                "must be a day of the month from 1 to 28",
            )),
        }
    }

    /// As [`AnchorDay::parse`], from form text (surrounding whitespace ignored).
    pub fn parse_str(field: &str, raw: &str) -> Result<AnchorDay, FieldError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        match s.parse::<i64>() {
            Ok(v) => Self::parse(field, v),
            Err(_) => Err(FieldError::new(
                field,
                "must be a day of the month from 1 to 28",
            )),
        }
    }

    /// The anchor for a subscription that starts on `day`: its day of the
    /// month, or 28 for the 29th, 30th and 31st.
    pub fn for_start(day: Day) -> AnchorDay {
        let dom = day.day_of_month().min(u32::from(Self::MAX));
        AnchorDay(u8::try_from(dom).unwrap_or(Self::MAX))
    }

    /// The day of the month, 1..=28.
    pub fn get(self) -> u8 {
        self.0
    }
}

/// One billing period: the days `start..end` (end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Cycle {
    /// The first day of the cycle.
    pub start: Day,
    /// The first day after the cycle (exclusive end).
    pub end: Day,
}

impl Cycle {
    /// The number of days in the cycle; 0 when `end` is not after `start`.
    pub fn days(self) -> i64 {
        self.start.days_until(self.end).max(0)
    }

    /// Whether `day` lies in the cycle.
    pub fn contains(self, day: Day) -> bool {
        self.start <= day && day < self.end
    }
}

/// The monthly cycle, anchored on `anchor`, that contains `day`: from the
/// latest anchor day on or before `day` to the same day of the next month.
///
/// Example: anchor 15 and 2026-11-14 give 2026-10-15..2026-11-15.
pub fn cycle_containing(anchor: AnchorDay, day: Day) -> Cycle {
    let (y, m, d) = day.to_civil();
    let a = u32::from(anchor.get());
    let (sy, sm) = if d >= a { (y, m) } else { previous_month(y, m) };
    let (ey, em) = next_month(sy, sm);
    Cycle {
        start: civil_saturating(sy, sm, a),
        end: civil_saturating(ey, em, a),
    }
}

/// How an account is billed: monthly, on an anchor day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct BillingCycle {
    anchor: AnchorDay,
}

impl BillingCycle {
    /// Monthly cycles starting on `anchor` each month.
    pub fn monthly(anchor: AnchorDay) -> BillingCycle {
        BillingCycle { anchor }
    }

    /// The anchor day of the month.
    pub fn anchor(self) -> AnchorDay {
        self.anchor
    }

    /// The cycle that contains `day` (see [`cycle_containing`]).
    pub fn cycle_containing(self, day: Day) -> Cycle {
        cycle_containing(self.anchor, day)
    }

    /// The cycle that follows `cycle`: it starts on `cycle.end`.
    pub fn next(self, cycle: Cycle) -> Cycle {
        cycle_containing(self.anchor, cycle.end)
    }

    /// The cycle that precedes `cycle`: it ends on `cycle.start`.
    pub fn previous(self, cycle: Cycle) -> Cycle {
        cycle_containing(self.anchor, cycle.start.plus_days(-1))
    }
}

fn next_month(y: i64, m: u32) -> (i64, u32) {
    if m >= 12 {
        (y.saturating_add(1), 1)
    } else {
        (y, m + 1)
    }
}

fn previous_month(y: i64, m: u32) -> (i64, u32) {
    if m <= 1 {
        (y.saturating_sub(1), 12)
    } else {
        (y, m - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(y: i64, m: u32, d: u32) -> Day {
        Day::from_civil(y, m, d).unwrap_or(Day(i64::MIN))
    }

    fn anchor(v: i64) -> AnchorDay {
        AnchorDay::parse("anchor", v).unwrap_or(AnchorDay(1))
    }

    #[test]
    fn anchors_are_days_every_month_has() {
        assert_eq!(AnchorDay::parse("anchor", 1).map(AnchorDay::get), Ok(1));
        assert_eq!(AnchorDay::parse("anchor", 28).map(AnchorDay::get), Ok(28));
        for bad in [0, 29, 31, -1, 256 + 5] {
            let e = AnchorDay::parse("anchor", bad).err();
            assert_eq!(e.map(|e| e.field), Some("anchor".to_owned()), "{bad}");
        }
        assert_eq!(
            AnchorDay::parse_str("anchor", " 15 ").map(AnchorDay::get),
            Ok(15)
        );
        assert!(AnchorDay::parse_str("anchor", "fifteen").is_err());
        assert!(AnchorDay::parse_str("anchor", "").is_err());
        assert_eq!(AnchorDay::for_start(day(2026, 1, 31)).get(), 28);
        assert_eq!(AnchorDay::for_start(day(2026, 1, 9)).get(), 9);
    }

    #[test]
    fn cycles_run_from_anchor_to_anchor() {
        let c = cycle_containing(anchor(1), day(2026, 11, 15));
        assert_eq!(
            (c.start, c.end, c.days()),
            (day(2026, 11, 1), day(2026, 12, 1), 30)
        );
        let c = cycle_containing(anchor(15), day(2026, 11, 14));
        assert_eq!((c.start, c.end), (day(2026, 10, 15), day(2026, 11, 15)));
        let c = cycle_containing(anchor(15), day(2026, 11, 15));
        assert_eq!((c.start, c.end), (day(2026, 11, 15), day(2026, 12, 15)));
        let c = cycle_containing(anchor(28), day(2027, 1, 5));
        assert_eq!((c.start, c.end), (day(2026, 12, 28), day(2027, 1, 28)));
        let c = cycle_containing(anchor(10), day(2024, 2, 20));
        assert_eq!(
            (c.start, c.end, c.days()),
            (day(2024, 2, 10), day(2024, 3, 10), 29)
        );
        assert!(c.contains(day(2024, 2, 10)) && !c.contains(day(2024, 3, 10)));
    }

    #[test]
    fn next_and_previous_cycles_touch() {
        let billing = BillingCycle::monthly(anchor(5));
        let c = billing.cycle_containing(day(2026, 12, 20));
        let n = billing.next(c);
        assert_eq!((n.start, n.end), (day(2027, 1, 5), day(2027, 2, 5)));
        assert_eq!(billing.previous(n), c);
        assert_eq!(billing.anchor().get(), 5);
    }

    proptest! {
        #[test]
        fn every_day_lies_in_exactly_one_cycle(a in 1i64..=28, days in -200_000i64..200_000) {
            let billing = BillingCycle::monthly(anchor(a));
            let c = billing.cycle_containing(Day(days));
            prop_assert!(c.contains(Day(days)));
            prop_assert!((28..=31).contains(&c.days()));
            prop_assert_eq!(i64::from(c.start.day_of_month()), a);
            prop_assert_eq!(i64::from(c.end.day_of_month()), a);
            let n = billing.next(c);
            prop_assert_eq!(n.start, c.end);
            prop_assert_eq!(billing.cycle_containing(c.end), n);
            prop_assert_eq!(billing.cycle_containing(c.end.plus_days(-1)), c);
            prop_assert_eq!(billing.previous(n), c);
        }
    }
}
