//! The migrator on both engines: a fresh database, an edited migration
//! refused, a newer database refused, and a database of the old runner
//! adopted with its data (X4: its ids are never reused afterwards).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::testing::TestDb;

async fn each_engine<F, Fut>(story: F)
where
    F: Fn(TestDb) -> Fut,
    Fut: std::future::Future<Output = TestDb>,
{
    for engine in [Engine::Sqlite, Engine::Postgres] {
        if let Some(t) = TestDb::new(engine).await {
            story(t).await.close().await;
        }
    }
}

#[tokio::test]
async fn a_fresh_database_gets_every_migration_once() {
    each_engine(|t| async move {
        let n = t.db.migrate().await.unwrap();
        assert_eq!(n, sources(t.db.engine()).len());
        assert_eq!(
            t.db.migrate().await.unwrap(),
            0,
            "a second run applies nothing"
        );
        t
    })
    .await;
}

#[tokio::test]
async fn an_edited_migration_is_refused() {
    each_engine(|t| async move {
        t.db.migrate().await.unwrap();
        let edited = "CREATE TABLE sneaky (id BIGINT);";
        let err = run_with(&t.db, &[(3, edited)]).await.unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("migration 3") && msg.contains("edited"),
            "{msg}"
        );
        // Nothing of the edited SQL ran.
        let mut c = t.db.conn().await.unwrap();
        assert!(
            sqlx::query("SELECT COUNT(*) FROM sneaky")
                .fetch_one(&mut *c)
                .await
                .is_err()
        );
        drop(c);
        t
    })
    .await;
}

#[tokio::test]
async fn a_database_newer_than_the_binary_is_refused() {
    each_engine(|t| async move {
        t.db.migrate().await.unwrap();
        let mut c = t.db.conn().await.unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (9999, 'from the future', TRUE, $1, 0)",
        )
        .bind(vec![0u8; 48])
        .execute(&mut *c)
        .await
        .unwrap();
        drop(c);
        let msg = t.db.migrate().await.unwrap_err().to_string();
        assert!(msg.contains("9999") && msg.contains("newer"), "{msg}");
        t
    })
    .await;
}

/// Builds the schema as the old runner left it (migrations 1-10 and its
/// `schema_migrations` table), with an account whose newest member was
/// deleted, then starts today's migrator on it.
#[tokio::test]
async fn r_x4_a_database_of_the_old_runner_is_adopted_and_never_reuses_an_id() {
    each_engine(|t| async move {
        let engine = t.db.engine();
        let mut c = t.db.conn().await.unwrap();
        sqlx::raw_sql(
            "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
        )
        .execute(&mut *c)
        .await
        .unwrap();
        for (version, name, sql) in sources(engine).iter().filter(|m| m.0 <= 10) {
            sqlx::raw_sql(AssertSqlSafe(*sql))
                .execute(&mut *c)
                .await
                .unwrap();
            sqlx::query("INSERT INTO schema_migrations VALUES ($1, $2, 0)")
                .bind(version)
                .bind(*name)
                .execute(&mut *c)
                .await
                .unwrap();
        }
        sqlx::raw_sql(
            "INSERT INTO accounts (name, require_2fa, created_at) VALUES ('Acme', 0, 1); \
             INSERT INTO roles (account_id, name, preset, permissions, created_at) VALUES (1, 'Member', 'member', 0, 1); \
             INSERT INTO members (account_id, email, name, role_id, status, created_at) VALUES (1, 'ann@x.test', 'Ann', 1, 'active', 1); \
             INSERT INTO members (account_id, email, name, role_id, status, created_at) VALUES (1, 'carl@x.test', 'Carl', 1, 'active', 1);",
        )
        .execute(&mut *c)
        .await
        .unwrap();
        if engine == Engine::Postgres {
            // The old runner drew round-robin positions from sequences.
            sqlx::raw_sql(
                "CREATE SEQUENCE lt_rr_a1d MINVALUE 0 START 0; SELECT nextval('lt_rr_a1d'); SELECT nextval('lt_rr_a1d');",
            )
            .execute(&mut *c)
            .await
            .unwrap();
        }
        sqlx::raw_sql(
            "INSERT INTO audit_log (account_id, action, target_kind, target_id, at) VALUES (1, 'member.removed', 'member', 2, 1); \
             DELETE FROM members WHERE email = 'carl@x.test'",
        )
            .execute(&mut *c)
            .await
            .unwrap();
        drop(c);

        let applied = t.db.migrate().await.unwrap();
        let after_old = sources(engine).iter().filter(|m| m.0 > 10).count();
        assert_eq!(applied, after_old, "only the migrations after the old runner's run");

        let mut c = t.db.conn().await.unwrap();
        let names: Vec<String> = sqlx::query_scalar("SELECT name FROM members ORDER BY id")
            .fetch_all(&mut *c)
            .await
            .unwrap();
        assert_eq!(names, ["Ann"], "the data is kept");
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO members (account_id, email, name, role_id, status, created_at) \
             VALUES (1, 'dee@x.test', 'Dee', 1, 'invited', 2) RETURNING id",
        )
        .fetch_one(&mut *c)
        .await
        .unwrap();
        // Carl's id (2) is named by the audit log: never handed out again,
        // although its row was deleted before the migration.
        assert_eq!(id, 3);
        sqlx::query("DELETE FROM members WHERE id = $1")
            .bind(id)
            .execute(&mut *c)
            .await
            .unwrap();
        let next: i64 = sqlx::query_scalar(
            "INSERT INTO members (account_id, email, name, role_id, status, created_at) \
             VALUES (1, 'eve@x.test', 'Eve', 1, 'invited', 3) RETURNING id",
        )
        .fetch_one(&mut *c)
        .await
        .unwrap();
        assert!(next > id, "the id of a deleted member ({id}) is not reused: {next}");
        if engine == Engine::Postgres {
            let pos: i64 =
                sqlx::query_scalar("SELECT position FROM rr_counters WHERE key = 'a1d'")
                    .fetch_one(&mut *c)
                    .await
                    .unwrap();
            assert_eq!(pos, 1, "the sequence's last position is carried over");
        }
        let legacy: i64 = sqlx::query_scalar(match engine {
            Engine::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'schema_migrations'"
            }
            Engine::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
            }
        })
        .fetch_one(&mut *c)
        .await
        .unwrap();
        assert_eq!(legacy, 0);
        drop(c);
        assert_eq!(t.db.migrate().await.unwrap(), 0);
        t
    })
    .await;
}

#[tokio::test]
async fn r_d2_migration_47_backfills_who_made_the_first_contact() {
    each_engine(|t| async move {
        run_to(&t.db, 40).await.unwrap();
        let mut c = t.db.conn().await.unwrap();
        sqlx::raw_sql(
            "INSERT INTO accounts (name, require_2fa, created_at) VALUES ('Acme', 0, 1); \
             INSERT INTO roles (account_id, name, preset, permissions, created_at) VALUES (1, 'Member', 'member', 0, 1); \
             INSERT INTO members (account_id, email, name, role_id, status, created_at) VALUES (1, 'bea@x.test', 'Bea', 1, 'active', 1); \
             INSERT INTO members (account_id, email, name, role_id, status, created_at) VALUES (1, 'cy@x.test', 'Cy', 1, 'active', 1); \
             INSERT INTO clients (account_id, name, source, created_at, updated_at, assignee_id, first_contact_at) \
               VALUES (1, 'Contacted by Bea, now Cy''s', 'manual', 100, 100, 2, 160); \
             INSERT INTO clients (account_id, name, source, created_at, updated_at, assignee_id) \
               VALUES (1, 'Not contacted', 'manual', 100, 100, 2); \
             INSERT INTO client_events (account_id, client_id, kind, actor_member_id, at) VALUES (1, 1, 'assigned', NULL, 100); \
             INSERT INTO client_events (account_id, client_id, kind, actor_member_id, at) VALUES (1, 1, 'note', 1, 160); \
             INSERT INTO client_events (account_id, client_id, kind, actor_member_id, at) VALUES (1, 1, 'note', 2, 200);",
        )
        .execute(&mut *c)
        .await
        .unwrap();
        drop(c);
        t.db.migrate().await.unwrap();
        let mut c = t.db.conn().await.unwrap();
        let by: Vec<Option<i64>> =
            sqlx::query_scalar("SELECT first_contact_by FROM clients ORDER BY id")
                .fetch_all(&mut *c)
                .await
                .unwrap();
        assert_eq!(by, [Some(1), None]);
        drop(c);
        t
    })
    .await;
}
