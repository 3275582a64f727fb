//! Speed to lead (D2): of the leads that arrived in the period, how many
//! were contacted, and the median and 90th percentile of the time from
//! arrival to first contact, per member or per source.

use super::{Asked, Window, source_name};
use crate::App;
use crate::auth::Caller;
use crate::error::AppError;
use jiff::tz::TimeZone;
use leadteam_domain::MemberId;
use leadteam_domain::authz::Action;
use leadteam_domain::reports::Speed;
use leadteam_store::reports::{self as store, SourceKey, SpeedBy};

/// How the leads are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// By the member who made the first contact (a lead not contacted yet:
    /// by its assignee, or "Unassigned").
    Member,
    /// By where the lead came from.
    Source,
}

impl By {
    /// `member` or `source`; anything else is refused naming `by`.
    pub fn parse(s: Option<&str>) -> Result<By, AppError> {
        match s.map(str::trim) {
            None | Some("") | Some("member") => Ok(By::Member),
            Some("source") => Ok(By::Source),
            Some(_) => Err(AppError::field("by", "must be member or source")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            By::Member => "member",
            By::Source => "source",
        }
    }
}

/// What one row of the report is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// A member; `None`: leads nobody holds (not contacted).
    Member(Option<MemberId>),
    Source(SourceKey),
}

/// One group's figures.
#[derive(Debug, Clone)]
pub struct SpeedRow {
    pub group: Group,
    pub name: String,
    pub speed: Speed,
}

/// Speed to lead over a period.
#[derive(Debug, Clone)]
pub struct SpeedReport {
    pub window: Window,
    pub by: By,
    /// By name; leads nobody holds last.
    pub rows: Vec<SpeedRow>,
    /// Every lead of the period.
    pub total: Speed,
}

/// Speed to lead of the leads that arrived in the period asked (local
/// days of `zone`), grouped `by` (`member`, the default, or `source`).
pub async fn speed_to_lead(
    app: &App,
    caller: &Caller,
    zone: &TimeZone,
    asked: &Asked,
    by: Option<&str>,
) -> Result<SpeedReport, AppError> {
    let actor = caller.may(&Action::ViewReports)?;
    let window = Window::resolve(zone, asked, app.now())?;
    let by = By::parse(by)?;
    let mut c = app.db.conn().await?;
    let store_by = match by {
        By::Member => SpeedBy::Member,
        By::Source => SpeedBy::Source,
    };
    let groups = store::speed(&mut c, actor.account, window.start, window.end, store_by).await?;
    let overall =
        store::speed_overall_ranks(&mut c, actor.account, window.start, window.end).await?;
    let total = Speed::of_ranks(
        groups.iter().map(|g| g.leads).sum(),
        groups.iter().map(|g| g.contacted).sum(),
        &overall,
    );
    let names = match by {
        By::Member => store::member_names(&mut c, actor.account).await?,
        By::Source => Default::default(),
    };
    let sources = match by {
        By::Source => store::source_names(&mut c, actor.account).await?,
        By::Member => Default::default(),
    };
    let mut rows: Vec<SpeedRow> = groups
        .into_iter()
        .map(|g| {
            let group = match (by, &g.source) {
                (By::Source, Some(k)) => Group::Source(k.clone()),
                _ => Group::Member(g.member),
            };
            let name = match &group {
                Group::Member(Some(m)) => names
                    .get(m)
                    .cloned()
                    .unwrap_or_else(|| format!("Member {}", m.0)),
                Group::Member(None) => "Unassigned".to_owned(),
                Group::Source(k) => source_name(k, &sources),
            };
            SpeedRow {
                group,
                name,
                speed: Speed::of_ranks(g.leads, g.contacted, &g.ranks),
            }
        })
        .collect();
    rows.sort_by_key(|r| (r.group == Group::Member(None), r.name.to_lowercase()));
    Ok(SpeedReport {
        window,
        by,
        rows,
        total,
    })
}
