//! The manager's part of the home (D2): the team now (who is available,
//! capacity in use), the backlog and why, and speed to lead over the last
//! 7 days; the full figures are on the reports page.

use super::super::charts::{self, Gauge, Size, Svg};
use super::super::{SignedIn, UiError};
use crate::AppState;
use crate::ui::dates::when;
use crate::ui::nav::allowed;
use leadteam_app::backlog;
use leadteam_app::reports::{self, Asked, MemberNow, duration_words};
use leadteam_domain::authz::Action;

/// One member who takes leads, now.
pub(crate) struct PersonNow {
    pub name: String,
    pub available: bool,
    /// "Available", or why not ("Away", "On time off until 2026-12-31").
    pub status: String,
    pub back_at: Option<String>,
}

/// The backlog at a glance.
pub(crate) struct BacklogView {
    pub total: i64,
    /// When the oldest came in.
    pub oldest: Option<String>,
    /// Why leads wait, with how many each reason holds back.
    pub reasons: Vec<(String, i64)>,
}

/// Speed to lead over the last 7 days, in words.
pub(crate) struct SpeedHeadline {
    pub leads: i64,
    pub contacted: i64,
    pub median: Option<String>,
    pub p90: Option<String>,
    pub from: String,
    pub to: String,
}

/// What the manager's part of the home shows.
pub(crate) struct TeamPart {
    pub backlog: Option<BacklogView>,
    pub people: Vec<PersonNow>,
    pub available: usize,
    /// Members with a capacity: a gauge each, and the same as rows
    /// (name, open clients, limit).
    pub capacity: Option<Svg>,
    pub capacity_rows: Vec<(String, u32, u32)>,
    /// Members without a limit of open clients.
    pub unlimited: usize,
    pub speed: Option<SpeedHeadline>,
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn person(m: &MemberNow, zone: &str) -> PersonNow {
    PersonNow {
        name: m.name.clone(),
        available: m.now.is_ok(),
        status: match &m.now {
            Ok(()) => "Available".into(),
            Err(u) => capitalised(&u.describe()),
        },
        back_at: m.next.map(|t| when(t, zone)),
    }
}

/// The members with a limit: (name, open clients, limit).
pub(crate) type CapacityRows = Vec<(String, u32, u32)>;

/// The capacity gauges of the members with a limit, their rows, and how
/// many members have none.
pub(crate) fn capacity(team: &[MemberNow], id: &str) -> (Option<Svg>, CapacityRows, usize) {
    let gauges: Vec<Gauge> = team
        .iter()
        .filter_map(|m| {
            Some(Gauge {
                label: m.name.clone(),
                used: m.open_clients?,
                limit: m.capacity?,
            })
        })
        .collect();
    let unlimited = team.len() - gauges.len();
    let rows = gauges
        .iter()
        .map(|g| (g.label.clone(), g.used, g.limit))
        .collect();
    let svg = (!gauges.is_empty()).then(|| {
        // A card is narrow on every screen.
        charts::gauges(
            id,
            "Open clients of each member with a limit",
            &gauges,
            Size::Narrow,
        )
    });
    (svg, rows, unlimited)
}

/// The backlog reason without the routing prefix.
pub(crate) fn reason_words(r: &str) -> String {
    let r = r.trim_start_matches("unassigned: ");
    if r.is_empty() {
        "no reason recorded".into()
    } else {
        capitalised(r)
    }
}

/// The manager's part of the caller's home, when it may see the reports.
pub(crate) async fn team_part(s: &AppState, who: &SignedIn) -> Result<Option<TeamPart>, UiError> {
    let actor = who.caller.actor.as_ref();
    if !allowed(actor, &Action::ViewReports) {
        return Ok(None);
    }
    let backlog = if allowed(actor, &Action::ViewBacklog) {
        let b = backlog::summary(&s.app, &who.caller, 1).await?;
        Some(BacklogView {
            total: b.total,
            oldest: b.oldest_at.map(|t| when(t, &who.caller.time_zone)),
            reasons: b
                .reasons
                .iter()
                .map(|(r, n)| (reason_words(r), *n))
                .collect(),
        })
    } else {
        None
    };
    let team = reports::team_now(&s.app, &who.caller).await?;
    let (capacity, capacity_rows, unlimited) = capacity(&team, "home-capacity");
    let zone = reports::account_zone(&s.app, &who.caller).await?;
    let r = reports::speed_to_lead(&s.app, &who.caller, &zone, &Asked::default(), None).await?;
    let speed = Some(SpeedHeadline {
        leads: r.total.leads,
        contacted: r.total.contacted,
        median: r.total.median_ms.map(duration_words),
        p90: r.total.p90_ms.map(duration_words),
        from: r.window.period.from.strftime("%-d %b").to_string(),
        to: r.window.period.to.strftime("%-d %b %Y").to_string(),
    });
    let people: Vec<PersonNow> = team
        .iter()
        .map(|m| person(m, &who.caller.time_zone))
        .collect();
    Ok(Some(TeamPart {
        available: people.iter().filter(|p| p.available).count(),
        people,
        backlog,
        capacity,
        capacity_rows,
        unlimited,
        speed,
    }))
}
