//! CSV import that skips duplicates (I3, issue 17's friction item "offers to
//! skip duplicates"): with `skip_duplicates=true` the rows whose email or
//! phone a client the importer may see already has are left out and counted
//! as skipped; a client the importer cannot see is never given away by a
//! skip; without the choice, duplicates are stored and flagged as before.

use super::support::join;
use leadteam_testkit::{Resp, TestApp, User, both_engines};
use serde_json::json;

both_engines!(
    r_i3_skipping_duplicates_leaves_out_rows_a_visible_client_has_and_counts_them,
    r_i3_a_bad_skip_duplicates_value_is_refused_naming_it_and_nothing_is_stored,
    r_i3_a_row_repeating_a_row_of_an_earlier_batch_of_the_same_file_is_a_duplicate,
);

async fn import(app: &TestApp, user: &User, query: &str, csv: &str) -> Resp {
    let req = app
        .http
        .post(app.url(&format!("/api/v1/clients/import{query}")))
        .bearer_auth(&user.token)
        .header("content-type", "text/csv")
        .body(csv.to_owned());
    TestApp::read(req.send().await.unwrap()).await
}

async fn names(app: &TestApp) -> Vec<String> {
    let mut c = app.db.conn().await.unwrap();
    sqlx::query_scalar("SELECT name FROM clients ORDER BY id")
        .fetch_all(&mut *c)
        .await
        .unwrap()
}

const CSV: &str = "Name,Email,Phone\n\
Again Mine,mine@example.com,\n\
Phone Twin,,+44 20 7946 0000\n\
Probe,secret@example.com,+1 555 0100\n\
Fresh,fresh@example.com,\n";

async fn r_i3_skipping_duplicates_leaves_out_rows_a_visible_client_has_and_counts_them(
    app: &TestApp,
) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let r = app
        .post(
            &owner.token,
            "/api/v1/roles",
            json!({"name": "Importer", "permissions": ["integrations.manage", "agent"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let (ivy, _) = join(app, &owner, "Ivy", "ivy@example.com", "Importer").await;
    // Ivy's own client (she sees it), and one of Ann's (she does not).
    for (who, body) in [
        (
            &ivy,
            json!({"name": "Mine", "email": "mine@example.com", "phone": "+44 20 7946 0000"}),
        ),
        (
            &owner,
            json!({"name": "Secret", "email": "secret@example.com", "phone": "+1 555 0100"}),
        ),
    ] {
        let r = app.post(&who.token, "/api/v1/clients", body).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }

    // A dry run says what would be skipped, and stores nothing.
    let r = import(app, &ivy, "?dry_run=true&skip_duplicates=true", CSV).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["skip_duplicates"], true, "{}", r.text);
    assert_eq!(
        (
            r.body["rows"].as_u64(),
            r.body["stored"].as_u64(),
            r.body["skipped"].as_u64(),
            r.body["duplicates"].as_u64()
        ),
        (Some(4), Some(2), Some(2), Some(2)),
        "{}",
        r.text
    );
    let flagged: Vec<(u64, &str)> = r.body["duplicate_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["line"].as_u64().unwrap(), d["field"].as_str().unwrap()))
        .collect();
    assert_eq!(flagged, [(2, "email"), (3, "phone")]);
    assert_eq!(
        names(app).await,
        ["Mine", "Secret"],
        "a dry run stores nothing"
    );

    // The import: the two duplicates of Ivy's client are left out; the row
    // matching Ann's hidden client is stored like any new one (a skip must
    // not tell Ivy that client exists).
    let r = import(app, &ivy, "?skip_duplicates=true", CSV).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        (r.body["stored"].as_u64(), r.body["skipped"].as_u64()),
        (Some(2), Some(2)),
        "{}",
        r.text
    );
    assert!(!r.text.contains("Secret"), "{}", r.text);
    assert_eq!(names(app).await, ["Mine", "Secret", "Probe", "Fresh"]);
    let audit = app.get(&owner.token, "/api/v1/audit").await;
    assert!(audit.text.contains("\"skipped\":2"), "{}", audit.text);

    // Without the choice, today's behaviour: stored and flagged.
    let r = import(app, &ivy, "", "Name,Email\nOnce More,fresh@example.com\n").await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        (
            r.body["stored"].as_u64(),
            r.body["duplicates"].as_u64(),
            r.body["skipped"].as_u64(),
            r.body["skip_duplicates"].as_bool()
        ),
        (Some(1), Some(1), Some(0), Some(false)),
        "{}",
        r.text
    );
    assert_eq!(app.count("clients").await, 5);

    // A file of duplicates only: nothing stored, every row counted as skipped.
    let r = import(
        app,
        &ivy,
        "?skip_duplicates=1",
        "Name,Email\nA,mine@example.com\nB,fresh@example.com\n",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.body["stored"].as_u64(), r.body["skipped"].as_u64()),
        (Some(0), Some(2)),
        "{}",
        r.text
    );
    assert_eq!(app.count("clients").await, 5);
}

async fn r_i3_a_bad_skip_duplicates_value_is_refused_naming_it_and_nothing_is_stored(
    app: &TestApp,
) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let r = import(app, &owner, "?skip_duplicates=perhaps", CSV).await;
    assert_eq!(
        (r.status, r.field()),
        (422, Some("skip_duplicates")),
        "{}",
        r.text
    );
    assert!(
        r.headers
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap().starts_with("application/problem+json")),
        "{:?}",
        r.headers
    );
    assert_eq!(app.count("clients").await, 0);
}

/// A file is stored in batches of 1,000 rows, each batch stored while the
/// next is read (issue 19); a row repeating one of an earlier batch — the
/// batch just before, or one further back — is told as a duplicate and
/// skipped, by its line, in order.
async fn r_i3_a_row_repeating_a_row_of_an_earlier_batch_of_the_same_file_is_a_duplicate(
    app: &TestApp,
) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let mut csv = String::from("name,email\n");
    let mut repeats = Vec::new();
    for i in 0..3_500u64 {
        // Line i + 2 of the file.
        let n = match i {
            1_200..1_250 => i - 1_200, // batch 2 repeats batch 1
            2_100..2_140 => i - 1_000, // batch 3 repeats batch 2
            3_300..3_310 => i - 3_000, // batch 4 repeats batch 1
            _ => i,
        };
        if n != i {
            repeats.push(i + 2);
        }
        csv.push_str(&format!("Lead {i},lead{n}@example.com\n"));
    }
    let r = import(app, &owner, "?skip_duplicates=true", &csv).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["rows"], 3_500);
    assert_eq!(r.body["duplicates"], 100, "{}", r.text);
    assert_eq!(r.body["skipped"], 100);
    assert_eq!(r.body["stored"], 3_400);
    let lines: Vec<u64> = r.body["duplicate_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, repeats);
    assert_eq!(app.count("clients").await, 3_400);
}
