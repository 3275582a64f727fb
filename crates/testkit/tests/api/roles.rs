//! Roles per account (P3, P4, X1, X3): the presets, custom roles end to end,
//! the guard rails, and (in `sources`) the five source products as roles.

mod sources;

use leadteam_domain::AccountId;
use leadteam_domain::authz::{Permission, Preset};
use leadteam_store::audit;
use leadteam_testkit::{TestApp, User, both_engines};
use serde_json::{Value, json};

both_engines!(
    r_p3_presets_are_listed_with_permissions_flags_and_counts,
    r_p3_custom_roles_are_created_renamed_changed_and_deleted_with_audit,
    r_p3_role_names_are_validated_and_unique_per_account,
    r_p3_the_owner_role_is_immutable_and_presets_are_never_deleted,
    r_p3_a_held_role_is_not_deleted_and_the_answer_says_how_many_hold_it,
    r_x3_another_accounts_role_ids_answer_404_and_change_nothing,
    r_p4_nobody_grants_a_permission_it_does_not_hold,
    r_p9_a_member_without_members_manage_may_not_manage_roles,
    r_p3_a_change_of_a_roles_permissions_applies_on_the_next_request,
);

/// `GET /api/v1/roles` as `token`, asserting 200.
pub(crate) async fn roles(app: &TestApp, token: &str) -> Value {
    let r = app.get(token, "/api/v1/roles").await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

/// The listed role named `name`.
pub(crate) fn role<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no role {name:?} in {list}"))
}

fn id_of(list: &Value, name: &str) -> i64 {
    role(list, name)["id"].as_i64().unwrap()
}

pub(crate) fn names(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect()
}

async fn create(app: &TestApp, token: &str, name: &str, perms: &[&str]) -> Value {
    let r = app
        .post(
            token,
            "/api/v1/roles",
            json!({"name": name, "permissions": perms}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

async fn audit_rows(app: &TestApp, account: i64, action: &str) -> Vec<audit::AuditRow> {
    let mut c = app.db.conn().await.unwrap();
    audit::list(&mut c, AccountId(account), Some(action), None, None, 100)
        .await
        .unwrap()
}

async fn r_p3_presets_are_listed_with_permissions_flags_and_counts(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let list = roles(app, &owner.token).await;
    let all = list["roles"].as_array().unwrap();
    assert_eq!(all.len(), 5);
    for (listed, preset) in all.iter().zip(Preset::ALL) {
        assert_eq!(listed["name"], preset.display_name());
        assert_eq!(listed["preset"], preset.key());
        assert_eq!(names(&listed["permissions"]), preset.permissions().names());
        assert_eq!(listed["editable"], preset != Preset::Owner);
        assert_eq!(listed["deletable"], false);
        assert_eq!(listed["members"], i64::from(preset == Preset::Owner));
        assert!(listed["created_at"].as_str().unwrap().ends_with('Z'));
    }
}

async fn r_p3_custom_roles_are_created_renamed_changed_and_deleted_with_audit(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let account = owner.account_id.unwrap();
    // X1, P3: create (duplicates and order in the input do not matter).
    let made = create(
        app,
        &owner.token,
        "  Inbox Manager ",
        &["team.view", "clients.view_unassigned", "team.view"],
    )
    .await;
    assert_eq!(made["name"], "Inbox Manager");
    assert_eq!(made["preset"], Value::Null);
    assert_eq!(
        names(&made["permissions"]),
        ["clients.view_unassigned", "team.view"]
    );
    assert_eq!(
        (&made["editable"], &made["deletable"], &made["members"]),
        (&json!(true), &json!(true), &json!(0))
    );
    let id = made["id"].as_i64().unwrap();
    let list = roles(app, &owner.token).await;
    assert_eq!(role(&list, "Inbox Manager"), &made);

    // Rename, then change the permissions, then both at once.
    let path = format!("/api/v1/roles/{id}");
    let r = app
        .patch(&owner.token, &path, json!({"name": "Inbox Lead"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "Inbox Lead");
    assert_eq!(r.body["permissions"], made["permissions"]);
    let r = app
        .patch(
            &owner.token,
            &path,
            json!({"permissions": ["clients.view_others", "agent"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], "Inbox Lead");
    assert_eq!(
        names(&r.body["permissions"]),
        ["clients.view_others", "agent"]
    );
    // A change that changes nothing writes no audit row.
    let r = app
        .patch(
            &owner.token,
            &path,
            json!({"name": "Inbox Lead", "permissions": ["agent", "clients.view_others"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let created = audit_rows(app, account, "role.created").await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].target_id, Some(id));
    assert_eq!(created[0].before, None);
    let after: Value = serde_json::from_str(created[0].after.as_deref().unwrap()).unwrap();
    assert_eq!(
        after,
        json!({"name": "Inbox Manager", "preset": null, "permissions": ["clients.view_unassigned", "team.view"]})
    );
    let updated = audit_rows(app, account, "role.updated").await;
    assert_eq!(updated.len(), 2, "two real changes, two rows");
    // Newest first: the permission change.
    let before: Value = serde_json::from_str(updated[0].before.as_deref().unwrap()).unwrap();
    let after: Value = serde_json::from_str(updated[0].after.as_deref().unwrap()).unwrap();
    assert_eq!(
        before["permissions"],
        json!(["clients.view_unassigned", "team.view"])
    );
    assert_eq!(
        after["permissions"],
        json!(["clients.view_others", "agent"])
    );
    let before: Value = serde_json::from_str(updated[1].before.as_deref().unwrap()).unwrap();
    let after: Value = serde_json::from_str(updated[1].after.as_deref().unwrap()).unwrap();
    assert_eq!(
        (&before["name"], &after["name"]),
        (&json!("Inbox Manager"), &json!("Inbox Lead"))
    );
    assert!(
        updated
            .iter()
            .all(|r| r.actor_user == Some(leadteam_domain::UserId(owner.user_id)))
    );

    // Delete.
    let r = app.delete(&owner.token, &path).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let list = roles(app, &owner.token).await;
    assert_eq!(list["roles"].as_array().unwrap().len(), 5);
    let deleted = audit_rows(app, account, "role.deleted").await;
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].after, None);
    let before: Value = serde_json::from_str(deleted[0].before.as_deref().unwrap()).unwrap();
    assert_eq!(before["name"], "Inbox Lead");
    // Gone is gone.
    assert_eq!(app.delete(&owner.token, &path).await.status, 404);
    assert_eq!(
        app.patch(&owner.token, &path, json!({"name": "X"}))
            .await
            .status,
        404
    );
}

async fn r_p3_role_names_are_validated_and_unique_per_account(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let seller = create(app, &owner.token, "Seller", &["agent"]).await;
    let seller_path = format!("/api/v1/roles/{}", seller["id"]);
    let before = roles(app, &owner.token).await;
    let audit_before = app.count("audit_log").await;

    let refused: Vec<(&str, Value, u16, &str)> = vec![
        ("POST", json!({"name": "Manager"}), 409, "name"),
        (
            "POST",
            json!({"name": "mAnAgEr", "permissions": []}),
            409,
            "name",
        ),
        ("POST", json!({"name": " seller "}), 409, "name"),
        ("POST", json!({"name": "   "}), 422, "name"),
        ("POST", json!({"name": "x".repeat(61)}), 422, "name"),
        ("POST", json!({"permissions": []}), 422, "name"),
        (
            "POST",
            json!({"name": "Ok", "permissions": ["agent", "clients.view_everything"]}),
            422,
            "permissions",
        ),
        (
            "POST",
            json!({"name": "Ok", "permissions": "agent"}),
            422,
            "permissions",
        ),
        ("POST", json!({"name": "Ok", "colour": "red"}), 422, "body"),
        ("PATCH", json!({"name": "admin"}), 409, "name"),
        ("PATCH", json!({"name": ""}), 422, "name"),
        (
            "PATCH",
            json!({"permissions": ["Agent"]}),
            422,
            "permissions",
        ),
    ];
    for (method, body, status, field) in refused {
        let r = match method {
            "POST" => app.post(&owner.token, "/api/v1/roles", body.clone()).await,
            _ => app.patch(&owner.token, &seller_path, body.clone()).await,
        };
        assert_eq!(r.status, status, "{method} {body}: {}", r.text);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        if field != "body" {
            assert_eq!(r.field(), Some(field), "{method} {body}: {}", r.text);
        }
        assert_eq!(roles(app, &owner.token).await, before, "{method} {body}");
    }
    assert_eq!(app.count("audit_log").await, audit_before);
    // The unknown name is named, and so are the known ones.
    let r = app
        .post(
            &owner.token,
            "/api/v1/roles",
            json!({"name": "Ok", "permissions": ["clients.view_everything"]}),
        )
        .await;
    assert!(r.text.contains("clients.view_everything"), "{}", r.text);
    assert!(r.text.contains("clients.view_others"), "{}", r.text);
    // Exactly 60 characters is fine; a role keeps its own name in another case.
    create(app, &owner.token, &"y".repeat(60), &[]).await;
    let r = app
        .patch(&owner.token, &seller_path, json!({"name": "SELLER"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Another account has its own names.
    let other = app.signup("Other", "Bob", "bob@example.com").await;
    create(app, &other.token, "SELLER", &["agent"]).await;
}

async fn r_p3_the_owner_role_is_immutable_and_presets_are_never_deleted(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let before = roles(app, &owner.token).await;
    let owner_role = format!("/api/v1/roles/{}", id_of(&before, "Owner"));
    for body in [
        json!({"name": "Boss"}),
        json!({"permissions": ["agent"]}),
        json!({"name": "Owner", "permissions": []}),
    ] {
        let r = app.patch(&owner.token, &owner_role, body).await;
        assert_eq!(r.status, 409, "{}", r.text);
    }
    let r = app.delete(&owner.token, &owner_role).await;
    assert_eq!(r.status, 409, "{}", r.text);
    for preset in ["Admin", "Manager", "Member", "Restricted"] {
        let r = app
            .delete(
                &owner.token,
                &format!("/api/v1/roles/{}", id_of(&before, preset)),
            )
            .await;
        assert_eq!(r.status, 409, "{preset}: {}", r.text);
        assert!(r.text.contains("built-in"), "{}", r.text);
    }
    assert_eq!(roles(app, &owner.token).await, before);

    // The other presets may be edited, and keep their preset key.
    let member = format!("/api/v1/roles/{}", id_of(&before, "Member"));
    let r = app
        .patch(
            &owner.token,
            &member,
            json!({"name": "Seller", "permissions": ["team.view", "agent"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["preset"], "member");
    assert_eq!(r.body["editable"], true);
    assert_eq!(r.body["deletable"], false);
    // The owner keeps every permission whatever happens to the roles.
    let me = app.get(&owner.token, "/api/v1/me").await;
    assert_eq!(
        names(&me.body["permissions"]).len(),
        Permission::ALL.len(),
        "{}",
        me.text
    );
}

async fn r_p3_a_held_role_is_not_deleted_and_the_answer_says_how_many_hold_it(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let account = owner.account_id.unwrap();
    let made = create(app, &owner.token, "Closer", &["agent"]).await;
    let path = format!("/api/v1/roles/{}", made["id"]);
    app.insert_member(account, "c1@example.com", "Closer").await;
    app.insert_member(account, "c2@example.com", "closer").await;
    let before = roles(app, &owner.token).await;
    assert_eq!(role(&before, "Closer")["members"], 2);
    assert_eq!(role(&before, "Closer")["deletable"], false);
    let r = app.delete(&owner.token, &path).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.text.contains("2 members"), "{}", r.text);
    assert_eq!(roles(app, &owner.token).await, before);
    assert_eq!(audit_rows(app, account, "role.deleted").await.len(), 0);
}

async fn r_x3_another_accounts_role_ids_answer_404_and_change_nothing(app: &TestApp) {
    let ann = app.signup("Acme", "Ann", "ann@example.com").await;
    let bob = app.signup("Other", "Bob", "bob@example.com").await;
    create(app, &ann.token, "Secret Squad", &["agent"]).await;
    let anns = roles(app, &ann.token).await;
    let bobs = roles(app, &bob.token).await;
    assert!(!bobs.to_string().contains("Secret Squad"));
    for listed in anns["roles"].as_array().unwrap() {
        let path = format!("/api/v1/roles/{}", listed["id"]);
        let r = app.patch(&bob.token, &path, json!({"name": "Mine"})).await;
        assert_eq!(r.status, 404, "{}", r.text);
        assert_eq!(r.problem_type(), Some("not-found"));
        let r = app.delete(&bob.token, &path).await;
        assert_eq!(r.status, 404, "{}", r.text);
    }
    // An id that names nothing at all answers the same.
    for path in ["/api/v1/roles/999999999", "/api/v1/roles/abc"] {
        let r = app.delete(&bob.token, path).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    }
    assert_eq!(roles(app, &ann.token).await, anns);
    assert_eq!(roles(app, &bob.token).await, bobs);
}

/// A member holding a custom role "Recruiter" = members.manage + team.view.
async fn recruiter(app: &TestApp, owner: &User) -> User {
    create(
        app,
        &owner.token,
        "Recruiter",
        &["members.manage", "team.view"],
    )
    .await;
    app.insert_member(owner.account_id.unwrap(), "rita@example.com", "Recruiter")
        .await
}

async fn r_p4_nobody_grants_a_permission_it_does_not_hold(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let rita = recruiter(app, &owner).await;
    let before = roles(app, &rita.token).await;
    let audit_before = app.count("audit_log").await;
    let r = app
        .post(
            &rita.token,
            "/api/v1/roles",
            json!({"name": "Treasurer", "permissions": ["team.view", "billing.manage", "account.manage"]}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.problem_type(), Some("cannot-grant"));
    assert_eq!(r.field(), Some("permissions"));
    assert_eq!(
        r.body["permissions"],
        json!(["billing.manage", "account.manage"])
    );
    // Adding to an existing role is granting too.
    let member = format!("/api/v1/roles/{}", id_of(&before, "Member"));
    let r = app
        .patch(
            &rita.token,
            &member,
            json!({"permissions": ["team.view", "clients.view_others"]}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.body["permissions"], json!(["clients.view_others"]));
    // Even in the same request as a rename: nothing is half-written.
    let r = app
        .patch(
            &rita.token,
            &member,
            json!({"name": "Seller", "permissions": ["integrations.manage"]}),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(roles(app, &rita.token).await, before);
    assert_eq!(app.count("audit_log").await, audit_before);

    // What it holds it may grant; `agent` is a work mode, not a power.
    let r = app
        .post(
            &rita.token,
            "/api/v1/roles",
            json!({"name": "Sourcer", "permissions": ["team.view", "members.manage", "agent"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    // Taking permissions away, or renaming, grants nothing.
    let r = app
        .patch(
            &rita.token,
            &member,
            json!({"name": "Seller", "permissions": ["team.view"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

async fn r_p9_a_member_without_members_manage_may_not_manage_roles(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let account = owner.account_id.unwrap();
    let made = create(app, &owner.token, "Closer", &["agent"]).await;
    let path = format!("/api/v1/roles/{}", made["id"]);
    let mia = app
        .insert_member(account, "mia@example.com", "Member")
        .await;
    let max = app
        .insert_member(account, "max@example.com", "Manager")
        .await;
    let rex = app
        .insert_member(account, "rex@example.com", "Restricted")
        .await;
    let before = roles(app, &owner.token).await;
    let audit_before = app.count("audit_log").await;
    for u in [&mia, &max, &rex] {
        let r = app
            .post(
                &u.token,
                "/api/v1/roles",
                json!({"name": "Mine", "permissions": []}),
            )
            .await;
        assert_eq!(r.status, 403, "{}", r.text);
        assert_eq!(r.body["missing_permission"], "members.manage");
        let r = app.patch(&u.token, &path, json!({"name": "Mine"})).await;
        assert_eq!(r.status, 403, "{}", r.text);
        let r = app.delete(&u.token, &path).await;
        assert_eq!(r.status, 403, "{}", r.text);
        // Refused before the body is even read.
        let r = app
            .post(&u.token, "/api/v1/roles", json!({"name": ""}))
            .await;
        assert_eq!(r.status, 403, "{}", r.text);
    }
    assert_eq!(roles(app, &owner.token).await, before);
    assert_eq!(app.count("audit_log").await, audit_before);
    // Members and Managers see the roles (team.view); Restricted sees nothing (P7).
    assert_eq!(roles(app, &mia.token).await, before);
    assert_eq!(roles(app, &max.token).await, before);
    let r = app.get(&rex.token, "/api/v1/roles").await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.body["missing_permission"], "team.view");
}

async fn r_p3_a_change_of_a_roles_permissions_applies_on_the_next_request(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let made = create(app, &owner.token, "Lead", &["team.view", "members.manage"]).await;
    let path = format!("/api/v1/roles/{}", made["id"]);
    let lea = app
        .insert_member(owner.account_id.unwrap(), "lea@example.com", "Lead")
        .await;
    let me = app.get(&lea.token, "/api/v1/me").await;
    assert_eq!(
        names(&me.body["permissions"]),
        ["members.manage", "team.view"]
    );
    assert_eq!(app.get(&lea.token, "/api/v1/roles").await.status, 200);

    let r = app
        .patch(
            &owner.token,
            &path,
            json!({"permissions": ["clients.view_unassigned"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let me = app.get(&lea.token, "/api/v1/me").await;
    assert_eq!(names(&me.body["permissions"]), ["clients.view_unassigned"]);
    let r = app.get(&lea.token, "/api/v1/roles").await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = app
        .post(&lea.token, "/api/v1/roles", json!({"name": "Mine"}))
        .await;
    assert_eq!(r.status, 403, "{}", r.text);

    let r = app
        .patch(&owner.token, &path, json!({"permissions": ["team.view"]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.get(&lea.token, "/api/v1/roles").await.status, 200);
}
