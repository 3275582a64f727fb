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
/// into the SQL filter of every client list, count, search and export; the
/// property tests check it agrees with `decide(ViewClient)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientScope {
    /// Always visible: clients assigned to this member, and clients it was
    /// invited to as a guest.
    pub member: MemberId,
    pub others: OthersScope,
    pub unassigned: bool,
}

impl ClientScope {
    /// A scope that shows nothing (an inactive member).
    pub fn nothing(member: MemberId) -> Self {
        ClientScope {
            member,
            others: OthersScope::None,
            unassigned: false,
        }
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
        others,
        unassigned: actor.has(Permission::ClientsViewUnassigned),
    }
}
