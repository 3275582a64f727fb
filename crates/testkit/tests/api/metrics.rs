//! `/metrics` shows what the product is for (issue 16): a lead moves the
//! counters it should (received by source kind and outcome, routing
//! decisions, claims), the time histograms count first assignments and
//! first contacts once, and the backlog, the outbox and the live streams
//! are read as they are.

use super::intake::{deliver, source};
use super::support::join;
use leadteam_testkit::{TestApp, both_engines};
use serde_json::json;

both_engines!(ops_metrics_a_lead_moves_each_counter_it_should);

/// The value of the sample `series` (name and labels as printed).
async fn sample(app: &TestApp, series: &str) -> f64 {
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.parse().unwrap())
}

async fn ops_metrics_a_lead_moves_each_counter_it_should(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, bob_id) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let src = source(app, &owner, "webhook", "Zapier").await;
    let accepted = r#"leadteam_leads_received_total{source_kind="webhook",outcome="accepted"}"#;
    let duplicate = r#"leadteam_leads_received_total{source_kind="webhook",outcome="duplicate"}"#;
    let refused = r#"leadteam_leads_received_total{source_kind="webhook",outcome="refused"}"#;
    let by_rule = r#"leadteam_routing_decisions_total{outcome="unassigned",reason="rule"}"#;
    let assigned = r#"leadteam_routing_decisions_total{outcome="assigned"}"#;
    let backlog = "leadteam_unassigned_backlog";

    // A new lead, left unassigned by the default rule.
    let r = deliver(app, &src, r#"{"name":"Lea","lead_id":"L-1"}"#, &[]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let lea = r.body["client_id"].as_i64().unwrap();
    assert_eq!(sample(app, accepted).await, 1.0);
    assert_eq!(sample(app, by_rule).await, 1.0);
    assert_eq!(sample(app, assigned).await, 0.0);
    assert_eq!(sample(app, backlog).await, 1.0);
    // The same lead again: a duplicate, no routing decision.
    let r = deliver(app, &src, r#"{"name":"Lea","lead_id":"L-1"}"#, &[]).await;
    assert_eq!(r.body["duplicate"], true, "{}", r.text);
    assert_eq!(sample(app, duplicate).await, 1.0);
    assert_eq!(sample(app, accepted).await, 1.0);
    assert_eq!(sample(app, by_rule).await, 1.0);
    // A bad signature: refused, nothing stored.
    let before = app.count("clients").await;
    let r = app
        .http
        .post(src["webhook_url"].as_str().unwrap())
        .header("x-leadteam-signature", "sha256=00")
        .body(r#"{"name":"Forged"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(sample(app, refused).await, 1.0);
    assert_eq!(app.count("clients").await, before, "nothing stored");

    // Claims: Bob wins, the owner loses; Lea waited for her first assignee.
    let claim = format!("/api/v1/clients/{lea}/claim");
    assert_eq!(app.post(&bob.token, &claim, json!({})).await.status, 200);
    assert_eq!(app.post(&owner.token, &claim, json!({})).await.status, 409);
    assert_eq!(
        sample(app, r#"leadteam_claims_total{result="won"}"#).await,
        1.0
    );
    assert_eq!(
        sample(app, r#"leadteam_claims_total{result="lost"}"#).await,
        1.0
    );
    assert_eq!(
        sample(app, "leadteam_time_to_assignment_seconds_count").await,
        1.0
    );
    assert_eq!(sample(app, backlog).await, 0.0);

    // First contact: Bob's first note counts, his second does not.
    let note = format!("/api/v1/clients/{lea}/notes");
    let first_contact = "leadteam_time_to_first_contact_seconds_count";
    assert_eq!(sample(app, first_contact).await, 0.0);
    assert_eq!(
        app.post(&bob.token, &note, json!({"body": "called"}))
            .await
            .status,
        201
    );
    assert_eq!(sample(app, first_contact).await, 1.0);
    assert_eq!(
        app.post(&bob.token, &note, json!({"body": "again"}))
            .await
            .status,
        201
    );
    assert_eq!(sample(app, first_contact).await, 1.0);

    // Round robin to Bob: an assigned decision, assigned at once.
    let r = app
        .put(
            &owner.token,
            "/api/v1/assignment-rules/default",
            json!({"type": "round_robin", "members": [{"member_id": bob_id}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = deliver(app, &src, r#"{"name":"Rob","lead_id":"L-2"}"#, &[]).await;
    assert_eq!(r.body["assignee_id"], bob_id, "{}", r.text);
    assert_eq!(sample(app, assigned).await, 1.0);
    assert_eq!(sample(app, accepted).await, 2.0);
    assert_eq!(
        sample(app, "leadteam_time_to_assignment_seconds_count").await,
        2.0
    );
    assert_eq!(
        sample(app, r#"leadteam_time_to_assignment_seconds_bucket{le="1"}"#).await,
        2.0,
        "the hand-set clock did not move: both within a second"
    );

    // Gauges read at scrape time.
    assert_eq!(sample(app, "leadteam_database_up").await, 1.0);
    assert_eq!(sample(app, "leadteam_streams_open").await, 0.0);
    let _stream = app.events(&bob.token, "/api/v1/notifications/stream").await;
    assert_eq!(sample(app, "leadteam_streams_open").await, 1.0);
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in [
        "leadteam_outbox_pending",
        "leadteam_outbox_oldest_age_seconds",
        "leadteam_unassigned_oldest_age_seconds",
        "leadteam_connections_open",
    ] {
        assert!(
            text.contains(&format!("\n{name} ")),
            "{name} missing:\n{text}"
        );
    }
}
