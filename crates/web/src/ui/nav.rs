//! The navigation bar: one table of pages, each shown only when `decide`
//! allows its action for the caller, grouped into a few menus so that it
//! fits one line on a desktop and a menu button on a phone.

use leadteam_domain::MemberId;
use leadteam_domain::authz::{Action, Actor, ContentFacts, decide};

/// Where a page sits in the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    /// A link of its own on the bar.
    Top,
    /// The daily work beyond the client list: routing, reports, library.
    Work,
    /// The people of the account.
    Team,
    /// The account and one's own security.
    Settings,
}

impl Section {
    /// The menus, in the order of the bar (after the top links).
    const MENUS: [Section; 3] = [Section::Work, Section::Team, Section::Settings];

    fn label(self) -> &'static str {
        match self {
            Section::Top => "",
            Section::Work => "Work",
            Section::Team => "Team",
            Section::Settings => "Settings",
        }
    }
}

/// One page of the navigation.
pub(crate) struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
    /// The action the page is about; the item is shown when `decide` allows it.
    pub action: Action<'static>,
    pub section: Section,
}

/// Every page of the navigation, in order within its section. A later page
/// joins with one line, e.g. `NavItem { label: "Members", href: "/members",
/// action: Action::ListMembers, section: Section::Team }`.
pub(crate) const NAV: &[NavItem] = &[
    NavItem {
        label: "Home",
        href: "/",
        action: Action::ViewSelf,
        section: Section::Top,
    },
    NavItem {
        label: "Clients",
        href: "/clients",
        action: Action::CreateClient,
        section: Section::Top,
    },
    NavItem {
        label: "Backlog",
        href: "/backlog",
        action: Action::ViewBacklog,
        section: Section::Work,
    },
    NavItem {
        label: "Reports",
        href: "/reports",
        action: Action::ViewReports,
        section: Section::Work,
    },
    NavItem {
        label: "Lead assignment",
        href: "/leads/assignment",
        action: Action::ManageIntegrations,
        section: Section::Work,
    },
    NavItem {
        label: "Groups",
        href: "/groups",
        action: Action::UseGroups,
        section: Section::Work,
    },
    NavItem {
        label: "Content",
        href: "/content",
        // Shared content: what every active member sees (P8).
        action: Action::ViewContent(&ContentFacts {
            author: MemberId(0),
            shared: true,
        }),
        section: Section::Work,
    },
    NavItem {
        label: "Members",
        href: "/members",
        action: Action::ListMembers,
        section: Section::Team,
    },
    NavItem {
        label: "Teams",
        href: "/teams",
        action: Action::ListTeams,
        section: Section::Team,
    },
    NavItem {
        label: "Roles",
        href: "/roles",
        action: Action::ListRoles,
        section: Section::Team,
    },
    NavItem {
        label: "Availability",
        href: "/availability",
        action: Action::ViewAvailability {
            target_is_self: true,
        },
        section: Section::Team,
    },
    NavItem {
        label: "Account",
        href: "/account",
        action: Action::ViewAccount,
        section: Section::Settings,
    },
    NavItem {
        label: "Billing",
        href: "/billing",
        action: Action::ViewBilling,
        section: Section::Settings,
    },
    NavItem {
        label: "Audit log",
        href: "/audit",
        action: Action::ViewAudit,
        section: Section::Settings,
    },
    NavItem {
        label: "Security",
        href: "/security",
        action: Action::ManageOwnSecurity,
        section: Section::Settings,
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

/// One entry of the bar: a link (`links` empty), or a menu of links.
#[derive(Debug, Clone)]
pub(crate) struct NavEntry {
    pub label: &'static str,
    /// The page of a link; empty for a menu.
    pub href: &'static str,
    /// The link is the page being shown, or the menu holds it.
    pub current: bool,
    pub links: Vec<NavLink>,
}

impl NavEntry {
    fn link(l: NavLink) -> Self {
        NavEntry {
            label: l.label,
            href: l.href,
            current: l.current,
            links: Vec::new(),
        }
    }

    pub fn is_menu(&self) -> bool {
        !self.links.is_empty()
    }
}

/// Whether `actor` may do `action` (the one `decide`). Without an actor (no
/// active membership) only the user's own things remain.
pub(crate) fn allowed(actor: Option<&Actor>, action: &Action<'_>) -> bool {
    match actor {
        Some(a) => decide(a, action).is_ok(),
        None => matches!(action, Action::ViewSelf | Action::ManageOwnSecurity),
    }
}

/// The links `actor` may follow, flat, in the order of the bar.
#[cfg(test)]
pub(crate) fn links(actor: Option<&Actor>, path: &str) -> Vec<NavLink> {
    entries(actor, path)
        .into_iter()
        .flat_map(|e| match e.is_menu() {
            true => e.links,
            false => vec![NavLink {
                label: e.label,
                href: e.href,
                current: e.current,
            }],
        })
        .collect()
}

/// The bar `actor` sees: the top links, then each menu it may open. A menu
/// with a single page is that page's link.
pub(crate) fn entries(actor: Option<&Actor>, path: &str) -> Vec<NavEntry> {
    let shown = |section: Section| -> Vec<NavLink> {
        NAV.iter()
            .filter(|item| item.section == section && allowed(actor, &item.action))
            .map(|item| NavLink {
                label: item.label,
                href: item.href,
                current: item.href == path,
            })
            .collect()
    };
    let mut out: Vec<NavEntry> = shown(Section::Top)
        .into_iter()
        .map(NavEntry::link)
        .collect();
    for section in Section::MENUS {
        let mut links = shown(section);
        match links.len() {
            0 => {}
            1 => out.extend(links.pop().map(NavEntry::link)),
            _ => out.push(NavEntry {
                label: section.label(),
                href: "",
                current: links.iter().any(|l| l.current),
                links,
            }),
        }
    }
    out
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

    #[test]
    fn pages_are_grouped_into_menus_and_a_lone_page_is_a_link() {
        let mut owner = actor(MemberStatus::Active);
        owner.is_owner = true;
        owner.permissions = PermissionSet::all();
        let bar = entries(Some(&owner), "/roles");
        let shape: Vec<(String, usize, bool)> = bar
            .iter()
            .map(|e| (e.label.to_owned(), e.links.len(), e.current))
            .collect();
        assert_eq!(
            shape,
            [
                ("Home".to_owned(), 0, false),
                ("Clients".to_owned(), 0, false),
                ("Work".to_owned(), 5, false),
                ("Team".to_owned(), 4, true),
                ("Settings".to_owned(), 4, false),
            ]
        );
        assert_eq!(links(Some(&owner), "/").len(), NAV.len());
        // Without an account: Home and Security, as two links (no menu of one).
        let bare: Vec<&str> = entries(None, "/")
            .iter()
            .map(|e| if e.is_menu() { e.label } else { e.href })
            .collect();
        assert_eq!(bare, ["/", "/security"]);
    }
}
