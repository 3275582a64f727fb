//! The UI's HTTP contract, without a browser: CSRF tokens on every form,
//! cross-site posts refused, sign-in redirects that stay on this site,
//! assets cached and pages kept out of the API document.

use leadteam_testkit::{Engine, PASSWORD, TestApp, spawn_app};

/// The `_csrf` value of the first form of a page.
fn csrf_of(html: &str) -> String {
    let at = html.find(r#"name="_csrf" value=""#).expect("a CSRF field") + 20;
    html[at..].split('"').next().unwrap().to_owned()
}

async fn page(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.http
        .get(app.url(path))
        .header("cookie", format!("lt_session={token}"))
        .send()
        .await
        .unwrap()
}

async fn post_form(
    app: &TestApp,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    app.http
        .post(app.url(path))
        .header("cookie", cookie)
        .header("origin", &app.base)
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_post_without_its_csrf_token_is_refused_and_changes_nothing() {
    let Some(app) = spawn_app(Engine::Sqlite).await else {
        return;
    };
    let u = app.signup("Acme", "Ann", "ann@example.com").await;
    let cookie = format!("lt_session={}", u.token);
    let new = "a brand new passphrase";
    for token in ["", "forged-token"] {
        let r = post_form(
            &app,
            &cookie,
            "/security/password",
            &[
                ("_csrf", token),
                ("current_password", PASSWORD),
                ("new_password", new),
            ],
        )
        .await;
        assert_eq!(r.status(), 403);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("This form could not be sent")
        );
    }
    // A token of another session is refused too.
    let other = app.signin_ok("ann@example.com", PASSWORD).await;
    let other_token = csrf_of(&page(&app, &other, "/security").await.text().await.unwrap());
    let r = post_form(
        &app,
        &cookie,
        "/security/password",
        &[
            ("_csrf", &other_token),
            ("current_password", PASSWORD),
            ("new_password", new),
        ],
    )
    .await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        app.signin(&u.email, PASSWORD, None).await.status,
        201,
        "password unchanged"
    );

    // The page's own token works.
    let html = page(&app, &u.token, "/security")
        .await
        .text()
        .await
        .unwrap();
    let r = post_form(
        &app,
        &cookie,
        "/security/password",
        &[
            ("_csrf", &csrf_of(&html)),
            ("current_password", PASSWORD),
            ("new_password", new),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/security?notice=password");
    assert_eq!(app.signin(&u.email, new, None).await.status, 201);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_site_sign_in_post_is_refused_with_a_page() {
    let Some(app) = spawn_app(Engine::Sqlite).await else {
        return;
    };
    app.signup("Acme", "Ann", "ann@example.com").await;
    let sessions = app.count("sessions").await;
    // The attacker's page knows its own lt_csrf cookie value, not the victim's.
    let r = app
        .http
        .post(app.url("/signin"))
        .header("origin", "https://evil.example")
        .header("cookie", "lt_csrf=abc")
        .form(&[
            ("_csrf", "x"),
            ("email", "ann@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("This form could not be sent")
    );
    // Same site but without the pre-session token: refused as well.
    let r = post_form(
        &app,
        "lt_csrf=abc",
        "/signin",
        &[("email", "ann@example.com"), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(r.status(), 403);
    assert_eq!(app.count("sessions").await, sessions);

    // The sign-in page hands out the pre-session cookie and its token.
    let r = app.http.get(app.url("/signin")).send().await.unwrap();
    let set = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set.starts_with("lt_csrf=") && set.contains("HttpOnly") && set.contains("SameSite=Strict")
    );
    let pre = set.split(';').next().unwrap().to_owned();
    let token = csrf_of(&r.text().await.unwrap());
    let r = post_form(
        &app,
        &pre,
        "/signin",
        &[
            ("_csrf", &token),
            ("email", "ann@example.com"),
            ("password", PASSWORD),
            ("next", "/security"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/security");
    let session = r.headers()["set-cookie"].to_str().unwrap();
    assert!(session.starts_with("lt_session=") && session.contains("HttpOnly; SameSite=Lax"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_send_visitors_to_sign_in_and_next_stays_on_this_site() {
    let Some(app) = spawn_app(Engine::Sqlite).await else {
        return;
    };
    for (path, to) in [
        ("/", "/signin"),
        ("/security", "/signin?next=%2Fsecurity"),
        ("/security/2fa", "/signin?next=%2Fsecurity%2F2fa"),
    ] {
        let r = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 303, "{path}");
        assert_eq!(r.headers()["location"], to, "{path}");
    }
    for evil in ["https://evil.example/", "//evil.example", "/\\evil.example"] {
        let q = serde_urlencode(evil);
        let html = app
            .http
            .get(app.url(&format!("/signin?next={q}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains(r#"name="next" value="/""#), "{evil}");
    }
    // A dead session is a visitor too.
    let r = page(&app, "no-such-session", "/security").await;
    assert_eq!(r.status(), 303);
    app.stop().await;
}

fn serde_urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_are_cached_for_long_and_pages_stay_out_of_the_api_document() {
    let Some(app) = spawn_app(Engine::Sqlite).await else {
        return;
    };
    let html = app
        .http
        .get(app.url("/signin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for asset in ["/assets/htmx.min.js?v=", "/assets/app.css?v="] {
        let at = html.find(asset).expect("the page links the asset");
        let url = html[at..].split('"').next().unwrap();
        let r = app.http.get(app.url(url)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{url}");
        assert_eq!(
            r.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert!(r.bytes().await.unwrap().len() > 1000);
    }
    let r = app.http.get(app.url("/signin")).send().await.unwrap();
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert!(
        r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );

    let doc = app
        .call(reqwest::Method::GET, "/api/openapi.json", None, None)
        .await;
    let paths = doc.body["paths"].as_object().unwrap();
    assert!(
        paths
            .keys()
            .all(|p| p.starts_with("/api/") || !p.contains("sign"))
    );
    assert!(
        !paths.contains_key("/")
            && !paths.contains_key("/signin")
            && !paths.contains_key("/security")
    );

    let r = app.http.get(app.url("/no-such-page")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("Page not found"));
    let r = app
        .call(reqwest::Method::GET, "/api/v1/no-such-thing", None, None)
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.problem_type(), Some("not-found"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t2_switching_to_an_account_one_is_not_a_member_of_is_refused() {
    let Some(app) = spawn_app(Engine::Sqlite).await else {
        return;
    };
    let ann = app.signup("Acme", "Ann", "ann@example.com").await;
    let bob = app.signup("Bobco", "Bob", "bob@example.com").await;
    let html = page(&app, &ann.token, "/").await.text().await.unwrap();
    assert!(
        !html.contains(r#"action="/account""#),
        "one membership: no switcher"
    );
    let bobs_account = bob.account_id.unwrap().to_string();
    let r = post_form(
        &app,
        &format!("lt_session={}", ann.token),
        "/account",
        &[("_csrf", &csrf_of(&html)), ("account_id", &bobs_account)],
    )
    .await;
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("No such account"));
    let me = app.get(&ann.token, "/api/v1/me").await;
    assert_eq!(
        me.body["account"]["id"].as_i64(),
        ann.account_id,
        "still in her own account"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_javascript_the_code_step_is_a_page_that_keeps_the_email_only() {
    use leadteam_domain::totp;
    use leadteam_testkit::Clock;
    let Some(app) = spawn_app(Engine::Sqlite).await else {
        return;
    };
    let u = app.signup("Acme", "Ann", "ann@example.com").await;
    let e = app
        .post(&u.token, "/api/v1/me/2fa", serde_json::json!({}))
        .await;
    let secret = totp::base32_decode(e.body["secret"].as_str().unwrap()).unwrap();
    let code = totp::code_at(&secret, app.clock.now().unix_seconds());
    let r = app
        .post(
            &u.token,
            "/api/v1/me/2fa/confirm",
            serde_json::json!({"code": code}),
        )
        .await;
    assert_eq!(r.status, 200);

    let r = app.http.get(app.url("/signin")).send().await.unwrap();
    let pre = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let token = csrf_of(&r.text().await.unwrap());
    let r = post_form(
        &app,
        &pre,
        "/signin",
        &[
            ("_csrf", &token),
            ("email", "ann@example.com"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(r.status(), 401);
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"id="code""#), "the code field is shown");
    assert!(
        html.contains(r#"value="ann@example.com""#),
        "the email is kept"
    );
    assert!(!html.contains(PASSWORD), "the password is never sent back");
    assert!(html.contains("enter it again with the code"));

    app.clock.advance_ms(30_000);
    let code = totp::code_at(&secret, app.clock.now().unix_seconds());
    let r = post_form(
        &app,
        &pre,
        "/signin",
        &[
            ("_csrf", &token),
            ("email", "ann@example.com"),
            ("password", PASSWORD),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    // The same code again is refused next to the code field.
    let r = post_form(
        &app,
        &pre,
        "/signin",
        &[
            ("_csrf", &token),
            ("email", "ann@example.com"),
            ("password", PASSWORD),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(r.status(), 401);
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"id="code-error""#) && html.contains("already used"));
    app.stop().await;
}
