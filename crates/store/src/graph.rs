//! Facebook leads waiting for their details from the Graph API (I6): one row
//! per client stored with ids only, taken by any node's worker under a lease
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL), retried with backoff.

use crate::db::{Conn, Db};
use crate::error::StoreError;
use leadteam_domain::{ClientId, SourceId, Timestamp};
use sqlx::Row;

/// Queues the fetch of a lead's details (nothing when already queued).
pub async fn enqueue(
    c: &mut Conn,
    client: ClientId,
    source: SourceId,
    leadgen_id: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO graph_fetches (client_id, source_id, leadgen_id, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $4) ON CONFLICT DO NOTHING",
    )
    .bind(client.0)
    .bind(source.0)
    .bind(leadgen_id)
    .bind(now.0)
    .execute(c)
    .await?;
    Ok(())
}

/// A fetch taken by a worker.
#[derive(Debug, Clone)]
pub struct Fetch {
    pub client: ClientId,
    pub source: SourceId,
    pub leadgen_id: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// Takes up to `limit` due fetches under a lease of `lease_ms`.
pub async fn claim_due(
    db: &Db,
    now: Timestamp,
    limit: i64,
    lease_ms: i64,
) -> Result<Vec<Fetch>, StoreError> {
    crate::lease::take(
        db,
        &crate::lease::Queue {
            table: "graph_fetches",
            key: "client_id",
            columns: "client_id, source_id, leadgen_id, attempts",
        },
        (now, limit, lease_ms),
        |r| {
            Ok(Fetch {
                client: ClientId(r.try_get("client_id")?),
                source: SourceId(r.try_get("source_id")?),
                leadgen_id: r.try_get("leadgen_id")?,
                attempts: r.try_get::<i64, _>("attempts")? + 1,
            })
        },
    )
    .await
}

/// Records the outcome: done (`retry_at` unused), or failed and due again at
/// `retry_at` (`None`: given up, the error kept).
pub async fn finish(
    c: &mut Conn,
    client: ClientId,
    now: Timestamp,
    error: Option<&str>,
    retry_at: Option<Timestamp>,
) -> Result<(), StoreError> {
    match error {
        None => {
            sqlx::query(
                "UPDATE graph_fetches SET done_at = $2, locked_until = NULL, last_error = NULL WHERE client_id = $1",
            )
            .bind(client.0)
            .bind(now.0)
            .execute(c)
            .await?;
        }
        Some(e) => {
            let e: String = e.chars().take(1000).collect();
            sqlx::query(
                "UPDATE graph_fetches SET last_error = $2, next_attempt_at = $3, locked_until = NULL WHERE client_id = $1",
            )
            .bind(client.0)
            .bind(e)
            .bind(retry_at.unwrap_or(Timestamp(i64::MAX)).0)
            .execute(c)
            .await?;
        }
    }
    Ok(())
}

/// The state of a lead's fetch: (attempts, done, last error).
pub async fn state(
    c: &mut Conn,
    client: ClientId,
) -> Result<Option<(i64, bool, Option<String>)>, StoreError> {
    let row =
        sqlx::query("SELECT attempts, done_at, last_error FROM graph_fetches WHERE client_id = $1")
            .bind(client.0)
            .fetch_optional(c)
            .await?;
    row.map(|r| {
        Ok((
            r.try_get("attempts")?,
            r.try_get::<Option<i64>, _>("done_at")?.is_some(),
            r.try_get("last_error")?,
        ))
    })
    .transpose()
}

/// Fills in a lead's details: name, email and phone where given, the fields
/// merged, no longer awaiting details. Answers the client's account.
pub async fn complete_client(
    c: &mut Conn,
    client: ClientId,
    name: Option<&str>,
    email: Option<&str>,
    phone: Option<&str>,
    fields_json: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE clients SET name = COALESCE($2, name), email = COALESCE($3, email), phone = COALESCE($4, phone), \
         fields_json = $5, updated_at = $6 WHERE id = $1",
    )
    .bind(client.0)
    .bind(name)
    .bind(email)
    .bind(phone)
    .bind(fields_json)
    .bind(now.0)
    .execute(c)
    .await?;
    Ok(())
}

/// A client's stored custom fields (JSON).
pub async fn fields_of(c: &mut Conn, client: ClientId) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT fields_json FROM clients WHERE id = $1")
            .bind(client.0)
            .fetch_optional(c)
            .await?,
    )
}
