//! Users: people with a login, who may belong to several accounts.

use crate::db::{Conn, Lock};
use crate::error::StoreError;
use leadteam_domain::{Timestamp, UserId};
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub totp_secret: Option<String>,
    pub totp_pending_secret: Option<String>,
    pub totp_last_step: Option<i64>,
    pub created_at: Timestamp,
}

pub(crate) const COLUMNS: &str =
    "id, email, name, password_hash, totp_secret, totp_pending_secret, totp_last_step, created_at";

pub(crate) fn from_row(r: &sqlx::any::AnyRow) -> Result<UserRow, sqlx::Error> {
    Ok(UserRow {
        id: UserId(r.try_get("id")?),
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        password_hash: r.try_get("password_hash")?,
        totp_secret: r.try_get("totp_secret")?,
        totp_pending_secret: r.try_get("totp_pending_secret")?,
        totp_last_step: r.try_get("totp_last_step")?,
        created_at: Timestamp(r.try_get("created_at")?),
    })
}

pub async fn insert(
    c: &mut Conn,
    email: &str,
    name: &str,
    password_hash: &str,
    now: Timestamp,
) -> Result<UserId, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (email, name, password_hash, created_at, password_changed_at) \
         VALUES ($1, $2, $3, $4, $4) RETURNING id",
    )
    .bind(email)
    .bind(name)
    .bind(password_hash)
    .bind(now.0)
    .fetch_one(c)
    .await?;
    Ok(UserId(id))
}

pub async fn by_email(c: &mut Conn, email: &str) -> Result<Option<UserRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE email = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(email)
        .fetch_optional(c)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

pub async fn by_id(c: &mut Conn, id: UserId) -> Result<Option<UserRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(c)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

/// Locks the user row for the rest of the transaction (PostgreSQL), so that
/// TOTP steps and recovery codes are consumed once under concurrency.
/// A user, its row locked for the rest of the write transaction.
pub async fn by_id_for_update(c: &mut Conn, id: UserId) -> Result<Option<UserRow>, StoreError> {
    let lock = Lock::ForUpdate.clause(c);
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1{lock}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(c)
        .await?;
    Ok(row.as_ref().map(from_row).transpose()?)
}

pub async fn set_password(
    c: &mut Conn,
    id: UserId,
    hash: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
        .bind(hash)
        .bind(now.0)
        .bind(id.0)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn set_pending_totp(
    c: &mut Conn,
    id: UserId,
    secret: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET totp_pending_secret = $1 WHERE id = $2")
        .bind(secret)
        .bind(id.0)
        .execute(c)
        .await?;
    Ok(())
}

/// Makes the pending secret the active one and records the step just used.
pub async fn confirm_totp(
    c: &mut Conn,
    id: UserId,
    secret: &str,
    step: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE users SET totp_secret = $1, totp_pending_secret = NULL, totp_last_step = $2 WHERE id = $3",
    )
    .bind(secret)
    .bind(step)
    .bind(id.0)
    .execute(c)
    .await?;
    Ok(())
}

/// Records a used TOTP step only if it is later than the last one: returns
/// false when another request used this step (or a later one) first.
pub async fn consume_totp_step(c: &mut Conn, id: UserId, step: i64) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
    )
    .bind(step)
    .bind(id.0)
    .execute(c)
    .await?
    .rows_affected();
    Ok(n == 1)
}

pub async fn clear_totp(c: &mut Conn, id: UserId) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE users SET totp_secret = NULL, totp_pending_secret = NULL, totp_last_step = NULL WHERE id = $1",
    )
    .bind(id.0)
    .execute(&mut *c)
    .await?;
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(id.0)
        .execute(&mut *c)
        .await?;
    Ok(())
}

pub async fn replace_recovery_codes(
    c: &mut Conn,
    id: UserId,
    hashes: &[String],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(id.0)
        .execute(&mut *c)
        .await?;
    for h in hashes {
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
            .bind(id.0)
            .bind(h)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

/// Uses a recovery code once: one conditional update, so two concurrent uses
/// of the same code cannot both succeed.
pub async fn use_recovery_code(
    c: &mut Conn,
    id: UserId,
    hash: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
    )
    .bind(now.0)
    .bind(id.0)
    .bind(hash)
    .execute(c)
    .await?
    .rows_affected();
    Ok(n >= 1)
}

pub async fn unused_recovery_codes(c: &mut Conn, id: UserId) -> Result<i64, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
    )
    .bind(id.0)
    .fetch_one(c)
    .await?;
    Ok(n)
}
