//! Credits (B5): members with `billing.manage` allocate credits to members
//! or take them back; the balance never goes below zero and every change is
//! in the member's ledger with its actor and reason, and in the audit log.
//! Actions with a cost charge through `leadteam_store::credits::charge`.

use crate::App;
use crate::auth::Caller;
use crate::error::AppError;
use leadteam_domain::authz::Action;
use leadteam_domain::validate::Name;
use leadteam_domain::{FieldError, MemberId, ValidationErrors};
use leadteam_store::Lock;
use leadteam_store::credits::{self, CreditEntry};
use leadteam_store::members;
use serde_json::json;

/// Largest change of one allocation, either way.
pub const MAX_DELTA: i64 = 1_000_000_000;
/// Largest balance a member may hold.
pub const MAX_BALANCE: i64 = 1_000_000_000_000;
/// Ledger entries shown with a balance.
pub const LEDGER_LIMIT: i64 = 200;

/// A member's balance and its newest ledger entries.
#[derive(Debug, Clone)]
pub struct CreditsView {
    pub member: MemberId,
    pub balance: i64,
    pub ledger: Vec<CreditEntry>,
}

/// The member's balance and ledger: one's own, or anyone's in the account
/// with `billing.manage`.
pub async fn view(app: &App, caller: &Caller, member: MemberId) -> Result<CreditsView, AppError> {
    let actor = caller.may(&Action::ViewCredits { member })?;
    let mut c = app.db.conn().await?;
    members::get(&mut c, actor.account, member, Lock::None)
        .await?
        .ok_or(AppError::NotFound("member"))?;
    Ok(CreditsView {
        member,
        balance: credits::balance(&mut c, member).await?,
        ledger: credits::ledger(&mut c, member, LEDGER_LIMIT).await?,
    })
}

/// Allocates `delta` credits to the member (negative: takes them back), with
/// a reason. Taking back more than the balance is refused and writes
/// nothing (B5).
pub async fn allocate(
    app: &App,
    caller: &Caller,
    member: MemberId,
    delta: i64,
    reason: &str,
) -> Result<CreditsView, AppError> {
    let actor = caller.may(&Action::AllocateCredits)?.clone();
    let mut errs = ValidationErrors::default();
    if delta == 0 || delta.abs() > MAX_DELTA {
        errs.push(FieldError::new(
            "delta",
            format!(
                "must be a whole number of credits other than 0, from -{MAX_DELTA} to {MAX_DELTA} (negative takes credits back)"
            ),
        ));
    }
    let reason = errs.take(Name::parse("reason", reason, 200));
    errs.into_result()?;
    let Some(reason) = reason else {
        return Err(AppError::Internal("validation inconsistency".into()));
    };
    let now = app.now();
    let mut tx = app.db.write().await?;
    let target = members::get(&mut tx, actor.account, member, Lock::ForUpdate)
        .await?
        .ok_or(AppError::NotFound("member"))?;
    let before = credits::balance(&mut tx, member).await?;
    if before.saturating_add(delta) > MAX_BALANCE {
        return Err(AppError::field(
            "delta",
            format!("the balance would pass the limit of {MAX_BALANCE} credits"),
        ));
    }
    let Some(after) = credits::adjust(
        &mut tx,
        actor.account,
        member,
        delta,
        Some(actor.member),
        reason.as_str(),
        now,
    )
    .await?
    else {
        return Err(AppError::conflict(
            None,
            format!(
                "cannot take back {} credits: {} has only {before}",
                -delta, target.name
            ),
        ));
    };
    let action = if delta > 0 {
        "credits.allocated"
    } else {
        "credits.taken_back"
    };
    crate::trail::record(
        &mut tx,
        caller,
        action,
        "member",
        member.0,
        Some(json!({"balance": before})),
        Some(json!({"balance": after, "delta": delta, "reason": reason.as_str()})),
        now,
    )
    .await?;
    let ledger = credits::ledger(&mut tx, member, LEDGER_LIMIT).await?;
    tx.commit().await?;
    Ok(CreditsView {
        member,
        balance: after,
        ledger,
    })
}
