//! Agent licences (B4): an agent starts work (goes on duty) to take part in
//! the inbox and automatic assignment. When every licence is in use the next
//! agent is told so and can still use everything else. Stopping work,
//! signing out, deactivation and removal free the licence.

use super::plan_in;
use crate::App;
use crate::auth::Caller;
use crate::error::AppError;
use leadteam_domain::Timestamp;
use leadteam_domain::authz::{Action, MemberStatus};
use leadteam_store::Lock;
use leadteam_store::duty::{self, Start};
use leadteam_store::{Conn, members};
use serde_json::json;

/// Where the caller stands, and the account's licences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DutyView {
    /// Since when the caller is on duty; None when it is not.
    pub since: Option<Timestamp>,
    pub licences: i64,
    pub in_use: i64,
    /// Routing and the inbox only use agents on duty.
    pub enforced: bool,
}

async fn view_in(conn: &mut Conn, caller: &Caller) -> Result<DutyView, AppError> {
    let actor = caller.actor()?;
    let plan = plan_in(conn, actor.account, Lock::None).await?;
    Ok(DutyView {
        since: duty::is_on_duty(conn, actor.member).await?,
        licences: plan.licences,
        in_use: duty::in_use(conn, actor.account).await?,
        enforced: plan.enforce_licences,
    })
}

/// Whether the caller is on duty, and the licences in use.
pub async fn status(app: &App, caller: &Caller) -> Result<DutyView, AppError> {
    caller.may(&Action::ViewOwnDuty)?;
    let mut c = app.db.conn().await?;
    view_in(&mut c, caller).await
}

/// Starts work (B4): takes a free licence, or answers 409 "no licence is
/// free (N of N in use)". The plan row is locked first, so concurrent calls
/// never put more agents on duty than there are licences. Starting again
/// while on duty changes nothing. Returns the view and whether it started now.
pub async fn start_work(app: &App, caller: &Caller) -> Result<(DutyView, bool), AppError> {
    let actor = caller.may(&Action::StartWork)?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    // B4: the plan row lock serialises concurrent starts (PostgreSQL).
    plan_in(&mut tx, actor.account, Lock::ForUpdate).await?;
    // The member may have been deactivated since the request began.
    let me = members::get(&mut tx, actor.account, actor.member, Lock::ForUpdate)
        .await?
        .ok_or(AppError::NotFound("member"))?;
    if me.status != MemberStatus::Active {
        return Err(AppError::Unauthenticated(crate::AuthFailure::NoAccount));
    }
    let started = match duty::start(&mut tx, actor.account, actor.member, now).await? {
        Start::Started { since } => {
            crate::trail::record(
                &mut tx,
                caller,
                "duty.started",
                "member",
                actor.member.0,
                Some(json!({"on_duty": false})),
                Some(json!({"on_duty": true, "since": since.0})),
                now,
            )
            .await?;
            true
        }
        Start::AlreadyOn { .. } => false,
        Start::NoLicenceFree { in_use, licences } => {
            return Err(AppError::conflict(
                None,
                format!(
                    "no licence is free ({in_use} of {licences} in use); you can still use everything else. \
                     Ask an admin to add licences or a colleague to stop work"
                ),
            ));
        }
    };
    let v = view_in(&mut tx, caller).await?;
    tx.commit().await?;
    app.routing_changed(caller.actor()?.account);
    Ok((v, started))
}

/// Stops work (B4): frees the caller's licence. Stopping while off duty
/// changes nothing.
pub async fn stop_work(app: &App, caller: &Caller) -> Result<DutyView, AppError> {
    caller.may(&Action::StopWork)?;
    let now = app.now();
    let mut tx = app.db.write().await?;
    release(&mut tx, caller, "stopped work", now).await?;
    let v = view_in(&mut tx, caller).await?;
    tx.commit().await?;
    app.routing_changed(caller.actor()?.account);
    Ok(v)
}

/// Frees the caller's licence, if it holds one, with an audit row naming
/// `why`. Also the hook of `auth::signout`.
pub(crate) async fn release(
    conn: &mut Conn,
    caller: &Caller,
    why: &str,
    now: Timestamp,
) -> Result<(), AppError> {
    let Some(actor) = caller.actor.as_ref() else {
        return Ok(());
    };
    if let Some(since) = duty::stop(conn, actor.member).await? {
        crate::trail::record(
            conn,
            caller,
            "duty.ended",
            "member",
            actor.member.0,
            Some(json!({"on_duty": true, "since": since.0})),
            Some(json!({"on_duty": false, "why": why})),
            now,
        )
        .await?;
    }
    Ok(())
}
