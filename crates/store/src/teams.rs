//! Teams (T1): named sets of members of one account; a member may be in several.

use crate::db::{Conn, Lock};
use crate::error::StoreError;
use leadteam_domain::{AccountId, MemberId, TeamId, Timestamp};
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct TeamRow {
    pub id: TeamId,
    pub account: AccountId,
    pub name: String,
    pub created_at: Timestamp,
    /// Members (id, name), by name.
    pub members: Vec<(MemberId, String)>,
}

const SELECT: &str = "SELECT id, account_id, name, created_at FROM teams";

fn from_row(r: &sqlx::any::AnyRow) -> Result<TeamRow, StoreError> {
    Ok(TeamRow {
        id: TeamId(r.try_get("id")?),
        account: AccountId(r.try_get("account_id")?),
        name: r.try_get("name")?,
        created_at: Timestamp(r.try_get("created_at")?),
        members: Vec::new(),
    })
}

async fn attach_members(
    c: &mut Conn,
    account: AccountId,
    only: Option<TeamId>,
    rows: &mut [TeamRow],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let pairs = sqlx::query(
        "SELECT tm.team_id, m.id, m.name FROM team_members tm JOIN members m ON m.id = tm.member_id \
         WHERE m.account_id = $1 AND ($2 IS NULL OR tm.team_id = $2) ORDER BY m.name, m.id",
    )
    .bind(account.0)
    .bind(only.map(|t| t.0))
    .fetch_all(c)
    .await?;
    for p in pairs {
        let team: i64 = p.try_get("team_id")?;
        let member = (MemberId(p.try_get("id")?), p.try_get::<String, _>("name")?);
        if let Some(t) = rows.iter_mut().find(|t| t.id.0 == team) {
            t.members.push(member);
        }
    }
    Ok(())
}

/// Every team of the account with its members, by name.
pub async fn list(c: &mut Conn, account: AccountId) -> Result<Vec<TeamRow>, StoreError> {
    let sql = format!("{SELECT} WHERE account_id = $1 ORDER BY LOWER(name), id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account.0)
        .fetch_all(&mut *c)
        .await?;
    let mut out = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    attach_members(c, account, None, &mut out).await?;
    Ok(out)
}

/// One team of the account (a foreign id is not found). `lock` in write
/// transactions that decide on the row.
pub async fn get(
    c: &mut Conn,
    account: AccountId,
    id: TeamId,
    lock: Lock,
) -> Result<Option<TeamRow>, StoreError> {
    let lock = lock.clause(c);
    let sql = format!("{SELECT} WHERE account_id = $1 AND id = $2{lock}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account.0)
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut out = vec![from_row(&row)?];
    attach_members(c, account, Some(id), &mut out).await?;
    Ok(out.pop())
}

/// Whether another team of the account has this name (case-insensitive).
pub async fn name_taken(
    c: &mut Conn,
    account: AccountId,
    name: &str,
    except: Option<TeamId>,
) -> Result<bool, StoreError> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM teams WHERE account_id = $1 AND LOWER(name) = LOWER($2) AND ($3 IS NULL OR id <> $3)",
    )
    .bind(account.0)
    .bind(name)
    .bind(except.map(|t| t.0))
    .fetch_optional(c)
    .await?;
    Ok(found.is_some())
}

pub async fn insert(
    c: &mut Conn,
    account: AccountId,
    name: &str,
    now: Timestamp,
) -> Result<TeamId, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO teams (account_id, name, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(account.0)
    .bind(name)
    .bind(now.0)
    .fetch_one(c)
    .await?;
    Ok(TeamId(id))
}

pub async fn rename(c: &mut Conn, id: TeamId, name: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE teams SET name = $1 WHERE id = $2")
        .bind(name)
        .bind(id.0)
        .execute(c)
        .await?;
    Ok(())
}

/// Deletes the team; its memberships go with it.
pub async fn delete(c: &mut Conn, id: TeamId) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM team_members WHERE team_id = $1")
        .bind(id.0)
        .execute(&mut *c)
        .await?;
    sqlx::query("DELETE FROM teams WHERE id = $1")
        .bind(id.0)
        .execute(c)
        .await?;
    Ok(())
}

/// The ids among `ids` that are not members of the account.
pub async fn foreign_members(
    c: &mut Conn,
    account: AccountId,
    ids: &[MemberId],
) -> Result<Vec<MemberId>, StoreError> {
    let ours: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM members WHERE account_id = $1 AND status <> 'removed'")
            .bind(account.0)
            .fetch_all(c)
            .await?;
    Ok(ids
        .iter()
        .copied()
        .filter(|m| !ours.contains(&m.0))
        .collect())
}

/// Replaces the members of a team (the ids must be members of its account:
/// see `foreign_members`).
pub async fn set_members(c: &mut Conn, id: TeamId, members: &[MemberId]) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM team_members WHERE team_id = $1")
        .bind(id.0)
        .execute(&mut *c)
        .await?;
    for m in members {
        sqlx::query(
            "INSERT INTO team_members (team_id, member_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(id.0)
        .bind(m.0)
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}
