//! The lead pages in the browser: a lead source made in the UI with its
//! secret shown once, rotated and switched off and on; a round-robin default
//! rule; advanced rules added, refused without a condition, moved and edited.

use crate::harness::Browser;
use crate::work::{join, send_lead, sign_in};
use leadteam_testkit::{Engine, TestApp, User, spawn_app};
use serde_json::json;

async fn setup(test: &str) -> Option<(TestApp, Browser)> {
    let app = spawn_app(Engine::Sqlite).await?;
    let b = Browser::start(test, &app.base).await?;
    Some((app, b))
}

/// The ids of the advanced rules, top to bottom.
async fn rule_ids(app: &TestApp, owner: &User) -> Vec<i64> {
    let r = app.get(&owner.token, "/api/v1/assignment-rules").await;
    r.body["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_i64().unwrap())
        .collect()
}

async fn assignee_of(app: &TestApp, owner: &User, client: i64) -> Option<i64> {
    let r = app
        .get(&owner.token, &format!("/api/v1/clients/{client}"))
        .await;
    r.body["client"]["assignee_id"].as_i64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a1_a3_the_owner_sets_a_round_robin_default_and_adds_and_moves_rules() {
    let test = "a1_a3_the_owner_sets_a_round_robin_default_and_adds_and_moves_rules";
    let Some((app, mut b)) = setup(test).await else {
        return;
    };
    let owner = app
        .signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;
    let bob = join(&app, &owner, "Bob Member", "bob@example.com", "Member").await;
    let cara = join(&app, &owner, "Cara Manager", "cara@example.com", "Manager").await;

    sign_in(&b, "ann@example.com").await;
    b.nav("/leads/assignment").await;
    b.wait_text("h1", "Lead assignment").await;
    assert!(
        b.text(".rules .default")
            .await
            .contains("leave it unassigned")
    );
    b.shot("assignment-empty").await;

    // A lead source made in the UI: its secret is shown once.
    b.click(".tabs a[href='/leads/sources']").await;
    b.wait_text("h1", "Lead sources").await;
    assert!(b.text(".empty").await.contains("No lead sources yet"));
    b.find("#kind")
        .await
        .select_by_value("webhook")
        .await
        .unwrap();
    b.fill("#name", "Zapier").await;
    b.click("form[action='/leads/sources'] button[type=submit]")
        .await;
    b.wait_text("#secret-heading", "copy the secret now").await;
    let secret = b.text("#new-secret").await;
    let url = b.text("#new-url").await;
    assert!(secret.len() >= 43, "{secret}");
    let source: i64 = url.rsplit('/').next().unwrap().parse().unwrap();
    b.shot("source-secret-once").await;
    b.click(".secret-box a.button").await;
    b.wait_text(&format!("#source-{source}"), "Zapier").await;
    assert!(
        b.c.find(fantoccini::Locator::Css("#new-secret"))
            .await
            .is_err()
    );
    assert!(!b.text("main").await.contains(&secret));
    b.shot("sources").await;

    // Rotate: a new secret, shown once; switch off and on again.
    b.click(&format!("#source-{source} form[action$='/rotate'] button"))
        .await;
    b.wait_text("#secret-heading", "New secret for Zapier")
        .await;
    let rotated = b.text("#new-secret").await;
    assert_ne!(rotated, secret);
    let secret = rotated;
    b.goto("/leads/sources").await;
    b.click(&format!("#source-{source} form[action$='/switch'] button"))
        .await;
    b.wait_text(".notice", "switched off").await;
    b.wait_text(&format!("#source-{source}"), "Off").await;
    b.shot("source-off").await;
    b.click(&format!("#source-{source} form[action$='/switch'] button"))
        .await;
    b.wait_text(".notice", "switched on").await;

    // The default rule: round robin between Bob (2 per round) and Cara.
    b.click(".tabs a[href='/leads/assignment']").await;
    b.wait_text("h1", "Lead assignment").await;
    b.click("input[name=mode][value=round_robin]").await;
    b.click(&format!("#on_{bob}")).await;
    b.click(&format!("#on_{cara}")).await;
    b.find(&format!("#w_{bob}"))
        .await
        .select_by_value("2")
        .await
        .unwrap();
    b.click("form[action='/leads/assignment/default'] button[type=submit]")
        .await;
    b.wait_text(".notice", "The default rule is saved").await;
    b.wait_text(
        ".rules .default",
        "share it in turn among Bob Member (2 leads per round), Cara Manager (1 lead per round)",
    )
    .await;
    b.shot("default-round-robin").await;
    let mut got = Vec::new();
    for n in 0..3 {
        let c = send_lead(&app, source, &secret, json!({"name": format!("Lead {n}")})).await;
        got.push(assignee_of(&app, &owner, c).await);
    }
    got.sort();
    assert_eq!(
        got,
        [Some(bob), Some(bob), Some(cara)],
        "one round: Bob twice, Cara once"
    );

    // A rule without a condition is refused next to the form.
    b.click("a[href='/leads/assignment/rules/new']").await;
    b.wait_text("h1", "Add a rule").await;
    b.fill("#name", "Facebook to Bob").await;
    b.click("main form button[type=submit]").await;
    b.wait_text("#criteria-error", "Fill in at least one condition")
        .await;
    assert_eq!(b.value("#name").await, "Facebook to Bob");
    b.shot("rule-without-condition").await;
    b.click("input[name=any_facebook]").await;
    b.find("#member_id")
        .await
        .select_by_label("Bob Member")
        .await
        .unwrap();
    b.click("main form button[type=submit]").await;
    b.wait_text(".notice", "The rule is added").await;

    // A second rule, then moved above the first.
    b.click("a[href='/leads/assignment/rules/new']").await;
    b.wait_text("h1", "Add a rule").await;
    b.fill("#name", "Lyon leads to Cara").await;
    b.fill("#f1_field", "city").await;
    b.fill("#f1_value", "Lyon").await;
    b.find("#member_id")
        .await
        .select_by_label("Cara Manager")
        .await
        .unwrap();
    b.shot("rule-form").await;
    b.click("main form button[type=submit]").await;
    b.wait_text(".notice", "The rule is added").await;
    let ids = rule_ids(&app, &owner).await;
    assert_eq!(ids.len(), 2);
    let lyon = ids[1];
    assert!(
        b.text(&format!("#rule-{lyon}"))
            .await
            .contains("the field “city” is “Lyon”")
    );
    b.shot("two-rules").await;
    b.click(&format!("#rule-{lyon} form[action$='/move'] button"))
        .await;
    b.wait_text(".notice", "The rule is moved").await;
    assert_eq!(rule_ids(&app, &owner).await, [lyon, ids[0]]);
    b.wait_text(".rules > li:first-child h3", "Lyon leads to Cara")
        .await;
    b.shot("rule-moved-up").await;
    let c = send_lead(
        &app,
        source,
        &secret,
        json!({"name": "Léa", "city": "lyon "}),
    )
    .await;
    assert_eq!(assignee_of(&app, &owner, c).await, Some(cara));

    // Editing shows the rule's values.
    b.click(&format!("#rule-{} a.button", ids[0])).await;
    b.wait_text("h1", "Edit the rule").await;
    assert_eq!(b.value("#name").await, "Facebook to Bob");
    assert!(
        b.find("input[name=any_facebook]")
            .await
            .prop("checked")
            .await
            .unwrap()
            .is_some_and(|v| v == "true")
    );

    b.c.set_window_size(360, 800).await.unwrap();
    b.goto("/leads/assignment").await;
    b.wait_text("h1", "Lead assignment").await;
    b.shot("assignment-phone").await;
    b.finish().await;
    app.stop().await;
}
