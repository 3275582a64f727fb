//! Bulk statements of lead intake: a batch of leads is looked up, stored,
//! logged and announced with a handful of statements whatever its size, in
//! the one transaction of the batch.
//!
//! The ids of new leads are drawn before they are inserted (see
//! [`crate::ids::allocate`]) and written with each row, so each id is known
//! to belong to its row; nothing assumes in which order an engine numbers
//! the rows of a multi-row INSERT.

use crate::script::Script;
use crate::{Conn, Engine, StoreError};
use leadteam_domain::{AccountId, ClientId, MemberId, Timestamp};
use sqlx::Row;
use std::collections::HashMap;

/// Rows per multi-row INSERT (at most; a batch's last statement has the
/// rest). One statement per 64 rows costs fewer round trips than cutting a
/// batch into a few cached shapes (measured slower on PostgreSQL, where a
/// round trip costs more than planning the odd-sized statement).
pub(crate) const CHUNK: usize = 64;

/// The sizes an IN list is padded to (by repeating a value), so lookups
/// come in a few shapes that stay prepared.
const SIZES: [usize; 4] = [64, 16, 4, 1];

/// The size of an IN list of `n` values: the next of [`SIZES`] (the list is
/// padded by repeating a value), for the same reason.
fn padded(n: usize) -> usize {
    SIZES.iter().rev().copied().find(|s| *s >= n).unwrap_or(n)
}

/// The placeholder of the `n`-th parameter (from 1) of a statement whose
/// parameters are all written by these helpers, in order: `$n` on
/// PostgreSQL, `?` on SQLite. (sqlx finds a named SQLite parameter's place
/// by its name, and SQLite looks a name up by walking its list of names: n
/// named parameters cost n² steps to bind — a multi-row INSERT of 64 leads
/// has 1,088. Anonymous ones are bound in order: issue 19.)
fn push_placeholder(s: &mut String, engine: Engine, n: usize) {
    match engine {
        Engine::Sqlite => s.push('?'),
        Engine::Postgres => {
            s.push('$');
            s.push_str(&n.to_string());
        }
    }
}

/// `($first, ..., $cols), (...)` for `rows` rows, numbered from `first`
/// (on SQLite `(?, ..., ?)`): see [`Script::values`].
pub(crate) fn values_from(engine: Engine, first: usize, rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            push_placeholder(&mut s, engine, first + r * cols + c);
        }
        s.push(')');
    }
    s
}

/// `$1, ..., $n` (on SQLite `?, ..., ?`): the statement's only parameters.
fn list(engine: Engine, n: usize) -> String {
    let mut s = String::with_capacity(n * 4);
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        push_placeholder(&mut s, engine, i + 1);
    }
    s
}

/// The clients already stored for these (source, idempotency key) pairs.
pub async fn clients_of_keys(
    c: &mut Conn,
    pairs: &[(i64, &str)],
) -> Result<HashMap<(i64, String), ClientId>, StoreError> {
    lookup(
        c,
        pairs,
        "idempotency_keys",
        "source_id",
        "key",
        "client_id",
    )
    .await
}

/// The clients already stored for these (source, source's lead id) pairs.
pub async fn clients_of_source_leads(
    c: &mut Conn,
    pairs: &[(i64, &str)],
) -> Result<HashMap<(i64, String), ClientId>, StoreError> {
    lookup(c, pairs, "clients", "source_id", "source_lead_id", "id").await
}

/// `(CAST($1 AS BIGINT), CAST($2 AS TEXT)), ...` for `rows` pairs (on
/// SQLite with `?`): the statement's only parameters.
fn pair_values(engine: Engine, rows: usize) -> String {
    let mut s = String::with_capacity(rows * 40);
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push_str("(CAST(");
        push_placeholder(&mut s, engine, 2 * r + 1);
        s.push_str(" AS BIGINT), CAST(");
        push_placeholder(&mut s, engine, 2 * r + 2);
        s.push_str(" AS TEXT))");
    }
    s
}

/// Looks the batch's pairs up as a join of the table against the pairs
/// themselves, so each pair is one probe of the (source, key) index on both
/// engines. (Written as `source IN (...) AND key IN (...)`, PostgreSQL's
/// generic plan used the source column alone and filtered thousands of
/// rows per batch once a source had a history: issue 19.) The pairs are
/// padded to a few sizes (repeating the last) so the statement keeps a few
/// prepared shapes.
async fn lookup(
    c: &mut Conn,
    pairs: &[(i64, &str)],
    table: &str,
    source_col: &str,
    key_col: &str,
    id_col: &str,
) -> Result<HashMap<(i64, String), ClientId>, StoreError> {
    let mut out = HashMap::new();
    for chunk in pairs.chunks(CHUNK) {
        let n = padded(chunk.len());
        let sql = format!(
            "WITH v(s, k) AS (VALUES {}) SELECT v.s AS s, v.k AS k, t.{id_col} AS id \
             FROM v JOIN {table} t ON t.{source_col} = v.s AND t.{key_col} = v.k",
            pair_values(Engine::of(c), n)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for i in 0..n {
            let (source, key) = chunk[i.min(chunk.len() - 1)];
            q = q.bind(source).bind(key);
        }
        for r in q.fetch_all(&mut *c).await? {
            let key = (r.try_get::<i64, _>("s")?, r.try_get::<String, _>("k")?);
            out.insert(key, ClientId(r.try_get("id")?));
        }
    }
    Ok(out)
}

/// The assignee and routing reason of each client.
pub async fn routing_of(
    c: &mut Conn,
    ids: &[ClientId],
) -> Result<HashMap<ClientId, (Option<MemberId>, Option<String>)>, StoreError> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let n = padded(chunk.len());
        let sql = format!(
            "SELECT id, assignee_id, routing_reason FROM clients WHERE id IN ({})",
            list(Engine::of(c), n)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for i in 0..n {
            q = q.bind(chunk[i.min(chunk.len() - 1)].0);
        }
        for r in q.fetch_all(&mut *c).await? {
            out.insert(
                ClientId(r.try_get("id")?),
                (
                    r.try_get::<Option<i64>, _>("assignee_id")?.map(MemberId),
                    r.try_get("routing_reason")?,
                ),
            );
        }
    }
    Ok(out)
}

/// One routed lead to store.
#[derive(Debug, Clone)]
pub struct LeadRow {
    pub account: AccountId,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub source: &'static str,
    pub source_id: i64,
    pub source_lead_id: Option<String>,
    pub fields_json: String,
    pub assignee: Option<MemberId>,
    pub reason: String,
    /// The decision with everyone considered (A12), JSON.
    pub routing_json: String,
    /// The rule that will assign it once someone frees up (A11), JSON; set
    /// when nobody could take it.
    pub waiting_rule: Option<String>,
}

/// Adds the leads to `s`, each with its id (drawn with
/// [`crate::ids::allocate_many`]; `ids` in the order of `rows`).
pub fn add_leads(s: &mut Script, rows: &[LeadRow], ids: &[ClientId], now: Timestamp) {
    for (chunk, chunk_ids) in rows.chunks(CHUNK).zip(ids.chunks(CHUNK)) {
        let v = s.values(chunk.len(), 17);
        s.push(format!(
            "INSERT INTO clients (id, account_id, name, email, phone, source, source_id, source_lead_id, fields_json, \
             assignee_id, ever_assigned, routing_reason, created_at, updated_at, assigned_at, routing_json, waiting_rule) VALUES {v}"
        ));
        for (r, id) in chunk.iter().zip(chunk_ids) {
            s.bind(id.0)
                .bind(r.account.0)
                .bind(r.name.as_str())
                .bind(r.email.as_deref())
                .bind(r.phone.as_deref())
                .bind(r.source)
                .bind(r.source_id)
                .bind(r.source_lead_id.as_deref())
                .bind(r.fields_json.as_str())
                .bind(r.assignee.map(|m| m.0))
                .bind(i64::from(r.assignee.is_some()))
                .bind(r.reason.as_str())
                .bind(now.0)
                .bind(now.0)
                .bind(r.assignee.map(|_| now.0))
                .bind(r.routing_json.as_str())
                .bind(r.waiting_rule.as_deref());
        }
    }
}

/// Adds idempotency keys to `s`. A key another delivery recorded since it
/// was looked up fails the script (a unique violation): the caller stores
/// that lead again, alone, and finds it stored.
pub fn add_keys(s: &mut Script, rows: &[(i64, &str, ClientId)], now: Timestamp) {
    for chunk in rows.chunks(CHUNK) {
        let v = s.values(chunk.len(), 4);
        s.push(format!(
            "INSERT INTO idempotency_keys (source_id, key, client_id, created_at) VALUES {v}"
        ));
        for (source, key, id) in chunk {
            s.bind(*source).bind(*key).bind(id.0).bind(now.0);
        }
    }
}

/// One timeline event of a new lead.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub account: AccountId,
    pub client: ClientId,
    pub kind: &'static str,
    pub body: String,
    pub data_json: String,
}

/// Adds timeline events to `s`.
pub fn add_events(s: &mut Script, rows: &[EventRow], now: Timestamp) {
    for chunk in rows.chunks(CHUNK) {
        let v = s.values(chunk.len(), 7);
        s.push(format!(
            "INSERT INTO client_events (account_id, client_id, kind, actor_member_id, body, data_json, at) VALUES {v}"
        ));
        for e in chunk {
            s.bind(e.account.0)
                .bind(e.client.0)
                .bind(e.kind)
                .bind(None::<i64>)
                .bind(e.body.as_str())
                .bind(e.data_json.as_str())
                .bind(now.0);
        }
    }
}

/// One audit row written by the system (no actor).
#[derive(Debug, Clone)]
pub struct SystemAudit {
    pub account: AccountId,
    pub action: &'static str,
    pub target_kind: &'static str,
    pub target_id: i64,
    pub after_json: String,
}

pub async fn insert_audit(
    c: &mut Conn,
    rows: &[SystemAudit],
    now: Timestamp,
) -> Result<(), StoreError> {
    let mut s = Script::new(c);
    add_audit(&mut s, rows, now);
    s.run(c).await
}

/// Adds audit rows written by the system to `s`.
pub fn add_audit(s: &mut Script, rows: &[SystemAudit], now: Timestamp) {
    for chunk in rows.chunks(CHUNK) {
        let v = s.values(chunk.len(), 9);
        s.push(format!(
            "INSERT INTO audit_log (account_id, actor_user_id, actor_member_id, action, target_kind, target_id, before_json, after_json, at) VALUES {v}"
        ));
        for a in chunk {
            s.bind(a.account.0)
                .bind(None::<i64>)
                .bind(None::<i64>)
                .bind(a.action)
                .bind(a.target_kind)
                .bind(a.target_id)
                .bind(None::<String>)
                .bind(a.after_json.as_str())
                .bind(now.0);
        }
    }
}

/// One notification to store.
#[derive(Debug, Clone)]
pub struct NotificationRow {
    pub account: AccountId,
    pub member: MemberId,
    pub kind: &'static str,
    pub client: Option<ClientId>,
    pub body: String,
}

/// Adds the notifications to `s`, each with its id (drawn with
/// [`crate::ids::allocate_many`]; `ids` in the order of `rows`).
pub fn add_notifications(s: &mut Script, rows: &[NotificationRow], ids: &[i64], now: Timestamp) {
    for (chunk, chunk_ids) in rows.chunks(CHUNK).zip(ids.chunks(CHUNK)) {
        let v = s.values(chunk.len(), 7);
        s.push(format!(
            "INSERT INTO notifications (id, account_id, member_id, kind, client_id, body, created_at) VALUES {v}"
        ));
        for (n, id) in chunk.iter().zip(chunk_ids) {
            s.bind(*id)
                .bind(n.account.0)
                .bind(n.member.0)
                .bind(n.kind)
                .bind(n.client.map(|c| c.0))
                .bind(n.body.as_str())
                .bind(now.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{list, pair_values, values_from};
    use crate::Engine;

    #[test]
    fn in_lists_are_padded_to_a_few_sizes() {
        assert_eq!(super::padded(3), 4);
        assert_eq!(super::padded(17), 64);
        assert_eq!(super::padded(1), 1);
    }

    #[test]
    fn placeholders_are_numbered_on_postgres_and_anonymous_on_sqlite() {
        assert_eq!(values_from(Engine::Postgres, 1, 2, 2), "($1, $2), ($3, $4)");
        assert_eq!(values_from(Engine::Postgres, 3, 1, 2), "($3, $4)");
        assert_eq!(values_from(Engine::Sqlite, 1, 2, 2), "(?, ?), (?, ?)");
        assert_eq!(list(Engine::Postgres, 3), "$1, $2, $3");
        assert_eq!(list(Engine::Sqlite, 3), "?, ?, ?");
        assert_eq!(
            pair_values(Engine::Postgres, 2),
            "(CAST($1 AS BIGINT), CAST($2 AS TEXT)), (CAST($3 AS BIGINT), CAST($4 AS TEXT))"
        );
        assert_eq!(
            pair_values(Engine::Sqlite, 1),
            "(CAST(? AS BIGINT), CAST(? AS TEXT))"
        );
    }
}
