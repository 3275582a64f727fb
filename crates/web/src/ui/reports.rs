//! The reports page (D2): speed to lead per member and per source, leads
//! per source per day and the reclaims of a chosen period (local days of
//! the account's time zone), each as a chart drawn on the server and as a
//! table; the same use cases as `GET /api/v1/reports/...`.

use super::charts::{self, Chart, Columns, HBar};
use super::layout::{Layout, render};
use super::{FormErrors, SignedIn, UiError};
use crate::AppState;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use jiff::civil::Date;
use leadteam_app::reports::{
    self, Asked, LeadsReport, ReclaimReport, SpeedReport, Window, duration_words,
};
use leadteam_app::{AppError, me};
use serde::Deserialize;

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/reports", get(page))
}

/// One row of a speed table.
struct SpeedLine {
    name: String,
    leads: i64,
    contacted: i64,
    not_contacted: i64,
    median: String,
    p90: String,
}

struct SpeedView {
    chart: Chart,
    rows: Vec<SpeedLine>,
    total: SpeedLine,
}

struct LeadsView {
    chart: Chart,
    sources: Vec<String>,
    /// (day, counts per source, total).
    days: Vec<(String, Vec<i64>, i64)>,
    totals: Vec<i64>,
    total: i64,
}

struct ReclaimView {
    chart: Option<Chart>,
    total: i64,
    rows: Vec<(String, i64)>,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    page: Layout,
    from: String,
    to: String,
    errors: FormErrors,
    period: String,
    zone: String,
    last_30: String,
    today: String,
    by_member: SpeedView,
    by_source: SpeedView,
    leads: LeadsView,
    reclaims: ReclaimView,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Params {
    from: Option<String>,
    to: Option<String>,
}

/// "7 Dec".
fn short(d: Date) -> String {
    d.strftime("%-d %b").to_string()
}

/// "1 Dec 2026 to 8 Dec 2026", or one day.
fn period_words(w: &Window) -> String {
    let long = |d: Date| d.strftime("%-d %b %Y").to_string();
    if w.period.from == w.period.to {
        long(w.period.from)
    } else {
        format!("{} to {}", long(w.period.from), long(w.period.to))
    }
}

fn words(ms: Option<f64>) -> String {
    ms.map(duration_words).unwrap_or_else(|| "–".into())
}

fn speed_view(id: &str, title: &str, r: &SpeedReport) -> SpeedView {
    let bars: Vec<HBar> = r
        .rows
        .iter()
        .map(|row| HBar {
            label: row.name.clone(),
            value: row.speed.median_ms.map(|m| m / 1000.0),
            value_text: format!("median {}", words(row.speed.median_ms)),
            second: row
                .speed
                .p90_ms
                .map(|p| (p / 1000.0, format!("p90 {}", duration_words(p)))),
            missing: if row.speed.leads == 1 {
                "1 lead, not contacted yet".into()
            } else {
                format!("{} leads, none contacted yet", row.speed.leads)
            },
        })
        .collect();
    let line = |name: &str, s: &reports::Speed| SpeedLine {
        name: name.to_owned(),
        leads: s.leads,
        contacted: s.contacted,
        not_contacted: s.leads - s.contacted,
        median: words(s.median_ms),
        p90: words(s.p90_ms),
    };
    SpeedView {
        chart: Chart::both(|size| {
            charts::hbars(id, title, &bars, &["Median", "90th percentile (p90)"], size)
        }),
        rows: r
            .rows
            .iter()
            .map(|row| line(&row.name, &row.speed))
            .collect(),
        total: line("All leads", &r.total),
    }
}

fn leads_view(r: &LeadsReport) -> LeadsView {
    let columns = Columns {
        buckets: r.days.iter().map(|d| (short(*d), d.to_string())).collect(),
        series: r
            .series
            .iter()
            .map(|s| (s.name.clone(), s.counts.clone()))
            .collect(),
    };
    let chart = Chart::both(|size| {
        charts::columns("leads-chart", "Leads per source per day", &columns, size)
    });
    LeadsView {
        chart,
        sources: r.series.iter().map(|s| s.name.clone()).collect(),
        days: r
            .days
            .iter()
            .enumerate()
            .map(|(i, d)| {
                (
                    d.strftime("%a %-d %b").to_string(),
                    r.series.iter().map(|s| s.counts[i]).collect(),
                    r.totals[i],
                )
            })
            .collect(),
        totals: r.series.iter().map(|s| s.total).collect(),
        total: r.total,
    }
}

fn reclaim_view(r: &ReclaimReport) -> ReclaimView {
    let bars: Vec<HBar> = r
        .by_member
        .iter()
        .map(|(_, name, n)| HBar {
            label: name.clone(),
            value: Some(*n as f64),
            value_text: if *n == 1 {
                "1 lead".into()
            } else {
                format!("{n} leads")
            },
            second: None,
            missing: String::new(),
        })
        .collect();
    ReclaimView {
        chart: (!bars.is_empty()).then(|| {
            Chart::both(|size| {
                charts::hbars(
                    "reclaims-chart",
                    "Leads moved on from each member for want of first contact",
                    &bars,
                    &[],
                    size,
                )
            })
        }),
        total: r.total,
        rows: r
            .by_member
            .iter()
            .map(|(_, name, n)| (name.clone(), *n))
            .collect(),
    }
}

async fn page(
    State(s): State<AppState>,
    who: SignedIn,
    Query(q): Query<Params>,
) -> Result<Response, UiError> {
    let v = me::me(&s.app, &who.caller).await?;
    let zone = reports::account_zone(&s.app, &who.caller).await?;
    let mut asked = Asked {
        from: q.from.clone(),
        to: q.to.clone(),
    };
    // A period that cannot be read is said next to its field; the figures
    // of the last 7 days are shown meanwhile.
    let (status, errors, by_member) =
        match reports::speed_to_lead(&s.app, &who.caller, &zone, &asked, Some("member")).await {
            Ok(r) => (StatusCode::OK, FormErrors::default(), r),
            Err(e @ AppError::Validation(_)) => {
                let (status, errors) = FormErrors::from_app(e, &[])?;
                asked = Asked::default();
                let r = reports::speed_to_lead(&s.app, &who.caller, &zone, &asked, Some("member"))
                    .await?;
                (status, errors, r)
            }
            Err(e) => return Err(e.into()),
        };
    let by_source =
        reports::speed_to_lead(&s.app, &who.caller, &zone, &asked, Some("source")).await?;
    let leads = reports::leads_per_day(&s.app, &who.caller, &zone, &asked, None, None).await?;
    let reclaims = reports::reclaims(&s.app, &who.caller, &zone, &asked).await?;
    let w = &by_member.window;
    let today = leadteam_domain::reports::today_in(&zone, s.app.now());
    let last_30 = today
        .checked_sub(jiff::Span::new().days(29))
        .unwrap_or(today);
    let body = ReportsPage {
        page: Layout::signed_in("Reports", "/reports", &who, &v),
        from: if errors.any() {
            q.from.unwrap_or_default()
        } else {
            w.period.from.to_string()
        },
        to: if errors.any() {
            q.to.unwrap_or_default()
        } else {
            w.period.to.to_string()
        },
        errors,
        period: period_words(w),
        zone: w.zone_name(),
        last_30: last_30.to_string(),
        today: today.to_string(),
        by_member: speed_view(
            "speed-by-member",
            "Speed to lead per member: median and 90th percentile",
            &by_member,
        ),
        by_source: speed_view(
            "speed-by-source",
            "Speed to lead per source: median and 90th percentile",
            &by_source,
        ),
        leads: leads_view(&leads),
        reclaims: reclaim_view(&reclaims),
    };
    Ok(render(status, &body))
}
