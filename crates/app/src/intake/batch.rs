//! One intake transaction for a batch of leads: duplicates found, rules read
//! once per account, round-robin positions drawn per rule at once, candidates
//! read once (each assignment counting towards the capacity of the next
//! lead), then leads, idempotency keys, timeline events, audit rows and
//! alerts written with multi-row statements, and the alerts published after
//! the commit.

use super::{Ingested, Prepared};
use crate::App;
use crate::bus::Alerts;
use crate::error::AppError;
use crate::router::{Routed, Router};
use leadteam_domain::routing::RuleRef;
use leadteam_domain::{AccountId, ClientId, MemberId};
use leadteam_store::deliveries::{self, NewDelivery};
use leadteam_store::intake::{self as bulk, EventRow, LeadRow, NotificationRow, SystemAudit};
use leadteam_store::rules;
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
    router.finish(&mut tx).await?;
    let decisions: Vec<(RuleRef, Option<MemberId>, String)> = routed
        .iter()
        .map(|r| (r.decision.rule, r.assignee(), r.decision.reason.clone()))
        .collect();

    // The writes.
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
    let ids = if rows.is_empty() {
        Vec::new()
    } else {
        bulk::insert_leads(&mut tx, &rows, now).await?
    };
    if ids.len() != rows.len() {
        return Err(AppError::Internal("stored leads and ids differ".into()));
    }
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
    if !keys.is_empty() && bulk::insert_keys(&mut tx, &keys, now).await? != keys.len() as u64 {
        // Another node stored one of these keys meanwhile: the caller
        // retries each lead alone and answers with the stored one.
        return Err(AppError::conflict(
            None,
            "a lead was delivered concurrently",
        ));
    }
    let mut events = Vec::with_capacity(ids.len());
    let mut audits = Vec::with_capacity(ids.len());
    let mut notes = Vec::new();
    let mut seeing: HashMap<AccountId, Vec<MemberId>> = HashMap::new();
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
        match assignee {
            Some(m) => notes.push(NotificationRow {
                account,
                member: *m,
                kind: "new_lead",
                client: Some(*id),
                body,
            }),
            None => {
                if let std::collections::hash_map::Entry::Vacant(slot) = seeing.entry(account) {
                    slot.insert(rules::members_seeing_unassigned(&mut tx, account).await?);
                }
                for m in seeing.get(&account).into_iter().flatten() {
                    notes.push(NotificationRow {
                        account,
                        member: *m,
                        kind: "new_lead",
                        client: Some(*id),
                        body: body.clone(),
                    });
                }
            }
        }
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
    leadteam_store::deadlines::set(&mut tx, &deadlines).await?;
    // A14: leads nobody could take alert the routing admins, once a burst.
    let backlogged: std::collections::BTreeSet<AccountId> = needs
        .iter()
        .zip(&routed)
        .filter(|(_, r)| r.decision.nobody_could)
        .map(|((a, _), _)| *a)
        .collect();
    for &account in &backlogged {
        let waiting = routed
            .iter()
            .zip(&needs)
            .filter(|(r, (a, _))| *a == account && r.decision.nobody_could)
            .map(|(r, _)| r.decision.reason.clone())
            .collect::<Vec<_>>();
        crate::backlog::alert_admins(&mut tx, account, &waiting, &mut notes, now).await?;
    }
    bulk::insert_events(&mut tx, &events, now).await?;
    bulk::insert_audit(&mut tx, &audits, now).await?;
    let note_ids = bulk::insert_notifications(&mut tx, &notes, now).await?;
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
    let events_out = crate::webhooks::emit_leads(&mut tx, &lead_events, now).await?;
    let mut alerts = Alerts::default();
    for (n, id) in notes.iter().zip(note_ids) {
        alerts.written(n.account, n.member, id, n.kind, n.client, &n.body, now);
    }

    // Answers for the duplicates.
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
    deliveries::record_many(&mut tx, &logged, now).await?;
    tx.commit().await?;
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
