//! Outbound webhooks (I8): subscriptions, the events outbox (written in the
//! transaction of the change) and one delivery row per subscription and
//! event, taken by any node's worker under a lease (`FOR UPDATE SKIP LOCKED`
//! on PostgreSQL; SQLite's one writer serialises claims).

use crate::db::{Conn, Db, Engine};
use crate::error::StoreError;
use crate::flag;
use crate::script::Script;
use leadteam_domain::{AccountId, MemberId, Timestamp};
use sqlx::{AssertSqlSafe, Row};

#[derive(Clone)]
pub struct WebhookRow {
    pub id: i64,
    pub account: AccountId,
    pub created_by: Option<MemberId>,
    pub url: String,
    pub events: Vec<String>,
    /// The signing secret.
    pub secret: String,
    pub enabled: bool,
    /// Deliveries given up in a row.
    pub failures: i64,
    pub disabled_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Shows everything but the secret.
impl std::fmt::Debug for WebhookRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookRow")
            .field("id", &self.id)
            .field("account", &self.account)
            .field("url", &self.url)
            .field("events", &self.events)
            .field("secret", &"<redacted>")
            .field("enabled", &self.enabled)
            .field("failures", &self.failures)
            .finish()
    }
}

const SELECT: &str = "SELECT id, account_id, created_by, url, events, secret, enabled, failures, disabled_reason, \
     created_at, updated_at FROM webhooks";

fn from_row(r: &sqlx::any::AnyRow) -> Result<WebhookRow, StoreError> {
    let events: String = r.try_get("events")?;
    Ok(WebhookRow {
        id: r.try_get("id")?,
        account: AccountId(r.try_get("account_id")?),
        created_by: r.try_get::<Option<i64>, _>("created_by")?.map(MemberId),
        url: r.try_get("url")?,
        events: serde_json::from_str(&events).unwrap_or_default(),
        secret: r.try_get("secret")?,
        enabled: flag(r.try_get("enabled")?),
        failures: r.try_get("failures")?,
        disabled_reason: r.try_get("disabled_reason")?,
        created_at: Timestamp(r.try_get("created_at")?),
        updated_at: Timestamp(r.try_get("updated_at")?),
    })
}

pub async fn insert(
    c: &mut Conn,
    account: AccountId,
    by: MemberId,
    url: &str,
    events: &[String],
    secret: &str,
    now: Timestamp,
) -> Result<i64, StoreError> {
    let events = serde_json::to_string(events).unwrap_or_else(|_| "[]".into());
    Ok(sqlx::query_scalar(
        "INSERT INTO webhooks (account_id, created_by, url, events, secret, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(account.0)
    .bind(by.0)
    .bind(url)
    .bind(events)
    .bind(secret)
    .bind(now.0)
    .fetch_one(c)
    .await?)
}

pub async fn get(
    c: &mut Conn,
    account: AccountId,
    id: i64,
) -> Result<Option<WebhookRow>, StoreError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "{SELECT} WHERE id = $1 AND account_id = $2"
    )))
    .bind(id)
    .bind(account.0)
    .fetch_optional(c)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list(c: &mut Conn, account: AccountId) -> Result<Vec<WebhookRow>, StoreError> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "{SELECT} WHERE account_id = $1 ORDER BY id"
    )))
    .bind(account.0)
    .fetch_all(c)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Changes a subscription; switching it on clears its failures.
pub async fn update(
    c: &mut Conn,
    id: i64,
    url: Option<&str>,
    events: Option<&[String]>,
    enabled: Option<bool>,
    secret: Option<&str>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let events = events.map(|e| serde_json::to_string(e).unwrap_or_else(|_| "[]".into()));
    sqlx::query(
        "UPDATE webhooks SET url = COALESCE($2, url), events = COALESCE($3, events), \
         enabled = COALESCE($4, enabled), secret = COALESCE($5, secret), updated_at = $6, \
         failures = CASE WHEN $4 = 1 THEN 0 ELSE failures END, \
         disabled_reason = CASE WHEN $4 = 1 THEN NULL ELSE disabled_reason END WHERE id = $1",
    )
    .bind(id)
    .bind(url)
    .bind(events)
    .bind(enabled.map(i64::from))
    .bind(secret)
    .bind(now.0)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn delete(c: &mut Conn, id: i64) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM webhooks WHERE id = $1")
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}

/// The enabled subscriptions of an account with the events each names.
pub async fn subscribers(
    c: &mut Conn,
    account: AccountId,
) -> Result<Vec<(i64, Vec<String>)>, StoreError> {
    let subs: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, events FROM webhooks WHERE account_id = $1 AND enabled = 1 ORDER BY id",
    )
    .bind(account.0)
    .fetch_all(c)
    .await?;
    Ok(subs
        .into_iter()
        .map(|(id, ev)| (id, serde_json::from_str(&ev).unwrap_or_default()))
        .collect())
}

/// Writes event `kind` with one delivery per subscription of `subs` (the
/// account's enabled ones, as the caller knows them) that names it;
/// answers the event id, or `None` when none does (nothing is written then).
pub async fn emit_to(
    c: &mut Conn,
    account: AccountId,
    subs: &[(i64, Vec<String>)],
    kind: &str,
    payload: &serde_json::Value,
    now: Timestamp,
) -> Result<Option<i64>, StoreError> {
    let targets = targets_of(subs, kind);
    if targets.is_empty() {
        return Ok(None);
    }
    let event: i64 = sqlx::query_scalar(
        "INSERT INTO webhook_events (account_id, kind, payload_json, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(account.0)
    .bind(kind)
    .bind(payload.to_string())
    .bind(now.0)
    .fetch_one(&mut *c)
    .await?;
    for t in targets {
        sqlx::query(
            "INSERT INTO webhook_deliveries (webhook_id, event_id, account_id, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(t)
        .bind(event)
        .bind(account.0)
        .bind(now.0)
        .execute(&mut *c)
        .await?;
    }
    Ok(Some(event))
}

/// One event of a batch to write, with the subscriptions it goes to.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub account: AccountId,
    pub kind: &'a str,
    pub payload: String,
    pub targets: Vec<i64>,
}

/// The subscriptions among `subs` that name `kind`.
pub fn targets_of(subs: &[(i64, Vec<String>)], kind: &str) -> Vec<i64> {
    subs.iter()
        .filter(|(_, ev)| ev.iter().any(|e| e == kind))
        .map(|(id, _)| *id)
        .collect()
}

/// Adds many events and their deliveries to `s` (those without a target
/// are skipped), one multi-row INSERT of events and one of deliveries per
/// 64 rows, whatever their number (an intake batch made two statements per
/// event and subscription): `ids`, drawn with
/// [`crate::ids::allocate_many`], are those of the events with a target, in
/// order. Answers how many events are written.
pub fn add_events(s: &mut Script, events: &[NewEvent<'_>], ids: &[i64], now: Timestamp) -> usize {
    use crate::intake::CHUNK;
    let events: Vec<&NewEvent<'_>> = events.iter().filter(|e| !e.targets.is_empty()).collect();
    let n = events.len().min(ids.len());
    let (events, ids) = (&events[..n], &ids[..n]);
    for (chunk, chunk_ids) in events.chunks(CHUNK).zip(ids.chunks(CHUNK)) {
        let v = s.values(chunk.len(), 5);
        s.push(format!(
            "INSERT INTO webhook_events (id, account_id, kind, payload_json, created_at) VALUES {v}"
        ));
        for (e, id) in chunk.iter().zip(chunk_ids) {
            s.bind(*id)
                .bind(e.account.0)
                .bind(e.kind)
                .bind(e.payload.as_str())
                .bind(now.0);
        }
    }
    let deliveries: Vec<(i64, i64, AccountId)> = events
        .iter()
        .zip(ids)
        .flat_map(|(e, id)| e.targets.iter().map(move |t| (*t, *id, e.account)))
        .collect();
    for chunk in deliveries.chunks(CHUNK) {
        let v = s.values(chunk.len(), 5);
        s.push(format!(
            "INSERT INTO webhook_deliveries (webhook_id, event_id, account_id, next_attempt_at, created_at) VALUES {v}"
        ));
        for (webhook, event, account) in chunk {
            s.bind(*webhook)
                .bind(*event)
                .bind(account.0)
                .bind(now.0)
                .bind(now.0);
        }
    }
    n
}

/// A delivery taken by a worker, with what it needs to send it.
#[derive(Clone)]
pub struct Due {
    pub id: i64,
    pub webhook: i64,
    pub account: AccountId,
    pub url: String,
    pub secret: String,
    pub event: i64,
    pub kind: String,
    pub payload_json: String,
    pub event_created_at: Timestamp,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// Takes up to `limit` due deliveries of enabled subscriptions under a lease.
pub async fn claim_due(
    db: &Db,
    now: Timestamp,
    limit: i64,
    lease_ms: i64,
) -> Result<Vec<Due>, StoreError> {
    // A read first: an idle poll takes no write lock.
    let mut c = db.conn().await?;
    let due: Option<i64> = sqlx::query_scalar(
        "SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
         WHERE d.state = 'pending' AND w.enabled = 1 AND d.next_attempt_at <= $1 \
         AND (d.locked_until IS NULL OR d.locked_until <= $1) LIMIT 1",
    )
    .bind(now.0)
    .fetch_optional(&mut *c)
    .await?;
    drop(c);
    if due.is_none() {
        return Ok(Vec::new());
    }
    let mut tx = db.write().await?;
    let suffix = match Engine::of(&tx) {
        Engine::Sqlite => "",
        Engine::Postgres => " FOR UPDATE OF d SKIP LOCKED",
    };
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT d.id, d.webhook_id, d.account_id, d.event_id, d.attempts, w.url, w.secret, e.kind, e.payload_json, \
         e.created_at AS event_created_at FROM webhook_deliveries d \
         JOIN webhooks w ON w.id = d.webhook_id JOIN webhook_events e ON e.id = d.event_id \
         WHERE d.state = 'pending' AND d.next_attempt_at <= $1 AND (d.locked_until IS NULL OR d.locked_until <= $1) \
         AND w.enabled = 1 ORDER BY d.next_attempt_at, d.id LIMIT $2{suffix}"
    )))
    .bind(now.0)
    .bind(limit.max(1))
    .fetch_all(&mut *tx)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let d = Due {
            id: r.try_get("id")?,
            webhook: r.try_get("webhook_id")?,
            account: AccountId(r.try_get("account_id")?),
            url: r.try_get("url")?,
            secret: r.try_get("secret")?,
            event: r.try_get("event_id")?,
            kind: r.try_get("kind")?,
            payload_json: r.try_get("payload_json")?,
            event_created_at: Timestamp(r.try_get("event_created_at")?),
            attempts: r.try_get::<i64, _>("attempts")? + 1,
        };
        sqlx::query("UPDATE webhook_deliveries SET attempts = attempts + 1, locked_until = $2 WHERE id = $1")
            .bind(d.id)
            .bind(now.plus_millis(lease_ms).0)
            .execute(&mut *tx)
            .await?;
        out.push(d);
    }
    tx.commit().await?;
    Ok(out)
}

/// Records a delivered event; the subscription's failures start again.
///
/// The subscription's row is written before the delivery's, in the order a
/// deletion of the subscription takes them (its row, then its deliveries by
/// the cascade): the other order deadlocked on PostgreSQL with a deletion
/// that came between the two statements, and the deletion failed.
pub async fn delivered(
    c: &mut Conn,
    d: &Due,
    status: i64,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE webhooks SET failures = 0 WHERE id = $1")
        .bind(d.webhook)
        .execute(&mut *c)
        .await?;
    sqlx::query(
        "UPDATE webhook_deliveries SET state = 'delivered', last_status = $2, last_error = NULL, delivered_at = $3, \
         locked_until = NULL WHERE id = $1",
    )
    .bind(d.id)
    .bind(status)
    .bind(now.0)
    .execute(c)
    .await?;
    Ok(())
}

/// Records a failed attempt: due again at `retry_at`, or given up (`None`),
/// which counts one failure of the subscription; answers its failures.
pub async fn failed(
    c: &mut Conn,
    d: &Due,
    status: Option<i64>,
    error: &str,
    retry_at: Option<Timestamp>,
) -> Result<i64, StoreError> {
    let error: String = error.chars().take(1000).collect();
    match retry_at {
        Some(at) => {
            sqlx::query(
                "UPDATE webhook_deliveries SET last_status = $2, last_error = $3, next_attempt_at = $4, locked_until = NULL WHERE id = $1",
            )
            .bind(d.id)
            .bind(status)
            .bind(error)
            .bind(at.0)
            .execute(&mut *c)
            .await?;
            Ok(0)
        }
        None => {
            // The subscription's row first, as in `delivered`. A deleted
            // subscription counts nothing (its deliveries went with it).
            let failures: Option<i64> = sqlx::query_scalar(
                "UPDATE webhooks SET failures = failures + 1 WHERE id = $1 RETURNING failures",
            )
            .bind(d.webhook)
            .fetch_optional(&mut *c)
            .await?;
            sqlx::query(
                "UPDATE webhook_deliveries SET state = 'failed', last_status = $2, last_error = $3, locked_until = NULL WHERE id = $1",
            )
            .bind(d.id)
            .bind(status)
            .bind(error)
            .execute(c)
            .await?;
            Ok(failures.unwrap_or(0))
        }
    }
}

/// Switches a subscription off (it kept failing); false when it was off already.
pub async fn switch_off(
    c: &mut Conn,
    id: i64,
    reason: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "UPDATE webhooks SET enabled = 0, disabled_reason = $2, updated_at = $3 WHERE id = $1 AND enabled = 1",
    )
    .bind(id)
    .bind(reason)
    .bind(now.0)
    .execute(c)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// One delivery as listed.
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub id: i64,
    pub event: i64,
    pub kind: String,
    pub state: String,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub next_attempt_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

/// The latest deliveries of a subscription, newest first.
pub async fn deliveries(
    c: &mut Conn,
    webhook: i64,
    limit: i64,
) -> Result<Vec<DeliveryRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT d.id, d.event_id, e.kind, d.state, d.attempts, d.last_status, d.last_error, d.next_attempt_at, \
         d.delivered_at, d.created_at FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id \
         WHERE d.webhook_id = $1 ORDER BY d.id DESC LIMIT $2",
    )
    .bind(webhook)
    .bind(limit.clamp(1, 200))
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DeliveryRow {
                id: r.try_get("id")?,
                event: r.try_get("event_id")?,
                kind: r.try_get("kind")?,
                state: r.try_get("state")?,
                attempts: r.try_get("attempts")?,
                last_status: r.try_get("last_status")?,
                last_error: r.try_get("last_error")?,
                next_attempt_at: Timestamp(r.try_get("next_attempt_at")?),
                delivered_at: r.try_get::<Option<i64>, _>("delivered_at")?.map(Timestamp),
                created_at: Timestamp(r.try_get("created_at")?),
            })
        })
        .collect()
}

/// The owner's membership of an account.
pub async fn owner_member(
    c: &mut Conn,
    account: AccountId,
) -> Result<Option<MemberId>, StoreError> {
    let id: Option<i64> =
        sqlx::query_scalar("SELECT id FROM members WHERE account_id = $1 AND is_owner = 1")
            .bind(account.0)
            .fetch_optional(c)
            .await?;
    Ok(id.map(MemberId))
}
