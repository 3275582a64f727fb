//! Who may receive a lead automatically (A4, A5, B4), and why a member is skipped.

use crate::authz::MemberStatus;
use crate::availability::Unavailable;
use crate::ids::MemberId;
use serde::{Deserialize, Serialize};

/// A member as automatic assignment sees it, loaded in the transaction that
/// stores the lead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Whether it is available now (A8: working hours, time off, holidays,
    /// the away switch and, where licences are enforced, holding one).
    pub availability: Result<(), Unavailable>,
}

impl Candidate {
    /// Why this member may not get a lead now, or `None` when it may.
    ///
    /// When several reasons hold, the first of: not active, not an agent,
    /// not available (A8), at capacity.
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
        if let Err(why) = &self.availability {
            return Some(match why {
                Unavailable::Away => SkipReason::Away,
                Unavailable::TimeOff { .. } => SkipReason::TimeOff,
                Unavailable::Holiday { .. } => SkipReason::Holiday,
                Unavailable::OutsideHours { .. } => SkipReason::OutsideHours,
                Unavailable::NoLicence => SkipReason::OffDuty,
            });
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
    /// The away switch is on (A8).
    Away,
    /// Outside its working hours (A8).
    OutsideHours,
    /// On time off (A8).
    TimeOff,
    /// The account's holiday (A8).
    Holiday,
    /// The member the lead is being taken from: it did not make contact in
    /// time (A10).
    Reclaimed,
}

impl SkipReason {
    /// Every reason, in summary order.
    pub const ALL: [SkipReason; 12] = [
        SkipReason::AtCapacity,
        SkipReason::Deactivated,
        SkipReason::Invited,
        SkipReason::NotAgent,
        SkipReason::OffDuty,
        SkipReason::UnknownMember,
        SkipReason::Removed,
        SkipReason::Away,
        SkipReason::OutsideHours,
        SkipReason::TimeOff,
        SkipReason::Holiday,
        SkipReason::Reclaimed,
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
            SkipReason::OffDuty => "without an agent licence",
            SkipReason::UnknownMember if count == 1 => "no longer a member",
            SkipReason::UnknownMember => "no longer members",
            SkipReason::Removed => "removed from the account",
            SkipReason::Away => "away",
            SkipReason::OutsideHours => "outside working hours",
            SkipReason::TimeOff => "on time off",
            SkipReason::Holiday => "on holiday",
            SkipReason::Reclaimed => "too slow to make contact",
        }
    }

    /// The reason for one member in words, with what is known of it:
    /// "at capacity 5/5", "outside working hours (Asia/Kolkata)".
    pub fn detail(why: SkipReason, c: Option<&Candidate>) -> String {
        match (why, c) {
            (SkipReason::AtCapacity, Some(c)) => format!(
                "at capacity {}/{}",
                c.open_clients,
                c.capacity.unwrap_or(c.open_clients)
            ),
            (
                _,
                Some(Candidate {
                    availability: Err(u),
                    ..
                }),
            ) if matches!(
                why,
                SkipReason::Away
                    | SkipReason::OutsideHours
                    | SkipReason::TimeOff
                    | SkipReason::Holiday
                    | SkipReason::OffDuty
            ) =>
            {
                u.describe()
            }
            _ => why.label(1).to_owned(),
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
            availability: Ok(()),
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
    fn r_b4_a8_unavailable_members_are_skipped_with_their_reason() {
        let c = Candidate {
            availability: Err(Unavailable::NoLicence),
            ..ready()
        };
        assert_eq!(c.skip_reason(), Some(SkipReason::OffDuty));
        let c = Candidate {
            availability: Err(Unavailable::Away),
            ..ready()
        };
        assert_eq!(c.skip_reason(), Some(SkipReason::Away));
        assert_eq!(SkipReason::detail(SkipReason::Away, Some(&c)), "away");
        let full = Candidate {
            open_clients: 4,
            ..ready()
        };
        assert_eq!(
            SkipReason::detail(SkipReason::AtCapacity, Some(&full)),
            "at capacity 4/4"
        );
    }

    #[test]
    fn r_a5_deactivation_is_reported_before_other_reasons() {
        let c = Candidate {
            status: MemberStatus::Deactivated,
            agent: false,
            open_clients: 4,
            availability: Err(Unavailable::Away),
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
