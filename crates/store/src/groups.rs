//! Client groups: named lists of clients with a description and a colour.

use crate::db::{Conn, Lock};
use crate::error::StoreError;
use leadteam_domain::{AccountId, GroupId, MemberId, Timestamp};
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct GroupRow {
    pub id: GroupId,
    pub account: AccountId,
    pub name: String,
    pub description: String,
    pub color: Option<String>,
    /// The member who created it (id, name); `None` once that member is removed.
    pub created_by: Option<(MemberId, String)>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const SELECT: &str = "SELECT g.id, g.account_id, g.name, g.description, g.color, g.created_by, \
     CASE WHEN m.status = 'removed' THEN m.name || ' (removed)' ELSE m.name END AS created_by_name, g.created_at, g.updated_at \
     FROM groups g LEFT JOIN members m ON m.id = g.created_by";

fn from_row(r: &sqlx::any::AnyRow) -> Result<GroupRow, StoreError> {
    let by: Option<i64> = r.try_get("created_by")?;
    let by_name: Option<String> = r.try_get("created_by_name")?;
    Ok(GroupRow {
        id: GroupId(r.try_get("id")?),
        account: AccountId(r.try_get("account_id")?),
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        color: r.try_get("color")?,
        created_by: by.map(|id| (MemberId(id), by_name.unwrap_or_default())),
        created_at: Timestamp(r.try_get("created_at")?),
        updated_at: Timestamp(r.try_get("updated_at")?),
    })
}

/// Every group of the account, by name.
pub async fn list(c: &mut Conn, account: AccountId) -> Result<Vec<GroupRow>, StoreError> {
    let sql = format!("{SELECT} WHERE g.account_id = $1 ORDER BY LOWER(g.name), g.id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account.0)
        .fetch_all(c)
        .await?;
    rows.iter().map(from_row).collect()
}

/// One group of the account (a foreign id is not found).
pub async fn get(
    c: &mut Conn,
    account: AccountId,
    id: GroupId,
    lock: Lock,
) -> Result<Option<GroupRow>, StoreError> {
    let lock = lock.clause_of(c, "g");
    let sql = format!("{SELECT} WHERE g.account_id = $1 AND g.id = $2{lock}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account.0)
        .bind(id.0)
        .fetch_optional(c)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Whether another group of the account has this name (case-insensitive).
pub async fn name_taken(
    c: &mut Conn,
    account: AccountId,
    name: &str,
    except: Option<GroupId>,
) -> Result<bool, StoreError> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM groups WHERE account_id = $1 AND LOWER(name) = LOWER($2) AND ($3 IS NULL OR id <> $3)",
    )
    .bind(account.0)
    .bind(name)
    .bind(except.map(|g| g.0))
    .fetch_optional(c)
    .await?;
    Ok(found.is_some())
}

pub struct NewGroup<'a> {
    pub account: AccountId,
    pub name: &'a str,
    pub description: &'a str,
    pub color: Option<&'a str>,
    pub created_by: MemberId,
}

pub async fn insert(c: &mut Conn, g: NewGroup<'_>, now: Timestamp) -> Result<GroupId, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO groups (account_id, name, description, color, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(g.account.0)
    .bind(g.name)
    .bind(g.description)
    .bind(g.color)
    .bind(g.created_by.0)
    .bind(now.0)
    .fetch_one(c)
    .await?;
    Ok(GroupId(id))
}

/// Writes the editable fields (name, description, colour) as given.
pub async fn update(
    c: &mut Conn,
    id: GroupId,
    name: &str,
    description: &str,
    color: Option<&str>,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE groups SET name = $1, description = $2, color = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(name)
    .bind(description)
    .bind(color)
    .bind(now.0)
    .bind(id.0)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn delete(c: &mut Conn, id: GroupId) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM groups WHERE id = $1")
        .bind(id.0)
        .execute(c)
        .await?;
    Ok(())
}
