//! Sign-up, sign-in, sign-out and the resolution of a credential into the
//! caller of a request.

use crate::App;
use crate::callers::KeptCaller;
use crate::error::{AppError, AuthFailure};
use leadteam_domain::authz::{Action, Actor, Denied, decide};
use leadteam_domain::secret::token_hash;
use leadteam_domain::{AccountId, MemberId, SessionId, Timestamp, UserId};
use leadteam_store::{accounts, sessions, throttle, users};

/// A random opaque secret of 32 bytes, URL-safe base64.
pub fn random_token() -> String {
    use base64::Engine as _;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Who is calling: the session, its user, and the member it acts as in the
/// current account (read from the rows, or kept by this node until anything
/// it is made of changes: a change of role or a deactivation takes effect on
/// the very next request; see [`crate::callers::KnownCallers`]).
#[derive(Debug, Clone)]
pub struct Caller {
    /// The session (`SessionId(0)` for an API key).
    pub session: SessionId,
    /// Set when the credential is an API key rather than a session.
    pub api_key: Option<leadteam_domain::ApiKeyId>,
    pub user: UserId,
    pub email: String,
    pub name: String,
    pub account: Option<AccountId>,
    pub actor: Option<Actor>,
    /// The IANA zone the caller reads times in (X6): its own, else its
    /// account's; UTC without an account.
    pub time_zone: String,
    /// The kinds of clients the member's list shows when a request names
    /// none (C8), when it chose.
    pub team_view: Option<String>,
}

impl Caller {
    /// The actor, or 401 when the session has no account it is active in.
    pub fn actor(&self) -> Result<&Actor, AppError> {
        self.actor
            .as_ref()
            .ok_or(AppError::Unauthenticated(AuthFailure::NoAccount))
    }

    /// Refuses API keys for what only a signed-in person may do (sign out,
    /// switch account, password, 2FA).
    pub fn require_session(&self) -> Result<(), AppError> {
        if self.api_key.is_some() {
            Err(AppError::Denied(
                leadteam_domain::authz::Denied::SessionOnly,
            ))
        } else {
            Ok(())
        }
    }

    /// Checks `action` with the one decision.
    pub fn may(&self, action: &Action<'_>) -> Result<&Actor, AppError> {
        let actor = self.actor()?;
        check(actor, action)?;
        Ok(actor)
    }
}

/// `decide` for a use case that acts on its answer: a refusal is logged once,
/// here, as kanidm logs its decisions (what was asked, by which member, in
/// which account). Probes that only shape a page (`decide(..).is_ok()`) are
/// not refusals and are not logged.
pub(crate) fn check(actor: &Actor, action: &Action<'_>) -> Result<(), AppError> {
    decide(actor, action).map_err(|denied| {
        tracing::info!(
            target: "leadteam::authz",
            action = ?action,
            member = actor.member.0,
            account = actor.account.0,
            denied = %denied,
            "access denied"
        );
        match denied {
            Denied::NotVisible => AppError::NotFound(action.subject()),
            other => AppError::from(other),
        }
    })
}

/// A fresh session: the token is given to the client once and never stored.
#[derive(Debug, Clone)]
pub struct NewSessionToken {
    pub token: String,
    pub session: SessionId,
    pub user: UserId,
    pub account: Option<AccountId>,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

pub(crate) async fn insert_session(
    app: &App,
    conn: &mut leadteam_store::Conn,
    user: UserId,
    account: Option<AccountId>,
    client: &ClientInfo,
    now: Timestamp,
) -> Result<NewSessionToken, AppError> {
    let token = random_token();
    let expires_at = now.plus_millis(app.config.session_idle_ms);
    let session = sessions::insert(
        conn,
        sessions::NewSession {
            token_hash: &token_hash(&token),
            user,
            account,
            expires_at,
            user_agent: client.user_agent.as_deref(),
            ip: client.ip.as_deref(),
        },
        now,
    )
    .await?;
    Ok(NewSessionToken {
        token,
        session,
        user,
        account,
        expires_at,
    })
}

pub struct SigninInput<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub totp_code: Option<&'a str>,
    pub recovery_code: Option<&'a str>,
}

/// Signs in. Unknown email and wrong password give the same answer after the
/// same work; failures are counted per email and per address (see
/// [`crate::SigninPolicy`]).
pub async fn signin(
    app: &App,
    input: SigninInput<'_>,
    client: &ClientInfo,
) -> Result<NewSessionToken, AppError> {
    let email_norm = input.email.trim().to_lowercase();
    if email_norm.is_empty() {
        return Err(AppError::field("email", "is required"));
    }
    if input.password.is_empty() {
        return Err(AppError::field("password", "is required"));
    }
    let email_key = email_key(&email_norm);
    let ip_key = client.ip.as_ref().map(|ip| format!("ip:{ip}"));

    password_gate(app, &email_key, ip_key.as_deref()).await?;

    let mut c = app.db.conn().await?;
    let user = users::by_email(&mut c, &email_norm).await?;
    drop(c);
    let verified = match &user {
        Some(u) => app.hasher.verify(input.password, &u.password_hash).await?,
        None => app.hasher.verify_dummy(input.password).await?,
    };
    let user = match (user, verified) {
        (Some(u), true) => u,
        _ => {
            record_failure(app, &email_key, ip_key.as_deref()).await?;
            return Err(AppError::Unauthenticated(AuthFailure::InvalidCredentials));
        }
    };

    let mut tx = app.db.write().await?;
    if let Some(secret) = &user.totp_secret {
        let ok = match (input.totp_code, input.recovery_code) {
            (Some(code), _) if !code.trim().is_empty() => {
                crate::security::check_totp(&mut tx, &user, secret, code, app.now()).await?
            }
            (_, Some(code)) if !code.trim().is_empty() => {
                crate::security::use_recovery_code(&mut tx, user.id, code, app.now()).await?
            }
            _ => return Err(AppError::Unauthenticated(AuthFailure::TotpRequired)),
        };
        if !ok {
            drop(tx);
            record_failure(app, &email_key, ip_key.as_deref()).await?;
            return Err(AppError::Unauthenticated(AuthFailure::InvalidTotp));
        }
    }
    throttle::clear(&mut tx, &email_key).await?;
    let memberships = accounts::memberships_of(&mut tx, user.id).await?;
    let account = memberships.first().map(|m| m.account);
    let token = insert_session(app, &mut tx, user.id, account, client, app.now()).await?;
    tx.commit().await?;
    Ok(token)
}

/// Before a password is checked (sign-in, or the current password of a
/// password change): refused while the email's (or address's) failures
/// locked it, and slowed down after repeated failures (see
/// [`crate::SigninPolicy`]).
pub(crate) async fn password_gate(
    app: &App,
    email_key: &str,
    ip_key: Option<&str>,
) -> Result<(), AppError> {
    let policy = &app.config.signin;
    let now = app.now();
    let mut c = app.db.conn().await?;
    let email_state = throttle::get(&mut c, email_key, now, policy.window_ms).await?;
    let ip_state = match ip_key {
        Some(k) => Some(throttle::get(&mut c, k, now, policy.window_ms).await?),
        None => None,
    };
    drop(c);
    if let Some(locked) = [
        email_state.locked_until,
        ip_state.and_then(|s| s.locked_until),
    ]
    .into_iter()
    .flatten()
    .next()
    {
        let secs = ((locked.0 - now.0) / 1000).max(1);
        return Err(AppError::TooManyAttempts {
            message: format!(
                "Too many failed password attempts. Password checks are paused; try again in {} minute(s).",
                (secs + 59) / 60
            ),
            retry_after_secs: secs,
        });
    }
    if email_state.failures >= policy.slow_after {
        let exp = (email_state.failures - policy.slow_after).min(16) as u32;
        let delay = policy
            .base_delay_ms
            .saturating_mul(1u64 << exp)
            .min(policy.max_delay_ms);
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    Ok(())
}

/// The throttle key of an email's password failures.
pub(crate) fn email_key(email: &str) -> String {
    format!("email:{}", email.trim().to_lowercase())
}

/// Counts a failed password (or second factor) for the email and the address.
pub(crate) async fn record_failure(
    app: &App,
    email_key: &str,
    ip_key: Option<&str>,
) -> Result<(), AppError> {
    let policy = &app.config.signin;
    let now = app.now();
    let mut tx = app.db.write().await?;
    let n = throttle::record_failure(&mut tx, email_key, now, policy.window_ms).await?;
    if n >= policy.lock_after {
        throttle::lock(&mut tx, email_key, now.plus_millis(policy.lock_ms)).await?;
    }
    if let Some(k) = ip_key {
        let n = throttle::record_failure(&mut tx, k, now, policy.window_ms).await?;
        if n >= policy.ip_lock_after {
            throttle::lock(&mut tx, k, now.plus_millis(policy.lock_ms)).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Resolves a session token into the caller, or 401.
pub async fn authenticate(app: &App, token: &str) -> Result<Caller, AppError> {
    crate::callers::of_token(app, token).await
}

/// Reloads the caller of a session (after it switched account).
pub async fn authenticate_session(app: &App, id: SessionId) -> Result<Caller, AppError> {
    Ok(caller_of_session(app, sessions::SessionKey::Id(id))
        .await?
        .caller)
}

/// The caller of the live session whose token hashes to `hash`, read.
pub(crate) async fn caller_of_token(app: &App, hash: &str) -> Result<KeptCaller, AppError> {
    caller_of_session(app, sessions::SessionKey::TokenHash(hash)).await
}

/// The caller of a live session: its user and member read in one
/// statement.
async fn caller_of_session(
    app: &App,
    key: sessions::SessionKey<'_>,
) -> Result<KeptCaller, AppError> {
    let now = app.now();
    let mut c = app.db.conn().await?;
    let Some(found) = sessions::resolve(&mut c, key, now).await? else {
        return Err(AppError::Unauthenticated(AuthFailure::NoSession));
    };
    let s = found.session;
    let (mut expires_at, mut last_seen_at) = (s.expires_at, s.last_seen_at);
    // Slide the expiry at most once a minute.
    if now.0 - s.last_seen_at.0 > crate::callers::SLIDE_AFTER_MS {
        expires_at = now.plus_millis(app.config.session_idle_ms);
        last_seen_at = now;
        sessions::touch(&mut c, s.id, now, expires_at).await?;
    }
    let user = found.user;
    let (actor, time_zone, team_view) = match (s.account, found.member) {
        (Some(account), Some(m)) => {
            let zone = m.time_zone.clone();
            let view = m.team_view.clone();
            (Some(actor_of(&user, account, m)), zone, view)
        }
        _ => (None, "UTC".to_owned(), None),
    };
    Ok(KeptCaller {
        caller: Caller {
            session: s.id,
            api_key: None,
            user: user.id,
            email: user.email,
            name: user.name,
            account: s.account,
            actor,
            time_zone,
            team_view,
        },
        expires_at,
        last_seen_at,
    })
}

pub(crate) fn actor_of(
    user: &users::UserRow,
    account: AccountId,
    m: accounts::MemberAuth,
) -> Actor {
    Actor {
        user: user.id,
        member: m.member,
        account,
        status: m.status,
        permissions: m.permissions,
        is_owner: m.is_owner,
        has_2fa: user.totp_secret.is_some(),
        account_requires_2fa: m.require_2fa,
        teams: m.teams,
    }
}

/// Ends the caller's session; an agent on duty frees its licence (B4).
pub async fn signout(app: &App, caller: &Caller) -> Result<(), AppError> {
    caller.require_session()?;
    let mut tx = app.db.write().await?;
    sessions::delete(&mut tx, caller.session).await?;
    crate::billing::duty::release(&mut tx, caller, "signed out", app.now()).await?;
    tx.commit().await?;
    app.callers_changed();
    app.bus.publish(crate::bus::BusEvent::SessionEnded {
        session: caller.session,
    });
    Ok(())
}

/// Switches the session to another account the user is an active member of (T2).
pub async fn switch_account(
    app: &App,
    caller: &Caller,
    account: AccountId,
) -> Result<MemberId, AppError> {
    caller.require_session()?;
    let mut tx = app.db.write().await?;
    let m = accounts::member_auth(&mut tx, caller.user, account).await?;
    let Some(m) = m.filter(|m| m.status == leadteam_domain::authz::MemberStatus::Active) else {
        return Err(AppError::NotFound("account"));
    };
    sessions::set_account(&mut tx, caller.session, account).await?;
    tx.commit().await?;
    app.callers_changed();
    Ok(m.member)
}
