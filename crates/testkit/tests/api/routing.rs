//! Automatic assignment of new leads: round robin, rules, capacity, alerts, concurrency (A1-A7).

use super::intake::{counts, deliver, source};
use super::support::join;
use leadteam_testkit::{TestApp, User, both_engines};
use serde_json::{Value, json};

both_engines!(
    r_a1_a2_default_round_robin_gives_each_member_its_weight_per_round,
    r_a3_the_first_matching_rule_decides_and_rules_move,
    r_a4_a5_capacity_deactivation_and_agent_flag_are_skipped,
    r_a6_alerts_go_to_the_assignee_or_to_everyone_who_may_claim,
    r_a7_concurrent_senders_lose_nothing_and_counts_are_exact,
    r_a3_a8_x5_every_change_to_the_routing_settings_decides_the_very_next_lead,
);

async fn members_for_rr(app: &TestApp, owner: &User, n: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..n {
        let (_, id) = join(
            app,
            owner,
            &format!("Agent {i}"),
            &format!("agent{i}@example.com"),
            "Member",
        )
        .await;
        ids.push(id);
    }
    ids
}

async fn r_a1_a2_default_round_robin_gives_each_member_its_weight_per_round(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let ids = members_for_rr(app, &owner, 4).await;
    let r = app
        .put(
            &owner.token,
            "/api/v1/assignment-rules/default",
            json!({"type": "round_robin", "members": [
                {"member_id": ids[0], "leads_per_round": 1},
                {"member_id": ids[1], "leads_per_round": 2},
                {"member_id": ids[2], "leads_per_round": 1},
                {"member_id": ids[3], "leads_per_round": 3, "enabled": false}
            ]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["default"]["description"],
        "every other lead: round robin among 3 member(s)"
    );
    let hook = source(app, &owner, "webhook", "Zapier").await;
    let mut order = Vec::new();
    for i in 0..12 {
        let r = deliver(app, &hook, &format!(r#"{{"name":"Lead {i}"}}"#), &[]).await;
        assert_eq!(r.status, 201, "{}", r.text);
        order.push(r.body["assignee_id"].as_i64().unwrap());
        if i == 2 {
            assert_eq!(
                r.body["reason"],
                "round robin: member 2 of 3 (weight 2), lead 3 of the rule"
            );
        }
    }
    // Three full rounds of 4 slots: weights 1, 2, 1; the disabled member gets none.
    let one_round = [ids[1], ids[0], ids[1], ids[2]];
    assert_eq!(order, one_round.repeat(3));
    let r = app.put(&owner.token, "/api/v1/assignment-rules/default", json!({"type": "round_robin", "members": [{"member_id": ids[0], "leads_per_round": 6}]})).await;
    assert_eq!(
        (r.status, r.field()),
        (422, Some("action.members[0].leads_per_round"))
    );
    let r = app
        .put(
            &owner.token,
            "/api/v1/assignment-rules/default",
            json!({"type": "unassigned"}),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = deliver(app, &hook, r#"{"name":"Free"}"#, &[]).await;
    assert_eq!(r.body["assignee_id"], Value::Null);
}

async fn r_a3_the_first_matching_rule_decides_and_rules_move(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let ids = members_for_rr(app, &owner, 2).await;
    let hook = source(app, &owner, "webhook", "Zapier").await;
    let lyon = app
        .post(&owner.token, "/api/v1/assignment-rules", json!({"name": "Lyon", "criteria": [{"type": "field_equals", "field": "city", "value": "lyon"}], "action": {"type": "member", "member_id": ids[0]}}))
        .await;
    assert_eq!(lyon.status, 201, "{}", lyon.text);
    let zap = app
        .post(&owner.token, "/api/v1/assignment-rules", json!({"name": "Zapier leads", "criteria": [{"type": "source", "source_id": hook["id"]}], "action": {"type": "member", "member_id": ids[1]}}))
        .await;
    assert_eq!(zap.status, 201, "{}", zap.text);
    let r = deliver(app, &hook, r#"{"name":"A","city":"Lyon"}"#, &[]).await;
    assert_eq!(
        r.body["assignee_id"], ids[0],
        "the first matching rule decides"
    );
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/assignment-rules/{}/move", zap.body["id"]),
            json!({"direction": "up"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["rules"][0]["name"], "Zapier leads");
    let r = deliver(app, &hook, r#"{"name":"B","city":"Lyon"}"#, &[]).await;
    assert_eq!(r.body["assignee_id"], ids[1]);
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/assignment-rules/{}/move", zap.body["id"]),
            json!({"direction": "up"}),
        )
        .await;
    assert_eq!(r.status, 409, "already first");
    let r = app.post(&owner.token, "/api/v1/assignment-rules", json!({"name": "Bad", "criteria": [], "action": {"type": "member", "member_id": 999999}})).await;
    assert_eq!(r.status, 422, "{}", r.text);
    let r = app.post(&owner.token, "/api/v1/assignment-rules", json!({"name": "Bad", "criteria": [{"type": "any_facebook"}], "action": {"type": "member", "member_id": 999999}})).await;
    assert_eq!((r.status, r.field()), (422, Some("action.member_id")));
    let rules = app.get(&owner.token, "/api/v1/assignment-rules").await;
    assert_eq!(rules.body["rules"].as_array().unwrap().len(), 2);
    let r = app
        .delete(
            &owner.token,
            &format!("/api/v1/assignment-rules/{}", zap.body["id"]),
        )
        .await;
    assert_eq!(r.status, 204);
    let r = deliver(app, &hook, r#"{"name":"C","city":"Paris"}"#, &[]).await;
    assert_eq!(
        r.body["assignee_id"],
        Value::Null,
        "the default rule is last"
    );
}

async fn r_a4_a5_capacity_deactivation_and_agent_flag_are_skipped(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let ids = members_for_rr(app, &owner, 3).await;
    app.put(&owner.token, "/api/v1/assignment-rules/default", json!({"type": "round_robin", "members": ids.iter().map(|i| json!({"member_id": i})).collect::<Vec<_>>()})).await;
    app.patch(
        &owner.token,
        &format!("/api/v1/members/{}", ids[0]),
        json!({"capacity": 1}),
    )
    .await;
    app.patch(
        &owner.token,
        &format!("/api/v1/members/{}", ids[1]),
        json!({"agent": false}),
    )
    .await;
    app.post(
        &owner.token,
        &format!("/api/v1/members/{}/deactivate", ids[2]),
        json!({}),
    )
    .await;
    let hook = source(app, &owner, "webhook", "Zapier").await;
    let r = deliver(app, &hook, r#"{"name":"One"}"#, &[]).await;
    assert_eq!(r.body["assignee_id"], ids[0]);
    let r = deliver(app, &hook, r#"{"name":"Two"}"#, &[]).await;
    assert_eq!(r.body["assignee_id"], Value::Null, "{}", r.text);
    let reason = r.body["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("unassigned: no eligible candidate"),
        "{reason}"
    );
    assert!(
        reason.contains("at capacity")
            && reason.contains("deactivated")
            && reason.contains("not an agent"),
        "{reason}"
    );
    // The decision is stored on the client.
    let c = app
        .get(
            &owner.token,
            &format!("/api/v1/clients/{}", r.body["client_id"]),
        )
        .await;
    assert_eq!(c.body["client"]["routing_reason"], reason);
}

async fn r_a6_alerts_go_to_the_assignee_or_to_everyone_who_may_claim(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let (bob, bob_id) = join(app, &owner, "Bob", "bob@example.com", "Member").await;
    let (carol, _) = join(app, &owner, "Carol", "carol@example.com", "Member").await;
    let (rita, _) = join(app, &owner, "Rita", "rita@example.com", "Restricted").await;
    let hook = source(app, &owner, "webhook", "Zapier").await;
    deliver(app, &hook, r#"{"name":"Open lead"}"#, &[]).await;
    for (u, n) in [(&owner, 1), (&bob, 1), (&carol, 1), (&rita, 0)] {
        assert_eq!(
            app.get(&u.token, "/api/v1/notifications").await.body["unread"],
            n,
            "{}",
            u.email
        );
    }
    app.put(
        &owner.token,
        "/api/v1/assignment-rules/default",
        json!({"type": "round_robin", "members": [{"member_id": bob_id}]}),
    )
    .await;
    deliver(app, &hook, r#"{"name":"Bob's lead"}"#, &[]).await;
    assert_eq!(
        app.get(&bob.token, "/api/v1/notifications").await.body["unread"],
        2
    );
    assert_eq!(
        app.get(&carol.token, "/api/v1/notifications").await.body["unread"],
        1
    );
}

async fn r_a7_concurrent_senders_lose_nothing_and_counts_are_exact(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let ids = members_for_rr(app, &owner, 5).await;
    let weights = [1, 2, 3, 1, 3]; // a round is 10 leads
    let entries: Vec<Value> = ids
        .iter()
        .zip(weights)
        .map(|(i, w)| json!({"member_id": i, "leads_per_round": w}))
        .collect();
    let r = app
        .put(
            &owner.token,
            "/api/v1/assignment-rules/default",
            json!({"type": "round_robin", "members": entries}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let hook = source(app, &owner, "webhook", "Zapier").await;
    let senders = 8;
    let per_sender = 1000;
    let tasks = (0..senders).map(|s| {
        let hook = hook.clone();
        async move {
            let mut ok = 0;
            for i in 0..per_sender {
                let r = deliver(
                    app,
                    &hook,
                    &format!(r#"{{"name":"L{s}-{i}","lead_id":"{s}-{i}"}}"#),
                    &[],
                )
                .await;
                assert_eq!(r.status, 201, "{}", r.text);
                ok += 1;
            }
            ok
        }
    });
    let sent: i32 = futures::future::join_all(tasks).await.into_iter().sum();
    assert_eq!(sent, senders * per_sender);
    let total = (senders * per_sender) as i64;
    assert_eq!(
        app.count("clients").await,
        total,
        "no lead lost, none duplicated"
    );
    let got = counts(app).await;
    for (id, w) in ids.iter().zip(weights) {
        let n = got
            .iter()
            .find(|(a, _)| *a == Some(*id))
            .map(|(_, n)| *n)
            .unwrap_or(0);
        assert_eq!(n, total / 10 * w, "member {id} with weight {w}: {got:?}");
    }
}

/// Delivers a lead with `fields`; its (assignee, reason).
async fn routed(app: &TestApp, hook: &Value, fields: Value) -> (Value, String) {
    let r = deliver(app, hook, &fields.to_string(), &[]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    (
        r.body["assignee_id"].clone(),
        r.body["reason"].as_str().unwrap_or_default().to_owned(),
    )
}

/// The routing settings (rules, default rule, holidays) are kept in memory
/// between leads (issue 19); each change — made after a lead was routed, so
/// the old settings were in use — decides the very next lead: the default
/// rule set, a rule created, changed, moved and deleted, a holiday added and
/// removed, a member removed out of the round robins (X5).
async fn r_a3_a8_x5_every_change_to_the_routing_settings_decides_the_very_next_lead(app: &TestApp) {
    app.clock.set(super::routing_time::tuesday(10));
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let ids = members_for_rr(app, &owner, 3).await;
    let hook = source(app, &owner, "webhook", "Zapier").await;
    let lyon = json!({"name": "L", "city": "Lyon"});
    let paris = json!({"name": "P", "city": "Paris"});
    assert_eq!(routed(app, &hook, paris.clone()).await.0, Value::Null);

    let r = app.put(&owner.token, "/api/v1/assignment-rules/default", json!({"type": "round_robin", "members": [{"member_id": ids[0]}, {"member_id": ids[1]}]})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (who, why) = routed(app, &hook, paris.clone()).await;
    assert_eq!(
        (who, why.as_str()),
        (
            json!(ids[0]),
            "round robin: member 1 of 2 (weight 1), lead 1 of the rule"
        )
    );

    let rule = app
        .post(&owner.token, "/api/v1/assignment-rules", json!({"name": "Lyon", "criteria": [{"type": "field_equals", "field": "city", "value": "lyon"}], "action": {"type": "member", "member_id": ids[2]}}))
        .await;
    assert_eq!(rule.status, 201, "{}", rule.text);
    assert_eq!(
        routed(app, &hook, lyon.clone()).await.0,
        ids[2],
        "rule created"
    );
    let r = app
        .patch(
            &owner.token,
            &format!("/api/v1/assignment-rules/{}", rule.body["id"]),
            json!({"action": {"type": "member", "member_id": ids[1]}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        routed(app, &hook, lyon.clone()).await.0,
        ids[1],
        "rule changed"
    );

    let zap = app
        .post(&owner.token, "/api/v1/assignment-rules", json!({"name": "Zapier leads", "criteria": [{"type": "source", "source_id": hook["id"]}], "action": {"type": "member", "member_id": ids[0]}}))
        .await;
    assert_eq!(zap.status, 201, "{}", zap.text);
    assert_eq!(
        routed(app, &hook, lyon.clone()).await.0,
        ids[1],
        "second rule"
    );
    let r = app
        .post(
            &owner.token,
            &format!("/api/v1/assignment-rules/{}/move", zap.body["id"]),
            json!({"direction": "up"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        routed(app, &hook, lyon.clone()).await.0,
        ids[0],
        "rule moved up"
    );
    let r = app
        .delete(
            &owner.token,
            &format!("/api/v1/assignment-rules/{}", zap.body["id"]),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        routed(app, &hook, lyon.clone()).await.0,
        ids[1],
        "rule deleted"
    );

    let day = app
        .post(
            &owner.token,
            "/api/v1/holidays",
            json!({"day": "2026-12-08", "name": "Founders' day"}),
        )
        .await;
    assert_eq!(day.status, 201, "{}", day.text);
    let (who, why) = routed(app, &hook, paris.clone()).await;
    assert_eq!(who, Value::Null, "holiday added: {why}");
    let r = app
        .delete(
            &owner.token,
            &format!("/api/v1/holidays/{}", day.body["id"]),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let (who, why) = routed(app, &hook, paris.clone()).await;
    assert!(
        who == json!(ids[0]) || who == json!(ids[1]),
        "holiday removed: {why}"
    );

    // X5: the removed member leaves the default round robin; the rule that
    // named it alone leaves its leads unassigned, saying why.
    let r = app
        .delete_json(
            &owner.token,
            &format!("/api/v1/members/{}", ids[1]),
            json!({"clients": "move", "move_to": ids[0]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (who, why) = routed(app, &hook, paris).await;
    assert_eq!(who, json!(ids[0]), "{why}");
    assert!(why.starts_with("round robin: member 1 of 1"), "{why}");
    let (who, why) = routed(app, &hook, lyon).await;
    assert_eq!(who, Value::Null, "{why}");
    assert!(why.contains("removed"), "{why}");
}

/// Two nodes on one PostgreSQL: a node that routed with the old settings
/// follows a change made on the other as soon as the bus reaches it, and
/// from then on always (issue 19: the settings are kept in memory).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_a3_two_nodes_a_rule_changed_on_one_node_decides_on_the_other() {
    use std::time::{Duration, Instant};
    let Some(app) = leadteam_testkit::spawn_app(leadteam_testkit::Engine::Postgres).await else {
        return;
    };
    let other = app.another_node().await;
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let ids = members_for_rr(&app, &owner, 2).await;
    let hook = source(&app, &owner, "webhook", "Zapier").await;
    let mut on_other = hook.clone();
    on_other["webhook_url"] = json!(
        hook["webhook_url"]
            .as_str()
            .unwrap_or_default()
            .replace(&app.base, &other.base)
    );
    let lyon = json!({"name": "L", "city": "Lyon"});
    assert_eq!(routed(&other, &on_other, lyon.clone()).await.0, Value::Null);

    let rule = app
        .post(&owner.token, "/api/v1/assignment-rules", json!({"name": "Lyon", "criteria": [{"type": "field_equals", "field": "city", "value": "lyon"}], "action": {"type": "member", "member_id": ids[0]}}))
        .await;
    assert_eq!(rule.status, 201, "{}", rule.text);
    let start = Instant::now();
    loop {
        let (who, why) = routed(&other, &on_other, lyon.clone()).await;
        if who == json!(ids[0]) {
            break;
        }
        assert_eq!(who, Value::Null, "{why}");
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the other node kept routing by the old rules"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    println!(
        "the new rule reached the other node after {:?}",
        start.elapsed()
    );
    let r = app
        .patch(
            &owner.token,
            &format!("/api/v1/assignment-rules/{}", rule.body["id"]),
            json!({"action": {"type": "member", "member_id": ids[1]}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let start = Instant::now();
    while routed(&other, &on_other, lyon.clone()).await.0 != json!(ids[1]) {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the other node kept routing by the old rule"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for _ in 0..5 {
        assert_eq!(routed(&other, &on_other, lyon.clone()).await.0, ids[1]);
    }
    other.stop().await;
}
