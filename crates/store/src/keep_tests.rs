//! Connections kept between uses (`keep`): every use gets a connection
//! within the pool's size, a transaction left open is rolled back before
//! its connection serves again, and the database still closes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::contract_tests::each_engine;
use crate::db::Db;
use crate::testing::TempDir;
use futures::FutureExt;
use std::time::Duration;

async fn rows(db: &Db) -> Vec<String> {
    let mut c = db.conn().await.unwrap();
    sqlx::query_scalar("SELECT v FROM kept ORDER BY id")
        .fetch_all(&mut *c)
        .await
        .unwrap()
}

/// The rows of `kept`, read on `c` (a transaction's own connection).
async fn count(c: &mut crate::Conn) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM kept")
        .fetch_one(c)
        .await
        .unwrap()
}

async fn insert(tx: &mut crate::Tx, v: &str) {
    sqlx::query("INSERT INTO kept (v) VALUES ($1)")
        .bind(v)
        .execute(&mut **tx)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_transaction_dropped_open_is_rolled_back_before_its_connection_serves_again() {
    each_engine(|db| async move {
        let mut tx = db.write().await.unwrap();
        let key = match db.engine() {
            crate::Engine::Sqlite => "INTEGER PRIMARY KEY",
            crate::Engine::Postgres => "BIGSERIAL PRIMARY KEY",
        };
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE kept (id {key}, v TEXT NOT NULL)"
        )))
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        // A write dropped half-way (a failed request): nothing of it stays,
        // and the next write begins on a clean connection, at once.
        for round in 0..5 {
            let mut tx = db.write().await.unwrap();
            insert(&mut tx, &format!("dropped {round}")).await;
            drop(tx);
            let mut tx = tokio::time::timeout(Duration::from_secs(5), db.write())
                .await
                .expect("the next write begins")
                .unwrap();
            insert(&mut tx, &format!("kept {round}")).await;
            tx.commit().await.unwrap();
        }
        // Writes and reads given up while their BEGIN was on its way (a
        // request cancelled: polled once, then dropped): the next ones
        // begin and commit as usual.
        for _ in 0..20 {
            drop(db.write().now_or_never());
            drop(db.read().now_or_never());
            let mut tx = tokio::time::timeout(Duration::from_secs(5), db.write())
                .await
                .expect("the next write begins")
                .unwrap();
            assert_eq!(count(&mut tx).await, 5);
            tx.commit().await.unwrap();
            let mut read = db.read().await.unwrap();
            assert_eq!(count(&mut read).await, 5);
            read.commit().await.unwrap();
        }
        // A rolled-back write and an open read dropped: the same.
        let mut tx = db.write().await.unwrap();
        insert(&mut tx, "rolled back").await;
        tx.rollback().await.unwrap();
        let mut read = db.read().await.unwrap();
        assert_eq!(count(&mut read).await, 5);
        drop(read);
        assert_eq!(
            rows(&db).await,
            (0..5).map(|r| format!("kept {r}")).collect::<Vec<_>>()
        );
        // What a new write sees is what was committed.
        let mut tx = db.write().await.unwrap();
        assert_eq!(count(&mut tx).await, 5);
        tx.commit().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn every_use_gets_a_connection_within_the_pools_size_and_the_database_closes() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}/kept.db", dir.path.display());
    let db = Db::connect(&url, Some(2)).await.unwrap();
    // Two uses hold both connections; a third waits, and gets the first one
    // given back.
    let first = db.conn().await.unwrap();
    let second = db.conn().await.unwrap();
    let waiting = tokio::spawn({
        let db = db.clone();
        async move {
            let mut c = db.conn().await.unwrap();
            sqlx::query_scalar::<_, i64>("SELECT 7")
                .fetch_one(&mut *c)
                .await
                .unwrap()
        }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!waiting.is_finished(), "a third use waits for a connection");
    drop(first);
    let got = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("a connection given back serves the use waiting")
        .unwrap();
    assert_eq!(got, 7);
    drop(second);
    // Many uses at once, reads and writes, on two reading connections and
    // the writer: all served.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            if i % 4 == 0 {
                let mut tx = db.write().await.unwrap();
                sqlx::query_scalar::<_, i64>("SELECT 1")
                    .fetch_one(&mut *tx)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            } else {
                let mut c = db.conn().await.unwrap();
                sqlx::query_scalar::<_, i64>("SELECT 1")
                    .fetch_one(&mut *c)
                    .await
                    .unwrap();
                tokio::task::yield_now().await;
            }
        }));
    }
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(10), t)
            .await
            .expect("every use is served")
            .unwrap();
    }
    // The connections kept between uses do not hold the database open.
    tokio::time::timeout(Duration::from_secs(10), db.close())
        .await
        .expect("the database closes with its connections kept");
    assert!(db.conn().await.is_err(), "a closed database lends nothing");
}
