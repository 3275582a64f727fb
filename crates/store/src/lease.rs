//! Work queues taken by any node's worker under a lease: the rows due
//! (`done_at IS NULL`, `next_attempt_at` passed, no lease running) are
//! read, then leased (attempts counted, `locked_until` set) in one write
//! transaction; `FOR UPDATE SKIP LOCKED` on PostgreSQL, so two nodes never
//! take the same row. An idle poll reads only and takes no write lock.

use crate::db::{Db, Engine};
use crate::error::StoreError;
use leadteam_domain::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

/// A queue table: its name, its key column (an integer) and the columns a
/// worker reads (the key and `attempts` among them).
pub(crate) struct Queue {
    pub table: &'static str,
    pub key: &'static str,
    pub columns: &'static str,
}

/// Takes up to `limit` due rows of `q` under a lease of `lease_ms`, each
/// read by `read` (`attempts` as it was before this one).
pub(crate) async fn take<T>(
    db: &Db,
    q: &Queue,
    (now, limit, lease_ms): (Timestamp, i64, i64),
    read: impl Fn(&AnyRow) -> Result<T, sqlx::Error>,
) -> Result<Vec<T>, StoreError> {
    let Queue {
        table,
        key,
        columns,
    } = q;
    let due = "done_at IS NULL AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until <= $1)";
    let mut c = db.conn().await?;
    let any: Option<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT {key} FROM {table} WHERE {due} LIMIT 1"
    )))
    .bind(now.0)
    .fetch_optional(&mut *c)
    .await?;
    drop(c);
    if any.is_none() {
        return Ok(Vec::new());
    }
    let mut tx = db.write().await?;
    let suffix = match Engine::of(&tx) {
        Engine::Sqlite => "",
        Engine::Postgres => " FOR UPDATE SKIP LOCKED",
    };
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {columns} FROM {table} WHERE {due} ORDER BY next_attempt_at, {key} LIMIT $2{suffix}"
    )))
    .bind(now.0)
    .bind(limit.max(1))
    .fetch_all(&mut *tx)
    .await?;
    for r in &rows {
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE {table} SET attempts = attempts + 1, locked_until = $2 WHERE {key} = $1"
        )))
        .bind(r.try_get::<i64, _>(*key)?)
        .bind(now.plus_millis(lease_ms).0)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(rows.iter().map(read).collect::<Result<_, _>>()?)
}
