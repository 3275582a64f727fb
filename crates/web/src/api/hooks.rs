//! Lead intake webhooks (I1): the sender is verified before the lead is read;
//! bodies over the limit are refused (413) before any HMAC is computed.

use crate::AppState;
use crate::error::ApiError;
use crate::registry::{Api, RouteSpec};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use leadteam_app::AppError;
use leadteam_app::intake::{self, Ingested, Lead};
use leadteam_domain::SourceId;
use leadteam_domain::secret::{SignatureError, constant_time_eq, verify_sha256_signature};
use leadteam_domain::validate::join_names;
use leadteam_store::sources::{self, SourceRow};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// Largest webhook body accepted.
pub const HOOK_BODY_LIMIT: usize = 256 * 1024;

pub(super) fn routes(api: Api) -> Api {
    api.add(
        RouteSpec::new("POST", "/hooks/{source_id}", "intake", "Generic or website-form webhook, signed X-Leadteam-Signature: sha256=<hex HMAC of the body>")
            .signed()
            .status(201)
            .returns::<IngestOut>(),
        generic,
    )
    .add(
        RouteSpec::new("GET", "/hooks/{source_id}/facebook", "intake", "Facebook webhook verification (hub.challenge)").signed(),
        facebook_verify,
    )
    .add(
        RouteSpec::new("POST", "/hooks/{source_id}/facebook", "intake", "Facebook Lead Ads leadgen events, signed X-Hub-Signature-256")
            .signed()
            .returns::<IngestManyOut>(),
        facebook,
    )
    .add(
        RouteSpec::new("POST", "/hooks/{source_id}/google", "intake", "Google Ads lead form webhook, authenticated by google_key")
            .signed()
            .status(201)
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

fn out(i: &Ingested) -> IngestOut {
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
async fn body_of(req: Request) -> Result<(HeaderMap, axum::body::Bytes), ApiError> {
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

async fn source_of(s: &AppState, id: i64, kinds: &[&str]) -> Result<SourceRow, ApiError> {
    let mut c = s.app.db.conn().await.map_err(AppError::from)?;
    let src = sources::by_id(&mut c, SourceId(id))
        .await
        .map_err(AppError::from)?;
    match src {
        Some(src) if kinds.contains(&src.kind.as_str()) => Ok(src),
        _ => Err(ApiError::not_found()),
    }
}

fn bad_signature(e: SignatureError) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid-signature",
        "The delivery is not signed by this lead source",
    )
    .detail(e.to_string())
}

fn idempotency_key(h: &HeaderMap) -> Result<Option<String>, ApiError> {
    match h.get("idempotency-key") {
        None => Ok(None),
        Some(v) => {
            let s = v.to_str().unwrap_or("").trim();
            if s.is_empty() || s.len() > 200 {
                Err(
                    AppError::field("Idempotency-Key", "must be 1 to 200 visible characters")
                        .into(),
                )
            } else {
                Ok(Some(s.to_owned()))
            }
        }
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Maps a flat object (JSON or form fields) onto a lead: well-known keys
/// become contact details, everything else a custom field.
fn lead_from_map(map: &BTreeMap<String, String>) -> Lead {
    let mut lead = Lead::default();
    let mut first = None;
    let mut last = None;
    for (k, v) in map {
        let v = v.trim().to_owned();
        if v.is_empty() {
            continue;
        }
        match k.to_ascii_lowercase().as_str() {
            "name" | "full_name" | "fullname" => lead.name = Some(v),
            "first_name" | "firstname" => first = Some(v),
            "last_name" | "lastname" => last = Some(v),
            "email" | "email_address" => lead.email = Some(v),
            "phone" | "phone_number" | "tel" | "mobile" => lead.phone = Some(v),
            "lead_id" | "id" | "external_id" => {
                lead.source_lead_id = Some(v.chars().take(200).collect())
            }
            _ => {
                lead.fields
                    .insert(k.chars().take(60).collect(), v.chars().take(1000).collect());
            }
        }
    }
    if lead.name.is_none() {
        lead.name = join_names(first.as_deref(), last.as_deref());
    }
    lead
}

fn parse_generic(headers: &HeaderMap, body: &[u8]) -> Result<Lead, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    let mut map = BTreeMap::new();
    if ct.starts_with("application/x-www-form-urlencoded") {
        for (k, v) in url::form_urlencoded::parse(body) {
            map.insert(k.into_owned(), v.into_owned());
        }
    } else {
        let v: Value = serde_json::from_slice(body).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed-json",
                "The body is not valid JSON",
            )
            .detail(e.to_string())
        })?;
        let Value::Object(obj) = v else {
            return Err(AppError::field("body", "must be a JSON object").into());
        };
        for (k, v) in &obj {
            if k == "fields" {
                if let Value::Object(f) = v {
                    for (fk, fv) in f {
                        if let Some(t) = text(fv) {
                            map.insert(fk.clone(), t);
                        }
                    }
                }
            } else if let Some(t) = text(v) {
                map.insert(k.clone(), t);
            }
        }
    }
    Ok(lead_from_map(&map))
}

async fn generic(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    req: Request,
) -> Result<Response, ApiError> {
    let (headers, body) = body_of(req).await?;
    let src = source_of(&s, id, &["webhook", "website"]).await?;
    let sig = headers
        .get("x-leadteam-signature")
        .and_then(|v| v.to_str().ok());
    verify_sha256_signature(src.secret.as_bytes(), &body, sig).map_err(bad_signature)?;
    let key = idempotency_key(&headers)?;
    let lead = parse_generic(&headers, &body)?;
    let i = intake::ingest(&s.app, &src, lead, key.as_deref()).await?;
    Ok(single(i))
}

async fn facebook_verify(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let src = source_of(&s, id, &["facebook"]).await?;
    let mode = q.get("hub.mode").map(String::as_str);
    let token = q.get("hub.verify_token").map(String::as_str).unwrap_or("");
    let challenge = q.get("hub.challenge").cloned().unwrap_or_default();
    let expected = src.verify_token.unwrap_or_default();
    if mode == Some("subscribe")
        && !expected.is_empty()
        && constant_time_eq(token.as_bytes(), expected.as_bytes())
    {
        Ok(([(header::CONTENT_TYPE, "text/plain")], challenge).into_response())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "invalid-verify-token",
            "The verify token does not match this lead source",
        ))
    }
}

/// Facebook's `field_data`: [{name, values: [..]}].
fn facebook_fields(v: &Value) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    if let Some(list) = v.as_array() {
        for f in list {
            let (Some(name), Some(values)) = (
                f.get("name").and_then(Value::as_str),
                f.get("values").and_then(Value::as_array),
            ) else {
                continue;
            };
            let joined: Vec<String> = values.iter().filter_map(text).collect();
            map.insert(name.to_owned(), joined.join(", "));
        }
    }
    map
}

async fn facebook(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    req: Request,
) -> Result<Json<IngestManyOut>, ApiError> {
    let (headers, body) = body_of(req).await?;
    let src = source_of(&s, id, &["facebook"]).await?;
    let sig = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    verify_sha256_signature(src.secret.as_bytes(), &body, sig).map_err(bad_signature)?;
    let v: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "The body is not valid JSON",
        )
        .detail(e.to_string())
    })?;
    let mut results = Vec::new();
    for entry in v
        .get("entry")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for change in entry
            .get("changes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if change.get("field").and_then(Value::as_str) != Some("leadgen") {
                continue;
            }
            let Some(value) = change.get("value") else {
                continue;
            };
            let Some(leadgen_id) = value.get("leadgen_id").and_then(text) else {
                return Err(
                    AppError::field("entry.changes.value.leadgen_id", "is required").into(),
                );
            };
            let page = value
                .get("page_id")
                .and_then(text)
                .or_else(|| entry.get("id").and_then(text));
            let form = value.get("form_id").and_then(text);
            let mut lead = match value.get("field_data") {
                Some(fd) => lead_from_map(&facebook_fields(fd)),
                None => Lead {
                    awaiting_details: true,
                    ..Lead::default()
                },
            };
            lead.source_lead_id = Some(leadgen_id);
            lead.facebook_page_id = page;
            lead.facebook_form_id = form;
            let i = intake::ingest(&s.app, &src, lead, None).await?;
            results.push(out(&i));
        }
    }
    Ok(Json(IngestManyOut { leads: results }))
}

#[derive(Debug, Deserialize)]
struct GoogleColumn {
    column_id: Option<String>,
    column_name: Option<String>,
    string_value: Option<String>,
}

#[derive(Debug, Deserialize)]
struct GoogleLead {
    lead_id: Option<String>,
    google_key: Option<String>,
    form_id: Option<Value>,
    campaign_id: Option<Value>,
    #[serde(default)]
    user_column_data: Vec<GoogleColumn>,
    #[serde(default)]
    is_test: bool,
}

async fn google(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    req: Request,
) -> Result<Response, ApiError> {
    let (_headers, body) = body_of(req).await?;
    let src = source_of(&s, id, &["google"]).await?;
    let g: GoogleLead = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "The body is not a Google lead form payload",
        )
        .detail(e.to_string())
    })?;
    let key = g.google_key.as_deref().unwrap_or("");
    if key.is_empty() || !constant_time_eq(key.as_bytes(), src.secret.as_bytes()) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid-signature",
            "The google_key does not match this lead source",
        ));
    }
    let mut map = BTreeMap::new();
    for c in &g.user_column_data {
        let name = c
            .column_id
            .clone()
            .or_else(|| c.column_name.clone())
            .unwrap_or_default();
        let key = match name.as_str() {
            "FULL_NAME" => "name".to_owned(),
            "FIRST_NAME" => "first_name".to_owned(),
            "LAST_NAME" => "last_name".to_owned(),
            "EMAIL" => "email".to_owned(),
            "PHONE_NUMBER" => "phone".to_owned(),
            other => other.to_ascii_lowercase(),
        };
        if let Some(v) = &c.string_value {
            map.insert(key, v.clone());
        }
    }
    let mut lead = lead_from_map(&map);
    lead.source_lead_id = g.lead_id.clone();
    if let Some(f) = g.form_id.as_ref().and_then(text) {
        lead.fields.insert("google_form_id".into(), f);
    }
    if let Some(c) = g.campaign_id.as_ref().and_then(text) {
        lead.fields.insert("google_campaign_id".into(), c);
    }
    if g.is_test {
        lead.fields.insert("google_test_lead".into(), "true".into());
    }
    let i = intake::ingest(&s.app, &src, lead, None).await?;
    Ok(single(i))
}
