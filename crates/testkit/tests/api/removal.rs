//! Removing a member (M7) keeps history true (X4: its id is never given
//! again, its name stays in the timeline and on invoices, marked removed)
//! and updates what points at it (X5: rules, round robins, teams), with a
//! dry run that says what will change and changes nothing.

use super::intake::{deliver, source};
use super::support::{billing, join};
use leadteam_testkit::{TestApp, both_engines};
use serde_json::{Value, json};

both_engines!(r_x4_x5_a_removed_member_leaves_rules_and_teams_and_stays_in_history,);

fn rr_members(action: &Value) -> Vec<i64> {
    action["members"]
        .as_array()
        .map(|m| m.iter().map(|e| e["member_id"].as_i64().unwrap()).collect())
        .unwrap_or_default()
}

async fn r_x4_x5_a_removed_member_leaves_rules_and_teams_and_stays_in_history(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (_bea, bea_id) = join(app, &owner, "Bea", "bea@example.com", "Member").await;
    let (carl, carl_id) = join(app, &owner, "Carl", "carl@example.com", "Member").await;
    let owner_id = super::support::member_id(app, &owner).await;

    // Carl's client and note; a team; the default round robin and two rules.
    let client = app
        .post(
            &carl.token,
            "/api/v1/clients",
            json!({"name": "Carl's lead"}),
        )
        .await;
    let client_id = client.body["id"].as_i64().unwrap();
    let r = app
        .post(
            &carl.token,
            &format!("/api/v1/clients/{client_id}/notes"),
            json!({"body": "called, call back Monday"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let team = app
        .post(&owner.token, "/api/v1/teams", json!({"name": "North"}))
        .await;
    let team_id = team.body["id"].as_i64().unwrap();
    let r = app
        .put(
            &owner.token,
            &format!("/api/v1/teams/{team_id}/members"),
            json!({"member_ids": [bea_id, carl_id]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rr = json!({"type": "round_robin", "members": [
        {"member_id": bea_id, "leads_per_round": 1},
        {"member_id": carl_id, "leads_per_round": 1}]});
    let r = app
        .put(&owner.token, "/api/v1/assignment-rules/default", rr.clone())
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let only_carl = app
        .post(
            &owner.token,
            "/api/v1/assignment-rules",
            json!({"name": "Pune to Carl",
            "criteria": [{"type": "field_equals", "field": "city", "value": "pune"}],
            "action": {"type": "member", "member_id": carl_id}}),
        )
        .await;
    assert_eq!(only_carl.status, 201, "{}", only_carl.text);
    let pair = app
        .post(
            &owner.token,
            "/api/v1/assignment-rules",
            json!({"name": "Lyon pair",
            "criteria": [{"type": "field_equals", "field": "city", "value": "lyon"}],
            "action": rr}),
        )
        .await;
    assert_eq!(pair.status, 201, "{}", pair.text);
    let rules_before = app.get(&owner.token, "/api/v1/assignment-rules").await.body;

    // X5: the dry run lists what will change, and changes nothing.
    let plan = app
        .delete_json(
            &owner.token,
            &format!("/api/v1/members/{carl_id}"),
            json!({"clients": "move", "move_to": owner_id, "dry_run": true}),
        )
        .await;
    assert_eq!(plan.status, 200, "{}", plan.text);
    assert_eq!(plan.body["dry_run"], true);
    assert_eq!(plan.body["clients_affected"], 1);
    assert_eq!(plan.body["rules_left"][0]["name"], "Lyon pair");
    assert_eq!(plan.body["rules_without_target"][0]["name"], "Pune to Carl");
    assert_eq!(plan.body["default_rule_left"], true);
    assert_eq!(plan.body["default_rule_without_target"], false);
    assert_eq!(plan.body["teams"][0]["name"], "North");
    assert_eq!(
        app.get(&owner.token, "/api/v1/assignment-rules").await.body,
        rules_before,
        "a dry run changes nothing"
    );
    assert_eq!(app.get(&carl.token, "/api/v1/me").await.status, 200);

    let r = app
        .delete_json(
            &owner.token,
            &format!("/api/v1/members/{carl_id}"),
            json!({"clients": "move", "move_to": owner_id}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["dry_run"], false);

    // X5: out of the round robins and the team; the rule naming Carl alone
    // leaves its leads unassigned, saying why.
    let rules = app.get(&owner.token, "/api/v1/assignment-rules").await.body;
    assert_eq!(rr_members(&rules["default"]["action"]), [bea_id]);
    let lyon = rules["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Lyon pair")
        .unwrap();
    assert_eq!(rr_members(&lyon["action"]), [bea_id]);
    let teams = app.get(&owner.token, "/api/v1/teams").await.body;
    let north = teams["teams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == team_id)
        .unwrap()
        .clone();
    assert_eq!(
        north["member_count"]
            .as_i64()
            .or(north["members"].as_array().map(|m| m.len() as i64)),
        Some(1)
    );
    let hook = source(app, &owner, "webhook", "Zapier").await;
    let r = deliver(app, &hook, r#"{"name":"P","city":"Pune"}"#, &[]).await;
    assert_eq!(r.body["assignee_id"], Value::Null, "{}", r.text);
    assert!(
        r.body["reason"].as_str().unwrap().contains("removed"),
        "{}",
        r.text
    );
    let r = deliver(app, &hook, r#"{"name":"L","city":"Lyon"}"#, &[]).await;
    assert_eq!(r.body["assignee_id"], bea_id, "{}", r.text);

    // X4: a newcomer never gets Carl's id; the note still reads as Carl's.
    let dee = app
        .post(
            &owner.token,
            "/api/v1/invitations",
            json!({"name": "Dee", "email": "dee@example.com"}),
        )
        .await;
    assert_eq!(dee.status, 201, "{}", dee.text);
    assert!(dee.body["id"].as_i64().unwrap() > carl_id);
    let c = app
        .get(&owner.token, &format!("/api/v1/clients/{client_id}"))
        .await;
    assert_eq!(c.status, 200, "{}", c.text);
    let note = c.body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "note")
        .unwrap()
        .clone();
    assert_eq!(note["actor_name"], "Carl (removed)", "{note}");
    // Carl is no member any more, but the invoice still lists him.
    assert_eq!(
        app.get(&owner.token, &format!("/api/v1/members/{carl_id}"))
            .await
            .status,
        404
    );
    let list = app.get(&owner.token, "/api/v1/members").await.body;
    assert!(!list.to_string().contains("carl@example.com"));
    let b = billing(app, &owner).await;
    assert!(b.to_string().contains("carl@example.com"), "{b}");
    // Carl's address may be invited again, as a new member with a new id.
    let again = app
        .post(
            &owner.token,
            "/api/v1/invitations",
            json!({"name": "Carl", "email": "carl@example.com"}),
        )
        .await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert!(again.body["id"].as_i64().unwrap() > carl_id);
}
