//! Assignment rules, the default rule, round-robin positions and the
//! candidates a routing decision looks at (A1-A5, A7).

use crate::db::{Conn, Lock};
use crate::error::StoreError;
use crate::flag;
use crate::script::Script;
use leadteam_domain::authz::MemberStatus;
use leadteam_domain::routing::{ContactLimit, Criterion, DefaultRule, RrState, Rule, RuleAction};
use leadteam_domain::{AccountId, MemberId, RuleId, Timestamp};
use sqlx::Row;
use std::collections::HashMap;

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Migration(format!("stored rule is not valid JSON: {e}"))
}

/// The advanced rules of an account, top to bottom.
pub async fn list(c: &mut Conn, account: AccountId) -> Result<Vec<Rule>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, criteria_json, action_json, contact_minutes, contact_max_moves \
         FROM assignment_rules WHERE account_id = $1 ORDER BY position, id",
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
                contact: contact_of(r)?,
            })
        })
        .collect()
}

/// A rule's first-contact limit from its columns (A10).
fn contact_of(r: &sqlx::any::AnyRow) -> Result<Option<ContactLimit>, StoreError> {
    let minutes: Option<i64> = r.try_get("contact_minutes")?;
    let moves: Option<i64> = r.try_get("contact_max_moves")?;
    Ok(minutes.map(|m| ContactLimit {
        minutes: u32::try_from(m).unwrap_or(u32::MAX),
        max_moves: u8::try_from(moves.unwrap_or(1)).unwrap_or(u8::MAX),
    }))
}

pub async fn default_rule(c: &mut Conn, account: AccountId) -> Result<DefaultRule, StoreError> {
    Ok(default_with_contact(c, account).await?.0)
}

/// The default rule with its first-contact limit (A10): one read of the
/// account's row (routing needs both for every batch).
pub async fn default_with_contact(
    c: &mut Conn,
    account: AccountId,
) -> Result<(DefaultRule, Option<ContactLimit>), StoreError> {
    let row = sqlx::query(
        "SELECT action_json, contact_minutes, contact_max_moves FROM default_rules WHERE account_id = $1",
    )
    .bind(account.0)
    .fetch_optional(c)
    .await?;
    match row {
        Some(r) => {
            let json: String = r.try_get("action_json")?;
            Ok((
                serde_json::from_str(&json).map_err(json_err)?,
                contact_of(&r)?,
            ))
        }
        None => Ok((DefaultRule::Unassigned, None)),
    }
}

pub async fn set_default(
    c: &mut Conn,
    account: AccountId,
    rule: &DefaultRule,
    contact: Option<ContactLimit>,
    now: Timestamp,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(rule).map_err(json_err)?;
    sqlx::query(
        "INSERT INTO default_rules (account_id, action_json, updated_at, contact_minutes, contact_max_moves) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (account_id) DO UPDATE SET action_json = excluded.action_json, updated_at = excluded.updated_at, \
         contact_minutes = excluded.contact_minutes, contact_max_moves = excluded.contact_max_moves",
    )
    .bind(account.0)
    .bind(json)
    .bind(now.0)
    .bind(contact.map(|l| i64::from(l.minutes)))
    .bind(contact.map(|l| i64::from(l.max_moves)))
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
    contact: Option<ContactLimit>,
    now: Timestamp,
) -> Result<RuleId, StoreError> {
    let next: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(position), 0) + 1 FROM assignment_rules WHERE account_id = $1",
    )
    .bind(account.0)
    .fetch_one(&mut *c)
    .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO assignment_rules (account_id, position, name, criteria_json, action_json, created_at, updated_at, \
         contact_minutes, contact_max_moves) VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8) RETURNING id",
    )
    .bind(account.0)
    .bind(next)
    .bind(name)
    .bind(serde_json::to_string(criteria).map_err(json_err)?)
    .bind(serde_json::to_string(action).map_err(json_err)?)
    .bind(now.0)
    .bind(contact.map(|l| i64::from(l.minutes)))
    .bind(contact.map(|l| i64::from(l.max_moves)))
    .fetch_one(&mut *c)
    .await?;
    Ok(RuleId(id))
}

/// Writes a rule's name, criteria, action and first-contact limit.
pub async fn update(c: &mut Conn, rule: &Rule, now: Timestamp) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE assignment_rules SET name = $1, criteria_json = $2, action_json = $3, updated_at = $4, \
         contact_minutes = $6, contact_max_moves = $7 WHERE id = $5",
    )
    .bind(rule.name.as_str())
    .bind(serde_json::to_string(&rule.criteria).map_err(json_err)?)
    .bind(serde_json::to_string(&rule.action).map_err(json_err)?)
    .bind(now.0)
    .bind(rule.id.0)
    .bind(rule.contact.map(|l| i64::from(l.minutes)))
    .bind(rule.contact.map(|l| i64::from(l.max_moves)))
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

/// The counter of a team's own round robin (deliveries to the team, A13).
pub fn team_key(team: leadteam_domain::TeamId) -> String {
    format!("t{}", team.0)
}

/// The round-robin states of `keys` (A2, A9), their rows locked for the
/// rest of the write transaction (PostgreSQL: `FOR UPDATE`, in key order,
/// so concurrent batches on several nodes take turns and never wait on each
/// other in a cycle; SQLite's write transaction holds the one lock). A key
/// never used starts from the default state. Save them with [`save_states`].
pub async fn load_states(
    c: &mut Conn,
    keys: &[String],
) -> Result<HashMap<String, RrState>, StoreError> {
    let mut out = HashMap::new();
    if keys.is_empty() {
        return Ok(out);
    }
    let mut sorted: Vec<&String> = keys.iter().collect();
    sorted.sort();
    sorted.dedup();
    let rows = |n: usize, from: usize| {
        (0..n)
            .map(|i| format!("(${}, -1)", from + i + 1))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // Created when missing and read, locked, in one statement: the upsert
    // takes each row's lock as `SELECT ... FOR UPDATE` would (PostgreSQL;
    // SQLite has one writer), in key order, and gives back the current
    // row — the counter as the last committed transaction left it.
    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO rr_counters (key, position) VALUES {} \
         ON CONFLICT (key) DO UPDATE SET key = excluded.key RETURNING key, position, state_json",
        rows(sorted.len(), 0)
    )));
    for k in &sorted {
        q = q.bind(k.as_str());
    }
    for r in q.fetch_all(&mut *c).await? {
        let key: String = r.try_get("key")?;
        let position: i64 = r.try_get("position")?;
        let json: Option<String> = r.try_get("state_json")?;
        let mut state: RrState = match json {
            Some(j) => serde_json::from_str(&j).map_err(json_err)?,
            None => RrState::default(),
        };
        // The position column is the count of leads routed minus one.
        state.position = u64::try_from(position + 1).unwrap_or(0);
        out.insert(key, state);
    }
    Ok(out)
}

/// Writes round-robin states back (in the transaction that loaded them).
pub async fn save_states(
    c: &mut Conn,
    states: &HashMap<String, RrState>,
) -> Result<(), StoreError> {
    let mut s = Script::new(c);
    add_states(&mut s, states)?;
    s.run(c).await
}

/// [`save_states`] as part of a [`Script`].
pub fn add_states(s: &mut Script, states: &HashMap<String, RrState>) -> Result<(), StoreError> {
    let mut keys: Vec<&String> = states.keys().collect();
    keys.sort();
    for k in keys {
        let st = &states[k];
        let (position, json, key) = (s.param(), s.param(), s.param());
        s.push(format!(
            "UPDATE rr_counters SET position = {position}, state_json = {json} WHERE key = {key}"
        ));
        s.bind(i64::try_from(st.position).unwrap_or(i64::MAX) - 1)
            .bind(serde_json::to_string(st).map_err(json_err)?)
            .bind(k.as_str());
    }
    Ok(())
}

/// What routing reads of one member (A4, A5, A8, B4), as stored.
#[derive(Debug, Clone)]
pub struct CandidateRow {
    pub member: MemberId,
    pub status: MemberStatus,
    pub agent: bool,
    pub capacity: Option<u32>,
    /// Its open clients (counted only when it has a capacity).
    pub open_clients: u32,
    pub away: bool,
    /// Whether it holds an agent licence; `None` where licences are not
    /// enforced (B4).
    pub on_duty: Option<bool>,
    /// Its working hours (A8, JSON of `availability::Schedule`), if set.
    pub schedule_json: Option<String>,
    /// Its time off: (first day, last day), `YYYY-MM-DD`, not yet over.
    pub time_off: Vec<(String, String)>,
}

/// The routing facts of these members of `account`. Members with a
/// capacity are locked (`lock`, PostgreSQL) so two concurrent leads cannot
/// both take the last free place; their open clients are counted.
pub async fn candidates(
    c: &mut Conn,
    account: AccountId,
    members: &[MemberId],
    lock: Lock,
) -> Result<HashMap<MemberId, CandidateRow>, StoreError> {
    let lock = lock.clause(c);
    let mut out = HashMap::new();
    if members.is_empty() {
        return Ok(out);
    }
    let mut sorted: Vec<i64> = members.iter().map(|m| m.0).collect();
    sorted.sort_unstable();
    sorted.dedup();
    let list: Vec<String> = sorted.iter().map(ToString::to_string).collect();
    let list = list.join(", ");
    // Each member with its time off, one row per period (issue 19: one
    // statement, not two).
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT m.id, m.status, m.agent, m.capacity, m.away, s.schedule_json, \
         (SELECT enforce_licences FROM billing_plans WHERE account_id = m.account_id) AS enforce, \
         (SELECT COUNT(*) FROM on_duty d WHERE d.member_id = m.id) AS duty, \
         t.from_day, t.to_day \
         FROM members m LEFT JOIN member_schedules s ON s.member_id = m.id \
         LEFT JOIN time_off t ON t.member_id = m.id \
         WHERE m.account_id = $1 AND m.id IN ({list}) ORDER BY m.id, t.from_day"
    )))
    .bind(account.0)
    .fetch_all(&mut *c)
    .await?;
    for r in rows {
        let id = MemberId(r.try_get("id")?);
        let cand = match out.entry(id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let status: String = r.try_get("status")?;
                let capacity: Option<i64> = r.try_get("capacity")?;
                let enforce: Option<i64> = r.try_get("enforce")?;
                let duty: i64 = r.try_get("duty")?;
                slot.insert(CandidateRow {
                    member: id,
                    status: MemberStatus::parse(&status).unwrap_or(MemberStatus::Deactivated),
                    agent: flag(r.try_get("agent")?),
                    capacity: capacity.map(|c| c.clamp(0, i64::from(u32::MAX)) as u32),
                    open_clients: 0,
                    away: flag(r.try_get("away")?),
                    on_duty: enforce.is_some_and(flag).then_some(duty > 0),
                    schedule_json: r.try_get("schedule_json")?,
                    time_off: Vec::new(),
                })
            }
        };
        let from: Option<String> = r.try_get("from_day")?;
        let to: Option<String> = r.try_get("to_day")?;
        if let (Some(from), Some(to)) = (from, to) {
            cand.time_off.push((from, to));
        }
    }
    // Members with a capacity: locked, and their open clients counted.
    let capped: Vec<String> = out
        .values()
        .filter(|c| c.capacity.is_some())
        .map(|c| c.member.0.to_string())
        .collect();
    if !capped.is_empty() {
        let capped = capped.join(", ");
        if !lock.is_empty() {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT id FROM members WHERE id IN ({capped}) ORDER BY id{lock}"
            )))
            .fetch_all(&mut *c)
            .await?;
        }
        let counts = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT assignee_id, COUNT(*) AS n FROM clients WHERE account_id = $1 AND assignee_id IN ({capped}) \
             AND status IN ('open', 'contacted') GROUP BY assignee_id"
        )))
        .bind(account.0)
        .fetch_all(&mut *c)
        .await?;
        for r in counts {
            let id = MemberId(r.try_get("assignee_id")?);
            let n: i64 = r.try_get("n")?;
            if let Some(cand) = out.get_mut(&id) {
                cand.open_clients = n.clamp(0, i64::from(u32::MAX)) as u32;
            }
        }
    }
    Ok(out)
}

/// The account's holidays: (day `YYYY-MM-DD`, name).
pub async fn holidays(
    c: &mut Conn,
    account: AccountId,
) -> Result<Vec<(String, String)>, StoreError> {
    let rows = sqlx::query("SELECT day, name FROM holidays WHERE account_id = $1 ORDER BY day")
        .bind(account.0)
        .fetch_all(c)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("day")?, r.try_get("name")?)))
        .collect()
}

/// The active members of each team of the account, by id (A13: a team's
/// round robin).
pub async fn team_members(
    c: &mut Conn,
    account: AccountId,
) -> Result<HashMap<leadteam_domain::TeamId, Vec<MemberId>>, StoreError> {
    let rows = sqlx::query(
        "SELECT tm.team_id, tm.member_id FROM team_members tm JOIN teams t ON t.id = tm.team_id \
         JOIN members m ON m.id = tm.member_id WHERE t.account_id = $1 AND m.status = 'active' \
         ORDER BY tm.team_id, tm.member_id",
    )
    .bind(account.0)
    .fetch_all(c)
    .await?;
    let mut out: HashMap<leadteam_domain::TeamId, Vec<MemberId>> = HashMap::new();
    for r in rows {
        out.entry(leadteam_domain::TeamId(r.try_get("team_id")?))
            .or_default()
            .push(MemberId(r.try_get("member_id")?));
    }
    Ok(out)
}

/// Active members whose effective permissions let them see unassigned
/// clients (A6 alerts).
pub async fn members_seeing_unassigned(
    c: &mut Conn,
    account: AccountId,
) -> Result<Vec<MemberId>, StoreError> {
    members_with(
        c,
        account,
        leadteam_domain::authz::Permission::ClientsViewUnassigned,
    )
    .await
}

/// Active members whose effective permissions hold `p`.
pub async fn members_with(
    c: &mut Conn,
    account: AccountId,
    p: leadteam_domain::authz::Permission,
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
        if perms.contains(p) {
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
