//! The built-in roles created with every account (P3). Their permission sets
//! are listed in the README.

use super::permission::{Permission as P, PermissionSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    Owner,
    Admin,
    Manager,
    Member,
    Restricted,
}

impl Preset {
    pub const ALL: [Preset; 5] = [
        Preset::Owner,
        Preset::Admin,
        Preset::Manager,
        Preset::Member,
        Preset::Restricted,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Preset::Owner => "owner",
            Preset::Admin => "admin",
            Preset::Manager => "manager",
            Preset::Member => "member",
            Preset::Restricted => "restricted",
        }
    }

    pub fn display_name(self) -> &'static str {
        match self {
            Preset::Owner => "Owner",
            Preset::Admin => "Admin",
            Preset::Manager => "Manager",
            Preset::Member => "Member",
            Preset::Restricted => "Restricted",
        }
    }

    pub fn from_key(k: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.key() == k)
    }

    /// The permission set of the preset.
    pub fn permissions(self) -> PermissionSet {
        match self {
            Preset::Owner | Preset::Admin => PermissionSet::all(),
            Preset::Manager => PermissionSet::of(&[
                P::ClientsViewOthers,
                P::ClientsViewTeam,
                P::ClientsViewUnassigned,
                P::ClientsDelete,
                P::ContentEdit,
                P::GroupsEdit,
                P::TeamView,
                P::Agent,
            ]),
            Preset::Member => PermissionSet::of(&[P::ClientsViewUnassigned, P::TeamView, P::Agent]),
            Preset::Restricted => PermissionSet::EMPTY,
        }
    }

    /// Only the Owner preset is fixed; the others may be edited per account.
    pub fn is_editable(self) -> bool {
        !matches!(self, Preset::Owner)
    }
}
