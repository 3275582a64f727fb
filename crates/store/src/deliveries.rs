//! The delivery log of each lead source (I7) and the hosted forms' rate
//! counters (I4), shared by every node through the database.

use crate::db::Conn;
use crate::error::StoreError;
use crate::script::Script;
use leadteam_domain::{AccountId, ClientId, SourceId, Timestamp};
use sqlx::Row;

/// One delivery as logged.
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    pub id: i64,
    pub source: SourceId,
    /// How it came: `signed`, `form`, `key`, `url`, `facebook`, `google`, `test`.
    pub channel: String,
    /// `accepted`, `duplicate` or `refused`.
    pub outcome: String,
    /// Why it was refused: `bad_signature`, `switched_off`, `too_large`,
    /// `rate_limited`, `honeypot`, `origin`, `invalid`.
    pub reason: Option<String>,
    pub detail: Option<String>,
    pub client: Option<ClientId>,
    pub created_at: Timestamp,
}

/// A delivery to log.
#[derive(Debug, Clone, Copy)]
pub struct NewDelivery<'a> {
    pub source: SourceId,
    pub account: AccountId,
    pub channel: &'a str,
    pub outcome: &'a str,
    pub reason: Option<&'a str>,
    pub detail: Option<&'a str>,
    pub client: Option<ClientId>,
}

/// How many deliveries each source keeps.
pub const KEEP: i64 = 500;

/// Logs a delivery; every 50th one of a source trims its log to [`KEEP`].
pub async fn record(c: &mut Conn, d: NewDelivery<'_>, now: Timestamp) -> Result<i64, StoreError> {
    let detail: Option<String> = d.detail.map(|s| s.chars().take(500).collect());
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO source_deliveries (source_id, account_id, channel, outcome, reason, detail, client_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(d.source.0)
    .bind(d.account.0)
    .bind(d.channel)
    .bind(d.outcome)
    .bind(d.reason)
    .bind(detail)
    .bind(d.client.map(|c| c.0))
    .bind(now.0)
    .fetch_one(&mut *c)
    .await?;
    if id % 50 == 0 {
        trim_log(c, d.source.0).await?;
    }
    Ok(id)
}

/// Adds the deliveries of an intake batch to `s` (the batch's transaction,
/// so a lead and its log row are written together), each with its id
/// (drawn with [`crate::ids::allocate_many`]; `ids` in the order of
/// `rows`), one statement per 64; a source that reached a 50th id has its
/// log trimmed to [`KEEP`], as [`record`] does.
pub fn add_many(s: &mut Script, rows: &[NewDelivery<'_>], ids: &[i64], now: Timestamp) {
    use crate::intake::CHUNK;
    let mut trim = std::collections::BTreeSet::new();
    for (chunk, chunk_ids) in rows.chunks(CHUNK).zip(ids.chunks(CHUNK)) {
        let v = s.values(chunk.len(), 9);
        s.push(format!(
            "INSERT INTO source_deliveries (id, source_id, account_id, channel, outcome, reason, detail, client_id, created_at) \
             VALUES {v}"
        ));
        for (d, id) in chunk.iter().zip(chunk_ids) {
            let detail: Option<String> = d.detail.map(|s| s.chars().take(500).collect());
            s.bind(*id)
                .bind(d.source.0)
                .bind(d.account.0)
                .bind(d.channel)
                .bind(d.outcome)
                .bind(d.reason)
                .bind(detail)
                .bind(d.client.map(|c| c.0))
                .bind(now.0);
            if id % 50 == 0 {
                trim.insert(d.source.0);
            }
        }
    }
    for source in trim {
        // On PostgreSQL this part sees the log as it was before the
        // script: the rows of this batch stay, and the next trim counts
        // them.
        let (a, b, keep) = (s.param(), s.param(), s.param());
        s.push(format!(
            "DELETE FROM source_deliveries WHERE source_id = {a} AND id < \
             (SELECT id FROM source_deliveries WHERE source_id = {b} ORDER BY id DESC LIMIT 1 OFFSET {keep})"
        ));
        s.bind(source).bind(source).bind(KEEP - 1);
    }
}

async fn trim_log(c: &mut Conn, source: i64) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM source_deliveries WHERE source_id = $1 AND id < \
         (SELECT id FROM source_deliveries WHERE source_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)",
    )
    .bind(source)
    .bind(KEEP - 1)
    .execute(c)
    .await?;
    Ok(())
}

/// The latest deliveries of a source, newest first (`before`: older than this id).
pub async fn list(
    c: &mut Conn,
    source: SourceId,
    limit: i64,
    before: Option<i64>,
) -> Result<Vec<DeliveryRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, source_id, channel, outcome, reason, detail, client_id, created_at FROM source_deliveries \
         WHERE source_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(source.0)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit.clamp(1, 200))
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DeliveryRow {
                id: r.try_get("id")?,
                source: SourceId(r.try_get("source_id")?),
                channel: r.try_get("channel")?,
                outcome: r.try_get("outcome")?,
                reason: r.try_get("reason")?,
                detail: r.try_get("detail")?,
                client: r.try_get::<Option<i64>, _>("client_id")?.map(ClientId),
                created_at: Timestamp(r.try_get("created_at")?),
            })
        })
        .collect()
}

/// Counts one hit of `key` in a fixed window of `window_ms` and answers the
/// hits of the current window, this one included (atomic on both engines).
pub async fn hit(
    c: &mut Conn,
    key: &str,
    now: Timestamp,
    window_ms: i64,
) -> Result<i64, StoreError> {
    let hits: i64 = sqlx::query_scalar(
        "INSERT INTO form_rate (key, window_started_at, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (key) DO UPDATE SET \
           hits = CASE WHEN $2 - form_rate.window_started_at >= $3 THEN 1 ELSE form_rate.hits + 1 END, \
           window_started_at = CASE WHEN $2 - form_rate.window_started_at >= $3 THEN $2 ELSE form_rate.window_started_at END \
         RETURNING hits",
    )
    .bind(key)
    .bind(now.0)
    .bind(window_ms)
    .fetch_one(c)
    .await?;
    Ok(hits)
}

/// Forgets rate windows that started before `before`.
pub async fn forget_rates_before(c: &mut Conn, before: Timestamp) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM form_rate WHERE window_started_at < $1")
            .bind(before.0)
            .execute(c)
            .await?
            .rows_affected(),
    )
}
