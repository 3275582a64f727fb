//! Issue 4 item 5, P3: the roles of the five source products (in
//! `shared/reference/`) built as custom roles over the API, and for each what
//! its holder may and may not do, asked of `decide` about an actor holding
//! exactly the permissions the API stored. A member holding each role (a
//! store fixture until invitations land) then checks the same answers over
//! HTTP.
//!
//! How the sources map onto leadteam's permissions:
//! - WhatsApp inbox tool: "Users and teams" is for Admins only, so none of the
//!   five holds `members.manage`. Operator misses Contact, Chatbot,
//!   Integration, Developers and Account settings: every conversation, but no
//!   deleting contacts, no content, no integrations. Developer misses only
//!   Account settings: leadteam's `integrations.manage` (webhooks, lead
//!   sources, CSV) is the Developers area. Inbox Manager misses Developers
//!   and Account settings: Developer without `integrations.manage`. Service
//!   sees only the Inbox, every number's conversations: no `team.view`. Sale
//!   sees Inbox and Contact, only its own conversations: just `agent`.
//! - Cliently: Administrator is everything but Billing. Manager sees the team
//!   members' contact cards and flows (public or its own), not Settings >
//!   Team members. Team Member sees only its own clients and public or own flows.
//! - PivotCX: Team Member accesses the conversations, messages, imports and
//!   exports, sends blasts (groups). Team Manager adds the management of
//!   users and team-wide settings. Restricted Member has its invited chats
//!   and nothing else.
//! - JivoChat: admin rights (settings, statistics, every dialogue) and agent
//!   rights (the inbox) combine four ways.

use super::{names, role, roles};
use leadteam_domain::authz::{
    Action, Actor, ClientFacts, ContentFacts, Denied, MemberFacts, MemberStatus, Permission,
    PermissionSet, decide,
};
use leadteam_domain::{AccountId, MemberId, TeamId, UserId};
use leadteam_testkit::{TestApp, both_engines};
use serde_json::json;
use std::collections::BTreeSet;

both_engines!(r_p3_the_roles_of_the_five_sources_are_reproduced_as_custom_roles);

const ALL: &[&str] = &[
    "clients.view_others",
    "clients.view_team",
    "clients.view_unassigned",
    "clients.delete",
    "content.edit",
    "groups.edit",
    "members.manage",
    "integrations.manage",
    "billing.manage",
    "account.manage",
    "team.view",
    "agent",
];

/// Every capability the test asks about, in the order it reports them.
const CAPS: &[&str] = &[
    "see own clients",
    "see team's clients",
    "see others' clients",
    "see unassigned clients",
    "claim unassigned clients",
    "reassign others' clients",
    "add clients",
    "delete own clients",
    "write to a conversation it was invited to",
    "team overview",
    "list members",
    "manage members",
    "manage roles",
    "manage teams",
    "account settings",
    "audit log",
    "integrations, import and export",
    "billing",
    "edit content",
    "see others' private content",
    "edit groups",
    "use groups",
    "delete content and groups",
    "work the inbox",
    "transfer ownership",
];

struct Source {
    name: &'static str,
    permissions: Vec<&'static str>,
    /// Exactly the capabilities of `CAPS` it has; it lacks all the others.
    may: Vec<&'static str>,
}

fn all_but(missing: &[&str]) -> Vec<&'static str> {
    ALL.iter()
        .copied()
        .filter(|p| !missing.contains(p))
        .collect()
}

fn caps_but(missing: &[&str]) -> Vec<&'static str> {
    CAPS.iter()
        .copied()
        .filter(|c| !missing.contains(c))
        .collect()
}

fn sources() -> Vec<Source> {
    let own = [
        "see own clients",
        "add clients",
        "write to a conversation it was invited to",
    ];
    let inbox = [
        "see team's clients",
        "see others' clients",
        "see unassigned clients",
        "claim unassigned clients",
        "reassign others' clients",
        "team overview",
    ];
    let all_clients = [
        "clients.view_others",
        "clients.view_team",
        "clients.view_unassigned",
    ];
    let cat = |parts: &[&[&'static str]]| -> Vec<&'static str> { parts.concat() };
    let operator_may = cat(&[
        &own,
        &inbox,
        &[
            "list members",
            "edit groups",
            "use groups",
            "work the inbox",
        ],
    ]);
    let inbox_manager_may = cat(&[&operator_may, &["delete own clients", "edit content"]]);
    let pivot_member_may = cat(&[&operator_may, &["integrations, import and export"]]);
    let admin_caps_missing = ["transfer ownership"];
    vec![
        Source {
            name: "WhatsApp Operator",
            permissions: cat(&[&all_clients, &["groups.edit", "team.view", "agent"]]),
            may: operator_may.clone(),
        },
        Source {
            name: "WhatsApp Developer",
            permissions: cat(&[
                &all_clients,
                &[
                    "clients.delete",
                    "content.edit",
                    "groups.edit",
                    "integrations.manage",
                    "team.view",
                    "agent",
                ],
            ]),
            may: cat(&[&inbox_manager_may, &["integrations, import and export"]]),
        },
        Source {
            name: "WhatsApp Inbox Manager",
            permissions: cat(&[
                &all_clients,
                &[
                    "clients.delete",
                    "content.edit",
                    "groups.edit",
                    "team.view",
                    "agent",
                ],
            ]),
            may: inbox_manager_may,
        },
        Source {
            name: "WhatsApp Service",
            permissions: vec!["clients.view_others", "clients.view_unassigned", "agent"],
            may: cat(&[&own, &inbox, &["work the inbox"]]),
        },
        Source {
            name: "WhatsApp Sale",
            permissions: vec!["agent"],
            may: cat(&[&own, &["work the inbox"]]),
        },
        Source {
            name: "Cliently Administrator",
            permissions: all_but(&["billing.manage"]),
            may: caps_but(&["billing", "transfer ownership"]),
        },
        Source {
            name: "Cliently Manager",
            permissions: cat(&[
                &all_clients,
                &["content.edit", "groups.edit", "team.view", "agent"],
            ]),
            may: cat(&[&operator_may, &["edit content"]]),
        },
        Source {
            name: "Cliently Team Member",
            permissions: vec!["content.edit", "team.view", "agent"],
            may: cat(&[
                &own,
                &[
                    "list members",
                    "edit content",
                    "use groups",
                    "work the inbox",
                ],
            ]),
        },
        Source {
            name: "PivotCX Team Manager",
            permissions: cat(&[
                &all_clients,
                &[
                    "groups.edit",
                    "integrations.manage",
                    "team.view",
                    "agent",
                    "members.manage",
                    "account.manage",
                ],
            ]),
            may: cat(&[
                &pivot_member_may,
                &[
                    "manage members",
                    "manage roles",
                    "manage teams",
                    "account settings",
                    "audit log",
                    "see others' private content",
                    "delete content and groups",
                ],
            ]),
        },
        Source {
            name: "PivotCX Team Member",
            permissions: cat(&[
                &all_clients,
                &["groups.edit", "integrations.manage", "team.view", "agent"],
            ]),
            may: pivot_member_may,
        },
        Source {
            name: "PivotCX Restricted Member",
            permissions: vec![],
            may: own.to_vec(),
        },
        Source {
            name: "Jivo admin + agent",
            permissions: ALL.to_vec(),
            may: caps_but(&admin_caps_missing),
        },
        Source {
            name: "Jivo admin",
            permissions: all_but(&["agent"]),
            may: caps_but(&["transfer ownership", "work the inbox"]),
        },
        Source {
            name: "Jivo agent",
            permissions: vec!["clients.view_unassigned", "team.view", "agent"],
            may: cat(&[
                &own,
                &[
                    "see unassigned clients",
                    "claim unassigned clients",
                    "team overview",
                    "list members",
                    "use groups",
                    "work the inbox",
                ],
            ]),
        },
        Source {
            name: "Jivo employee",
            permissions: vec!["team.view"],
            may: cat(&[&own, &["list members", "use groups"]]),
        },
    ]
}

/// An active member 1 of team 1 holding exactly `permissions`, 2FA enrolled.
fn actor(permissions: PermissionSet) -> Actor {
    Actor {
        user: UserId(1),
        member: MemberId(1),
        account: AccountId(1),
        status: MemberStatus::Active,
        permissions,
        is_owner: false,
        has_2fa: true,
        account_requires_2fa: false,
        teams: vec![TeamId(1)],
    }
}

/// What `decide` lets `actor` do among `CAPS`.
fn capabilities(actor: &Actor) -> BTreeSet<&'static str> {
    let client = |assignee: Option<i64>, team: i64, guest: bool| ClientFacts {
        assignee: assignee.map(MemberId),
        team: Some(TeamId(team)),
        actor_is_guest: guest,
    };
    let own = client(Some(1), 1, false);
    let team = client(Some(2), 1, false);
    let others = client(Some(2), 2, false);
    let unassigned = client(None, 2, false);
    let invited = client(Some(3), 3, true);
    let colleague = MemberFacts {
        member: MemberId(2),
        status: MemberStatus::Active,
        is_owner: false,
        permissions: PermissionSet::EMPTY,
    };
    let private = ContentFacts {
        author: MemberId(2),
        shared: false,
    };
    let none = PermissionSet::EMPTY;
    let actions: Vec<(&str, Action<'_>)> = vec![
        ("see own clients", Action::ViewClient(&own)),
        ("see team's clients", Action::ViewClient(&team)),
        ("see others' clients", Action::ViewClient(&others)),
        ("see unassigned clients", Action::ViewClient(&unassigned)),
        ("claim unassigned clients", Action::ClaimClient(&unassigned)),
        (
            "reassign others' clients",
            Action::AssignClient {
                client: &others,
                to: &colleague,
            },
        ),
        ("add clients", Action::CreateClient),
        ("delete own clients", Action::DeleteClient(&own)),
        (
            "write to a conversation it was invited to",
            Action::UpdateClient(&invited),
        ),
        ("team overview", Action::ViewTeamOverview),
        ("list members", Action::ListMembers),
        ("manage members", Action::InviteMember { grants: none }),
        ("manage roles", Action::ManageRoles { grants: none }),
        ("manage teams", Action::ManageTeams),
        ("account settings", Action::ManageAccount),
        ("audit log", Action::ViewAudit),
        ("integrations, import and export", Action::ExportClients),
        ("billing", Action::ManageBilling),
        ("edit content", Action::CreateContent),
        ("see others' private content", Action::ViewContent(&private)),
        ("edit groups", Action::EditGroups),
        ("use groups", Action::UseGroups),
        ("delete content and groups", Action::DeleteGroups),
        ("work the inbox", Action::StartWork),
        ("transfer ownership", Action::TransferOwnership),
    ];
    assert_eq!(actions.len(), CAPS.len());
    actions
        .into_iter()
        .filter(|(_, a)| decide(actor, a).is_ok())
        .map(|(label, _)| CAPS.iter().copied().find(|c| *c == label).unwrap())
        .collect()
}

async fn r_p3_the_roles_of_the_five_sources_are_reproduced_as_custom_roles(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let sources = sources();
    for s in &sources {
        let r = app
            .post(
                &owner.token,
                "/api/v1/roles",
                json!({"name": s.name, "permissions": s.permissions}),
            )
            .await;
        assert_eq!(r.status, 201, "{}: {}", s.name, r.text);
    }
    // Judge what the API stored, as it lists it.
    let list = roles(app, &owner.token).await;
    let mut wrong = Vec::new();
    for s in &sources {
        let stored = PermissionSet::parse_names(&names(&role(&list, s.name)["permissions"]))
            .unwrap_or_else(|bad| panic!("{}: unknown permission {bad}", s.name));
        let asked = PermissionSet::parse_names(&s.permissions).unwrap();
        assert_eq!(stored, asked, "{} stored as asked", s.name);
        let got = capabilities(&actor(stored));
        let want: BTreeSet<&str> = s.may.iter().copied().collect();
        assert!(want.iter().all(|c| CAPS.contains(c)), "{}", s.name);
        for c in CAPS {
            match (want.contains(c), got.contains(c)) {
                (true, false) => wrong.push(format!("{} should {c:?} but may not", s.name)),
                (false, true) => wrong.push(format!("{} should not {c:?} but may", s.name)),
                _ => {}
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));

    // P4 on the sources: Cliently's Administrator cannot hand out Billing;
    // JivoChat's admin without agent rights still makes agents.
    let cliently_admin = actor(PermissionSet::parse_names(&all_but(&["billing.manage"])).unwrap());
    assert_eq!(
        decide(
            &cliently_admin,
            &Action::ManageRoles {
                grants: PermissionSet::of(&[Permission::BillingManage, Permission::TeamView])
            }
        ),
        Err(Denied::CannotGrant(vec!["billing.manage"]))
    );
    let jivo_admin = actor(PermissionSet::parse_names(&all_but(&["agent"])).unwrap());
    assert_eq!(
        decide(
            &jivo_admin,
            &Action::InviteMember {
                grants: PermissionSet::of(&[Permission::Agent])
            }
        ),
        Ok(())
    );

    // The same answers over HTTP, from a member holding each role.
    let account = owner.account_id.unwrap();
    for (i, s) in sources.iter().enumerate() {
        let u = app
            .insert_member(account, &format!("source{i}@example.com"), s.name)
            .await;
        let me = app.get(&u.token, "/api/v1/me").await;
        let mut want_perms = s.permissions.clone();
        want_perms.sort_by_key(|p| ALL.iter().position(|a| a == p));
        assert_eq!(names(&me.body["permissions"]), want_perms, "{}", s.name);
        let may_list = s.may.contains(&"list members") || s.may.contains(&"manage members");
        let r = app.get(&u.token, "/api/v1/roles").await;
        assert_eq!(
            r.status,
            if may_list { 200 } else { 403 },
            "{}: {}",
            s.name,
            r.text
        );
        let r = app
            .post(
                &u.token,
                "/api/v1/roles",
                json!({"name": format!("{} made", s.name), "permissions": ["team.view", "agent"]}),
            )
            .await;
        let status = if s.may.contains(&"manage roles") {
            201
        } else {
            403
        };
        assert_eq!(r.status, status, "{}: {}", s.name, r.text);
    }
    let cliently_admin = app
        .insert_member(account, "cla@example.com", "Cliently Administrator")
        .await;
    let r = app
        .post(
            &cliently_admin.token,
            "/api/v1/roles",
            json!({"name": "Bookkeeper", "permissions": ["billing.manage"]}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.body["permissions"], json!(["billing.manage"]));
}
