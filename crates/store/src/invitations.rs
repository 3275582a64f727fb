//! Invitation links: one live link per invited member; only the hash of the
//! token is stored. Resending replaces the hash, so the old link dies.

use crate::db::{Conn, Lock};
use crate::error::StoreError;
use leadteam_domain::{AccountId, MemberId, Timestamp};
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct InvitationRow {
    pub member: MemberId,
    pub account: AccountId,
    pub email: String,
    pub expires_at: Timestamp,
}

/// A new link for an invited member.
pub struct NewInvitation<'a> {
    pub member: MemberId,
    pub account: AccountId,
    pub email: &'a str,
    pub token_hash: &'a str,
    pub invited_by: Option<MemberId>,
}

/// Sets the hash of a freshly minted link (when its mail is sent); false
/// when the member is no longer invited (cancelled, accepted).
pub async fn set_token(
    c: &mut Conn,
    member: MemberId,
    token_hash: &str,
    expires_at: Timestamp,
) -> Result<bool, StoreError> {
    let done =
        sqlx::query("UPDATE invitations SET token_hash = $2, expires_at = $3 WHERE member_id = $1")
            .bind(member.0)
            .bind(token_hash)
            .bind(expires_at.0)
            .execute(c)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Creates or replaces the link of an invited member.
pub async fn upsert(
    c: &mut Conn,
    i: NewInvitation<'_>,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO invitations (member_id, account_id, email, token_hash, invited_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (member_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at, \
         expires_at = excluded.expires_at, invited_by = excluded.invited_by",
    )
    .bind(i.member.0)
    .bind(i.account.0)
    .bind(i.email)
    .bind(i.token_hash)
    .bind(i.invited_by.map(|m| m.0))
    .bind(now.0)
    .bind(expires_at.0)
    .execute(c)
    .await?;
    Ok(())
}

/// The invitation of a token hash, locked for the accepting transaction.
pub async fn by_token_hash(
    c: &mut Conn,
    hash: &str,
    lock: Lock,
) -> Result<Option<InvitationRow>, StoreError> {
    let lock = lock.clause(c);
    let sql = format!(
        "SELECT member_id, account_id, email, expires_at FROM invitations WHERE token_hash = $1{lock}"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(hash)
        .fetch_optional(c)
        .await?;
    row.map(|r| {
        Ok(InvitationRow {
            member: MemberId(r.try_get("member_id")?),
            account: AccountId(r.try_get("account_id")?),
            email: r.try_get("email")?,
            expires_at: Timestamp(r.try_get("expires_at")?),
        })
    })
    .transpose()
}

pub async fn delete(c: &mut Conn, member: MemberId) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM invitations WHERE member_id = $1")
        .bind(member.0)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn expires_at(c: &mut Conn, member: MemberId) -> Result<Option<Timestamp>, StoreError> {
    let t: Option<i64> =
        sqlx::query_scalar("SELECT expires_at FROM invitations WHERE member_id = $1")
            .bind(member.0)
            .fetch_optional(c)
            .await?;
    Ok(t.map(Timestamp))
}
