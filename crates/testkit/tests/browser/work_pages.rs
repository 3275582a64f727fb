//! The HTTP contract of the work pages, without a browser: CSRF on their
//! forms, pages and actions only as `decide` allows, secrets never listed.

use crate::work::{join, send_lead, webhook_source};
use leadteam_testkit::{Engine, TestApp, spawn_app};

pub fn csrf_of(html: &str) -> String {
    let at = html.find(r#"name="_csrf" value=""#).expect("a CSRF field") + 20;
    html[at..].split('"').next().unwrap().to_owned()
}

pub async fn page(app: &TestApp, token: &str, path: &str) -> (u16, String) {
    let r = app
        .http
        .get(app.url(path))
        .header("cookie", format!("lt_session={token}"))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

pub async fn post_form(app: &TestApp, token: &str, path: &str, form: &[(&str, &str)]) -> u16 {
    app.http
        .post(app.url(path))
        .header("cookie", format!("lt_session={token}"))
        .header("origin", &app.base)
        .form(form)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_forms_without_their_csrf_token_are_refused_and_change_nothing() {
    let Some(app) = spawn_app(Engine::Sqlite).await else {
        return;
    };
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let src = webhook_source(&app, &owner, "Website").await;
    let client = send_lead(
        &app,
        src["id"].as_i64().unwrap(),
        src["secret"].as_str().unwrap(),
        serde_json::json!({"name": "Lena"}),
    )
    .await;
    let before = (
        app.count("clients").await,
        app.count("lead_sources").await,
        app.count("client_events").await,
        app.count("audit_log").await,
    );
    for (path, form) in [
        ("/clients", vec![("name", "Mallory's client")]),
        (&format!("/clients/{client}/claim") as &str, vec![]),
        (&format!("/clients/{client}/notes"), vec![("body", "x")]),
        (
            "/leads/sources",
            vec![("kind", "webhook"), ("name", "Evil")],
        ),
        ("/leads/assignment/default", vec![("mode", "unassigned")]),
        ("/groups", vec![("name", "Evil")]),
        ("/content", vec![("kind", "page"), ("title", "Evil")]),
    ] {
        for token in ["", "forged"] {
            let mut f = form.clone();
            f.push(("_csrf", token));
            assert_eq!(post_form(&app, &owner.token, path, &f).await, 403, "{path}");
        }
    }
    let after = (
        app.count("clients").await,
        app.count("lead_sources").await,
        app.count("client_events").await,
        app.count("audit_log").await,
    );
    assert_eq!(before, after, "nothing changed");

    // With the page's token the claim goes through.
    let (_, html) = page(&app, &owner.token, "/clients").await;
    let token = csrf_of(&html);
    let path = format!("/clients/{client}/claim");
    let st = post_form(
        &app,
        &owner.token,
        &path,
        &[("_csrf", &token), ("back", "/clients")],
    )
    .await;
    assert_eq!(st, 303);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p9_a_member_gets_only_the_pages_and_actions_decide_allows() {
    let Some(app) = spawn_app(Engine::Sqlite).await else {
        return;
    };
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    join(&app, &owner, "Bob", "bob@example.com", "Member").await;
    let bob = app
        .signin_ok("bob@example.com", leadteam_testkit::PASSWORD)
        .await;
    let src = webhook_source(&app, &owner, "Website").await;
    let secret = src["secret"].as_str().unwrap().to_owned();
    let client = send_lead(
        &app,
        src["id"].as_i64().unwrap(),
        &secret,
        serde_json::json!({"name": "Lena"}),
    )
    .await;

    // Lead pages need integrations.manage: a 403 page, and no nav link.
    for path in [
        "/leads/assignment",
        "/leads/sources",
        "/leads/assignment/rules/new",
    ] {
        let (st, html) = page(&app, &bob, path).await;
        assert_eq!(st, 403, "{path}");
        assert!(html.contains("<h1>"), "{path} is a page");
    }
    let (st, html) = page(&app, &bob, "/clients").await;
    assert_eq!(st, 200);
    assert!(!html.contains(r#"href="/leads/assignment""#));
    // Bob may claim the unassigned lead but assign it to nobody else.
    assert!(html.contains(&format!(r#"action="/clients/{client}/claim""#)));
    assert!(!html.contains(&format!(r#"action="/clients/{client}/assign""#)));
    assert!(!html.contains(r#"id="bulk""#));
    // Not his client: no note form, no contact edit, no guest invitation.
    let (_, html) = page(&app, &bob, &format!("/clients/{client}")).await;
    for absent in ["/notes\"", "/edit\"", "/guests\"", "/delete\""] {
        assert!(!html.contains(absent), "{absent}");
    }
    // An unknown client is not found, as in the API.
    assert_eq!(page(&app, &bob, "/clients/999999").await.0, 404);

    // The owner's source list never shows the secret again.
    let (st, html) = page(&app, &owner.token, "/leads/sources").await;
    assert_eq!(st, 200);
    assert!(html.contains("/hooks/") && !html.contains(&secret));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c8_the_list_pages_by_cursor_and_follows_the_team_view_setting() {
    let Some(app) = spawn_app(Engine::Sqlite).await else {
        return;
    };
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    join(&app, &owner, "Bob", "bob@example.com", "Member").await;
    let bob = app
        .signin_ok("bob@example.com", leadteam_testkit::PASSWORD)
        .await;
    for n in 0..51 {
        let r = app
            .post(
                &bob,
                "/api/v1/clients",
                serde_json::json!({"name": format!("Client {n:02}")}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let src = webhook_source(&app, &owner, "Website").await;
    send_lead(
        &app,
        src["id"].as_i64().unwrap(),
        src["secret"].as_str().unwrap(),
        serde_json::json!({"name": "Una Unassigned"}),
    )
    .await;

    // 52 clients: a first page of 50 (newest first) and a "Next page".
    let (st, html) = page(&app, &bob, "/clients").await;
    assert_eq!(st, 200);
    assert!(html.contains("Una Unassigned") && html.contains("Client 50"));
    assert!(!html.contains("Client 00"));
    let at = html
        .find(r#"rel="next">Next page"#)
        .expect("a next page link");
    let href = html[..at]
        .rsplit("href=\"")
        .next()
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let next = href.replace("&amp;", "&");
    assert!(next.starts_with("/clients?after="), "{next}");
    let (st, html) = page(&app, &bob, &next).await;
    assert_eq!(st, 200);
    assert!(html.contains("Client 00") && html.contains("Client 01"));
    assert!(!html.contains("Client 50") && !html.contains("Next page"));
    assert!(html.contains("First page"));

    // The view filter and the setting: only his own clients from now on.
    let (_, html) = page(&app, &bob, "/clients?view=unassigned").await;
    assert!(html.contains("Una Unassigned") && !html.contains("Client 50"));
    let (st, html) = page(&app, &bob, "/clients/team").await;
    assert_eq!(st, 200);
    assert!(html.contains(r#"name="kinds" value="unassigned""#));
    let token = csrf_of(&html);
    let st = post_form(
        &app,
        &bob,
        "/clients/team-view",
        &[("_csrf", &token), ("kinds", "mine")],
    )
    .await;
    assert_eq!(st, 303);
    let (_, html) = page(&app, &bob, "/clients").await;
    assert!(!html.contains("Una Unassigned") && html.contains("Client 50"));
    // The counts of the team tab ignore the setting.
    let (_, html) = page(&app, &bob, "/clients/team").await;
    assert!(
        html.contains(r#"aria-label="1 unassigned client""#),
        "{html}"
    );
    // Choosing nothing is refused next to the choices.
    let st = post_form(&app, &bob, "/clients/team-view", &[("_csrf", &token)]).await;
    assert_eq!(st, 422);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p7_a_guests_client_page_edits_contact_details_without_the_status() {
    let Some(app) = spawn_app(Engine::Sqlite).await else {
        return;
    };
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let r = app
        .post(
            &owner.token,
            "/api/v1/clients",
            serde_json::json!({"name": "Shared"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/clients/{id}/guests"),
            serde_json::json!({"name": "Gus Guest", "email": "gus@example.com"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let gus = crate::work::accept_mailed(&app, "gus@example.com").await;

    // His form edits the contact details; the status is not his to change.
    let path = format!("/clients/{id}");
    let (st, html) = page(&app, &gus, &path).await;
    assert_eq!(st, 200);
    assert!(html.contains(&format!(r#"action="/clients/{id}/edit""#)));
    assert!(!html.contains(r#"id="status""#), "no status for a guest");
    let csrf = csrf_of(&html);
    let edit = format!("/clients/{id}/edit");
    let fields = |status: &'static str| {
        vec![
            ("_csrf", csrf.clone()),
            ("name", "Shared".to_owned()),
            ("email", String::new()),
            ("phone", "+44 20 7946 0000".to_owned()),
            ("status", status.to_owned()),
        ]
    };
    let post = |form: Vec<(&'static str, String)>| {
        let (app, gus, edit) = (&app, gus.clone(), edit.clone());
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_form(app, &gus, &edit, &form).await
        }
    };
    // A status typed into the request is refused, and nothing is written.
    assert_eq!(post(fields("won")).await, 403);
    let c = app
        .get(&owner.token, &format!("/api/v1/clients/{id}"))
        .await;
    assert_eq!(c.body["client"]["status"], "open");
    assert_eq!(c.body["client"]["phone"], serde_json::Value::Null);
    // His form as the page offers it saves.
    let form: Vec<(&'static str, String)> = fields("")
        .into_iter()
        .filter(|(k, _)| *k != "status")
        .collect();
    assert_eq!(post(form).await, 303);
    let c = app
        .get(&owner.token, &format!("/api/v1/clients/{id}"))
        .await;
    assert_eq!(c.body["client"]["phone"], "+442079460000");
    assert_eq!(c.body["client"]["status"], "open");
    // The assignee's page offers the status.
    let (_, html) = page(&app, &owner.token, &path).await;
    assert!(html.contains(r#"id="status""#));
    app.stop().await;
}
