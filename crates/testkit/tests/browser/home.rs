//! The home pages in the browser. D1: the first-run checklist ticks itself,
//! a member sees its new leads, claims a waiting lead from its home and
//! watches a first-contact clock. D2: the manager's home shows the team now
//! (who is available, capacity in use, the backlog and why, speed to lead),
//! and the reports draw a seeded period with the right numbers, in the
//! charts and in the tables. Screenshots at desktop and phone width.

use crate::harness::Browser;
use crate::work::{join, send_lead, sign_in, sign_out, webhook_source};
use leadteam_domain::Timestamp;
use leadteam_testkit::{Engine, PASSWORD, TestApp, User, spawn_app};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Monday 7 December 2026, 00:00 UTC.
const MONDAY: Timestamp = Timestamp(1_796_601_600_000);

fn at(day_offset: i64, hour: i64, minute: i64) -> Timestamp {
    MONDAY
        .plus_days(day_offset)
        .plus_minutes(hour * 60 + minute)
}

async fn setup(test: &str) -> Option<(TestApp, Browser)> {
    let app = spawn_app(Engine::Sqlite).await?;
    app.clock.set(at(1, 10, 0));
    let b = Browser::start(test, &app.base).await?;
    Some((app, b))
}

/// Desktop, then phone width, then desktop again.
async fn shots(b: &mut Browser, name: &str) {
    b.shot(name).await;
    b.resize(390, 844).await;
    b.shot(&format!("{name}-phone")).await;
    b.resize(1280, 900).await;
}

async fn ok(r: leadteam_testkit::Resp, want: u16) -> Value {
    assert_eq!(r.status, want, "{}", r.text);
    r.body
}

async fn default_rule(app: &TestApp, owner: &User, body: Value) {
    ok(
        app.put(&owner.token, "/api/v1/assignment-rules/default", body)
            .await,
        200,
    )
    .await;
}

fn source_of(v: &Value) -> (i64, String) {
    (
        v["id"].as_i64().unwrap(),
        v["secret"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d1_a_member_home_shows_new_leads_claims_from_home_and_counts_down_first_contact() {
    let test = "d1_a_member_home_shows_new_leads_claims_from_home_and_counts_down_first_contact";
    let Some((app, mut b)) = setup(test).await else {
        return;
    };
    let owner = app
        .signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;

    // The owner's first run: nothing is set up yet.
    sign_in(&b, "ann@example.com").await;
    b.wait_text("#first-run", "0 of 3 done").await;
    assert!(b.text("#step-invite").await.contains("Invite a member"));
    assert!(
        !b.text("main").await.contains("members.manage"),
        "no permission codes on the home"
    );
    shots(&mut b, "owner-first-run").await;
    let bob = join(&app, &owner, "Bob Member", "bob@example.com", "Member").await;
    let (src, secret) = source_of(&webhook_source(&app, &owner, "Website").await);
    b.goto("/").await;
    b.wait_text("#first-run", "2 of 3 done").await;
    assert!(b.text("#step-invite").await.contains("Done"));
    assert!(b.text("#step-source").await.contains("Done"));
    assert!(
        b.text("#step-round-robin")
            .await
            .contains("Set the round robin")
    );
    b.shot("owner-two-steps-done").await;
    sign_out(&b).await;

    // Bob's home before any lead: empty states that say what happens next.
    sign_in(&b, "bob@example.com").await;
    assert!(b.text("#home-summary").await.contains("Nothing needs you"));
    assert!(b.text("#new-leads .empty").await.contains("No new lead"));
    assert!(
        b.text("#to-claim .empty")
            .await
            .contains("No lead is waiting")
    );
    assert!(
        b.c.find(fantoccini::Locator::Css("#first-run"))
            .await
            .is_err(),
        "the checklist is for those who run the account"
    );
    b.shot("member-home-empty").await;

    // A lead nobody gets (the default rule leaves leads unassigned): Bob
    // claims it from his home, and it becomes one of his new leads.
    let una = send_lead(&app, src, &secret, json!({"name": "Una Unassigned"})).await;
    b.goto("/").await;
    b.wait_text("#to-claim", "Una Unassigned").await;
    assert!(b.text("#to-claim .count").await.contains('1'));
    assert!(
        b.text("#home-summary")
            .await
            .contains("1 lead is waiting to be claimed")
    );
    b.shot("member-home-to-claim").await;
    b.click(&format!(
        "#to-claim form[action='/clients/{una}/claim'] button"
    ))
    .await;
    b.wait_text(".notice", "The lead is yours now").await;
    b.wait_path("/?notice=claimed").await;
    assert!(b.text("#new-leads").await.contains("Una Unassigned"));
    assert!(
        b.text("#to-claim .empty")
            .await
            .contains("No lead is waiting")
    );
    let r = ok(
        app.get(&owner.token, &format!("/api/v1/clients/{una}"))
            .await,
        200,
    )
    .await;
    assert_eq!(r["client"]["assignee_id"], bob);

    // A first-contact clock: round robin to Bob, contact within 15 minutes.
    default_rule(
        &app,
        &owner,
        json!({"type": "round_robin", "members": [{"member_id": bob}],
               "first_contact": {"minutes": 15, "max_moves": 2}}),
    )
    .await;
    send_lead(&app, src, &secret, json!({"name": "Lea Fast"})).await;
    b.goto("/").await;
    b.wait_text("#contact-clocks", "Lea Fast").await;
    assert!(b.text("#contact-clocks").await.contains("due in 15 min"));
    app.clock.advance_ms(12 * 60_000);
    b.goto("/").await;
    b.wait_text("#contact-clocks", "due in 3 min").await;
    assert!(
        b.attr("#contact-clocks li", "class")
            .await
            .unwrap()
            .contains("urgent"),
        "under a quarter of the limit left"
    );
    assert_eq!(
        b.text("#home-summary").await,
        "2 leads wait for your first contact (1 clock running)."
    );
    let new = b.text("#new-leads").await;
    assert!(new.contains("Lea Fast") && new.contains("Una Unassigned"));
    assert!(
        new.find("Lea Fast").unwrap() < new.find("Una Unassigned").unwrap(),
        "newest first"
    );
    assert!(b.text("#my-availability").await.contains("Available"));
    shots(&mut b, "member-home").await;
    b.finish().await;
    app.stop().await;
}

/// A member's session token (to write notes as it).
async fn token_of(app: &TestApp, email: &str) -> String {
    app.signin_ok(email, PASSWORD).await
}

async fn lead_at(app: &TestApp, t: Timestamp, src: &(i64, String), name: &str) -> i64 {
    app.clock.set(t);
    send_lead(app, src.0, &src.1, json!({ "name": name })).await
}

async fn assign(app: &TestApp, owner: &User, client: i64, to: i64) {
    ok(
        app.post(
            &owner.token,
            &format!("/api/v1/clients/{client}/assign"),
            json!({ "member_id": to }),
        )
        .await,
        200,
    )
    .await;
}

async fn note_at(app: &TestApp, t: Timestamp, token: &str, client: i64) {
    app.clock.set(t);
    ok(
        app.post(
            token,
            &format!("/api/v1/clients/{client}/notes"),
            json!({"body": "Called"}),
        )
        .await,
        201,
    )
    .await;
}

async fn wait_assignee(app: &TestApp, owner: &User, client: i64, want: i64) {
    let start = Instant::now();
    loop {
        let r = app
            .get(&owner.token, &format!("/api/v1/clients/{client}"))
            .await;
        if r.body["client"]["assignee_id"] == want {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "client {client} never went to {want}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The seeded period, 7 and 8 December 2026 (UTC):
///
/// | lead | arrives    | source | first contact                      |
/// |------|------------|--------|------------------------------------|
/// | L1   | 7th 09:00  | Site   | Bea after 1 min                    |
/// | L2   | 7th 10:00  | Site   | Bea after 2 min                    |
/// | L3   | 7th 11:00  | Ads    | Cy after 3 min                     |
/// | R    | 7th 12:00  | Site   | none: Bea's clock ran out, Cy's now |
/// | L4   | 8th 08:00  | Ads    | Bea after 4 min, then given to Cy  |
/// | L5   | 8th 09:00  | Site   | Cy's, none                         |
/// | L6   | 8th 09:30  | Ads    | nobody's                           |
///
/// and on the 9th a lead waits in the backlog: Cy, its only member, is away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d2_the_manager_home_shows_the_team_now_and_the_reports_draw_a_seeded_period() {
    let test = "d2_the_manager_home_shows_the_team_now_and_the_reports_draw_a_seeded_period";
    let Some((app, mut b)) = setup(test).await else {
        return;
    };
    app.clock.set(at(-1, 9, 0));
    let owner = app
        .signup("Acme Sales", "Ann Owner", "ann@example.com")
        .await;
    let bea = join(&app, &owner, "Bea Fast", "bea@example.com", "Member").await;
    let cy = join(&app, &owner, "Cy Slow", "cy@example.com", "Member").await;
    let (bea_t, cy_t) = (
        token_of(&app, "bea@example.com").await,
        token_of(&app, "cy@example.com").await,
    );
    let site = source_of(&webhook_source(&app, &owner, "Site").await);
    let ads = source_of(&webhook_source(&app, &owner, "Ads").await);

    let l1 = lead_at(&app, at(0, 9, 0), &site, "Lena One").await;
    assign(&app, &owner, l1, bea).await;
    note_at(&app, at(0, 9, 1), &bea_t, l1).await;
    let l2 = lead_at(&app, at(0, 10, 0), &site, "Lars Two").await;
    assign(&app, &owner, l2, bea).await;
    note_at(&app, at(0, 10, 2), &bea_t, l2).await;
    let l3 = lead_at(&app, at(0, 11, 0), &ads, "Lou Three").await;
    assign(&app, &owner, l3, cy).await;
    note_at(&app, at(0, 11, 3), &cy_t, l3).await;
    // A10: Bea gets R by round robin and does not call within 15 minutes.
    app.clock.set(at(0, 12, 0));
    default_rule(
        &app,
        &owner,
        json!({"type": "round_robin", "members": [{"member_id": bea}, {"member_id": cy}],
               "first_contact": {"minutes": 15, "max_moves": 1}}),
    )
    .await;
    let r = lead_at(&app, at(0, 12, 0), &site, "Rex Reclaimed").await;
    wait_assignee(&app, &owner, r, bea).await;
    app.clock.set(at(0, 12, 16));
    wait_assignee(&app, &owner, r, cy).await;
    default_rule(&app, &owner, json!({"type": "unassigned"})).await;
    let l4 = lead_at(&app, at(1, 8, 0), &ads, "Lia Four").await;
    assign(&app, &owner, l4, bea).await;
    note_at(&app, at(1, 8, 4), &bea_t, l4).await;
    assign(&app, &owner, l4, cy).await;
    let l5 = lead_at(&app, at(1, 9, 0), &site, "Leo Five").await;
    assign(&app, &owner, l5, cy).await;
    lead_at(&app, at(1, 9, 30), &ads, "Liv Six").await;

    // The 9th: Cy is away and the only member of the round robin, so a new
    // lead waits; Bea may hold 5 open clients.
    app.clock.set(at(2, 10, 0));
    ok(
        app.put(
            &cy_t,
            &format!("/api/v1/members/{cy}/availability"),
            json!({"away": true}),
        )
        .await,
        200,
    )
    .await;
    default_rule(
        &app,
        &owner,
        json!({"type": "round_robin", "members": [{"member_id": cy}]}),
    )
    .await;
    lead_at(&app, at(2, 10, 0), &site, "Wes Waiting").await;
    ok(
        app.patch(
            &owner.token,
            &format!("/api/v1/members/{bea}"),
            json!({"capacity": 5}),
        )
        .await,
        200,
    )
    .await;

    // The manager's home: the team now.
    sign_in(&b, "ann@example.com").await;
    b.wait_text("#team-now", "Your team now").await;
    let people = b.text("#available-now").await;
    assert!(
        people.contains("Bea Fast") && people.contains("Available"),
        "{people}"
    );
    assert!(
        people.contains("Cy Slow") && people.contains("Away"),
        "{people}"
    );
    let backlog = b.text("#backlog-now").await;
    assert!(backlog.contains("1 lead waits"), "{backlog}");
    assert!(
        b.text("#backlog-reasons").await.contains("away"),
        "{backlog}"
    );
    // Bea holds L1 and L2: 2 of 5.
    let gauge = "#capacity-now svg .row[data-label='Bea Fast']";
    assert_eq!(b.text(&format!("{gauge} text.value")).await, "2 of 5");
    assert_eq!(
        b.attr(&format!("{gauge} rect.bar"), "data-value")
            .await
            .as_deref(),
        Some("2")
    );
    // Last 7 days (3 to 9 December): 8 leads, 4 contacted after 60, 120,
    // 180 and 240 s: median 150 s, p90 222 s.
    let speed = b.text("#speed-now").await;
    assert!(speed.contains("2 min 30 s"), "{speed}");
    assert!(speed.contains("3 min 42 s"), "{speed}");
    assert!(speed.contains("4 of 8 leads contacted"), "{speed}");
    shots(&mut b, "manager-home").await;

    // The reports of 7 and 8 December.
    b.click("#team-now a[href='/reports']").await;
    b.wait_text("h1", "Reports").await;
    b.set_value("#from", "2026-12-07").await;
    b.set_value("#to", "2026-12-08").await;
    b.click(".period-form button[type=submit]").await;
    b.wait_text("#report-period", "7 Dec 2026 to 8 Dec 2026")
        .await;
    // Speed per member: Bea 60, 120, 240 s (median 120, p90 216); Cy 180 s
    // and two leads not contacted (R and L5; L4 stays Bea's first contact).
    let bea_row = "#speed-by-member .row[data-label='Bea Fast']";
    assert_eq!(
        b.attr(&format!("{bea_row} rect.bar"), "data-value")
            .await
            .as_deref(),
        Some("120")
    );
    assert_eq!(
        b.attr(&format!("{bea_row} rect.second"), "data-value")
            .await
            .as_deref(),
        Some("216")
    );
    assert_eq!(
        b.text(&format!("{bea_row} text.value")).await,
        "median 2 min"
    );
    assert_eq!(
        b.text(&format!("{bea_row} text.second")).await,
        "p90 3 min 36 s"
    );
    let table = b.text("#speed-member-table").await;
    assert!(table.contains("Bea Fast 3 3 0 2 min 3 min 36 s"), "{table}");
    assert!(table.contains("Cy Slow 3 1 2 3 min 3 min"), "{table}");
    assert!(table.contains("Unassigned 1 0 1 – –"), "{table}");
    assert!(
        table.contains("All leads 7 4 3 2 min 30 s 3 min 42 s"),
        "{table}"
    );
    let by_source = b.text("#speed-source-table").await;
    assert!(
        by_source.contains("Ads 3 2 1 3 min 30 s 3 min 54 s"),
        "{by_source}"
    );
    assert!(
        by_source.contains("Site 4 2 2 1 min 30 s 1 min 54 s"),
        "{by_source}"
    );
    // Leads per source per day: the 7th 3 + 1, the 8th 1 + 2.
    let col = "#leads-chart g.column[data-bucket='2026-12-07']";
    assert_eq!(b.attr(col, "data-total").await.as_deref(), Some("4"));
    assert_eq!(b.text(&format!("{col} text.total")).await, "4");
    assert_eq!(
        b.attr(&format!("{col} rect[data-series='Site']"), "data-value")
            .await
            .as_deref(),
        Some("3")
    );
    let col8 = "#leads-chart g.column[data-bucket='2026-12-08']";
    assert_eq!(b.attr(col8, "data-total").await.as_deref(), Some("3"));
    b.click("#leads-per-day details summary").await;
    let days = b.text("#leads-table").await;
    assert!(
        days.contains("Mon 7 Dec 3 1 4"),
        "Site first (4 leads): {days}"
    );
    assert!(days.contains("Tue 8 Dec 1 2 3"), "{days}");
    assert!(days.contains("All days 4 3 7"), "{days}");
    // Reclaims: one lead moved on from Bea.
    assert!(b.text("#reclaims").await.contains("1 lead was reclaimed"));
    assert_eq!(
        b.text("#reclaims-chart .row[data-label='Bea Fast'] text.value")
            .await,
        "1 lead"
    );
    assert!(b.text("#reclaims-table").await.contains("Bea Fast 1"));
    shots(&mut b, "reports").await;

    // A period that cannot be read is said next to its field.
    b.goto("/reports?from=2026-12-08&to=2026-12-01").await;
    b.wait_text("#to-error", "on or after").await;
    b.shot("reports-bad-period").await;

    // A member sees its own work, not the team's figures.
    sign_out(&b).await;
    sign_in(&b, "bea@example.com").await;
    assert!(
        b.c.find(fantoccini::Locator::Css("#team-now"))
            .await
            .is_err()
    );
    assert!(
        b.c.find(fantoccini::Locator::Css("nav a[href='/reports']"))
            .await
            .is_err()
    );
    b.goto("/reports").await;
    b.wait_text(".error-code", "Error 403").await;
    b.finish().await;
    app.stop().await;
}
