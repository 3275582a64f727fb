//! Running the team in the browser: the owner invites a member, the member
//! accepts through the emailed link and signs in, the owner deactivates the
//! member, whose open page then fails to act (M1, M4, M5, M9).

use crate::harness::Browser;
use leadteam_testkit::{Engine, PASSWORD, TestApp, link_in, spawn_app};
use std::time::Duration;

pub async fn setup(test: &str) -> Option<(TestApp, Browser)> {
    let app = spawn_app(Engine::Sqlite).await?;
    let b = Browser::start(test, &app.base).await?;
    Some((app, b))
}

pub async fn sign_in(b: &Browser, email: &str, password: &str) {
    b.goto("/signin").await;
    b.fill("#email", email).await;
    b.fill("#password", password).await;
    b.click("#signin-form button[type=submit]").await;
}

/// The id of the member with `email`, from the API.
pub async fn member_id(app: &TestApp, token: &str, email: &str) -> i64 {
    let r = app.get(token, "/api/v1/members").await;
    r.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == email)
        .unwrap_or_else(|| panic!("no member {email}: {}", r.text))["id"]
        .as_i64()
        .unwrap()
}

/// The same server under another host name: a browser keeps the cookies of
/// `127.0.0.1` and `localhost` apart, so one Chromium holds two people.
fn other_host(url: &str) -> String {
    url.replacen("127.0.0.1", "localhost", 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn m1_m4_m5_owner_invites_member_accepts_by_email_then_is_deactivated() {
    let test = "m1_m4_m5_owner_invites_member_accepts_by_email_then_is_deactivated";
    let Some((app, mut b)) = setup(test).await else {
        return;
    };
    let owner = app
        .signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;

    // The owner opens Members: alone so far, with the next step said.
    sign_in(&b, "ann@example.com", PASSWORD).await;
    b.wait_text("h1", "Hello, Ann Owner").await;
    b.nav("/members").await;
    b.wait_text("h1", "Members").await;
    b.wait_text("main", "You are the only member so far").await;
    b.shot("members-alone").await;

    // The invite dialog: a missing name is said next to the field.
    b.click("#invite-dialog summary").await;
    b.fill("#email", "bob@example.com").await;
    b.click("#invite-form button[type=submit]").await;
    b.wait_text("#name-error", "Name is required").await;
    assert_eq!(b.value("#email").await, "bob@example.com");
    b.shot("invite-error").await;
    assert_eq!(app.count("invitations").await, 0);
    b.fill("#name", "Bob Member").await;
    b.click("#invite-form button[type=submit]").await;
    b.wait_text(".notice", "The invitation is sent").await;
    let bob = member_id(&app, &owner.token, "bob@example.com").await;
    assert_eq!(
        b.text(&format!("#member-{bob} .status")).await,
        "Invite Sent"
    );
    b.shot("members-invited").await;

    // The member opens the link of the email (in the same browser under
    // another host name, so the owner stays signed in).
    let mail = app
        .wait_for_mail("bob@example.com", Duration::from_secs(10))
        .await;
    let link = link_in(&mail.body).expect("a link in the invitation");
    assert!(link.contains("/invitations/accept?token="), "{link}");
    let owner_window = b.c.window().await.unwrap();
    let w = b.c.new_window(true).await.unwrap();
    b.c.switch_to_window(w.handle).await.unwrap();
    b.c.goto(&other_host(&link)).await.unwrap();
    b.wait_text("h1", "Join Acme Sales").await;
    assert_eq!(b.value("#name").await, "Bob Member");
    b.shot("accept-invitation").await;
    b.fill("#password", "short").await;
    b.click("#accept-form button[type=submit]").await;
    b.wait_text("#password-error", "at least 10 characters")
        .await;
    b.shot("accept-invitation-error").await;
    b.fill("#password", PASSWORD).await;
    b.click("#accept-form button[type=submit]").await;
    b.wait_text("h1", "Hello, Bob Member").await;
    b.wait_text(".notice", "You joined").await;
    assert!(b.text(".account-name").await.contains("Acme Sales"));
    b.shot("member-dashboard").await;

    // A Member sees the team but none of the actions (decide).
    b.c.goto(&other_host(&app.url("/members"))).await.unwrap();
    b.wait_text("h1", "Members").await;
    b.wait_text("tbody", "Ann Owner").await;
    assert!(
        b.c.find(fantoccini::Locator::Css("#invite-dialog"))
            .await
            .is_err()
    );
    assert!(b.c.find(fantoccini::Locator::Css(".menu")).await.is_err());
    b.shot("members-seen-by-member").await;

    // The used link is dead, and says so.
    b.c.goto(&other_host(&link)).await.unwrap();
    b.wait_text("h1", "This invitation link does not work")
        .await;
    assert!(b.text("main").await.contains("no longer valid"));
    b.shot("link-used").await;

    // The member signs out and in again with the chosen password, then
    // leaves the security page open with a form half filled in.
    b.c.goto(&other_host(&app.url("/"))).await.unwrap();
    b.click(".signout button").await;
    b.wait_text(".notice", "You are signed out").await;
    b.fill("#email", "bob@example.com").await;
    b.fill("#password", PASSWORD).await;
    b.click("#signin-form button[type=submit]").await;
    b.wait_text("h1", "Hello, Bob Member").await;
    b.c.goto(&other_host(&app.url("/security"))).await.unwrap();
    b.wait_text("h1", "Security").await;
    b.fill("#current_password", PASSWORD).await;
    b.fill("#new_password", "another long passphrase").await;
    let member_window = b.c.window().await.unwrap();

    // The owner sees the member active and deactivates it from its menu.
    b.c.switch_to_window(owner_window.clone()).await.unwrap();
    b.goto("/members").await;
    b.wait_text(&format!("#member-{bob} .status"), "Active")
        .await;
    b.click(&format!("#member-{bob} .menu summary")).await;
    b.click(&format!("#member-{bob} a[href$='/edit']")).await;
    b.wait_text("h1", "Edit Bob Member").await;
    b.find("#role_id")
        .await
        .select_by_label("Manager")
        .await
        .unwrap();
    b.fill("#capacity", "-3").await;
    b.click("#edit-member-form button[type=submit]").await;
    b.wait_text("#capacity-error", "between 0 and 100000").await;
    b.shot("member-edit-error").await;
    b.fill("#capacity", "5").await;
    b.click("#edit-member-form button[type=submit]").await;
    b.wait_text(".notice", "The member is saved").await;
    b.wait_text(&format!("#member-{bob}"), "Manager").await;
    b.click(&format!("#member-{bob} .menu summary")).await;
    b.shot("member-menu").await;
    b.click(&format!("#member-{bob} form[action$='/deactivate'] button"))
        .await;
    // It signs Bob out: the browser asks first.
    b.c.accept_alert().await.expect("a confirmation is asked");
    b.wait_text(".notice", "deactivated").await;
    assert_eq!(
        b.text(&format!("#member-{bob} .status")).await,
        "Deactivated"
    );
    b.shot("member-deactivated").await;

    // The member's open page fails to act: its form leads to sign-in and
    // the password is unchanged.
    b.c.switch_to_window(member_window).await.unwrap();
    b.click("form[action='/security/password'] button").await;
    b.wait_text("h1", "Sign in").await;
    assert!(b.path_now().await.starts_with("/signin"));
    b.shot("deactivated-member-form").await;
    assert_eq!(
        app.signin("bob@example.com", PASSWORD, None).await.status,
        201,
        "the password did not change"
    );

    // Another invitation: re-sent (the first link dies), then cancelled.
    b.c.switch_to_window(owner_window.clone()).await.unwrap();
    b.goto("/members").await;
    b.click("#invite-dialog summary").await;
    b.fill("#name", "Carol").await;
    b.fill("#email", "carol@example.com").await;
    b.click("#invite-form button[type=submit]").await;
    b.wait_text(".notice", "The invitation is sent").await;
    let carol = member_id(&app, &owner.token, "carol@example.com").await;
    let first = link_in(
        &app.wait_for_mail("carol@example.com", Duration::from_secs(10))
            .await
            .body,
    )
    .unwrap();
    b.click(&format!("#member-{carol} .menu summary")).await;
    b.click(&format!("#member-{carol} form[action$='/resend'] button"))
        .await;
    b.wait_text(".notice", "A new invitation is sent").await;
    let second = link_in(
        &app.wait_for_mail("carol@example.com", Duration::from_secs(10))
            .await
            .body,
    )
    .unwrap();
    assert_ne!(first, second);
    b.goto(&first.replacen(&app.base, "", 1)).await;
    b.wait_text("h1", "This invitation link does not work")
        .await;
    b.goto("/members").await;
    b.click(&format!("#member-{carol} .menu summary")).await;
    b.click(&format!("#member-{carol} form[action$='/cancel'] button"))
        .await;
    b.c.accept_alert().await.expect("a confirmation is asked");
    b.wait_text(".notice", "The invitation is cancelled").await;
    b.goto(&second.replacen(&app.base, "", 1)).await;
    b.wait_text("h1", "This invitation link does not work")
        .await;
    b.shot("cancelled-link").await;

    // The filter shows deactivated members only.
    b.goto("/members?status=deactivated").await;
    b.wait_text("main", "Bob Member").await;
    assert!(!b.text("tbody").await.contains("Ann Owner"));
    b.goto("/members?status=invited").await;
    b.wait_text(".empty", "No member has the status Invite Sent")
        .await;
    b.shot("members-filter-empty").await;

    // Removing for good asks what happens to the clients.
    b.goto("/members").await;
    b.click(&format!("#member-{bob} .menu summary")).await;
    b.click(&format!("#member-{bob} a[href$='/remove']")).await;
    b.wait_text("h1", "Remove Bob Member for good").await;
    b.shot("member-remove").await;
    b.click("#remove-member-form button[type=submit]").await;
    b.wait_text(".notice", "The member is removed").await;
    assert!(!b.text("tbody").await.contains("Bob Member"));

    b.finish().await;
    app.stop().await;
}
