//! A user's own security: password change and TOTP two-factor authentication
//! with single-use recovery codes.

use crate::App;
use crate::auth::Caller;
use crate::error::{AppError, AuthFailure};
use leadteam_domain::authz::Action;
use leadteam_domain::secret::token_hash;
use leadteam_domain::totp;
use leadteam_domain::validate::{Email, NewPassword};
use leadteam_domain::{Timestamp, UserId};
use leadteam_store::{Conn, StoreError, sessions, users};

/// Number of recovery codes issued on enrolment.
pub const RECOVERY_CODES: usize = 10;

async fn audit_self(
    conn: &mut Conn,
    caller: &Caller,
    action: &str,
    now: Timestamp,
) -> Result<(), AppError> {
    crate::trail::record(conn, caller, action, "user", caller.user.0, None, None, now).await
}

/// Changes the caller's password after checking the current one; every other
/// session of the user ends.
pub async fn change_password(
    app: &App,
    caller: &Caller,
    current: &str,
    new: &str,
) -> Result<u64, AppError> {
    caller_may_manage_self(caller)?;
    let email = Email::parse("email", &caller.email).ok();
    let new = NewPassword::parse("new_password", new, email.as_ref())?;
    let mut c = app.db.conn().await?;
    let user = users::by_id(&mut c, caller.user)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    drop(c);
    // A wrong current password counts like a failed sign-in of the same
    // email: a stolen session cannot guess the password faster than
    // sign-in allows.
    let key = crate::auth::email_key(&user.email);
    crate::auth::password_gate(app, &key, None).await?;
    if !app.hasher.verify(current, &user.password_hash).await? {
        crate::auth::record_failure(app, &key, None).await?;
        return Err(AppError::field(
            "current_password",
            "is not your current password",
        ));
    }
    let hash = app.hasher.hash(new.expose()).await?;
    let now = app.now();
    let mut tx = app.db.write().await?;
    users::set_password(&mut tx, caller.user, &hash, now).await?;
    let ended =
        sessions::delete_all_of_user_except(&mut tx, caller.user, Some(caller.session)).await?;
    audit_self(&mut tx, caller, "user.password_changed", now).await?;
    tx.commit().await?;
    app.callers_changed();
    Ok(ended)
}

/// Self-service is allowed for any signed-in user, and for a member even while
/// the account requires 2FA enrolment (O5).
fn caller_may_manage_self(caller: &Caller) -> Result<(), AppError> {
    caller.require_session()?;
    if let Some(actor) = &caller.actor {
        crate::auth::check(actor, &Action::ManageOwnSecurity)?;
    }
    Ok(())
}

/// What an authenticator app needs to enrol.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub secret_base32: String,
    pub otpauth_uri: String,
}

/// Starts TOTP enrolment: a new secret is kept pending until confirmed.
pub async fn start_totp(app: &App, caller: &Caller) -> Result<Enrolment, AppError> {
    caller_may_manage_self(caller)?;
    use rand::RngCore;
    let mut secret = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let b32 = totp::base32_encode(&secret);
    let mut tx = app.db.write().await?;
    let user = users::by_id(&mut tx, caller.user)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    if user.totp_secret.is_some() {
        return Err(AppError::conflict(
            None,
            "two-factor authentication is already on; turn it off first to enrol a new device",
        ));
    }
    users::set_pending_totp(&mut tx, caller.user, Some(&b32)).await?;
    tx.commit().await?;
    Ok(enrolment(&caller.email, &secret))
}

fn enrolment(email: &str, secret: &[u8]) -> Enrolment {
    Enrolment {
        otpauth_uri: totp::otpauth_uri("leadteam", email, secret),
        secret_base32: totp::base32_encode(secret),
    }
}

/// The enrolment started and not yet confirmed (to show its QR code again),
/// or `None` when there is none or 2FA is already on.
pub async fn pending_totp(app: &App, caller: &Caller) -> Result<Option<Enrolment>, AppError> {
    caller_may_manage_self(caller)?;
    let mut c = app.db.conn().await?;
    let user = users::by_id(&mut c, caller.user)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    if user.totp_secret.is_some() {
        return Ok(None);
    }
    Ok(user
        .totp_pending_secret
        .as_deref()
        .and_then(totp::base32_decode)
        .map(|secret| enrolment(&caller.email, &secret)))
}

/// Confirms enrolment with a first code; returns the ten recovery codes,
/// shown once.
pub async fn confirm_totp(app: &App, caller: &Caller, code: &str) -> Result<Vec<String>, AppError> {
    caller_may_manage_self(caller)?;
    let now = app.now();
    let mut tx = app.db.write().await?;
    let user = users::by_id_for_update(&mut tx, caller.user)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    if user.totp_secret.is_some() {
        return Err(AppError::conflict(
            None,
            "two-factor authentication is already on",
        ));
    }
    let Some(pending) = user.totp_pending_secret.clone() else {
        return Err(AppError::conflict(
            None,
            "start enrolment first (POST /api/v1/me/2fa)",
        ));
    };
    let secret =
        totp::base32_decode(&pending).ok_or(AppError::Internal("bad stored secret".into()))?;
    let Some(step) = totp::verify(&secret, code, now.unix_seconds(), None) else {
        return Err(AppError::field(
            "code",
            "is not the current code of your authenticator app",
        ));
    };
    users::confirm_totp(&mut tx, caller.user, &pending, step).await?;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| token_hash(&normalise_recovery(c)))
        .collect();
    users::replace_recovery_codes(&mut tx, caller.user, &hashes).await?;
    audit_self(&mut tx, caller, "user.2fa_enabled", now).await?;
    tx.commit().await?;
    app.callers_changed();
    Ok(codes)
}

/// Turns 2FA off after proving the password and a current code (or a
/// recovery code); every other session of the user ends.
pub async fn disable_totp(
    app: &App,
    caller: &Caller,
    password: &str,
    code: Option<&str>,
    recovery: Option<&str>,
) -> Result<(), AppError> {
    caller_may_manage_self(caller)?;
    let mut c = app.db.conn().await?;
    let user = users::by_id(&mut c, caller.user)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    drop(c);
    let Some(secret) = user.totp_secret.clone() else {
        return Err(AppError::conflict(
            None,
            "two-factor authentication is not on",
        ));
    };
    if !app.hasher.verify(password, &user.password_hash).await? {
        return Err(AppError::field("password", "is not your current password"));
    }
    let now = app.now();
    let mut tx = app.db.write().await?;
    let ok = match (code, recovery) {
        (Some(code), _) if !code.trim().is_empty() => {
            check_totp(&mut tx, &user, &secret, code, now).await?
        }
        (_, Some(r)) if !r.trim().is_empty() => use_recovery_code(&mut tx, user.id, r, now).await?,
        _ => {
            return Err(AppError::field(
                "code",
                "is required: a current code or a recovery code",
            ));
        }
    };
    if !ok {
        return Err(AppError::Unauthenticated(AuthFailure::InvalidTotp));
    }
    users::clear_totp(&mut tx, user.id).await?;
    sessions::delete_all_of_user_except(&mut tx, user.id, Some(caller.session)).await?;
    audit_self(&mut tx, caller, "user.2fa_disabled", now).await?;
    tx.commit().await?;
    app.callers_changed();
    Ok(())
}

/// Verifies a TOTP code and consumes its step, inside the caller's transaction:
/// a code is accepted once only, also when two requests race.
pub(crate) async fn check_totp(
    conn: &mut Conn,
    user: &users::UserRow,
    secret_b32: &str,
    code: &str,
    now: Timestamp,
) -> Result<bool, AppError> {
    let secret =
        totp::base32_decode(secret_b32).ok_or(AppError::Internal("bad stored secret".into()))?;
    let Some(step) = totp::verify(&secret, code, now.unix_seconds(), user.totp_last_step) else {
        return Ok(false);
    };
    Ok(users::consume_totp_step(conn, user.id, step).await?)
}

pub(crate) async fn use_recovery_code(
    conn: &mut Conn,
    user: UserId,
    code: &str,
    now: Timestamp,
) -> Result<bool, AppError> {
    let hash = token_hash(&normalise_recovery(code));
    users::use_recovery_code(conn, user, &hash, now)
        .await
        .map_err(|e: StoreError| e.into())
}

/// A recovery code: 10 characters from an unambiguous alphabet, shown as
/// `xxxxx-xxxxx` (50 bits each).
fn recovery_code() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    let s: String = (0..10)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{}-{}", &s[..5], &s[5..])
}

fn normalise_recovery(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}
