//! The manager's figures (D2) as JSON, or as CSV when the request's
//! `Accept` asks for `text/csv` (a header row; cells a spreadsheet would
//! run as a formula neutralised, as in the clients export).

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiQuery, Authed};
use crate::registry::{Api, RouteSpec, Verb};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use leadteam_app::clients::csv_cell;
use leadteam_app::reports::{
    self, Asked, Group, LeadsReport, Speed, SpeedReport, SpeedRow, Window,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(super) fn routes(api: Api) -> Api {
    api.add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/reports/speed-to-lead",
            "reports",
            "Speed to lead of the leads that arrived in a period: median and 90th percentile time from arrival to first contact, per member or per source (D2)",
        )
        .query(&[
            ("from", "first day, YYYY-MM-DD in the account's time zone (default: 6 days before `to`)"),
            ("to", "last day, included (default: today)"),
            ("by", "member (default; the member who made the first contact) or source"),
        ])
        .returns::<SpeedToLeadOut>()
        .also_media(
            "text/csv",
            "with Accept: text/csv: a header row, one row per member or source, then one row for all leads",
        ),
        speed_to_lead,
    )
    .add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/reports/leads",
            "reports",
            "Leads that arrived per source per day of a period, days counted in the account's time zone (D2)",
        )
        .query(&[
            ("from", "first day, YYYY-MM-DD in the account's time zone (default: 6 days before `to`)"),
            ("to", "last day, included (default: today)"),
            ("by", "source (the only grouping)"),
            ("bucket", "day (the only bucket)"),
        ])
        .returns::<LeadsOut>()
        .also_media(
            "text/csv",
            "with Accept: text/csv: a header row, then one row per day and source",
        ),
        leads,
    )
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpeedParams {
    pub from: Option<String>,
    pub to: Option<String>,
    pub by: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadsParams {
    pub from: Option<String>,
    pub to: Option<String>,
    pub by: Option<String>,
    pub bucket: Option<String>,
}

fn asked(from: &Option<String>, to: &Option<String>) -> Asked {
    Asked {
        from: from.clone(),
        to: to.clone(),
    }
}

/// The period a report covers.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ReportPeriodOut {
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, included.
    pub to: String,
    /// The zone the days are counted in.
    pub time_zone: String,
    pub days: i64,
}

fn period_out(w: &Window) -> ReportPeriodOut {
    ReportPeriodOut {
        from: w.period.from.to_string(),
        to: w.period.to.to_string(),
        time_zone: w.zone_name(),
        days: w.period.len(),
    }
}

/// Speed to lead of a group of leads.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SpeedOut {
    /// Leads that arrived in the period.
    pub leads: i64,
    /// Of those, the ones contacted.
    pub contacted: i64,
    pub not_contacted: i64,
    /// Median time from arrival to first contact, in seconds (none contacted: null).
    pub median_seconds: Option<f64>,
    /// 90th percentile (linear interpolation between ranks), in seconds.
    pub p90_seconds: Option<f64>,
}

fn seconds(ms: Option<f64>) -> Option<f64> {
    ms.map(|ms| ms.round() / 1000.0)
}

fn speed_out(s: &Speed) -> SpeedOut {
    SpeedOut {
        leads: s.leads,
        contacted: s.contacted,
        not_contacted: s.leads - s.contacted,
        median_seconds: seconds(s.median_ms),
        p90_seconds: seconds(s.p90_ms),
    }
}

/// One member's or source's speed to lead.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SpeedRowOut {
    /// With `by=member`: the member (null: leads nobody holds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_id: Option<i64>,
    /// With `by=source`: the lead source (null: added by hand or imported,
    /// as `source_kind` says).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_kind: Option<String>,
    /// The member's or the source's name.
    pub name: String,
    #[serde(flatten)]
    pub speed: SpeedOut,
}

fn row_out(r: &SpeedRow) -> SpeedRowOut {
    let (member_id, source_id, source_kind) = match &r.group {
        Group::Member(m) => (m.map(|m| m.0), None, None),
        Group::Source(k) => (None, k.source_id, Some(k.kind.clone())),
    };
    SpeedRowOut {
        member_id,
        source_id,
        source_kind,
        name: r.name.clone(),
        speed: speed_out(&r.speed),
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SpeedToLeadOut {
    pub period: ReportPeriodOut,
    /// `member` or `source`.
    pub by: String,
    pub rows: Vec<SpeedRowOut>,
    /// Every lead of the period.
    pub total: SpeedOut,
}

/// The daily counts of one source.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LeadsSourceOut {
    /// The lead source (null: added by hand or imported).
    pub source_id: Option<i64>,
    pub source_kind: String,
    pub name: String,
    /// One count per day of `days`.
    pub counts: Vec<i64>,
    pub total: i64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct LeadsOut {
    pub period: ReportPeriodOut,
    pub by: String,
    pub bucket: String,
    /// Every day of the period, `YYYY-MM-DD`.
    pub days: Vec<String>,
    /// The busiest source first.
    pub sources: Vec<LeadsSourceOut>,
    /// Every source, per day.
    pub totals: Vec<i64>,
    pub total: i64,
}

/// Whether the request asks for CSV.
fn wants_csv(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| {
            let mut bits = part.split(';').map(str::trim);
            let media = bits.next().unwrap_or("");
            let refused = bits.any(|p| p.replace(' ', "") == "q=0");
            media.eq_ignore_ascii_case("text/csv") && !refused
        })
}

fn csv_line(out: &mut String, cells: &[String]) {
    let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
    out.push_str(&line.join(","));
    out.push_str("\r\n");
}

fn csv_response(body: String, name: &str) -> Response {
    let mut resp = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

fn opt(v: Option<impl ToString>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// Speed to lead as CSV: one row per group, then one for all leads.
pub fn speed_csv(r: &SpeedReport) -> String {
    let mut out = String::new();
    let (id, name) = match r.by {
        reports::By::Member => ("member_id", "member"),
        reports::By::Source => ("source_id", "source"),
    };
    csv_line(
        &mut out,
        &[
            "from",
            "to",
            id,
            name,
            "leads",
            "contacted",
            "not_contacted",
            "median_seconds",
            "p90_seconds",
        ]
        .map(str::to_owned),
    );
    let period = [
        r.window.period.from.to_string(),
        r.window.period.to.to_string(),
    ];
    let figures = |s: &SpeedOut| {
        [
            s.leads.to_string(),
            s.contacted.to_string(),
            s.not_contacted.to_string(),
            opt(s.median_seconds),
            opt(s.p90_seconds),
        ]
    };
    for row in r.rows.iter().map(row_out) {
        let id = opt(row.member_id.or(row.source_id));
        let mut cells = period.to_vec();
        cells.extend([id, row.name.clone()]);
        cells.extend(figures(&row.speed));
        csv_line(&mut out, &cells);
    }
    let mut cells = period.to_vec();
    cells.extend([String::new(), "All leads".to_owned()]);
    cells.extend(figures(&speed_out(&r.total)));
    csv_line(&mut out, &cells);
    out
}

async fn speed_to_lead(
    State(s): State<AppState>,
    Authed(c): Authed,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<SpeedParams>,
) -> Result<Response, ApiError> {
    let zone = reports::account_zone(&s.app, &c).await?;
    let r =
        reports::speed_to_lead(&s.app, &c, &zone, &asked(&p.from, &p.to), p.by.as_deref()).await?;
    if wants_csv(&headers) {
        let name = format!(
            "speed-to-lead-by-{}-{}-{}.csv",
            r.by.as_str(),
            r.window.period.from,
            r.window.period.to
        );
        return Ok(csv_response(speed_csv(&r), &name));
    }
    Ok(Json(SpeedToLeadOut {
        period: period_out(&r.window),
        by: r.by.as_str().to_owned(),
        rows: r.rows.iter().map(row_out).collect(),
        total: speed_out(&r.total),
    })
    .into_response())
}

/// Leads per day as CSV: one row per day and source (zeros included).
pub fn leads_csv(r: &LeadsReport) -> String {
    let mut out = String::new();
    csv_line(
        &mut out,
        &["day", "source_id", "source", "leads"].map(str::to_owned),
    );
    for (i, day) in r.days.iter().enumerate() {
        for s in &r.series {
            csv_line(
                &mut out,
                &[
                    day.to_string(),
                    opt(s.source.source_id),
                    s.name.clone(),
                    s.counts[i].to_string(),
                ],
            );
        }
    }
    out
}

async fn leads(
    State(s): State<AppState>,
    Authed(c): Authed,
    headers: HeaderMap,
    ApiQuery(p): ApiQuery<LeadsParams>,
) -> Result<Response, ApiError> {
    let zone = reports::account_zone(&s.app, &c).await?;
    let r = reports::leads_per_day(
        &s.app,
        &c,
        &zone,
        &asked(&p.from, &p.to),
        p.by.as_deref(),
        p.bucket.as_deref(),
    )
    .await?;
    if wants_csv(&headers) {
        let name = format!(
            "leads-per-day-{}-{}.csv",
            r.window.period.from, r.window.period.to
        );
        return Ok(csv_response(leads_csv(&r), &name));
    }
    Ok(Json(LeadsOut {
        period: period_out(&r.window),
        by: "source".into(),
        bucket: "day".into(),
        days: r.days.iter().map(ToString::to_string).collect(),
        sources: r
            .series
            .iter()
            .map(|s| LeadsSourceOut {
                source_id: s.source.source_id,
                source_kind: s.source.kind.clone(),
                name: s.name.clone(),
                counts: s.counts.clone(),
                total: s.total,
            })
            .collect(),
        totals: r.totals.clone(),
        total: r.total,
    })
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_is_asked_for_by_accept_only() {
        let mut h = HeaderMap::new();
        assert!(!wants_csv(&h));
        h.insert(header::ACCEPT, HeaderValue::from_static("text/csv"));
        assert!(wants_csv(&h));
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json, text/csv;q=0"),
        );
        assert!(!wants_csv(&h));
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html, TEXT/CSV; q=0.5"),
        );
        assert!(wants_csv(&h));
    }
}
