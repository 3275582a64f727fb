//! Alerts for members (C7, A6).

use crate::db::Conn;
use crate::error::StoreError;
use leadteam_domain::{AccountId, ClientId, MemberId, Timestamp};
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct NotificationRow {
    pub id: i64,
    pub kind: String,
    pub client: Option<ClientId>,
    pub body: String,
    pub created_at: Timestamp,
    pub read_at: Option<Timestamp>,
}

pub async fn insert(
    c: &mut Conn,
    account: AccountId,
    member: MemberId,
    kind: &str,
    client: Option<ClientId>,
    body: &str,
    now: Timestamp,
) -> Result<i64, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO notifications (account_id, member_id, kind, client_id, body, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(account.0)
    .bind(member.0)
    .bind(kind)
    .bind(client.map(|c| c.0))
    .bind(body)
    .bind(now.0)
    .fetch_one(c)
    .await?;
    Ok(id)
}

/// A member's notifications, newest first, after the cursor `before`.
pub async fn list(
    c: &mut Conn,
    member: MemberId,
    unread_only: bool,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<NotificationRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, kind, client_id, body, created_at, read_at FROM notifications \
         WHERE member_id = $1 AND ($2 = 0 OR read_at IS NULL) AND ($3 = -1 OR id < $3) ORDER BY id DESC LIMIT $4",
    )
    .bind(member.0)
    .bind(i64::from(unread_only))
    .bind(before.unwrap_or(-1))
    .bind(limit)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(NotificationRow {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                client: r.try_get::<Option<i64>, _>("client_id")?.map(ClientId),
                body: r.try_get("body")?,
                created_at: Timestamp(r.try_get("created_at")?),
                read_at: r.try_get::<Option<i64>, _>("read_at")?.map(Timestamp),
            })
        })
        .collect()
}

pub async fn unread_count(c: &mut Conn, member: MemberId) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications WHERE member_id = $1 AND read_at IS NULL",
    )
    .bind(member.0)
    .fetch_one(c)
    .await?)
}

/// Marks one of the member's notifications read; false when it is not theirs.
pub async fn mark_read(
    c: &mut Conn,
    member: MemberId,
    id: i64,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "UPDATE notifications SET read_at = COALESCE(read_at, $1) WHERE id = $2 AND member_id = $3",
    )
    .bind(now.0)
    .bind(id)
    .bind(member.0)
    .execute(c)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Marks every unread notification of the member read; how many.
pub async fn mark_all_read(
    c: &mut Conn,
    member: MemberId,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let n = sqlx::query(
        "UPDATE notifications SET read_at = $1 WHERE member_id = $2 AND read_at IS NULL",
    )
    .bind(now.0)
    .bind(member.0)
    .execute(c)
    .await?
    .rows_affected();
    Ok(n)
}

/// The client a notification of the member is about (`Some(None)`: none);
/// `None` when it is not theirs.
pub async fn client_of(
    c: &mut Conn,
    member: MemberId,
    id: i64,
) -> Result<Option<Option<leadteam_domain::ClientId>>, StoreError> {
    let v: Option<Option<i64>> =
        sqlx::query_scalar("SELECT client_id FROM notifications WHERE id = $1 AND member_id = $2")
            .bind(id)
            .bind(member.0)
            .fetch_optional(c)
            .await?;
    Ok(v.map(|c| c.map(leadteam_domain::ClientId)))
}
