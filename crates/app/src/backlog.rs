//! The backlog (A11, A14): leads waiting because nobody could take them,
//! listed oldest first with the reason, assigned by their rule as soon as
//! someone frees up (see [`crate::timers`]); the routing admins hear of a
//! burst of them once.

use crate::App;
use crate::auth::Caller;
use crate::error::AppError;
use leadteam_domain::authz::{Action, Permission};
use leadteam_domain::{AccountId, ClientId, Timestamp};
use leadteam_store::backlog::{self, Waiting};
use leadteam_store::intake::NotificationRow;
use leadteam_store::{Conn, rules};

/// How long after an alert of the routing admins the next one waits (A14:
/// once per burst, not once per lead).
pub const ALERT_QUIET_MS: i64 = 15 * 60_000;

/// A14: queues (into `notes`) one alert for each member who manages
/// routing, unless they heard of the backlog within [`ALERT_QUIET_MS`].
pub(crate) async fn alert_admins(
    conn: &mut Conn,
    account: AccountId,
    reasons: &[String],
    notes: &mut Vec<NotificationRow>,
    now: Timestamp,
) -> Result<(), AppError> {
    if reasons.is_empty() || !backlog::alert_due(conn, account, now, ALERT_QUIET_MS).await? {
        return Ok(());
    }
    let why = reasons
        .first()
        .map(|r| r.trim_start_matches("unassigned: ").to_owned())
        .unwrap_or_default();
    let body = if reasons.len() == 1 {
        format!(
            "A new lead is waiting: nobody could take it ({why}). It is assigned as soon as someone frees up."
        )
    } else {
        format!(
            "{} new leads are waiting: nobody could take them ({why}). They are assigned as soon as someone frees up.",
            reasons.len()
        )
    };
    for m in rules::members_with(conn, account, Permission::IntegrationsManage).await? {
        notes.push(NotificationRow {
            account,
            member: m,
            kind: "backlog",
            client: None,
            body: body.clone(),
        });
    }
    Ok(())
}

/// The backlog of the caller's account, oldest first (A11), for those who
/// may see unassigned clients.
pub async fn list(
    app: &App,
    caller: &Caller,
    after: Option<ClientId>,
    limit: Option<i64>,
) -> Result<(Vec<Waiting>, i64), AppError> {
    let actor = caller.may(&Action::ViewBacklog)?;
    let limit = limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::field("limit", "must be between 1 and 200"));
    }
    let mut c = app.db.conn().await?;
    let rows = backlog::list(&mut c, actor.account, after, limit).await?;
    let (total, _) = backlog::size(&mut c, actor.account).await?;
    Ok((rows, total))
}

/// The backlog at a glance (D2): how many leads wait, since when the
/// oldest, why (each reason with its count, the most first), and the
/// oldest few.
#[derive(Debug, Clone)]
pub struct Summary {
    pub total: i64,
    pub oldest_at: Option<Timestamp>,
    pub reasons: Vec<(String, i64)>,
    pub oldest: Vec<Waiting>,
}

/// The backlog of the caller's account at a glance, with its `show` oldest leads.
pub async fn summary(app: &App, caller: &Caller, show: i64) -> Result<Summary, AppError> {
    let actor = caller.may(&Action::ViewBacklog)?;
    let mut c = app.db.conn().await?;
    let (total, oldest_at) = backlog::size(&mut c, actor.account).await?;
    let (reasons, oldest) = if total == 0 {
        (Vec::new(), Vec::new())
    } else {
        (
            backlog::reasons(&mut c, actor.account).await?,
            backlog::list(&mut c, actor.account, None, show.clamp(1, 200)).await?,
        )
    };
    Ok(Summary {
        total,
        oldest_at,
        reasons,
        oldest,
    })
}
