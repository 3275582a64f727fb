//! Seat billing (B1, B2, B3), as pure arithmetic on values passed in.
//!
//! - [`Day`]: a UTC calendar day, shown and parsed as `YYYY-MM-DD`.
//! - [`BillingCycle`] / [`cycle_containing`]: monthly cycles from an
//!   [`AnchorDay`] to the same day of the next month.
//! - [`SeatEvent`] / [`active_intervals`]: the seat ledger and the days each
//!   member was active; invitees are never active.
//! - [`invoice`] / [`charge_cents`]: the pro-rated charges of a cycle, free
//!   during the trial, rounded so that the parts add up to the whole.
//! - [`SeatCheck`]: purchased seats against seats in use.
//!
//! The store keeps the ledger and the app asks for the clock; nothing here
//! reads either.

mod calendar;
mod cycle;
mod invoice;
mod ledger;
mod seats;

#[cfg(test)]
mod properties;

pub use calendar::{Day, days_in_month, is_leap_year};
pub use cycle::{AnchorDay, BillingCycle, Cycle, cycle_containing};
pub use invoice::{Invoice, InvoiceLine, charge_cents, invoice};
pub use ledger::{SeatEvent, SeatEventKind, active_intervals};
pub use seats::{SeatCheck, SeatError};
