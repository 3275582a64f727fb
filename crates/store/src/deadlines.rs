//! First-contact deadlines (A10): one row per lead assigned by a rule with a
//! limit, with its due time. Any node takes due rows in a write transaction
//! ([`take_due`]: `FOR UPDATE SKIP LOCKED` on PostgreSQL, the one writer on
//! SQLite), re-checks the condition there and records the outcome, so a
//! deadline fires once however many nodes run and whatever restarts.

use crate::db::{Conn, Engine};
use crate::error::StoreError;
use crate::script::Script;
use leadteam_domain::{AccountId, ClientId, MemberId, Timestamp};
use sqlx::Row;

/// A deadline to set.
#[derive(Debug, Clone)]
pub struct Deadline {
    pub client: ClientId,
    pub account: AccountId,
    /// The assignee who must make contact.
    pub member: MemberId,
    /// The rule whose limit it is (JSON `RuleRef`).
    pub rule_json: String,
    pub due_at: Timestamp,
    /// Moves made so far by reclaims.
    pub moves: i64,
    pub max_moves: i64,
    pub minutes: i64,
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<Deadline, StoreError> {
    Ok(Deadline {
        client: ClientId(r.try_get("client_id")?),
        account: AccountId(r.try_get("account_id")?),
        member: MemberId(r.try_get("member_id")?),
        rule_json: r.try_get("rule_json")?,
        due_at: Timestamp(r.try_get("due_at")?),
        moves: r.try_get("moves")?,
        max_moves: r.try_get("max_moves")?,
        minutes: r.try_get("minutes")?,
    })
}

/// Sets (or replaces) the deadlines of these clients: one multi-row
/// statement per 64 (a batch of leads writes its deadlines in one or two
/// round trips).
pub async fn set(c: &mut Conn, rows: &[Deadline]) -> Result<(), StoreError> {
    let mut s = Script::new(c);
    add(&mut s, rows);
    s.run(c).await
}

/// [`set`] as part of a [`Script`].
pub fn add(s: &mut Script, rows: &[Deadline]) {
    for chunk in rows.chunks(64) {
        let v = s.values(chunk.len(), 8);
        s.push(format!(
            "INSERT INTO contact_deadlines (client_id, account_id, member_id, rule_json, due_at, moves, max_moves, minutes) \
             VALUES {v} ON CONFLICT (client_id) DO UPDATE SET \
             member_id = excluded.member_id, rule_json = excluded.rule_json, due_at = excluded.due_at, \
             moves = excluded.moves, max_moves = excluded.max_moves, minutes = excluded.minutes"
        ));
        for d in chunk {
            s.bind(d.client.0)
                .bind(d.account.0)
                .bind(d.member.0)
                .bind(d.rule_json.as_str())
                .bind(d.due_at.0)
                .bind(d.moves)
                .bind(d.max_moves)
                .bind(d.minutes);
        }
    }
}

/// Takes up to `limit` deadlines due at `now`, oldest first, locked for the
/// caller's write transaction (other nodes skip them).
pub async fn take_due(
    c: &mut Conn,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<Deadline>, StoreError> {
    let skip = match Engine::of(c) {
        Engine::Postgres => " FOR UPDATE SKIP LOCKED",
        Engine::Sqlite => "",
    };
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT client_id, account_id, member_id, rule_json, due_at, moves, max_moves, minutes \
         FROM contact_deadlines WHERE due_at <= $1 ORDER BY due_at, client_id LIMIT $2{skip}"
    )))
    .bind(now.0)
    .bind(limit)
    .fetch_all(c)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The deadline of a client, if any.
pub async fn of_client(c: &mut Conn, client: ClientId) -> Result<Option<Deadline>, StoreError> {
    let row = sqlx::query(
        "SELECT client_id, account_id, member_id, rule_json, due_at, moves, max_moves, minutes \
         FROM contact_deadlines WHERE client_id = $1",
    )
    .bind(client.0)
    .fetch_optional(c)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The deadlines running for `member` (its first-contact clocks, D1):
/// clients still assigned to it and not yet contacted, soonest first, each
/// with the client's name.
pub async fn of_member(
    c: &mut Conn,
    member: MemberId,
) -> Result<Vec<(Deadline, String)>, StoreError> {
    let rows = sqlx::query(
        "SELECT d.client_id, d.account_id, d.member_id, d.rule_json, d.due_at, d.moves, d.max_moves, d.minutes, \
         c.name FROM contact_deadlines d JOIN clients c ON c.id = d.client_id \
         WHERE d.member_id = $1 AND c.assignee_id = d.member_id AND c.contacted_at IS NULL \
         ORDER BY d.due_at, d.client_id",
    )
    .bind(member.0)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| Ok((from_row(r)?, r.try_get("name")?)))
        .collect()
}

/// Ends the deadline of a client (contact made, or it changed hands).
pub async fn clear(c: &mut Conn, client: ClientId) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM contact_deadlines WHERE client_id = $1")
        .bind(client.0)
        .execute(c)
        .await?;
    Ok(())
}

/// Makes every deadline of `member` due now (X5: a deactivated member will
/// not make contact; its leads go on by their rule).
pub async fn hasten_of_member(
    c: &mut Conn,
    member: MemberId,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE contact_deadlines SET due_at = $2 WHERE member_id = $1 AND due_at > $2",
    )
    .bind(member.0)
    .bind(now.0)
    .execute(c)
    .await?;
    Ok(done.rows_affected())
}

/// The soonest deadline of all, for the timer's sleep.
pub async fn next_due(c: &mut Conn) -> Result<Option<Timestamp>, StoreError> {
    let t: Option<i64> = sqlx::query_scalar("SELECT MIN(due_at) FROM contact_deadlines")
        .fetch_one(c)
        .await?;
    Ok(t.map(Timestamp))
}
