//! Roles per account (P3): list, create, rename, change permissions, delete.
//!
//! Authorization is `decide` alone (P9): `ListRoles` to read,
//! `ManageRoles { grants }` to write, where `grants` is what the change gives
//! that the role did not have (all of a new role's permissions; none for a
//! rename or a removal), so nobody grants a permission it does not hold (P4).
//! Members' permissions are read from their role on every request, so a
//! change takes effect on their very next request.

pub use leadteam_store::roles::RoleWithCount;

use crate::App;
use crate::auth::Caller;
use crate::error::AppError;
use leadteam_domain::authz::{Action, Actor, Permission, PermissionSet};
use leadteam_domain::validate::Name;
use leadteam_domain::{AccountId, FieldError, RoleId, ValidationErrors};
use leadteam_store::Lock;
use leadteam_store::roles::{self, RoleRow};
use leadteam_store::{Conn, StoreError};
use serde_json::{Value, json};

/// Longest role name.
pub const NAME_MAX: usize = 60;

/// Every role of the caller's account with how many members hold it.
pub async fn list(app: &App, caller: &Caller) -> Result<Vec<RoleWithCount>, AppError> {
    let actor = caller.may(&Action::ListRoles)?;
    let mut c = app.db.conn().await?;
    Ok(roles::list(&mut c, actor.account).await?)
}

/// Creates a custom role.
pub async fn create(
    app: &App,
    caller: &Caller,
    name: &str,
    permissions: &[String],
) -> Result<RoleWithCount, AppError> {
    may_manage(caller)?;
    let mut errs = ValidationErrors::default();
    let name = errs.take(Name::parse("name", name, NAME_MAX));
    let perms = errs.take(parse_permissions(permissions));
    errs.into_result()?;
    let (Some(name), Some(perms)) = (name, perms) else {
        return Err(AppError::Internal("validation inconsistency".into()));
    };
    let actor = caller.may(&Action::ManageRoles { grants: perms })?;
    let now = app.now();
    let mut tx = app.db.write().await?;
    name_is_free(&mut tx, actor.account, name.as_str(), None).await?;
    let id = roles::insert(&mut tx, actor.account, name.as_str(), None, perms, now)
        .await
        .map_err(|e| name_taken(e, name.as_str()))?;
    let role = RoleRow {
        id,
        account: actor.account,
        name: name.into_string(),
        preset: None,
        permissions: perms,
        created_at: now,
    };
    crate::trail::change(&mut tx, caller, "role.created", None, Some(&role), now).await?;
    tx.commit().await?;
    Ok(RoleWithCount { role, members: 0 })
}

/// Renames a role and/or replaces its permissions. Every role but the Owner
/// preset may be edited.
pub async fn update(
    app: &App,
    caller: &Caller,
    id: RoleId,
    name: Option<&str>,
    permissions: Option<&[String]>,
) -> Result<RoleWithCount, AppError> {
    let actor = may_manage(caller)?;
    let mut errs = ValidationErrors::default();
    let name = name.and_then(|n| errs.take(Name::parse("name", n, NAME_MAX)));
    let perms = permissions.and_then(|p| errs.take(parse_permissions(p)));
    errs.into_result()?;
    let mut tx = app.db.write().await?;
    let before = roles::get(&mut tx, actor.account, id, Lock::ForUpdate)
        .await?
        .ok_or(AppError::NotFound("role"))?;
    if !before.is_editable() {
        return Err(AppError::conflict(
            None,
            "The Owner role cannot be changed: the owner always holds every permission",
        ));
    }
    let after = RoleRow {
        name: name.map_or_else(|| before.name.clone(), Name::into_string),
        permissions: perms.unwrap_or(before.permissions),
        ..before.clone()
    };
    caller.may(&Action::ManageRoles {
        grants: after.permissions.minus(before.permissions),
    })?;
    if after != before {
        if after.name != before.name {
            name_is_free(&mut tx, actor.account, &after.name, Some(id)).await?;
        }
        roles::update(&mut tx, actor.account, id, &after.name, after.permissions)
            .await
            .map_err(|e| name_taken(e, &after.name))?;
        crate::trail::change(
            &mut tx,
            caller,
            "role.updated",
            Some(&before),
            Some(&after),
            app.now(),
        )
        .await?;
    }
    let members = roles::member_count(&mut tx, id).await?;
    tx.commit().await?;
    app.callers_changed();
    Ok(RoleWithCount {
        role: after,
        members,
    })
}

/// Deletes a custom role nobody holds.
pub async fn delete(app: &App, caller: &Caller, id: RoleId) -> Result<(), AppError> {
    let actor = may_manage(caller)?;
    let mut tx = app.db.write().await?;
    let role = roles::get(&mut tx, actor.account, id, Lock::ForUpdate)
        .await?
        .ok_or(AppError::NotFound("role"))?;
    if !role.is_custom() {
        return Err(AppError::conflict(
            None,
            if role.is_editable() {
                format!(
                    "{} is a built-in role: it may be edited but not deleted",
                    role.name
                )
            } else {
                "The Owner role can be neither edited nor deleted".to_owned()
            },
        ));
    }
    let held = roles::member_count(&mut tx, id).await?;
    if held > 0 || !roles::delete_unheld(&mut tx, actor.account, id).await? {
        return Err(AppError::conflict(
            None,
            format!(
                "{held} member{} still hold{} the role {}: give {} another role first",
                if held == 1 { "" } else { "s" },
                if held == 1 { "s" } else { "" },
                role.name,
                if held == 1 { "it" } else { "them" },
            ),
        ));
    }
    crate::trail::change(
        &mut tx,
        caller,
        "role.deleted",
        Some(&role),
        None,
        app.now(),
    )
    .await?;
    tx.commit().await?;
    app.callers_changed();
    Ok(())
}

/// The first check of every write: holding `members.manage` at all, before
/// any input is read or any id looked up.
fn may_manage(caller: &Caller) -> Result<&Actor, AppError> {
    caller.may(&Action::ManageRoles {
        grants: PermissionSet::EMPTY,
    })
}

/// Permission names as the API takes them; the error names the unknown one.
pub fn parse_permissions(names: &[String]) -> Result<PermissionSet, FieldError> {
    PermissionSet::parse_names(names).map_err(|bad| {
        let known: Vec<&str> = Permission::ALL.iter().map(|p| p.name()).collect();
        FieldError::new(
            "permissions",
            format!(
                "unknown permission {bad:?}; the permissions are {}",
                known.join(", ")
            ),
        )
    })
}

/// Role names are unique per account, whatever their case.
async fn name_is_free(
    c: &mut Conn,
    account: AccountId,
    name: &str,
    except: Option<RoleId>,
) -> Result<(), AppError> {
    match roles::by_name(c, account, name).await? {
        Some(other) if Some(other.id) != except => Err(AppError::conflict(
            Some("name"),
            format!("A role named {:?} already exists", other.name),
        )),
        _ => Ok(()),
    }
}

/// The unique index caught a name taken by a concurrent request.
fn name_taken(e: StoreError, name: &str) -> AppError {
    if matches!(e, StoreError::Unique { .. }) {
        AppError::conflict(
            Some("name"),
            format!("A role named {name:?} already exists"),
        )
    } else {
        e.into()
    }
}

/// The audit picture of a role (before/after).
impl crate::trail::Audited for RoleRow {
    const KIND: &'static str = "role";

    fn audit_id(&self) -> i64 {
        self.id.0
    }

    fn picture(&self) -> Value {
        json!({
            "name": self.name,
            "preset": self.preset.map(|p| p.key()),
            "permissions": self.permissions.names(),
        })
    }
}
