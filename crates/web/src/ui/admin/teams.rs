//! Teams (T1): every team with its members; admins create, rename and
//! delete teams and choose their members (a member may be in several). The
//! same use cases as `/api/v1/teams`.

use super::super::layout::{Layout, render, see_other};
use super::super::{FormErrors, SignedIn, UiError, UiForm};
use super::fields::Fields;
use super::view;
use crate::AppState;
use crate::ui::form::NoticeQuery;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use leadteam_app::{AppError, members, teams};
use leadteam_domain::TeamId;
use leadteam_domain::authz::{Action, MemberStatus};

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/teams", get(list).post(create))
        .route("/teams/{id}", get(edit_page))
        .route("/teams/{id}/rename", post(rename))
        .route("/teams/{id}/members", post(set_members))
        .route("/teams/{id}/delete", post(delete))
}

pub(super) struct TeamCard {
    id: i64,
    name: String,
    members: Vec<String>,
}

/// A member checkbox.
pub(super) struct MemberBox {
    id: i64,
    name: String,
    /// "" for active members, else the status label.
    note: &'static str,
    checked: bool,
}

#[derive(Template)]
#[template(path = "admin/teams.html")]
struct TeamsPage {
    page: Layout,
    cards: Vec<TeamCard>,
    can_manage: bool,
    action_error: Option<String>,
    new_name: String,
    member_boxes: Vec<MemberBox>,
    create_errors: FormErrors,
    create_open: bool,
}

/// The members to choose from, `checked` ticked.
async fn member_boxes(
    s: &AppState,
    who: &SignedIn,
    page: &Layout,
    checked: &[i64],
) -> Result<Vec<MemberBox>, UiError> {
    if !page.may(Action::ListMembers) {
        return Ok(Vec::new());
    }
    Ok(members::list(&s.app, &who.caller, None)
        .await?
        .into_iter()
        .map(|m| MemberBox {
            checked: checked.contains(&m.id.0),
            id: m.id.0,
            name: m.name,
            note: match m.status {
                MemberStatus::Active => "",
                other => other.label(),
            },
        })
        .collect())
}

async fn teams_page(
    s: &AppState,
    who: &SignedIn,
    notice: Option<&str>,
    status: StatusCode,
    typed: Option<&Fields>,
    create_errors: FormErrors,
) -> Result<Response, UiError> {
    let page = view::frame(s, who, "Teams", "/teams", notice).await?;
    let can_manage = page.may(Action::ManageTeams);
    let cards = teams::list(&s.app, &who.caller)
        .await?
        .into_iter()
        .map(|t| TeamCard {
            id: t.id.0,
            name: t.name,
            members: t.members.into_iter().map(|(_, n)| n).collect(),
        })
        .collect();
    let checked = typed.map(|f| f.ids("members")).unwrap_or_default();
    let boxes = if can_manage {
        member_boxes(s, who, &page, &checked).await?
    } else {
        Vec::new()
    };
    let action_error = (!can_manage && create_errors.any()).then(|| view::refusal(&create_errors));
    let body = TeamsPage {
        cards,
        can_manage,
        action_error,
        new_name: typed.map(|f| f.get("name").to_owned()).unwrap_or_default(),
        member_boxes: boxes,
        create_open: create_errors.any(),
        create_errors,
        page,
    };
    Ok(render(status, &body))
}

async fn list(
    State(s): State<AppState>,
    who: SignedIn,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, UiError> {
    teams_page(
        &s,
        &who,
        q.notice.as_deref(),
        StatusCode::OK,
        None,
        FormErrors::default(),
    )
    .await
}

async fn create(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    let ids = f.data.ids("members");
    match teams::create(&s.app, &who.caller, f.data.get("name"), Some(&ids)).await {
        Ok(_) => Ok(see_other("/teams?notice=team_created", f.htmx)),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[("member_ids", "members")])?;
            teams_page(&s, &who, None, status, Some(&f.data), errors).await
        }
    }
}

#[derive(Template)]
#[template(path = "admin/team_edit.html")]
struct EditPage {
    page: Layout,
    id: i64,
    team_name: String,
    member_boxes: Vec<MemberBox>,
    rename_errors: FormErrors,
    members_errors: FormErrors,
    delete_errors: FormErrors,
}

/// Which form of the edit page failed.
enum Failed {
    Nothing,
    Rename(FormErrors),
    Members(FormErrors),
    Delete(FormErrors),
}

async fn edit_view(
    s: &AppState,
    who: &SignedIn,
    id: i64,
    typed: Option<&Fields>,
    status: StatusCode,
    failed: Failed,
) -> Result<Response, UiError> {
    let team = teams::list(&s.app, &who.caller)
        .await?
        .into_iter()
        .find(|t| t.id.0 == id)
        .ok_or(AppError::NotFound("team"))?;
    let page = view::frame(s, who, &format!("Team {}", team.name), "/teams", None).await?;
    if !page.may(Action::ManageTeams) {
        return Err(AppError::Denied(leadteam_domain::authz::Denied::AdminOnly).into());
    }
    let (mut rename_errors, mut members_errors, mut delete_errors) = (
        FormErrors::default(),
        FormErrors::default(),
        FormErrors::default(),
    );
    let mut team_name = team.name.clone();
    let mut checked: Vec<i64> = team.members.iter().map(|(m, _)| m.0).collect();
    match failed {
        Failed::Nothing => {}
        Failed::Rename(e) => {
            rename_errors = e;
            team_name = typed.map(|f| f.get("name").to_owned()).unwrap_or_default();
        }
        Failed::Members(e) => {
            members_errors = e;
            checked = typed.map(|f| f.ids("members")).unwrap_or_default();
        }
        Failed::Delete(e) => delete_errors = e,
    }
    let boxes = member_boxes(s, who, &page, &checked).await?;
    let body = EditPage {
        id,
        team_name,
        member_boxes: boxes,
        rename_errors,
        members_errors,
        delete_errors,
        page,
    };
    Ok(render(status, &body))
}

async fn edit_page(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    edit_view(&s, &who, id, None, StatusCode::OK, Failed::Nothing).await
}

async fn rename(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    match teams::rename(&s.app, &who.caller, TeamId(id), f.data.get("name")).await {
        Ok(_) => Ok(see_other("/teams?notice=team_saved", f.htmx)),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[])?;
            edit_view(&s, &who, id, Some(&f.data), status, Failed::Rename(errors)).await
        }
    }
}

async fn set_members(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    let ids = f.data.ids("members");
    match teams::set_members(&s.app, &who.caller, TeamId(id), &ids).await {
        Ok(_) => Ok(see_other("/teams?notice=team_saved", f.htmx)),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[("member_ids", "members")])?;
            edit_view(&s, &who, id, Some(&f.data), status, Failed::Members(errors)).await
        }
    }
}

async fn delete(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    match teams::delete(&s.app, &who.caller, TeamId(id)).await {
        Ok(()) => Ok(see_other("/teams?notice=team_deleted", f.htmx)),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[])?;
            edit_view(&s, &who, id, None, status, Failed::Delete(errors)).await
        }
    }
}
