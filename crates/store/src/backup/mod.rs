//! Engine-neutral backups (issue 16): every table of the schema, read from
//! one consistent snapshot ([`crate::Db::snapshot`]) as rows of JSON values,
//! and loaded back into either engine with the same ids (X4).
//!
//! The tables are found in the database's own catalog, so a table added by
//! a later migration is backed up without a change here, and listed parents
//! first (by their foreign keys), so a restore inserts them in that order.
//! Values are JSON: integers and reals as numbers, text as strings, blobs as
//! `{"hex": "..."}`, booleans as booleans, NULL as null.

mod load;

pub use load::{delete_all, finish_restore, insert_rows, prepare_restore, set_id_floor};

use crate::db::{Conn, Engine};
use crate::error::StoreError;
use futures::StreamExt;
use serde_json::Value;
use sqlx::{AssertSqlSafe, Row};

/// The kind of a column's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Real,
    Text,
    Blob,
    Bool,
}

impl Kind {
    /// The kind of a declared type (SQLite) or data type (PostgreSQL).
    fn of(declared: &str) -> Kind {
        let t = declared.to_ascii_uppercase();
        if t.contains("BOOL") {
            Kind::Bool
        } else if t.contains("INT") {
            Kind::Int
        } else if t.contains("REAL")
            || t.contains("FLOA")
            || t.contains("DOUB")
            || t.contains("NUMERIC")
        {
            Kind::Real
        } else if t.contains("BLOB") || t.contains("BYTEA") {
            Kind::Blob
        } else {
            Kind::Text
        }
    }
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
}

/// One table of the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    /// Its ids come from a counter that must never hand one out twice
    /// (an `id` column: SQLite `AUTOINCREMENT`, PostgreSQL identity).
    pub has_ids: bool,
    /// Tables it refers to (foreign keys).
    pub parents: Vec<String>,
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The tables of the schema (not the migrator's own), parents first.
pub async fn tables(c: &mut Conn) -> Result<Vec<Table>, StoreError> {
    let engine = Engine::of(c);
    let names: Vec<String> = sqlx::query_scalar(match engine {
        Engine::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
             AND name <> '_sqlx_migrations' ORDER BY name"
        }
        Engine::Postgres => {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() \
             AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations' ORDER BY table_name"
        }
    })
    .fetch_all(&mut *c)
    .await?;
    let mut found = Vec::with_capacity(names.len());
    for name in names {
        let cols: Vec<(String, String)> = sqlx::query_as(match engine {
            Engine::Sqlite => "SELECT name, type FROM pragma_table_info($1) ORDER BY cid",
            Engine::Postgres => {
                "SELECT column_name::text, data_type::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position"
            }
        })
        .bind(&name)
        .fetch_all(&mut *c)
        .await?;
        let mut parents: Vec<String> = sqlx::query_scalar(match engine {
            Engine::Sqlite => "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list($1)",
            Engine::Postgres => {
                "SELECT DISTINCT ccu.table_name::text FROM information_schema.table_constraints tc \
                 JOIN information_schema.constraint_column_usage ccu \
                   ON ccu.constraint_schema = tc.constraint_schema AND ccu.constraint_name = tc.constraint_name \
                 WHERE tc.table_schema = current_schema() AND tc.table_name = $1 \
                   AND tc.constraint_type = 'FOREIGN KEY'"
            }
        })
        .bind(&name)
        .fetch_all(&mut *c)
        .await?;
        parents.retain(|p| p != &name);
        parents.sort();
        let columns: Vec<Column> = cols
            .into_iter()
            .map(|(name, declared)| Column {
                kind: Kind::of(&declared),
                name,
            })
            .collect();
        let has_ids = columns
            .iter()
            .any(|col| col.name == "id" && col.kind == Kind::Int);
        found.push(Table {
            name,
            columns,
            has_ids,
            parents,
        });
    }
    Ok(parents_first(found))
}

/// Orders tables so that each comes after the tables it refers to (a
/// cycle, which the schema does not have, keeps the remaining order).
fn parents_first(mut rest: Vec<Table>) -> Vec<Table> {
    let mut out: Vec<Table> = Vec::with_capacity(rest.len());
    while !rest.is_empty() {
        let ready = rest.iter().position(|t| {
            t.parents
                .iter()
                .all(|p| out.iter().any(|o| &o.name == p) || !rest.iter().any(|r| &r.name == p))
        });
        let i = ready.unwrap_or(0);
        out.push(rest.remove(i));
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A column's value of one row as JSON.
fn value(row: &sqlx::any::AnyRow, i: usize, kind: Kind) -> Result<Value, StoreError> {
    Ok(match kind {
        Kind::Int => row
            .try_get::<Option<i64>, _>(i)?
            .map_or(Value::Null, Value::from),
        Kind::Real => row
            .try_get::<Option<f64>, _>(i)?
            .map_or(Value::Null, Value::from),
        Kind::Text => row
            .try_get::<Option<String>, _>(i)?
            .map_or(Value::Null, Value::from),
        Kind::Bool => row
            .try_get::<Option<bool>, _>(i)?
            .map_or(Value::Null, Value::from),
        Kind::Blob => row
            .try_get::<Option<Vec<u8>>, _>(i)?
            .map_or(Value::Null, |b| serde_json::json!({ "hex": hex(&b) })),
    })
}

/// Reads every row of `table` (by id, else by every column), passing each
/// to `out` as one JSON value per column; answers how many rows.
pub async fn dump(
    c: &mut Conn,
    table: &Table,
    out: &mut (dyn FnMut(Vec<Value>) -> std::io::Result<()> + Send),
) -> Result<u64, StoreError> {
    let cols: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
    let order = if table.has_ids {
        "\"id\"".to_owned()
    } else {
        (1..=cols.len())
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let sql = format!(
        "SELECT {} FROM {} ORDER BY {order}",
        cols.join(", "),
        quote(&table.name)
    );
    let mut rows = sqlx::query(AssertSqlSafe(sql)).fetch(&mut *c);
    let mut n = 0;
    while let Some(row) = rows.next().await {
        let row = row?;
        let mut values = Vec::with_capacity(table.columns.len());
        for (i, col) in table.columns.iter().enumerate() {
            values.push(value(&row, i, col.kind)?);
        }
        out(values).map_err(|e| StoreError::Config(format!("writing the backup: {e}")))?;
        n += 1;
    }
    Ok(n)
}

/// The highest id `table`'s counter has handed out (0: none), deleted rows
/// included: what a restore must never hand out again.
pub async fn id_floor(c: &mut Conn, table: &Table) -> Result<i64, StoreError> {
    if !table.has_ids {
        return Ok(0);
    }
    let counter: Option<i64> = match Engine::of(c) {
        Engine::Sqlite => {
            sqlx::query_scalar("SELECT seq FROM sqlite_sequence WHERE name = $1")
                .bind(&table.name)
                .fetch_optional(&mut *c)
                .await?
        }
        Engine::Postgres => {
            sqlx::query_scalar(
                "SELECT pg_sequence_last_value(pg_get_serial_sequence($1, 'id')::regclass)",
            )
            .bind(&table.name)
            .fetch_one(&mut *c)
            .await?
        }
    };
    let max: Option<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT MAX(\"id\") FROM {}",
        quote(&table.name)
    )))
    .fetch_one(&mut *c)
    .await?;
    Ok(counter.unwrap_or(0).max(max.unwrap_or(0)))
}

/// Whether `table` holds any row.
pub async fn has_rows(c: &mut Conn, table: &Table) -> Result<bool, StoreError> {
    let one: Option<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT 1 FROM {} LIMIT 1",
        quote(&table.name)
    )))
    .fetch_optional(&mut *c)
    .await?;
    Ok(one.is_some())
}

/// The uploaded files the snapshot's rows name: (account, content id) of
/// each content item with a file (`<data_dir>/content/<account>/<id>`).
pub async fn content_files(c: &mut Conn) -> Result<Vec<(i64, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT account_id, id FROM content_items WHERE file_name IS NOT NULL ORDER BY id",
    )
    .fetch_all(c)
    .await?)
}
