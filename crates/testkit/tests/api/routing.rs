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
