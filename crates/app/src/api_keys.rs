//! API keys (API.md "Account"): a key acts as the member who made it, with
//! the permissions given to it — never more than that member holds at the
//! time of each request. Deactivating the member revokes its keys (M5).

pub use leadteam_store::api_keys::ApiKeyRow;

use crate::App;
use crate::auth::{Caller, random_token};
use crate::callers::KeptCaller;
use crate::error::{AppError, AuthFailure};
use leadteam_domain::authz::{Action, PermissionSet};
use leadteam_domain::secret::token_hash;
use leadteam_domain::validate::Name;
use leadteam_domain::{ApiKeyId, SessionId, Timestamp};
use leadteam_store::api_keys::{self};
use leadteam_store::{accounts, users};
use serde_json::json;

/// Every API key starts with this, so a credential says what it is.
pub const PREFIX: &str = "ltk_";

/// The caller of the API key whose token hashes to `hash`, read: it acts
/// as the key's member. The key is marked used at most once a minute.
pub(crate) async fn read_caller(app: &App, hash: &str) -> Result<KeptCaller, AppError> {
    let now = app.now();
    let mut c = app.db.conn().await?;
    let Some(key) = api_keys::by_token_hash(&mut c, hash).await? else {
        return Err(AppError::Unauthenticated(AuthFailure::NoSession));
    };
    let Some(user_id) = key.user else {
        return Err(AppError::Unauthenticated(AuthFailure::NoSession));
    };
    if key.lead_sources.is_some() {
        // An intake key only sends leads (POST /api/v1/leads).
        return Err(AppError::Unauthenticated(AuthFailure::NoSession));
    }
    let user = users::by_id(&mut c, user_id)
        .await?
        .ok_or(AppError::Unauthenticated(AuthFailure::NoSession))?;
    let auth = accounts::member_auth(&mut c, user_id, key.account)
        .await?
        .ok_or(AppError::Unauthenticated(AuthFailure::NoSession))?;
    let last_seen_at = match key.last_used_at {
        Some(t) if now.0 - t.0 <= crate::callers::SLIDE_AFTER_MS => t,
        _ => {
            api_keys::touch(&mut c, key.id, now).await?;
            now
        }
    };
    let time_zone = auth.time_zone.clone();
    let team_view = auth.team_view.clone();
    let mut actor = crate::auth::actor_of(&user, key.account, auth);
    // Never more than the member holds now, nor more than the key was given.
    actor.permissions = PermissionSet::from_bits(actor.permissions.bits() & key.permissions.bits());
    // An API key cannot enrol 2FA: it acts for a member that did.
    Ok(KeptCaller {
        caller: Caller {
            session: SessionId(0),
            api_key: Some(key.id),
            user: user.id,
            email: user.email,
            name: user.name,
            account: Some(key.account),
            actor: Some(actor),
            time_zone,
            team_view,
        },
        // A key lives until it is revoked (which forgets it).
        expires_at: Timestamp(i64::MAX),
        last_seen_at,
    })
}

/// A new key with its token, shown once.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub key: ApiKeyRow,
    pub token: String,
}

pub async fn list(app: &App, caller: &Caller) -> Result<Vec<ApiKeyRow>, AppError> {
    let actor = caller.may(&Action::ManageApiKeys {
        grants: PermissionSet::EMPTY,
    })?;
    let mut c = app.db.conn().await?;
    Ok(api_keys::list(&mut c, actor.account).await?)
}

pub async fn create(
    app: &App,
    caller: &Caller,
    name: &str,
    permissions: &[String],
) -> Result<NewKey, AppError> {
    caller.require_session()?;
    let name = Name::parse("name", name, 100)?;
    let perms = PermissionSet::parse_names(permissions)
        .map_err(|bad| AppError::field("permissions", format!("unknown permission {bad:?}")))?;
    let actor = caller
        .may(&Action::ManageApiKeys { grants: perms })?
        .clone();
    let token = format!("{PREFIX}{}", random_token());
    let now = app.now();
    let mut tx = app.db.write().await?;
    let id = api_keys::insert(
        &mut tx,
        actor.account,
        actor.member,
        name.as_str(),
        &token_hash(&token),
        perms,
        None,
        now,
    )
    .await?;
    crate::trail::record(
        &mut tx,
        &actor,
        "api_key.created",
        "api_key",
        id.0,
        None,
        Some(json!({"name": name.as_str(), "permissions": perms.names()})),
        now,
    )
    .await?;
    let key = api_keys::get(&mut tx, actor.account, id)
        .await?
        .ok_or(AppError::NotFound("API key"))?;
    tx.commit().await?;
    Ok(NewKey { key, token })
}

pub async fn revoke(app: &App, caller: &Caller, id: ApiKeyId) -> Result<(), AppError> {
    let actor = caller
        .may(&Action::ManageApiKeys {
            grants: PermissionSet::EMPTY,
        })?
        .clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let key = api_keys::get(&mut tx, actor.account, id)
        .await?
        .ok_or(AppError::NotFound("API key"))?;
    if !api_keys::revoke(&mut tx, id, now).await? {
        return Err(AppError::conflict(None, "this API key is already revoked"));
    }
    crate::trail::record(
        &mut tx,
        &actor,
        "api_key.revoked",
        "api_key",
        id.0,
        Some(json!({"name": key.name})),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    app.callers_changed();
    Ok(())
}

/// A new intake key (I5): it only sends leads (`POST /api/v1/leads`), and
/// only to the named sources of the account.
pub async fn create_intake(
    app: &App,
    caller: &Caller,
    name: &str,
    sources: &[leadteam_domain::SourceId],
) -> Result<NewKey, AppError> {
    caller.require_session()?;
    let actor = caller.may(&Action::ManageIntegrations)?.clone();
    let name = Name::parse("name", name, 100)?;
    if sources.is_empty() || sources.len() > 100 {
        return Err(AppError::field(
            "lead_source_ids",
            "name 1 to 100 lead sources",
        ));
    }
    let token = format!("{PREFIX}{}", random_token());
    let now = app.now();
    let mut tx = app.db.write().await?;
    let mut ids: Vec<leadteam_domain::SourceId> = Vec::new();
    for (i, s) in sources.iter().enumerate() {
        if leadteam_store::sources::get(&mut tx, actor.account, *s)
            .await?
            .is_none()
        {
            return Err(AppError::field(
                &format!("lead_source_ids[{i}]"),
                "is not a lead source of this account",
            ));
        }
        if !ids.contains(s) {
            ids.push(*s);
        }
    }
    let id = api_keys::insert(
        &mut tx,
        actor.account,
        actor.member,
        name.as_str(),
        &token_hash(&token),
        PermissionSet::EMPTY,
        Some(&ids),
        now,
    )
    .await?;
    crate::trail::record(
        &mut tx,
        &actor,
        "api_key.created",
        "api_key",
        id.0,
        None,
        Some(json!({"name": name.as_str(), "lead_source_ids": ids.iter().map(|s| s.0).collect::<Vec<_>>()})),
        now,
    )
    .await?;
    let key = api_keys::get(&mut tx, actor.account, id)
        .await?
        .ok_or(AppError::NotFound("API key"))?;
    tx.commit().await?;
    Ok(NewKey { key, token })
}
