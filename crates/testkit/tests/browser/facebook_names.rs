//! Issue 17's friction item "a Facebook page or form chosen by name in the
//! rule form once the source knows them (I6)": before any lead the form asks
//! for the ids; after a lead arrived with ids only and was completed from a
//! stand-in Graph API, which also named its page and form, the form offers
//! them by name, and saving stores the ids (A3).

use crate::harness::Browser;
use crate::standin::StandIn;
use crate::work::{join, sign_in};
use leadteam_domain::secret::hmac_sha256_hex;
use leadteam_testkit::{Engine, Options};
use serde_json::json;

const APP_SECRET: &str = "meta-app-secret-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn i6_a3_the_rule_form_offers_facebook_pages_and_forms_by_name() {
    let test = "i6_a3_the_rule_form_offers_facebook_pages_and_forms_by_name";
    let graph = StandIn::start(vec![(
        200,
        json!({"id": "LG1", "form_id": "FORM77", "field_data": [
            {"name": "full_name", "values": ["Fab Book"]},
            {"name": "email", "values": ["fab@example.com"]}
        ]})
        .to_string(),
    )])
    .await;
    graph.answer_path(
        "/v21.0/PAGE42",
        200,
        r#"{"id":"PAGE42","name":"Acme Paris"}"#,
    );
    graph.answer_path(
        "/v21.0/FORM77",
        200,
        r#"{"id":"FORM77","name":"Spring offer"}"#,
    );
    // Saving the page token looks up the pages it reaches (issue 17): none
    // here, so that the names come from the lead.
    graph.answer_path("/v21.0/me/accounts", 200, r#"{"data":[]}"#);
    let mut opts = Options::default();
    opts.integrations.graph_base_url = format!("{}/v21.0", graph.base);
    let Some(app) = leadteam_testkit::spawn_with(Engine::Sqlite, opts).await else {
        return;
    };
    let Some(mut b) = Browser::start(test, &app.base).await else {
        return;
    };
    let owner = app
        .signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;
    let bob = join(&app, &owner, "Bob Member", "bob@example.com", "Member").await;
    let r = app
        .post(
            &owner.token,
            "/api/v1/lead-sources",
            json!({"kind": "facebook", "name": "Meta ads", "facebook": {"app_secret": APP_SECRET, "verify_token": "my-verify-token"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let source = r.body["id"].as_i64().unwrap();
    let url = r.body["webhook_url"].as_str().unwrap().to_owned();
    let r = app
        .patch(
            &owner.token,
            &format!("/api/v1/lead-sources/{source}"),
            json!({"facebook": {"page_access_token": "EAApagetoken"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // No lead yet: nothing is known, the form asks for the ids.
    sign_in(&b, "ann@example.com").await;
    b.goto("/leads/assignment/rules/new").await;
    b.wait_text("h1", "Add a rule").await;
    assert_eq!(b.find("#fb_page").await.tag_name().await.unwrap(), "input");
    assert_eq!(b.find("#fb_form").await.tag_name().await.unwrap(), "input");
    b.shot("rule-form-ids").await;

    // A lead as Meta sends it: ids only. The worker completes it and learns
    // the names of its page and form.
    let payload = json!({"object": "page", "entry": [{"id": "PAGE42", "time": 1, "changes": [
        {"field": "leadgen", "value": {"leadgen_id": "LG1", "page_id": "PAGE42", "form_id": "FORM77"}}
    ]}]})
    .to_string();
    let sig = format!(
        "sha256={}",
        hmac_sha256_hex(APP_SECRET.as_bytes(), payload.as_bytes())
    );
    let sent = app
        .http
        .post(&url)
        .header("x-hub-signature-256", sig)
        .header("content-type", "application/json")
        .body(payload)
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    let clock = app.clock.clone();
    let seen = graph.wait_for(4, 15, || clock.advance_ms(150)).await;
    assert!(seen.len() >= 4, "{seen:?}");
    // The names are stored right after the last answer: the form shows them.
    let mut named = false;
    for _ in 0..50 {
        b.goto("/leads/assignment/rules/new").await;
        b.wait_text("h1", "Add a rule").await;
        if b.find("#fb_page").await.tag_name().await.unwrap() == "select"
            && b.text("#fb_form").await.contains("Spring offer")
        {
            named = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(named, "the form never offered the names");
    assert!(b.text("#fb_page").await.contains("Acme Paris"));
    assert!(
        !b.text("#fb_page").await.contains("PAGE42"),
        "names, not ids"
    );

    b.fill("#name", "Paris spring leads to Bob").await;
    b.find("#fb_page")
        .await
        .select_by_label("Acme Paris")
        .await
        .unwrap();
    b.find("#fb_form")
        .await
        .select_by_label("Spring offer")
        .await
        .unwrap();
    b.find("#member_id")
        .await
        .select_by_label("Bob Member")
        .await
        .unwrap();
    b.shot("rule-form-names").await;
    b.click("main form button[type=submit]").await;
    b.wait_text(".notice", "The rule is added").await;

    // Stored as ids; told in words by name.
    let r = app.get(&owner.token, "/api/v1/assignment-rules").await;
    let rule = &r.body["rules"][0];
    let criteria = rule["criteria"].to_string();
    assert!(criteria.contains("\"PAGE42\""), "{criteria}");
    assert!(criteria.contains("\"FORM77\""), "{criteria}");
    assert!(!criteria.contains("Acme Paris"), "{criteria}");
    assert_eq!(rule["action"]["member_id"], bob, "{}", r.text);
    let id = rule["id"].as_i64().unwrap();
    b.wait_text(
        &format!("#rule-{id}"),
        "the Facebook page is “Acme Paris” (PAGE42)",
    )
    .await;
    assert!(
        b.text(&format!("#rule-{id}"))
            .await
            .contains("the Facebook lead form is “Spring offer” (FORM77)")
    );
    b.shot("rule-by-name").await;

    // Editing shows the rule's page and form chosen.
    b.goto(&format!("/leads/assignment/rules/{id}")).await;
    b.wait_text("h1", "Edit the rule").await;
    assert_eq!(b.value("#fb_page").await, "PAGE42");
    assert_eq!(b.value("#fb_form").await, "FORM77");
    b.c.set_window_size(390, 844).await.unwrap();
    b.shot("rule-edit-phone").await;
    b.finish().await;
    app.stop().await;
}
