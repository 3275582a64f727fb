//! Members and invitations (M1-M9), ownership (O1-O5), switching accounts
//! (T2) and the audit log (X1).

use super::support::{invite, join, last_mail, role_id, token_in};
use leadteam_testkit::{PASSWORD, TestApp, both_engines};
use reqwest::Method;
use serde_json::{Value, json};

both_engines!(
    r_m1_m2_m4_invite_receive_the_email_accept_and_appear_active,
    r_m3_resend_kills_the_old_link,
    r_m3_cancel_kills_the_link_and_removes_the_member,
    r_m4_an_expired_link_is_refused,
    r_m4_a_replayed_link_is_refused,
    r_m4_two_concurrent_accepts_make_one_membership,
    r_m4_t2_an_existing_user_joins_after_proving_it_and_switches_accounts,
    r_m5_m6_a_deactivated_members_next_request_is_401_and_reactivation_restores_access,
    r_m8_m9_email_is_not_editable_role_agent_capacity_teams_are,
    r_p4_o2_the_owner_is_protected_and_nobody_grants_what_it_lacks,
    r_m7_removal_requires_the_choice_for_clients,
);

async fn accept(app: &TestApp, token: &str, password: &str) -> reqwest::StatusCode {
    let r = app
        .call(
            Method::POST,
            "/api/v1/invitations/accept",
            None,
            Some(json!({"token": token, "password": password})),
        )
        .await;
    reqwest::StatusCode::from_u16(r.status).unwrap()
}

pub(super) async fn members(app: &TestApp, token: &str) -> Value {
    let r = app.get(token, "/api/v1/members").await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["members"].clone()
}

async fn r_m1_m2_m4_invite_receive_the_email_accept_and_appear_active(app: &TestApp) {
    let owner = app.signup("Acme", "Ann Owner", "ann@example.com").await;
    let rid = role_id(app, &owner, "Member").await;
    let r = app
        .post(
            &owner.token,
            "/api/v1/invitations",
            json!({"name": "Bob Seller", "email": "Bob@Example.com", "role_id": rid}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "invited");
    assert_eq!(r.body["status_label"], "Invite Sent");
    let mail = last_mail(app, "bob@example.com").await;
    assert!(mail.contains("Ann Owner invited you to join Acme"));
    let token = token_in(&mail);
    assert!(token.len() >= 43, "at least 256 bits of token");
    assert!(
        !r.text.contains(&token),
        "the token never appears in an API response"
    );
    let list = members(app, &owner.token).await;
    assert!(!list.to_string().contains(&token));
    let bob = list
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "bob@example.com")
        .unwrap();
    assert_eq!(bob["status_label"], "Invite Sent");
    assert!(bob["invited_at"].is_string() && bob["activated_at"].is_null());

    // A weak password is refused and the member stays invited.
    assert_eq!(accept(app, &token, "short").await, 422);
    let r = app
        .call(
            Method::POST,
            "/api/v1/invitations/accept",
            None,
            Some(json!({"token": token, "password": PASSWORD, "name": "Bob S."})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["member"]["status"], "active");
    let bob_token = r.body["session"]["token"].as_str().unwrap();
    let me = app.get(bob_token, "/api/v1/me").await;
    assert_eq!(me.body["account"]["name"], "Acme");
    assert_eq!(me.body["user"]["name"], "Bob S.");
    assert!(
        me.body["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("clients.view_unassigned"))
    );

    let r = app.get(&owner.token, "/api/v1/members?status=active").await;
    let actives = r.body["members"].as_array().unwrap();
    assert_eq!(actives.len(), 2);
    let bob = actives
        .iter()
        .find(|m| m["email"] == "bob@example.com")
        .unwrap();
    assert_eq!(bob["status_label"], "Active");
    assert!(bob["activated_at"].is_string());
    assert_eq!(bob["role"]["name"], "Member");
    assert_eq!(
        app.get(&owner.token, "/api/v1/members?status=invited")
            .await
            .body["members"],
        json!([])
    );
    let r = app.get(&owner.token, "/api/v1/members?status=nope").await;
    assert_eq!((r.status, r.field()), (422, Some("status")));
    // The new user signs in with its password.
    app.signin_ok("bob@example.com", PASSWORD).await;
}

async fn r_m3_resend_kills_the_old_link(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let m = invite(app, &owner, "Bob", "bob@example.com", "Member").await;
    let old = token_in(&last_mail(app, "bob@example.com").await);
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/invitations/{}/resend", m["id"]),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let new = token_in(&last_mail(app, "bob@example.com").await);
    assert_ne!(old, new);
    assert_eq!(accept(app, &old, PASSWORD).await, 410);
    assert_eq!(app.count("users").await, 1, "the dead link created nothing");
    assert_eq!(accept(app, &new, PASSWORD).await, 201);
    // An active member cannot be re-sent an invitation.
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/invitations/{}/resend", m["id"]),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 409);
}

async fn r_m3_cancel_kills_the_link_and_removes_the_member(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let m = invite(app, &owner, "Bob", "bob@example.com", "Member").await;
    let token = token_in(&last_mail(app, "bob@example.com").await);
    let r = app
        .delete(&owner.token, &format!("/api/v1/invitations/{}", m["id"]))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        members(app, &owner.token).await.as_array().unwrap().len(),
        1
    );
    assert_eq!(accept(app, &token, PASSWORD).await, 410);
    assert_eq!(app.count("invitations").await, 0);
    // Cancelling an active member is refused and changes nothing.
    let (_, bob) = join(app, &owner, "Bob", "bob2@example.com", "Member").await;
    let r = app
        .delete(&owner.token, &format!("/api/v1/invitations/{bob}"))
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(
        members(app, &owner.token).await.as_array().unwrap().len(),
        2
    );
}

async fn r_m4_an_expired_link_is_refused(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    invite(app, &owner, "Bob", "bob@example.com", "Member").await;
    let token = token_in(&last_mail(app, "bob@example.com").await);
    app.clock.advance_ms(7 * 86_400_000 + 1);
    let r = app
        .call(
            Method::POST,
            "/api/v1/invitations/accept",
            None,
            Some(json!({"token": token, "password": PASSWORD})),
        )
        .await;
    assert_eq!(r.status, 410);
    assert!(r.body["title"].as_str().unwrap().contains("expired"));
    let list = members(app, &owner.token).await;
    assert_eq!(
        list.as_array()
            .unwrap()
            .iter()
            .filter(|m| m["status"] == "invited")
            .count(),
        1
    );
    assert_eq!(app.count("users").await, 1);
}

async fn r_m4_a_replayed_link_is_refused(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    invite(app, &owner, "Bob", "bob@example.com", "Member").await;
    let token = token_in(&last_mail(app, "bob@example.com").await);
    assert_eq!(accept(app, &token, PASSWORD).await, 201);
    assert_eq!(accept(app, &token, PASSWORD).await, 410);
    assert_eq!(accept(app, "not-a-token", PASSWORD).await, 410);
    assert_eq!(app.count("members").await, 2);
}

async fn r_m4_two_concurrent_accepts_make_one_membership(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    invite(app, &owner, "Bob", "bob@example.com", "Member").await;
    let token = token_in(&last_mail(app, "bob@example.com").await);
    let tries = (0..4).map(|_| accept(app, &token, PASSWORD));
    let statuses = futures::future::join_all(tries).await;
    assert_eq!(
        statuses.iter().filter(|s| s.as_u16() == 201).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| s.as_u16() == 201 || s.as_u16() == 410),
        "{statuses:?}"
    );
    assert_eq!(app.count("users").await, 2);
    let list = members(app, &owner.token).await;
    assert_eq!(
        list.as_array()
            .unwrap()
            .iter()
            .filter(|m| m["status"] == "active")
            .count(),
        2
    );
}

async fn r_m4_t2_an_existing_user_joins_after_proving_it_and_switches_accounts(app: &TestApp) {
    let ann = app.signup("Acme", "Ann", "ann@example.com").await;
    let carol = app.signup("Carol Co", "Carol", "carol@example.com").await;
    invite(app, &ann, "Carol", "carol@example.com", "Manager").await;
    let token = token_in(&last_mail(app, "carol@example.com").await);
    // Without proof: refused, naming the password.
    let r = app
        .call(
            Method::POST,
            "/api/v1/invitations/accept",
            None,
            Some(json!({"token": token})),
        )
        .await;
    assert_eq!((r.status, r.field()), (422, Some("password")));
    // Signed in as carol: joins without retyping the password.
    let r = app
        .call(
            Method::POST,
            "/api/v1/invitations/accept",
            Some(&carol.token),
            Some(json!({"token": token})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        app.count("users").await,
        2,
        "no second user for the same email"
    );

    let me = app.get(&carol.token, "/api/v1/me").await;
    assert_eq!(me.body["memberships"].as_array().unwrap().len(), 2);
    assert_eq!(me.body["account"]["name"], "Carol Co");
    // Each account's data is invisible from the other (T2).
    let own = members(app, &carol.token).await;
    assert!(!own.to_string().contains("ann@example.com"));
    let r = app
        .put(
            &carol.token,
            "/api/v1/me/account",
            json!({"account_id": ann.account_id}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["account"]["name"], "Acme");
    let theirs = members(app, &carol.token).await;
    assert!(theirs.to_string().contains("ann@example.com"));
    assert!(!theirs.to_string().contains("Carol Co"));
    // A foreign or unknown account cannot be switched to.
    let other = app.signup("Other", "Olga", "olga@example.com").await;
    let r = app
        .put(
            &carol.token,
            "/api/v1/me/account",
            json!({"account_id": other.account_id}),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        app.get(&carol.token, "/api/v1/me").await.body["account"]["name"],
        "Acme"
    );
}

async fn r_m5_m6_a_deactivated_members_next_request_is_401_and_reactivation_restores_access(
    app: &TestApp,
) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, bob_id) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    assert_eq!(app.get(&bob.token, "/api/v1/members").await.status, 200);
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/members/{bob_id}/deactivate"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status_label"], "Deactivated");
    assert_eq!(app.get(&bob.token, "/api/v1/members").await.status, 401);
    assert_eq!(app.get(&bob.token, "/api/v1/me").await.status, 401);
    // Signing in again gives no account to act in.
    let t = app.signin_ok("bob@example.com", PASSWORD).await;
    let r = app.get(&t, "/api/v1/members").await;
    assert_eq!(r.status, 401, "{}", r.text);
    // Deactivating twice is a conflict that changes nothing.
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/members/{bob_id}/deactivate"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 409);
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/members/{bob_id}/reactivate"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "active");
    let t = app.signin_ok("bob@example.com", PASSWORD).await;
    assert_eq!(app.get(&t, "/api/v1/members").await.status, 200);
}

async fn r_m8_m9_email_is_not_editable_role_agent_capacity_teams_are(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (_, bob) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let path = format!("/api/v1/members/{bob}");
    let before = app.get(&owner.token, &path).await.body;
    let r = app
        .patch(&owner.token, &path, json!({"email": "other@example.com"}))
        .await;
    assert_eq!((r.status, r.field()), (422, Some("email")));
    let r = app
        .patch(&owner.token, &path, json!({"capacity": -1, "agent": false}))
        .await;
    assert_eq!((r.status, r.field()), (422, Some("capacity")));
    let r = app
        .patch(&owner.token, &path, json!({"teams": [999_999]}))
        .await;
    assert_eq!((r.status, r.field()), (422, Some("teams")));
    assert_eq!(
        app.get(&owner.token, &path).await.body,
        before,
        "refused edits change nothing"
    );

    let manager = role_id(app, &owner, "Manager").await;
    let r = app
        .patch(
            &owner.token,
            &path,
            json!({"role_id": manager, "agent": false, "capacity": 25}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["role"]["name"], "Manager");
    assert_eq!(r.body["agent"], false);
    assert_eq!(r.body["capacity"], 25);
    assert!(
        !r.body["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("agent"))
    );
    assert!(
        r.body["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("clients.view_others"))
    );
    let r = app
        .patch(
            &owner.token,
            &path,
            json!({"capacity": null, "permissions": ["clients.view_unassigned", "team.view"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["capacity"], Value::Null);
    assert_eq!(r.body["custom_permissions"], true);
    assert_eq!(
        r.body["permissions"],
        json!(["clients.view_unassigned", "team.view"])
    );
    assert_eq!(r.body["email"], "bob@example.com");
}

async fn r_p4_o2_the_owner_is_protected_and_nobody_grants_what_it_lacks(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let me = app.get(&owner.token, "/api/v1/me").await;
    let owner_id = me.body["member_id"].as_i64().unwrap();
    let (admin, _) = join(app, &owner, "Adam", "adam@example.com", "Admin").await;
    let before = members(app, &owner.token).await;
    for (m, path, body) in [
        (
            Method::POST,
            format!("/api/v1/members/{owner_id}/deactivate"),
            json!({}),
        ),
        (
            Method::DELETE,
            format!("/api/v1/members/{owner_id}"),
            json!({"clients": "delete"}),
        ),
        (
            Method::PATCH,
            format!("/api/v1/members/{owner_id}"),
            json!({"agent": false}),
        ),
    ] {
        let r = app.call(m, &path, Some(&admin.token), Some(body)).await;
        assert_eq!(r.status, 403, "{path}: {}", r.text);
    }
    // The owner edits its own settings.
    let r = app
        .patch(
            &owner.token,
            &format!("/api/v1/members/{owner_id}"),
            json!({"capacity": 10}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/members/{owner_id}/deactivate"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 403);

    // A member that may manage members but holds little else cannot grant more.
    let rid = role_id(app, &owner, "Member").await;
    let r = app
        .post(&owner.token, "/api/v1/invitations", json!({"name": "Hal", "email": "hal@example.com", "role_id": rid, "permissions": ["members.manage", "team.view"]}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let token = token_in(&last_mail(app, "hal@example.com").await);
    let r = app
        .call(
            Method::POST,
            "/api/v1/invitations/accept",
            None,
            Some(json!({"token": token, "password": PASSWORD})),
        )
        .await;
    let hal = r.body["session"]["token"].as_str().unwrap().to_owned();
    let admin_role = role_id(app, &owner, "Admin").await;
    let count = app.count("members").await;
    let r = app
        .post(
            &hal,
            "/api/v1/invitations",
            json!({"name": "Eve", "email": "eve@example.com", "role_id": admin_role}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.problem_type(), Some("cannot-grant"));
    assert_eq!(app.count("members").await, count);
    // A plain Member cannot invite at all.
    let (bob, _) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let r = app
        .post(
            &bob.token,
            "/api/v1/invitations",
            json!({"name": "Eve", "email": "eve@example.com"}),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.body["missing_permission"], "members.manage");
    let after = members(app, &owner.token).await;
    assert_eq!(
        after.as_array().unwrap().len(),
        before.as_array().unwrap().len() + 2
    );
}

async fn r_m7_removal_requires_the_choice_for_clients(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (_, bob) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let (_, cid) = join(app, &owner, "Cid", "cid@example.com", "Member").await;
    let path = format!("/api/v1/members/{bob}");
    let r = app.delete(&owner.token, &path).await;
    // I9: no DELETE takes a body; the choice is a query parameter.
    assert_eq!(
        (r.status, r.field()),
        (422, Some("clients")),
        "the choice is required: {}",
        r.text
    );
    let r = app
        .delete_json(&owner.token, &path, json!({"clients": "keep"}))
        .await;
    assert_eq!((r.status, r.field()), (422, Some("clients")));
    let r = app
        .delete_json(&owner.token, &path, json!({"clients": "move"}))
        .await;
    assert_eq!((r.status, r.field()), (422, Some("move_to")));
    let r = app
        .delete_json(
            &owner.token,
            &path,
            json!({"clients": "move", "move_to": bob}),
        )
        .await;
    assert_eq!((r.status, r.field()), (422, Some("move_to")));
    app.post(
        &owner.token,
        &format!("/api/v1/members/{cid}/deactivate"),
        json!({}),
    )
    .await;
    let r = app
        .delete_json(
            &owner.token,
            &path,
            json!({"clients": "move", "move_to": cid}),
        )
        .await;
    assert_eq!((r.status, r.field()), (422, Some("move_to")));
    assert_eq!(
        members(app, &owner.token).await.as_array().unwrap().len(),
        3,
        "nothing removed"
    );
    let owner_id = app.get(&owner.token, "/api/v1/me").await.body["member_id"].clone();
    let r = app
        .delete_json(
            &owner.token,
            &path,
            json!({"clients": "move", "move_to": owner_id}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .delete_json(
            &owner.token,
            &format!("/api/v1/members/{cid}"),
            json!({"clients": "delete"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        members(app, &owner.token).await.as_array().unwrap().len(),
        1
    );
    assert_eq!(
        app.signin("bob@example.com", PASSWORD, None).await.status,
        201,
        "the user remains; only the membership went"
    );
}
