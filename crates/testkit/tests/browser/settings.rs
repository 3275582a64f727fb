//! The team pages in the browser: roles, teams, account settings, the audit
//! log, billing and going to work; each page renders and one action on it
//! works (P3, T1, O3, O4, X1, B3, B4). Phone-width shots of each page.

use crate::team::{setup, sign_in};
use leadteam_testkit::{PASSWORD, TestApp};
use std::time::Duration;

/// Ticks the checkbox of `id` (its label is clicked, as a person would).
async fn tick(b: &crate::harness::Browser, id: &str) {
    b.click(&format!("label[for='{id}']")).await;
}

pub async fn phone_shots(b: &mut crate::harness::Browser, pages: &[(&str, &str, &str)]) {
    let (w, h) = b.c.get_window_size().await.unwrap();
    b.c.set_window_size(360, 800).await.unwrap();
    for (path, h1, name) in pages {
        b.goto(path).await;
        b.wait_text("h1", h1).await;
        b.shot(name).await;
    }
    b.c.set_window_size(w as u32, h as u32).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p3_t1_x1_b3_b4_roles_teams_audit_billing_and_work_in_the_browser() {
    let test = "p3_t1_x1_b3_b4_roles_teams_audit_billing_and_work_in_the_browser";
    let Some((app, mut b)) = setup(test).await else {
        return;
    };
    app.signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;
    sign_in(&b, "ann@example.com", PASSWORD).await;
    b.wait_text("h1", "Hello, Ann Owner").await;

    // Work status on the dashboard: start work, then stop (htmx swaps the card).
    b.wait_text("#duty", "Not at work").await;
    b.click("#duty button").await;
    b.wait_text("#duty", "At work").await;
    b.shot("dashboard-at-work").await;
    b.click("#duty button").await;
    b.wait_text("#duty", "Not at work").await;

    // Roles: a missing name is said next to it; then a custom role is created.
    b.nav("/roles").await;
    b.wait_text("h1", "Roles").await;
    b.shot("roles").await;
    b.click("#create-role summary").await;
    tick(&b, "perm-team.view").await;
    b.click("#create-role-form button[type=submit]").await;
    b.wait_text("#name-error", "is required").await;
    b.shot("roles-create-error").await;
    b.fill("#name", "Inbox Manager").await;
    tick(&b, "perm-clients.view_unassigned").await;
    b.click("#create-role-form button[type=submit]").await;
    b.wait_text(".notice", "The role is created").await;
    b.wait_text("main", "Inbox Manager").await;
    b.shot("roles-created").await;
    // Rename it and give it one more permission.
    b.click("a[aria-label='Edit the role Inbox Manager']").await;
    b.wait_text("h1", "Edit the role Inbox Manager").await;
    b.shot("role-edit").await;
    b.fill("#name", "Inbox Lead").await;
    tick(&b, "perm-content.edit").await;
    b.click("#edit-role-form button[type=submit]").await;
    b.wait_text(".notice", "The role is saved").await;
    b.wait_text("main", "Inbox Lead").await;
    let r = app.count("roles").await;
    b.click("button[aria-label='Delete the role Inbox Lead']")
        .await;
    b.wait_text(".notice", "The role is deleted").await;
    assert_eq!(app.count("roles").await, r - 1);

    // Teams: empty state, then a team with Ann in it, renamed.
    b.nav("/teams").await;
    b.wait_text("h1", "Teams").await;
    b.wait_text(".empty", "There are no teams yet").await;
    b.shot("teams-empty").await;
    b.click("#create-team summary").await;
    b.fill("#name", "North").await;
    b.click("#create-team-form label").await; // focus moves on; nothing ticked yet
    let ann_box = b.find("#create-team-form input[name=members]").await;
    ann_box.click().await.unwrap();
    b.click("#create-team-form button[type=submit]").await;
    b.wait_text(".notice", "The team is created").await;
    b.wait_text(".cards", "North").await;
    assert!(b.text(".cards").await.contains("Ann Owner"));
    b.shot("teams").await;
    b.click("a[aria-label='Edit the team North']").await;
    b.wait_text("h1", "Team North").await;
    b.shot("team-edit").await;
    b.fill("#name", "North East").await;
    b.click("#team-rename-form button[type=submit]").await;
    b.wait_text(".notice", "The team is saved").await;
    b.wait_text(".cards", "North East").await;

    // Billing: one more seat.
    b.nav("/billing").await;
    b.wait_text("h1", "Billing").await;
    let seats: i64 = b.text("#seats-purchased").await.parse().unwrap();
    assert!(b.text("main").await.contains("Ann Owner"));
    b.shot("billing").await;
    b.click("#add-seat").await;
    b.wait_text(".notice", "The number of seats is changed")
        .await;
    assert_eq!(b.text("#seats-purchased").await, (seats + 1).to_string());
    assert!(
        b.find("a[href^='/api/v1/billing/invoice.csv']")
            .await
            .is_displayed()
            .await
            .unwrap()
    );
    b.shot("billing-seat-added").await;

    // Audit log: everything above, filtered by action.
    b.nav("/audit").await;
    b.wait_text("h1", "Audit log").await;
    b.wait_text("tbody", "team.renamed").await;
    b.shot("audit").await;
    b.fill("#action", "role.created").await;
    b.click(".filter-form button[type=submit]").await;
    // The form sends its person choice too (empty: everyone).
    b.wait_path("/audit?action=role.created&by=").await;
    let body = b.text("tbody").await;
    assert!(body.contains("role.created") && !body.contains("team.renamed"));
    assert!(body.contains("Inbox Manager"));
    b.shot("audit-filtered").await;

    phone_shots(
        &mut b,
        &[
            ("/members", "Members", "phone-members"),
            ("/roles", "Roles", "phone-roles"),
            ("/teams", "Teams", "phone-teams"),
            ("/account", "Account", "phone-account"),
            ("/audit", "Audit log", "phone-audit"),
            ("/billing", "Billing", "phone-billing"),
            ("/", "Hello", "phone-dashboard"),
        ],
    )
    .await;
    b.finish().await;
    app.stop().await;
}

/// The code of the deletion email.
async fn deletion_code(app: &TestApp, email: &str) -> String {
    let mail = app.wait_for_mail(email, Duration::from_secs(10)).await;
    mail.body
        .lines()
        .find_map(|l| l.strip_prefix("Confirmation code: "))
        .expect("a code in the email")
        .trim()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn o3_o4_owner_renames_transfers_and_deletes_accounts_in_the_browser() {
    let test = "o3_o4_owner_renames_transfers_and_deletes_accounts_in_the_browser";
    let Some((app, mut b)) = setup(test).await else {
        return;
    };
    let ann = app
        .signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;
    sign_in(&b, "ann@example.com", PASSWORD).await;
    b.wait_text("h1", "Hello, Ann Owner").await;

    // Rename: the header follows.
    b.nav("/account").await;
    b.wait_text("h1", "Account").await;
    b.wait_text("#owner-heading + p + .empty", "No other admin yet")
        .await;
    b.shot("account").await;
    b.fill("#name", "").await;
    b.click("#account-name-form button[type=submit]").await;
    b.wait_text("#name-error", "is required").await;
    b.fill("#name", "Acme Europe").await;
    b.click("#account-name-form button[type=submit]").await;
    b.wait_text(".notice", "The account settings are saved")
        .await;
    b.wait_text(".account-name", "Acme Europe").await;

    // Deletion: a code by email; a wrong code is said next to the field.
    b.click("#deletion-code-form button").await;
    b.wait_text(".notice", "A confirmation code is on its way")
        .await;
    let code = deletion_code(&app, "ann@example.com").await;
    b.fill("#code", "00000000").await;
    b.click("#delete-account-form button[type=submit]").await;
    b.wait_text("#code-error", "is not the code we sent").await;
    b.shot("account-wrong-code").await;
    assert_eq!(app.count("accounts").await, 1);

    // Ownership goes to an admin; Ann becomes an admin and may no longer delete.
    let account = ann.account_id.unwrap();
    app.insert_member(account, "carol@example.com", "Admin")
        .await;
    b.goto("/account").await;
    b.find("#member_id").await;
    b.shot("account-transfer").await;
    b.click("#transfer-form button[type=submit]").await;
    b.wait_text(".notice", "Ownership is transferred").await;
    assert!(
        b.c.find(fantoccini::Locator::Css("#delete-account-form"))
            .await
            .is_err()
    );
    b.shot("account-after-transfer").await;

    // Carol (the new owner) deletes the account with her code.
    b.click(".signout button").await;
    b.wait_text(".notice", "You are signed out").await;
    sign_in(&b, "carol@example.com", PASSWORD).await;
    b.wait_text("h1", "Hello").await;
    b.goto("/account").await;
    b.click("#deletion-code-form button").await;
    b.wait_text(".notice", "A confirmation code is on its way")
        .await;
    let code2 = deletion_code(&app, "carol@example.com").await;
    assert_ne!(code, code2);
    b.fill("#code", &code2).await;
    b.click("#delete-account-form button[type=submit]").await;
    b.wait_text(".notice", "The account is deleted").await;
    assert_eq!(app.count("accounts").await, 0);
    b.shot("account-deleted").await;
    b.finish().await;
    app.stop().await;
}
