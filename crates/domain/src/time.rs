//! Time as a value: milliseconds since the Unix epoch, UTC. The clock lives
//! outside the domain and is passed in.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub const MILLIS_PER_SECOND: i64 = 1_000;
    pub const MILLIS_PER_MINUTE: i64 = 60_000;
    pub const MILLIS_PER_DAY: i64 = 86_400_000;

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn plus_millis(self, ms: i64) -> Self {
        Timestamp(self.0.saturating_add(ms))
    }

    pub fn plus_seconds(self, s: i64) -> Self {
        self.plus_millis(s.saturating_mul(Self::MILLIS_PER_SECOND))
    }

    pub fn plus_minutes(self, m: i64) -> Self {
        self.plus_millis(m.saturating_mul(Self::MILLIS_PER_MINUTE))
    }

    pub fn plus_days(self, d: i64) -> Self {
        self.plus_millis(d.saturating_mul(Self::MILLIS_PER_DAY))
    }

    /// Whole seconds since the epoch (for TOTP steps).
    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(Self::MILLIS_PER_SECOND)
    }
}
