//! Leads sent without a signature (I5): `POST /api/v1/leads` with an intake
//! API key limited to named sources (what Zapier, Make or n8n send), and a
//! source's secret URL (`POST /in/{token}`) for tools that can only call a URL.

use super::hooks::{HOOK_BODY_LIMIT, IngestOut, body_of, header, out};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, credential};
use crate::registry::{Api, RouteSpec, Verb};
use axum::Json;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, StatusCode, header as h};
use axum::response::{IntoResponse, Response};
use leadteam_app::intake::{Ingested, Lead, keyed};
use leadteam_domain::SourceId;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

pub(super) fn routes(api: Api) -> Api {
    api.add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/leads",
            "intake",
            "Send a lead with an intake API key (one limited to named lead sources); same routing and dedupe as the webhooks (I5)",
        )
        .intake_key()
        .status(201)
        .also(200, "The lead was delivered before: stored once (duplicate)")
        .headers(&[("Idempotency-Key", "a lead sent twice with the same key is stored once")])
        .body::<LeadIn>()
        .returns::<IngestOut>(),
        send_with_key,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/in/{token}",
            "intake",
            "A source's secret URL: a lead as a JSON object or a form post, no signature (I5)",
        )
        .signed()
        .status(201)
        .also(200, "The lead was delivered before: stored once (duplicate)")
        .headers(&[("Idempotency-Key", "a lead sent twice with the same key is stored once")])
        .returns::<IngestOut>(),
        send_to_url,
    )
}

/// A lead. Unknown keys are kept as custom fields too.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(example = lead_example())]
pub struct LeadIn {
    /// The lead source it is for (the key must name it).
    pub source_id: i64,
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The sender's own id of the lead: a lead sent twice with it is stored once.
    pub lead_id: Option<String>,
    /// Custom fields (text, numbers and booleans).
    #[serde(default)]
    pub fields: BTreeMap<String, Value>,
}

fn lead_example() -> Value {
    serde_json::json!({
        "source_id": 1,
        "name": "Lea Lead",
        "email": "lea@example.com",
        "phone": "+33 6 12 34 56 78",
        "lead_id": "zap-1842",
        "fields": {"budget": "5000", "campaign": "spring"}
    })
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn lead_of(b: LeadIn) -> Lead {
    let name = b.name.filter(|n| !n.trim().is_empty()).or_else(|| {
        leadteam_domain::validate::join_names(b.first_name.as_deref(), b.last_name.as_deref())
    });
    Lead {
        name,
        email: b.email,
        phone: b.phone,
        source_lead_id: b.lead_id.map(|l| l.chars().take(200).collect()),
        fields: b
            .fields
            .iter()
            .filter_map(|(k, v)| {
                text(v).map(|t| (k.chars().take(60).collect(), t.chars().take(1000).collect()))
            })
            .collect(),
        ..Lead::default()
    }
}

fn answer(i: Ingested) -> Response {
    let status = if i.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    (status, Json(out(&i))).into_response()
}

/// The bearer token of an intake key.
struct IntakeKey(String);

impl FromRequestParts<AppState> for IntakeKey {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match credential(parts) {
            Some((token, false)) => Ok(IntakeKey(token)),
            _ => Err(
                leadteam_app::AppError::Unauthenticated(leadteam_app::AuthFailure::NoSession)
                    .into(),
            ),
        }
    }
}

async fn send_with_key(
    State(s): State<AppState>,
    IntakeKey(token): IntakeKey,
    headers: HeaderMap,
    ApiJson(b): ApiJson<LeadIn>,
) -> Result<Response, ApiError> {
    let source = SourceId(b.source_id);
    let i = keyed::send_with_key(
        &s.app,
        &token,
        source,
        lead_of(b),
        header(&headers, "idempotency-key"),
    )
    .await?;
    Ok(answer(i))
}

async fn send_to_url(
    State(s): State<AppState>,
    ApiPath(token): ApiPath<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let (headers, body) = match body_of(req).await {
        Ok(b) => b,
        Err(e) => {
            keyed::url_too_large(&s.app, &token, HOOK_BODY_LIMIT).await;
            return Err(e);
        }
    };
    let i = keyed::send_to_url(
        &s.app,
        &token,
        header(&headers, "idempotency-key"),
        header(&headers, h::CONTENT_TYPE.as_str()),
        &body,
    )
    .await?;
    Ok(answer(i))
}
