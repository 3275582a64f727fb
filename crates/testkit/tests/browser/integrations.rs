//! Integrations in the browser: a hosted form made in the UI with its page,
//! snippet, test lead, intake key and curl line, and a visitor's post seen
//! in the delivery log (I4, I5, I7); a webhook added on its page, refused
//! for a private address, and its real delivery listed (I8).

use crate::harness::Browser;
use crate::work::sign_in;
use leadteam_domain::net::Network;
use leadteam_testkit::{Engine, Options, spawn_app, spawn_with};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i4_i5_i7_a_hosted_form_its_snippet_a_test_lead_and_an_intake_key() {
    let test = "i4_i5_i7_a_hosted_form_its_snippet_a_test_lead_and_an_intake_key";
    let Some(app) = spawn_app(Engine::Sqlite).await else {
        return;
    };
    let Some(mut b) = Browser::start(test, &app.base).await else {
        return;
    };
    app.signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;
    sign_in(&b, "ann@example.com").await;
    b.goto("/leads/sources").await;
    b.find("#kind").await.select_by_value("form").await.unwrap();
    b.fill("#name", "Website contact").await;
    b.click("form[action='/leads/sources'] button[type=submit]")
        .await;
    b.wait_text("#form-heading", "Your form").await;
    let snippet = b.value("#snippet").await;
    assert!(
        snippet.contains("<form action=") && snippet.contains("company_website"),
        "{snippet}"
    );
    let form_url = b.attr("#form-url", "href").await.unwrap();
    b.shot("source-form").await;

    b.click("#send-test").await;
    b.wait_text("#test-result", "The test lead").await;
    assert!(b.text("#test-result").await.contains("stayed unassigned"));
    assert!(b.text("table.deliveries").await.contains("test"));
    b.shot("test-lead").await;

    b.click("form[action$='/intake-key'] button").await;
    b.wait_text("#shown-heading", "Copy the intake key now")
        .await;
    let key = b.text("#shown-value").await;
    assert!(key.starts_with("ltk_"), "{key}");
    assert!(
        b.text("#shown-curl")
            .await
            .contains(&format!("Bearer {key}"))
    );
    b.shot("intake-key-once").await;

    // A visitor fills the hosted form (no JavaScript needed).
    let path = form_url.trim_start_matches(&app.base).to_owned();
    b.goto(&path).await;
    b.wait_text("h1", "Contact us").await;
    b.shot("hosted-form").await;
    b.fill("#f-name", "Vera Visitor").await;
    b.fill("#f-email", "vera@example.com").await;
    b.click("form button[type=submit]").await;
    b.wait_text("main", "Thank you").await;
    b.shot("hosted-form-thanks").await;

    // The lead is in, and the log shows it.
    b.goto("/leads/sources").await;
    b.click("table.sources a").await;
    b.wait_text("#log-heading", "Recent deliveries").await;
    let log = b.text("table.deliveries").await;
    assert!(log.contains("form") && log.contains("Accepted"), "{log}");
    b.shot("delivery-log").await;
    b.finish().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i8_a_webhook_added_on_its_page_delivers_and_a_private_address_is_refused() {
    let test = "i8_a_webhook_added_on_its_page_delivers_and_a_private_address_is_refused";
    let mut opts = Options::default();
    opts.integrations.webhook_allow_networks = Network::parse_list("127.0.0.0/8").unwrap();
    let Some(app) = spawn_with(Engine::Sqlite, opts).await else {
        return;
    };
    let Some(mut b) = Browser::start(test, &app.base).await else {
        return;
    };
    // A receiver on a local port (allowed by the operator's setting).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver = format!("http://{}/hook", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let r = axum::Router::new().fallback(|| async { "ok" });
        let _ = axum::serve(listener, r).await;
    });
    let owner = app
        .signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;
    sign_in(&b, "ann@example.com").await;
    b.goto("/leads/webhooks").await;
    b.wait_text("h1", "Webhooks").await;
    b.fill("#url", "http://10.1.2.3/hook").await;
    b.click("input[value='lead.created']").await;
    b.click("form[action='/leads/webhooks'] button[type=submit]")
        .await;
    b.wait_text(".field-error", "private").await;
    b.shot("webhook-private-refused").await;

    b.fill("#url", &receiver).await;
    b.click("form[action='/leads/webhooks'] button[type=submit]")
        .await;
    b.wait_text("#secret-heading", "copy its secret now").await;
    assert!(b.text("#new-secret").await.starts_with("whsec_"));
    b.shot("webhook-secret-once").await;

    let src = app
        .post(
            &owner.token,
            "/api/v1/lead-sources",
            json!({"kind": "webhook", "name": "Zap"}),
        )
        .await;
    let sid = src.body["id"].as_i64().unwrap();
    app.post(
        &owner.token,
        &format!("/api/v1/lead-sources/{sid}/test"),
        json!({}),
    )
    .await;
    let mut delivered = false;
    for _ in 0..50 {
        b.goto("/leads/webhooks").await;
        if b.text("body").await.contains("Delivered") {
            delivered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(delivered, "the delivery is listed");
    assert!(b.text("table.deliveries").await.contains("lead.created"));
    b.shot("webhook-delivered").await;
    b.finish().await;
    server.abort();
    app.stop().await;
}
