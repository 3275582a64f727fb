//! Shared helpers of the API tests: the invitation flow through the outbox,
//! the clock set to exact days, the audit log, and the billing view.

use leadteam_domain::Timestamp;
use leadteam_domain::billing::Day;
use leadteam_testkit::{PASSWORD, Resp, TestApp, User};
use reqwest::Method;
use serde_json::{Value, json};

/// The body of the newest message to `to`, as delivered (links and codes
/// are minted when a message is sent, so only the delivered text has them):
/// waits until every message queued to `to` has left the outbox.
pub async fn last_mail(app: &TestApp, to: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        app.wake_mailer();
        let mut c = app.db.conn().await.unwrap();
        let pending: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE to_email = $1 AND sent_at IS NULL AND last_error IS NULL",
        )
        .bind(to)
        .fetch_one(&mut *c)
        .await
        .unwrap();
        drop(c);
        if pending == 0 {
            let mails = app.mails().await;
            if let Some(m) = mails.iter().rev().find(|m| m.to.eq_ignore_ascii_case(to)) {
                return m.body.clone();
            }
        }
        assert!(std::time::Instant::now() < deadline, "no mail to {to}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The invitation token in a mail body (after `token=`).
pub fn token_in(body: &str) -> String {
    let start = body.find("token=").expect("link with a token") + "token=".len();
    body[start..].split_whitespace().next().unwrap().to_owned()
}

/// The id of the role `name` in `owner`'s account.
pub async fn role_id(app: &TestApp, owner: &User, name: &str) -> i64 {
    let mut c = app.db.conn().await.unwrap();
    sqlx::query_scalar("SELECT id FROM roles WHERE account_id = $1 AND name = $2")
        .bind(owner.account_id.unwrap())
        .bind(name)
        .fetch_one(&mut *c)
        .await
        .unwrap()
}

/// Invites over the API; returns the raw answer.
pub async fn try_invite(
    app: &TestApp,
    by: &User,
    name: &str,
    email: &str,
    role: &str,
) -> leadteam_testkit::Resp {
    let rid = role_id(app, by, role).await;
    app.post(
        &by.token,
        "/api/v1/invitations",
        json!({"name": name, "email": email, "role_id": rid}),
    )
    .await
}

/// Invites, asserting 201; returns the invited member.
pub async fn invite(app: &TestApp, by: &User, name: &str, email: &str, role: &str) -> Value {
    let r = try_invite(app, by, name, email, role).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

/// Accepts the newest invitation mailed to `email` as a new user.
pub async fn accept_mailed(app: &TestApp, email: &str) -> leadteam_testkit::Resp {
    let token = token_in(&last_mail(app, email).await);
    app.call(
        Method::POST,
        "/api/v1/invitations/accept",
        None,
        Some(json!({"token": token, "password": PASSWORD})),
    )
    .await
}

/// Invites and accepts; returns the new member's user and member id.
pub async fn join(app: &TestApp, owner: &User, name: &str, email: &str, role: &str) -> (User, i64) {
    let m = invite(app, owner, name, email, role).await;
    let r = accept_mailed(app, email).await;
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

/// A fresh session for `user` (after the clock jumped past the idle limit).
pub async fn fresh(app: &TestApp, user: &User) -> User {
    User {
        token: app.signin_ok(&user.email, &user.password).await,
        ..user.clone()
    }
}

/// `hour`:00 UTC on the civil date.
pub fn at(year: i64, month: u32, day: u32, hour: i64) -> Timestamp {
    Day::from_civil(year, month, day)
        .expect("a calendar date")
        .start()
        .plus_minutes(hour * 60)
}

/// The newest audit row of `action`: (actor member, before, after).
pub async fn last_audit(app: &TestApp, action: &str) -> (Option<i64>, Value, Value) {
    let mut c = app.db.conn().await.unwrap();
    let row: (Option<i64>, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT actor_member_id, before_json, after_json FROM audit_log WHERE action = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(action)
    .fetch_optional(&mut *c)
    .await
    .unwrap()
    .unwrap_or_else(|| panic!("no audit row {action}"));
    let parse = |s: Option<String>| {
        s.map(|s| serde_json::from_str(&s).unwrap())
            .unwrap_or(Value::Null)
    };
    (row.0, parse(row.1), parse(row.2))
}

/// `GET /api/v1/billing`, asserting 200.
pub async fn billing(app: &TestApp, user: &User) -> Value {
    let r = app.get(&user.token, "/api/v1/billing").await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body
}

/// The invoice line of the member with `email`, if it has one.
pub fn line<'a>(b: &'a Value, email: &str) -> Option<&'a Value> {
    b["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["email"] == email)
}

/// The title of a problem+json answer.
pub fn title(r: &Resp) -> &str {
    r.body["title"].as_str().unwrap_or_default()
}

/// Row counts that a refused write must leave as they were.
pub async fn footprint(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for t in [
        "members",
        "invitations",
        "outbox",
        "audit_log",
        "seat_ledger",
        "on_duty",
        "credit_ledger",
    ] {
        out.push(app.count(t).await);
    }
    out
}

/// Gives the member `member` exactly `permissions` (as `by`, an admin).
pub async fn set_permissions(app: &TestApp, by: &User, member: i64, permissions: &[&str]) {
    let r = app
        .patch(
            &by.token,
            &format!("/api/v1/members/{member}"),
            serde_json::json!({"permissions": permissions}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

pub async fn member_id(app: &TestApp, user: &User) -> i64 {
    app.get(&user.token, "/api/v1/me").await.body["member_id"]
        .as_i64()
        .unwrap()
}

/// An unassigned client, as a lead source would deliver it. Fixture: written
/// through the store until lead intake has its own API.
pub async fn unassigned_client(app: &TestApp, account: i64, name: &str) -> i64 {
    let mut c = app.db.conn().await.unwrap();
    let fields = json!({});
    leadteam_store::clients::insert(
        &mut c,
        leadteam_store::clients::NewClient {
            account: leadteam_domain::AccountId(account),
            name,
            email: None,
            phone: None,
            source: "webhook",
            source_id: None,
            source_lead_id: None,
            fields: &fields,
            team: None,
            assignee: None,
            routing_reason: Some("unassigned: rule says leave unassigned"),
            created_by: None,
        },
        app.clock.now(),
    )
    .await
    .unwrap()
    .0
}

use leadteam_testkit::Clock as _;
