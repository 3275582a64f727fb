//! The members dashboard (M1-M3, M5, M9): every member with status badge,
//! role, permissions and teams, filtered by status; the "..." menu of each
//! member offers what `decide` allows (resend or cancel the invitation,
//! edit, deactivate or reactivate, remove); the invite dialog. The same use
//! cases as `/api/v1/members` and `/api/v1/invitations`.

use super::super::layout::{Layout, render, see_other};
use super::super::{FormErrors, SignedIn, UiError, UiForm};
use super::view::{self, PermChip};
use crate::AppState;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use leadteam_app::members::{self, InviteInput};
use leadteam_app::roles;
use leadteam_domain::MemberId;
use leadteam_domain::authz::{Action, MemberStatus, PermissionSet, Preset};
use serde::Deserialize;

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/members", get(list))
        .route("/members/invite", post(invite))
        .route("/members/{id}/resend", post(resend))
        .route("/members/{id}/cancel", post(cancel))
        .route("/members/{id}/deactivate", post(deactivate))
        .route("/members/{id}/reactivate", post(reactivate))
}

/// One row of the table, with the actions its menu offers.
pub(super) struct Row {
    id: i64,
    name: String,
    email: String,
    status: &'static str,
    status_label: &'static str,
    is_me: bool,
    role: String,
    every_permission: bool,
    perms: Vec<PermChip>,
    own_permissions: bool,
    teams: Vec<String>,
    can_invitation: bool,
    can_edit: bool,
    can_deactivate: bool,
    can_reactivate: bool,
    can_remove: bool,
    /// The away switch (A8), and whether the viewer may turn it.
    away: bool,
    can_away: bool,
}

impl Row {
    fn has_actions(&self) -> bool {
        self.can_invitation
            || self.can_edit
            || self.can_deactivate
            || self.can_reactivate
            || self.can_remove
            || self.can_away
    }
}

/// A status filter link.
pub(super) struct Filter {
    key: &'static str,
    label: &'static str,
    current: bool,
}

/// A role the invite dialog offers.
pub(super) struct RoleOption {
    id: i64,
    name: String,
    selected: bool,
}

/// What was typed into the invite dialog.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct InviteForm {
    name: String,
    email: String,
    role_id: String,
    status: String,
}

#[derive(Template)]
#[template(path = "admin/members.html")]
struct MembersPage {
    page: Layout,
    rows: Vec<Row>,
    filters: Vec<Filter>,
    status: String,
    /// The label of the status filtered on ("" for all).
    filter_label: &'static str,
    can_invite: bool,
    roles: Vec<RoleOption>,
    invite: InviteForm,
    invite_errors: FormErrors,
    /// An action of a member's menu was refused: why.
    action_error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListQuery {
    status: String,
    notice: Option<String>,
}

/// Whatever went wrong with a form, as the page shows it.
#[derive(Default)]
struct Problems {
    invite: FormErrors,
    invite_form: InviteForm,
    action: Option<String>,
}

async fn members_page(
    s: &AppState,
    who: &SignedIn,
    status: &str,
    notice_key: Option<&str>,
    http: StatusCode,
    problems: Problems,
) -> Result<Response, UiError> {
    let status = match status {
        "invited" | "active" | "deactivated" => status,
        _ => "",
    };
    let page = view::frame(s, who, "Members", "/members", notice_key).await?;
    let rows = members::list(&s.app, &who.caller, Some(status)).await?;
    let me = who.caller.actor.as_ref().map(|a| a.member);
    let rows = rows
        .iter()
        .map(|m| {
            let facts = m.facts();
            let active = m.status == MemberStatus::Active;
            let invited = m.status == MemberStatus::Invited;
            let is_me = Some(m.id) == me;
            Row {
                id: m.id.0,
                name: m.name.clone(),
                email: m.email.clone(),
                status: m.status.as_str(),
                status_label: m.status.label(),
                is_me,
                role: m.role_name.clone(),
                every_permission: m.permissions == PermissionSet::all(),
                perms: view::chips(m.permissions),
                own_permissions: m.permissions_override.is_some(),
                teams: m.teams.iter().map(|(_, n)| n.clone()).collect(),
                can_invitation: invited && page.may(Action::ManageInvitation),
                can_edit: page.may(Action::EditMember {
                    target: &facts,
                    grants: None,
                }),
                can_deactivate: active
                    && !is_me
                    && page.may(Action::DeactivateMember { target: &facts }),
                can_reactivate: m.status == MemberStatus::Deactivated
                    && page.may(Action::ReactivateMember { target: &facts }),
                can_remove: !invited && !is_me && page.may(Action::RemoveMember { target: &facts }),
                away: m.away,
                can_away: active && !is_me && page.may(Action::EditAvailability { target: &facts }),
            }
        })
        .collect();
    let can_invite = page.may(Action::InviteMember {
        grants: PermissionSet::EMPTY,
    });
    let mut roles_offered = Vec::new();
    if can_invite && page.may(Action::ListRoles) {
        let chosen: Option<i64> = problems.invite_form.role_id.parse().ok();
        for r in roles::list(&s.app, &who.caller).await? {
            let grants = r.role.permissions;
            if r.role.preset == Some(Preset::Owner) || !page.may(Action::InviteMember { grants }) {
                continue;
            }
            roles_offered.push(RoleOption {
                id: r.role.id.0,
                selected: match chosen {
                    Some(c) => c == r.role.id.0,
                    None => r.role.preset == Some(Preset::Member),
                },
                name: r.role.name,
            });
        }
    }
    let filters = [
        ("", "All"),
        ("invited", MemberStatus::Invited.label()),
        ("active", MemberStatus::Active.label()),
        ("deactivated", MemberStatus::Deactivated.label()),
    ]
    .into_iter()
    .map(|(key, label)| Filter {
        key,
        label,
        current: key == status,
    })
    .collect();
    let filter_label = MemberStatus::parse(status).map_or("", MemberStatus::label);
    // A refused invitation from someone who has no dialog is said above the list.
    let mut problems = problems;
    if !can_invite && problems.invite.any() && problems.action.is_none() {
        problems.action = Some(view::refusal(&problems.invite));
    }
    let p = MembersPage {
        page,
        rows,
        filters,
        status: status.to_owned(),
        filter_label,
        can_invite,
        roles: roles_offered,
        invite: problems.invite_form,
        invite_errors: problems.invite,
        action_error: problems.action,
    };
    Ok(render(http, &p))
}

async fn list(
    State(s): State<AppState>,
    who: SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Response, UiError> {
    members_page(
        &s,
        &who,
        &q.status,
        q.notice.as_deref(),
        StatusCode::OK,
        Problems::default(),
    )
    .await
}

/// Back to the list (keeping its filter) with a notice.
pub(super) fn back_to_list(status: &str, notice: &str, htmx: bool) -> Response {
    let q = match status {
        "invited" | "active" | "deactivated" => format!("status={status}&"),
        _ => String::new(),
    };
    see_other(&format!("/members?{q}notice={notice}"), htmx)
}

async fn invite(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<InviteForm>,
) -> Result<Response, UiError> {
    let b = f.data;
    let role_id = b.role_id.trim().parse::<i64>().ok();
    let result = members::invite(
        &s.app,
        &who.caller,
        InviteInput {
            name: &b.name,
            email: &b.email,
            role_id,
            ..InviteInput::default()
        },
    )
    .await;
    match result {
        Ok(_) => Ok(back_to_list(&b.status, "invited", f.htmx)),
        Err(e) => {
            let (http, errors) = FormErrors::from_app(e, &[])?;
            let status = b.status.clone();
            let problems = Problems {
                invite: errors,
                invite_form: b,
                action: None,
            };
            members_page(&s, &who, &status, None, http, problems).await
        }
    }
}

/// The body of the menu's one-button forms: the filter to come back to.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MenuForm {
    status: String,
}

/// The one-button actions of a member's menu.
#[derive(Debug, Clone, Copy)]
enum Menu {
    Resend,
    Cancel,
    Deactivate,
    Reactivate,
}

/// Runs a menu action: back to the list with a notice, or the refusal shown
/// above the list.
async fn menu_action(
    s: AppState,
    who: SignedIn,
    id: i64,
    f: UiForm<MenuForm>,
    action: Menu,
) -> Result<Response, UiError> {
    let (app, caller, id) = (&s.app, &who.caller, MemberId(id));
    let result = match action {
        Menu::Resend => members::resend(app, caller, id).await.map(|_| "resent"),
        Menu::Cancel => members::cancel(app, caller, id).await.map(|()| "cancelled"),
        Menu::Deactivate => members::deactivate(app, caller, id)
            .await
            .map(|_| "deactivated"),
        Menu::Reactivate => members::reactivate(app, caller, id)
            .await
            .map(|_| "reactivated"),
    };
    match result {
        Ok(notice) => Ok(back_to_list(&f.data.status, notice, f.htmx)),
        Err(e) => {
            let (http, errors) = FormErrors::from_app(e, &[])?;
            let problems = Problems {
                action: Some(view::refusal(&errors)),
                ..Problems::default()
            };
            members_page(&s, &who, &f.data.status, None, http, problems).await
        }
    }
}

async fn resend(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<MenuForm>,
) -> Result<Response, UiError> {
    menu_action(s, who, id, f, Menu::Resend).await
}

async fn cancel(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<MenuForm>,
) -> Result<Response, UiError> {
    menu_action(s, who, id, f, Menu::Cancel).await
}

async fn deactivate(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<MenuForm>,
) -> Result<Response, UiError> {
    menu_action(s, who, id, f, Menu::Deactivate).await
}

async fn reactivate(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<MenuForm>,
) -> Result<Response, UiError> {
    menu_action(s, who, id, f, Menu::Reactivate).await
}
