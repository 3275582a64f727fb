//! Decisions and their reasons, one scenario at a time (A1-A5).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::authz::MemberStatus;
use crate::ids::{MemberId, RuleId, SourceId};
use std::cell::Cell;
use std::collections::BTreeMap;

/// A round-robin entry of member `m` with weight `w`.
pub(super) fn entry(m: i64, w: u8, enabled: bool) -> RrEntry {
    let weight = LeadsPerRound::parse("weight", i64::from(w)).unwrap();
    RrEntry {
        member: MemberId(m),
        weight,
        enabled,
    }
}

/// An active agent with room for more clients.
pub(super) fn ready(m: i64) -> Candidate {
    Candidate {
        member: MemberId(m),
        status: MemberStatus::Active,
        agent: true,
        open_clients: 0,
        capacity: Some(10),
        on_duty: None,
    }
}

fn full(m: i64) -> Candidate {
    Candidate {
        open_clients: 10,
        ..ready(m)
    }
}

fn gone(m: i64) -> Candidate {
    Candidate {
        status: MemberStatus::Deactivated,
        ..ready(m)
    }
}

fn team(cs: &[Candidate]) -> BTreeMap<MemberId, Candidate> {
    cs.iter().map(|c| (c.member, *c)).collect()
}

fn rr<'a>(entries: &'a [RrEntry]) -> ActionRef<'a> {
    ActionRef {
        rule: RuleRef::Advanced(RuleId(9)),
        kind: ActionKind::RoundRobin(entries),
    }
}

fn decide(action: ActionRef<'_>, team: &BTreeMap<MemberId, Candidate>, pos: u64) -> Decision {
    decide_assignment(action, &|m| team.get(&m).copied(), pos)
}

fn four() -> Vec<RrEntry> {
    vec![
        entry(1, 1, true),
        entry(2, 1, true),
        entry(3, 2, true),
        entry(4, 1, true),
    ]
}

#[test]
fn r_a2_reason_names_the_member_and_its_turn_in_the_round() {
    let t = team(&[ready(1), ready(2), ready(3), ready(4)]);
    let es = four();
    let got: Vec<(Option<MemberId>, String)> = (0..6)
        .map(|p| decide(rr(&es), &t, p))
        .map(|d| (d.assignee(), d.reason))
        .collect();
    let want = [
        (1, "round robin: member 1 of 4, 1st of 1 this round"),
        (2, "round robin: member 2 of 4, 1st of 1 this round"),
        (3, "round robin: member 3 of 4, 1st of 2 this round"),
        (3, "round robin: member 3 of 4, 2nd of 2 this round"),
        (4, "round robin: member 4 of 4, 1st of 1 this round"),
        (1, "round robin: member 1 of 4, 1st of 1 this round"),
    ];
    for ((m, reason), (wm, wr)) in got.into_iter().zip(want) {
        assert_eq!((m, reason.as_str()), (Some(MemberId(wm)), wr));
    }
}

#[test]
fn r_a4_a5_skipped_members_are_named_in_the_reason() {
    let t = team(&[ready(1), ready(2), full(3), gone(4)]);
    let d = decide(rr(&four()), &t, 2);
    assert_eq!(d.outcome, Outcome::Assigned(MemberId(1)));
    assert_eq!(
        d.reason,
        "round robin: member 1 of 4 (skipped 2: at capacity, deactivated)"
    );
    assert_eq!(d.rule, RuleRef::Advanced(RuleId(9)));
}

#[test]
fn r_a4_all_candidates_at_capacity_leaves_the_lead_unassigned() {
    let es = vec![entry(1, 1, true), entry(2, 3, true), entry(3, 1, true)];
    let t = team(&[full(1), full(2), full(3)]);
    for p in 0..5 {
        let d = decide(rr(&es), &t, p);
        assert_eq!(d.outcome, Outcome::Unassigned);
        assert_eq!(d.reason, "unassigned: all 3 candidates at capacity");
    }
}

#[test]
fn r_a4_a5_mixed_reasons_are_counted() {
    let es = vec![
        entry(1, 1, true),
        entry(2, 1, true),
        entry(3, 1, true),
        entry(4, 1, false),
    ];
    let t = team(&[full(1), gone(2), full(3), ready(4)]);
    let d = decide(rr(&es), &t, 0);
    assert_eq!(d.outcome, Outcome::Unassigned);
    assert_eq!(
        d.reason,
        "unassigned: no eligible candidate (2 at capacity, 1 deactivated)"
    );
}

#[test]
fn r_a5_a_lone_candidate_is_described_in_the_singular() {
    let es = vec![entry(1, 2, true)];
    let not_agent = Candidate {
        agent: false,
        ..ready(1)
    };
    let d = decide(rr(&es), &team(&[not_agent]), 0);
    assert_eq!(d.reason, "unassigned: the only candidate is not an agent");
    let d = decide(rr(&es), &team(&[]), 0);
    assert_eq!(
        d.reason,
        "unassigned: the only candidate is no longer a member"
    );
    let es = vec![entry(1, 1, true), entry(2, 1, true)];
    let t = team(&[
        Candidate {
            agent: false,
            ..ready(1)
        },
        Candidate {
            agent: false,
            ..ready(2)
        },
    ]);
    assert_eq!(
        decide(rr(&es), &t, 0).reason,
        "unassigned: all 2 candidates not agents"
    );
}

#[test]
fn r_a2_disabled_members_are_not_counted_and_get_nothing() {
    let es = vec![entry(1, 1, false), entry(2, 1, true), entry(3, 1, false)];
    let t = team(&[ready(1), ready(2), ready(3)]);
    for p in 0..3 {
        let d = decide(rr(&es), &t, p);
        assert_eq!(d.outcome, Outcome::Assigned(MemberId(2)));
        assert_eq!(d.reason, "round robin: member 1 of 1, 1st of 1 this round");
    }
    let none_enabled = [entry(1, 1, false)];
    for es in [&none_enabled[..], &[]] {
        let d = decide(rr(es), &t, 0);
        assert_eq!(d.outcome, Outcome::Unassigned);
        assert_eq!(d.reason, "unassigned: round robin has no enabled members");
    }
}

#[test]
fn r_a2_huge_positions_still_land_on_the_wheel() {
    let t = team(&[ready(1), ready(2), ready(3), ready(4)]);
    let d = decide(rr(&four()), &t, u64::MAX);
    // u64::MAX mod 5 = 0.
    assert_eq!(d.outcome, Outcome::Assigned(MemberId(1)));
}

#[test]
fn r_a3_unassigned_action_leaves_the_lead_unassigned() {
    let action = ActionRef {
        rule: RuleRef::Default,
        kind: ActionKind::Unassigned,
    };
    let d = decide(action, &team(&[ready(1)]), 0);
    assert_eq!(d.outcome, Outcome::Unassigned);
    assert_eq!(d.reason, "unassigned: rule says leave unassigned");
    assert_eq!(d.rule, RuleRef::Default);
}

#[test]
fn r_a3_member_action_assigns_that_member_when_it_may_work() {
    let action = ActionRef {
        rule: RuleRef::Advanced(RuleId(2)),
        kind: ActionKind::Member(MemberId(5)),
    };
    let d = decide(action, &team(&[ready(5)]), 0);
    assert_eq!(d.outcome, Outcome::Assigned(MemberId(5)));
    assert_eq!(d.reason, "assigned to the rule's member");

    let d = decide(action, &team(&[full(5)]), 0);
    assert_eq!(d.outcome, Outcome::Unassigned);
    assert_eq!(d.reason, "unassigned: the rule's member is at capacity");

    let off = Candidate {
        on_duty: Some(false),
        ..ready(5)
    };
    assert_eq!(
        decide(action, &team(&[off]), 0).reason,
        "unassigned: the rule's member is off duty"
    );
    assert_eq!(
        decide(action, &team(&[gone(5)]), 0).reason,
        "unassigned: the rule's member is deactivated"
    );
}

#[test]
fn r_a1_default_rule_decides_leads_no_rule_matches() {
    let rules = vec![Rule {
        id: RuleId(1),
        name: "Facebook".into(),
        criteria: vec![Criterion::AnyFacebook],
        action: RuleAction::Member(MemberId(7)),
    }];
    let default = DefaultRule::RoundRobin(vec![entry(1, 1, true), entry(2, 1, true)]);
    let t = team(&[ready(1), ready(2), ready(7)]);
    let asked = Cell::new(0);
    let position_of = |r: &RuleRef| {
        asked.set(asked.get() + 1);
        assert_eq!(*r, RuleRef::Default);
        1
    };
    let cands = |m: MemberId| t.get(&m).copied();

    let mut web = LeadFacts::new(SourceKind::Website);
    web.source_id = Some(SourceId(3));
    let d = route(&rules, &default, &web, &cands, &position_of);
    assert_eq!(
        (d.rule, d.outcome),
        (RuleRef::Default, Outcome::Assigned(MemberId(2)))
    );
    assert_eq!(asked.get(), 1);

    let fb = LeadFacts::new(SourceKind::Facebook);
    let d = route(&rules, &default, &fb, &cands, &position_of);
    assert_eq!(d.rule, RuleRef::Advanced(RuleId(1)));
    assert_eq!(d.outcome, Outcome::Assigned(MemberId(7)));
    assert_eq!(
        asked.get(),
        1,
        "no position is taken for a rule that is not round robin"
    );

    let d = route(&[], &DefaultRule::Unassigned, &web, &cands, &position_of);
    assert_eq!((d.rule, d.outcome), (RuleRef::Default, Outcome::Unassigned));
    assert_eq!(d.reason, "unassigned: rule says leave unassigned");
}

#[test]
fn r_a2_candidates_are_asked_once_per_member() {
    let es = vec![entry(1, 5, true), entry(2, 5, true), entry(3, 5, true)];
    let asked = Cell::new(0);
    let cands = |m: MemberId| {
        asked.set(asked.get() + 1);
        Some(full(m.0))
    };
    let d = decide_assignment(rr(&es), &cands, 7);
    assert_eq!(d.outcome, Outcome::Unassigned);
    assert_eq!(asked.get(), 3);
}
