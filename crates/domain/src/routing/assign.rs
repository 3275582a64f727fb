//! Carrying out a rule's action: who gets the lead, and why (A1, A2, A4, A5).

use super::candidate::{Candidate, SkipReason};
use super::lead::LeadFacts;
use super::rule::{ActionKind, ActionRef, DefaultRule, RrEntry, Rule, RuleRef, match_rule};
use crate::ids::MemberId;
use serde::{Deserialize, Serialize};

/// Who gets a lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Outcome {
    /// The lead is assigned to this member.
    Assigned(MemberId),
    /// The lead stays unassigned, for anyone allowed to claim it.
    Unassigned,
}

/// A routing decision, stored with the lead: the rule that decided, the
/// outcome, and a reason a person can read ("unassigned: all 3 candidates at
/// capacity").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The rule that decided.
    pub rule: RuleRef,
    /// Who gets the lead.
    pub outcome: Outcome,
    /// Why, in words.
    pub reason: String,
}

impl Decision {
    /// The member the lead is assigned to, if any.
    pub fn assignee(&self) -> Option<MemberId> {
        match self.outcome {
            Outcome::Assigned(m) => Some(m),
            Outcome::Unassigned => None,
        }
    }
}

/// Carry out `action` for one lead.
///
/// `candidates` tells what is known of a member (`None`: not a member of the
/// account); it is asked at most once per member named by the action.
/// `position` is the rule's 0-based count of leads routed so far, taken by the
/// store from a per-rule counter; only round robin looks at it (see
/// [`ActionRef::uses_position`]).
///
/// Round robin: the wheel is the enabled entries in order, each repeated
/// `weight` times, so a round has as many slots as the weights add up to and
/// over N full rounds every enabled member gets exactly N × its weight (A2).
/// The lead takes slot `position mod round length`; when that slot's member
/// may not get leads (A4, A5), the next slot along the wheel whose member may
/// gets it, at most one full turn; when no member may, the lead stays
/// unassigned.
pub fn decide_assignment(
    action: ActionRef<'_>,
    candidates: &dyn Fn(MemberId) -> Option<Candidate>,
    position: u64,
) -> Decision {
    let (outcome, reason) = match action.kind {
        ActionKind::Unassigned => (
            Outcome::Unassigned,
            "unassigned: rule says leave unassigned".to_owned(),
        ),
        ActionKind::Member(m) => match SkipReason::of(candidates(m).as_ref()) {
            None => (
                Outcome::Assigned(m),
                "assigned to the rule's member".to_owned(),
            ),
            Some(why) => (
                Outcome::Unassigned,
                format!("unassigned: the rule's member is {}", why.label(1)),
            ),
        },
        ActionKind::RoundRobin(entries) => round_robin(entries, candidates, position),
    };
    Decision {
        rule: action.rule,
        outcome,
        reason,
    }
}

/// Route one lead: choose the rule ([`match_rule`]), take its position from
/// `position_of` (asked only when the action is a round robin) and carry out
/// its action ([`decide_assignment`]).
pub fn route(
    rules: &[Rule],
    default: &DefaultRule,
    lead: &LeadFacts,
    candidates: &dyn Fn(MemberId) -> Option<Candidate>,
    position_of: &dyn Fn(&RuleRef) -> u64,
) -> Decision {
    let (rule, action) = match_rule(rules, default, lead);
    let position = if action.uses_position() {
        position_of(&rule)
    } else {
        0
    };
    decide_assignment(action, candidates, position)
}

/// Where slot `slot` of a round falls: the index among `enabled` of the entry
/// that owns it, and which of that entry's consecutive slots it is (0-based).
fn locate(enabled: &[&RrEntry], slot: u64) -> (usize, u8) {
    let mut rest = slot;
    for (i, e) in enabled.iter().enumerate() {
        let w = u64::from(e.weight.get());
        if rest < w {
            // `rest < w <= 5`, so it fits in a u8.
            return (i, u8::try_from(rest).unwrap_or(0));
        }
        rest -= w;
    }
    (0, 0)
}

fn round_robin(
    entries: &[RrEntry],
    candidates: &dyn Fn(MemberId) -> Option<Candidate>,
    position: u64,
) -> (Outcome, String) {
    let enabled: Vec<&RrEntry> = entries.iter().filter(|e| e.enabled).collect();
    let n = enabled.len();
    let round_len: u64 = enabled.iter().map(|e| u64::from(e.weight.get())).sum();
    if n == 0 || round_len == 0 {
        return (
            Outcome::Unassigned,
            "unassigned: round robin has no enabled members".to_owned(),
        );
    }
    let (start, nth) = locate(&enabled, position % round_len);

    // An ineligible entry's remaining slots are all ineligible too, so walking
    // slot by slot for one turn is walking entry by entry from `start`.
    let mut skipped: Vec<SkipReason> = Vec::new();
    for step in 0..n {
        let i = (start + step) % n;
        let Some(entry) = enabled.get(i) else { break };
        match SkipReason::of(candidates(entry.member).as_ref()) {
            Some(why) => skipped.push(why),
            None => {
                let reason = if skipped.is_empty() {
                    format!(
                        "round robin: member {} of {n}, {} of {} this round",
                        i + 1,
                        ordinal(nth + 1),
                        entry.weight.get(),
                    )
                } else {
                    let whys: Vec<&str> = skipped.iter().map(|w| w.label(1)).collect();
                    format!(
                        "round robin: member {} of {n} (skipped {}: {})",
                        i + 1,
                        skipped.len(),
                        whys.join(", "),
                    )
                };
                return (Outcome::Assigned(entry.member), reason);
            }
        }
    }
    (Outcome::Unassigned, nobody_eligible(&skipped))
}

/// "unassigned: all 3 candidates at capacity", or with mixed reasons
/// "unassigned: no eligible candidate (2 at capacity, 1 deactivated)".
fn nobody_eligible(skipped: &[SkipReason]) -> String {
    let mut counts: Vec<(SkipReason, usize)> = SkipReason::ALL
        .into_iter()
        .map(|r| (r, skipped.iter().filter(|s| **s == r).count()))
        .filter(|(_, c)| *c > 0)
        .collect();
    // Most frequent first; ties keep the order of `SkipReason::ALL`.
    counts.sort_by_key(|(_, c)| std::cmp::Reverse(*c));
    match counts.as_slice() {
        [(why, 1)] => format!("unassigned: the only candidate is {}", why.label(1)),
        [(why, c)] => format!("unassigned: all {c} candidates {}", why.label(*c)),
        _ => {
            let parts: Vec<String> = counts
                .iter()
                .map(|(why, c)| format!("{c} {}", why.label(*c)))
                .collect();
            format!("unassigned: no eligible candidate ({})", parts.join(", "))
        }
    }
}

fn ordinal(n: u8) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals_read_as_words() {
        let got: Vec<String> = (1..=5).map(ordinal).collect();
        assert_eq!(got, ["1st", "2nd", "3rd", "4th", "5th"]);
        assert_eq!(ordinal(11), "11th");
    }
}
