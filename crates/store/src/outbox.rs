//! The mail outbox: messages are written in the transaction of the action that
//! sends them, and delivered by the worker in `leadteam_mail`: it claims due
//! messages under a lease ([`claim_due`]), sends each one, then records the
//! delivery ([`mark_sent`]) or the failure with the next try ([`record_failure`]).
//!
//! A message that carries a secret (an invitation link, a code) is queued
//! with the placeholder [`SECRET`] in its text and a [`SecretRef`]: the worker
//! has the secret minted when it sends the message (only its hash is
//! stored, where it belongs), so no usable token is ever at rest here.

use crate::db::{Conn, Db, Engine};
use crate::error::StoreError;
use leadteam_domain::{AccountId, Timestamp};
use sqlx::{AssertSqlSafe, Row};

/// Where the secret of a message goes in its text.
pub const SECRET: &str = "{{secret}}";

/// What the secret of a message is for, and the row it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretRef<'a> {
    /// `invitation` (of member `id`), `account_deletion` (of account `id`),
    /// `signup` (request `id`).
    pub purpose: &'a str,
    pub id: i64,
}

/// A message to send.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub account: Option<AccountId>,
    pub to: &'a str,
    pub subject: &'a str,
    /// The text; with [`SECRET`] where the secret goes when `secret` is set.
    pub body_text: &'a str,
    /// What the message is for: `invitation`, `account_deletion_code` ...
    pub kind: &'a str,
    pub secret: Option<SecretRef<'a>>,
}

/// Queues a message; delivered at most once on success by the mail worker.
pub async fn enqueue(c: &mut Conn, m: NewMessage<'_>, now: Timestamp) -> Result<i64, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO outbox (account_id, to_email, subject, body_text, kind, created_at, next_attempt_at, secret_for, ref_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8) RETURNING id",
    )
    .bind(m.account.map(|a| a.0))
    .bind(m.to)
    .bind(m.subject)
    .bind(m.body_text)
    .bind(m.kind)
    .bind(now.0)
    .bind(m.secret.map(|s| s.purpose))
    .bind(m.secret.map(|s| s.id))
    .fetch_one(c)
    .await?;
    Ok(id)
}

/// `next_attempt_at` of a message the worker gave up on: never due again. The
/// row stays, with its `attempts` and `last_error`, for the operator to see
/// (and to retry by setting `attempts` and `next_attempt_at` back to 0).
pub const GAVE_UP: Timestamp = Timestamp(i64::MAX);

/// A message taken by a worker: its lease runs until `locked_until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub id: i64,
    pub account: Option<AccountId>,
    pub to: String,
    pub subject: String,
    pub body_text: String,
    pub kind: String,
    pub created_at: Timestamp,
    /// Attempts so far, this one included.
    pub attempts: i64,
    pub locked_until: Timestamp,
    /// What the secret of the message is for, and the id of its row (the
    /// text holds [`SECRET`] until the secret is minted).
    pub secret: Option<(String, i64)>,
}

/// How `claim_due` takes messages.
#[derive(Debug, Clone, Copy)]
pub struct ClaimOptions {
    /// At most this many messages.
    pub limit: i64,
    /// How long the lease lasts: after it a message not marked sent (its worker
    /// died mid-send) is due again for any worker.
    pub lease_ms: i64,
    /// Messages with this many attempts already are not taken.
    pub max_attempts: i64,
}

/// Takes up to `limit` due messages (not sent, `next_attempt_at` reached, not
/// leased by a live worker, fewer than `max_attempts` attempts), oldest due
/// first, and leases them to the caller in one write transaction: counts the
/// attempt and sets `locked_until`. Several workers (threads or server nodes)
/// never take the same message while its lease runs: PostgreSQL skips rows
/// another worker is claiming (`FOR UPDATE SKIP LOCKED`) and re-checks the
/// lease of rows committed meanwhile; SQLite's `BEGIN IMMEDIATE` serializes
/// claims.
pub async fn claim_due(
    db: &Db,
    now: Timestamp,
    o: ClaimOptions,
) -> Result<Vec<Claimed>, StoreError> {
    let mut tx = db.write().await?;
    let suffix = match Engine::of(&tx) {
        Engine::Sqlite => "",
        Engine::Postgres => " FOR UPDATE SKIP LOCKED",
    };
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT id, account_id, to_email, subject, body_text, kind, created_at, attempts, secret_for, ref_id FROM outbox \
         WHERE sent_at IS NULL AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until <= $1) \
         AND attempts < $2 ORDER BY next_attempt_at, id LIMIT $3{suffix}"
    )))
    .bind(now.0)
    .bind(o.max_attempts)
    .bind(o.limit.max(1))
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        tx.rollback().await?;
        return Ok(Vec::new());
    }
    let locked_until = now.plus_millis(o.lease_ms.max(1));
    let mut claimed = Vec::with_capacity(rows.len());
    for r in rows {
        claimed.push(Claimed {
            id: r.try_get("id")?,
            account: r.try_get::<Option<i64>, _>("account_id")?.map(AccountId),
            to: r.try_get("to_email")?,
            subject: r.try_get("subject")?,
            body_text: r.try_get("body_text")?,
            kind: r.try_get("kind")?,
            created_at: Timestamp(r.try_get("created_at")?),
            attempts: r.try_get::<i64, _>("attempts")? + 1,
            locked_until,
            secret: match (
                r.try_get::<Option<String>, _>("secret_for")?,
                r.try_get::<Option<i64>, _>("ref_id")?,
            ) {
                (Some(p), Some(id)) => Some((p, id)),
                _ => None,
            },
        });
    }
    let placeholders: Vec<String> = (0..claimed.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "UPDATE outbox SET attempts = attempts + 1, locked_until = $1 WHERE id IN ({})",
        placeholders.join(", ")
    );
    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(locked_until.0);
    for m in &claimed {
        q = q.bind(m.id);
    }
    q.execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(claimed)
}

/// Records a delivery: the message is never taken again. Returns false when
/// it was already marked sent.
pub async fn mark_sent(c: &mut Conn, id: i64, now: Timestamp) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE outbox SET sent_at = $2, locked_until = NULL WHERE id = $1 AND sent_at IS NULL",
    )
    .bind(id)
    .bind(now.0)
    .execute(c)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a failed attempt: the error is kept and the message is due again
/// at `retry_at`, or never (`None`: the worker gives up, see [`GAVE_UP`]).
pub async fn record_failure(
    c: &mut Conn,
    id: i64,
    error: &str,
    retry_at: Option<Timestamp>,
) -> Result<(), StoreError> {
    let error: String = error.chars().take(2_000).collect();
    sqlx::query(
        "UPDATE outbox SET last_error = $2, next_attempt_at = $3, locked_until = NULL \
         WHERE id = $1 AND sent_at IS NULL",
    )
    .bind(id)
    .bind(error)
    .bind(retry_at.unwrap_or(GAVE_UP).0)
    .execute(c)
    .await?;
    Ok(())
}

/// Drops the messages not yet sent whose secret is for `purpose` `id` (a
/// newer message replaces them: an invitation re-sent). Leased ones are
/// left to their worker.
pub async fn drop_unsent(
    c: &mut Conn,
    purpose: &str,
    id: i64,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "DELETE FROM outbox WHERE secret_for = $1 AND ref_id = $2 AND sent_at IS NULL \
         AND (locked_until IS NULL OR locked_until <= $3)",
    )
    .bind(purpose)
    .bind(id)
    .bind(now.0)
    .execute(c)
    .await?;
    Ok(done.rows_affected())
}

/// Gives back a claimed message that was not attempted (the worker is
/// stopping): due again at once for any worker, the attempt not counted.
pub async fn release(c: &mut Conn, id: i64) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbox SET locked_until = NULL, attempts = attempts - 1 \
         WHERE id = $1 AND sent_at IS NULL AND locked_until IS NOT NULL AND attempts > 0",
    )
    .bind(id)
    .execute(c)
    .await?;
    Ok(())
}

/// The delivery state of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub id: i64,
    pub to: String,
    pub kind: String,
    pub attempts: i64,
    pub next_attempt_at: Timestamp,
    pub locked_until: Option<Timestamp>,
    pub sent_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

impl Status {
    /// Whether the worker gave up on the message.
    pub fn gave_up(&self) -> bool {
        self.sent_at.is_none() && self.next_attempt_at == GAVE_UP
    }
}

/// The delivery state of message `id`.
pub async fn status(c: &mut Conn, id: i64) -> Result<Option<Status>, StoreError> {
    let row = sqlx::query(
        "SELECT id, to_email, kind, attempts, next_attempt_at, locked_until, sent_at, last_error \
         FROM outbox WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(c)
    .await?;
    row.map(|r| -> Result<Status, StoreError> {
        Ok(Status {
            id: r.try_get("id")?,
            to: r.try_get("to_email")?,
            kind: r.try_get("kind")?,
            attempts: r.try_get("attempts")?,
            next_attempt_at: Timestamp(r.try_get("next_attempt_at")?),
            locked_until: r.try_get::<Option<i64>, _>("locked_until")?.map(Timestamp),
            sent_at: r.try_get::<Option<i64>, _>("sent_at")?.map(Timestamp),
            last_error: r.try_get("last_error")?,
        })
    })
    .transpose()
}
