//! Roles per account (P3, P4): the presets created with the account and its
//! custom roles. Every decision is `decide`'s (see `leadteam_app::roles`).

use super::rfc3339;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, Authed, PathId};
use crate::registry::{Api, RouteSpec, Verb};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use leadteam_app::roles;
use leadteam_app::roles::RoleWithCount;
use leadteam_domain::RoleId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(super) fn routes(api: Api) -> Api {
    api.add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/roles",
            "roles",
            "Every role of the account with its permissions and how many members hold it",
        )
        .returns::<RolesOut>(),
        list,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/roles",
            "roles",
            "Create a custom role (only permissions the caller holds may be granted)",
        )
        .status(201)
        .body::<CreateRoleBody>()
        .returns::<RoleOut>(),
        create,
    )
    .add(
        RouteSpec::new(
            Verb::Patch,
            "/api/v1/roles/{id}",
            "roles",
            "Rename a role or replace its permissions (not the Owner role)",
        )
        .body::<UpdateRoleBody>()
        .returns::<RoleOut>(),
        update,
    )
    .add(
        RouteSpec::new(
            Verb::Delete,
            "/api/v1/roles/{id}",
            "roles",
            "Delete a custom role that no member holds",
        )
        .status(204),
        delete,
    )
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RoleOut {
    pub id: i64,
    pub name: String,
    /// `owner`, `admin`, `manager`, `member` or `restricted` for a built-in
    /// role; null for a custom role.
    pub preset: Option<String>,
    /// Permission names (see `GET /api/v1/me` for one's effective ones).
    pub permissions: Vec<String>,
    /// Whether the role may be renamed and its permissions changed (every
    /// role but Owner).
    pub editable: bool,
    /// Whether the role may be deleted now: a custom role nobody holds.
    pub deletable: bool,
    /// How many members (invited, active or deactivated) hold the role.
    pub members: i64,
    pub created_at: String,
}

fn role_out(r: &RoleWithCount) -> RoleOut {
    RoleOut {
        id: r.role.id.0,
        name: r.role.name.clone(),
        preset: r.role.preset.map(|p| p.key().to_owned()),
        permissions: r
            .role
            .permissions
            .names()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        editable: r.role.is_editable(),
        deletable: r.role.is_custom() && r.members == 0,
        members: r.members,
        created_at: rfc3339(r.role.created_at),
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RolesOut {
    pub roles: Vec<RoleOut>,
}

async fn list(State(s): State<AppState>, Authed(c): Authed) -> Result<Json<RolesOut>, ApiError> {
    let rows = roles::list(&s.app, &c).await?;
    Ok(Json(RolesOut {
        roles: rows.iter().map(role_out).collect(),
    }))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoleBody {
    /// Unique in the account (whatever the case), at most 60 characters.
    pub name: String,
    /// Permission names, e.g. `["clients.view_unassigned", "team.view", "agent"]`.
    #[serde(default)]
    pub permissions: Vec<String>,
}

async fn create(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiJson(b): ApiJson<CreateRoleBody>,
) -> Result<(StatusCode, Json<RoleOut>), ApiError> {
    let r = roles::create(&s.app, &c, &b.name, &b.permissions).await?;
    Ok((StatusCode::CREATED, Json(role_out(&r))))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRoleBody {
    /// A new name; absent keeps the name.
    #[serde(default)]
    pub name: Option<String>,
    /// The whole new permission set; absent keeps the permissions.
    #[serde(default)]
    pub permissions: Option<Vec<String>>,
}

async fn update(
    State(s): State<AppState>,
    Authed(c): Authed,
    PathId(id): PathId,
    ApiJson(b): ApiJson<UpdateRoleBody>,
) -> Result<Json<RoleOut>, ApiError> {
    let r = roles::update(
        &s.app,
        &c,
        RoleId(id),
        b.name.as_deref(),
        b.permissions.as_deref(),
    )
    .await?;
    Ok(Json(role_out(&r)))
}

async fn delete(
    State(s): State<AppState>,
    Authed(c): Authed,
    PathId(id): PathId,
) -> Result<StatusCode, ApiError> {
    roles::delete(&s.app, &c, RoleId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
