//! Alerts (C7, A6).

use super::rfc3339;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::Authed;
use crate::registry::{Api, RouteSpec};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use leadteam_app::notifications;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(super) fn routes(api: Api) -> Api {
    api.add(
        RouteSpec::new(
            "GET",
            "/api/v1/notifications",
            "notifications",
            "My alerts, newest first",
        )
        .query(&[
            ("unread", "true: only unread"),
            ("before", "cursor"),
            ("limit", "1..=200, default 50"),
        ])
        .returns::<NotificationsOut>(),
        list,
    )
    .add(
        RouteSpec::new(
            "POST",
            "/api/v1/notifications/{id}/read",
            "notifications",
            "Mark one of my alerts read",
        )
        .status(204),
        read,
    )
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct NotificationOut {
    pub id: i64,
    /// client_assigned | clients_assigned | new_lead
    pub kind: String,
    pub client_id: Option<i64>,
    pub body: String,
    pub created_at: String,
    pub read: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct NotificationsOut {
    pub notifications: Vec<NotificationOut>,
    pub unread: i64,
    pub next_before: Option<i64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListParams {
    pub unread: Option<bool>,
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

async fn list(
    State(s): State<AppState>,
    Authed(c): Authed,
    Query(p): Query<ListParams>,
) -> Result<Json<NotificationsOut>, ApiError> {
    let limit = p.limit.unwrap_or(50);
    let (rows, unread) =
        notifications::list(&s.app, &c, p.unread.unwrap_or(false), p.before, limit).await?;
    let next_before = if rows.len() as i64 == limit {
        rows.last().map(|r| r.id)
    } else {
        None
    };
    Ok(Json(NotificationsOut {
        notifications: rows
            .into_iter()
            .map(|n| NotificationOut {
                id: n.id,
                kind: n.kind,
                client_id: n.client.map(|c| c.0),
                body: n.body,
                created_at: rfc3339(n.created_at),
                read: n.read_at.is_some(),
            })
            .collect(),
        unread,
        next_before,
    }))
}

async fn read(
    State(s): State<AppState>,
    Authed(c): Authed,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    notifications::mark_read(&s.app, &c, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
