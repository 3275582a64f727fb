//! One intake transaction for a batch of leads: duplicates found, rules read
//! once per account, round-robin positions drawn per rule at once, candidates
//! read once (each assignment counting towards the capacity of the next
//! lead), then leads, idempotency keys, timeline events, audit rows and
//! alerts written with multi-row statements, and the alerts published after
//! the commit.

use super::{Ingested, Prepared, action_members, counter_key};
use crate::App;
use crate::bus::Alerts;
use crate::error::AppError;
use leadteam_domain::routing::{
    DefaultRule, Outcome, Rule, RuleRef, decide_assignment, match_rule,
};
use leadteam_domain::{AccountId, ClientId, MemberId};
use leadteam_store::Lock;
use leadteam_store::intake::{self as bulk, EventRow, LeadRow, NotificationRow, SystemAudit};
use leadteam_store::rules;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

/// What becomes of one lead of the batch.
enum Fate {
    /// Stored before this batch.
    Stored(ClientId),
    /// The same lead as the `usize`-th of this batch.
    SameAs(usize),
    /// New: the `usize`-th new lead.
    New(usize),
}

struct RuleSet {
    rules: Vec<Rule>,
    default: DefaultRule,
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

    // Routing (A1-A5): rules once per account, positions per rule at once,
    // candidates once per account.
    let mut sets: HashMap<AccountId, RuleSet> = HashMap::new();
    for &i in &fresh {
        let account = leads[i].source.account;
        if let std::collections::hash_map::Entry::Vacant(slot) = sets.entry(account) {
            slot.insert(RuleSet {
                rules: rules::list(&mut tx, account).await?,
                default: rules::default_rule(&mut tx, account).await?,
            });
        }
    }
    let mut matched = Vec::with_capacity(fresh.len());
    let mut needed: BTreeMap<String, u64> = BTreeMap::new();
    let mut members: HashMap<AccountId, Vec<MemberId>> = HashMap::new();
    for &i in &fresh {
        let l = &leads[i];
        let account = l.source.account;
        let Some(set) = sets.get(&account) else {
            return Err(AppError::Internal("rules of the account not loaded".into()));
        };
        let (rule, action) = match_rule(&set.rules, &set.default, &l.facts);
        if action.uses_position() {
            *needed.entry(counter_key(account, rule)).or_default() += 1;
        }
        let list = members.entry(account).or_default();
        for m in action_members(&action.kind) {
            if !list.contains(&m) {
                list.push(m);
            }
        }
        matched.push((rule, action));
    }
    let mut drawn: HashMap<String, std::vec::IntoIter<u64>> = HashMap::new();
    for (key, n) in needed {
        let p = rules::next_positions(&mut tx, &key, n).await?;
        drawn.insert(key, p.into_iter());
    }
    let mut candidates = HashMap::new();
    for (account, list) in &members {
        let found = rules::candidates(&mut tx, *account, list, Lock::ForUpdate).await?;
        candidates.insert(*account, found);
    }
    let mut decisions: Vec<(RuleRef, Option<MemberId>, String)> = Vec::with_capacity(fresh.len());
    for (&i, (rule, action)) in fresh.iter().zip(matched) {
        let account = leads[i].source.account;
        let position = if action.uses_position() {
            drawn
                .get_mut(&counter_key(account, rule))
                .and_then(Iterator::next)
                .unwrap_or(0)
        } else {
            0
        };
        let pool = candidates.entry(account).or_default();
        let d = decide_assignment(action, &|m| pool.get(&m).cloned(), position);
        let assignee = match d.outcome {
            Outcome::Assigned(m) => Some(m),
            Outcome::Unassigned => None,
        };
        if let Some(c) = assignee.and_then(|m| pool.get_mut(&m)) {
            c.open_clients = c.open_clients.saturating_add(1);
        }
        decisions.push((rule, assignee, d.reason));
    }

    // The writes.
    let rows: Vec<LeadRow> = fresh
        .iter()
        .zip(&decisions)
        .map(|(&i, (_, assignee, reason))| {
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
    tx.commit().await?;
    alerts.publish(&app.bus);
    for (_, assignee, reason) in &decisions {
        app.metrics.routed(assignee.is_some(), reason);
        if assignee.is_some() {
            app.metrics.first_assigned(now, now);
        }
    }
    if events_out {
        app.events_queued();
    }

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
