//! Availability (A8): whether a member may get leads now, and if not, why —
//! working hours (a weekly schedule in its own IANA time zone, daylight
//! saving handled by the time-zone database), time off, the account's
//! holidays, the away switch, and, where agent licences are enforced (B4),
//! holding one. Also the arithmetic of "N minutes of working time from now"
//! (A10) and "when is this member next available" (A11).
//!
//! Pure: time is a value passed in; the time-zone database is compiled in.

use crate::error::{FieldError, ValidationErrors};
use crate::time::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// Minutes in a day; a span ends at most here (midnight).
pub const DAY_MINUTES: u16 = 24 * 60;

/// How far ahead a search for working time looks.
const HORIZON_DAYS: i32 = 400;

/// The names of the weekdays, Monday first, as the API spells them.
pub const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// Working time on one weekday: local minutes from midnight, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start: u16,
    pub end: u16,
}

impl Span {
    /// "09:00".
    pub fn hhmm(minutes: u16) -> String {
        format!("{:02}:{:02}", minutes / 60, minutes % 60)
    }

    /// Parses "09:00" (or "24:00" for an end).
    pub fn parse_hhmm(field: &str, s: &str) -> Result<u16, FieldError> {
        let bad = || FieldError::new(field, format!("{s:?} is not a time like 09:30"));
        let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
        let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if m >= 60 || h * 60 + m > DAY_MINUTES {
            return Err(bad());
        }
        Ok(h * 60 + m)
    }
}

/// A weekly schedule of working hours in a time zone (A8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// The IANA name of the zone the hours are in (`Europe/Paris`).
    pub zone: String,
    /// The spans of each weekday, Monday first.
    pub days: [Vec<Span>; 7],
}

/// A time as a spreadsheet reads it, in `zone` (X6): "2026-12-08 15:30".
/// An unknown zone reads as UTC.
pub fn local_datetime(t: Timestamp, zone: &str) -> String {
    let tz = TimeZone::get(zone).unwrap_or(TimeZone::UTC);
    to_jiff(t)
        .to_zoned(tz)
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// Every zone name of the compiled-in time-zone database, sorted (for the
/// zone field's suggestions).
pub fn zone_names() -> Vec<String> {
    let mut z: Vec<String> = jiff::tz::db().available().map(|n| n.to_string()).collect();
    z.sort();
    z
}

/// A known IANA zone, or a field error naming `field`.
pub fn zone(field: &str, name: &str) -> Result<TimeZone, FieldError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(FieldError::new(
            field,
            "is required (an IANA name like Europe/Paris)",
        ));
    }
    TimeZone::get(name).map_err(|_| {
        FieldError::new(
            field,
            format!("{name:?} is not a time zone name (like Europe/Paris or Asia/Kolkata)"),
        )
    })
}

impl Schedule {
    /// Checks a schedule given by a person: a known zone, spans inside the
    /// day, each with a start before its end, not overlapping.
    pub fn check(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if let Err(e) = zone("time_zone", &self.zone) {
            errors.push(e);
        }
        for (d, spans) in self.days.iter().enumerate() {
            let field = format!("hours.{}", WEEKDAYS[d]);
            let mut sorted = spans.clone();
            sorted.sort_by_key(|s| s.start);
            for (i, s) in sorted.iter().enumerate() {
                if s.start >= s.end || s.end > DAY_MINUTES {
                    errors.push(FieldError::new(
                        &field,
                        format!(
                            "{}-{} must start before it ends, within the day",
                            Span::hhmm(s.start),
                            Span::hhmm(s.end)
                        ),
                    ));
                } else if i > 0 && sorted[i - 1].end > s.start {
                    errors.push(FieldError::new(&field, "has spans that overlap"));
                }
            }
            if spans.len() > 8 {
                errors.push(FieldError::new(&field, "has more than 8 spans"));
            }
        }
        errors.into_result()
    }

    /// A schedule as a person gives it: a zone name and, per weekday name,
    /// spans of "HH:MM" pairs (a day left out is not worked). Every error
    /// names its field (`time_zone`, `hours.monday`).
    pub fn from_hours(
        zone: &str,
        hours: &[(String, Vec<(String, String)>)],
    ) -> Result<Schedule, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let mut days: [Vec<Span>; 7] = Default::default();
        for (day, spans) in hours {
            let Some(d) = WEEKDAYS
                .iter()
                .position(|w| w.eq_ignore_ascii_case(day.trim()))
            else {
                errors.push(FieldError::new(
                    format!("hours.{day}"),
                    "is not a weekday (monday to sunday)",
                ));
                continue;
            };
            let field = format!("hours.{}", WEEKDAYS[d]);
            for (a, b) in spans {
                match (Span::parse_hhmm(&field, a), Span::parse_hhmm(&field, b)) {
                    (Ok(start), Ok(end)) => days[d].push(Span { start, end }),
                    (Err(e), _) | (_, Err(e)) => errors.push(e),
                }
            }
            days[d].sort_by_key(|s| s.start);
        }
        let s = Schedule {
            zone: zone.trim().to_owned(),
            days,
        };
        if let Err(more) = s.check() {
            errors.0.extend(more.0);
        }
        errors.into_result()?;
        Ok(s)
    }

    /// The spans of each weekday as "HH:MM" pairs, Monday first.
    pub fn hours(&self) -> Vec<(&'static str, Vec<(String, String)>)> {
        WEEKDAYS
            .iter()
            .zip(&self.days)
            .map(|(d, spans)| {
                (
                    *d,
                    spans
                        .iter()
                        .map(|s| (Span::hhmm(s.start), Span::hhmm(s.end)))
                        .collect(),
                )
            })
            .collect()
    }

    /// Monday to Friday, 9:00 to 17:00, in `zone`.
    pub fn office_hours(zone: &str) -> Schedule {
        let day = vec![Span {
            start: 9 * 60,
            end: 17 * 60,
        }];
        Schedule {
            zone: zone.to_owned(),
            days: [
                day.clone(),
                day.clone(),
                day.clone(),
                day.clone(),
                day,
                Vec::new(),
                Vec::new(),
            ],
        }
    }
}

/// A range of days, both included (time off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRange {
    pub from: Date,
    pub to: Date,
}

/// Parses "2026-12-24".
pub fn parse_day(field: &str, s: &str) -> Result<Date, FieldError> {
    s.trim()
        .parse::<Date>()
        .map_err(|_| FieldError::new(field, format!("{s:?} is not a date like 2026-12-24")))
}

/// What is known of a member to say whether it may get leads now.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    /// Its working hours; `None`: it works at any hour.
    pub schedule: Option<&'a Schedule>,
    /// The zone its days (time off, holidays) are counted in: its schedule's,
    /// else its own or the account's.
    pub zone: &'a TimeZone,
    pub time_off: &'a [DayRange],
    /// The account's holidays: (day, name).
    pub holidays: &'a [(Date, String)],
    /// The away switch (the member's own, or a manager's override).
    pub away: bool,
    /// Whether it holds an agent licence; `None` where licences are not
    /// enforced (B4).
    pub licence: Option<bool>,
}

/// Why a member is not available (A8, A12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Unavailable {
    /// The away switch is on.
    Away,
    /// On time off until this day (included).
    TimeOff { until: String },
    /// The account's holiday.
    Holiday { name: String },
    /// Outside its working hours; back at this instant (ms), when known.
    OutsideHours { zone: String, back_at: Option<i64> },
    /// Licences are enforced and it holds none (not on duty).
    NoLicence,
}

impl Unavailable {
    /// In words: "away", "on time off until 2026-12-31", "outside working
    /// hours (Asia/Kolkata)".
    pub fn describe(&self) -> String {
        match self {
            Unavailable::Away => "away".into(),
            Unavailable::TimeOff { until } => format!("on time off until {until}"),
            Unavailable::Holiday { name } => format!("on holiday ({name})"),
            Unavailable::OutsideHours { zone, .. } => {
                format!("outside working hours ({zone})")
            }
            Unavailable::NoLicence => "holds no agent licence".into(),
        }
    }
}

fn to_jiff(t: Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(t.0).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

fn from_jiff(t: jiff::Timestamp) -> Timestamp {
    Timestamp(t.as_millisecond())
}

/// The instant local time `minutes` after midnight of `day` in `zone` (a
/// time in a daylight-saving gap moves forward, as clocks do).
fn instant(zone: &TimeZone, day: Date, minutes: u16) -> Option<jiff::Timestamp> {
    if minutes >= DAY_MINUTES {
        let next = day.tomorrow().ok()?;
        return instant(zone, next, 0);
    }
    let time = Time::new((minutes / 60) as i8, (minutes % 60) as i8, 0, 0).ok()?;
    zone.to_ambiguous_timestamp(day.to_datetime(time))
        .compatible()
        .ok()
}

fn day_off(f: &Facts<'_>, day: Date) -> bool {
    f.time_off.iter().any(|r| r.from <= day && day <= r.to)
        || f.holidays.iter().any(|(d, _)| *d == day)
}

/// The working spans of `day` as instants (none on a day off).
fn spans_of(
    f: &Facts<'_>,
    s: &Schedule,
    tz: &TimeZone,
    day: Date,
) -> Vec<(jiff::Timestamp, jiff::Timestamp)> {
    if day_off(f, day) {
        return Vec::new();
    }
    let wd = day.weekday().to_monday_zero_offset() as usize;
    let mut out: Vec<(jiff::Timestamp, jiff::Timestamp)> = s.days[wd]
        .iter()
        .filter_map(|sp| Some((instant(tz, day, sp.start)?, instant(tz, day, sp.end)?)))
        .filter(|(a, b)| a < b)
        .collect();
    out.sort();
    out
}

/// The zone of a schedule (UTC when its name is unknown).
fn schedule_zone(s: &Schedule) -> TimeZone {
    TimeZone::get(&s.zone).unwrap_or(TimeZone::UTC)
}

/// Whether the member may get leads at `now`, and if not, why (A8): the
/// away switch first, then time off, a holiday, working hours, a licence.
pub fn status(f: &Facts<'_>, now: Timestamp) -> Result<(), Unavailable> {
    if f.away {
        return Err(Unavailable::Away);
    }
    let t = to_jiff(now);
    let today = t.to_zoned(f.zone.clone()).date();
    if let Some(r) = f.time_off.iter().find(|r| r.from <= today && today <= r.to) {
        return Err(Unavailable::TimeOff {
            until: r.to.to_string(),
        });
    }
    if let Some((_, name)) = f.holidays.iter().find(|(d, _)| *d == today) {
        return Err(Unavailable::Holiday { name: name.clone() });
    }
    if let Some(s) = f.schedule {
        let tz = schedule_zone(s);
        let local_day = t.to_zoned(tz.clone()).date();
        // Spans of yesterday may run past midnight only by ending at 24:00,
        // so today's spans (and the instants of yesterday's) are enough.
        let working = [local_day.yesterday().ok(), Some(local_day)]
            .into_iter()
            .flatten()
            .flat_map(|d| spans_of(f, s, &tz, d))
            .any(|(a, b)| a <= t && t < b);
        if !working {
            return Err(Unavailable::OutsideHours {
                zone: s.zone.clone(),
                back_at: next_working_instant(f, now).map(|t| t.0),
            });
        }
    }
    if f.licence == Some(false) {
        return Err(Unavailable::NoLicence);
    }
    Ok(())
}

/// The first instant at or after `now` inside working time (time off and
/// holidays skipped), within a search of [`HORIZON_DAYS`]; `now` itself
/// when the member has no schedule and no day off today.
pub fn next_working_instant(f: &Facts<'_>, now: Timestamp) -> Option<Timestamp> {
    let t = to_jiff(now);
    let Some(s) = f.schedule else {
        let mut day = t.to_zoned(f.zone.clone()).date();
        for _ in 0..HORIZON_DAYS {
            if !day_off(f, day) {
                let start = instant(f.zone, day, 0)?;
                return Some(from_jiff(start.max(t)));
            }
            day = day.tomorrow().ok()?;
        }
        return None;
    };
    let tz = schedule_zone(s);
    let mut day = t.to_zoned(tz.clone()).date().yesterday().ok()?;
    for _ in 0..HORIZON_DAYS {
        for (a, b) in spans_of(f, s, &tz, day) {
            if t < b {
                return Some(from_jiff(a.max(t)));
            }
        }
        day = day.tomorrow().ok()?;
    }
    None
}

/// The instant `minutes` of working time after `start` (A10: a first-contact
/// limit counted in the assignee's working hours; days off do not count).
/// Without a schedule every minute counts. `None` when the schedule has no
/// working time within the search horizon.
pub fn after_working_minutes(f: &Facts<'_>, start: Timestamp, minutes: u32) -> Option<Timestamp> {
    let t = to_jiff(start);
    let mut left = i64::from(minutes) * 60_000;
    let Some(s) = f.schedule else {
        return Some(Timestamp(start.0 + left));
    };
    let tz = schedule_zone(s);
    let mut day = t.to_zoned(tz.clone()).date().yesterday().ok()?;
    for _ in 0..HORIZON_DAYS {
        for (a, b) in spans_of(f, s, &tz, day) {
            if b <= t {
                continue;
            }
            let from = a.max(t);
            let room = b.as_millisecond() - from.as_millisecond();
            if left <= room {
                return Some(Timestamp(from.as_millisecond() + left));
            }
            left -= room;
        }
        day = day.tomorrow().ok()?;
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp(s.parse::<jiff::Timestamp>().unwrap().as_millisecond())
    }

    fn facts<'a>(s: Option<&'a Schedule>, tz: &'a TimeZone) -> Facts<'a> {
        Facts {
            schedule: s,
            zone: tz,
            time_off: &[],
            holidays: &[],
            away: false,
            licence: None,
        }
    }

    #[test]
    fn r_a8_working_hours_are_read_in_the_members_zone() {
        let s = Schedule::office_hours("Asia/Kolkata");
        let tz = TimeZone::get("Asia/Kolkata").unwrap();
        let f = facts(Some(&s), &tz);
        // 04:00 UTC on a Tuesday is 09:30 in Kolkata: working.
        assert_eq!(status(&f, ts("2026-12-08T04:00:00Z")), Ok(()));
        // 12:00 UTC is 17:30 there: gone home, back tomorrow at 09:00 IST.
        let why = status(&f, ts("2026-12-08T12:00:00Z")).unwrap_err();
        assert_eq!(
            why,
            Unavailable::OutsideHours {
                zone: "Asia/Kolkata".into(),
                back_at: Some(ts("2026-12-09T03:30:00Z").0),
            }
        );
        // Saturday: back on Monday.
        let sat = status(&f, ts("2026-12-12T06:00:00Z")).unwrap_err();
        assert!(
            matches!(sat, Unavailable::OutsideHours { back_at: Some(b), .. } if b == ts("2026-12-14T03:30:00Z").0)
        );
    }

    #[test]
    fn r_a8_working_hours_follow_a_daylight_saving_change() {
        // Paris leaves summer time on Sunday 2026-10-25: 09:00 local is 07:00
        // UTC on the Friday before and 08:00 UTC on the Monday after.
        let s = Schedule::office_hours("Europe/Paris");
        let tz = TimeZone::get("Europe/Paris").unwrap();
        let f = facts(Some(&s), &tz);
        assert_eq!(status(&f, ts("2026-10-23T07:00:00Z")), Ok(()));
        assert!(status(&f, ts("2026-10-26T07:30:00Z")).is_err());
        assert_eq!(status(&f, ts("2026-10-26T08:00:00Z")), Ok(()));
        // A 60-minute limit starting Friday 16:30 local (14:30 UTC) ends
        // Monday 09:30 local, which is 08:30 UTC after the change.
        assert_eq!(
            after_working_minutes(&f, ts("2026-10-23T14:30:00Z"), 60),
            Some(ts("2026-10-26T08:30:00Z"))
        );
    }

    #[test]
    fn r_a8_time_off_holidays_away_and_licences() {
        let tz = TimeZone::UTC;
        let off = [DayRange {
            from: "2026-12-24".parse().unwrap(),
            to: "2026-12-26".parse().unwrap(),
        }];
        let hol = [("2027-01-01".parse().unwrap(), "New Year".to_owned())];
        let f = Facts {
            time_off: &off,
            holidays: &hol,
            ..facts(None, &tz)
        };
        assert_eq!(
            status(&f, ts("2026-12-25T10:00:00Z")),
            Err(Unavailable::TimeOff {
                until: "2026-12-26".into()
            })
        );
        assert_eq!(status(&f, ts("2026-12-27T10:00:00Z")), Ok(()));
        assert!(matches!(
            status(&f, ts("2027-01-01T10:00:00Z")),
            Err(Unavailable::Holiday { .. })
        ));
        assert_eq!(
            next_working_instant(&f, ts("2026-12-25T10:00:00Z")),
            Some(ts("2026-12-27T00:00:00Z"))
        );
        let away = Facts { away: true, ..f };
        assert_eq!(
            status(&away, ts("2026-12-27T10:00:00Z")),
            Err(Unavailable::Away)
        );
        let unlicensed = Facts {
            licence: Some(false),
            ..f
        };
        assert_eq!(
            status(&unlicensed, ts("2026-12-27T10:00:00Z")),
            Err(Unavailable::NoLicence)
        );
    }

    #[test]
    fn r_a10_working_minutes_skip_nights_weekends_and_days_off() {
        let s = Schedule::office_hours("UTC");
        let tz = TimeZone::UTC;
        let f = facts(Some(&s), &tz);
        // Thursday 16:50 + 30 working minutes = Friday 09:20.
        assert_eq!(
            after_working_minutes(&f, ts("2026-12-10T16:50:00Z"), 30),
            Some(ts("2026-12-11T09:20:00Z"))
        );
        // Friday 16:50 + 30 = Monday 09:20.
        assert_eq!(
            after_working_minutes(&f, ts("2026-12-11T16:50:00Z"), 30),
            Some(ts("2026-12-14T09:20:00Z"))
        );
        // Starting at night counts from the next morning.
        assert_eq!(
            after_working_minutes(&f, ts("2026-12-14T02:00:00Z"), 15),
            Some(ts("2026-12-14T09:15:00Z"))
        );
        // Without a schedule every minute counts.
        assert_eq!(
            after_working_minutes(&facts(None, &tz), ts("2026-12-14T02:00:00Z"), 15),
            Some(ts("2026-12-14T02:15:00Z"))
        );
    }

    #[test]
    fn schedules_are_checked_naming_the_field() {
        let mut s = Schedule::office_hours("Mars/Olympus");
        s.days[0].push(Span {
            start: 600,
            end: 660,
        });
        s.days[2] = vec![Span {
            start: 700,
            end: 600,
        }];
        let e = s.check().unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["time_zone", "hours.monday", "hours.wednesday"]);
        assert_eq!(Span::parse_hhmm("x", "09:30").unwrap(), 570);
        assert!(Span::parse_hhmm("x", "25:00").is_err());
    }
}
