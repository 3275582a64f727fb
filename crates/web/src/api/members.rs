//! Members and invitations (M1-M9).

use super::rfc3339;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, Authed, Client, MaybeAuthed};
use crate::extract::{ApiPath, ApiQuery};
use crate::registry::{Api, RouteSpec, Verb};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use leadteam_app::members::MemberRow;
use leadteam_app::members::{self, AcceptInput, ClientsOnRemoval, EditInput, InviteInput};
use leadteam_domain::MemberId;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

pub(super) fn routes(api: Api) -> Api {
    api.add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/members",
            "members",
            "Every member with status, role, permissions and teams (M9)",
        )
        .query(&[("status", "invited | active | deactivated | all")])
        .returns::<MembersOut>(),
        list,
    )
    .add(
        RouteSpec::new(Verb::Get, "/api/v1/members/{id}", "members", "One member")
            .returns::<MemberOut>(),
        get_one,
    )
    .add(
        RouteSpec::new(
            Verb::Patch,
            "/api/v1/members/{id}",
            "members",
            "Edit role, permissions, teams, agent flag, capacity (not the email: M8)",
        )
        .body::<EditBody>()
        .returns::<MemberOut>(),
        edit,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/members/{id}/deactivate",
            "members",
            "Deactivate: access ends at once; clients stay (M5, M6)",
        )
        .returns::<MemberOut>(),
        deactivate,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/members/{id}/reactivate",
            "members",
            "Reactivate a deactivated member (M5)",
        )
        .returns::<MemberOut>(),
        reactivate,
    )
    .add(
        RouteSpec::new(
            Verb::Delete,
            "/api/v1/members/{id}",
            "members",
            "Remove for good, moving or deleting its clients (M7): ?clients=move&move_to=ID or ?clients=delete; it leaves rules, round robins and teams (X5). With &dry_run=true, says what would change and changes nothing",
        )
        .query(&[
            ("clients", "move | delete: what happens to the member's clients"),
            ("move_to", "integer: the active member who receives them when clients is move"),
        ])
        .returns::<RemovedOut>(),
        remove,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/invitations",
            "members",
            "Invite a person by name, email and role (M1)",
        )
        .status(201)
        .body::<InviteBody>()
        .returns::<MemberOut>(),
        invite,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/invitations/{id}/resend",
            "members",
            "Re-send: a new link; the old one stops working (M3). The id is the invited member's.",
        )
        .returns::<MemberOut>(),
        resend,
    )
    .add(
        RouteSpec::new(
            Verb::Delete,
            "/api/v1/invitations/{id}",
            "members",
            "Cancel: the link stops working and the invited member goes (M3)",
        )
        .status(204),
        cancel,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/invitations/accept",
            "members",
            "Accept with the emailed token; signs in to the account (M4)",
        )
        .public()
        .status(201)
        .body::<AcceptBody>()
        .returns::<AcceptedOut>(),
        accept,
    )
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TeamRef {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RoleRef {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MemberOut {
    pub id: i64,
    pub name: String,
    pub email: String,
    /// invited | active | deactivated
    pub status: String,
    /// "Invite Sent", "Active" or "Deactivated" (M2).
    pub status_label: String,
    pub role: RoleRef,
    /// Effective permissions.
    pub permissions: Vec<String>,
    /// The member has its own permission set instead of its role's.
    pub custom_permissions: bool,
    pub is_owner: bool,
    pub agent: bool,
    /// Limit of open clients for automatic assignment; null: no limit.
    pub capacity: Option<i64>,
    pub teams: Vec<TeamRef>,
    pub invited_at: Option<String>,
    pub activated_at: Option<String>,
    pub deactivated_at: Option<String>,
}

pub fn member_out(m: &MemberRow) -> MemberOut {
    MemberOut {
        id: m.id.0,
        name: m.name.clone(),
        email: m.email.clone(),
        status: m.status.as_str().to_owned(),
        status_label: m.status.label().to_owned(),
        role: RoleRef {
            id: m.role_id.0,
            name: m.role_name.clone(),
        },
        permissions: m
            .permissions
            .names()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        custom_permissions: m.permissions_override.is_some(),
        is_owner: m.is_owner,
        agent: m.agent,
        capacity: m.capacity,
        teams: m
            .teams
            .iter()
            .map(|(id, name)| TeamRef {
                id: id.0,
                name: name.clone(),
            })
            .collect(),
        invited_at: m.invited_at.map(rfc3339),
        activated_at: m.activated_at.map(rfc3339),
        deactivated_at: m.deactivated_at.map(rfc3339),
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MembersOut {
    pub members: Vec<MemberOut>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct StatusQuery {
    pub status: Option<String>,
}

async fn list(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiQuery(q): ApiQuery<StatusQuery>,
) -> Result<Json<MembersOut>, ApiError> {
    let rows = members::list(&s.app, &c, q.status.as_deref()).await?;
    Ok(Json(MembersOut {
        members: rows.iter().map(member_out).collect(),
    }))
}

async fn get_one(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<MemberOut>, ApiError> {
    Ok(Json(member_out(
        &members::get(&s.app, &c, MemberId(id)).await?,
    )))
}

/// Absent stays `None`; `null` becomes `Some(None)`.
pub(super) fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EditBody {
    pub role_id: Option<i64>,
    /// The member's own permissions; `null` goes back to the role's.
    #[serde(default, deserialize_with = "double_option")]
    pub permissions: Option<Option<Vec<String>>>,
    pub agent: Option<bool>,
    /// Open-client limit for automatic assignment; `null` removes the limit.
    #[serde(default, deserialize_with = "double_option")]
    pub capacity: Option<Option<i64>>,
    /// Team ids; replaces the member's teams.
    pub teams: Option<Vec<i64>>,
    /// Not editable (M8): present only to answer with a clear error.
    #[serde(default)]
    #[schemars(skip)]
    pub email: Option<serde_json::Value>,
}

async fn edit(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<EditBody>,
) -> Result<Json<MemberOut>, ApiError> {
    if b.email.is_some() {
        return Err(leadteam_app::AppError::field(
            "email",
            "cannot be edited: a member's email belongs to the member (M8)",
        )
        .into());
    }
    let m = members::edit(
        &s.app,
        &c,
        MemberId(id),
        EditInput {
            role_id: b.role_id,
            permissions: b.permissions,
            agent: b.agent,
            capacity: b.capacity,
            teams: b.teams,
        },
    )
    .await?;
    Ok(Json(member_out(&m)))
}

async fn deactivate(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<MemberOut>, ApiError> {
    Ok(Json(member_out(
        &members::deactivate(&s.app, &c, MemberId(id)).await?,
    )))
}

async fn reactivate(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<MemberOut>, ApiError> {
    Ok(Json(member_out(
        &members::reactivate(&s.app, &c, MemberId(id)).await?,
    )))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveBody {
    /// What happens to the member's clients: `move` (to `move_to`) or `delete`.
    #[serde(default)]
    pub clients: String,
    /// The active member who receives the clients when `clients` is `move`.
    pub move_to: Option<i64>,
    /// Only say what would change (nothing is written).
    #[serde(default)]
    pub dry_run: bool,
}

/// A rule named in a removal plan.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RuleNameOut {
    pub id: i64,
    pub name: String,
}

/// What removing the member changes (or, in a dry run, would change).
#[derive(Debug, Serialize, JsonSchema)]
pub struct RemovedOut {
    pub removed: i64,
    pub dry_run: bool,
    /// Clients moved or deleted.
    pub clients_affected: u64,
    /// Rules whose round robin the member leaves.
    pub rules_left: Vec<RuleNameOut>,
    /// Rules that give leads to this member alone: their leads stay
    /// unassigned (saying the member was removed) until the rule is changed.
    pub rules_without_target: Vec<RuleNameOut>,
    /// The member leaves the default rule's round robin.
    pub default_rule_left: bool,
    /// Nobody is left toggled in the default round robin.
    pub default_rule_without_target: bool,
    /// Teams the member leaves.
    pub teams: Vec<TeamRefOut>,
    /// API keys revoked.
    pub api_keys_revoked: u64,
    /// Clients it was a guest of.
    pub guest_of: u64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TeamRefOut {
    pub id: i64,
    pub name: String,
}

async fn remove(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(b): ApiQuery<RemoveBody>,
) -> Result<Json<RemovedOut>, ApiError> {
    let choice = match (b.clients.as_str(), b.move_to) {
        ("move", Some(to)) => ClientsOnRemoval::MoveTo(MemberId(to)),
        ("move", None) => {
            return Err(leadteam_app::AppError::field(
                "move_to",
                "is required when clients is \"move\"",
            )
            .into());
        }
        ("delete", None) => ClientsOnRemoval::Delete,
        ("delete", Some(_)) => {
            return Err(leadteam_app::AppError::field(
                "move_to",
                "must be absent when clients is \"delete\"",
            )
            .into());
        }
        _ => {
            return Err(
                leadteam_app::AppError::field("clients", "must be \"move\" or \"delete\"").into(),
            );
        }
    };
    let p = members::remove(&s.app, &c, MemberId(id), choice, b.dry_run).await?;
    let names = |v: &[(leadteam_domain::RuleId, String)]| {
        v.iter()
            .map(|(id, name)| RuleNameOut {
                id: id.0,
                name: name.clone(),
            })
            .collect()
    };
    Ok(Json(RemovedOut {
        removed: id,
        dry_run: b.dry_run,
        clients_affected: p.clients,
        rules_left: names(&p.rules_left),
        rules_without_target: names(&p.rules_without_target),
        default_rule_left: p.default_rule_left,
        default_rule_without_target: p.default_rule_without_target,
        teams: p
            .teams
            .iter()
            .map(|(t, n)| TeamRefOut {
                id: t.0,
                name: n.clone(),
            })
            .collect(),
        api_keys_revoked: p.api_keys,
        guest_of: p.guest_of,
    }))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    pub name: String,
    pub email: String,
    /// A role of the account (see /api/v1/roles); default: Member.
    pub role_id: Option<i64>,
    /// Own permissions instead of the role's.
    pub permissions: Option<Vec<String>>,
    /// Takes part in automatic assignment; default: as the role says.
    pub agent: Option<bool>,
}

async fn invite(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiJson(b): ApiJson<InviteBody>,
) -> Result<Response, ApiError> {
    let m = members::invite(
        &s.app,
        &c,
        InviteInput {
            name: &b.name,
            email: &b.email,
            role_id: b.role_id,
            role_key: None,
            permissions: b.permissions.as_deref(),
            agent: b.agent,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(member_out(&m))).into_response())
}

async fn resend(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<MemberOut>, ApiError> {
    Ok(Json(member_out(
        &members::resend(&s.app, &c, MemberId(id)).await?,
    )))
}

async fn cancel(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    members::cancel(&s.app, &c, MemberId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    /// The token from the emailed link.
    pub token: String,
    /// A new user's name (default: the name in the invitation).
    pub name: Option<String>,
    /// A new user's password (at least 10 characters), or an existing user's current password.
    pub password: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AcceptedOut {
    pub member: MemberOut,
    pub session: super::identity::SessionOut,
}

async fn accept(
    State(s): State<AppState>,
    Client(ci): Client,
    MaybeAuthed(caller): MaybeAuthed,
    ApiJson(b): ApiJson<AcceptBody>,
) -> Result<Response, ApiError> {
    let (m, token) = members::accept(
        &s.app,
        AcceptInput {
            token: &b.token,
            name: b.name.as_deref(),
            password: b.password.as_deref(),
        },
        caller.as_ref(),
        &ci,
    )
    .await?;
    let member = member_out(&m);
    Ok(super::identity::session_response_with(
        &s,
        token,
        StatusCode::CREATED,
        move |session| AcceptedOut { member, session },
    ))
}
