//! Content: `content.edit` creates and edits, only the owner and admins
//! delete (P5); every member uses shared content (P6); content is private or
//! shared and admins see all (P8), the list agreeing with the one decision
//! (P9). Files are in content_files.rs.

use crate::support::join;
use leadteam_testkit::{TestApp, User, both_engines};
use serde_json::{Value, json};
use std::collections::BTreeSet;

both_engines!(
    r_p5_content_edit_creates_and_edits_only_admins_delete,
    r_x2_content_input_is_checked_per_kind,
    r_p8_members_see_shared_and_own_private_content_admins_see_all,
    r_p8_p9_the_content_list_and_decide_agree_for_every_member,
);

pub async fn content(app: &TestApp, token: &str) -> Value {
    let r = app.get(token, "/api/v1/content").await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["content"].clone()
}

pub async fn new_content(app: &TestApp, by: &User, body: Value) -> i64 {
    let r = app.post(&by.token, "/api/v1/content", body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["id"].as_i64().unwrap()
}

fn template(title: &str, shared: bool) -> Value {
    json!({"kind": "template", "title": title, "subject": "Hello {{name}}",
           "body": "Thanks for your interest.", "shared": shared})
}

fn page(title: &str, shared: bool) -> Value {
    json!({"kind": "page", "title": title, "body": "# Pricing\n\n* one", "shared": shared})
}

async fn r_p5_content_edit_creates_and_edits_only_admins_delete(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (admin, _) = join(app, &owner, "Adam", "adam@example.com", "Admin").await;
    let (mia, mia_id) = join(app, &owner, "Mia", "mia@example.com", "Manager").await;
    let (bob, _) = join(app, &owner, "Bob", "bob@example.com", "Member").await;

    let r = app
        .post(&mia.token, "/api/v1/content", template("Welcome", true))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["author"], json!({"id": mia_id, "name": "Mia"}));
    assert_eq!(r.body["subject"], "Hello {{name}}");
    assert_eq!(
        (&r.body["can_edit"], &r.body["can_delete"]),
        (&json!(true), &json!(false))
    );
    let path = format!("/api/v1/content/{}", r.body["id"]);

    // Bob uses shared content (P6) but neither creates nor edits it.
    let seen = app.get(&bob.token, &path).await;
    assert_eq!(seen.status, 200);
    assert_eq!(
        (&seen.body["can_edit"], &seen.body["can_delete"]),
        (&json!(false), &json!(false))
    );
    let before = content(app, &owner.token).await;
    let r = app
        .post(&bob.token, "/api/v1/content", page("Mine", false))
        .await;
    assert_eq!(
        (r.status, r.body["missing_permission"].as_str()),
        (403, Some("content.edit")),
        "{}",
        r.text
    );
    let r = app.patch(&bob.token, &path, json!({"title": "Mine"})).await;
    assert_eq!(r.status, 403, "{}", r.text);
    // content.edit does not delete (P5).
    let r = app.delete(&mia.token, &path).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(content(app, &owner.token).await, before, "nothing changed");

    // An editor edits shared content; fields left out stay.
    let r = app
        .patch(
            &mia.token,
            &path,
            json!({"body": "Thank you!", "shared": false}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (&r.body["title"], &r.body["body"], &r.body["shared"]),
        (&json!("Welcome"), &json!("Thank you!"), &json!(false))
    );
    assert_eq!(app.get(&bob.token, &path).await.status, 404, "now private");

    let r = app.delete(&admin.token, &path).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(app.count("content_items").await, 0);
    assert_eq!(app.delete(&owner.token, &path).await.status, 404);
    let audit = app
        .get(&owner.token, "/api/v1/audit?action=content.deleted")
        .await;
    assert_eq!(audit.body["entries"][0]["before"]["title"], "Welcome");
}

async fn r_x2_content_input_is_checked_per_kind(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let t = new_content(app, &owner, template("Welcome", true)).await;
    let p = new_content(app, &owner, page("Pricing", true)).await;
    let before = content(app, &owner.token).await;
    for (body, field) in [
        (json!({"kind": "video", "title": "X"}), "kind"),
        (json!({"title": "X"}), "kind"),
        (json!({"kind": "page", "title": " "}), "title"),
        (json!({"kind": "page", "title": "x".repeat(201)}), "title"),
        (
            json!({"kind": "template", "title": "X", "body": "Hi"}),
            "subject",
        ),
        (
            json!({"kind": "template", "title": "X", "subject": "S"}),
            "body",
        ),
        (
            json!({"kind": "page", "title": "X", "subject": "S"}),
            "subject",
        ),
        (
            json!({"kind": "file", "title": "X", "subject": "S"}),
            "subject",
        ),
        (
            json!({"kind": "page", "title": "X", "body": "a\u{0}b"}),
            "body",
        ),
        (
            json!({"kind": "page", "title": "X", "shared": "yes"}),
            "shared",
        ),
    ] {
        let r = app
            .post(&owner.token, "/api/v1/content", body.clone())
            .await;
        assert_eq!(
            (r.status, r.field()),
            (422, Some(field)),
            "{body}: {}",
            r.text
        );
    }
    for (id, body, field) in [
        (t, json!({"kind": "page"}), "kind"),
        (t, json!({"subject": null}), "subject"),
        (t, json!({"body": "  "}), "body"),
        (p, json!({"subject": "S"}), "subject"),
        (p, json!({"body": "x".repeat(100_001)}), "body"),
    ] {
        let r = app
            .patch(&owner.token, &format!("/api/v1/content/{id}"), body.clone())
            .await;
        assert_eq!(
            (r.status, r.field()),
            (422, Some(field)),
            "{body}: {}",
            r.text
        );
    }
    let r = app.get(&owner.token, "/api/v1/content?kind=video").await;
    assert_eq!((r.status, r.field()), (422, Some("kind")));
    assert_eq!(
        content(app, &owner.token).await,
        before,
        "refusals change nothing"
    );
    let r = app.get(&owner.token, "/api/v1/content?kind=page").await;
    let ids: Vec<i64> = r.body["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [p]);
}

/// An account with content by four authors, private and shared.
pub struct Library {
    pub owner: User,
    pub admin: User,
    pub mia: User,
    pub max: User,
    pub bob: User,
    pub mia_id: i64,
    /// (name, id)
    pub items: Vec<(&'static str, i64)>,
}

impl Library {
    pub fn ids(&self, names: &[&str]) -> BTreeSet<i64> {
        self.items
            .iter()
            .filter(|(n, _)| names.contains(n))
            .map(|(_, id)| *id)
            .collect()
    }

    pub fn all(&self) -> BTreeSet<i64> {
        self.items.iter().map(|(_, id)| *id).collect()
    }
}

pub async fn library(app: &TestApp) -> Library {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (admin, _) = join(app, &owner, "Adam", "adam@example.com", "Admin").await;
    let (mia, mia_id) = join(app, &owner, "Mia", "mia@example.com", "Manager").await;
    let (max, _) = join(app, &owner, "Max", "max@example.com", "Manager").await;
    let (bob, _) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let mut items = Vec::new();
    for (name, by, body) in [
        ("owner-private", &owner, page("Owner notes", false)),
        ("owner-shared", &owner, template("Owner hello", true)),
        ("admin-private", &admin, page("Admin notes", false)),
        ("mia-private", &mia, template("Mia drafts", false)),
        ("mia-shared", &mia, page("Mia guide", true)),
        (
            "mia-file",
            &mia,
            json!({"kind": "file", "title": "Mia price list", "shared": false}),
        ),
        ("max-private", &max, page("Max notes", false)),
    ] {
        items.push((name, new_content(app, by, body).await));
    }
    Library {
        owner,
        admin,
        mia,
        max,
        bob,
        mia_id,
        items,
    }
}

pub async fn listed(app: &TestApp, user: &User) -> BTreeSet<i64> {
    content(app, &user.token)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

async fn r_p8_members_see_shared_and_own_private_content_admins_see_all(app: &TestApp) {
    let l = library(app).await;
    assert_eq!(listed(app, &l.owner).await, l.all());
    assert_eq!(listed(app, &l.admin).await, l.all());
    assert_eq!(
        listed(app, &l.mia).await,
        l.ids(&["owner-shared", "mia-shared", "mia-private", "mia-file"])
    );
    assert_eq!(
        listed(app, &l.max).await,
        l.ids(&["owner-shared", "mia-shared", "max-private"])
    );
    assert_eq!(
        listed(app, &l.bob).await,
        l.ids(&["owner-shared", "mia-shared"])
    );

    // Another member's private content is not found, for reading and writing.
    let private = format!(
        "/api/v1/content/{}",
        l.ids(&["mia-private"]).first().unwrap()
    );
    let before = app.get(&l.owner.token, &private).await.body;
    assert_eq!(app.get(&l.max.token, &private).await.status, 404);
    let r = app
        .patch(&l.max.token, &private, json!({"shared": true}))
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(
        app.get(&l.owner.token, &private).await.body,
        before,
        "nothing changed"
    );
    // Admins see it and may edit it.
    let r = app
        .patch(
            &l.admin.token,
            &private,
            json!({"title": "Mia drafts (checked)"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Sharing shows it to everyone.
    let r = app
        .patch(&l.mia.token, &private, json!({"shared": true}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        listed(app, &l.bob)
            .await
            .contains(&before["id"].as_i64().unwrap())
    );

    // A removed author's private content is left to admins; history still
    // names its author, marked removed (X4).
    let r = app
        .delete_json(
            &l.owner.token,
            &format!("/api/v1/members/{}", l.mia_id),
            json!({"clients": "delete"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let file = *l.ids(&["mia-file"]).first().unwrap();
    let r = app
        .get(&l.owner.token, &format!("/api/v1/content/{file}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["author"]["name"], "Mia (removed)");
    assert!(!listed(app, &l.max).await.contains(&file));
    assert!(
        listed(app, &l.max)
            .await
            .contains(&before["id"].as_i64().unwrap())
    );
}

async fn r_p8_p9_the_content_list_and_decide_agree_for_every_member(app: &TestApp) {
    let l = library(app).await;
    for user in [&l.owner, &l.admin, &l.mia, &l.max, &l.bob] {
        let mut decided = BTreeSet::new();
        for id in l.all() {
            let r = app.get(&user.token, &format!("/api/v1/content/{id}")).await;
            match r.status {
                200 => {
                    decided.insert(id);
                }
                404 => {}
                s => panic!("unexpected {s}: {}", r.text),
            }
        }
        assert_eq!(listed(app, user).await, decided, "{}", user.email);
        for kind in ["template", "file", "page"] {
            let r = app
                .get(&user.token, &format!("/api/v1/content?kind={kind}"))
                .await;
            assert!(
                r.body["content"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|c| c["kind"] == kind && decided.contains(&c["id"].as_i64().unwrap()))
            );
        }
    }
}
