//! Outbound webhooks (I8): real deliveries to a receiver on a local port
//! (allowed through the operator's network setting), signed, with the same
//! event id on a retry after a 500; the same URL refused without the
//! setting, when saved and again at delivery; a subscription that keeps
//! failing is switched off and its admin alerted.

use super::standin::StandIn;
use leadteam_domain::net::Network;
use leadteam_domain::webhooks::verify_signature;
use leadteam_testkit::{Clock, Engine, Options, TestApp, both_engines};
use serde_json::{Value, json};

/// Runs `story(app, receiver)` on both engines with webhooks allowed to
/// reach the loopback network (or not).
macro_rules! with_receiver {
    ($allow:expr; $($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::run(leadteam_testkit::Engine::Sqlite, $allow, super::$name).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::run(leadteam_testkit::Engine::Postgres, $allow, super::$name).await;
            }
        }
    )*};
}

with_receiver!(true;
    r_i8_events_are_delivered_signed_and_retried_after_a_500_with_the_same_event_id,
    r_i8_every_change_to_the_subscriptions_decides_the_very_next_lead,
    r_i8_every_change_to_the_subscriptions_decides_the_very_next_single_event,
    r_i8_a_subscription_that_keeps_failing_is_switched_off_and_its_admin_alerted,
);
with_receiver!(false;
    r_i8_a_loopback_url_is_refused_when_saved_and_again_when_delivering,
);
both_engines!(r_i8_private_link_local_and_metadata_urls_are_refused_and_nothing_is_stored);

/// I8 across nodes (issue 19): each node keeps the subscriptions in memory
/// and the bus tells it of every change made on another. A subscription
/// created on node A, then switched off there, decides the events node B
/// writes for its leads as soon as the bus reaches B (waited for, within 5
/// s), and every one after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_i8_two_nodes_a_subscription_changed_on_one_node_decides_the_others_events() {
    let receiver = StandIn::start(vec![(200, "{}".into())]).await;
    let mut opts = Options::default();
    opts.integrations.webhook_allow_networks = Network::parse_list("127.0.0.0/8").unwrap();
    let Some(app) = leadteam_testkit::spawn_with(Engine::Postgres, opts).await else {
        return;
    };
    let other = app.another_node().await;
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let hook = super::intake::source(&app, &owner, "webhook", "Zap").await;
    let mut n = 0;
    let mut lead_on_b = || {
        n += 1;
        let (other, app, hook) = (&other, &app, &hook);
        async move {
            let status = super::intake_sources::deliver_on(other, app, hook, n).await;
            assert_eq!(status, 201, "lead {n} on node B");
        }
    };
    // Node B takes a lead before anyone subscribes: it now keeps that the
    // account has no subscription.
    lead_on_b().await;
    assert_eq!(app.count("webhook_events").await, 0, "nobody subscribed");

    let a = subscribe(
        &app,
        &owner.token,
        &format!("{}/hook", receiver.base),
        &["lead.created"],
    )
    .await;
    assert_eq!(a.status, 201, "{}", a.text);
    let a = a.body["id"].as_i64().unwrap();
    let start = std::time::Instant::now();
    while events_of(&app, &owner.token, a).await == 0 {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "node B never wrote an event for a subscription made on node A"
        );
        lead_on_b().await;
    }
    println!(
        "the subscription reached node B after {:?}",
        start.elapsed()
    );
    for _ in 0..3 {
        let before = events_of(&app, &owner.token, a).await;
        lead_on_b().await;
        assert_eq!(
            events_of(&app, &owner.token, a).await,
            before + 1,
            "one event per lead on B"
        );
    }

    let r = app
        .patch(
            &owner.token,
            &format!("/api/v1/webhooks/{a}"),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let start = std::time::Instant::now();
    loop {
        let before = events_of(&app, &owner.token, a).await;
        lead_on_b().await;
        if events_of(&app, &owner.token, a).await == before {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "node B kept writing events for a subscription switched off on node A"
        );
    }
    println!("the switch-off reached node B after {:?}", start.elapsed());
    let before = events_of(&app, &owner.token, a).await;
    for _ in 0..3 {
        lead_on_b().await;
    }
    assert_eq!(
        events_of(&app, &owner.token, a).await,
        before,
        "switched off: no event from B"
    );
    other.stop().await;
    app.stop().await;
}

async fn run<F, Fut>(engine: Engine, allow: bool, story: F)
where
    F: FnOnce(TestApp, StandIn) -> Fut,
    Fut: std::future::Future<Output = TestApp>,
{
    let receiver = StandIn::start(vec![(500, "{}".into()), (200, "{}".into())]).await;
    let mut opts = Options::default();
    if allow {
        opts.integrations.webhook_allow_networks = Network::parse_list("127.0.0.0/8").unwrap();
    }
    let Some(app) = leadteam_testkit::spawn_with(engine, opts).await else {
        return;
    };
    let app = story(app, receiver).await;
    app.stop().await;
}

async fn subscribe(
    app: &TestApp,
    token: &str,
    url: &str,
    events: &[&str],
) -> leadteam_testkit::Resp {
    app.post(
        token,
        "/api/v1/webhooks",
        json!({"url": url, "events": events}),
    )
    .await
}

async fn r_i8_events_are_delivered_signed_and_retried_after_a_500_with_the_same_event_id(
    app: TestApp,
    receiver: StandIn,
) -> TestApp {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let r = subscribe(
        &app,
        &owner.token,
        &format!("{}/hook", receiver.base),
        &["lead.created", "member.invited"],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let hook = r.body["id"].as_i64().unwrap();
    let src = app
        .post(
            &owner.token,
            "/api/v1/lead-sources",
            json!({"kind": "webhook", "name": "Zap"}),
        )
        .await;
    let sid = src.body["id"].as_i64().unwrap();
    // A lead: written with its event in one transaction, sent at once.
    let t = test_lead(&app, &owner.token, sid).await;
    let client = t.body["lead"]["client_id"].as_i64().unwrap();
    // The first attempt gets a 500; the retry (due 200 ms later on the
    // app's clock) gets a 200.
    let clock = app.clock.clone();
    let seen = receiver.wait_for(2, 15, || clock.advance_ms(100)).await;
    assert_eq!(seen.len(), 2, "a delivery and its retry: {seen:?}");
    let (a, b) = (&seen[0], &seen[1]);
    let id = |s: &super::standin::Seen| s.headers["leadteam-event-id"].to_str().unwrap().to_owned();
    assert_eq!(id(a), id(b), "a retry carries the same event id");
    assert_eq!(a.body, b.body);
    let body: Value = serde_json::from_slice(&b.body).unwrap();
    assert_eq!(body["type"], "lead.created");
    assert_eq!(body["id"], id(b));
    assert_eq!(body["data"]["client_id"], client);
    let sig = b.headers["leadteam-signature"].to_str().unwrap();
    let now_secs = app.clock.now().0 / 1000;
    assert!(
        verify_signature(secret.as_bytes(), sig, &b.body, now_secs, 300),
        "{sig}"
    );
    assert!(!verify_signature(b"wrong", sig, &b.body, now_secs, 300));
    // The deliveries are listed with their outcome.
    let mut d = Value::Null;
    for _ in 0..50 {
        d = app
            .get(&owner.token, &format!("/api/v1/webhooks/{hook}/deliveries"))
            .await
            .body;
        if d["deliveries"][0]["state"] == "delivered" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let first = &d["deliveries"][0];
    assert_eq!(
        (first["state"].as_str(), first["attempts"].as_i64()),
        (Some("delivered"), Some(2)),
        "{d}"
    );
    assert_eq!(first["last_status"], 200);
    // An event nobody subscribed to writes nothing.
    assert_eq!(app.count("webhook_events").await, 1);
    // member.invited goes out too.
    let rid = super::support::role_id(&app, &owner, "Member").await;
    app.post(
        &owner.token,
        "/api/v1/invitations",
        json!({"name": "Bea", "email": "bea@example.com", "role_id": rid}),
    )
    .await;
    let seen = receiver.wait_for(3, 10, || clock.advance_ms(100)).await;
    let last: Value = serde_json::from_slice(&seen[2].body).unwrap();
    assert_eq!(last["type"], "member.invited");
    assert_eq!(last["data"]["email"], "bea@example.com");
    app
}

async fn r_i8_a_subscription_that_keeps_failing_is_switched_off_and_its_admin_alerted(
    app: TestApp,
    _receiver: StandIn,
) -> TestApp {
    let failing = StandIn::start(vec![(503, "{}".into())]).await;
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let r = subscribe(
        &app,
        &owner.token,
        &format!("{}/down", failing.base),
        &["lead.created"],
    )
    .await;
    let hook = r.body["id"].as_i64().unwrap();
    let src = app
        .post(
            &owner.token,
            "/api/v1/lead-sources",
            json!({"kind": "webhook", "name": "Zap"}),
        )
        .await;
    let sid = src.body["id"].as_i64().unwrap();
    // Three events, each given up after 4 attempts: switched off (3 in a row).
    for _ in 0..3 {
        test_lead(&app, &owner.token, sid).await;
    }
    let clock = app.clock.clone();
    let mut w = Value::Null;
    for _ in 0..300 {
        clock.advance_ms(1_000);
        w = app.get(&owner.token, "/api/v1/webhooks").await.body;
        if w["webhooks"][0]["enabled"] == false {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    assert_eq!(w["webhooks"][0]["enabled"], false, "{w}");
    assert!(
        w["webhooks"][0]["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("503"),
        "{w}"
    );
    let n = app.get(&owner.token, "/api/v1/notifications").await;
    assert!(
        n.text.contains("switched off"),
        "the admin is alerted: {}",
        n.text
    );
    let d = app
        .get(&owner.token, &format!("/api/v1/webhooks/{hook}/deliveries"))
        .await;
    assert!(
        d.body["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["state"] == "failed"),
        "{}",
        d.text
    );
    // Switched off by the worker, it gets no event of the next lead (the
    // node that takes leads keeps the subscriptions in memory: the worker
    // makes it forget them).
    test_lead(&app, &owner.token, sid).await;
    assert_eq!(events_of(&app, &owner.token, hook).await, 3);
    // Switched on again, its failures start again, and leads go out again.
    let r = app
        .patch(
            &owner.token,
            &format!("/api/v1/webhooks/{hook}"),
            json!({"enabled": true}),
        )
        .await;
    assert_eq!(
        (r.body["enabled"].as_bool(), r.body["failures"].as_i64()),
        (Some(true), Some(0))
    );
    test_lead(&app, &owner.token, sid).await;
    assert_eq!(events_of(&app, &owner.token, hook).await, 4);
    app
}

/// A test lead of source `sid`, through the intake of every lead.
async fn test_lead(app: &TestApp, token: &str, sid: i64) -> leadteam_testkit::Resp {
    let t = app
        .post(
            token,
            &format!("/api/v1/lead-sources/{sid}/test"),
            json!({}),
        )
        .await;
    assert_eq!(t.status, 201, "{}", t.text);
    t
}

/// How many events were written for subscription `hook` (its deliveries).
async fn events_of(app: &TestApp, token: &str, hook: i64) -> usize {
    let d = app
        .get(token, &format!("/api/v1/webhooks/{hook}/deliveries"))
        .await;
    assert_eq!(d.status, 200, "{}", d.text);
    d.body["deliveries"].as_array().unwrap().len()
}

/// I8 with the subscriptions kept in memory by the node that takes leads
/// (issue 19): each change to them — created, events changed, switched off
/// and on, deleted, another created — decides the events of the very next
/// lead.
async fn r_i8_every_change_to_the_subscriptions_decides_the_very_next_lead(
    app: TestApp,
    receiver: StandIn,
) -> TestApp {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let hook = super::intake::source(&app, &owner, "webhook", "Zap").await;
    let mut n = 0;
    let lead = || {
        n += 1;
        let (app, hook) = (&app, &hook);
        async move {
            let r =
                super::intake::deliver(app, hook, &format!(r#"{{"name":"Lead {n}"}}"#), &[]).await;
            assert_eq!(r.status, 201, "{}", r.text);
        }
    };
    each_change_decides_the_next(&app, &owner.token, &receiver, "lead.created", lead).await;
    app
}

/// I8 for the events a use case writes one at a time (an invitation, a
/// claim, an assignment): they read the subscriptions this node keeps too
/// (issue 19), so each change to them decides the very next event.
async fn r_i8_every_change_to_the_subscriptions_decides_the_very_next_single_event(
    app: TestApp,
    receiver: StandIn,
) -> TestApp {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let mut n = 0;
    let invite = || {
        n += 1;
        let (app, token) = (&app, owner.token.clone());
        async move {
            let r = app
                .post(
                    &token,
                    "/api/v1/invitations",
                    json!({"name": format!("Rep {n}"), "email": format!("rep{n}@example.com")}),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.text);
        }
    };
    each_change_decides_the_next(&app, &owner.token, &receiver, "member.invited", invite).await;
    app
}

/// The story of both tests above: `next()` makes the account write one
/// `event`; before each call the owner changes its subscriptions, and the
/// deliveries show that the change decided that very event.
async fn each_change_decides_the_next<F, Fut>(
    app: &TestApp,
    token: &str,
    receiver: &StandIn,
    event: &str,
    mut next: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let other = if event == "member.invited" {
        "lead.created"
    } else {
        "member.invited"
    };
    let url = format!("{}/hook", receiver.base);
    next().await;
    assert_eq!(
        app.count("webhook_events").await,
        0,
        "nobody subscribed: nothing written"
    );
    let a = subscribe(app, token, &url, &[event]).await;
    assert_eq!(a.status, 201, "{}", a.text);
    let a = a.body["id"].as_i64().unwrap();
    next().await;
    assert_eq!(events_of(app, token, a).await, 1, "created");
    let patch = |body: Value| async move {
        let r = app
            .patch(token, &format!("/api/v1/webhooks/{a}"), body)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    };
    patch(json!({"events": [other]})).await;
    next().await;
    assert_eq!(events_of(app, token, a).await, 1, "{event} no longer named");
    patch(json!({"events": [other, event]})).await;
    next().await;
    assert_eq!(events_of(app, token, a).await, 2, "named again");
    patch(json!({"enabled": false})).await;
    next().await;
    assert_eq!(events_of(app, token, a).await, 2, "switched off");
    patch(json!({"enabled": true})).await;
    next().await;
    assert_eq!(events_of(app, token, a).await, 3, "switched on");
    let r = app.delete(token, &format!("/api/v1/webhooks/{a}")).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let before = app.count("webhook_events").await;
    next().await;
    assert_eq!(app.count("webhook_events").await, before, "deleted");
    let b = subscribe(app, token, &url, &[event]).await;
    assert_eq!(b.status, 201, "{}", b.text);
    let b = b.body["id"].as_i64().unwrap();
    next().await;
    assert_eq!(events_of(app, token, b).await, 1, "a new subscription");
}

async fn r_i8_a_loopback_url_is_refused_when_saved_and_again_when_delivering(
    app: TestApp,
    receiver: StandIn,
) -> TestApp {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let url = format!("{}/hook", receiver.base);
    let r = subscribe(&app, &owner.token, &url, &["lead.created"]).await;
    assert_eq!((r.status, r.field()), (422, Some("url")), "{}", r.text);
    assert!(r.text.contains("loopback"), "{}", r.text);
    assert_eq!(app.count("webhooks").await, 0, "nothing stored");
    // Saved while DNS said otherwise (written as the use case would): the
    // delivery checks again and refuses, and the receiver hears nothing.
    let account = owner.account_id.unwrap();
    let mut c = app.db.conn().await.unwrap();
    let hook: i64 = sqlx::query_scalar(
        "INSERT INTO webhooks (account_id, url, events, secret, created_at, updated_at) VALUES ($1, $2, '[\"lead.created\"]', 'whsec_x', 0, 0) RETURNING id",
    )
    .bind(account)
    .bind(&url)
    .fetch_one(&mut *c)
    .await
    .unwrap();
    drop(c);
    let src = app
        .post(
            &owner.token,
            "/api/v1/lead-sources",
            json!({"kind": "webhook", "name": "Zap"}),
        )
        .await;
    let sid = src.body["id"].as_i64().unwrap();
    app.post(
        &owner.token,
        &format!("/api/v1/lead-sources/{sid}/test"),
        json!({}),
    )
    .await;
    let mut d = Value::Null;
    for _ in 0..100 {
        d = app
            .get(&owner.token, &format!("/api/v1/webhooks/{hook}/deliveries"))
            .await
            .body;
        if d["deliveries"][0]["attempts"].as_i64().unwrap_or(0) >= 1
            && d["deliveries"][0]["last_error"].is_string()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let e = d["deliveries"][0]["last_error"]
        .as_str()
        .unwrap_or_default();
    assert!(e.contains("refused") && e.contains("loopback"), "{d}");
    assert!(
        receiver.seen().is_empty(),
        "nothing reached the loopback address"
    );
    app
}

async fn r_i8_private_link_local_and_metadata_urls_are_refused_and_nothing_is_stored(
    app: &TestApp,
) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    for url in [
        "http://10.0.0.5/hook",
        "http://192.168.1.20/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/hook",
        "http://[fe80::1]/hook",
        "http://localhost:9/hook",
        "ftp://example.com/hook",
        "https://user:pass@example.com/hook",
    ] {
        let r = subscribe(app, &owner.token, url, &["lead.created"]).await;
        assert_eq!(
            (r.status, r.field()),
            (422, Some("url")),
            "{url}: {}",
            r.text
        );
    }
    let r = subscribe(app, &owner.token, "http://10.0.0.5/hook", &["lead.nope"]).await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("events[0]"), "{}", r.text);
    assert_eq!(app.count("webhooks").await, 0);
    assert_eq!(
        app.count("audit_log WHERE action LIKE 'webhook.%'").await,
        0
    );
}
