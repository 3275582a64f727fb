//! Members: a user's membership of one account, including invited rows.

use crate::accounts::effective_permissions;
use crate::db::{Conn, Lock};
use crate::error::StoreError;
use crate::flag;
use leadteam_domain::authz::{MemberFacts, MemberStatus, PermissionSet};
use leadteam_domain::{AccountId, MemberId, RoleId, TeamId, Timestamp, UserId};
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct MemberRow {
    pub id: MemberId,
    pub account: AccountId,
    pub user: Option<UserId>,
    pub email: String,
    pub name: String,
    pub role_id: RoleId,
    pub role_name: String,
    pub role_preset: Option<String>,
    pub permissions_override: Option<i64>,
    pub permissions: PermissionSet,
    pub status: MemberStatus,
    pub is_owner: bool,
    pub agent: bool,
    pub capacity: Option<i64>,
    /// The away switch (A8).
    pub away: bool,
    pub invited_at: Option<Timestamp>,
    pub activated_at: Option<Timestamp>,
    pub deactivated_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub teams: Vec<(TeamId, String)>,
}

impl MemberRow {
    /// What `decide` needs to know of this member as a target.
    pub fn facts(&self) -> MemberFacts {
        MemberFacts {
            member: self.id,
            status: self.status,
            is_owner: self.is_owner,
            permissions: self.permissions,
        }
    }
}

const SELECT: &str = "SELECT m.id, m.account_id, m.user_id, m.email, m.name, m.role_id, r.name AS role_name, \
     r.preset AS role_preset, r.permissions AS role_permissions, m.permissions AS member_permissions, m.status, \
     m.is_owner, m.agent, m.capacity, m.away, m.invited_at, m.activated_at, m.deactivated_at, m.created_at \
     FROM members m JOIN roles r ON r.id = m.role_id";

fn from_row(r: &sqlx::any::AnyRow) -> Result<MemberRow, StoreError> {
    let status: String = r.try_get("status")?;
    let is_owner = flag(r.try_get("is_owner")?);
    let agent = flag(r.try_get("agent")?);
    let member_perms: Option<i64> = r.try_get("member_permissions")?;
    let role_perms: i64 = r.try_get("role_permissions")?;
    Ok(MemberRow {
        id: MemberId(r.try_get("id")?),
        account: AccountId(r.try_get("account_id")?),
        user: r.try_get::<Option<i64>, _>("user_id")?.map(UserId),
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        role_id: RoleId(r.try_get("role_id")?),
        role_name: r.try_get("role_name")?,
        role_preset: r.try_get("role_preset")?,
        permissions_override: member_perms,
        permissions: effective_permissions(is_owner, member_perms, role_perms, agent),
        status: MemberStatus::parse(&status).unwrap_or(MemberStatus::Deactivated),
        is_owner,
        agent,
        capacity: r.try_get("capacity")?,
        away: flag(r.try_get("away")?),
        invited_at: r.try_get::<Option<i64>, _>("invited_at")?.map(Timestamp),
        activated_at: r.try_get::<Option<i64>, _>("activated_at")?.map(Timestamp),
        deactivated_at: r
            .try_get::<Option<i64>, _>("deactivated_at")?
            .map(Timestamp),
        created_at: Timestamp(r.try_get("created_at")?),
        teams: Vec::new(),
    })
}

async fn attach_teams(c: &mut Conn, rows: &mut [MemberRow]) -> Result<(), StoreError> {
    let Some(first) = rows.first() else {
        return Ok(());
    };
    let account = first.account;
    let pairs = sqlx::query(
        "SELECT tm.member_id, t.id, t.name FROM team_members tm JOIN teams t ON t.id = tm.team_id \
         WHERE t.account_id = $1 ORDER BY t.name, t.id",
    )
    .bind(account.0)
    .fetch_all(c)
    .await?;
    for p in pairs {
        let member: i64 = p.try_get("member_id")?;
        let team = (TeamId(p.try_get("id")?), p.try_get::<String, _>("name")?);
        if let Some(m) = rows.iter_mut().find(|m| m.id.0 == member) {
            m.teams.push(team);
        }
    }
    Ok(())
}

/// Every member of an account, optionally of one status, owner first then by name.
pub async fn list(
    c: &mut Conn,
    account: AccountId,
    status: Option<MemberStatus>,
) -> Result<Vec<MemberRow>, StoreError> {
    let sql = format!(
        "{SELECT} WHERE m.account_id = $1 AND m.status <> 'removed' AND ($2 IS NULL OR m.status = $2) \
         ORDER BY m.is_owner DESC, m.name, m.id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account.0)
        .bind(status.map(|s| s.as_str()))
        .fetch_all(&mut *c)
        .await?;
    let mut out = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    attach_teams(c, &mut out).await?;
    Ok(out)
}

/// One member of the account (a foreign id is not found). `lock` in write
/// transactions that decide on the row.
pub async fn get(
    c: &mut Conn,
    account: AccountId,
    id: MemberId,
    lock: Lock,
) -> Result<Option<MemberRow>, StoreError> {
    let lock = lock.clause_of(c, "m");
    let sql =
        format!("{SELECT} WHERE m.account_id = $1 AND m.id = $2 AND m.status <> 'removed'{lock}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account.0)
        .bind(id.0)
        .fetch_optional(&mut *c)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut out = vec![from_row(&row)?];
    attach_teams(c, &mut out).await?;
    Ok(out.pop())
}

pub async fn by_email(
    c: &mut Conn,
    account: AccountId,
    email: &str,
) -> Result<Option<MemberRow>, StoreError> {
    let sql =
        format!("{SELECT} WHERE m.account_id = $1 AND m.email = $2 AND m.status <> 'removed'");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account.0)
        .bind(email)
        .fetch_optional(c)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn owner(c: &mut Conn, account: AccountId) -> Result<Option<MemberRow>, StoreError> {
    let sql = format!("{SELECT} WHERE m.account_id = $1 AND m.is_owner = 1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account.0)
        .fetch_optional(c)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub struct NewInvited<'a> {
    pub account: AccountId,
    pub email: &'a str,
    pub name: &'a str,
    pub role: RoleId,
    pub permissions: Option<PermissionSet>,
    pub agent: bool,
}

pub async fn insert_invited(
    c: &mut Conn,
    m: NewInvited<'_>,
    now: Timestamp,
) -> Result<MemberId, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO members (account_id, email, name, role_id, permissions, status, is_owner, agent, invited_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'invited', 0, $6, $7, $7) RETURNING id",
    )
    .bind(m.account.0)
    .bind(m.email)
    .bind(m.name)
    .bind(m.role.0)
    .bind(m.permissions.map(PermissionSet::bits))
    .bind(i64::from(m.agent))
    .bind(now.0)
    .fetch_one(c)
    .await?;
    Ok(MemberId(id))
}

/// Invited -> active, bound to `user`. False when the member is no longer invited.
pub async fn activate(
    c: &mut Conn,
    id: MemberId,
    user: UserId,
    name: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "UPDATE members SET status = 'active', user_id = $1, name = $2, activated_at = $3 WHERE id = $4 AND status = 'invited'",
    )
    .bind(user.0)
    .bind(name)
    .bind(now.0)
    .bind(id.0)
    .execute(c)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Active <-> deactivated, conditional on the current status.
pub async fn set_status(
    c: &mut Conn,
    id: MemberId,
    from: MemberStatus,
    to: MemberStatus,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let sql = match to {
        MemberStatus::Deactivated => {
            "UPDATE members SET status = $1, deactivated_at = $2 WHERE id = $3 AND status = $4"
        }
        _ => {
            "UPDATE members SET status = $1, activated_at = $2, deactivated_at = NULL WHERE id = $3 AND status = $4"
        }
    };
    let n = sqlx::query(sql)
        .bind(to.as_str())
        .bind(now.0)
        .bind(id.0)
        .bind(from.as_str())
        .execute(c)
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// The editable fields of a member; `None` leaves a field unchanged.
#[derive(Debug, Default)]
pub struct MemberChanges {
    pub role: Option<RoleId>,
    pub permissions: Option<Option<PermissionSet>>,
    pub agent: Option<bool>,
    pub capacity: Option<Option<i64>>,
    pub name: Option<String>,
}

pub async fn update(c: &mut Conn, id: MemberId, ch: &MemberChanges) -> Result<(), StoreError> {
    if let Some(role) = ch.role {
        sqlx::query("UPDATE members SET role_id = $1 WHERE id = $2")
            .bind(role.0)
            .bind(id.0)
            .execute(&mut *c)
            .await?;
    }
    if let Some(p) = ch.permissions {
        sqlx::query("UPDATE members SET permissions = $1 WHERE id = $2")
            .bind(p.map(PermissionSet::bits))
            .bind(id.0)
            .execute(&mut *c)
            .await?;
    }
    if let Some(a) = ch.agent {
        sqlx::query("UPDATE members SET agent = $1 WHERE id = $2")
            .bind(i64::from(a))
            .bind(id.0)
            .execute(&mut *c)
            .await?;
    }
    if let Some(cap) = ch.capacity {
        sqlx::query("UPDATE members SET capacity = $1 WHERE id = $2")
            .bind(cap)
            .bind(id.0)
            .execute(&mut *c)
            .await?;
    }
    if let Some(n) = &ch.name {
        sqlx::query("UPDATE members SET name = $1 WHERE id = $2")
            .bind(n)
            .bind(id.0)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

/// Replaces the member's teams; every id must be a team of the account
/// (returns the ids that are not).
pub async fn set_teams(
    c: &mut Conn,
    account: AccountId,
    id: MemberId,
    teams: &[TeamId],
) -> Result<Vec<TeamId>, StoreError> {
    let mut unknown = Vec::new();
    for t in teams {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT id FROM teams WHERE id = $1 AND account_id = $2")
                .bind(t.0)
                .bind(account.0)
                .fetch_optional(&mut *c)
                .await?;
        if found.is_none() {
            unknown.push(*t);
        }
    }
    if !unknown.is_empty() {
        return Ok(unknown);
    }
    sqlx::query("DELETE FROM team_members WHERE member_id = $1")
        .bind(id.0)
        .execute(&mut *c)
        .await?;
    for t in teams {
        sqlx::query(
            "INSERT INTO team_members (team_id, member_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(t.0)
        .bind(id.0)
        .execute(&mut *c)
        .await?;
    }
    Ok(Vec::new())
}

/// Removes a member for good (M7) and keeps its row as a tombstone that
/// history still names (X4): status `removed`, no login, no owner flag, no
/// permissions of its own (the Restricted preset, which is never deleted,
/// so custom roles can still go), out of every team, guest list, licence,
/// balance and invitation; its API keys are revoked. Its clients must have
/// been moved or deleted before.
pub async fn mark_removed(
    c: &mut Conn,
    account: AccountId,
    id: MemberId,
    now: Timestamp,
) -> Result<(), StoreError> {
    for sql in [
        "DELETE FROM team_members WHERE member_id = $1",
        "DELETE FROM client_guests WHERE member_id = $1",
        "DELETE FROM notifications WHERE member_id = $1",
        "DELETE FROM on_duty WHERE member_id = $1",
        "DELETE FROM invitations WHERE member_id = $1",
        "DELETE FROM credit_balances WHERE member_id = $1",
    ] {
        sqlx::query(sql).bind(id.0).execute(&mut *c).await?;
    }
    sqlx::query("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE member_id = $1")
        .bind(id.0)
        .bind(now.0)
        .execute(&mut *c)
        .await?;
    sqlx::query(
        "UPDATE members SET status = 'removed', removed_at = $3, user_id = NULL, is_owner = 0, \
         permissions = NULL, agent = 0, capacity = NULL, team_view = NULL, \
         role_id = (SELECT id FROM roles WHERE account_id = $2 AND preset = 'restricted') \
         WHERE id = $1 AND account_id = $2",
    )
    .bind(id.0)
    .bind(account.0)
    .bind(now.0)
    .execute(c)
    .await?;
    Ok(())
}

/// Deletes a member row that never was a member (a cancelled invitation, M3).
pub async fn delete(c: &mut Conn, id: MemberId) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM members WHERE id = $1")
        .bind(id.0)
        .execute(c)
        .await?;
    Ok(())
}

/// Moves the owner flag: clears it on `from` (giving it `admin_role`), then
/// sets it on `to`. The partial unique index keeps one owner at all times.
pub async fn transfer_owner(
    c: &mut Conn,
    from: MemberId,
    to: MemberId,
    admin_role: RoleId,
) -> Result<bool, StoreError> {
    let n = sqlx::query("UPDATE members SET is_owner = 0, role_id = $1, permissions = NULL WHERE id = $2 AND is_owner = 1")
        .bind(admin_role.0)
        .bind(from.0)
        .execute(&mut *c)
        .await?
        .rows_affected();
    if n != 1 {
        return Ok(false);
    }
    let owner_role: Option<i64> = sqlx::query_scalar(
        "SELECT r.id FROM roles r JOIN members m ON m.account_id = r.account_id WHERE m.id = $1 AND r.preset = 'owner'",
    )
    .bind(to.0)
    .fetch_optional(&mut *c)
    .await?;
    let n = sqlx::query(
        "UPDATE members SET is_owner = 1, role_id = COALESCE($1, role_id), permissions = NULL WHERE id = $2 AND status = 'active'",
    )
    .bind(owner_role)
    .bind(to.0)
    .execute(c)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// A role of the account by id (for invitations and edits).
pub async fn role_of_account(
    c: &mut Conn,
    account: AccountId,
    role: RoleId,
) -> Result<Option<(RoleId, String, Option<String>, PermissionSet)>, StoreError> {
    let row = sqlx::query(
        "SELECT id, name, preset, permissions FROM roles WHERE id = $1 AND account_id = $2",
    )
    .bind(role.0)
    .bind(account.0)
    .fetch_optional(c)
    .await?;
    row.map(|r| {
        Ok((
            RoleId(r.try_get("id")?),
            r.try_get("name")?,
            r.try_get("preset")?,
            PermissionSet::from_bits(r.try_get("permissions")?),
        ))
    })
    .transpose()
}

/// A role of the account by preset key or name (case-insensitive).
pub async fn role_by_key_or_name(
    c: &mut Conn,
    account: AccountId,
    key: &str,
) -> Result<Option<RoleId>, StoreError> {
    let id: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM roles WHERE account_id = $1 AND (preset = $2 OR LOWER(name) = LOWER($2)) ORDER BY preset IS NULL, id LIMIT 1",
    )
    .bind(account.0)
    .bind(key)
    .fetch_optional(c)
    .await?;
    Ok(id.map(RoleId))
}

/// Ends the sessions a user has open in one account (deactivation, removal).
pub async fn end_sessions_in_account(
    c: &mut Conn,
    user: UserId,
    account: AccountId,
) -> Result<u64, StoreError> {
    let n = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND account_id = $2")
        .bind(user.0)
        .bind(account.0)
        .execute(c)
        .await?
        .rows_affected();
    Ok(n)
}

/// Active members holding seats (for billing and seat checks).
pub async fn count_by_status(
    c: &mut Conn,
    account: AccountId,
) -> Result<(i64, i64, i64), StoreError> {
    let rows = sqlx::query(
        "SELECT status, COUNT(*) AS n FROM members WHERE account_id = $1 AND status <> 'removed' GROUP BY status",
    )
    .bind(account.0)
    .fetch_all(c)
    .await?;
    let (mut invited, mut active, mut deactivated) = (0, 0, 0);
    for r in rows {
        let s: String = r.try_get("status")?;
        let n: i64 = r.try_get("n")?;
        match s.as_str() {
            "invited" => invited = n,
            "active" => active = n,
            _ => deactivated = n,
        }
    }
    Ok((invited, active, deactivated))
}

/// Every role of an account: (id, name, preset, permissions).
pub async fn roles_of_account(
    c: &mut Conn,
    account: AccountId,
) -> Result<Vec<(RoleId, String, Option<String>, PermissionSet)>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, preset, permissions FROM roles WHERE account_id = $1 ORDER BY id",
    )
    .bind(account.0)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                RoleId(r.try_get("id")?),
                r.try_get("name")?,
                r.try_get("preset")?,
                PermissionSet::from_bits(r.try_get("permissions")?),
            ))
        })
        .collect()
}
