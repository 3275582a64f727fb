use super::decide::{Actor, MemberStatus};
use super::permission::Permission;
use crate::ids::{MemberId, TeamId};

/// Which other members' clients are visible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OthersScope {
    None,
    /// Clients whose team is one of these.
    Teams(Vec<TeamId>),
    All,
}

/// Which clients a member may see (P2, P7, C8). The store turns this one value
/// into the SQL filter of every client list, count, search and export
/// ([`ClientScope::admits`] is that filter written in Rust); the property
/// tests check it agrees with `decide(ViewClient)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientScope {
    pub member: MemberId,
    /// Clients assigned to `member`, and clients it was invited to as a
    /// guest (P2, P7). True for every actor that may act at all; false only
    /// for a scope that shows nothing (an inactive member, or one that must
    /// enrol 2FA first).
    pub own: bool,
    pub others: OthersScope,
    pub unassigned: bool,
}

impl ClientScope {
    /// A scope that shows nothing at all, not even the member's own clients
    /// (an inactive member, or 2FA enrolment pending: O5, M5).
    pub fn nothing(member: MemberId) -> Self {
        ClientScope {
            member,
            own: false,
            others: OthersScope::None,
            unassigned: false,
        }
    }

    /// Whether the scope admits a client with this assignee and team, where
    /// `actor_is_guest` says the scope's member was invited to it (P7). This
    /// is exactly the SQL filter the store writes, clause for clause:
    ///
    /// ```sql
    ///    ($own AND (c.assignee_id = $member OR EXISTS (guest row of $member)))
    /// OR ($unassigned AND c.assignee_id IS NULL)
    /// OR (c.assignee_id IS NOT NULL AND ($all OR c.team_id IN ($teams)))
    /// ```
    pub fn admits(
        &self,
        assignee: Option<MemberId>,
        team: Option<TeamId>,
        actor_is_guest: bool,
    ) -> bool {
        let own = self.own && (assignee == Some(self.member) || actor_is_guest);
        let unassigned = self.unassigned && assignee.is_none();
        let others = assignee.is_some()
            && match &self.others {
                OthersScope::None => false,
                OthersScope::All => true,
                // `team_id IN (...)` is never true for a NULL team.
                OthersScope::Teams(teams) => team.is_some_and(|t| teams.contains(&t)),
            };
        own || unassigned || others
    }
}

/// The client scope of an actor.
pub fn client_scope(actor: &Actor) -> ClientScope {
    if actor.status != MemberStatus::Active || (actor.account_requires_2fa && !actor.has_2fa) {
        return ClientScope::nothing(actor.member);
    }
    let others = if actor.has(Permission::ClientsViewOthers) {
        OthersScope::All
    } else if actor.has(Permission::ClientsViewTeam) && !actor.teams.is_empty() {
        OthersScope::Teams(actor.teams.clone())
    } else {
        OthersScope::None
    };
    ClientScope {
        member: actor.member,
        own: true,
        others,
        unassigned: actor.has(Permission::ClientsViewUnassigned),
    }
}
