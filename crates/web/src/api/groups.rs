//! Client groups (P5, P6).

use super::members::double_option;
use super::rfc3339;
use super::teams::MemberRef;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::extract::{ApiJson, Authed};
use crate::registry::{Api, RouteSpec, Verb};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use leadteam_app::groups::GroupRow;
use leadteam_app::groups::{self, GroupInput};
use leadteam_domain::GroupId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(super) fn routes(api: Api) -> Api {
    api.add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/groups",
            "groups",
            "Every client group of the account (every member: P6)",
        )
        .returns::<GroupsOut>(),
        list,
    )
    .add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/groups/{id}",
            "groups",
            "One client group",
        )
        .returns::<GroupOut>(),
        get_one,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/groups",
            "groups",
            "Create a client group (needs groups.edit: P5)",
        )
        .status(201)
        .body::<CreateGroupBody>()
        .returns::<GroupOut>(),
        create,
    )
    .add(
        RouteSpec::new(
            Verb::Patch,
            "/api/v1/groups/{id}",
            "groups",
            "Edit a client group's name, description or colour (needs groups.edit: P5)",
        )
        .body::<EditGroupBody>()
        .returns::<GroupOut>(),
        edit,
    )
    .add(
        RouteSpec::new(
            Verb::Delete,
            "/api/v1/groups/{id}",
            "groups",
            "Delete a client group (the owner and admins only: P5)",
        )
        .status(204),
        delete,
    )
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GroupOut {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// `#rrggbb`, or null.
    pub color: Option<String>,
    /// Null once its creator was removed from the account.
    pub created_by: Option<MemberRef>,
    pub created_at: String,
    pub updated_at: String,
}

fn group_out(g: &GroupRow) -> GroupOut {
    GroupOut {
        id: g.id.0,
        name: g.name.clone(),
        description: g.description.clone(),
        color: g.color.clone(),
        created_by: g.created_by.as_ref().map(MemberRef::of),
        created_at: rfc3339(g.created_at),
        updated_at: rfc3339(g.updated_at),
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GroupsOut {
    pub groups: Vec<GroupOut>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroupBody {
    /// Unique in the account (case-insensitive), at most 100 characters.
    pub name: String,
    /// At most 1000 characters.
    pub description: Option<String>,
    /// `#rrggbb`.
    pub color: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EditGroupBody {
    pub name: Option<String>,
    pub description: Option<String>,
    /// `#rrggbb`; null removes the colour.
    #[serde(default, deserialize_with = "double_option")]
    pub color: Option<Option<String>>,
}

async fn list(State(s): State<AppState>, Authed(c): Authed) -> Result<Json<GroupsOut>, ApiError> {
    let rows = groups::list(&s.app, &c).await?;
    Ok(Json(GroupsOut {
        groups: rows.iter().map(group_out).collect(),
    }))
}

async fn get_one(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<GroupOut>, ApiError> {
    Ok(Json(group_out(
        &groups::get(&s.app, &c, GroupId(id)).await?,
    )))
}

async fn create(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiJson(b): ApiJson<CreateGroupBody>,
) -> Result<Response, ApiError> {
    let g = groups::create(
        &s.app,
        &c,
        GroupInput {
            name: Some(&b.name),
            description: b.description.as_deref(),
            color: b.color.as_deref().map(Some),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(group_out(&g))).into_response())
}

async fn edit(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<EditGroupBody>,
) -> Result<Json<GroupOut>, ApiError> {
    let g = groups::edit(
        &s.app,
        &c,
        GroupId(id),
        GroupInput {
            name: b.name.as_deref(),
            description: b.description.as_deref(),
            color: b.color.as_ref().map(|c| c.as_deref()),
        },
    )
    .await?;
    Ok(Json(group_out(&g)))
}

async fn delete(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    groups::delete(&s.app, &c, GroupId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
