//! Accounts, their built-in roles and memberships.

use crate::db::Conn;
use crate::error::StoreError;
use crate::flag;
use leadteam_domain::authz::{MemberStatus, PermissionSet, Preset};
use leadteam_domain::{AccountId, MemberId, TeamId, Timestamp, UserId};
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct AccountRow {
    pub id: AccountId,
    pub name: String,
    pub require_2fa: bool,
    /// The IANA zone times are shown in (X6), unless a member chose its own.
    pub time_zone: String,
    pub created_at: Timestamp,
}

/// Creates an account with the preset roles, its owner (O1) and its default
/// billing plan, with the owner's activation in the seat ledger. Returns the
/// account and the owner's membership.
pub async fn create_with_owner(
    c: &mut Conn,
    name: &str,
    owner: UserId,
    owner_email: &str,
    owner_name: &str,
    now: Timestamp,
) -> Result<(AccountId, MemberId), StoreError> {
    let account: i64 =
        sqlx::query_scalar("INSERT INTO accounts (name, created_at) VALUES ($1, $2) RETURNING id")
            .bind(name)
            .bind(now.0)
            .fetch_one(&mut *c)
            .await?;
    let mut owner_role = None;
    for preset in Preset::ALL {
        let id = crate::roles::insert(
            c,
            AccountId(account),
            preset.display_name(),
            Some(preset),
            preset.permissions(),
            now,
        )
        .await?;
        if preset == Preset::Owner {
            owner_role = Some(id);
        }
    }
    let role = owner_role.ok_or_else(|| StoreError::Migration("owner preset missing".into()))?;
    let member: i64 = sqlx::query_scalar(
        "INSERT INTO members (account_id, user_id, email, name, role_id, status, is_owner, agent, activated_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'active', 1, 1, $6, $6) RETURNING id",
    )
    .bind(account)
    .bind(owner.0)
    .bind(owner_email)
    .bind(owner_name)
    .bind(role.0)
    .bind(now.0)
    .fetch_one(&mut *c)
    .await?;
    // Billing (B1-B3): the default plan, and the owner's seat from now on.
    crate::billing::create_default_plan(c, AccountId(account), now).await?;
    crate::billing::record_seat_event(
        c,
        AccountId(account),
        MemberId(member),
        owner_name,
        owner_email,
        leadteam_domain::billing::SeatEventKind::Activated,
        now,
    )
    .await?;
    Ok((AccountId(account), MemberId(member)))
}

pub async fn by_id(c: &mut Conn, id: AccountId) -> Result<Option<AccountRow>, StoreError> {
    let row = sqlx::query(
        "SELECT id, name, require_2fa, time_zone, created_at FROM accounts WHERE id = $1",
    )
    .bind(id.0)
    .fetch_optional(c)
    .await?;
    row.map(|r| -> Result<AccountRow, StoreError> {
        Ok(AccountRow {
            id: AccountId(r.try_get("id")?),
            name: r.try_get("name")?,
            require_2fa: flag(r.try_get("require_2fa")?),
            time_zone: r.try_get("time_zone")?,
            created_at: Timestamp(r.try_get("created_at")?),
        })
    })
    .transpose()
}

/// One membership of a user, as `/me` lists them.
#[derive(Debug, Clone)]
pub struct Membership {
    pub member: MemberId,
    pub account: AccountId,
    pub account_name: String,
    pub role_name: String,
    pub status: MemberStatus,
    pub is_owner: bool,
}

/// Every membership of a user that is active (the accounts it can switch to).
pub async fn memberships_of(c: &mut Conn, user: UserId) -> Result<Vec<Membership>, StoreError> {
    let rows = sqlx::query(
        "SELECT m.id, m.account_id, a.name AS account_name, r.name AS role_name, m.status, m.is_owner \
         FROM members m JOIN accounts a ON a.id = m.account_id JOIN roles r ON r.id = m.role_id \
         WHERE m.user_id = $1 AND m.status = 'active' ORDER BY a.name, a.id",
    )
    .bind(user.0)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            let status: String = r.try_get("status")?;
            Ok(Membership {
                member: MemberId(r.try_get("id")?),
                account: AccountId(r.try_get("account_id")?),
                account_name: r.try_get("account_name")?,
                role_name: r.try_get("role_name")?,
                status: MemberStatus::parse(&status).unwrap_or(MemberStatus::Deactivated),
                is_owner: flag(r.try_get("is_owner")?),
            })
        })
        .collect()
}

/// The facts `decide` needs about the member a user holds in an account.
#[derive(Debug, Clone)]
pub struct MemberAuth {
    pub member: MemberId,
    pub status: MemberStatus,
    pub permissions: PermissionSet,
    pub agent: bool,
    pub is_owner: bool,
    pub require_2fa: bool,
    pub role_name: String,
    pub teams: Vec<TeamId>,
    /// The zone its times are shown in: its own, else the account's (X6).
    pub time_zone: String,
    /// The kinds of clients its list shows by default (C8), when it chose.
    pub team_view: Option<String>,
}

pub async fn member_auth(
    c: &mut Conn,
    user: UserId,
    account: AccountId,
) -> Result<Option<MemberAuth>, StoreError> {
    let sql = format!(
        "SELECT {MEMBER_AUTH_COLUMNS} \
         FROM members m JOIN roles r ON r.id = m.role_id JOIN accounts a ON a.id = m.account_id \
         LEFT JOIN team_members tm ON tm.member_id = m.id \
         WHERE m.user_id = $1 AND m.account_id = $2 ORDER BY tm.team_id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(user.0)
        .bind(account.0)
        .fetch_all(&mut *c)
        .await?;
    member_auth_of(&rows)
}

/// The columns [`member_auth_of`] reads, from `members m`, `roles r`,
/// `accounts a` and `team_members tm` (left-joined: one row per team).
pub(crate) const MEMBER_AUTH_COLUMNS: &str = "m.id AS m_id, m.status AS m_status, \
    m.permissions AS m_member_permissions, r.permissions AS m_role_permissions, \
    r.name AS m_role_name, m.agent AS m_agent, m.is_owner AS m_is_owner, \
    a.require_2fa AS m_require_2fa, COALESCE(m.time_zone, a.time_zone) AS m_time_zone, \
    m.team_view AS m_team_view, tm.team_id AS m_team";

/// The member's authorisation from the rows of one member (one per team it
/// is in, or one with no team), selected with [`MEMBER_AUTH_COLUMNS`];
/// `None` when there are none or the member columns are empty (a left join
/// that found no member).
pub(crate) fn member_auth_of(rows: &[sqlx::any::AnyRow]) -> Result<Option<MemberAuth>, StoreError> {
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let Some(member) = r.try_get::<Option<i64>, _>("m_id")? else {
        return Ok(None);
    };
    let mut teams = Vec::new();
    for row in rows {
        if let Some(t) = row.try_get::<Option<i64>, _>("m_team")? {
            teams.push(TeamId(t));
        }
    }
    let status: String = r.try_get("m_status")?;
    let member_perms: Option<i64> = r.try_get("m_member_permissions")?;
    let role_perms: i64 = r.try_get("m_role_permissions")?;
    let is_owner = flag(r.try_get("m_is_owner")?);
    let agent = flag(r.try_get("m_agent")?);
    Ok(Some(MemberAuth {
        member: MemberId(member),
        status: MemberStatus::parse(&status).unwrap_or(MemberStatus::Deactivated),
        permissions: effective_permissions(is_owner, member_perms, role_perms, agent),
        agent,
        is_owner,
        require_2fa: flag(r.try_get("m_require_2fa")?),
        role_name: r.try_get("m_role_name")?,
        teams,
        time_zone: r.try_get("m_time_zone")?,
        team_view: r.try_get("m_team_view")?,
    }))
}

/// Effective permissions: the owner holds everything; otherwise the member's
/// own permission set when it has one, else its role's; the `agent` flag is
/// the member's own switch.
pub fn effective_permissions(
    is_owner: bool,
    member: Option<i64>,
    role: i64,
    agent: bool,
) -> PermissionSet {
    use leadteam_domain::authz::Permission;
    let base = if is_owner {
        PermissionSet::all()
    } else {
        PermissionSet::from_bits(member.unwrap_or(role))
    };
    if agent {
        base.with(Permission::Agent)
    } else {
        base.without(Permission::Agent)
    }
}

/// Renames the account and/or switches "require 2FA".
pub async fn update(
    c: &mut Conn,
    id: AccountId,
    name: Option<&str>,
    require_2fa: Option<bool>,
) -> Result<(), StoreError> {
    if let Some(n) = name {
        sqlx::query("UPDATE accounts SET name = $1 WHERE id = $2")
            .bind(n)
            .bind(id.0)
            .execute(&mut *c)
            .await?;
    }
    if let Some(r) = require_2fa {
        sqlx::query("UPDATE accounts SET require_2fa = $1 WHERE id = $2")
            .bind(i64::from(r))
            .bind(id.0)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

/// Stores (replacing) the deletion code of an account.
pub async fn set_deletion_code(
    c: &mut Conn,
    id: AccountId,
    code_hash: &str,
    requested_by: MemberId,
    expires_at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO account_deletion_codes (account_id, code_hash, requested_by, expires_at, attempts) VALUES ($1, $2, $3, $4, 0) \
         ON CONFLICT (account_id) DO UPDATE SET code_hash = excluded.code_hash, requested_by = excluded.requested_by, \
         expires_at = excluded.expires_at, attempts = 0",
    )
    .bind(id.0)
    .bind(code_hash)
    .bind(requested_by.0)
    .bind(expires_at.0)
    .execute(c)
    .await?;
    Ok(())
}

/// Sets the hash of a freshly minted deletion code (when its mail is sent);
/// false when no code is pending any more.
pub async fn set_deletion_code_hash(
    c: &mut Conn,
    id: AccountId,
    code_hash: &str,
    expires_at: Timestamp,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE account_deletion_codes SET code_hash = $2, expires_at = $3 WHERE account_id = $1",
    )
    .bind(id.0)
    .bind(code_hash)
    .bind(expires_at.0)
    .execute(c)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A try at an account's deletion code, counted.
#[derive(Debug, Clone)]
pub struct DeletionTry {
    pub code_hash: String,
    pub expires_at: Timestamp,
    /// Tries so far, this one included.
    pub attempts: i64,
    /// The member who asked for the code: only it may use it.
    pub requested_by: MemberId,
}

/// Counts one try at the deletion code atomically; None when no code is
/// pending.
pub async fn try_deletion_code(
    c: &mut Conn,
    id: AccountId,
) -> Result<Option<DeletionTry>, StoreError> {
    let row = sqlx::query(
        "UPDATE account_deletion_codes SET attempts = attempts + 1 WHERE account_id = $1 \
         RETURNING code_hash, expires_at, attempts, requested_by",
    )
    .bind(id.0)
    .fetch_optional(c)
    .await?;
    row.map(|r| {
        Ok(DeletionTry {
            code_hash: r.try_get("code_hash")?,
            expires_at: Timestamp(r.try_get("expires_at")?),
            attempts: r.try_get("attempts")?,
            requested_by: MemberId(r.try_get("requested_by")?),
        })
    })
    .transpose()
}

pub async fn clear_deletion_code(c: &mut Conn, id: AccountId) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM account_deletion_codes WHERE account_id = $1")
        .bind(id.0)
        .execute(c)
        .await?;
    Ok(())
}

/// Deletes an account and everything in it, in an order the foreign keys
/// allow (clients, which point at members, before the members; then the
/// account, whose rows cascade): every session acting in it ends, and users
/// left without any membership are deleted too. Returns the number of
/// members removed.
pub async fn delete_account(c: &mut Conn, id: AccountId) -> Result<i64, StoreError> {
    let users: Vec<Option<i64>> = sqlx::query_scalar(
        "SELECT user_id FROM members WHERE account_id = $1 AND status <> 'removed'",
    )
    .bind(id.0)
    .fetch_all(&mut *c)
    .await?;
    let n = users.len() as i64;
    for sql in [
        "DELETE FROM sessions WHERE account_id = $1",
        "DELETE FROM clients WHERE account_id = $1",
        "DELETE FROM members WHERE account_id = $1",
        "DELETE FROM accounts WHERE id = $1",
    ] {
        sqlx::query(sql).bind(id.0).execute(&mut *c).await?;
    }
    for u in users.into_iter().flatten() {
        sqlx::query("DELETE FROM users WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM members WHERE user_id = $1)")
            .bind(u)
            .execute(&mut *c)
            .await?;
    }
    Ok(n)
}

/// Sets the account's time zone (X6).
pub async fn set_time_zone(c: &mut Conn, account: AccountId, zone: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE accounts SET time_zone = $2 WHERE id = $1")
        .bind(account.0)
        .bind(zone)
        .execute(c)
        .await?;
    Ok(())
}

/// A member's own time zone (`None`: the account's), and sets it (X6).
pub async fn member_time_zone(
    c: &mut Conn,
    member: MemberId,
) -> Result<Option<String>, StoreError> {
    let v: Option<Option<String>> =
        sqlx::query_scalar("SELECT time_zone FROM members WHERE id = $1")
            .bind(member.0)
            .fetch_optional(c)
            .await?;
    Ok(v.flatten())
}

pub async fn set_member_time_zone(
    c: &mut Conn,
    member: MemberId,
    zone: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE members SET time_zone = $2 WHERE id = $1")
        .bind(member.0)
        .bind(zone)
        .execute(c)
        .await?;
    Ok(())
}
