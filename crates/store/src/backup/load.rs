//! Loading a backup: the target's schema brought to the backup's version,
//! its rows inserted with their ids, each id counter moved past every id the
//! backup's database ever handed out and every id its history names (X4),
//! then the remaining migrations.

use super::{Kind, Table, has_rows, id_floor, quote, tables};
use crate::db::{Conn, Db, Engine};
use crate::error::StoreError;
use serde_json::Value;
use sqlx::AssertSqlSafe;

/// Checks that the backup (taken at schema `versions`) can be restored into
/// `db`, and brings `db`'s schema to the backup's. A database holding rows
/// is refused unless `replace`: the restore's transaction then deletes them
/// first ([`delete_all`]); their ids are still never handed out again (the
/// highest of each table is returned and counts as a floor). Returns the
/// floors of the rows to be replaced, by table.
pub async fn prepare_restore(
    db: &Db,
    versions: &[i64],
    replace: bool,
) -> Result<Vec<(String, i64)>, StoreError> {
    let known = crate::migrate::known(db.engine());
    if let Some(v) = versions.iter().find(|v| !known.contains(v)) {
        return Err(StoreError::Config(format!(
            "the backup has migration {v}, which this binary does not know: it was made by a newer \
             leadteam; restore it with that version (or newer)"
        )));
    }
    let Some(&target) = versions.iter().max() else {
        return Err(StoreError::Config(
            "the backup names no schema version".into(),
        ));
    };
    let applied = crate::migrate::applied(db).await?;
    if let Some(v) = applied.iter().find(|v| **v > target) {
        return Err(StoreError::Config(format!(
            "the database already has migration {v}, newer than the backup's schema (up to {target}): \
             restore into a new, empty database; it is migrated on the way"
        )));
    }
    let mut c = db.conn().await?;
    let present = tables(&mut c).await?;
    let mut full = Vec::new();
    for t in &present {
        if has_rows(&mut c, t).await? {
            full.push(t.name.clone());
        }
    }
    let mut floors = Vec::new();
    if !full.is_empty() {
        if !replace {
            return Err(StoreError::Config(format!(
                "the database is not empty ({} hold rows): restore into an empty database, or pass \
                 --replace to delete every row first",
                full.join(", ")
            )));
        }
        for t in &present {
            let f = id_floor(&mut c, t).await?;
            if f > 0 {
                floors.push((t.name.clone(), f));
            }
        }
    }
    drop(c);
    crate::migrate::run_to(db, target).await?;
    Ok(floors)
}

/// Deletes every row of `tables` (children first), in the restore's
/// transaction, before a `--replace` load.
pub async fn delete_all(c: &mut Conn, tables: &[Table]) -> Result<(), StoreError> {
    for t in tables.iter().rev() {
        sqlx::query(AssertSqlSafe(format!("DELETE FROM {}", quote(&t.name))))
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

/// Inserts `rows` (values in the order of `columns`, as written by
/// [`super::dump`]) into `table` of the target, binding each value as the
/// target's column wants it; many rows per statement.
pub async fn insert_rows(
    c: &mut Conn,
    table: &Table,
    columns: &[String],
    rows: &[Vec<Value>],
) -> Result<(), StoreError> {
    let kinds: Vec<Kind> = columns
        .iter()
        .map(|name| {
            table
                .columns
                .iter()
                .find(|col| &col.name == name)
                .map(|col| col.kind)
                .ok_or_else(|| {
                    StoreError::Config(format!(
                        "the backup's table {} has a column {name} the database does not have",
                        table.name
                    ))
                })
        })
        .collect::<Result<_, _>>()?;
    if columns.is_empty() {
        return Ok(());
    }
    // SQLite takes up to 32766 parameters per statement, PostgreSQL 65535.
    let per = (30_000 / columns.len()).clamp(1, 1_000);
    // SQLite finds the name of a `$N` parameter by walking the list of all
    // of them, so binding a statement of n `$N` parameters takes n² steps
    // (a 1,000,000-row restore spent 96% of its time there): anonymous `?`
    // parameters are bound by position.
    let sqlite = Engine::of(c) == Engine::Sqlite;
    let names: Vec<String> = columns.iter().map(|n| quote(n)).collect();
    for chunk in rows.chunks(per) {
        let mut sql = format!(
            "INSERT INTO {} ({}) VALUES ",
            quote(&table.name),
            names.join(", ")
        );
        let mut p = 0;
        for (i, _) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for j in 0..columns.len() {
                if j > 0 {
                    sql.push_str(", ");
                }
                p += 1;
                if sqlite {
                    sql.push('?');
                } else {
                    sql.push_str(&format!("${p}"));
                }
            }
            sql.push(')');
        }
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for row in chunk {
            if row.len() != columns.len() {
                return Err(StoreError::Config(format!(
                    "a row of {} has {} values for {} columns",
                    table.name,
                    row.len(),
                    columns.len()
                )));
            }
            for (v, kind) in row.iter().zip(&kinds) {
                q = match kind {
                    Kind::Int => q.bind(v.as_i64()),
                    Kind::Real => q.bind(v.as_f64()),
                    Kind::Bool => q.bind(v.as_bool()),
                    Kind::Text => q.bind(v.as_str().map(str::to_owned)),
                    Kind::Blob => q.bind(v.get("hex").and_then(Value::as_str).and_then(unhex)),
                };
            }
        }
        q.execute(&mut *c).await?;
    }
    Ok(())
}

/// Ids that history names (the audit log, the seat ledger, the timeline,
/// idempotency keys) beyond the rows of a table, as in migration 0011.
const HISTORY: &[(&str, &[&str])] = &[
    (
        "accounts",
        &["SELECT MAX(target_id) FROM audit_log WHERE target_kind = 'account'"],
    ),
    (
        "users",
        &[
            "SELECT MAX(target_id) FROM audit_log WHERE target_kind = 'user'",
            "SELECT MAX(actor_user_id) FROM audit_log",
        ],
    ),
    (
        "roles",
        &["SELECT MAX(target_id) FROM audit_log WHERE target_kind = 'role'"],
    ),
    (
        "members",
        &[
            "SELECT MAX(target_id) FROM audit_log WHERE target_kind = 'member'",
            "SELECT MAX(member_id) FROM seat_ledger",
            "SELECT MAX(actor_member_id) FROM audit_log",
            "SELECT MAX(actor_member_id) FROM client_events",
            "SELECT MAX(actor_member_id) FROM credit_ledger",
        ],
    ),
    (
        "teams",
        &["SELECT MAX(target_id) FROM audit_log WHERE target_kind = 'team'"],
    ),
    (
        "clients",
        &[
            "SELECT MAX(target_id) FROM audit_log WHERE target_kind = 'client'",
            "SELECT MAX(client_id) FROM idempotency_keys",
        ],
    ),
    (
        "groups",
        &["SELECT MAX(target_id) FROM audit_log WHERE target_kind = 'group'"],
    ),
    (
        "content_items",
        &["SELECT MAX(target_id) FROM audit_log WHERE target_kind = 'content'"],
    ),
    (
        "lead_sources",
        &["SELECT MAX(target_id) FROM audit_log WHERE target_kind = 'lead_source'"],
    ),
    (
        "assignment_rules",
        &["SELECT MAX(target_id) FROM audit_log WHERE target_kind = 'assignment_rule'"],
    ),
    (
        "api_keys",
        &["SELECT MAX(target_id) FROM audit_log WHERE target_kind = 'api_key'"],
    ),
];

/// Moves `table`'s id counter so that the next id is above `floor` (the
/// backup's highest id ever handed out), above every id the table holds and
/// every id its history names. In the restore's transaction.
pub async fn set_id_floor(c: &mut Conn, table: &Table, floor: i64) -> Result<i64, StoreError> {
    if !table.has_ids {
        return Ok(0);
    }
    let mut top = floor.max(id_floor(c, table).await?);
    for (name, queries) in HISTORY {
        if *name != table.name {
            continue;
        }
        for q in *queries {
            let v: Option<i64> = sqlx::query_scalar(*q).fetch_one(&mut *c).await?;
            top = top.max(v.unwrap_or(0));
        }
    }
    match Engine::of(c) {
        Engine::Sqlite => {
            sqlx::query("DELETE FROM sqlite_sequence WHERE name = $1")
                .bind(&table.name)
                .execute(&mut *c)
                .await?;
            sqlx::query("INSERT INTO sqlite_sequence (name, seq) VALUES ($1, $2)")
                .bind(&table.name)
                .bind(top)
                .execute(&mut *c)
                .await?;
        }
        Engine::Postgres if top > 0 => {
            let _: i64 = sqlx::query_scalar(
                "SELECT setval(pg_get_serial_sequence($1, 'id'), $2::BIGINT, true)",
            )
            .bind(&table.name)
            .bind(top)
            .fetch_one(&mut *c)
            .await?;
        }
        Engine::Postgres => {}
    }
    Ok(top)
}

/// After the rows are in: the migrations newer than the backup's schema.
pub async fn finish_restore(db: &Db) -> Result<usize, StoreError> {
    db.migrate().await
}
