//! What the reports read (D2). Every query is one index range: the leads
//! that arrived in a period (`clients_account_created`), the reclaims of a
//! period (`client_events_reclaimed`), never the whole clients table
//! (migration 47; `leadteam-bench --reports` times them on 1,000,000
//! clients). The database does the counting and the sorting: speed to
//! lead answers a few rows per group (the waits at the ranks of the median
//! and the 90th percentile, picked with window functions), never one row
//! per lead.

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

/// How the leads of a period are grouped for speed to lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpeedBy {
    /// By the member who made the first contact; a lead not contacted yet
    /// by its assignee (none: unassigned).
    Member,
    /// By where the lead came from.
    Source,
    /// Every lead together.
    All,
}

impl SpeedBy {
    /// The key columns of a lead, computed in the inner select.
    fn keys(self) -> (&'static str, &'static str) {
        match self {
            SpeedBy::Member => (
                "CASE WHEN first_contact_at IS NULL THEN assignee_id \
                 ELSE COALESCE(first_contact_by, assignee_id) END AS member_id",
                "member_id",
            ),
            SpeedBy::Source => ("source_id, source", "source_id, source"),
            SpeedBy::All => ("0 AS whole", "whole"),
        }
    }
}

/// The figures of one group of the leads of a period: how many arrived,
/// how many were contacted, and the waits (arrival to first contact, ms)
/// at the ranks the median and the 90th percentile need (0-based ranks in
/// the sorted waits, as `leadteam_domain::reports::quantile_ranks` names
/// them), picked by the database.
#[derive(Debug, Clone, Default)]
pub struct SpeedGroup {
    /// `Member`: the member, if any.
    pub member: Option<MemberId>,
    /// `Source`: where the leads came from.
    pub source: Option<SourceKey>,
    pub leads: i64,
    pub contacted: i64,
    /// (rank, wait in ms).
    pub ranks: Vec<(i64, i64)>,
}

/// The inner select: the key columns and the wait of each lead of the period.
fn leads_of_period(keys: &str, contacted_only: bool) -> String {
    format!(
        "SELECT {keys}, first_contact_at - created_at AS wait FROM clients \
         WHERE account_id = $1 AND created_at >= $2 AND created_at < $3{}",
        if contacted_only {
            " AND first_contact_at IS NOT NULL"
        } else {
            ""
        }
    )
}

/// The statement that counts the leads of a period per group, public so
/// the benchmark can show its plan ($1 account, $2 start, $3 end).
pub fn speed_counts_sql(by: SpeedBy) -> String {
    let (keys, cols) = by.keys();
    format!(
        "SELECT {cols}, COUNT(*) AS leads, COUNT(wait) AS contacted FROM ({}) x GROUP BY {cols}",
        leads_of_period(keys, false)
    )
}

/// The statement that picks, per group, the waits at the ranks of the
/// median (tenths 5) and the 90th percentile (tenths 9): the rows whose
/// 0-based rank `i` among the group's `n` sorted waits is
/// `t·(n−1) div 10` or `(t·(n−1) + 9) div 10`.
pub fn speed_ranks_sql(by: SpeedBy) -> String {
    let (keys, cols) = by.keys();
    format!(
        "SELECT {cols}, i, wait FROM (\
         SELECT {cols}, wait, ROW_NUMBER() OVER (PARTITION BY {cols} ORDER BY wait) - 1 AS i, \
         COUNT(*) OVER (PARTITION BY {cols} ORDER BY wait ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS n \
         FROM ({}) x) r \
         WHERE i = (5 * (n - 1)) / 10 OR i = (5 * (n - 1) + 9) / 10 \
         OR i = (9 * (n - 1)) / 10 OR i = (9 * (n - 1) + 9) / 10",
        leads_of_period(keys, true)
    )
}

fn group_key(by: SpeedBy, r: &sqlx::any::AnyRow) -> Result<(Option<i64>, String), StoreError> {
    Ok(match by {
        SpeedBy::Member => (r.try_get("member_id")?, String::new()),
        SpeedBy::Source => (r.try_get("source_id")?, r.try_get("source")?),
        SpeedBy::All => (None, String::new()),
    })
}

/// Speed to lead of the leads of `account` that arrived in [start, end),
/// grouped `by`: two statements over the index range of the period, each
/// answering a few rows per group.
pub async fn speed(
    c: &mut Conn,
    account: AccountId,
    start: Timestamp,
    end: Timestamp,
    by: SpeedBy,
) -> Result<Vec<SpeedGroup>, StoreError> {
    let counts = sqlx::query(sqlx::AssertSqlSafe(speed_counts_sql(by)))
        .bind(account.0)
        .bind(start.0)
        .bind(end.0)
        .fetch_all(&mut *c)
        .await?;
    let mut groups: HashMap<(Option<i64>, String), SpeedGroup> = HashMap::new();
    for r in &counts {
        let key = group_key(by, r)?;
        groups.insert(
            key.clone(),
            SpeedGroup {
                member: match by {
                    SpeedBy::Member => key.0.map(MemberId),
                    _ => None,
                },
                source: match by {
                    SpeedBy::Source => Some(SourceKey {
                        source_id: key.0,
                        kind: key.1.clone(),
                    }),
                    _ => None,
                },
                leads: r.try_get("leads")?,
                contacted: r.try_get("contacted")?,
                ranks: Vec::new(),
            },
        );
    }
    for r in &ranks_of(c, account, start, end, by).await? {
        if let Some(g) = groups.get_mut(&group_key(by, r)?) {
            g.ranks.push((r.try_get("i")?, r.try_get("wait")?));
        }
    }
    Ok(groups.into_values().collect())
}

async fn ranks_of(
    c: &mut Conn,
    account: AccountId,
    start: Timestamp,
    end: Timestamp,
    by: SpeedBy,
) -> Result<Vec<sqlx::any::AnyRow>, StoreError> {
    Ok(sqlx::query(sqlx::AssertSqlSafe(speed_ranks_sql(by)))
        .bind(account.0)
        .bind(start.0)
        .bind(end.0)
        .fetch_all(c)
        .await?)
}

/// The waits at the ranks of the median and the 90th percentile of every
/// contacted lead of the period together: (rank, wait in ms). (Its counts
/// are the sums of any grouping's.)
pub async fn speed_overall_ranks(
    c: &mut Conn,
    account: AccountId,
    start: Timestamp,
    end: Timestamp,
) -> Result<Vec<(i64, i64)>, StoreError> {
    ranks_of(c, account, start, end, SpeedBy::All)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("i")?, r.try_get("wait")?)))
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

/// The statement of [`leads_per_day`] ($4: the offset), for its plan.
pub const LEADS_PER_DAY_SQL: &str = "SELECT source_id, source, (created_at + $4) / 86400000 AS local_day, COUNT(*) AS n \
     FROM clients WHERE account_id = $1 AND created_at >= $2 AND created_at < $3 \
     GROUP BY source_id, source, local_day";

/// Leads per source per local day of [start, end), where the zone's UTC
/// offset is `offset_ms` throughout (one `reports::Stretch`).
pub async fn leads_per_day(
    c: &mut Conn,
    account: AccountId,
    start: Timestamp,
    end: Timestamp,
    offset_ms: i64,
) -> Result<Vec<DayCount>, StoreError> {
    let rows = sqlx::query(LEADS_PER_DAY_SQL)
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
