//! Assignment rules, the default rule, round-robin positions and the
//! candidates a routing decision looks at (A1-A5, A7).

use crate::db::{Conn, Lock};
use crate::error::StoreError;
use crate::flag;
use leadteam_domain::authz::MemberStatus;
use leadteam_domain::routing::{Candidate, Criterion, DefaultRule, Rule, RuleAction};
use leadteam_domain::{AccountId, MemberId, RuleId, Timestamp};
use sqlx::Row;
use std::collections::HashMap;

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Migration(format!("stored rule is not valid JSON: {e}"))
}

/// The advanced rules of an account, top to bottom.
pub async fn list(c: &mut Conn, account: AccountId) -> Result<Vec<Rule>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, criteria_json, action_json FROM assignment_rules WHERE account_id = $1 ORDER BY position, id",
    )
    .bind(account.0)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            let criteria: String = r.try_get("criteria_json")?;
            let action: String = r.try_get("action_json")?;
            Ok(Rule {
                id: RuleId(r.try_get("id")?),
                name: r.try_get("name")?,
                criteria: serde_json::from_str::<Vec<Criterion>>(&criteria).map_err(json_err)?,
                action: serde_json::from_str::<RuleAction>(&action).map_err(json_err)?,
            })
        })
        .collect()
}

pub async fn default_rule(c: &mut Conn, account: AccountId) -> Result<DefaultRule, StoreError> {
    let v: Option<String> =
        sqlx::query_scalar("SELECT action_json FROM default_rules WHERE account_id = $1")
            .bind(account.0)
            .fetch_optional(c)
            .await?;
    match v {
        Some(s) => serde_json::from_str(&s).map_err(json_err),
        None => Ok(DefaultRule::Unassigned),
    }
}

pub async fn set_default(
    c: &mut Conn,
    account: AccountId,
    rule: &DefaultRule,
    now: Timestamp,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(rule).map_err(json_err)?;
    sqlx::query(
        "INSERT INTO default_rules (account_id, action_json, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (account_id) DO UPDATE SET action_json = excluded.action_json, updated_at = excluded.updated_at",
    )
    .bind(account.0)
    .bind(json)
    .bind(now.0)
    .execute(&mut *c)
    .await?;
    Ok(())
}

pub async fn insert(
    c: &mut Conn,
    account: AccountId,
    name: &str,
    criteria: &[Criterion],
    action: &RuleAction,
    now: Timestamp,
) -> Result<RuleId, StoreError> {
    let next: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(position), 0) + 1 FROM assignment_rules WHERE account_id = $1",
    )
    .bind(account.0)
    .fetch_one(&mut *c)
    .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO assignment_rules (account_id, position, name, criteria_json, action_json, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(account.0)
    .bind(next)
    .bind(name)
    .bind(serde_json::to_string(criteria).map_err(json_err)?)
    .bind(serde_json::to_string(action).map_err(json_err)?)
    .bind(now.0)
    .fetch_one(&mut *c)
    .await?;
    Ok(RuleId(id))
}

pub async fn update(
    c: &mut Conn,
    id: RuleId,
    name: &str,
    criteria: &[Criterion],
    action: &RuleAction,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE assignment_rules SET name = $1, criteria_json = $2, action_json = $3, updated_at = $4 WHERE id = $5")
        .bind(name)
        .bind(serde_json::to_string(criteria).map_err(json_err)?)
        .bind(serde_json::to_string(action).map_err(json_err)?)
        .bind(now.0)
        .bind(id.0)
        .execute(c)
        .await?;
    Ok(())
}

/// Deletes a rule and its round-robin counter.
pub async fn delete(c: &mut Conn, id: RuleId) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM assignment_rules WHERE id = $1")
        .bind(id.0)
        .execute(&mut *c)
        .await?;
    sqlx::query("DELETE FROM rr_counters WHERE key = $1")
        .bind(rule_key(id))
        .execute(c)
        .await?;
    Ok(())
}

/// Writes the order of the rules (positions 1..n).
pub async fn reorder(c: &mut Conn, order: &[RuleId]) -> Result<(), StoreError> {
    for (i, id) in order.iter().enumerate() {
        sqlx::query("UPDATE assignment_rules SET position = $1 WHERE id = $2")
            .bind(i as i64 + 1)
            .bind(id.0)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

pub fn default_key(account: AccountId) -> String {
    format!("a{}d", account.0)
}

pub fn rule_key(rule: RuleId) -> String {
    format!("r{}", rule.0)
}

/// `n` consecutive 0-based round-robin positions of `key`, drawn in the
/// caller's write transaction with one statement on the counter row. The
/// row is written (and on PostgreSQL locked until the end of the
/// transaction), so a transaction that rolls back gives its positions back,
/// a crash burns none, and concurrent transactions on several nodes take
/// turns: the shares of A2 stay exact (A7).
pub async fn next_positions(c: &mut Conn, key: &str, n: u64) -> Result<Vec<u64>, StoreError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let step = i64::try_from(n).unwrap_or(i64::MAX);
    let last: i64 = sqlx::query_scalar(
        "INSERT INTO rr_counters (key, position) VALUES ($1, $2 - 1) \
         ON CONFLICT (key) DO UPDATE SET position = rr_counters.position + $2 RETURNING position",
    )
    .bind(key)
    .bind(step)
    .fetch_one(c)
    .await?;
    let first = (last - step + 1).max(0) as u64;
    Ok((first..first + n).collect())
}

/// The next 0-based round-robin position of `key` (see [`next_positions`]).
pub async fn next_position(c: &mut Conn, key: &str) -> Result<u64, StoreError> {
    Ok(next_positions(c, key, 1)
        .await?
        .first()
        .copied()
        .unwrap_or(0))
}

/// The routing facts of these members: status, agent flag, capacity and,
/// for members with a capacity, their open clients. Members with a capacity
/// are locked (PostgreSQL) so two concurrent leads cannot both take the last
/// free place.
pub async fn candidates(
    c: &mut Conn,
    account: AccountId,
    members: &[MemberId],
    lock: Lock,
) -> Result<HashMap<MemberId, Candidate>, StoreError> {
    let lock = lock.clause(c);
    let mut out = HashMap::new();
    if members.is_empty() {
        return Ok(out);
    }
    let list: Vec<String> = members.iter().map(|m| m.0.to_string()).collect();
    let sql = format!(
        "SELECT id, status, agent, capacity FROM members WHERE account_id = $1 AND id IN ({}) ORDER BY id",
        list.join(", ")
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account.0)
        .fetch_all(&mut *c)
        .await?;
    // Where the plan enforces agent licences (B4), only agents on duty (who
    // hold a licence now) get leads.
    let enforce: Option<i64> =
        sqlx::query_scalar("SELECT enforce_licences FROM billing_plans WHERE account_id = $1")
            .bind(account.0)
            .fetch_optional(&mut *c)
            .await?;
    let on_duty: Option<Vec<i64>> = if enforce.is_some_and(flag) {
        Some(
            sqlx::query_scalar("SELECT member_id FROM on_duty WHERE account_id = $1")
                .bind(account.0)
                .fetch_all(&mut *c)
                .await?,
        )
    } else {
        None
    };
    for r in rows {
        let id = MemberId(r.try_get("id")?);
        let status: String = r.try_get("status")?;
        let capacity: Option<i64> = r.try_get("capacity")?;
        let mut open = 0u32;
        if let Some(_cap) = capacity {
            if !lock.is_empty() {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT id FROM members WHERE id = $1{lock}"
                )))
                .bind(id.0)
                .fetch_optional(&mut *c)
                .await?;
            }
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM clients WHERE account_id = $1 AND assignee_id = $2 AND status IN ('open', 'contacted')",
            )
            .bind(account.0)
            .bind(id.0)
            .fetch_one(&mut *c)
            .await?;
            open = n.clamp(0, i64::from(u32::MAX)) as u32;
        }
        out.insert(
            id,
            Candidate {
                member: id,
                status: MemberStatus::parse(&status).unwrap_or(MemberStatus::Deactivated),
                agent: flag(r.try_get("agent")?),
                open_clients: open,
                capacity: capacity.map(|c| c.clamp(0, i64::from(u32::MAX)) as u32),
                on_duty: on_duty.as_ref().map(|d| d.contains(&id.0)),
            },
        );
    }
    Ok(out)
}

/// Active members whose effective permissions let them see unassigned
/// clients (A6 alerts).
pub async fn members_seeing_unassigned(
    c: &mut Conn,
    account: AccountId,
) -> Result<Vec<MemberId>, StoreError> {
    let rows = sqlx::query(
        "SELECT m.id, m.is_owner, m.agent, m.permissions AS mp, r.permissions AS rp FROM members m JOIN roles r ON r.id = m.role_id \
         WHERE m.account_id = $1 AND m.status = 'active' ORDER BY m.id",
    )
    .bind(account.0)
    .fetch_all(c)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let perms = crate::accounts::effective_permissions(
            flag(r.try_get("is_owner")?),
            r.try_get("mp")?,
            r.try_get("rp")?,
            flag(r.try_get("agent")?),
        );
        if perms.contains(leadteam_domain::authz::Permission::ClientsViewUnassigned) {
            out.push(MemberId(r.try_get("id")?));
        }
    }
    Ok(out)
}

/// Counts of clients per assignee among these, for round-robin tests and reports.
pub async fn routed_counts(
    c: &mut Conn,
    account: AccountId,
) -> Result<Vec<(Option<MemberId>, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT assignee_id, COUNT(*) AS n FROM clients WHERE account_id = $1 GROUP BY assignee_id",
    )
    .bind(account.0)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<Option<i64>, _>("assignee_id")?.map(MemberId),
                r.try_get("n")?,
            ))
        })
        .collect()
}
