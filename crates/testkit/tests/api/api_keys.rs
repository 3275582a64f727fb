//! API keys: act as their member with at most its permissions; revoked keys
//! and keys of deactivated members stop at once (M5, P4).

use super::support::join;
use leadteam_testkit::{TestApp, both_engines};
use serde_json::json;

both_engines!(r_p4_m5_api_keys_act_as_their_member_within_its_permissions_and_die_with_its_access);

async fn r_p4_m5_api_keys_act_as_their_member_within_its_permissions_and_die_with_its_access(
    app: &TestApp,
) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (admin, admin_id) = join(app, &owner, "Adam", "adam@example.com", "Admin").await;
    let r = app
        .post(
            &admin.token,
            "/api/v1/api-keys",
            json!({"name": "CRM sync", "permissions": ["team.view", "clients.view_others"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let token = r.body["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("ltk_"));
    let id = r.body["id"].as_i64().unwrap();
    // The key lists members (team.view) but cannot invite (no members.manage on the key).
    assert_eq!(app.get(&token, "/api/v1/members").await.status, 200);
    let r = app
        .post(
            &token,
            "/api/v1/invitations",
            json!({"name": "E", "email": "e@example.com"}),
        )
        .await;
    assert_eq!(r.status, 403);
    // A key cannot do what needs a person: sign out, passwords, 2FA, more keys.
    assert_eq!(
        app.delete(&token, "/api/v1/sessions/current").await.status,
        403
    );
    assert_eq!(
        app.post(&token, "/api/v1/me/2fa", json!({})).await.status,
        403
    );
    // Listing never shows tokens.
    let list = app.get(&owner.token, "/api/v1/api-keys").await;
    assert!(!list.text.contains(&token) && list.body["api_keys"][0]["token"].is_null());
    // Nobody makes a key with permissions it lacks.
    let (bob, _) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    assert_eq!(
        app.post(
            &bob.token,
            "/api/v1/api-keys",
            json!({"name": "x", "permissions": []})
        )
        .await
        .status,
        403
    );
    // The member loses a permission: so does its key, on the next request.
    app.patch(
        &owner.token,
        &format!("/api/v1/members/{admin_id}"),
        json!({"permissions": ["clients.view_others"]}),
    )
    .await;
    assert_eq!(app.get(&token, "/api/v1/members").await.status, 403);
    app.patch(
        &owner.token,
        &format!("/api/v1/members/{admin_id}"),
        json!({"permissions": null}),
    )
    .await;
    assert_eq!(app.get(&token, "/api/v1/members").await.status, 200);
    // Deactivating the member revokes its keys for good.
    app.post(
        &owner.token,
        &format!("/api/v1/members/{admin_id}/deactivate"),
        json!({}),
    )
    .await;
    assert_eq!(app.get(&token, "/api/v1/members").await.status, 401);
    app.post(
        &owner.token,
        &format!("/api/v1/members/{admin_id}/reactivate"),
        json!({}),
    )
    .await;
    assert_eq!(app.get(&token, "/api/v1/members").await.status, 401);
    // Revoking.
    let r = app
        .post(
            &owner.token,
            "/api/v1/api-keys",
            json!({"name": "Other", "permissions": ["team.view"]}),
        )
        .await;
    let t2 = r.body["token"].as_str().unwrap().to_owned();
    assert_eq!(app.get(&t2, "/api/v1/members").await.status, 200);
    assert_eq!(
        app.delete(&owner.token, &format!("/api/v1/api-keys/{}", r.body["id"]))
            .await
            .status,
        204
    );
    assert_eq!(app.get(&t2, "/api/v1/members").await.status, 401);
    assert_eq!(
        app.delete(&owner.token, &format!("/api/v1/api-keys/{id}"))
            .await
            .status,
        409
    );
}
