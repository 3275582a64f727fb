//! Clients: adding, listing within the member's scope, the assignee-only
//! rule, claiming, assigning, bulk reassignment, deletion, delivery, guests,
//! the timeline, the team view and the team overview (C1-C9, P2, P6, P7).

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

fn snapshot(c: &ClientRow) -> Value {
    json!({"id": c.id.0, "name": c.name, "assignee": c.assignee.map(|m| m.0), "team": c.team.map(|t| t.0),
           "status": c.status, "outcome": c.outcome})
}

async fn audit_client(
    conn: &mut Conn,
    actor: &Actor,
    action: &str,
    client: ClientId,
    before: Option<Value>,
    after: Option<Value>,
    now: Timestamp,
) -> Result<(), AppError> {
    crate::trail::record_actor(conn, actor, action, "client", client.0, before, after, now).await
}

/// Loads a client the actor may see, or 404 (invisible and foreign alike).
async fn load_visible(
    conn: &mut Conn,
    actor: &Actor,
    id: ClientId,
    lock: Lock,
) -> Result<(ClientRow, ClientFacts), AppError> {
    let c = clients::get(conn, actor.account, id, lock)
        .await?
        .ok_or(AppError::NotFound("client"))?;
    let f = facts(conn, actor, &c).await?;
    decide(actor, &Action::ViewClient(&f))?;
    Ok((c, f))
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
    audit_client(
        &mut tx,
        &actor,
        "client.created",
        id,
        None,
        Some(snapshot(&c)),
        now,
    )
    .await?;
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
    Some(k)
}

/// The clients the caller may see, filtered by `view` (or, when absent, by
/// its team-view setting, C8), newest first, a page at a time.
pub async fn list(
    app: &App,
    caller: &Caller,
    q: ListQuery,
) -> Result<(Vec<ClientRow>, Option<i64>), AppError> {
    let actor = caller.actor()?.clone();
    decide(&actor, &Action::CreateClient)?; // any active member may list its own clients
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::field(
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        ));
    }
    let mut c = app.db.conn().await?;
    let kinds = match q.view.as_deref() {
        Some(v) => kinds_of(v)
            .ok_or_else(|| AppError::field("view", "must be mine, others, unassigned or all"))?,
        None => match clients::team_view(&mut c, actor.member).await? {
            Some(saved) => kinds_of(&saved).unwrap_or(Kinds::ALL),
            None => Kinds::ALL,
        },
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
    decide(&actor, &Action::UpdateClient(&f))?;
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
    audit_client(
        &mut tx,
        &actor,
        "client.updated",
        id,
        Some(snapshot(&before)),
        Some(snapshot(&after)),
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
    let (_, f) = load_visible(&mut tx, &actor, id, Lock::ForUpdate).await?;
    decide(&actor, &Action::UpdateClient(&f))?;
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
    Ok(eid)
}

/// Claims an unassigned client (C2): one conditional update; of concurrent
/// claims one wins and the others get a conflict naming the winner.
pub async fn claim(app: &App, caller: &Caller, id: ClientId) -> Result<ClientRow, AppError> {
    let actor = caller.actor()?.clone();
    let now = app.now();
    let mut c = app.db.conn().await?;
    let current = clients::get(&mut c, actor.account, id, Lock::None)
        .await?
        .ok_or(AppError::NotFound("client"))?;
    let f = facts(&mut c, &actor, &current).await?;
    drop(c);
    if let Some(owner) = current.assignee {
        // Someone was quicker: a member who may claim learns who won (C2);
        // anyone else is told nothing.
        let as_unassigned = ClientFacts {
            assignee: None,
            ..f.clone()
        };
        if decide(&actor, &Action::ClaimClient(&as_unassigned)).is_ok()
            || decide(&actor, &Action::ViewClient(&f)).is_ok()
        {
            return Err(taken(owner, &current, &actor));
        }
        return Err(AppError::NotFound("client"));
    }
    decide(&actor, &Action::ClaimClient(&f))?;
    // Claims of one client in this process take turns: once one has won,
    // the others waiting learn it without writing (the conditional update
    // below still decides between processes).
    let flight = app.claims.flight(id);
    let mut outcome = flight.lock().await;
    if let Some(won) = outcome.as_ref()
        && let Some(owner) = won.assignee
    {
        return Err(taken(owner, won, &actor));
    }
    let mut tx = app.db.write().await?;
    let claimed = clients::claim(&mut tx, actor.account, id, actor.member, now).await?;
    if claimed {
        // A plan may make claiming cost credits (B5): refused, and nothing
        // written, when the balance is short.
        let cost = leadteam_store::billing::plan(&mut tx, actor.account, Lock::None)
            .await?
            .map_or(0, |p| p.claim_cost_credits);
        if !leadteam_store::credits::charge(
            &mut tx,
            actor.account,
            actor.member,
            cost,
            "claimed a lead",
            now,
        )
        .await?
        {
            drop(tx);
            return Err(AppError::conflict(
                Some("credits"),
                format!(
                    "claiming a lead costs {cost} credits and your balance is short; ask an admin for credits"
                ),
            ));
        }
    }
    if !claimed {
        let now_row = clients::get(&mut tx, actor.account, id, Lock::None)
            .await?
            .ok_or(AppError::NotFound("client"))?;
        drop(tx);
        let err = match now_row.assignee {
            Some(owner) => taken(owner, &now_row, &actor),
            None => AppError::conflict(None, "the client changed meanwhile; try again"),
        };
        if now_row.assignee.is_some() {
            *outcome = Some(now_row);
            app.claims.land(id);
        }
        return Err(err);
    }
    event(
        &mut tx,
        actor.account,
        id,
        "claimed",
        Some(actor.member),
        None,
        None,
        now,
    )
    .await?;
    audit_client(
        &mut tx,
        &actor,
        "client.claimed",
        id,
        Some(json!({"assignee": null})),
        Some(json!({"assignee": actor.member.0})),
        now,
    )
    .await?;
    let row = clients::get(&mut tx, actor.account, id, Lock::None)
        .await?
        .ok_or(AppError::NotFound("client"))?;
    tx.commit().await?;
    *outcome = Some(row.clone());
    app.claims.land(id);
    Ok(row)
}

/// The outcome of the claims of one client, once one landed.
type Flight = std::sync::Arc<tokio::sync::Mutex<Option<ClientRow>>>;

/// Claims in flight in this process, one turn per client (see [`claim`]).
#[derive(Clone, Default)]
pub struct ClaimFlights {
    inner: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<ClientId, Flight>>>,
}

impl ClaimFlights {
    /// The turn of claims of `id` (shared by every claim waiting on it).
    fn flight(&self, id: ClientId) -> Flight {
        let mut map = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(id).or_default().clone()
    }

    /// The client is claimed: later claims find it assigned when they read it.
    fn land(&self, id: ClientId) {
        let mut map = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.remove(&id);
    }
}

fn taken(owner: MemberId, c: &ClientRow, actor: &Actor) -> AppError {
    let who = if owner == actor.member {
        "you".to_owned()
    } else {
        c.assignee_name
            .clone()
            .unwrap_or_else(|| format!("member {owner}"))
    };
    AppError::conflict(
        None,
        format!("already claimed: this client is assigned to {who}"),
    )
}

/// Loads an active member of the account as an assignment target.
async fn target(
    conn: &mut Conn,
    account: AccountId,
    to: MemberId,
    field: &str,
) -> Result<members::MemberRow, AppError> {
    let m = members::get(conn, account, to, Lock::None)
        .await?
        .ok_or_else(|| AppError::field(field, "is not a member of this account"))?;
    if m.status != MemberStatus::Active {
        return Err(AppError::field(field, "must be an active member"));
    }
    Ok(m)
}

/// Assigns or reassigns a client (C3); never back to unassigned (C4); the new
/// assignee is alerted when someone else assigned it (C7).
pub async fn assign(
    app: &App,
    caller: &Caller,
    id: ClientId,
    to: MemberId,
) -> Result<ClientRow, AppError> {
    let actor = caller.actor()?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let (before, f) = load_visible(&mut tx, &actor, id, Lock::ForUpdate).await?;
    let to_member = target(&mut tx, actor.account, to, "member_id").await?;
    decide(
        &actor,
        &Action::AssignClient {
            client: &f,
            to: &to_member.facts(),
        },
    )?;
    let mut alerts = Alerts::default();
    assign_locked(&mut tx, &actor, &before, &to_member, &mut alerts, now).await?;
    let after = clients::get(&mut tx, actor.account, id, Lock::None)
        .await?
        .ok_or(AppError::NotFound("client"))?;
    tx.commit().await?;
    alerts.publish(&app.bus);
    Ok(after)
}

/// The assignment itself, on a row already locked and decided.
async fn assign_locked(
    tx: &mut Conn,
    actor: &Actor,
    before: &ClientRow,
    to: &members::MemberRow,
    alerts: &mut Alerts,
    now: Timestamp,
) -> Result<bool, AppError> {
    if before.assignee == Some(to.id) {
        return Ok(false);
    }
    if !clients::reassign(tx, actor.account, before.id, before.assignee, to.id, now).await? {
        return Err(AppError::conflict(
            None,
            "the client was reassigned meanwhile; reload and try again",
        ));
    }
    event(
        tx,
        actor.account,
        before.id,
        "assigned",
        Some(actor.member),
        None,
        Some(json!({"from": before.assignee.map(|m| m.0), "to": to.id.0})),
        now,
    )
    .await?;
    audit_client(
        tx,
        actor,
        "client.assigned",
        before.id,
        Some(json!({"assignee": before.assignee.map(|m| m.0)})),
        Some(json!({"assignee": to.id.0})),
        now,
    )
    .await?;
    if to.id != actor.member {
        alerts
            .add(
                tx,
                actor.account,
                to.id,
                "client_assigned",
                Some(before.id),
                &format!("{} was assigned to you", before.name),
                now,
            )
            .await?;
    }
    Ok(true)
}

/// Which clients a bulk reassignment takes (C5).
#[derive(Debug, Clone)]
pub enum BulkSelection {
    Ids(Vec<ClientId>),
    AllOf(MemberId),
    AllUnassigned,
}

/// What happened to one client of a bulk reassignment.
#[derive(Debug, Clone)]
pub struct BulkResult {
    pub client: ClientId,
    /// assigned | unchanged | refused | not_found
    pub outcome: &'static str,
    pub reason: Option<String>,
}

/// Bulk reassign (C5): on ordinary lists (`team_view = false`) only one's own
/// clients may be selected; on the team view any visible client. Each client
/// is decided on its own, inside one transaction with row locks, so a
/// concurrent claim never produces two assignees.
pub async fn bulk_assign(
    app: &App,
    caller: &Caller,
    selection: BulkSelection,
    to: MemberId,
    team_view: bool,
) -> Result<Vec<BulkResult>, AppError> {
    let actor = caller.actor()?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let to_member = target(&mut tx, actor.account, to, "to").await?;
    // For "all of a member" and "all unassigned", a client must still be in
    // that pool when its turn comes (a concurrent claim takes it out).
    let (ids, pool) = match selection {
        BulkSelection::Ids(ids) => {
            if ids.is_empty() || ids.len() > 1000 {
                return Err(AppError::field(
                    "client_ids",
                    "select between 1 and 1000 clients",
                ));
            }
            (ids, None)
        }
        BulkSelection::AllOf(m) => {
            members::get(&mut tx, actor.account, m, Lock::None)
                .await?
                .ok_or_else(|| AppError::field("from_member", "is not a member of this account"))?;
            (
                clients::ids_of(&mut tx, actor.account, Some(m)).await?,
                Some(Some(m)),
            )
        }
        BulkSelection::AllUnassigned => (
            clients::ids_of(&mut tx, actor.account, None).await?,
            Some(None),
        ),
    };
    let mut out = Vec::with_capacity(ids.len());
    let mut alerts = Alerts::default();
    let mut changed = 0usize;
    for id in ids {
        let Some(before) = clients::get(&mut tx, actor.account, id, Lock::ForUpdate).await? else {
            out.push(BulkResult {
                client: id,
                outcome: "not_found",
                reason: None,
            });
            continue;
        };
        if let Some(expected) = pool
            && before.assignee != expected
        {
            out.push(BulkResult {
                client: id,
                outcome: "unchanged",
                reason: Some("it left the selection meanwhile (claimed or reassigned)".into()),
            });
            continue;
        }
        let f = facts(&mut tx, &actor, &before).await?;
        if decide(&actor, &Action::ViewClient(&f)).is_err() {
            out.push(BulkResult {
                client: id,
                outcome: "not_found",
                reason: None,
            });
            continue;
        }
        if !team_view && before.assignee != Some(actor.member) {
            out.push(BulkResult {
                client: id,
                outcome: "refused",
                reason: Some(
                    "on ordinary lists only your own clients can be reassigned; use the team view"
                        .into(),
                ),
            });
            continue;
        }
        if let Err(d) = decide(
            &actor,
            &Action::AssignClient {
                client: &f,
                to: &to_member.facts(),
            },
        ) {
            out.push(BulkResult {
                client: id,
                outcome: "refused",
                reason: Some(d.to_string()),
            });
            continue;
        }
        if assign_locked(&mut tx, &actor, &before, &to_member, &mut alerts, now).await? {
            changed += 1;
            out.push(BulkResult {
                client: id,
                outcome: "assigned",
                reason: None,
            });
        } else {
            out.push(BulkResult {
                client: id,
                outcome: "unchanged",
                reason: Some("already assigned to this member".into()),
            });
        }
    }
    let _ = changed;
    tx.commit().await?;
    alerts.publish(&app.bus);
    Ok(out)
}

/// Deletes a client assigned to oneself, with `clients.delete` (C6).
pub async fn delete(app: &App, caller: &Caller, id: ClientId) -> Result<(), AppError> {
    let actor = caller.actor()?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let (before, f) = load_visible(&mut tx, &actor, id, Lock::ForUpdate).await?;
    decide(&actor, &Action::DeleteClient(&f))?;
    clients::delete(&mut tx, id).await?;
    audit_client(
        &mut tx,
        &actor,
        "client.deleted",
        id,
        Some(snapshot(&before)),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Where a delivery goes (C9).
#[derive(Debug, Clone, Copy)]
pub enum DeliverTo {
    Member(MemberId),
    Team(TeamId),
}

/// Hands a client to a member or a team with an outcome for reporting (C9).
pub async fn deliver(
    app: &App,
    caller: &Caller,
    id: ClientId,
    to: DeliverTo,
    outcome: &str,
) -> Result<ClientRow, AppError> {
    let actor = caller.actor()?.clone();
    let outcome = outcome.trim();
    if outcome.is_empty() || outcome.chars().count() > 60 {
        return Err(AppError::field("outcome", "must be 1 to 60 characters"));
    }
    let now = app.now();
    let mut tx = app.db.write().await?;
    let (before, f) = load_visible(&mut tx, &actor, id, Lock::ForUpdate).await?;
    decide(&actor, &Action::DeliverClient(&f))?;
    let mut alerts = Alerts::default();
    let data = match to {
        DeliverTo::Member(m) => {
            let to_member = target(&mut tx, actor.account, m, "to_member").await?;
            assign_locked(&mut tx, &actor, &before, &to_member, &mut alerts, now).await?;
            json!({"to_member": m.0, "outcome": outcome})
        }
        DeliverTo::Team(t) => {
            if !team_exists(&mut tx, actor.account, t).await? {
                return Err(AppError::field("to_team", "is not a team of this account"));
            }
            clients::update(
                &mut tx,
                id,
                &ClientChanges {
                    team: Some(Some(t)),
                    ..Default::default()
                },
                now,
            )
            .await?;
            json!({"to_team": t.0, "outcome": outcome})
        }
    };
    clients::update(
        &mut tx,
        id,
        &ClientChanges {
            outcome: Some(Some(outcome.to_owned())),
            ..Default::default()
        },
        now,
    )
    .await?;
    event(
        &mut tx,
        actor.account,
        id,
        "delivered",
        Some(actor.member),
        Some(outcome),
        Some(data.clone()),
        now,
    )
    .await?;
    audit_client(
        &mut tx,
        &actor,
        "client.delivered",
        id,
        Some(snapshot(&before)),
        Some(data),
        now,
    )
    .await?;
    let after = clients::get(&mut tx, actor.account, id, Lock::None)
        .await?
        .ok_or(AppError::NotFound("client"))?;
    tx.commit().await?;
    alerts.publish(&app.bus);
    Ok(after)
}

/// Invites a Restricted member to this one client (P7); an existing member
/// of the account is simply given access to it.
pub async fn invite_guest(
    app: &App,
    caller: &Caller,
    id: ClientId,
    name: &str,
    email: &str,
) -> Result<members::MemberRow, AppError> {
    let actor = caller.actor()?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let (_, f) = load_visible(&mut tx, &actor, id, Lock::ForUpdate).await?;
    decide(&actor, &Action::InviteGuest(&f))?;
    let email_norm = Email::parse("email", email)?;
    let member = match members::by_email(&mut tx, actor.account, email_norm.as_str()).await? {
        Some(m) => m,
        None => {
            crate::members::invite_in(
                app,
                &mut tx,
                caller,
                crate::members::InviteInput {
                    name,
                    email,
                    role_id: None,
                    role_key: Some("restricted"),
                    permissions: None,
                    agent: Some(false),
                },
            )
            .await?
        }
    };
    clients::add_guest(&mut tx, id, member.id, now).await?;
    event(
        &mut tx,
        actor.account,
        id,
        "guest_added",
        Some(actor.member),
        None,
        Some(json!({"member": member.id.0})),
        now,
    )
    .await?;
    audit_client(
        &mut tx,
        &actor,
        "client.guest_added",
        id,
        None,
        Some(json!({"guest": member.id.0})),
        now,
    )
    .await?;
    tx.commit().await?;
    app.mail_queued();
    Ok(member)
}

/// The kinds a member may choose for its lists (C8); None when it sees only
/// its own clients (no setting then).
pub fn team_view_choices(scope: &ClientScope) -> Option<Vec<&'static str>> {
    let mut v = vec!["mine"];
    if scope.others != OthersScope::None {
        v.push("others");
    }
    if scope.unassigned {
        v.push("unassigned");
    }
    if v.len() == 1 { None } else { Some(v) }
}

/// The team-view setting (C8): current kinds and the choices.
pub async fn team_view(
    app: &App,
    caller: &Caller,
) -> Result<(Vec<String>, Vec<&'static str>), AppError> {
    let actor = caller.actor()?.clone();
    decide(&actor, &Action::CreateClient)?;
    let choices = team_view_choices(&client_scope(&actor)).unwrap_or_else(|| vec!["mine"]);
    let mut c = app.db.conn().await?;
    let current = clients::team_view(&mut c, actor.member)
        .await?
        .map(|s| s.split(',').map(str::to_owned).collect())
        .unwrap_or_else(|| choices.iter().map(|s| (*s).to_owned()).collect());
    Ok((current, choices))
}

pub async fn set_team_view(
    app: &App,
    caller: &Caller,
    kinds: &[String],
) -> Result<Vec<String>, AppError> {
    let actor = caller.actor()?.clone();
    decide(&actor, &Action::CreateClient)?;
    let Some(choices) = team_view_choices(&client_scope(&actor)) else {
        return Err(AppError::Denied(leadteam_domain::authz::Denied::Missing(
            leadteam_domain::authz::Permission::ClientsViewUnassigned,
        )));
    };
    if kinds.is_empty() {
        return Err(AppError::field("kinds", "choose at least one of the kinds"));
    }
    let mut chosen: Vec<&str> = Vec::new();
    for k in kinds {
        match choices.iter().find(|c| **c == k.as_str()) {
            Some(c) if !chosen.contains(c) => chosen.push(c),
            Some(_) => {}
            None => {
                return Err(AppError::field(
                    "kinds",
                    format!("{k:?} is not one of {}", choices.join(", ")),
                ));
            }
        }
    }
    let mut tx = app.db.write().await?;
    clients::set_team_view(&mut tx, actor.member, &chosen.join(",")).await?;
    tx.commit().await?;
    Ok(chosen.into_iter().map(str::to_owned).collect())
}

/// The team tab (C8): counts per member and unassigned, and outcomes (C9),
/// within the caller's scope; it ignores the team-view setting.
#[derive(Debug, Clone)]
pub struct Overview {
    pub members: Vec<(members::MemberRow, i64)>,
    pub unassigned: Option<i64>,
    pub outcomes: Vec<(String, i64)>,
}

pub async fn overview(app: &App, caller: &Caller) -> Result<Overview, AppError> {
    let actor = caller.may(&Action::ViewTeamOverview)?.clone();
    let scope = client_scope(&actor);
    let mut tx = app.db.read().await?;
    let counts = clients::counts_by_assignee(&mut tx, actor.account, &scope).await?;
    let all = members::list(&mut tx, actor.account, None).await?;
    let outcomes = clients::counts_by_outcome(&mut tx, actor.account, &scope).await?;
    let count_of = |m: Option<MemberId>| {
        counts
            .iter()
            .find(|(a, _)| *a == m)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    let show_member = |m: &members::MemberRow| match &scope.others {
        OthersScope::All => true,
        OthersScope::Teams(ts) => {
            m.id == actor.member || m.teams.iter().any(|(t, _)| ts.contains(t))
        }
        OthersScope::None => m.id == actor.member,
    };
    let members = all
        .into_iter()
        .filter(|m| m.status != MemberStatus::Invited && show_member(m))
        .map(|m| {
            let n = count_of(Some(m.id));
            (m, n)
        })
        .collect();
    Ok(Overview {
        members,
        unassigned: scope.unassigned.then(|| count_of(None)),
        outcomes,
    })
}

/// CSV of every client the caller may see (I2): RFC 4180 quoting, and cells
/// that a spreadsheet would run as a formula are neutralised.
pub async fn export_csv(app: &App, caller: &Caller) -> Result<String, AppError> {
    let actor = caller.may(&Action::ExportClients)?.clone();
    let rows = all_visible(app, &actor).await?;
    let mut out = String::from(
        "id,name,email,phone,source,status,outcome,assignee,team_id,created_at,fields\r\n",
    );
    for r in rows {
        let cells = [
            r.id.0.to_string(),
            r.name,
            r.email.unwrap_or_default(),
            r.phone.unwrap_or_default(),
            r.source,
            r.status,
            r.outcome.unwrap_or_default(),
            r.assignee_name.unwrap_or_default(),
            r.team.map(|t| t.0.to_string()).unwrap_or_default(),
            r.created_at.0.to_string(),
            r.fields.to_string(),
        ];
        let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    Ok(out)
}

/// One CSV cell: a leading = + - @ tab or CR gets a `'` so spreadsheets show
/// it as text; quotes, commas and line breaks are quoted (RFC 4180).
pub fn csv_cell(raw: &str) -> String {
    let mut s = raw.to_owned();
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        s.insert(0, '\'');
    }
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn csv_cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("=1+2"), "'=1+2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("-3"), "'-3");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(
            csv_cell("=cmd|' /C calc'!A0,x"),
            "\"'=cmd|' /C calc'!A0,x\""
        );
    }
}
