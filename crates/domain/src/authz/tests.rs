//! The permission matrix of the presets and the guard rails of `decide`
//! (P1-P9, O2, O5, M5). `fixtures` is shared with the property tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::ids::{AccountId, MemberId, TeamId, UserId};
use std::collections::BTreeSet;

/// Facts the labelled actions point at. The actor is member 1 of team 1.
pub(super) struct Facts {
    pub own: ClientFacts,
    pub others: ClientFacts,
    pub team: ClientFacts,
    pub unassigned: ClientFacts,
    pub guest: ClientFacts,
    pub colleague: MemberFacts,
    pub me: MemberFacts,
    pub owner: MemberFacts,
    pub private_other: ContentFacts,
    pub shared_other: ContentFacts,
}

pub(super) const ME: MemberId = MemberId(1);

impl Facts {
    pub fn new() -> Self {
        let client = |assignee: Option<i64>, team: Option<i64>, guest: bool| ClientFacts {
            assignee: assignee.map(MemberId),
            team: team.map(TeamId),
            actor_is_guest: guest,
        };
        let member = |id: i64, is_owner: bool| MemberFacts {
            member: MemberId(id),
            status: MemberStatus::Active,
            is_owner,
            permissions: Preset::Member.permissions(),
        };
        Facts {
            own: client(Some(1), Some(1), false),
            others: client(Some(2), Some(2), false),
            team: client(Some(2), Some(1), false),
            unassigned: client(None, None, false),
            guest: client(Some(3), None, true),
            colleague: member(2, false),
            me: member(1, false),
            owner: member(9, true),
            private_other: ContentFacts {
                author: MemberId(2),
                shared: false,
            },
            shared_other: ContentFacts {
                author: MemberId(2),
                shared: true,
            },
        }
    }

    /// Every action of the product, labelled, on these facts.
    pub fn actions(&self) -> Vec<(&'static str, Action<'_>)> {
        use Action as A;
        vec![
            ("view self", A::ViewSelf),
            ("manage own security", A::ManageOwnSecurity),
            ("list members", A::ListMembers),
            (
                "invite a member",
                A::InviteMember {
                    grants: Preset::Member.permissions(),
                },
            ),
            ("manage invitations", A::ManageInvitation),
            (
                "edit a member",
                A::EditMember {
                    target: &self.colleague,
                    grants: None,
                },
            ),
            (
                "deactivate a member",
                A::DeactivateMember {
                    target: &self.colleague,
                },
            ),
            (
                "reactivate a member",
                A::ReactivateMember {
                    target: &self.colleague,
                },
            ),
            (
                "remove a member",
                A::RemoveMember {
                    target: &self.colleague,
                },
            ),
            ("list roles", A::ListRoles),
            (
                "manage roles",
                A::ManageRoles {
                    grants: PermissionSet::EMPTY,
                },
            ),
            ("list teams", A::ListTeams),
            ("manage teams", A::ManageTeams),
            ("view account", A::ViewAccount),
            ("manage account", A::ManageAccount),
            ("transfer ownership", A::TransferOwnership),
            ("delete account", A::DeleteAccount),
            ("view audit", A::ViewAudit),
            (
                "manage api keys",
                A::ManageApiKeys {
                    grants: PermissionSet::EMPTY,
                },
            ),
            ("create client", A::CreateClient),
            ("view own client", A::ViewClient(&self.own)),
            ("view others' client", A::ViewClient(&self.others)),
            ("view team client", A::ViewClient(&self.team)),
            ("view unassigned client", A::ViewClient(&self.unassigned)),
            ("view guest client", A::ViewClient(&self.guest)),
            ("update own client", A::UpdateClient(&self.own)),
            ("update others' client", A::UpdateClient(&self.others)),
            ("update guest client", A::UpdateClient(&self.guest)),
            ("reclassify own client", A::ReclassifyClient(&self.own)),
            (
                "reclassify others' client",
                A::ReclassifyClient(&self.others),
            ),
            ("reclassify guest client", A::ReclassifyClient(&self.guest)),
            ("claim unassigned client", A::ClaimClient(&self.unassigned)),
            (
                "assign others' client",
                A::AssignClient {
                    client: &self.others,
                    to: &self.colleague,
                },
            ),
            (
                "assign unassigned to self",
                A::AssignClient {
                    client: &self.unassigned,
                    to: &self.me,
                },
            ),
            (
                "assign unassigned to other",
                A::AssignClient {
                    client: &self.unassigned,
                    to: &self.colleague,
                },
            ),
            ("delete own client", A::DeleteClient(&self.own)),
            ("delete others' client", A::DeleteClient(&self.others)),
            ("deliver own client", A::DeliverClient(&self.own)),
            ("deliver others' client", A::DeliverClient(&self.others)),
            ("invite guest", A::InviteGuest(&self.own)),
            ("team overview", A::ViewTeamOverview),
            ("import clients", A::ImportClients),
            ("export clients", A::ExportClients),
            ("use groups", A::UseGroups),
            ("edit groups", A::EditGroups),
            ("delete groups", A::DeleteGroups),
            (
                "view others' private content",
                A::ViewContent(&self.private_other),
            ),
            ("edit shared content", A::EditContent(&self.shared_other)),
            ("create content", A::CreateContent),
            ("delete content", A::DeleteContent),
            ("manage integrations", A::ManageIntegrations),
            ("view billing", A::ViewBilling),
            ("manage billing", A::ManageBilling),
            ("start work", A::StartWork),
            ("view reports", A::ViewReports),
        ]
    }
}

/// An active member 1 of team 1 holding `preset` (the owner holds all, as
/// `effective_permissions` makes it).
pub(super) fn preset_actor(preset: Preset) -> Actor {
    Actor {
        user: UserId(1),
        member: ME,
        account: AccountId(1),
        status: MemberStatus::Active,
        permissions: if preset == Preset::Owner {
            PermissionSet::all()
        } else {
            preset.permissions()
        },
        is_owner: preset == Preset::Owner,
        has_2fa: false,
        account_requires_2fa: false,
        teams: vec![TeamId(1)],
    }
}

const T: bool = true;
const F: bool = false;

/// Owner, Admin, Manager, Member, Restricted.
const MATRIX: &[(&str, [bool; 5])] = &[
    ("view self", [T, T, T, T, T]),
    ("manage own security", [T, T, T, T, T]),
    ("list members", [T, T, T, T, F]),
    ("invite a member", [T, T, F, F, F]),
    ("manage invitations", [T, T, F, F, F]),
    ("edit a member", [T, T, F, F, F]),
    ("deactivate a member", [T, T, F, F, F]),
    ("reactivate a member", [T, T, F, F, F]),
    ("remove a member", [T, T, F, F, F]),
    ("list roles", [T, T, T, T, F]),
    ("manage roles", [T, T, F, F, F]),
    ("list teams", [T, T, T, T, F]),
    ("manage teams", [T, T, F, F, F]),
    ("view account", [T, T, T, T, F]),
    ("manage account", [T, T, F, F, F]),
    ("transfer ownership", [T, F, F, F, F]),
    ("delete account", [T, F, F, F, F]),
    ("view audit", [T, T, F, F, F]),
    ("manage api keys", [T, T, F, F, F]),
    ("create client", [T, T, T, T, T]),
    ("view own client", [T, T, T, T, T]),
    ("view others' client", [T, T, T, F, F]),
    ("view team client", [T, T, T, F, F]),
    ("view unassigned client", [T, T, T, T, F]),
    ("view guest client", [T, T, T, T, T]),
    ("update own client", [T, T, T, T, T]),
    // C1: only the assignee, admins and the owner included.
    ("update others' client", [F, F, F, F, F]),
    ("update guest client", [T, T, T, T, T]),
    // Status and team: the assignee's alone; a guest edits contact details
    // and writes notes (P7, C1).
    ("reclassify own client", [T, T, T, T, T]),
    ("reclassify others' client", [F, F, F, F, F]),
    ("reclassify guest client", [F, F, F, F, F]),
    ("claim unassigned client", [T, T, T, T, F]),
    ("assign others' client", [T, T, T, F, F]),
    ("assign unassigned to self", [T, T, T, T, F]),
    ("assign unassigned to other", [T, T, T, F, F]),
    ("delete own client", [T, T, T, F, F]),
    // C6: only one's own clients, whoever one is.
    ("delete others' client", [F, F, F, F, F]),
    ("deliver own client", [T, T, T, T, T]),
    ("deliver others' client", [T, T, T, F, F]),
    ("invite guest", [T, T, F, F, F]),
    ("team overview", [T, T, T, T, F]),
    ("import clients", [T, T, F, F, F]),
    ("export clients", [T, T, F, F, F]),
    ("use groups", [T, T, T, T, F]),
    ("edit groups", [T, T, T, F, F]),
    ("delete groups", [T, T, F, F, F]),
    ("view others' private content", [T, T, F, F, F]),
    ("edit shared content", [T, T, T, F, F]),
    ("create content", [T, T, T, F, F]),
    ("delete content", [T, T, F, F, F]),
    ("manage integrations", [T, T, F, F, F]),
    ("view billing", [T, T, F, F, F]),
    ("manage billing", [T, T, F, F, F]),
    ("start work", [T, T, T, T, F]),
    // D2: the account's figures, for those who see every member's clients.
    ("view reports", [T, T, T, F, F]),
];

#[test]
fn r_p3_permission_matrix_of_the_presets() {
    let facts = Facts::new();
    let actions = facts.actions();
    let labels: BTreeSet<&str> = actions.iter().map(|(l, _)| *l).collect();
    let rows: BTreeSet<&str> = MATRIX.iter().map(|(l, _)| *l).collect();
    assert_eq!(labels.len(), actions.len(), "labels are unique");
    assert_eq!(labels, rows, "every action has exactly one row");
    let mut wrong = Vec::new();
    for (i, preset) in Preset::ALL.into_iter().enumerate() {
        let actor = preset_actor(preset);
        for (label, action) in &actions {
            let row = MATRIX.iter().find(|(l, _)| l == label).unwrap();
            let got = decide(&actor, action);
            if got.is_ok() != row.1[i] {
                wrong.push(format!("{}: {label}: {got:?}", preset.display_name()));
            }
        }
    }
    assert!(wrong.is_empty(), "matrix mismatches:\n{}", wrong.join("\n"));
}

#[test]
fn r_m5_an_inactive_actor_is_denied_everything_and_sees_no_client() {
    let facts = Facts::new();
    for preset in Preset::ALL {
        for status in [MemberStatus::Invited, MemberStatus::Deactivated] {
            let actor = Actor {
                status,
                has_2fa: true,
                ..preset_actor(preset)
            };
            for (label, action) in facts.actions() {
                assert_eq!(
                    decide(&actor, &action),
                    Err(Denied::Inactive),
                    "{preset:?} {status:?}: {label}"
                );
            }
            let scope = client_scope(&actor);
            assert_eq!(scope, ClientScope::nothing(ME));
            for c in [&facts.own, &facts.guest, &facts.unassigned, &facts.others] {
                assert!(!scope.admits(c.assignee, c.team, c.actor_is_guest));
            }
        }
    }
}

#[test]
fn r_o5_until_2fa_is_enrolled_only_self_and_own_security_are_allowed() {
    let facts = Facts::new();
    for preset in Preset::ALL {
        let actor = Actor {
            account_requires_2fa: true,
            has_2fa: false,
            ..preset_actor(preset)
        };
        for (label, action) in facts.actions() {
            let got = decide(&actor, &action);
            match action {
                Action::ViewSelf | Action::ManageOwnSecurity => {
                    assert_eq!(got, Ok(()), "{preset:?}: {label}")
                }
                _ => assert_eq!(got, Err(Denied::TwoFactorRequired), "{preset:?}: {label}"),
            }
        }
        assert_eq!(client_scope(&actor), ClientScope::nothing(ME));
        // Once enrolled, the preset's own answers apply again.
        let enrolled = Actor {
            has_2fa: true,
            ..actor
        };
        assert_eq!(decide(&enrolled, &Action::CreateClient), Ok(()));
    }
}

#[test]
fn r_p4_the_owner_is_protected_from_every_other_member() {
    let facts = Facts::new();
    let all_but_owner = Actor {
        permissions: PermissionSet::all(),
        ..preset_actor(Preset::Admin)
    };
    let actors = [
        all_but_owner,
        preset_actor(Preset::Admin),
        preset_actor(Preset::Manager),
        preset_actor(Preset::Member),
        preset_actor(Preset::Restricted),
    ];
    for actor in &actors {
        for action in [
            Action::EditMember {
                target: &facts.owner,
                grants: None,
            },
            Action::EditMember {
                target: &facts.owner,
                grants: Some(PermissionSet::EMPTY),
            },
            Action::DeactivateMember {
                target: &facts.owner,
            },
            Action::RemoveMember {
                target: &facts.owner,
            },
        ] {
            let got = decide(actor, &action);
            assert!(got.is_err(), "{action:?} by {:?}", actor.permissions);
        }
    }
    // An admin gets the reason, not a missing permission.
    assert_eq!(
        decide(
            &preset_actor(Preset::Admin),
            &Action::DeactivateMember {
                target: &facts.owner
            }
        ),
        Err(Denied::OwnerProtected)
    );
    // The owner itself cannot be deactivated or removed either (O2).
    let owner = Actor {
        member: facts.owner.member,
        ..preset_actor(Preset::Owner)
    };
    for action in [
        Action::DeactivateMember {
            target: &facts.owner,
        },
        Action::RemoveMember {
            target: &facts.owner,
        },
    ] {
        assert_eq!(decide(&owner, &action), Err(Denied::OwnerProtected));
    }
}

#[test]
fn r_p4_cannot_grant_lists_exactly_the_missing_permissions() {
    use Permission as P;
    let recruiter = Actor {
        permissions: PermissionSet::of(&[P::MembersManage, P::TeamView, P::ClientsViewUnassigned]),
        ..preset_actor(Preset::Member)
    };
    let grants = PermissionSet::of(&[
        P::AccountManage,
        P::TeamView,
        P::BillingManage,
        P::ClientsViewUnassigned,
        P::Agent,
    ]);
    let want = Err(Denied::CannotGrant(vec![
        "billing.manage",
        "account.manage",
    ]));
    assert_eq!(decide(&recruiter, &Action::ManageRoles { grants }), want);
    assert_eq!(decide(&recruiter, &Action::InviteMember { grants }), want);
    assert_eq!(
        decide(
            &recruiter,
            &Action::EditMember {
                target: &Facts::new().colleague,
                grants: Some(grants)
            }
        ),
        want
    );
    // What it holds it may grant, and `agent` is a work mode anyone who
    // manages members may switch on (JivoChat admins without agent rights).
    let held = PermissionSet::of(&[P::MembersManage, P::TeamView, P::Agent]);
    assert_eq!(
        decide(&recruiter, &Action::ManageRoles { grants: held }),
        Ok(())
    );
    // The owner grants anything.
    assert_eq!(
        decide(
            &preset_actor(Preset::Owner),
            &Action::ManageRoles {
                grants: PermissionSet::all()
            }
        ),
        Ok(())
    );
    // Without members.manage the missing permission is named instead.
    assert_eq!(
        decide(
            &preset_actor(Preset::Manager),
            &Action::ManageRoles {
                grants: PermissionSet::EMPTY
            }
        ),
        Err(Denied::Missing(P::MembersManage))
    );
}

#[test]
fn r_p7_restricted_sees_its_guest_clients_only() {
    let facts = Facts::new();
    let scope = client_scope(&preset_actor(Preset::Restricted));
    assert!(scope.admits(facts.guest.assignee, facts.guest.team, true));
    assert!(scope.admits(facts.own.assignee, facts.own.team, false));
    assert!(!scope.admits(None, None, false));
    assert!(!scope.admits(Some(MemberId(2)), Some(TeamId(1)), false));
}
