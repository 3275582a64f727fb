//! Typed identifiers. Every id is a positive 63-bit integer made by the store
//! (time-ordered, see `leadteam_store::ids`), so the same column type works on
//! SQLite and PostgreSQL and ids sort by creation.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse::<i64>().map($name)
            }
        }
    )*};
}

id_type!(
    AccountId,
    UserId,
    MemberId,
    RoleId,
    TeamId,
    ClientId,
    SessionId,
    InvitationId,
    RuleId,
    SourceId,
    GroupId,
    ContentId,
    NotificationId,
    ApiKeyId,
);
