//! Events across server nodes on PostgreSQL: `pg_notify` and `LISTEN`.

use crate::db::Db;
use crate::error::StoreError;

/// Sends `payload` on `channel` (PostgreSQL only; at most 8000 bytes).
pub async fn notify(db: &Db, channel: &str, payload: &str) -> Result<(), StoreError> {
    let mut c = db.conn().await?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(channel)
        .bind(payload)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Sends each of `payloads` on `channel` in one statement (one round trip
/// however many there are; each at most 8000 bytes).
pub async fn notify_all(db: &Db, channel: &str, payloads: &[String]) -> Result<(), StoreError> {
    if payloads.is_empty() {
        return Ok(());
    }
    let calls: Vec<String> = (0..payloads.len())
        .map(|i| format!("pg_notify($1, ${})", i + 2))
        .collect();
    let sql = format!("SELECT {}", calls.join(", "));
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(channel);
    for p in payloads {
        q = q.bind(p.as_str());
    }
    let mut c = db.conn().await?;
    q.execute(&mut *c).await?;
    Ok(())
}

/// A connection that `LISTEN`s on one channel.
pub struct Listener(sqlx::postgres::PgListener);

impl Listener {
    pub async fn connect(url: &str, channel: &str) -> Result<Listener, StoreError> {
        let mut l = sqlx::postgres::PgListener::connect(url).await?;
        l.listen(channel).await?;
        Ok(Listener(l))
    }

    /// The next payload; `None` once after the connection dropped (the
    /// next call reconnects): notifications sent meanwhile are lost.
    pub async fn recv(&mut self) -> Result<Option<String>, StoreError> {
        Ok(self.0.try_recv().await?.map(|n| n.payload().to_owned()))
    }
}
