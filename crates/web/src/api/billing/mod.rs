//! Billing (B1-B5): plan facts, seats, the pro-rated invoice of a cycle and
//! its export ([`export`]), credits ([`credits`]), and agent licences: going
//! on and off duty ([`duty`]).

mod credits;
mod duty;
mod export;

use crate::extract::ApiQuery;
use credits::{CreditsBody, CreditsOut, get_credits, post_credits};
use duty::{DutyOut, get_duty, start_duty, stop_duty};
use export::{InvoiceOut, invoice_csv, invoice_json};

use super::rfc3339;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, Authed};
use crate::registry::{Api, RouteSpec, Verb};
use axum::Json;
use axum::extract::State;
use leadteam_app::billing::{self, BillingView, LineView, PlanChanges};
use leadteam_domain::billing::Day;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

const DAY_QUERY: &[(&str, &str)] = &[(
    "day",
    "a day (YYYY-MM-DD) in the cycle to show; default: today",
)];

pub(super) fn routes(api: Api) -> Api {
    api.add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/billing",
            "billing",
            "Plan, trial, seats, licences and the pro-rated lines of the cycle with the next invoice's total (B1-B4)",
        )
        .query(DAY_QUERY)
        .returns::<BillingOut>(),
        get_billing,
    )
    .add(
        RouteSpec::new(
            Verb::Patch,
            "/api/v1/billing",
            "billing",
            "Change plan facts: price, currency, anchor day, licences and their enforcement, credit costs",
        )
        .body::<PlanBody>()
        .returns::<BillingOut>(),
        patch_billing,
    )
    .add(
        RouteSpec::new(
            Verb::Patch,
            "/api/v1/billing/seats",
            "billing",
            "Set the purchased seats; never below the members holding one (B3)",
        )
        .body::<SeatsBody>()
        .returns::<BillingOut>(),
        patch_seats,
    )
    .add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/billing/invoice.csv",
            "billing",
            "The invoice lines of the cycle as CSV (RFC 4180)",
        )
        .query(DAY_QUERY),
        invoice_csv,
    )
    .add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/billing/invoice.json",
            "billing",
            "The invoice lines of the cycle as JSON",
        )
        .query(DAY_QUERY)
        .returns::<InvoiceOut>(),
        invoice_json,
    )
    .add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/members/{id}/credits",
            "billing",
            "A member's credit balance and ledger (one's own, or anyone's with billing.manage) (B5)",
        )
        .returns::<CreditsOut>(),
        get_credits,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/members/{id}/credits",
            "billing",
            "Allocate credits to a member, or take them back with a negative delta (B5)",
        )
        .status(201)
        .body::<CreditsBody>()
        .returns::<CreditsOut>(),
        post_credits,
    )
    .add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/me/duty",
            "billing",
            "Whether I am on duty, and the licences in use (B4)",
        )
        .returns::<DutyOut>(),
        get_duty,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/me/duty",
            "billing",
            "Start work: take a free agent licence; 409 when none is free (B4)",
        )
        .status(201)
        .returns::<DutyOut>(),
        start_duty,
    )
    .add(
        RouteSpec::new(
            Verb::Delete,
            "/api/v1/me/duty",
            "billing",
            "Stop work: free my licence (B4)",
        )
        .returns::<DutyOut>(),
        stop_duty,
    )
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct DayQuery {
    pub day: Option<String>,
}

pub(super) fn day_of(q: &DayQuery) -> Result<Option<Day>, ApiError> {
    match q.day.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => Ok(Some(
            Day::parse("day", s).map_err(leadteam_app::AppError::from)?,
        )),
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TrialOut {
    /// When the free trial ends (B1).
    pub ends_at: String,
    /// The first day charged (YYYY-MM-DD): the day the trial ends.
    pub first_charged_day: String,
    /// The trial is running: nothing is charged and seats are not enforced.
    pub active: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SeatsOut {
    /// Seats paid for, the owner's included (B3).
    pub purchased: i64,
    /// The owner, active members and pending invitations.
    pub used: i64,
    pub free: i64,
    /// Inviting beyond the seats is refused (after the trial).
    pub enforced: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MemberCountsOut {
    pub active: i64,
    pub invited: i64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct LicencesOut {
    /// Agents who may be on duty at the same time (B4).
    pub total: i64,
    pub in_use: i64,
    /// Routing and the inbox only use agents on duty.
    pub enforced: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CreditCostsOut {
    /// Credits a claimed lead costs; 0: free (B5).
    pub claim: i64,
    /// Credits an accepted lead costs; 0: free (B5).
    pub accept: i64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CycleOut {
    /// The first day of the cycle (YYYY-MM-DD).
    pub start: String,
    /// The first day after the cycle: the next cycle's start and the invoice date.
    pub end: String,
    pub days: i64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PeriodOut {
    /// First active day (YYYY-MM-DD).
    pub from: String,
    /// Last active day, included.
    pub through: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct LineOut {
    pub member_id: i64,
    pub name: String,
    pub email: String,
    /// active | deactivated | removed
    pub status: String,
    /// Days of the cycle the member was active (B2), trial days included.
    pub active_days: i64,
    /// Of those, days of the free trial (B1).
    pub free_days: i64,
    pub charged_days: i64,
    pub cycle_days: i64,
    pub amount_cents: i64,
    pub periods: Vec<PeriodOut>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct NextInvoiceOut {
    /// The day the invoice for this cycle is issued (the cycle's end).
    pub date: String,
    pub total_cents: i64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct BillingOut {
    /// Price per active member per cycle.
    pub price_cents: i64,
    pub currency: String,
    /// Monthly cycles start on this day of the month (1-28).
    pub anchor_day: i64,
    pub trial: TrialOut,
    pub seats: SeatsOut,
    pub members: MemberCountsOut,
    pub licences: LicencesOut,
    pub credit_costs: CreditCostsOut,
    pub cycle: CycleOut,
    /// One line per member active on at least one day of the cycle; invited
    /// members never have one (B2).
    pub lines: Vec<LineOut>,
    pub total_cents: i64,
    pub next_invoice: NextInvoiceOut,
}

pub(super) fn line_out(l: &LineView) -> LineOut {
    LineOut {
        member_id: l.line.member.0,
        name: l.name.clone(),
        email: l.email.clone(),
        status: l.status.to_owned(),
        active_days: l.line.active_days,
        free_days: l.line.free_days,
        charged_days: l.line.active_days - l.line.free_days,
        cycle_days: l.line.cycle_days,
        amount_cents: l.line.amount_cents,
        periods: l
            .line
            .periods
            .iter()
            .map(|(from, to)| PeriodOut {
                from: from.to_string(),
                through: to.plus_days(-1).to_string(),
            })
            .collect(),
    }
}

pub(super) fn cycle_out(v: &BillingView) -> CycleOut {
    CycleOut {
        start: v.cycle.start.to_string(),
        end: v.cycle.end.to_string(),
        days: v.cycle.days(),
    }
}

fn billing_out(v: &BillingView) -> BillingOut {
    BillingOut {
        price_cents: v.plan.price_cents,
        currency: v.plan.currency.clone(),
        anchor_day: v.plan.anchor_day,
        trial: TrialOut {
            ends_at: rfc3339(v.plan.trial_ends_at),
            first_charged_day: v.trial_end_day.to_string(),
            active: v.in_trial,
        },
        seats: SeatsOut {
            purchased: v.plan.seats,
            used: v.seats_used,
            free: (v.plan.seats - v.seats_used).max(0),
            enforced: v.seats_enforced(),
        },
        members: MemberCountsOut {
            active: v.active_members,
            invited: v.invited_members,
        },
        licences: LicencesOut {
            total: v.plan.licences,
            in_use: v.licences_in_use,
            enforced: v.plan.enforce_licences,
        },
        credit_costs: CreditCostsOut {
            claim: v.plan.claim_cost_credits,
            accept: v.plan.accept_cost_credits,
        },
        cycle: cycle_out(v),
        lines: v.lines.iter().map(line_out).collect(),
        total_cents: v.invoice.total_cents,
        next_invoice: NextInvoiceOut {
            date: v.cycle.end.to_string(),
            total_cents: v.invoice.total_cents,
        },
    }
}

async fn get_billing(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiQuery(q): ApiQuery<DayQuery>,
) -> Result<Json<BillingOut>, ApiError> {
    let v = billing::view(&s.app, &c, day_of(&q)?).await?;
    Ok(Json(billing_out(&v)))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanBody {
    /// Price per active member per cycle, in cents (0-100000000).
    pub price_cents: Option<i64>,
    /// ISO 4217 code, e.g. USD.
    pub currency: Option<String>,
    /// Day of the month cycles start on (1-28).
    pub anchor_day: Option<i64>,
    /// Agents on duty at the same time; not below those on duty now.
    pub licences: Option<i64>,
    /// Routing and the inbox only use agents on duty.
    pub enforce_licences: Option<bool>,
    /// Credits a claimed lead costs; 0 turns the cost off.
    pub claim_cost_credits: Option<i64>,
    /// Credits an accepted lead costs; 0 turns the cost off.
    pub accept_cost_credits: Option<i64>,
}

async fn patch_billing(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiJson(b): ApiJson<PlanBody>,
) -> Result<Json<BillingOut>, ApiError> {
    billing::update_plan(
        &s.app,
        &c,
        PlanChanges {
            price_cents: b.price_cents,
            currency: b.currency,
            anchor_day: b.anchor_day,
            licences: b.licences,
            enforce_licences: b.enforce_licences,
            claim_cost_credits: b.claim_cost_credits,
            accept_cost_credits: b.accept_cost_credits,
        },
    )
    .await?;
    let v = billing::view(&s.app, &c, None).await?;
    Ok(Json(billing_out(&v)))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeatsBody {
    /// Seats purchased, the owner's included.
    pub seats: i64,
}

async fn patch_seats(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiJson(b): ApiJson<SeatsBody>,
) -> Result<Json<BillingOut>, ApiError> {
    billing::set_seats(&s.app, &c, b.seats).await?;
    let v = billing::view(&s.app, &c, None).await?;
    Ok(Json(billing_out(&v)))
}
