//! Availability (A8): a member's away switch, working hours in its time
//! zone and time off (`/members/{id}/availability`, `/availability` for
//! one's own), and the account's holidays (`/holidays`). The same use cases
//! as `/api/v1/members/{id}/{availability,schedule,time-off}` and
//! `/api/v1/holidays`.

use super::super::layout::{Layout, render, see_other};
use super::super::{FormErrors, SignedIn, UiError, UiForm};
use super::fields::Fields;
use super::view;
use crate::AppState;
use crate::ui::form::NoticeQuery;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use leadteam_app::availability as av;
use leadteam_app::{AppError, members};
use leadteam_domain::MemberId;
use leadteam_domain::authz::Action;
use leadteam_domain::availability::{Schedule, WEEKDAYS};

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/availability", get(own))
        .route("/members/{id}/availability", get(page))
        .route("/members/{id}/away", post(set_away))
        .route("/members/{id}/schedule", post(set_schedule))
        .route("/members/{id}/time-off", post(add_time_off))
        .route(
            "/members/{id}/time-off/{entry}/delete",
            post(delete_time_off),
        )
        .route("/me/preferences", post(set_preferences))
        .route("/holidays", get(holidays).post(add_holiday))
        .route("/holidays/{id}/delete", post(delete_holiday))
}

/// One weekday's row of the hours form.
struct DayRow {
    key: &'static str,
    label: &'static str,
    start: String,
    end: String,
    error: Option<String>,
}

struct TimeOffRow {
    id: i64,
    from: String,
    to: String,
    note: String,
}

#[derive(Template)]
#[template(path = "admin/availability.html")]
struct AvailabilityPage {
    page: Layout,
    member_id: i64,
    own: bool,
    who: String,
    available: bool,
    reason: Option<String>,
    back_at: Option<String>,
    away: bool,
    can_edit: bool,
    any_hour: bool,
    time_zone: String,
    days: Vec<DayRow>,
    zones: Vec<String>,
    time_off: Vec<TimeOffRow>,
    hours_errors: FormErrors,
    off_errors: FormErrors,
    off_from: String,
    off_to: String,
    off_note: String,
    /// One's own page: the zone one reads times in (X6), "" to follow the
    /// account's, and the zone in effect.
    pref_zone: String,
    effective_zone: String,
    pref_errors: FormErrors,
}

const LABELS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// What the forms show again after a refusal.
#[derive(Default)]
struct Typed<'a> {
    hours: Option<&'a Fields>,
    off: Option<&'a Fields>,
    pref: Option<(&'a Fields, FormErrors)>,
}

async fn own(who: SignedIn) -> Result<Response, UiError> {
    let me = who.caller.actor()?.member;
    Ok(see_other(&format!("/members/{}/availability", me.0), false))
}

async fn page(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, UiError> {
    show(
        &s,
        &who,
        MemberId(id),
        q.notice.as_deref(),
        StatusCode::OK,
        Typed::default(),
        FormErrors::default(),
        FormErrors::default(),
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn show(
    s: &AppState,
    who: &SignedIn,
    id: MemberId,
    notice: Option<&str>,
    status: StatusCode,
    typed: Typed<'_>,
    hours_errors: FormErrors,
    off_errors: FormErrors,
) -> Result<Response, UiError> {
    let me = who.caller.actor()?.member;
    let own = id == me;
    let path = if own { "/availability" } else { "/members" };
    let page = view::frame(s, who, "Availability", path, notice).await?;
    let now = av::availability(&s.app, &who.caller, id).await?;
    let schedule = av::schedule(&s.app, &who.caller, id).await?;
    let time_off = av::time_off(&s.app, &who.caller, id).await?;
    let (name, can_edit) = if own {
        (who.caller.name.clone(), true)
    } else {
        match members::get(&s.app, &who.caller, id).await {
            Ok(m) => {
                let can = page.may(Action::EditAvailability { target: &m.facts() });
                (m.name, can)
            }
            Err(AppError::Denied(_)) => ("This member".to_owned(), false),
            Err(e) => return Err(e.into()),
        }
    };
    let days = day_rows(schedule.as_ref(), typed.hours, &hours_errors);
    let any_hour = match typed.hours {
        Some(f) => f.has("any_hour"),
        None => schedule.is_none(),
    };
    let time_zone = match typed.hours {
        Some(f) => f.get("time_zone").to_owned(),
        None => schedule
            .as_ref()
            .map_or_else(|| "UTC".to_owned(), |s| s.zone.clone()),
    };
    let prefs = if own {
        Some(leadteam_app::me::preferences(&s.app, &who.caller).await?)
    } else {
        None
    };
    let (pref_zone, pref_errors) = match typed.pref {
        Some((f, e)) => (f.get("zone").to_owned(), e),
        None => (
            prefs
                .as_ref()
                .and_then(|p| p.time_zone.clone())
                .unwrap_or_default(),
            FormErrors::default(),
        ),
    };
    let body = AvailabilityPage {
        pref_zone,
        pref_errors,
        effective_zone: prefs.map(|p| p.effective_time_zone).unwrap_or_default(),
        member_id: id.0,
        own,
        who: name,
        available: now.now.is_ok(),
        reason: now.now.as_ref().err().map(|u| u.describe()),
        back_at: now.next.map(|t| view::when(t, &who.caller.time_zone)),
        away: now.away,
        can_edit,
        any_hour,
        time_zone,
        days,
        zones: if can_edit {
            leadteam_domain::availability::zone_names()
        } else {
            Vec::new()
        },
        time_off: time_off
            .into_iter()
            .map(|t| TimeOffRow {
                id: t.id,
                from: t.from_day,
                to: t.to_day,
                note: t.note,
            })
            .collect(),
        off_from: typed
            .off
            .map(|f| f.get("from").to_owned())
            .unwrap_or_default(),
        off_to: typed
            .off
            .map(|f| f.get("to").to_owned())
            .unwrap_or_default(),
        off_note: typed
            .off
            .map(|f| f.get("note").to_owned())
            .unwrap_or_default(),
        hours_errors,
        off_errors,
        page,
    };
    Ok(render(status, &body))
}

fn day_rows(
    schedule: Option<&Schedule>,
    typed: Option<&Fields>,
    errors: &FormErrors,
) -> Vec<DayRow> {
    WEEKDAYS
        .iter()
        .zip(LABELS)
        .enumerate()
        .map(|(i, (key, label))| {
            let (start, end) = match typed {
                Some(f) => (
                    f.get(&format!("{key}_start")).to_owned(),
                    f.get(&format!("{key}_end")).to_owned(),
                ),
                None => schedule
                    .and_then(|s| s.days[i].first())
                    .map(|sp| {
                        (
                            leadteam_domain::availability::Span::hhmm(sp.start),
                            leadteam_domain::availability::Span::hhmm(sp.end),
                        )
                    })
                    .unwrap_or_default(),
            };
            DayRow {
                key,
                label,
                start,
                end,
                error: errors.get(&format!("hours.{key}")).map(str::to_owned),
            }
        })
        .collect()
}

async fn set_away(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    let away = f.data.get("away") == "1";
    av::set_away(&s.app, &who.caller, MemberId(id), away).await?;
    let back = f.data.get("back");
    let notice = if away { "away_on" } else { "away_off" };
    let to = if back.starts_with('/') && !back.starts_with("//") {
        format!("{back}?notice={notice}")
    } else {
        format!("/members/{id}/availability?notice={notice}")
    };
    Ok(see_other(&to, f.htmx))
}

async fn set_schedule(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    let schedule = if f.data.has("any_hour") {
        Ok(None)
    } else {
        let hours: Vec<(String, Vec<(String, String)>)> = WEEKDAYS
            .iter()
            .map(|d| {
                let (a, b) = (
                    f.data.get(&format!("{d}_start")).trim().to_owned(),
                    f.data.get(&format!("{d}_end")).trim().to_owned(),
                );
                let spans = if a.is_empty() && b.is_empty() {
                    Vec::new()
                } else {
                    vec![(a, b)]
                };
                ((*d).to_owned(), spans)
            })
            .collect();
        Schedule::from_hours(f.data.get("time_zone"), &hours).map(Some)
    };
    let result = match schedule {
        Ok(sc) => av::set_schedule(&s.app, &who.caller, MemberId(id), sc)
            .await
            .map(|_| ()),
        Err(e) => Err(AppError::from(e)),
    };
    match result {
        Ok(()) => Ok(see_other(
            &format!("/members/{id}/availability?notice=hours_saved"),
            f.htmx,
        )),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[])?;
            let typed = Typed {
                hours: Some(&f.data),
                ..Typed::default()
            };
            show(
                &s,
                &who,
                MemberId(id),
                None,
                status,
                typed,
                errors,
                FormErrors::default(),
            )
            .await
        }
    }
}

async fn add_time_off(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    let d = &f.data;
    match av::add_time_off(
        &s.app,
        &who.caller,
        MemberId(id),
        d.get("from"),
        d.get("to"),
        d.get("note"),
    )
    .await
    {
        Ok(_) => Ok(see_other(
            &format!("/members/{id}/availability?notice=time_off_added"),
            f.htmx,
        )),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[])?;
            let typed = Typed {
                off: Some(&f.data),
                ..Typed::default()
            };
            show(
                &s,
                &who,
                MemberId(id),
                None,
                status,
                typed,
                FormErrors::default(),
                errors,
            )
            .await
        }
    }
}

async fn delete_time_off(
    State(s): State<AppState>,
    who: SignedIn,
    Path((id, entry)): Path<(i64, i64)>,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    av::delete_time_off(&s.app, &who.caller, MemberId(id), entry).await?;
    Ok(see_other(
        &format!("/members/{id}/availability?notice=time_off_removed"),
        f.htmx,
    ))
}

/// One's own time zone (X6): empty follows the account's.
async fn set_preferences(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    let zone = f.data.get("zone");
    let me = who.caller.actor()?.member;
    match leadteam_app::me::set_preferences(&s.app, &who.caller, Some(zone)).await {
        Ok(_) => Ok(see_other(
            &format!("/members/{}/availability?notice=zone_saved", me.0),
            f.htmx,
        )),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[("time_zone", "zone")])?;
            let typed = Typed {
                pref: Some((&f.data, errors)),
                ..Typed::default()
            };
            let none = FormErrors::default;
            show(&s, &who, me, None, status, typed, none(), none()).await
        }
    }
}

struct HolidayRow {
    id: i64,
    day: String,
    name: String,
}

#[derive(Template)]
#[template(path = "admin/holidays.html")]
struct HolidaysPage {
    page: Layout,
    rows: Vec<HolidayRow>,
    can_manage: bool,
    errors: FormErrors,
    day: String,
    holiday_name: String,
}

async fn holidays_page(
    s: &AppState,
    who: &SignedIn,
    notice: Option<&str>,
    status: StatusCode,
    typed: Option<&Fields>,
    errors: FormErrors,
) -> Result<Response, UiError> {
    let page = view::frame(s, who, "Holidays", "/availability", notice).await?;
    let rows = av::holidays(&s.app, &who.caller)
        .await?
        .into_iter()
        .map(|h| HolidayRow {
            id: h.id,
            day: h.day,
            name: h.name,
        })
        .collect();
    let body = HolidaysPage {
        rows,
        can_manage: page.may(Action::ManageHolidays),
        errors,
        day: typed.map(|f| f.get("day").to_owned()).unwrap_or_default(),
        holiday_name: typed.map(|f| f.get("name").to_owned()).unwrap_or_default(),
        page,
    };
    Ok(render(status, &body))
}

async fn holidays(
    State(s): State<AppState>,
    who: SignedIn,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, UiError> {
    holidays_page(
        &s,
        &who,
        q.notice.as_deref(),
        StatusCode::OK,
        None,
        FormErrors::default(),
    )
    .await
}

async fn add_holiday(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    match av::add_holiday(&s.app, &who.caller, f.data.get("day"), f.data.get("name")).await {
        Ok(_) => Ok(see_other("/holidays?notice=holiday_added", f.htmx)),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[])?;
            holidays_page(&s, &who, None, status, Some(&f.data), errors).await
        }
    }
}

async fn delete_holiday(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    av::delete_holiday(&s.app, &who.caller, id).await?;
    Ok(see_other("/holidays?notice=holiday_removed", f.htmx))
}
