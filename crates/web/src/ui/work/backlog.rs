//! The backlog (A11): leads waiting because nobody could take them, oldest
//! first, with the reason; each is assigned by its rule as soon as someone
//! frees up. The same use case as `GET /api/v1/routing/backlog`.

use super::super::layout::{Layout, render};
use super::super::{SignedIn, UiError};
use crate::AppState;
use crate::ui::dates::when;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use leadteam_app::me;
use leadteam_domain::ClientId;
use serde::Deserialize;

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/backlog", get(page))
}

struct Row {
    id: i64,
    name: String,
    reason: String,
    received: String,
}

#[derive(Template)]
#[template(path = "backlog.html")]
struct BacklogPage {
    page: Layout,
    rows: Vec<Row>,
    total: i64,
    next_after: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct Params {
    after: Option<i64>,
}

const PAGE: i64 = 50;

async fn page(
    State(s): State<AppState>,
    who: SignedIn,
    Query(q): Query<Params>,
) -> Result<Response, UiError> {
    let v = me::me(&s.app, &who.caller).await?;
    let (rows, total) =
        leadteam_app::backlog::list(&s.app, &who.caller, q.after.map(ClientId), Some(PAGE)).await?;
    let next_after = (rows.len() as i64 == PAGE)
        .then(|| rows.last().map(|w| w.client.0))
        .flatten();
    let body = BacklogPage {
        page: Layout::signed_in("Backlog", "/backlog", &who, &v),
        rows: rows
            .into_iter()
            .map(|w| Row {
                id: w.client.0,
                name: w.name,
                reason: w
                    .reason
                    .map(|r| r.trim_start_matches("unassigned: ").to_owned())
                    .unwrap_or_default(),
                received: when(w.created_at, &who.caller.time_zone),
            })
            .collect(),
        total,
        next_after,
    };
    Ok(render(StatusCode::OK, &body))
}
