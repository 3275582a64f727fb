//! One helper for the audit rows of every change a caller makes (X1): the
//! actor, the target and its before and after pictures.

use crate::auth::Caller;
use crate::error::AppError;
use leadteam_domain::Timestamp;
use leadteam_store::Conn;
use leadteam_store::audit::{self, AuditEntry};
use serde_json::Value;

/// Writes the audit row of a change to `target_kind` `target_id`, in the
/// caller's transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record(
    conn: &mut Conn,
    caller: &Caller,
    action: &str,
    target_kind: &str,
    target_id: i64,
    before: Option<Value>,
    after: Option<Value>,
    now: Timestamp,
) -> Result<(), AppError> {
    audit::record(
        conn,
        AuditEntry {
            account: caller.account,
            actor_user: Some(caller.user),
            actor_member: caller.actor.as_ref().map(|a| a.member),
            action,
            target_kind: Some(target_kind),
            target_id: Some(target_id),
            before,
            after,
        },
        now,
    )
    .await?;
    Ok(())
}

/// The same for a change made by `actor` (where only the actor is at hand).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record_actor(
    conn: &mut Conn,
    actor: &leadteam_domain::authz::Actor,
    action: &str,
    target_kind: &str,
    target_id: i64,
    before: Option<Value>,
    after: Option<Value>,
    now: Timestamp,
) -> Result<(), AppError> {
    audit::record(
        conn,
        AuditEntry {
            account: Some(actor.account),
            actor_user: Some(actor.user),
            actor_member: Some(actor.member),
            action,
            target_kind: Some(target_kind),
            target_id: Some(target_id),
            before,
            after,
        },
        now,
    )
    .await?;
    Ok(())
}
