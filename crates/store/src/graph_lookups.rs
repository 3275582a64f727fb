//! Graph API lookups of the pages and lead forms a Facebook source's page
//! access token reaches (issue 17): queued in the transaction that saves the
//! token, taken by any node's Graph worker under a lease (`FOR UPDATE SKIP
//! LOCKED` on PostgreSQL), retried with backoff like [`crate::graph`].

use crate::db::{Conn, Db, Engine};
use crate::error::StoreError;
use leadteam_domain::{SourceId, Timestamp};
use sqlx::{AssertSqlSafe, Row};

/// Queues a lookup for `source`, due now. A lookup already queued or done
/// starts again from its first attempt, as a new generation: the answer of
/// one taken before (about the older token) no longer ends it.
pub async fn enqueue(c: &mut Conn, source: SourceId, now: Timestamp) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO graph_lookups (source_id, next_attempt_at, created_at) VALUES ($1, $2, $2) \
         ON CONFLICT (source_id) DO UPDATE SET generation = graph_lookups.generation + 1, \
         attempts = 0, next_attempt_at = excluded.next_attempt_at, locked_until = NULL, \
         done_at = NULL, last_error = NULL",
    )
    .bind(source.0)
    .bind(now.0)
    .execute(c)
    .await?;
    Ok(())
}

/// A lookup taken by a worker.
#[derive(Debug, Clone, Copy)]
pub struct Lookup {
    pub source: SourceId,
    pub generation: i64,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// Takes up to `limit` due lookups under a lease of `lease_ms`.
pub async fn claim_due(
    db: &Db,
    now: Timestamp,
    limit: i64,
    lease_ms: i64,
) -> Result<Vec<Lookup>, StoreError> {
    // A read first: an idle poll takes no write lock.
    let mut c = db.conn().await?;
    let due: Option<i64> = sqlx::query_scalar(
        "SELECT source_id FROM graph_lookups WHERE done_at IS NULL AND next_attempt_at <= $1 \
         AND (locked_until IS NULL OR locked_until <= $1) LIMIT 1",
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
        Engine::Postgres => " FOR UPDATE SKIP LOCKED",
    };
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT source_id, generation, attempts FROM graph_lookups \
         WHERE done_at IS NULL AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until <= $1) \
         ORDER BY next_attempt_at, source_id LIMIT $2{suffix}"
    )))
    .bind(now.0)
    .bind(limit.max(1))
    .fetch_all(&mut *tx)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let l = Lookup {
            source: SourceId(r.try_get("source_id")?),
            generation: r.try_get("generation")?,
            attempts: r.try_get::<i64, _>("attempts")? + 1,
        };
        sqlx::query(
            "UPDATE graph_lookups SET attempts = attempts + 1, locked_until = $2 WHERE source_id = $1",
        )
        .bind(l.source.0)
        .bind(now.plus_millis(lease_ms).0)
        .execute(&mut *tx)
        .await?;
        out.push(l);
    }
    tx.commit().await?;
    Ok(out)
}

/// Records the outcome of `lookup`: done, or failed and due again at
/// `retry_at` (`None`: given up, the error kept). Nothing changes when the
/// source was queued again since the lookup was taken.
pub async fn finish(
    c: &mut Conn,
    lookup: &Lookup,
    now: Timestamp,
    error: Option<&str>,
    retry_at: Option<Timestamp>,
) -> Result<(), StoreError> {
    let q = match error {
        None => sqlx::query(
            "UPDATE graph_lookups SET done_at = $3, locked_until = NULL, last_error = NULL \
             WHERE source_id = $1 AND generation = $2",
        )
        .bind(lookup.source.0)
        .bind(lookup.generation)
        .bind(now.0),
        Some(e) => sqlx::query(
            "UPDATE graph_lookups SET last_error = $3, next_attempt_at = $4, locked_until = NULL \
             WHERE source_id = $1 AND generation = $2",
        )
        .bind(lookup.source.0)
        .bind(lookup.generation)
        .bind(e.chars().take(1000).collect::<String>())
        .bind(retry_at.unwrap_or(Timestamp(i64::MAX)).0),
    };
    q.execute(c).await?;
    Ok(())
}
