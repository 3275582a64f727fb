//! Helpers shared by the API tests: members joining through the invitation
//! flow, as a person would (the link read from the outbox).

use leadteam_testkit::{PASSWORD, TestApp, User};
use reqwest::Method;
use serde_json::{Value, json};

/// The body of the newest message queued to `to`.
pub async fn last_mail(app: &TestApp, to: &str) -> String {
    let mut c = app.db.conn().await.unwrap();
    let body: Option<String> = sqlx::query_scalar(
        "SELECT body_text FROM outbox WHERE to_email = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(to)
    .fetch_optional(&mut *c)
    .await
    .unwrap();
    body.unwrap_or_else(|| panic!("no mail to {to}"))
}

pub fn token_in(body: &str) -> String {
    let start = body.find("token=").expect("link with a token") + "token=".len();
    body[start..].split_whitespace().next().unwrap().to_owned()
}

pub async fn role_id(app: &TestApp, owner: &User, name: &str) -> i64 {
    let mut c = app.db.conn().await.unwrap();
    sqlx::query_scalar("SELECT id FROM roles WHERE account_id = $1 AND name = $2")
        .bind(owner.account_id.unwrap())
        .bind(name)
        .fetch_one(&mut *c)
        .await
        .unwrap()
}

pub async fn invite(app: &TestApp, by: &User, name: &str, email: &str, role: &str) -> Value {
    let rid = role_id(app, by, role).await;
    let r = app
        .post(
            &by.token,
            "/api/v1/invitations",
            json!({"name": name, "email": email, "role_id": rid}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

/// Invites and accepts; returns the new member's user and member id.
pub async fn join(app: &TestApp, owner: &User, name: &str, email: &str, role: &str) -> (User, i64) {
    let m = invite(app, owner, name, email, role).await;
    let token = token_in(&last_mail(app, email).await);
    let r = app
        .call(
            Method::POST,
            "/api/v1/invitations/accept",
            None,
            Some(json!({"token": token, "password": PASSWORD})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let user = User {
        token: r.body["session"]["token"].as_str().unwrap().to_owned(),
        email: email.to_owned(),
        password: PASSWORD.to_owned(),
        user_id: r.body["session"]["user_id"].as_i64().unwrap(),
        account_id: owner.account_id,
    };
    (user, m["id"].as_i64().unwrap())
}
