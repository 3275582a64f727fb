//! Property tests: `decide` and `client_scope` agree (P9), and the guard
//! rails hold for any actor whatever its permissions (P4, M5, O5).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::tests::Facts;
use super::*;
use crate::ids::{AccountId, MemberId, TeamId, UserId};
use proptest::prelude::*;

fn status() -> impl Strategy<Value = MemberStatus> {
    prop_oneof![
        4 => Just(MemberStatus::Active),
        1 => Just(MemberStatus::Invited),
        1 => Just(MemberStatus::Deactivated),
    ]
}

fn permissions() -> impl Strategy<Value = PermissionSet> {
    any::<u32>().prop_map(|b| PermissionSet::from_bits(i64::from(b)))
}

/// Any actor: member 1..=3, any permissions, teams among 1..=3, any status,
/// owner or not, with or without 2FA where the account may require it.
fn actor() -> impl Strategy<Value = Actor> {
    (
        1i64..=3,
        status(),
        permissions(),
        prop::bool::weighted(0.1),
        any::<bool>(),
        prop::bool::weighted(0.3),
        prop::collection::vec(1i64..=3, 0..3),
    )
        .prop_map(
            |(member, status, permissions, is_owner, has_2fa, requires, teams)| Actor {
                user: UserId(member),
                member: MemberId(member),
                account: AccountId(1),
                status,
                permissions,
                is_owner,
                has_2fa,
                account_requires_2fa: requires,
                teams: teams.into_iter().map(TeamId).collect(),
            },
        )
}

/// Any client: assigned to member 1..=3 or nobody, in team 1..=3 or none,
/// the actor a guest of it or not.
fn client() -> impl Strategy<Value = ClientFacts> {
    (
        prop::option::of(1i64..=3),
        prop::option::of(1i64..=3),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(assignee, team, guest)| ClientFacts {
            assignee: assignee.map(MemberId),
            team: team.map(TeamId),
            actor_is_guest: guest,
        })
}

fn target() -> impl Strategy<Value = MemberFacts> {
    (1i64..=3, status(), permissions()).prop_map(|(m, status, permissions)| MemberFacts {
        member: MemberId(m),
        status,
        is_owner: false,
        permissions,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// P9: every client the scope lets a member list, `decide` lets it view,
    /// and the reverse.
    #[test]
    fn r_p9_client_scope_admits_exactly_what_decide_lets_one_view(a in actor(), c in client()) {
        let scope = client_scope(&a);
        prop_assert_eq!(scope.member, a.member);
        let listed = scope.admits(c.assignee, c.team, c.actor_is_guest);
        let viewable = decide(&a, &Action::ViewClient(&c)).is_ok();
        prop_assert_eq!(listed, viewable, "scope {:?} vs decide for {:?}", scope, c);
    }

    /// Nothing is done to a client the member could not list.
    #[test]
    fn r_p9_every_client_action_needs_a_client_in_scope(
        a in actor(),
        c in client(),
        to in target(),
    ) {
        let scope = client_scope(&a);
        let listed = scope.admits(c.assignee, c.team, c.actor_is_guest);
        for action in [
            Action::UpdateClient(&c),
            Action::ClaimClient(&c),
            Action::AssignClient { client: &c, to: &to },
            Action::DeleteClient(&c),
            Action::DeliverClient(&c),
            Action::InviteGuest(&c),
        ] {
            if decide(&a, &action).is_ok() {
                prop_assert!(listed, "{:?} allowed on a client out of scope {:?}", action, scope);
            }
        }
    }

    /// P4: a grant is refused exactly when it holds a permission the actor
    /// lacks (the owner lacks none; `agent` is a work mode, never refused),
    /// and the refusal names exactly those.
    #[test]
    fn r_p4_cannot_grant_names_exactly_what_is_missing(a in actor(), grants in permissions()) {
        let a = Actor {
            status: MemberStatus::Active,
            account_requires_2fa: false,
            permissions: a.permissions.with(Permission::MembersManage),
            ..a
        };
        let missing = if a.is_owner {
            PermissionSet::EMPTY
        } else {
            grants.without(Permission::Agent).minus(a.permissions)
        };
        let want = if missing.is_empty() {
            Ok(())
        } else {
            Err(Denied::CannotGrant(missing.names()))
        };
        prop_assert_eq!(decide(&a, &Action::ManageRoles { grants }), want.clone());
        prop_assert_eq!(decide(&a, &Action::InviteMember { grants }), want);
    }

    /// P4, O2: no other member, whatever it holds, edits, deactivates or
    /// removes the owner.
    #[test]
    fn r_p4_no_other_member_touches_the_owner(a in actor(), grants in prop::option::of(permissions())) {
        let owner = MemberFacts {
            member: MemberId(9),
            status: MemberStatus::Active,
            is_owner: true,
            permissions: PermissionSet::all(),
        };
        let a = Actor { is_owner: false, ..a };
        for action in [
            Action::EditMember { target: &owner, grants },
            Action::DeactivateMember { target: &owner },
            Action::RemoveMember { target: &owner },
        ] {
            prop_assert!(decide(&a, &action).is_err());
        }
    }

    /// M5, O5: an inactive actor is denied everything; one that must enrol
    /// 2FA may only look at itself and secure its own login.
    #[test]
    fn r_m5_r_o5_inactive_or_unenrolled_actors_do_nothing_else(a in actor()) {
        let facts = Facts::new();
        for (label, action) in facts.actions() {
            let got = decide(&a, &action);
            if a.status != MemberStatus::Active {
                prop_assert_eq!(got, Err(Denied::Inactive), "{}", label);
            } else if a.account_requires_2fa && !a.has_2fa {
                let own = matches!(action, Action::ViewSelf | Action::ManageOwnSecurity);
                prop_assert_eq!(got.is_ok(), own, "{}", label);
            }
        }
    }
}
