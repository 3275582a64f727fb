//! Teams (T1): admins create, rename and delete teams and set their members;
//! a member may be in several teams. Everyone with `team.view` lists them.

pub use leadteam_store::teams::TeamRow;

use crate::App;
use crate::auth::Caller;
use crate::error::AppError;
use leadteam_domain::authz::Action;
use leadteam_domain::validate::Name;
use leadteam_domain::{AccountId, MemberId, TeamId};
use leadteam_store::Lock;
use leadteam_store::teams::{self};
use leadteam_store::{Conn, StoreError};
use serde_json::{Value, json};

/// Longest team name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// The audit picture of a team (before/after).
impl crate::trail::Audited for TeamRow {
    const KIND: &'static str = "team";

    fn audit_id(&self) -> i64 {
        self.id.0
    }

    fn picture(&self) -> Value {
        json!({
            "id": self.id.0,
            "name": self.name,
            "members": self.members.iter().map(|m| m.0.0).collect::<Vec<_>>(),
        })
    }
}

async fn load(
    conn: &mut Conn,
    account: AccountId,
    id: TeamId,
    lock: Lock,
) -> Result<TeamRow, AppError> {
    teams::get(conn, account, id, lock)
        .await?
        .ok_or(AppError::NotFound("team"))
}

fn name_conflict(name: &str) -> AppError {
    AppError::conflict(
        Some("name"),
        format!("a team named {name:?} already exists in this account"),
    )
}

/// A unique-index violation on insert or rename is a name taken by a
/// concurrent request.
fn on_unique(name: &str) -> impl FnOnce(StoreError) -> AppError + '_ {
    move |e| match e {
        StoreError::Unique { .. } => name_conflict(name),
        other => other.into(),
    }
}

/// Checks the ids are members of the account (422 naming `member_ids`) and
/// drops repeats, keeping the order.
async fn member_ids(
    conn: &mut Conn,
    account: AccountId,
    ids: &[i64],
) -> Result<Vec<MemberId>, AppError> {
    let mut out: Vec<MemberId> = Vec::with_capacity(ids.len());
    for id in ids {
        if !out.contains(&MemberId(*id)) {
            out.push(MemberId(*id));
        }
    }
    let foreign = teams::foreign_members(conn, account, &out).await?;
    if !foreign.is_empty() {
        return Err(AppError::field(
            "member_ids",
            format!(
                "not members of this account: {}",
                foreign
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    Ok(out)
}

pub async fn list(app: &App, caller: &Caller) -> Result<Vec<TeamRow>, AppError> {
    let actor = caller.may(&Action::ListTeams)?;
    let mut c = app.db.conn().await?;
    Ok(teams::list(&mut c, actor.account).await?)
}

/// Creates a team, optionally with its first members.
pub async fn create(
    app: &App,
    caller: &Caller,
    name: &str,
    members: Option<&[i64]>,
) -> Result<TeamRow, AppError> {
    let actor = caller.may(&Action::ManageTeams)?.clone();
    let name = Name::parse("name", name, MAX_NAME_CHARS)?;
    let now = app.now();
    let mut tx = app.db.write().await?;
    if teams::name_taken(&mut tx, actor.account, name.as_str(), None).await? {
        return Err(name_conflict(name.as_str()));
    }
    let ids = match members {
        Some(ids) => member_ids(&mut tx, actor.account, ids).await?,
        None => Vec::new(),
    };
    let id = teams::insert(&mut tx, actor.account, name.as_str(), now)
        .await
        .map_err(on_unique(name.as_str()))?;
    teams::set_members(&mut tx, id, &ids).await?;
    let after = load(&mut tx, actor.account, id, Lock::None).await?;
    crate::trail::change(&mut tx, caller, "team.created", None, Some(&after), now).await?;
    tx.commit().await?;
    app.callers_changed();
    Ok(after)
}

pub async fn rename(
    app: &App,
    caller: &Caller,
    id: TeamId,
    name: &str,
) -> Result<TeamRow, AppError> {
    let actor = caller.may(&Action::ManageTeams)?.clone();
    let name = Name::parse("name", name, MAX_NAME_CHARS)?;
    let now = app.now();
    let mut tx = app.db.write().await?;
    let before = load(&mut tx, actor.account, id, Lock::ForUpdate).await?;
    if teams::name_taken(&mut tx, actor.account, name.as_str(), Some(id)).await? {
        return Err(name_conflict(name.as_str()));
    }
    teams::rename(&mut tx, id, name.as_str())
        .await
        .map_err(on_unique(name.as_str()))?;
    let after = load(&mut tx, actor.account, id, Lock::None).await?;
    crate::trail::change(
        &mut tx,
        caller,
        "team.renamed",
        Some(&before),
        Some(&after),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Replaces the members of a team (T1: add and remove members).
pub async fn set_members(
    app: &App,
    caller: &Caller,
    id: TeamId,
    ids: &[i64],
) -> Result<TeamRow, AppError> {
    let actor = caller.may(&Action::ManageTeams)?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let before = load(&mut tx, actor.account, id, Lock::ForUpdate).await?;
    let ids = member_ids(&mut tx, actor.account, ids).await?;
    teams::set_members(&mut tx, id, &ids).await?;
    let after = load(&mut tx, actor.account, id, Lock::None).await?;
    crate::trail::change(
        &mut tx,
        caller,
        "team.members_set",
        Some(&before),
        Some(&after),
        now,
    )
    .await?;
    tx.commit().await?;
    app.callers_changed();
    app.routing_changed(actor.account);
    Ok(after)
}

pub async fn delete(app: &App, caller: &Caller, id: TeamId) -> Result<(), AppError> {
    let actor = caller.may(&Action::ManageTeams)?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let before = load(&mut tx, actor.account, id, Lock::ForUpdate).await?;
    teams::delete(&mut tx, id).await?;
    crate::trail::change(&mut tx, caller, "team.deleted", Some(&before), None, now).await?;
    tx.commit().await?;
    app.callers_changed();
    app.routing_changed(actor.account);
    Ok(())
}
