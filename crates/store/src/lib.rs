//! Storage: one `Db` handle over SQLite (the embedded default) or PostgreSQL,
//! with the same SQL text for both (`$1` placeholders, portable types). Every
//! write use case runs in one transaction begun by [`Db::write`]: `BEGIN
//! IMMEDIATE` on SQLite (the write lock up front, so a read-then-write cannot
//! fail half-way), a plain `BEGIN` plus `FOR UPDATE` row locks on PostgreSQL.

pub mod accounts;
pub mod admin;
pub mod api_keys;
pub mod audit;
pub mod availability;
pub mod backlog;
pub mod backup;
pub mod billing;
pub mod clients;
pub mod content;
#[cfg(test)]
mod contract_tests;
pub mod credits;
mod db;
pub mod deadlines;
pub mod deliveries;
pub mod duty;
mod error;
pub mod facebook_names;
#[cfg(test)]
mod full_disk_tests;
pub mod graph;
pub mod graph_lookups;
pub mod groups;
pub mod ids;
pub mod import;
pub mod intake;
pub mod invitations;
mod keep;
#[cfg(test)]
mod keep_tests;
mod lease;
#[cfg(test)]
mod list_tests;
pub mod members;
mod migrate;
pub mod notifications;
pub mod outbox;
mod outside;
pub mod pubsub;
pub mod reports;
pub mod roles;
pub mod rules;
pub mod script;
pub mod sessions;
pub mod signups;
pub mod sources;
pub mod stats;
pub mod teams;
pub mod teams_lookup;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod throttle;
pub mod users;
pub mod webhooks;
pub mod workspace;

pub use db::{Conn, Db, Engine, Lock, Tx};
pub use error::StoreError;
pub use keep::Lease;
pub use script::Script;

/// Decodes a 0/1 flag column.
pub(crate) fn flag(v: i64) -> bool {
    v != 0
}
