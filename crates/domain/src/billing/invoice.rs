//! Pro-rated invoices: each active member pays for the days it was active
//! (B2), nothing during the free trial (B1), and the rounding never creates
//! or loses a cent.

use super::calendar::Day;
use super::cycle::Cycle;
use super::ledger::{SeatEvent, active_intervals};
use crate::ids::MemberId;
use serde::Serialize;

/// What one member is charged for one cycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceLine {
    /// The member.
    pub member: MemberId,
    /// Days of the cycle on which the member was active, trial days included.
    pub active_days: i64,
    /// Of `active_days`, those before the end of the free trial (B1): not charged.
    pub free_days: i64,
    /// Days in the cycle.
    pub cycle_days: i64,
    /// The charge for `active_days - free_days` days, in cents.
    pub amount_cents: i64,
    /// The active periods `[from, to)` inside the cycle, sorted and disjoint.
    pub periods: Vec<(Day, Day)>,
}

/// The seat charges of one cycle: the breakdown a billing view shows (B2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invoice {
    /// The cycle charged for.
    pub cycle: Cycle,
    /// One line per member active on at least one day of the cycle, by member id.
    pub lines: Vec<InvoiceLine>,
    /// The sum of the lines' amounts.
    pub total_cents: i64,
}

/// The seat charges of `cycle` from the ledger `events` (B1, B2).
///
/// Each member pays `price_cents_per_member_per_cycle` pro-rated by the days
/// it was active (see [`active_intervals`]): members never activated
/// (invitees) have no line. Days before `trial_end` (exclusive) are free.
/// The invoice covers usage of `cycle` and is billed in arrears, with the
/// next cycle.
///
/// Every period is priced with [`charge_cents`], so a member active every
/// day of the cycle, in however many pieces, pays exactly the price, and the
/// members sharing the days of a cycle between them pay exactly one price.
pub fn invoice(
    cycle: Cycle,
    price_cents_per_member_per_cycle: i64,
    trial_end: Option<Day>,
    events: &[SeatEvent],
) -> Invoice {
    let price = price_cents_per_member_per_cycle;
    let paid_from = trial_end.map_or(cycle.start, |t| t.max(cycle.start));
    let lines: Vec<InvoiceLine> = active_intervals(events, cycle)
        .into_iter()
        .map(|(member, periods)| {
            let mut line = InvoiceLine {
                member,
                active_days: 0,
                free_days: 0,
                cycle_days: cycle.days(),
                amount_cents: 0,
                periods,
            };
            for &(from, to) in &line.periods {
                line.active_days += from.days_until(to);
                line.free_days += from.days_until(to.min(paid_from)).max(0);
                line.amount_cents = line.amount_cents.saturating_add(charge_cents(
                    cycle,
                    price,
                    from.max(paid_from),
                    to,
                ));
            }
            line
        })
        .collect();
    let total_cents = lines
        .iter()
        .fold(0i64, |sum, l| sum.saturating_add(l.amount_cents));
    Invoice {
        cycle,
        lines,
        total_cents,
    }
}

/// The charge for the days `[from, to)` of `cycle` (cut to the cycle) when a
/// whole cycle costs `price_cents`, by cumulative rounding: with `n` days in
/// the cycle and the days at offsets `[a, b)`,
/// `round_half_up(price * b / n) - round_half_up(price * a / n)`.
///
/// The charges of adjacent pieces therefore add up exactly to the charge of
/// their union, the whole cycle costs exactly `price_cents`, every day costs
/// `price / n` rounded down or up, and (for a price of at least zero) adding
/// days never lowers a charge. Empty or inverted ranges and empty cycles cost 0.
pub fn charge_cents(cycle: Cycle, price_cents: i64, from: Day, to: Day) -> i64 {
    let n = cycle.days();
    if n == 0 {
        return 0;
    }
    let a = cycle.start.days_until(from).clamp(0, n);
    let b = cycle.start.days_until(to).clamp(0, n);
    if b <= a {
        return 0;
    }
    cumulative_cents(price_cents, b, n).saturating_sub(cumulative_cents(price_cents, a, n))
}

/// `round_half_up(price * k / n)` for `0 <= k <= n`, `n > 0`, exactly:
/// `floor((2 * price * k + n) / (2 * n))` in `i128`. The result lies between
/// 0 and `price`, so it fits in `i64`.
fn cumulative_cents(price: i64, k: i64, n: i64) -> i64 {
    let (price, k, n) = (i128::from(price), i128::from(k), i128::from(n));
    let v = (2 * price * k + n).div_euclid(2 * n);
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::ledger::SeatEventKind::{self, *};

    const M: MemberId = MemberId(1);

    fn nov(d: u32) -> Day {
        Day::from_civil(2026, 11, d).unwrap_or(Day(i64::MIN))
    }

    fn november() -> Cycle {
        Cycle {
            start: nov(1),
            end: nov(30).plus_days(1),
        }
    }

    fn ev(member: MemberId, day: Day, kind: SeatEventKind) -> SeatEvent {
        SeatEvent {
            member,
            at: day.start().plus_minutes(9 * 60),
            kind,
        }
    }

    #[test]
    fn r_b2_hand_computed_invoice_for_a_deactivated_and_reactivated_member() {
        // Cycle 2026-11-01..2026-12-01: n = 30 days, price 3000 cents (100 a day).
        // Activated Nov 10, deactivated Nov 20: days 10..=20 = 11 days (the 20th
        // still counts). Reactivated Nov 25: days 25..=30 = 6 days.
        // Active days = 11 + 6 = 17.
        // Offsets from Nov 1: [9, 20) and [24, 30).
        //   [9, 20):  round(3000*20/30) - round(3000*9/30)  = 2000 - 900  = 1100
        //   [24, 30): round(3000*30/30) - round(3000*24/30) = 3000 - 2400 =  600
        // Amount = 1100 + 600 = 1700 cents = 3000 * 17 / 30.
        let events = [
            ev(M, nov(10), Activated),
            ev(M, nov(20), Deactivated),
            ev(M, nov(25), Reactivated),
        ];
        let inv = invoice(november(), 3000, None, &events);
        let expected = InvoiceLine {
            member: M,
            active_days: 17,
            free_days: 0,
            cycle_days: 30,
            amount_cents: 1700,
            periods: vec![(nov(10), nov(21)), (nov(25), nov(30).plus_days(1))],
        };
        assert_eq!(inv.lines, vec![expected]);
        assert_eq!(inv.total_cents, 1700);
        assert_eq!(inv.cycle, november());
    }

    #[test]
    fn r_b2_rounding_moves_cents_between_days_but_never_loses_one() {
        // 3 days for 1000 cents: cumulative 0, 333, 667, 1000.
        let c = Cycle {
            start: Day(0),
            end: Day(3),
        };
        let days: Vec<i64> = (0..3)
            .map(|d| charge_cents(c, 1000, Day(d), Day(d + 1)))
            .collect();
        assert_eq!(days, vec![333, 334, 333]);
        assert_eq!(charge_cents(c, 1000, Day(-5), Day(9)), 1000);
        assert_eq!(charge_cents(c, 1000, Day(2), Day(1)), 0);
        assert_eq!(
            charge_cents(
                Cycle {
                    start: Day(3),
                    end: Day(3)
                },
                1000,
                Day(3),
                Day(4)
            ),
            0
        );
        assert_eq!(charge_cents(c, i64::MAX, Day(0), Day(3)), i64::MAX);
    }

    #[test]
    fn r_b1_trial_days_are_listed_but_free() {
        // Trial ends Nov 15 (exclusive): Nov 10..=14 free (5 days), Nov 15..=20
        // charged (6 days): round(3000*20/30) - round(3000*14/30) = 2000 - 1400 = 600.
        let events = [ev(M, nov(10), Activated), ev(M, nov(20), Deactivated)];
        let inv = invoice(november(), 3000, Some(nov(15)), &events);
        let line = inv
            .lines
            .first()
            .map(|l| (l.active_days, l.free_days, l.amount_cents));
        assert_eq!(line, Some((11, 5, 600)));
        let all_trial = invoice(november(), 3000, Some(nov(30).plus_days(7)), &events);
        assert_eq!((all_trial.total_cents, all_trial.lines.len()), (0, 1));
        let trial_over = invoice(november(), 3000, Some(nov(1).plus_days(-3)), &events);
        assert_eq!(trial_over.total_cents, 1100);
    }

    #[test]
    fn r_b2_invitees_have_no_line() {
        let events = [ev(MemberId(2), nov(3), Removed), ev(M, nov(1), Activated)];
        let inv = invoice(november(), 3000, None, &events);
        let members: Vec<MemberId> = inv.lines.iter().map(|l| l.member).collect();
        assert_eq!((members, inv.total_cents), (vec![M], 3000));
    }
}
