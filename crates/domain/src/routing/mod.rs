//! Automatic assignment of new leads (A1-A5, A8, A9, A12, A13), as a pure
//! function.
//!
//! 1. [`match_rule`] picks the rule that decides: the first advanced rule,
//!    top to bottom, whose criteria all match the lead, else the default rule
//!    (A3).
//! 2. [`decide_assignment`] carries out that rule's action with the
//!    candidates' state (status, agent flag, availability, capacity) and the
//!    rule's round-robin state ([`RrState`], a smooth weighted round robin
//!    whose runs restart when the eligible members change: A9), and records
//!    everyone it considered and why each one passed over was passed over
//!    ([`Decision`]: A12).
//!
//! The store keeps each round robin's state in a row that the transaction
//! storing the lead updates, so several nodes stay exact (A7). Nothing here
//! reads a clock, a database or a random number.
//!
//! ```
//! use leadteam_domain::authz::MemberStatus;
//! use leadteam_domain::routing::*;
//! use leadteam_domain::{MemberId, RuleId};
//!
//! let one = LeadsPerRound::MIN;
//! let entries = vec![
//!     RrEntry { member: MemberId(1), weight: one, enabled: true },
//!     RrEntry { member: MemberId(2), weight: one, enabled: true },
//! ];
//! let default = DefaultRule::RoundRobin(entries);
//! let lead = LeadFacts::new(SourceKind::Website);
//! let candidates = |m: MemberId| {
//!     Some(Candidate {
//!         member: m,
//!         status: MemberStatus::Active,
//!         agent: true,
//!         open_clients: 0,
//!         capacity: None,
//!         availability: Ok(()),
//!     })
//! };
//! let cx = Context { candidates: &candidates, team: &|_| Vec::new(), exclude: &[] };
//! let (rule, action) = match_rule(&[], &default, &lead);
//! assert_eq!(rule, RuleRef::Default);
//! let mut state = RrState::default();
//! assert_eq!(decide_assignment(action, &cx, &mut state).assignee(), Some(MemberId(1)));
//! assert_eq!(decide_assignment(action, &cx, &mut state).assignee(), Some(MemberId(2)));
//! ```

mod assign;
mod candidate;
mod criteria;
mod lead;
mod order;
mod rule;

#[cfg(test)]
mod props;
#[cfg(test)]
mod reasons;

pub use assign::{
    Considered, Context, Decision, Outcome, RrState, Verdict, decide_assignment, route,
};
pub use candidate::{Candidate, SkipReason};
pub use criteria::{Criterion, all_match};
pub use lead::{LeadFacts, LeadsPerRound, SourceKind};
pub use order::{Direction, MoveError, move_rule};
pub use rule::{
    ActionKind, ActionRef, ContactLimit, DefaultRule, RrEntry, Rule, RuleAction, RuleRef,
    check_round_robin, match_rule,
};
