//! Small pieces the team pages share: the signed-in frame, dates, money and
//! permissions as people read them.

use super::super::FormErrors;
use super::super::dashboard::permission_text;
use super::super::form::sentence;
use super::super::layout::Layout;
use super::super::{SignedIn, UiError};
use crate::AppState;
pub(super) use crate::ui::dates::{day, when};
use leadteam_app::me;
use leadteam_domain::authz::{Permission, PermissionSet};

/// The frame of a signed-in page at `path`, with the notice of `notice_key`.
pub(super) async fn frame(
    s: &AppState,
    who: &SignedIn,
    title: &str,
    path: &str,
    notice_key: Option<&str>,
) -> Result<Layout, UiError> {
    let v = me::me(&s.app, &who.caller).await?;
    Ok(Layout::signed_in(title, path, who, &v).with_notice(super::notice(notice_key)))
}

/// "EUR 1,234.50" from cents.
pub(super) fn money(cents: i64, currency: &str) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    let units = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{currency} {grouped}.{:02}", abs % 100)
}

/// A few words for a permission, for the columns of lists.
pub(super) fn short_label(p: Permission) -> &'static str {
    match p {
        Permission::ClientsViewOthers => "Others' clients",
        Permission::ClientsViewTeam => "Team's clients",
        Permission::ClientsViewUnassigned => "Unassigned clients",
        Permission::ClientsDelete => "Delete clients",
        Permission::ContentEdit => "Edit content",
        Permission::GroupsEdit => "Edit groups",
        Permission::MembersManage => "Manage members",
        Permission::IntegrationsManage => "Integrations",
        Permission::BillingManage => "Billing",
        Permission::AccountManage => "Account settings",
        Permission::TeamView => "See the team",
        Permission::Agent => "Agent",
    }
}

/// One permission in a list: short label, sentence and wire name.
pub(crate) struct PermChip {
    pub label: &'static str,
    pub text: &'static str,
    pub name: &'static str,
}

/// The permissions of a set, in the order of `Permission::ALL`.
pub(super) fn chips(set: PermissionSet) -> Vec<PermChip> {
    set.iter()
        .map(|p| PermChip {
            label: short_label(p),
            text: permission_text(p),
            name: p.name(),
        })
        .collect()
}

/// One checkbox of a permission form.
pub(crate) struct PermBox {
    pub name: &'static str,
    pub label: &'static str,
    pub text: &'static str,
    pub checked: bool,
    /// The caller may not give this permission (it does not hold it): the
    /// box is shown disabled, and kept as it is.
    pub locked: bool,
}

/// The checkboxes of `perms` (every permission but `agent`, which is a flag
/// of its own, unless `with_agent`), `checked` ticked; `grantable(p)` is
/// `decide` on giving `p`.
pub(super) fn boxes(
    checked: PermissionSet,
    with_agent: bool,
    grantable: impl Fn(Permission) -> bool,
) -> Vec<PermBox> {
    Permission::ALL
        .into_iter()
        .filter(|p| with_agent || *p != Permission::Agent)
        .map(|p| PermBox {
            name: p.name(),
            label: short_label(p),
            text: permission_text(p),
            checked: checked.contains(p),
            locked: !grantable(p),
        })
        .collect()
}

/// A refused form's reason as one sentence, for forms whose fields are
/// not on the page.
pub(super) fn refusal(errors: &FormErrors) -> String {
    errors.summary.as_deref().map_or_else(
        || "This could not be done: reload the page and try again.".to_owned(),
        |m| sentence("", m),
    )
}

/// Whether some box is locked (the page then says why).
pub(crate) fn any_locked(perms: &[PermBox]) -> bool {
    perms.iter().any(|p| p.locked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_dates_read_well() {
        assert_eq!(money(123_450, "EUR"), "EUR 1,234.50");
        assert_eq!(money(5, "USD"), "USD 0.05");
        assert_eq!(money(-100_000_000, "EUR"), "-EUR 1,000,000.00");
    }
}
