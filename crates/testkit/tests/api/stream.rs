//! Live alerts as server-sent events (A6, C7, M5), across nodes on PostgreSQL (A7).

use super::support::join;
use leadteam_testkit::{Engine, TestApp, both_engines};
use serde_json::{Value, json};

both_engines!(
    r_a6_an_unassigned_lead_reaches_two_eligible_streams_and_not_a_third,
    r_m5_a_stream_stops_when_its_member_is_deactivated_or_signs_out,
);

async fn hook(app: &TestApp, token: &str) -> Value {
    let r = app
        .post(
            token,
            "/api/v1/lead-sources",
            json!({"kind": "webhook", "name": "Zapier"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

async fn send(app: &TestApp, src: &Value, name: &str) {
    let r = app
        .deliver_signed(
            &app.url(&format!("/hooks/{}", src["id"])),
            src["secret"].as_str().unwrap(),
            &json!({"name": name}).to_string(),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

async fn r_a6_an_unassigned_lead_reaches_two_eligible_streams_and_not_a_third(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, _) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let (rita, _) = join(app, &owner, "Rita", "rita@example.com", "Restricted").await;
    let src = hook(app, &owner.token).await;
    let mut s_owner = app
        .events(&owner.token, "/api/v1/notifications/stream")
        .await;
    let mut s_bob = app.events(&bob.token, "/api/v1/notifications/stream").await;
    let mut s_rita = app
        .events(&rita.token, "/api/v1/notifications/stream")
        .await;
    // On PostgreSQL the lead arrives through another node sharing the database.
    let other = if app.engine == Engine::Postgres {
        Some(app.another_node().await)
    } else {
        None
    };
    send(other.as_ref().unwrap_or(app), &src, "Stream Lead").await;
    for s in [&mut s_owner, &mut s_bob] {
        let (event, data) = s.next_within(5000).await.expect("an alert arrives");
        assert_eq!(event, "notification");
        let v: Value = serde_json::from_str(&data).unwrap();
        assert_eq!(v["kind"], "new_lead");
        assert_eq!(v["body"], "New lead: Stream Lead");
    }
    assert!(
        s_rita.next_within(700).await.is_none(),
        "a Restricted member hears nothing"
    );
    if let Some(o) = other {
        o.stop().await;
    }
}

async fn r_m5_a_stream_stops_when_its_member_is_deactivated_or_signs_out(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, bob_id) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let mut s_bob = app.events(&bob.token, "/api/v1/notifications/stream").await;
    let mut s_owner = app
        .events(&owner.token, "/api/v1/notifications/stream")
        .await;
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/members/{bob_id}/deactivate"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200);
    let (event, _) = s_bob
        .next_within(3000)
        .await
        .expect("the stream ends at once");
    assert_eq!(event, "end");
    assert_eq!(
        s_bob.next_within(3000).await.map(|e| e.0),
        Some("closed".to_owned())
    );
    // A new stream is refused.
    let r = app
        .http
        .get(app.url("/api/v1/notifications/stream"))
        .bearer_auth(&bob.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        app.delete(&owner.token, "/api/v1/sessions/current")
            .await
            .status,
        204
    );
    let (event, data) = s_owner
        .next_within(3000)
        .await
        .expect("sign-out ends the stream");
    assert_eq!((event.as_str(), data.as_str()), ("end", "signed out"));
}
