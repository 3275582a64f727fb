//! The contract of the pieces whose SQL differs by engine, run on SQLite and
//! on PostgreSQL: round-robin positions, id allocation for bulk inserts,
//! the outbox claim, scripts, outbound events and source leads (the client
//! list plans are in `list_tests`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::db::{Db, Engine};
use crate::intake::{self, LeadRow};
use crate::testing::TestDb;
use crate::{outbox, rules};
use leadteam_domain::{AccountId, MemberId, Timestamp};

pub(crate) async fn each_engine<F, Fut>(story: F)
where
    F: Fn(Db) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for engine in [Engine::Sqlite, Engine::Postgres] {
        if let Some(t) = TestDb::migrated(engine).await {
            story(t.db.clone()).await;
            t.close().await;
        }
    }
}

pub(crate) async fn account(db: &Db) -> AccountId {
    let mut c = db.conn().await.unwrap();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO accounts (name, created_at) VALUES ('Acme', 1) RETURNING id",
    )
    .fetch_one(&mut *c)
    .await
    .unwrap();
    AccountId(id)
}

pub(crate) fn lead(account: AccountId, name: &str) -> LeadRow {
    LeadRow {
        account,
        name: name.to_owned(),
        email: None,
        phone: None,
        source: "webhook",
        source_id: 0,
        source_lead_id: None,
        fields_json: "{}".into(),
        assignee: None,
        reason: "test".into(),
        routing_json: "{}".into(),
        waiting_rule: None,
    }
}

/// Stores leads as an intake batch does: ids drawn, rows written in one
/// script; their ids in the order of `rows`.
pub(crate) async fn insert_leads(
    c: &mut crate::Conn,
    rows: &[LeadRow],
    now: Timestamp,
) -> Result<Vec<leadteam_domain::ClientId>, crate::StoreError> {
    let ids: Vec<leadteam_domain::ClientId> =
        crate::ids::allocate(c, crate::ids::Table::Clients, rows.len())
            .await?
            .into_iter()
            .map(leadteam_domain::ClientId)
            .collect();
    let mut s = crate::Script::new(c);
    intake::add_leads(&mut s, rows, &ids, now);
    s.run(c).await?;
    Ok(ids)
}

/// Writes events with targets as an intake batch does; how many.
async fn emit_many(
    c: &mut crate::Conn,
    events: &[crate::webhooks::NewEvent<'_>],
    now: Timestamp,
) -> Result<usize, crate::StoreError> {
    let n = events.iter().filter(|e| !e.targets.is_empty()).count();
    let ids = crate::ids::allocate(c, crate::ids::Table::WebhookEvents, n).await?;
    let mut s = crate::Script::new(c);
    let written = crate::webhooks::add_events(&mut s, events, &ids, now);
    s.run(c).await?;
    Ok(written)
}

/// Draws `n` leads' worth of positions from the state of `key` in one
/// transaction (as a batch does), committing or not.
async fn draw(db: &Db, key: &str, n: u64, commit: bool) -> u64 {
    let mut tx = db.write().await.unwrap();
    let mut states = rules::load_states(&mut tx, &[key.to_owned()])
        .await
        .unwrap();
    let s = states.get_mut(key).unwrap();
    let first = s.position;
    for _ in 0..n {
        s.pick(&[(leadteam_domain::MemberId(1), 1)]);
    }
    rules::save_states(&mut tx, &states).await.unwrap();
    if commit {
        tx.commit().await.unwrap();
    } else {
        tx.rollback().await.unwrap();
    }
    first
}

#[tokio::test]
async fn round_robin_states_are_given_back_on_rollback_and_exact_under_concurrency() {
    each_engine(|db| async move {
        assert_eq!(draw(&db, "k", 3, true).await, 0);
        // A transaction that rolls back burns nothing (A2 stays exact).
        assert_eq!(draw(&db, "k", 1, false).await, 3);
        assert_eq!(draw(&db, "k", 1, true).await, 3);
        // Concurrent writers take turns on the state: every position once.
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move { draw(&db, "k", 2, true).await }));
        }
        let mut firsts = Vec::new();
        for t in tasks {
            firsts.push(t.await.unwrap());
        }
        firsts.sort_unstable();
        assert_eq!(firsts, (0..12).map(|i| 4 + 2 * i).collect::<Vec<u64>>());
        assert_eq!(draw(&db, "k", 0, true).await, 28);
    })
    .await;
}

#[tokio::test]
async fn bulk_inserted_leads_carry_their_own_ids_and_ids_are_never_reused() {
    each_engine(|db| async move {
        let acc = account(&db).await;
        let rows: Vec<LeadRow> = (0..150).map(|i| lead(acc, &format!("Lead {i}"))).collect();
        let mut tx = db.write().await.unwrap();
        let ids = insert_leads(&mut tx, &rows, Timestamp(1)).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(ids.len(), rows.len());
        let mut c = db.conn().await.unwrap();
        for (row, id) in rows.iter().zip(&ids) {
            let name: String = sqlx::query_scalar("SELECT name FROM clients WHERE id = $1")
                .bind(id.0)
                .fetch_one(&mut *c)
                .await
                .unwrap();
            assert_eq!(name, row.name, "id {id} belongs to its row");
        }
        let last = ids.iter().map(|i| i.0).max().unwrap();
        sqlx::query("DELETE FROM clients WHERE id = $1")
            .bind(last)
            .execute(&mut *c)
            .await
            .unwrap();
        drop(c);
        let mut tx = db.write().await.unwrap();
        let next = insert_leads(&mut tx, &[lead(acc, "After")], Timestamp(2))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(next[0].0 > last, "X4: the deleted id {last} is not reused");
        // A single-row insert without a drawn id also continues after it.
        let mut c = db.conn().await.unwrap();
        let plain: i64 = sqlx::query_scalar(
            "INSERT INTO clients (account_id, name, source, created_at, updated_at) VALUES ($1, 'Plain', 'manual', 3, 3) RETURNING id",
        )
        .bind(acc.0)
        .fetch_one(&mut *c)
        .await
        .unwrap();
        assert!(plain > next[0].0);
    })
    .await;
}

#[tokio::test]
async fn two_workers_never_claim_the_same_message() {
    each_engine(|db| async move {
        let mut tx = db.write().await.unwrap();
        for i in 0..40 {
            outbox::enqueue(
                &mut tx,
                outbox::NewMessage {
                    account: None,
                    to: &format!("p{i}@x.test"),
                    subject: "s",
                    body_text: "b",
                    kind: "test",
                    secret: None,
                },
                Timestamp(1),
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        let o = outbox::ClaimOptions {
            limit: 10,
            lease_ms: 60_000,
            max_attempts: 10,
        };
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                outbox::claim_due(&db, Timestamp(2), o).await.unwrap()
            }));
        }
        let mut ids = Vec::new();
        for t in tasks {
            ids.extend(t.await.unwrap().into_iter().map(|m| m.id));
        }
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "no message taken twice");
        assert_eq!(n, 40, "every due message taken once");
        assert!(
            outbox::claim_due(&db, Timestamp(3), o)
                .await
                .unwrap()
                .is_empty(),
            "leased messages are not due again before the lease ends"
        );
    })
    .await;
}

/// I8 (issue 19): a batch's outbound events are written with a few
/// statements whatever their number, each event once with its own payload
/// and one delivery per subscription that names it, on both engines.
#[tokio::test]
async fn a_batch_of_events_gets_one_delivery_per_subscription_that_names_it() {
    each_engine(|db| async move {
        use crate::webhooks::{self, NewEvent};
        let acc = account(&db).await;
        let mut tx = db.write().await.unwrap();
        let mut hooks = Vec::new();
        for events in [r#"["lead.created","lead.assigned"]"#, r#"["lead.assigned"]"#] {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO webhooks (account_id, url, events, secret, created_at, updated_at) \
                 VALUES ($1, 'https://example.com/h', $2, 'whsec_x', 0, 0) RETURNING id",
            )
            .bind(acc.0)
            .bind(events)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
            hooks.push(id);
        }
        let subs = webhooks::subscribers(&mut tx, acc).await.unwrap();
        assert_eq!(subs.len(), 2);
        // 70 leads (more than one multi-row INSERT), every other one assigned.
        let mut events = Vec::new();
        for i in 0..70 {
            let kinds: &[&str] = if i % 2 == 0 {
                &["lead.created", "lead.assigned"]
            } else {
                &["lead.created"]
            };
            for kind in kinds {
                events.push(NewEvent {
                    account: acc,
                    kind,
                    payload: format!(r#"{{"lead":{i},"kind":"{kind}"}}"#),
                    targets: webhooks::targets_of(&subs, kind),
                });
            }
        }
        // An event nobody subscribed to is not written.
        events.push(NewEvent {
            account: acc,
            kind: "member.invited",
            payload: "{}".into(),
            targets: webhooks::targets_of(&subs, "member.invited"),
        });
        let written = emit_many(&mut tx, &events, Timestamp(5))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(written, 105);
        let mut c = db.conn().await.unwrap();
        let rows: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT id, kind, payload_json FROM webhook_events ORDER BY id")
                .fetch_all(&mut *c)
                .await
                .unwrap();
        assert_eq!(rows.len(), 105);
        // Written in the order given, each with its own payload.
        let expected: Vec<&str> = events[..105].iter().map(|e| e.payload.as_str()).collect();
        let got: Vec<&str> = rows.iter().map(|(_, _, p)| p.as_str()).collect();
        assert_eq!(got, expected);
        for (_, kind, payload) in &rows {
            assert!(payload.contains(&format!(r#""kind":"{kind}""#)));
        }
        let per_hook: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT webhook_id, COUNT(*) FROM webhook_deliveries GROUP BY webhook_id ORDER BY webhook_id",
        )
        .fetch_all(&mut *c)
        .await
        .unwrap();
        // The first hears every created and assigned event; the second
        // only the 35 assigned ones.
        assert_eq!(per_hook, vec![(hooks[0], 105), (hooks[1], 35)]);
        let wrong: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id \
             WHERE d.webhook_id = $1 AND e.kind <> 'lead.assigned'",
        )
        .bind(hooks[1])
        .fetch_one(&mut *c)
        .await
        .unwrap();
        assert_eq!(wrong, 0);
    })
    .await;
}

/// A [`crate::Script`] writes rows whose foreign keys name rows another of
/// its statements inserts, with ids drawn for several tables at once (each
/// table's ids its own, none given twice); a key already stored fails the
/// whole script with a unique violation, and nothing of it stays.
#[tokio::test]
async fn a_script_writes_in_one_round_trip_or_not_at_all() {
    use crate::ids::{self, Table};
    use crate::intake::{EventRow, NotificationRow};
    each_engine(|db| async move {
        let acc = account(&db).await;
        let (member, source): (i64, i64) = {
            let mut c = db.conn().await.unwrap();
            let source: i64 = sqlx::query_scalar(
                "INSERT INTO lead_sources (account_id, kind, name, secret, created_at) \
                 VALUES ($1, 'webhook', 'Zap', 's', 1) RETURNING id",
            )
            .bind(acc.0)
            .fetch_one(&mut *c)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO roles (account_id, name, permissions, created_at) VALUES ($1, 'Agent', 0, 1)",
            )
            .bind(acc.0)
            .execute(&mut *c)
            .await
            .unwrap();
            sqlx::query_scalar(
                "INSERT INTO members (account_id, email, name, role_id, status, created_at) \
                 SELECT $1, 'a@x', 'A', id, 'active', 1 FROM roles WHERE account_id = $1 RETURNING id",
            )
            .bind(acc.0)
            .fetch_one(&mut *c)
            .await
            .map(|m: i64| (m, source))
            .unwrap()
        };
        let write = |names: Vec<&'static str>, key: &'static str| {
            let db = db.clone();
            async move {
                let mut tx = db.write().await.unwrap();
                let drawn = ids::allocate_many(
                    &mut tx,
                    &[(Table::Clients, names.len()), (Table::Notifications, names.len())],
                )
                .await
                .unwrap();
                let clients: Vec<leadteam_domain::ClientId> =
                    drawn[0].iter().copied().map(leadteam_domain::ClientId).collect();
                let rows: Vec<LeadRow> = names.iter().map(|n| lead(acc, n)).collect();
                let mut s = crate::Script::new(&tx);
                intake::add_leads(&mut s, &rows, &clients, Timestamp(1));
                let events: Vec<EventRow> = clients
                    .iter()
                    .map(|c| EventRow {
                        account: acc,
                        client: *c,
                        kind: "routed",
                        body: "test".into(),
                        data_json: "{}".into(),
                    })
                    .collect();
                intake::add_events(&mut s, &events, Timestamp(1));
                let notes: Vec<NotificationRow> = clients
                    .iter()
                    .map(|c| NotificationRow {
                        account: acc,
                        member: MemberId(member),
                        kind: "new_lead",
                        client: Some(*c),
                        body: "New lead".into(),
                    })
                    .collect();
                intake::add_notifications(&mut s, &notes, &drawn[1], Timestamp(1));
                intake::add_keys(&mut s, &[(source, key, clients[0])], Timestamp(1));
                assert_eq!(s.len(), 4);
                let result = s.run(&mut tx).await;
                if result.is_ok() {
                    tx.commit().await.unwrap();
                }
                (result, drawn)
            }
        };
        let (ok, drawn) = write(vec!["A", "B", "C"], "k1").await;
        ok.unwrap();
        assert_eq!(drawn[0].len(), 3);
        assert_eq!(drawn[1].len(), 3);
        let count = |table: &'static str| {
            let db = db.clone();
            async move {
                let mut c = db.conn().await.unwrap();
                sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM {table}"
                )))
                .fetch_one(&mut *c)
                .await
                .unwrap()
            }
        };
        let mut c = db.conn().await.unwrap();
        let linked: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM notifications n JOIN clients c ON c.id = n.client_id \
             JOIN client_events e ON e.client_id = c.id WHERE n.id = $1 AND c.id = $2",
        )
        .bind(drawn[1][0])
        .bind(drawn[0][0])
        .fetch_one(&mut *c)
        .await
        .unwrap();
        drop(c);
        assert_eq!(linked, 1, "each row written with the id drawn for it");
        let (failed, _) = write(vec!["D", "E"], "k1").await;
        assert!(
            matches!(failed, Err(crate::StoreError::Unique { .. })),
            "{failed:?}"
        );
        for (table, n) in [("clients", 3), ("client_events", 3), ("notifications", 3)] {
            assert_eq!(count(table).await, n, "{table}: nothing of the failed script stays");
        }
        let (ok, after) = write(vec!["F"], "k2").await;
        ok.unwrap();
        assert!(after[0][0] > drawn[0][2] && after[1][0] > drawn[1][2]);
        assert_eq!(count("clients").await, 4);
    })
    .await;
}

/// Issue 19 (migration 55): the unique index of source leads holds only
/// clients that came from a source. Leads are still found by their source
/// lead id and a second lead with the same one is refused; clients without
/// a source (imported, added by hand) are stored beside them unconstrained.
#[tokio::test]
async fn source_leads_stay_unique_and_clients_without_a_source_stay_out_of_their_index() {
    each_engine(|db| async move {
        let acc = account(&db).await;
        let mut a = lead(acc, "A");
        a.source_lead_id = Some("a".into());
        let mut b = lead(acc, "B");
        b.source_lead_id = Some("b".into());
        let mut tx = db.write().await.unwrap();
        insert_leads(&mut tx, &[a.clone(), b], Timestamp(1))
            .await
            .unwrap();
        let imported: Vec<crate::import::ImportedClient> = (0..3)
            .map(|i| crate::import::ImportedClient {
                name: format!("Imported {i}"),
                email: None,
                phone: None,
                status: "open".into(),
                fields_json: "{}".into(),
                assignee: None,
                routing_reason: "imported".into(),
                routing_json: None,
                waiting_rule: None,
            })
            .collect();
        let stored =
            crate::import::insert_clients(&mut tx, acc, MemberId(1), &imported, Timestamp(2))
                .await
                .unwrap();
        assert_eq!(stored, 3);
        tx.commit().await.unwrap();

        let mut c = db.conn().await.unwrap();
        let found = crate::intake::clients_of_source_leads(&mut c, &[(0, "a"), (0, "b"), (0, "c")])
            .await
            .unwrap();
        assert_eq!(
            found.len(),
            2,
            "both source leads are found, the third is not"
        );
        drop(c);

        // The same source lead again is refused, and nothing of it stays.
        let mut tx = db.write().await.unwrap();
        assert!(insert_leads(&mut tx, &[a], Timestamp(3)).await.is_err());
        drop(tx);
        let mut c = db.conn().await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clients WHERE account_id = $1")
            .bind(acc.0)
            .fetch_one(&mut *c)
            .await
            .unwrap();
        assert_eq!(n, 5);
        let def: String = match db.engine() {
            Engine::Postgres => sqlx::query_scalar(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'clients_source_lead'",
            ),
            Engine::Sqlite => sqlx::query_scalar(
                "SELECT sql FROM sqlite_master WHERE name = 'clients_source_lead'",
            ),
        }
        .fetch_one(&mut *c)
        .await
        .unwrap();
        assert!(
            def.contains("UNIQUE") && def.contains("source_id IS NOT NULL"),
            "{def}"
        );
    })
    .await;
}
