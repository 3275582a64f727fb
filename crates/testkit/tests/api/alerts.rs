//! Alerts (D3): opening one reads it, "mark all read" reads the member's own
//! and nobody else's.

use super::intake::{deliver, source};
use super::support::join;
use leadteam_testkit::{TestApp, both_engines};
use serde_json::{Value, json};

both_engines!(r_d3_mark_all_read_reads_only_the_callers_alerts,);

async fn r_d3_mark_all_read_reads_only_the_callers_alerts(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bea, _) = join(app, &owner, "Bea", "bea@example.com", "Member").await;
    let hook = source(app, &owner, "webhook", "Site").await;
    for i in 0..3 {
        let r = deliver(
            app,
            &hook,
            &json!({"name": format!("Lead {i}")}).to_string(),
            &[],
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let unread = |v: &Value| v["unread"].as_i64().unwrap();
    let before = app.get(&bea.token, "/api/v1/notifications").await;
    assert_eq!(unread(&before.body), 3, "{}", before.text);
    let r = app
        .post(&owner.token, "/api/v1/notifications/read-all", json!({}))
        .await;
    assert_eq!(
        (r.status, r.body["marked"].as_i64()),
        (200, Some(3)),
        "{}",
        r.text
    );
    assert_eq!(
        unread(&app.get(&owner.token, "/api/v1/notifications").await.body),
        0
    );
    // Bea's are still unread; marking again marks nothing.
    assert_eq!(
        unread(&app.get(&bea.token, "/api/v1/notifications").await.body),
        3
    );
    let r = app
        .post(&owner.token, "/api/v1/notifications/read-all", json!({}))
        .await;
    assert_eq!(r.body["marked"], 0);
    // Opening one of Bea's alerts in the browser path reads it and goes to
    // its client; someone else's alert is not found.
    let first = &before.body["notifications"][0];
    let id = first["id"].as_i64().unwrap();
    let client = first["client_id"].as_i64().unwrap();
    let r = app
        .http
        .get(app.url(&format!("/notifications/{id}/open")))
        .header("cookie", format!("lt_session={}", bea.token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        r.headers()["location"],
        format!("/clients/{client}").as_str()
    );
    assert_eq!(
        unread(&app.get(&bea.token, "/api/v1/notifications").await.body),
        2
    );
    let r = app
        .http
        .get(app.url(&format!("/notifications/{id}/open")))
        .header("cookie", format!("lt_session={}", owner.token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}
