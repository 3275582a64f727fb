//! Property tests of the billing rules across the ledger, the cycle and the
//! invoice (B1, B2).

use super::*;
use crate::ids::MemberId;
use SeatEventKind::*;
use proptest::prelude::*;

/// A real monthly cycle between 2000 and 2100.
fn any_cycle() -> impl Strategy<Value = Cycle> {
    (1i64..=28, 10_957i64..47_482).prop_map(|(a, d)| {
        let anchor = AnchorDay::parse("anchor", a).ok();
        anchor.map_or(
            Cycle {
                start: Day(d),
                end: Day(d + 30),
            },
            |a| cycle_containing(a, Day(d)),
        )
    })
}

fn any_price() -> impl Strategy<Value = i64> {
    prop_oneof![0i64..=100_000, 0i64..=1_000_000_000_000, Just(1), Just(7)]
}

/// An event on the day `offset` days from `cycle.start`, at `minute` of that day.
fn at(member: MemberId, cycle: Cycle, offset: i64, minute: i64, kind: SeatEventKind) -> SeatEvent {
    let at = cycle.start.plus_days(offset).start().plus_minutes(minute);
    SeatEvent { member, at, kind }
}

/// Events that make `member` active exactly on the days at the set bits of
/// `mask` (offset 0 = the cycle's first day), at the given minute of each day.
fn events_for_days(member: MemberId, cycle: Cycle, mask: u32, minute: i64) -> Vec<SeatEvent> {
    let mut out = Vec::new();
    let mut run_start = None;
    for d in 0..=cycle.days() {
        let on = d < cycle.days() && mask & (1 << d) != 0;
        match (run_start, on) {
            (None, true) => {
                let kind = if out.is_empty() {
                    Activated
                } else {
                    Reactivated
                };
                out.push(at(member, cycle, d, minute, kind));
                run_start = Some(d);
            }
            (Some(_), false) => {
                out.push(at(member, cycle, d - 1, minute, Deactivated));
                run_start = None;
            }
            _ => {}
        }
    }
    out
}

/// The cycle's days, as offsets, at the set bits of `mask`.
fn days_of(mask: u32, cycle: Cycle) -> Vec<i64> {
    (0..cycle.days()).filter(|d| mask & (1 << d) != 0).collect()
}

fn charge_of_days(cycle: Cycle, price: i64, days: &[i64]) -> i64 {
    days.iter()
        .map(|&d| {
            charge_cents(
                cycle,
                price,
                cycle.start.plus_days(d),
                cycle.start.plus_days(d + 1),
            )
        })
        .sum()
}

/// The naive model of B2: replay the ledger and ask, for every day, whether
/// the member was active at any moment of it.
fn naive_active_days(events: &[SeatEvent], cycle: Cycle) -> Vec<Day> {
    #[derive(Clone, Copy, PartialEq)]
    enum S {
        Invited,
        Active,
        Deactivated,
        Removed,
    }
    let step = |s: S, k: SeatEventKind| match (s, k) {
        (S::Removed, Activated) => S::Active,
        (S::Removed, _) | (_, Removed) => S::Removed,
        (S::Invited, Activated)
        | (S::Deactivated, Activated | Reactivated)
        | (S::Active, Activated | Reactivated) => S::Active,
        (S::Active, Deactivated) => S::Deactivated,
        (s, _) => s,
    };
    let mut sorted = events.to_vec();
    sorted.sort_by_key(|e| e.at);
    let mut out = Vec::new();
    for d in 0..cycle.days() {
        let day = cycle.start.plus_days(d);
        let (from, to) = (day.start(), day.plus_days(1).start());
        let mut s = S::Invited;
        for e in sorted.iter().filter(|e| e.at < from) {
            s = step(s, e.kind);
        }
        let mut active = s == S::Active;
        for e in sorted.iter().filter(|e| from <= e.at && e.at < to) {
            s = step(s, e.kind);
            active |= s == S::Active;
        }
        if active {
            out.push(day);
        }
    }
    out
}

fn any_kind() -> impl Strategy<Value = SeatEventKind> {
    prop_oneof![
        Just(Activated),
        Just(Deactivated),
        Just(Reactivated),
        Just(Removed)
    ]
}

proptest! {
    #[test]
    fn r_b2_parts_of_a_cycle_add_up_to_the_whole(
        cycle in any_cycle(),
        price in any_price(),
        cuts in prop::collection::vec(1i64..31, 0..12),
        minute in 0i64..1440,
    ) {
        let n = cycle.days();
        let mut bounds: Vec<i64> = cuts.into_iter().filter(|&c| c < n).collect();
        bounds.extend([0, n]);
        bounds.sort_unstable();
        bounds.dedup();
        let pieces: Vec<(i64, i64)> = bounds.windows(2).map(|w| (w[0], w[1])).collect();
        let day = |o: i64| cycle.start.plus_days(o);
        let sum: i64 = pieces.iter().map(|&(a, b)| charge_cents(cycle, price, day(a), day(b))).sum();
        prop_assert_eq!(sum, price);
        // The same pieces shared out between members: one price in all.
        let events: Vec<SeatEvent> = pieces
            .iter()
            .zip(1i64..)
            .flat_map(|(&(a, b), m)| {
                [at(MemberId(m), cycle, a, minute, Activated), at(MemberId(m), cycle, b - 1, minute, Deactivated)]
            })
            .collect();
        let inv = invoice(cycle, price, None, &events);
        prop_assert_eq!(inv.total_cents, price);
        prop_assert_eq!(inv.lines.iter().map(|l| l.active_days).sum::<i64>(), n);
        // And one member active every day, deactivated and reactivated on
        // every cut, pays exactly the price.
        let mut one = vec![at(MemberId(1), cycle, -3, minute, Activated)];
        for &(a, _) in pieces.iter().skip(1) {
            one.push(at(MemberId(1), cycle, a, 0, Deactivated));
            one.push(at(MemberId(1), cycle, a, minute, Reactivated));
        }
        prop_assert_eq!(invoice(cycle, price, None, &one).total_cents, price);
    }

    #[test]
    fn r_b2_a_member_never_active_in_the_cycle_pays_nothing(
        cycle in any_cycle(),
        price in any_price(),
        before in 1i64..400,
        length in 0i64..400,
        after in 0i64..400,
        minute in 0i64..1440,
    ) {
        let m = MemberId(9);
        let events = [
            at(m, cycle, -before - length, minute, Activated),
            at(m, cycle, -before, minute, Deactivated),
            at(m, cycle, cycle.days() + after, minute, Reactivated),
        ];
        let inv = invoice(cycle, price, None, &events);
        prop_assert!(inv.lines.is_empty());
        prop_assert_eq!(inv.total_cents, 0);
        let (outside_from, outside_to) = (cycle.end.plus_days(after), cycle.end.plus_days(after + length));
        prop_assert_eq!(charge_cents(cycle, price, outside_from, outside_to), 0);
    }

    #[test]
    fn r_b2_invited_members_are_never_charged(
        cycle in any_cycle(),
        price in any_price(),
        ledger in prop::collection::vec(
            (1i64..4, any_kind(), -40i64..75, 0i64..1440),
            0..24,
        ),
    ) {
        // Members 1..4 never get `Activated`; member 100 does.
        let mut events: Vec<SeatEvent> = ledger
            .into_iter()
            .map(|(m, k, d, min)| at(MemberId(m), cycle, d, min, if k == Activated { Reactivated } else { k }))
            .collect();
        events.push(at(MemberId(100), cycle, 2, 0, Activated));
        let inv = invoice(cycle, price, None, &events);
        let members: Vec<MemberId> = inv.lines.iter().map(|l| l.member).collect();
        prop_assert_eq!(members, vec![MemberId(100)]);
        prop_assert!(active_intervals(&events, cycle).keys().all(|&m| m == MemberId(100)));
    }

    #[test]
    fn r_b2_amount_is_monotonic_in_active_days(
        cycle in any_cycle(),
        price in any_price(),
        mask in any::<u32>(),
        extra in any::<u32>(),
        minute in 0i64..1440,
    ) {
        let m = MemberId(3);
        let fewer = invoice(cycle, price, None, &events_for_days(m, cycle, mask, minute));
        let more = invoice(cycle, price, None, &events_for_days(m, cycle, mask | extra, minute));
        prop_assert!(fewer.total_cents <= more.total_cents);
        let (k, n) = (days_of(mask, cycle).len() as i64, cycle.days());
        let line = fewer.lines.first();
        prop_assert_eq!(line.map_or(0, |l| l.active_days), k);
        prop_assert_eq!(fewer.total_cents, charge_of_days(cycle, price, &days_of(mask, cycle)));
        // Within one cent per period of the exact proration price * k / n.
        let periods = line.map_or(0, |l| l.periods.len()) as i128;
        let error = i128::from(fewer.total_cents) * i128::from(n) - i128::from(price) * i128::from(k);
        prop_assert!(error.abs() < periods.max(1) * i128::from(n));
    }

    #[test]
    fn r_b1_the_trial_makes_days_free(
        cycle in any_cycle(),
        price in any_price(),
        mask in any::<u32>(),
        trial in -5i64..40,
        minute in 0i64..1440,
    ) {
        let events = events_for_days(MemberId(4), cycle, mask, minute);
        let trial_end = cycle.start.plus_days(trial);
        let with_trial = invoice(cycle, price, Some(trial_end), &events);
        let without = invoice(cycle, price, None, &events);
        let days = days_of(mask, cycle);
        let (free, paid): (Vec<i64>, Vec<i64>) = days.iter().partition(|&&d| d < trial);
        prop_assert_eq!(with_trial.total_cents, charge_of_days(cycle, price, &paid));
        prop_assert!(with_trial.total_cents <= without.total_cents);
        prop_assert_eq!(with_trial.lines.first().map_or(0, |l| l.free_days), free.len() as i64);
        if trial >= cycle.days() {
            prop_assert_eq!(with_trial.total_cents, 0);
        }
        // B1: however many members, nothing is charged during the trial.
        let crowd: Vec<SeatEvent> = (1..20).map(|m| at(MemberId(m), cycle, -1, minute, Activated)).collect();
        prop_assert_eq!(invoice(cycle, price, Some(cycle.end), &crowd).total_cents, 0);
    }

    #[test]
    fn r_b2_a_member_is_charged_for_every_day_it_was_active_at_any_moment(
        cycle in any_cycle(),
        ledger in prop::collection::vec((any_kind(), -40i64..75, 0i64..1440), 0..16),
    ) {
        let m = MemberId(5);
        let events: Vec<SeatEvent> = ledger.into_iter().map(|(k, d, min)| at(m, cycle, d, min, k)).collect();
        let periods = active_intervals(&events, cycle).remove(&m).unwrap_or_default();
        let days: Vec<Day> = periods.iter().flat_map(|&(a, b)| (a.0..b.0).map(Day)).collect();
        prop_assert_eq!(days, naive_active_days(&events, cycle));
        // Periods lie in the cycle, sorted, apart from one another.
        for (a, b) in &periods {
            prop_assert!(cycle.start <= *a && a < b && *b <= cycle.end);
        }
        for w in periods.windows(2) {
            prop_assert!(w[0].1 < w[1].0);
        }
    }
}
