//! Ownership (O1-O5), the audit log of member changes (X1).

use super::members::members;
use super::support::{join, last_mail};
use leadteam_testkit::{Clock, TestApp, both_engines};
use serde_json::{Value, json};

both_engines!(
    r_o3_ownership_goes_to_an_admin_and_the_former_owner_becomes_admin,
    r_o3_racing_transfers_leave_exactly_one_owner,
    r_o4_deletion_needs_the_emailed_code_and_dies_after_five_wrong_tries,
    r_o5_required_2fa_sends_members_to_enrolment_first,
    r_x1_member_changes_are_audited_with_before_and_after,
);

async fn r_o3_ownership_goes_to_an_admin_and_the_former_owner_becomes_admin(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, bob_id) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let (adam, adam_id) = join(app, &owner, "Adam", "adam@example.com", "Admin").await;
    let r = app
        .post(
            &owner.token,
            "/api/v1/account/ownership",
            json!({"member_id": bob_id}),
        )
        .await;
    assert_eq!((r.status, r.field()), (422, Some("member_id")));
    let r = app
        .post(
            &adam.token,
            "/api/v1/account/ownership",
            json!({"member_id": adam_id}),
        )
        .await;
    assert_eq!(r.status, 403, "only the owner transfers");
    let r = app
        .post(
            &bob.token,
            "/api/v1/account/ownership",
            json!({"member_id": bob_id}),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = app
        .post(
            &owner.token,
            "/api/v1/account/ownership",
            json!({"member_id": adam_id}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["is_owner"], true);
    let list = members(app, &adam.token).await;
    let owners: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["is_owner"] == true)
        .collect();
    assert_eq!(owners.len(), 1);
    assert_eq!(owners[0]["email"], "adam@example.com");
    let ann = list
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "ann@example.com")
        .unwrap();
    assert_eq!(ann["role"]["name"], "Admin");
    assert_eq!(
        app.get(&adam.token, "/api/v1/me").await.body["is_owner"],
        true
    );
    assert_eq!(
        app.get(&owner.token, "/api/v1/account").await.body["owner_name"],
        "Adam"
    );
}

async fn r_o3_racing_transfers_leave_exactly_one_owner(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let mut admins = Vec::new();
    for i in 0..4 {
        let (_, id) = join(
            app,
            &owner,
            &format!("Admin {i}"),
            &format!("admin{i}@example.com"),
            "Admin",
        )
        .await;
        admins.push(id);
    }
    let tries = admins.iter().map(|id| {
        app.post(
            &owner.token,
            "/api/v1/account/ownership",
            json!({"member_id": id}),
        )
    });
    let results = futures::future::join_all(tries).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    assert_eq!(
        ok,
        1,
        "{:?}",
        results
            .iter()
            .map(|r| (r.status, r.text.clone()))
            .collect::<Vec<_>>()
    );
    let mut c = app.db.conn().await.unwrap();
    let owners: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE is_owner = 1")
        .fetch_one(&mut *c)
        .await
        .unwrap();
    assert_eq!(owners, 1);
}

fn code_in(body: &str) -> String {
    let start = body.find("Confirmation code: ").unwrap() + "Confirmation code: ".len();
    body[start..start + 8].to_owned()
}

async fn r_o4_deletion_needs_the_emailed_code_and_dies_after_five_wrong_tries(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, _) = join(app, &owner, "Bob", "bob@example.com", "Admin").await;
    let r = app
        .post(&bob.token, "/api/v1/account/deletion", json!({}))
        .await;
    assert_eq!(r.status, 403, "only the owner deletes");
    let export = app.get(&owner.token, "/api/v1/account/export").await;
    assert_eq!(export.status, 200);
    assert_eq!(export.body["members"].as_array().unwrap().len(), 2);

    let r = app
        .post(&owner.token, "/api/v1/account/deletion", json!({}))
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let code = code_in(&last_mail(app, "ann@example.com").await);
    assert!(code.chars().all(|c| c.is_ascii_digit()));
    let wrong = if code == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    // Concurrent wrong tries are all counted: five of them kill the code.
    let tries =
        (0..5).map(|_| app.delete_json(&owner.token, "/api/v1/account", json!({"code": wrong})));
    let results = futures::future::join_all(tries).await;
    assert!(
        results.iter().all(|r| r.status == 422),
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let r = app
        .delete_json(&owner.token, "/api/v1/account", json!({"code": code}))
        .await;
    assert_eq!(r.status, 410, "{}", r.text);
    assert_eq!(app.count("accounts").await, 1);

    // A new code, expired after 15 minutes.
    app.post(&owner.token, "/api/v1/account/deletion", json!({}))
        .await;
    let code = code_in(&last_mail(app, "ann@example.com").await);
    app.clock.advance_ms(15 * 60_000 + 1);
    assert_eq!(
        app.delete_json(&owner.token, "/api/v1/account", json!({"code": code}))
            .await
            .status,
        410
    );

    app.post(&owner.token, "/api/v1/account/deletion", json!({}))
        .await;
    let code = code_in(&last_mail(app, "ann@example.com").await);
    let r = app
        .delete_json(&owner.token, "/api/v1/account", json!({"code": wrong}))
        .await;
    assert_eq!((r.status, r.field()), (422, Some("code")));
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("4 tries left")
    );
    let r = app
        .delete_json(&owner.token, "/api/v1/account", json!({"code": code}))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(app.count("accounts").await, 0);
    assert_eq!(app.count("members").await, 0);
    assert_eq!(app.get(&owner.token, "/api/v1/members").await.status, 401);
    assert_eq!(app.get(&bob.token, "/api/v1/members").await.status, 401);
}

async fn r_o5_required_2fa_sends_members_to_enrolment_first(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, _) = join(app, &owner, "Bob", "bob@example.com", "Admin").await;
    let r = app
        .patch(
            &owner.token,
            "/api/v1/account",
            json!({"require_2fa": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["require_2fa"], true);
    // From the next request on, a member without 2FA can only enrol.
    let r = app.get(&bob.token, "/api/v1/members").await;
    assert_eq!(
        (r.status, r.problem_type()),
        (403, Some("2fa-enrolment-required"))
    );
    let r = app
        .patch(&bob.token, "/api/v1/account", json!({"require_2fa": false}))
        .await;
    assert_eq!(r.status, 403);
    let me = app.get(&bob.token, "/api/v1/me").await;
    assert_eq!(me.body["must_enrol_2fa"], true);
    let r = app.post(&bob.token, "/api/v1/me/2fa", json!({})).await;
    assert_eq!(r.status, 201);
    let secret = leadteam_domain::totp::base32_decode(r.body["secret"].as_str().unwrap()).unwrap();
    let code = leadteam_domain::totp::code_at(&secret, app.clock.now().unix_seconds());
    assert_eq!(
        app.post(&bob.token, "/api/v1/me/2fa/confirm", json!({"code": code}))
            .await
            .status,
        200
    );
    assert_eq!(app.get(&bob.token, "/api/v1/members").await.status, 200);
    // Members who join later are covered too.
    let (cid, _) = join(app, &bob, "Cid", "cid@example.com", "Member").await;
    assert_eq!(app.get(&cid.token, "/api/v1/members").await.status, 403);
}

async fn r_x1_member_changes_are_audited_with_before_and_after(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (_, bob) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    app.patch(
        &owner.token,
        &format!("/api/v1/members/{bob}"),
        json!({"capacity": 3}),
    )
    .await;
    app.post(
        &owner.token,
        &format!("/api/v1/members/{bob}/deactivate"),
        json!({}),
    )
    .await;
    let r = app.get(&owner.token, "/api/v1/audit").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let actions: Vec<&str> = r.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "member.deactivated",
            "member.updated",
            "member.activated",
            "member.invited",
            "account.created"
        ]
    );
    let upd = &r.body["entries"][1];
    assert_eq!(upd["before"]["capacity"], Value::Null);
    assert_eq!(upd["after"]["capacity"], 3);
    assert!(upd["actor_member_id"].is_i64() && upd["at"].is_string());
    let r = app
        .get(&owner.token, "/api/v1/audit?action=member.updated&limit=1")
        .await;
    assert_eq!(r.body["entries"].as_array().unwrap().len(), 1);
    let r = app.get(&owner.token, "/api/v1/audit?limit=0").await;
    assert_eq!((r.status, r.field()), (422, Some("limit")));
    // Only what one person did: Bob's own activation, none of Ann's.
    let r = app
        .get(&owner.token, &format!("/api/v1/audit?member_id={bob}"))
        .await;
    let by_bob: Vec<&str> = r.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(by_bob, ["member.activated"], "{}", r.text);
    // The page reads the same, in words, with the person kept in its filter.
    let page = app
        .http
        .get(app.url(&format!("/audit?by={bob}")))
        .header("cookie", format!("lt_session={}", owner.token))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(">member.activated</code>"), "{page}");
    assert!(!page.contains(">member.deactivated</code>"), "{page}");
    assert!(
        page.contains(&format!("<option value=\"{bob}\" selected>Bob</option>")),
        "{page}"
    );
}
