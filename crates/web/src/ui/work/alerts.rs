//! The alerts page (`/api/v1/notifications`, C7, A6): newest first, a page
//! at a time, each marked read with a button; the bell in the header counts
//! the unread ones and `assets/live.js` keeps it live.

use super::{notice, number, when};
use crate::AppState;
use crate::ui::layout::{Layout, render, see_other};
use crate::ui::{FormErrors, SignedIn, UiError, UiForm};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use leadteam_app::{me, notifications};
use serde::Deserialize;

const PAGE: i64 = 30;

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/notifications", get(show))
        .route("/notifications/{id}/read", post(read))
        .route("/notifications/{id}/open", get(open))
        .route("/notifications/read-all", post(read_all))
}

pub(super) struct AlertView {
    id: i64,
    body: String,
    at: String,
    unread: bool,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct AlertsPage {
    page: Layout,
    alerts: Vec<AlertView>,
    unread: i64,
    older: Option<String>,
    paged: bool,
    alert: FormErrors,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListQuery {
    before: Option<String>,
    notice: Option<String>,
}

async fn alerts_page(
    s: &AppState,
    who: &SignedIn,
    q: &ListQuery,
    status: StatusCode,
    alert: FormErrors,
) -> Result<Response, UiError> {
    let before = number(&q.before);
    let (rows, unread) = notifications::list(&s.app, &who.caller, false, before, PAGE).await?;
    let v = me::me(&s.app, &who.caller).await?;
    let older = if rows.len() as i64 == PAGE {
        rows.last()
            .map(|r| format!("/notifications?before={}", r.id))
    } else {
        None
    };
    let page = AlertsPage {
        page: Layout::signed_in("Alerts", "/notifications", who, &v)
            .with_notice(notice(q.notice.as_deref())),
        alerts: rows
            .into_iter()
            .map(|n| AlertView {
                id: n.id,
                body: n.body,
                at: when(n.created_at, &who.caller.time_zone),
                unread: n.read_at.is_none(),
            })
            .collect(),
        unread,
        older,
        paged: before.is_some(),
        alert,
    };
    Ok(render(status, &page))
}

async fn show(
    State(s): State<AppState>,
    who: SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Response, UiError> {
    alerts_page(&s, &who, &q, StatusCode::OK, FormErrors::default()).await
}

#[derive(Debug, Default, Deserialize)]
struct NoFields {}

async fn read(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<NoFields>,
) -> Result<Response, UiError> {
    match notifications::mark_read(&s.app, &who.caller, id).await {
        Ok(()) => Ok(see_other("/notifications?notice=read", f.htmx)),
        Err(e) => {
            let (status, alert) = FormErrors::from_app(e, &[])?;
            alerts_page(&s, &who, &ListQuery::default(), status, alert).await
        }
    }
}

/// Opening an alert reads it (D3) and goes to its client (or the list).
async fn open(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    let to = match notifications::open(&s.app, &who.caller, id).await? {
        Some(c) => format!("/clients/{}", c.0),
        None => "/notifications?notice=read".to_owned(),
    };
    Ok(see_other(&to, false))
}

async fn read_all(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<NoFields>,
) -> Result<Response, UiError> {
    notifications::mark_all_read(&s.app, &who.caller).await?;
    Ok(see_other("/notifications?notice=all_read", f.htmx))
}
