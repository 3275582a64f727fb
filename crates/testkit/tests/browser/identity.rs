//! Identity journeys in the browser: sign-up, sign-in with 2FA, errors next
//! to their fields, coming back to the page asked for.

use crate::harness::Browser;
use leadteam_domain::totp;
use leadteam_testkit::{Clock, Engine, PASSWORD, TestApp, spawn_app};

async fn setup(test: &str) -> Option<(TestApp, Browser)> {
    let app = spawn_app(Engine::Sqlite).await?;
    let b = Browser::start(test, &app.base).await?;
    Some((app, b))
}

async fn sign_in(b: &Browser, email: &str, password: &str) {
    b.fill("#email", email).await;
    b.fill("#password", password).await;
    b.click("#signin-form button[type=submit]").await;
}

/// The current code of the authenticator app set up from the page's key.
fn code_now(app: &TestApp, secret_text: &str) -> String {
    let secret = totp::base32_decode(secret_text).expect("the key is base32");
    totp::code_at(&secret, app.clock.now().unix_seconds())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn o1_owner_signs_up_enrols_2fa_and_signs_in_with_a_code() {
    let Some((app, mut b)) = setup("o1_owner_signs_up_enrols_2fa_and_signs_in_with_a_code").await
    else {
        return;
    };
    let email = "ann@example.com";

    // Sign up: the owner lands on the dashboard of the new account.
    b.goto("/signup").await;
    b.wait_text("h1", "Create your team's account").await;
    b.shot("signup").await;
    b.fill("#account_name", "Acme Sales").await;
    b.fill("#name", "Ann Owner").await;
    b.fill("#email", email).await;
    b.fill("#password", PASSWORD).await;
    b.click("form button[type=submit]").await;
    // O1: the address is proven first: a mail with a link, then a button.
    b.wait_text("h1", "Check your email").await;
    assert!(b.text(".lede").await.contains(email));
    b.shot("signup-check-your-email").await;
    assert_eq!(app.count("accounts").await, 0, "nothing before the link");
    let mail = app
        .wait_for_mail(email, std::time::Duration::from_secs(10))
        .await;
    let link = leadteam_testkit::link_in(&mail.body).unwrap();
    b.goto(&link[link.find("/signup/confirm").unwrap()..]).await;
    b.wait_text("h1", "Create your account").await;
    b.shot("signup-confirm").await;
    b.click("#confirm-form button[type=submit]").await;
    b.wait_text("h1", "Hello, Ann Owner").await;
    b.wait_path("/?notice=welcome").await;
    assert!(b.text(".notice").await.contains("Your account is ready"));
    assert!(b.text(".account-name").await.contains("Acme Sales"));
    // What the owner may do, in words (no permission codes on the home: D1).
    b.click(".what-you-can-do summary").await;
    let can = b.text(".permissions").await;
    assert!(can.contains("Invite, edit and deactivate members"), "{can}");
    assert!(!can.contains("members.manage"), "{can}");
    b.shot("dashboard").await;

    // Sign out, then in again with the password alone.
    b.click(".signout button").await;
    b.wait_text(".notice", "You are signed out").await;
    b.shot("signed-out").await;
    sign_in(&b, email, PASSWORD).await;
    b.wait_text("h1", "Hello, Ann Owner").await;
    b.shot("dashboard-after-signin").await;

    // Enrol 2FA: QR code and key, confirm with a code, ten recovery codes.
    b.nav("/security").await;
    b.wait_text("h1", "Security").await;
    assert_eq!(
        b.attr("nav a[href='/security']", "aria-current")
            .await
            .as_deref(),
        Some("page")
    );
    b.shot("security").await;
    b.click("form[action='/security/2fa'] button").await;
    b.wait_text("h1", "Turn on two-factor authentication").await;
    b.find("svg.qr[role=img]").await;
    b.shot("enrol-2fa").await;
    let secret = b.text("#totp-secret").await;
    b.fill("#code", &code_now(&app, &secret)).await;
    b.click("form[action='/security/2fa/confirm'] button").await;
    b.wait_text("h1", "Save your recovery codes").await;
    let codes =
        b.c.find_all(fantoccini::Locator::Css(".recovery-codes li"))
            .await
            .unwrap();
    assert_eq!(codes.len(), 10);
    b.shot("recovery-codes").await;
    b.click("main a.button").await;
    b.wait_text("#tfa-heading", "On").await;
    assert!(b.text("main").await.contains("10 unused recovery codes"));
    b.shot("security-2fa-on").await;

    // Sign in again: the password first, then the code step (the password
    // stays typed in; htmx adds the code field).
    b.click(".signout button").await;
    b.wait_text(".notice", "You are signed out").await;
    sign_in(&b, email, PASSWORD).await;
    b.find("#code").await;
    b.wait_text("#second-factor", "Your password is right")
        .await;
    assert_eq!(b.value("#password").await, PASSWORD);
    assert_eq!(b.value("#email").await, email);
    b.shot("signin-code-step").await;
    app.clock.advance_ms(30_000); // the enrolment code was used: take the next one
    b.fill("#code", &code_now(&app, &secret)).await;
    b.click("#signin-form button[type=submit]").await;
    b.wait_text("h1", "Hello, Ann Owner").await;
    assert!(b.text("#you-heading + p + dl").await.contains("On"));
    b.shot("dashboard-2fa").await;

    // The same pages at phone width.
    b.c.set_window_size(360, 800).await.unwrap();
    b.shot("dashboard-phone").await;
    b.goto("/security").await;
    b.wait_text("h1", "Security").await;
    b.shot("security-phone").await;

    b.finish().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_shown_next_to_the_field_and_the_email_is_kept() {
    let Some((app, mut b)) =
        setup("a_wrong_password_is_shown_next_to_the_field_and_the_email_is_kept").await
    else {
        return;
    };
    app.signup("Acme", "Ann Owner", "ann@example.com").await;
    b.goto("/signin").await;
    b.wait_text("h1", "Sign in").await;

    // Keyboard: the first Tab reaches the skip link.
    let body = b.find("body").await;
    body.send_keys(&fantoccini::key::Key::Tab.to_string())
        .await
        .unwrap();
    let focused = b.c.active_element().await.unwrap();
    assert_eq!(focused.text().await.unwrap(), "Skip to main content");
    b.shot("signin-skip-link").await;

    sign_in(&b, "ann@example.com", "not the password at all").await;
    b.wait_text("#password-error", "The email or password is not right")
        .await;
    assert_eq!(
        b.attr("#password", "aria-invalid").await.as_deref(),
        Some("true")
    );
    assert_eq!(
        b.attr("#password", "aria-describedby").await.as_deref(),
        Some("password-error")
    );
    assert_eq!(b.value("#email").await, "ann@example.com");
    assert_eq!(b.value("#password").await, "");
    assert!(b.attr("#email", "aria-invalid").await.is_none());
    b.shot("signin-wrong-password").await;

    // The corrected password signs in.
    sign_in(&b, "ann@example.com", PASSWORD).await;
    b.wait_text("h1", "Hello, Ann Owner").await;
    b.shot("dashboard").await;
    b.finish().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signup_errors_are_shown_next_to_each_field_and_typed_values_are_kept() {
    let Some((app, mut b)) =
        setup("signup_errors_are_shown_next_to_each_field_and_typed_values_are_kept").await
    else {
        return;
    };
    app.signup("Taken", "Tim", "tim@example.com").await;
    let accounts = app.count("accounts").await;
    b.goto("/signup").await;
    b.fill("#account_name", "Acme Sales").await;
    b.fill("#email", "not-an-email").await;
    b.fill("#password", "short").await;
    b.click("form button[type=submit]").await;
    b.wait_text(".error-summary", "Please correct the 3 fields marked below")
        .await;
    assert!(
        b.text("#name-error")
            .await
            .contains("Your name is required")
    );
    assert!(
        b.text("#email-error")
            .await
            .contains("must be an email address")
    );
    assert!(
        b.text("#password-error")
            .await
            .contains("at least 10 characters")
    );
    assert_eq!(
        b.attr("#password", "aria-describedby").await.as_deref(),
        Some("password-error password-hint")
    );
    assert!(
        b.find("#account_name")
            .await
            .attr("aria-invalid")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(b.value("#account_name").await, "Acme Sales");
    assert_eq!(b.value("#email").await, "not-an-email");
    assert_eq!(b.value("#password").await, "");
    b.shot("signup-errors").await;

    // An email already in use: the page says the same as for a new one
    // (sign-up tells nobody which emails exist) and nothing is created.
    b.fill("#name", "Tina").await;
    b.fill("#email", "tim@example.com").await;
    b.fill("#password", PASSWORD).await;
    b.click("form button[type=submit]").await;
    b.wait_text("h1", "Check your email").await;
    b.shot("signup-email-taken").await;
    assert_eq!(app.count("accounts").await, accounts, "nothing was created");
    b.finish().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_visited_signed_out_asks_to_sign_in_and_comes_back() {
    let Some((app, mut b)) =
        setup("a_page_visited_signed_out_asks_to_sign_in_and_comes_back").await
    else {
        return;
    };
    app.signup("Acme", "Ann Owner", "ann@example.com").await;
    b.goto("/security").await;
    b.wait_path("/signin?next=%2Fsecurity").await;
    b.shot("signin-for-security").await;
    sign_in(&b, "ann@example.com", PASSWORD).await;
    b.wait_text("h1", "Security").await;
    b.wait_path("/security").await;
    b.shot("security").await;
    b.goto("/no-such-page").await;
    b.wait_text("h1", "Page not found").await;
    b.shot("not-found").await;
    b.finish().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t2_a_member_of_two_accounts_switches_between_them() {
    let Some((app, mut b)) = setup("t2_a_member_of_two_accounts_switches_between_them").await
    else {
        return;
    };
    let ann = app
        .signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;
    // A second membership (invitations are not in the UI yet): Ann owns another account.
    let mut tx = app.db.write().await.unwrap();
    leadteam_store::accounts::create_with_owner(
        &mut tx,
        "Beta Support",
        leadteam_domain::UserId(ann.user_id),
        "ann@example.com",
        "Ann Owner",
        app.clock.now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    b.goto("/signin").await;
    sign_in(&b, "ann@example.com", PASSWORD).await;
    b.wait_text("h1", "Hello, Ann Owner").await;
    let current = b.text(".account-name").await;
    let other = if current.contains("Acme") {
        "Beta Support"
    } else {
        "Acme Sales"
    };
    b.find("#account_id").await;
    b.shot("dashboard-two-accounts").await;
    b.find("#account_id")
        .await
        .select_by_label(other)
        .await
        .unwrap();
    b.click("form[action='/account'] button").await;
    b.wait_text(".notice", "You switched account").await;
    b.wait_text(".account-name", other).await;
    b.wait_text("#perm-heading", other).await;
    b.shot("dashboard-switched").await;
    b.finish().await;
    app.stop().await;
}
