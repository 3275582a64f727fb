//! Sign-up requests: an account is created only when the link emailed to
//! its address is followed (the address is proven first). One request per
//! address at a time: a new one replaces it.

use crate::db::{Conn, Lock};
use crate::error::StoreError;
use leadteam_domain::{Timestamp, UserId};
use sqlx::Row;

/// A request waiting for its link.
#[derive(Clone)]
pub struct SignupRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub account_name: String,
    pub password_hash: String,
    /// An existing user who gave its password: the link adds an account.
    pub user: Option<UserId>,
    pub expires_at: Timestamp,
}

impl std::fmt::Debug for SignupRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignupRow")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

pub struct NewSignup<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub account_name: &'a str,
    pub password_hash: &'a str,
    pub user: Option<UserId>,
    /// An unusable hash until the mail's link is minted.
    pub token_hash: &'a str,
}

/// Stores (or replaces) the request of an address; gives its id.
pub async fn upsert(
    c: &mut Conn,
    s: NewSignup<'_>,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO signup_requests (email, name, account_name, password_hash, user_id, token_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (email) DO UPDATE SET name = excluded.name, account_name = excluded.account_name, \
         password_hash = excluded.password_hash, user_id = excluded.user_id, token_hash = excluded.token_hash, \
         created_at = excluded.created_at, expires_at = excluded.expires_at RETURNING id",
    )
    .bind(s.email)
    .bind(s.name)
    .bind(s.account_name)
    .bind(s.password_hash)
    .bind(s.user.map(|u| u.0))
    .bind(s.token_hash)
    .bind(now.0)
    .bind(expires_at.0)
    .fetch_one(c)
    .await?)
}

/// Sets the hash of a freshly minted link; false when the request is gone.
pub async fn set_token(
    c: &mut Conn,
    id: i64,
    token_hash: &str,
    expires_at: Timestamp,
) -> Result<bool, StoreError> {
    let done =
        sqlx::query("UPDATE signup_requests SET token_hash = $2, expires_at = $3 WHERE id = $1")
            .bind(id)
            .bind(token_hash)
            .bind(expires_at.0)
            .execute(c)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// The request of a link's token hash.
pub async fn by_token_hash(
    c: &mut Conn,
    token_hash: &str,
    lock: Lock,
) -> Result<Option<SignupRow>, StoreError> {
    let lock = lock.clause(c);
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT id, email, name, account_name, password_hash, user_id, expires_at \
         FROM signup_requests WHERE token_hash = $1{lock}"
    )))
    .bind(token_hash)
    .fetch_optional(c)
    .await?;
    row.map(|r| {
        Ok(SignupRow {
            id: r.try_get("id")?,
            email: r.try_get("email")?,
            name: r.try_get("name")?,
            account_name: r.try_get("account_name")?,
            password_hash: r.try_get("password_hash")?,
            user: r.try_get::<Option<i64>, _>("user_id")?.map(UserId),
            expires_at: Timestamp(r.try_get("expires_at")?),
        })
    })
    .transpose()
}

pub async fn delete(c: &mut Conn, id: i64) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM signup_requests WHERE id = $1")
        .bind(id)
        .execute(c)
        .await?;
    Ok(())
}
