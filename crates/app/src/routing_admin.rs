//! Configuring lead sources and assignment rules (I1, I2, A1-A3): every call
//! needs `integrations.manage`.

pub use leadteam_store::sources::SourceRow;

use crate::App;
use crate::auth::{Caller, random_token};
use crate::error::AppError;
use leadteam_domain::authz::{Action, Actor};
use leadteam_domain::routing::{
    ContactLimit, Criterion, DefaultRule, Direction, Rule, RuleAction, SourceKind, move_rule,
};
use leadteam_domain::validate::Name;
use leadteam_domain::{FieldError, MemberId, RuleId, SourceId, ValidationErrors};
use leadteam_store::Lock;
use leadteam_store::sources::{self, NewSource};
use leadteam_store::{Conn, StoreError, members, rules};
use serde_json::json;

/// A source with its secret, shown once (creation and rotation).
#[derive(Debug, Clone)]
pub struct SourceWithSecret {
    pub source: SourceRow,
    pub secret: String,
    pub verify_token: Option<String>,
    /// A secret URL token issued with it (shown once too).
    pub url_token: Option<String>,
}

pub async fn list_sources(app: &App, caller: &Caller) -> Result<Vec<SourceRow>, AppError> {
    let actor = caller.may(&Action::ManageIntegrations)?;
    let mut c = app.db.conn().await?;
    Ok(sources::list(&mut c, actor.account).await?)
}

/// Creates a source; `setup` sets its integration at once (a form's
/// settings, a secret URL, Facebook's secrets), in the same transaction.
pub async fn create_source(
    app: &App,
    caller: &Caller,
    kind: &str,
    name: &str,
    setup: crate::integrations::Setup,
) -> Result<SourceWithSecret, AppError> {
    let actor = caller.may(&Action::ManageIntegrations)?.clone();
    let mut errs = ValidationErrors::default();
    // A hosted form (I4) is stored as kind `form`; leads from it are website leads.
    let k = match kind {
        "form" => Some("form"),
        _ => match SourceKind::parse(kind) {
            Some(
                k @ (SourceKind::Website
                | SourceKind::Webhook
                | SourceKind::Facebook
                | SourceKind::Google),
            ) => Some(k.as_str()),
            _ => {
                errs.push(FieldError::new(
                    "kind",
                    "must be form, website, webhook, facebook or google",
                ));
                None
            }
        },
    };
    let name = errs.take(Name::parse("name", name, 100));
    errs.into_result()?;
    let (Some(k), Some(name)) = (k, name) else {
        return Err(AppError::Internal("validation inconsistency".into()));
    };
    let fb = setup.facebook.clone().unwrap_or_default();
    let secret = fb.app_secret.clone().unwrap_or_else(random_token);
    let verify = (k == "facebook").then(|| fb.verify_token.clone().unwrap_or_else(random_token));
    let now = app.now();
    let mut tx = app.db.write().await?;
    let id = sources::insert(
        &mut tx,
        NewSource {
            account: actor.account,
            kind: k,
            name: name.as_str(),
            secret: &secret,
            verify_token: verify.as_deref(),
        },
        now,
    )
    .await
    .map_err(|e| match e {
        StoreError::Unique { .. } => AppError::conflict(
            Some("name"),
            "a lead source of this account already has this name",
        ),
        other => other.into(),
    })?;
    crate::trail::record(
        &mut tx,
        &actor,
        "lead_source.created",
        "lead_source",
        id.0,
        None,
        Some(json!({"kind": k, "name": name.as_str()})),
        now,
    )
    .await?;
    if k == "form" {
        crate::integrations::new_form(&mut tx, id).await?;
    }
    let created = sources::get(&mut tx, actor.account, id)
        .await?
        .ok_or(AppError::NotFound("lead source"))?;
    let applied = crate::integrations::apply(&mut tx, &created, setup, now).await?;
    let source = sources::get(&mut tx, actor.account, id)
        .await?
        .ok_or(AppError::NotFound("lead source"))?;
    tx.commit().await?;
    if applied.lookup_queued {
        app.events_queued();
    }
    Ok(SourceWithSecret {
        source,
        secret,
        verify_token: verify,
        url_token: applied.url_token,
    })
}

pub async fn update_source(
    app: &App,
    caller: &Caller,
    id: SourceId,
    name: Option<&str>,
    enabled: Option<bool>,
    rotate: bool,
) -> Result<(SourceRow, Option<SourceWithSecret>), AppError> {
    let actor = caller.may(&Action::ManageIntegrations)?.clone();
    let name = name.map(|n| Name::parse("name", n, 100)).transpose()?;
    let now = app.now();
    let mut tx = app.db.write().await?;
    let before = sources::get(&mut tx, actor.account, id)
        .await?
        .ok_or(AppError::NotFound("lead source"))?;
    sources::update(&mut tx, id, name.as_ref().map(Name::as_str), enabled)
        .await
        .map_err(|e| match e {
            StoreError::Unique { .. } => AppError::conflict(
                Some("name"),
                "a lead source of this account already has this name",
            ),
            other => other.into(),
        })?;
    let mut rotated = None;
    if rotate {
        let secret = random_token();
        let verify = (before.kind == "facebook").then(random_token);
        sources::rotate(&mut tx, id, &secret, verify.as_deref(), now).await?;
        rotated = Some((secret, verify));
    }
    let after = sources::get(&mut tx, actor.account, id)
        .await?
        .ok_or(AppError::NotFound("lead source"))?;
    crate::trail::record(
        &mut tx,
        &actor,
        "lead_source.updated",
        "lead_source",
        id.0,
        Some(json!({"name": before.name, "enabled": before.enabled})),
        Some(json!({"name": after.name, "enabled": after.enabled, "secret_rotated": rotate})),
        now,
    )
    .await?;
    tx.commit().await?;
    app.sources_changed(actor.account, Some(id));
    let with = rotated.map(|(secret, verify_token)| SourceWithSecret {
        source: after.clone(),
        secret,
        verify_token,
        url_token: None,
    });
    Ok((after, with))
}

pub async fn delete_source(app: &App, caller: &Caller, id: SourceId) -> Result<(), AppError> {
    let actor = caller.may(&Action::ManageIntegrations)?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let before = sources::get(&mut tx, actor.account, id)
        .await?
        .ok_or(AppError::NotFound("lead source"))?;
    sources::delete(&mut tx, id).await?;
    crate::trail::record(
        &mut tx,
        &actor,
        "lead_source.deleted",
        "lead_source",
        id.0,
        Some(json!({"name": before.name, "kind": before.kind})),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    app.sources_changed(actor.account, Some(id));
    Ok(())
}

/// The rules of an account, top to bottom, and the default rule (always
/// last) with its first-contact limit.
#[derive(Debug, Clone)]
pub struct RuleBook {
    pub rules: Vec<Rule>,
    pub default: DefaultRule,
    pub default_contact: Option<ContactLimit>,
}

/// The rules of the account, top to bottom, and the default rule (always last).
pub async fn list_rules(app: &App, caller: &Caller) -> Result<RuleBook, AppError> {
    let actor = caller.may(&Action::ManageIntegrations)?;
    let mut c = app.db.conn().await?;
    let (default, default_contact) = rules::default_with_contact(&mut c, actor.account).await?;
    Ok(RuleBook {
        rules: rules::list(&mut c, actor.account).await?,
        default,
        default_contact,
    })
}

/// Checks that every member a rule names belongs to the account, and every
/// source it names too.
async fn check_refs(
    conn: &mut Conn,
    actor: &Actor,
    criteria: &[Criterion],
    members_named: &[(String, MemberId)],
    team_named: Option<(String, leadteam_domain::TeamId)>,
) -> Result<(), AppError> {
    let mut errs = ValidationErrors::default();
    if let Some((field, t)) = team_named
        && leadteam_store::teams::get(conn, actor.account, t, Lock::None)
            .await?
            .is_none()
    {
        errs.push(FieldError::new(field, "is not a team of this account"));
    }
    for (field, m) in members_named {
        if members::get(conn, actor.account, *m, Lock::None)
            .await?
            .is_none()
        {
            errs.push(FieldError::new(
                field.clone(),
                "is not a member of this account",
            ));
        }
    }
    for (i, c) in criteria.iter().enumerate() {
        if let Criterion::Source(s) = c
            && sources::get(conn, actor.account, *s).await?.is_none()
        {
            errs.push(FieldError::new(
                format!("criteria[{i}].source_id"),
                "is not a lead source of this account",
            ));
        }
    }
    errs.into_result()?;
    Ok(())
}

fn named_team(field: &str, action: &RuleAction) -> Option<(String, leadteam_domain::TeamId)> {
    match action {
        RuleAction::Team(t) => Some((format!("{field}.team_id"), *t)),
        _ => None,
    }
}

fn named_members(field: &str, action: &RuleAction) -> Vec<(String, MemberId)> {
    match action {
        RuleAction::Unassigned | RuleAction::Team(_) => Vec::new(),
        RuleAction::Member(m) => vec![(format!("{field}.member_id"), *m)],
        RuleAction::RoundRobin(entries) => entries
            .iter()
            .enumerate()
            .map(|(i, e)| (format!("{field}.members[{i}].member_id"), e.member))
            .collect(),
    }
}

pub async fn set_default_rule(
    app: &App,
    caller: &Caller,
    rule: DefaultRule,
    contact: Option<ContactLimit>,
) -> Result<DefaultRule, AppError> {
    let actor = caller.may(&Action::ManageIntegrations)?.clone();
    rule.check()?;
    let named = match &rule {
        DefaultRule::Unassigned => Vec::new(),
        DefaultRule::RoundRobin(e) => named_members("action", &RuleAction::RoundRobin(e.clone())),
    };
    let now = app.now();
    let mut tx = app.db.write().await?;
    check_refs(&mut tx, &actor, &[], &named, None).await?;
    let before = rules::default_rule(&mut tx, actor.account).await?;
    rules::set_default(&mut tx, actor.account, &rule, contact, now).await?;
    crate::trail::record(
        &mut tx,
        &actor,
        "assignment_rule.default_set",
        "account",
        actor.account.0,
        serde_json::to_value(&before).ok(),
        serde_json::to_value(&rule).ok().map(|mut v| {
            v["first_contact"] = serde_json::to_value(contact).unwrap_or_default();
            v
        }),
        now,
    )
    .await?;
    tx.commit().await?;
    app.routing_settings_changed(actor.account);
    Ok(rule)
}

pub async fn create_rule(
    app: &App,
    caller: &Caller,
    name: &str,
    criteria: Vec<Criterion>,
    action: RuleAction,
    contact: Option<ContactLimit>,
) -> Result<Rule, AppError> {
    let actor = caller.may(&Action::ManageIntegrations)?.clone();
    let name = Name::parse("name", name, Rule::MAX_NAME_CHARS)?.into_string();
    let draft = Rule {
        id: RuleId(0),
        name: name.clone(),
        criteria,
        action,
        contact,
    };
    draft.check()?;
    let now = app.now();
    let mut tx = app.db.write().await?;
    check_refs(
        &mut tx,
        &actor,
        &draft.criteria,
        &named_members("action", &draft.action),
        named_team("action", &draft.action),
    )
    .await?;
    let id = rules::insert(
        &mut tx,
        actor.account,
        &name,
        &draft.criteria,
        &draft.action,
        draft.contact,
        now,
    )
    .await?;
    let rule = Rule { id, ..draft };
    crate::trail::record(
        &mut tx,
        &actor,
        "assignment_rule.created",
        "assignment_rule",
        id.0,
        None,
        serde_json::to_value(&rule).ok(),
        now,
    )
    .await?;
    tx.commit().await?;
    app.routing_settings_changed(actor.account);
    Ok(rule)
}

async fn load_rule(
    conn: &mut Conn,
    actor: &Actor,
    id: RuleId,
) -> Result<(Vec<Rule>, Rule), AppError> {
    let all = rules::list(conn, actor.account).await?;
    let rule = all
        .iter()
        .find(|r| r.id == id)
        .cloned()
        .ok_or(AppError::NotFound("assignment rule"))?;
    Ok((all, rule))
}

pub async fn update_rule(
    app: &App,
    caller: &Caller,
    id: RuleId,
    name: Option<&str>,
    criteria: Option<Vec<Criterion>>,
    action: Option<RuleAction>,
    contact: Option<Option<ContactLimit>>,
) -> Result<Rule, AppError> {
    let actor = caller.may(&Action::ManageIntegrations)?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let (_, before) = load_rule(&mut tx, &actor, id).await?;
    let rule = Rule {
        id,
        name: match name {
            Some(n) => Name::parse("name", n, Rule::MAX_NAME_CHARS)?.into_string(),
            None => before.name.clone(),
        },
        criteria: criteria.unwrap_or_else(|| before.criteria.clone()),
        action: action.unwrap_or_else(|| before.action.clone()),
        contact: contact.unwrap_or(before.contact),
    };
    rule.check()?;
    check_refs(
        &mut tx,
        &actor,
        &rule.criteria,
        &named_members("action", &rule.action),
        named_team("action", &rule.action),
    )
    .await?;
    rules::update(&mut tx, &rule, now).await?;
    crate::trail::record(
        &mut tx,
        &actor,
        "assignment_rule.updated",
        "assignment_rule",
        id.0,
        serde_json::to_value(&before).ok(),
        serde_json::to_value(&rule).ok(),
        now,
    )
    .await?;
    tx.commit().await?;
    app.routing_settings_changed(actor.account);
    Ok(rule)
}

pub async fn delete_rule(app: &App, caller: &Caller, id: RuleId) -> Result<(), AppError> {
    let actor = caller.may(&Action::ManageIntegrations)?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let (_, before) = load_rule(&mut tx, &actor, id).await?;
    rules::delete(&mut tx, id).await?;
    crate::trail::record(
        &mut tx,
        &actor,
        "assignment_rule.deleted",
        "assignment_rule",
        id.0,
        serde_json::to_value(&before).ok(),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    app.routing_settings_changed(actor.account);
    Ok(())
}

/// Moves a rule one place up or down (A3).
pub async fn move_rule_by_one(
    app: &App,
    caller: &Caller,
    id: RuleId,
    dir: Direction,
) -> Result<Vec<Rule>, AppError> {
    let actor = caller.may(&Action::ManageIntegrations)?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let (all, _) = load_rule(&mut tx, &actor, id).await?;
    let mut order: Vec<RuleId> = all.iter().map(|r| r.id).collect();
    let before: Vec<i64> = order.iter().map(|r| r.0).collect();
    move_rule(&mut order, id, dir)
        .map_err(|e| AppError::conflict(Some("direction"), e.to_string()))?;
    rules::reorder(&mut tx, &order).await?;
    crate::trail::record(
        &mut tx,
        &actor,
        "assignment_rule.moved",
        "assignment_rule",
        id.0,
        Some(json!({"order": before})),
        Some(json!({"order": order.iter().map(|r| r.0).collect::<Vec<_>>()})),
        now,
    )
    .await?;
    let after = rules::list(&mut tx, actor.account).await?;
    tx.commit().await?;
    app.routing_settings_changed(actor.account);
    Ok(after)
}
