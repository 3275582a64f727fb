//! Decisions and their records, one scenario at a time (A1-A5, A9, A12, A13).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::authz::MemberStatus;
use crate::availability::Unavailable;
use crate::ids::{MemberId, RuleId, SourceId, TeamId};
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

/// An active agent with room for more clients, available now.
pub(super) fn ready(m: i64) -> Candidate {
    Candidate {
        member: MemberId(m),
        status: MemberStatus::Active,
        agent: true,
        open_clients: 0,
        capacity: Some(10),
        availability: Ok(()),
    }
}

fn full(m: i64) -> Candidate {
    Candidate {
        open_clients: 10,
        ..ready(m)
    }
}

fn away(m: i64) -> Candidate {
    Candidate {
        availability: Err(Unavailable::Away),
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
    cs.iter().map(|c| (c.member, c.clone())).collect()
}

fn rr(entries: &[RrEntry]) -> ActionRef<'_> {
    ActionRef {
        rule: RuleRef::Advanced(RuleId(9)),
        kind: ActionKind::RoundRobin(entries),
    }
}

fn decide(
    action: ActionRef<'_>,
    team: &BTreeMap<MemberId, Candidate>,
    s: &mut RrState,
) -> Decision {
    let cands = |m: MemberId| team.get(&m).cloned();
    let cx = Context {
        candidates: &cands,
        team: &|_| Vec::new(),
        exclude: &[],
    };
    decide_assignment(action, &cx, s)
}

fn verdicts(d: &Decision) -> Vec<(i64, String)> {
    d.considered
        .iter()
        .map(|c| {
            let v = match &c.verdict {
                Verdict::Chosen => "chosen".to_owned(),
                Verdict::NotItsTurn => "not its turn".to_owned(),
                Verdict::PassedOver { detail, .. } => detail.clone(),
            };
            (c.member.0, v)
        })
        .collect()
}

#[test]
fn r_a9_a_passed_over_member_does_not_hand_its_turns_to_the_next() {
    // The finding: A, B, E at weight 1 with E passed over gave A 4 and B 2
    // of six leads. Now A and B share them 3/3.
    let es = vec![entry(1, 1, true), entry(2, 1, true), entry(5, 1, true)];
    let t = team(&[ready(1), ready(2), away(5)]);
    let mut s = RrState::default();
    let got: Vec<i64> = (0..6)
        .map(|_| decide(rr(&es), &t, &mut s).assignee().unwrap().0)
        .collect();
    assert_eq!(got.iter().filter(|m| **m == 1).count(), 3);
    assert_eq!(got.iter().filter(|m| **m == 2).count(), 3);
    assert_eq!(s.position, 6);
}

#[test]
fn r_a12_the_decision_records_everyone_considered_and_why() {
    let es = vec![
        entry(1, 1, true),
        entry(2, 2, true),
        entry(3, 1, true),
        entry(4, 1, false),
    ];
    let t = team(&[full(1), ready(2), away(3)]);
    let mut s = RrState {
        position: 41,
        ..RrState::default()
    };
    let d = decide(rr(&es), &t, &mut s);
    assert_eq!(d.assignee(), Some(MemberId(2)));
    assert_eq!(d.position, Some(41));
    assert!(!d.nobody_could);
    assert_eq!(
        verdicts(&d),
        [
            (1, "at capacity 10/10".to_owned()),
            (2, "chosen".to_owned()),
            (3, "away".to_owned()),
        ]
    );
    assert_eq!(
        d.reason,
        "round robin: member 2 of 3 (weight 2); passed over 2: at capacity, away"
    );
    assert_eq!(d.why_not(MemberId(3)), "passed over: away");
    assert!(d.why_not(MemberId(4)).contains("does not give leads"));
}

#[test]
fn r_a4_a11_nobody_able_leaves_the_lead_unassigned_for_the_backlog() {
    let es = vec![entry(1, 1, true), entry(2, 1, true), entry(3, 1, true)];
    let mut s = RrState::default();
    let d = decide(rr(&es), &team(&[full(1), full(2), full(3)]), &mut s);
    assert_eq!(d.outcome, Outcome::Unassigned);
    assert!(d.nobody_could);
    assert_eq!(d.reason, "unassigned: all 3 candidates at capacity");
    assert_eq!(s.position, 0, "no lead routed, no turn taken");
    let d = decide(rr(&es), &team(&[full(1), gone(2), away(3)]), &mut s);
    assert_eq!(
        d.reason,
        "unassigned: no eligible candidate (1 at capacity, 1 deactivated, 1 away)"
    );
    let d = decide(rr(&es), &team(&[ready(1), gone(2)]), &mut s);
    assert_eq!(d.assignee(), Some(MemberId(1)));
}

#[test]
fn r_a3_unassigned_and_member_actions() {
    let mut s = RrState::default();
    let t = team(&[ready(5), gone(6)]);
    let un = ActionRef {
        rule: RuleRef::Default,
        kind: ActionKind::Unassigned,
    };
    let d = decide(un, &t, &mut s);
    assert_eq!(d.reason, "unassigned: rule says leave unassigned");
    assert!(!d.nobody_could, "left unassigned on purpose: no backlog");
    let member = |m| ActionRef {
        rule: RuleRef::Advanced(RuleId(1)),
        kind: ActionKind::Member(MemberId(m)),
    };
    assert_eq!(decide(member(5), &t, &mut s).assignee(), Some(MemberId(5)));
    let d = decide(member(6), &t, &mut s);
    assert_eq!(d.reason, "unassigned: the rule's member is deactivated");
    assert!(d.nobody_could);
    let d = decide(member(7), &t, &mut s);
    assert_eq!(
        d.reason,
        "unassigned: the rule's member is no longer a member"
    );
}

#[test]
fn r_a13_a_team_target_is_the_teams_members_when_the_lead_arrives() {
    let t = team(&[ready(1), ready(2), away(3)]);
    let cands = |m: MemberId| t.get(&m).cloned();
    let members = |team: TeamId| {
        if team == TeamId(7) {
            vec![MemberId(1), MemberId(2), MemberId(3)]
        } else {
            Vec::new()
        }
    };
    let cx = Context {
        candidates: &cands,
        team: &members,
        exclude: &[],
    };
    let action = ActionRef {
        rule: RuleRef::Advanced(RuleId(1)),
        kind: ActionKind::Team(TeamId(7)),
    };
    let mut s = RrState::default();
    let got: Vec<Option<MemberId>> = (0..4)
        .map(|_| decide_assignment(action, &cx, &mut s).assignee())
        .collect();
    assert_eq!(
        got,
        [
            Some(MemberId(1)),
            Some(MemberId(2)),
            Some(MemberId(1)),
            Some(MemberId(2))
        ]
    );
    let empty = ActionRef {
        kind: ActionKind::Team(TeamId(8)),
        ..action
    };
    let d = decide_assignment(empty, &cx, &mut s);
    assert_eq!(d.reason, "unassigned: the team has no active members");
}

#[test]
fn r_a10_a_reclaim_passes_the_member_who_did_not_make_contact() {
    let es = vec![entry(1, 1, true), entry(2, 1, true)];
    let t = team(&[ready(1), ready(2)]);
    let cands = |m: MemberId| t.get(&m).cloned();
    let cx = Context {
        candidates: &cands,
        team: &|_| Vec::new(),
        exclude: &[MemberId(1)],
    };
    let mut s = RrState::default();
    for _ in 0..3 {
        let d = decide_assignment(rr(&es), &cx, &mut s);
        assert_eq!(d.assignee(), Some(MemberId(2)));
        assert_eq!(
            d.why_not(MemberId(1)),
            "passed over: did not make contact in time"
        );
    }
}

#[test]
fn r_a1_default_rule_decides_leads_no_rule_matches() {
    let rules = vec![Rule {
        id: RuleId(3),
        name: "Ads".into(),
        criteria: vec![Criterion::Source(SourceId(1))],
        action: RuleAction::Member(MemberId(1)),
        contact: None,
    }];
    let default = DefaultRule::RoundRobin(vec![entry(2, 1, true)]);
    let t = team(&[ready(1), ready(2)]);
    let cands = |m: MemberId| t.get(&m).cloned();
    let cx = Context {
        candidates: &cands,
        team: &|_| Vec::new(),
        exclude: &[],
    };
    let mut other = LeadFacts::new(SourceKind::Website);
    other.source_id = Some(SourceId(2));
    let d = route(&rules, &default, &other, &cx, &mut |_| RrState::default());
    assert_eq!(
        (d.rule, d.assignee()),
        (RuleRef::Default, Some(MemberId(2)))
    );
    let mut ads = LeadFacts::new(SourceKind::Website);
    ads.source_id = Some(SourceId(1));
    let d = route(&rules, &default, &ads, &cx, &mut |_| RrState::default());
    assert_eq!(
        (d.rule, d.assignee()),
        (RuleRef::Advanced(RuleId(3)), Some(MemberId(1)))
    );
}
