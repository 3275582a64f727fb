//! Explained decisions (A12) and teams as targets of rules and deliveries
//! (A13).

use super::intake::source;
use super::routing_time::{lead, round_robin, team_of, tuesday, verdict};
use leadteam_testkit::{TestApp, both_engines};
use serde_json::{Value, json};

both_engines!(
    r_a12_the_decision_is_explained_and_a_member_may_ask_why_not_me,
    r_a13_a_rule_may_give_leads_to_a_teams_round_robin,
);

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
