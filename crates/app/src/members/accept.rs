//! Accepting an invitation (M4).

use super::*;
#[allow(unused_imports)]
use crate::trail::Audited;

/// How the person accepting proves who it is.
#[derive(Debug, Default)]
pub struct AcceptInput<'a> {
    pub token: &'a str,
    /// For a new user: the name to use (default: the invited name).
    pub name: Option<&'a str>,
    /// A new user's password, or an existing user's current password.
    pub password: Option<&'a str>,
}

/// Accepts an invitation (M4): a new user sets a password; an existing user
/// with that email proves it is them (signed in as that email, or its
/// password). The member becomes active and the user is signed in to the account.
pub async fn accept(
    app: &App,
    input: AcceptInput<'_>,
    signed_in: Option<&Caller>,
    client: &ClientInfo,
) -> Result<(MemberRow, NewSessionToken), AppError> {
    let now = app.now();
    // Work out the path (and do the slow password work) before the write lock.
    let mut c = app.db.conn().await?;
    let inv = crate::invitations::live(&mut c, input.token, now, Lock::None).await?;
    let hash = token_hash(input.token.trim());
    let existing = users::by_email(&mut c, &inv.email).await?;
    drop(c);
    let new_user = match &existing {
        Some(u) => {
            let proved = signed_in.is_some_and(|s| s.user == u.id)
                || match input.password {
                    Some(p) if !p.is_empty() => app.hasher.verify(p, &u.password_hash).await?,
                    _ => false,
                };
            if !proved {
                return Err(AppError::field(
                    "password",
                    format!(
                        "an account already uses {}: sign in as it or give its password",
                        inv.email
                    ),
                ));
            }
            None
        }
        None => {
            let email = Email::parse("email", &inv.email)?;
            let mut errs = ValidationErrors::default();
            let name = match input.name {
                Some(n) => errs.take(Name::parse("name", n, 100)),
                None => None,
            };
            let password = errs.take(NewPassword::parse(
                "password",
                input.password.unwrap_or(""),
                Some(&email),
            ));
            errs.into_result()?;
            let Some(password) = password else {
                return Err(AppError::Internal("validation inconsistency".into()));
            };
            Some((name, app.hasher.hash(password.expose()).await?))
        }
    };

    let mut tx = app.db.write().await?;
    let inv2 = invitations::by_token_hash(&mut tx, &hash, Lock::ForUpdate)
        .await?
        .ok_or_else(|| AppError::Gone(LINK_DEAD.into()))?;
    let m = load(&mut tx, inv2.account, inv2.member, Lock::ForUpdate).await?;
    if m.status != MemberStatus::Invited {
        return Err(AppError::Gone(LINK_DEAD.into()));
    }
    let (user, name) = match (new_user, existing) {
        (Some((name, hash)), _) => {
            let name = name
                .map(Name::into_string)
                .unwrap_or_else(|| m.name.clone());
            let id = users::insert(&mut tx, &inv2.email, &name, &hash, now)
                .await
                .map_err(|e| {
                    if e.is_unique_on("email") {
                        AppError::Gone(LINK_DEAD.into())
                    } else {
                        e.into()
                    }
                })?;
            (id, name)
        }
        (None, Some(u)) => (u.id, u.name),
        (None, None) => return Err(AppError::Internal("accept without a user".into())),
    };
    if !members::activate(&mut tx, m.id, user, &name, now).await? {
        return Err(AppError::Gone(LINK_DEAD.into()));
    }
    invitations::delete(&mut tx, m.id).await?;
    let after = load(&mut tx, inv2.account, m.id, Lock::None).await?;
    // B2: billing starts at activation.
    crate::billing::record_seat(&mut tx, &after, SeatEventKind::Activated, now).await?;
    crate::trail::record(
        &mut tx,
        crate::trail::By::Member {
            account: Some(inv2.account),
            user: Some(user),
            member: Some(m.id),
        },
        "member.activated",
        "member",
        m.id.0,
        Some(m.picture()),
        Some(after.picture()),
        now,
    )
    .await?;
    crate::webhooks::emit(
        app,
        &mut tx,
        inv2.account,
        "member.activated",
        serde_json::json!({"member_id": m.id.0, "name": after.name, "email": after.email}),
        now,
    )
    .await?;
    let token =
        crate::auth::insert_session(app, &mut tx, user, Some(inv2.account), client, now).await?;
    tx.commit().await?;
    app.callers_changed();
    app.events_queued();
    Ok((after, token))
}
