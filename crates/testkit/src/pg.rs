//! A PostgreSQL database per test, created and then dropped.

use sqlx::{Connection, Executor, PgConnection};
use std::sync::OnceLock;

fn admin_url() -> String {
    std::env::var("LEADTEAM_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn required() -> bool {
    std::env::var("LEADTEAM_REQUIRE_PG").is_ok_and(|v| v == "1" || v == "true")
}

static WARNED: OnceLock<()> = OnceLock::new();

/// Creates a fresh database; `None` (with a loud message) when PostgreSQL is
/// not reachable, unless `LEADTEAM_REQUIRE_PG=1`, which makes it a failure.
pub async fn create_database() -> Option<(String, String)> {
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
    use rand::Rng;
    let name = format!("lt_test_{:016x}", rand::thread_rng().r#gen::<u64>());
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

pub async fn drop_database(name: &str) {
    if let Ok(mut conn) = PgConnection::connect(&admin_url()).await {
        let _ = conn
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .await;
        let _ = conn.close().await;
    }
}
