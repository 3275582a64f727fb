//! Outbound webhooks (I8): subscriptions to events, and each one's deliveries.

use super::rfc3339;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Authed};
use crate::registry::{Api, RouteSpec, Verb};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use leadteam_app::webhooks::{self as wh, Change, WebhookRow};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(super) fn routes(api: Api) -> Api {
    api.add(
        RouteSpec::new(Verb::Get, "/api/v1/webhooks", "webhooks", "Outbound webhook subscriptions (I8)")
            .returns::<WebhooksOut>(),
        list,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/webhooks",
            "webhooks",
            "Subscribe a URL to events; its signing secret is shown once. Deliveries are POSTed as JSON {id, type, created_at, data}, signed `Leadteam-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">` and carry `Leadteam-Event-Id` (the same on retries)",
        )
        .status(201)
        .body::<WebhookBody>()
        .returns::<WebhookOut>(),
        create,
    )
    .add(
        RouteSpec::new(
            Verb::Patch,
            "/api/v1/webhooks/{id}",
            "webhooks",
            "Change the URL or events, switch on/off (on again clears the failures), rotate the secret",
        )
        .body::<WebhookPatch>()
        .returns::<WebhookOut>(),
        update,
    )
    .add(
        RouteSpec::new(Verb::Delete, "/api/v1/webhooks/{id}", "webhooks", "Delete a subscription")
            .status(204),
        delete,
    )
    .add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/webhooks/{id}/deliveries",
            "webhooks",
            "The subscription's recent deliveries with their outcome, newest first",
        )
        .query(&[("limit", "integer: at most this many (1-200, default 50)")])
        .returns::<WebhookDeliveriesOut>(),
        deliveries,
    )
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WebhookOut {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub enabled: bool,
    /// Deliveries given up in a row (at 3 the subscription is switched off).
    pub failures: i64,
    /// Why it was switched off by the server, if it was.
    pub disabled_reason: Option<String>,
    pub created_at: String,
    /// Shown once (creation, rotation): the key of `Leadteam-Signature`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

fn out(w: &WebhookRow, secret: Option<String>) -> WebhookOut {
    WebhookOut {
        id: w.id,
        url: w.url.clone(),
        events: w.events.clone(),
        enabled: w.enabled,
        failures: w.failures,
        disabled_reason: w.disabled_reason.clone(),
        created_at: rfc3339(w.created_at),
        secret,
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WebhooksOut {
    pub webhooks: Vec<WebhookOut>,
}

async fn list(State(s): State<AppState>, Authed(c): Authed) -> Result<Json<WebhooksOut>, ApiError> {
    let rows = wh::list(&s.app, &c).await?;
    Ok(Json(WebhooksOut {
        webhooks: rows.iter().map(|w| out(w, None)).collect(),
    }))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    /// An https (or http) URL of a public address.
    pub url: String,
    /// lead.created, lead.assigned, lead.reclaimed, client.claimed,
    /// client.delivered, member.invited, member.activated,
    /// member.deactivated, member.removed
    pub events: Vec<String>,
}

async fn create(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiJson(b): ApiJson<WebhookBody>,
) -> Result<(StatusCode, Json<WebhookOut>), ApiError> {
    let w = wh::create(&s.app, &c, &b.url, &b.events).await?;
    Ok((StatusCode::CREATED, Json(out(&w.webhook, Some(w.secret)))))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
    #[serde(default)]
    pub rotate_secret: bool,
}

async fn update(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<WebhookPatch>,
) -> Result<Json<WebhookOut>, ApiError> {
    let (w, secret) = wh::update(
        &s.app,
        &c,
        id,
        Change {
            url: b.url,
            events: b.events,
            enabled: b.enabled,
            rotate_secret: b.rotate_secret,
        },
    )
    .await?;
    Ok(Json(out(&w, secret)))
}

async fn delete(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    wh::delete(&s.app, &c, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
struct LimitQuery {
    limit: Option<i64>,
}

/// One delivery of an event to a subscription.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WebhookDeliveryOut {
    pub id: i64,
    /// `evt_<n>`: the same on every retry.
    pub event_id: String,
    pub event: String,
    /// pending | delivered | failed
    pub state: String,
    pub attempts: i64,
    /// The HTTP status of the last answer.
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<String>,
    pub delivered_at: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WebhookDeliveriesOut {
    pub deliveries: Vec<WebhookDeliveryOut>,
}

async fn deliveries(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<LimitQuery>,
) -> Result<Json<WebhookDeliveriesOut>, ApiError> {
    let rows = wh::deliveries(&s.app, &c, id, q.limit.unwrap_or(50)).await?;
    Ok(Json(WebhookDeliveriesOut {
        deliveries: rows
            .into_iter()
            .map(|d| WebhookDeliveryOut {
                id: d.id,
                event_id: format!("evt_{}", d.event),
                event: d.kind,
                next_attempt_at: (d.state == "pending").then(|| rfc3339(d.next_attempt_at)),
                state: d.state,
                attempts: d.attempts,
                last_status: d.last_status,
                last_error: d.last_error,
                delivered_at: d.delivered_at.map(rfc3339),
                created_at: rfc3339(d.created_at),
            })
            .collect(),
    }))
}
