//! Graph API lookups of the pages and lead forms a Facebook source's page
//! access token reaches (issue 17): queued in the transaction that saves the
//! token, taken by any node's Graph worker under a lease (`FOR UPDATE SKIP
//! LOCKED` on PostgreSQL), retried with backoff like [`crate::graph`].

use crate::db::{Conn, Db};
use crate::error::StoreError;
use leadteam_domain::{SourceId, Timestamp};
use sqlx::Row;

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
    crate::lease::take(
        db,
        &crate::lease::Queue {
            table: "graph_lookups",
            key: "source_id",
            columns: "source_id, generation, attempts",
        },
        (now, limit, lease_ms),
        |r| {
            Ok(Lookup {
                source: SourceId(r.try_get("source_id")?),
                generation: r.try_get("generation")?,
                attempts: r.try_get::<i64, _>("attempts")? + 1,
            })
        },
    )
    .await
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
