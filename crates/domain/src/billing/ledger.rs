//! The seat ledger: what happened to each member's seat, and from it the days
//! on which each member was active (B2).

use super::calendar::Day;
use super::cycle::Cycle;
use crate::ids::MemberId;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What happened to a member's seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeatEventKind {
    /// The invitation was accepted (M4): billing starts.
    Activated,
    /// The member was deactivated (M5): billing stops after that day.
    Deactivated,
    /// A deactivated member was reactivated (M5): billing starts again.
    Reactivated,
    /// The member was removed for good (M7), or its invitation cancelled (M3).
    Removed,
}

/// One entry of the seat ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SeatEvent {
    /// Whose seat.
    pub member: MemberId,
    /// When it happened.
    pub at: Timestamp,
    /// What happened.
    pub kind: SeatEventKind,
}

/// Where a member stands while the ledger is replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No `Activated` event yet: never charged (B2).
    Invited,
    /// Active since the given day (inclusive).
    Active(Day),
    /// Activated once, now deactivated.
    Deactivated,
    /// Gone for good: later events are ignored.
    Removed,
}

/// The days of `cycle` on which each member was active, as sorted, disjoint,
/// non-touching half-open periods `[from, to)` inside the cycle (B2).
///
/// A member is active on a day when it was active at any moment of that day:
/// activation on the 10th charges the 10th, deactivation on the 20th still
/// charges the 20th (not the 21st), reactivation on the 25th charges from the
/// 25th. Events are replayed per member in time order (ties keep their order
/// in `events`), from before the cycle too, so a member activated months ago
/// and still active covers the whole cycle.
///
/// The replay is lenient about impossible sequences: a member without an
/// `Activated` event is an invitee and is never active (a `Reactivated`
/// before it is ignored); activating an active member or deactivating an
/// inactive one changes nothing; after `Removed` nothing counts but a new
/// `Activated` (a new membership that was given the same id).
///
/// Members with no active day in the cycle are absent from the map.
pub fn active_intervals(events: &[SeatEvent], cycle: Cycle) -> BTreeMap<MemberId, Vec<(Day, Day)>> {
    let mut by_member: BTreeMap<MemberId, Vec<&SeatEvent>> = BTreeMap::new();
    for e in events {
        by_member.entry(e.member).or_default().push(e);
    }
    let mut out = BTreeMap::new();
    for (member, mut evs) in by_member {
        evs.sort_by_key(|e| e.at); // stable: ties keep ledger order
        let periods = clip_and_merge(replay(&evs), cycle);
        if !periods.is_empty() {
            out.insert(member, periods);
        }
    }
    out
}

/// The active periods `[from, to)` of one member, in time order; a period
/// still open at the end of the ledger runs to the end of time.
fn replay(events: &[&SeatEvent]) -> Vec<(Day, Day)> {
    let mut state = State::Invited;
    let mut periods = Vec::new();
    for e in events {
        let day = Day::from_timestamp(e.at);
        state = match (state, e.kind) {
            // A member id can come back after removal: SQLite reuses the
            // highest rowid once its row is deleted. A new activation under
            // the same id is a new membership, charged from its day.
            (State::Removed, SeatEventKind::Activated) => State::Active(day),
            (State::Removed, _) => State::Removed,
            (State::Invited, SeatEventKind::Activated) => State::Active(day),
            (State::Invited, SeatEventKind::Reactivated | SeatEventKind::Deactivated) => {
                State::Invited
            }
            (State::Invited | State::Deactivated, SeatEventKind::Removed) => State::Removed,
            (State::Active(since), SeatEventKind::Activated | SeatEventKind::Reactivated) => {
                State::Active(since)
            }
            (State::Active(since), SeatEventKind::Deactivated | SeatEventKind::Removed) => {
                // The day of deactivation is still charged.
                periods.push((since, day.plus_days(1)));
                if e.kind == SeatEventKind::Removed {
                    State::Removed
                } else {
                    State::Deactivated
                }
            }
            (State::Deactivated, SeatEventKind::Activated | SeatEventKind::Reactivated) => {
                State::Active(day)
            }
            (State::Deactivated, SeatEventKind::Deactivated) => State::Deactivated,
        };
    }
    if let State::Active(since) = state {
        periods.push((since, Day(i64::MAX)));
    }
    periods
}

/// Cut the periods to the cycle and join those that overlap or touch (a
/// member deactivated and reactivated on the same day).
fn clip_and_merge(periods: Vec<(Day, Day)>, cycle: Cycle) -> Vec<(Day, Day)> {
    let mut out: Vec<(Day, Day)> = Vec::new();
    for (from, to) in periods {
        let (from, to) = (from.max(cycle.start), to.min(cycle.end));
        if from >= to {
            continue;
        }
        match out.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => out.push((from, to)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use SeatEventKind::*;

    const M: MemberId = MemberId(7);

    fn nov(d: u32) -> Day {
        Day::from_civil(2026, 11, d).unwrap_or(Day(i64::MIN))
    }

    fn november() -> Cycle {
        Cycle {
            start: nov(1),
            end: nov(30).plus_days(1),
        }
    }

    /// An event on `day` at `hour`:00 UTC.
    fn ev(member: MemberId, day: Day, hour: i64, kind: SeatEventKind) -> SeatEvent {
        SeatEvent {
            member,
            at: day.start().plus_minutes(hour * 60),
            kind,
        }
    }

    #[test]
    fn r_b2_days_of_activation_and_deactivation_are_both_charged() {
        let events = [
            ev(M, nov(10), 23, Activated),
            ev(M, nov(20), 0, Deactivated),
            ev(M, nov(25), 12, Reactivated),
        ];
        let got = active_intervals(&events, november());
        assert_eq!(
            got.get(&M),
            Some(&vec![(nov(10), nov(21)), (nov(25), nov(30).plus_days(1))])
        );
    }

    #[test]
    fn r_b2_invited_members_never_become_active() {
        let events = [
            ev(M, nov(3), 9, Reactivated),
            ev(M, nov(4), 9, Deactivated),
            ev(M, nov(5), 9, Removed),
        ];
        assert!(active_intervals(&events, november()).is_empty());
    }

    #[test]
    fn r_b2_deactivated_and_reactivated_the_same_day_is_one_period() {
        let events = [
            ev(M, nov(12), 9, Reactivated),
            ev(M, nov(12), 10, Deactivated),
            ev(M, nov(2), 9, Activated),
            ev(M, nov(12), 8, Deactivated),
        ];
        let got = active_intervals(&events, november());
        assert_eq!(got.get(&M), Some(&vec![(nov(2), nov(13))]));
    }

    #[test]
    fn r_b2_a_reused_member_id_starts_a_new_membership_after_removal() {
        let events = [
            ev(M, nov(2), 9, Activated),
            ev(M, nov(4), 9, Removed),
            ev(M, nov(6), 9, Reactivated),
            ev(M, nov(8), 9, Deactivated),
            ev(M, nov(20), 9, Activated),
        ];
        let got = active_intervals(&events, november());
        assert_eq!(
            got.get(&M),
            Some(&vec![(nov(2), nov(5)), (nov(20), nov(30).plus_days(1))])
        );
    }

    #[test]
    fn r_b2_activity_before_the_cycle_carries_into_it() {
        let oct1 = nov(1).plus_days(-31);
        let events = [
            ev(M, oct1, 9, Activated),
            ev(M, nov(4), 9, Removed),
            ev(M, nov(6), 9, Reactivated),
        ];
        let got = active_intervals(&events, november());
        assert_eq!(got.get(&M), Some(&vec![(nov(1), nov(5))]));
        let ended_before = [
            ev(M, oct1, 9, Activated),
            ev(M, oct1.plus_days(3), 9, Deactivated),
        ];
        assert!(active_intervals(&ended_before, november()).is_empty());
    }
}
