//! What a member's home reads (D1): its new leads (assigned to it, not
//! contacted yet: `clients_uncontacted`) and how many leads wait to be
//! claimed. Its first-contact clocks are `deadlines::of_member`.

use crate::db::Conn;
use crate::error::StoreError;
use leadteam_domain::{AccountId, ClientId, MemberId, Timestamp};
use sqlx::Row;

/// A lead on the home page.
#[derive(Debug, Clone)]
pub struct HomeLead {
    pub id: ClientId,
    pub name: String,
    pub source: String,
    pub source_name: Option<String>,
    pub created_at: Timestamp,
    pub assigned_at: Option<Timestamp>,
}

fn lead_of(r: &sqlx::any::AnyRow) -> Result<HomeLead, StoreError> {
    Ok(HomeLead {
        id: ClientId(r.try_get("id")?),
        name: r.try_get("name")?,
        source: r.try_get("source")?,
        source_name: r.try_get("source_name")?,
        created_at: Timestamp(r.try_get("created_at")?),
        assigned_at: r.try_get::<Option<i64>, _>("assigned_at")?.map(Timestamp),
    })
}

/// The newest `limit` leads assigned to `member` that it has not contacted
/// yet, and how many there are in all.
pub async fn new_leads(
    c: &mut Conn,
    member: MemberId,
    limit: i64,
) -> Result<(Vec<HomeLead>, i64), StoreError> {
    let rows = sqlx::query(
        "SELECT c.id, c.name, c.source, s.name AS source_name, c.created_at, c.assigned_at \
         FROM clients c LEFT JOIN lead_sources s ON s.id = c.source_id \
         WHERE c.assignee_id = $1 AND c.contacted_at IS NULL ORDER BY c.id DESC LIMIT $2",
    )
    .bind(member.0)
    .bind(limit)
    .fetch_all(&mut *c)
    .await?;
    let leads = rows.iter().map(lead_of).collect::<Result<Vec<_>, _>>()?;
    let total: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM clients WHERE assignee_id = $1 AND contacted_at IS NULL",
    )
    .bind(member.0)
    .fetch_one(c)
    .await?;
    Ok((leads, total))
}

/// How many clients of the account nobody holds.
pub async fn unassigned_count(c: &mut Conn, account: AccountId) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM clients WHERE account_id = $1 AND assignee_id IS NULL",
    )
    .bind(account.0)
    .fetch_one(c)
    .await?)
}

/// The newest `limit` clients of the account nobody holds (for those who
/// may claim them: `decide(ClaimClient)`).
pub async fn unassigned(
    c: &mut Conn,
    account: AccountId,
    limit: i64,
) -> Result<Vec<HomeLead>, StoreError> {
    let rows = sqlx::query(
        "SELECT c.id, c.name, c.source, s.name AS source_name, c.created_at, c.assigned_at \
         FROM clients c LEFT JOIN lead_sources s ON s.id = c.source_id \
         WHERE c.account_id = $1 AND c.assignee_id IS NULL ORDER BY c.id DESC LIMIT $2",
    )
    .bind(account.0)
    .bind(limit)
    .fetch_all(c)
    .await?;
    rows.iter().map(lead_of).collect()
}
