//! Sessions: opaque tokens of which only the SHA-256 is stored.

use crate::db::Conn;
use crate::error::StoreError;
use leadteam_domain::{AccountId, SessionId, Timestamp, UserId};
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: SessionId,
    pub user: UserId,
    pub account: Option<AccountId>,
    pub expires_at: Timestamp,
    pub last_seen_at: Timestamp,
}

pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user: UserId,
    pub account: Option<AccountId>,
    pub expires_at: Timestamp,
    pub user_agent: Option<&'a str>,
    pub ip: Option<&'a str>,
}

pub async fn insert(
    c: &mut Conn,
    s: NewSession<'_>,
    now: Timestamp,
) -> Result<SessionId, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO sessions (token_hash, user_id, account_id, created_at, last_seen_at, expires_at, user_agent, ip) \
         VALUES ($1, $2, $3, $4, $4, $5, $6, $7) RETURNING id",
    )
    .bind(s.token_hash)
    .bind(s.user.0)
    .bind(s.account.map(|a| a.0))
    .bind(now.0)
    .bind(s.expires_at.0)
    .bind(s.user_agent)
    .bind(s.ip)
    .fetch_one(c)
    .await?;
    Ok(SessionId(id))
}

/// A live session with its user and, when the session is in an account,
/// the member's authorisation there.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub session: SessionRow,
    pub user: crate::users::UserRow,
    pub member: Option<crate::accounts::MemberAuth>,
}

/// How a session is named.
#[derive(Debug, Clone, Copy)]
pub enum SessionKey<'a> {
    /// By the SHA-256 of its token (each request).
    TokenHash(&'a str),
    /// By id (after the session switched account).
    Id(SessionId),
}

/// The live session named by `key` with its user and its member: one
/// statement (issue 19: it was four round trips — session, user, member,
/// teams — before a request could start). The app keeps what it read until
/// something changes it (`app::auth::KnownCallers`).
pub async fn resolve(
    c: &mut Conn,
    key: SessionKey<'_>,
    now: Timestamp,
) -> Result<Option<Resolved>, StoreError> {
    static SQL: std::sync::LazyLock<[String; 2]> = std::sync::LazyLock::new(|| {
        let user_columns = crate::users::COLUMNS
            .split(", ")
            .map(|c| format!("u.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let select = format!(
            "SELECT s.id AS s_id, s.account_id AS s_account, s.expires_at AS s_expires_at, \
             s.last_seen_at AS s_last_seen_at, {user_columns}, {} \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             LEFT JOIN members m ON m.user_id = s.user_id AND m.account_id = s.account_id \
             LEFT JOIN roles r ON r.id = m.role_id \
             LEFT JOIN accounts a ON a.id = m.account_id \
             LEFT JOIN team_members tm ON tm.member_id = m.id",
            crate::accounts::MEMBER_AUTH_COLUMNS
        );
        [
            format!("{select} WHERE s.token_hash = $1 AND s.expires_at > $2 ORDER BY tm.team_id"),
            format!("{select} WHERE s.id = $1 AND s.expires_at > $2 ORDER BY tm.team_id"),
        ]
    });
    let q = match key {
        SessionKey::TokenHash(h) => sqlx::query(sqlx::AssertSqlSafe(SQL[0].as_str())).bind(h),
        SessionKey::Id(id) => sqlx::query(sqlx::AssertSqlSafe(SQL[1].as_str())).bind(id.0),
    };
    let rows = q.bind(now.0).fetch_all(&mut *c).await?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let user = crate::users::from_row(r)?;
    let session = SessionRow {
        id: SessionId(r.try_get("s_id")?),
        user: user.id,
        account: r.try_get::<Option<i64>, _>("s_account")?.map(AccountId),
        expires_at: Timestamp(r.try_get("s_expires_at")?),
        last_seen_at: Timestamp(r.try_get("s_last_seen_at")?),
    };
    let member = crate::accounts::member_auth_of(&rows)?;
    Ok(Some(Resolved {
        session,
        user,
        member,
    }))
}

/// Slides the expiry forward (called at most once a minute per session).
pub async fn touch(
    c: &mut Conn,
    id: SessionId,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE id = $3")
        .bind(now.0)
        .bind(expires_at.0)
        .bind(id.0)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn set_account(
    c: &mut Conn,
    id: SessionId,
    account: AccountId,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET account_id = $1 WHERE id = $2")
        .bind(account.0)
        .bind(id.0)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn delete(c: &mut Conn, id: SessionId) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(id.0)
        .execute(c)
        .await?;
    Ok(())
}

/// Ends every session of a user but `keep` (password change, 2FA reset).
pub async fn delete_all_of_user_except(
    c: &mut Conn,
    user: UserId,
    keep: Option<SessionId>,
) -> Result<u64, StoreError> {
    let n = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
        .bind(user.0)
        .bind(keep.map(|k| k.0).unwrap_or(-1))
        .execute(c)
        .await?
        .rows_affected();
    Ok(n)
}
