//! The team pages' HTTP contract, without a browser: refused actions change
//! nothing and say why; dead invitation links say so (M3, M5, P4, P9).

use leadteam_testkit::{Engine, TestApp, spawn_app};

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

async fn post(app: &TestApp, token: &str, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.http
        .post(app.url(path))
        .header("cookie", format!("lt_session={token}"))
        .header("origin", &app.base)
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p4_p9_a_member_without_members_manage_is_refused_and_nothing_changes() {
    let Some(app) = spawn_app(Engine::Sqlite).await else {
        return;
    };
    let ann = app.signup("Acme", "Ann", "ann@example.com").await;
    let bob = app
        .insert_member(ann.account_id.unwrap(), "bob@example.com", "Member")
        .await;
    let html = page(&app, &bob.token, "/members")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains("Invite a member"),
        "no invite dialog for a Member"
    );
    assert!(
        !html.contains("/deactivate"),
        "no menu actions for a Member"
    );
    let csrf = csrf_of(&html);
    let owner = crate::team::member_id(&app, &ann.token, "ann@example.com").await;
    let audit = app.count("audit_log").await;
    for path in [
        format!("/members/{owner}/deactivate"),
        "/members/invite".to_owned(),
        "/roles".to_owned(),
        "/teams".to_owned(),
    ] {
        let r = post(
            &app,
            &bob.token,
            &path,
            &[("_csrf", &csrf), ("name", "X"), ("email", "x@example.com")],
        )
        .await;
        assert_eq!(r.status(), 403, "{path}");
        assert!(
            r.text().await.unwrap().contains("error-summary"),
            "{path}: the reason is shown"
        );
    }
    assert_eq!(app.count("audit_log").await, audit, "nothing changed");
    assert_eq!(app.count("teams").await, 0);
    let r = app.get(&ann.token, "/api/v1/members?status=active").await;
    assert_eq!(r.body["members"].as_array().unwrap().len(), 2);
    // A Member sees the account but may not change it.
    let html = page(&app, &bob.token, "/account")
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("account-name-form"));
    let r = post(
        &app,
        &bob.token,
        "/account/name",
        &[("_csrf", &csrf), ("name", "Hacked")],
    )
    .await;
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("error-summary"));
    assert_eq!(
        app.get(&ann.token, "/api/v1/account").await.body["name"],
        "Acme"
    );
    // Pages of what a Member may not see answer 403 with a page.
    for path in ["/audit", "/billing", "/members/1/edit", "/members/1/remove"] {
        let r = page(&app, &bob.token, path).await;
        assert_eq!(r.status(), 403, "{path}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m3_m4_dead_or_incomplete_invitation_links_explain_themselves() {
    let Some(app) = spawn_app(Engine::Sqlite).await else {
        return;
    };
    for (path, status, says) in [
        ("/invitations/accept?token=nope", 410, "no longer valid"),
        ("/invitations/accept", 422, "missing the code"),
    ] {
        let r = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), status, "{path}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains("This invitation link does not work"),
            "{path}"
        );
        assert!(html.contains(says), "{path}");
    }
    app.stop().await;
}

/// The `lt_csrf` cookie a public page set, as a `Cookie` header value.
fn pre_session_cookie(r: &reqwest::Response) -> String {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("lt_csrf="))
        .and_then(|v| v.split(';').next())
        .expect("a pre-session cookie")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m4_an_existing_user_joins_with_its_password() {
    let Some(app) = spawn_app(Engine::Sqlite).await else {
        return;
    };
    let zed = app.signup("Beta", "Zed", "zed@example.com").await;
    app.signup("Acme", "Ann", "ann@example.com").await;
    let r = app
        .post(
            &zed.token,
            "/api/v1/invitations",
            serde_json::json!({"name": "Ann", "email": "ann@example.com"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let mail = app
        .wait_for_mail("ann@example.com", std::time::Duration::from_secs(10))
        .await;
    let link = leadteam_testkit::link_in(&mail.body).unwrap();
    let path = link.replacen(&app.base, "", 1);
    let r = app.http.get(app.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let cookie = pre_session_cookie(&r);
    let html = r.text().await.unwrap();
    assert!(html.contains("You already have a leadteam account"));
    assert!(!html.contains(r#"id="name""#), "no name to choose");
    let token = path.split("token=").nth(1).unwrap();
    let send = |password: &'static str| {
        app.http
            .post(app.url("/invitations/accept"))
            .header("cookie", &cookie)
            .header("origin", &app.base)
            .form(&[
                ("_csrf", csrf_of(&html).as_str()),
                ("token", token),
                ("password", password),
            ])
            .send()
    };
    let r = send("not the password at all").await.unwrap();
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains(r#"id="password-error""#),
        "said next to the password"
    );
    assert_eq!(app.count("sessions").await, 2, "nobody was signed in");
    let r = send(leadteam_testkit::PASSWORD).await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/?notice=joined");
    assert!(
        r.headers()
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("lt_session="))
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x1_the_audit_log_pages_by_fifty_and_keeps_its_filter() {
    let Some(app) = spawn_app(Engine::Sqlite).await else {
        return;
    };
    let ann = app.signup("Acme", "Ann", "ann@example.com").await;
    for i in 0..55 {
        let r = app
            .post(
                &ann.token,
                "/api/v1/teams",
                serde_json::json!({"name": format!("Team {i:02}")}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let html = page(&app, &ann.token, "/audit?action=team.created")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(html.matches(">team.created</code>").count(), 50);
    assert!(html.contains("team Team 54") && !html.contains("team Team 04"));
    let at = html.find("rel=\"next\"").expect("a link to older entries");
    let href = html[..at].rsplit("href=\"").next().unwrap();
    let href = href
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert!(
        href.starts_with("/audit?action=team.created&before="),
        "{href}"
    );
    let older = page(&app, &ann.token, &href).await.text().await.unwrap();
    assert_eq!(older.matches(">team.created</code>").count(), 5);
    assert!(older.contains("team Team 00") && older.contains("Newest entries"));
    assert!(!older.contains("rel=\"next\""), "no page after the last");
    app.stop().await;
}
