//! X7: after a full disk (SQLite answers "database or disk is full"), writes
//! work again once space is back, without a restart.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::db::Db;
use crate::testing::TempDir;

/// Fills the database on `db`'s connection(s) capped by `cap` until SQLite
/// refuses a write for lack of space; the error text.
async fn fill_until_full(db: &Db) -> String {
    for i in 0..10_000 {
        let mut tx = match db.write().await {
            Ok(tx) => tx,
            Err(e) => return e.to_string(),
        };
        let blob = "x".repeat(4000);
        let step = async {
            sqlx::query("INSERT INTO filler (v) VALUES ($1)")
                .bind(&blob)
                .execute(&mut *tx)
                .await?;
            Ok::<(), sqlx::Error>(())
        }
        .await;
        if let Err(e) = step {
            return format!("insert {i}: {e}");
        }
        if let Err(e) = tx.commit().await {
            return format!("commit {i}: {e}");
        }
    }
    panic!("never full");
}

#[tokio::test]
async fn r_x7_sqlite_writes_work_again_after_a_full_database_without_a_restart() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}/full.db", dir.path.display());
    // Every write goes through SQLite's one writing connection: the page
    // cap (a setting of a connection) is set there, so that connection hits
    // the full disk and the next write gets it again.
    let db = Db::connect(&url, Some(1)).await.unwrap();
    let mut tx = db.write().await.unwrap();
    sqlx::raw_sql(
        "CREATE TABLE filler (id INTEGER PRIMARY KEY, v TEXT); PRAGMA max_page_count = 64;",
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let err = fill_until_full(&db).await;
    assert!(err.contains("full"), "{err}");
    // Space comes back.
    let mut tx = db.write().await.unwrap();
    sqlx::raw_sql("PRAGMA max_page_count = 1000000; DELETE FROM filler;")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    for _ in 0..3 {
        let mut tx = db.write().await.expect("a write transaction begins");
        sqlx::query("INSERT INTO filler (v) VALUES ('after')")
            .execute(&mut *tx)
            .await
            .expect("the insert works");
        tx.commit().await.expect("the commit works");
    }
}

#[tokio::test]
async fn r_x7_postgres_writes_work_again_after_the_server_dropped_every_connection() {
    let Some(t) = crate::testing::TestDb::migrated(crate::db::Engine::Postgres).await else {
        return;
    };
    // Warm the pool, then have the server end every connection of the
    // database (a restart or a failover looks the same from here).
    for _ in 0..3 {
        let mut c = t.db.conn().await.unwrap();
        sqlx::query("SELECT 1").execute(&mut *c).await.unwrap();
    }
    let name: String = {
        let mut c = t.db.conn().await.unwrap();
        sqlx::query_scalar("SELECT current_database()::text")
            .fetch_one(&mut *c)
            .await
            .unwrap()
    };
    let admin = std::env::var("LEADTEAM_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut a = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
        .await
        .unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()")
        .bind(&name)
        .execute(&mut a)
        .await
        .unwrap();
    for _ in 0..3 {
        let mut tx = t.db.write().await.expect("a write transaction begins");
        sqlx::query("INSERT INTO accounts (name, created_at) VALUES ('after', 1)")
            .execute(&mut *tx)
            .await
            .expect("the insert works");
        tx.commit().await.expect("the commit works");
    }
    t.close().await;
}
