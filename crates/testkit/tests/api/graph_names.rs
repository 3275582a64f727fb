//! Issue 17 (I6): the names of the Facebook pages and lead forms a source
//! can take leads from are learned when its page access token is saved,
//! before any lead: the Graph worker looks up the pages the token reaches
//! (`me/accounts` for a user token, `me` for a page token) and each page's
//! lead forms, on a stand-in Graph API; its first failure neither fails the
//! save nor stops the lookup, which is retried with backoff.

use super::standin::StandIn;
use leadteam_testkit::{Engine, Options, TestApp};
use serde_json::{Value, json};

mod r_i6_issue17_saving_a_page_token_learns_the_names_of_its_pages_and_forms {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::run(leadteam_testkit::Engine::Sqlite).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::run(leadteam_testkit::Engine::Postgres).await;
    }
}

const USER_TOKEN: &str = "EAAuser-token-1";
/// The token `me/accounts` gives for the first page.
const PARIS_TOKEN: &str = "EAAparis-page-token";
const PAGE_TOKEN: &str = "EAApage-token-nice";

async fn run(engine: Engine) {
    // `me/accounts` of the user token (the script): first a failure, then
    // its two pages, the first with its own page token.
    let graph = StandIn::start(vec![
        (500, r#"{"error":{"message":"try later"}}"#.into()),
        (
            200,
            json!({"data": [
                {"id": "PAGE1", "name": "Acme Paris", "access_token": PARIS_TOKEN},
                {"id": "PAGE2", "name": "Acme Lyon"}
            ], "paging": {}})
            .to_string(),
        ),
    ])
    .await;
    graph.answer_path(
        "/v21.0/PAGE1/leadgen_forms",
        200,
        r#"{"data":[{"id":"FORM1","name":"Spring offer"},{"id":"FORM2","name":"Newsletter"}]}"#,
    );
    graph.answer_path(
        "/v21.0/PAGE2/leadgen_forms",
        200,
        r#"{"data":[{"id":"FORM3","name":"Lyon visit"}]}"#,
    );
    // A page token has no `accounts`: the Graph API refuses, and `me` is
    // the page itself.
    graph.answer_path_with(
        "/v21.0/me/accounts",
        &format!("access_token={PAGE_TOKEN}"),
        400,
        r#"{"error":{"message":"(#100) Tried accessing nonexisting field (accounts) on node type (Page)","code":100}}"#,
    );
    graph.answer_path_with(
        "/v21.0/me",
        &format!("access_token={PAGE_TOKEN}"),
        200,
        r#"{"id":"PAGE3","name":"Acme Nice"}"#,
    );
    graph.answer_path(
        "/v21.0/PAGE3/leadgen_forms",
        200,
        r#"{"data":[{"id":"FORM4","name":"Winter offer"}]}"#,
    );
    let mut opts = Options::default();
    opts.integrations.graph_base_url = format!("{}/v21.0", graph.base);
    let Some(app) = leadteam_testkit::spawn_with(engine, opts).await else {
        return;
    };
    story(&app, &graph).await;
    app.stop().await;
}

/// The `facebook` part of source `id` in the list of lead sources.
async fn facebook_of(app: &TestApp, token: &str, id: i64) -> Value {
    let list = app.get(token, "/api/v1/lead-sources").await;
    assert_eq!(list.status, 200, "{}", list.text);
    list.body["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .map(|s| s["facebook"].clone())
        .unwrap_or(Value::Null)
}

/// Waits until source `id` lists `pages` (moving the app's clock on, so
/// that a retry falls due), and answers its `facebook` part.
async fn wait_for_pages(app: &TestApp, token: &str, id: i64, pages: &Value) -> Value {
    let mut fb = Value::Null;
    for _ in 0..150 {
        fb = facebook_of(app, token, id).await;
        if fb["pages"] == *pages {
            return fb;
        }
        app.clock.advance_ms(150);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("source {id} never listed the pages {pages}: {fb}");
}

async fn story(app: &TestApp, graph: &StandIn) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let r = app
        .post(
            &owner.token,
            "/api/v1/lead-sources",
            json!({"kind": "facebook", "name": "Meta ads", "facebook": {"app_secret": "meta-app-secret-0123456789", "verify_token": "my-verify-token"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["facebook"]["pages"], json!([]), "{}", r.text);
    // No token, nothing to look up.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(graph.seen().is_empty(), "{:?}", graph.seen());

    // Saving the token answers at once, whatever the Graph API does after.
    let r = app
        .patch(
            &owner.token,
            &format!("/api/v1/lead-sources/{id}"),
            json!({"facebook": {"page_access_token": USER_TOKEN}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["facebook"]["has_page_access_token"], true);
    // The first lookup fails (500) and is retried after a backoff.
    let first = graph.wait_at("/v21.0/me/accounts", 1, 15, || {}).await;
    assert_eq!(first.len(), 1);
    let q = first[0].uri.query().unwrap_or_default().to_owned();
    assert!(q.contains(&format!("access_token={USER_TOKEN}")), "{q}");
    assert!(q.contains("fields=id%2Cname"), "{q}");
    let fb = wait_for_pages(
        app,
        &owner.token,
        id,
        &json!([{"id": "PAGE2", "name": "Acme Lyon"}, {"id": "PAGE1", "name": "Acme Paris"}]),
    )
    .await;
    assert_eq!(
        fb["forms"],
        json!([
            {"id": "FORM3", "name": "Lyon visit"},
            {"id": "FORM2", "name": "Newsletter"},
            {"id": "FORM1", "name": "Spring offer"}
        ]),
        "{fb}"
    );
    assert_eq!(app.count("clients").await, 0, "no lead has arrived");
    assert_eq!(graph.seen_at("/v21.0/me/accounts").len(), 2);
    // Each page's forms are asked for with the page's own token when
    // `me/accounts` gave one, else with the saved token.
    let paris = graph.seen_at("/v21.0/PAGE1/leadgen_forms");
    assert_eq!(paris.len(), 1, "{paris:?}");
    let q = paris[0].uri.query().unwrap_or_default().to_owned();
    assert!(q.contains(&format!("access_token={PARIS_TOKEN}")), "{q}");
    let lyon = graph.seen_at("/v21.0/PAGE2/leadgen_forms");
    assert_eq!(lyon.len(), 1, "{lyon:?}");
    let q = lyon[0].uri.query().unwrap_or_default().to_owned();
    assert!(q.contains(&format!("access_token={USER_TOKEN}")), "{q}");
    // The lookup is done (recorded just after the names) in two attempts.
    let mut state = (0, None, None);
    for _ in 0..100 {
        let mut c = app.db.conn().await.unwrap();
        state = sqlx::query_as(
            "SELECT attempts, done_at, last_error FROM graph_lookups WHERE source_id = $1",
        )
        .bind(id)
        .fetch_one(&mut *c)
        .await
        .unwrap();
        if state.1.is_some() {
            break;
        }
        drop(c);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (attempts, done, error): (i64, Option<i64>, Option<String>) = state;
    assert_eq!((attempts, done.is_some(), error), (2, true, None));

    // A source made with a page token: the page itself and its form, named
    // on that source only.
    let r = app
        .post(
            &owner.token,
            "/api/v1/lead-sources",
            json!({"kind": "facebook", "name": "Nice page", "facebook": {"page_access_token": PAGE_TOKEN}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let nice = r.body["id"].as_i64().unwrap();
    let fb = wait_for_pages(
        app,
        &owner.token,
        nice,
        &json!([{"id": "PAGE3", "name": "Acme Nice"}]),
    )
    .await;
    assert_eq!(
        fb["forms"],
        json!([{"id": "FORM4", "name": "Winter offer"}]),
        "{fb}"
    );
    let fb = facebook_of(app, &owner.token, id).await;
    assert_eq!(fb["pages"].as_array().unwrap().len(), 2, "{fb}");
    assert_eq!(fb["forms"].as_array().unwrap().len(), 3, "{fb}");

    // Saving the token again looks it up again.
    let r = app
        .patch(
            &owner.token,
            &format!("/api/v1/lead-sources/{id}"),
            json!({"facebook": {"page_access_token": USER_TOKEN}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let again = graph.wait_at("/v21.0/me/accounts", 4, 15, || {}).await;
    assert_eq!(
        again
            .iter()
            .filter(|s| s.uri.query().unwrap_or_default().contains(USER_TOKEN))
            .count(),
        3,
        "{again:?}"
    );
}
