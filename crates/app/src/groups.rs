//! Client groups: every member uses them (P6), `groups.edit` creates and
//! edits them, only the owner and admins delete them (P5).

pub use leadteam_store::groups::GroupRow;

use crate::App;
use crate::auth::Caller;
use crate::error::AppError;
use leadteam_domain::authz::Action;
use leadteam_domain::content::{MAX_DESCRIPTION_CHARS, color, long_text};
use leadteam_domain::validate::Name;
use leadteam_domain::{AccountId, GroupId, ValidationErrors};
use leadteam_store::Lock;
use leadteam_store::groups::{self, NewGroup};
use leadteam_store::{Conn, StoreError};
use serde_json::{Value, json};

/// Longest group name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// The audit picture of a group (before/after).
impl crate::trail::Audited for GroupRow {
    const KIND: &'static str = "group";

    fn audit_id(&self) -> i64 {
        self.id.0
    }

    fn picture(&self) -> Value {
        json!({
            "id": self.id.0,
            "name": self.name,
            "description": self.description,
            "color": self.color,
        })
    }
}

async fn load(
    conn: &mut Conn,
    account: AccountId,
    id: GroupId,
    lock: Lock,
) -> Result<GroupRow, AppError> {
    groups::get(conn, account, id, lock)
        .await?
        .ok_or(AppError::NotFound("group"))
}

fn name_conflict(name: &str) -> AppError {
    AppError::conflict(
        Some("name"),
        format!("a group named {name:?} already exists in this account"),
    )
}

fn on_unique(name: &str) -> impl FnOnce(StoreError) -> AppError + '_ {
    move |e| match e {
        StoreError::Unique { .. } => name_conflict(name),
        other => other.into(),
    }
}

/// What a caller writes; `None` leaves a field as it is. `color: Some(None)`
/// removes the colour.
#[derive(Debug, Default)]
pub struct GroupInput<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub color: Option<Option<&'a str>>,
}

struct Parsed {
    name: Option<Name>,
    description: Option<String>,
    color: Option<Option<String>>,
}

fn parse(input: &GroupInput<'_>) -> Result<Parsed, AppError> {
    let mut errs = ValidationErrors::default();
    let name = input
        .name
        .and_then(|n| errs.take(Name::parse("name", n, MAX_NAME_CHARS)));
    let description = input
        .description
        .and_then(|d| errs.take(long_text("description", d.trim(), MAX_DESCRIPTION_CHARS)));
    let color = match input.color {
        Some(Some(c)) => errs.take(color("color", c)).map(Some),
        Some(None) => Some(None),
        None => None,
    };
    errs.into_result()?;
    Ok(Parsed {
        name,
        description,
        color,
    })
}

pub async fn list(app: &App, caller: &Caller) -> Result<Vec<GroupRow>, AppError> {
    let actor = caller.may(&Action::UseGroups)?;
    let mut c = app.db.conn().await?;
    Ok(groups::list(&mut c, actor.account).await?)
}

pub async fn get(app: &App, caller: &Caller, id: GroupId) -> Result<GroupRow, AppError> {
    let actor = caller.may(&Action::UseGroups)?;
    let mut c = app.db.conn().await?;
    load(&mut c, actor.account, id, Lock::None).await
}

pub async fn create(
    app: &App,
    caller: &Caller,
    input: GroupInput<'_>,
) -> Result<GroupRow, AppError> {
    let actor = caller.may(&Action::EditGroups)?.clone();
    if input.name.is_none() {
        return Err(AppError::field("name", "is required"));
    }
    let p = parse(&input)?;
    let Some(name) = p.name else {
        return Err(AppError::field("name", "is required"));
    };
    let description = p.description.unwrap_or_default();
    let color = p.color.flatten();
    let now = app.now();
    let mut tx = app.db.write().await?;
    if groups::name_taken(&mut tx, actor.account, name.as_str(), None).await? {
        return Err(name_conflict(name.as_str()));
    }
    let id = groups::insert(
        &mut tx,
        NewGroup {
            account: actor.account,
            name: name.as_str(),
            description: &description,
            color: color.as_deref(),
            created_by: actor.member,
        },
        now,
    )
    .await
    .map_err(on_unique(name.as_str()))?;
    let after = load(&mut tx, actor.account, id, Lock::None).await?;
    crate::trail::change(&mut tx, caller, "group.created", None, Some(&after), now).await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn edit(
    app: &App,
    caller: &Caller,
    id: GroupId,
    input: GroupInput<'_>,
) -> Result<GroupRow, AppError> {
    let actor = caller.may(&Action::EditGroups)?.clone();
    let p = parse(&input)?;
    let now = app.now();
    let mut tx = app.db.write().await?;
    let before = load(&mut tx, actor.account, id, Lock::ForUpdate).await?;
    let name = p
        .name
        .map(Name::into_string)
        .unwrap_or_else(|| before.name.clone());
    if groups::name_taken(&mut tx, actor.account, &name, Some(id)).await? {
        return Err(name_conflict(&name));
    }
    let description = p.description.unwrap_or_else(|| before.description.clone());
    let color = p.color.unwrap_or_else(|| before.color.clone());
    groups::update(&mut tx, id, &name, &description, color.as_deref(), now)
        .await
        .map_err(on_unique(&name))?;
    let after = load(&mut tx, actor.account, id, Lock::None).await?;
    crate::trail::change(
        &mut tx,
        caller,
        "group.updated",
        Some(&before),
        Some(&after),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn delete(app: &App, caller: &Caller, id: GroupId) -> Result<(), AppError> {
    let actor = caller.may(&Action::DeleteGroups)?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let before = load(&mut tx, actor.account, id, Lock::ForUpdate).await?;
    groups::delete(&mut tx, id).await?;
    crate::trail::change(&mut tx, caller, "group.deleted", Some(&before), None, now).await?;
    tx.commit().await?;
    Ok(())
}
