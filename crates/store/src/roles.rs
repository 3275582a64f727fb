//! Roles of an account (P3): the built-in presets created with it and its own
//! custom roles. Every lookup is within one account, so another account's
//! role ids are simply not found (X3).

use crate::db::{Conn, Lock};
use crate::error::StoreError;
use leadteam_domain::authz::{PermissionSet, Preset};
use leadteam_domain::{AccountId, RoleId, Timestamp};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRow {
    pub id: RoleId,
    pub account: AccountId,
    pub name: String,
    /// The preset this role was created as; `None` for a custom role.
    pub preset: Option<Preset>,
    pub permissions: PermissionSet,
    pub created_at: Timestamp,
}

impl RoleRow {
    /// Every role but the Owner preset may be renamed and have its
    /// permissions changed.
    pub fn is_editable(&self) -> bool {
        self.preset.is_none_or(Preset::is_editable)
    }

    /// Only custom roles may be deleted (and only while nobody holds them).
    pub fn is_custom(&self) -> bool {
        self.preset.is_none()
    }
}

/// A role with how many members (any status) hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleWithCount {
    pub role: RoleRow,
    pub members: i64,
}

const COLUMNS: &str = "r.id, r.account_id, r.name, r.preset, r.permissions, r.created_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<RoleRow, StoreError> {
    let preset: Option<String> = r.try_get("preset")?;
    Ok(RoleRow {
        id: RoleId(r.try_get("id")?),
        account: AccountId(r.try_get("account_id")?),
        name: r.try_get("name")?,
        preset: preset.as_deref().and_then(Preset::from_key),
        permissions: PermissionSet::from_bits(r.try_get("permissions")?),
        created_at: Timestamp(r.try_get("created_at")?),
    })
}

pub async fn insert(
    c: &mut Conn,
    account: AccountId,
    name: &str,
    preset: Option<Preset>,
    permissions: PermissionSet,
    now: Timestamp,
) -> Result<RoleId, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO roles (account_id, name, preset, permissions, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(account.0)
    .bind(name)
    .bind(preset.map(Preset::key))
    .bind(permissions.bits())
    .bind(now.0)
    .fetch_one(c)
    .await?;
    Ok(RoleId(id))
}

/// Every role of the account with its member count, presets first (they are
/// created with the account), then custom roles in creation order.
pub async fn list(c: &mut Conn, account: AccountId) -> Result<Vec<RoleWithCount>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS}, (SELECT COUNT(*) FROM members m WHERE m.role_id = r.id AND m.status <> 'removed') AS members \
         FROM roles r WHERE r.account_id = $1 ORDER BY r.id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account.0)
        .fetch_all(c)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(RoleWithCount {
                role: from_row(r)?,
                members: r.try_get("members")?,
            })
        })
        .collect()
}

/// One role of the account; `Lock::ForUpdate` locks its row for the
/// rest of the transaction.
pub async fn get(
    c: &mut Conn,
    account: AccountId,
    id: RoleId,
    lock: Lock,
) -> Result<Option<RoleRow>, StoreError> {
    let lock = lock.clause(c);
    let sql = format!("SELECT {COLUMNS} FROM roles r WHERE r.id = $1 AND r.account_id = $2{lock}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .bind(account.0)
        .fetch_optional(c)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The role of the account with this name, compared case-insensitively
/// (role names are unique per account in that sense).
pub async fn by_name(
    c: &mut Conn,
    account: AccountId,
    name: &str,
) -> Result<Option<RoleRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM roles r WHERE r.account_id = $1 AND LOWER(r.name) = LOWER($2) ORDER BY r.id LIMIT 1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account.0)
        .bind(name)
        .fetch_optional(c)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// How many members (invited, active or deactivated) hold the role.
pub async fn member_count(c: &mut Conn, id: RoleId) -> Result<i64, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM members WHERE role_id = $1 AND status <> 'removed'",
    )
    .bind(id.0)
    .fetch_one(c)
    .await?;
    Ok(n)
}

/// Renames a role and sets its permissions.
pub async fn update(
    c: &mut Conn,
    account: AccountId,
    id: RoleId,
    name: &str,
    permissions: PermissionSet,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE roles SET name = $1, permissions = $2 WHERE id = $3 AND account_id = $4")
        .bind(name)
        .bind(permissions.bits())
        .bind(id.0)
        .bind(account.0)
        .execute(c)
        .await?;
    Ok(())
}

/// Deletes a role nobody holds; false when it is gone or held by a member.
pub async fn delete_unheld(
    c: &mut Conn,
    account: AccountId,
    id: RoleId,
) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "DELETE FROM roles WHERE id = $1 AND account_id = $2 \
         AND NOT EXISTS (SELECT 1 FROM members WHERE role_id = $1)",
    )
    .bind(id.0)
    .bind(account.0)
    .execute(c)
    .await?
    .rows_affected();
    Ok(n == 1)
}
