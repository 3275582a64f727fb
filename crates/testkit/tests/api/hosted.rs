//! Leads in without code: the hosted form (I4), intake keys and secret URLs
//! (I5), and each source's delivery log and test lead (I7).

use super::intake::deliver;
use leadteam_testkit::{TestApp, User, both_engines};
use serde_json::{Value, json};

both_engines!(
    r_i4_a_hosted_form_takes_a_post_without_signature_and_routes_it,
    r_i4_honeypot_rate_limits_size_and_origins_refuse_posts_and_store_nothing,
    r_i5_an_intake_key_sends_leads_only_to_its_sources_with_dedupe,
    r_i5_a_secret_url_takes_leads_and_stops_when_rotated,
    r_i7_every_delivery_is_logged_and_a_test_lead_shows_where_it_went,
);

async fn form_source(app: &TestApp, owner: &User) -> Value {
    let r = app
        .post(
            &owner.token,
            "/api/v1/lead-sources",
            json!({"kind": "form", "name": "Contact form"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

/// Posts the form as a browser on another site would.
async fn post_form(
    app: &TestApp,
    url: &str,
    body: &str,
    extra: &[(&str, &str)],
) -> leadteam_testkit::Resp {
    let mut req = app
        .http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "https://www.example.com")
        .body(body.to_owned());
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    TestApp::read(req.send().await.unwrap()).await
}

async fn log(app: &TestApp, owner: &User, id: i64) -> Vec<(String, String)> {
    let d = app
        .get(
            &owner.token,
            &format!("/api/v1/lead-sources/{id}/deliveries"),
        )
        .await;
    assert_eq!(d.status, 200, "{}", d.text);
    d.body["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["outcome"].as_str().unwrap().to_owned(),
                x["reason"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

async fn r_i4_a_hosted_form_takes_a_post_without_signature_and_routes_it(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let src = form_source(app, &owner).await;
    let url = src["form_url"].as_str().unwrap().to_owned();
    let key = url.rsplit('/').next().unwrap().to_owned();
    assert!(key.len() >= 20, "an unguessable key, not the id: {key}");
    assert!(!url.ends_with(&format!("/{}", src["id"])));
    // The page: a plain HTML form with the default fields and the honeypot.
    let page = app.http.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for needle in [
        "<form method=\"post\"",
        "name=\"name\"",
        "name=\"email\"",
        "name=\"company_website\"",
    ] {
        assert!(html.contains(needle), "{needle} in {html}");
    }
    // A visitor who is also signed in here (its session cookie goes along)
    // is not refused by the cross-site guard.
    let r = post_form(
        app,
        &url,
        "name=Wes+Site&email=wes%40example.com&phone=%2B33+6+12+34+56+78&message=Call+me",
        &[
            ("cookie", &format!("lt_session={}", owner.token)),
            ("sec-fetch-site", "cross-site"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("Thank you"), "{}", r.text);
    let list = app.get(&owner.token, "/api/v1/clients?view=all").await;
    let c = &list.body["clients"][0];
    assert_eq!(c["name"], "Wes Site", "{}", list.text);
    assert_eq!(c["email"], "wes@example.com");
    assert_eq!(c["source"], "website");
    let one = app
        .get(&owner.token, &format!("/api/v1/clients/{}", c["id"]))
        .await;
    assert_eq!(one.body["client"]["fields"]["message"], "Call me");
    // A required field missing: the form again (422), nothing stored.
    let r = post_form(app, &url, "name=&email=nobody%40example.com", &[]).await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("is required"), "{}", r.text);
    assert_eq!(app.count("clients").await, 1);
    // The admin's redirect (http or https only, never elsewhere).
    let mut form = src["form"].clone();
    form["redirect_url"] = json!("javascript:alert(1)");
    let id = src["id"].as_i64().unwrap();
    let bad = app
        .patch(
            &owner.token,
            &format!("/api/v1/lead-sources/{id}"),
            json!({"form": form}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.field()),
        (422, Some("form.redirect_url")),
        "{}",
        bad.text
    );
    form["redirect_url"] = json!("https://www.example.com/thanks");
    let ok = app
        .patch(
            &owner.token,
            &format!("/api/v1/lead-sources/{id}"),
            json!({"form": form}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let r = post_form(app, &url, "name=Rex&email=rex%40example.com", &[]).await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.header("location"), Some("https://www.example.com/thanks"));
    assert_eq!(app.count("clients").await, 2);
    assert_eq!(
        log(app, &owner, id).await,
        vec![
            ("accepted".into(), "".into()),
            ("refused".into(), "invalid".into()),
            ("accepted".into(), "".into())
        ]
    );
}

async fn r_i4_honeypot_rate_limits_size_and_origins_refuse_posts_and_store_nothing(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let src = form_source(app, &owner).await;
    let id = src["id"].as_i64().unwrap();
    let url = src["form_url"].as_str().unwrap().to_owned();
    // Honeypot: the bot sees the thank-you page, nothing is stored.
    let r = post_form(
        app,
        &url,
        "name=Bot&email=bot%40example.com&company_website=http%3A%2F%2Fspam",
        &[],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(app.count("clients").await, 0);
    // Too large.
    let big = format!(
        "name=Big&email=big%40example.com&message={}",
        "x".repeat(20_000)
    );
    let r = post_form(app, &url, &big, &[]).await;
    assert_eq!(r.status, 413);
    assert_eq!(app.count("clients").await, 0);
    // Allowed origins.
    let mut form = src["form"].clone();
    form["allowed_origins"] = json!(["https://www.example.com"]);
    form["per_address_per_minute"] = json!(3);
    app.patch(
        &owner.token,
        &format!("/api/v1/lead-sources/{id}"),
        json!({"form": form}),
    )
    .await;
    let evil = app
        .http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "https://evil.example")
        .body("name=Eve&email=eve%40example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), 403);
    assert_eq!(app.count("clients").await, 0);
    // Per-address rate (3 a minute): the honeypot post counted, so two more
    // pass and the next ones are refused (429, Retry-After), storing nothing.
    let mut statuses = Vec::new();
    for i in 0..4 {
        let r = post_form(
            app,
            &url,
            &format!("name=P{i}&email=p{i}%40example.com"),
            &[],
        )
        .await;
        statuses.push(r.status);
        if r.status == 429 {
            assert!(r.header("retry-after").is_some());
        }
    }
    assert_eq!(statuses, vec![200, 200, 429, 429]);
    assert_eq!(app.count("clients").await, 2);
    // A new minute: accepted again.
    app.clock.advance_ms(61_000);
    let r = post_form(app, &url, "name=Ok&email=ok%40example.com", &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(app.count("clients").await, 3);
    // Switched off.
    app.patch(
        &owner.token,
        &format!("/api/v1/lead-sources/{id}"),
        json!({"enabled": false}),
    )
    .await;
    let r = post_form(app, &url, "name=Late&email=late%40example.com", &[]).await;
    assert_eq!(r.status, 409);
    assert_eq!(app.count("clients").await, 3);
    let reasons: Vec<String> = log(app, &owner, id)
        .await
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    let mut expected = vec!["switched_off", "", "rate_limited", "rate_limited", "", ""];
    expected.extend(["origin", "too_large", "honeypot"]);
    assert_eq!(reasons, expected);
    // Refusals are counted and visible.
    let page = app
        .get(
            &owner.token,
            &format!("/api/v1/lead-sources/{id}/deliveries?limit=2"),
        )
        .await;
    assert_eq!(page.body["deliveries"].as_array().unwrap().len(), 2);
}

async fn r_i5_an_intake_key_sends_leads_only_to_its_sources_with_dedupe(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let mk = |name: &str| {
        app.post(
            &owner.token,
            "/api/v1/lead-sources",
            json!({"kind": "webhook", "name": name}),
        )
    };
    let zap = mk("Zapier").await.body["id"].as_i64().unwrap();
    let other = mk("Other").await.body["id"].as_i64().unwrap();
    let r = app
        .post(
            &owner.token,
            "/api/v1/api-keys",
            json!({"name": "Zap key", "lead_source_ids": [zap]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["lead_source_ids"], json!([zap]));
    let key = r.body["token"].as_str().unwrap().to_owned();
    let send = |source: i64, idem: Option<&str>, lead_id: Option<&str>| {
        let mut req = app
            .http
            .post(app.url("/api/v1/leads"))
            .bearer_auth(&key)
            .json(&json!({"source_id": source, "first_name": "Lea", "last_name": "Lead", "email": "lea@example.com", "lead_id": lead_id, "fields": {"budget": 5000}}));
        if let Some(k) = idem {
            req = req.header("idempotency-key", k);
        }
        async move { TestApp::read(req.send().await.unwrap()).await }
    };
    let r = send(zap, Some("k-1"), None).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let client = r.body["client_id"].as_i64().unwrap();
    let again = send(zap, Some("k-1"), None).await;
    assert_eq!(
        (again.status, again.body["duplicate"].as_bool()),
        (200, Some(true))
    );
    assert_eq!(again.body["client_id"], client);
    let r1 = send(zap, None, Some("zap-7")).await;
    let r2 = send(zap, None, Some("zap-7")).await;
    assert_eq!((r1.status, r2.status), (201, 200));
    assert_eq!(app.count("clients").await, 2);
    let c = app
        .get(&owner.token, &format!("/api/v1/clients/{client}"))
        .await;
    assert_eq!(c.body["client"]["name"], "Lea Lead");
    assert_eq!(c.body["client"]["fields"]["budget"], "5000");
    // Another source: not found; nothing stored.
    let r = send(other, None, None).await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(app.count("clients").await, 2);
    // The key does nothing else; a session cannot send by this route.
    assert_eq!(app.get(&key, "/api/v1/me").await.status, 401);
    assert_eq!(app.get(&key, "/api/v1/clients").await.status, 401);
    let r = app
        .post(&owner.token, "/api/v1/leads", json!({"source_id": zap}))
        .await;
    assert_eq!(r.status, 401);
    assert!(
        r.text.contains("intake API key"),
        "says what is needed: {}",
        r.text
    );
    assert_eq!(app.count("clients").await, 2);
    // Bad bodies are problems naming the field.
    let r = app
        .post(&key, "/api/v1/leads", json!({"name": "No source"}))
        .await;
    assert_eq!(
        (r.status, r.field()),
        (422, Some("source_id")),
        "{}",
        r.text
    );
    // A key with permissions cannot also be an intake key; unknown sources are named.
    let r = app
        .post(
            &owner.token,
            "/api/v1/api-keys",
            json!({"name": "x", "permissions": ["team.view"], "lead_source_ids": [zap]}),
        )
        .await;
    assert_eq!((r.status, r.field()), (422, Some("permissions")));
    let r = app
        .post(
            &owner.token,
            "/api/v1/api-keys",
            json!({"name": "x", "lead_source_ids": [zap, 999999]}),
        )
        .await;
    assert_eq!((r.status, r.field()), (422, Some("lead_source_ids[1]")));
    // Revoked: refused.
    let keys = app.get(&owner.token, "/api/v1/api-keys").await;
    let kid = keys.body["api_keys"][0]["id"].as_i64().unwrap();
    app.delete(&owner.token, &format!("/api/v1/api-keys/{kid}"))
        .await;
    assert_eq!(send(zap, None, None).await.status, 401);
    assert_eq!(app.count("clients").await, 2);
    // Documented with an example.
    let doc = app
        .http
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let doc: Value = serde_json::from_str(&doc).unwrap();
    let lead_in = &doc["components"]["schemas"]["LeadIn"];
    assert!(
        lead_in["examples"].is_array() || lead_in["example"].is_object(),
        "{lead_in}"
    );
}

async fn r_i5_a_secret_url_takes_leads_and_stops_when_rotated(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let r = app
        .post(
            &owner.token,
            "/api/v1/lead-sources",
            json!({"kind": "webhook", "name": "Make", "secret_url": true}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();
    let url = r.body["secret_url"].as_str().unwrap().to_owned();
    assert!(url.contains("/in/"));
    let list = app.get(&owner.token, "/api/v1/lead-sources").await;
    assert!(!list.text.contains(&url), "shown once");
    assert_eq!(list.body["sources"][0]["has_secret_url"], true);
    let r = TestApp::read(
        app.http
            .post(&url)
            .json(&json!({"name": "Mia Make", "email": "mia@example.com"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = TestApp::read(
        app.http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("name=Form+Lead&phone=%2B33612345678")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .patch(
            &owner.token,
            &format!("/api/v1/lead-sources/{id}"),
            json!({"secret_url": true}),
        )
        .await;
    let new = r.body["secret_url"].as_str().unwrap().to_owned();
    assert_ne!(new, url);
    let old = app
        .http
        .post(&url)
        .json(&json!({"name": "Late"}))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 404);
    assert_eq!(old.headers()["content-type"], "application/problem+json");
    assert_eq!(app.count("clients").await, 2);
    let r = app
        .patch(
            &owner.token,
            &format!("/api/v1/lead-sources/{id}"),
            json!({"secret_url": false}),
        )
        .await;
    assert_eq!(r.body["has_secret_url"], false);
    assert_eq!(
        app.http
            .post(&new)
            .json(&json!({"name": "x"}))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

async fn r_i7_every_delivery_is_logged_and_a_test_lead_shows_where_it_went(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (_, bea) =
        super::support::join(app, &owner, "Bea Agent", "bea@example.com", "Member").await;
    app.put(
        &owner.token,
        "/api/v1/assignment-rules/default",
        json!({"type": "round_robin", "members": [{"member_id": bea}]}),
    )
    .await;
    let src = super::intake::source(app, &owner, "webhook", "Zap").await;
    let id = src["id"].as_i64().unwrap();
    let r = deliver(app, &src, r#"{"name":"Ok","lead_id":"a"}"#, &[]).await;
    assert_eq!(r.status, 201);
    let r = deliver(app, &src, r#"{"name":"Ok","lead_id":"a"}"#, &[]).await;
    assert_eq!(r.status, 200);
    let bad = app
        .http
        .post(src["webhook_url"].as_str().unwrap())
        .header("x-leadteam-signature", format!("sha256={}", "0".repeat(64)))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    // (A client of its own: the server closes a connection whose body it refused.)
    let huge = reqwest::Client::new()
        .post(src["webhook_url"].as_str().unwrap())
        .body(vec![b'x'; 300 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);
    let t = app
        .post(
            &owner.token,
            &format!("/api/v1/lead-sources/{id}/test"),
            json!({}),
        )
        .await;
    assert_eq!(t.status, 201, "{}", t.text);
    assert_eq!(t.body["assignee_name"], "Bea Agent");
    assert_eq!(t.body["lead"]["assignee_id"], bea);
    app.patch(
        &owner.token,
        &format!("/api/v1/lead-sources/{id}"),
        json!({"enabled": false}),
    )
    .await;
    let before = app.count("clients").await;
    let t = app
        .post(
            &owner.token,
            &format!("/api/v1/lead-sources/{id}/test"),
            json!({}),
        )
        .await;
    assert_eq!(
        t.status, 409,
        "a switched-off source refuses its test lead too"
    );
    assert_eq!(app.count("clients").await, before);
    let d = app
        .get(
            &owner.token,
            &format!("/api/v1/lead-sources/{id}/deliveries"),
        )
        .await;
    let rows: Vec<(String, String, String)> = d.body["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["channel"].as_str().unwrap().to_owned(),
                x["outcome"].as_str().unwrap().to_owned(),
                x["reason"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let s = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(
        rows,
        vec![
            s("test", "refused", "switched_off"),
            s("test", "accepted", ""),
            s("signed", "refused", "too_large"),
            s("signed", "refused", "bad_signature"),
            s("signed", "duplicate", ""),
            s("signed", "accepted", ""),
        ]
    );
    assert!(
        d.body["deliveries"][0]["at"]
            .as_str()
            .unwrap()
            .contains('T')
    );
    // Only integration managers read the log (the matrix covers every role);
    // another account's source is not found.
    let other = app.signup("Other", "Oz", "oz@example.com").await;
    assert_eq!(
        app.get(
            &other.token,
            &format!("/api/v1/lead-sources/{id}/deliveries")
        )
        .await
        .status,
        404
    );
    assert_eq!(
        app.post(
            &other.token,
            &format!("/api/v1/lead-sources/{id}/test"),
            json!({})
        )
        .await
        .status,
        404
    );
}
