//! Billing (B1-B5): the plan facts, seats, the pro-rated invoice of a cycle,
//! agent licences ([`duty`]) and credits ([`credits`]).
//!
//! - B1: during the free trial any number of members may be invited; seats
//!   are enforced from the end of the trial, and trial days are free.
//! - B2: the seat ledger (written by the members use cases in their own
//!   transactions) is priced by `leadteam_domain::billing::invoice`.
//! - B3: inviting (and reactivating) beyond the purchased seats is refused
//!   once the trial is over; seats never go below the members holding one.

pub mod credits;
pub mod duty;
mod plan;

pub use plan::{PlanChanges, set_seats, update_plan};

use crate::App;
use crate::auth::Caller;
use crate::error::AppError;
use leadteam_domain::authz::{Action, MemberStatus};
use leadteam_domain::billing::{
    BillingCycle, Cycle, Day, Invoice, InvoiceLine, SeatCheck, SeatEventKind, invoice,
};
use leadteam_domain::{AccountId, MemberId, Timestamp};
use leadteam_store::Lock;
use leadteam_store::billing::{self, PlanRow};
use leadteam_store::members::{self, MemberRow};
use leadteam_store::{Conn, Db, accounts, duty as duty_store};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The plan of `account`, created with the defaults when the account
/// predates billing. `lock` as for `billing::plan`.
pub(crate) async fn plan_in(
    conn: &mut Conn,
    account: AccountId,
    lock: Lock,
) -> Result<PlanRow, AppError> {
    if let Some(p) = billing::plan(conn, account, lock).await? {
        return Ok(p);
    }
    let created = accounts::by_id(conn, account)
        .await?
        .ok_or(AppError::NotFound("account"))?
        .created_at;
    billing::create_default_plan(conn, account, created).await?;
    billing::plan(conn, account, lock)
        .await?
        .ok_or(AppError::NotFound("billing plan"))
}

/// The plan, read outside a transaction; an account that predates billing
/// gets its default plan in a write transaction of its own.
async fn plan_of(db: &Db, account: AccountId) -> Result<PlanRow, AppError> {
    let mut c = db.conn().await?;
    if let Some(p) = billing::plan(&mut c, account, Lock::None).await? {
        return Ok(p);
    }
    drop(c);
    let mut tx = db.write().await?;
    let p = plan_in(&mut tx, account, Lock::None).await?;
    tx.commit().await?;
    Ok(p)
}

/// The audit picture of a plan (before/after).
pub(crate) fn plan_snapshot(p: &PlanRow) -> Value {
    json!({
        "trial_ends_at": p.trial_ends_at.0,
        "anchor_day": p.anchor_day,
        "price_cents": p.price_cents,
        "currency": p.currency,
        "seats": p.seats,
        "licences": p.licences,
        "enforce_licences": p.enforce_licences,
        "claim_cost_credits": p.claim_cost_credits,
        "accept_cost_credits": p.accept_cost_credits,
    })
}

fn seat_check(plan: &PlanRow, used: i64) -> SeatCheck {
    SeatCheck {
        purchased: u32::try_from(plan.seats.max(0)).unwrap_or(u32::MAX),
        used: u32::try_from(used.max(0)).unwrap_or(u32::MAX),
    }
}

/// B3 (with B1): refuses one more invitation when every purchased seat is
/// taken, once the trial is over. Locks the plan row, so that concurrent
/// invitations are counted one after the other. Hook of `members::invite`.
pub(crate) async fn check_seat_for_invite(
    _db: &Db,
    conn: &mut Conn,
    account: AccountId,
    now: Timestamp,
) -> Result<(), AppError> {
    let plan = plan_in(conn, account, Lock::ForUpdate).await?;
    if plan.in_trial(now) {
        return Ok(());
    }
    let used = billing::seats_used(conn, account).await?;
    seat_check(&plan, used)
        .can_invite(1)
        .map_err(|e| AppError::conflict(None, e.to_string()))
}

/// B3: a deactivated member holds no seat, so reactivating it takes one;
/// refused when none is free once the trial is over. Hook of
/// `members::set_active`.
pub(crate) async fn check_seat_for_reactivation(
    _db: &Db,
    conn: &mut Conn,
    account: AccountId,
    now: Timestamp,
) -> Result<(), AppError> {
    let plan = plan_in(conn, account, Lock::ForUpdate).await?;
    if plan.in_trial(now) {
        return Ok(());
    }
    let used = billing::seats_used(conn, account).await?;
    let check = seat_check(&plan, used);
    if check.can_invite(1).is_ok() {
        return Ok(());
    }
    Err(AppError::conflict(
        None,
        format!(
            "no seat is free ({} of {} in use); add seats under Billing to reactivate this member",
            check.used, check.purchased
        ),
    ))
}

/// B2: records what happened to `member`'s seat, in the transaction of the
/// change. Deactivation and removal also free the member's licence (B4).
/// Hook of `members::accept`, `set_active` and `remove`.
pub(crate) async fn record_seat(
    conn: &mut Conn,
    member: &MemberRow,
    kind: SeatEventKind,
    now: Timestamp,
) -> Result<(), AppError> {
    billing::record_seat_event(
        conn,
        member.account,
        member.id,
        &member.name,
        &member.email,
        kind,
        now,
    )
    .await?;
    if matches!(kind, SeatEventKind::Deactivated | SeatEventKind::Removed) {
        duty_store::stop(conn, member.id).await?;
    }
    Ok(())
}

/// One invoice line with who it is for.
#[derive(Debug, Clone)]
pub struct LineView {
    pub line: InvoiceLine,
    pub name: String,
    pub email: String,
    /// active | deactivated | removed
    pub status: &'static str,
}

/// Everything `GET /api/v1/billing` shows.
#[derive(Debug, Clone)]
pub struct BillingView {
    pub plan: PlanRow,
    pub now: Timestamp,
    pub in_trial: bool,
    /// The day the trial ends: the first day charged.
    pub trial_end_day: Day,
    pub seats_used: i64,
    pub active_members: i64,
    pub invited_members: i64,
    pub licences_in_use: i64,
    pub cycle: Cycle,
    pub invoice: Invoice,
    pub lines: Vec<LineView>,
}

impl BillingView {
    /// Whether inviting beyond the seats is refused now (after the trial: B1, B3).
    pub fn seats_enforced(&self) -> bool {
        !self.in_trial
    }
}

/// The billing view (B2, B3): plan facts, seats, and the pro-rated lines of
/// the cycle containing `day` (default: today), which is the next invoice
/// when it is the current cycle. Active members are counted to the end of
/// the cycle as if nothing changes; invited members have no line.
pub async fn view(app: &App, caller: &Caller, day: Option<Day>) -> Result<BillingView, AppError> {
    let account = caller.may(&Action::ViewBilling)?.account;
    let now = app.now();
    let plan = plan_of(&app.db, account).await?;
    let mut tx = app.db.read().await?;
    let cycle = BillingCycle::monthly(plan.anchor())
        .cycle_containing(day.unwrap_or_else(|| Day::from_timestamp(now)));
    let ledger = billing::seat_events(&mut tx, account, cycle.end.start()).await?;
    let trial_end_day = Day::from_timestamp(plan.trial_ends_at);
    let events: Vec<_> = ledger.iter().map(|r| r.event).collect();
    let inv = invoice(cycle, plan.price_cents, Some(trial_end_day), &events);
    let current: BTreeMap<MemberId, MemberRow> = members::list(&mut tx, account, None)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let (invited, active, _) = members::count_by_status(&mut tx, account).await?;
    let seats_used = billing::seats_used(&mut tx, account).await?;
    let licences_in_use = duty_store::in_use(&mut tx, account).await?;
    tx.commit().await?;
    let lines = inv
        .lines
        .iter()
        .map(|l| {
            let (name, email, status) = match current.get(&l.member) {
                Some(m) => (
                    m.name.clone(),
                    m.email.clone(),
                    match m.status {
                        MemberStatus::Active => "active",
                        _ => "deactivated",
                    },
                ),
                None => {
                    let last = ledger.iter().rev().find(|r| r.event.member == l.member);
                    (
                        last.map(|r| r.member_name.clone()).unwrap_or_default(),
                        last.map(|r| r.member_email.clone()).unwrap_or_default(),
                        "removed",
                    )
                }
            };
            LineView {
                line: l.clone(),
                name,
                email,
                status,
            }
        })
        .collect();
    Ok(BillingView {
        in_trial: plan.in_trial(now),
        trial_end_day,
        plan,
        now,
        seats_used,
        active_members: active,
        invited_members: invited,
        licences_in_use,
        cycle,
        invoice: inv,
        lines,
    })
}
