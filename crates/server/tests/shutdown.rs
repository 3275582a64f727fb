//! Graceful shutdown (issue 16, X7): on SIGTERM the server stops accepting,
//! finishes the requests in flight and the intake batches they started,
//! gives its outbox claims back, and exits within its bound; every lead it
//! acknowledged is stored.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Node;
use leadteam_store::Db;
use leadteam_store::testing::TempDir;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ops_sigterm_drains_and_every_acknowledged_lead_is_stored() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}/leadteam.db", dir.path.display());
    let node = Node::start(&url, &dir.path, &["--shutdown-timeout", "10"]);
    let owner = node.signup("Acme", "ann@example.com").await;
    let hook = node.source(&owner, "Zapier").await;
    let node = Arc::new(Mutex::new(Some(node)));
    let handle = {
        let n = node.lock().unwrap();
        let n = n.as_ref().unwrap();
        (n.base.clone(), n.http.clone())
    };
    let acked: Arc<Mutex<Vec<(String, i64)>>> = Arc::default();
    let failed = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    // Sixteen senders, each sending leads one after another until the
    // server is gone.
    let mut senders = Vec::new();
    for s in 0..16 {
        let (base, http) = handle.clone();
        let hook = hook.clone();
        let acked = Arc::clone(&acked);
        let failed = Arc::clone(&failed);
        senders.push(tokio::spawn(async move {
            let sender = Node::client(base, http);
            for i in 0..100_000 {
                let id = format!("s{s}-{i}");
                match sender.lead(&hook, &id).await {
                    Some((201, body)) => acked
                        .lock()
                        .unwrap()
                        .push((id, body["client_id"].as_i64().unwrap())),
                    Some((status, body)) => panic!("lead {id}: {status} {body}"),
                    None => {
                        failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        return;
                    }
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let before_stop = acked.lock().unwrap().len();
    assert!(
        before_stop > 20,
        "leads flowed before the stop: {before_stop}"
    );
    let mut n = node.lock().unwrap().take().unwrap();
    n.terminate();
    let (status, took) = tokio::task::spawn_blocking(move || {
        let r = n.wait_exit(Duration::from_secs(30));
        drop(n);
        r
    })
    .await
    .unwrap();
    assert!(status.success(), "{status}");
    assert!(
        took < Duration::from_secs(20),
        "stopped in {took:?}: the bound is the shutdown timeout (10 s) + 10 s"
    );
    for s in senders {
        tokio::time::timeout(Duration::from_secs(10), s)
            .await
            .expect("senders end once the server is gone")
            .unwrap();
    }
    assert_eq!(
        failed.load(std::sync::atomic::Ordering::Relaxed),
        16,
        "every sender saw the server go"
    );

    // Every acknowledged lead is stored, once, with the id it was given.
    let acked = acked.lock().unwrap().clone();
    let db = Db::connect(&url, Some(2)).await.unwrap();
    let mut c = db.conn().await.unwrap();
    let stored: Vec<(String, i64)> =
        sqlx::query_as("SELECT source_lead_id, id FROM clients ORDER BY id")
            .fetch_all(&mut *c)
            .await
            .unwrap();
    let stored: std::collections::HashMap<String, i64> = stored.into_iter().collect();
    for (lead, id) in &acked {
        assert_eq!(
            stored.get(lead),
            Some(id),
            "acknowledged lead {lead} is stored"
        );
    }
    assert!(
        acked.len() > before_stop,
        "leads went on being acknowledged until the stop"
    );
    // No outbox message is left claimed by the stopped node.
    let held: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND locked_until IS NOT NULL",
    )
    .fetch_one(&mut *c)
    .await
    .unwrap();
    assert_eq!(held, 0);
    drop(c);
    db.close().await;
}
