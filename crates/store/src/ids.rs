//! Ids drawn ahead of a bulk insert, so that each row is written with its
//! id and nothing depends on the order in which an engine numbers the rows
//! of a multi-row INSERT. Drawn ids are never given twice (X4): PostgreSQL
//! takes them from the table's identity sequence; SQLite, where the write
//! transaction holds the one write lock, moves the table's `AUTOINCREMENT`
//! counter past them.

use crate::db::{Conn, Engine};
use crate::error::StoreError;

/// The tables whose ids are drawn ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Clients,
    WebhookEvents,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Clients => "clients",
            Table::WebhookEvents => "webhook_events",
        }
    }
}

/// `n` fresh ids of `table`, in ascending order, inside the caller's write
/// transaction.
pub async fn allocate(c: &mut Conn, table: Table, n: usize) -> Result<Vec<i64>, StoreError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let count = i64::try_from(n).unwrap_or(i64::MAX);
    match Engine::of(c) {
        Engine::Postgres => Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT nextval(pg_get_serial_sequence('{}', 'id')) FROM generate_series(1, $1::BIGINT)",
            table.name()
        )))
        .bind(count)
        .fetch_all(c)
        .await?),
        Engine::Sqlite => {
            // AUTOINCREMENT keeps the largest id ever given in
            // `sqlite_sequence` (every table has its row since migration
            // 0011): move it past the ids drawn.
            let name = table.name();
            let bump = "UPDATE sqlite_sequence SET seq = seq + $2 WHERE name = $1 RETURNING seq";
            let mut last: Option<i64> = sqlx::query_scalar(bump)
                .bind(name)
                .bind(count)
                .fetch_optional(&mut *c)
                .await?;
            if last.is_none() {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO sqlite_sequence (name, seq) SELECT $1, COALESCE(MAX(id), 0) FROM {name}"
                )))
                .bind(name)
                .execute(&mut *c)
                .await?;
                last = sqlx::query_scalar(bump)
                    .bind(name)
                    .bind(count)
                    .fetch_optional(&mut *c)
                    .await?;
            }
            let last = last.unwrap_or(count);
            Ok((last - count + 1..=last).collect())
        }
    }
}
