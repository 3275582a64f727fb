//! The arithmetic of the reports (D2), free of IO: the period a report
//! covers (local dates of the account's time zone, turned into instants),
//! the median and 90th percentile of speed to lead, and the stretches of
//! constant UTC offset that let the store count leads per local day with
//! integer arithmetic on an index range.

use crate::Timestamp;
use crate::error::{FieldError, ValidationErrors};
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// The longest period a report covers, in days.
pub const MAX_DAYS: i64 = 366;
/// The period when none is asked for: the last 7 days, today included.
pub const DEFAULT_DAYS: i64 = 7;

const MS_PER_DAY: i64 = Timestamp::MILLIS_PER_DAY;

/// A run of whole local days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

fn jiff_ts(t: Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(t.0).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

fn ts(t: jiff::Timestamp) -> Timestamp {
    Timestamp(t.as_millisecond())
}

/// The local date of `now` in `zone`.
pub fn today_in(zone: &TimeZone, now: Timestamp) -> Date {
    jiff_ts(now).to_zoned(zone.clone()).date()
}

/// The first instant of the local `day` in `zone` (its midnight, or the
/// first instant after a gap that swallows midnight).
pub fn start_of(day: Date, zone: &TimeZone) -> Timestamp {
    day.to_zoned(zone.clone())
        .and_then(|z| z.start_of_day())
        .map(|z| ts(z.timestamp()))
        .unwrap_or(Timestamp(0))
}

/// Days since 1970-01-01 of a date (negative before it).
pub fn day_number(day: Date) -> i64 {
    day.to_zoned(TimeZone::UTC)
        .map(|z| z.timestamp().as_millisecond().div_euclid(MS_PER_DAY))
        .unwrap_or(0)
}

/// The date `n` days after 1970-01-01.
pub fn date_of_day_number(n: i64) -> Date {
    jiff::Timestamp::from_millisecond(n.saturating_mul(MS_PER_DAY))
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(TimeZone::UTC)
        .date()
}

fn blank(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

fn parse_date(field: &str, s: &str) -> Result<Date, FieldError> {
    s.trim()
        .parse::<Date>()
        .map_err(|_| FieldError::new(field, format!("{s:?} is not a date like 2026-12-24")))
}

impl Period {
    /// The period of `from` and `to` (`YYYY-MM-DD`, both included); a
    /// missing `to` is `today`, a missing `from` the 7 days up to `to`.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        today: Date,
    ) -> Result<Period, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let to_day = match blank(to) {
            Some(s) => errs.take(parse_date("to", s)),
            None => Some(today),
        };
        let from_day = match blank(from) {
            Some(s) => errs.take(parse_date("from", s)),
            None => {
                to_day.and_then(|t| t.checked_sub(jiff::Span::new().days(DEFAULT_DAYS - 1)).ok())
            }
        };
        errs.into_result()?;
        let (Some(from), Some(to)) = (from_day, to_day) else {
            return Err(ValidationErrors::single("from", "is required"));
        };
        if to < from {
            return Err(ValidationErrors::single(
                "to",
                "must be on or after the first day (from)",
            ));
        }
        let p = Period { from, to };
        if p.len() > MAX_DAYS {
            return Err(ValidationErrors::single(
                "from",
                format!("the period may cover at most {MAX_DAYS} days"),
            ));
        }
        Ok(p)
    }

    /// How many days it covers.
    pub fn len(&self) -> i64 {
        day_number(self.to) - day_number(self.from) + 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() <= 0
    }

    /// Every day of the period, in order.
    pub fn days(&self) -> Vec<Date> {
        let first = day_number(self.from);
        (first..=day_number(self.to))
            .map(date_of_day_number)
            .collect()
    }

    /// The instants it covers in `zone`: [start of `from`, start of the day after `to`).
    pub fn bounds(&self, zone: &TimeZone) -> (Timestamp, Timestamp) {
        let after = date_of_day_number(day_number(self.to) + 1);
        (start_of(self.from, zone), start_of(after, zone))
    }
}

/// A stretch of time over which the zone's UTC offset does not change:
/// within it, the local day of an instant `t` (in ms) is day number
/// `(t + offset_ms) div 86,400,000`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stretch {
    pub start: Timestamp,
    pub end: Timestamp,
    pub offset_ms: i64,
}

/// [`Stretch`]es that cover [start, end), split where the offset changes
/// (a daylight-saving change: one or two a year in most zones, none in UTC).
pub fn stretches(zone: &TimeZone, start: Timestamp, end: Timestamp) -> Vec<Stretch> {
    let offset = |t: Timestamp| i64::from(zone.to_offset(jiff_ts(t)).seconds()) * 1_000;
    let mut out = Vec::new();
    let mut from = start;
    for tr in zone.following(jiff_ts(start)) {
        let at = ts(tr.timestamp());
        if at >= end {
            break;
        }
        if at > from {
            out.push(Stretch {
                start: from,
                end: at,
                offset_ms: offset(from),
            });
            from = at;
        }
    }
    if from < end {
        out.push(Stretch {
            start: from,
            end,
            offset_ms: offset(from),
        });
    }
    out
}

/// The local day number (see [`day_number`]) of `t` in a stretch.
pub fn local_day_number(t: Timestamp, offset_ms: i64) -> i64 {
    (t.0 + offset_ms).div_euclid(MS_PER_DAY)
}

/// The quantiles the reports give, in tenths: the median and the 90th
/// percentile.
pub const MEDIAN: u32 = 5;
pub const P90: u32 = 9;

/// Where the `tenths`/10 quantile of `n` sorted values lies: between the
/// values of 0-based ranks `lo` and `hi`, `frac` of the way (linear
/// interpolation between the closest ranks, PostgreSQL's `percentile_cont`).
/// Integer arithmetic, so the store can pick the same ranks in SQL:
/// `lo = tenths·(n−1) div 10`, `hi = (tenths·(n−1) + 9) div 10`.
pub fn quantile_ranks(n: u64, tenths: u32) -> Option<(u64, u64, f64)> {
    if n == 0 {
        return None;
    }
    let t = u64::from(tenths.min(10));
    let scaled = t * (n - 1);
    Some((
        scaled / 10,
        scaled.div_ceil(10),
        (scaled % 10) as f64 / 10.0,
    ))
}

/// The `tenths`/10 quantile of `n` sorted values, reading the value of a
/// rank with `at` (see [`quantile_ranks`]).
pub fn quantile_at(n: u64, tenths: u32, at: impl Fn(u64) -> Option<i64>) -> Option<f64> {
    let (lo, hi, frac) = quantile_ranks(n, tenths)?;
    let (a, b) = (at(lo)? as f64, at(hi)? as f64);
    Some(a + (b - a) * frac)
}

/// The `tenths`/10 quantile of sorted values: the median of 1, 2, 3, 4 is
/// 2.5, its 90th percentile 3.7.
pub fn percentile(sorted: &[i64], tenths: u32) -> Option<f64> {
    quantile_at(sorted.len() as u64, tenths, |i| {
        sorted.get(usize::try_from(i).ok()?).copied()
    })
}

/// Speed to lead of a group of leads: how many were contacted, and the
/// median and 90th percentile of the time from arrival to first contact.
#[derive(Debug, Clone, PartialEq)]
pub struct Speed {
    /// Leads of the group that arrived in the period.
    pub leads: i64,
    /// Of those, the ones contacted (the durations counted).
    pub contacted: i64,
    pub median_ms: Option<f64>,
    pub p90_ms: Option<f64>,
}

impl Speed {
    /// The figures of `leads` leads whose contacted ones took `durations` ms.
    pub fn of(leads: i64, mut durations: Vec<i64>) -> Speed {
        durations.sort_unstable();
        Speed {
            leads,
            contacted: durations.len() as i64,
            median_ms: percentile(&durations, MEDIAN),
            p90_ms: percentile(&durations, P90),
        }
    }

    /// The figures from the values of the ranks [`quantile_ranks`] names
    /// (as the store reads them), `(rank, ms)`, of `contacted` durations.
    pub fn of_ranks(leads: i64, contacted: i64, ranks: &[(i64, i64)]) -> Speed {
        let at = |i: u64| {
            ranks
                .iter()
                .find(|(r, _)| u64::try_from(*r).ok() == Some(i))
                .map(|(_, v)| (*v).max(0))
        };
        let n = u64::try_from(contacted).unwrap_or(0);
        Speed {
            leads,
            contacted,
            median_ms: quantile_at(n, MEDIAN, at),
            p90_ms: quantile_at(n, P90, at),
        }
    }
}

/// "2 h 5 min", "12 min", "45 s": a duration as a person reads it.
pub fn duration_words(ms: f64) -> String {
    let s = (ms / 1000.0).round() as i64;
    if s < 60 {
        return format!("{s} s");
    }
    if s < 600 {
        let (m, s) = (s / 60, s % 60);
        return if s == 0 {
            format!("{m} min")
        } else {
            format!("{m} min {s} s")
        };
    }
    let m = (ms / 60_000.0).round() as i64;
    if m < 60 {
        return format!("{m} min");
    }
    let (h, m) = (m / 60, m % 60);
    if h < 48 {
        return if m == 0 {
            format!("{h} h")
        } else {
            format!("{h} h {m} min")
        };
    }
    let (d, h) = (h / 24, h % 24);
    if h == 0 {
        format!("{d} d")
    } else {
        format!("{d} d {h} h")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn r_d2_median_and_p90_interpolate_between_ranks() {
        assert_eq!(percentile(&[], MEDIAN), None);
        assert_eq!(percentile(&[7], P90), Some(7.0));
        assert_eq!(percentile(&[1, 2, 3, 4], MEDIAN), Some(2.5));
        let p90 = percentile(&[1, 2, 3, 4], P90).unwrap();
        assert!((p90 - 3.7).abs() < 1e-9);
        // The ranks the store picks in SQL give the same figures.
        for n in 1..60_i64 {
            let sorted: Vec<i64> = (0..n).map(|i| i * i * 7 % 1000).collect::<Vec<_>>();
            let mut sorted = sorted;
            sorted.sort_unstable();
            let mut ranks = Vec::new();
            for t in [MEDIAN, P90] {
                let (lo, hi, _) = quantile_ranks(n as u64, t).unwrap();
                assert!(hi - lo <= 1 && hi < n as u64);
                ranks.push((lo as i64, sorted[lo as usize]));
                ranks.push((hi as i64, sorted[hi as usize]));
            }
            assert_eq!(
                Speed::of_ranks(n + 2, n, &ranks),
                Speed::of(n + 2, sorted.clone()),
                "n = {n}"
            );
        }
        let s = Speed::of(5, vec![240_000, 60_000, 180_000, 120_000]);
        assert_eq!((s.leads, s.contacted), (5, 4));
        assert_eq!(s.median_ms, Some(150_000.0));
        assert!((s.p90_ms.unwrap() - 222_000.0).abs() < 1e-6);
    }

    #[test]
    fn r_d2_the_period_defaults_to_the_last_7_days_and_names_bad_fields() {
        let today = d("2026-12-08");
        let p = Period::parse(None, None, today).unwrap();
        assert_eq!((p.from, p.to, p.len()), (d("2026-12-02"), today, 7));
        let p = Period::parse(Some("2026-11-01"), Some("2026-11-30"), today).unwrap();
        assert_eq!(p.days().len(), 30);
        assert_eq!(p.days()[29], d("2026-11-30"));
        let field = |r: Result<Period, ValidationErrors>| r.unwrap_err().0[0].field.clone();
        assert_eq!(field(Period::parse(Some("yesterday"), None, today)), "from");
        assert_eq!(field(Period::parse(None, Some("2026-13-01"), today)), "to");
        assert_eq!(
            field(Period::parse(Some("2026-12-05"), Some("2026-12-01"), today)),
            "to"
        );
        assert_eq!(
            field(Period::parse(Some("2020-01-01"), Some("2026-12-01"), today)),
            "from"
        );
    }

    #[test]
    fn r_d2_local_days_follow_the_zone_across_a_dst_change() {
        let ny = TimeZone::get("America/New_York").unwrap();
        // 1 to 3 November 2026: the clocks go back on the 1st at 02:00.
        let p = Period::parse(Some("2026-10-31"), Some("2026-11-02"), d("2026-11-02")).unwrap();
        let (start, end) = p.bounds(&ny);
        // 31 October 00:00 EDT is 04:00 UTC; 3 November 00:00 EST is 05:00 UTC.
        assert_eq!(jiff_ts(start).to_string(), "2026-10-31T04:00:00Z");
        assert_eq!(jiff_ts(end).to_string(), "2026-11-03T05:00:00Z");
        let parts = stretches(&ny, start, end);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].offset_ms, -4 * 3_600_000);
        assert_eq!(parts[1].offset_ms, -5 * 3_600_000);
        assert_eq!((parts[0].start, parts[1].end), (start, end));
        // 1 November 23:30 EST (04:30 UTC on the 2nd) is on the 1st locally.
        let t = ts("2026-11-02T04:30:00Z".parse().unwrap());
        assert_eq!(
            date_of_day_number(local_day_number(t, parts[1].offset_ms)),
            d("2026-11-01")
        );
        // Kolkata keeps +05:30 all year: one stretch.
        let kol = TimeZone::get("Asia/Kolkata").unwrap();
        let (s, e) = p.bounds(&kol);
        assert_eq!(stretches(&kol, s, e).len(), 1);
        assert_eq!(stretches(&TimeZone::UTC, s, e)[0].offset_ms, 0);
    }

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration_words(45_000.0), "45 s");
        assert_eq!(duration_words(12.0 * 60_000.0), "12 min");
        assert_eq!(duration_words(150_000.0), "2 min 30 s");
        assert_eq!(duration_words(216_000.0), "3 min 36 s");
        assert_eq!(duration_words(120_000.0), "2 min");
        assert_eq!(duration_words(125.0 * 60_000.0), "2 h 5 min");
        assert_eq!(duration_words(50.0 * 3_600_000.0), "2 d 2 h");
    }
}
