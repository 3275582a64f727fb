//! Sign-in failure counters, shared by every node through the database.

use crate::db::Conn;
use crate::error::StoreError;
use leadteam_domain::Timestamp;
use sqlx::Row;

#[derive(Debug, Clone, Copy, Default)]
pub struct ThrottleState {
    pub failures: i64,
    pub locked_until: Option<Timestamp>,
}

pub async fn get(
    c: &mut Conn,
    key: &str,
    now: Timestamp,
    window_ms: i64,
) -> Result<ThrottleState, StoreError> {
    let row = sqlx::query(
        "SELECT failures, window_started_at, locked_until FROM signin_throttle WHERE key = $1",
    )
    .bind(key)
    .fetch_optional(c)
    .await?;
    let Some(r) = row else {
        return Ok(ThrottleState::default());
    };
    let started: i64 = r.try_get("window_started_at")?;
    let locked: Option<i64> = r.try_get("locked_until")?;
    let locked_until = locked.filter(|l| *l > now.0).map(Timestamp);
    let failures = if now.0 - started > window_ms && locked_until.is_none() {
        0
    } else {
        r.try_get("failures")?
    };
    Ok(ThrottleState {
        failures,
        locked_until,
    })
}

/// Counts one failure atomically and returns the new count; the window
/// restarts when the previous one is over.
pub async fn record_failure(
    c: &mut Conn,
    key: &str,
    now: Timestamp,
    window_ms: i64,
) -> Result<i64, StoreError> {
    let failures: i64 = sqlx::query_scalar(
        "INSERT INTO signin_throttle (key, failures, window_started_at) VALUES ($1, 1, $2) \
         ON CONFLICT (key) DO UPDATE SET \
           failures = CASE WHEN $2 - signin_throttle.window_started_at > $3 THEN 1 ELSE signin_throttle.failures + 1 END, \
           window_started_at = CASE WHEN $2 - signin_throttle.window_started_at > $3 THEN $2 ELSE signin_throttle.window_started_at END \
         RETURNING failures",
    )
    .bind(key)
    .bind(now.0)
    .bind(window_ms)
    .fetch_one(c)
    .await?;
    Ok(failures)
}

pub async fn lock(c: &mut Conn, key: &str, until: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE signin_throttle SET locked_until = $1 WHERE key = $2")
        .bind(until.0)
        .bind(key)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn clear(c: &mut Conn, key: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM signin_throttle WHERE key = $1")
        .bind(key)
        .execute(c)
        .await?;
    Ok(())
}
