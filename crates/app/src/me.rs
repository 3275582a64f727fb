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
    /// The zone the member reads times in (X6).
    pub time_zone: String,
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
        time_zone: caller.time_zone.clone(),
    })
}

/// The zone a member reads times in (X6): its own choice, if any, and the
/// zone in effect (its own, else the account's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    pub time_zone: Option<String>,
    pub effective_time_zone: String,
}

async fn preferences_in(
    c: &mut leadteam_store::Conn,
    actor: &Actor,
) -> Result<Preferences, AppError> {
    let own = accounts::member_time_zone(c, actor.member).await?;
    let account = accounts::by_id(c, actor.account)
        .await?
        .ok_or(AppError::NotFound("account"))?;
    Ok(Preferences {
        effective_time_zone: own.clone().unwrap_or(account.time_zone),
        time_zone: own,
    })
}

pub async fn preferences(app: &App, caller: &Caller) -> Result<Preferences, AppError> {
    let actor = caller.actor()?;
    let mut c = app.db.conn().await?;
    preferences_in(&mut c, actor).await
}

/// Sets the member's own time zone; `None` follows the account's (X6).
pub async fn set_preferences(
    app: &App,
    caller: &Caller,
    time_zone: Option<&str>,
) -> Result<Preferences, AppError> {
    let actor = caller.actor()?.clone();
    let zone = time_zone.map(str::trim).filter(|z| !z.is_empty());
    if let Some(z) = zone {
        leadteam_domain::availability::zone("time_zone", z)?;
    }
    let now = app.now();
    let mut tx = app.db.write().await?;
    let before = preferences_in(&mut tx, &actor).await?;
    accounts::set_member_time_zone(&mut tx, actor.member, zone).await?;
    let after = preferences_in(&mut tx, &actor).await?;
    crate::trail::record(
        &mut tx,
        &actor,
        "member.preferences_set",
        "member",
        actor.member.0,
        Some(serde_json::json!({"time_zone": before.time_zone})),
        Some(serde_json::json!({"time_zone": after.time_zone})),
        now,
    )
    .await?;
    tx.commit().await?;
    app.callers_changed();
    Ok(after)
}
