//! Client groups: `groups.edit` creates and edits, only the owner and admins
//! delete (P5); every member uses them (P6); other accounts' ids answer 404 (X3).

use crate::support::{join, set_permissions};
use leadteam_testkit::{TestApp, both_engines};
use serde_json::{Value, json};

both_engines!(
    r_p5_p6_groups_edit_creates_and_edits_only_admins_delete_every_member_uses,
    r_p5_x2_group_input_is_checked_and_names_are_unique,
    r_x3_foreign_group_ids_answer_404_and_change_nothing,
);

async fn groups(app: &TestApp, token: &str) -> Value {
    let r = app.get(token, "/api/v1/groups").await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["groups"].clone()
}

async fn r_p5_p6_groups_edit_creates_and_edits_only_admins_delete_every_member_uses(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (admin, _) = join(app, &owner, "Adam", "adam@example.com", "Admin").await;
    let (mia, mia_id) = join(app, &owner, "Mia", "mia@example.com", "Manager").await;
    let (bob, bob_id) = join(app, &owner, "Bob", "bob@example.com", "Member").await;

    let r = app
        .post(
            &mia.token,
            "/api/v1/groups",
            json!({"name": "VIP", "description": "Our best clients", "color": "#FFAA00"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["color"], "#ffaa00");
    assert_eq!(r.body["created_by"], json!({"id": mia_id, "name": "Mia"}));
    let path = format!("/api/v1/groups/{}", r.body["id"]);

    // Every member uses groups (P6).
    let all = groups(app, &bob.token).await;
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(app.get(&bob.token, &path).await.status, 200);

    // Without groups.edit: no create, no edit; nothing changes.
    let r = app
        .post(&bob.token, "/api/v1/groups", json!({"name": "Mine"}))
        .await;
    assert_eq!(
        (r.status, r.body["missing_permission"].as_str()),
        (403, Some("groups.edit")),
        "{}",
        r.text
    );
    let r = app.patch(&bob.token, &path, json!({"name": "Mine"})).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(groups(app, &owner.token).await, all, "nothing changed");

    // groups.edit edits; a field left out stays, null removes the colour.
    let r = app
        .patch(&mia.token, &path, json!({"name": "VIPs", "color": null}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (&r.body["name"], &r.body["description"], &r.body["color"]),
        (&json!("VIPs"), &json!("Our best clients"), &Value::Null)
    );

    // groups.edit does not delete (P5).
    let after_edit = groups(app, &owner.token).await;
    let r = app.delete(&mia.token, &path).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(
        groups(app, &owner.token).await,
        after_edit,
        "nothing changed"
    );

    // The permission decides, not the role: Bob with groups.edit creates.
    set_permissions(app, &owner, bob_id, &["team.view", "groups.edit"]).await;
    let r = app
        .post(&bob.token, "/api/v1/groups", json!({"name": "Leads 2025"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(app.delete(&bob.token, &path).await.status, 403);

    // Admins and the owner delete.
    let r = app.delete(&admin.token, &path).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(app.get(&owner.token, &path).await.status, 404);
    let other = format!(
        "/api/v1/groups/{}",
        r_id(&groups(app, &owner.token).await, 0)
    );
    assert_eq!(app.delete(&owner.token, &other).await.status, 204);
    assert_eq!(app.count("groups").await, 0);
}

fn r_id(list: &Value, i: usize) -> i64 {
    list[i]["id"].as_i64().unwrap()
}

async fn r_p5_x2_group_input_is_checked_and_names_are_unique(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let r = app
        .post(&owner.token, "/api/v1/groups", json!({"name": "VIP"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        (&r.body["description"], &r.body["color"]),
        (&json!(""), &Value::Null)
    );
    let vip = format!("/api/v1/groups/{}", r.body["id"]);
    let r = app
        .post(&owner.token, "/api/v1/groups", json!({"name": "Cold"}))
        .await;
    let cold = format!("/api/v1/groups/{}", r.body["id"]);
    let before = groups(app, &owner.token).await;

    for (body, field, status) in [
        (json!({"name": "vip"}), "name", 409),
        (json!({"name": ""}), "name", 422),
        (json!({}), "name", 422),
        (json!({"name": "X", "color": "red"}), "color", 422),
        (
            json!({"name": "X", "description": "d".repeat(1001)}),
            "description",
            422,
        ),
        (json!({"name": "X", "members": []}), "members", 422),
    ] {
        let r = app.post(&owner.token, "/api/v1/groups", body.clone()).await;
        assert_eq!(
            (r.status, r.field()),
            (status, Some(field)),
            "{body}: {}",
            r.text
        );
    }
    for (body, field, status) in [
        (json!({"name": "VIP"}), "name", 409),
        (json!({"name": " "}), "name", 422),
        (json!({"color": "#12345"}), "color", 422),
    ] {
        let r = app.patch(&owner.token, &cold, body.clone()).await;
        assert_eq!(
            (r.status, r.field()),
            (status, Some(field)),
            "{body}: {}",
            r.text
        );
    }
    assert_eq!(
        groups(app, &owner.token).await,
        before,
        "refusals change nothing"
    );
    let r = app.patch(&owner.token, &vip, json!({"name": "vip"})).await;
    assert_eq!(
        (r.status, &r.body["name"]),
        (200, &json!("vip")),
        "{}",
        r.text
    );
}

async fn r_x3_foreign_group_ids_answer_404_and_change_nothing(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let r = app
        .post(&owner.token, "/api/v1/groups", json!({"name": "VIP"}))
        .await;
    let path = format!("/api/v1/groups/{}", r.body["id"]);
    let intruder = app.signup("Other", "Olga", "olga@example.com").await;
    let before = groups(app, &owner.token).await;
    assert_eq!(app.get(&intruder.token, &path).await.status, 404);
    let r = app
        .patch(&intruder.token, &path, json!({"name": "Mine"}))
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(app.delete(&intruder.token, &path).await.status, 404);
    assert_eq!(groups(app, &intruder.token).await, json!([]));
    assert_eq!(groups(app, &owner.token).await, before, "nothing changed");
}
