use super::content_scope::content_visible;
use super::permission::{Permission, PermissionSet};
use crate::ids::{AccountId, MemberId, TeamId, UserId};
use serde::{Deserialize, Serialize};

/// Membership status (M2). `Invited` is shown as "Invite Sent".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    Invited,
    Active,
    Deactivated,
    /// Removed for good (M7): the row stays so history still names it (X4).
    Removed,
}

impl MemberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberStatus::Invited => "invited",
            MemberStatus::Active => "active",
            MemberStatus::Deactivated => "deactivated",
            MemberStatus::Removed => "removed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "invited" => Some(MemberStatus::Invited),
            "active" => Some(MemberStatus::Active),
            "deactivated" => Some(MemberStatus::Deactivated),
            "removed" => Some(MemberStatus::Removed),
            _ => None,
        }
    }

    /// The label the members list shows.
    pub fn label(self) -> &'static str {
        match self {
            MemberStatus::Invited => "Invite Sent",
            MemberStatus::Active => "Active",
            MemberStatus::Deactivated => "Deactivated",
            MemberStatus::Removed => "Removed",
        }
    }
}

/// Who is acting: one member of one account, as loaded fresh for the request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: UserId,
    pub member: MemberId,
    pub account: AccountId,
    pub status: MemberStatus,
    pub permissions: PermissionSet,
    pub is_owner: bool,
    pub has_2fa: bool,
    pub account_requires_2fa: bool,
    pub teams: Vec<TeamId>,
}

impl Actor {
    pub fn has(&self, p: Permission) -> bool {
        self.permissions.contains(p)
    }

    /// Owner and admins (holders of `account.manage`) may delete content and groups (P5).
    pub fn is_admin(&self) -> bool {
        self.is_owner || self.has(Permission::AccountManage)
    }
}

/// What is known of a member an action targets.
#[derive(Debug, Clone)]
pub struct MemberFacts {
    pub member: MemberId,
    pub status: MemberStatus,
    pub is_owner: bool,
    pub permissions: PermissionSet,
}

/// What is known of a client an action targets.
#[derive(Debug, Clone)]
pub struct ClientFacts {
    pub assignee: Option<MemberId>,
    pub team: Option<TeamId>,
    /// The actor was invited to this client as a guest (P7).
    pub actor_is_guest: bool,
}

/// What is known of a piece of content (P8).
#[derive(Debug, Clone)]
pub struct ContentFacts {
    /// The author; `MemberId(0)` (no member) once the author was removed.
    pub author: MemberId,
    pub shared: bool,
}

/// Every action the product has.
#[derive(Debug, Clone)]
pub enum Action<'a> {
    /// Read one's own profile, memberships and permissions; sign out.
    ViewSelf,
    /// Change one's own password, enrol or remove 2FA. Allowed even while 2FA
    /// enrolment is required (O5).
    ManageOwnSecurity,

    ListMembers,
    InviteMember {
        grants: PermissionSet,
    },
    ManageInvitation,
    EditMember {
        target: &'a MemberFacts,
        grants: Option<PermissionSet>,
    },
    DeactivateMember {
        target: &'a MemberFacts,
    },
    ReactivateMember {
        target: &'a MemberFacts,
    },
    RemoveMember {
        target: &'a MemberFacts,
    },

    ListRoles,
    ManageRoles {
        grants: PermissionSet,
    },
    ListTeams,
    ManageTeams,

    ViewAccount,
    ManageAccount,
    TransferOwnership,
    DeleteAccount,
    ViewAudit,
    ManageApiKeys {
        grants: PermissionSet,
    },

    CreateClient,
    ViewClient(&'a ClientFacts),
    /// Contact or update: fields, notes, messages (C1).
    UpdateClient(&'a ClientFacts),
    /// Change a client's status or team: its assignee only (C1). A guest
    /// writes to the client and edits its contact details (P7), no more.
    ReclassifyClient(&'a ClientFacts),
    ClaimClient(&'a ClientFacts),
    AssignClient {
        client: &'a ClientFacts,
        to: &'a MemberFacts,
    },
    DeleteClient(&'a ClientFacts),
    DeliverClient(&'a ClientFacts),
    InviteGuest(&'a ClientFacts),
    ViewTeamOverview,
    ImportClients,
    ExportClients,

    UseGroups,
    EditGroups,
    DeleteGroups,
    ViewContent(&'a ContentFacts),
    EditContent(&'a ContentFacts),
    CreateContent,
    DeleteContent,

    ManageIntegrations,
    ViewBilling,
    ManageBilling,
    StartWork,
    /// The backlog of leads nobody could take (A11): whoever may see
    /// unassigned clients.
    ViewBacklog,
    /// The account's reports (D2): speed to lead per member and per source,
    /// leads per source, reclaims, capacity in use and who is available.
    /// They sum up every member's clients, so they need what sees every
    /// member's clients: `clients.view_others` (a holder of only
    /// `clients.view_team` sees its teams' clients, not the account's).
    ViewReports,
    /// A member's working hours, time off and away switch (A8): one's own,
    /// or anyone's with `team.view`.
    ViewAvailability {
        target_is_self: bool,
    },
    /// Change a member's working hours, time off or away switch (A8): one's
    /// own, or anyone's with `members.manage` (the owner's only by itself).
    EditAvailability {
        target: &'a MemberFacts,
    },
    /// The account's holidays (A8): `members.manage`.
    ManageHolidays,
    /// See whether one is on duty and the licences in use (B4). Not exempt
    /// from required 2FA: it tells about the account (O5).
    ViewOwnDuty,
    /// Go off duty: releases a licence, so any active member may (B4).
    StopWork,
    /// Allocate credits to a member or take them back (B5).
    AllocateCredits,
    /// See a member's credit balance and ledger: one's own, or anyone's
    /// with `billing.manage` (B5).
    ViewCredits {
        member: MemberId,
    },
    /// Send a lead with an intake API key limited to `allowed` sources (I5).
    SendLead {
        allowed: &'a [crate::ids::SourceId],
        source: crate::ids::SourceId,
    },
}

/// Why an action is refused. Each reason maps to one HTTP status in `web`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("this member is not active in the account")]
    Inactive,
    #[error("two-factor authentication must be enrolled first")]
    TwoFactorRequired,
    #[error("missing permission {0}")]
    Missing(Permission),
    /// Any one of these would do; the actor holds none.
    #[error("missing one of the permissions {}", names(.0))]
    MissingAnyOf(&'static [Permission]),
    #[error("only the account owner may do this")]
    OwnerOnly,
    #[error("only the owner or an admin may do this")]
    AdminOnly,
    #[error("the account owner can only be changed by the owner")]
    OwnerProtected,
    #[error("only the member the client is assigned to may do this")]
    NotAssignee,
    #[error("you cannot grant permissions you do not hold: {0:?}")]
    CannotGrant(Vec<&'static str>),
    #[error("the target member is not active")]
    TargetInactive,
    #[error("this needs a signed-in session, not an API key")]
    SessionOnly,
    /// A hosted form posted from a site its admin did not allow (I4).
    #[error("this site may not post the form")]
    OriginNotAllowed,
    /// The thing is not visible to the actor: answered as not found.
    #[error("not found")]
    NotVisible,
}

impl Action<'_> {
    /// What the action acts on, in words: a refusal because the actor may
    /// not see it is answered as that thing not found, exactly as an
    /// unknown one (the answer tells nothing of its existence).
    pub fn subject(&self) -> &'static str {
        use Action as A;
        match self {
            A::ViewClient(_)
            | A::UpdateClient(_)
            | A::ReclassifyClient(_)
            | A::ClaimClient(_)
            | A::AssignClient { .. }
            | A::DeleteClient(_)
            | A::DeliverClient(_)
            | A::InviteGuest(_) => "client",
            A::ViewContent(_) | A::EditContent(_) => "content",
            A::SendLead { .. } => "lead source",
            _ => "resource",
        }
    }
}

/// `a, b, c`: the names of some permissions.
fn names(ps: &[Permission]) -> String {
    ps.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
}

fn need(actor: &Actor, p: Permission) -> Result<(), Denied> {
    if actor.has(p) {
        Ok(())
    } else {
        Err(Denied::Missing(p))
    }
}

/// Nobody grants a permission it does not hold (P4); the owner holds all.
/// The `agent` flag is exempt: it is not a power over anyone's data but a
/// work mode (P1, A5, B4), and an admin without agent rights still makes
/// others agents (JivoChat's "administrator without agent rights").
fn grantable(actor: &Actor, grants: PermissionSet) -> Result<(), Denied> {
    if actor.is_owner {
        return Ok(());
    }
    let extra = grants.without(Permission::Agent).minus(actor.permissions);
    if extra.is_empty() {
        Ok(())
    } else {
        Err(Denied::CannotGrant(extra.names()))
    }
}

/// Managing another member needs `members.manage`; the owner is changed
/// only by the owner itself (O2, P4) and is never deactivated or removed.
fn manage_member(actor: &Actor, target: &MemberFacts, editing: bool) -> Result<(), Denied> {
    if target.is_owner {
        return if editing && actor.is_owner && target.member == actor.member {
            Ok(())
        } else {
            Err(Denied::OwnerProtected)
        };
    }
    need(actor, Permission::MembersManage)
}

/// Whether the actor may see the client: the single visibility rule that
/// `client_scope` mirrors in SQL.
pub(super) fn client_visible(actor: &Actor, c: &ClientFacts) -> bool {
    if c.assignee == Some(actor.member) || c.actor_is_guest {
        return true;
    }
    match c.assignee {
        None => actor.has(Permission::ClientsViewUnassigned),
        Some(_) => {
            actor.has(Permission::ClientsViewOthers)
                || (actor.has(Permission::ClientsViewTeam)
                    && c.team.is_some_and(|t| actor.teams.contains(&t)))
        }
    }
}

fn may_assign_others(actor: &Actor, c: &ClientFacts) -> bool {
    actor.has(Permission::ClientsViewOthers)
        || (actor.has(Permission::ClientsViewTeam)
            && c.team.is_some_and(|t| actor.teams.contains(&t)))
}

/// The one authorization decision (P9).
pub fn decide(actor: &Actor, action: &Action<'_>) -> Result<(), Denied> {
    if actor.status != MemberStatus::Active {
        return Err(Denied::Inactive);
    }
    if matches!(
        action,
        Action::ViewSelf | Action::ManageOwnSecurity | Action::StopWork
    ) {
        return Ok(());
    }
    if actor.account_requires_2fa && !actor.has_2fa {
        return Err(Denied::TwoFactorRequired);
    }
    use Action as A;
    use Permission as P;
    match action {
        A::ViewSelf | A::ManageOwnSecurity | A::StopWork => Ok(()),

        A::SendLead { allowed, source } => {
            if allowed.contains(source) {
                Ok(())
            } else {
                Err(Denied::NotVisible)
            }
        }
        A::ListMembers | A::ListTeams | A::ListRoles => {
            if actor.has(P::TeamView) || actor.has(P::MembersManage) {
                Ok(())
            } else {
                Err(Denied::Missing(P::TeamView))
            }
        }
        A::InviteMember { grants } => {
            need(actor, P::MembersManage)?;
            grantable(actor, *grants)
        }
        A::ManageInvitation => need(actor, P::MembersManage),
        A::EditMember { target, grants } => {
            manage_member(actor, target, true)?;
            match grants {
                Some(g) => grantable(actor, *g),
                None => Ok(()),
            }
        }
        A::DeactivateMember { target }
        | A::ReactivateMember { target }
        | A::RemoveMember { target } => manage_member(actor, target, false),
        A::ManageRoles { grants } => {
            need(actor, P::MembersManage)?;
            grantable(actor, *grants)
        }
        A::ManageTeams => {
            if actor.is_admin() {
                Ok(())
            } else {
                Err(Denied::AdminOnly)
            }
        }

        A::ViewAccount => {
            if actor.has(P::TeamView) || actor.has(P::AccountManage) {
                Ok(())
            } else {
                Err(Denied::Missing(P::TeamView))
            }
        }
        A::ManageAccount | A::ViewAudit => need(actor, P::AccountManage),
        A::ManageApiKeys { grants } => {
            need(actor, P::AccountManage)?;
            grantable(actor, *grants)
        }
        A::TransferOwnership | A::DeleteAccount => {
            if actor.is_owner {
                Ok(())
            } else {
                Err(Denied::OwnerOnly)
            }
        }

        A::CreateClient => Ok(()),
        A::ViewClient(c) => {
            if client_visible(actor, c) {
                Ok(())
            } else {
                Err(Denied::NotVisible)
            }
        }
        A::UpdateClient(c) => {
            if !client_visible(actor, c) {
                return Err(Denied::NotVisible);
            }
            // A guest writes to the one client it was invited to (P7).
            if c.assignee == Some(actor.member) || c.actor_is_guest {
                Ok(())
            } else {
                Err(Denied::NotAssignee)
            }
        }
        A::ReclassifyClient(c) => {
            if !client_visible(actor, c) {
                return Err(Denied::NotVisible);
            }
            if c.assignee == Some(actor.member) {
                Ok(())
            } else {
                Err(Denied::NotAssignee)
            }
        }
        A::ClaimClient(c) => {
            if !client_visible(actor, c) {
                return Err(Denied::NotVisible);
            }
            need(actor, P::ClientsViewUnassigned)
        }
        A::AssignClient { client, to } => {
            if !client_visible(actor, client) {
                return Err(Denied::NotVisible);
            }
            if to.status != MemberStatus::Active {
                return Err(Denied::TargetInactive);
            }
            let own_claim = client.assignee.is_none() && to.member == actor.member;
            if may_assign_others(actor, client)
                || (client.assignee.is_none() && actor.has(P::ClientsViewOthers))
                || (own_claim && actor.has(P::ClientsViewUnassigned))
            {
                Ok(())
            } else if client.assignee.is_none() && actor.has(P::ClientsViewUnassigned) {
                // Only a claim for oneself (C3).
                Err(Denied::Missing(P::ClientsViewOthers))
            } else {
                Err(Denied::Missing(P::ClientsViewOthers))
            }
        }
        A::DeleteClient(c) => {
            if !client_visible(actor, c) {
                return Err(Denied::NotVisible);
            }
            need(actor, P::ClientsDelete)?;
            if c.assignee == Some(actor.member) {
                Ok(())
            } else {
                Err(Denied::NotAssignee)
            }
        }
        A::DeliverClient(c) => {
            if !client_visible(actor, c) {
                return Err(Denied::NotVisible);
            }
            if c.assignee == Some(actor.member) || may_assign_others(actor, c) {
                Ok(())
            } else {
                Err(Denied::NotAssignee)
            }
        }
        A::InviteGuest(c) => {
            if !client_visible(actor, c) {
                return Err(Denied::NotVisible);
            }
            need(actor, P::MembersManage)
        }
        A::ViewTeamOverview => {
            const ANY: &[Permission] = &[
                P::ClientsViewOthers,
                P::ClientsViewTeam,
                P::ClientsViewUnassigned,
            ];
            if ANY.iter().any(|p| actor.has(*p)) {
                Ok(())
            } else {
                Err(Denied::MissingAnyOf(ANY))
            }
        }
        A::ImportClients | A::ExportClients | A::ManageIntegrations => {
            need(actor, P::IntegrationsManage)
        }

        A::UseGroups => {
            if actor.has(P::TeamView) {
                Ok(())
            } else {
                Err(Denied::Missing(P::TeamView))
            }
        }
        A::EditGroups => need(actor, P::GroupsEdit),
        A::DeleteGroups | A::DeleteContent => {
            if actor.is_admin() {
                Ok(())
            } else {
                Err(Denied::AdminOnly)
            }
        }
        A::ViewContent(c) => {
            if content_visible(actor, c) {
                Ok(())
            } else {
                Err(Denied::NotVisible)
            }
        }
        A::CreateContent => need(actor, P::ContentEdit),
        A::EditContent(c) => {
            if !content_visible(actor, c) {
                return Err(Denied::NotVisible);
            }
            need(actor, P::ContentEdit)
        }

        A::ViewBilling | A::ManageBilling => need(actor, P::BillingManage),
        A::StartWork => need(actor, P::Agent),
        A::ViewOwnDuty => Ok(()),
        A::ViewBacklog => need(actor, P::ClientsViewUnassigned),
        A::ViewReports => need(actor, P::ClientsViewOthers),
        A::ViewAvailability { target_is_self } => {
            if *target_is_self {
                Ok(())
            } else {
                need(actor, P::TeamView)
            }
        }
        A::EditAvailability { target } => {
            if target.member == actor.member {
                Ok(())
            } else if target.is_owner {
                Err(Denied::OwnerOnly)
            } else {
                need(actor, P::MembersManage)
            }
        }
        A::ManageHolidays => need(actor, P::MembersManage),
        A::AllocateCredits => need(actor, P::BillingManage),
        A::ViewCredits { member } => {
            if *member == actor.member {
                Ok(())
            } else {
                need(actor, P::BillingManage)
            }
        }
    }
}
