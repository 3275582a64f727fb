//! Issue 19 keeps the lead sources a node has looked up in memory: these
//! tests prove that a change to a source counts from the moment it is
//! answered (I1, I2), on the node that made it and, on PostgreSQL, on
//! every other node as soon as the bus tells it.

use super::intake::{deliver, source};
use leadteam_testkit::{TestApp, both_engines};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

both_engines!(r_i1_a_switched_off_rotated_or_deleted_source_is_refused_at_once_after_use,);

fn body(n: u32) -> String {
    json!({"name": format!("Lead {n}"), "email": format!("l{n}@example.com"), "lead_id": format!("s-{n}")})
        .to_string()
}

async fn patch(app: &TestApp, token: &str, src: &Value, b: Value) -> Value {
    let r = app
        .patch(token, &format!("/api/v1/lead-sources/{}", src["id"]), b)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

async fn r_i1_a_switched_off_rotated_or_deleted_source_is_refused_at_once_after_use(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let hook = source(app, &owner, "webhook", "Site").await;
    // Used (so looked up and kept) before each change.
    let r = deliver(app, &hook, &body(1), &[]).await;
    assert_eq!(r.status, 201, "{}", r.text);

    patch(app, &owner.token, &hook, json!({"enabled": false})).await;
    let r = deliver(app, &hook, &body(2), &[]).await;
    assert_eq!(
        r.status, 409,
        "a switched-off source refuses at once: {}",
        r.text
    );
    assert_eq!(app.count("clients").await, 1, "nothing stored");

    patch(app, &owner.token, &hook, json!({"enabled": true})).await;
    let r = deliver(app, &hook, &body(3), &[]).await;
    assert_eq!(r.status, 201, "switched on again: {}", r.text);

    let rotated = patch(app, &owner.token, &hook, json!({"rotate_secret": true})).await;
    let r = deliver(app, &hook, &body(4), &[]).await;
    assert_eq!(r.status, 401, "the old secret stops at once: {}", r.text);
    assert_eq!(app.count("clients").await, 2, "nothing stored");
    let mut new = hook.clone();
    new["secret"] = rotated["secret"].clone();
    let r = deliver(app, &new, &body(5), &[]).await;
    assert_eq!(r.status, 201, "the new secret works: {}", r.text);

    let r = app
        .delete(
            &owner.token,
            &format!("/api/v1/lead-sources/{}", hook["id"]),
        )
        .await;
    assert!(r.status == 204 || r.status == 200, "{}", r.text);
    let r = deliver(app, &new, &body(6), &[]).await;
    assert_eq!(
        r.status, 404,
        "a deleted source is gone at once: {}",
        r.text
    );
    assert_eq!(app.count("clients").await, 3, "nothing stored");
}

/// Delivers to `node` the lead `n` signed for `src` (made on `first`).
pub(crate) async fn deliver_on(node: &TestApp, first: &TestApp, src: &Value, n: u32) -> u16 {
    let mut on_node = src.clone();
    on_node["webhook_url"] = json!(
        src["webhook_url"]
            .as_str()
            .unwrap_or_default()
            .replace(&first.base, &node.base)
    );
    deliver(node, &on_node, &body(n), &[]).await.status
}

/// Two nodes on one PostgreSQL: a source used on node B and switched off
/// (then rotated) on node A is refused by B as soon as the bus reaches it,
/// and nothing B accepted after that moment is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_i1_two_nodes_a_source_changed_on_one_node_is_refused_on_the_other() {
    let Some(app) = leadteam_testkit::spawn_app(leadteam_testkit::Engine::Postgres).await else {
        return;
    };
    let other = app.another_node().await;
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let hook = source(&app, &owner, "webhook", "Site").await;
    assert_eq!(deliver_on(&other, &app, &hook, 1).await, 201);

    patch(&app, &owner.token, &hook, json!({"enabled": false})).await;
    let start = Instant::now();
    let mut n = 2;
    loop {
        let status = deliver_on(&other, &app, &hook, n).await;
        n += 1;
        if status == 409 {
            break;
        }
        assert_eq!(status, 201);
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the other node kept accepting for a switched-off source"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let lag = start.elapsed();
    println!("switch-off reached the other node after {lag:?}");
    // From then on, always refused.
    for _ in 0..5 {
        assert_eq!(deliver_on(&other, &app, &hook, n).await, 409);
        n += 1;
    }

    // Rotation: the old secret is refused by the other node once the bus
    // reaches it; the new one works there.
    patch(&app, &owner.token, &hook, json!({"enabled": true})).await;
    let rotated = patch(&app, &owner.token, &hook, json!({"rotate_secret": true})).await;
    let start = Instant::now();
    while deliver_on(&other, &app, &hook, n).await != 401 {
        n += 1;
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "old secret still accepted"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut new = hook.clone();
    new["secret"] = rotated["secret"].clone();
    assert_eq!(deliver_on(&other, &app, &new, n + 1).await, 201);
    other.stop().await;
}
