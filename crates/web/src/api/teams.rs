//! Teams (T1).

use super::rfc3339;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::extract::{ApiJson, Authed};
use crate::registry::{Api, RouteSpec, Verb};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use leadteam_app::teams;
use leadteam_app::teams::TeamRow;
use leadteam_domain::{MemberId, TeamId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(super) fn routes(api: Api) -> Api {
    api.add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/teams",
            "teams",
            "Every team with its members (needs team.view)",
        )
        .returns::<TeamsOut>(),
        list,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/teams",
            "teams",
            "Create a team, optionally with members (admins: T1)",
        )
        .status(201)
        .body::<CreateTeamBody>()
        .returns::<TeamOut>(),
        create,
    )
    .add(
        RouteSpec::new(
            Verb::Patch,
            "/api/v1/teams/{id}",
            "teams",
            "Rename a team (admins: T1)",
        )
        .body::<RenameTeamBody>()
        .returns::<TeamOut>(),
        rename,
    )
    .add(
        RouteSpec::new(
            Verb::Delete,
            "/api/v1/teams/{id}",
            "teams",
            "Delete a team; its members stay members of the account (admins: T1)",
        )
        .status(204),
        delete,
    )
    .add(
        RouteSpec::new(
            Verb::Put,
            "/api/v1/teams/{id}/members",
            "teams",
            "Set the members of a team; a member may be in several teams (admins: T1)",
        )
        .body::<TeamMembersBody>()
        .returns::<TeamOut>(),
        set_members,
    )
}

/// A member named in another object.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MemberRef {
    pub id: i64,
    pub name: String,
}

impl MemberRef {
    pub fn of((id, name): &(MemberId, String)) -> Self {
        MemberRef {
            id: id.0,
            name: name.clone(),
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TeamOut {
    pub id: i64,
    pub name: String,
    /// The members, by name.
    pub members: Vec<MemberRef>,
    pub member_count: usize,
    pub created_at: String,
}

fn team_out(t: &TeamRow) -> TeamOut {
    TeamOut {
        id: t.id.0,
        name: t.name.clone(),
        members: t.members.iter().map(MemberRef::of).collect(),
        member_count: t.members.len(),
        created_at: rfc3339(t.created_at),
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TeamsOut {
    pub teams: Vec<TeamOut>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeamBody {
    /// Unique in the account (case-insensitive), at most 100 characters.
    pub name: String,
    /// Members of the account to put in the team.
    pub member_ids: Option<Vec<i64>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameTeamBody {
    pub name: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamMembersBody {
    /// Every member of the team (replaces the current list); each must be a
    /// member of the account.
    pub member_ids: Vec<i64>,
}

async fn list(State(s): State<AppState>, Authed(c): Authed) -> Result<Json<TeamsOut>, ApiError> {
    let rows = teams::list(&s.app, &c).await?;
    Ok(Json(TeamsOut {
        teams: rows.iter().map(team_out).collect(),
    }))
}

async fn create(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiJson(b): ApiJson<CreateTeamBody>,
) -> Result<Response, ApiError> {
    let t = teams::create(&s.app, &c, &b.name, b.member_ids.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(team_out(&t))).into_response())
}

async fn rename(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<RenameTeamBody>,
) -> Result<Json<TeamOut>, ApiError> {
    let t = teams::rename(&s.app, &c, TeamId(id), &b.name).await?;
    Ok(Json(team_out(&t)))
}

async fn delete(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    teams::delete(&s.app, &c, TeamId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_members(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<TeamMembersBody>,
) -> Result<Json<TeamOut>, ApiError> {
    let t = teams::set_members(&s.app, &c, TeamId(id), &b.member_ids).await?;
    Ok(Json(team_out(&t)))
}
