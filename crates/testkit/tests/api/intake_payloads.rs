//! What a lead source sends is kept, or refused naming the key (I1, X2): a
//! lead id too long to tell two leads apart is refused (cut short, the
//! second of two leads would be dropped as the first's duplicate), and
//! details sent as objects or arrays are kept as their JSON.

use super::intake::{deliver, source};
use leadteam_testkit::{TestApp, both_engines};
use serde_json::json;

both_engines!(
    r_i1_a_lead_id_too_long_to_tell_leads_apart_is_refused_naming_its_key,
    r_i1_details_sent_as_objects_or_arrays_are_kept_as_their_json,
    r_i1_a_name_too_long_to_show_is_cut_for_display_and_kept_whole,
);

/// Delivers `lead` as JSON, signed, to the webhook source `hook`.
async fn send(
    app: &TestApp,
    hook: &serde_json::Value,
    lead: serde_json::Value,
) -> leadteam_testkit::Resp {
    deliver(app, hook, &lead.to_string(), &[]).await
}

fn fields_named(body: &serde_json::Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

async fn r_i1_a_lead_id_too_long_to_tell_leads_apart_is_refused_naming_its_key(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let hook = source(app, &owner, "webhook", "Zapier").await;
    let long = |end: char| format!("{}{end}", "Q".repeat(200));
    for key in ["lead_id", "external_id"] {
        let r = send(app, &hook, json!({"name": "Lead one", key: long('1')})).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        assert_eq!(fields_named(&r.body), [key], "{}", r.text);
    }
    assert_eq!(app.count("clients").await, 0, "nothing stored");
    // Two ids of 200 characters that differ in the last: two leads.
    let id = |end: char| format!("{}{end}", "Q".repeat(199));
    let one = send(app, &hook, json!({"name": "Lead one", "lead_id": id('1')})).await;
    let two = send(app, &hook, json!({"name": "Lead two", "lead_id": id('2')})).await;
    assert_eq!(
        (one.status, two.status),
        (201, 201),
        "{} {}",
        one.text,
        two.text
    );
    assert_ne!(one.body["client_id"], two.body["client_id"]);
    // The same id again is the same lead.
    let again = send(app, &hook, json!({"name": "Lead two", "lead_id": id('2')})).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["client_id"], two.body["client_id"]);
    assert_eq!(app.count("clients").await, 2);
}

async fn r_i1_details_sent_as_objects_or_arrays_are_kept_as_their_json(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let hook = source(app, &owner, "webhook", "Zapier").await;
    let lead = json!({
        "name": "Nest",
        "address": {"city": "Pune", "zip": "411001"},
        "fields": {"tags": ["vip", "expo"], "budget": {"min": 10, "max": 20}, "note": "call"},
    });
    let r = send(app, &hook, lead).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["client_id"].as_i64().unwrap();
    let c = app
        .get(&owner.token, &format!("/api/v1/clients/{id}"))
        .await;
    assert_eq!(c.status, 200, "{}", c.text);
    let fields = &c.body["client"]["fields"];
    assert_eq!(
        fields["address"], r#"{"city":"Pune","zip":"411001"}"#,
        "{fields}"
    );
    assert_eq!(fields["tags"], r#"["vip","expo"]"#, "{fields}");
    assert_eq!(fields["budget"], r#"{"max":20,"min":10}"#, "{fields}");
    assert_eq!(fields["note"], "call", "{fields}");
}

async fn r_i1_a_name_too_long_to_show_is_cut_for_display_and_kept_whole(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let hook = source(app, &owner, "webhook", "Zapier").await;
    let long = format!("Ms {} Long", "é".repeat(300));
    let r = send(app, &hook, json!({"name": long})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["client_id"].as_i64().unwrap();
    let c = app
        .get(&owner.token, &format!("/api/v1/clients/{id}"))
        .await;
    let shown = c.body["client"]["name"].as_str().unwrap();
    assert_eq!(shown.chars().count(), 200);
    assert!(long.starts_with(shown));
    assert_eq!(c.body["client"]["fields"]["name (as sent)"], long.as_str());
    // A name that fits is not repeated.
    let r = send(app, &hook, json!({"name": "Short"})).await;
    let id = r.body["client_id"].as_i64().unwrap();
    let c = app
        .get(&owner.token, &format!("/api/v1/clients/{id}"))
        .await;
    assert_eq!(c.body["client"]["fields"], json!({}));
}
