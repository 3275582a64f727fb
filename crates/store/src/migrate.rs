//! Migrations: one folder per engine (`migrations/sqlite`, `migrations/postgres`)
//! applied by sqlx's migrator, which records a checksum of each and refuses
//! to start on a database whose applied migrations differ from the binary's
//! (an edited migration) or that has one the binary does not know (a newer
//! database). See `migrations/README.md`.

use crate::db::{Db, Engine};
use crate::error::StoreError;
use sqlx::migrate::{Migrate, MigrateError, Migration, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, SqlSafeStr};
use std::borrow::Cow;

/// Where sqlx's migrator records what it applied.
const TABLE: &str = "_sqlx_migrations";

macro_rules! migrations {
    ($($version:literal $name:literal),* $(,)?) => {
        /// (version, name, SQL) of every SQLite migration, in order.
        const SQLITE: &[(i64, &str, &str)] = &[
            $(($version, $name, include_str!(concat!("../migrations/sqlite/", $name, ".sql")))),*
        ];
        /// The same versions for PostgreSQL.
        const POSTGRES: &[(i64, &str, &str)] = &[
            $(($version, $name, include_str!(concat!("../migrations/postgres/", $name, ".sql")))),*
        ];
    };
}

migrations! {
    1 "0001_foundation",
    2 "0002_outbox",
    3 "0003_members",
    4 "0004_clients",
    5 "0005_teams_groups_content",
    6 "0006_intake",
    7 "0007_api_keys",
    10 "0010_billing",
    11 "0011_ids_never_reused",
    12 "0012_trust",
    13 "0013_contact",
    14 "0014_routing_time",
    30 "0030_ops_indexes",
    40 "0040_integrations",
    47 "0047_workspace",
    50 "0050_time_zones",
    52 "0052_facebook_names",
    53 "0053_graph_lookups",
    54 "0054_unused_first_contact_index",
    55 "0055_partial_source_lead_index",
    56 "0056_unassigned_team_index",
    57 "0057_own_clients_index_with_team",
}

/// The migrations of `engine`, as (version, name, SQL).
pub fn sources(engine: Engine) -> &'static [(i64, &'static str, &'static str)] {
    match engine {
        Engine::Sqlite => SQLITE,
        Engine::Postgres => POSTGRES,
    }
}

/// The migrator of `engine`'s files (`edit` replaces the SQL of some
/// versions: for the test that proves an edited migration is refused).
fn migrator(engine: Engine, edit: &[(i64, &'static str)]) -> Migrator {
    let list = sources(engine)
        .iter()
        .map(|(version, name, sql)| {
            let sql = edit
                .iter()
                .find(|(v, _)| v == version)
                .map_or(*sql, |(_, s)| *s);
            let description = name.split_once('_').map_or(*name, |(_, d)| d);
            Migration::new(
                *version,
                Cow::Borrowed(description),
                MigrationType::Simple,
                AssertSqlSafe(sql).into_sql_str(),
                sql.starts_with("-- no-transaction"),
            )
        })
        .collect();
    Migrator::with_migrations(list)
}

/// Applies every migration not yet applied; answers how many ran.
pub(crate) async fn run(db: &Db) -> Result<usize, StoreError> {
    run_with(db, &[]).await
}

pub(crate) async fn run_with(db: &Db, edit: &[(i64, &'static str)]) -> Result<usize, StoreError> {
    let migrator = migrator(db.engine(), edit);
    let mut conn = db.conn().await?;
    conn.ensure_migrations_table(TABLE).await.map_err(failed)?;
    adopt_legacy(db.engine(), &mut conn, &migrator).await?;
    let before = applied_count(&mut conn).await?;
    migrator
        .run_direct(None, &mut *conn, false)
        .await
        .map_err(failed)?;
    Ok(applied_count(&mut conn).await?.saturating_sub(before))
}

/// Applies the migrations up to `target` only (a restore loads a backup's
/// rows into the schema they were taken from, then migrates the rest).
pub(crate) async fn run_to(db: &Db, target: i64) -> Result<(), StoreError> {
    let migrator = migrator(db.engine(), &[]);
    let mut conn = db.conn().await?;
    conn.ensure_migrations_table(TABLE).await.map_err(failed)?;
    adopt_legacy(db.engine(), &mut conn, &migrator).await?;
    migrator
        .run_direct(Some(target), &mut *conn, false)
        .await
        .map_err(failed)
}

/// The versions applied to the database (none when it was never migrated).
pub(crate) async fn applied(db: &Db) -> Result<Vec<i64>, StoreError> {
    let mut conn = db.conn().await?;
    conn.ensure_migrations_table(TABLE).await.map_err(failed)?;
    let mut v: Vec<i64> = conn
        .list_applied_migrations(TABLE)
        .await
        .map_err(failed)?
        .into_iter()
        .map(|m| m.version)
        .collect();
    v.sort_unstable();
    Ok(v)
}

/// The versions this binary knows.
pub(crate) fn known(engine: Engine) -> Vec<i64> {
    sources(engine).iter().map(|(v, _, _)| *v).collect()
}

/// Checks, without applying anything, that the database's schema is
/// exactly this binary's: the same check sqlx's migrator makes before it
/// migrates (an unknown applied version is a newer database; a different
/// checksum an edited migration), plus every migration applied (an older
/// database is migrated by `leadteam migrate` or `serve` first). For tools
/// that work on a database without serving it (`leadteam admin`).
pub(crate) async fn check_current(db: &Db) -> Result<(), StoreError> {
    let migrator = migrator(db.engine(), &[]);
    let mut conn = db.conn().await?;
    conn.ensure_migrations_table(TABLE).await.map_err(failed)?;
    if let Some(v) = conn.dirty_version(TABLE).await.map_err(failed)? {
        return Err(StoreError::Migration(format!(
            "migration {v} failed half-way; run `leadteam migrate` to see why"
        )));
    }
    let applied = conn.list_applied_migrations(TABLE).await.map_err(failed)?;
    for a in &applied {
        match migrator.iter().find(|m| m.version == a.version) {
            None => return Err(failed(MigrateError::VersionMissing(a.version))),
            Some(m) if m.checksum != a.checksum => {
                return Err(failed(MigrateError::VersionMismatch(a.version)));
            }
            Some(_) => {}
        }
    }
    let pending: Vec<i64> = migrator
        .iter()
        .map(|m| m.version)
        .filter(|v| !applied.iter().any(|a| a.version == *v))
        .collect();
    if !pending.is_empty() {
        return Err(StoreError::Migration(format!(
            "the database is older than this binary (migrations {pending:?} not applied): \
             run `leadteam migrate` first"
        )));
    }
    Ok(())
}

async fn applied_count(conn: &mut sqlx::AnyConnection) -> Result<usize, StoreError> {
    let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {TABLE}")))
        .fetch_one(conn)
        .await?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// A database made before the migrator has `schema_migrations` (version,
/// name, applied_at): its versions are recorded as applied (with the
/// checksums of today's files), the table goes, and the rest run as usual.
/// Under the migrator's lock, so several nodes starting at once adopt once.
async fn adopt_legacy(
    engine: Engine,
    conn: &mut sqlx::AnyConnection,
    migrator: &Migrator,
) -> Result<(), StoreError> {
    conn.lock().await.map_err(failed)?;
    let result = async {
        let exists: i64 = sqlx::query_scalar(match engine {
            Engine::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
            }
            Engine::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = 'schema_migrations'"
            }
        })
        .fetch_one(&mut *conn)
        .await?;
        if exists == 0 {
            return Ok(());
        }
        let legacy: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
            .fetch_all(&mut *conn)
            .await?;
        // The last version up to which every migration was applied.
        let adopted = migrator
            .iter()
            .take_while(|m| legacy.contains(&m.version))
            .last()
            .map(|m| m.version);
        if let Some(target) = adopted {
            migrator
                .run_direct(Some(target), &mut *conn, true)
                .await
                .map_err(failed)?;
        }
        sqlx::raw_sql("DROP TABLE schema_migrations")
            .execute(&mut *conn)
            .await?;
        tracing::info!(
            adopted = ?adopted,
            "database from before the migrator adopted: its migrations are recorded with checksums"
        );
        Ok::<(), StoreError>(())
    }
    .await;
    conn.unlock().await.map_err(failed)?;
    result
}

fn failed(e: MigrateError) -> StoreError {
    let hint = match &e {
        MigrateError::VersionMismatch(v) => format!(
            "migration {v} was applied with other SQL than this binary's: a shipped migration was edited; \
             restore the file, and add a new migration for the change"
        ),
        MigrateError::VersionMissing(v) => format!(
            "the database has migration {v}, which this binary does not know: it was made by a newer \
             leadteam; run that version (or newer)"
        ),
        other => other.to_string(),
    };
    StoreError::Migration(hint)
}

#[cfg(test)]
mod tests;
