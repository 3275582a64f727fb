//! Routing that knows time and people, over HTTP on a moved clock:
//! availability (A8), fair shares when someone is passed over (A9),
//! first-contact deadlines (A10), the backlog drain (A11), explained
//! decisions (A12), teams as targets (A13), one alert per burst (A14).

use super::intake::{deliver, source};
use super::support::{at, join, last_audit};
use leadteam_testkit::{TestApp, User, both_engines};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

both_engines!(
    r_a8_hours_time_off_away_and_holidays_decide_who_gets_leads,
    r_a8_only_the_member_or_a_manager_changes_its_availability,
    r_a9_a_passed_over_members_turns_are_shared_by_weight,
    r_a10_an_uncontacted_lead_moves_on_once_per_deadline_up_to_its_moves,
    r_a10_the_deadline_counts_working_minutes_across_the_night_and_a_dst_change,
    r_a11_a14_the_backlog_drains_when_someone_frees_up_and_admins_hear_once,
    r_a12_the_decision_is_explained_and_a_member_may_ask_why_not_me,
    r_a13_a_rule_may_give_leads_to_a_teams_round_robin,
);

/// Tuesday 8 December 2026 at `hour`:00 UTC.
fn tuesday(hour: i64) -> leadteam_domain::Timestamp {
    at(2026, 12, 8, hour)
}

async fn team_of(app: &TestApp, owner: &User, names: &[&str]) -> Vec<(User, i64)> {
    let mut out = Vec::new();
    for n in names {
        let email = format!("{}@example.com", n.to_lowercase());
        out.push(join(app, owner, n, &email, "Member").await);
    }
    out
}

async fn round_robin(app: &TestApp, owner: &User, ids: &[i64], first_contact: Option<Value>) {
    let mut body = json!({"type": "round_robin", "members": ids.iter().map(|i| json!({"member_id": i})).collect::<Vec<_>>()});
    if let Some(fc) = first_contact {
        body["first_contact"] = fc;
    }
    let r = app
        .put(&owner.token, "/api/v1/assignment-rules/default", body)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

fn office_hours(zone: &str) -> Value {
    let day = json!([{"start": "09:00", "end": "17:00"}]);
    json!({"time_zone": zone, "hours": {"monday": day, "tuesday": day, "wednesday": day, "thursday": day, "friday": day}})
}

async fn lead(app: &TestApp, hook: &Value, name: &str) -> Value {
    let r = deliver(app, hook, &json!({"name": name}).to_string(), &[]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body
}

async fn assignee_of(app: &TestApp, token: &str, client: i64) -> Option<i64> {
    let r = app.get(token, &format!("/api/v1/clients/{client}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["client"]["assignee_id"].as_i64()
}

/// Waits (up to 10 s) until the client's assignee is `want`; how long it took.
async fn wait_assignee(app: &TestApp, token: &str, client: i64, want: Option<i64>) -> Duration {
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
async fn settle() {
    tokio::time::sleep(Duration::from_millis(600)).await;
}

fn verdict(routing: &Value, member: i64) -> &Value {
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

async fn r_a10_an_uncontacted_lead_moves_on_once_per_deadline_up_to_its_moves(app: &TestApp) {
    app.clock.set(tuesday(10));
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let t = team_of(app, &owner, &["Asha", "Bea", "Cy"]).await;
    let ids: Vec<i64> = t.iter().map(|m| m.1).collect();
    let r = app
        .put(&owner.token, "/api/v1/assignment-rules/default", json!({"type": "round_robin", "members": ids.iter().map(|i| json!({"member_id": i})).collect::<Vec<_>>(), "first_contact": {"minutes": 10, "max_moves": 1}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["default"]["action"]["first_contact"]["minutes"], 10,
        "{}",
        r.text
    );
    let r = app
        .put(&owner.token, "/api/v1/assignment-rules/default", json!({"type": "round_robin", "members": [{"member_id": ids[0]}], "first_contact": {"minutes": 0}}))
        .await;
    assert_eq!(
        (r.status, r.field()),
        (422, Some("action.first_contact.minutes")),
        "{}",
        r.text
    );
    let hook = source(app, &owner, "webhook", "Site").await;

    let first = lead(app, &hook, "Slow").await;
    let slow = first["client_id"].as_i64().unwrap();
    assert_eq!(first["assignee_id"], ids[0]);
    let second = lead(app, &hook, "Called").await;
    let called = second["client_id"].as_i64().unwrap();
    assert_eq!(second["assignee_id"], ids[1]);
    let r = app
        .get(&owner.token, &format!("/api/v1/clients/{slow}/routing"))
        .await;
    assert_eq!(
        r.body["first_contact_due"], "2026-12-08T10:10:00Z",
        "{}",
        r.text
    );
    // Bea calls hers: a note is contact.
    let r = app
        .post(
            &t[1].0.token,
            &format!("/api/v1/clients/{called}/notes"),
            json!({"body": "Called, interested"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    // Nine minutes: nothing moves.
    app.clock.advance_ms(9 * 60_000);
    settle().await;
    assert_eq!(assignee_of(app, &owner.token, slow).await, Some(ids[0]));
    // Eleven: Asha's lead goes by the same rule to the next available
    // member, once; Bea's contacted lead stays.
    app.clock.advance_ms(2 * 60_000);
    let to = {
        let start = Instant::now();
        loop {
            let a = assignee_of(app, &owner.token, slow).await;
            if a != Some(ids[0]) {
                break a.unwrap();
            }
            assert!(start.elapsed() < Duration::from_secs(10), "never reclaimed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    assert_ne!(to, ids[0]);
    assert_eq!(assignee_of(app, &owner.token, called).await, Some(ids[1]));
    let c = app
        .get(&owner.token, &format!("/api/v1/clients/{slow}"))
        .await;
    let reclaims: Vec<&Value> = c.body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "reclaimed")
        .collect();
    assert_eq!(reclaims.len(), 1, "{}", c.text);
    assert!(
        reclaims[0]["body"]
            .as_str()
            .unwrap()
            .starts_with("reclaimed: not contacted within 10 working minutes"),
        "{}",
        reclaims[0]
    );
    let (actor, before, after) = last_audit(app, "client.reclaimed").await;
    assert_eq!(
        (
            actor,
            before["assignee"].as_i64(),
            after["assignee"].as_i64()
        ),
        (None, Some(ids[0]), Some(to))
    );
    // The new assignee and the members who see the team are told.
    let newcomer = t.iter().find(|m| m.1 == to).unwrap();
    let n = app.get(&newcomer.0.token, "/api/v1/notifications").await;
    assert!(n.text.contains("lead_reclaimed"), "{}", n.text);
    let n = app.get(&owner.token, "/api/v1/notifications").await;
    assert!(
        n.text.contains("was moved on: not contacted in time"),
        "{}",
        n.text
    );
    let r = app
        .get(&owner.token, &format!("/api/v1/clients/{slow}/routing"))
        .await;
    assert_eq!(
        verdict(&r.body, ids[0])["reason"],
        "reclaimed",
        "{}",
        r.text
    );
    assert_eq!(
        r.body["first_contact_due"],
        Value::Null,
        "one move at most: {}",
        r.text
    );

    // The second deadline does not exist (max one move): it stays.
    app.clock.advance_ms(60 * 60_000);
    settle().await;
    assert_eq!(assignee_of(app, &owner.token, slow).await, Some(to));
    let c = app
        .get(&owner.token, &format!("/api/v1/clients/{slow}"))
        .await;
    assert_eq!(
        c.body["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "reclaimed")
            .count(),
        1
    );
}

async fn r_a10_the_deadline_counts_working_minutes_across_the_night_and_a_dst_change(
    app: &TestApp,
) {
    // Friday 27 March 2026, 16:55 in Paris (15:55 UTC, winter time); clocks
    // go forward on Sunday 29 March. Ten working minutes run out on Monday
    // at 09:05 Paris summer time, 07:05 UTC.
    app.clock.set(at(2026, 3, 27, 15).plus_minutes(55));
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let t = team_of(app, &owner, &["Asha", "Bea"]).await;
    for (u, id) in &t {
        let r = app
            .put(
                &u.token,
                &format!("/api/v1/members/{id}/schedule"),
                office_hours("Europe/Paris"),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    round_robin(
        app,
        &owner,
        &[t[0].1, t[1].1],
        Some(json!({"minutes": 10, "max_moves": 2})),
    )
    .await;
    let hook = source(app, &owner, "webhook", "Site").await;
    let l = lead(app, &hook, "Friday evening").await;
    let id = l["client_id"].as_i64().unwrap();
    assert_eq!(l["assignee_id"], t[0].1);
    let r = app
        .get(&owner.token, &format!("/api/v1/clients/{id}/routing"))
        .await;
    assert_eq!(
        r.body["first_contact_due"], "2026-03-30T07:05:00Z",
        "{}",
        r.text
    );
    // Saturday noon: nothing moves.
    app.clock.set(at(2026, 3, 28, 12));
    settle().await;
    assert_eq!(assignee_of(app, &owner.token, id).await, Some(t[0].1));
    // Monday 07:06 UTC: it moves to Bea.
    app.clock.set(at(2026, 3, 30, 7).plus_minutes(6));
    wait_assignee(app, &owner.token, id, Some(t[1].1)).await;
}

async fn r_a11_a14_the_backlog_drains_when_someone_frees_up_and_admins_hear_once(app: &TestApp) {
    app.clock.set(tuesday(10));
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let t = team_of(app, &owner, &["Asha"]).await;
    let asha = &t[0];
    let r = app
        .patch(
            &owner.token,
            &format!("/api/v1/members/{}", asha.1),
            json!({"capacity": 1}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    round_robin(app, &owner, &[asha.1], None).await;
    let hook = source(app, &owner, "webhook", "Site").await;
    let held = lead(app, &hook, "Held").await["client_id"]
        .as_i64()
        .unwrap();
    let unread_before = app.get(&owner.token, "/api/v1/notifications").await.body["unread"]
        .as_i64()
        .unwrap();
    let mut waiting = Vec::new();
    for i in 0..3 {
        let l = lead(app, &hook, &format!("Waiting {i}")).await;
        assert_eq!(l["assignee_id"], Value::Null, "{l}");
        assert!(l["reason"].as_str().unwrap().contains("at capacity"), "{l}");
        waiting.push(l["client_id"].as_i64().unwrap());
    }
    // A14: the routing admins hear of the burst once, with the reason.
    let n = app.get(&owner.token, "/api/v1/notifications").await;
    let backlog_alerts: Vec<&Value> = n.body["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["kind"] == "backlog")
        .collect();
    assert_eq!(backlog_alerts.len(), 1, "{}", n.text);
    assert!(
        backlog_alerts[0]["body"]
            .as_str()
            .unwrap()
            .contains("at capacity"),
        "{}",
        n.text
    );
    assert!(n.body["unread"].as_i64().unwrap() > unread_before);
    // The backlog, oldest first, with the reason; only for who may see it.
    let b = app.get(&owner.token, "/api/v1/routing/backlog").await;
    assert_eq!(b.status, 200, "{}", b.text);
    assert_eq!(b.body["total"], 3);
    let listed: Vec<i64> = b.body["leads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["client_id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, waiting);
    assert!(
        b.body["leads"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("at capacity"),
        "{}",
        b.text
    );
    let page = app
        .get(&owner.token, "/api/v1/routing/backlog?limit=2")
        .await;
    assert_eq!(page.body["next_after"], waiting[1], "{}", page.text);
    let bad = app
        .get(&owner.token, "/api/v1/routing/backlog?limit=0")
        .await;
    assert_eq!((bad.status, bad.field()), (422, Some("limit")));

    // Asha closes her lead: the oldest waiting lead is hers within seconds.
    let r = app
        .patch(
            &asha.0.token,
            &format!("/api/v1/clients/{held}"),
            json!({"status": "won"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let took = wait_assignee(app, &owner.token, waiting[0], Some(asha.1)).await;
    eprintln!(
        "A11 drain delay after a client closed ({:?}): {took:?}",
        app.engine
    );
    let c = app
        .get(&owner.token, &format!("/api/v1/clients/{}", waiting[0]))
        .await;
    assert!(c.text.contains("assigned from the backlog"), "{}", c.text);
    settle().await;
    assert_eq!(assignee_of(app, &owner.token, waiting[1]).await, None);
    // A capacity raised takes the rest, oldest first.
    let r = app
        .patch(
            &owner.token,
            &format!("/api/v1/members/{}", asha.1),
            json!({"capacity": 3}),
        )
        .await;
    assert_eq!(r.status, 200);
    wait_assignee(app, &owner.token, waiting[1], Some(asha.1)).await;
    wait_assignee(app, &owner.token, waiting[2], Some(asha.1)).await;
    assert_eq!(
        app.get(&owner.token, "/api/v1/routing/backlog").await.body["total"],
        0
    );

    // A lead a rule leaves unassigned on purpose does not wait.
    let r = app
        .put(
            &owner.token,
            "/api/v1/assignment-rules/default",
            json!({"type": "unassigned"}),
        )
        .await;
    assert_eq!(r.status, 200);
    let l = lead(app, &hook, "For claiming").await;
    assert_eq!(
        app.get(&owner.token, "/api/v1/routing/backlog").await.body["total"],
        0,
        "{l}"
    );
}

async fn r_a12_the_decision_is_explained_and_a_member_may_ask_why_not_me(app: &TestApp) {
    app.clock.set(tuesday(10));
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let t = team_of(app, &owner, &["Asha", "Bea", "Cy"]).await;
    let ids: Vec<i64> = t.iter().map(|m| m.1).collect();
    let r = app
        .patch(
            &owner.token,
            &format!("/api/v1/members/{}", ids[2]),
            json!({"capacity": 0}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    round_robin(app, &owner, &ids, None).await;
    let hook = source(app, &owner, "webhook", "Site").await;
    let l = lead(app, &hook, "Explained").await;
    let id = l["client_id"].as_i64().unwrap();
    assert_eq!(l["assignee_id"], ids[0]);
    let r = app
        .get(&owner.token, &format!("/api/v1/clients/{id}/routing"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["decided"], true);
    assert_eq!(r.body["rule"]["kind"], "default");
    assert_eq!(r.body["outcome"], "assigned");
    assert_eq!(r.body["assignee"]["name"], "Asha");
    assert_eq!(r.body["position"], 0);
    assert_eq!(verdict(&r.body, ids[1])["verdict"], "not_its_turn");
    assert_eq!(verdict(&r.body, ids[2])["detail"], "at capacity 0/0");
    // Bea sees the client (it is Asha's; a Member sees only its own and
    // unassigned ones): 404 for her, as for any client she may not see.
    let r = app
        .get(
            &t[1].0.token,
            &format!("/api/v1/clients/{id}/routing?member={}", ids[1]),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    // The owner asks why not Cy; Asha asks about herself.
    let r = app
        .get(
            &owner.token,
            &format!("/api/v1/clients/{id}/routing?member={}", ids[2]),
        )
        .await;
    assert_eq!(
        r.body["why_not"]["answer"], "passed over: at capacity 0/0",
        "{}",
        r.text
    );
    assert_eq!(r.body["why_not"]["member"]["name"], "Cy");
    let r = app
        .get(
            &t[0].0.token,
            &format!("/api/v1/clients/{id}/routing?member={}", ids[0]),
        )
        .await;
    assert_eq!(
        r.body["why_not"]["answer"], "this member has the client",
        "{}",
        r.text
    );
    let r = app
        .get(
            &owner.token,
            &format!("/api/v1/clients/{id}/routing?member=999999"),
        )
        .await;
    assert_eq!((r.status, r.field()), (422, Some("member")), "{}", r.text);
    // A client added by hand has no automatic decision.
    let r = app
        .post(&owner.token, "/api/v1/clients", json!({"name": "By hand"}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .get(
            &owner.token,
            &format!("/api/v1/clients/{}/routing", r.body["id"]),
        )
        .await;
    assert_eq!(
        (r.status, r.body["decided"].as_bool()),
        (200, Some(false)),
        "{}",
        r.text
    );
    // Another account's client is not found.
    let other = app.signup("Other", "Olga", "olga@example.com").await;
    let r = app
        .get(&other.token, &format!("/api/v1/clients/{id}/routing"))
        .await;
    assert_eq!(r.status, 404);
}

async fn r_a13_a_rule_may_give_leads_to_a_teams_round_robin(app: &TestApp) {
    app.clock.set(tuesday(10));
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let t = team_of(app, &owner, &["Asha", "Bea", "Cy"]).await;
    let ids: Vec<i64> = t.iter().map(|m| m.1).collect();
    let team = app
        .post(
            &owner.token,
            "/api/v1/teams",
            json!({"name": "Closers", "member_ids": [ids[0], ids[1]]}),
        )
        .await;
    assert_eq!(team.status, 201, "{}", team.text);
    let team_id = team.body["id"].as_i64().unwrap();
    let hook = source(app, &owner, "webhook", "Site").await;
    let r = app
        .post(&owner.token, "/api/v1/assignment-rules", json!({"name": "Site to closers", "criteria": [{"type": "source", "source_id": hook["id"]}], "action": {"type": "team", "team_id": team_id}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let bad = app
        .post(&owner.token, "/api/v1/assignment-rules", json!({"name": "Nowhere", "criteria": [{"type": "source", "source_id": hook["id"]}], "action": {"type": "team", "team_id": 999999}}))
        .await;
    assert_eq!(
        (bad.status, bad.field()),
        (422, Some("action.team_id")),
        "{}",
        bad.text
    );
    let mut got = Vec::new();
    for i in 0..4 {
        got.push(
            lead(app, &hook, &format!("T{i}")).await["assignee_id"]
                .as_i64()
                .unwrap(),
        );
    }
    assert_eq!(got, vec![ids[0], ids[1], ids[0], ids[1]]);
    // Resolved when the lead arrives: Cy joins the team and gets its share.
    let r = app
        .put(
            &owner.token,
            &format!("/api/v1/teams/{team_id}/members"),
            json!({"member_ids": ids}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut got = Vec::new();
    for i in 0..3 {
        got.push(
            lead(app, &hook, &format!("U{i}")).await["assignee_id"]
                .as_i64()
                .unwrap(),
        );
    }
    got.sort_unstable();
    assert_eq!(got, ids);

    // A delivery to the team goes to its next available member (C9, A13),
    // by the team's own round robin, with the decision stored.
    let r = app
        .put(
            &owner.token,
            &format!("/api/v1/teams/{team_id}/members"),
            json!({"member_ids": [ids[0], ids[1]]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut handed = Vec::new();
    for i in 0..2 {
        let c = app
            .post(
                &owner.token,
                "/api/v1/clients",
                json!({"name": format!("Handed {i}")}),
            )
            .await;
        assert_eq!(c.status, 201, "{}", c.text);
        let id = c.body["id"].as_i64().unwrap();
        let r = app
            .post(
                &owner.token,
                &format!("/api/v1/clients/{id}/deliver"),
                json!({"to_team": team_id, "outcome": "qualified"}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        handed.push(r.body["assignee_id"].as_i64().unwrap());
        let why = app
            .get(&owner.token, &format!("/api/v1/clients/{id}/routing"))
            .await;
        assert_eq!(
            (
                why.body["rule"]["kind"].as_str(),
                why.body["rule"]["id"].as_i64()
            ),
            (Some("team"), Some(team_id)),
            "{}",
            why.text
        );
    }
    handed.sort_unstable();
    assert_eq!(handed, vec![ids[0], ids[1]]);
    // Nobody in the team available: refused naming the field, nothing moves.
    for id in [ids[0], ids[1]] {
        app.put(
            &owner.token,
            &format!("/api/v1/members/{id}/availability"),
            json!({"away": true}),
        )
        .await;
    }
    let c = app
        .post(&owner.token, "/api/v1/clients", json!({"name": "Kept"}))
        .await;
    let id = c.body["id"].as_i64().unwrap();
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/clients/{id}/deliver"),
            json!({"to_team": team_id, "outcome": "qualified"}),
        )
        .await;
    assert_eq!((r.status, r.field()), (409, Some("to_team")), "{}", r.text);
    assert!(r.text.contains("away"), "{}", r.text);
    let after = app
        .get(&owner.token, &format!("/api/v1/clients/{id}"))
        .await;
    assert_eq!(after.body["client"]["assignee_id"], c.body["assignee_id"]);
    assert_eq!(
        after.body["client"]["outcome"],
        Value::Null,
        "{}",
        after.text
    );
}

/// A lead sent through `node` (the source's URL on that node).
async fn lead_via(node: &TestApp, first: &TestApp, hook: &Value, name: &str) -> Value {
    let mut on_node = hook.clone();
    on_node["webhook_url"] = json!(
        hook["webhook_url"]
            .as_str()
            .unwrap()
            .replace(&first.base, &node.base)
    );
    lead(node, &on_node, name).await
}

async fn count_events(app: &TestApp, kind: &str) -> Vec<(i64, i64)> {
    let mut c = app.db.conn().await.unwrap();
    sqlx::query_as("SELECT client_id, COUNT(*) FROM client_events WHERE kind = $1 GROUP BY client_id ORDER BY client_id")
        .bind(kind)
        .fetch_all(&mut *c)
        .await
        .unwrap()
}

/// A7 with A10 and A11 on two nodes sharing one PostgreSQL: both run the
/// routing worker; each deadline fires once and each waiting lead is
/// assigned once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_a7_a10_a11_two_nodes_fire_each_deadline_once_and_drain_each_lead_once() {
    let Some(app) = leadteam_testkit::spawn_app(leadteam_testkit::Engine::Postgres).await else {
        return;
    };
    let other = app.another_node().await;
    app.clock.set(tuesday(10));
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let t = team_of(&app, &owner, &["Asha", "Bea", "Cy"]).await;
    let ids: Vec<i64> = t.iter().map(|m| m.1).collect();
    round_robin(
        &app,
        &owner,
        &ids,
        Some(json!({"minutes": 10, "max_moves": 1})),
    )
    .await;
    let hook = source(&app, &owner, "webhook", "Site").await;
    let mut first = Vec::new();
    for i in 0..30 {
        let node = if i % 2 == 0 { &app } else { &other };
        let l = lead_via(node, &app, &hook, &format!("Lead {i}")).await;
        first.push((
            l["client_id"].as_i64().unwrap(),
            l["assignee_id"].as_i64().unwrap(),
        ));
    }
    // Both nodes' workers see the deadlines pass at once.
    app.clock.advance_ms(11 * 60_000);
    for (client, was) in &first {
        let start = Instant::now();
        while assignee_of(&app, &owner.token, *client).await == Some(*was) {
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "lead {client} never reclaimed"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    settle().await;
    let reclaimed = count_events(&app, "reclaimed").await;
    assert_eq!(reclaimed.len(), 30);
    assert!(
        reclaimed.iter().all(|(_, n)| *n == 1),
        "a deadline fired twice: {reclaimed:?}"
    );
    let mut c = app.db.conn().await.unwrap();
    let audits: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'client.reclaimed'")
            .fetch_one(&mut *c)
            .await
            .unwrap();
    assert_eq!(audits, 30);
    drop(c);

    // A backlog drained by both nodes at once: every lead once.
    for (_, id) in &t {
        let r = app
            .patch(
                &owner.token,
                &format!("/api/v1/members/{id}"),
                json!({"capacity": 0}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let mut waiting = Vec::new();
    for i in 0..40 {
        let node = if i % 2 == 0 { &app } else { &other };
        let l = lead_via(node, &app, &hook, &format!("Later {i}")).await;
        if l["assignee_id"].is_null() {
            waiting.push(l["client_id"].as_i64().unwrap());
        }
    }
    assert_eq!(waiting.len(), 40, "nobody has room");
    // Capacity raised through both nodes: both workers drain.
    let (p0, p1) = (
        format!("/api/v1/members/{}", ids[0]),
        format!("/api/v1/members/{}", ids[1]),
    );
    let (r1, r2) = tokio::join!(
        app.patch(&owner.token, &p0, json!({"capacity": 100})),
        other.patch(&owner.token, &p1, json!({"capacity": 100})),
    );
    assert_eq!((r1.status, r2.status), (200, 200));
    for client in &waiting {
        let start = Instant::now();
        while assignee_of(&app, &owner.token, *client).await.is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "lead {client} never drained"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    settle().await;
    let drained = count_events(&app, "drained").await;
    assert_eq!(drained.len(), 40);
    assert!(
        drained.iter().all(|(_, n)| *n == 1),
        "a lead was drained twice: {drained:?}"
    );
    other.stop().await;
    app.stop().await;
}
