//! API keys: opaque tokens (only their SHA-256 stored) that act as the member
//! who made them, with at most that member's permissions.

use crate::db::Conn;
use crate::error::StoreError;
use leadteam_domain::authz::PermissionSet;
use leadteam_domain::{AccountId, ApiKeyId, MemberId, Timestamp, UserId};
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct ApiKeyRow {
    pub id: ApiKeyId,
    pub account: AccountId,
    pub member: MemberId,
    pub member_name: String,
    pub user: Option<UserId>,
    pub name: String,
    pub permissions: PermissionSet,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    /// An intake key (I5): it may only send leads, to these sources.
    pub lead_sources: Option<Vec<leadteam_domain::SourceId>>,
}

const SELECT: &str = "SELECT k.id, k.account_id, k.member_id, CASE WHEN m.status = 'removed' THEN m.name || ' (removed)' ELSE m.name END AS member_name, m.user_id, k.name, k.permissions, \
     k.created_at, k.last_used_at, k.revoked_at, k.lead_source_ids FROM api_keys k JOIN members m ON m.id = k.member_id";

fn from_row(r: &sqlx::any::AnyRow) -> Result<ApiKeyRow, StoreError> {
    Ok(ApiKeyRow {
        id: ApiKeyId(r.try_get("id")?),
        account: AccountId(r.try_get("account_id")?),
        member: MemberId(r.try_get("member_id")?),
        member_name: r.try_get("member_name")?,
        user: r.try_get::<Option<i64>, _>("user_id")?.map(UserId),
        name: r.try_get("name")?,
        permissions: PermissionSet::from_bits(r.try_get("permissions")?),
        created_at: Timestamp(r.try_get("created_at")?),
        last_used_at: r.try_get::<Option<i64>, _>("last_used_at")?.map(Timestamp),
        revoked_at: r.try_get::<Option<i64>, _>("revoked_at")?.map(Timestamp),
        lead_sources: r.try_get::<Option<String>, _>("lead_source_ids")?.map(|s| {
            serde_json::from_str::<Vec<i64>>(&s)
                .unwrap_or_default()
                .into_iter()
                .map(leadteam_domain::SourceId)
                .collect()
        }),
    })
}

#[allow(clippy::too_many_arguments)]
pub async fn insert(
    c: &mut Conn,
    account: AccountId,
    member: MemberId,
    name: &str,
    token_hash: &str,
    permissions: PermissionSet,
    lead_sources: Option<&[leadteam_domain::SourceId]>,
    now: Timestamp,
) -> Result<ApiKeyId, StoreError> {
    let sources = lead_sources.map(|l| {
        serde_json::to_string(&l.iter().map(|s| s.0).collect::<Vec<_>>())
            .unwrap_or_else(|_| "[]".into())
    });
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO api_keys (account_id, member_id, name, token_hash, permissions, created_at, lead_source_ids) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(account.0)
    .bind(member.0)
    .bind(name)
    .bind(token_hash)
    .bind(permissions.bits())
    .bind(now.0)
    .bind(sources)
    .fetch_one(c)
    .await?;
    Ok(ApiKeyId(id))
}

/// The live (not revoked) key of a token hash.
pub async fn by_token_hash(c: &mut Conn, hash: &str) -> Result<Option<ApiKeyRow>, StoreError> {
    let sql = format!("{SELECT} WHERE k.token_hash = $1 AND k.revoked_at IS NULL");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(hash)
        .fetch_optional(c)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn get(
    c: &mut Conn,
    account: AccountId,
    id: ApiKeyId,
) -> Result<Option<ApiKeyRow>, StoreError> {
    let sql = format!("{SELECT} WHERE k.account_id = $1 AND k.id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account.0)
        .bind(id.0)
        .fetch_optional(c)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list(c: &mut Conn, account: AccountId) -> Result<Vec<ApiKeyRow>, StoreError> {
    let sql = format!("{SELECT} WHERE k.account_id = $1 ORDER BY k.id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account.0)
        .fetch_all(c)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Records use at most once a minute.
pub async fn touch(c: &mut Conn, id: ApiKeyId, now: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1 - 60000)")
        .bind(now.0)
        .bind(id.0)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn revoke(c: &mut Conn, id: ApiKeyId, now: Timestamp) -> Result<bool, StoreError> {
    let n = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now.0)
        .bind(id.0)
        .execute(c)
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// Revokes every key a member made (deactivation, M5).
pub async fn revoke_all_of_member(
    c: &mut Conn,
    member: MemberId,
    now: Timestamp,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE api_keys SET revoked_at = $1 WHERE member_id = $2 AND revoked_at IS NULL",
    )
    .bind(now.0)
    .bind(member.0)
    .execute(c)
    .await?
    .rows_affected())
}

/// How many keys of `member` still work (not revoked).
pub async fn live_of_member(c: &mut Conn, member: MemberId) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM api_keys WHERE member_id = $1 AND revoked_at IS NULL",
    )
    .bind(member.0)
    .fetch_one(c)
    .await?;
    Ok(n.max(0) as u64)
}
