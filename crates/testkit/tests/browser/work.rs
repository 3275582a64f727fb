//! The journeys of the daily work in the browser: a lead arrives by signed
//! webhook and shows unassigned in teal, a member claims it, the owner
//! reassigns it; the bell counts alerts live; the lead assignment rules.

use crate::harness::Browser;
use leadteam_domain::secret::hmac_sha256_hex;
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
    let body: String = sqlx::query_scalar(
        "SELECT body_text FROM outbox WHERE to_email = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(email)
    .fetch_one(&mut *c)
    .await
    .unwrap();
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
    member
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
    let body = lead.to_string();
    let sig = format!(
        "sha256={}",
        hmac_sha256_hex(secret.as_bytes(), body.as_bytes())
    );
    let r = app
        .http
        .post(app.url(&format!("/hooks/{id}")))
        .header("x-leadteam-signature", sig)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let r = TestApp::read(r).await;
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
    b.click("nav a[href='/clients']").await;
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

    // The team tab counts clients per member and links the lists.
    b.goto("/clients/team").await;
    b.wait_text("h1", "Team").await;
    b.shot("team-tab").await;
    b.click("a[aria-label='1 clients of Cara Manager']").await;
    b.wait_text("h1", "Clients of Cara Manager").await;
    b.wait_text(&row, "Lena Lead").await;
    b.shot("team-list-of-cara").await;

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
