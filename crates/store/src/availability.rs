//! What makes a member available (A8): its working hours (a weekly
//! schedule in its time zone, JSON), its time off, its away switch; and the
//! account's holidays. Routing reads them in one query per batch
//! ([`crate::rules::candidates`]); these are the reads and writes of the
//! pages and the API.

use crate::db::Conn;
use crate::error::StoreError;
use crate::flag;
use leadteam_domain::{AccountId, MemberId, Timestamp};
use sqlx::Row;

/// The working hours of a member (JSON of `availability::Schedule`), if set.
pub async fn schedule(c: &mut Conn, member: MemberId) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT schedule_json FROM member_schedules WHERE member_id = $1")
            .bind(member.0)
            .fetch_optional(c)
            .await?,
    )
}

/// Sets a member's working hours, or removes them (`None`: available at
/// any hour).
pub async fn set_schedule(
    c: &mut Conn,
    account: AccountId,
    member: MemberId,
    json: Option<&str>,
    now: Timestamp,
) -> Result<(), StoreError> {
    match json {
        Some(j) => {
            sqlx::query(
                "INSERT INTO member_schedules (member_id, account_id, schedule_json, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (member_id) DO UPDATE SET schedule_json = excluded.schedule_json, updated_at = excluded.updated_at",
            )
            .bind(member.0)
            .bind(account.0)
            .bind(j)
            .bind(now.0)
            .execute(c)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM member_schedules WHERE member_id = $1")
                .bind(member.0)
                .execute(c)
                .await?;
        }
    }
    Ok(())
}

/// One range of time off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeOffRow {
    pub id: i64,
    pub member: MemberId,
    /// First and last day, both included, `YYYY-MM-DD`.
    pub from_day: String,
    pub to_day: String,
    pub note: String,
    pub created_by: Option<MemberId>,
    pub created_at: Timestamp,
}

fn time_off_row(r: &sqlx::any::AnyRow) -> Result<TimeOffRow, StoreError> {
    Ok(TimeOffRow {
        id: r.try_get("id")?,
        member: MemberId(r.try_get("member_id")?),
        from_day: r.try_get("from_day")?,
        to_day: r.try_get("to_day")?,
        note: r.try_get("note")?,
        created_by: r.try_get::<Option<i64>, _>("created_by")?.map(MemberId),
        created_at: Timestamp(r.try_get("created_at")?),
    })
}

/// A member's time off that ends on or after `from_day`, soonest first.
pub async fn time_off(
    c: &mut Conn,
    member: MemberId,
    from_day: &str,
) -> Result<Vec<TimeOffRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, member_id, from_day, to_day, note, created_by, created_at FROM time_off \
         WHERE member_id = $1 AND to_day >= $2 ORDER BY from_day, id",
    )
    .bind(member.0)
    .bind(from_day)
    .fetch_all(c)
    .await?;
    rows.iter().map(time_off_row).collect()
}

/// Adds a range of time off; its id.
pub async fn add_time_off(
    c: &mut Conn,
    account: AccountId,
    row: &TimeOffRow,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO time_off (account_id, member_id, from_day, to_day, note, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(account.0)
    .bind(row.member.0)
    .bind(row.from_day.as_str())
    .bind(row.to_day.as_str())
    .bind(row.note.as_str())
    .bind(row.created_by.map(|m| m.0))
    .bind(row.created_at.0)
    .fetch_one(c)
    .await?)
}

/// Removes a range of time off of `member`; the row it removed.
pub async fn delete_time_off(
    c: &mut Conn,
    member: MemberId,
    id: i64,
) -> Result<Option<TimeOffRow>, StoreError> {
    let row = sqlx::query(
        "DELETE FROM time_off WHERE id = $1 AND member_id = $2 \
         RETURNING id, member_id, from_day, to_day, note, created_by, created_at",
    )
    .bind(id)
    .bind(member.0)
    .fetch_optional(c)
    .await?;
    row.as_ref().map(time_off_row).transpose()
}

/// A member's away switch and who set it.
pub async fn away(c: &mut Conn, member: MemberId) -> Result<(bool, Option<MemberId>), StoreError> {
    let row = sqlx::query("SELECT away, away_set_by FROM members WHERE id = $1")
        .bind(member.0)
        .fetch_optional(c)
        .await?;
    match row {
        Some(r) => Ok((
            flag(r.try_get("away")?),
            r.try_get::<Option<i64>, _>("away_set_by")?.map(MemberId),
        )),
        None => Ok((false, None)),
    }
}

/// Turns a member's away switch on or off, saying who did.
pub async fn set_away(
    c: &mut Conn,
    member: MemberId,
    away: bool,
    by: MemberId,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE members SET away = $2, away_set_by = $3 WHERE id = $1")
        .bind(member.0)
        .bind(i64::from(away))
        .bind(by.0)
        .execute(c)
        .await?;
    Ok(())
}

/// One of the account's holidays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayRow {
    pub id: i64,
    /// `YYYY-MM-DD`.
    pub day: String,
    pub name: String,
}

fn holiday_row(r: &sqlx::any::AnyRow) -> Result<HolidayRow, StoreError> {
    Ok(HolidayRow {
        id: r.try_get("id")?,
        day: r.try_get("day")?,
        name: r.try_get("name")?,
    })
}

/// The account's holidays on or after `from_day`.
pub async fn holidays(
    c: &mut Conn,
    account: AccountId,
    from_day: &str,
) -> Result<Vec<HolidayRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, day, name FROM holidays WHERE account_id = $1 AND day >= $2 ORDER BY day",
    )
    .bind(account.0)
    .bind(from_day)
    .fetch_all(c)
    .await?;
    rows.iter().map(holiday_row).collect()
}

/// Adds a holiday (one per day: a second on the same day is a unique
/// violation on `day`).
pub async fn add_holiday(
    c: &mut Conn,
    account: AccountId,
    day: &str,
    name: &str,
    now: Timestamp,
) -> Result<HolidayRow, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO holidays (account_id, day, name, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(account.0)
    .bind(day)
    .bind(name)
    .bind(now.0)
    .fetch_one(c)
    .await?;
    Ok(HolidayRow {
        id,
        day: day.to_owned(),
        name: name.to_owned(),
    })
}

/// Removes a holiday of the account; the row it removed.
pub async fn delete_holiday(
    c: &mut Conn,
    account: AccountId,
    id: i64,
) -> Result<Option<HolidayRow>, StoreError> {
    let row = sqlx::query(
        "DELETE FROM holidays WHERE id = $1 AND account_id = $2 RETURNING id, day, name",
    )
    .bind(id)
    .bind(account.0)
    .fetch_optional(c)
    .await?;
    row.as_ref().map(holiday_row).transpose()
}
