//! `GET /me`: the user, its memberships, the current account and the
//! effective permissions.

use crate::App;
use crate::auth::Caller;
use crate::error::AppError;
use leadteam_domain::authz::{Actor, PermissionSet};
use leadteam_store::accounts::{self, AccountRow, Membership};
use leadteam_store::users;

#[derive(Debug, Clone)]
pub struct MeView {
    pub user: users::UserRow,
    pub memberships: Vec<Membership>,
    pub account: Option<AccountRow>,
    pub actor: Option<Actor>,
    pub recovery_codes_left: i64,
    /// Unread alerts of the member in the current account (0 without one).
    pub unread_notifications: i64,
}

impl MeView {
    pub fn permissions(&self) -> PermissionSet {
        self.actor
            .as_ref()
            .map(|a| a.permissions)
            .unwrap_or_default()
    }

    /// The account requires 2FA and this user has not enrolled (O5).
    pub fn must_enrol_2fa(&self) -> bool {
        self.actor
            .as_ref()
            .is_some_and(|a| a.account_requires_2fa && !a.has_2fa)
    }
}

pub async fn me(app: &App, caller: &Caller) -> Result<MeView, AppError> {
    let mut c = app.db.conn().await?;
    let user = users::by_id(&mut c, caller.user)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let memberships = accounts::memberships_of(&mut c, caller.user).await?;
    let account = match caller.account {
        Some(a) if caller.actor.is_some() => accounts::by_id(&mut c, a).await?,
        _ => None,
    };
    let recovery_codes_left = users::unused_recovery_codes(&mut c, caller.user).await?;
    let unread_notifications = match &caller.actor {
        Some(a) => leadteam_store::notifications::unread_count(&mut c, a.member).await?,
        None => 0,
    };
    Ok(MeView {
        user,
        memberships,
        account,
        actor: caller.actor.clone(),
        recovery_codes_left,
        unread_notifications,
    })
}
