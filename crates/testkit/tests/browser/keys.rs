//! API keys in the browser (P4, X1): the owner creates a key with the
//! permissions it ticks, sees the token once, the key works against the API
//! with `Authorization: Bearer`, then is revoked and stops working.

use crate::settings::phone_shots;
use crate::team::setup;
use crate::work::sign_in;
use fantoccini::Locator;
use reqwest::Method;

async fn me_with(app: &leadteam_testkit::TestApp, key: &str) -> u16 {
    app.call(Method::GET, "/api/v1/me", Some(key), None)
        .await
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p4_x1_the_owner_creates_an_api_key_sees_it_once_uses_it_then_revokes_it() {
    let test = "p4_x1_the_owner_creates_an_api_key_sees_it_once_uses_it_then_revokes_it";
    let Some((app, mut b)) = setup(test).await else {
        return;
    };
    app.signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;
    sign_in(&b, "ann@example.com").await;

    b.nav("/account").await;
    b.wait_text("h1", "Account").await;
    b.click(".tabs a[href='/account/api-keys']").await;
    b.wait_text("h1", "API keys").await;
    b.wait_text(".empty", "No API keys yet").await;
    b.shot("api-keys-empty").await;

    // Without a name: said next to the field, nothing created.
    b.click("label[for='perm-integrations.manage']").await;
    b.click("#create-key-form button[type=submit]").await;
    b.wait_text("#name-error", "is required").await;
    assert!(
        b.find("[id='perm-integrations.manage']")
            .await
            .is_selected()
            .await
            .unwrap(),
        "the ticked box stays ticked"
    );
    b.shot("api-keys-error").await;
    assert_eq!(app.count("api_keys").await, 0);

    // Created: the token is shown once, with the import command.
    b.fill("#name", "Nightly CRM import").await;
    b.click("#create-key-form button[type=submit]").await;
    b.wait_text("#token-heading", "Nightly CRM import is ready")
        .await;
    let token = b.text("#new-token").await;
    assert!(token.starts_with("ltk_"), "{token}");
    assert!(b.text("#new-key").await.contains("leadteam import"));
    b.shot("api-keys-created").await;
    assert_eq!(me_with(&app, &token).await, 200);

    // The list never shows it again; it now has a last use.
    b.click("#new-key a.button").await;
    b.wait_text("table.api-keys", "Nightly CRM import").await;
    let html = b.c.source().await.unwrap();
    assert!(!html.contains(&token), "the token is shown once only");
    let row = b.text("table.api-keys tbody tr").await;
    assert!(row.contains("Integrations"), "{row}");
    assert!(!row.contains("Never"), "last used is shown: {row}");
    b.shot("api-keys-list").await;

    // Revoked after confirming: it stops working at once.
    b.click("table.api-keys details.confirm summary").await;
    b.click("table.api-keys details.confirm button").await;
    b.wait_text(".notice", "The API key is revoked").await;
    b.wait_text("table.api-keys", "Revoked").await;
    assert!(
        b.c.find(Locator::Css("table.api-keys details.confirm"))
            .await
            .is_err()
    );
    b.shot("api-keys-revoked").await;
    assert_eq!(me_with(&app, &token).await, 401);

    phone_shots(
        &mut b,
        &[("/account/api-keys", "API keys", "phone-api-keys")],
    )
    .await;
    b.finish().await;
    app.stop().await;
}
