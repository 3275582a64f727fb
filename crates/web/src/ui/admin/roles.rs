//! The roles editor (P3): every role with its permissions and holders;
//! create, rename, change the permissions of (checkboxes) and delete custom
//! roles. The same use cases as `/api/v1/roles`; a permission the caller
//! does not hold cannot be ticked (P4, `decide` on `ManageRoles`).

use super::super::layout::{Layout, render, see_other};
use super::super::{FormErrors, SignedIn, UiError, UiForm};
use super::fields::Fields;
use super::view::{self, PermBox, PermChip};
use crate::AppState;
use crate::ui::form::NoticeQuery;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use leadteam_app::roles::RoleWithCount;
use leadteam_app::{AppError, roles};
use leadteam_domain::RoleId;
use leadteam_domain::authz::{Action, Permission, PermissionSet};

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/roles", get(list).post(create))
        .route("/roles/{id}", get(edit_page).post(save))
        .route("/roles/{id}/delete", post(delete))
}

pub(super) struct RoleCard {
    id: i64,
    name: String,
    kind: &'static str,
    fixed: bool,
    custom: bool,
    members: i64,
    every_permission: bool,
    perms: Vec<PermChip>,
    can_edit: bool,
    can_delete: bool,
    /// Why a custom role cannot be deleted now.
    delete_note: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/roles.html")]
struct RolesPage {
    page: Layout,
    cards: Vec<RoleCard>,
    can_manage: bool,
    new_name: String,
    new_perms: Vec<PermBox>,
    create_errors: FormErrors,
    create_open: bool,
    action_error: Option<String>,
}

fn kind(r: &RoleWithCount) -> &'static str {
    if !r.role.is_editable() {
        "Built-in, fixed"
    } else if r.role.is_custom() {
        "Custom"
    } else {
        "Built-in"
    }
}

fn may_manage(page: &Layout) -> bool {
    page.may(Action::ManageRoles {
        grants: PermissionSet::EMPTY,
    })
}

/// Giving `p` to a role is allowed when `decide` says so.
fn grantable(page: &Layout) -> impl Fn(Permission) -> bool + '_ {
    |p| {
        page.may(Action::ManageRoles {
            grants: PermissionSet::of(&[p]),
        })
    }
}

#[derive(Default)]
struct Problems {
    create: FormErrors,
    name: String,
    perms: PermissionSet,
    create_open: bool,
    action: Option<String>,
}

async fn roles_page(
    s: &AppState,
    who: &SignedIn,
    notice: Option<&str>,
    status: StatusCode,
    p: Problems,
) -> Result<Response, UiError> {
    let page = view::frame(s, who, "Roles", "/roles", notice).await?;
    let can_manage = may_manage(&page);
    let cards = roles::list(&s.app, &who.caller)
        .await?
        .iter()
        .map(|r| RoleCard {
            id: r.role.id.0,
            name: r.role.name.clone(),
            kind: kind(r),
            fixed: !r.role.is_editable(),
            custom: r.role.is_custom(),
            members: r.members,
            every_permission: r.role.permissions == PermissionSet::all(),
            perms: view::chips(r.role.permissions),
            can_edit: can_manage && r.role.is_editable(),
            can_delete: can_manage && r.role.is_custom() && r.members == 0,
            delete_note: (can_manage && r.role.is_custom() && r.members > 0).then(|| {
                format!(
                    "Held by {} member{}: give {} another role to delete it.",
                    r.members,
                    if r.members == 1 { "" } else { "s" },
                    if r.members == 1 { "them" } else { "each" },
                )
            }),
        })
        .collect();
    let new_perms = view::boxes(p.perms, true, grantable(&page));
    let mut p = p;
    if !can_manage && p.create.any() && p.action.is_none() {
        p.action = Some(view::refusal(&p.create));
    }
    let body = RolesPage {
        cards,
        can_manage,
        new_name: p.name,
        new_perms,
        create_errors: p.create,
        create_open: p.create_open,
        action_error: p.action,
        page,
    };
    Ok(render(status, &body))
}

async fn list(
    State(s): State<AppState>,
    who: SignedIn,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, UiError> {
    roles_page(
        &s,
        &who,
        q.notice.as_deref(),
        StatusCode::OK,
        Problems::default(),
    )
    .await
}

async fn create(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    let name = f.data.get("name").to_owned();
    let perms = f.data.all("permissions");
    match roles::create(&s.app, &who.caller, &name, &perms).await {
        Ok(_) => Ok(see_other("/roles?notice=role_created", f.htmx)),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[])?;
            let p = Problems {
                create: errors,
                name,
                perms: PermissionSet::parse_names(&perms).unwrap_or_default(),
                create_open: true,
                action: None,
            };
            roles_page(&s, &who, None, status, p).await
        }
    }
}

#[derive(Template)]
#[template(path = "admin/role_edit.html")]
struct EditPage {
    page: Layout,
    id: i64,
    role_name: String,
    members: i64,
    perms: Vec<PermBox>,
    errors: FormErrors,
}

async fn edit_view(
    s: &AppState,
    who: &SignedIn,
    id: i64,
    typed: Option<&Fields>,
    status: StatusCode,
    errors: FormErrors,
) -> Result<Response, UiError> {
    let r = roles::list(&s.app, &who.caller)
        .await?
        .into_iter()
        .find(|r| r.role.id.0 == id)
        .ok_or(AppError::NotFound("role"))?;
    let page = view::frame(
        s,
        who,
        &format!("Edit the role {}", r.role.name),
        "/roles",
        None,
    )
    .await?;
    if !may_manage(&page) || !r.role.is_editable() {
        return Err(AppError::conflict(
            None,
            format!("The role {} cannot be changed by you", r.role.name),
        )
        .into());
    }
    let (name, checked) = match typed {
        Some(f) => (
            f.get("name").to_owned(),
            PermissionSet::parse_names(&f.all("permissions")).unwrap_or_default(),
        ),
        None => (r.role.name.clone(), r.role.permissions),
    };
    let held = r.role.permissions;
    let perms = {
        let may = grantable(&page);
        view::boxes(checked, true, |p| held.contains(p) || may(p))
    };
    let body = EditPage {
        id,
        role_name: name,
        members: r.members,
        perms,
        errors,
        page,
    };
    Ok(render(status, &body))
}

async fn edit_page(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    edit_view(&s, &who, id, None, StatusCode::OK, FormErrors::default()).await
}

async fn save(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    let perms = f.data.all("permissions");
    let result = roles::update(
        &s.app,
        &who.caller,
        RoleId(id),
        Some(f.data.get("name")),
        Some(&perms),
    )
    .await;
    match result {
        Ok(_) => Ok(see_other("/roles?notice=role_saved", f.htmx)),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[])?;
            edit_view(&s, &who, id, Some(&f.data), status, errors).await
        }
    }
}

async fn delete(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    match roles::delete(&s.app, &who.caller, RoleId(id)).await {
        Ok(()) => Ok(see_other("/roles?notice=role_deleted", f.htmx)),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[])?;
            let p = Problems {
                action: Some(view::refusal(&errors)),
                ..Problems::default()
            };
            roles_page(&s, &who, None, status, p).await
        }
    }
}
