//! Automatic assignment of new leads (A1-A5), as a pure function.
//!
//! Routing a lead takes two steps, so that the store can take a round-robin
//! position from a database sequence (no hot row, exact across nodes, A7):
//!
//! 1. [`match_rule`] picks the rule that decides: the first advanced rule, top
//!    to bottom, whose criteria all match the lead, else the default rule (A3).
//! 2. [`decide_assignment`] carries out that rule's action for the rule's
//!    0-based position (its count of leads routed so far) and the candidates'
//!    state, and says why ([`Decision::reason`]).
//!
//! [`route`] does both when the positions are at hand. Nothing here reads a
//! clock, a database or a random number.
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
//!         on_duty: None,
//!     })
//! };
//! let (rule, action) = match_rule(&[], &default, &lead);
//! assert_eq!(rule, RuleRef::Default);
//! let decision = decide_assignment(action, &candidates, 1);
//! assert_eq!(decision.outcome, Outcome::Assigned(MemberId(2)));
//! assert_eq!(decision.reason, "round robin: member 2 of 2, 1st of 1 this round");
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

pub use assign::{Decision, Outcome, decide_assignment, route};
pub use candidate::{Candidate, SkipReason};
pub use criteria::{Criterion, all_match};
pub use lead::{LeadFacts, LeadsPerRound, SourceKind};
pub use order::{Direction, MoveError, move_rule};
pub use rule::{
    ActionKind, ActionRef, DefaultRule, RrEntry, Rule, RuleAction, RuleRef, check_round_robin,
    match_rule,
};
