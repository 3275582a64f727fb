//! The account: settings, require 2FA (O5), ownership transfer (O3), deletion
//! with an emailed code (O4), export, and the audit log (X1).

pub use leadteam_store::audit::AuditRow;

use crate::App;
use crate::auth::Caller;
use crate::error::AppError;
use crate::trail::Audited;
use leadteam_domain::authz::{Action, MemberStatus, Permission};
use leadteam_domain::secret::{constant_time_eq, token_hash};
use leadteam_domain::validate::Name;
use leadteam_domain::{MemberId, Timestamp};
use leadteam_store::Lock;
use leadteam_store::accounts::{self, AccountRow};
use leadteam_store::audit::{self};
use leadteam_store::{members, outbox};
use serde_json::{Value, json};

/// Deletion codes: digits, lifetime and tries.
pub const DELETION_CODE_DIGITS: usize = 8;
pub const DELETION_CODE_TTL_MS: i64 = 15 * 60_000;
pub const DELETION_CODE_TRIES: i64 = 5;

#[derive(Debug, Clone)]
pub struct AccountView {
    pub account: AccountRow,
    pub owner: Option<members::MemberRow>,
    pub invited: i64,
    pub active: i64,
    pub deactivated: i64,
}

pub async fn get(app: &App, caller: &Caller) -> Result<AccountView, AppError> {
    let actor = caller.may(&Action::ViewAccount)?;
    let mut c = app.db.conn().await?;
    let account = accounts::by_id(&mut c, actor.account)
        .await?
        .ok_or(AppError::NotFound("account"))?;
    let owner = members::owner(&mut c, actor.account).await?;
    let (invited, active, deactivated) = members::count_by_status(&mut c, actor.account).await?;
    Ok(AccountView {
        account,
        owner,
        invited,
        active,
        deactivated,
    })
}

pub async fn update(
    app: &App,
    caller: &Caller,
    name: Option<&str>,
    require_2fa: Option<bool>,
    time_zone: Option<&str>,
) -> Result<AccountView, AppError> {
    let actor = caller.may(&Action::ManageAccount)?.clone();
    let mut errs = leadteam_domain::ValidationErrors::default();
    let name = match name {
        Some(n) => errs.take(Name::parse("name", n, 100)),
        None => None,
    };
    if let Some(z) = time_zone {
        errs.take(leadteam_domain::availability::zone("time_zone", z));
    }
    errs.into_result()?;
    let now = app.now();
    let mut tx = app.db.write().await?;
    let before = accounts::by_id(&mut tx, actor.account)
        .await?
        .ok_or(AppError::NotFound("account"))?;
    accounts::update(
        &mut tx,
        actor.account,
        name.as_ref().map(Name::as_str),
        require_2fa,
    )
    .await?;
    if let Some(z) = time_zone {
        accounts::set_time_zone(&mut tx, actor.account, z.trim()).await?;
    }
    let after = accounts::by_id(&mut tx, actor.account)
        .await?
        .ok_or(AppError::NotFound("account"))?;
    crate::trail::record(
        &mut tx,
        &actor,
        "account.updated",
        "account",
        actor.account.0,
        Some(json!({"name": before.name, "require_2fa": before.require_2fa, "time_zone": before.time_zone})),
        Some(json!({"name": after.name, "require_2fa": after.require_2fa, "time_zone": after.time_zone})),
        now,
    )
    .await?;
    tx.commit().await?;
    app.callers_changed();
    get(app, caller).await
}

/// Transfers ownership to an active admin (O3); the former owner becomes an
/// admin. Exactly one owner at all times, also when transfers race: the
/// owner row is locked and re-checked, and a partial unique index forbids two.
pub async fn transfer_ownership(
    app: &App,
    caller: &Caller,
    to: MemberId,
) -> Result<members::MemberRow, AppError> {
    let actor = caller.may(&Action::TransferOwnership)?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let lock = Lock::ForUpdate;
    let me = members::get(&mut tx, actor.account, actor.member, lock)
        .await?
        .ok_or(AppError::NotFound("member"))?;
    if !me.is_owner {
        return Err(AppError::Denied(leadteam_domain::authz::Denied::OwnerOnly));
    }
    let target = members::get(&mut tx, actor.account, to, lock)
        .await?
        .ok_or_else(|| AppError::field("member_id", "is not a member of this account"))?;
    if target.id == me.id {
        return Err(AppError::field("member_id", "you are already the owner"));
    }
    if target.status != MemberStatus::Active {
        return Err(AppError::field("member_id", "must be an active member"));
    }
    if !target.permissions.contains(Permission::AccountManage) {
        return Err(AppError::field(
            "member_id",
            "ownership goes to an admin: give this member the Admin role first",
        ));
    }
    let admin_role = members::role_by_key_or_name(&mut tx, actor.account, "admin")
        .await?
        .ok_or(AppError::Internal("admin preset missing".into()))?;
    if !members::transfer_owner(&mut tx, me.id, target.id, admin_role).await? {
        return Err(AppError::conflict(
            None,
            "ownership changed meanwhile; reload and try again",
        ));
    }
    let after = members::get(&mut tx, actor.account, target.id, Lock::None)
        .await?
        .ok_or(AppError::NotFound("member"))?;
    crate::trail::record(&mut tx, caller, "account.ownership_transferred", "member", target.id.0, Some(json!({"owner": me.id.0})), Some(json!({"owner": target.id.0, "former_owner_role": "Admin", "new_owner": after.picture()})), now)
    .await?;
    tx.commit().await?;
    app.callers_changed();
    Ok(after)
}

pub(crate) fn deletion_code() -> String {
    use rand::Rng;
    let mut rng = rand::rngs::OsRng;
    (0..DELETION_CODE_DIGITS)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}

/// Emails the owner a code that confirms the deletion of the account (O4).
pub async fn request_deletion(app: &App, caller: &Caller) -> Result<Timestamp, AppError> {
    let actor = caller.may(&Action::DeleteAccount)?.clone();
    let now = app.now();
    let expires = now.plus_millis(DELETION_CODE_TTL_MS);
    let mut tx = app.db.write().await?;
    let account = accounts::by_id(&mut tx, actor.account)
        .await?
        .ok_or(AppError::NotFound("account"))?;
    // The code is minted when the mail leaves (crate::secrets).
    accounts::set_deletion_code(
        &mut tx,
        actor.account,
        &crate::secrets::placeholder_hash(),
        actor.member,
        expires,
    )
    .await?;
    outbox::drop_unsent(
        &mut tx,
        crate::secrets::ACCOUNT_DELETION,
        actor.account.0,
        now,
    )
    .await?;
    let body = format!(
        "Hello {name},\n\nSomeone (hopefully you) asked to delete the account {account} on leadteam.\n\n\
         Confirmation code: {code}\n\n\
         The code expires in 15 minutes and dies after {DELETION_CODE_TRIES} wrong tries. Deleting ends every \
         member's access and removes the account's data for good; download an export first (GET /api/v1/account/export).\n\
         If you did not ask for this, change your password.\n",
        name = caller.name,
        account = account.name,
        code = outbox::SECRET,
    );
    outbox::enqueue(
        &mut tx,
        outbox::NewMessage {
            account: Some(actor.account),
            to: &caller.email,
            subject: &format!("Code to delete {} on leadteam", account.name),
            body_text: &body,
            kind: "account_deletion_code",
            secret: Some(outbox::SecretRef {
                purpose: crate::secrets::ACCOUNT_DELETION,
                id: actor.account.0,
            }),
        },
        now,
    )
    .await?;
    crate::trail::record(
        &mut tx,
        &actor,
        "account.deletion_requested",
        "account",
        actor.account.0,
        None,
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    app.mail_queued();
    Ok(expires)
}

/// Deletes the account with the emailed code. Each try is counted in its own
/// committed update, so concurrent guesses are all counted.
pub async fn delete(app: &App, caller: &Caller, code: &str) -> Result<i64, AppError> {
    let actor = caller.may(&Action::DeleteAccount)?.clone();
    if code.trim().is_empty() {
        return Err(AppError::field("code", "is required"));
    }
    let now = app.now();
    let mut c = app.db.conn().await?;
    let Some(accounts::DeletionTry {
        code_hash: hash,
        expires_at: expires,
        attempts,
        requested_by,
    }) = accounts::try_deletion_code(&mut c, actor.account).await?
    else {
        return Err(AppError::field(
            "code",
            "no deletion code is pending: ask for one first",
        ));
    };
    drop(c);
    if attempts > DELETION_CODE_TRIES {
        return Err(AppError::Gone(
            "too many wrong codes: this code no longer works; ask for a new one".into(),
        ));
    }
    if expires <= now {
        return Err(AppError::Gone(
            "the code has expired; ask for a new one".into(),
        ));
    }
    // The code is bound to the member who asked for it: another member
    // (a new owner after a transfer, say) cannot use it.
    if requested_by != actor.member {
        return Err(AppError::field(
            "code",
            "this code was sent to another member; ask for your own code",
        ));
    }
    if !constant_time_eq(token_hash(code.trim()).as_bytes(), hash.as_bytes()) {
        let left = DELETION_CODE_TRIES - attempts;
        return Err(AppError::field(
            "code",
            format!("is not the code we sent; {left} tries left"),
        ));
    }
    let mut tx = app.db.write().await?;
    let n = accounts::delete_account(&mut tx, actor.account).await?;
    crate::trail::record(
        &mut tx,
        crate::trail::By::Member {
            account: None,
            user: Some(actor.user),
            member: Some(actor.member),
        },
        "account.deleted",
        "account",
        actor.account.0,
        Some(json!({"members": n})),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    app.callers_changed();
    app.sources_changed(actor.account, None);
    app.routing_settings_changed(actor.account);
    app.webhooks_changed(actor.account);
    crate::files::remove_account(&app.config, actor.account).await;
    Ok(n)
}

/// A JSON export of the account, offered before deletion (O4).
pub async fn export(app: &App, caller: &Caller) -> Result<Value, AppError> {
    let actor = caller.may(&Action::ManageAccount)?.clone();
    let mut tx = app.db.read().await?;
    let account = accounts::by_id(&mut tx, actor.account)
        .await?
        .ok_or(AppError::NotFound("account"))?;
    let members = members::list(&mut tx, actor.account, None).await?;
    let roles = leadteam_store::members::roles_of_account(&mut tx, actor.account).await?;
    Ok(json!({
        "account": {"id": account.id.0, "name": account.name, "require_2fa": account.require_2fa, "created_at": account.created_at.0},
        "roles": roles.iter().map(|(id, name, preset, perms)| json!({"id": id.0, "name": name, "preset": preset, "permissions": perms.names()})).collect::<Vec<_>>(),
        "members": members.iter().map(Audited::picture).collect::<Vec<_>>(),
    }))
}

/// The audit log of the account, newest first.
pub async fn audit_log(
    app: &App,
    caller: &Caller,
    action: Option<&str>,
    by: Option<MemberId>,
    before: Option<i64>,
    limit: Option<i64>,
) -> Result<Vec<AuditRow>, AppError> {
    let actor = caller.may(&Action::ViewAudit)?;
    let limit = limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::field("limit", "must be between 1 and 200"));
    }
    let mut c = app.db.conn().await?;
    Ok(audit::list(
        &mut c,
        actor.account,
        action.filter(|a| !a.is_empty()),
        by,
        before,
        limit,
    )
    .await?)
}
