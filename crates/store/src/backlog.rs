//! The backlog (A11): leads left unassigned because nobody could take them
//! keep the rule that will assign them (`clients.waiting_rule`) until
//! someone frees up; and the once-per-burst alert of the routing admins
//! (A14). Automatic re-decisions of a lead (the drain, a reclaim) are
//! written here too, each with its record (A12).

use crate::db::{Conn, Engine};
use crate::error::StoreError;
use leadteam_domain::{AccountId, ClientId, MemberId, Timestamp};
use sqlx::Row;

/// A lead waiting in the backlog.
#[derive(Debug, Clone)]
pub struct Waiting {
    pub client: ClientId,
    pub account: AccountId,
    pub name: String,
    /// The rule that will assign it (JSON `RuleRef`).
    pub rule_json: String,
    /// Why it waits, in words.
    pub reason: Option<String>,
    pub created_at: Timestamp,
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<Waiting, StoreError> {
    Ok(Waiting {
        client: ClientId(r.try_get("id")?),
        account: AccountId(r.try_get("account_id")?),
        name: r.try_get("name")?,
        rule_json: r.try_get("waiting_rule")?,
        reason: r.try_get("routing_reason")?,
        created_at: Timestamp(r.try_get("created_at")?),
    })
}

const SELECT: &str =
    "SELECT id, account_id, name, waiting_rule, routing_reason, created_at FROM clients";

/// The account's backlog, oldest first (a page of `limit` after `after`).
pub async fn list(
    c: &mut Conn,
    account: AccountId,
    after: Option<ClientId>,
    limit: i64,
) -> Result<Vec<Waiting>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE account_id = $1 AND waiting_rule IS NOT NULL AND assignee_id IS NULL \
         AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
    )))
    .bind(account.0)
    .bind(after.map(|a| a.0))
    .bind(limit)
    .fetch_all(c)
    .await?;
    rows.iter().map(from_row).collect()
}

/// How many leads wait in the account's backlog, and since when the oldest.
pub async fn size(
    c: &mut Conn,
    account: AccountId,
) -> Result<(i64, Option<Timestamp>), StoreError> {
    let r = sqlx::query(
        "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM clients \
         WHERE account_id = $1 AND waiting_rule IS NOT NULL AND assignee_id IS NULL",
    )
    .bind(account.0)
    .fetch_one(c)
    .await?;
    Ok((
        r.try_get("n")?,
        r.try_get::<Option<i64>, _>("oldest")?.map(Timestamp),
    ))
}

/// Takes up to `limit` waiting leads of `account`, oldest first, locked for
/// the caller's write transaction (other nodes skip them).
pub async fn take(
    c: &mut Conn,
    account: AccountId,
    limit: i64,
) -> Result<Vec<Waiting>, StoreError> {
    let skip = match Engine::of(c) {
        Engine::Postgres => " FOR UPDATE SKIP LOCKED",
        Engine::Sqlite => "",
    };
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE account_id = $1 AND waiting_rule IS NOT NULL AND assignee_id IS NULL \
         ORDER BY id LIMIT $2{skip}"
    )))
    .bind(account.0)
    .bind(limit)
    .fetch_all(c)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The accounts with a backlog.
pub async fn accounts(c: &mut Conn) -> Result<Vec<AccountId>, StoreError> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT account_id FROM clients WHERE waiting_rule IS NOT NULL AND assignee_id IS NULL",
    )
    .fetch_all(c)
    .await?;
    Ok(ids.into_iter().map(AccountId).collect())
}

/// An automatic decision that gives `client` to `to`: conditional on the
/// client still being where the caller saw it (`from`, or unassigned), so a
/// claim or a manual assignment meanwhile wins. True when it was written.
pub async fn assign(
    c: &mut Conn,
    client: ClientId,
    from: Option<MemberId>,
    to: MemberId,
    reason: &str,
    routing_json: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE clients SET assignee_id = $1, ever_assigned = 1, assigned_at = $2, updated_at = $2, \
         contacted_at = NULL, waiting_rule = NULL, routing_reason = $3, routing_json = $4 \
         WHERE id = $5 AND ((assignee_id IS NULL AND $6 IS NULL) OR assignee_id = $6)",
    )
    .bind(to.0)
    .bind(now.0)
    .bind(reason)
    .bind(routing_json)
    .bind(client.0)
    .bind(from.map(|m| m.0))
    .execute(c)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a decision that did not move the client (the drain found nobody
/// yet; a reclaim found nobody else).
pub async fn record_decision(
    c: &mut Conn,
    client: ClientId,
    reason: &str,
    routing_json: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE clients SET routing_reason = $2, routing_json = $3 WHERE id = $1")
        .bind(client.0)
        .bind(reason)
        .bind(routing_json)
        .execute(c)
        .await?;
    Ok(())
}

/// The stored decision of a client (A12), JSON.
pub async fn decision_of(c: &mut Conn, client: ClientId) -> Result<Option<String>, StoreError> {
    let v: Option<Option<String>> =
        sqlx::query_scalar("SELECT routing_json FROM clients WHERE id = $1")
            .bind(client.0)
            .fetch_optional(c)
            .await?;
    Ok(v.flatten())
}

/// A14: whether the routing admins of `account` should hear of a lead that
/// nobody could take now — no alert in the last `quiet_ms` — and if so,
/// notes that they did (one alert per burst, not per lead).
pub async fn alert_due(
    c: &mut Conn,
    account: AccountId,
    now: Timestamp,
    quiet_ms: i64,
) -> Result<bool, StoreError> {
    let updated = sqlx::query(
        "UPDATE routing_alerts SET last_at = $2 WHERE account_id = $1 AND last_at <= $3",
    )
    .bind(account.0)
    .bind(now.0)
    .bind(now.0 - quiet_ms)
    .execute(&mut *c)
    .await?;
    if updated.rows_affected() == 1 {
        return Ok(true);
    }
    let inserted = sqlx::query(
        "INSERT INTO routing_alerts (account_id, last_at) VALUES ($1, $2) ON CONFLICT (account_id) DO NOTHING",
    )
    .bind(account.0)
    .bind(now.0)
    .execute(c)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Why the account's waiting leads wait: each reason with how many leads
/// it holds back, the most first (A11, D2).
pub async fn reasons(c: &mut Conn, account: AccountId) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT COALESCE(routing_reason, '') AS reason, COUNT(*) AS n FROM clients \
         WHERE account_id = $1 AND waiting_rule IS NOT NULL AND assignee_id IS NULL \
         GROUP BY COALESCE(routing_reason, '') ORDER BY n DESC, reason",
    )
    .bind(account.0)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("reason")?, r.try_get("n")?)))
        .collect()
}
