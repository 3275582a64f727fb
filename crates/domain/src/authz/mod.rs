//! Authorization in one place (P9): `decide` answers every yes/no the product
//! asks, and `client_scope` answers which clients a member may see; the store
//! turns that one value into the SQL filter of every client list, count,
//! search and export; `content_scope` does the same for content lists (P8).
//! Handlers never compare role names.

mod content_scope;
mod decide;
mod permission;
mod preset;
mod scope;

pub use content_scope::{ContentScope, content_scope};
pub use decide::{
    Action, Actor, ClientFacts, ContentFacts, Denied, MemberFacts, MemberStatus, decide,
};
pub use permission::{Permission, PermissionSet};
pub use preset::Preset;
pub use scope::{ClientScope, OthersScope, client_scope};

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
