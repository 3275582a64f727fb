//! Typed identifiers. Every id is a positive 63-bit integer given by the
//! database (SQLite `AUTOINCREMENT`, PostgreSQL identity columns): ids grow
//! with creation and are never given twice, not even after a row is deleted
//! (X4). A removed member keeps its row (status `removed`), so history still
//! names it.

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
