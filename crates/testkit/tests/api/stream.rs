//! Live alerts as server-sent events (A6, C7, M5), across nodes on PostgreSQL (A7).

use super::support::join;
use leadteam_testkit::{Engine, TestApp, both_engines};
use serde_json::{Value, json};

both_engines!(
    r_a6_an_unassigned_lead_reaches_two_eligible_streams_and_not_a_third,
    r_m5_a_stream_stops_when_its_member_is_deactivated_or_signs_out,
    r_m5_a_stream_names_why_it_ended_even_when_no_event_told_it,
    r_m5_a_member_who_keeps_the_session_but_loses_access_hears_why,
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
    let (event, data) = s_bob
        .next_within(3000)
        .await
        .expect("the stream ends at once");
    // Deactivation signs the member out of this account (M5).
    assert_eq!((event.as_str(), data.as_str()), ("end", "signed out"));
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

/// The periodic re-check and the bus event race: whichever ends the stream
/// names the same reason. A session that expires sends no event at all, so
/// only the re-check sees it, and it must say the session ended.
async fn r_m5_a_stream_names_why_it_ended_even_when_no_event_told_it(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let mut s_owner = app
        .events(&owner.token, "/api/v1/notifications/stream")
        .await;
    // Past the idle expiry (14 days by default), with nobody signing out.
    app.clock.advance_ms(15 * 86_400_000);
    let (event, data) = s_owner
        .next_within(5000)
        .await
        .expect("the re-check ends a stream whose session expired");
    assert_eq!((event.as_str(), data.as_str()), ("end", "signed out"));
    assert_eq!(
        s_owner.next_within(3000).await.map(|e| e.0),
        Some("closed".to_owned())
    );
    assert_eq!(app.get(&owner.token, "/api/v1/me").await.status, 401);
}

/// Requiring two-factor authentication (O5) leaves a member without it signed
/// in but takes the alerts away: the stream says access ended.
async fn r_m5_a_member_who_keeps_the_session_but_loses_access_hears_why(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, _) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let mut s_bob = app.events(&bob.token, "/api/v1/notifications/stream").await;
    let r = app
        .patch(
            &owner.token,
            "/api/v1/account",
            json!({"require_2fa": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (event, data) = s_bob.next_within(5000).await.expect("the stream ends");
    assert_eq!((event.as_str(), data.as_str()), ("end", "access ended"));
    assert_eq!(app.get(&bob.token, "/api/v1/me").await.status, 200);
}
