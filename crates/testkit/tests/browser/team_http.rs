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
