//! Availability (A8): working hours, time off, the away switch, holidays.

use super::rfc3339;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, Authed};
use crate::registry::{Api, RouteSpec, Verb};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use leadteam_app::availability::{self as av, Availability, Holiday, TimeOff};
use leadteam_domain::MemberId;
use leadteam_domain::availability::Schedule;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(super) fn routes(api: Api) -> Api {
    api.add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/members/{id}/schedule",
            "availability",
            "A member's weekly working hours in its time zone (A8); one's own, or anyone's with team.view",
        )
        .returns::<ScheduleOut>(),
        get_schedule,
    )
    .add(
        RouteSpec::new(
            Verb::Put,
            "/api/v1/members/{id}/schedule",
            "availability",
            "Set a member's working hours and time zone, or clear them with \"hours\": null (works at any hour); one's own, or anyone's with members.manage",
        )
        .body::<ScheduleBody>()
        .returns::<ScheduleOut>(),
        put_schedule,
    )
    .add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/members/{id}/time-off",
            "availability",
            "A member's time off that is not over yet (A8)",
        )
        .returns::<TimeOffList>(),
        list_time_off,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/members/{id}/time-off",
            "availability",
            "Add time off: first and last day, both included (the member, or a manager with members.manage)",
        )
        .status(201)
        .body::<TimeOffBody>()
        .returns::<TimeOffOut>(),
        add_time_off,
    )
    .add(
        RouteSpec::new(
            Verb::Delete,
            "/api/v1/members/{id}/time-off/{entry_id}",
            "availability",
            "Remove a range of time off",
        )
        .status(204),
        delete_time_off,
    )
    .add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/members/{id}/availability",
            "availability",
            "Whether the member gets leads now, and if not why and until when (A8)",
        )
        .returns::<AvailabilityOut>(),
        get_availability,
    )
    .add(
        RouteSpec::new(
            Verb::Put,
            "/api/v1/members/{id}/availability",
            "availability",
            "Turn the away switch on or off (the member, or a manager overriding it)",
        )
        .body::<AwayBody>()
        .returns::<AvailabilityOut>(),
        put_availability,
    )
    .add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/holidays",
            "availability",
            "The account's holidays from today on (A8)",
        )
        .returns::<HolidayList>(),
        list_holidays,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/holidays",
            "availability",
            "Add a holiday: nobody gets leads automatically that day, in each member's zone (members.manage)",
        )
        .status(201)
        .body::<HolidayBody>()
        .returns::<HolidayOut>(),
        add_holiday,
    )
    .add(
        RouteSpec::new(
            Verb::Delete,
            "/api/v1/holidays/{id}",
            "availability",
            "Remove a holiday (members.manage)",
        )
        .status(204),
        delete_holiday,
    )
}

/// One span of working time, local to the member's zone.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpanBody {
    /// "09:00".
    pub start: String,
    /// "17:30" ("24:00": to midnight).
    pub end: String,
}

/// The working spans of each weekday; a day left out is not worked.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HoursBody {
    #[serde(default)]
    pub monday: Vec<SpanBody>,
    #[serde(default)]
    pub tuesday: Vec<SpanBody>,
    #[serde(default)]
    pub wednesday: Vec<SpanBody>,
    #[serde(default)]
    pub thursday: Vec<SpanBody>,
    #[serde(default)]
    pub friday: Vec<SpanBody>,
    #[serde(default)]
    pub saturday: Vec<SpanBody>,
    #[serde(default)]
    pub sunday: Vec<SpanBody>,
}

impl HoursBody {
    fn days(&self) -> [(&'static str, &Vec<SpanBody>); 7] {
        [
            ("monday", &self.monday),
            ("tuesday", &self.tuesday),
            ("wednesday", &self.wednesday),
            ("thursday", &self.thursday),
            ("friday", &self.friday),
            ("saturday", &self.saturday),
            ("sunday", &self.sunday),
        ]
    }

    fn of(s: &Schedule) -> HoursBody {
        let mut out = HoursBody::default();
        for (day, spans) in s.hours() {
            let list: Vec<SpanBody> = spans
                .into_iter()
                .map(|(start, end)| SpanBody { start, end })
                .collect();
            match day {
                "monday" => out.monday = list,
                "tuesday" => out.tuesday = list,
                "wednesday" => out.wednesday = list,
                "thursday" => out.thursday = list,
                "friday" => out.friday = list,
                "saturday" => out.saturday = list,
                _ => out.sunday = list,
            }
        }
        out
    }
}

/// Working hours to set.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    /// An IANA zone name ("Europe/Paris"); required with hours.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// The week's hours; null clears the schedule (works at any hour).
    pub hours: Option<HoursBody>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ScheduleOut {
    pub member_id: i64,
    /// Null when the member has no schedule (it works at any hour).
    pub time_zone: Option<String>,
    pub hours: Option<HoursBody>,
}

fn schedule_out(id: MemberId, s: Option<&Schedule>) -> ScheduleOut {
    ScheduleOut {
        member_id: id.0,
        time_zone: s.map(|s| s.zone.clone()),
        hours: s.map(HoursBody::of),
    }
}

async fn get_schedule(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ScheduleOut>, ApiError> {
    let sc = av::schedule(&s.app, &c, MemberId(id)).await?;
    Ok(Json(schedule_out(MemberId(id), sc.as_ref())))
}

async fn put_schedule(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ScheduleBody>,
) -> Result<Json<ScheduleOut>, ApiError> {
    let schedule = match &b.hours {
        None => None,
        Some(h) => {
            let hours: Vec<(String, Vec<(String, String)>)> = h
                .days()
                .iter()
                .map(|(d, spans)| {
                    (
                        (*d).to_owned(),
                        spans
                            .iter()
                            .map(|s| (s.start.clone(), s.end.clone()))
                            .collect(),
                    )
                })
                .collect();
            let zone = b.time_zone.as_deref().unwrap_or("");
            Some(Schedule::from_hours(zone, &hours).map_err(leadteam_app::AppError::from)?)
        }
    };
    let sc = av::set_schedule(&s.app, &c, MemberId(id), schedule).await?;
    Ok(Json(schedule_out(MemberId(id), sc.as_ref())))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeOffBody {
    /// The first day off, `YYYY-MM-DD`.
    pub from: String,
    /// The last day off, included.
    pub to: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TimeOffOut {
    pub id: i64,
    pub member_id: i64,
    pub from: String,
    pub to: String,
    pub note: String,
    /// Who entered it.
    pub created_by: Option<i64>,
    pub created_at: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TimeOffList {
    pub time_off: Vec<TimeOffOut>,
}

fn time_off_out(t: &TimeOff) -> TimeOffOut {
    TimeOffOut {
        id: t.id,
        member_id: t.member.0,
        from: t.from_day.clone(),
        to: t.to_day.clone(),
        note: t.note.clone(),
        created_by: t.created_by.map(|m| m.0),
        created_at: rfc3339(t.created_at),
    }
}

async fn list_time_off(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<TimeOffList>, ApiError> {
    let rows = av::time_off(&s.app, &c, MemberId(id)).await?;
    Ok(Json(TimeOffList {
        time_off: rows.iter().map(time_off_out).collect(),
    }))
}

async fn add_time_off(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<TimeOffBody>,
) -> Result<Response, ApiError> {
    let row = av::add_time_off(&s.app, &c, MemberId(id), &b.from, &b.to, &b.note).await?;
    Ok((StatusCode::CREATED, Json(time_off_out(&row))).into_response())
}

async fn delete_time_off(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath((id, entry)): ApiPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    av::delete_time_off(&s.app, &c, MemberId(id), entry).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwayBody {
    /// The away switch: no leads are given automatically while on.
    pub away: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AvailabilityOut {
    pub member_id: i64,
    /// Gets leads automatically now.
    pub available: bool,
    /// Why not, in words ("outside working hours (Asia/Kolkata)").
    pub reason: Option<String>,
    /// Why not, as a code: away, time_off, holiday, outside_hours, no_licence.
    pub unavailable: Option<String>,
    /// When it is available again, when that is known.
    pub back_at: Option<String>,
    pub away: bool,
    /// Who set the away switch last.
    pub away_set_by: Option<i64>,
}

pub(crate) fn availability_out(a: &Availability) -> AvailabilityOut {
    let (reason, code) = match &a.now {
        Ok(()) => (None, None),
        Err(u) => (
            Some(u.describe()),
            serde_json::to_value(u)
                .ok()
                .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_owned)),
        ),
    };
    AvailabilityOut {
        member_id: a.member.0,
        available: a.now.is_ok(),
        reason,
        unavailable: code,
        back_at: a.next.map(rfc3339),
        away: a.away,
        away_set_by: a.away_set_by.map(|m| m.0),
    }
}

async fn get_availability(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<AvailabilityOut>, ApiError> {
    let a = av::availability(&s.app, &c, MemberId(id)).await?;
    Ok(Json(availability_out(&a)))
}

async fn put_availability(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<AwayBody>,
) -> Result<Json<AvailabilityOut>, ApiError> {
    let a = av::set_away(&s.app, &c, MemberId(id), b.away).await?;
    Ok(Json(availability_out(&a)))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidayBody {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub name: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct HolidayOut {
    pub id: i64,
    pub day: String,
    pub name: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct HolidayList {
    pub holidays: Vec<HolidayOut>,
}

fn holiday_out(h: &Holiday) -> HolidayOut {
    HolidayOut {
        id: h.id,
        day: h.day.clone(),
        name: h.name.clone(),
    }
}

async fn list_holidays(
    State(s): State<AppState>,
    Authed(c): Authed,
) -> Result<Json<HolidayList>, ApiError> {
    let rows = av::holidays(&s.app, &c).await?;
    Ok(Json(HolidayList {
        holidays: rows.iter().map(holiday_out).collect(),
    }))
}

async fn add_holiday(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiJson(b): ApiJson<HolidayBody>,
) -> Result<Response, ApiError> {
    let h = av::add_holiday(&s.app, &c, &b.day, &b.name).await?;
    Ok((StatusCode::CREATED, Json(holiday_out(&h))).into_response())
}

async fn delete_holiday(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    av::delete_holiday(&s.app, &c, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
