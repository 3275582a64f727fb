//! Changing the plan facts and the purchased seats (`billing.manage`).

use super::{plan_in, plan_snapshot, seat_check};
use crate::App;
use crate::auth::Caller;
use crate::error::AppError;
use leadteam_domain::authz::Action;
use leadteam_domain::billing::{AnchorDay, SeatError};
use leadteam_domain::{FieldError, ValidationErrors};
use leadteam_store::Lock;
use leadteam_store::billing::{self, PlanRow};
use leadteam_store::duty;
use serde_json::json;

/// Highest price per member per cycle, in cents.
pub const MAX_PRICE_CENTS: i64 = 100_000_000;
/// Most seats or licences an account may buy.
pub const MAX_SEATS: i64 = 100_000;
/// Highest credit cost of one action.
pub const MAX_COST_CREDITS: i64 = 1_000_000;

/// Plan facts to change; `None` leaves a fact as it is.
#[derive(Debug, Clone, Default)]
pub struct PlanChanges {
    pub price_cents: Option<i64>,
    pub currency: Option<String>,
    pub anchor_day: Option<i64>,
    pub licences: Option<i64>,
    pub enforce_licences: Option<bool>,
    pub claim_cost_credits: Option<i64>,
    pub accept_cost_credits: Option<i64>,
}

fn in_range(
    errs: &mut ValidationErrors,
    field: &str,
    v: Option<i64>,
    max: i64,
    what: &str,
) -> Option<i64> {
    let v = v?;
    if (0..=max).contains(&v) {
        Some(v)
    } else {
        errs.push(FieldError::new(
            field,
            format!("must be {what} from 0 to {max}"),
        ));
        None
    }
}

/// Changes the plan facts (price, currency, anchor day, licences and their
/// enforcement, credit costs), every field validated and named (X2).
/// Licences cannot go below the agents on duty. Audited with before/after.
pub async fn update_plan(app: &App, caller: &Caller, ch: PlanChanges) -> Result<PlanRow, AppError> {
    let actor = caller.may(&Action::ManageBilling)?.clone();
    let mut errs = ValidationErrors::default();
    let price = in_range(
        &mut errs,
        "price_cents",
        ch.price_cents,
        MAX_PRICE_CENTS,
        "a whole number of cents",
    );
    let licences = in_range(
        &mut errs,
        "licences",
        ch.licences,
        MAX_SEATS,
        "a number of licences",
    );
    let claim = in_range(
        &mut errs,
        "claim_cost_credits",
        ch.claim_cost_credits,
        MAX_COST_CREDITS,
        "a number of credits",
    );
    let accept = in_range(
        &mut errs,
        "accept_cost_credits",
        ch.accept_cost_credits,
        MAX_COST_CREDITS,
        "a number of credits",
    );
    let anchor = match ch.anchor_day {
        Some(v) => errs.take(AnchorDay::parse("anchor_day", v)),
        None => None,
    };
    let currency = match ch.currency.as_deref().map(str::trim) {
        Some(c) if c.len() == 3 && c.chars().all(|ch| ch.is_ascii_alphabetic()) => {
            Some(c.to_ascii_uppercase())
        }
        Some(_) => {
            errs.push(FieldError::new(
                "currency",
                "must be a three-letter ISO 4217 code like USD or EUR",
            ));
            None
        }
        None => None,
    };
    errs.into_result()?;

    let now = app.now();
    let mut tx = app.db.write().await?;
    let before = plan_in(&mut tx, actor.account, Lock::ForUpdate).await?;
    if let Some(l) = licences {
        let on_duty = duty::in_use(&mut tx, actor.account).await?;
        if l < on_duty {
            return Err(AppError::conflict(
                None,
                format!(
                    "cannot go down to {l} licences: {on_duty} agents are on duty; ask some to stop work first"
                ),
            ));
        }
    }
    let mut after = before.clone();
    if let Some(v) = price {
        after.price_cents = v;
    }
    if let Some(v) = currency {
        after.currency = v;
    }
    if let Some(a) = anchor {
        after.anchor_day = i64::from(a.get());
    }
    if let Some(v) = licences {
        after.licences = v;
    }
    if let Some(v) = ch.enforce_licences {
        after.enforce_licences = v;
    }
    if let Some(v) = claim {
        after.claim_cost_credits = v;
    }
    if let Some(v) = accept {
        after.accept_cost_credits = v;
    }
    if after == before {
        return Ok(before);
    }
    after.updated_at = now;
    billing::save_plan(&mut tx, &after).await?;
    crate::trail::record(
        &mut tx,
        &actor,
        "billing.plan_updated",
        "account",
        actor.account.0,
        Some(plan_snapshot(&before)),
        Some(plan_snapshot(&after)),
        now,
    )
    .await?;
    tx.commit().await?;
    app.routing_changed(actor.account);
    Ok(after)
}

/// Sets the purchased seats (B3). Seats can always be added; they cannot go
/// below the members holding one (the owner, active members and pending
/// invitations), nor below the owner's seat. Audited with before/after.
pub async fn set_seats(app: &App, caller: &Caller, seats: i64) -> Result<PlanRow, AppError> {
    let actor = caller.may(&Action::ManageBilling)?.clone();
    if !(0..=MAX_SEATS).contains(&seats) {
        return Err(AppError::field(
            "seats",
            format!("must be a number of seats from 1 to {MAX_SEATS}"),
        ));
    }
    let now = app.now();
    let mut tx = app.db.write().await?;
    let before = plan_in(&mut tx, actor.account, Lock::ForUpdate).await?;
    let used = billing::seats_used(&mut tx, actor.account).await?;
    if seats < before.seats {
        let wanted = u32::try_from(seats).unwrap_or(u32::MAX);
        match seat_check(&before, used).can_reduce_to(wanted) {
            Ok(()) => {}
            Err(e @ SeatError::OwnerSeat) => return Err(AppError::field("seats", e.to_string())),
            Err(e) => return Err(AppError::conflict(None, e.to_string())),
        }
    }
    if seats == before.seats {
        return Ok(before);
    }
    let mut after = before.clone();
    after.seats = seats;
    after.updated_at = now;
    billing::save_plan(&mut tx, &after).await?;
    crate::trail::record(
        &mut tx,
        &actor,
        "billing.seats_changed",
        "account",
        actor.account.0,
        Some(json!({"seats": before.seats, "used": used})),
        Some(json!({"seats": after.seats, "used": used})),
        now,
    )
    .await?;
    tx.commit().await?;
    app.routing_changed(actor.account);
    Ok(after)
}
