//! Clients (C1-C9, P2, P6, P7, I2).

use super::rfc3339;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, Authed};
use crate::extract::{ApiPath, ApiQuery};
use crate::registry::{Api, RouteSpec, Verb};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use leadteam_app::AppError;
use leadteam_app::clients::{self, BulkSelection, ClientInput, DeliverTo, ListQuery};
use leadteam_app::clients::{ClientRow, EventRow};
use leadteam_domain::{ClientId, MemberId, TeamId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(super) fn routes(api: Api) -> Api {
    api.add(
        RouteSpec::new(Verb::Get, "/api/v1/clients", "clients", "The clients the caller may see, newest first (cursor pagination)")
            .query(&[
                ("view", "mine | others | unassigned | all (comma list allowed); default: the team-view setting"),
                ("assignee", "member id"),
                ("team", "team id"),
                ("q", "search name, email or phone"),
                ("limit", "1..=200, default 50"),
                ("after", "cursor: next_after of the previous page"),
            ])
            .returns::<ClientsOut>(),
        list,
    )
    .add(
        RouteSpec::new(Verb::Post, "/api/v1/clients", "clients", "Add a client; it is assigned to the caller (P6)")
            .status(201)
            .body::<ClientBody>()
            .returns::<ClientOut>(),
        create,
    )
    .add(
        RouteSpec::new(Verb::Get, "/api/v1/clients/export", "clients", "CSV of every client the caller may see (I2)"),
        export,
    )
    .add(
        RouteSpec::new(Verb::Post, "/api/v1/clients/bulk-assign", "clients", "Reassign listed clients, all of a member, or all unassigned (C5)")
            .body::<BulkBody>()
            .returns::<BulkOut>(),
        bulk,
    )
    .add(
        RouteSpec::new(Verb::Get, "/api/v1/clients/{id}", "clients", "One client with its timeline").returns::<ClientDetailOut>(),
        get_one,
    )
    .add(
        RouteSpec::new(Verb::Patch, "/api/v1/clients/{id}", "clients", "Update contact details, fields, status, team; assignee only (C1)")
            .body::<ClientBody>()
            .returns::<ClientOut>(),
        update,
    )
    .add(
        RouteSpec::new(Verb::Delete, "/api/v1/clients/{id}", "clients", "Delete a client assigned to oneself, with clients.delete (C6)").status(204),
        delete,
    )
    .add(
        RouteSpec::new(Verb::Post, "/api/v1/clients/{id}/claim", "clients", "Claim an unassigned client; one of concurrent claims wins (C2)")
            .returns::<ClientOut>(),
        claim,
    )
    .add(
        RouteSpec::new(Verb::Post, "/api/v1/clients/{id}/assign", "clients", "Assign or reassign to an active member (C3, C4)")
            .body::<AssignBody>()
            .returns::<ClientOut>(),
        assign,
    )
    .add(
        RouteSpec::new(Verb::Post, "/api/v1/clients/{id}/notes", "clients", "Add a note or message to the timeline; assignee only (C1)")
            .status(201)
            .body::<NoteBody>()
            .returns::<NoteOut>(),
        note,
    )
    .add(
        RouteSpec::new(Verb::Post, "/api/v1/clients/{id}/deliver", "clients", "Hand to a member or a team with an outcome (C9)")
            .body::<DeliverBody>()
            .returns::<ClientOut>(),
        deliver,
    )
    .add(
        RouteSpec::new(Verb::Post, "/api/v1/clients/{id}/guests", "clients", "Invite a Restricted member to this client only (P7)")
            .status(201)
            .body::<GuestBody>()
            .returns::<super::members::MemberOut>(),
        guest,
    )
    .add(
        RouteSpec::new(Verb::Delete, "/api/v1/clients/{id}/guests/{member_id}", "clients", "End a guest's access to this client at once (P7)")
            .status(204),
        remove_guest,
    )
    .add(
        RouteSpec::new(Verb::Get, "/api/v1/team-overview", "clients", "Counts per member and unassigned, and outcomes (C8, C9)")
            .returns::<OverviewOut>(),
        overview,
    )
    .add(
        RouteSpec::new(Verb::Get, "/api/v1/me/team-view", "clients", "Which kinds of clients my lists show, and the choices (C8)")
            .returns::<TeamViewOut>(),
        get_team_view,
    )
    .add(
        RouteSpec::new(Verb::Put, "/api/v1/me/team-view", "clients", "Choose which kinds of clients my lists show (C8)")
            .body::<TeamViewBody>()
            .returns::<TeamViewOut>(),
        put_team_view,
    )
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ClientOut {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub source: String,
    pub source_id: Option<i64>,
    pub fields: serde_json::Value,
    pub status: String,
    pub outcome: Option<String>,
    pub team_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    /// True for clients nobody holds yet (shown in teal in the UI).
    pub unassigned: bool,
    pub ever_assigned: bool,
    /// Why automatic assignment decided as it did.
    pub routing_reason: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub assigned_at: Option<String>,
    /// Other visible clients with the same email or phone (allowed, flagged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicates: Option<Vec<i64>>,
}

pub fn client_out(c: &ClientRow) -> ClientOut {
    ClientOut {
        id: c.id.0,
        name: c.name.clone(),
        email: c.email.clone(),
        phone: c.phone.clone(),
        source: c.source.clone(),
        source_id: c.source_id,
        fields: c.fields.clone(),
        status: c.status.clone(),
        outcome: c.outcome.clone(),
        team_id: c.team.map(|t| t.0),
        assignee_id: c.assignee.map(|m| m.0),
        assignee_name: c.assignee_name.clone(),
        unassigned: c.assignee.is_none(),
        ever_assigned: c.ever_assigned,
        routing_reason: c.routing_reason.clone(),
        created_at: rfc3339(c.created_at),
        updated_at: rfc3339(c.updated_at),
        assigned_at: c.assigned_at.map(rfc3339),
        duplicates: None,
    }
}

fn view_out(v: clients::ClientView) -> ClientOut {
    let mut o = client_out(&v.client);
    o.duplicates = Some(v.duplicates.iter().map(|d| d.0).collect());
    o
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ClientsOut {
    pub clients: Vec<ClientOut>,
    /// Pass as `after` for the next page; null on the last page.
    pub next_after: Option<i64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListParams {
    pub view: Option<String>,
    pub assignee: Option<i64>,
    pub team: Option<i64>,
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub after: Option<i64>,
}

async fn list(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<ClientsOut>, ApiError> {
    let (rows, next) = clients::list(
        &s.app,
        &c,
        ListQuery {
            view: p.view,
            assignee: p.assignee,
            team: p.team,
            q: p.q,
            limit: p.limit,
            after: p.after,
        },
    )
    .await?;
    Ok(Json(ClientsOut {
        clients: rows.iter().map(client_out).collect(),
        next_after: next,
    }))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientBody {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "super::members::double_option")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::members::double_option")]
    pub phone: Option<Option<String>>,
    /// Custom fields: an object of text values.
    pub fields: Option<serde_json::Value>,
    /// open | contacted | won | lost
    pub status: Option<String>,
    #[serde(default, deserialize_with = "super::members::double_option")]
    pub team_id: Option<Option<i64>>,
}

fn input_of(b: ClientBody) -> ClientInput {
    ClientInput {
        name: b.name,
        email: b.email,
        phone: b.phone,
        fields: b.fields,
        status: b.status,
        team_id: b.team_id,
    }
}

async fn create(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiJson(b): ApiJson<ClientBody>,
) -> Result<Response, ApiError> {
    let v = clients::create(&s.app, &c, input_of(b)).await?;
    Ok((StatusCode::CREATED, Json(view_out(v))).into_response())
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct EventOut {
    pub id: i64,
    /// created | updated | note | message | claimed | assigned | delivered | guest_added | routed
    pub kind: String,
    pub actor_member_id: Option<i64>,
    pub actor_name: Option<String>,
    pub body: Option<String>,
    pub data: Option<serde_json::Value>,
    pub at: String,
}

fn event_out(e: &EventRow) -> EventOut {
    EventOut {
        id: e.id,
        kind: e.kind.clone(),
        actor_member_id: e.actor.map(|m| m.0),
        actor_name: e.actor_name.clone(),
        body: e.body.clone(),
        data: e.data.clone(),
        at: rfc3339(e.at),
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ClientDetailOut {
    pub client: ClientOut,
    pub timeline: Vec<EventOut>,
}

async fn get_one(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ClientDetailOut>, ApiError> {
    let (v, events) = clients::get(&s.app, &c, ClientId(id)).await?;
    Ok(Json(ClientDetailOut {
        client: view_out(v),
        timeline: events.iter().map(event_out).collect(),
    }))
}

async fn update(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ClientBody>,
) -> Result<Json<ClientOut>, ApiError> {
    Ok(Json(view_out(
        clients::update(&s.app, &c, ClientId(id), input_of(b)).await?,
    )))
}

async fn delete(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    clients::delete(&s.app, &c, ClientId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn claim(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ClientOut>, ApiError> {
    Ok(Json(client_out(
        &clients::claim(&s.app, &c, ClientId(id)).await?,
    )))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// The active member who gets the client (the caller itself included).
    pub member_id: i64,
}

async fn assign(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<AssignBody>,
) -> Result<Json<ClientOut>, ApiError> {
    Ok(Json(client_out(
        &clients::assign(&s.app, &c, ClientId(id), MemberId(b.member_id)).await?,
    )))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    pub body: String,
    /// note (default) | message
    pub kind: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct NoteOut {
    pub id: i64,
}

async fn note(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<NoteBody>,
) -> Result<(StatusCode, Json<NoteOut>), ApiError> {
    let kind = b.kind.as_deref().unwrap_or("note");
    let eid = clients::add_note(&s.app, &c, ClientId(id), kind, &b.body).await?;
    Ok((StatusCode::CREATED, Json(NoteOut { id: eid })))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    /// The active member who gets the clients.
    pub to: i64,
    /// Listed clients...
    pub client_ids: Option<Vec<i64>>,
    /// ...or every client of this member...
    pub from_member: Option<i64>,
    /// ...or every unassigned client.
    #[serde(default)]
    pub all_unassigned: bool,
    /// Selected on the team view (any visible client) rather than an
    /// ordinary list (only one's own clients) (C5).
    #[serde(default)]
    pub team_view: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct BulkItemOut {
    pub client_id: i64,
    /// assigned | unchanged | refused | not_found
    pub outcome: String,
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct BulkOut {
    pub results: Vec<BulkItemOut>,
    pub assigned: usize,
}

async fn bulk(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiJson(b): ApiJson<BulkBody>,
) -> Result<Json<BulkOut>, ApiError> {
    let selection = match (b.client_ids, b.from_member, b.all_unassigned) {
        (Some(ids), None, false) => BulkSelection::Ids(ids.into_iter().map(ClientId).collect()),
        (None, Some(m), false) => BulkSelection::AllOf(MemberId(m)),
        (None, None, true) => BulkSelection::AllUnassigned,
        _ => {
            return Err(AppError::field(
                "client_ids",
                "give exactly one of client_ids, from_member or all_unassigned",
            )
            .into());
        }
    };
    let results = clients::bulk_assign(&s.app, &c, selection, MemberId(b.to), b.team_view).await?;
    let assigned = results.iter().filter(|r| r.outcome == "assigned").count();
    Ok(Json(BulkOut {
        results: results
            .into_iter()
            .map(|r| BulkItemOut {
                client_id: r.client.0,
                outcome: r.outcome.to_owned(),
                reason: r.reason,
            })
            .collect(),
        assigned,
    }))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliverBody {
    pub to_member: Option<i64>,
    pub to_team: Option<i64>,
    /// The outcome recorded for reporting, e.g. "qualified".
    pub outcome: String,
}

async fn deliver(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<DeliverBody>,
) -> Result<Json<ClientOut>, ApiError> {
    let to = match (b.to_member, b.to_team) {
        (Some(m), None) => DeliverTo::Member(MemberId(m)),
        (None, Some(t)) => DeliverTo::Team(TeamId(t)),
        _ => {
            return Err(
                AppError::field("to_member", "give exactly one of to_member or to_team").into(),
            );
        }
    };
    Ok(Json(client_out(
        &clients::deliver(&s.app, &c, ClientId(id), to, &b.outcome).await?,
    )))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GuestBody {
    pub name: String,
    pub email: String,
}

async fn guest(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<GuestBody>,
) -> Result<(StatusCode, Json<super::members::MemberOut>), ApiError> {
    let m = clients::invite_guest(&s.app, &c, ClientId(id), &b.name, &b.email).await?;
    Ok((StatusCode::CREATED, Json(super::members::member_out(&m))))
}

async fn remove_guest(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath((id, member)): ApiPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    clients::remove_guest(&s.app, &c, ClientId(id), leadteam_domain::MemberId(member)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn export(State(s): State<AppState>, Authed(c): Authed) -> Result<Response, ApiError> {
    let csv = clients::export_csv(&s.app, &c).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"clients.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MemberCountOut {
    pub member_id: i64,
    pub name: String,
    pub status: String,
    pub clients: i64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OutcomeCountOut {
    pub outcome: String,
    pub clients: i64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OverviewOut {
    pub members: Vec<MemberCountOut>,
    /// Null when the caller may not see unassigned clients.
    pub unassigned: Option<i64>,
    pub outcomes: Vec<OutcomeCountOut>,
}

async fn overview(
    State(s): State<AppState>,
    Authed(c): Authed,
) -> Result<Json<OverviewOut>, ApiError> {
    let o = clients::overview(&s.app, &c).await?;
    Ok(Json(OverviewOut {
        members: o
            .members
            .iter()
            .map(|(m, n)| MemberCountOut {
                member_id: m.id.0,
                name: m.name.clone(),
                status: m.status.as_str().to_owned(),
                clients: *n,
            })
            .collect(),
        unassigned: o.unassigned,
        outcomes: o
            .outcomes
            .into_iter()
            .map(|(outcome, clients)| OutcomeCountOut { outcome, clients })
            .collect(),
    }))
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TeamViewOut {
    /// The kinds my lists show.
    pub kinds: Vec<String>,
    /// The kinds I may choose from (only "mine" when I see only my own clients).
    pub choices: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamViewBody {
    /// Any of mine, others, unassigned that I may see.
    pub kinds: Vec<String>,
}

async fn get_team_view(
    State(s): State<AppState>,
    Authed(c): Authed,
) -> Result<Json<TeamViewOut>, ApiError> {
    let (kinds, choices) = clients::team_view(&s.app, &c).await?;
    Ok(Json(TeamViewOut {
        kinds,
        choices: choices.into_iter().map(str::to_owned).collect(),
    }))
}

async fn put_team_view(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiJson(b): ApiJson<TeamViewBody>,
) -> Result<Json<TeamViewOut>, ApiError> {
    clients::set_team_view(&s.app, &c, &b.kinds).await?;
    get_team_view(State(s), Authed(c)).await
}
