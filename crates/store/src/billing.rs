//! Plan facts of an account and the seat ledger (B1-B3).
//!
//! The plan row is written at sign-up with [`PlanDefaults`]; every later
//! change goes through the billing use cases. The seat ledger records each
//! activation, deactivation, reactivation and removal with its time; the
//! domain (`leadteam_domain::billing`) turns it into pro-rated charges.

use crate::db::{Conn, Lock};
use crate::error::StoreError;
use crate::flag;
use leadteam_domain::billing::{AnchorDay, Day, SeatEvent, SeatEventKind};
use leadteam_domain::{AccountId, MemberId, Timestamp};
use sqlx::Row;

/// What a new account starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanDefaults;

impl PlanDefaults {
    /// Length of the free trial (B1).
    pub const TRIAL_DAYS: i64 = 14;
    /// Seats purchased, the owner's included (B3).
    pub const SEATS: i64 = 5;
    /// Agents on duty at the same time (B4).
    pub const LICENCES: i64 = 5;
    /// Price per active member per cycle (B2).
    pub const PRICE_CENTS: i64 = 1500;
    pub const CURRENCY: &'static str = "USD";
}

/// The plan facts of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRow {
    pub account: AccountId,
    pub trial_ends_at: Timestamp,
    pub anchor_day: i64,
    pub price_cents: i64,
    pub currency: String,
    pub seats: i64,
    pub licences: i64,
    pub enforce_licences: bool,
    pub claim_cost_credits: i64,
    pub accept_cost_credits: i64,
    pub updated_at: Timestamp,
}

impl PlanRow {
    /// Whether the free trial is still running at `now` (B1).
    pub fn in_trial(&self, now: Timestamp) -> bool {
        now < self.trial_ends_at
    }

    /// The anchor day as the domain type (a stored value out of range,
    /// which the use cases never write, is clamped to 1..=28).
    pub fn anchor(&self) -> AnchorDay {
        AnchorDay::parse("anchor_day", self.anchor_day.clamp(1, 28))
            .unwrap_or_else(|_| AnchorDay::for_start(Day::EPOCH))
    }
}

/// Writes the default plan of an account created at `created_at`: a trial of
/// [`PlanDefaults::TRIAL_DAYS`], cycles anchored on the day of creation
/// (the 29th to 31st become the 28th). Does nothing when the account has a
/// plan already.
pub async fn create_default_plan(
    c: &mut Conn,
    account: AccountId,
    created_at: Timestamp,
) -> Result<(), StoreError> {
    let anchor = AnchorDay::for_start(Day::from_timestamp(created_at));
    sqlx::query(
        "INSERT INTO billing_plans (account_id, trial_ends_at, anchor_day, price_cents, currency, seats, licences, \
         enforce_licences, claim_cost_credits, accept_cost_credits, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0, 0, $8) ON CONFLICT (account_id) DO NOTHING",
    )
    .bind(account.0)
    .bind(created_at.plus_days(PlanDefaults::TRIAL_DAYS).0)
    .bind(i64::from(anchor.get()))
    .bind(PlanDefaults::PRICE_CENTS)
    .bind(PlanDefaults::CURRENCY)
    .bind(PlanDefaults::SEATS)
    .bind(PlanDefaults::LICENCES)
    .bind(created_at.0)
    .execute(c)
    .await?;
    Ok(())
}

/// The plan of an account. `lock` in write
/// transactions that decide on it (seats, licences): on PostgreSQL the row
/// lock serialises them per account; SQLite's `BEGIN IMMEDIATE` already does.
pub async fn plan(
    c: &mut Conn,
    account: AccountId,
    lock: Lock,
) -> Result<Option<PlanRow>, StoreError> {
    let lock = lock.clause(c);
    let sql = format!(
        "SELECT account_id, trial_ends_at, anchor_day, price_cents, currency, seats, licences, enforce_licences, \
         claim_cost_credits, accept_cost_credits, updated_at FROM billing_plans WHERE account_id = $1{lock}"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account.0)
        .fetch_optional(c)
        .await?;
    row.map(|r| -> Result<PlanRow, StoreError> {
        Ok(PlanRow {
            account: AccountId(r.try_get("account_id")?),
            trial_ends_at: Timestamp(r.try_get("trial_ends_at")?),
            anchor_day: r.try_get("anchor_day")?,
            price_cents: r.try_get("price_cents")?,
            currency: r.try_get("currency")?,
            seats: r.try_get("seats")?,
            licences: r.try_get("licences")?,
            enforce_licences: flag(r.try_get("enforce_licences")?),
            claim_cost_credits: r.try_get("claim_cost_credits")?,
            accept_cost_credits: r.try_get("accept_cost_credits")?,
            updated_at: Timestamp(r.try_get("updated_at")?),
        })
    })
    .transpose()
}

/// Writes every plan fact of `p` (the use case validated them).
pub async fn save_plan(c: &mut Conn, p: &PlanRow) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE billing_plans SET trial_ends_at = $1, anchor_day = $2, price_cents = $3, currency = $4, seats = $5, \
         licences = $6, enforce_licences = $7, claim_cost_credits = $8, accept_cost_credits = $9, updated_at = $10 \
         WHERE account_id = $11",
    )
    .bind(p.trial_ends_at.0)
    .bind(p.anchor_day)
    .bind(p.price_cents)
    .bind(&p.currency)
    .bind(p.seats)
    .bind(p.licences)
    .bind(i64::from(p.enforce_licences))
    .bind(p.claim_cost_credits)
    .bind(p.accept_cost_credits)
    .bind(p.updated_at.0)
    .bind(p.account.0)
    .execute(c)
    .await?;
    Ok(())
}

/// Members holding a seat (B3): the owner, active members and pending
/// invitations. Deactivated members hold none: billing stops for them and
/// reactivating one takes a seat again.
pub async fn seats_used(c: &mut Conn, account: AccountId) -> Result<i64, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM members WHERE account_id = $1 AND (status = 'active' OR status = 'invited' OR is_owner = 1)",
    )
    .bind(account.0)
    .fetch_one(c)
    .await?;
    Ok(n)
}

fn kind_str(k: SeatEventKind) -> &'static str {
    match k {
        SeatEventKind::Activated => "activated",
        SeatEventKind::Deactivated => "deactivated",
        SeatEventKind::Reactivated => "reactivated",
        SeatEventKind::Removed => "removed",
    }
}

fn parse_kind(s: &str) -> Option<SeatEventKind> {
    match s {
        "activated" => Some(SeatEventKind::Activated),
        "deactivated" => Some(SeatEventKind::Deactivated),
        "reactivated" => Some(SeatEventKind::Reactivated),
        "removed" => Some(SeatEventKind::Removed),
        _ => None,
    }
}

/// One row of the seat ledger, with the member's name and email as they were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatLedgerRow {
    pub id: i64,
    pub event: SeatEvent,
    pub member_name: String,
    pub member_email: String,
}

/// Appends to the seat ledger (B2); called in the transaction of the member
/// change it records.
pub async fn record_seat_event(
    c: &mut Conn,
    account: AccountId,
    member: MemberId,
    name: &str,
    email: &str,
    kind: SeatEventKind,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO seat_ledger (account_id, member_id, member_name, member_email, kind, at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(account.0)
    .bind(member.0)
    .bind(name)
    .bind(email)
    .bind(kind_str(kind))
    .bind(at.0)
    .execute(c)
    .await?;
    Ok(())
}

/// The seat ledger of an account up to (excluding) `until`, in time order.
pub async fn seat_events(
    c: &mut Conn,
    account: AccountId,
    until: Timestamp,
) -> Result<Vec<SeatLedgerRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, member_id, member_name, member_email, kind, at FROM seat_ledger \
         WHERE account_id = $1 AND at < $2 ORDER BY at, id",
    )
    .bind(account.0)
    .bind(until.0)
    .fetch_all(c)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let kind: String = r.try_get("kind")?;
        let Some(kind) = parse_kind(&kind) else {
            continue;
        };
        out.push(SeatLedgerRow {
            id: r.try_get("id")?,
            event: SeatEvent {
                member: MemberId(r.try_get("member_id")?),
                at: Timestamp(r.try_get("at")?),
                kind,
            },
            member_name: r.try_get("member_name")?,
            member_email: r.try_get("member_email")?,
        });
    }
    Ok(out)
}
