//! Routing that knows time, in the browser: the away switch on the home
//! page, working hours, time off and holidays (A8), the first-contact limit
//! and a team target in the rule forms (A10, A13), the backlog (A11) and
//! the decision panel of a client, with "why not me" (A12).

use crate::harness::Browser;
use crate::work::{join, send_lead, sign_in};
use leadteam_domain::Timestamp;
use leadteam_testkit::{Engine, TestApp, spawn_app};
use serde_json::json;

/// Tuesday 8 December 2026, 10:00 UTC.
const TUESDAY_10: Timestamp = Timestamp(1_796_724_000_000);

async fn setup(test: &str) -> Option<(TestApp, Browser)> {
    let app = spawn_app(Engine::Sqlite).await?;
    app.clock.set(TUESDAY_10);
    let b = Browser::start(test, &app.base).await?;
    Some((app, b))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a8_a10_a11_a12_availability_speed_to_lead_backlog_and_why_in_the_browser() {
    let test = "a8_a10_a11_a12_availability_speed_to_lead_backlog_and_why_in_the_browser";
    let Some((app, mut b)) = setup(test).await else {
        return;
    };
    let owner = app
        .signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;
    let bob = join(&app, &owner, "Bob Member", "bob@example.com", "Member").await;
    let src = app
        .post(
            &owner.token,
            "/api/v1/lead-sources",
            json!({"kind": "webhook", "name": "Site"}),
        )
        .await;
    let (src_id, secret) = (
        src.body["id"].as_i64().unwrap(),
        src.body["secret"].as_str().unwrap().to_owned(),
    );

    sign_in(&b, "ann@example.com").await;
    // A8: the away switch on the home page.
    assert!(b.text("#my-availability").await.contains("Available"));
    b.click("#away-toggle").await;
    b.wait_text(".notice", "Away is on").await;
    assert!(
        b.text("#my-availability")
            .await
            .contains("Not available: away")
    );
    b.shot("home-away").await;
    b.click("#away-toggle").await;
    b.wait_text(".notice", "Welcome back").await;

    // Working hours in Kolkata: a wrong zone is refused next to its field.
    b.nav("/availability").await;
    b.wait_text("h1", "My availability").await;
    b.click("#any_hour").await;
    b.fill("#time_zone", "Mars/Olympus").await;
    for d in ["monday", "tuesday", "wednesday", "thursday", "friday"] {
        b.set_value(&format!("#{d}_start"), "09:00").await;
        b.set_value(&format!("#{d}_end"), "17:00").await;
    }
    b.click("#working-hours button[type=submit]").await;
    b.wait_text("#working-hours .field-error", "not a time zone name")
        .await;
    assert_eq!(
        b.value("#time_zone").await,
        "Mars/Olympus",
        "typed values are kept"
    );
    b.fill("#time_zone", "Asia/Kolkata").await;
    b.click("#working-hours button[type=submit]").await;
    b.wait_text(".notice", "working hours are saved").await;
    let r = app
        .get(
            &owner.token,
            &format!("/api/v1/members/{}/schedule", owner_id(&app, &owner).await),
        )
        .await;
    assert_eq!(r.body["time_zone"], "Asia/Kolkata", "{}", r.text);
    assert_eq!(r.body["hours"]["friday"][0]["end"], "17:00");
    // 10:00 UTC is 15:30 in Kolkata: available.
    assert!(b.text("#availability-now").await.contains("Available"));

    // Time off: the last day before the first is refused, then added.
    b.set_value("#from", "2026-12-24").await;
    b.set_value("#to", "2026-12-20").await;
    b.click("#add-time-off button[type=submit]").await;
    b.wait_text("#add-time-off .field-error", "on or after")
        .await;
    b.set_value("#to", "2026-12-31").await;
    b.fill("#note", "Year end").await;
    b.click("#add-time-off button[type=submit]").await;
    b.wait_text(".notice", "time off is added").await;
    assert!(b.text("#time-off table").await.contains("2026-12-31"));
    b.shot("availability").await;

    // A holiday of the account.
    b.goto("/holidays").await;
    b.wait_text("h1", "Holidays").await;
    b.set_value("#day", "2026-12-25").await;
    b.fill("#name", "Christmas").await;
    b.click("#add-holiday button[type=submit]").await;
    b.wait_text(".notice", "holiday is added").await;
    assert!(b.text("#holidays").await.contains("Christmas"));
    b.shot("holidays").await;

    // A10 in the default rule form: Bob alone in the round robin with a
    // capacity of one, first contact within 15 minutes.
    let r = app
        .patch(
            &owner.token,
            &format!("/api/v1/members/{bob}"),
            json!({"capacity": 1}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    b.goto("/leads/assignment").await;
    b.wait_text("h1", "Lead assignment").await;
    b.click("input[name=mode][value=round_robin]").await;
    b.click(&format!("input[name='on_{bob}']")).await;
    b.fill("#contact_minutes", "0").await;
    b.click("#default button[type=submit]").await;
    b.wait_text("#default .field-error", "between 1 and").await;
    b.fill("#contact_minutes", "15").await;
    b.fill("#contact_moves", "2").await;
    b.click("#default button[type=submit]").await;
    b.wait_text(".rules .default", "first contact within 15 working minutes")
        .await;
    b.shot("assignment-first-contact").await;
    let r = app.get(&owner.token, "/api/v1/assignment-rules").await;
    assert_eq!(
        r.body["default"]["action"]["first_contact"],
        json!({"minutes": 15, "max_moves": 2}),
        "{}",
        r.text
    );

    // Two leads: the first is Bob's, the second waits (Bob is full).
    let first = send_lead(&app, src_id, &secret, json!({"name": "Lea First"})).await;
    let second = send_lead(&app, src_id, &secret, json!({"name": "Wes Waiting"})).await;
    b.nav("/backlog").await;
    b.wait_text("h1", "Backlog").await;
    assert!(b.text("#backlog").await.contains("Wes Waiting"));
    assert!(b.text("#backlog").await.contains("at capacity"));
    b.shot("backlog").await;

    // The decision panel: why Bob, with his first-contact clock; and why
    // not me for the owner, who is not in the round robin.
    b.goto(&format!("/clients/{first}")).await;
    b.wait_text("#decision h2", "Why Bob Member").await;
    assert!(b.text("#decision").await.contains("Got the lead"));
    assert!(
        b.text("#first-contact")
            .await
            .contains("First contact due by 8 Dec 2026, 10:15 UTC")
    );
    b.click("#why-not-me summary").await;
    b.wait_text("#why-not-me p", "does not give leads to you")
        .await;
    b.shot("client-why").await;
    b.goto(&format!("/clients/{second}")).await;
    b.wait_text("#decision h2", "Why nobody has it").await;
    assert!(b.text("#decision").await.contains("at capacity 1/1"));

    // The owner gives Bob room: the waiting lead is his within seconds.
    let r = app
        .patch(
            &owner.token,
            &format!("/api/v1/members/{bob}"),
            json!({"capacity": 2}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let start = std::time::Instant::now();
    loop {
        let r = app
            .get(&owner.token, &format!("/api/v1/clients/{second}"))
            .await;
        if r.body["client"]["assignee_id"] == bob {
            break;
        }
        assert!(
            start.elapsed().as_secs() < 10,
            "the waiting lead never went to Bob"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    b.goto("/backlog").await;
    b.wait_text("#backlog-empty", "Nothing is waiting").await;

    // A manager sets Bob as away from the members list.
    b.goto("/members").await;
    b.wait_text("h1", "Members").await;
    b.click(&format!("#member-{bob} .menu summary")).await;
    b.click(&format!("#member-{bob} .away-toggle")).await;
    b.wait_text(".notice", "Away is on").await;
    assert!(b.text(&format!("#member-{bob}")).await.contains("Away"));
    b.shot("members-away").await;
    let r = app
        .get(&owner.token, &format!("/api/v1/members/{bob}/availability"))
        .await;
    assert_eq!(r.body["away"], true, "{}", r.text);
    b.finish().await;
    app.stop().await;
}

async fn owner_id(app: &TestApp, owner: &leadteam_testkit::User) -> i64 {
    app.get(&owner.token, "/api/v1/me").await.body["member_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("no member id"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x6_a_member_in_asia_kolkata_sees_local_times() {
    let test = "x6_a_member_in_asia_kolkata_sees_local_times";
    let Some((app, mut b)) = setup(test).await else {
        return;
    };
    let owner = app
        .signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;
    let c = app
        .post(
            &owner.token,
            "/api/v1/clients",
            json!({"name": "Lea Local"}),
        )
        .await;
    let client = c.body["id"].as_i64().unwrap();
    sign_in(&b, "ann@example.com").await;
    b.goto(&format!("/clients/{client}")).await;
    b.wait_text(".facts", "8 Dec 2026, 10:00 UTC").await;

    // The account's zone, on the Account page.
    b.goto("/account").await;
    b.fill("#time_zone", "Europe/Pariss").await;
    b.click("#account-name-form button[type=submit]").await;
    b.wait_text("#account-name-form .field-error", "not a time zone name")
        .await;
    b.fill("#time_zone", "Europe/Paris").await;
    b.click("#account-name-form button[type=submit]").await;
    b.wait_text(".notice", "saved").await;
    b.goto(&format!("/clients/{client}")).await;
    b.wait_text(".facts", "8 Dec 2026, 11:00 CET").await;

    // Her own zone, on her availability page.
    b.nav("/availability").await;
    b.wait_text("#my-time-zone", "Europe/Paris").await;
    b.fill("#zone", "Asia/Kolkata").await;
    b.click("#my-time-zone button[type=submit]").await;
    b.wait_text(".notice", "Your time zone is saved").await;
    b.wait_text("#my-time-zone", "Asia/Kolkata").await;
    b.goto(&format!("/clients/{client}")).await;
    b.wait_text(".facts", "8 Dec 2026, 15:30 IST").await;
    b.shot("client-in-kolkata").await;
    b.finish().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d3_a_lead_sent_to_the_webhook_shows_a_toast_and_updates_the_open_list() {
    let test = "d3_a_lead_sent_to_the_webhook_shows_a_toast_and_updates_the_open_list";
    let Some((app, mut b)) = setup(test).await else {
        return;
    };
    let owner = app
        .signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;
    let src = app
        .post(
            &owner.token,
            "/api/v1/lead-sources",
            json!({"kind": "webhook", "name": "Site"}),
        )
        .await;
    let (src_id, secret) = (
        src.body["id"].as_i64().unwrap(),
        src.body["secret"].as_str().unwrap().to_owned(),
    );
    sign_in(&b, "ann@example.com").await;
    // A toast on any page (here the home page) when a lead arrives.
    let first = send_lead(&app, src_id, &secret, json!({"name": "Tina Toast"})).await;
    b.wait_text("#toasts .toast", "Tina Toast").await;
    b.wait_text("#bell-count", "1").await;
    b.shot("toast").await;
    // The open alerts list updates without a reload.
    b.click("#bell").await;
    b.wait_text("h1", "Alerts").await;
    send_lead(&app, src_id, &secret, json!({"name": "Lou Live"})).await;
    b.wait_text("#notification-list li:first-child", "Lou Live")
        .await;
    b.wait_text("#bell-count", "2").await;
    b.shot("alerts-live").await;
    // Opening an alert reads it and goes to its client.
    b.click("#notification-list li:last-child a").await;
    b.wait_path(&format!("/clients/{first}")).await;
    let r = app.get(&owner.token, "/api/v1/notifications").await;
    assert_eq!(r.body["unread"], 1, "{}", r.text);
    // Mark all read.
    b.goto("/notifications").await;
    b.click("#read-all-form button").await;
    b.wait_text(".notice", "Every alert is marked read").await;
    let r = app.get(&owner.token, "/api/v1/notifications").await;
    assert_eq!(r.body["unread"], 0, "{}", r.text);
    assert!(
        b.c.find(fantoccini::Locator::Css("#bell-count[hidden]"))
            .await
            .is_ok()
    );
    b.finish().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn friction_cutting_someone_off_asks_first() {
    let test = "friction_cutting_someone_off_asks_first";
    let Some((app, b)) = setup(test).await else {
        return;
    };
    let owner = app
        .signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;
    let bob = join(&app, &owner, "Bob Member", "bob@example.com", "Member").await;
    sign_in(&b, "ann@example.com").await;
    b.goto("/members").await;
    b.wait_text("h1", "Members").await;
    // Deactivating signs Bob out: the browser asks first; saying no changes nothing.
    b.click(&format!("#member-{bob} .menu summary")).await;
    b.click(&format!("#member-{bob} form[action$='/deactivate'] button"))
        .await;
    let text = b.c.get_alert_text().await.expect("a confirmation is shown");
    assert!(text.contains("signed out at once"), "{text}");
    b.c.dismiss_alert().await.unwrap();
    let r = app
        .get(&owner.token, &format!("/api/v1/members/{bob}"))
        .await;
    assert_eq!(r.body["status"], "active", "{}", r.text);
    // Saying yes deactivates.
    b.click(&format!("#member-{bob} form[action$='/deactivate'] button"))
        .await;
    b.c.accept_alert().await.unwrap();
    b.wait_text(".notice", "deactivated").await;
    let r = app
        .get(&owner.token, &format!("/api/v1/members/{bob}"))
        .await;
    assert_eq!(r.body["status"], "deactivated", "{}", r.text);
    b.finish().await;
    app.stop().await;
}
