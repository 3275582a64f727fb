//! The operator's use cases (`leadteam admin`), run on the server's machine
//! against its database, not over HTTP: reset a password, turn off 2FA for
//! a user who lost the device, list the accounts, hand ownership on when
//! the owner is gone. Each ends the sessions it must and is written to the
//! audit log of every account concerned with the actor "system" (no user,
//! no member). No permission check: whoever runs them holds the database.

use crate::App;
use crate::error::AppError;
use crate::trail::By;
use leadteam_domain::authz::MemberStatus;
use leadteam_domain::validate::{Email, NewPassword};
use leadteam_domain::{AccountId, MemberId, UserId};
use leadteam_store::{Lock, admin, members, sessions, users};
use serde_json::json;

pub use leadteam_store::admin::AccountSummary;

async fn user_by_email(app: &App, email: &str) -> Result<users::UserRow, AppError> {
    let parsed = Email::parse("email", email)?;
    let mut c = app.db.conn().await?;
    users::by_email(&mut c, parsed.as_str())
        .await?
        .ok_or_else(|| AppError::field("email", "no user has this email"))
}

/// Writes `action` on user `user` to the audit log of each of its accounts.
async fn audit_user(
    conn: &mut leadteam_store::Conn,
    user: UserId,
    action: &str,
    after: serde_json::Value,
    now: leadteam_domain::Timestamp,
) -> Result<(), AppError> {
    for account in admin::accounts_of_user(conn, user.0).await? {
        crate::trail::record(
            conn,
            By::System(AccountId(account)),
            action,
            "user",
            user.0,
            None,
            Some(after.clone()),
            now,
        )
        .await?;
    }
    Ok(())
}

/// Sets a new password for the user with `email` and ends all its
/// sessions; answers how many ended.
pub async fn reset_password(app: &App, email: &str, password: &str) -> Result<u64, AppError> {
    let user = user_by_email(app, email).await?;
    let parsed_email = Email::parse("email", &user.email).ok();
    let new = NewPassword::parse("password", password, parsed_email.as_ref())?;
    let hash = app.hasher.hash(new.expose()).await?;
    let now = app.now();
    let mut tx = app.db.write().await?;
    users::set_password(&mut tx, user.id, &hash, now).await?;
    let ended = sessions::delete_all_of_user_except(&mut tx, user.id, None).await?;
    audit_user(
        &mut tx,
        user.id,
        "user.password_reset",
        json!({"by": "system", "sessions_ended": ended}),
        now,
    )
    .await?;
    tx.commit().await?;
    crate::callers::announce_callers_changed(app).await?;
    Ok(ended)
}

/// Turns two-factor authentication off for the user with `email` (its
/// secret and recovery codes go) and ends all its sessions.
pub async fn disable_2fa(app: &App, email: &str) -> Result<u64, AppError> {
    let user = user_by_email(app, email).await?;
    if user.totp_secret.is_none() && user.totp_pending_secret.is_none() {
        return Err(AppError::conflict(
            Some("email"),
            "two-factor authentication is not on for this user",
        ));
    }
    let now = app.now();
    let mut tx = app.db.write().await?;
    users::clear_totp(&mut tx, user.id).await?;
    let ended = sessions::delete_all_of_user_except(&mut tx, user.id, None).await?;
    audit_user(
        &mut tx,
        user.id,
        "user.2fa_disabled",
        json!({"by": "system", "sessions_ended": ended}),
        now,
    )
    .await?;
    tx.commit().await?;
    crate::callers::announce_callers_changed(app).await?;
    Ok(ended)
}

/// Every account with its owner and member counts.
pub async fn accounts(app: &App) -> Result<Vec<AccountSummary>, AppError> {
    let mut c = app.db.conn().await?;
    Ok(admin::accounts(&mut c).await?)
}

/// Makes the active member with `email` the owner of `account` when its
/// owner is gone (left the company, lost every credential); the former
/// owner becomes an admin (O1, O3: still exactly one owner).
pub async fn transfer_ownership(
    app: &App,
    account: AccountId,
    email: &str,
) -> Result<MemberId, AppError> {
    let now = app.now();
    let mut tx = app.db.write().await?;
    let owner = members::owner(&mut tx, account)
        .await?
        .ok_or(AppError::NotFound("account"))?;
    let to = admin::member_by_email(&mut tx, account.0, email)
        .await?
        .map(MemberId)
        .ok_or_else(|| AppError::field("email", "is not a member of this account"))?;
    let target = members::get(&mut tx, account, to, Lock::ForUpdate)
        .await?
        .ok_or(AppError::NotFound("member"))?;
    if target.is_owner {
        return Err(AppError::field("email", "is already the owner"));
    }
    if target.status != MemberStatus::Active {
        return Err(AppError::field("email", "must be an active member"));
    }
    let admin_role = members::role_by_key_or_name(&mut tx, account, "admin")
        .await?
        .ok_or(AppError::Internal("admin preset missing".into()))?;
    if !members::transfer_owner(&mut tx, owner.id, to, admin_role).await? {
        return Err(AppError::conflict(
            None,
            "ownership changed meanwhile; run the command again",
        ));
    }
    // The former owner's sessions lose the owner's powers at their next
    // request (permissions are read on every request); the new owner may
    // deactivate it.
    crate::trail::record(
        &mut tx,
        By::System(account),
        "account.ownership_transferred",
        "member",
        to.0,
        Some(json!({"owner": owner.id.0})),
        Some(json!({"owner": to.0, "former_owner_role": "Admin", "by": "system"})),
        now,
    )
    .await?;
    tx.commit().await?;
    crate::callers::announce_callers_changed(app).await?;
    Ok(to)
}
