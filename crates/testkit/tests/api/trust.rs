//! Trust (issue "no id reused, no history rewritten, no live token at rest"):
//! sign-up proves the address first (O1, no squatting, no enumeration),
//! secrets are minted when mail leaves, account deletion (O4), and the
//! smaller guards: required 2FA on duty status (O5), the CSRF guard, private
//! answers not cached, password guesses throttled.

use super::support::{join, last_mail};
use leadteam_testkit::{PASSWORD, TestApp, both_engines};
use reqwest::Method;
use serde_json::{Value, json};

both_engines!(
    r_o1_signup_proves_the_address_first_and_tells_nobody_which_emails_exist,
    r_o1_a_squatter_never_gets_in_and_the_real_person_joins_when_invited,
    security_no_usable_token_is_kept_in_the_outbox,
    r_o4_an_account_with_assigned_clients_and_files_is_deleted_at_once,
    r_o4_the_deletion_code_works_only_for_the_member_who_asked,
    r_o5_duty_status_obeys_required_2fa,
    security_the_csrf_guard_looks_at_the_credential_used,
    security_private_answers_are_not_cached,
    security_a_wrong_current_password_counts_like_a_failed_signin,
);

async fn ask_signup(app: &TestApp, email: &str, password: &str) -> leadteam_testkit::Resp {
    app.call(
        Method::POST,
        "/api/v1/signup",
        None,
        Some(json!({"account_name": "Acme", "name": "Someone", "email": email, "password": password})),
    )
    .await
}

/// The answer without the email it names.
fn shape(b: &Value) -> Value {
    let mut b = b.clone();
    b["email"] = json!("");
    b
}

async fn r_o1_signup_proves_the_address_first_and_tells_nobody_which_emails_exist(app: &TestApp) {
    let fresh = ask_signup(app, "new@example.com", PASSWORD).await;
    assert_eq!(fresh.status, 202, "{}", fresh.text);
    assert_eq!(fresh.body["status"], "confirmation_sent");
    assert_eq!(app.count("users").await, 0, "nothing before the link");
    assert_eq!(app.count("accounts").await, 0);

    let ann = app.signup("Acme", "Ann", "ann@example.com").await;
    // Someone else asks with Ann's address: the same answer as for a new
    // address, nothing created, and Ann gets a note without a link.
    let taken = ask_signup(app, "ANN@example.com", "another long password").await;
    assert_eq!(taken.status, fresh.status);
    assert_eq!(shape(&taken.body), shape(&fresh.body));
    assert_eq!(app.count("accounts").await, 1);
    let note = last_mail(app, "ann@example.com").await;
    assert!(note.contains("already has a login"), "{note}");
    assert!(!note.contains("token="), "no link in the note: {note}");

    // Ann herself (her own password) gets a link that adds an account to her login.
    assert_eq!(
        ask_signup(app, "ann@example.com", PASSWORD).await.status,
        202
    );
    let r = app.confirm_signup("ann@example.com").await;
    assert_eq!(r.status, 201, "{}", r.text);
    let me = app
        .get(r.body["token"].as_str().unwrap(), "/api/v1/me")
        .await;
    assert_eq!(me.body["user"]["id"].as_i64(), Some(ann.user_id));
    assert_eq!(me.body["memberships"].as_array().unwrap().len(), 2);

    // A link works once.
    let link = last_mail(app, "ann@example.com").await;
    let token = link
        .split("token=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let again = app
        .call(
            Method::POST,
            "/api/v1/signup/confirm",
            None,
            Some(json!({ "token": token })),
        )
        .await;
    assert_eq!(again.status, 410, "{}", again.text);
    assert_eq!(app.count("accounts").await, 2);
}

async fn r_o1_a_squatter_never_gets_in_and_the_real_person_joins_when_invited(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    // Mallory signs up with Vic's address before Vic is invited.
    assert_eq!(
        ask_signup(app, "vic@example.com", "mallory's own password")
            .await
            .status,
        202
    );
    assert_eq!(
        app.count("users").await,
        1,
        "no login for an unproven address"
    );
    assert_eq!(
        app.signin("vic@example.com", "mallory's own password", None)
            .await
            .status,
        401
    );
    // Vic is invited and joins as a new user with a password of his own.
    let (vic, _) = join(app, &owner, "Vic", "vic@example.com", "Member").await;
    assert_eq!(app.get(&vic.token, "/api/v1/me").await.status, 200);
    // The link Mallory asked for (mailed to Vic) creates nothing any more.
    let r = app.confirm_signup("vic@example.com").await;
    assert_eq!(r.status, 410, "{}", r.text);
    assert_eq!(app.count("accounts").await, 1);
    assert_eq!(
        app.signin("vic@example.com", "mallory's own password", None)
            .await
            .status,
        401
    );
}

async fn security_no_usable_token_is_kept_in_the_outbox(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    app.post(
        &owner.token,
        "/api/v1/invitations",
        json!({"name": "Bea", "email": "bea@example.com"}),
    )
    .await;
    app.post(&owner.token, "/api/v1/account/deletion", json!({}))
        .await;
    let invitation = last_mail(app, "bea@example.com").await;
    let code_mail = last_mail(app, "ann@example.com").await;
    let token = invitation
        .split("token=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let code = code_mail
        .split("Confirmation code: ")
        .nth(1)
        .unwrap()
        .chars()
        .take(8)
        .collect::<String>();
    let mut c = app.db.conn().await.unwrap();
    let bodies: Vec<String> = sqlx::query_scalar("SELECT body_text FROM outbox")
        .fetch_all(&mut *c)
        .await
        .unwrap();
    drop(c);
    for b in &bodies {
        assert!(!b.contains(&token), "the invitation token is at rest: {b}");
        assert!(!b.contains(&code), "the deletion code is at rest: {b}");
    }
    // The secrets minted at send time work.
    let r = app
        .call(
            Method::POST,
            "/api/v1/invitations/accept",
            None,
            Some(json!({"token": token, "password": PASSWORD})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

async fn r_o4_an_account_with_assigned_clients_and_files_is_deleted_at_once(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, _) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    for (who, name) in [(&owner, "Owned by Ann"), (&bob, "Owned by Bob")] {
        let r = app
            .post(&who.token, "/api/v1/clients", json!({"name": name}))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let content = app
        .post(
            &owner.token,
            "/api/v1/content",
            json!({"kind": "file", "title": "Prices", "shared": true}),
        )
        .await;
    let id = content.body["id"].as_i64().unwrap();
    let up = app
        .http
        .post(app.url(&format!("/api/v1/content/{id}/file")))
        .bearer_auth(&owner.token)
        .header("content-type", "text/plain")
        .body("price list")
        .send()
        .await
        .unwrap();
    assert!(up.status().is_success());
    let folder = app
        .dir
        .path
        .join("content")
        .join(owner.account_id.unwrap().to_string());
    assert!(folder.exists());

    app.post(&owner.token, "/api/v1/account/deletion", json!({}))
        .await;
    let mail = last_mail(app, "ann@example.com").await;
    let code: String = mail
        .split("Confirmation code: ")
        .nth(1)
        .unwrap()
        .chars()
        .take(8)
        .collect();
    let r = app
        .delete_json(&owner.token, "/api/v1/account", json!({"code": code}))
        .await;
    assert!(
        r.status == 204 || r.status == 200,
        "{} {}",
        r.status,
        r.text
    );
    for table in [
        "accounts",
        "members",
        "clients",
        "content_items",
        "client_events",
    ] {
        assert_eq!(app.count(table).await, 0, "{table} emptied");
    }
    assert!(!folder.exists(), "the account's files are gone");
    assert_eq!(app.get(&bob.token, "/api/v1/clients").await.status, 401);
}

async fn r_o4_the_deletion_code_works_only_for_the_member_who_asked(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (adam, adam_id) = join(app, &owner, "Adam", "adam@example.com", "Admin").await;
    app.post(&owner.token, "/api/v1/account/deletion", json!({}))
        .await;
    let mail = last_mail(app, "ann@example.com").await;
    let code: String = mail
        .split("Confirmation code: ")
        .nth(1)
        .unwrap()
        .chars()
        .take(8)
        .collect();
    let r = app
        .post(
            &owner.token,
            "/api/v1/account/ownership",
            json!({"member_id": adam_id}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The new owner holds the former owner's code: refused, nothing deleted.
    let r = app
        .delete_json(&adam.token, "/api/v1/account", json!({"code": code}))
        .await;
    assert_eq!((r.status, r.field()), (422, Some("code")), "{}", r.text);
    assert_eq!(app.count("accounts").await, 1);
    // And the former owner may not delete at all any more.
    let r = app
        .delete_json(&owner.token, "/api/v1/account", json!({"code": code}))
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(app.count("accounts").await, 1);
}

async fn r_o5_duty_status_obeys_required_2fa(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, _) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    assert_eq!(app.get(&bob.token, "/api/v1/me/duty").await.status, 200);
    let r = app
        .patch(
            &owner.token,
            "/api/v1/account",
            json!({"require_2fa": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app.get(&bob.token, "/api/v1/me/duty").await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.problem_type(), Some("2fa-enrolment-required"));
    assert_eq!(app.get(&bob.token, "/api/v1/me").await.status, 200);
}

async fn security_the_csrf_guard_looks_at_the_credential_used(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let before = app.count("clients").await;
    // The session cookie authenticates (a Basic header is not a credential
    // of ours): a cross-site post is refused however it is dressed.
    let r = app
        .http
        .post(app.url("/api/v1/clients"))
        .header("cookie", format!("lt_session={}", owner.token))
        .header("authorization", "Basic YTpi")
        .header("origin", "https://evil.example")
        .json(&json!({"name": "Planted"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert_eq!(app.count("clients").await, before, "nothing written");
    // The same from our own site goes through.
    let host = app.base.trim_start_matches("http://").to_owned();
    let r = app
        .http
        .post(app.url("/api/v1/clients"))
        .header("cookie", format!("lt_session={}", owner.token))
        .header("authorization", "Basic YTpi")
        .header("origin", format!("http://{host}"))
        .json(&json!({"name": "Mine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
}

async fn security_private_answers_are_not_cached(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let r = app
        .http
        .get(app.url("/api/v1/me"))
        .header("cookie", format!("lt_session={}", owner.token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let r = app.get(&owner.token, "/api/v1/clients").await;
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // Public documents may be cached.
    let r = app
        .http
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_ne!(
        r.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
}

async fn security_a_wrong_current_password_counts_like_a_failed_signin(app: &TestApp) {
    let ann = app.signup("Acme", "Ann", "ann@example.com").await;
    let mut statuses = Vec::new();
    for _ in 0..11 {
        let r = app
            .post(
                &ann.token,
                "/api/v1/me/password",
                json!({"current_password": "a wrong guess!", "new_password": "a brand new secret"}),
            )
            .await;
        statuses.push(r.status);
    }
    assert_eq!(&statuses[..10], &[422; 10], "{statuses:?}");
    assert_eq!(statuses[10], 429, "guesses stop after the sign-in limit");
    // Sign-in of that email is paused too: the counter is the same.
    assert_eq!(
        app.signin("ann@example.com", PASSWORD, None).await.status,
        429
    );
    // Even the right current password waits until the pause ends.
    let r = app
        .post(
            &ann.token,
            "/api/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": "a brand new secret"}),
        )
        .await;
    assert_eq!(r.status, 429);
    app.clock.advance_ms(15 * 60_000 + 1);
    let r = app
        .post(
            &ann.token,
            "/api/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": "a brand new secret"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}
