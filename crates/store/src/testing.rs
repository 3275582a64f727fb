//! Test databases (store's own tests and the testkit): a SQLite file in a
//! temporary folder, or a PostgreSQL database created for the test and
//! dropped after it. PostgreSQL comes from `LEADTEAM_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); when it is not reachable
//! the test is skipped with a loud message, unless `LEADTEAM_REQUIRE_PG=1`
//! makes that a failure.

#![allow(clippy::panic, clippy::expect_used)]

use crate::db::{Db, Engine};
use sqlx::{Connection, Executor, PgConnection};
use std::path::PathBuf;
use std::sync::OnceLock;

fn admin_url() -> String {
    std::env::var("LEADTEAM_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn required() -> bool {
    std::env::var("LEADTEAM_REQUIRE_PG").is_ok_and(|v| v == "1" || v == "true")
}

static WARNED: OnceLock<()> = OnceLock::new();

fn random_suffix() -> u64 {
    use rand::Rng;
    rand::thread_rng().r#gen()
}

/// Creates a fresh PostgreSQL database: its URL and name. `None` (with a
/// loud message) when PostgreSQL is not reachable and not required.
pub async fn create_pg_database() -> Option<(String, String)> {
    let admin = admin_url();
    let mut conn = match PgConnection::connect(&admin).await {
        Ok(c) => c,
        Err(e) => {
            if required() {
                panic!("LEADTEAM_REQUIRE_PG=1 but PostgreSQL at {admin} is not reachable: {e}");
            }
            WARNED.get_or_init(|| {
                eprintln!(
                    "\n!!! SKIPPING PostgreSQL tests: {admin} is not reachable ({e}).\n!!! Set LEADTEAM_TEST_PG_URL or start PostgreSQL; CI sets LEADTEAM_REQUIRE_PG=1.\n"
                );
            });
            return None;
        }
    };
    let name = format!("lt_test_{:016x}", random_suffix());
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create test database");
    let _ = conn.close().await;
    let url = match admin.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => format!("{admin}/{name}"),
    };
    Some((url, name))
}

/// Drops a database made by [`create_pg_database`].
pub async fn drop_pg_database(name: &str) {
    if let Ok(mut conn) = PgConnection::connect(&admin_url()).await {
        let _ = conn
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .await;
        let _ = conn.close().await;
    }
}

/// A temporary folder, removed when dropped.
#[derive(Debug)]
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new() -> Self {
        let path = std::env::temp_dir().join(format!("leadteam-test-{:016x}", random_suffix()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir { path }
    }
}

impl Default for TempDir {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// An empty database of one engine (not migrated): call [`TestDb::close`]
/// at the end to drop a PostgreSQL one.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    pub dir: TempDir,
    pg_name: Option<String>,
}

impl TestDb {
    /// `None` when the engine is PostgreSQL and it is not reachable (see above).
    pub async fn new(engine: Engine) -> Option<TestDb> {
        let dir = TempDir::new();
        let (url, pg_name) = match engine {
            Engine::Sqlite => (format!("sqlite://{}/leadteam.db", dir.path.display()), None),
            Engine::Postgres => {
                let (url, name) = create_pg_database().await?;
                (url, Some(name))
            }
        };
        let db = Db::connect(&url, Some(8))
            .await
            .expect("connect test database");
        Some(TestDb {
            db,
            url,
            dir,
            pg_name,
        })
    }

    /// A migrated database.
    pub async fn migrated(engine: Engine) -> Option<TestDb> {
        let t = TestDb::new(engine).await?;
        t.db.migrate().await.expect("migrate test database");
        Some(t)
    }

    pub async fn close(self) {
        self.db.close().await;
        if let Some(name) = &self.pg_name {
            drop_pg_database(name).await;
        }
    }
}
