//! Two `leadteam serve` nodes on one PostgreSQL database (A7): leads sent
//! to both at once are each stored once and routed with the exact
//! round-robin shares; claims of the same clients on both nodes have one
//! winner each. Skipped loudly without PostgreSQL (CI requires it).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Node, join};
use leadteam_store::testing::{TempDir, TestDb};
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

const LEADS: usize = 600;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r_a7_two_nodes_on_one_database_lose_nothing_double_nothing_and_keep_exact_shares() {
    let Some(target) = TestDb::new(leadteam_store::Engine::Postgres).await else {
        return;
    };
    // The nodes share one data folder, as they share uploads in production
    // (and mail written as files, whichever node's worker sends it).
    let dir = TempDir::new();
    let a = Arc::new(Node::start(&target.url, &dir.path, &[]));
    let b = Arc::new(Node::start(&target.url, &dir.path, &[]));
    let owner = a.signup("Acme", "ann@example.com").await;
    let mut members = Vec::new();
    for (i, name) in ["one", "two", "three"].iter().enumerate() {
        // Invited on one node, accepted on the other.
        let (token, id) = join(
            if i % 2 == 0 { &a } else { &b },
            &target.db,
            &owner,
            &format!("{name}@example.com"),
            "Member",
        )
        .await;
        members.push((token, id, i as i64 + 1));
    }
    let rr: Vec<_> = members
        .iter()
        .map(|(_, id, w)| json!({"member_id": id, "leads_per_round": w}))
        .collect();
    let (status, body) = b
        .call(
            reqwest::Method::PUT,
            Some(&owner),
            "/api/v1/assignment-rules/default",
            Some(json!({"type": "round_robin", "members": rr})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let hook = a.source(&owner, "Zapier").await;

    // 600 leads, 16 senders, alternating nodes; each one sent twice (a
    // retry through the other node) to prove it is stored once.
    let mut tasks = Vec::new();
    for s in 0..16 {
        let (a, b, hook) = (Arc::clone(&a), Arc::clone(&b), hook.clone());
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for i in (s..LEADS).step_by(16) {
                let id = format!("lead-{i}");
                let (first, second) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
                let (s1, r1) = first.lead(&hook, &id).await.expect("node answers");
                let (s2, r2) = second.lead(&hook, &id).await.expect("node answers");
                assert_eq!(
                    (s1, s2),
                    (201, 200),
                    "a new lead, then the same one: {r1} {r2}"
                );
                assert_eq!(
                    r1["client_id"], r2["client_id"],
                    "the retry is the same lead"
                );
                assert_eq!(r2["duplicate"], true);
                got.push((
                    id,
                    r1["client_id"].as_i64().unwrap(),
                    r1["assignee_id"].as_i64(),
                ));
            }
            got
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.extend(t.await.unwrap());
    }
    assert_eq!(answers.len(), LEADS);
    let mut c = target.db.conn().await.unwrap();
    let stored: Vec<(String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT source_lead_id, id, assignee_id FROM clients WHERE source_lead_id IS NOT NULL ORDER BY id",
    )
    .fetch_all(&mut *c)
    .await
    .unwrap();
    assert_eq!(stored.len(), LEADS, "nothing lost, nothing doubled");
    let ids: HashSet<&String> = stored.iter().map(|s| &s.0).collect();
    assert_eq!(ids.len(), LEADS);
    for (lead, id, assignee) in &answers {
        assert!(
            stored.contains(&(lead.clone(), *id, *assignee)),
            "{lead} as answered"
        );
    }
    // Exact shares: 100 full rounds of 1 + 2 + 3.
    let mut shares: BTreeMap<i64, usize> = BTreeMap::new();
    for (_, _, a) in &stored {
        *shares.entry(a.expect("assigned")).or_default() += 1;
    }
    let want: BTreeMap<i64, usize> = members
        .iter()
        .map(|(_, id, w)| (*id, LEADS / 6 * *w as usize))
        .collect();
    assert_eq!(shares, want);

    // Claims: 40 unassigned leads, each claimed at once by the three
    // members on both nodes: one winner each, the assignee it names.
    let (status, body) = a
        .call(
            reqwest::Method::PUT,
            Some(&owner),
            "/api/v1/assignment-rules/default",
            Some(json!({"type": "unassigned"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mut open = Vec::new();
    for i in 0..40 {
        let (s, r) = b.lead(&hook, &format!("open-{i}")).await.unwrap();
        assert_eq!(s, 201, "{r}");
        assert!(r["assignee_id"].is_null());
        open.push(r["client_id"].as_i64().unwrap());
    }
    let members = Arc::new(members);
    let mut races = Vec::new();
    for id in open.clone() {
        for node in [Arc::clone(&a), Arc::clone(&b)] {
            for m in 0..3 {
                let (node, members) = (Arc::clone(&node), Arc::clone(&members));
                races.push(tokio::spawn(async move {
                    let (s, _) = node
                        .post(
                            &members[m].0,
                            &format!("/api/v1/clients/{id}/claim"),
                            json!({}),
                        )
                        .await;
                    (id, members[m].1, s)
                }));
            }
        }
    }
    let mut winners: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for r in races {
        let (id, member, status) = r.await.unwrap();
        assert!(status == 200 || status == 409, "{status}");
        if status == 200 {
            winners.entry(id).or_default().push(member);
        }
    }
    for id in &open {
        let w = winners.get(id).cloned().unwrap_or_default();
        assert_eq!(w.len(), 1, "client {id}: one winner, got {w:?}");
        let assignee: Option<i64> =
            sqlx::query_scalar("SELECT assignee_id FROM clients WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *c)
                .await
                .unwrap();
        assert_eq!(assignee, Some(w[0]));
        let claimed: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'client.claimed' AND target_id = $1",
        )
        .bind(id)
        .fetch_one(&mut *c)
        .await
        .unwrap();
        assert_eq!(claimed, 1, "client {id}: one claim recorded");
    }
    drop(c);
    drop(a);
    drop(b);
    target.close().await;
}
