//! Lead intake webhooks (I1): the sender is verified before the lead is read;
//! bodies over the limit are refused (413) before any HMAC is computed.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::registry::{Api, RouteSpec, Verb};
use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use leadteam_app::AppError;
use leadteam_app::intake::Ingested;
use leadteam_app::intake::hooks::{self, Channel, Delivery};
use leadteam_domain::SourceId;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::HashMap;

/// Largest webhook body accepted.
pub const HOOK_BODY_LIMIT: usize = 256 * 1024;

pub(super) fn routes(api: Api) -> Api {
    api.add(
        RouteSpec::new(Verb::Post, "/hooks/{source_id}", "intake", "Generic or website-form webhook, signed X-Leadteam-Signature: sha256=<hex HMAC of the body>")
            .signed()
            .status(201)
            .also(200, "The lead was delivered before: stored once (duplicate)")
            .returns::<IngestOut>(),
        generic,
    )
    .add(
        RouteSpec::new(Verb::Get, "/hooks/{source_id}/facebook", "intake", "Facebook webhook verification (hub.challenge)").signed(),
        facebook_verify,
    )
    .add(
        RouteSpec::new(Verb::Post, "/hooks/{source_id}/facebook", "intake", "Facebook Lead Ads leadgen events, signed X-Hub-Signature-256")
            .signed()
            .returns::<IngestManyOut>(),
        facebook,
    )
    .add(
        RouteSpec::new(Verb::Post, "/hooks/{source_id}/google", "intake", "Google Ads lead form webhook, authenticated by google_key")
            .signed()
            .status(201)
            .also(200, "The lead was delivered before: stored once (duplicate)")
            .returns::<IngestOut>(),
        google,
    )
}

/// What became of one delivered lead.
#[derive(Debug, Serialize, JsonSchema)]
pub struct IngestOut {
    pub client_id: i64,
    /// The lead was delivered before and is stored once.
    pub duplicate: bool,
    pub assignee_id: Option<i64>,
    /// Why it was (or was not) assigned.
    pub reason: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct IngestManyOut {
    pub leads: Vec<IngestOut>,
}

pub(super) fn out(i: &Ingested) -> IngestOut {
    IngestOut {
        client_id: i.client.0,
        duplicate: i.duplicate,
        assignee_id: i.assignee.map(|m| m.0),
        reason: i.reason.clone(),
    }
}

fn single(i: Ingested) -> Response {
    let status = if i.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    (status, Json(out(&i))).into_response()
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body-too-large",
        "The webhook body is too large",
    )
    .detail(format!("at most {HOOK_BODY_LIMIT} bytes are accepted"))
}

/// Reads the body, refusing oversized ones before anything else.
pub(super) async fn body_of(req: Request) -> Result<(HeaderMap, axum::body::Bytes), ApiError> {
    let (parts, body) = req.into_parts();
    if let Some(len) = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        && len > HOOK_BODY_LIMIT
    {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(Body::new(body), HOOK_BODY_LIMIT)
        .await
        .map_err(|_| too_large())?;
    Ok((parts.headers, bytes))
}

pub(super) fn header<'h>(h: &'h HeaderMap, name: &str) -> Option<&'h str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Hands a delivery to the intake use case.
async fn deliver(
    s: &AppState,
    id: i64,
    channel: Channel,
    signature_header: Option<&str>,
    req: Request,
) -> Result<Vec<Ingested>, ApiError> {
    let (headers, body) = match body_of(req).await {
        Ok(b) => b,
        Err(e) => {
            hooks::too_large(&s.app, SourceId(id), channel, HOOK_BODY_LIMIT).await;
            return Err(e);
        }
    };
    Ok(hooks::receive(
        &s.app,
        Delivery {
            source: SourceId(id),
            channel,
            signature: signature_header.and_then(|h| header(&headers, h)),
            idempotency_key: header(&headers, "idempotency-key"),
            content_type: header(&headers, header::CONTENT_TYPE.as_str()),
            body: &body,
        },
    )
    .await?)
}

fn one(mut leads: Vec<Ingested>) -> Result<Response, ApiError> {
    match leads.pop() {
        Some(i) => Ok(single(i)),
        None => Err(AppError::field("body", "carries no lead").into()),
    }
}

async fn generic(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    req: Request,
) -> Result<Response, ApiError> {
    one(deliver(&s, id, Channel::Generic, Some("x-leadteam-signature"), req).await?)
}

async fn facebook_verify(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let challenge = hooks::facebook_challenge(
        &s.app,
        SourceId(id),
        q.get("hub.mode").map(String::as_str),
        q.get("hub.verify_token").map(String::as_str).unwrap_or(""),
        q.get("hub.challenge").map(String::as_str).unwrap_or(""),
    )
    .await?;
    Ok(([(header::CONTENT_TYPE, "text/plain")], challenge).into_response())
}

async fn facebook(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    req: Request,
) -> Result<Json<IngestManyOut>, ApiError> {
    let leads = deliver(&s, id, Channel::Facebook, Some("x-hub-signature-256"), req).await?;
    Ok(Json(IngestManyOut {
        leads: leads.iter().map(out).collect(),
    }))
}

async fn google(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    req: Request,
) -> Result<Response, ApiError> {
    one(deliver(&s, id, Channel::Google, None, req).await?)
}
