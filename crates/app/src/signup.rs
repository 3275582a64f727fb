//! Sign-up proves the address first (O1). A request stores nothing but a
//! pending request and emails a link; the account and its owner are created
//! when the link is followed. So nobody holds an address it does not own
//! (someone signing up with `victim@` never gets in, and the real person
//! invited later simply joins), and the answer is the same whether the
//! email is known or not: sign-up tells nobody which emails exist.
//!
//! An existing user who signs up again with its own password gets a link
//! that adds the new account to its login; with another password, the
//! address gets a note that someone tried, and no link.

use crate::App;
use crate::auth::{ClientInfo, NewSessionToken, insert_session};
use crate::error::AppError;
use crate::secrets::{SIGNUP, placeholder_hash};
use leadteam_domain::secret::token_hash;
use leadteam_domain::validate::{Email, Name, NewPassword};
use leadteam_domain::{AccountId, ValidationErrors};
use leadteam_store::outbox::{self, SECRET, SecretRef};
use leadteam_store::signups::{self, NewSignup};
use leadteam_store::{Lock, accounts, throttle, users};
use serde_json::json;

/// What to sign up.
pub struct SignupInput<'a> {
    pub account_name: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub password: &'a str,
}

/// Sign-up requests from one address in the throttle window before it is
/// told to wait (mail to others' addresses cannot be sent in bulk).
const REQUESTS_PER_ADDRESS: i64 = 20;

/// Checks the fields, then queues the confirmation mail. The answer (and
/// the work done) is the same for a known and an unknown email.
pub async fn request(
    app: &App,
    input: SignupInput<'_>,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let mut errs = ValidationErrors::default();
    let account_name = errs.take(Name::parse("account_name", input.account_name, 100));
    let name = errs.take(Name::parse("name", input.name, 100));
    let email = errs.take(Email::parse("email", input.email));
    let password = errs.take(NewPassword::parse(
        "password",
        input.password,
        email.as_ref(),
    ));
    errs.into_result()?;
    let (Some(account_name), Some(name), Some(email), Some(password)) =
        (account_name, name, email, password)
    else {
        return Err(AppError::Internal("validation inconsistency".into()));
    };
    let now = app.now();
    let policy = &app.config.signin;
    if let Some(ip) = &client.ip {
        let key = format!("signup:{ip}");
        let mut tx = app.db.write().await?;
        let n = throttle::record_failure(&mut tx, &key, now, policy.window_ms).await?;
        tx.commit().await?;
        if n > REQUESTS_PER_ADDRESS {
            return Err(AppError::TooManyAttempts {
                message: "Too many sign-ups from this address; try again later.".into(),
                retry_after_secs: policy.window_ms / 1000,
            });
        }
    }
    let mut c = app.db.conn().await?;
    let existing = users::by_email(&mut c, email.as_str()).await?;
    drop(c);
    // One argon2 run either way: hashing the new password, or checking it
    // against the existing user's.
    let (hash, user) = match &existing {
        None => (Some(app.hasher.hash(password.expose()).await?), None),
        Some(u) => match app
            .hasher
            .verify(password.expose(), &u.password_hash)
            .await?
        {
            true => (Some(u.password_hash.clone()), Some(u.id)),
            false => (None, None),
        },
    };
    let base = app.config.base_url.trim_end_matches('/');
    let mut tx = app.db.write().await?;
    match hash {
        Some(hash) => {
            let id = signups::upsert(
                &mut tx,
                NewSignup {
                    email: email.as_str(),
                    name: name.as_str(),
                    account_name: account_name.as_str(),
                    password_hash: &hash,
                    user,
                    token_hash: &placeholder_hash(),
                },
                now,
                now.plus_millis(app.config.invite_ttl_ms),
            )
            .await?;
            let days = app.config.invite_ttl_ms / 86_400_000;
            let body = format!(
                "Hello {name},\n\nConfirm your email to create {account} on leadteam:\n\
                 {base}/signup/confirm?token={SECRET}\n\n\
                 The link works once and expires in {days} day(s). If you did not sign up, ignore this email.\n",
                name = name.as_str(),
                account = account_name.as_str(),
            );
            outbox::enqueue(
                &mut tx,
                outbox::NewMessage {
                    account: None,
                    to: email.as_str(),
                    subject: &format!("Confirm your email to create {}", account_name.as_str()),
                    body_text: &body,
                    kind: "signup_confirmation",
                    secret: Some(SecretRef {
                        purpose: SIGNUP,
                        id,
                    }),
                },
                now,
            )
            .await?;
        }
        None => {
            let body = format!(
                "Hello,\n\nSomeone asked to create an account on leadteam with this address, which already has a login.\n\
                 If it was you, sign in at {base}/signin (and add the account from there); if you forgot your \
                 password, ask your account's owner. If it was not you, you need do nothing.\n"
            );
            outbox::enqueue(
                &mut tx,
                outbox::NewMessage {
                    account: None,
                    to: email.as_str(),
                    subject: "Someone tried to sign up with your address",
                    body_text: &body,
                    kind: "signup_existing",
                    secret: None,
                },
                now,
            )
            .await?;
        }
    }
    tx.commit().await?;
    app.mail_queued();
    Ok(())
}

/// The link of a sign-up mail is dead (used, replaced, expired or made up).
const LINK_DEAD: &str = "this confirmation link does not work any more: it was used, replaced or has expired; sign up again";

/// Follows the emailed link: creates the account and its owner (or adds the
/// account to the existing user who asked) and signs the owner in.
pub async fn confirm(
    app: &App,
    token: &str,
    client: &ClientInfo,
) -> Result<(NewSessionToken, AccountId), AppError> {
    let token = token.trim();
    if token.is_empty() {
        return Err(AppError::field("token", "is required"));
    }
    let now = app.now();
    let mut tx = app.db.write().await?;
    let req = signups::by_token_hash(&mut tx, &token_hash(token), Lock::ForUpdate)
        .await?
        .ok_or_else(|| AppError::Gone(LINK_DEAD.into()))?;
    if req.expires_at <= now {
        return Err(AppError::Gone(LINK_DEAD.into()));
    }
    signups::delete(&mut tx, req.id).await?;
    let user = match req.user {
        Some(u) => u,
        None => users::insert(&mut tx, &req.email, &req.name, &req.password_hash, now)
            .await
            .map_err(|e| {
                if e.is_unique_on("email") {
                    AppError::Gone(LINK_DEAD.into())
                } else {
                    e.into()
                }
            })?,
    };
    let (account, member) =
        accounts::create_with_owner(&mut tx, &req.account_name, user, &req.email, &req.name, now)
            .await?;
    crate::trail::record(
        &mut tx,
        crate::trail::By::Member {
            account: Some(account),
            user: Some(user),
            member: Some(member),
        },
        "account.created",
        "account",
        account.0,
        None,
        Some(json!({"name": req.account_name, "owner": req.email})),
        now,
    )
    .await?;
    let session = insert_session(app, &mut tx, user, Some(account), client, now).await?;
    tx.commit().await?;
    Ok((session, account))
}
