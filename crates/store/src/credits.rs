//! Credits (B5): a balance per member that never goes negative, and a
//! ledger of every change with its actor and reason.
//!
//! For actions with a cost (claiming or accepting a lead; the costs are the
//! plan's `claim_cost_credits` / `accept_cost_credits`, see
//! `billing::plan`): call [`charge`] in the action's own transaction and
//! refuse the action when it answers `false`.

use crate::db::Conn;
use crate::error::StoreError;
use leadteam_domain::{AccountId, MemberId, Timestamp};
use sqlx::Row;

/// One entry of a member's credit ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditEntry {
    pub id: i64,
    pub member: MemberId,
    pub delta: i64,
    pub balance_after: i64,
    /// Who allocated or took back the credits, or the member charged.
    pub actor: Option<MemberId>,
    pub reason: String,
    pub at: Timestamp,
}

/// The member's balance (0 when it never had credits).
pub async fn balance(c: &mut Conn, member: MemberId) -> Result<i64, StoreError> {
    let b: Option<i64> =
        sqlx::query_scalar("SELECT balance FROM credit_balances WHERE member_id = $1")
            .bind(member.0)
            .fetch_optional(c)
            .await?;
    Ok(b.unwrap_or(0))
}

/// Adds `delta` (positive: allocate; negative: take back) to the member's
/// balance and writes the ledger entry, as one conditional update: the
/// balance never goes below zero. Returns the balance after, or `None` when
/// the balance is short (nothing is written). A zero delta writes nothing.
pub async fn adjust(
    c: &mut Conn,
    account: AccountId,
    member: MemberId,
    delta: i64,
    actor: Option<MemberId>,
    reason: &str,
    now: Timestamp,
) -> Result<Option<i64>, StoreError> {
    if delta == 0 {
        return Ok(Some(balance(c, member).await?));
    }
    let after: Option<i64> = if delta > 0 {
        Some(
            sqlx::query_scalar(
                "INSERT INTO credit_balances (member_id, account_id, balance) VALUES ($1, $2, $3) \
                 ON CONFLICT (member_id) DO UPDATE SET balance = credit_balances.balance + excluded.balance \
                 RETURNING balance",
            )
            .bind(member.0)
            .bind(account.0)
            .bind(delta)
            .fetch_one(&mut *c)
            .await?,
        )
    } else {
        sqlx::query_scalar(
            "UPDATE credit_balances SET balance = balance + $1 \
             WHERE member_id = $2 AND account_id = $3 AND balance + $1 >= 0 RETURNING balance",
        )
        .bind(delta)
        .bind(member.0)
        .bind(account.0)
        .fetch_optional(&mut *c)
        .await?
    };
    let Some(after) = after else { return Ok(None) };
    sqlx::query(
        "INSERT INTO credit_ledger (account_id, member_id, delta, balance_after, actor_member_id, reason, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(account.0)
    .bind(member.0)
    .bind(delta)
    .bind(after)
    .bind(actor.map(|a| a.0))
    .bind(reason)
    .bind(now.0)
    .execute(c)
    .await?;
    Ok(Some(after))
}

/// Charges `cost` credits to `member` for an action (B5), in the caller's
/// transaction: `Ok(true)` when paid (the ledger names the member as actor
/// and `reason`), `Ok(false)` when the balance is short, and then nothing is
/// written and the action must be refused. A cost of 0 or less is free:
/// `Ok(true)` without a ledger entry.
pub async fn charge(
    c: &mut Conn,
    account: AccountId,
    member: MemberId,
    cost: i64,
    reason: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    if cost <= 0 {
        return Ok(true);
    }
    let after = adjust(c, account, member, -cost, Some(member), reason, now).await?;
    Ok(after.is_some())
}

/// The member's ledger, newest first, at most `limit` entries.
pub async fn ledger(
    c: &mut Conn,
    member: MemberId,
    limit: i64,
) -> Result<Vec<CreditEntry>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, member_id, delta, balance_after, actor_member_id, reason, at FROM credit_ledger \
         WHERE member_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(member.0)
    .bind(limit)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CreditEntry {
                id: r.try_get("id")?,
                member: MemberId(r.try_get("member_id")?),
                delta: r.try_get("delta")?,
                balance_after: r.try_get("balance_after")?,
                actor: r
                    .try_get::<Option<i64>, _>("actor_member_id")?
                    .map(MemberId),
                reason: r.try_get("reason")?,
                at: Timestamp(r.try_get("at")?),
            })
        })
        .collect()
}
