//! Alerts (C7, A6).

use super::rfc3339;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::Authed;
use crate::extract::{ApiPath, ApiQuery};
use crate::registry::{Api, RouteSpec, Verb};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use leadteam_app::bus::BusEvent;
use leadteam_app::notifications;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::convert::Infallible;

pub(super) fn routes(api: Api) -> Api {
    api.add(
        RouteSpec::new(Verb::Get, "/api/v1/notifications", "notifications", "My alerts, newest first")
            .query(&[("unread", "true: only unread"), ("before", "cursor"), ("limit", "1..=200, default 50")])
            .returns::<NotificationsOut>(),
        list,
    )
    .add(
        RouteSpec::new(Verb::Post, "/api/v1/notifications/{id}/read", "notifications", "Mark one of my alerts read").status(204),
        read,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/notifications/read-all",
            "notifications",
            "Mark all my alerts read (D3)",
        )
        .returns::<ReadAllOut>(),
        read_all,
    )
    .add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/notifications/stream",
            "notifications",
            "My alerts as server-sent events (event: notification); ends when I am deactivated or sign out",
        ),
        stream,
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
    ApiQuery(p): ApiQuery<ListParams>,
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
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    notifications::mark_read(&s.app, &c, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How often an open stream re-checks its session even without events.
const RECHECK: std::time::Duration = std::time::Duration::from_secs(2);

struct StreamState {
    app: leadteam_app::App,
    caller: leadteam_app::auth::Caller,
    rx: tokio::sync::broadcast::Receiver<BusEvent>,
    tick: tokio::time::Interval,
    done: bool,
    stopping: tokio_util::sync::CancellationToken,
    /// This stream's place under the caps (X7), given back when it ends.
    _slot: crate::Ticket<leadteam_domain::MemberId>,
}

fn end(st: &mut StreamState, why: &'static str) -> SseEvent {
    st.done = true;
    SseEvent::default().event("end").data(why)
}

/// Not `end` (which tells the page to stop listening): the stream just
/// closes, and the browser reconnects, to another node or to this one
/// restarted, authenticating afresh.
fn close(st: &mut StreamState, why: &'static str) -> SseEvent {
    st.done = true;
    SseEvent::default()
        .retry(std::time::Duration::from_secs(2))
        .comment(why)
}

/// Checks the stream's session afresh; the event that ends the stream, if
/// it must end. The reason names what happened, whichever comes first: the
/// periodic check or the bus event.
async fn recheck(st: &mut StreamState) -> Option<SseEvent> {
    match notifications::stream_check(&st.app, &st.caller).await {
        notifications::StreamCheck::Open => None,
        notifications::StreamCheck::SignedOut => Some(end(st, "signed out")),
        notifications::StreamCheck::AccessEnded => Some(end(st, "access ended")),
        notifications::StreamCheck::Unknown => Some(close(st, "check failed")),
    }
}

/// Live alerts (A6, C7) as server-sent events; the stream ends at once when
/// the member is deactivated or removed, or the session signs out.
async fn stream(
    State(s): State<AppState>,
    Authed(c): Authed,
) -> Result<Sse<impl futures::Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let rx = notifications::open_stream(&s.app, &c)?;
    let member = c.actor()?.member;
    let slot = s.streams.take(member).map_err(|full| {
        let detail = match full {
            crate::Full::Total(n) => {
                format!("this server holds its maximum of {n} live streams; try again shortly")
            }
            crate::Full::Each(n) => format!(
                "you have {n} live streams open (the most a member may); close a tab or window first"
            ),
        };
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-streams",
            "Too many live streams",
        )
        .detail(detail);
        e.retry_after = Some(5);
        e
    })?;
    let mut tick = tokio::time::interval(RECHECK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let state = StreamState {
        app: s.app.clone(),
        caller: c,
        rx,
        tick,
        done: false,
        stopping: s.stopping.clone(),
        _slot: slot,
    };
    let events = futures::stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        let member = st.caller.actor.as_ref().map(|a| a.member)?;
        loop {
            tokio::select! {
                ev = st.rx.recv() => match ev {
                    Ok(BusEvent::Notification { member: m, id, kind, client, body, at, .. }) if m == member => {
                        let data = serde_json::json!({
                            "id": id, "kind": kind, "client_id": client.map(|c| c.0), "body": body, "created_at": rfc3339(at)
                        });
                        let e = SseEvent::default().event("notification").id(id.to_string()).data(data.to_string());
                        return Some((Ok(e), st));
                    }
                    Ok(BusEvent::AccessChanged { member: m, .. }) if m == member => {
                        if let Some(e) = recheck(&mut st).await {
                            return Some((Ok(e), st));
                        }
                    }
                    Ok(BusEvent::SessionEnded { session }) if session == st.caller.session => {
                        let e = end(&mut st, "signed out");
                        return Some((Ok(e), st));
                    }
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                },
                () = st.stopping.cancelled() => {
                    return Some((Ok(close(&mut st, "server stopping")), st));
                }
                _ = st.tick.tick() => {
                    if let Some(e) = recheck(&mut st).await {
                        return Some((Ok(e), st));
                    }
                }
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct ReadAllOut {
    /// How many alerts were unread.
    pub marked: u64,
}

async fn read_all(
    axum::extract::State(s): axum::extract::State<crate::AppState>,
    crate::extract::Authed(c): crate::extract::Authed,
) -> Result<axum::Json<ReadAllOut>, crate::error::ApiError> {
    let marked = leadteam_app::notifications::mark_all_read(&s.app, &c).await?;
    Ok(axum::Json(ReadAllOut { marked }))
}
