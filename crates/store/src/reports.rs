//! What the reports read (D2). Every query is one index range: the leads
//! that arrived in a period (`clients_account_created`), the reclaims of a
//! period (`client_events_reclaimed`), never the whole clients table
//! (migration 47; `leadteam-bench --reports` times them on 1,000,000
//! clients).

use crate::db::Conn;
use crate::error::StoreError;
use leadteam_domain::{AccountId, MemberId, Timestamp};
use sqlx::Row;
use std::collections::HashMap;

/// Where a lead came from: a lead source, or how it was added (`manual`,
/// `import`) when it has none.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceKey {
    pub source_id: Option<i64>,
    /// `clients.source`: the source's kind, `manual` or `import`.
    pub kind: String,
}

impl SourceKey {
    fn of(r: &sqlx::any::AnyRow) -> Result<SourceKey, StoreError> {
        let source_id: Option<i64> = r.try_get("source_id")?;
        let kind: String = r.try_get("source")?;
        Ok(SourceKey { source_id, kind })
    }
}

/// One lead that arrived in the period, as speed to lead needs it.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub source: SourceKey,
    pub assignee: Option<MemberId>,
    /// Who made the first contact, when it was made.
    pub first_contact_by: Option<MemberId>,
    /// From arrival to first contact (ms), when it was made.
    pub wait_ms: Option<i64>,
}

/// The leads of `account` that arrived in [start, end).
pub async fn arrivals(
    c: &mut Conn,
    account: AccountId,
    start: Timestamp,
    end: Timestamp,
) -> Result<Vec<Arrival>, StoreError> {
    let rows = sqlx::query(
        "SELECT source_id, source, assignee_id, first_contact_by, first_contact_at - created_at AS wait \
         FROM clients WHERE account_id = $1 AND created_at >= $2 AND created_at < $3",
    )
    .bind(account.0)
    .bind(start.0)
    .bind(end.0)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Arrival {
                source: SourceKey::of(r)?,
                assignee: r.try_get::<Option<i64>, _>("assignee_id")?.map(MemberId),
                first_contact_by: r
                    .try_get::<Option<i64>, _>("first_contact_by")?
                    .map(MemberId),
                wait_ms: r.try_get("wait")?,
            })
        })
        .collect()
}

/// How many leads of one source arrived on one local day.
#[derive(Debug, Clone)]
pub struct DayCount {
    pub source: SourceKey,
    /// The local day as days since 1970-01-01.
    pub day: i64,
    pub leads: i64,
}

/// Leads per source per local day of [start, end), where the zone's UTC
/// offset is `offset_ms` throughout (one `reports::Stretch`).
pub async fn leads_per_day(
    c: &mut Conn,
    account: AccountId,
    start: Timestamp,
    end: Timestamp,
    offset_ms: i64,
) -> Result<Vec<DayCount>, StoreError> {
    let rows = sqlx::query(
        "SELECT source_id, source, (created_at + $4) / 86400000 AS local_day, COUNT(*) AS n \
         FROM clients WHERE account_id = $1 AND created_at >= $2 AND created_at < $3 \
         GROUP BY source_id, source, local_day",
    )
    .bind(account.0)
    .bind(start.0)
    .bind(end.0)
    .bind(offset_ms)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DayCount {
                source: SourceKey::of(r)?,
                day: r.try_get("local_day")?,
                leads: r.try_get("n")?,
            })
        })
        .collect()
}

/// The names of the account's lead sources (removed sources are absent).
pub async fn source_names(
    c: &mut Conn,
    account: AccountId,
) -> Result<HashMap<i64, String>, StoreError> {
    let rows = sqlx::query("SELECT id, name FROM lead_sources WHERE account_id = $1")
        .bind(account.0)
        .fetch_all(c)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
        .collect()
}

/// The names of every member the account ever had (removed ones marked,
/// as history names them: X4).
pub async fn member_names(
    c: &mut Conn,
    account: AccountId,
) -> Result<HashMap<MemberId, String>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, CASE WHEN status = 'removed' THEN name || ' (removed)' ELSE name END AS name \
         FROM members WHERE account_id = $1",
    )
    .bind(account.0)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| Ok((MemberId(r.try_get("id")?), r.try_get("name")?)))
        .collect()
}

/// One reclaim (A10): a lead moved on because its assignee did not make
/// contact in time.
#[derive(Debug, Clone)]
pub struct Reclaim {
    pub from: Option<MemberId>,
    pub to: Option<MemberId>,
    pub at: Timestamp,
}

/// The reclaims of `account` in [start, end), oldest first.
pub async fn reclaims(
    c: &mut Conn,
    account: AccountId,
    start: Timestamp,
    end: Timestamp,
) -> Result<Vec<Reclaim>, StoreError> {
    let rows = sqlx::query(
        "SELECT data_json, at FROM client_events \
         WHERE account_id = $1 AND kind = 'reclaimed' AND at >= $2 AND at < $3 ORDER BY at, id",
    )
    .bind(account.0)
    .bind(start.0)
    .bind(end.0)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            let data: Option<String> = r.try_get("data_json")?;
            let v: serde_json::Value = data
                .and_then(|d| serde_json::from_str(&d).ok())
                .unwrap_or_default();
            let member = |k: &str| v[k].as_i64().map(MemberId);
            Ok(Reclaim {
                from: member("from"),
                to: member("to"),
                at: Timestamp(r.try_get("at")?),
            })
        })
        .collect()
}
