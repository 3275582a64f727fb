//! The team now (D2): who is available to take leads and why not, and the
//! capacity each member has in use; and the reclaims of a period (A10).

use super::{Asked, Window};
use crate::App;
use crate::auth::Caller;
use crate::error::AppError;
use crate::router;
use jiff::tz::TimeZone;
use leadteam_domain::authz::{Action, MemberStatus};
use leadteam_domain::availability::Unavailable;
use leadteam_domain::{MemberId, Timestamp};
use leadteam_store::members;
use leadteam_store::reports as store;
use std::collections::BTreeMap;

/// One member who takes leads, as it is now.
#[derive(Debug, Clone)]
pub struct MemberNow {
    pub member: MemberId,
    pub name: String,
    /// `Ok` when available now; else why not.
    pub now: Result<(), Unavailable>,
    /// When it is next available, when that is known.
    pub next: Option<Timestamp>,
    /// Its limit of open clients (A4), if it has one.
    pub capacity: Option<u32>,
    /// Its open clients, counted when it has a limit.
    pub open_clients: Option<u32>,
}

/// Every active member who takes part in automatic assignment (the agent
/// flag), by name, with its availability and load: one batched read.
pub async fn team_now(app: &App, caller: &Caller) -> Result<Vec<MemberNow>, AppError> {
    let actor = caller.may(&Action::ViewReports)?;
    let now = app.now();
    let mut c = app.db.conn().await?;
    let agents: Vec<members::MemberRow> =
        members::list(&mut c, actor.account, Some(MemberStatus::Active))
            .await?
            .into_iter()
            .filter(|m| m.agent)
            .collect();
    let ids: Vec<MemberId> = agents.iter().map(|m| m.id).collect();
    let mut facts = router::availability_of_many(&mut c, actor.account, &ids, now).await?;
    Ok(agents
        .into_iter()
        .filter_map(|m| {
            let f = facts.remove(&m.id)?;
            Some(MemberNow {
                member: m.id,
                name: m.name,
                now: f.status,
                next: f.next,
                capacity: f.capacity,
                open_clients: f.capacity.map(|_| f.open_clients),
            })
        })
        .collect())
}

/// The reclaims of a period: how many, and from whom (the members who did
/// not make contact in time), the most first.
#[derive(Debug, Clone)]
pub struct ReclaimReport {
    pub window: Window,
    pub total: i64,
    pub by_member: Vec<(MemberId, String, i64)>,
}

/// The reclaims (A10) of the period asked (local days of `zone`).
pub async fn reclaims(
    app: &App,
    caller: &Caller,
    zone: &TimeZone,
    asked: &Asked,
) -> Result<ReclaimReport, AppError> {
    let actor = caller.may(&Action::ViewReports)?;
    let window = Window::resolve(zone, asked, app.now())?;
    let mut c = app.db.conn().await?;
    let rows = store::reclaims(&mut c, actor.account, window.start, window.end).await?;
    let mut counts: BTreeMap<MemberId, i64> = BTreeMap::new();
    for r in &rows {
        if let Some(m) = r.from {
            *counts.entry(m).or_default() += 1;
        }
    }
    let names = store::member_names(&mut c, actor.account).await?;
    let mut by_member: Vec<(MemberId, String, i64)> = counts
        .into_iter()
        .map(|(m, n)| {
            let name = names
                .get(&m)
                .cloned()
                .unwrap_or_else(|| format!("Member {}", m.0));
            (m, name, n)
        })
        .collect();
    by_member.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.1.cmp(&b.1)));
    Ok(ReclaimReport {
        window,
        total: rows.len() as i64,
        by_member,
    })
}
