//! CSV import of clients (I2, I3): every rejected row reported by line with
//! the field at fault, good rows stored, dry runs that store nothing, header
//! mapping, routing through the rules, and a large file streamed in.

use super::support::{join, member_id};
use leadteam_testkit::{Resp, TestApp, User, both_engines};
use serde_json::{Value, json};

both_engines!(
    r_i3_rejected_rows_are_reported_by_line_and_the_good_rows_stored,
    r_i3_a_dry_run_reports_the_same_and_stores_nothing,
    r_i3_a_mapping_puts_columns_where_it_says,
    r_i3_bad_headers_mappings_and_types_are_refused_naming_the_field,
    r_i2_only_members_with_integrations_manage_import,
    r_i3_a1_routed_imports_follow_the_round_robin_and_alert_once,
    r_i3_a_large_file_is_streamed_in,
    r_i3_an_unclosed_quote_is_refused_by_line_without_holding_the_file,
    r_i3_duplicates_are_only_told_among_clients_the_importer_sees,
    r_i3_semicolon_and_tab_separated_files_are_read_as_spreadsheets_save_them,
);

async fn r_i3_semicolon_and_tab_separated_files_are_read_as_spreadsheets_save_them(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let r = import(app, &owner, "", "Name;Email;City\nLéa Dupont;lea@example.fr;Lyon, 3e\n\"Smith; John\";john@example.com;Paris\n").await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        (r.body["stored"].as_i64(), r.body["rejected"].as_i64()),
        (Some(2), Some(0)),
        "{}",
        r.text
    );
    let r = import(
        app,
        &owner,
        "",
        "Name\tEmail\nTab Person\ttab@example.com\n",
    )
    .await;
    assert_eq!(r.body["stored"], 1, "{}", r.text);
    let stored = clients_of(app).await;
    let names: Vec<(&str, Option<&str>)> = stored
        .iter()
        .map(|c| (c.0.as_str(), c.1.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("Léa Dupont", Some("lea@example.fr")),
            ("Smith; John", Some("john@example.com")),
            ("Tab Person", Some("tab@example.com"))
        ]
    );
    let list = app.get(&owner.token, "/api/v1/clients?view=all").await;
    assert!(
        list.text.contains("Lyon, 3e"),
        "the custom field keeps its comma: {}",
        list.text
    );
}

async fn import(app: &TestApp, user: &User, query: &str, csv: impl Into<reqwest::Body>) -> Resp {
    let req = app
        .http
        .post(app.url(&format!("/api/v1/clients/import{query}")))
        .bearer_auth(&user.token)
        .header("content-type", "text/csv")
        .body(csv);
    TestApp::read(req.send().await.unwrap()).await
}

async fn clients_of(app: &TestApp) -> Vec<(String, Option<String>, Option<i64>, String, String)> {
    let mut c = app.db.conn().await.unwrap();
    sqlx::query_as("SELECT name, email, assignee_id, source, status FROM clients ORDER BY id")
        .fetch_all(&mut *c)
        .await
        .unwrap()
}

const SAMPLE: &str = "Name,Email,Phone,Budget,Status\r\n\
Ada Lovelace,ada@example.com,+44 20 7946 0000,10000,open\r\n\
Bad Email,not-an-email,,5,\r\n\
\"Hopper, Grace\",grace@example.com,,\"line one\nline two\",won\r\n\
Short row,short@example.com\r\n\
,,,,\r\n\
Nobody,,call me maybe,,\r\n\
Odd status,odd@example.com,,,someday\r\n\
Returning,known@example.com,,,\r\n";

fn lines(r: &Resp) -> Vec<(u64, String)> {
    r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn r_i3_rejected_rows_are_reported_by_line_and_the_good_rows_stored(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let me = member_id(app, &owner).await;
    let known = app
        .post(
            &owner.token,
            "/api/v1/clients",
            json!({"name": "Known", "email": "known@example.com"}),
        )
        .await;
    assert_eq!(known.status, 201, "{}", known.text);

    let r = import(app, &owner, "", SAMPLE).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["dry_run"], false);
    assert_eq!(r.body["rows"], 7, "{}", r.text);
    assert_eq!(r.body["blank_rows"], 1);
    assert_eq!(r.body["stored"], 3);
    assert_eq!(r.body["rejected"], 4);
    assert_eq!(r.body["complete"], true);
    // The quoted cell spans two lines: the rows after it count them.
    assert_eq!(
        lines(&r),
        vec![
            (3, "email".to_owned()),
            (6, "row".to_owned()),
            (8, "phone".to_owned()),
            (9, "status".to_owned()),
        ]
    );
    assert!(
        r.body["errors"][1]["reason"]
            .as_str()
            .unwrap()
            .contains("2 cells where the header has 5"),
        "{}",
        r.text
    );
    // A duplicate email is stored and flagged (line 10).
    assert_eq!(r.body["duplicates"], 1);
    assert_eq!(
        r.body["duplicate_rows"][0],
        json!({"line": 10, "field": "email", "value": "known@example.com"})
    );

    // The good rows are clients of the importer (P6), with their custom field.
    let stored = clients_of(app).await;
    assert_eq!(stored.len(), 4);
    assert_eq!(
        stored[1],
        (
            "Ada Lovelace".to_owned(),
            Some("ada@example.com".to_owned()),
            Some(me),
            "import".to_owned(),
            "open".to_owned()
        )
    );
    assert_eq!(stored[2].0, "Hopper, Grace");
    assert_eq!(stored[2].4, "won");
    let list = app.get(&owner.token, "/api/v1/clients?q=ada").await;
    let ada = &list.body["clients"][0];
    assert_eq!(ada["fields"]["Budget"], "10000", "{}", list.text);
    assert_eq!(ada["phone"], "+442079460000");
    let grace = app.get(&owner.token, "/api/v1/clients?q=grace").await;
    assert_eq!(
        grace.body["clients"][0]["fields"]["Budget"],
        "line one\nline two"
    );

    // The import is in the audit log with its counts (X1).
    let audit = app
        .get(&owner.token, "/api/v1/audit?action=clients.imported")
        .await;
    assert_eq!(audit.status, 200, "{}", audit.text);
    let entry = &audit.body["entries"][0];
    assert_eq!(entry["after"]["stored"], 3, "{}", audit.text);
    assert_eq!(entry["after"]["rejected"], 4);
}

async fn r_i3_a_dry_run_reports_the_same_and_stores_nothing(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let known = app
        .post(
            &owner.token,
            "/api/v1/clients",
            json!({"name": "Known", "email": "known@example.com"}),
        )
        .await;
    assert_eq!(known.status, 201);
    let before = (app.count("clients").await, app.count("audit_log").await);
    let r = import(app, &owner, "?dry_run=true", SAMPLE).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["dry_run"], true);
    assert_eq!(r.body["stored"], 3);
    assert_eq!(r.body["rejected"], 4);
    assert_eq!(r.body["duplicates"], 1);
    assert_eq!(
        lines(&r).iter().map(|l| l.0).collect::<Vec<_>>(),
        vec![3, 6, 8, 9]
    );
    assert_eq!(
        (app.count("clients").await, app.count("audit_log").await),
        before
    );
}

async fn r_i3_a_mapping_puts_columns_where_it_says(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let csv = "\u{feff}Who,Contact,City,Internal\nLea,lea@example.com,Paris,secret\nMo,mo@example.com,Lyon,x\n";
    let r = import(
        app,
        &owner,
        "?map=Who:name,Contact:email,City:field:Town,Internal:-",
        csv,
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["stored"], 2);
    assert_eq!(
        r.body["columns"],
        json!([
            {"header": "Who", "target": "name"},
            {"header": "Contact", "target": "email"},
            {"header": "City", "target": "field:Town"},
            {"header": "Internal", "target": "-"},
        ])
    );
    let list = app.get(&owner.token, "/api/v1/clients?q=lea").await;
    let lea = &list.body["clients"][0];
    assert_eq!(lea["name"], "Lea");
    assert_eq!(lea["fields"], json!({"Town": "Paris"}), "{}", list.text);

    // First and last name columns make the name.
    let r = import(
        app,
        &owner,
        "",
        "First Name,Last Name,Mobile\nGrace,Hopper,+1 555 0100 22\n",
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let g = app.get(&owner.token, "/api/v1/clients?q=hopper").await;
    assert_eq!(g.body["clients"][0]["name"], "Grace Hopper");
    assert_eq!(
        g.body["clients"][0]["phone"],
        "+15550100 22".replace(' ', "")
    );
}

async fn r_i3_bad_headers_mappings_and_types_are_refused_naming_the_field(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let before = (app.count("clients").await, app.count("audit_log").await);
    let cases: [(&str, &str, &str); 6] = [
        ("?map=Whom:name", "Name\nA\n", "map"),
        ("?map=Name:nickname", "Name\nA\n", "map"),
        ("", "Notes,City\nx,y\n", "map"),
        ("", "Name,name\nA,B\n", "file"),
        ("?dry_run=perhaps", "Name\nA\n", "dry_run"),
        ("?route=2", "Name\nA\n", "route"),
    ];
    for (query, csv, field) in cases {
        let r = import(app, &owner, query, csv).await;
        assert_eq!(r.status, 422, "{query} {csv}: {}", r.text);
        assert_eq!(r.field(), Some(field), "{query}: {}", r.text);
    }
    let empty = import(app, &owner, "", "").await;
    assert_eq!(empty.status, 422, "{}", empty.text);
    assert_eq!(empty.field(), Some("file"));

    let json_body = app
        .http
        .post(app.url("/api/v1/clients/import"))
        .bearer_auth(&owner.token)
        .json(&json!({"name": "A"}))
        .send()
        .await
        .unwrap();
    let r = TestApp::read(json_body).await;
    assert_eq!(r.status, 415, "{}", r.text);
    assert_eq!(r.field(), Some("Content-Type"));

    let huge = app
        .http
        .post(app.url("/api/v1/clients/import"))
        .bearer_auth(&owner.token)
        .header("content-type", "text/csv")
        .header("content-length", (600u64 * 1024 * 1024).to_string())
        .body("Name\nA\n")
        .send()
        .await;
    // The server answers 413 from the declared length, before reading.
    if let Ok(resp) = huge {
        let r = TestApp::read(resp).await;
        assert_eq!(r.status, 413, "{}", r.text);
    }
    assert_eq!(
        (app.count("clients").await, app.count("audit_log").await),
        before
    );
}

async fn r_i2_only_members_with_integrations_manage_import(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (member, _) = join(app, &owner, "Mo", "mo@example.com", "Member").await;
    let before = app.count("clients").await;
    let r = import(app, &member, "", "Name\nA\n").await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.text.contains("integrations.manage"), "{}", r.text);
    let r = import(app, &member, "?dry_run=true", "Name\nA\n").await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(app.count("clients").await, before);
    let (manager, _) = join(app, &owner, "Al", "al@example.com", "Admin").await;
    let r = import(app, &manager, "", "Name\nA\n").await;
    assert_eq!(r.status, 201, "{}", r.text);
}

async fn notifications(app: &TestApp, user: &User) -> Vec<Value> {
    let r = app.get(&user.token, "/api/v1/notifications").await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["notifications"].as_array().unwrap().clone()
}

async fn r_i3_a1_routed_imports_follow_the_round_robin_and_alert_once(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (a, a_id) = join(app, &owner, "Al", "al@example.com", "Member").await;
    let (b, b_id) = join(app, &owner, "Bo", "bo@example.com", "Member").await;
    let (c, c_id) = join(app, &owner, "Cy", "cy@example.com", "Member").await;
    // Cy is at its capacity of 0 open clients: skipped (A4); its turns are
    // shared by the others' weights, 2:1 (A9), not handed to the next one.
    let r = app
        .patch(
            &owner.token,
            &format!("/api/v1/members/{c_id}"),
            json!({"capacity": 0}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .put(
            &owner.token,
            "/api/v1/assignment-rules/default",
            json!({"type": "round_robin", "members": [
                {"member_id": a_id, "leads_per_round": 2},
                {"member_id": b_id, "leads_per_round": 1},
                {"member_id": c_id, "leads_per_round": 1},
            ]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut csv = String::from("email\n");
    for i in 0..12 {
        csv.push_str(&format!("lead{i}@example.com\n"));
    }
    let r = import(app, &owner, "?route=true", csv).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["routed"], true);
    assert_eq!(
        r.body["assigned"],
        json!([{"member_id": a_id, "clients": 8}, {"member_id": b_id, "clients": 4}]),
        "{}",
        r.text
    );
    let stored = clients_of(app).await;
    assert_eq!(stored.iter().filter(|c| c.2 == Some(a_id)).count(), 8);
    assert_eq!(stored.iter().filter(|c| c.2 == Some(b_id)).count(), 4);
    assert_eq!(stored.iter().filter(|c| c.2 == Some(c_id)).count(), 0);
    // One alert per member for the whole import, not one per row (C7).
    let na = notifications(app, &a).await;
    assert_eq!(na.len(), 1, "{na:?}");
    assert_eq!(na[0]["body"], "Import: 8 new clients assigned to you");
    assert_eq!(notifications(app, &b).await.len(), 1);
    assert!(notifications(app, &c).await.is_empty());
    // The decision is on each client, as for any lead (A1).
    let one = app.get(&a.token, "/api/v1/clients?view=mine").await;
    let reason = one.body["clients"][0]["routing_reason"]
        .as_str()
        .unwrap_or("");
    assert!(reason.starts_with("round robin"), "{}", one.text);

    // Unassigned by the rules: everyone who may claim hears of it once.
    let r = app
        .put(
            &owner.token,
            "/api/v1/assignment-rules/default",
            json!({"type": "unassigned"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = import(app, &owner, "?route=true", "name\nX\nY\nZ\n").await;
    assert_eq!(r.body["unassigned"], 3, "{}", r.text);
    let na = notifications(app, &a).await;
    assert_eq!(na.len(), 2, "{na:?}");
    assert!(
        na.iter()
            .any(|n| n["body"] == "Import: 3 new unassigned clients"),
        "{na:?}"
    );
    assert!(notifications(app, &owner).await.is_empty());
}

async fn r_i3_a_large_file_is_streamed_in(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    const ROWS: usize = 60_000;
    // Generated as it is sent: neither side holds the whole file.
    let chunks = futures::stream::iter((0..ROWS / 1000).map(|chunk| {
        let mut s = String::new();
        if chunk == 0 {
            s.push_str("name,email,phone,plan\n");
        }
        for i in chunk * 1000..(chunk + 1) * 1000 {
            if i % 10_000 == 9_999 {
                s.push_str(&format!("Bad {i},bad-email-{i},,gold\n"));
            } else {
                s.push_str(&format!("Lead {i},lead{i}@example.com,+3361{i:07},gold\n"));
            }
        }
        Ok::<_, std::io::Error>(s)
    }));
    let r = import(app, &owner, "", reqwest::Body::wrap_stream(chunks)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["rows"], ROWS as u64);
    assert_eq!(r.body["rejected"], (ROWS / 10_000) as u64);
    assert_eq!(r.body["stored"], (ROWS - ROWS / 10_000) as u64);
    assert_eq!(r.body["errors"][0]["line"], 10_001);
    assert_eq!(app.count("clients").await, (ROWS - ROWS / 10_000) as i64);
    let last = app.get(&owner.token, "/api/v1/clients?q=lead59998@").await;
    assert_eq!(
        last.body["clients"][0]["name"], "Lead 59998",
        "{}",
        last.text
    );
}

async fn r_i3_an_unclosed_quote_is_refused_by_line_without_holding_the_file(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    // Two good rows, then a cell whose quote never closes, then 3 MiB more.
    let mut csv =
        String::from("Name,Email\nAda,ada@example.com\nBo,bo@example.com\nCy,\"never closed\n");
    csv.push_str(&"x,y\n".repeat(3 * 1024 * 1024 / 4));
    let r = import(app, &owner, "", csv).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["stored"], 2, "{}", r.text);
    assert_eq!(r.body["rejected"], 1);
    assert_eq!(lines(&r), [(4, "row".to_owned())]);
    assert!(
        r.body["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("unclosed quote"),
        "{}",
        r.text
    );
    assert_eq!(app.count("clients").await, 2);
}

async fn r_i3_duplicates_are_only_told_among_clients_the_importer_sees(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let r = app
        .post(
            &owner.token,
            "/api/v1/roles",
            json!({"name": "Importer", "permissions": ["integrations.manage", "team.view", "agent"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let (ivy, _) = join(app, &owner, "Ivy", "ivy@example.com", "Importer").await;
    // A client of Ann's, which Ivy cannot see.
    let r = app
        .post(
            &owner.token,
            "/api/v1/clients",
            json!({"name": "Secret", "email": "secret@example.com", "phone": "+1 555 0100"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let csv = "Name,Email,Phone\nProbe,secret@example.com,+1 555 0100\n";
    let r = import(app, &ivy, "?dry_run=true", csv).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["duplicates"], 0,
        "nothing told of a client Ivy cannot see: {}",
        r.text
    );
    assert!(!r.text.contains("Secret"));
    // Ann, who sees it, is told.
    let r = import(app, &owner, "?dry_run=true", csv).await;
    assert!(r.body["duplicates"].as_u64().unwrap() >= 1, "{}", r.text);
}
