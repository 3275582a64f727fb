//! Agents on duty (B4): an agent "starts work" to take part in the inbox and
//! automatic assignment, and holds one of the account's licences until it
//! stops work, signs out, is deactivated or removed.
//!
//! For routing and the inbox: [`on_duty_members`] lists who is on duty and
//! [`is_on_duty`] answers for one member; when the plan's
//! `enforce_licences` is set (see `billing::plan`), only those agents are
//! picked.

use crate::db::Conn;
use crate::error::StoreError;
use leadteam_domain::{AccountId, MemberId, Timestamp};
use sqlx::Row;

/// One agent on duty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnDuty {
    pub member: MemberId,
    pub since: Timestamp,
}

/// What happened when an agent asked to start work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// A licence was free: the agent is on duty from `since`.
    Started { since: Timestamp },
    /// The agent was on duty already (since then); nothing changed.
    AlreadyOn { since: Timestamp },
    /// Every licence is in use: `in_use` of `licences`.
    NoLicenceFree { in_use: i64, licences: i64 },
}

/// Every agent on duty in the account, longest on duty first.
pub async fn on_duty_members(c: &mut Conn, account: AccountId) -> Result<Vec<OnDuty>, StoreError> {
    let rows = sqlx::query(
        "SELECT member_id, since FROM on_duty WHERE account_id = $1 ORDER BY since, member_id",
    )
    .bind(account.0)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(OnDuty {
                member: MemberId(r.try_get("member_id")?),
                since: Timestamp(r.try_get("since")?),
            })
        })
        .collect()
}

/// Since when the member is on duty, if it is.
pub async fn is_on_duty(c: &mut Conn, member: MemberId) -> Result<Option<Timestamp>, StoreError> {
    let since: Option<i64> = sqlx::query_scalar("SELECT since FROM on_duty WHERE member_id = $1")
        .bind(member.0)
        .fetch_optional(c)
        .await?;
    Ok(since.map(Timestamp))
}

/// How many licences of the account are in use.
pub async fn in_use(c: &mut Conn, account: AccountId) -> Result<i64, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM on_duty WHERE account_id = $1")
        .bind(account.0)
        .fetch_one(c)
        .await?;
    Ok(n)
}

/// Puts the member on duty when a licence is free. Call it inside a write
/// transaction after locking the account's plan row (`billing::plan` with
/// `db.for_update()`): the one conditional insert then never puts more
/// agents on duty than the plan has licences, however many ask at once.
pub async fn start(
    c: &mut Conn,
    account: AccountId,
    member: MemberId,
    now: Timestamp,
) -> Result<Start, StoreError> {
    if let Some(since) = is_on_duty(c, member).await? {
        return Ok(Start::AlreadyOn { since });
    }
    let n = sqlx::query(
        "INSERT INTO on_duty (member_id, account_id, since) \
         SELECT $1, $2, $3 WHERE (SELECT COUNT(*) FROM on_duty WHERE account_id = $2) < \
         (SELECT licences FROM billing_plans WHERE account_id = $2)",
    )
    .bind(member.0)
    .bind(account.0)
    .bind(now.0)
    .execute(&mut *c)
    .await?
    .rows_affected();
    if n == 1 {
        return Ok(Start::Started { since: now });
    }
    let licences: Option<i64> =
        sqlx::query_scalar("SELECT licences FROM billing_plans WHERE account_id = $1")
            .bind(account.0)
            .fetch_optional(&mut *c)
            .await?;
    Ok(Start::NoLicenceFree {
        in_use: in_use(c, account).await?,
        licences: licences.unwrap_or(0),
    })
}

/// Takes the member off duty, freeing its licence; returns since when it
/// was on duty (None when it was not).
pub async fn stop(c: &mut Conn, member: MemberId) -> Result<Option<Timestamp>, StoreError> {
    let since: Option<i64> =
        sqlx::query_scalar("DELETE FROM on_duty WHERE member_id = $1 RETURNING since")
            .bind(member.0)
            .fetch_optional(c)
            .await?;
    Ok(since.map(Timestamp))
}
