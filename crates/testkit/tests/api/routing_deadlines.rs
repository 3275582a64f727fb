//! First-contact deadlines (A10), the backlog drain and its alert (A11,
//! A14), and both on two nodes sharing one PostgreSQL (A7), on a moved clock.

use super::intake::source;
use super::routing_time::{
    assignee_of, lead, office_hours, round_robin, settle, team_of, tuesday, verdict, wait_assignee,
};
use super::support::{at, last_audit};
use leadteam_testkit::{TestApp, both_engines};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

both_engines!(
    r_a10_an_uncontacted_lead_moves_on_once_per_deadline_up_to_its_moves,
    r_a10_the_deadline_counts_working_minutes_across_the_night_and_a_dst_change,
    r_a11_a14_the_backlog_drains_when_someone_frees_up_and_admins_hear_once,
);

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
