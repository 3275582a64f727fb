//! Figures read at every scrape of `/metrics`, each from a small partial
//! index (migration 0030): the unassigned backlog and the outbox queue.

use crate::db::Conn;
use crate::error::StoreError;
use crate::outbox::GAVE_UP;
use leadteam_domain::Timestamp;

/// The backlog and the queue, as of one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Gauges {
    /// Clients without an assignee, in every account.
    pub unassigned: i64,
    /// Age (ms) of the oldest of them; 0 when there is none.
    pub unassigned_oldest_ms: i64,
    /// Messages of the outbox not sent yet and not given up.
    pub outbox_pending: i64,
    /// Age (ms) of the oldest of them; 0 when there is none.
    pub outbox_oldest_ms: i64,
    /// Messages the outbox gave up on (kept with their last error).
    pub outbox_gave_up: i64,
}

pub async fn gauges(c: &mut Conn, now: Timestamp) -> Result<Gauges, StoreError> {
    let (unassigned, oldest): (i64, Option<i64>) =
        sqlx::query_as("SELECT COUNT(*), MIN(created_at) FROM clients WHERE assignee_id IS NULL")
            .fetch_one(&mut *c)
            .await?;
    let (pending, queued, gave_up): (i64, Option<i64>, i64) = sqlx::query_as(
        "SELECT COUNT(*) FILTER (WHERE next_attempt_at < $1), \
                MIN(created_at) FILTER (WHERE next_attempt_at < $1), \
                COUNT(*) FILTER (WHERE next_attempt_at >= $1) \
         FROM outbox WHERE sent_at IS NULL",
    )
    .bind(GAVE_UP.0)
    .fetch_one(&mut *c)
    .await?;
    let age = |t: Option<i64>| t.map_or(0, |t| (now.0 - t).max(0));
    Ok(Gauges {
        unassigned,
        unassigned_oldest_ms: age(oldest),
        outbox_pending: pending,
        outbox_oldest_ms: age(queued),
        outbox_gave_up: gave_up,
    })
}
