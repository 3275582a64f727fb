//! Foundation: sign-up (O1), sign-in, sign-out, sessions, password change,
//! TOTP 2FA, sign-in throttling, problem+json, body limit, CSRF.

use leadteam_domain::totp;
use leadteam_testkit::{Clock, PASSWORD, TestApp, both_engines};
use reqwest::Method;
use serde_json::json;

both_engines!(
    r_o1_signup_creates_an_account_with_its_owner_and_signs_in,
    signup_with_bad_fields_names_each_field_and_writes_nothing,
    unknown_email_and_wrong_password_get_the_same_answer,
    signout_ends_the_session,
    password_change_ends_the_other_sessions_only,
    totp_enrolment_then_signin_needs_a_code_used_once_only,
    recovery_codes_work_once_each,
    repeated_failures_lock_signin_for_a_while_with_a_clear_message,
    oversized_body_is_refused_with_413,
    cross_site_form_post_with_the_session_cookie_is_refused,
    errors_are_problem_json_naming_the_field,
);

async fn r_o1_signup_creates_an_account_with_its_owner_and_signs_in(app: &TestApp) {
    let owner = app
        .signup("Acme Sales", "Ann Owner", "Ann@Example.com")
        .await;
    let me = app.get(&owner.token, "/api/v1/me").await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["user"]["email"], "ann@example.com");
    assert_eq!(me.body["account"]["name"], "Acme Sales");
    assert_eq!(me.body["is_owner"], true);
    assert_eq!(me.body["memberships"].as_array().map(Vec::len), Some(1));
    assert_eq!(me.body["memberships"][0]["role"], "Owner");
    let perms: Vec<&str> = me.body["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    for p in [
        "members.manage",
        "account.manage",
        "clients.view_others",
        "agent",
    ] {
        assert!(perms.contains(&p), "owner holds {p}");
    }
    // Exactly one owner; the five presets exist.
    assert_eq!(app.count("members").await, 1);
    assert_eq!(app.count("roles").await, 5);
    // The same session works as a cookie.
    let r = app
        .http
        .get(app.url("/api/v1/me"))
        .header("cookie", format!("lt_session={}", owner.token))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Signing in again works with the password.
    let t = app.signin_ok("ann@example.com", PASSWORD).await;
    assert_eq!(app.get(&t, "/api/v1/me").await.status, 200);
}

async fn signup_with_bad_fields_names_each_field_and_writes_nothing(app: &TestApp) {
    let r = app
        .call(
            Method::POST,
            "/api/v1/signup",
            None,
            Some(json!({"account_name": " ", "name": "Ann", "email": "not-an-email", "password": "short"})),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["account_name", "email", "password"]);
    assert_eq!(app.count("users").await, 0);
    assert_eq!(app.count("accounts").await, 0);

    let r = app
        .call(
            Method::POST,
            "/api/v1/signup",
            None,
            Some(json!({"name": "Ann", "email": "a@b.io", "password": PASSWORD})),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field(), Some("account_name"));
    assert_eq!(app.count("users").await, 0);
}

async fn unknown_email_and_wrong_password_get_the_same_answer(app: &TestApp) {
    app.signup("Acme", "Ann", "ann@example.com").await;
    let wrong = app
        .signin("ann@example.com", "not the password", None)
        .await;
    let unknown = app
        .signin("nobody@example.com", "not the password", None)
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, wrong.status);
    assert_eq!(unknown.body, wrong.body);
    assert_eq!(wrong.problem_type(), Some("invalid-credentials"));
    assert_eq!(
        app.count("sessions").await,
        1,
        "only the sign-up session exists"
    );
}

async fn signout_ends_the_session(app: &TestApp) {
    let u = app.signup("Acme", "Ann", "ann@example.com").await;
    let r = app.delete(&u.token, "/api/v1/sessions/current").await;
    assert_eq!(r.status, 204);
    let r = app.get(&u.token, "/api/v1/me").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.problem_type(), Some("unauthenticated"));
    let r = app.call(Method::GET, "/api/v1/me", None, None).await;
    assert_eq!(r.status, 401);
}

async fn password_change_ends_the_other_sessions_only(app: &TestApp) {
    let u = app.signup("Acme", "Ann", "ann@example.com").await;
    let other = app.signin_ok("ann@example.com", PASSWORD).await;

    // A wrong current password changes nothing.
    let r = app
        .post(
            &u.token,
            "/api/v1/me/password",
            json!({"current_password": "nope nope nope", "new_password": "a brand new secret"}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.field(), Some("current_password"));
    assert_eq!(app.get(&other, "/api/v1/me").await.status, 200);
    // A weak new password is refused naming the field.
    let r = app
        .post(
            &u.token,
            "/api/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": "short"}),
        )
        .await;
    assert_eq!((r.status, r.field()), (422, Some("new_password")));

    let r = app
        .post(
            &u.token,
            "/api/v1/me/password",
            json!({"current_password": PASSWORD, "new_password": "a brand new secret"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["other_sessions_ended"], 1);
    assert_eq!(app.get(&u.token, "/api/v1/me").await.status, 200);
    assert_eq!(app.get(&other, "/api/v1/me").await.status, 401);
    assert_eq!(
        app.signin("ann@example.com", PASSWORD, None).await.status,
        401
    );
    app.signin_ok("ann@example.com", "a brand new secret").await;
}

async fn enrol(app: &TestApp, token: &str) -> (Vec<u8>, Vec<String>) {
    let r = app.post(token, "/api/v1/me/2fa", json!({})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(
        r.body["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    let secret = totp::base32_decode(r.body["secret"].as_str().unwrap()).unwrap();
    // A wrong code does not confirm.
    let r = app
        .post(token, "/api/v1/me/2fa/confirm", json!({"code": "000000x"}))
        .await;
    assert_eq!((r.status, r.field()), (422, Some("code")));
    let code = totp::code_at(&secret, app.clock.now().unix_seconds());
    let r = app
        .post(token, "/api/v1/me/2fa/confirm", json!({"code": code}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let codes: Vec<String> = r.body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

async fn totp_enrolment_then_signin_needs_a_code_used_once_only(app: &TestApp) {
    let u = app.signup("Acme", "Ann", "ann@example.com").await;
    let (secret, _) = enrol(app, &u.token).await;
    let me = app.get(&u.token, "/api/v1/me").await;
    assert_eq!(me.body["user"]["two_factor_enabled"], true);

    // The password alone is not enough, and says what is missing.
    let r = app.signin("ann@example.com", PASSWORD, None).await;
    assert_eq!((r.status, r.problem_type()), (401, Some("totp-required")));
    // The code used to confirm cannot be used again (same step).
    let used = totp::code_at(&secret, app.clock.now().unix_seconds());
    let r = app.signin("ann@example.com", PASSWORD, Some(&used)).await;
    assert_eq!((r.status, r.problem_type()), (401, Some("invalid-totp")));

    app.clock.advance_ms(30_000);
    let code = totp::code_at(&secret, app.clock.now().unix_seconds());
    let sessions_before = app.count("sessions").await;
    let r = app.signin("ann@example.com", PASSWORD, Some(&code)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    // Replaying the same code is refused and creates no session.
    let r = app.signin("ann@example.com", PASSWORD, Some(&code)).await;
    assert_eq!((r.status, r.problem_type()), (401, Some("invalid-totp")));
    assert_eq!(app.count("sessions").await, sessions_before + 1);

    // Turning 2FA off needs the password and a fresh code.
    app.clock.advance_ms(30_000);
    let r = app
        .delete_json(
            &u.token,
            "/api/v1/me/2fa",
            json!({"password": "wrong password!"}),
        )
        .await;
    assert_eq!((r.status, r.field()), (422, Some("password")));
    let code = totp::code_at(&secret, app.clock.now().unix_seconds());
    let r = app
        .delete_json(
            &u.token,
            "/api/v1/me/2fa",
            json!({"password": PASSWORD, "code": code}),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        app.signin("ann@example.com", PASSWORD, None).await.status,
        201
    );
}

async fn recovery_codes_work_once_each(app: &TestApp) {
    let u = app.signup("Acme", "Ann", "ann@example.com").await;
    let (_, codes) = enrol(app, &u.token).await;
    let body = json!({"email": "ann@example.com", "password": PASSWORD, "recovery_code": codes[3]});
    let r = app
        .call(Method::POST, "/api/v1/sessions", None, Some(body.clone()))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .call(Method::POST, "/api/v1/sessions", None, Some(body))
        .await;
    assert_eq!((r.status, r.problem_type()), (401, Some("invalid-totp")));
    let me = app.get(&u.token, "/api/v1/me").await;
    assert_eq!(me.body["user"]["recovery_codes_left"], 9);
    // Codes are accepted without the dash and in upper case.
    let loose = codes[4].replace('-', "").to_uppercase();
    let r = app
        .call(
            Method::POST,
            "/api/v1/sessions",
            None,
            Some(json!({"email": "ann@example.com", "password": PASSWORD, "recovery_code": loose})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

async fn repeated_failures_lock_signin_for_a_while_with_a_clear_message(app: &TestApp) {
    app.signup("Acme", "Ann", "ann@example.com").await;
    for i in 0..10 {
        let r = app.signin("ann@example.com", "wrong password", None).await;
        assert_eq!(r.status, 401, "attempt {i}");
    }
    // Locked: even the right password is refused, with a clear message.
    let r = app.signin("ann@example.com", PASSWORD, None).await;
    assert_eq!(r.status, 429, "{}", r.text);
    assert_eq!(r.problem_type(), Some("too-many-attempts"));
    assert!(
        r.body["title"]
            .as_str()
            .unwrap()
            .contains("try again in 15 minute")
    );
    assert!(
        r.header("retry-after")
            .and_then(|v| v.parse::<i64>().ok())
            .is_some_and(|s| s > 800)
    );
    // Unknown emails are locked the same way (no oracle).
    for _ in 0..10 {
        app.signin("ghost@example.com", "wrong password", None)
            .await;
    }
    assert_eq!(
        app.signin("ghost@example.com", "wrong password", None)
            .await
            .status,
        429
    );
    // After the lock expires the right password works again.
    app.clock.advance_ms(16 * 60_000);
    let r = app.signin("ann@example.com", PASSWORD, None).await;
    assert_eq!(r.status, 201, "{}", r.text);
}

async fn oversized_body_is_refused_with_413(app: &TestApp) {
    let big = "x".repeat(2 * 1024 * 1024);
    let r = app
        .call(
            Method::POST,
            "/api/v1/signup",
            None,
            Some(
                json!({"account_name": big, "name": "A", "email": "a@b.io", "password": PASSWORD}),
            ),
        )
        .await;
    assert_eq!(r.status, 413, "{}", &r.text[..r.text.len().min(200)]);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(app.count("users").await, 0);
}

async fn cross_site_form_post_with_the_session_cookie_is_refused(app: &TestApp) {
    let u = app.signup("Acme", "Ann", "ann@example.com").await;
    let cookie = format!("lt_session={}", u.token);
    // A form on another site posting with the victim's cookie.
    let r = app
        .http
        .post(app.url("/api/v1/me/2fa"))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("a=b")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The same without Origin but with Sec-Fetch-Site: cross-site.
    let r = app
        .http
        .delete(app.url("/api/v1/sessions/current"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A form-encoded post with no origin information at all.
    let r = app
        .http
        .post(app.url("/api/v1/me/password"))
        .header("cookie", &cookie)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Nothing happened: no pending 2FA, session alive.
    let me = app.get(&u.token, "/api/v1/me").await;
    assert_eq!(me.status, 200);
    let mut c = app.db.conn().await.unwrap();
    let pending: Option<String> = sqlx::query_scalar("SELECT totp_pending_secret FROM users")
        .fetch_one(&mut *c)
        .await
        .unwrap();
    assert_eq!(pending, None);
    // A same-origin request with the cookie works.
    let r = app
        .http
        .post(app.url("/api/v1/me/2fa"))
        .header("cookie", &cookie)
        .header("origin", &app.base)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

async fn errors_are_problem_json_naming_the_field(app: &TestApp) {
    let r = app
        .call(
            Method::POST,
            "/api/v1/sessions",
            None,
            Some(json!({"email": "a@b.io", "password": 12})),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.field(), Some("password"));
    let r = app
        .http
        .post(app.url("/api/v1/sessions"))
        .header("content-type", "application/json")
        .body("{oops")
        .send()
        .await
        .unwrap();
    let r = TestApp::read(r).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.problem_type(), Some("malformed-json"));
    let r = app
        .call(
            Method::POST,
            "/api/v1/sessions",
            None,
            Some(json!({"email": "a@b.io", "password": "x", "extra": 1})),
        )
        .await;
    assert_eq!((r.status, r.field()), (422, Some("extra")));
}
