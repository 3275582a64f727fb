//! Facebook Lead Ads as Meta sends them (I6): the admin enters the app
//! secret and the verify token; a delivery with ids only is stored at once
//! "awaiting details" and completed from a stand-in Graph API on a local
//! port (after a failed first call, retried with backoff).

use super::standin::StandIn;
use leadteam_domain::secret::hmac_sha256_hex;
use leadteam_testkit::{Engine, Options, TestApp};
use serde_json::json;

mod r_i6_a_lead_with_ids_only_is_stored_awaiting_details_and_completed_from_the_graph_api {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::run(leadteam_testkit::Engine::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::run(leadteam_testkit::Engine::Postgres).await;
    }
}

const APP_SECRET: &str = "meta-app-secret-0123456789";
const VERIFY: &str = "my-verify-token";
const PAGE_TOKEN: &str = "EAAGpagetoken123";

async fn run(engine: Engine) {
    let graph_lead = json!({
        "id": "LG77", "created_time": "2026-12-06T10:00:00+0000", "form_id": "FORM1",
        "field_data": [
            {"name": "full_name", "values": ["Fab Book"]},
            {"name": "email", "values": ["fab@example.com"]},
            {"name": "phone_number", "values": ["+33 6 11 22 33 44"]},
            {"name": "budget", "values": ["5000"]}
        ]
    })
    .to_string();
    let graph = StandIn::start(vec![
        (500, r#"{"error":{"message":"try later"}}"#.into()),
        (200, graph_lead),
    ])
    .await;
    // The page's and the form's names, asked for once the lead is complete.
    graph.answer_path("/v21.0/PAGE1", 200, r#"{"id":"PAGE1","name":"Acme Paris"}"#);
    graph.answer_path(
        "/v21.0/FORM1",
        200,
        r#"{"id":"FORM1","name":"Spring offer"}"#,
    );
    // Saving the page token looks up the pages it reaches (issue 17): none
    // here, so the names below are learned from the lead (tests/api/
    // graph_names.rs shows them learned from the token).
    graph.answer_path("/v21.0/me/accounts", 200, r#"{"data":[]}"#);
    let mut opts = Options::default();
    opts.integrations.graph_base_url = format!("{}/v21.0", graph.base);
    let Some(app) = leadteam_testkit::spawn_with(engine, opts).await else {
        return;
    };
    story(&app, &graph).await;
    app.stop().await;
}

async fn story(app: &TestApp, graph: &StandIn) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    // Too short a secret is refused, naming it, and nothing is created.
    let r = app
        .post(
            &owner.token,
            "/api/v1/lead-sources",
            json!({"kind": "facebook", "name": "FB", "facebook": {"app_secret": "short"}}),
        )
        .await;
    assert_eq!(
        (r.status, r.field()),
        (422, Some("facebook.app_secret")),
        "{}",
        r.text
    );
    assert_eq!(app.count("lead_sources").await, 0);
    let r = app
        .post(
            &owner.token,
            "/api/v1/lead-sources",
            json!({"kind": "facebook", "name": "FB", "facebook": {"app_secret": APP_SECRET, "verify_token": VERIFY}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["facebook"]["has_page_access_token"], false);
    let id = r.body["id"].as_i64().unwrap();
    let url = r.body["webhook_url"].as_str().unwrap().to_owned();
    // Meta's subscription check with the token the admin typed.
    let check = app
        .http
        .get(format!(
            "{url}?hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=42"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(check.status(), 200);
    assert_eq!(check.text().await.unwrap(), "42");
    let r = app
        .patch(
            &owner.token,
            &format!("/api/v1/lead-sources/{id}"),
            json!({"facebook": {"page_access_token": PAGE_TOKEN}}),
        )
        .await;
    assert_eq!(
        r.body["facebook"]["has_page_access_token"], true,
        "{}",
        r.text
    );
    assert!(
        !r.text.contains(PAGE_TOKEN),
        "the token is never shown back"
    );

    // What Meta sends: ids only, signed with the app secret.
    let payload = json!({"object": "page", "entry": [{"id": "PAGE1", "time": 1, "changes": [
        {"field": "leadgen", "value": {"leadgen_id": "LG77", "page_id": "PAGE1", "form_id": "FORM1", "created_time": 1}}
    ]}]})
    .to_string();
    let sig = format!(
        "sha256={}",
        hmac_sha256_hex(APP_SECRET.as_bytes(), payload.as_bytes())
    );
    let post = |sig: String| {
        app.http
            .post(&url)
            .header("x-hub-signature-256", sig)
            .header("content-type", "application/json")
            .body(payload.clone())
            .send()
    };
    let wrong = format!(
        "sha256={}",
        hmac_sha256_hex(b"a-generated-secret", payload.as_bytes())
    );
    assert_eq!(post(wrong).await.unwrap().status(), 401);
    let r = TestApp::read(post(sig.clone()).await.unwrap()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let client = r.body["leads"][0]["client_id"].as_i64().unwrap();
    let c = app
        .get(&owner.token, &format!("/api/v1/clients/{client}"))
        .await;
    assert_eq!(
        c.body["client"]["fields"]["awaiting_details"], "true",
        "{}",
        c.text
    );

    // The worker calls the Graph API with the page token; the first call
    // fails (500) and is retried after a backoff on the app's clock.
    let clock = app.clock.clone();
    graph
        .wait_at("/v21.0/LG77", 2, 15, || clock.advance_ms(150))
        .await;
    // (After the lead, its page's and form's names may be asked for too.)
    let seen = graph.seen_at("/v21.0/LG77");
    assert_eq!(seen.len(), 2, "{seen:?}");
    let q = seen[1].uri.query().unwrap_or_default().to_owned();
    assert_eq!(seen[1].uri.path(), "/v21.0/LG77");
    assert!(q.contains(&format!("access_token={PAGE_TOKEN}")), "{q}");
    let mut c = serde_json::Value::Null;
    for _ in 0..100 {
        c = app
            .get(&owner.token, &format!("/api/v1/clients/{client}"))
            .await
            .body;
        if c["client"]["email"] == "fab@example.com" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(c["client"]["name"], "Fab Book", "{c}");
    assert_eq!(c["client"]["email"], "fab@example.com");
    assert_eq!(c["client"]["fields"]["budget"], "5000");
    assert!(
        c["client"]["fields"].get("awaiting_details").is_none(),
        "{c}"
    );
    assert_eq!(c["client"]["fields"]["facebook_form_id"], "FORM1");

    // Meta retries the same delivery: stored once, fetched once.
    let r = TestApp::read(post(sig).await.unwrap()).await;
    assert_eq!(r.body["leads"][0]["duplicate"], true);
    assert_eq!(app.count("clients").await, 1);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        graph.seen_at("/v21.0/LG77").len(),
        2,
        "a fetched lead is not fetched again"
    );
    // The source learned the names of the lead's page and form (issue 17:
    // the rule form offers them by name), each asked for once, with the token.
    for path in ["/v21.0/PAGE1", "/v21.0/FORM1"] {
        let asked = graph.seen_at(path);
        assert_eq!(asked.len(), 1, "{path}: {asked:?}");
        let q = asked[0].uri.query().unwrap_or_default().to_owned();
        assert!(q.contains(&format!("access_token={PAGE_TOKEN}")), "{q}");
    }
    let mut c = app.db.conn().await.unwrap();
    let names: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT kind, external_id, name FROM facebook_names ORDER BY kind")
            .fetch_all(&mut *c)
            .await
            .unwrap();
    drop(c);
    assert_eq!(
        names,
        [
            (
                "form".to_owned(),
                "FORM1".to_owned(),
                Some("Spring offer".to_owned())
            ),
            (
                "page".to_owned(),
                "PAGE1".to_owned(),
                Some("Acme Paris".to_owned())
            ),
        ]
    );
    // The source tells them over the API, for a rule's page and form ids.
    let list = app.get(&owner.token, "/api/v1/lead-sources").await;
    let fb = &list.body["sources"][0]["facebook"];
    assert_eq!(
        fb["pages"],
        json!([{"id": "PAGE1", "name": "Acme Paris"}]),
        "{}",
        list.text
    );
    assert_eq!(
        fb["forms"],
        json!([{"id": "FORM1", "name": "Spring offer"}]),
        "{}",
        list.text
    );
    // The delivery log shows the refused and the accepted deliveries.
    let d = app
        .get(
            &owner.token,
            &format!("/api/v1/lead-sources/{id}/deliveries"),
        )
        .await;
    let outcomes: Vec<(&str, &str)> = d.body["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["outcome"].as_str().unwrap(),
                x["reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        vec![
            ("duplicate", ""),
            ("accepted", ""),
            ("refused", "bad_signature")
        ]
    );
}
