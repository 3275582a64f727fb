//! A member's alerts (C7, A6).

use crate::App;
use crate::auth::Caller;
use crate::error::AppError;
use leadteam_domain::authz::{Action, decide};
use leadteam_store::notifications::{self, NotificationRow};

pub async fn list(
    app: &App,
    caller: &Caller,
    unread_only: bool,
    before: Option<i64>,
    limit: i64,
) -> Result<(Vec<NotificationRow>, i64), AppError> {
    let actor = caller.actor()?;
    crate::auth::check(actor, &Action::CreateClient)?;
    if !(1..=200).contains(&limit) {
        return Err(AppError::field("limit", "must be between 1 and 200"));
    }
    let mut c = app.db.conn().await?;
    let rows = notifications::list(&mut c, actor.member, unread_only, before, limit).await?;
    let unread = notifications::unread_count(&mut c, actor.member).await?;
    Ok((rows, unread))
}

pub async fn mark_read(app: &App, caller: &Caller, id: i64) -> Result<(), AppError> {
    let actor = caller.actor()?;
    crate::auth::check(actor, &Action::CreateClient)?;
    let mut c = app.db.conn().await?;
    if notifications::mark_read(&mut c, actor.member, id, app.now()).await? {
        Ok(())
    } else {
        Err(AppError::NotFound("notification"))
    }
}

/// Marks every alert of the caller read (D3); how many were unread.
pub async fn mark_all_read(app: &App, caller: &Caller) -> Result<u64, AppError> {
    let actor = caller.actor()?;
    crate::auth::check(actor, &Action::CreateClient)?;
    let mut c = app.db.conn().await?;
    Ok(notifications::mark_all_read(&mut c, actor.member, app.now()).await?)
}

/// Opens one of the caller's alerts (D3): it is read from then on; gives
/// the client it is about, if any.
pub async fn open(
    app: &App,
    caller: &Caller,
    id: i64,
) -> Result<Option<leadteam_domain::ClientId>, AppError> {
    let actor = caller.actor()?;
    crate::auth::check(actor, &Action::CreateClient)?;
    let mut c = app.db.conn().await?;
    let client = notifications::client_of(&mut c, actor.member, id)
        .await?
        .ok_or(AppError::NotFound("notification"))?;
    notifications::mark_read(&mut c, actor.member, id, app.now()).await?;
    Ok(client)
}

/// Whether a live stream of alerts stays open, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamCheck {
    /// The session is alive, acts in the same account, and the member may
    /// still receive alerts there.
    Open,
    /// The session no longer exists: signed out, or ended by a password
    /// change, by an admin, by deactivation or removal, or by its expiry.
    SignedOut,
    /// The session lives on, but its member may no longer receive alerts
    /// here (the account now requires two-factor authentication the member
    /// lacks, or the session switched account). Deactivation and removal
    /// end the member's sessions in the account: those say `SignedOut`.
    AccessEnded,
    /// The check itself could not be made (the database did not answer):
    /// the stream closes without a verdict and the browser reconnects,
    /// which authenticates afresh.
    Unknown,
}

/// Checks, fresh from the database, whether a session may still receive its
/// member's live alerts (A6, M5).
pub async fn stream_check(app: &App, caller: &Caller) -> StreamCheck {
    let fresh = match crate::auth::authenticate_session(app, caller.session).await {
        Ok(fresh) => fresh,
        Err(AppError::Unauthenticated(_)) => return StreamCheck::SignedOut,
        Err(_) => return StreamCheck::Unknown,
    };
    match (&fresh.actor, &caller.actor) {
        (Some(now), Some(then))
            if now.member == then.member && decide(now, &Action::CreateClient).is_ok() =>
        {
            StreamCheck::Open
        }
        _ => StreamCheck::AccessEnded,
    }
}

/// Opens a live stream: checks the caller and subscribes to the bus.
pub fn open_stream(
    app: &App,
    caller: &Caller,
) -> Result<tokio::sync::broadcast::Receiver<crate::bus::BusEvent>, AppError> {
    let actor = caller.actor()?;
    crate::auth::check(actor, &Action::CreateClient)?;
    Ok(app.bus.subscribe())
}
