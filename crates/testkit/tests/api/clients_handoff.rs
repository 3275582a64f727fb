//! Handing clients over: delivery (C9), guests (P7), export (I2), deactivated and removed members' clients (M6, M7), other accounts (X3).

use super::clients::{add, client, ids};
use super::support::{join, last_mail, member_id, token_in};
use leadteam_testkit::{PASSWORD, TestApp, both_engines};
use reqwest::Method;
use serde_json::json;

both_engines!(
    r_c9_deliver_to_a_member_or_team_with_an_outcome,
    r_p7_a_guest_sees_and_writes_to_one_client_only,
    r_i2_export_is_what_the_caller_sees_with_formulas_neutralised,
    r_m6_m7_deactivated_members_keep_clients_removal_moves_or_deletes_them,
    r_x3_another_accounts_clients_are_not_found_and_untouched,
);

async fn r_c9_deliver_to_a_member_or_team_with_an_outcome(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, _) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let (carol, carol_id) = join(app, &owner, "Carol", "carol@example.com", "Member").await;
    let id = add(app, &bob, "Lead").await["id"].as_i64().unwrap();
    let path = format!("/api/v1/clients/{id}/deliver");
    // No outcome, or one the team overview could not show as a name (X2).
    for outcome in ["", "qual\u{0}ified", &"x".repeat(61)] {
        let r = app
            .post(
                &bob.token,
                &path,
                json!({"to_member": carol_id, "outcome": outcome}),
            )
            .await;
        assert_eq!((r.status, r.field()), (422, Some("outcome")), "{outcome:?}");
    }
    let r = app
        .post(
            &bob.token,
            &path,
            json!({"to_member": carol_id, "to_team": 1, "outcome": "qualified"}),
        )
        .await;
    assert_eq!((r.status, r.field()), (422, Some("to_member")));
    let r = app
        .post(
            &bob.token,
            &path,
            json!({"to_member": carol_id, "outcome": "qualified"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["assignee_id"], carol_id);
    assert_eq!(r.body["outcome"], "qualified");
    assert_eq!(
        app.get(&carol.token, "/api/v1/notifications").await.body["unread"],
        1
    );
    let o = app.get(&owner.token, "/api/v1/team-overview").await;
    assert_eq!(
        o.body["outcomes"],
        json!([{"outcome": "qualified", "clients": 1}])
    );
    // Bob handed it over: he can no longer deliver it.
    assert_eq!(
        app.post(
            &bob.token,
            &path,
            json!({"to_member": carol_id, "outcome": "x"})
        )
        .await
        .status,
        404
    );
}

async fn r_p7_a_guest_sees_and_writes_to_one_client_only(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let shared = add(app, &owner, "Shared conversation").await["id"]
        .as_i64()
        .unwrap();
    let other = add(app, &owner, "Private").await["id"].as_i64().unwrap();
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/clients/{shared}/guests"),
            json!({"name": "Gus Guest", "email": "gus@example.com"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["role"]["name"], "Restricted");
    let token = token_in(&last_mail(app, "gus@example.com").await);
    let r = app
        .call(
            Method::POST,
            "/api/v1/invitations/accept",
            None,
            Some(json!({"token": token, "password": PASSWORD})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let gus = r.body["session"]["token"].as_str().unwrap().to_owned();
    assert_eq!(ids(&app.get(&gus, "/api/v1/clients").await.body), [shared]);
    assert_eq!(client(app, &gus, other).await.0, 404);
    assert_eq!(
        app.patch(
            &gus,
            &format!("/api/v1/clients/{shared}"),
            json!({"phone": "+44 20 7946 0000"})
        )
        .await
        .status,
        200
    );
    assert_eq!(
        app.post(
            &gus,
            &format!("/api/v1/clients/{shared}/notes"),
            json!({"body": "hello", "kind": "message"})
        )
        .await
        .status,
        201
    );
    // Nothing else: no members list, no settings, no reports.
    for path in [
        "/api/v1/members",
        "/api/v1/account",
        "/api/v1/team-overview",
        "/api/v1/audit",
    ] {
        assert_eq!(app.get(&gus, path).await.status, 403, "{path}");
    }
    // Whoever may invite guests there removes one: its access ends at once.
    let gus_id = app.get(&gus, "/api/v1/me").await.body["member_id"]
        .as_i64()
        .unwrap();
    let r = app
        .delete(&gus, &format!("/api/v1/clients/{shared}/guests/{gus_id}"))
        .await;
    assert_eq!(r.status, 403, "a guest does not remove guests: {}", r.text);
    assert_eq!(client(app, &gus, shared).await.0, 200);
    let r = app
        .delete(
            &owner.token,
            &format!("/api/v1/clients/{shared}/guests/{gus_id}"),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(client(app, &gus, shared).await.0, 404);
    assert!(ids(&app.get(&gus, "/api/v1/clients").await.body).is_empty());
    let r = app
        .delete(
            &owner.token,
            &format!("/api/v1/clients/{shared}/guests/{gus_id}"),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
}

async fn r_i2_export_is_what_the_caller_sees_with_formulas_neutralised(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, _) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    app.post(
        &owner.token,
        "/api/v1/clients",
        json!({"name": "=HYPERLINK(\"http://evil\",\"x\")", "fields": {"note": "+1, \"quoted\""}}),
    )
    .await;
    add(app, &bob, "Bob's lead").await;
    let r = app
        .http
        .get(app.url("/api/v1/clients/export"))
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\""),
        "{csv}"
    );
    assert!(!csv.contains(",=HYPERLINK"));
    // A member without integrations.manage cannot export.
    assert_eq!(
        app.get(&bob.token, "/api/v1/clients/export").await.status,
        403
    );
}

async fn r_m6_m7_deactivated_members_keep_clients_removal_moves_or_deletes_them(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, bob_id) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let (carol, carol_id) = join(app, &owner, "Carol", "carol@example.com", "Member").await;
    let b1 = add(app, &bob, "B1").await["id"].as_i64().unwrap();
    let b2 = add(app, &bob, "B2").await["id"].as_i64().unwrap();
    let c1 = add(app, &carol, "C1").await["id"].as_i64().unwrap();
    app.post(
        &owner.token,
        &format!("/api/v1/members/{bob_id}/deactivate"),
        json!({}),
    )
    .await;
    assert_eq!(
        client(app, &owner.token, b1).await.1["client"]["assignee_id"],
        bob_id,
        "M6"
    );
    let r = app
        .delete_json(
            &owner.token,
            &format!("/api/v1/members/{bob_id}"),
            json!({"clients": "move", "move_to": carol_id}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["clients_affected"], 2);
    for id in [b1, b2] {
        assert_eq!(
            client(app, &owner.token, id).await.1["client"]["assignee_id"],
            carol_id
        );
    }
    assert_eq!(
        app.get(&carol.token, "/api/v1/notifications").await.body["unread"],
        1
    );
    let r = app
        .delete_json(
            &owner.token,
            &format!("/api/v1/members/{carol_id}"),
            json!({"clients": "delete"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["clients_affected"], 3);
    assert_eq!(client(app, &owner.token, c1).await.0, 404);
    assert_eq!(app.count("clients").await, 0);
    let _ = bob;
}

async fn r_x3_another_accounts_clients_are_not_found_and_untouched(app: &TestApp) {
    let a = app.signup("A", "Ann", "ann@example.com").await;
    let b = app.signup("B", "Ben", "ben@example.com").await;
    let id = add(app, &b, "B's lead").await["id"].as_i64().unwrap();
    let b_member = member_id(app, &b).await;
    let before = client(app, &b.token, id).await.1;
    for (m, path, body) in [
        (Method::GET, format!("/api/v1/clients/{id}"), None),
        (
            Method::PATCH,
            format!("/api/v1/clients/{id}"),
            Some(json!({"name": "x"})),
        ),
        (Method::DELETE, format!("/api/v1/clients/{id}"), None),
        (
            Method::POST,
            format!("/api/v1/clients/{id}/claim"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/clients/{id}/assign"),
            Some(json!({"member_id": b_member})),
        ),
        (
            Method::POST,
            format!("/api/v1/clients/{id}/notes"),
            Some(json!({"body": "x"})),
        ),
        (
            Method::POST,
            format!("/api/v1/clients/{id}/deliver"),
            Some(json!({"to_member": b_member, "outcome": "x"})),
        ),
        (
            Method::POST,
            format!("/api/v1/clients/{id}/guests"),
            Some(json!({"name": "G", "email": "g@x.io"})),
        ),
    ] {
        let r = app.call(m, &path, Some(&a.token), body).await;
        assert!(
            r.status == 404 || r.status == 422,
            "{path}: {} {}",
            r.status,
            r.text
        );
    }
    let r = app
        .post(
            &a.token,
            "/api/v1/clients/bulk-assign",
            json!({"to": b_member, "client_ids": [id], "team_view": true}),
        )
        .await;
    assert_eq!(r.status, 422, "a foreign member is not a target");
    assert!(ids(&app.get(&a.token, "/api/v1/clients?view=all").await.body).is_empty());
    assert_eq!(client(app, &b.token, id).await.1, before);
}
