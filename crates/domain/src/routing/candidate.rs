//! Who may receive a lead automatically (A4, A5, B4), and why a member is skipped.

use crate::authz::MemberStatus;
use crate::ids::MemberId;
use serde::{Deserialize, Serialize};

/// A member as automatic assignment sees it, loaded in the transaction that
/// stores the lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// The member.
    pub member: MemberId,
    /// Its membership status; only active members get leads (A5).
    pub status: MemberStatus,
    /// Its `agent` flag; members without it are skipped (A5).
    pub agent: bool,
    /// How many open clients are assigned to it now.
    pub open_clients: u32,
    /// Its limit of open clients, if any (A4).
    pub capacity: Option<u32>,
    /// Whether it holds an agent licence now (B4); `None` when the account
    /// does not enforce licences.
    pub on_duty: Option<bool>,
}

impl Candidate {
    /// Why this member may not get a lead now, or `None` when it may.
    ///
    /// When several reasons hold, the first of: not active, not an agent, off
    /// duty, at capacity.
    pub fn skip_reason(&self) -> Option<SkipReason> {
        match self.status {
            MemberStatus::Active => {}
            MemberStatus::Invited => return Some(SkipReason::Invited),
            MemberStatus::Deactivated => return Some(SkipReason::Deactivated),
            MemberStatus::Removed => return Some(SkipReason::Removed),
        }
        if !self.agent {
            return Some(SkipReason::NotAgent);
        }
        if self.on_duty == Some(false) {
            return Some(SkipReason::OffDuty);
        }
        if self.capacity.is_some_and(|cap| self.open_clients >= cap) {
            return Some(SkipReason::AtCapacity);
        }
        None
    }

    /// Whether this member may get a lead now.
    pub fn is_eligible(&self) -> bool {
        self.skip_reason().is_none()
    }
}

/// Why automatic assignment passed a member by. The order of the variants is
/// the order in which reason summaries list them when counts are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// It holds as many open clients as its limit allows (A4).
    AtCapacity,
    /// It is deactivated (A5).
    Deactivated,
    /// Its invitation is not accepted yet (A5: only active members work).
    Invited,
    /// Its `agent` flag is off (A5).
    NotAgent,
    /// It holds no agent licence now (B4).
    OffDuty,
    /// The rule names a member the account does not have (any more).
    UnknownMember,
    /// The member was removed from the account (X5: a rule that named only
    /// it leaves its leads unassigned until it is changed).
    Removed,
}

impl SkipReason {
    /// Every reason, in summary order.
    pub const ALL: [SkipReason; 7] = [
        SkipReason::AtCapacity,
        SkipReason::Deactivated,
        SkipReason::Invited,
        SkipReason::NotAgent,
        SkipReason::OffDuty,
        SkipReason::UnknownMember,
        SkipReason::Removed,
    ];

    /// The reason, as said of `count` members: "at capacity", "not an agent",
    /// "not agents" ...
    pub fn label(self, count: usize) -> &'static str {
        match self {
            SkipReason::AtCapacity => "at capacity",
            SkipReason::Deactivated => "deactivated",
            SkipReason::Invited => "not yet active",
            SkipReason::NotAgent if count == 1 => "not an agent",
            SkipReason::NotAgent => "not agents",
            SkipReason::OffDuty => "off duty",
            SkipReason::UnknownMember if count == 1 => "no longer a member",
            SkipReason::UnknownMember => "no longer members",
            SkipReason::Removed => "removed from the account",
        }
    }

    /// Why a member cannot get a lead, given what is known of it (`None`: it
    /// is not a member of the account), or `None` when it can.
    pub fn of(candidate: Option<&Candidate>) -> Option<SkipReason> {
        match candidate {
            None => Some(SkipReason::UnknownMember),
            Some(c) => c.skip_reason(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready() -> Candidate {
        Candidate {
            member: MemberId(1),
            status: MemberStatus::Active,
            agent: true,
            open_clients: 3,
            capacity: Some(4),
            on_duty: None,
        }
    }

    #[test]
    fn r_a5_only_active_agents_are_eligible() {
        assert!(ready().is_eligible());
        let c = Candidate {
            status: MemberStatus::Deactivated,
            ..ready()
        };
        assert_eq!(c.skip_reason(), Some(SkipReason::Deactivated));
        let c = Candidate {
            status: MemberStatus::Invited,
            ..ready()
        };
        assert_eq!(c.skip_reason(), Some(SkipReason::Invited));
        let c = Candidate {
            agent: false,
            ..ready()
        };
        assert_eq!(c.skip_reason(), Some(SkipReason::NotAgent));
        assert_eq!(SkipReason::of(None), Some(SkipReason::UnknownMember));
    }

    #[test]
    fn r_a4_a_member_at_its_limit_is_skipped() {
        let c = Candidate {
            open_clients: 4,
            ..ready()
        };
        assert_eq!(c.skip_reason(), Some(SkipReason::AtCapacity));
        let c = Candidate {
            open_clients: 9,
            ..ready()
        };
        assert_eq!(c.skip_reason(), Some(SkipReason::AtCapacity));
        let c = Candidate {
            open_clients: 0,
            capacity: Some(0),
            ..ready()
        };
        assert_eq!(c.skip_reason(), Some(SkipReason::AtCapacity));
        let c = Candidate {
            open_clients: 10_000,
            capacity: None,
            ..ready()
        };
        assert!(c.is_eligible());
    }

    #[test]
    fn r_b4_off_duty_only_counts_when_licences_are_enforced() {
        assert!(
            Candidate {
                on_duty: None,
                ..ready()
            }
            .is_eligible()
        );
        assert!(
            Candidate {
                on_duty: Some(true),
                ..ready()
            }
            .is_eligible()
        );
        let c = Candidate {
            on_duty: Some(false),
            ..ready()
        };
        assert_eq!(c.skip_reason(), Some(SkipReason::OffDuty));
    }

    #[test]
    fn r_a5_deactivation_is_reported_before_other_reasons() {
        let c = Candidate {
            status: MemberStatus::Deactivated,
            agent: false,
            open_clients: 4,
            on_duty: Some(false),
            ..ready()
        };
        assert_eq!(c.skip_reason(), Some(SkipReason::Deactivated));
    }

    #[test]
    fn skip_labels_read_in_singular_and_plural() {
        assert_eq!(SkipReason::NotAgent.label(1), "not an agent");
        assert_eq!(SkipReason::NotAgent.label(2), "not agents");
        assert_eq!(SkipReason::AtCapacity.label(3), "at capacity");
    }
}
