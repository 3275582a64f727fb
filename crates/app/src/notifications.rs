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
    decide(actor, &Action::CreateClient)?;
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
    decide(actor, &Action::CreateClient)?;
    let mut c = app.db.conn().await?;
    if notifications::mark_read(&mut c, actor.member, id, app.now()).await? {
        Ok(())
    } else {
        Err(AppError::NotFound("notification"))
    }
}
