//! Issue 19: a node keeps the caller of each session it resolved rather
//! than reading it for every request. These stories run with the check that
//! reads every kept caller again switched off, so they prove the forgetting
//! itself: every change to what a caller is made of takes effect on the
//! very next request (M5, P3, O5), on the node that made it, and on another
//! node as soon as the bus reaches it.

use leadteam_testkit::{Engine, Options, Resp, TestApp, spawn_with};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The server without its check of kept callers.
pub(crate) fn unchecked() -> Options {
    Options {
        check_kept_callers: false,
        ..Options::default()
    }
}

leadteam_testkit::both_engines_with!(crate::callers::unchecked();
    r_m5_p3_o5_a_kept_caller_never_outlives_a_change_to_it,
    r_m5_a_kept_api_key_is_refused_once_revoked,
);

fn permissions(r: &Resp) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect()
}

async fn role_id(app: &TestApp, token: &str, name: &str) -> i64 {
    crate::roles::role(&crate::roles::roles(app, token).await, name)["id"]
        .as_i64()
        .unwrap()
}

async fn member_id(app: &TestApp, token: &str) -> i64 {
    app.get(token, "/api/v1/me").await.body["member_id"]
        .as_i64()
        .unwrap()
}

async fn me(app: &TestApp, token: &str) -> Resp {
    app.get(token, "/api/v1/me").await
}

/// Gives `member` the role `role`; the member as answered.
async fn set_role(app: &TestApp, token: &str, member: i64, role: i64) -> Value {
    let path = format!("/api/v1/members/{member}");
    ok(app.patch(token, &path, json!({"role_id": role})).await).await
}

async fn deactivate(app: &TestApp, token: &str, member: i64) {
    let path = format!("/api/v1/members/{member}/deactivate");
    ok(app.post(token, &path, json!({})).await).await;
}

async fn ok(r: Resp) -> Value {
    assert!(r.status == 200 || r.status == 201, "{}", r.text);
    r.body
}

async fn r_m5_p3_o5_a_kept_caller_never_outlives_a_change_to_it(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let account = owner.account_id.unwrap();
    let bob = app
        .insert_member(account, "bob@example.com", "Manager")
        .await;
    let bob_id = member_id(app, &bob.token).await;
    // Read twice: from here on this node keeps Bob's caller.
    let before = permissions(&me(app, &bob.token).await);
    assert_eq!(permissions(&me(app, &bob.token).await), before);
    assert!(before.contains(&"clients.view_others".to_owned()));

    // P3: another role; the next request has its permissions.
    let member = role_id(app, &owner.token, "Restricted").await;
    let edited = set_role(app, &owner.token, bob_id, member).await;
    let now = permissions(&me(app, &bob.token).await);
    assert_eq!(json!(now), edited["permissions"]);
    assert!(!now.contains(&"clients.view_others".to_owned()));
    assert_eq!(
        app.get(&bob.token, "/api/v1/members").await.status,
        403,
        "a Restricted member sees no members list (P7)"
    );

    // P3: the role itself edited; its holder has the new set at once.
    let sale = ok(app
        .post(
            &owner.token,
            "/api/v1/roles",
            json!({"name": "Sale", "permissions": ["clients.view_unassigned"]}),
        )
        .await)
    .await;
    let sale_id = sale["id"].as_i64().unwrap();
    set_role(app, &owner.token, bob_id, sale_id).await;
    assert!(!permissions(&me(app, &bob.token).await).contains(&"members.manage".to_owned()));
    ok(app
        .patch(
            &owner.token,
            &format!("/api/v1/roles/{sale_id}"),
            json!({"name": "Sale", "permissions": ["clients.view_unassigned", "members.manage"]}),
        )
        .await)
    .await;
    assert!(permissions(&me(app, &bob.token).await).contains(&"members.manage".to_owned()));
    assert_eq!(app.get(&bob.token, "/api/v1/members").await.status, 200);

    // X6: the account's zone is the zone of a member without its own.
    ok(app
        .patch(
            &owner.token,
            "/api/v1/account",
            json!({"time_zone": "Europe/Paris"}),
        )
        .await)
    .await;
    assert_eq!(me(app, &bob.token).await.body["time_zone"], "Europe/Paris");

    // M5: deactivated, the very next request is refused.
    deactivate(app, &owner.token, bob_id).await;
    assert_eq!(me(app, &bob.token).await.status, 401);

    // A session signed out is refused at once; the other one still works.
    let second = app.signin_ok("ann@example.com", &owner.password).await;
    assert_eq!(me(app, &second).await.status, 200);
    assert_eq!(me(app, &second).await.status, 200);
    let r = app.delete(&second, "/api/v1/sessions/current").await;
    assert!(r.status == 204 || r.status == 200, "{}", r.text);
    assert_eq!(me(app, &second).await.status, 401);
    assert_eq!(me(app, &owner.token).await.status, 200);

    // O5: 2FA required: the next request of a kept session is sent to
    // enrolment.
    let third = app.signin_ok("ann@example.com", &owner.password).await;
    assert_eq!(me(app, &third).await.status, 200);
    assert_eq!(app.get(&third, "/api/v1/members").await.status, 200);
    ok(app
        .patch(
            &owner.token,
            "/api/v1/account",
            json!({"require_2fa": true}),
        )
        .await)
    .await;
    let r = app.get(&third, "/api/v1/members").await;
    assert_eq!(
        (r.status, r.problem_type()),
        (403, Some("2fa-enrolment-required"))
    );
    assert_eq!(me(app, &third).await.body["must_enrol_2fa"], true);

    // A kept session still slides its expiry (14 days without use): used
    // after 13 days, it lives 13 more; unused for 15, it is refused.
    app.clock.advance_ms(13 * 86_400_000);
    assert_eq!(me(app, &third).await.status, 200);
    assert_eq!(me(app, &third).await.status, 200);
    app.clock.advance_ms(13 * 86_400_000);
    assert_eq!(me(app, &third).await.status, 200);
    app.clock.advance_ms(15 * 86_400_000);
    assert_eq!(me(app, &third).await.status, 401);
}

/// Two nodes on one PostgreSQL: a member deactivated on node A is refused
/// by node B, which kept its caller, as soon as the bus reaches it, and
/// from then on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_m5_two_nodes_a_member_deactivated_on_one_node_is_refused_by_the_other() {
    let Some(app) = spawn_with(Engine::Postgres, unchecked()).await else {
        return;
    };
    let other = app.another_node().await;
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let account = owner.account_id.unwrap();
    let bob = app
        .insert_member(account, "bob@example.com", "Manager")
        .await;
    let bob_id = member_id(&app, &bob.token).await;
    assert_eq!(other.get(&bob.token, "/api/v1/me").await.status, 200);
    assert_eq!(other.get(&bob.token, "/api/v1/me").await.status, 200);
    deactivate(&app, &owner.token, bob_id).await;
    assert_eq!(app.get(&bob.token, "/api/v1/me").await.status, 401);
    let start = Instant::now();
    while other.get(&bob.token, "/api/v1/me").await.status != 401 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the other node kept serving a deactivated member"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    println!(
        "deactivation reached the other node after {:?}",
        start.elapsed()
    );
    for _ in 0..5 {
        assert_eq!(other.get(&bob.token, "/api/v1/me").await.status, 401);
    }
    other.stop().await;
}

/// An API key's caller is kept as a session's is: revoked, the very next
/// request is refused; its use is still recorded, at most once a minute.
async fn r_m5_a_kept_api_key_is_refused_once_revoked(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let key = ok(app
        .post(
            &owner.token,
            "/api/v1/api-keys",
            json!({"name": "CRM sync", "permissions": ["team.view"]}),
        )
        .await)
    .await;
    let token = key["token"].as_str().unwrap().to_owned();
    let last_used = || async {
        let list = app.get(&owner.token, "/api/v1/api-keys").await;
        list.body["api_keys"][0]["last_used_at"].clone()
    };
    assert_eq!(last_used().await, Value::Null);
    assert_eq!(app.get(&token, "/api/v1/members").await.status, 200);
    let first = last_used().await;
    assert!(first.is_string(), "{first}");
    app.clock.advance_ms(30_000);
    assert_eq!(app.get(&token, "/api/v1/members").await.status, 200);
    assert_eq!(last_used().await, first, "marked at most once a minute");
    app.clock.advance_ms(31_000);
    assert_eq!(app.get(&token, "/api/v1/members").await.status, 200);
    assert_ne!(last_used().await, first, "marked again after a minute");

    let id = key["id"].as_i64().unwrap();
    let r = app
        .delete(&owner.token, &format!("/api/v1/api-keys/{id}"))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(app.get(&token, "/api/v1/members").await.status, 401);
}
