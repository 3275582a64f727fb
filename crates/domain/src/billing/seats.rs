//! Seats (B3): how many members an account has paid room for. The owner's
//! seat is one of them; inviting beyond them is refused until seats are added,
//! and removing a member frees a seat but does not remove it.

use serde::Serialize;

/// The seats of an account: how many were purchased and how many are taken.
///
/// `used` counts every member holding a seat, the owner included (B3):
/// the caller counts the owner, active members and pending invitations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct SeatCheck {
    /// Seats paid for, the owner's included.
    pub purchased: u32,
    /// Seats taken, the owner's included.
    pub used: u32,
}

/// Why a seat change is refused. The message is meant for the person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeatError {
    /// Every purchased seat is taken.
    #[error(
        "{all} in use ({used} of {purchased}); add seats under Billing to invite more",
        all = if *purchased == 1 { "the only seat is".to_owned() } else { format!("all {purchased} seats are") }
    )]
    Full {
        /// Seats paid for.
        purchased: u32,
        /// Seats taken.
        used: u32,
    },
    /// Some seats are free, but fewer than the invitations asked for.
    #[error(
        "only {free} of {purchased} seats {are} free ({used} in use); add {missing} more under Billing to invite {wanted} people",
        free = purchased.saturating_sub(*used),
        missing = wanted.saturating_sub(purchased.saturating_sub(*used)),
        are = if purchased.saturating_sub(*used) == 1 { "is" } else { "are" }
    )]
    NotEnough {
        /// Seats paid for.
        purchased: u32,
        /// Seats taken (fewer than `purchased`).
        used: u32,
        /// Invitations asked for (more than the free seats).
        wanted: u32,
    },
    /// Seats cannot drop below those in use: remove members or cancel
    /// invitations first.
    #[error(
        "cannot reduce to {wanted} {seats}: {used} are in use, the owner's included; remove members or cancel invitations first",
        seats = if *wanted == 1 { "seat" } else { "seats" }
    )]
    InUse {
        /// The seat count asked for.
        wanted: u32,
        /// Seats taken.
        used: u32,
    },
    /// The owner's seat is always included, so at least one seat remains.
    #[error("cannot reduce to 0 seats: the owner's seat is always included")]
    OwnerSeat,
}

impl SeatCheck {
    /// Seats still free.
    pub fn free(self) -> u32 {
        self.purchased.saturating_sub(self.used)
    }

    /// Whether `n` more people may be invited now (B3).
    pub fn can_invite(self, n: u32) -> Result<(), SeatError> {
        let free = self.free();
        if n <= free {
            Ok(())
        } else if free == 0 {
            Err(SeatError::Full {
                purchased: self.purchased,
                used: self.used,
            })
        } else {
            Err(SeatError::NotEnough {
                purchased: self.purchased,
                used: self.used,
                wanted: n,
            })
        }
    }

    /// Whether the purchased seats may be reduced to `new` (B3): never below
    /// the seats in use, and never below the owner's one seat.
    pub fn can_reduce_to(self, new: u32) -> Result<(), SeatError> {
        if new == 0 {
            Err(SeatError::OwnerSeat)
        } else if new < self.used {
            Err(SeatError::InUse {
                wanted: new,
                used: self.used,
            })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(r: Result<(), SeatError>) -> String {
        r.err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn r_b3_inviting_beyond_the_seats_is_refused_with_a_clear_message() {
        let full = SeatCheck {
            purchased: 5,
            used: 5,
        };
        assert_eq!(
            message(full.can_invite(1)),
            "all 5 seats are in use (5 of 5); add seats under Billing to invite more"
        );
        assert_eq!(full.can_invite(0), Ok(()));
        let partly = SeatCheck {
            purchased: 5,
            used: 3,
        };
        assert_eq!(partly.free(), 2);
        assert_eq!(partly.can_invite(2), Ok(()));
        assert_eq!(
            message(partly.can_invite(3)),
            "only 2 of 5 seats are free (3 in use); add 1 more under Billing to invite 3 people"
        );
        let over = SeatCheck {
            purchased: 4,
            used: 6,
        };
        assert_eq!(over.free(), 0);
        assert_eq!(
            over.can_invite(1),
            Err(SeatError::Full {
                purchased: 4,
                used: 6
            })
        );
    }

    #[test]
    fn r_b3_the_owners_seat_is_included() {
        let owner_only = SeatCheck {
            purchased: 1,
            used: 1,
        };
        assert_eq!(
            message(owner_only.can_invite(1)),
            "the only seat is in use (1 of 1); add seats under Billing to invite more"
        );
        assert_eq!(owner_only.can_reduce_to(0), Err(SeatError::OwnerSeat));
        assert_eq!(
            SeatCheck {
                purchased: 2,
                used: 1
            }
            .can_invite(1),
            Ok(())
        );
    }

    #[test]
    fn r_b3_seats_cannot_drop_below_those_in_use() {
        let s = SeatCheck {
            purchased: 10,
            used: 4,
        };
        assert_eq!(s.can_reduce_to(4), Ok(()));
        assert_eq!(s.can_reduce_to(12), Ok(()));
        assert_eq!(
            message(s.can_reduce_to(3)),
            "cannot reduce to 3 seats: 4 are in use, the owner's included; remove members or cancel invitations first"
        );
    }
}
