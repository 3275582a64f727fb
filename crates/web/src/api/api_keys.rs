//! API keys for scripts and integrations.

use super::rfc3339;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::extract::{ApiJson, Authed};
use crate::registry::{Api, RouteSpec, Verb};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use leadteam_app::api_keys;
use leadteam_app::api_keys::ApiKeyRow;
use leadteam_domain::ApiKeyId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(super) fn routes(api: Api) -> Api {
    api.add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/api-keys",
            "account",
            "The account's API keys (never their tokens)",
        )
        .returns::<ApiKeysOut>(),
        list,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/api-keys",
            "account",
            "Create an API key acting as me with the given permissions; the token is shown once",
        )
        .status(201)
        .body::<ApiKeyBody>()
        .returns::<ApiKeyOut>(),
        create,
    )
    .add(
        RouteSpec::new(
            Verb::Delete,
            "/api/v1/api-keys/{id}",
            "account",
            "Revoke an API key",
        )
        .status(204),
        revoke,
    )
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ApiKeyOut {
    pub id: i64,
    pub name: String,
    /// The member the key acts as.
    pub member_id: i64,
    pub member_name: String,
    /// At most these, and never more than the member holds at each request.
    pub permissions: Vec<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked: bool,
    /// An intake key: it only sends leads (`POST /api/v1/leads`) to these sources.
    pub lead_source_ids: Option<Vec<i64>>,
    /// Shown once, at creation: send as `Authorization: Bearer <token>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

fn out(k: &ApiKeyRow, token: Option<String>) -> ApiKeyOut {
    ApiKeyOut {
        id: k.id.0,
        name: k.name.clone(),
        member_id: k.member.0,
        member_name: k.member_name.clone(),
        permissions: k
            .permissions
            .names()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        created_at: rfc3339(k.created_at),
        last_used_at: k.last_used_at.map(rfc3339),
        revoked: k.revoked_at.is_some(),
        lead_source_ids: k
            .lead_sources
            .as_ref()
            .map(|l| l.iter().map(|s| s.0).collect()),
        token,
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ApiKeysOut {
    pub api_keys: Vec<ApiKeyOut>,
}

async fn list(State(s): State<AppState>, Authed(c): Authed) -> Result<Json<ApiKeysOut>, ApiError> {
    let keys = api_keys::list(&s.app, &c).await?;
    Ok(Json(ApiKeysOut {
        api_keys: keys.iter().map(|k| out(k, None)).collect(),
    }))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyBody {
    pub name: String,
    /// Permissions of the key (a subset of mine); empty for an intake key.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Makes an intake key (I5; needs integrations.manage): it may only send
    /// leads, with `POST /api/v1/leads`, to these sources.
    pub lead_source_ids: Option<Vec<i64>>,
}

async fn create(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiJson(b): ApiJson<ApiKeyBody>,
) -> Result<(StatusCode, Json<ApiKeyOut>), ApiError> {
    let k = match b.lead_source_ids {
        Some(ids) => {
            if !b.permissions.is_empty() {
                return Err(leadteam_app::AppError::field(
                    "permissions",
                    "an intake key has no permissions: leave them out",
                )
                .into());
            }
            let ids: Vec<leadteam_domain::SourceId> =
                ids.into_iter().map(leadteam_domain::SourceId).collect();
            api_keys::create_intake(&s.app, &c, &b.name, &ids).await?
        }
        None => api_keys::create(&s.app, &c, &b.name, &b.permissions).await?,
    };
    Ok((StatusCode::CREATED, Json(out(&k.key, Some(k.token)))))
}

async fn revoke(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    api_keys::revoke(&s.app, &c, ApiKeyId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
