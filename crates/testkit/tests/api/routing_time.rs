//! Routing that knows time and people, over HTTP on a moved clock:
//! availability (A8) and fair shares when someone is passed over (A9); the
//! helpers the other routing-time tests share. First-contact deadlines and
//! the backlog are in `routing_deadlines`, explained decisions and teams in
//! `routing_explained`.

use super::intake::{deliver, source};
use super::support::{at, join, last_audit};
use leadteam_testkit::{TestApp, User, both_engines};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

both_engines!(
    r_a8_hours_time_off_away_and_holidays_decide_who_gets_leads,
    r_a8_only_the_member_or_a_manager_changes_its_availability,
    r_a9_a_passed_over_members_turns_are_shared_by_weight,
);

pub(super) fn tuesday(hour: i64) -> leadteam_domain::Timestamp {
    at(2026, 12, 8, hour)
}

pub(super) async fn team_of(app: &TestApp, owner: &User, names: &[&str]) -> Vec<(User, i64)> {
    let mut out = Vec::new();
    for n in names {
        let email = format!("{}@example.com", n.to_lowercase());
        out.push(join(app, owner, n, &email, "Member").await);
    }
    out
}

pub(super) async fn round_robin(
    app: &TestApp,
    owner: &User,
    ids: &[i64],
    first_contact: Option<Value>,
) {
    let mut body = json!({"type": "round_robin", "members": ids.iter().map(|i| json!({"member_id": i})).collect::<Vec<_>>()});
    if let Some(fc) = first_contact {
        body["first_contact"] = fc;
    }
    let r = app
        .put(&owner.token, "/api/v1/assignment-rules/default", body)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

pub(super) fn office_hours(zone: &str) -> Value {
    let day = json!([{"start": "09:00", "end": "17:00"}]);
    json!({"time_zone": zone, "hours": {"monday": day, "tuesday": day, "wednesday": day, "thursday": day, "friday": day}})
}

pub(super) async fn lead(app: &TestApp, hook: &Value, name: &str) -> Value {
    let r = deliver(app, hook, &json!({"name": name}).to_string(), &[]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

pub(super) async fn assignee_of(app: &TestApp, token: &str, client: i64) -> Option<i64> {
    let r = app.get(token, &format!("/api/v1/clients/{client}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["client"]["assignee_id"].as_i64()
}

/// Waits (up to 10 s) until the client's assignee is `want`; how long it took.
pub(super) async fn wait_assignee(
    app: &TestApp,
    token: &str,
    client: i64,
    want: Option<i64>,
) -> Duration {
    let start = Instant::now();
    loop {
        if assignee_of(app, token, client).await == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "client {client} never went to {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Gives the routing worker time to act on what it was told (several polls).
pub(super) async fn settle() {
    tokio::time::sleep(Duration::from_millis(600)).await;
}

pub(super) fn verdict(routing: &Value, member: i64) -> &Value {
    routing["considered"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["member"]["id"] == member)
        .unwrap_or_else(|| panic!("member {member} not considered: {routing}"))
}

async fn r_a8_hours_time_off_away_and_holidays_decide_who_gets_leads(app: &TestApp) {
    app.clock.set(tuesday(10));
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let t = team_of(app, &owner, &["Asha", "Bea", "Cy"]).await;
    let (asha, bea, cy) = (&t[0], &t[1], &t[2]);
    round_robin(app, &owner, &[asha.1, bea.1, cy.1], None).await;
    let hook = source(app, &owner, "webhook", "Site").await;

    // Asha works 9-17 in Kolkata (10:00 UTC is 15:30 there), Bea is away,
    // Cy is off today.
    let r = app
        .put(
            &asha.0.token,
            &format!("/api/v1/members/{}/schedule", asha.1),
            office_hours("Asia/Kolkata"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["time_zone"], "Asia/Kolkata");
    assert_eq!(r.body["hours"]["monday"][0]["start"], "09:00");
    let r = app
        .put(
            &bea.0.token,
            &format!("/api/v1/members/{}/availability", bea.1),
            json!({"away": true}),
        )
        .await;
    assert_eq!(
        (
            r.status,
            r.body["available"].as_bool(),
            r.body["unavailable"].as_str()
        ),
        (200, Some(false), Some("away")),
        "{}",
        r.text
    );
    let r = app
        .post(
            &cy.0.token,
            &format!("/api/v1/members/{}/time-off", cy.1),
            json!({"from": "2026-12-07", "to": "2026-12-09", "note": "Ski"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .get(
            &cy.0.token,
            &format!("/api/v1/members/{}/availability", cy.1),
        )
        .await;
    assert_eq!(
        r.body["reason"], "on time off until 2026-12-09",
        "{}",
        r.text
    );

    for i in 0..3 {
        let l = lead(app, &hook, &format!("Lead {i}")).await;
        assert_eq!(l["assignee_id"], asha.1, "{l}");
    }
    let l = lead(app, &hook, "Explained").await;
    let why = app
        .get(
            &owner.token,
            &format!("/api/v1/clients/{}/routing", l["client_id"]),
        )
        .await;
    assert_eq!(why.status, 200, "{}", why.text);
    assert_eq!(verdict(&why.body, asha.1)["verdict"], "chosen");
    assert_eq!(verdict(&why.body, bea.1)["reason"], "away");
    assert_eq!(verdict(&why.body, cy.1)["reason"], "time_off");
    assert_eq!(
        verdict(&why.body, cy.1)["detail"],
        "on time off until 2026-12-09"
    );

    // 13:00 UTC is 18:30 in Kolkata: nobody can take the lead. It waits.
    app.clock.set(tuesday(13));
    let r = app
        .get(
            &owner.token,
            &format!("/api/v1/members/{}/availability", asha.1),
        )
        .await;
    assert_eq!(r.body["unavailable"], "outside_hours", "{}", r.text);
    assert_eq!(r.body["reason"], "outside working hours (Asia/Kolkata)");
    assert_eq!(r.body["back_at"], "2026-12-09T03:30:00Z");
    let l = lead(app, &hook, "Late").await;
    assert_eq!(l["assignee_id"], Value::Null, "{l}");
    let why = app
        .get(
            &owner.token,
            &format!("/api/v1/clients/{}/routing", l["client_id"]),
        )
        .await;
    assert_eq!(
        (
            why.body["nobody_could"].as_bool(),
            why.body["waiting"].as_bool()
        ),
        (Some(true), Some(true)),
        "{}",
        why.text
    );
    assert_eq!(
        verdict(&why.body, asha.1)["detail"],
        "outside working hours (Asia/Kolkata)"
    );

    // Back in the morning in Kolkata: the waiting lead goes to Asha (A11,
    // working hours starting), without anyone doing anything.
    app.clock.set(at(2026, 12, 9, 4));
    wait_assignee(
        app,
        &owner.token,
        l["client_id"].as_i64().unwrap(),
        Some(asha.1),
    )
    .await;

    // A holiday of the account: nobody works that day.
    let r = app
        .post(
            &owner.token,
            "/api/v1/holidays",
            json!({"day": "2026-12-09", "name": "Founders' day"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .post(
            &owner.token,
            "/api/v1/holidays",
            json!({"day": "2026-12-09", "name": "Twice"}),
        )
        .await;
    assert_eq!((r.status, r.field()), (409, Some("day")), "{}", r.text);
    let r = app
        .post(
            &owner.token,
            "/api/v1/holidays",
            json!({"day": "9/12", "name": "Bad"}),
        )
        .await;
    assert_eq!((r.status, r.field()), (422, Some("day")), "{}", r.text);
    let list = app.get(&bea.0.token, "/api/v1/holidays").await;
    assert_eq!(
        list.body["holidays"].as_array().unwrap().len(),
        1,
        "{}",
        list.text
    );
    let r = app
        .get(
            &owner.token,
            &format!("/api/v1/members/{}/availability", asha.1),
        )
        .await;
    assert_eq!(r.body["reason"], "on holiday (Founders' day)", "{}", r.text);
    let l = lead(app, &hook, "Holiday lead").await;
    assert_eq!(l["assignee_id"], Value::Null);

    // Bad schedules are refused naming the field; nothing changes.
    let bad = app
        .put(&asha.0.token, &format!("/api/v1/members/{}/schedule", asha.1), json!({"time_zone": "Mars/Olympus", "hours": {"monday": [{"start": "09:00", "end": "17:00"}]}}))
        .await;
    assert_eq!(
        (bad.status, bad.field()),
        (422, Some("time_zone")),
        "{}",
        bad.text
    );
    let bad = app
        .put(
            &asha.0.token,
            &format!("/api/v1/members/{}/schedule", asha.1),
            json!({"time_zone": "UTC", "hours": {"monday": [{"start": "17:00", "end": "09:00"}]}}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.field()),
        (422, Some("hours.monday")),
        "{}",
        bad.text
    );
    let r = app
        .get(
            &asha.0.token,
            &format!("/api/v1/members/{}/schedule", asha.1),
        )
        .await;
    assert_eq!(r.body["time_zone"], "Asia/Kolkata");
    // Clearing it: at any hour again.
    let r = app
        .put(
            &asha.0.token,
            &format!("/api/v1/members/{}/schedule", asha.1),
            json!({"hours": null}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["hours"].clone()),
        (200, Value::Null),
        "{}",
        r.text
    );
}

async fn r_a8_only_the_member_or_a_manager_changes_its_availability(app: &TestApp) {
    app.clock.set(tuesday(10));
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let t = team_of(app, &owner, &["Asha", "Bea"]).await;
    let (asha, bea) = (&t[0], &t[1]);
    // Bea may see Asha's availability (team.view) but not change it.
    let r = app
        .get(
            &bea.0.token,
            &format!("/api/v1/members/{}/availability", asha.1),
        )
        .await;
    assert_eq!(
        (r.status, r.body["available"].as_bool()),
        (200, Some(true)),
        "{}",
        r.text
    );
    let refused = [
        app.put(
            &bea.0.token,
            &format!("/api/v1/members/{}/availability", asha.1),
            json!({"away": true}),
        )
        .await,
        app.put(
            &bea.0.token,
            &format!("/api/v1/members/{}/schedule", asha.1),
            office_hours("UTC"),
        )
        .await,
        app.post(
            &bea.0.token,
            &format!("/api/v1/members/{}/time-off", asha.1),
            json!({"from": "2026-12-10", "to": "2026-12-11"}),
        )
        .await,
        app.post(
            &bea.0.token,
            "/api/v1/holidays",
            json!({"day": "2026-12-25", "name": "Christmas"}),
        )
        .await,
    ];
    for r in &refused {
        assert_eq!(r.status, 403, "{}", r.text);
    }
    let r = app
        .get(
            &owner.token,
            &format!("/api/v1/members/{}/availability", asha.1),
        )
        .await;
    assert_eq!(r.body["away"], false);
    let r = app
        .get(
            &owner.token,
            &format!("/api/v1/members/{}/schedule", asha.1),
        )
        .await;
    assert_eq!(r.body["hours"], Value::Null);
    let r = app
        .get(
            &owner.token,
            &format!("/api/v1/members/{}/time-off", asha.1),
        )
        .await;
    assert_eq!(r.body["time_off"].as_array().unwrap().len(), 0);
    assert_eq!(
        app.get(&owner.token, "/api/v1/holidays").await.body["holidays"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // The owner (members.manage) overrides Asha's switch; it says who did.
    let r = app
        .put(
            &owner.token,
            &format!("/api/v1/members/{}/availability", asha.1),
            json!({"away": true}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["away"].as_bool()),
        (200, Some(true)),
        "{}",
        r.text
    );
    let owner_id = super::support::member_id(app, &owner).await;
    assert_eq!(r.body["away_set_by"], owner_id);
    let (actor, before, after) = last_audit(app, "member.away_set").await;
    assert_eq!(
        (actor, before["away"].clone(), after["away"].clone()),
        (Some(owner_id), json!(false), json!(true))
    );
    // A manager enters time off for Asha; Asha removes it herself.
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/members/{}/time-off", asha.1),
            json!({"from": "2026-12-20", "to": "2026-12-19"}),
        )
        .await;
    assert_eq!((r.status, r.field()), (422, Some("to")), "{}", r.text);
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/members/{}/time-off", asha.1),
            json!({"from": "2026-12-20", "to": "2026-12-31", "note": "Holidays"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["created_by"].as_i64()),
        (201, Some(owner_id)),
        "{}",
        r.text
    );
    let entry = r.body["id"].as_i64().unwrap();
    // Bea cannot remove it, and a foreign entry id is 404.
    let r = app
        .delete(
            &bea.0.token,
            &format!("/api/v1/members/{}/time-off/{entry}", asha.1),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    let r = app
        .delete(
            &bea.0.token,
            &format!("/api/v1/members/{}/time-off/{entry}", bea.1),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    let r = app
        .delete(
            &asha.0.token,
            &format!("/api/v1/members/{}/time-off/{entry}", asha.1),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    // The owner's availability is the owner's own.
    let r = app
        .put(
            &asha.0.token,
            &format!("/api/v1/members/{owner_id}/availability"),
            json!({"away": true}),
        )
        .await;
    assert_eq!(r.status, 403);
    // Another account's member is not found.
    let other = app.signup("Other", "Olga", "olga@example.com").await;
    let r = app
        .get(
            &other.token,
            &format!("/api/v1/members/{}/availability", asha.1),
        )
        .await;
    assert_eq!(r.status, 404);
}

async fn r_a9_a_passed_over_members_turns_are_shared_by_weight(app: &TestApp) {
    app.clock.set(tuesday(10));
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let t = team_of(app, &owner, &["A", "B", "E"]).await;
    round_robin(app, &owner, &[t[0].1, t[1].1, t[2].1], None).await;
    let hook = source(app, &owner, "webhook", "Site").await;
    let r = app
        .put(
            &t[2].0.token,
            &format!("/api/v1/members/{}/availability", t[2].1),
            json!({"away": true}),
        )
        .await;
    assert_eq!(r.status, 200);
    let mut got = Vec::new();
    for i in 0..6 {
        got.push(
            lead(app, &hook, &format!("L{i}")).await["assignee_id"]
                .as_i64()
                .unwrap(),
        );
    }
    let a = got.iter().filter(|m| **m == t[0].1).count();
    let b = got.iter().filter(|m| **m == t[1].1).count();
    assert_eq!((a, b), (3, 3), "E's turns went to one member: {got:?}");
    // E comes back: it is not owed a catch-up.
    app.put(
        &t[2].0.token,
        &format!("/api/v1/members/{}/availability", t[2].1),
        json!({"away": false}),
    )
    .await;
    let mut got = Vec::new();
    for i in 0..6 {
        got.push(
            lead(app, &hook, &format!("M{i}")).await["assignee_id"]
                .as_i64()
                .unwrap(),
        );
    }
    for (_, id) in &t {
        assert_eq!(got.iter().filter(|m| *m == id).count(), 2, "{got:?}");
    }
}
