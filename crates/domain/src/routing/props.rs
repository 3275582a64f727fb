//! Property tests of the routing engine (A2, A3, A4, A5).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::reasons::{entry, ready};
use super::*;
use crate::authz::MemberStatus;
use crate::ids::{MemberId, RuleId, SourceId};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Round-robin entries for members 1, 2, ...: (weight, enabled) each.
fn entries() -> impl Strategy<Value = Vec<RrEntry>> {
    prop::collection::vec((1u8..=5, any::<bool>()), 0..8).prop_map(|v| {
        v.into_iter()
            .zip(1..)
            .map(|((w, on), m)| entry(m, w, on))
            .collect()
    })
}

/// A member's state: (status, agent, open clients, capacity, available).
type State = (u8, bool, u32, Option<u32>, bool);

/// What is known of one member: nothing (not a member), or any state at all.
fn candidate_state() -> impl Strategy<Value = Option<State>> {
    prop::option::weighted(
        0.9,
        (
            0u8..3,
            any::<bool>(),
            0u32..4,
            prop::option::of(0u32..4),
            any::<bool>(),
        ),
    )
}

fn candidate(m: MemberId, s: State) -> Candidate {
    let status = match s.0 {
        0 => MemberStatus::Active,
        1 => MemberStatus::Deactivated,
        _ => MemberStatus::Invited,
    };
    Candidate {
        member: m,
        status,
        agent: s.1,
        open_clients: s.2,
        capacity: s.3,
        availability: if s.4 {
            Ok(())
        } else {
            Err(crate::availability::Unavailable::Away)
        },
    }
}

/// Eligibility written out again, independently of `Candidate::skip_reason`.
fn may_work(c: Option<&Candidate>) -> bool {
    c.is_some_and(|c| {
        c.status == MemberStatus::Active
            && c.agent
            && c.availability.is_ok()
            && c.capacity.is_none_or(|cap| c.open_clients < cap)
    })
}

fn round_robin(es: &[RrEntry]) -> ActionRef<'_> {
    ActionRef {
        rule: RuleRef::Default,
        kind: ActionKind::RoundRobin(es),
    }
}

fn decide(
    es: &[RrEntry],
    cands: &dyn Fn(MemberId) -> Option<Candidate>,
    s: &mut RrState,
) -> Decision {
    let cx = Context {
        candidates: cands,
        team: &|_| Vec::new(),
        exclude: &[],
    };
    decide_assignment(round_robin(es), &cx, s)
}

proptest! {
    /// A2: over N full rounds with everyone eligible, every enabled member gets
    /// exactly N × its weight and disabled members get nothing.
    #[test]
    fn r_a2_each_member_gets_weight_per_round(es in entries(), rounds in 1u64..6) {
        let round_len: u64 = es.iter().filter(|e| e.enabled).map(|e| u64::from(e.weight.get())).sum();
        let cands = |m: MemberId| Some(ready(m.0));
        let mut s = RrState::default();
        let mut got: BTreeMap<MemberId, u64> = BTreeMap::new();
        let mut unassigned = 0u64;
        for _ in 0..rounds * round_len.max(1) {
            match decide(&es, &cands, &mut s).outcome {
                Outcome::Assigned(m) => *got.entry(m).or_default() += 1,
                Outcome::Unassigned => unassigned += 1,
            }
        }
        if round_len == 0 {
            prop_assert!(got.is_empty());
        } else {
            prop_assert_eq!(unassigned, 0);
        }
        for e in &es {
            let want = if e.enabled { rounds * u64::from(e.weight.get()) } else { 0 };
            prop_assert_eq!(got.get(&e.member).copied().unwrap_or(0), want, "member {}", e.member);
        }
    }

    /// A9: whoever is passed over, and whenever, over every run of leads
    /// with the same eligible members each one gets its weight's share of
    /// them within one lead (so a skipped member's turns are not handed to
    /// the member after it, and a member who comes back is not flooded).
    #[test]
    fn r_a9_fair_shares_within_one_lead_over_every_run(
        weights in prop::collection::vec(1u8..=5, 1..7),
        pattern in prop::collection::vec((prop::collection::vec(any::<bool>(), 7), 1usize..25), 1..8),
    ) {
        let es: Vec<RrEntry> = weights.iter().zip(1..).map(|(w, m)| entry(m, *w, true)).collect();
        let mut s = RrState::default();
        // A run is a maximal stretch of leads with the same eligible members:
        // consecutive segments with the same members make one run.
        let mut got: BTreeMap<MemberId, u64> = BTreeMap::new();
        let mut k = 0u64;
        let mut last: Option<Vec<bool>> = None;
        for (up, len) in pattern {
            let up: Vec<bool> = up[..es.len()].to_vec();
            if last.as_ref() != Some(&up) {
                got.clear();
                k = 0;
                last = Some(up.clone());
            }
            let avail = |m: MemberId| {
                let i = usize::try_from(m.0 - 1).unwrap();
                Some(if up[i] { ready(m.0) } else { Candidate { open_clients: 10, ..ready(m.0) } })
            };
            let eligible: Vec<&RrEntry> = es.iter().filter(|e| up[usize::try_from(e.member.0 - 1).unwrap()]).collect();
            let total: u64 = eligible.iter().map(|e| u64::from(e.weight.get())).sum();
            for _ in 0..len {
                k += 1;
                let d = decide(&es, &avail, &mut s);
                match d.outcome {
                    Outcome::Assigned(m) => {
                        prop_assert!(eligible.iter().any(|e| e.member == m));
                        *got.entry(m).or_default() += 1;
                    }
                    Outcome::Unassigned => prop_assert!(eligible.is_empty()),
                }
                for e in &eligible {
                    let share = (k * u64::from(e.weight.get())) as f64 / total as f64;
                    let n = got.get(&e.member).copied().unwrap_or(0) as f64;
                    prop_assert!(n >= share.floor() && n <= share.ceil(), "member {} got {} of {} leads, share {:.2}", e.member, n, k, share);
                }
            }
        }
    }

    /// A4, A5, A8: a lead never goes to an ineligible or disabled member, and
    /// stays unassigned only when no enabled member is eligible.
    #[test]
    fn r_a4_a5_never_assigned_to_an_ineligible_member(
        es in entries(),
        states in prop::collection::vec(candidate_state(), 8),
        skip in 0u64..20,
    ) {
        let team: BTreeMap<MemberId, Candidate> = states
            .into_iter()
            .zip(1..)
            .filter_map(|(s, m)| s.map(|s| (MemberId(m), candidate(MemberId(m), s))))
            .collect();
        let cands = |m: MemberId| team.get(&m).cloned();
        let mut s = RrState::default();
        for _ in 0..skip {
            decide(&es, &cands, &mut s);
        }
        let d = decide(&es, &cands, &mut s);
        match d.outcome {
            Outcome::Assigned(m) => {
                prop_assert!(es.iter().any(|e| e.enabled && e.member == m));
                prop_assert!(may_work(team.get(&m)));
                prop_assert!(d.reason.starts_with("round robin: "));
            }
            Outcome::Unassigned => {
                prop_assert!(es.iter().filter(|e| e.enabled).all(|e| !may_work(team.get(&e.member))));
                prop_assert!(d.reason.starts_with("unassigned: "));
                prop_assert!(d.nobody_could);
            }
        }
        // A12: everyone enabled is in the record, in order, once.
        let listed: Vec<MemberId> = d.considered.iter().map(|c| c.member).collect();
        let enabled: Vec<MemberId> = es.iter().filter(|e| e.enabled).map(|e| e.member).collect();
        prop_assert_eq!(listed, enabled);
    }

    /// A3: the first rule whose criteria all match decides; the default rule
    /// decides only when none matches.
    #[test]
    fn r_a3_first_matching_rule_decides(
        specs in prop::collection::vec(prop::collection::vec((0u8..3, 1i64..4), 1..3), 0..6),
        lead_source in 1i64..4,
        facebook in any::<bool>(),
        gold in any::<bool>(),
    ) {
        // Criterion kinds: 0 = source n, 1 = any Facebook, 2 = tier equals gold (n even) or silver.
        let criterion = |(kind, n): (u8, i64)| match kind {
            0 => Criterion::Source(SourceId(n)),
            1 => Criterion::AnyFacebook,
            _ => Criterion::FieldEquals {
                field: "tier".into(),
                value: if n % 2 == 0 { " GOLD" } else { "Silver " }.into(),
            },
        };
        let holds = |(kind, n): (u8, i64)| match kind {
            0 => n == lead_source,
            1 => facebook,
            _ => (n % 2 == 0) == gold,
        };
        let rules: Vec<Rule> = specs
            .iter()
            .zip(100..)
            .map(|(cs, id)| Rule {
                id: RuleId(id),
                name: format!("rule {id}"),
                criteria: cs.iter().copied().map(criterion).collect(),
                action: RuleAction::Member(MemberId(id)),
                contact: None,
            })
            .collect();
        let mut lead = LeadFacts::new(if facebook { SourceKind::Facebook } else { SourceKind::Website });
        lead.source_id = Some(SourceId(lead_source));
        lead.fields.insert("Tier".into(), if gold { "gold" } else { "silver" }.into());

        let want = specs
            .iter()
            .position(|cs| cs.iter().copied().all(holds))
            .map_or(RuleRef::Default, |i| RuleRef::Advanced(rules[i].id));
        let default = DefaultRule::Unassigned;
        let (got, action) = match_rule(&rules, &default, &lead);
        prop_assert_eq!(got, want);
        prop_assert_eq!(action.rule, want);
        let cands = |m: MemberId| Some(ready(m.0));
        let cx = Context { candidates: &cands, team: &|_| Vec::new(), exclude: &[] };
        let d = route(&rules, &default, &lead, &cx, &mut |_| RrState::default());
        prop_assert_eq!(d.rule, want);
        match want {
            RuleRef::Advanced(id) => prop_assert_eq!(d.outcome, Outcome::Assigned(MemberId(id.0))),
            RuleRef::Default => prop_assert_eq!(d.outcome, Outcome::Unassigned),
            RuleRef::Team(_) => prop_assert!(false, "match_rule never gives a team delivery"),
        }
    }

    /// A3: moving a rule up then down (or down then up) gives the list back.
    #[test]
    fn r_a3_moving_a_rule_is_undone_by_the_opposite_move(n in 1usize..8, pick in any::<prop::sample::Index>()) {
        let original: Vec<RuleId> = (1..=n as i64).map(RuleId).collect();
        let id = original[pick.index(n)];
        for (there, back) in [(Direction::Up, Direction::Down), (Direction::Down, Direction::Up)] {
            let mut order = original.clone();
            if move_rule(&mut order, id, there).is_ok() {
                prop_assert_ne!(&order, &original);
                prop_assert_eq!(move_rule(&mut order, id, back), Ok(()));
            }
            prop_assert_eq!(&order, &original);
        }
    }
}
