//! Leads per source per local day (D2): one grouped count per stretch of
//! constant UTC offset of the zone (one, or two across a daylight-saving
//! change), merged into one column per day of the period.

use super::{Asked, Window, source_name};
use crate::App;
use crate::auth::Caller;
use crate::error::AppError;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use leadteam_domain::authz::Action;
use leadteam_domain::reports::{self, day_number};
use leadteam_store::reports::{self as store, SourceKey};
use std::collections::BTreeMap;

/// The daily counts of one source.
#[derive(Debug, Clone)]
pub struct LeadsSeries {
    pub source: SourceKey,
    pub name: String,
    /// One count per day of the period.
    pub counts: Vec<i64>,
    pub total: i64,
}

/// Leads per source per day over a period.
#[derive(Debug, Clone)]
pub struct LeadsReport {
    pub window: Window,
    pub days: Vec<Date>,
    /// The busiest source first.
    pub series: Vec<LeadsSeries>,
    /// Every source, per day.
    pub totals: Vec<i64>,
    pub total: i64,
}

/// Leads per source per local day (of `zone`) of the period asked. `by`
/// and `bucket` name the only grouping there is (`source`, `day`) and are
/// refused naming the field when they say anything else.
pub async fn leads_per_day(
    app: &App,
    caller: &Caller,
    zone: &TimeZone,
    asked: &Asked,
    by: Option<&str>,
    bucket: Option<&str>,
) -> Result<LeadsReport, AppError> {
    let actor = caller.may(&Action::ViewReports)?;
    if !matches!(by.map(str::trim), None | Some("") | Some("source")) {
        return Err(AppError::field("by", "must be source"));
    }
    if !matches!(bucket.map(str::trim), None | Some("") | Some("day")) {
        return Err(AppError::field("bucket", "must be day"));
    }
    let window = Window::resolve(zone, asked, app.now())?;
    let days = window.period.days();
    let first = day_number(window.period.from);
    let mut c = app.db.conn().await?;
    let mut by_source: BTreeMap<SourceKey, Vec<i64>> = BTreeMap::new();
    for s in reports::stretches(&window.zone, window.start, window.end) {
        for row in store::leads_per_day(&mut c, actor.account, s.start, s.end, s.offset_ms).await? {
            let i = row.day - first;
            if i < 0 || i as usize >= days.len() {
                continue;
            }
            by_source
                .entry(row.source)
                .or_insert_with(|| vec![0; days.len()])[i as usize] += row.leads;
        }
    }
    let names = store::source_names(&mut c, actor.account).await?;
    let mut series: Vec<LeadsSeries> = by_source
        .into_iter()
        .map(|(source, counts)| LeadsSeries {
            name: source_name(&source, &names),
            total: counts.iter().sum(),
            source,
            counts,
        })
        .collect();
    series.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.name.cmp(&b.name)));
    let totals: Vec<i64> = (0..days.len())
        .map(|i| series.iter().map(|s| s.counts[i]).sum())
        .collect();
    Ok(LeadsReport {
        window,
        total: totals.iter().sum(),
        days,
        series,
        totals,
    })
}
