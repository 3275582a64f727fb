//! The audit log of every change (X1): one mechanism for all use cases.
//! A thing whose changes are audited says what it is ([`Audited`]); a
//! change is written with [`change`] (its before and after pictures) in the
//! transaction of the change, or with [`record`] when the pictures are not
//! those of one thing.

use crate::auth::Caller;
use crate::error::AppError;
use leadteam_domain::authz::Actor;
use leadteam_domain::{AccountId, MemberId, Timestamp, UserId};
use leadteam_store::audit::{self, AuditEntry};
use leadteam_store::{Conn, Script};
use serde_json::Value;

/// Something whose changes the audit log pictures.
pub(crate) trait Audited {
    /// The `target_kind` of its audit rows.
    const KIND: &'static str;
    /// Its id (the `target_id`).
    fn audit_id(&self) -> i64;
    /// Its picture before or after a change.
    fn picture(&self) -> Value;
}

/// Who made a change.
#[derive(Clone, Copy)]
pub(crate) enum By<'a> {
    Caller(&'a Caller),
    Actor(&'a Actor),
    /// A member where no actor is at hand (sign-up, accepting an invitation):
    /// each part as known.
    Member {
        account: Option<AccountId>,
        user: Option<UserId>,
        member: Option<MemberId>,
    },
    /// The operator, through `leadteam admin` (no user, no member).
    System(AccountId),
}

impl<'a> From<&'a Caller> for By<'a> {
    fn from(c: &'a Caller) -> Self {
        By::Caller(c)
    }
}

impl<'a> From<&'a Actor> for By<'a> {
    fn from(a: &'a Actor) -> Self {
        By::Actor(a)
    }
}

impl By<'_> {
    fn parts(self) -> (Option<AccountId>, Option<UserId>, Option<MemberId>) {
        match self {
            By::Caller(c) => (c.account, Some(c.user), c.actor.as_ref().map(|a| a.member)),
            By::Actor(a) => (Some(a.account), Some(a.user), Some(a.member)),
            By::Member {
                account,
                user,
                member,
            } => (account, user, member),
            By::System(account) => (Some(account), None, None),
        }
    }
}

/// Writes the audit row of a change of one thing (its picture before, after,
/// or both), in the caller's transaction.
pub(crate) async fn change<'a, T: Audited>(
    conn: &mut Conn,
    by: impl Into<By<'a>>,
    action: &str,
    before: Option<&T>,
    after: Option<&T>,
    now: Timestamp,
) -> Result<(), AppError> {
    let id = before.or(after).map_or(0, Audited::audit_id);
    record(
        conn,
        by,
        action,
        T::KIND,
        id,
        before.map(Audited::picture),
        after.map(Audited::picture),
        now,
    )
    .await
}

/// Writes an audit row with pictures of its own.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record<'a>(
    conn: &mut Conn,
    by: impl Into<By<'a>>,
    action: &str,
    target_kind: &str,
    target_id: i64,
    before: Option<Value>,
    after: Option<Value>,
    now: Timestamp,
) -> Result<(), AppError> {
    let mut script = Script::new(conn);
    record_into(
        &mut script,
        by,
        action,
        target_kind,
        target_id,
        before,
        after,
        now,
    );
    script.run(conn).await?;
    Ok(())
}

/// Adds an audit row with pictures of its own to `script`, written with
/// the use case's other writes when the script runs.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record_into<'a>(
    script: &mut Script,
    by: impl Into<By<'a>>,
    action: &str,
    target_kind: &str,
    target_id: i64,
    before: Option<Value>,
    after: Option<Value>,
    now: Timestamp,
) {
    let (account, actor_user, actor_member) = by.into().parts();
    audit::add(
        script,
        AuditEntry {
            account,
            actor_user,
            actor_member,
            action,
            target_kind: Some(target_kind),
            target_id: Some(target_id),
            before,
            after,
        },
        now,
    );
}
