//! The navigation bar: one table of pages, each shown only when `decide`
//! allows its action for the caller.

use leadteam_domain::authz::{Action, Actor, decide};

/// One page of the navigation.
pub(crate) struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
    /// The action the page is about; the item is shown when `decide` allows it.
    pub action: Action<'static>,
}

/// Every page of the navigation, in order. A later page joins with one line,
/// e.g. `NavItem { label: "Members", href: "/members", action: Action::ListMembers }`,
/// `Action::ListRoles` for Roles, `Action::ManageIntegrations` for Lead
/// assignment, `Action::ViewAudit` for Audit, `Action::ViewAccount` for
/// Account, `Action::ViewBilling` for Billing.
pub(crate) const NAV: &[NavItem] = &[
    NavItem {
        label: "Home",
        href: "/",
        action: Action::ViewSelf,
    },
    NavItem {
        label: "Members",
        href: "/members",
        action: Action::ListMembers,
    },
    NavItem {
        label: "Teams",
        href: "/teams",
        action: Action::ListTeams,
    },
    NavItem {
        label: "Roles",
        href: "/roles",
        action: Action::ListRoles,
    },
    NavItem {
        label: "Account",
        href: "/account",
        action: Action::ViewAccount,
    },
    NavItem {
        label: "Audit log",
        href: "/audit",
        action: Action::ViewAudit,
    },
    NavItem {
        label: "Billing",
        href: "/billing",
        action: Action::ViewBilling,
    },
    NavItem {
        label: "Availability",
        href: "/availability",
        action: Action::ViewAvailability {
            target_is_self: true,
        },
    },
    NavItem {
        label: "Security",
        href: "/security",
        action: Action::ManageOwnSecurity,
    },
];

/// A navigation link as the layout shows it.
#[derive(Debug, Clone)]
pub(crate) struct NavLink {
    pub label: &'static str,
    pub href: &'static str,
    /// This is the page being shown (`aria-current="page"`).
    pub current: bool,
}

/// Whether `actor` may do `action` (the one `decide`). Without an actor (no
/// active membership) only the user's own things remain.
pub(crate) fn allowed(actor: Option<&Actor>, action: &Action<'_>) -> bool {
    match actor {
        Some(a) => decide(a, action).is_ok(),
        None => matches!(action, Action::ViewSelf | Action::ManageOwnSecurity),
    }
}

/// The links `actor` may follow.
pub(crate) fn links(actor: Option<&Actor>, path: &str) -> Vec<NavLink> {
    NAV.iter()
        .take(1)
        .chain(super::work::NAV)
        .chain(NAV.iter().skip(1))
        .filter(|item| allowed(actor, &item.action))
        .map(|item| NavLink {
            label: item.label,
            href: item.href,
            current: item.href == path,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadteam_domain::authz::{MemberStatus, PermissionSet};
    use leadteam_domain::{AccountId, MemberId, UserId};

    fn actor(status: MemberStatus) -> Actor {
        Actor {
            user: UserId(1),
            member: MemberId(1),
            account: AccountId(1),
            status,
            permissions: PermissionSet::default(),
            is_owner: false,
            has_2fa: false,
            account_requires_2fa: false,
            teams: Vec::new(),
        }
    }

    #[test]
    fn the_current_page_is_marked_and_a_user_without_account_keeps_its_own_pages() {
        let l = links(Some(&actor(MemberStatus::Active)), "/security");
        let current: Vec<&str> = l.iter().filter(|i| i.current).map(|i| i.href).collect();
        assert_eq!(current, ["/security"]);
        assert_eq!(l.first().map(|i| i.href), Some("/"));
        assert_eq!(links(None, "/").len(), 2);
        assert!(links(Some(&actor(MemberStatus::Deactivated)), "/").is_empty());
    }
}
