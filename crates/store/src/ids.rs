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
    Notifications,
    SourceDeliveries,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Clients => "clients",
            Table::WebhookEvents => "webhook_events",
            Table::Notifications => "notifications",
            Table::SourceDeliveries => "source_deliveries",
        }
    }
}

/// `n` fresh ids of `table`, in ascending order, inside the caller's write
/// transaction.
pub async fn allocate(c: &mut Conn, table: Table, n: usize) -> Result<Vec<i64>, StoreError> {
    Ok(allocate_many(c, &[(table, n)])
        .await?
        .pop()
        .unwrap_or_default())
}

/// Fresh ids of several tables at once (one statement): for each `(table,
/// n)`, `n` ids in ascending order, in the order asked, inside the
/// caller's write transaction. Each table is named once.
pub async fn allocate_many(
    c: &mut Conn,
    wanted: &[(Table, usize)],
) -> Result<Vec<Vec<i64>>, StoreError> {
    debug_assert!(
        wanted
            .iter()
            .enumerate()
            .all(|(i, (t, _))| wanted[..i].iter().all(|(u, _)| u != t)),
        "a table named twice"
    );
    let mut out: Vec<Vec<i64>> = vec![Vec::new(); wanted.len()];
    let asked: Vec<(usize, Table, i64)> = wanted
        .iter()
        .enumerate()
        .filter(|(_, (_, n))| *n > 0)
        .map(|(i, (t, n))| (i, *t, i64::try_from(*n).unwrap_or(i64::MAX)))
        .collect();
    if asked.is_empty() {
        return Ok(out);
    }
    match Engine::of(c) {
        Engine::Postgres => {
            // Each table's identity sequence, `n` times; the rows tagged
            // with the position asked.
            let sql = asked
                .iter()
                .enumerate()
                .map(|(p, (i, t, _))| {
                    format!(
                        "SELECT {i}::BIGINT AS t, nextval(pg_get_serial_sequence('{}', 'id')) AS id \
                         FROM generate_series(1, ${}::BIGINT)",
                        t.name(),
                        p + 1
                    )
                })
                .collect::<Vec<_>>()
                .join(" UNION ALL ");
            let mut q = sqlx::query_as::<_, (i64, i64)>(sqlx::AssertSqlSafe(sql));
            for (_, _, n) in &asked {
                q = q.bind(*n);
            }
            for (t, id) in q.fetch_all(&mut *c).await? {
                if let Some(ids) = usize::try_from(t).ok().and_then(|t| out.get_mut(t)) {
                    ids.push(id);
                }
            }
            for ids in &mut out {
                ids.sort_unstable();
            }
            Ok(out)
        }
        Engine::Sqlite => {
            // AUTOINCREMENT keeps the largest id ever given in
            // `sqlite_sequence` (every table has its row since migration
            // 0011, or once it has had a row): move each past the ids
            // drawn.
            let mut last = bump(c, &asked).await?;
            let missing: Vec<(usize, Table, i64)> = asked
                .iter()
                .filter(|(_, t, _)| !last.contains_key(t.name()))
                .copied()
                .collect();
            if !missing.is_empty() {
                for (_, t, _) in &missing {
                    let name = t.name();
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "INSERT INTO sqlite_sequence (name, seq) SELECT ?, COALESCE(MAX(id), 0) FROM {name}"
                    )))
                    .bind(name)
                    .execute(&mut *c)
                    .await?;
                }
                last.extend(bump(c, &missing).await?);
            }
            for (i, t, n) in &asked {
                let top = last.get(t.name()).copied().unwrap_or(*n);
                out[*i] = (top - n + 1..=top).collect();
            }
            Ok(out)
        }
    }
}

/// Ids drawn ahead of a transaction's locks and taken as they are needed
/// (issue 19: a lead batch draws what it can need before it locks the
/// round-robin counters, so the statement is not one more round trip that
/// every other writer waits on). Ids drawn and not taken are never written:
/// they stay gaps, never given again (X4).
#[derive(Debug, Default)]
pub struct Drawn {
    tables: Vec<(Table, Vec<i64>)>,
}

impl Drawn {
    /// Draws `wanted` (each table named once) in one statement.
    pub async fn draw(c: &mut Conn, wanted: &[(Table, usize)]) -> Result<Drawn, StoreError> {
        let drawn = allocate_many(c, wanted).await?;
        Ok(Drawn {
            tables: wanted.iter().map(|(t, _)| *t).zip(drawn).collect(),
        })
    }

    /// `n` ids of `table` in ascending order: the first of those drawn
    /// ahead, and when they are too few the rest drawn now. Each table is
    /// taken once: what it leaves of those drawn ahead is not kept.
    pub async fn take(
        &mut self,
        c: &mut Conn,
        table: Table,
        n: usize,
    ) -> Result<Vec<i64>, StoreError> {
        let ahead = self
            .tables
            .iter_mut()
            .find(|(t, _)| *t == table)
            .map(|(_, ids)| std::mem::take(ids))
            .unwrap_or_default();
        if ahead.len() >= n {
            return Ok(ahead.into_iter().take(n).collect());
        }
        let mut out = ahead;
        out.extend(allocate(c, table, n - out.len()).await?);
        Ok(out)
    }
}

/// SQLite: moves each table's counter past its `n` ids; gives the new
/// counters of the tables that have one.
async fn bump(
    c: &mut Conn,
    asked: &[(usize, Table, i64)],
) -> Result<std::collections::HashMap<String, i64>, StoreError> {
    let cases: String = asked
        .iter()
        .map(|(_, t, _)| format!(" WHEN '{}' THEN ?", t.name()))
        .collect();
    let names: Vec<String> = asked
        .iter()
        .map(|(_, t, _)| format!("'{}'", t.name()))
        .collect();
    let sql = format!(
        "UPDATE sqlite_sequence SET seq = seq + CASE name{cases} END WHERE name IN ({}) RETURNING name, seq",
        names.join(", ")
    );
    let mut q = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql));
    for (_, _, n) in asked {
        q = q.bind(*n);
    }
    Ok(q.fetch_all(&mut *c).await?.into_iter().collect())
}
