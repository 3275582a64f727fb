//! Lead intake and automatic assignment: signed webhooks of every source
//! kind, idempotency, rules, weighted round robin, capacity, alerts and
//! exactness under concurrency (I1, A1-A7).

use super::support::join;
use leadteam_domain::secret::hmac_sha256_hex;
use leadteam_testkit::{TestApp, User, both_engines};
use serde_json::{Value, json};

both_engines!(
    r_i1_every_source_kind_with_a_valid_signature_is_stored_and_routed,
    r_i1_missing_wrong_truncated_and_sha1_signatures_are_refused_and_nothing_is_stored,
    r_i1_a_replayed_delivery_is_stored_once,
    r_i1_facebook_challenge_is_answered_only_with_the_right_verify_token,
    r_i1_an_oversized_body_is_refused_with_413_before_any_check,
    r_i2_only_integrations_managers_configure_sources_and_rules,
);

pub(super) async fn source(app: &TestApp, owner: &User, kind: &str, name: &str) -> Value {
    let r = app
        .post(
            &owner.token,
            "/api/v1/lead-sources",
            json!({"kind": kind, "name": name}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.body["secret"].as_str().is_some_and(|s| s.len() >= 43));
    r.body
}

/// Posts a signed delivery to a generic/website source.
pub(super) async fn deliver(
    app: &TestApp,
    src: &Value,
    body: &str,
    extra: &[(&str, &str)],
) -> leadteam_testkit::Resp {
    app.deliver_signed(
        src["webhook_url"].as_str().unwrap(),
        src["secret"].as_str().unwrap(),
        body,
        extra,
    )
    .await
}

pub(super) async fn counts(app: &TestApp) -> Vec<(Option<i64>, i64)> {
    let mut c = app.db.conn().await.unwrap();
    let rows: Vec<(Option<i64>, i64)> = sqlx::query_as(
        "SELECT assignee_id, COUNT(*) FROM clients GROUP BY assignee_id ORDER BY assignee_id",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    rows
}

async fn r_i1_every_source_kind_with_a_valid_signature_is_stored_and_routed(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let hook = source(app, &owner, "webhook", "Zapier").await;
    let r = deliver(app, &hook, r#"{"first_name":"Lea","last_name":"Lead","email":"LEA@x.io","phone":"+33 6 12 34 56 78","budget":"5000","lead_id":"z-1"}"#, &[]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["duplicate"], false);
    assert_eq!(r.body["reason"], "unassigned: rule says leave unassigned");
    let c = app
        .get(
            &owner.token,
            &format!("/api/v1/clients/{}", r.body["client_id"]),
        )
        .await;
    assert_eq!(c.body["client"]["name"], "Lea Lead");
    assert_eq!(c.body["client"]["email"], "lea@x.io");
    assert_eq!(c.body["client"]["fields"]["budget"], "5000");
    assert_eq!(c.body["client"]["source"], "webhook");
    assert_eq!(c.body["client"]["unassigned"], true);

    // A website form posts form-encoded fields.
    let web = source(app, &owner, "website", "Site").await;
    let body = "name=Wes+Site&email=wes%40x.io&message=Call+me";
    let sig = format!(
        "sha256={}",
        hmac_sha256_hex(web["secret"].as_str().unwrap().as_bytes(), body.as_bytes())
    );
    let r = app
        .http
        .post(web["webhook_url"].as_str().unwrap())
        .header("x-leadteam-signature", sig)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let r = TestApp::read(r).await;
    assert_eq!(r.status, 201, "{}", r.text);

    // Facebook: with field data, and with ids only (awaiting details).
    let fb = source(app, &owner, "facebook", "FB page").await;
    let payload = json!({"object": "page", "entry": [{"id": "PAGE1", "time": 1, "changes": [
        {"field": "leadgen", "value": {"leadgen_id": "LG1", "page_id": "PAGE1", "form_id": "FORM1",
          "field_data": [{"name": "full_name", "values": ["Fab Book"]}, {"name": "email", "values": ["fab@x.io"]}]}},
        {"field": "leadgen", "value": {"leadgen_id": "LG2", "page_id": "PAGE1", "form_id": "FORM1"}}
    ]}]})
    .to_string();
    let sig = format!(
        "sha256={}",
        hmac_sha256_hex(
            fb["secret"].as_str().unwrap().as_bytes(),
            payload.as_bytes()
        )
    );
    let r = app
        .http
        .post(fb["webhook_url"].as_str().unwrap())
        .header("x-hub-signature-256", sig)
        .header("content-type", "application/json")
        .body(payload)
        .send()
        .await
        .unwrap();
    let r = TestApp::read(r).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["leads"].as_array().unwrap().len(), 2);
    let waiting = app
        .get(
            &owner.token,
            &format!("/api/v1/clients/{}", r.body["leads"][1]["client_id"]),
        )
        .await;
    assert_eq!(waiting.body["client"]["fields"]["awaiting_details"], "true");
    assert_eq!(
        waiting.body["client"]["fields"]["facebook_form_id"],
        "FORM1"
    );
    assert_eq!(
        waiting.body["client"]["fields"]["facebook_page_id"],
        "PAGE1"
    );

    // Google: google_key in the body.
    let g = source(app, &owner, "google", "Ads").await;
    let lead = json!({"lead_id": "G1", "google_key": g["secret"], "form_id": 42, "campaign_id": 7, "is_test": true,
        "user_column_data": [{"column_id": "FULL_NAME", "string_value": "Gil Google"}, {"column_id": "PHONE_NUMBER", "string_value": "+1 650 555 0100"}]});
    let r = app
        .http
        .post(g["webhook_url"].as_str().unwrap())
        .json(&lead)
        .send()
        .await
        .unwrap();
    let r = TestApp::read(r).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let mut bad = lead.clone();
    bad["google_key"] = json!("wrong");
    bad["lead_id"] = json!("G2");
    let r = TestApp::read(
        app.http
            .post(g["webhook_url"].as_str().unwrap())
            .json(&bad)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(app.count("clients").await, 5);
}

async fn r_i1_missing_wrong_truncated_and_sha1_signatures_are_refused_and_nothing_is_stored(
    app: &TestApp,
) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let hook = source(app, &owner, "webhook", "Zapier").await;
    let url = hook["webhook_url"].as_str().unwrap();
    let body = r#"{"name":"Mallory"}"#;
    let good = format!(
        "sha256={}",
        hmac_sha256_hex(hook["secret"].as_str().unwrap().as_bytes(), body.as_bytes())
    );
    let sha1 = "sha1=0beec7b5ea3f0fdbc95d0dd47f3c5bc275da8a33".to_owned();
    let wrong = format!(
        "sha256={}",
        hmac_sha256_hex(b"not the secret", body.as_bytes())
    );
    for sig in [
        None,
        Some(good[..good.len() - 4].to_owned()),
        Some(sha1),
        Some(wrong),
        Some(String::new()),
    ] {
        let mut req = app
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(s) = &sig {
            req = req.header("x-leadteam-signature", s);
        }
        let r = TestApp::read(req.send().await.unwrap()).await;
        assert_eq!(r.status, 401, "{sig:?}: {}", r.text);
        assert_eq!(r.problem_type(), Some("invalid-signature"));
    }
    // Facebook: a missing header is a refusal, never a skipped check.
    let fb = source(app, &owner, "facebook", "FB").await;
    let r = app
        .http
        .post(fb["webhook_url"].as_str().unwrap())
        .json(&json!({"entry": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // The signature of another source does not open this one.
    let other = source(app, &owner, "webhook", "Other").await;
    let sig = format!(
        "sha256={}",
        hmac_sha256_hex(
            other["secret"].as_str().unwrap().as_bytes(),
            body.as_bytes()
        )
    );
    let r = app
        .http
        .post(url)
        .header("x-leadteam-signature", sig)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(app.count("clients").await, 0);
    // Rotating the secret kills the old one.
    let r = app
        .patch(
            &owner.token,
            &format!("/api/v1/lead-sources/{}", hook["id"]),
            json!({"rotate_secret": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let new_secret = r.body["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, hook["secret"].as_str().unwrap());
    let r = app
        .http
        .post(url)
        .header("x-leadteam-signature", &good)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Secrets are never listed again.
    let list = app.get(&owner.token, "/api/v1/lead-sources").await;
    assert!(!list.text.contains(&new_secret) && list.body["sources"][0].get("secret").is_none());
}

async fn r_i1_a_replayed_delivery_is_stored_once(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let hook = source(app, &owner, "webhook", "Zapier").await;
    let body = r#"{"name":"Rita Retry","lead_id":"abc-1"}"#;
    let first = deliver(app, &hook, body, &[]).await;
    assert_eq!(first.status, 201);
    let again = deliver(app, &hook, body, &[]).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["duplicate"], true);
    assert_eq!(again.body["client_id"], first.body["client_id"]);
    // With an Idempotency-Key and no lead id.
    let body = r#"{"name":"Kim Key"}"#;
    let a = deliver(app, &hook, body, &[("idempotency-key", "k-77")]).await;
    let b = deliver(app, &hook, body, &[("idempotency-key", "k-77")]).await;
    assert_eq!((a.status, b.status), (201, 200));
    assert_eq!(a.body["client_id"], b.body["client_id"]);
    // Concurrent retries of one lead: stored once.
    let body = r#"{"name":"Con Current","lead_id":"race-1"}"#;
    let results = futures::future::join_all((0..6).map(|_| deliver(app, &hook, body, &[]))).await;
    assert_eq!(
        results.iter().filter(|r| r.status == 201).count(),
        1,
        "{:?}",
        results.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(results.iter().all(|r| r.status == 201 || r.status == 200));
    assert_eq!(app.count("clients").await, 3);
}

async fn r_i1_facebook_challenge_is_answered_only_with_the_right_verify_token(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let fb = source(app, &owner, "facebook", "FB").await;
    let url = fb["webhook_url"].as_str().unwrap();
    let token = fb["verify_token"].as_str().unwrap();
    let r = app
        .http
        .get(format!(
            "{url}?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "1158201444");
    let r = app
        .http
        .get(format!(
            "{url}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = app
        .http
        .get(format!("{url}?hub.mode=subscribe&hub.challenge=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A webhook source has no Facebook endpoint.
    let hook = source(app, &owner, "webhook", "W").await;
    let r = app
        .http
        .get(app.url(&format!(
            "/hooks/{}/facebook?hub.mode=subscribe",
            hook["id"]
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

async fn r_i1_an_oversized_body_is_refused_with_413_before_any_check(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let hook = source(app, &owner, "webhook", "Zapier").await;
    let big = format!(r#"{{"name":"{}"}}"#, "x".repeat(300 * 1024));
    let r = app
        .http
        .post(hook["webhook_url"].as_str().unwrap())
        .header("x-leadteam-signature", "sha256=00")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(app.count("clients").await, 0);
}

async fn r_i2_only_integrations_managers_configure_sources_and_rules(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, _) = join(app, &owner, "Bob", "bob@example.com", "Manager").await;
    for (path, body) in [
        (
            "/api/v1/lead-sources",
            json!({"kind": "webhook", "name": "X"}),
        ),
        (
            "/api/v1/assignment-rules",
            json!({"name": "X", "criteria": [{"type": "any_facebook"}], "action": {"type": "unassigned"}}),
        ),
    ] {
        let r = app.post(&bob.token, path, body).await;
        assert_eq!(r.status, 403, "{path}");
        assert_eq!(r.body["missing_permission"], "integrations.manage");
    }
    assert_eq!(
        app.get(&bob.token, "/api/v1/lead-sources").await.status,
        403
    );
    assert_eq!(app.count("lead_sources").await, 0);
    assert_eq!(app.count("assignment_rules").await, 0);
    let r = app
        .post(
            &owner.token,
            "/api/v1/lead-sources",
            json!({"kind": "fax", "name": "X"}),
        )
        .await;
    assert_eq!((r.status, r.field()), (422, Some("kind")));
}
