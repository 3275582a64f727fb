//! The timers of routing (A10, A11), run by every node's worker:
//!
//! - first-contact deadlines that passed move their lead by the same rule to
//!   the next available eligible member (never back to unassigned), at most
//!   the rule's number of moves; each fires once, whatever the number of
//!   nodes ([`fire_deadlines`]);
//! - leads waiting because nobody could take them are assigned, oldest
//!   first, by their rule as soon as someone frees up ([`drain`]). Use cases
//!   that free someone up say so ([`App::routing_changed`]), which wakes the
//!   worker at once; the worker also drains when a passed-over member's
//!   working hours start, and sweeps now and then.
//!
//! Both re-check everything inside the transaction that acts, so a claim or
//! a manual assignment meanwhile always wins.

use crate::App;
use crate::bus::Alerts;
use crate::error::AppError;
use crate::router::Router;
use leadteam_domain::authz::Permission;
use leadteam_domain::routing::RuleRef;
use leadteam_domain::{AccountId, ClientId, MemberId, Timestamp};
use leadteam_store::clients::{self, NewEvent};
use leadteam_store::deadlines::{self, Deadline};
use leadteam_store::{Lock, backlog, rules};
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// How many deadlines or waiting leads one transaction takes.
const BATCH: i64 = 100;

/// How often the worker sweeps every backlog even when nothing was said.
const SWEEP: Duration = Duration::from_secs(60);

/// What the use cases tell the routing worker: accounts where someone may
/// have freed up.
#[derive(Clone, Default)]
pub struct RoutingSignals {
    waker: Arc<Notify>,
    accounts: Arc<Mutex<BTreeSet<AccountId>>>,
}

impl RoutingSignals {
    fn take(&self) -> BTreeSet<AccountId> {
        std::mem::take(
            &mut *self
                .accounts
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

impl App {
    /// Someone in `account` may have freed up (a client closed, delivered or
    /// moved away, a capacity raised, away switched off, time off ended,
    /// hours changed, a rule changed): the backlog drains now (A11).
    pub fn routing_changed(&self, account: AccountId) {
        self.routing
            .accounts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(account);
        self.routing.waker.notify_one();
    }
}

fn rule_of(json: &str) -> RuleRef {
    serde_json::from_str(json).unwrap_or(RuleRef::Default)
}

/// Fires the first-contact deadlines due now (A10); how many fired.
pub async fn fire_deadlines(app: &App) -> Result<usize, AppError> {
    let now = app.now();
    let mut tx = app.db.write().await?;
    let due = deadlines::take_due(&mut tx, now, BATCH).await?;
    if due.is_empty() {
        tx.rollback().await?;
        return Ok(0);
    }
    // Re-check in this transaction: still with the member who had to make
    // contact, and not contacted.
    let mut live: Vec<(Deadline, String)> = Vec::new();
    for d in &due {
        let row = clients::get(&mut tx, d.account, d.client, Lock::ForUpdate).await?;
        match row {
            Some(c) if c.assignee == Some(d.member) && c.contacted_at.is_none() => {
                live.push((d.clone(), c.name));
            }
            _ => deadlines::clear(&mut tx, d.client).await?,
        }
    }
    let mut router = Router::prepare(
        &app.routing_settings,
        &mut tx,
        live.iter().map(|(d, _)| d.account),
        now,
    )
    .await?;
    let needs: Vec<(AccountId, RuleRef)> = live
        .iter()
        .map(|(d, _)| (d.account, rule_of(&d.rule_json)))
        .collect();
    router.load(&mut tx, &needs).await?;
    let mut alerts = Alerts::default();
    let mut managers: HashMap<AccountId, Vec<MemberId>> = HashMap::new();
    let mut moved = 0;
    for ((d, name), (account, rule)) in live.iter().zip(&needs) {
        let routed = router.decide(*account, *rule, &[d.member]);
        let record = serde_json::to_string(&routed.decision).unwrap_or_default();
        let Some(to) = routed.assignee() else {
            // Nobody else can take it: it stays (never back to unassigned).
            let reason = format!(
                "stays with its assignee: not contacted in time, and nobody else could take it ({})",
                routed.decision.reason.trim_start_matches("unassigned: ")
            );
            backlog::record_decision(&mut tx, d.client, &reason, &record).await?;
            event(
                &mut tx,
                *account,
                d.client,
                "reclaim_failed",
                &reason,
                json!({"from": d.member.0}),
                now,
            )
            .await?;
            deadlines::clear(&mut tx, d.client).await?;
            continue;
        };
        let reason = format!(
            "reclaimed: not contacted within {} working minutes; {}",
            d.minutes, routed.decision.reason
        );
        if !backlog::assign(&mut tx, d.client, Some(d.member), to, &reason, &record, now).await? {
            deadlines::clear(&mut tx, d.client).await?;
            continue;
        }
        moved += 1;
        let moves = d.moves + 1;
        match routed.deadline {
            Some((limit, due)) if moves < d.max_moves => {
                deadlines::set(
                    &mut tx,
                    &[Deadline {
                        member: to,
                        due_at: due,
                        moves,
                        minutes: i64::from(limit.minutes),
                        ..d.clone()
                    }],
                )
                .await?;
            }
            _ => deadlines::clear(&mut tx, d.client).await?,
        }
        let data = json!({"from": d.member.0, "to": to.0, "moves": moves, "rule": rule});
        event(
            &mut tx,
            *account,
            d.client,
            "reclaimed",
            &reason,
            data.clone(),
            now,
        )
        .await?;
        crate::trail::record(
            &mut tx,
            crate::trail::By::System(*account),
            "client.reclaimed",
            "client",
            d.client.0,
            Some(json!({"assignee": d.member.0})),
            Some(json!({"assignee": to.0, "reason": reason})),
            now,
        )
        .await?;
        crate::webhooks::emit(
        app,
            &mut tx,
            *account,
            "lead.reclaimed",
            json!({"client_id": d.client.0, "from_member_id": d.member.0, "to_member_id": to.0, "reason": reason}),
            now,
        )
        .await?;
        // The new assignee, and the members who see the team's clients.
        alerts
            .add(
                &mut tx,
                *account,
                to,
                "lead_reclaimed",
                Some(d.client),
                &format!("{name} is yours now: its first assignee did not make contact in time"),
                now,
            )
            .await?;
        if !managers.contains_key(account) {
            let m = rules::members_with(&mut tx, *account, Permission::ClientsViewOthers).await?;
            managers.insert(*account, m);
        }
        for m in managers.get(account).into_iter().flatten() {
            if *m != to && *m != d.member {
                alerts
                    .add(
                        &mut tx,
                        *account,
                        *m,
                        "lead_reclaimed",
                        Some(d.client),
                        &format!("{name} was moved on: not contacted in time"),
                        now,
                    )
                    .await?;
            }
        }
    }
    router.finish(&mut tx).await?;
    tx.commit().await?;
    alerts.publish(&app.bus);
    app.events_queued();
    if moved > 0 {
        // The members the leads left may have room for a waiting lead now.
        for account in needs.iter().map(|(a, _)| *a).collect::<BTreeSet<_>>() {
            app.routing_changed(account);
        }
    }
    Ok(moved)
}

async fn event(
    conn: &mut leadteam_store::Conn,
    account: AccountId,
    client: ClientId,
    kind: &str,
    body: &str,
    data: serde_json::Value,
    now: Timestamp,
) -> Result<(), AppError> {
    clients::add_event(
        conn,
        NewEvent {
            account,
            client,
            kind,
            actor: None,
            body: Some(body),
            data: Some(data),
        },
        now,
    )
    .await?;
    Ok(())
}

/// What a drain did, and when it may find someone next.
#[derive(Debug, Clone, Copy, Default)]
pub struct Drained {
    pub assigned: usize,
    pub waiting: usize,
    /// The soonest instant a passed-over member's working time starts (or
    /// its time off ends), when the backlog still waits.
    pub next_try: Option<Timestamp>,
}

/// Assigns the waiting leads of `account` that someone can take now, oldest
/// first, by their rule (A11).
pub async fn drain(app: &App, account: AccountId) -> Result<Drained, AppError> {
    let now = app.now();
    {
        // Most changes free someone up where nothing waits: one indexed
        // read, no write transaction.
        let mut c = app.db.conn().await?;
        if backlog::size(&mut c, account).await?.0 == 0 {
            return Ok(Drained::default());
        }
    }
    let mut tx = app.db.write().await?;
    let waiting = backlog::take(&mut tx, account, BATCH).await?;
    if waiting.is_empty() {
        tx.rollback().await?;
        return Ok(Drained::default());
    }
    let mut router = Router::prepare(&app.routing_settings, &mut tx, [account], now).await?;
    let needs: Vec<(AccountId, RuleRef)> = waiting
        .iter()
        .map(|w| (account, rule_of(&w.rule_json)))
        .collect();
    router.load(&mut tx, &needs).await?;
    let mut alerts = Alerts::default();
    let mut out = Drained::default();
    let mut deadlines_set = Vec::new();
    for (w, (_, rule)) in waiting.iter().zip(&needs) {
        let routed = router.decide(account, *rule, &[]);
        let record = serde_json::to_string(&routed.decision).unwrap_or_default();
        let Some(to) = routed.assignee() else {
            backlog::record_decision(&mut tx, w.client, &routed.decision.reason, &record).await?;
            out.waiting += 1;
            continue;
        };
        let reason = format!("assigned from the backlog: {}", routed.decision.reason);
        if !backlog::assign(&mut tx, w.client, None, to, &reason, &record, now).await? {
            continue;
        }
        out.assigned += 1;
        event(
            &mut tx,
            account,
            w.client,
            "drained",
            &reason,
            json!({"to": to.0, "rule": rule}),
            now,
        )
        .await?;
        crate::trail::record(
            &mut tx,
            crate::trail::By::System(account),
            "client.assigned",
            "client",
            w.client.0,
            Some(json!({"assignee": null})),
            Some(json!({"assignee": to.0, "reason": reason})),
            now,
        )
        .await?;
        crate::webhooks::emit(
            app,
            &mut tx,
            account,
            "lead.assigned",
            json!({"client_id": w.client.0, "assignee_id": to.0, "reason": reason}),
            now,
        )
        .await?;
        alerts
            .add(
                &mut tx,
                account,
                to,
                "new_lead",
                Some(w.client),
                &format!("New lead: {} (it waited for someone free)", w.name),
                now,
            )
            .await?;
        if let Some((limit, due)) = routed.deadline {
            deadlines_set.push(Deadline {
                client: w.client,
                account,
                member: to,
                rule_json: w.rule_json.clone(),
                due_at: due,
                moves: 0,
                max_moves: i64::from(limit.max_moves),
                minutes: i64::from(limit.minutes),
            });
        }
        app.metrics.routed(true, &reason);
        app.metrics.first_assigned(w.created_at, now);
    }
    deadlines::set(&mut tx, &deadlines_set).await?;
    if out.waiting > 0 {
        out.next_try = router.next_available(account);
    }
    router.finish(&mut tx).await?;
    tx.commit().await?;
    alerts.publish(&app.bus);
    if out.assigned > 0 {
        app.events_queued();
    }
    Ok(out)
}

/// The routing worker of a node: fires deadlines and drains backlogs.
pub(crate) async fn run(app: App, mut stopped: watch::Receiver<bool>) {
    let poll = Duration::from_millis(app.config.routing_poll_ms.max(10));
    // When each account with a waiting backlog should be tried again.
    let mut retry: HashMap<AccountId, Timestamp> = HashMap::new();
    let mut last_sweep = std::time::Instant::now() - SWEEP;
    loop {
        if *stopped.borrow() {
            return;
        }
        let mut busy = false;
        match fire_deadlines(&app).await {
            Ok(n) => busy |= n > 0,
            Err(e) => tracing::warn!(error = %e, "first-contact deadlines failed"),
        }
        let now = app.now();
        let mut accounts = app.routing.take();
        accounts.extend(retry.iter().filter(|(_, t)| **t <= now).map(|(a, _)| *a));
        if last_sweep.elapsed() >= SWEEP {
            last_sweep = std::time::Instant::now();
            match app.db.conn().await {
                Ok(mut c) => match backlog::accounts(&mut c).await {
                    Ok(all) => accounts.extend(all),
                    Err(e) => tracing::warn!(error = %e, "reading the backlogs failed"),
                },
                Err(e) => tracing::warn!(error = %e, "reading the backlogs failed"),
            }
        }
        for account in accounts {
            retry.remove(&account);
            match drain(&app, account).await {
                Ok(d) => {
                    busy |= d.assigned > 0 && d.waiting > 0;
                    if let Some(t) = d.next_try {
                        retry.insert(account, t);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, account = account.0, "draining the backlog failed")
                }
            }
        }
        if busy {
            continue;
        }
        tokio::select! {
            _ = app.routing.waker.notified() => {}
            _ = tokio::time::sleep(poll) => {}
            _ = stopped.changed() => return,
        }
    }
}
