//! The audit log (X1): actor, time, before and after of every change.

use crate::db::Conn;
use crate::error::StoreError;
use crate::script::Script;
use leadteam_domain::{AccountId, MemberId, Timestamp, UserId};
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    pub account: Option<AccountId>,
    pub actor_user: Option<UserId>,
    pub actor_member: Option<MemberId>,
    pub action: &'a str,
    pub target_kind: Option<&'a str>,
    pub target_id: Option<i64>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

pub async fn record(c: &mut Conn, e: AuditEntry<'_>, now: Timestamp) -> Result<(), StoreError> {
    let mut s = Script::new(c);
    add(&mut s, e, now);
    s.run(c).await
}

/// Adds the audit row to `s`, written when the script runs (with the other
/// writes of a use case, in one round trip).
pub fn add(s: &mut Script, e: AuditEntry<'_>, now: Timestamp) {
    let v = s.values(1, 9);
    s.push(format!(
        "INSERT INTO audit_log (account_id, actor_user_id, actor_member_id, action, target_kind, target_id, before_json, after_json, at) VALUES {v}"
    ));
    s.bind(e.account.map(|a| a.0))
        .bind(e.actor_user.map(|u| u.0))
        .bind(e.actor_member.map(|m| m.0))
        .bind(e.action)
        .bind(e.target_kind)
        .bind(e.target_id)
        .bind(e.before.map(|v| v.to_string()))
        .bind(e.after.map(|v| v.to_string()))
        .bind(now.0);
}

#[derive(Debug, Clone)]
pub struct AuditRow {
    pub id: i64,
    pub actor_user: Option<UserId>,
    pub actor_member: Option<MemberId>,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<i64>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub at: Timestamp,
}

/// Entries of one account, newest first, after the cursor `before_id`.
pub async fn list(
    c: &mut Conn,
    account: AccountId,
    action: Option<&str>,
    actor: Option<MemberId>,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, actor_user_id, actor_member_id, action, target_kind, target_id, before_json, after_json, at \
         FROM audit_log WHERE account_id = $1 AND ($2 IS NULL OR action = $2) AND ($3 IS NULL OR id < $3) \
         AND ($5 IS NULL OR actor_member_id = $5) ORDER BY id DESC LIMIT $4",
    )
    .bind(account.0)
    .bind(action)
    .bind(before_id)
    .bind(limit)
    .bind(actor.map(|m| m.0))
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AuditRow {
                id: r.try_get("id")?,
                actor_user: r.try_get::<Option<i64>, _>("actor_user_id")?.map(UserId),
                actor_member: r
                    .try_get::<Option<i64>, _>("actor_member_id")?
                    .map(MemberId),
                action: r.try_get("action")?,
                target_kind: r.try_get("target_kind")?,
                target_id: r.try_get("target_id")?,
                before: r.try_get("before_json")?,
                after: r.try_get("after_json")?,
                at: Timestamp(r.try_get("at")?),
            })
        })
        .collect()
}
