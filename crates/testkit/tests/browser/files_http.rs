//! The HTTP contract of the import, API keys and content file forms, without
//! a browser: each refuses a POST without its CSRF token and changes
//! nothing (X2); the pages and links follow `decide` (P9).

use crate::work::join;
use crate::work_pages::{csrf_of, page, post_form};
use leadteam_testkit::{Engine, TestApp, spawn_app};
use reqwest::Method;
use serde_json::json;

/// POSTs `body` as the raw body (as the pages' script does), with `token`
/// in the CSRF header when given.
async fn post_raw(
    app: &TestApp,
    session: &str,
    path: &str,
    content_type: &str,
    token: Option<&str>,
    body: &'static [u8],
) -> (u16, String) {
    let mut req = app
        .http
        .post(app.url(path))
        .header("cookie", format!("lt_session={session}"))
        .header("origin", &app.base)
        .header("content-type", content_type)
        .body(body);
    if let Some(t) = token {
        req = req.header("x-csrf-token", t);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn counts(app: &TestApp) -> [i64; 4] {
    [
        app.count("clients").await,
        app.count("api_keys").await,
        app.count("audit_log").await,
        app.count("content_items").await,
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x2_import_key_and_file_forms_without_their_csrf_token_change_nothing() {
    let Some(app) = spawn_app(Engine::Sqlite).await else {
        return;
    };
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let key = app
        .post(
            &owner.token,
            "/api/v1/api-keys",
            json!({"name": "Script", "permissions": ["integrations.manage"]}),
        )
        .await;
    assert_eq!(key.status, 201, "{}", key.text);
    let (key_id, key_token) = (
        key.body["id"].as_i64().unwrap(),
        key.body["token"].as_str().unwrap().to_owned(),
    );
    let content = app
        .post(
            &owner.token,
            "/api/v1/content",
            json!({"kind": "file", "title": "Prices"}),
        )
        .await;
    let content_id = content.body["id"].as_i64().unwrap();
    let csv: &[u8] = b"Name,Email\nLena,lena@example.com\n";
    let before = counts(&app).await;

    for token in [None, Some(""), Some("forged")] {
        let (st, html) = post_raw(
            &app,
            &owner.token,
            "/clients/import",
            "text/csv",
            token,
            csv,
        )
        .await;
        assert_eq!(st, 403, "{html}");
        assert!(html.contains("could not be sent"), "the CSRF page: {html}");
        let path = format!("/content/{content_id}/file");
        let (st, _) = post_raw(&app, &owner.token, &path, "text/plain", token, b"x").await;
        assert_eq!(st, 403, "{path}");
        let t = token.unwrap_or("");
        for (path, form) in [
            (
                "/account/api-keys".to_owned(),
                vec![("name", "Evil"), ("permissions", "integrations.manage")],
            ),
            (format!("/account/api-keys/{key_id}/revoke"), vec![]),
        ] {
            let mut f = form.clone();
            f.push(("_csrf", t));
            assert_eq!(
                post_form(&app, &owner.token, &path, &f).await,
                403,
                "{path}"
            );
        }
    }
    assert_eq!(counts(&app).await, before, "nothing changed");
    let r = app
        .get(&owner.token, &format!("/api/v1/content/{content_id}"))
        .await;
    assert!(r.body["file"].is_null(), "no file stored: {}", r.text);
    let me = app
        .call(Method::GET, "/api/v1/me", Some(&key_token), None)
        .await;
    assert_eq!(me.status, 200, "the key still works");

    // With the page's token the same import goes through (a dry run first).
    let (_, html) = page(&app, &owner.token, "/clients/import").await;
    let t = csrf_of(&html);
    let (st, html) = post_raw(
        &app,
        &owner.token,
        "/clients/import?dry_run=1",
        "text/csv",
        Some(&t),
        csv,
    )
    .await;
    assert_eq!(st, 200, "{html}");
    assert!(html.contains("nothing was stored"), "{html}");
    assert_eq!(app.count("clients").await, before[0]);
    let (st, _) = post_raw(
        &app,
        &owner.token,
        "/clients/import",
        "text/csv",
        Some(&t),
        csv,
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(app.count("clients").await, before[0] + 1);
    // Not CSV: 415, said at the file field, nothing stored.
    let (st, html) = post_raw(
        &app,
        &owner.token,
        "/clients/import",
        "image/png",
        Some(&t),
        b"\x89PNG",
    )
    .await;
    assert_eq!(st, 415);
    assert!(html.contains(r#"id="file-error""#), "{html}");
    assert_eq!(app.count("clients").await, before[0] + 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p9_import_and_api_keys_show_only_to_members_decide_allows() {
    let Some(app) = spawn_app(Engine::Sqlite).await else {
        return;
    };
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    join(&app, &owner, "Max", "max@example.com", "Manager").await;
    let max = app
        .signin_ok("max@example.com", leadteam_testkit::PASSWORD)
        .await;

    // The owner: both links, both pages.
    let (_, html) = page(&app, &owner.token, "/clients").await;
    assert!(html.contains(r#"href="/clients/import""#));
    let (_, html) = page(&app, &owner.token, "/account").await;
    assert!(html.contains(r#"href="/account/api-keys""#));
    assert_eq!(page(&app, &owner.token, "/account/api-keys").await.0, 200);

    // A Manager holds neither integrations.manage nor account.manage.
    let (_, list) = page(&app, &max, "/clients").await;
    assert!(!list.contains(r#"href="/clients/import""#));
    let (_, html) = page(&app, &max, "/account").await;
    assert!(!html.contains(r#"href="/account/api-keys""#));
    for path in ["/clients/import", "/account/api-keys"] {
        let (st, html) = page(&app, &max, path).await;
        assert_eq!(st, 403, "{path}");
        assert!(html.contains("<h1>"), "{path} is a page");
    }
    let t = csrf_of(&list);
    let before = counts(&app).await;
    let st = post_form(
        &app,
        &max,
        "/account/api-keys",
        &[("_csrf", &t), ("name", "Mine")],
    )
    .await;
    assert_eq!(st, 403);
    assert_eq!(counts(&app).await, before, "nothing changed");
    app.stop().await;
}
