//! The client page (`GET /api/v1/clients/{id}`): details, custom fields, the
//! routing reason, the timeline; notes and contact edits for the assignee
//! (C1), claim and reassign (C2, C3), delivery (C9), guests (P7), deletion (C6).

use super::{Pick, assign_targets, facts, may, members_of, notice, number, when};
use crate::AppState;
use crate::ui::form::NoticeQuery;
use crate::ui::layout::{Layout, render, see_other};
use crate::ui::{FormErrors, SignedIn, UiError, UiForm};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use leadteam_app::clients::EventRow;
use leadteam_app::clients::{self, ClientInput, DeliverTo};
use leadteam_app::members::MemberRow;
use leadteam_app::{AppError, me, teams};
use leadteam_domain::authz::{Action, MemberStatus};
use leadteam_domain::{ClientId, MemberId, TeamId};
use serde::Deserialize;

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/clients/{id}", get(show))
        .route("/clients/{id}/notes", post(add_note))
        .route("/clients/{id}/edit", post(edit))
        .route("/clients/{id}/deliver", post(deliver))
        .route("/clients/{id}/guests", post(guest))
        .route("/clients/{id}/guests/{member}/remove", post(remove_guest))
        .route("/clients/{id}/delete", post(delete))
}

/// The errors of each form of the page.
#[derive(Default)]
pub(super) struct Errors {
    action: FormErrors,
    note: FormErrors,
    edit: FormErrors,
    deliver: FormErrors,
    guest: FormErrors,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct EditForm {
    name: String,
    email: String,
    phone: String,
    status: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct NoteForm {
    body: String,
    kind: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct DeliverForm {
    /// `m<id>` for a member, `t<id>` for a team.
    to: String,
    outcome: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct GuestForm {
    guest_name: String,
    guest_email: String,
}

/// What the forms of the page hold when it is shown again after an error.
#[derive(Default)]
pub(super) struct Values {
    edit: Option<EditForm>,
    note: NoteForm,
    deliver: DeliverForm,
    guest: GuestForm,
}

/// One line of the timeline.
pub(super) struct Entry {
    what: String,
    body: Option<String>,
    at: String,
    kind: String,
}

#[derive(Template)]
#[template(path = "client.html")]
struct ClientPage {
    page: Layout,
    id: i64,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    /// A chat link for the phone (wa.me takes the number's digits).
    whatsapp: Option<String>,
    status: String,
    outcome: Option<String>,
    source: &'static str,
    team: Option<String>,
    added: String,
    assigned_at: Option<String>,
    assignee: Option<String>,
    mine: bool,
    reason: Option<String>,
    /// Why it went where it went (A12), when an automatic decision was made.
    decision: Option<super::client_decision::DecisionPanel>,
    fields: Vec<(String, String)>,
    duplicates: Vec<i64>,
    timeline: Vec<Entry>,
    can_claim: bool,
    targets: Vec<Pick>,
    can_update: bool,
    /// Its status is the assignee's to change; a guest edits contact
    /// details only (P7).
    can_reclassify: bool,
    can_deliver: bool,
    deliver_members: Vec<Pick>,
    deliver_teams: Vec<(i64, String)>,
    can_guest: bool,
    /// The client's guests (P7), for those who may remove them.
    guests: Vec<(i64, String)>,
    can_delete: bool,
    back: String,
    errors: Errors,
    edit: EditForm,
    note: NoteForm,
    deliver: DeliverForm,
    guest: GuestForm,
}

fn name_of(members: &[MemberRow], id: Option<i64>) -> String {
    match id {
        Some(id) => members
            .iter()
            .find(|m| m.id.0 == id)
            .map(|m| m.name.clone())
            .unwrap_or_else(|| "another member".to_owned()),
        None => "nobody".to_owned(),
    }
}

/// A timeline event in words.
fn entry(e: &EventRow, members: &[MemberRow], teams: &[(i64, String)], zone: &str) -> Entry {
    let who = e.actor_name.clone().unwrap_or_else(|| "Someone".to_owned());
    let data = |k: &str| {
        e.data
            .as_ref()
            .and_then(|d| d.get(k))
            .and_then(|v| v.as_i64())
    };
    let (what, body) = match e.kind.as_str() {
        "created" => (format!("{who} added the client"), None),
        "routed" => ("The lead arrived".to_owned(), e.body.clone()),
        "claimed" => (format!("{who} claimed the client"), None),
        "assigned" => {
            let to = name_of(members, data("to"));
            match data("from") {
                Some(_) => (
                    format!(
                        "{who} reassigned it from {} to {to}",
                        name_of(members, data("from"))
                    ),
                    None,
                ),
                None => (format!("{who} assigned it to {to}"), None),
            }
        }
        "note" => (format!("{who} wrote a note"), e.body.clone()),
        "message" => (format!("{who} logged a message"), e.body.clone()),
        "updated" => (format!("{who} edited the contact details"), None),
        "delivered" => {
            let team = |t: i64| {
                teams
                    .iter()
                    .find(|(id, _)| *id == t)
                    .map(|(_, n)| format!("the team {n}"))
                    .unwrap_or_else(|| "a team".to_owned())
            };
            let to = match (data("to_member"), data("to_team")) {
                (Some(m), Some(t)) => format!("{} through {}", name_of(members, Some(m)), team(t)),
                (Some(m), None) => name_of(members, Some(m)),
                (None, Some(t)) => team(t),
                _ => "someone".to_owned(),
            };
            (
                format!("{who} delivered it to {to}"),
                e.body.as_ref().map(|o| format!("Outcome: {o}")),
            )
        }
        "reclaimed" => (
            format!(
                "Moved from {} to {}: not contacted in time",
                name_of(members, data("from")),
                name_of(members, data("to"))
            ),
            e.body.clone(),
        ),
        "reclaim_failed" => (
            "Not contacted in time, and nobody else could take it".to_owned(),
            e.body.clone(),
        ),
        "drained" => (
            format!(
                "Assigned to {} as soon as someone was free",
                name_of(members, data("to"))
            ),
            e.body.clone(),
        ),
        "guest_removed" => (
            format!(
                "{who} ended {}'s access as a guest",
                name_of(members, data("member"))
            ),
            None,
        ),
        "guest_added" => (
            format!(
                "{who} invited {} as a guest",
                name_of(members, data("member"))
            ),
            None,
        ),
        other => (format!("{who}: {other}"), e.body.clone()),
    };
    Entry {
        what,
        body,
        at: when(e.at, zone),
        kind: e.kind.clone(),
    }
}

pub(super) async fn client_page(
    s: &AppState,
    who: &SignedIn,
    id: i64,
    status: StatusCode,
    notice_key: Option<&str>,
    errors: Errors,
    values: Values,
) -> Result<Response, UiError> {
    let actor = super::actor_of(who)?.clone();
    let (view, events) = clients::get(&s.app, &who.caller, ClientId(id)).await?;
    let c = view.client;
    let f = facts(s, &actor, &c).await?;
    let v = me::me(&s.app, &who.caller).await?;
    let members = members_of(s, who).await?;
    let team_rows = match teams::list(&s.app, &who.caller).await {
        Ok(t) => t,
        Err(AppError::Denied(_)) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let teams: Vec<(i64, String)> = team_rows.iter().map(|t| (t.id.0, t.name.clone())).collect();
    let can_deliver = may(&actor, &Action::DeliverClient(&f));
    let can_claim = c.assignee.is_none() && may(&actor, &Action::ClaimClient(&f));
    let deliver_members = members
        .iter()
        .filter(|m| m.status == MemberStatus::Active)
        .map(|m| Pick {
            id: m.id.0,
            name: m.name.clone(),
            me: m.id == actor.member,
        })
        .collect();
    let fields = c
        .fields
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut timeline: Vec<Entry> = events
        .iter()
        .map(|e| entry(e, &members, &teams, &who.caller.time_zone))
        .collect();
    timeline.reverse();
    let edit = values.edit.unwrap_or_else(|| EditForm {
        name: c.name.clone(),
        email: c.email.clone().unwrap_or_default(),
        phone: c.phone.clone().unwrap_or_default(),
        status: c.status.clone(),
    });
    let page = ClientPage {
        page: Layout::signed_in(&c.name, "/clients", who, &v).with_notice(notice(notice_key)),
        id,
        email: c.email.clone(),
        phone: c.phone.clone(),
        whatsapp: c.phone.as_deref().and_then(super::card::whatsapp_link),
        status: c.status.clone(),
        outcome: c.outcome.clone(),
        source: super::clients::source_label(&c.source),
        team: c.team.and_then(|t| {
            teams
                .iter()
                .find(|(id, _)| *id == t.0)
                .map(|(_, n)| n.clone())
        }),
        added: when(c.created_at, &who.caller.time_zone),
        assigned_at: c.assigned_at.map(|t| when(t, &who.caller.time_zone)),
        mine: c.assignee == Some(actor.member),
        assignee: c.assignee_name.clone(),
        reason: c.routing_reason.clone(),
        decision: super::client_decision::decision_panel(s, who, &actor, id).await?,
        fields,
        duplicates: view.duplicates.iter().map(|d| d.0).collect(),
        timeline,
        can_claim,
        targets: assign_targets(&actor, &f, &members)
            .into_iter()
            .filter(|t| !(can_claim && t.me))
            .collect(),
        can_update: may(&actor, &Action::UpdateClient(&f)),
        can_reclassify: may(&actor, &Action::ReclassifyClient(&f)),
        can_deliver,
        deliver_members,
        deliver_teams: if can_deliver { teams } else { Vec::new() },
        can_guest: may(&actor, &Action::InviteGuest(&f)),
        guests: if may(&actor, &Action::InviteGuest(&f)) {
            clients::guests(&s.app, &who.caller, ClientId(id))
                .await?
                .into_iter()
                .map(|(m, n)| (m.0, n))
                .collect()
        } else {
            Vec::new()
        },
        can_delete: may(&actor, &Action::DeleteClient(&f)),
        back: format!("/clients/{id}"),
        errors,
        edit,
        note: values.note,
        deliver: values.deliver,
        guest: values.guest,
        name: c.name,
    };
    Ok(render(status, &page))
}

/// The page again after a refused claim or assignment (see `clients`).
pub(super) async fn page_with_alert(
    s: &AppState,
    who: &SignedIn,
    id: i64,
    status: StatusCode,
    alert: FormErrors,
) -> Result<Response, UiError> {
    let errors = Errors {
        action: alert,
        ..Errors::default()
    };
    client_page(s, who, id, status, None, errors, Values::default()).await
}

async fn show(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, UiError> {
    let errors = Errors::default();
    let values = Values::default();
    client_page(
        &s,
        &who,
        id,
        StatusCode::OK,
        q.notice.as_deref(),
        errors,
        values,
    )
    .await
}

async fn add_note(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<NoteForm>,
) -> Result<Response, UiError> {
    let kind = if f.data.kind == "message" {
        "message"
    } else {
        "note"
    };
    match clients::add_note(&s.app, &who.caller, ClientId(id), kind, &f.data.body).await {
        Ok(_) => Ok(see_other(&format!("/clients/{id}?notice=note"), f.htmx)),
        Err(e) => {
            let (status, note) = FormErrors::from_app(e, &[])?;
            let errors = Errors {
                note,
                ..Errors::default()
            };
            let values = Values {
                note: f.data,
                ..Values::default()
            };
            client_page(&s, &who, id, status, None, errors, values).await
        }
    }
}

async fn edit(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<EditForm>,
) -> Result<Response, UiError> {
    let d = &f.data;
    let input = ClientInput {
        name: Some(d.name.clone()),
        email: Some(Some(d.email.clone())),
        phone: Some(Some(d.phone.clone())),
        // A guest's form has no status.
        status: (!d.status.is_empty()).then(|| d.status.clone()),
        ..ClientInput::default()
    };
    match clients::update(&s.app, &who.caller, ClientId(id), input).await {
        Ok(_) => Ok(see_other(&format!("/clients/{id}?notice=edited"), f.htmx)),
        Err(e) => {
            let (status, edit) = FormErrors::from_app(e, &[])?;
            let errors = Errors {
                edit,
                ..Errors::default()
            };
            let values = Values {
                edit: Some(f.data),
                ..Values::default()
            };
            client_page(&s, &who, id, status, None, errors, values).await
        }
    }
}

async fn deliver(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<DeliverForm>,
) -> Result<Response, UiError> {
    let d = &f.data;
    let to = if let Some(m) = d.to.strip_prefix('m') {
        number(&Some(m.to_owned())).map(|m| DeliverTo::Member(MemberId(m)))
    } else if let Some(t) = d.to.strip_prefix('t') {
        number(&Some(t.to_owned())).map(|t| DeliverTo::Team(TeamId(t)))
    } else {
        None
    };
    let result = match to {
        Some(to) => clients::deliver(&s.app, &who.caller, ClientId(id), to, &d.outcome)
            .await
            .map(|_| ()),
        None => Err(AppError::field("to", "choose a member or a team")),
    };
    match result {
        Ok(()) => Ok(see_other(
            &format!("/clients/{id}?notice=delivered"),
            f.htmx,
        )),
        Err(e) => {
            let renames = [("to_member", "to"), ("to_team", "to")];
            let (status, deliver) = FormErrors::from_app(e, &renames)?;
            let errors = Errors {
                deliver,
                ..Errors::default()
            };
            let values = Values {
                deliver: f.data,
                ..Values::default()
            };
            client_page(&s, &who, id, status, None, errors, values).await
        }
    }
}

async fn remove_guest(
    State(s): State<AppState>,
    who: SignedIn,
    Path((id, member)): Path<(i64, i64)>,
    f: UiForm<GuestForm>,
) -> Result<Response, UiError> {
    clients::remove_guest(
        &s.app,
        &who.caller,
        ClientId(id),
        leadteam_domain::MemberId(member),
    )
    .await?;
    Ok(see_other(
        &format!("/clients/{id}?notice=guest_removed"),
        f.htmx,
    ))
}

async fn guest(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<GuestForm>,
) -> Result<Response, UiError> {
    let d = &f.data;
    match clients::invite_guest(
        &s.app,
        &who.caller,
        ClientId(id),
        &d.guest_name,
        &d.guest_email,
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!("/clients/{id}?notice=guest"), f.htmx)),
        Err(e) => {
            let renames = [("name", "guest_name"), ("email", "guest_email")];
            let (status, guest) = FormErrors::from_app(e, &renames)?;
            let errors = Errors {
                guest,
                ..Errors::default()
            };
            let values = Values {
                guest: f.data,
                ..Values::default()
            };
            client_page(&s, &who, id, status, None, errors, values).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct NoFields {}

async fn delete(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<NoFields>,
) -> Result<Response, UiError> {
    match clients::delete(&s.app, &who.caller, ClientId(id)).await {
        Ok(()) => Ok(see_other("/clients?notice=deleted", f.htmx)),
        Err(e) => {
            let (status, action) = FormErrors::from_app(e, &[])?;
            page_with_alert(&s, &who, id, status, action).await
        }
    }
}
