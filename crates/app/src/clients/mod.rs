//! Clients: adding, listing within the member's scope, the assignee-only
//! rule, claiming, assigning, bulk reassignment, deletion, delivery, guests,
//! the timeline, the team view and the team overview (C1-C9, P2, P6, P7).

mod assign;
mod claim;
mod deliver;
mod guests;
mod routing;
mod views;

pub use assign::*;
pub use claim::*;
pub use deliver::*;
pub use guests::*;
pub use routing::*;
pub use views::*;

pub use leadteam_store::clients::{ClientRow, EventRow};

use crate::App;
use crate::auth::Caller;
use crate::bus::Alerts;
use crate::error::AppError;
use leadteam_domain::authz::{
    Action, Actor, ClientFacts, ClientScope, MemberStatus, OthersScope, client_scope, decide,
};
use leadteam_domain::validate::{Email, Name, parse_phone};
use leadteam_domain::{
    AccountId, ClientId, FieldError, MemberId, TeamId, Timestamp, ValidationErrors,
};
use leadteam_store::Lock;
use leadteam_store::clients::{self, ClientChanges, Kinds, ListFilter, NewClient, NewEvent};
use leadteam_store::{Conn, StoreError, members};
use serde_json::{Value, json};

pub const DEFAULT_PAGE: i64 = 50;
pub const MAX_PAGE: i64 = 200;

/// The decision facts of a client for an actor.
pub async fn facts(conn: &mut Conn, actor: &Actor, c: &ClientRow) -> Result<ClientFacts, AppError> {
    Ok(ClientFacts {
        assignee: c.assignee,
        team: c.team,
        actor_is_guest: clients::is_guest(conn, c.id, actor.member).await?,
    })
}

/// The decision facts of several clients for an actor (one guest lookup
/// for all of them), in the order given.
pub async fn facts_of(
    app: &App,
    actor: &Actor,
    rows: &[ClientRow],
) -> Result<Vec<ClientFacts>, AppError> {
    let mut conn = app.db.conn().await?;
    let ids: Vec<ClientId> = rows.iter().map(|c| c.id).collect();
    let guest = clients::guest_of(&mut conn, actor.member, &ids).await?;
    Ok(rows
        .iter()
        .map(|c| ClientFacts {
            assignee: c.assignee,
            team: c.team,
            actor_is_guest: guest.contains(&c.id),
        })
        .collect())
}

/// The audit picture of a client (before/after).
impl crate::trail::Audited for ClientRow {
    const KIND: &'static str = "client";

    fn audit_id(&self) -> i64 {
        self.id.0
    }

    fn picture(&self) -> Value {
        json!({"id": self.id.0, "name": self.name, "assignee": self.assignee.map(|m| m.0), "team": self.team.map(|t| t.0),
               "status": self.status, "outcome": self.outcome})
    }
}

/// Loads a client the actor may see, or 404 (invisible and foreign alike).
async fn load_visible(
    conn: &mut Conn,
    actor: &Actor,
    id: ClientId,
    lock: Lock,
) -> Result<(ClientRow, ClientFacts), AppError> {
    let (c, f) = with_facts(conn, actor, id, lock)
        .await?
        .ok_or(AppError::NotFound("client"))?;
    crate::auth::check(actor, &Action::ViewClient(&f))?;
    Ok((c, f))
}

/// A client of the actor's account with its decision facts for the actor,
/// in one statement (none when the id is not the account's).
async fn with_facts(
    conn: &mut Conn,
    actor: &Actor,
    id: ClientId,
    lock: Lock,
) -> Result<Option<(ClientRow, ClientFacts)>, AppError> {
    let found = clients::get_for(conn, actor.account, id, actor.member, lock).await?;
    Ok(found.map(|(c, actor_is_guest)| {
        let f = ClientFacts {
            assignee: c.assignee,
            team: c.team,
            actor_is_guest,
        };
        (c, f)
    }))
}

/// Contact details as typed by a person or a lead source.
#[derive(Debug, Default, Clone)]
pub struct ClientInput {
    pub name: Option<String>,
    /// `Some(None)` clears.
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub fields: Option<Value>,
    pub status: Option<String>,
    pub team_id: Option<Option<i64>>,
}

const STATUSES: [&str; 4] = ["open", "contacted", "won", "lost"];

/// Parsed contact changes; every bad field is named.
pub(crate) async fn parse_input(
    conn: &mut Conn,
    account: AccountId,
    input: &ClientInput,
    creating: bool,
) -> Result<ClientChanges, AppError> {
    let mut errs = ValidationErrors::default();
    let mut ch = ClientChanges::default();
    match (&input.name, creating) {
        (Some(n), _) => {
            ch.name = errs
                .take(Name::parse("name", n, 200))
                .map(Name::into_string)
        }
        (None, true) => errs.push(FieldError::new("name", "is required")),
        (None, false) => {}
    }
    if let Some(e) = &input.email {
        ch.email = match e.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(raw) => errs
                .take(Email::parse("email", raw))
                .map(|e| Some(e.into_string())),
            None => Some(None),
        };
    }
    if let Some(p) = &input.phone {
        ch.phone = match p.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(raw) => errs.take(parse_phone("phone", raw)).map(Some),
            None => Some(None),
        };
    }
    if let Some(f) = &input.fields {
        match check_fields(f) {
            Ok(()) => ch.fields = Some(f.clone()),
            Err(e) => errs.push(e),
        }
    }
    if let Some(s) = &input.status {
        if STATUSES.contains(&s.as_str()) {
            ch.status = Some(s.clone());
        } else {
            errs.push(FieldError::new(
                "status",
                "must be one of open, contacted, won, lost",
            ));
        }
    }
    if let Some(t) = input.team_id {
        match t {
            None => ch.team = Some(None),
            Some(id) => {
                if team_exists(conn, account, TeamId(id)).await? {
                    ch.team = Some(Some(TeamId(id)));
                } else {
                    errs.push(FieldError::new("team_id", "is not a team of this account"));
                }
            }
        }
    }
    errs.into_result()?;
    Ok(ch)
}

async fn team_exists(conn: &mut Conn, account: AccountId, team: TeamId) -> Result<bool, AppError> {
    let n: i64 = sqlx_count(conn, account, team).await?;
    Ok(n > 0)
}

async fn sqlx_count(conn: &mut Conn, account: AccountId, team: TeamId) -> Result<i64, StoreError> {
    leadteam_store::teams_lookup::count_team(conn, account, team).await
}

/// Custom fields: an object of up to 50 text values.
fn check_fields(v: &Value) -> Result<(), FieldError> {
    let Some(obj) = v.as_object() else {
        return Err(FieldError::new(
            "fields",
            "must be an object of text values",
        ));
    };
    if obj.len() > 50 {
        return Err(FieldError::new("fields", "at most 50 custom fields"));
    }
    for (k, val) in obj {
        if k.trim().is_empty() || k.chars().count() > 60 {
            return Err(FieldError::new(
                format!("fields.{k}"),
                "names are 1 to 60 characters",
            ));
        }
        match val {
            Value::String(s) if s.chars().count() <= 1000 => {}
            Value::String(_) => {
                return Err(FieldError::new(
                    format!("fields.{k}"),
                    "at most 1000 characters",
                ));
            }
            _ => return Err(FieldError::new(format!("fields.{k}"), "must be text")),
        }
    }
    Ok(())
}

/// A client with what the caller may know around it.
#[derive(Debug, Clone)]
pub struct ClientView {
    pub client: ClientRow,
    /// Other visible clients with the same email or phone.
    pub duplicates: Vec<ClientId>,
}

/// A member adds a client; it is assigned to the member (P6).
pub async fn create(
    app: &App,
    caller: &Caller,
    input: ClientInput,
) -> Result<ClientView, AppError> {
    let actor = caller.may(&Action::CreateClient)?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let ch = parse_input(&mut tx, actor.account, &input, true).await?;
    let fields = ch.fields.clone().unwrap_or_else(|| json!({}));
    let id = clients::insert(
        &mut tx,
        NewClient {
            account: actor.account,
            name: ch.name.as_deref().unwrap_or_default(),
            email: ch.email.clone().flatten().as_deref(),
            phone: ch.phone.clone().flatten().as_deref(),
            source: "manual",
            source_id: None,
            source_lead_id: None,
            fields: &fields,
            team: ch.team.flatten(),
            assignee: Some(actor.member),
            routing_reason: Some("added by the member"),
            created_by: Some(actor.member),
        },
        now,
    )
    .await?;
    if let Some(status) = &ch.status {
        clients::update(
            &mut tx,
            id,
            &ClientChanges {
                status: Some(status.clone()),
                ..Default::default()
            },
            now,
        )
        .await?;
    }
    event(
        &mut tx,
        actor.account,
        id,
        "created",
        Some(actor.member),
        None,
        None,
        now,
    )
    .await?;
    let c = clients::get(&mut tx, actor.account, id, Lock::None)
        .await?
        .ok_or(AppError::NotFound("client"))?;
    crate::trail::change(&mut tx, &actor, "client.created", None, Some(&c), now).await?;
    let scope = client_scope(&actor);
    let duplicates = clients::visible_duplicates(
        &mut tx,
        actor.account,
        &scope,
        c.email.as_deref(),
        c.phone.as_deref(),
        id,
    )
    .await?;
    tx.commit().await?;
    Ok(ClientView {
        client: c,
        duplicates,
    })
}

#[allow(clippy::too_many_arguments)]
async fn event(
    conn: &mut Conn,
    account: AccountId,
    client: ClientId,
    kind: &str,
    actor: Option<MemberId>,
    body: Option<&str>,
    data: Option<Value>,
    now: Timestamp,
) -> Result<(), AppError> {
    clients::add_event(
        conn,
        NewEvent {
            account,
            client,
            kind,
            actor,
            body,
            data,
        },
        now,
    )
    .await?;
    Ok(())
}

/// One client with its timeline.
pub async fn get(
    app: &App,
    caller: &Caller,
    id: ClientId,
) -> Result<(ClientView, Vec<clients::EventRow>), AppError> {
    let actor = caller.actor()?.clone();
    let mut tx = app.db.read().await?;
    let (c, _) = load_visible(&mut tx, &actor, id, Lock::None).await?;
    let scope = client_scope(&actor);
    let duplicates = clients::visible_duplicates(
        &mut tx,
        actor.account,
        &scope,
        c.email.as_deref(),
        c.phone.as_deref(),
        id,
    )
    .await?;
    let events = clients::events(&mut tx, id).await?;
    Ok((
        ClientView {
            client: c,
            duplicates,
        },
        events,
    ))
}

/// A list request as the API receives it.
#[derive(Debug, Default, Clone)]
pub struct ListQuery {
    pub view: Option<String>,
    pub assignee: Option<i64>,
    pub team: Option<i64>,
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub after: Option<i64>,
}

fn kinds_of(s: &str) -> Option<Kinds> {
    let mut k = Kinds {
        mine: false,
        others: false,
        unassigned: false,
    };
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part {
            "mine" => k.mine = true,
            "others" => k.others = true,
            "unassigned" => k.unassigned = true,
            "all" => k = Kinds::ALL,
            _ => return None,
        }
    }
    // Asking for no kind (`view=` or `view=,`) is no view.
    (k.mine || k.others || k.unassigned).then_some(k)
}

/// The clients the caller may see, filtered by `view` (or, when absent, by
/// its team-view setting, C8), newest first, a page at a time.
pub async fn list(
    app: &App,
    caller: &Caller,
    q: ListQuery,
) -> Result<(Vec<ClientRow>, Option<i64>), AppError> {
    let actor = caller.actor()?.clone();
    crate::auth::check(&actor, &Action::CreateClient)?; // any active member may list its own clients
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::field(
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        ));
    }
    let mut c = app.db.conn().await?;
    let kinds = match q.view.as_deref() {
        Some(v) => kinds_of(v).ok_or_else(|| {
            AppError::field(
                "view",
                "must be mine, others, unassigned or all (comma list allowed)",
            )
        })?,
        // The member's saved choice, read with its authorisation.
        None => caller
            .team_view
            .as_deref()
            .and_then(kinds_of)
            .unwrap_or(Kinds::ALL),
    };
    let scope = client_scope(&actor);
    let rows = clients::list(
        &mut c,
        actor.account,
        &scope,
        &ListFilter {
            kinds,
            assignee: q.assignee.map(MemberId),
            team: q.team.map(TeamId),
            q: q.q.clone(),
            after: q.after.map(ClientId),
            limit,
        },
    )
    .await?;
    let next = if rows.len() as i64 == limit {
        rows.last().map(|r| r.id.0)
    } else {
        None
    };
    Ok((rows, next))
}

/// Every client the caller may see (for the CSV export), in pages.
pub async fn all_visible(app: &App, actor: &Actor) -> Result<Vec<ClientRow>, AppError> {
    let scope = client_scope(actor);
    let mut c = app.db.conn().await?;
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = clients::list(
            &mut c,
            actor.account,
            &scope,
            &ListFilter {
                kinds: Kinds::ALL,
                assignee: None,
                team: None,
                q: None,
                after,
                limit: 1000,
            },
        )
        .await?;
        let done = page.len() < 1000;
        after = page.last().map(|r| r.id);
        out.extend(page);
        if done {
            break;
        }
    }
    Ok(out)
}

/// Only the assignee (or a guest of the client) updates it (C1, P7).
pub async fn update(
    app: &App,
    caller: &Caller,
    id: ClientId,
    input: ClientInput,
) -> Result<ClientView, AppError> {
    let actor = caller.actor()?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let (before, f) = load_visible(&mut tx, &actor, id, Lock::ForUpdate).await?;
    crate::auth::check(&actor, &Action::UpdateClient(&f))?;
    // A new status or team is the assignee's (a guest's form may send the
    // status as it is), decided before the team named is looked up.
    let reclassifies = input
        .status
        .as_deref()
        .is_some_and(|s| s.trim() != before.status)
        || input.team_id.is_some_and(|t| t != before.team.map(|t| t.0));
    if reclassifies {
        crate::auth::check(&actor, &Action::ReclassifyClient(&f))?;
    }
    let first = crate::metrics::first_contact(&mut tx, &before, actor.member, now).await?;
    let ch = parse_input(&mut tx, actor.account, &input, false).await?;
    clients::update(&mut tx, id, &ch, now).await?;
    let after = clients::get(&mut tx, actor.account, id, Lock::None)
        .await?
        .ok_or(AppError::NotFound("client"))?;
    event(
        &mut tx,
        actor.account,
        id,
        "updated",
        Some(actor.member),
        None,
        None,
        now,
    )
    .await?;
    crate::trail::change(
        &mut tx,
        &actor,
        "client.updated",
        Some(&before),
        Some(&after),
        now,
    )
    .await?;
    let scope = client_scope(&actor);
    let duplicates = clients::visible_duplicates(
        &mut tx,
        actor.account,
        &scope,
        after.email.as_deref(),
        after.phone.as_deref(),
        id,
    )
    .await?;
    tx.commit().await?;
    // Someone may have room for a waiting lead now (A11).
    app.routing_changed(actor.account);
    app.metrics.first_contact(first, now);
    Ok(ClientView {
        client: after,
        duplicates,
    })
}

/// A note or message on the client's timeline; assignee (or guest) only (C1).
pub async fn add_note(
    app: &App,
    caller: &Caller,
    id: ClientId,
    kind: &str,
    body: &str,
) -> Result<i64, AppError> {
    let actor = caller.actor()?.clone();
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 10_000 {
        return Err(AppError::field("body", "must be 1 to 10000 characters"));
    }
    if kind != "note" && kind != "message" {
        return Err(AppError::field("kind", "must be note or message"));
    }
    let now = app.now();
    let mut tx = app.db.write().await?;
    let (before, f) = load_visible(&mut tx, &actor, id, Lock::ForUpdate).await?;
    crate::auth::check(&actor, &Action::UpdateClient(&f))?;
    let first = crate::metrics::first_contact(&mut tx, &before, actor.member, now).await?;
    let eid = clients::add_event(
        &mut tx,
        NewEvent {
            account: actor.account,
            client: id,
            kind,
            actor: Some(actor.member),
            body: Some(body),
            data: None,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    app.metrics.first_contact(first, now);
    Ok(eid)
}
