//! Billing (B1-B4): the plan, the trial, seats (add and remove), licences,
//! the pro-rated lines of a cycle with the next invoice's total and its CSV
//! export; and the agent's start/stop work button shown on the dashboard.
//! The same use cases as `/api/v1/billing*` and `/api/v1/me/duty`.

use super::super::csrf;
use super::super::layout::{Layout, render, see_other};
use super::super::{FormErrors, SignedIn, UiError, UiForm};
use super::fields::Fields;
use super::view;
use crate::AppState;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use leadteam_app::AppError;
use leadteam_app::billing::{self, duty};
use leadteam_domain::authz::Action;
use leadteam_domain::billing::Day;
use serde::Deserialize;

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/billing", get(show))
        .route("/billing/seats", post(seats))
        .route("/duty/start", post(start_work))
        .route("/duty/stop", post(stop_work))
}

pub(super) struct Line {
    name: String,
    email: String,
    status: &'static str,
    status_label: &'static str,
    periods: String,
    active_days: i64,
    free_days: i64,
    charged_days: i64,
    amount: String,
}

#[derive(Template)]
#[template(path = "admin/billing.html")]
struct BillingPage {
    page: Layout,
    price: String,
    anchor_day: i64,
    in_trial: bool,
    trial_end: String,
    trial_days_left: i64,
    seats: i64,
    seats_used: i64,
    seats_free: i64,
    active_members: i64,
    invited_members: i64,
    licences: i64,
    licences_in_use: i64,
    enforce_licences: bool,
    cycle_start: String,
    cycle_last: String,
    cycle_days: i64,
    current_cycle: bool,
    prev_day: String,
    next_day: String,
    lines: Vec<Line>,
    total: String,
    csv_url: String,
    can_manage: bool,
    seats_value: String,
    errors: FormErrors,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BillingQuery {
    day: Option<String>,
    notice: Option<String>,
}

fn status_label(s: &str) -> &'static str {
    match s {
        "active" => "Active",
        "deactivated" => "Deactivated",
        _ => "Removed",
    }
}

async fn billing_page(
    s: &AppState,
    who: &SignedIn,
    day: Option<&str>,
    notice: Option<&str>,
    status: StatusCode,
    typed_seats: Option<String>,
    errors: FormErrors,
) -> Result<Response, UiError> {
    let day = match day.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => Some(Day::parse("day", d).map_err(AppError::from)?),
        None => None,
    };
    let v = billing::view(&s.app, &who.caller, day).await?;
    let page = view::frame(s, who, "Billing", "/billing", notice).await?;
    let currency = v.plan.currency.clone();
    let today = Day::from_timestamp(v.now);
    let lines = v
        .lines
        .iter()
        .map(|l| Line {
            name: l.name.clone(),
            email: l.email.clone(),
            status: l.status,
            status_label: status_label(l.status),
            periods: l
                .line
                .periods
                .iter()
                .map(|(from, to)| format!("{from} to {}", to.plus_days(-1)))
                .collect::<Vec<_>>()
                .join(", "),
            active_days: l.line.active_days,
            free_days: l.line.free_days,
            charged_days: l.line.active_days - l.line.free_days,
            amount: view::money(l.line.amount_cents, &currency),
        })
        .collect();
    let cycle_q = format!("day={}", v.cycle.start);
    let body = BillingPage {
        price: view::money(v.plan.price_cents, &currency),
        anchor_day: v.plan.anchor_day,
        in_trial: v.in_trial,
        trial_end: view::day(v.plan.trial_ends_at, &who.caller.time_zone),
        trial_days_left: today.days_until(v.trial_end_day).max(0),
        seats: v.plan.seats,
        seats_used: v.seats_used,
        seats_free: (v.plan.seats - v.seats_used).max(0),
        active_members: v.active_members,
        invited_members: v.invited_members,
        licences: v.plan.licences,
        licences_in_use: v.licences_in_use,
        enforce_licences: v.plan.enforce_licences,
        cycle_start: v.cycle.start.to_string(),
        cycle_last: v.cycle.end.plus_days(-1).to_string(),
        cycle_days: v.cycle.days(),
        current_cycle: v.cycle.contains(today),
        prev_day: v.cycle.start.plus_days(-1).to_string(),
        next_day: v.cycle.end.to_string(),
        lines,
        total: view::money(v.invoice.total_cents, &currency),
        csv_url: format!("/api/v1/billing/invoice.csv?{cycle_q}"),
        can_manage: page.may(Action::ManageBilling),
        seats_value: typed_seats.unwrap_or_else(|| v.plan.seats.to_string()),
        errors,
        page,
    };
    Ok(render(status, &body))
}

async fn show(
    State(s): State<AppState>,
    who: SignedIn,
    Query(q): Query<BillingQuery>,
) -> Result<Response, UiError> {
    billing_page(
        &s,
        &who,
        q.day.as_deref(),
        q.notice.as_deref(),
        StatusCode::OK,
        None,
        FormErrors::default(),
    )
    .await
}

/// Sets the seats: `seats` as typed, or one more or one less than `current`
/// (`change` = "add" / "remove").
async fn seats(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    let current: Option<i64> = f.data.get("current").parse().ok();
    let wanted = match (f.data.get("change"), current) {
        ("add", Some(c)) => Ok(c + 1),
        ("remove", Some(c)) => Ok(c - 1),
        _ => f
            .data
            .get("seats")
            .trim()
            .parse::<i64>()
            .map_err(|_| AppError::field("seats", "must be a whole number of seats")),
    };
    let result = match wanted {
        Ok(n) => billing::set_seats(&s.app, &who.caller, n).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(see_other("/billing?notice=seats", f.htmx)),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[])?;
            let typed = Some(f.data.get("seats").to_owned()).filter(|v| !v.is_empty());
            billing_page(&s, &who, None, None, status, typed, errors).await
        }
    }
}

/// The start/stop work card of the dashboard (B4).
pub(crate) struct DutyCard {
    pub(crate) csrf: String,
    pub(crate) on_duty: bool,
    pub(crate) since: String,
    pub(crate) licences: i64,
    pub(crate) in_use: i64,
    pub(crate) enforced: bool,
    pub(crate) may_start: bool,
    pub(crate) error: Option<String>,
}

/// The card for the dashboard: for members who may work as agents, or who
/// are on duty; `None` for the others.
pub(crate) async fn duty_card(s: &AppState, who: &SignedIn) -> Result<Option<DutyCard>, UiError> {
    let Some(actor) = who.caller.actor.as_ref() else {
        return Ok(None);
    };
    let may_start = super::super::nav::allowed(Some(actor), &Action::StartWork);
    if !may_start && !super::super::nav::allowed(Some(actor), &Action::StopWork) {
        return Ok(None);
    }
    let v = duty::status(&s.app, &who.caller).await?;
    if !may_start && v.since.is_none() {
        return Ok(None);
    }
    Ok(Some(DutyCard {
        csrf: csrf::token_for(&who.token),
        on_duty: v.since.is_some(),
        since: v
            .since
            .map(|t| view::when(t, &who.caller.time_zone))
            .unwrap_or_default(),
        licences: v.licences,
        in_use: v.in_use,
        enforced: v.enforced,
        may_start,
        error: None,
    }))
}

/// The card alone, swapped in by htmx.
#[derive(Template)]
#[template(path = "admin/duty.html")]
struct DutyPart {
    duty: DutyCard,
}

async fn duty_answer(
    s: &AppState,
    who: &SignedIn,
    htmx: bool,
    result: Result<(), AppError>,
) -> Result<Response, UiError> {
    if !htmx {
        result?;
        return Ok(see_other("/#duty", false));
    }
    let error = match result {
        Ok(()) => None,
        Err(e) => {
            let (_, errors) = FormErrors::from_app(e, &[])?;
            Some(view::refusal(&errors))
        }
    };
    match duty_card(s, who).await? {
        Some(mut duty) => {
            duty.error = error;
            Ok(render(StatusCode::OK, &DutyPart { duty }))
        }
        None => Ok(see_other("/", true)),
    }
}

async fn start_work(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    let r = duty::start_work(&s.app, &who.caller).await.map(|_| ());
    duty_answer(&s, &who, f.htmx, r).await
}

async fn stop_work(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    let r = duty::stop_work(&s.app, &who.caller).await.map(|_| ());
    duty_answer(&s, &who, f.htmx, r).await
}
