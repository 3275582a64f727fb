//! The journeys of the daily work in the browser: a lead arrives by signed
//! webhook and shows unassigned in teal, a member claims it, the owner
//! reassigns it; the bell counts alerts live; the lead assignment rules.

use crate::harness::Browser;
use leadteam_testkit::{Engine, PASSWORD, TestApp, User, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

async fn setup(test: &str) -> Option<(TestApp, Browser)> {
    let app = spawn_app(Engine::Sqlite).await?;
    let b = Browser::start(test, &app.base).await?;
    Some((app, b))
}

/// Invites `email` with the role `role` over the API and accepts the emailed
/// invitation; returns the new member's id.
pub async fn join(app: &TestApp, owner: &User, name: &str, email: &str, role: &str) -> i64 {
    let mut c = app.db.conn().await.unwrap();
    let role_id: i64 =
        sqlx::query_scalar("SELECT id FROM roles WHERE account_id = $1 AND name = $2")
            .bind(owner.account_id.unwrap())
            .bind(role)
            .fetch_one(&mut *c)
            .await
            .unwrap();
    let r = app
        .post(
            &owner.token,
            "/api/v1/invitations",
            json!({"name": name, "email": email, "role_id": role_id}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let member = r.body["id"].as_i64().unwrap();
    drop(c);
    accept_mailed(app, email).await;
    member
}

/// Accepts the invitation mailed to `email` (to join, or as a guest);
/// returns the new session's token.
pub async fn accept_mailed(app: &TestApp, email: &str) -> String {
    let body = app
        .wait_for_mail(email, std::time::Duration::from_secs(10))
        .await
        .body;
    let at = body.find("token=").unwrap() + "token=".len();
    let token = body[at..].split_whitespace().next().unwrap();
    let r = app
        .call(
            Method::POST,
            "/api/v1/invitations/accept",
            None,
            Some(json!({"token": token, "password": PASSWORD})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["session"]["token"].as_str().unwrap().to_owned()
}

/// A webhook lead source created over the API (with its secret).
pub async fn webhook_source(app: &TestApp, owner: &User, name: &str) -> Value {
    let r = app
        .post(
            &owner.token,
            "/api/v1/lead-sources",
            json!({"kind": "webhook", "name": name}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

/// Delivers `lead` to source `id`, signed with `secret`; returns the client id.
pub async fn send_lead(app: &TestApp, id: i64, secret: &str, lead: Value) -> i64 {
    let r = app
        .deliver_signed(
            &app.url(&format!("/hooks/{id}")),
            secret,
            &lead.to_string(),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["client_id"].as_i64().unwrap()
}

pub async fn sign_in(b: &Browser, email: &str) {
    b.goto("/signin").await;
    b.fill("#email", email).await;
    b.fill("#password", PASSWORD).await;
    b.click("#signin-form button[type=submit]").await;
    b.wait_text("h1", "Hello").await;
}

pub async fn sign_out(b: &Browser) {
    b.click(".signout button").await;
    b.wait_text(".notice", "You are signed out").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c2_c3_a_webhook_lead_shows_unassigned_in_teal_the_member_claims_it_and_the_owner_reassigns_it()
 {
    let test = "c2_c3_a_webhook_lead_shows_unassigned_in_teal_the_member_claims_it_and_the_owner_reassigns_it";
    let Some((app, mut b)) = setup(test).await else {
        return;
    };
    let owner = app
        .signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;
    join(&app, &owner, "Bob Member", "bob@example.com", "Member").await;
    join(&app, &owner, "Cara Manager", "cara@example.com", "Manager").await;
    let src = webhook_source(&app, &owner, "Website").await;
    let (src_id, secret) = (
        src["id"].as_i64().unwrap(),
        src["secret"].as_str().unwrap().to_owned(),
    );

    // Bob's list is empty and says what to do next; the bell shows no count.
    sign_in(&b, "bob@example.com").await;
    b.nav("/clients").await;
    b.wait_text("h1", "Clients").await;
    assert!(
        b.text(".empty")
            .await
            .contains("Add one with the form below")
    );
    assert_eq!(
        b.attr("#bell", "aria-label").await.as_deref(),
        Some("Alerts: 0 unread")
    );
    b.shot("clients-empty").await;

    // A lead arrives by signed webhook: the bell counts it live.
    let client = send_lead(
        &app,
        src_id,
        &secret,
        json!({"name": "Lena Lead", "email": "lena@example.com", "city": "Lyon"}),
    )
    .await;
    b.wait_text("#bell-count", "1").await;
    assert_eq!(
        b.attr("#bell", "aria-label").await.as_deref(),
        Some("Alerts: 1 unread")
    );
    b.shot("bell-live").await;

    // It is in Bob's list, unassigned, in teal with the word.
    b.goto("/clients").await;
    let row = format!("#client-{client}");
    b.wait_text(&row, "Lena Lead").await;
    assert!(
        b.text(&format!("{row} .badge.unassigned"))
            .await
            .contains("Unassigned")
    );
    let teal =
        b.c.execute(
            "return getComputedStyle(document.querySelector(arguments[0])).backgroundColor;",
            vec![json!(format!("{row} .badge.unassigned"))],
        )
        .await
        .unwrap();
    assert_eq!(teal, json!("rgb(15, 118, 110)"));
    b.shot("clients-unassigned-lead").await;

    // Bob claims it.
    b.click(&format!("{row} form[action$='/claim'] button"))
        .await;
    b.wait_text(".notice", "The client is yours now").await;
    b.wait_text(&row, "You").await;
    assert!(
        b.c.find(fantoccini::Locator::Css(&format!(
            "{row} .badge.unassigned"
        )))
        .await
        .is_err()
    );
    b.shot("clients-claimed").await;

    // His client page: the routing reason, the custom field, the timeline.
    b.click(&format!("{row} td.client a")).await;
    b.wait_text("h1", "Lena Lead").await;
    assert!(b.text(".facts").await.contains("unassigned"));
    assert!(b.text("main").await.contains("Lyon"));
    b.wait_text(".timeline", "Bob Member claimed the client")
        .await;
    b.fill("#body", "Called her, she wants a demo on Monday.")
        .await;
    b.click("form[action$='/notes'] button[type=submit]").await;
    b.wait_text(".notice", "Your note is on the timeline").await;
    b.wait_text(".timeline", "wants a demo on Monday").await;
    b.fill("#phone", "+33 6 12 34 56 78").await;
    b.find("#status")
        .await
        .select_by_value("contacted")
        .await
        .unwrap();
    b.click("form[action$='/edit'] button[type=submit]").await;
    b.wait_text(".notice", "The contact details are saved")
        .await;
    b.wait_text(".facts", "Contacted").await;
    b.shot("client-page-member").await;

    // The alerts page: mark the alert read; the bell goes back to no count.
    b.click("#bell").await;
    b.wait_text("h1", "Alerts").await;
    b.wait_text("#notification-list", "New lead: Lena Lead")
        .await;
    b.shot("alerts").await;
    b.click("#notification-list form button").await;
    b.wait_text(".notice", "marked read").await;
    assert_eq!(
        b.attr("#bell", "aria-label").await.as_deref(),
        Some("Alerts: 0 unread")
    );
    sign_out(&b).await;

    // The owner reassigns it to Cara on the client page.
    sign_in(&b, "ann@example.com").await;
    b.goto(&format!("/clients/{client}")).await;
    b.wait_text("h1", "Lena Lead").await;
    b.find("#assign_to")
        .await
        .select_by_label("Cara Manager")
        .await
        .unwrap();
    b.shot("client-page-owner").await;
    b.click("#reassign button[type=submit]").await;
    b.wait_text(".notice", "The client is assigned").await;
    b.wait_text(
        ".timeline",
        "Ann Owner reassigned it from Bob Member to Cara Manager",
    )
    .await;
    assert!(b.text(".facts").await.contains("Cara Manager"));
    // The owner is not the assignee: no note form.
    assert!(b.c.find(fantoccini::Locator::Css("#body")).await.is_err());
    b.shot("client-reassigned").await;
    let r = app
        .get(&owner.token, &format!("/api/v1/clients/{client}"))
        .await;
    assert_eq!(
        r.body["client"]["assignee_name"], "Cara Manager",
        "{}",
        r.text
    );

    // Delivered to Bob with an outcome; a guest invited to this client only.
    b.find("#to")
        .await
        .select_by_label("Bob Member")
        .await
        .unwrap();
    b.fill("#outcome", "qualified").await;
    b.click("form[action$='/deliver'] button[type=submit]")
        .await;
    b.wait_text(".notice", "The client is delivered").await;
    b.wait_text(".timeline", "Outcome: qualified").await;
    b.fill("#guest_name", "Gina Guest").await;
    b.fill("#guest_email", "gina@example.com").await;
    b.click("form[action$='/guests'] button[type=submit]").await;
    b.wait_text(".notice", "The guest is invited").await;
    b.wait_text(".timeline", "invited Gina Guest as a guest")
        .await;
    b.shot("client-delivered-guest").await;

    // The team tab counts clients per member and links the lists.
    b.goto("/clients/team").await;
    b.wait_text("h1", "Team").await;
    b.shot("team-tab").await;
    assert!(b.text("main").await.contains("qualified"));
    b.click("a[aria-label='1 client of Bob Member']").await;
    b.wait_text("h1", "Clients of Bob Member").await;
    b.wait_text(&row, "Lena Lead").await;
    b.shot("team-list-of-bob").await;
    // Every client of Bob at once, from his list (C5).
    b.find("#bulk_all_of")
        .await
        .select_by_label("Bob Member")
        .await
        .unwrap();
    b.find("#bulk_to")
        .await
        .select_by_label("Cara Manager")
        .await
        .unwrap();
    b.click("#bulk button[type=submit]").await;
    b.wait_text("main", "1 client reassigned").await;
    let r = app
        .get(&owner.token, &format!("/api/v1/clients/{client}"))
        .await;
    assert_eq!(
        r.body["client"]["assignee_name"], "Cara Manager",
        "{}",
        r.text
    );

    // Phone width.
    b.c.set_window_size(360, 800).await.unwrap();
    b.goto("/clients").await;
    b.wait_text(&row, "Lena Lead").await;
    b.shot("clients-phone").await;
    b.goto(&format!("/clients/{client}")).await;
    b.wait_text("h1", "Lena Lead").await;
    b.shot("client-phone").await;

    b.finish().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p6_c5_the_owner_adds_clients_and_reassigns_them_in_bulk() {
    let test = "p6_c5_the_owner_adds_clients_and_reassigns_them_in_bulk";
    let Some((app, mut b)) = setup(test).await else {
        return;
    };
    let owner = app
        .signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;
    let bob = join(&app, &owner, "Bob Member", "bob@example.com", "Member").await;
    sign_in(&b, "ann@example.com").await;
    b.goto("/clients").await;
    b.wait_text("h1", "Clients").await;

    // A bad email is said next to the field; the name typed is kept.
    b.fill("#name", "Paul Prospect").await;
    b.fill("#email", "paul-at-example").await;
    b.click("#add-client button[type=submit]").await;
    b.wait_text("#email-error", "email").await;
    assert_eq!(b.value("#name").await, "Paul Prospect");
    assert_eq!(
        b.attr("#email", "aria-invalid").await.as_deref(),
        Some("true")
    );
    b.shot("add-client-error").await;
    b.fill("#email", "paul@example.com").await;
    b.click("#add-client button[type=submit]").await;
    b.wait_text(".notice", "The client is added and assigned to you")
        .await;
    b.wait_text("h1", "Paul Prospect").await;
    b.shot("client-added").await;
    for name in ["Quinn Prospect", "Rita Prospect"] {
        b.goto("/clients").await;
        b.click("#add-client summary").await;
        b.fill("#name", name).await;
        b.click("#add-client button[type=submit]").await;
        b.wait_text("h1", name).await;
    }

    // Search, then bulk: tick two and give them to Bob.
    b.goto("/clients").await;
    b.fill("#q", "quinn").await;
    b.click("form[role=search] button[type=submit]").await;
    b.wait_text("table.clients", "Quinn Prospect").await;
    assert!(!b.text("table.clients").await.contains("Rita"));
    b.shot("search").await;
    b.goto("/clients").await;
    let r = app.get(&owner.token, "/api/v1/clients").await;
    let ids: Vec<i64> = r.body["clients"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] != "Rita Prospect")
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{}", r.text);
    for id in &ids {
        b.click(&format!("#pick-{id}")).await;
    }
    b.find("#bulk_to")
        .await
        .select_by_label("Bob Member")
        .await
        .unwrap();
    b.shot("bulk-ticked").await;
    b.click("#bulk button[type=submit]").await;
    b.wait_text(".notice", "2 clients reassigned").await;
    b.shot("bulk-done").await;
    // "Select all" ticks every row that may be reassigned, and only those.
    b.click("#pick-all").await;
    let all =
        b.c.execute(
            "var boxes = Array.from(document.querySelectorAll('input[name=client_ids]')); \
             return boxes.length > 0 && boxes.every(function (x) { return x.checked; });",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(all, serde_json::json!(true));
    for id in ids {
        let c = app
            .get(&owner.token, &format!("/api/v1/clients/{id}"))
            .await;
        assert_eq!(c.body["client"]["assignee_id"].as_i64(), Some(bob));
    }
    b.finish().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p5_p8_groups_and_content_show_each_action_as_permissions_allow() {
    let test = "p5_p8_groups_and_content_show_each_action_as_permissions_allow";
    let Some((app, mut b)) = setup(test).await else {
        return;
    };
    let owner = app
        .signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;
    join(&app, &owner, "Bob Member", "bob@example.com", "Member").await;
    sign_in(&b, "ann@example.com").await;

    // Groups: a name is required; create, edit, delete.
    b.nav("/groups").await;
    b.wait_text("h1", "Client groups").await;
    assert!(b.text(".empty").await.contains("Create the first one"));
    b.click("main form[action='/groups'] button[type=submit]")
        .await;
    b.wait_text("#name-error", "Name is required").await;
    b.shot("group-error").await;
    b.fill("#name", "Trade fair 2026").await;
    b.find("#color")
        .await
        .select_by_label("Teal")
        .await
        .unwrap();
    b.click("main form[action='/groups'] button[type=submit]")
        .await;
    b.wait_text(".notice", "The group is created").await;
    b.wait_text("table.list", "Trade fair 2026").await;
    b.find("table.list svg.swatch").await;
    b.click("table.list a.button").await;
    b.wait_text("h1", "Edit the group Trade fair 2026").await;
    b.fill("#description", "Met at the stand").await;
    b.click("main form button[type=submit]").await;
    b.wait_text(".notice", "The group is saved").await;
    b.wait_text("table.list", "Met at the stand").await;
    b.shot("groups").await;

    // Content: a template needs its subject; shared content Bob sees.
    b.nav("/content").await;
    b.wait_text("h1", "Content").await;
    b.fill("#title", "Welcome message").await;
    b.fill("#body", "Hello {name}, thanks for your interest.")
        .await;
    b.click("main form[action='/content'] button[type=submit]")
        .await;
    b.wait_text("#subject-error", "required for a template")
        .await;
    b.shot("content-error").await;
    b.fill("#subject", "Welcome to Acme").await;
    b.click("input[name=shared]").await;
    b.click("main form[action='/content'] button[type=submit]")
        .await;
    b.wait_text(".notice", "The content is created").await;
    b.wait_text(".content-list", "Welcome message").await;
    b.shot("content").await;
    sign_out(&b).await;

    // Bob (Member): sees the group and the shared template, may change neither.
    sign_in(&b, "bob@example.com").await;
    b.goto("/groups").await;
    b.wait_text("table.list", "Trade fair 2026").await;
    assert!(
        b.c.find(fantoccini::Locator::Css("main form"))
            .await
            .is_err()
    );
    assert!(
        b.c.find(fantoccini::Locator::Css("table.list a.button"))
            .await
            .is_err()
    );
    b.shot("groups-member").await;
    b.goto("/content").await;
    b.wait_text(".content-list", "Welcome message").await;
    assert!(
        b.c.find(fantoccini::Locator::Css("main form"))
            .await
            .is_err()
    );
    assert!(
        b.c.find(fantoccini::Locator::Css(".content-list a.button"))
            .await
            .is_err()
    );
    assert!(
        b.c.find(fantoccini::Locator::Css("nav a[href='/leads/assignment']"))
            .await
            .is_err()
    );
    b.shot("content-member").await;
    b.finish().await;
    app.stop().await;
}
