//! Lead intake and automatic assignment (A1-A7, I1): a lead and its routing
//! decision are stored in one transaction, so concurrent senders on several
//! nodes never lose a lead, never assign one twice, and round-robin counts
//! hold.

use crate::App;
use crate::bus::Alerts;
use crate::error::AppError;
use leadteam_domain::routing::{
    ActionKind, LeadFacts, Outcome, RuleRef, SourceKind, decide_assignment, match_rule,
};
use leadteam_domain::validate::{Email, parse_phone};
use leadteam_domain::{ClientId, MemberId};
use leadteam_store::audit::{self, AuditEntry};
use leadteam_store::clients::{self, NewClient, NewEvent};
use leadteam_store::sources::{self, SourceRow};
use leadteam_store::{StoreError, rules};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// A lead as a source delivered it, already parsed from its wire format.
#[derive(Debug, Clone, Default)]
pub struct Lead {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub fields: BTreeMap<String, String>,
    /// The source's own id of the lead (dedupes retries).
    pub source_lead_id: Option<String>,
    pub facebook_page_id: Option<String>,
    pub facebook_form_id: Option<String>,
    /// Facebook sent only ids: the details are to be fetched from the Graph API.
    pub awaiting_details: bool,
}

/// What happened to a delivered lead.
#[derive(Debug, Clone)]
pub struct Ingested {
    pub client: ClientId,
    /// The lead was delivered before; nothing new was stored.
    pub duplicate: bool,
    pub assignee: Option<MemberId>,
    pub reason: String,
}

fn display_name(lead: &Lead) -> String {
    let n = lead
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if let Some(n) = n {
        return n.chars().take(200).collect();
    }
    if let Some(e) = &lead.email {
        return e.clone();
    }
    if let Some(p) = &lead.phone {
        return p.clone();
    }
    if lead.awaiting_details {
        return "Facebook lead (awaiting details)".to_owned();
    }
    "New lead".to_owned()
}

/// The members an action may give a lead to.
pub(crate) fn action_members(kind: &ActionKind<'_>) -> Vec<MemberId> {
    match kind {
        ActionKind::Unassigned => Vec::new(),
        ActionKind::Member(m) => vec![*m],
        ActionKind::RoundRobin(entries) => entries
            .iter()
            .filter(|e| e.enabled)
            .map(|e| e.member)
            .collect(),
    }
}

/// The round-robin counter of the rule that decided.
pub(crate) fn counter_key(account: leadteam_domain::AccountId, rule: RuleRef) -> String {
    match rule {
        RuleRef::Default => rules::default_key(account),
        RuleRef::Advanced(id) => rules::rule_key(id),
    }
}

/// Stores a lead from `source` and routes it. A lead delivered twice (same
/// source lead id, or same `Idempotency-Key`) is stored once.
pub async fn ingest(
    app: &App,
    source: &SourceRow,
    lead: Lead,
    idempotency_key: Option<&str>,
) -> Result<Ingested, AppError> {
    if !source.enabled {
        return Err(AppError::conflict(None, "this lead source is switched off"));
    }
    let kind = SourceKind::parse(&source.kind).unwrap_or(SourceKind::Webhook);
    // Contact details are kept even when malformed (nothing is lost): a bad
    // email or phone goes to the custom fields instead.
    let mut fields = lead.fields.clone();
    let email = match lead
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        Some(raw) => match Email::parse("email", raw) {
            Ok(e) => Some(e.into_string()),
            Err(_) => {
                fields.insert("email (as sent)".into(), raw.to_owned());
                None
            }
        },
        None => None,
    };
    let phone = match lead
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(raw) => match parse_phone("phone", raw) {
            Ok(p) => Some(p),
            Err(_) => {
                fields.insert("phone (as sent)".into(), raw.to_owned());
                None
            }
        },
        None => None,
    };
    let name = display_name(&Lead {
        email: email.clone(),
        phone: phone.clone(),
        ..lead.clone()
    });
    let facts = LeadFacts {
        source_kind: kind,
        source_id: Some(source.id),
        facebook_page_id: lead.facebook_page_id.clone(),
        facebook_form_id: lead.facebook_form_id.clone(),
        fields: fields.clone(),
    };
    let mut stored_fields: Map<String, Value> =
        fields.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    if let Some(p) = &lead.facebook_page_id {
        stored_fields.insert("facebook_page_id".into(), json!(p));
    }
    if let Some(f) = &lead.facebook_form_id {
        stored_fields.insert("facebook_form_id".into(), json!(f));
    }
    if lead.awaiting_details {
        stored_fields.insert("awaiting_details".into(), json!("true"));
    }
    let stored_fields = Value::Object(stored_fields);
    let account = source.account;
    let now = app.now();

    let mut tx = app.db.write().await?;
    if let Some(key) = idempotency_key
        && let Some(existing) = sources::client_of_key(&mut tx, source.id, key).await?
    {
        return duplicate(app, &mut tx, existing).await;
    }
    if let Some(lid) = &lead.source_lead_id
        && let Some(existing) = sources::client_of_source_lead(&mut tx, source.id, lid).await?
    {
        return duplicate(app, &mut tx, existing).await;
    }

    let rule_list = rules::list(&mut tx, account).await?;
    let default = rules::default_rule(&mut tx, account).await?;
    let (rule_ref, action) = match_rule(&rule_list, &default, &facts);
    let members = action_members(&action.kind);
    let position = if action.uses_position() {
        let key = counter_key(account, rule_ref);
        rules::next_position(&mut tx, app.db.engine(), &key).await?
    } else {
        0
    };
    let candidates = rules::candidates(&mut tx, account, &members, app.db.for_update()).await?;
    let decision = decide_assignment(action, &|m| candidates.get(&m).cloned(), position);
    let assignee = match decision.outcome {
        Outcome::Assigned(m) => Some(m),
        Outcome::Unassigned => None,
    };

    let inserted = clients::insert(
        &mut tx,
        NewClient {
            account,
            name: &name,
            email: email.as_deref(),
            phone: phone.as_deref(),
            source: kind.as_str(),
            source_id: Some(source.id.0),
            source_lead_id: lead.source_lead_id.as_deref(),
            fields: &stored_fields,
            team: None,
            assignee,
            routing_reason: Some(&decision.reason),
            created_by: None,
        },
        now,
    )
    .await;
    let id = match inserted {
        Ok(id) => id,
        Err(e) if e.is_unique_on("source") || matches!(e, StoreError::Unique { .. }) => {
            // The same lead arrived concurrently and the other delivery won.
            drop(tx);
            return replay(app, source, &lead, idempotency_key).await;
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(key) = idempotency_key
        && !sources::record_key(&mut tx, source.id, key, id, now).await?
    {
        drop(tx);
        return replay(app, source, &lead, idempotency_key).await;
    }
    let rule_json = match rule_ref {
        RuleRef::Default => json!("default"),
        RuleRef::Advanced(r) => json!(r.0),
    };
    clients::add_event(
        &mut tx,
        NewEvent {
            account,
            client: id,
            kind: "routed",
            actor: None,
            body: Some(&decision.reason),
            data: Some(json!({"rule": rule_json, "assignee": assignee.map(|m| m.0), "source": source.id.0})),
        },
        now,
    )
    .await?;
    audit::record(
        &mut tx,
        AuditEntry {
            account: Some(account),
            actor_user: None,
            actor_member: None,
            action: "client.routed",
            target_kind: Some("client"),
            target_id: Some(id.0),
            before: None,
            after: Some(json!({"assignee": assignee.map(|m| m.0), "reason": decision.reason, "rule": rule_json})),
        },
        now,
    )
    .await?;
    // Alerts (A6): an assigned lead alerts its assignee only; an unassigned
    // one alerts every active member who may see unassigned clients.
    let mut alerts = Alerts::default();
    let text = format!("New lead: {name}");
    match assignee {
        Some(m) => {
            alerts
                .add(&mut tx, account, m, "new_lead", Some(id), &text, now)
                .await?
        }
        None => {
            for m in rules::members_seeing_unassigned(&mut tx, account).await? {
                alerts
                    .add(&mut tx, account, m, "new_lead", Some(id), &text, now)
                    .await?;
            }
        }
    }
    tx.commit().await.map_err(StoreError::from)?;
    alerts.publish(&app.bus);
    Ok(Ingested {
        client: id,
        duplicate: false,
        assignee,
        reason: decision.reason,
    })
}

async fn duplicate(
    app: &App,
    conn: &mut leadteam_store::Conn,
    id: ClientId,
) -> Result<Ingested, AppError> {
    let _ = app;
    let row: Option<(Option<i64>, Option<String>)> = {
        let c = clients_row(conn, id).await?;
        c.map(|c| (c.assignee.map(|m| m.0), c.routing_reason))
    };
    let (assignee, reason) = row.unwrap_or((None, None));
    Ok(Ingested {
        client: id,
        duplicate: true,
        assignee: assignee.map(MemberId),
        reason: reason.unwrap_or_default(),
    })
}

async fn clients_row(
    conn: &mut leadteam_store::Conn,
    id: ClientId,
) -> Result<Option<clients::ClientRow>, AppError> {
    let account: Option<i64> = leadteam_store::sources::account_of_client(conn, id).await?;
    match account {
        Some(a) => Ok(clients::get(conn, leadteam_domain::AccountId(a), id, "").await?),
        None => Ok(None),
    }
}

/// After losing a race with a concurrent delivery of the same lead: answer
/// with the stored one.
async fn replay(
    app: &App,
    source: &SourceRow,
    lead: &Lead,
    key: Option<&str>,
) -> Result<Ingested, AppError> {
    let mut c = app.db.conn().await?;
    if let Some(k) = key
        && let Some(id) = sources::client_of_key(&mut c, source.id, k).await?
    {
        return duplicate(app, &mut c, id).await;
    }
    if let Some(lid) = &lead.source_lead_id
        && let Some(id) = sources::client_of_source_lead(&mut c, source.id, lid).await?
    {
        return duplicate(app, &mut c, id).await;
    }
    Err(AppError::conflict(
        None,
        "the lead was delivered concurrently; retry",
    ))
}
