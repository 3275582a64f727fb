//! Clients and the one visibility filter: `ClientScope` (from
//! `leadteam_domain::authz::client_scope`) becomes the SQL of every client
//! list, count, search and export here, and nowhere else.

mod assign;
mod events;
mod scope;

pub use assign::*;
pub use events::*;
pub use scope::*;

use crate::db::{Conn, Engine, Lock};
use crate::error::StoreError;
use crate::flag;
use crate::script::Script;
use leadteam_domain::authz::{ClientScope, OthersScope};
use leadteam_domain::{AccountId, ClientId, MemberId, TeamId, Timestamp};
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Debug, Clone)]
pub struct ClientRow {
    pub id: ClientId,
    pub account: AccountId,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub source: String,
    pub source_id: Option<i64>,
    pub fields: serde_json::Value,
    pub status: String,
    pub outcome: Option<String>,
    pub team: Option<TeamId>,
    pub assignee: Option<MemberId>,
    pub assignee_name: Option<String>,
    pub ever_assigned: bool,
    pub routing_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub assigned_at: Option<Timestamp>,
    /// First contact by its current assignee since it came to it (A10).
    pub contacted_at: Option<Timestamp>,
    /// First contact ever (D2).
    pub first_contact_at: Option<Timestamp>,
    /// Waiting in the backlog because nobody could take it (A11).
    pub waiting: bool,
}

mod list;
use list::list_sql;

/// The columns `from_row` reads (macros, so that `SELECT` is one literal).
macro_rules! columns {
    () => {
        "SELECT c.id, c.account_id, c.name, c.email, c.phone, c.source, c.source_id, c.fields_json, \
         c.status, c.outcome, c.team_id, c.assignee_id, m.name AS assignee_name, c.ever_assigned, \
         c.routing_reason, c.created_at, c.updated_at, c.assigned_at, c.contacted_at, c.first_contact_at, \
         CASE WHEN c.waiting_rule IS NULL THEN 0 ELSE 1 END AS waiting"
    };
}

macro_rules! from_clients {
    () => {
        " FROM clients c LEFT JOIN members m ON m.id = c.assignee_id"
    };
}

const COLUMNS: &str = columns!();
const FROM: &str = from_clients!();
const SELECT: &str = concat!(columns!(), from_clients!());

fn from_row(r: &AnyRow) -> Result<ClientRow, StoreError> {
    let fields: String = r.try_get("fields_json")?;
    Ok(ClientRow {
        id: ClientId(r.try_get("id")?),
        account: AccountId(r.try_get("account_id")?),
        name: r.try_get("name")?,
        email: r.try_get("email")?,
        phone: r.try_get("phone")?,
        source: r.try_get("source")?,
        source_id: r.try_get("source_id")?,
        fields: serde_json::from_str(&fields)
            .unwrap_or(serde_json::Value::Object(Default::default())),
        status: r.try_get("status")?,
        outcome: r.try_get("outcome")?,
        team: r.try_get::<Option<i64>, _>("team_id")?.map(TeamId),
        assignee: r.try_get::<Option<i64>, _>("assignee_id")?.map(MemberId),
        assignee_name: r.try_get("assignee_name")?,
        ever_assigned: flag(r.try_get("ever_assigned")?),
        routing_reason: r.try_get("routing_reason")?,
        created_at: Timestamp(r.try_get("created_at")?),
        updated_at: Timestamp(r.try_get("updated_at")?),
        assigned_at: r.try_get::<Option<i64>, _>("assigned_at")?.map(Timestamp),
        contacted_at: r.try_get::<Option<i64>, _>("contacted_at")?.map(Timestamp),
        first_contact_at: r
            .try_get::<Option<i64>, _>("first_contact_at")?
            .map(Timestamp),
        waiting: flag(r.try_get("waiting")?),
    })
}

/// A page of `select` (written with [`SELECT`]'s columns) as one SQLite
/// value: a JSON array of the rows, in the page's order, each the array of
/// its columns in two parts (serde reads tuples of up to 16); the custom
/// fields as their text, read as the row reader reads them. SQLite runs a
/// statement on the connection's worker thread and hands each row across to
/// the async task, a thread switch each, then to `AnyRow`, a copy of every
/// value; a page of 50 rows is one value instead (issue 19). PostgreSQL
/// sends the rows in one answer already: built there with `json_agg`, the
/// page was no faster.
fn page_as_json(select: &str) -> String {
    format!(
        "SELECT json_group_array(json_array(\
           json_array(id, account_id, name, email, phone, source, source_id, fields_json, \
             status, outcome, team_id), \
           json_array(assignee_id, assignee_name, ever_assigned, routing_reason, created_at, \
             updated_at, assigned_at, contacted_at, first_contact_at, waiting)) \
         ORDER BY id DESC) FROM ({select})"
    )
}

type JsonHead = (
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<i64>,
    String,
    String,
    Option<String>,
    Option<i64>,
);
type JsonTail = (
    Option<i64>,
    Option<String>,
    i64,
    Option<String>,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    i64,
);

/// The rows of a page read with [`page_as_json`].
fn from_json_page(page: &str) -> Result<Vec<ClientRow>, StoreError> {
    let rows: Vec<(JsonHead, JsonTail)> =
        serde_json::from_str(page).map_err(|e| StoreError::Db(sqlx::Error::Decode(Box::new(e))))?;
    Ok(rows
        .into_iter()
        .map(|(h, t)| ClientRow {
            id: ClientId(h.0),
            account: AccountId(h.1),
            name: h.2,
            email: h.3,
            phone: h.4,
            source: h.5,
            source_id: h.6,
            fields: serde_json::from_str(&h.7)
                .unwrap_or(serde_json::Value::Object(Default::default())),
            status: h.8,
            outcome: h.9,
            team: h.10.map(TeamId),
            assignee: t.0.map(MemberId),
            assignee_name: t.1,
            ever_assigned: flag(t.2),
            routing_reason: t.3,
            created_at: Timestamp(t.4),
            updated_at: Timestamp(t.5),
            assigned_at: t.6.map(Timestamp),
            contacted_at: t.7.map(Timestamp),
            first_contact_at: t.8.map(Timestamp),
            waiting: flag(t.9),
        })
        .collect())
}

/// A new client.
#[derive(Debug, Clone)]
pub struct NewClient<'a> {
    pub account: AccountId,
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub source: &'a str,
    pub source_id: Option<i64>,
    pub source_lead_id: Option<&'a str>,
    pub fields: &'a serde_json::Value,
    pub team: Option<TeamId>,
    pub assignee: Option<MemberId>,
    pub routing_reason: Option<&'a str>,
    pub created_by: Option<MemberId>,
}

pub async fn insert(
    c: &mut Conn,
    n: NewClient<'_>,
    now: Timestamp,
) -> Result<ClientId, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO clients (account_id, name, email, phone, source, source_id, source_lead_id, fields_json, team_id, \
         assignee_id, ever_assigned, routing_reason, created_by, created_at, updated_at, assigned_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15) RETURNING id",
    )
    .bind(n.account.0)
    .bind(n.name)
    .bind(n.email)
    .bind(n.phone)
    .bind(n.source)
    .bind(n.source_id)
    .bind(n.source_lead_id)
    .bind(n.fields.to_string())
    .bind(n.team.map(|t| t.0))
    .bind(n.assignee.map(|m| m.0))
    .bind(i64::from(n.assignee.is_some()))
    .bind(n.routing_reason)
    .bind(n.created_by.map(|m| m.0))
    .bind(now.0)
    .bind(n.assignee.map(|_| now.0))
    .fetch_one(c)
    .await?;
    Ok(ClientId(id))
}

/// One client of the account (a foreign id is not found); `lock` in write
/// transactions that decide on the row.
pub async fn get(
    c: &mut Conn,
    account: AccountId,
    id: ClientId,
    lock: Lock,
) -> Result<Option<ClientRow>, StoreError> {
    let lock = lock.clause_of(c, "c");
    let sql = format!("{SELECT} WHERE c.account_id = $1 AND c.id = $2{lock}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account.0)
        .bind(id.0)
        .fetch_optional(c)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// One client of the account, with whether `member` is one of its guests
/// (P7), in one statement: what a permission decision on it needs.
pub async fn get_for(
    c: &mut Conn,
    account: AccountId,
    id: ClientId,
    member: MemberId,
    lock: Lock,
) -> Result<Option<(ClientRow, bool)>, StoreError> {
    let lock = lock.clause_of(c, "c");
    let sql = format!(
        "{COLUMNS}, CASE WHEN EXISTS (SELECT 1 FROM client_guests g \
         WHERE g.client_id = c.id AND g.member_id = $3) THEN 1 ELSE 0 END AS guest\
         {FROM} WHERE c.account_id = $1 AND c.id = $2{lock}"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account.0)
        .bind(id.0)
        .bind(member.0)
        .fetch_optional(c)
        .await?;
    row.map(|r| Ok((from_row(&r)?, flag(r.try_get("guest")?))))
        .transpose()
}

/// One client of the account with every guest of it (P7), in one
/// statement: what the decision of each member on it needs.
pub async fn get_with_guests(
    c: &mut Conn,
    account: AccountId,
    id: ClientId,
) -> Result<Option<(ClientRow, Vec<MemberId>)>, StoreError> {
    let rows = sqlx::query(concat!(
        columns!(),
        ", g.member_id AS guest",
        from_clients!(),
        " LEFT JOIN client_guests g ON g.client_id = c.id \
         WHERE c.account_id = $1 AND c.id = $2 ORDER BY g.member_id"
    ))
    .bind(account.0)
    .bind(id.0)
    .fetch_all(c)
    .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let guests = rows
        .iter()
        .filter_map(|r| r.try_get::<Option<i64>, _>("guest").transpose())
        .map(|g| g.map(MemberId))
        .collect::<Result<_, _>>()?;
    Ok(Some((from_row(first)?, guests)))
}

/// How many clients `member` is a guest of (P7).
pub async fn guest_count(c: &mut Conn, member: MemberId) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM client_guests WHERE member_id = $1")
        .bind(member.0)
        .fetch_one(c)
        .await?;
    Ok(n.max(0) as u64)
}

/// Of these clients, those `member` is a guest of (one statement).
pub async fn guest_of(
    c: &mut Conn,
    member: MemberId,
    clients: &[ClientId],
) -> Result<std::collections::HashSet<ClientId>, StoreError> {
    if clients.is_empty() {
        return Ok(Default::default());
    }
    let list: Vec<String> = clients.iter().map(|c| c.0.to_string()).collect();
    let ids: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT client_id FROM client_guests WHERE member_id = $1 AND client_id IN ({})",
        list.join(", ")
    )))
    .bind(member.0)
    .fetch_all(c)
    .await?;
    Ok(ids.into_iter().map(ClientId).collect())
}

pub async fn is_guest(
    c: &mut Conn,
    client: ClientId,
    member: MemberId,
) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM client_guests WHERE client_id = $1 AND member_id = $2",
    )
    .bind(client.0)
    .bind(member.0)
    .fetch_one(c)
    .await?;
    Ok(n > 0)
}

/// Ends `member`'s access to `client` as a guest (P7); false when it was
/// not one.
pub async fn remove_guest(
    c: &mut Conn,
    client: ClientId,
    member: MemberId,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM client_guests WHERE client_id = $1 AND member_id = $2")
        .bind(client.0)
        .bind(member.0)
        .execute(c)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The guests of a client (P7): member and name, in the order they came.
pub async fn guests_of(
    c: &mut Conn,
    client: ClientId,
) -> Result<Vec<(MemberId, String)>, StoreError> {
    let rows = sqlx::query(
        "SELECT m.id, m.name FROM client_guests g JOIN members m ON m.id = g.member_id \
         WHERE g.client_id = $1 ORDER BY g.added_at, m.id",
    )
    .bind(client.0)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| Ok((MemberId(r.try_get("id")?), r.try_get("name")?)))
        .collect()
}

pub async fn add_guest(
    c: &mut Conn,
    client: ClientId,
    member: MemberId,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO client_guests (client_id, member_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(client.0)
        .bind(member.0)
        .bind(now.0)
        .execute(c)
        .await?;
    Ok(())
}
