//! One intake transaction for a batch of leads: duplicates found, rules read
//! once per account (kept in memory, see [`crate::router::KnownSettings`]),
//! every id to write drawn with one statement, candidates read once (each
//! assignment counting towards the capacity of the next lead), round-robin
//! positions locked and drawn per rule at once, then the leads, idempotency
//! keys, timeline events, audit rows, alerts, outbound events, delivery log
//! and round-robin positions written with one [`Script`] (one round trip),
//! and the alerts published after the commit.

use super::{Ingested, Prepared};
use crate::App;
use crate::bus::Alerts;
use crate::error::AppError;
use crate::router::{Routed, Router};
use crate::webhooks::LeadEvents;
use leadteam_domain::routing::RuleRef;
use leadteam_domain::{AccountId, ClientId, MemberId};
use leadteam_store::deliveries::{self, NewDelivery};
use leadteam_store::intake::{self as bulk, EventRow, LeadRow, NotificationRow, SystemAudit};
use leadteam_store::{Script, ids, rules};
use serde_json::json;
use std::collections::HashMap;

/// What becomes of one lead of the batch.
enum Fate {
    /// Stored before this batch.
    Stored(ClientId),
    /// The same lead as the `usize`-th of this batch.
    SameAs(usize),
    /// New: the `usize`-th new lead.
    New(usize),
}

pub(super) async fn store(app: &App, leads: &[Prepared]) -> Result<Vec<Ingested>, AppError> {
    let now = app.now();
    let mut tx = app.db.write().await?;

    // Duplicates: stored before, or twice in this batch.
    let key_pairs: Vec<(i64, &str)> = leads
        .iter()
        .filter_map(|l| l.key.as_deref().map(|k| (l.source.id.0, k)))
        .collect();
    let lead_pairs: Vec<(i64, &str)> = leads
        .iter()
        .filter_map(|l| l.source_lead_id.as_deref().map(|k| (l.source.id.0, k)))
        .collect();
    let by_key = if key_pairs.is_empty() {
        HashMap::new()
    } else {
        bulk::clients_of_keys(&mut tx, &key_pairs).await?
    };
    let by_lead = if lead_pairs.is_empty() {
        HashMap::new()
    } else {
        bulk::clients_of_source_leads(&mut tx, &lead_pairs).await?
    };
    let mut fates = Vec::with_capacity(leads.len());
    let mut fresh: Vec<usize> = Vec::new();
    let mut seen_key: HashMap<(i64, &str), usize> = HashMap::new();
    let mut seen_lead: HashMap<(i64, &str), usize> = HashMap::new();
    for (i, l) in leads.iter().enumerate() {
        let s = l.source.id.0;
        let key = l.key.as_deref().map(|k| (s, k));
        let lid = l.source_lead_id.as_deref().map(|k| (s, k));
        let stored = key
            .and_then(|(s, k)| by_key.get(&(s, k.to_owned())))
            .or_else(|| lid.and_then(|(s, k)| by_lead.get(&(s, k.to_owned()))));
        let earlier = key
            .and_then(|k| seen_key.get(&k))
            .or_else(|| lid.and_then(|k| seen_lead.get(&k)));
        let fate = match (stored, earlier) {
            (Some(id), _) => Fate::Stored(*id),
            (None, Some(j)) => Fate::SameAs(*j),
            (None, None) => {
                if let Some(k) = key {
                    seen_key.insert(k, i);
                }
                if let Some(k) = lid {
                    seen_lead.insert(k, i);
                }
                fresh.push(i);
                Fate::New(fresh.len() - 1)
            }
        };
        fates.push(fate);
    }

    // The answers of the duplicates, the subscriptions the leads go out to
    // (I8), and every id the writes can need, before routing takes its
    // locks: ids for an alert and the events of an assigned lead each (an
    // unassigned lead makes fewer events, but may alert several members:
    // those are drawn after the decisions). Whatever runs between the
    // round-robin lock and the commit is time the other nodes' writers of
    // the same rule wait.
    let earlier: Vec<ClientId> = fates
        .iter()
        .filter_map(|f| match f {
            Fate::Stored(id) => Some(*id),
            _ => None,
        })
        .collect();
    let routing = if earlier.is_empty() {
        HashMap::new()
    } else {
        bulk::routing_of(&mut tx, &earlier).await?
    };
    let accounts: Vec<AccountId> = fresh.iter().map(|&i| leads[i].source.account).collect();
    let subscriptions = LeadEvents::read(app, &mut tx, &accounts).await?;
    let mut drawn = ids::Drawn::draw(
        &mut tx,
        &[
            (ids::Table::Clients, fresh.len()),
            (ids::Table::Notifications, fresh.len()),
            (
                ids::Table::WebhookEvents,
                subscriptions.count(accounts.iter().map(|a| (*a, true))),
            ),
            (ids::Table::SourceDeliveries, leads.len()),
        ],
    )
    .await?;

    // Routing (A1-A14): facts read once per account, states and candidates
    // locked once, each decision counted for the next.
    let mut router = Router::prepare(
        &app.routing_settings,
        &mut tx,
        fresh.iter().map(|&i| leads[i].source.account),
        now,
    )
    .await?;
    let needs: Vec<(AccountId, RuleRef)> = fresh
        .iter()
        .map(|&i| {
            let l = &leads[i];
            (
                l.source.account,
                router.rule_for(l.source.account, &l.facts),
            )
        })
        .collect();
    router.load(&mut tx, &needs).await?;
    let routed: Vec<Routed> = needs
        .iter()
        .map(|(account, rule)| router.decide(*account, *rule, &[]))
        .collect();
    let decisions: Vec<(RuleRef, Option<MemberId>, String)> = routed
        .iter()
        .map(|r| (r.decision.rule, r.assignee(), r.decision.reason.clone()))
        .collect();

    // What the writes need to know first: who hears of an unassigned lead
    // (A6), the routing admins told of a backlog (A14).
    let mut seeing: HashMap<AccountId, Vec<MemberId>> = HashMap::new();
    for (&i, (_, assignee, _)) in fresh.iter().zip(&decisions) {
        let account = leads[i].source.account;
        if assignee.is_none()
            && let std::collections::hash_map::Entry::Vacant(slot) = seeing.entry(account)
        {
            slot.insert(rules::members_seeing_unassigned(&mut tx, account).await?);
        }
    }
    let backlogged: std::collections::BTreeSet<AccountId> = needs
        .iter()
        .zip(&routed)
        .filter(|(_, r)| r.decision.nobody_could)
        .map(|((a, _), _)| *a)
        .collect();
    let mut backlog_notes = Vec::new();
    for &account in &backlogged {
        let waiting = routed
            .iter()
            .zip(&needs)
            .filter(|(r, (a, _))| *a == account && r.decision.nobody_could)
            .map(|(r, _)| r.decision.reason.clone())
            .collect::<Vec<_>>();
        crate::backlog::alert_admins(&mut tx, account, &waiting, &mut backlog_notes, now).await?;
    }

    // Every id written below: those drawn ahead, more alerts drawn now.
    let lead_notes: usize = fresh
        .iter()
        .zip(&decisions)
        .map(|(&i, (_, assignee, _))| match assignee {
            Some(_) => 1,
            None => seeing.get(&leads[i].source.account).map_or(0, Vec::len),
        })
        .sum();
    let lead_events = subscriptions.count(
        fresh
            .iter()
            .zip(&decisions)
            .map(|(&i, (_, assignee, _))| (leads[i].source.account, assignee.is_some())),
    );
    let client_ids = drawn
        .take(&mut tx, ids::Table::Clients, fresh.len())
        .await?;
    let note_ids = drawn
        .take(
            &mut tx,
            ids::Table::Notifications,
            lead_notes + backlog_notes.len(),
        )
        .await?;
    let event_ids = drawn
        .take(&mut tx, ids::Table::WebhookEvents, lead_events)
        .await?;
    let delivery_ids = drawn
        .take(&mut tx, ids::Table::SourceDeliveries, leads.len())
        .await?;
    let ids: Vec<ClientId> = client_ids.into_iter().map(ClientId).collect();
    if ids.len() != fresh.len() {
        return Err(AppError::Internal("stored leads and ids differ".into()));
    }

    // The writes, in one script (one round trip).
    let mut script = Script::new(&tx);
    router.finish_into(&mut script)?;
    let rows: Vec<LeadRow> = fresh
        .iter()
        .zip(&decisions)
        .enumerate()
        .map(|(n, (&i, (_, assignee, reason)))| {
            let l = &leads[i];
            LeadRow {
                account: l.source.account,
                name: l.name.clone(),
                email: l.email.clone(),
                phone: l.phone.clone(),
                source: l.kind.as_str(),
                source_id: l.source.id.0,
                source_lead_id: l.source_lead_id.clone(),
                fields_json: l.fields_json.clone(),
                assignee: *assignee,
                reason: reason.clone(),
                routing_json: serde_json::to_string(&routed[n].decision).unwrap_or_default(),
                waiting_rule: routed[n]
                    .decision
                    .nobody_could
                    .then(|| serde_json::to_string(&routed[n].decision.rule).unwrap_or_default()),
            }
        })
        .collect();
    bulk::add_leads(&mut script, &rows, &ids, now);
    // A key another node stored meanwhile fails the script: the caller
    // retries each lead alone and answers with the stored one.
    let keys: Vec<(i64, &str, ClientId)> = fresh
        .iter()
        .zip(&ids)
        .filter_map(|(&i, id)| {
            leads[i]
                .key
                .as_deref()
                .map(|k| (leads[i].source.id.0, k, *id))
        })
        .collect();
    bulk::add_keys(&mut script, &keys, now);
    let mut events = Vec::with_capacity(ids.len());
    let mut audits = Vec::with_capacity(ids.len());
    let mut notes = Vec::with_capacity(lead_notes + backlog_notes.len());
    for ((&i, id), (rule, assignee, reason)) in fresh.iter().zip(&ids).zip(&decisions) {
        let l = &leads[i];
        let account = l.source.account;
        let rule_json = match rule {
            RuleRef::Default => json!("default"),
            RuleRef::Advanced(r) => json!(r.0),
            RuleRef::Team(t) => json!({"team": t.0}),
        };
        events.push(EventRow {
            account,
            client: *id,
            kind: "routed",
            body: reason.clone(),
            data_json: json!({"rule": rule_json, "assignee": assignee.map(|m| m.0), "source": l.source.id.0}).to_string(),
        });
        audits.push(SystemAudit {
            account,
            action: "client.routed",
            target_kind: "client",
            target_id: id.0,
            after_json:
                json!({"assignee": assignee.map(|m| m.0), "reason": reason, "rule": rule_json})
                    .to_string(),
        });
        // Alerts (A6): an assigned lead alerts its assignee only; an
        // unassigned one every active member who may see unassigned clients.
        let body = format!("New lead: {}", l.name);
        let to: &[MemberId] = match assignee {
            Some(m) => std::slice::from_ref(m),
            None => seeing.get(&account).map_or(&[], Vec::as_slice),
        };
        for m in to {
            notes.push(NotificationRow {
                account,
                member: *m,
                kind: "new_lead",
                client: Some(*id),
                body: body.clone(),
            });
        }
    }
    notes.extend(backlog_notes);
    if notes.len() != note_ids.len() {
        return Err(AppError::Internal("notifications and ids differ".into()));
    }
    // A10: first-contact deadlines of the leads assigned by a rule with one.
    let deadlines: Vec<leadteam_store::deadlines::Deadline> = ids
        .iter()
        .zip(&routed)
        .zip(&needs)
        .filter_map(|((id, r), (account, rule))| {
            let (limit, due) = r.deadline?;
            Some(leadteam_store::deadlines::Deadline {
                client: *id,
                account: *account,
                member: r.assignee()?,
                rule_json: serde_json::to_string(rule).unwrap_or_default(),
                due_at: due,
                moves: 0,
                max_moves: i64::from(limit.max_moves),
                minutes: i64::from(limit.minutes),
            })
        })
        .collect();
    leadteam_store::deadlines::add(&mut script, &deadlines);
    bulk::add_events(&mut script, &events, now);
    bulk::add_audit(&mut script, &audits, now);
    bulk::add_notifications(&mut script, &notes, &note_ids, now);
    // Outbound events (I8), in this transaction.
    let lead_events: Vec<(AccountId, serde_json::Value, bool)> = fresh
        .iter()
        .zip(&ids)
        .zip(&decisions)
        .map(|((&i, id), (_, assignee, reason))| {
            let l = &leads[i];
            let data = json!({"client_id": id.0, "name": l.name, "email": l.email, "phone": l.phone,
                "source_id": l.source.id.0, "assignee_id": assignee.map(|m| m.0), "reason": reason});
            (l.source.account, data, assignee.is_some())
        })
        .collect();
    let events_out = subscriptions.add(&mut script, &lead_events, &event_ids, now);

    // Answers for the duplicates.
    let answer_new = |n: usize, duplicate: bool| Ingested {
        client: ids[n],
        duplicate,
        assignee: decisions[n].1,
        reason: decisions[n].2.clone(),
    };
    let mut out = Vec::with_capacity(leads.len());
    for fate in &fates {
        out.push(match fate {
            Fate::New(n) => answer_new(*n, false),
            Fate::SameAs(j) => match &fates[*j] {
                Fate::New(n) => answer_new(*n, true),
                _ => {
                    return Err(AppError::Internal(
                        "a batch duplicate of a duplicate".into(),
                    ));
                }
            },
            Fate::Stored(id) => {
                let (assignee, reason) = routing.get(id).cloned().unwrap_or((None, None));
                Ingested {
                    client: *id,
                    duplicate: true,
                    assignee,
                    reason: reason.unwrap_or_default(),
                }
            }
        });
    }
    // The delivery log (I7), in the same transaction as the leads.
    let logged: Vec<NewDelivery<'_>> = leads
        .iter()
        .zip(&out)
        .map(|(l, i)| NewDelivery {
            source: l.source.id,
            account: l.source.account,
            channel: l.channel,
            outcome: if i.duplicate { "duplicate" } else { "accepted" },
            reason: None,
            detail: Some(&i.reason),
            client: Some(i.client),
        })
        .collect();
    deliveries::add_many(&mut script, &logged, &delivery_ids, now);
    script.run(&mut tx).await?;
    tx.commit().await?;
    let mut alerts = Alerts::default();
    for (n, id) in notes.iter().zip(note_ids) {
        alerts.written(n.account, n.member, id, n.kind, n.client, &n.body, now);
    }
    alerts.publish(&app.bus);
    // The routing worker learns when someone will be free for them (A11).
    for &account in &backlogged {
        app.routing_changed(account);
    }
    for (_, assignee, reason) in &decisions {
        app.metrics.routed(assignee.is_some(), reason);
        if assignee.is_some() {
            app.metrics.first_assigned(now, now);
        }
    }
    if events_out {
        app.events_queued();
    }

    Ok(out)
}

/// The client stored for this lead by an earlier or concurrent delivery.
pub(super) async fn stored_already(
    app: &App,
    lead: &Prepared,
) -> Result<Option<Ingested>, AppError> {
    let mut c = app.db.conn().await?;
    let s = lead.source.id.0;
    let mut found = None;
    if let Some(k) = lead.key.as_deref() {
        found = bulk::clients_of_keys(&mut c, &[(s, k)])
            .await?
            .into_values()
            .next();
    }
    if found.is_none()
        && let Some(k) = lead.source_lead_id.as_deref()
    {
        found = bulk::clients_of_source_leads(&mut c, &[(s, k)])
            .await?
            .into_values()
            .next();
    }
    let Some(id) = found else {
        return Ok(None);
    };
    let routing = bulk::routing_of(&mut c, &[id]).await?;
    let (assignee, reason) = routing.get(&id).cloned().unwrap_or((None, None));
    Ok(Some(Ingested {
        client: id,
        duplicate: true,
        assignee,
        reason: reason.unwrap_or_default(),
    }))
}
