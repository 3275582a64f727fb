//! The manager's figures over HTTP (D2): speed to lead per member and per
//! source (median and 90th percentile from arrival to first contact), leads
//! per source per day, as JSON and as CSV, for a seeded period on a moved
//! clock; refused to members who do not see every member's clients; bad
//! parameters named.

use super::intake::{deliver, source};
use super::support::{at, join};
use leadteam_domain::Timestamp;
use leadteam_testkit::{TestApp, User, both_engines};
use serde_json::{Value, json};

both_engines!(
    r_d2_speed_to_lead_per_member_and_source_has_exact_medians_and_p90s,
    r_d2_leads_per_source_per_day_and_the_same_figures_as_csv,
    r_d2_reports_are_refused_without_view_others_and_bad_parameters_are_named,
);

/// `minute` minutes past `hour`:00 UTC on December `day`, 2026.
fn dec(day: u32, hour: i64, minute: i64) -> Timestamp {
    at(2026, 12, day, hour).plus_minutes(minute)
}

struct World {
    owner: User,
    bea: (User, i64),
    cy: (User, i64),
    site: Value,
    ads: Value,
}

async fn lead(app: &TestApp, hook: &Value, name: &str) -> i64 {
    let r = deliver(app, hook, &json!({"name": name}).to_string(), &[]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["client_id"].as_i64().unwrap()
}

async fn assign(app: &TestApp, owner: &User, client: i64, to: i64) {
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/clients/{client}/assign"),
            json!({"member_id": to}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

async fn note(app: &TestApp, by: &User, client: i64) {
    let r = app
        .post(
            &by.token,
            &format!("/api/v1/clients/{client}/notes"),
            json!({"body": "Called, left a message"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

/// A lead from `hook` at `t`, given to `to` at once, contacted by it
/// `contact_after` minutes later (if ever).
async fn story(
    app: &TestApp,
    w: &World,
    hook: &Value,
    t: Timestamp,
    to: Option<&(User, i64)>,
    contact_after: Option<i64>,
) -> i64 {
    app.clock.set(t);
    let id = lead(app, hook, "A lead").await;
    if let Some((user, member)) = to {
        assign(app, &w.owner, id, *member).await;
        if let Some(m) = contact_after {
            app.clock.set(t.plus_minutes(m));
            note(app, user, id).await;
        }
    }
    id
}

/// Seven leads: one before the period, six in it (the period is 1 to 8
/// December 2026, UTC):
///
/// | lead | arrives      | source | first contact       |
/// |------|--------------|--------|---------------------|
/// | 0    | 30 Nov 12:00 | Site   | Bea after 5 min     |
/// | 1    | 7 Dec 09:00  | Site   | Bea after 1 min     |
/// | 2    | 7 Dec 10:00  | Site   | Bea after 2 min     |
/// | 3    | 7 Dec 11:00  | =Ads   | Cy after 3 min      |
/// | 4    | 8 Dec 08:00  | =Ads   | Bea after 4 min, then moved to Cy |
/// | 5    | 8 Dec 09:00  | Site   | Cy's, not contacted |
/// | 6    | 8 Dec 09:30  | =Ads   | unassigned          |
async fn seed(app: &TestApp) -> World {
    app.clock.set(dec(1, 8, 0).plus_days(-2));
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let bea = join(app, &owner, "Bea", "bea@example.com", "Member").await;
    let cy = join(app, &owner, "Cy", "cy@example.com", "Member").await;
    let site = source(app, &owner, "webhook", "Site").await;
    // A name a spreadsheet would run as a formula.
    let ads = source(app, &owner, "webhook", "=Ads").await;
    let w = World {
        owner,
        bea,
        cy,
        site,
        ads,
    };
    let nov30 = at(2026, 11, 30, 12);
    story(app, &w, &w.site, nov30, Some(&w.bea), Some(5)).await;
    story(app, &w, &w.site, dec(7, 9, 0), Some(&w.bea), Some(1)).await;
    story(app, &w, &w.site, dec(7, 10, 0), Some(&w.bea), Some(2)).await;
    story(app, &w, &w.ads, dec(7, 11, 0), Some(&w.cy), Some(3)).await;
    let moved = story(app, &w, &w.ads, dec(8, 8, 0), Some(&w.bea), Some(4)).await;
    // The first contact stays Bea's when the lead changes hands after it.
    assign(app, &w.owner, moved, w.cy.1).await;
    story(app, &w, &w.site, dec(8, 9, 0), Some(&w.cy), None).await;
    story(app, &w, &w.ads, dec(8, 9, 30), None, None).await;
    app.clock.set(dec(8, 10, 0));
    w
}

fn row<'a>(r: &'a Value, key: &str, id: Option<i64>, name: &str) -> &'a Value {
    r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x[key].as_i64() == id && x["name"] == name)
        .unwrap_or_else(|| panic!("no row {key}={id:?} {name} in {r}"))
}

fn figures(v: &Value) -> (i64, i64, i64, Value, Value) {
    (
        v["leads"].as_i64().unwrap(),
        v["contacted"].as_i64().unwrap(),
        v["not_contacted"].as_i64().unwrap(),
        v["median_seconds"].clone(),
        v["p90_seconds"].clone(),
    )
}

async fn r_d2_speed_to_lead_per_member_and_source_has_exact_medians_and_p90s(app: &TestApp) {
    let w = seed(app).await;
    let r = app
        .get(
            &w.owner.token,
            "/api/v1/reports/speed-to-lead?from=2026-12-01&to=2026-12-08&by=member",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["period"],
        json!({"from": "2026-12-01", "to": "2026-12-08", "time_zone": "UTC", "days": 8})
    );
    assert_eq!(r.body["by"], "member");
    assert_eq!(r.body["rows"].as_array().unwrap().len(), 3, "{}", r.text);
    // Bea: 60, 120 and 240 s: the median is 120, the 90th percentile
    // 120 + 0.8 × 120 = 216.
    let bea = row(&r.body, "member_id", Some(w.bea.1), "Bea");
    assert_eq!(figures(bea), (3, 3, 0, json!(120.0), json!(216.0)));
    // Cy: 180 s, and one lead not contacted yet.
    let cy = row(&r.body, "member_id", Some(w.cy.1), "Cy");
    assert_eq!(figures(cy), (2, 1, 1, json!(180.0), json!(180.0)));
    let nobody = row(&r.body, "member_id", None, "Unassigned");
    assert_eq!(figures(nobody), (1, 0, 1, Value::Null, Value::Null));
    // All: 60, 120, 180, 240: median 150, p90 180 + 0.7 × 60 = 222.
    assert_eq!(
        figures(&r.body["total"]),
        (6, 4, 2, json!(150.0), json!(222.0))
    );

    let r = app
        .get(
            &w.owner.token,
            "/api/v1/reports/speed-to-lead?from=2026-12-01&to=2026-12-08&by=source",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let site = w.site["id"].as_i64();
    let ads = w.ads["id"].as_i64();
    // Site: 60 and 120 s (the third not contacted); =Ads: 180 and 240 s.
    let s = row(&r.body, "source_id", site, "Site");
    assert_eq!(figures(s), (3, 2, 1, json!(90.0), json!(114.0)));
    assert_eq!(s["source_kind"], "webhook");
    let a = row(&r.body, "source_id", ads, "=Ads");
    assert_eq!(figures(a), (3, 2, 1, json!(210.0), json!(234.0)));
    assert_eq!(r.body["rows"][0]["name"], "=Ads", "by name: {}", r.text);

    // The default period is the last 7 days up to today (2 to 8 December):
    // the same six leads. One day alone: the 7th.
    let r = app
        .get(&w.owner.token, "/api/v1/reports/speed-to-lead")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["period"]["from"], "2026-12-02");
    assert_eq!(r.body["period"]["to"], "2026-12-08");
    assert_eq!(r.body["total"]["leads"], 6);
    let r = app
        .get(
            &w.owner.token,
            "/api/v1/reports/speed-to-lead?from=2026-12-07&to=2026-12-07",
        )
        .await;
    assert_eq!(
        figures(&r.body["total"]),
        (3, 3, 0, json!(120.0), json!(168.0)),
        "{}",
        r.text
    );
    // The lead of 30 November is in November.
    let r = app
        .get(
            &w.owner.token,
            "/api/v1/reports/speed-to-lead?from=2026-11-01&to=2026-11-30",
        )
        .await;
    assert_eq!(
        figures(&r.body["total"]),
        (1, 1, 0, json!(300.0), json!(300.0))
    );
}

async fn r_d2_leads_per_source_per_day_and_the_same_figures_as_csv(app: &TestApp) {
    let w = seed(app).await;
    let r = app
        .get(
            &w.owner.token,
            "/api/v1/reports/leads?from=2026-12-06&to=2026-12-08&by=source&bucket=day",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["days"],
        json!(["2026-12-06", "2026-12-07", "2026-12-08"])
    );
    let sources = r.body["sources"].as_array().unwrap();
    let names: Vec<&str> = sources
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["=Ads", "Site"], "as many each: by name");
    assert_eq!(sources[0]["counts"], json!([0, 1, 2]));
    assert_eq!(sources[0]["source_id"], w.ads["id"]);
    assert_eq!(sources[1]["counts"], json!([0, 2, 1]));
    assert_eq!(sources[1]["total"], 3);
    assert_eq!(r.body["totals"], json!([0, 3, 3]));
    assert_eq!(r.body["total"], 6);

    // CSV: a header row, one row per day and source, formulas neutralised.
    let csv = |path: &str| {
        let token = w.owner.token.clone();
        let url = app.url(path);
        async move {
            let r = app
                .http
                .get(url)
                .bearer_auth(token)
                .header("accept", "text/csv")
                .send()
                .await
                .unwrap();
            let r = TestApp::read(r).await;
            assert_eq!(r.status, 200, "{}", r.text);
            assert!(
                r.header("content-type").unwrap().starts_with("text/csv"),
                "{:?}",
                r.headers
            );
            r.text
        }
    };
    let (site, ads) = (
        w.site["id"].as_i64().unwrap(),
        w.ads["id"].as_i64().unwrap(),
    );
    let text = csv("/api/v1/reports/leads?from=2026-12-07&to=2026-12-08").await;
    assert_eq!(
        text,
        format!(
            "day,source_id,source,leads\r\n\
             2026-12-07,{ads},'=Ads,1\r\n2026-12-07,{site},Site,2\r\n\
             2026-12-08,{ads},'=Ads,2\r\n2026-12-08,{site},Site,1\r\n"
        )
    );
    let (bea, cy) = (w.bea.1, w.cy.1);
    let text = csv("/api/v1/reports/speed-to-lead?from=2026-12-01&to=2026-12-08").await;
    assert_eq!(
        text,
        format!(
            "from,to,member_id,member,leads,contacted,not_contacted,median_seconds,p90_seconds\r\n\
             2026-12-01,2026-12-08,{bea},Bea,3,3,0,120,216\r\n\
             2026-12-01,2026-12-08,{cy},Cy,2,1,1,180,180\r\n\
             2026-12-01,2026-12-08,,Unassigned,1,0,1,,\r\n\
             2026-12-01,2026-12-08,,All leads,6,4,2,150,222\r\n"
        )
    );
    let text = csv("/api/v1/reports/speed-to-lead?from=2026-12-01&to=2026-12-08&by=source").await;
    assert_eq!(
        text,
        format!(
            "from,to,source_id,source,leads,contacted,not_contacted,median_seconds,p90_seconds\r\n\
             2026-12-01,2026-12-08,{ads},'=Ads,3,2,1,210,234\r\n\
             2026-12-01,2026-12-08,{site},Site,3,2,1,90,114\r\n\
             2026-12-01,2026-12-08,,All leads,6,4,2,150,222\r\n"
        )
    );
}

async fn r_d2_reports_are_refused_without_view_others_and_bad_parameters_are_named(app: &TestApp) {
    let w = seed(app).await;
    // A Member sees its own and unassigned clients, not the account's figures.
    for path in ["/api/v1/reports/speed-to-lead", "/api/v1/reports/leads"] {
        let r = app.get(&w.bea.0.token, path).await;
        assert_eq!(r.status, 403, "{path}: {}", r.text);
        assert!(
            r.header("content-type").unwrap().contains("problem+json"),
            "{path}"
        );
    }
    let (manager, _) = join(app, &w.owner, "Max", "max@example.com", "Manager").await;
    let r = app
        .get(&manager.token, "/api/v1/reports/leads?from=2026-12-01")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["total"], 6);
    let _ = &w.cy;

    for (path, field) in [
        ("/api/v1/reports/speed-to-lead?from=yesterday", "from"),
        ("/api/v1/reports/speed-to-lead?to=2026-12-40", "to"),
        (
            "/api/v1/reports/speed-to-lead?from=2026-12-08&to=2026-12-01",
            "to",
        ),
        (
            "/api/v1/reports/speed-to-lead?from=2024-01-01&to=2026-12-01",
            "from",
        ),
        ("/api/v1/reports/speed-to-lead?by=team", "by"),
        ("/api/v1/reports/leads?by=member", "by"),
        ("/api/v1/reports/leads?bucket=week", "bucket"),
    ] {
        let r = app.get(&manager.token, path).await;
        assert_eq!(
            (r.status, r.field()),
            (422, Some(field)),
            "{path}: {}",
            r.text
        );
    }
    let r = app
        .get(&manager.token, "/api/v1/reports/speed-to-lead?bucket=day")
        .await;
    assert_eq!((r.status, r.field()), (400, Some("bucket")), "{}", r.text);
}
