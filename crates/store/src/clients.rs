//! Clients and the one visibility filter: `ClientScope` (from
//! `leadteam_domain::authz::client_scope`) becomes the SQL of every client
//! list, count, search and export here, and nowhere else.

use crate::db::{Conn, Engine, Lock};
use crate::error::StoreError;
use crate::flag;
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
}

mod list;
use list::list_sql;

const SELECT: &str = "SELECT c.id, c.account_id, c.name, c.email, c.phone, c.source, c.source_id, c.fields_json, \
     c.status, c.outcome, c.team_id, c.assignee_id, m.name AS assignee_name, c.ever_assigned, c.routing_reason, \
     c.created_at, c.updated_at, c.assigned_at FROM clients c LEFT JOIN members m ON m.id = c.assignee_id";

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
    })
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

/// Which kinds of clients a list shows (C8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kinds {
    pub mine: bool,
    pub others: bool,
    pub unassigned: bool,
}

impl Kinds {
    pub const ALL: Kinds = Kinds {
        mine: true,
        others: true,
        unassigned: true,
    };
}

/// A list query, already checked by the use case.
#[derive(Debug, Clone)]
pub struct ListFilter {
    pub kinds: Kinds,
    pub assignee: Option<MemberId>,
    pub team: Option<TeamId>,
    pub q: Option<String>,
    /// Keyset cursor: clients with a smaller id than this.
    pub after: Option<ClientId>,
    pub limit: i64,
}

enum Bind {
    I64(i64),
    Text(String),
}

/// The SQL predicate of a scope (and of the kinds a list shows), over the
/// alias `c`. Parameters are numbered from `next`.
struct Predicate {
    sql: String,
    binds: Vec<Bind>,
}

impl Predicate {
    fn param(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("${}", self.binds.len())
    }
}

fn scope_predicate(p: &mut Predicate, account: AccountId, scope: &ClientScope, kinds: Kinds) {
    let acc = p.param(Bind::I64(account.0));
    let me = p.param(Bind::I64(scope.member.0));
    let guest = format!(
        "EXISTS (SELECT 1 FROM client_guests g WHERE g.client_id = c.id AND g.member_id = {me})"
    );
    // What the member may see at all (mirrors authz::client_visible).
    let mut visible = vec![format!("c.assignee_id = {me}"), guest.clone()];
    if scope.unassigned {
        visible.push("c.assignee_id IS NULL".to_owned());
    }
    match &scope.others {
        OthersScope::None => {}
        OthersScope::All => visible.push("c.assignee_id IS NOT NULL".to_owned()),
        OthersScope::Teams(teams) if !teams.is_empty() => {
            let ids: Vec<String> = teams.iter().map(|t| p.param(Bind::I64(t.0))).collect();
            visible.push(format!(
                "(c.assignee_id IS NOT NULL AND c.team_id IN ({}))",
                ids.join(", ")
            ));
        }
        OthersScope::Teams(_) => {}
    }
    // Which of those the list shows.
    let mut shown = Vec::new();
    if kinds.mine {
        shown.push(format!("c.assignee_id = {me}"));
        shown.push(guest);
    }
    if kinds.others {
        shown.push(format!("c.assignee_id <> {me}"));
    }
    if kinds.unassigned {
        shown.push("c.assignee_id IS NULL".to_owned());
    }
    if shown.is_empty() {
        shown.push("1 = 0".to_owned());
    }
    p.sql = format!(
        "c.account_id = {acc} AND ({}) AND ({})",
        visible.join(" OR "),
        shown.join(" OR ")
    );
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    binds: Vec<Bind>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for b in binds {
        q = match b {
            Bind::I64(v) => q.bind(v),
            Bind::Text(v) => q.bind(v),
        };
    }
    q
}

/// A page of the clients the scope lets the member see, newest first.
pub async fn list(
    c: &mut Conn,
    account: AccountId,
    scope: &ClientScope,
    f: &ListFilter,
) -> Result<Vec<ClientRow>, StoreError> {
    let (sql, binds) = list_sql(account, scope, f);
    let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), binds)
        .fetch_all(c)
        .await?;
    rows.iter().map(from_row).collect()
}

/// The plan of the `list` statement, one line per node: `EXPLAIN QUERY
/// PLAN` on SQLite, `EXPLAIN (ANALYZE, COSTS OFF)` on PostgreSQL (it runs
/// the query). For benchmarks and diagnosis.
pub async fn explain_list(
    c: &mut Conn,
    account: AccountId,
    scope: &ClientScope,
    f: &ListFilter,
) -> Result<Vec<String>, StoreError> {
    let (sql, binds) = list_sql(account, scope, f);
    match Engine::of(c) {
        Engine::Sqlite => {
            let rows = bind_all(
                sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}"))),
                binds,
            )
            .fetch_all(c)
            .await?;
            let mut depth: std::collections::HashMap<i64, usize> = Default::default();
            let mut out = Vec::new();
            for r in rows {
                let id: i64 = r.try_get(0)?;
                let parent: i64 = r.try_get(1)?;
                let detail: String = r.try_get(3)?;
                let d = depth.get(&parent).map_or(0, |d| d + 1);
                depth.insert(id, d);
                out.push(format!("{}{detail}", "  ".repeat(d)));
            }
            Ok(out)
        }
        Engine::Postgres => {
            let rows = bind_all(
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "EXPLAIN (ANALYZE, COSTS OFF) {sql}"
                ))),
                binds,
            )
            .fetch_all(c)
            .await?;
            rows.iter()
                .map(|r| r.try_get::<String, _>(0).map_err(StoreError::from))
                .collect()
        }
    }
}

/// Counts of visible clients per assignee (None = unassigned), for the team
/// overview (C8). Deliveries by outcome are counted separately.
pub async fn counts_by_assignee(
    c: &mut Conn,
    account: AccountId,
    scope: &ClientScope,
) -> Result<Vec<(Option<MemberId>, i64)>, StoreError> {
    let mut p = Predicate {
        sql: String::new(),
        binds: Vec::new(),
    };
    scope_predicate(&mut p, account, scope, Kinds::ALL);
    let sql = format!(
        "SELECT c.assignee_id, COUNT(*) AS n FROM clients c WHERE {} GROUP BY c.assignee_id",
        p.sql
    );
    let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), p.binds)
        .fetch_all(c)
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<Option<i64>, _>("assignee_id")?.map(MemberId),
                r.try_get("n")?,
            ))
        })
        .collect()
}

/// Counts of visible delivered clients per outcome (C9).
pub async fn counts_by_outcome(
    c: &mut Conn,
    account: AccountId,
    scope: &ClientScope,
) -> Result<Vec<(String, i64)>, StoreError> {
    let mut p = Predicate {
        sql: String::new(),
        binds: Vec::new(),
    };
    scope_predicate(&mut p, account, scope, Kinds::ALL);
    let sql = format!(
        "SELECT c.outcome, COUNT(*) AS n FROM clients c WHERE {} AND c.outcome IS NOT NULL GROUP BY c.outcome ORDER BY c.outcome",
        p.sql
    );
    let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), p.binds)
        .fetch_all(c)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("outcome")?, r.try_get("n")?)))
        .collect()
}

/// Ids of other visible clients with the same email or phone (flagged, not refused).
pub async fn visible_duplicates(
    c: &mut Conn,
    account: AccountId,
    scope: &ClientScope,
    email: Option<&str>,
    phone: Option<&str>,
    exclude: ClientId,
) -> Result<Vec<ClientId>, StoreError> {
    if email.is_none() && phone.is_none() {
        return Ok(Vec::new());
    }
    let mut p = Predicate {
        sql: String::new(),
        binds: Vec::new(),
    };
    scope_predicate(&mut p, account, scope, Kinds::ALL);
    let e = p.param(Bind::Text(email.unwrap_or("").to_owned()));
    let ph = p.param(Bind::Text(phone.unwrap_or("").to_owned()));
    let x = p.param(Bind::I64(exclude.0));
    let sql = format!(
        "SELECT c.id FROM clients c WHERE {} AND c.id <> {x} AND ((c.email = {e} AND {e} <> '') OR (c.phone = {ph} AND {ph} <> '')) ORDER BY c.id LIMIT 20",
        p.sql
    );
    let ids: Vec<i64> = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), p.binds)
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>("id"))
        .collect::<Result<_, _>>()?;
    Ok(ids.into_iter().map(ClientId).collect())
}

/// Claims an unassigned client: one conditional update, so of many
/// concurrent claims exactly one wins (C2). False when it was taken.
pub async fn claim(
    c: &mut Conn,
    account: AccountId,
    id: ClientId,
    member: MemberId,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "UPDATE clients SET assignee_id = $1, ever_assigned = 1, assigned_at = $2, updated_at = $2 \
         WHERE id = $3 AND account_id = $4 AND assignee_id IS NULL",
    )
    .bind(member.0)
    .bind(now.0)
    .bind(id.0)
    .bind(account.0)
    .execute(c)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Assigns a client whose current assignee is `expected` (checked in the
/// same statement, so a concurrent change is never overwritten).
pub async fn reassign(
    c: &mut Conn,
    account: AccountId,
    id: ClientId,
    expected: Option<MemberId>,
    to: MemberId,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "UPDATE clients SET assignee_id = $1, ever_assigned = 1, assigned_at = $2, updated_at = $2 \
         WHERE id = $3 AND account_id = $4 AND ((assignee_id IS NULL AND $5 = -1) OR assignee_id = $5)",
    )
    .bind(to.0)
    .bind(now.0)
    .bind(id.0)
    .bind(account.0)
    .bind(expected.map(|m| m.0).unwrap_or(-1))
    .execute(c)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Contact details and state an assignee edits.
#[derive(Debug, Default)]
pub struct ClientChanges {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub fields: Option<serde_json::Value>,
    pub status: Option<String>,
    pub outcome: Option<Option<String>>,
    pub team: Option<Option<TeamId>>,
}

pub async fn update(
    c: &mut Conn,
    id: ClientId,
    ch: &ClientChanges,
    now: Timestamp,
) -> Result<(), StoreError> {
    let row = sqlx::query("SELECT name, email, phone, fields_json, status, outcome, team_id FROM clients WHERE id = $1")
        .bind(id.0)
        .fetch_one(&mut *c)
        .await?;
    let name: String = ch.name.clone().map_or_else(|| row.try_get("name"), Ok)?;
    let email: Option<String> = ch.email.clone().map_or_else(|| row.try_get("email"), Ok)?;
    let phone: Option<String> = ch.phone.clone().map_or_else(|| row.try_get("phone"), Ok)?;
    let fields: String = match &ch.fields {
        Some(f) => f.to_string(),
        None => row.try_get("fields_json")?,
    };
    let status: String = ch
        .status
        .clone()
        .map_or_else(|| row.try_get("status"), Ok)?;
    let outcome: Option<String> = ch
        .outcome
        .clone()
        .map_or_else(|| row.try_get("outcome"), Ok)?;
    let team: Option<i64> = match ch.team {
        Some(t) => t.map(|t| t.0),
        None => row.try_get("team_id")?,
    };
    sqlx::query(
        "UPDATE clients SET name = $1, email = $2, phone = $3, fields_json = $4, status = $5, outcome = $6, team_id = $7, updated_at = $8 WHERE id = $9",
    )
    .bind(name)
    .bind(email)
    .bind(phone)
    .bind(fields)
    .bind(status)
    .bind(outcome)
    .bind(team)
    .bind(now.0)
    .bind(id.0)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn delete(c: &mut Conn, id: ClientId) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM clients WHERE id = $1")
        .bind(id.0)
        .execute(c)
        .await?;
    Ok(())
}

/// Moves every client of `from` to `to` (member removal, M7); returns the ids.
pub async fn move_all(
    c: &mut Conn,
    account: AccountId,
    from: MemberId,
    to: MemberId,
    now: Timestamp,
) -> Result<Vec<ClientId>, StoreError> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "UPDATE clients SET assignee_id = $1, assigned_at = $2, updated_at = $2 WHERE account_id = $3 AND assignee_id = $4 RETURNING id",
    )
    .bind(to.0)
    .bind(now.0)
    .bind(account.0)
    .bind(from.0)
    .fetch_all(c)
    .await?;
    Ok(ids.into_iter().map(ClientId).collect())
}

/// Deletes every client of a member (member removal with "delete", M7).
pub async fn delete_all_of(
    c: &mut Conn,
    account: AccountId,
    member: MemberId,
) -> Result<u64, StoreError> {
    let n = sqlx::query("DELETE FROM clients WHERE account_id = $1 AND assignee_id = $2")
        .bind(account.0)
        .bind(member.0)
        .execute(c)
        .await?
        .rows_affected();
    Ok(n)
}

/// Ids of every client currently assigned to `member`, or unassigned when None.
pub async fn ids_of(
    c: &mut Conn,
    account: AccountId,
    member: Option<MemberId>,
) -> Result<Vec<ClientId>, StoreError> {
    let ids: Vec<i64> =
        match member {
            Some(m) => {
                sqlx::query_scalar(
                    "SELECT id FROM clients WHERE account_id = $1 AND assignee_id = $2 ORDER BY id",
                )
                .bind(account.0)
                .bind(m.0)
                .fetch_all(c)
                .await?
            }
            None => sqlx::query_scalar(
                "SELECT id FROM clients WHERE account_id = $1 AND assignee_id IS NULL ORDER BY id",
            )
            .bind(account.0)
            .fetch_all(c)
            .await?,
        };
    Ok(ids.into_iter().map(ClientId).collect())
}

/// One entry of a client's timeline.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub id: i64,
    pub kind: String,
    pub actor: Option<MemberId>,
    pub actor_name: Option<String>,
    pub body: Option<String>,
    pub data: Option<serde_json::Value>,
    pub at: Timestamp,
}

pub struct NewEvent<'a> {
    pub account: AccountId,
    pub client: ClientId,
    pub kind: &'a str,
    pub actor: Option<MemberId>,
    pub body: Option<&'a str>,
    pub data: Option<serde_json::Value>,
}

pub async fn add_event(c: &mut Conn, e: NewEvent<'_>, now: Timestamp) -> Result<i64, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO client_events (account_id, client_id, kind, actor_member_id, body, data_json, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(e.account.0)
    .bind(e.client.0)
    .bind(e.kind)
    .bind(e.actor.map(|m| m.0))
    .bind(e.body)
    .bind(e.data.map(|d| d.to_string()))
    .bind(now.0)
    .fetch_one(c)
    .await?;
    Ok(id)
}

pub async fn events(c: &mut Conn, client: ClientId) -> Result<Vec<EventRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT e.id, e.kind, e.actor_member_id, m.name AS actor_name, e.body, e.data_json, e.at \
         FROM client_events e LEFT JOIN members m ON m.id = e.actor_member_id WHERE e.client_id = $1 ORDER BY e.id",
    )
    .bind(client.0)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            let data: Option<String> = r.try_get("data_json")?;
            Ok(EventRow {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                actor: r
                    .try_get::<Option<i64>, _>("actor_member_id")?
                    .map(MemberId),
                actor_name: r.try_get("actor_name")?,
                body: r.try_get("body")?,
                data: data.and_then(|d| serde_json::from_str(&d).ok()),
                at: Timestamp(r.try_get("at")?),
            })
        })
        .collect()
}

/// The team-view setting of a member (C8): a comma list of kinds, or None.
pub async fn team_view(c: &mut Conn, member: MemberId) -> Result<Option<String>, StoreError> {
    let v: Option<Option<String>> =
        sqlx::query_scalar("SELECT team_view FROM members WHERE id = $1")
            .bind(member.0)
            .fetch_optional(c)
            .await?;
    Ok(v.flatten())
}

pub async fn set_team_view(c: &mut Conn, member: MemberId, kinds: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE members SET team_view = $1 WHERE id = $2")
        .bind(kinds)
        .bind(member.0)
        .execute(c)
        .await?;
    Ok(())
}
