//! Carrying out a rule's action: who gets the lead, who was passed over and
//! why (A1, A2, A4, A5, A8, A9, A12, A13).

use super::candidate::{Candidate, SkipReason};
use super::lead::LeadFacts;
use super::rule::{ActionKind, ActionRef, DefaultRule, RrEntry, Rule, RuleRef, match_rule};
use crate::ids::{MemberId, TeamId};
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

/// What a decision made of one member it considered (A12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// It got the lead.
    Chosen,
    /// It could have taken the lead, but the round robin's turn was another's.
    NotItsTurn,
    /// It could not take the lead: why, and in words ("at capacity 5/5",
    /// "outside working hours (Asia/Kolkata)").
    PassedOver { reason: SkipReason, detail: String },
}

/// One member a decision considered, in the rule's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Considered {
    pub member: MemberId,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// A routing decision, stored with the lead (A12): the rule that decided,
/// the outcome, every member considered and why each one passed over was
/// passed over, the round-robin position, and a reason a person can read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The rule that decided.
    pub rule: RuleRef,
    /// Who gets the lead.
    pub outcome: Outcome,
    /// Why, in words.
    pub reason: String,
    /// Everyone the action named, in its order, with its verdict.
    pub considered: Vec<Considered>,
    /// The round robin's count of leads before this one (round robins only).
    pub position: Option<u64>,
    /// The lead stays unassigned because nobody the rule names could take it
    /// (not because the rule leaves leads unassigned): it waits in the
    /// backlog (A11) and the routing admins hear of it (A14).
    pub nobody_could: bool,
}

impl Decision {
    /// The member the lead is assigned to, if any.
    pub fn assignee(&self) -> Option<MemberId> {
        match self.outcome {
            Outcome::Assigned(m) => Some(m),
            Outcome::Unassigned => None,
        }
    }

    /// Why `member` did not get this lead, in words (A12, "why not me").
    pub fn why_not(&self, member: MemberId) -> String {
        match self.considered.iter().find(|c| c.member == member) {
            None => "the rule that decided does not give leads to this member".into(),
            Some(c) => match &c.verdict {
                Verdict::Chosen => "this member got the lead".into(),
                Verdict::NotItsTurn => {
                    "this member could have taken it, but the round robin's turn was another member's"
                        .into()
                }
                Verdict::PassedOver { detail, .. } => format!("passed over: {detail}"),
            },
        }
    }
}

/// The state of one round robin (A2, A9), kept with its rule and updated by
/// every lead it routes: the members eligible in the current run with their
/// weights, and how many of the run's leads each one got.
///
/// The next lead goes, among the members still under their share of the
/// run so far counting this lead (`count < k × weight / total`), to the one
/// with the largest `weight / (count + 1)` — Balinski and Young's quota
/// method — the first in the rule's order on a tie. So over every stretch
/// of a run, each member has its weight's share of the run's leads within
/// one lead (never below the share rounded down, never above it rounded
/// up), and after N full rounds exactly N × its weight. When the eligible
/// members change (someone is passed over, or comes back), a new run starts
/// from zero: nobody's turns go to the member after it, and nobody who comes
/// back is owed a catch-up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RrState {
    /// Leads the round robin routed so far.
    pub position: u64,
    /// The current run's members and weights, in the rule's order.
    pub run: Vec<(MemberId, u8)>,
    /// The leads of the current round of the run each member got.
    pub counts: Vec<u64>,
}

impl RrState {
    /// The index in `eligible` of the member who gets the next lead; `None`
    /// when nobody is eligible (the position does not move then).
    pub fn pick(&mut self, eligible: &[(MemberId, u8)]) -> Option<usize> {
        if eligible.is_empty() {
            // Nobody could take the lead: that ends the run too.
            self.run.clear();
            self.counts.clear();
            return None;
        }
        if self.run != eligible || self.counts.len() != eligible.len() {
            self.run = eligible.to_vec();
            self.counts = vec![0; eligible.len()];
        }
        let total: u64 = eligible.iter().map(|(_, w)| u64::from(*w)).sum();
        let k = self.counts.iter().sum::<u64>() + 1;
        let mut best: Option<usize> = None;
        for (i, (_, w)) in eligible.iter().enumerate() {
            let (w, c) = (u64::from(*w), self.counts[i]);
            // Under its upper quota for k leads: c < k × w / total.
            if c * total >= k * w {
                continue;
            }
            best = match best {
                // w / (c + 1) larger than the best's.
                Some(b) if w * (self.counts[b] + 1) <= u64::from(eligible[b].1) * (c + 1) => {
                    Some(b)
                }
                _ => Some(i),
            };
        }
        let best = best.unwrap_or(0);
        self.counts[best] += 1;
        if k == total {
            // A full round: every member has exactly its weight; the next
            // round starts from zero.
            self.counts.iter_mut().for_each(|c| *c = 0);
        }
        self.position += 1;
        Some(best)
    }
}

/// What a decision needs to know beyond the action.
pub struct Context<'a> {
    /// What is known of a member (`None`: not a member of the account).
    pub candidates: &'a dyn Fn(MemberId) -> Option<Candidate>,
    /// The active members of a team, in a stable order (A13: a team's round
    /// robin is resolved when the lead arrives).
    pub team: &'a dyn Fn(TeamId) -> Vec<MemberId>,
    /// Members who may not get this lead whatever their state (a reclaim
    /// passes the member who did not make contact, A10).
    pub exclude: &'a [MemberId],
}

/// Carries out `action` for one lead; `state` is the round robin's state
/// (round robins only; left as it was by the other actions).
pub fn decide_assignment(action: ActionRef<'_>, cx: &Context<'_>, state: &mut RrState) -> Decision {
    let judge = |m: MemberId| -> Result<(), (SkipReason, String)> {
        if cx.exclude.contains(&m) {
            return Err((
                SkipReason::Reclaimed,
                "did not make contact in time".to_owned(),
            ));
        }
        let c = (cx.candidates)(m);
        match SkipReason::of(c.as_ref()) {
            None => Ok(()),
            Some(why) => Err((why, SkipReason::detail(why, c.as_ref()))),
        }
    };
    match action.kind {
        ActionKind::Unassigned => Decision {
            rule: action.rule,
            outcome: Outcome::Unassigned,
            reason: "unassigned: rule says leave unassigned".to_owned(),
            considered: Vec::new(),
            position: None,
            nobody_could: false,
        },
        ActionKind::Member(m) => match judge(m) {
            Ok(()) => Decision {
                rule: action.rule,
                outcome: Outcome::Assigned(m),
                reason: "assigned to the rule's member".to_owned(),
                considered: vec![Considered {
                    member: m,
                    verdict: Verdict::Chosen,
                }],
                position: None,
                nobody_could: false,
            },
            Err((reason, detail)) => Decision {
                rule: action.rule,
                outcome: Outcome::Unassigned,
                reason: format!("unassigned: the rule's member is {}", reason.label(1)),
                considered: vec![Considered {
                    member: m,
                    verdict: Verdict::PassedOver { reason, detail },
                }],
                position: None,
                nobody_could: true,
            },
        },
        ActionKind::RoundRobin(entries) => round_robin(action.rule, entries, &judge, state),
        ActionKind::Team(team) => {
            let entries: Vec<RrEntry> = (cx.team)(team)
                .into_iter()
                .map(|member| RrEntry {
                    member,
                    weight: super::lead::LeadsPerRound::MIN,
                    enabled: true,
                })
                .collect();
            let mut d = round_robin(action.rule, &entries, &judge, state);
            if entries.is_empty() {
                d.reason = "unassigned: the team has no active members".to_owned();
            }
            d
        }
    }
}

/// Routes one lead: chooses the rule ([`match_rule`]) and carries out its
/// action ([`decide_assignment`]) with the rule's round-robin state.
pub fn route(
    rules: &[Rule],
    default: &DefaultRule,
    lead: &LeadFacts,
    cx: &Context<'_>,
    state_of: &mut dyn FnMut(&RuleRef) -> RrState,
) -> Decision {
    let (rule, action) = match_rule(rules, default, lead);
    let mut state = state_of(&rule);
    decide_assignment(action, cx, &mut state)
}

fn round_robin(
    rule: RuleRef,
    entries: &[RrEntry],
    judge: &dyn Fn(MemberId) -> Result<(), (SkipReason, String)>,
    state: &mut RrState,
) -> Decision {
    let enabled: Vec<&RrEntry> = entries.iter().filter(|e| e.enabled).collect();
    let n = enabled.len();
    let mut considered = Vec::with_capacity(n);
    let mut eligible: Vec<(MemberId, u8)> = Vec::with_capacity(n);
    let mut skipped: Vec<SkipReason> = Vec::new();
    for e in &enabled {
        match judge(e.member) {
            Ok(()) => {
                eligible.push((e.member, e.weight.get()));
                considered.push(Considered {
                    member: e.member,
                    verdict: Verdict::NotItsTurn,
                });
            }
            Err((reason, detail)) => {
                skipped.push(reason);
                considered.push(Considered {
                    member: e.member,
                    verdict: Verdict::PassedOver { reason, detail },
                });
            }
        }
    }
    let position = state.position;
    if n == 0 {
        return Decision {
            rule,
            outcome: Outcome::Unassigned,
            reason: "unassigned: round robin has no enabled members".to_owned(),
            considered,
            position: Some(position),
            nobody_could: true,
        };
    }
    let Some(i) = state.pick(&eligible) else {
        return Decision {
            rule,
            outcome: Outcome::Unassigned,
            reason: nobody_eligible(&skipped),
            considered,
            position: Some(position),
            nobody_could: true,
        };
    };
    let (chosen, weight) = eligible[i];
    if let Some(c) = considered.iter_mut().find(|c| c.member == chosen) {
        c.verdict = Verdict::Chosen;
    }
    let place = enabled.iter().position(|e| e.member == chosen).unwrap_or(0) + 1;
    let reason = if skipped.is_empty() {
        format!(
            "round robin: member {place} of {n} (weight {weight}), lead {} of the rule",
            position + 1
        )
    } else {
        let whys: Vec<&str> = skipped.iter().map(|w| w.label(1)).collect();
        format!(
            "round robin: member {place} of {n} (weight {weight}); passed over {}: {}",
            skipped.len(),
            whys.join(", "),
        )
    };
    Decision {
        rule,
        outcome: Outcome::Assigned(chosen),
        reason,
        considered,
        position: Some(position),
        nobody_could: false,
    }
}

/// "unassigned: all 3 candidates at capacity", or with mixed reasons
/// "unassigned: no eligible candidate (2 at capacity, 1 away)".
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
