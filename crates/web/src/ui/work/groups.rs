//! Client groups (`/api/v1/groups`, P5, P6): every member sees them,
//! `groups.edit` creates and edits, the owner and admins delete.

use super::{may, notice};
use crate::AppState;
use crate::ui::form::NoticeQuery;
use crate::ui::layout::{Layout, render, see_other};
use crate::ui::{FormErrors, SignedIn, UiError, UiForm};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use leadteam_app::groups::{self, GroupInput};
use leadteam_app::me;
use leadteam_domain::GroupId;
use leadteam_domain::authz::Action;
use serde::Deserialize;

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/groups", get(show).post(create))
        .route("/groups/{id}", get(edit_form).post(edit))
        .route("/groups/{id}/delete", post(delete))
}

/// The colours offered (a group keeps any `#rrggbb` set through the API).
const COLOURS: [(&str, &str); 9] = [
    ("#0f766e", "Teal"),
    ("#2456c9", "Blue"),
    ("#7c3aed", "Purple"),
    ("#db2777", "Pink"),
    ("#b3261e", "Red"),
    ("#c2410c", "Orange"),
    ("#a16207", "Yellow"),
    ("#1d6b3a", "Green"),
    ("#5b6475", "Grey"),
];

pub(super) struct GroupView {
    id: i64,
    name: String,
    description: String,
    color: Option<String>,
    by: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct GroupForm {
    name: String,
    description: String,
    color: String,
}

#[derive(Template)]
#[template(path = "groups.html")]
struct GroupsPage {
    page: Layout,
    groups: Vec<GroupView>,
    can_edit: bool,
    can_delete: bool,
    colours: Vec<(String, String)>,
    form: GroupForm,
    errors: FormErrors,
    alert: FormErrors,
}

#[derive(Template)]
#[template(path = "group_edit.html")]
struct GroupEditPage {
    page: Layout,
    id: i64,
    colours: Vec<(String, String)>,
    form: GroupForm,
    errors: FormErrors,
}

/// The colour choices, with `current` when it is not one of them.
fn colours(current: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = COLOURS
        .iter()
        .map(|(v, n)| ((*v).to_owned(), (*n).to_owned()))
        .collect();
    if !current.is_empty() && !out.iter().any(|(v, _)| v == current) {
        out.push((current.to_owned(), format!("Custom ({current})")));
    }
    out
}

fn input(f: &GroupForm) -> GroupInput<'_> {
    let color = f.color.trim();
    GroupInput {
        name: Some(&f.name),
        description: Some(&f.description),
        color: Some((!color.is_empty()).then_some(color)),
    }
}

async fn groups_page(
    s: &AppState,
    who: &SignedIn,
    status: StatusCode,
    notice_key: Option<&str>,
    form: GroupForm,
    errors: FormErrors,
    alert: FormErrors,
) -> Result<Response, UiError> {
    let actor = super::actor_of(who)?.clone();
    let rows = groups::list(&s.app, &who.caller).await?;
    let v = me::me(&s.app, &who.caller).await?;
    let page = GroupsPage {
        page: Layout::signed_in("Client groups", "/groups", who, &v)
            .with_notice(notice(notice_key)),
        groups: rows
            .into_iter()
            .map(|g| GroupView {
                id: g.id.0,
                name: g.name,
                description: g.description,
                color: g.color,
                by: g.created_by.map(|(_, n)| n),
            })
            .collect(),
        can_edit: may(&actor, &Action::EditGroups),
        can_delete: may(&actor, &Action::DeleteGroups),
        colours: colours(&form.color),
        form,
        errors,
        alert,
    };
    Ok(render(status, &page))
}

async fn show(
    State(s): State<AppState>,
    who: SignedIn,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, UiError> {
    let (f, e, a) = (
        GroupForm::default(),
        FormErrors::default(),
        FormErrors::default(),
    );
    groups_page(&s, &who, StatusCode::OK, q.notice.as_deref(), f, e, a).await
}

async fn create(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<GroupForm>,
) -> Result<Response, UiError> {
    match groups::create(&s.app, &who.caller, input(&f.data)).await {
        Ok(_) => Ok(see_other("/groups?notice=group_added", f.htmx)),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[])?;
            groups_page(
                &s,
                &who,
                status,
                None,
                f.data,
                errors,
                FormErrors::default(),
            )
            .await
        }
    }
}

async fn edit_page(
    s: &AppState,
    who: &SignedIn,
    status: StatusCode,
    id: i64,
    form: Option<GroupForm>,
    errors: FormErrors,
) -> Result<Response, UiError> {
    super::actor_of(who)?;
    let g = groups::get(&s.app, &who.caller, GroupId(id)).await?;
    // Only those who may edit get the form.
    who.caller.may(&Action::EditGroups)?;
    let v = me::me(&s.app, &who.caller).await?;
    let form = form.unwrap_or(GroupForm {
        name: g.name.clone(),
        description: g.description.clone(),
        color: g.color.clone().unwrap_or_default(),
    });
    let page = GroupEditPage {
        page: Layout::signed_in(&format!("Edit the group {}", g.name), "/groups", who, &v),
        id,
        colours: colours(&form.color),
        form,
        errors,
    };
    Ok(render(status, &page))
}

async fn edit_form(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    edit_page(&s, &who, StatusCode::OK, id, None, FormErrors::default()).await
}

async fn edit(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<GroupForm>,
) -> Result<Response, UiError> {
    match groups::edit(&s.app, &who.caller, GroupId(id), input(&f.data)).await {
        Ok(_) => Ok(see_other("/groups?notice=group_saved", f.htmx)),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[])?;
            edit_page(&s, &who, status, id, Some(f.data), errors).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct NoFields {}

async fn delete(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<NoFields>,
) -> Result<Response, UiError> {
    match groups::delete(&s.app, &who.caller, GroupId(id)).await {
        Ok(()) => Ok(see_other("/groups?notice=group_deleted", f.htmx)),
        Err(e) => {
            let (status, alert) = FormErrors::from_app(e, &[])?;
            let (form, errors) = (GroupForm::default(), FormErrors::default());
            groups_page(&s, &who, status, None, form, errors, alert).await
        }
    }
}
