//! The permissions of RULES.md P1 as a typed set.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One permission. The wire name is the dotted form (`clients.view_others`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum Permission {
    /// See clients assigned to other members; assign and reassign them (P1, C3).
    #[serde(rename = "clients.view_others")]
    ClientsViewOthers,
    /// See clients assigned to members of one's own teams (the "team" scope of
    /// `clients.view_others`); assign and reassign them.
    #[serde(rename = "clients.view_team")]
    ClientsViewTeam,
    /// See and claim unassigned clients (P1, C2).
    #[serde(rename = "clients.view_unassigned")]
    ClientsViewUnassigned,
    /// Delete clients assigned to oneself (C6).
    #[serde(rename = "clients.delete")]
    ClientsDelete,
    /// Create and edit content (P5).
    #[serde(rename = "content.edit")]
    ContentEdit,
    /// Create and edit client groups (P5).
    #[serde(rename = "groups.edit")]
    GroupsEdit,
    /// Invite, edit, deactivate and remove members (M1, P4).
    #[serde(rename = "members.manage")]
    MembersManage,
    /// Lead sources, distribution rules, CSV import and export (I2).
    #[serde(rename = "integrations.manage")]
    IntegrationsManage,
    /// Plan, seats, licences and credits (B*).
    #[serde(rename = "billing.manage")]
    BillingManage,
    /// Account settings, audit log, API keys; with it a member is an admin (P5).
    #[serde(rename = "account.manage")]
    AccountManage,
    /// See the members list, teams and the team overview. Every preset but
    /// Restricted holds it (P7).
    #[serde(rename = "team.view")]
    TeamView,
    /// Takes part in inbox work and automatic assignment (P1, A5).
    #[serde(rename = "agent")]
    Agent,
}

impl Permission {
    pub const ALL: [Permission; 12] = [
        Permission::ClientsViewOthers,
        Permission::ClientsViewTeam,
        Permission::ClientsViewUnassigned,
        Permission::ClientsDelete,
        Permission::ContentEdit,
        Permission::GroupsEdit,
        Permission::MembersManage,
        Permission::IntegrationsManage,
        Permission::BillingManage,
        Permission::AccountManage,
        Permission::TeamView,
        Permission::Agent,
    ];

    fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// The dotted wire name.
    pub fn name(self) -> &'static str {
        match self {
            Permission::ClientsViewOthers => "clients.view_others",
            Permission::ClientsViewTeam => "clients.view_team",
            Permission::ClientsViewUnassigned => "clients.view_unassigned",
            Permission::ClientsDelete => "clients.delete",
            Permission::ContentEdit => "content.edit",
            Permission::GroupsEdit => "groups.edit",
            Permission::MembersManage => "members.manage",
            Permission::IntegrationsManage => "integrations.manage",
            Permission::BillingManage => "billing.manage",
            Permission::AccountManage => "account.manage",
            Permission::TeamView => "team.view",
            Permission::Agent => "agent",
        }
    }

    pub fn from_name(s: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.name() == s)
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of permissions, stored as a bit mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PermissionSet(u32);

impl PermissionSet {
    pub const EMPTY: PermissionSet = PermissionSet(0);

    pub fn all() -> Self {
        Permission::ALL.iter().copied().collect()
    }

    pub fn of(perms: &[Permission]) -> Self {
        perms.iter().copied().collect()
    }

    /// The stored form; unknown bits are dropped.
    pub fn from_bits(bits: i64) -> Self {
        let mask = Self::all().0;
        PermissionSet((bits as u32) & mask)
    }

    pub fn bits(self) -> i64 {
        i64::from(self.0)
    }

    pub fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    pub fn with(self, p: Permission) -> Self {
        PermissionSet(self.0 | p.bit())
    }

    pub fn without(self, p: Permission) -> Self {
        PermissionSet(self.0 & !p.bit())
    }

    pub fn union(self, o: Self) -> Self {
        PermissionSet(self.0 | o.0)
    }

    pub fn minus(self, o: Self) -> Self {
        PermissionSet(self.0 & !o.0)
    }

    pub fn is_subset_of(self, o: Self) -> bool {
        self.0 & !o.0 == 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .into_iter()
            .filter(move |p| self.contains(*p))
    }

    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Permission::name).collect()
    }

    /// Parses wire names; the error names the first unknown one.
    pub fn parse_names<S: AsRef<str>>(names: &[S]) -> Result<Self, String> {
        let mut set = PermissionSet::EMPTY;
        for n in names {
            match Permission::from_name(n.as_ref()) {
                Some(p) => set = set.with(p),
                None => return Err(n.as_ref().to_owned()),
            }
        }
        Ok(set)
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        iter.into_iter()
            .fold(PermissionSet::EMPTY, PermissionSet::with)
    }
}

impl Serialize for PermissionSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bits_are_stable() {
        for p in Permission::ALL {
            assert_eq!(Permission::from_name(p.name()), Some(p));
        }
        let s = PermissionSet::of(&[Permission::Agent, Permission::MembersManage]);
        assert_eq!(PermissionSet::from_bits(s.bits()), s);
        assert_eq!(
            PermissionSet::parse_names(&["agent", "members.manage"]),
            Ok(s)
        );
        assert_eq!(
            PermissionSet::parse_names(&["nope"]),
            Err("nope".to_owned())
        );
        assert!(s.is_subset_of(PermissionSet::all()));
    }
}
