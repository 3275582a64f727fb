//! The manager's figures (D2): speed to lead per member and per source,
//! leads per source per day, reclaims, and the team now (who is available,
//! capacity in use), over a period of local days in the account's time zone.
//!
//! Who may: `Action::ViewReports` (the figures sum up every member's
//! clients). The zone is a parameter of every use case; the caller gets it
//! from [`account_zone`].

mod leads;
mod speed;
mod team;

pub use leads::{LeadsReport, LeadsSeries, leads_per_day};
pub use speed::{By, Group, SpeedReport, SpeedRow, speed_to_lead};
pub use team::{MemberNow, ReclaimReport, reclaims, team_now};

pub use leadteam_domain::reports::{Period, Speed, duration_words};
pub use leadteam_store::reports::SourceKey;

use crate::App;
use crate::auth::Caller;
use crate::error::AppError;
use jiff::tz::TimeZone;
use leadteam_domain::Timestamp;
use leadteam_domain::reports;
use std::collections::HashMap;

/// The time zone the account's days are counted in (X6: the account's
/// setting; UTC when its name is unknown).
pub async fn account_zone(app: &App, caller: &Caller) -> Result<TimeZone, AppError> {
    let actor = caller.actor()?;
    let mut c = app.db.conn().await?;
    let account = leadteam_store::accounts::by_id(&mut c, actor.account)
        .await?
        .ok_or(AppError::NotFound("account"))?;
    Ok(TimeZone::get(&account.time_zone).unwrap_or(TimeZone::UTC))
}

/// The period a report is asked for: `from` and `to` as given
/// (`YYYY-MM-DD`, local days of the zone, both included; by default the
/// last 7 days up to today).
#[derive(Debug, Clone, Default)]
pub struct Asked {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The period a report covers, in a zone, with its instants.
#[derive(Debug, Clone)]
pub struct Window {
    pub period: Period,
    pub zone: TimeZone,
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Window {
    /// The period of `from` and `to` (`YYYY-MM-DD` in `zone`; by default
    /// the last 7 days up to today), refused naming the field at fault.
    pub fn resolve(zone: &TimeZone, asked: &Asked, now: Timestamp) -> Result<Window, AppError> {
        let today = reports::today_in(zone, now);
        let period = Period::parse(asked.from.as_deref(), asked.to.as_deref(), today)?;
        let (start, end) = period.bounds(zone);
        Ok(Window {
            period,
            zone: zone.clone(),
            start,
            end,
        })
    }

    /// The zone's name ("UTC", "Asia/Kolkata").
    pub fn zone_name(&self) -> String {
        self.zone.iana_name().unwrap_or("UTC").to_owned()
    }
}

/// A source as people call it: its name, or how the lead was added.
pub(crate) fn source_name(key: &SourceKey, names: &HashMap<i64, String>) -> String {
    match key.source_id {
        Some(id) => names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("Source {id} (removed)")),
        None => match key.kind.as_str() {
            "manual" => "Added by hand".to_owned(),
            "import" => "CSV import".to_owned(),
            other => other.to_owned(),
        },
    }
}
