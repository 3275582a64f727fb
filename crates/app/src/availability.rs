//! Availability (A8): a member's working hours, time off and away switch,
//! the account's holidays, and "available now, and if not, why". Each
//! change may free someone up, so the backlog drains at once (A11).
//!
//! Who may: one's own, always; anyone's to see with `team.view`, to change
//! with `members.manage` (the owner's only by itself); holidays with
//! `members.manage` (see `Action::{ViewAvailability, EditAvailability,
//! ManageHolidays}`).

use crate::App;
use crate::auth::Caller;
use crate::error::AppError;
use crate::router;
use crate::trail::{self, By};
use leadteam_domain::authz::Action;
use leadteam_domain::availability::{self, Schedule, Unavailable};
use leadteam_domain::{FieldError, MemberId, Timestamp, ValidationErrors};
use leadteam_store::availability::{self as store, HolidayRow, TimeOffRow};
use leadteam_store::members::{self, MemberRow};
use leadteam_store::{Conn, Lock};
use serde_json::json;

pub use leadteam_store::availability::{HolidayRow as Holiday, TimeOffRow as TimeOff};

/// Whether a member may get leads now (A8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    pub member: MemberId,
    /// The away switch, and who turned it on or off last.
    pub away: bool,
    pub away_set_by: Option<MemberId>,
    /// `Ok` when available now; else why not.
    pub now: Result<(), Unavailable>,
    /// When it is next available, when it is not now and that is known
    /// (hours, time off, holidays; not the away switch).
    pub next: Option<Timestamp>,
}

async fn member_of(
    conn: &mut Conn,
    caller: &Caller,
    id: MemberId,
    lock: Lock,
) -> Result<MemberRow, AppError> {
    let actor = caller.actor()?;
    members::get(conn, actor.account, id, lock)
        .await?
        .ok_or(AppError::NotFound("member"))
}

async fn may_view(conn: &mut Conn, caller: &Caller, id: MemberId) -> Result<MemberRow, AppError> {
    let m = member_of(conn, caller, id, Lock::None).await?;
    caller.may(&Action::ViewAvailability {
        target_is_self: caller.actor()?.member == id,
    })?;
    Ok(m)
}

async fn may_edit(conn: &mut Conn, caller: &Caller, id: MemberId) -> Result<MemberRow, AppError> {
    let m = member_of(conn, caller, id, Lock::ForUpdate).await?;
    caller.may(&Action::EditAvailability { target: &m.facts() })?;
    Ok(m)
}

/// Today in the zone the member's days are counted in, `YYYY-MM-DD`.
fn today_of(schedule: Option<&Schedule>, now: Timestamp) -> String {
    let zone = schedule
        .and_then(|s| jiff::tz::TimeZone::get(&s.zone).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::from_millisecond(now.0)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(zone)
        .date()
        .to_string()
}

fn parse_schedule(json: Option<String>) -> Option<Schedule> {
    json.and_then(|j| serde_json::from_str(&j).ok())
}

/// A member's working hours; `None`: it works at any hour.
pub async fn schedule(
    app: &App,
    caller: &Caller,
    id: MemberId,
) -> Result<Option<Schedule>, AppError> {
    let mut c = app.db.conn().await?;
    may_view(&mut c, caller, id).await?;
    Ok(parse_schedule(store::schedule(&mut c, id).await?))
}

/// Sets a member's working hours (`None`: at any hour).
pub async fn set_schedule(
    app: &App,
    caller: &Caller,
    id: MemberId,
    schedule: Option<Schedule>,
) -> Result<Option<Schedule>, AppError> {
    if let Some(s) = &schedule {
        s.check()?;
    }
    let now = app.now();
    let mut tx = app.db.write().await?;
    let m = may_edit(&mut tx, caller, id).await?;
    let before = parse_schedule(store::schedule(&mut tx, id).await?);
    let json = schedule
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| AppError::Internal(crate::error::Fault::new("encoding a schedule", e)))?;
    store::set_schedule(&mut tx, m.account, id, json.as_deref(), now).await?;
    trail::record(
        &mut tx,
        caller,
        "member.schedule_set",
        "member",
        id.0,
        Some(json!({"schedule": before})),
        Some(json!({"schedule": schedule})),
        now,
    )
    .await?;
    tx.commit().await?;
    app.routing_changed(m.account);
    Ok(schedule)
}

/// A member's time off that is not over yet, soonest first.
pub async fn time_off(
    app: &App,
    caller: &Caller,
    id: MemberId,
) -> Result<Vec<TimeOffRow>, AppError> {
    let mut c = app.db.conn().await?;
    may_view(&mut c, caller, id).await?;
    let s = parse_schedule(store::schedule(&mut c, id).await?);
    let today = today_of(s.as_ref(), app.now());
    Ok(store::time_off(&mut c, id, &today).await?)
}

/// Adds time off from `from` to `to` (both included, `YYYY-MM-DD`).
pub async fn add_time_off(
    app: &App,
    caller: &Caller,
    id: MemberId,
    from: &str,
    to: &str,
    note: &str,
) -> Result<TimeOffRow, AppError> {
    let mut errs = ValidationErrors::default();
    let from_day = errs.take(availability::parse_day("from", from));
    let to_day = errs.take(availability::parse_day("to", to));
    if let (Some(a), Some(b)) = (from_day, to_day)
        && b < a
    {
        errs.push(FieldError::new("to", "must be on or after the first day"));
    }
    if note.chars().count() > 200 {
        errs.push(FieldError::new("note", "must be at most 200 characters"));
    }
    errs.into_result()?;
    let (Some(from_day), Some(to_day)) = (from_day, to_day) else {
        return Err(AppError::field("from", "is required"));
    };
    let actor = caller.actor()?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let m = may_edit(&mut tx, caller, id).await?;
    let mut row = TimeOffRow {
        id: 0,
        member: id,
        from_day: from_day.to_string(),
        to_day: to_day.to_string(),
        note: note.trim().to_owned(),
        created_by: Some(actor.member),
        created_at: now,
    };
    row.id = store::add_time_off(&mut tx, m.account, &row).await?;
    trail::record(
        &mut tx,
        caller,
        "member.time_off_added",
        "member",
        id.0,
        None,
        Some(json!({"time_off": row.id, "from": row.from_day, "to": row.to_day, "note": row.note})),
        now,
    )
    .await?;
    tx.commit().await?;
    // Time off that starts later changes nothing now; one that ends
    // earlier than another may; the worker re-checks either way.
    app.routing_changed(m.account);
    Ok(row)
}

/// Removes a range of time off of a member.
pub async fn delete_time_off(
    app: &App,
    caller: &Caller,
    id: MemberId,
    entry: i64,
) -> Result<(), AppError> {
    let now = app.now();
    let mut tx = app.db.write().await?;
    let m = may_edit(&mut tx, caller, id).await?;
    let gone = store::delete_time_off(&mut tx, id, entry)
        .await?
        .ok_or(AppError::NotFound("time off"))?;
    trail::record(
        &mut tx,
        caller,
        "member.time_off_removed",
        "member",
        id.0,
        Some(json!({"time_off": gone.id, "from": gone.from_day, "to": gone.to_day, "note": gone.note})),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    app.routing_changed(m.account);
    Ok(())
}

/// Whether a member is available now, and if not, why (A8).
pub async fn availability(
    app: &App,
    caller: &Caller,
    id: MemberId,
) -> Result<Availability, AppError> {
    let mut c = app.db.conn().await?;
    let m = may_view(&mut c, caller, id).await?;
    now_of(&mut c, &m, app.now()).await
}

async fn now_of(c: &mut Conn, m: &MemberRow, now: Timestamp) -> Result<Availability, AppError> {
    let (away, away_set_by) = store::away(c, m.id).await?;
    let (status, next) = router::availability_of(c, m.account, m.id, now).await?;
    Ok(Availability {
        member: m.id,
        away,
        away_set_by,
        now: status,
        next,
    })
}

/// Turns a member's away switch on or off: the member itself, or a manager
/// overriding it (A8).
pub async fn set_away(
    app: &App,
    caller: &Caller,
    id: MemberId,
    away: bool,
) -> Result<Availability, AppError> {
    let actor = caller.actor()?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let m = may_edit(&mut tx, caller, id).await?;
    let (before, _) = store::away(&mut tx, id).await?;
    store::set_away(&mut tx, id, away, actor.member).await?;
    if before != away {
        trail::record(
            &mut tx,
            caller,
            "member.away_set",
            "member",
            id.0,
            Some(json!({"away": before})),
            Some(json!({"away": away})),
            now,
        )
        .await?;
    }
    let out = now_of(&mut tx, &m, now).await?;
    tx.commit().await?;
    if before && !away {
        app.routing_changed(m.account);
    }
    Ok(out)
}

/// The account's holidays from today on (any member may see them: they
/// say when the team does not work).
pub async fn holidays(app: &App, caller: &Caller) -> Result<Vec<HolidayRow>, AppError> {
    let actor = caller.actor()?;
    let mut c = app.db.conn().await?;
    let today = today_of(None, app.now());
    // A day's holiday is still listed on its day in every zone.
    let yesterday = jiff::civil::Date::strptime("%Y-%m-%d", &today)
        .ok()
        .and_then(|d| d.yesterday().ok())
        .map_or(today, |d| d.to_string());
    Ok(store::holidays(&mut c, actor.account, &yesterday).await?)
}

/// Adds a holiday of the account (one per day).
pub async fn add_holiday(
    app: &App,
    caller: &Caller,
    day: &str,
    name: &str,
) -> Result<HolidayRow, AppError> {
    let actor = caller.may(&Action::ManageHolidays)?.clone();
    let mut errs = ValidationErrors::default();
    let day = errs.take(availability::parse_day("day", day));
    let name = name.trim();
    if name.is_empty() {
        errs.push(FieldError::new("name", "is required"));
    } else if name.chars().count() > 100 {
        errs.push(FieldError::new("name", "must be at most 100 characters"));
    }
    errs.into_result()?;
    let Some(day) = day else {
        return Err(AppError::field("day", "is required"));
    };
    let now = app.now();
    let mut tx = app.db.write().await?;
    let row = match store::add_holiday(&mut tx, actor.account, &day.to_string(), name, now).await {
        Ok(r) => r,
        Err(e) if e.is_unique_on("day") || e.is_unique_on("holidays") => {
            return Err(AppError::Conflict {
                message: format!("{day} is a holiday already"),
                field: Some("day".into()),
            });
        }
        Err(e) => return Err(e.into()),
    };
    trail::record(
        &mut tx,
        By::Actor(&actor),
        "holiday.added",
        "holiday",
        row.id,
        None,
        Some(json!({"day": row.day, "name": row.name})),
        now,
    )
    .await?;
    tx.commit().await?;
    app.routing_settings_changed(actor.account);
    Ok(row)
}

/// Removes a holiday of the account.
pub async fn delete_holiday(app: &App, caller: &Caller, id: i64) -> Result<(), AppError> {
    let actor = caller.may(&Action::ManageHolidays)?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let gone = store::delete_holiday(&mut tx, actor.account, id)
        .await?
        .ok_or(AppError::NotFound("holiday"))?;
    trail::record(
        &mut tx,
        By::Actor(&actor),
        "holiday.removed",
        "holiday",
        gone.id,
        Some(json!({"day": gone.day, "name": gone.name})),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    app.routing_settings_changed(actor.account);
    Ok(())
}
