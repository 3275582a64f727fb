//! Deleting one's own client (C6) and delivering a client to a member or a team (C9).

use super::*;
#[allow(unused_imports)]
use crate::trail::Audited;

/// Deletes a client assigned to oneself, with `clients.delete` (C6).
pub async fn delete(app: &App, caller: &Caller, id: ClientId) -> Result<(), AppError> {
    let actor = caller.actor()?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let (before, f) = load_visible(&mut tx, &actor, id, Lock::ForUpdate).await?;
    crate::auth::check(&actor, &Action::DeleteClient(&f))?;
    clients::delete(&mut tx, id).await?;
    crate::trail::change(&mut tx, &actor, "client.deleted", Some(&before), None, now).await?;
    tx.commit().await?;
    // Someone may have room for a waiting lead now (A11).
    app.routing_changed(actor.account);
    Ok(())
}

/// Where a delivery goes (C9).
#[derive(Debug, Clone, Copy)]
pub enum DeliverTo {
    Member(MemberId),
    Team(TeamId),
}

/// Hands a client to a member or a team with an outcome for reporting (C9).
pub async fn deliver(
    app: &App,
    caller: &Caller,
    id: ClientId,
    to: DeliverTo,
    outcome: &str,
) -> Result<ClientRow, AppError> {
    let actor = caller.actor()?.clone();
    // Reported by name in the team overview: a name's rules (X2).
    let outcome = Name::parse("outcome", outcome, 60)?;
    let outcome = outcome.as_str();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let (before, f) = load_visible(&mut tx, &actor, id, Lock::ForUpdate).await?;
    crate::auth::check(&actor, &Action::DeliverClient(&f))?;
    let first = crate::metrics::first_contact(&mut tx, &before, actor.member, now).await?;
    let mut alerts = Alerts::default();
    let data = match to {
        DeliverTo::Member(m) => {
            let to_member = target(&mut tx, actor.account, m, "to_member").await?;
            assign_locked(app, &mut tx, &actor, &before, &to_member, &mut alerts, now).await?;
            json!({"to_member": m.0, "outcome": outcome})
        }
        DeliverTo::Team(t) => {
            if !team_exists(&mut tx, actor.account, t).await? {
                return Err(AppError::field("to_team", "is not a team of this account"));
            }
            // A13: the team's round robin gives it to its next available
            // member, resolved now; the decision is stored like any (A12).
            let rule = leadteam_domain::routing::RuleRef::Team(t);
            let mut router = crate::router::Router::prepare(
                &app.routing_settings,
                &mut tx,
                [actor.account],
                now,
            )
            .await?;
            router.load(&mut tx, &[(actor.account, rule)]).await?;
            let routed = router.decide(actor.account, rule, &[]);
            let Some(m) = routed.assignee() else {
                return Err(AppError::Conflict {
                    message: format!(
                        "nobody in the team can take it now ({}); it stays where it is",
                        routed.decision.reason.trim_start_matches("unassigned: ")
                    ),
                    field: Some("to_team".into()),
                });
            };
            router.finish(&mut tx).await?;
            let to_member = target(&mut tx, actor.account, m, "to_team").await?;
            assign_locked(app, &mut tx, &actor, &before, &to_member, &mut alerts, now).await?;
            let record = serde_json::to_string(&routed.decision).unwrap_or_default();
            leadteam_store::backlog::record_decision(&mut tx, id, &routed.decision.reason, &record)
                .await?;
            clients::update(
                &mut tx,
                id,
                &ClientChanges {
                    team: Some(Some(t)),
                    ..Default::default()
                },
                now,
            )
            .await?;
            json!({"to_team": t.0, "to_member": m.0, "outcome": outcome})
        }
    };
    clients::update(
        &mut tx,
        id,
        &ClientChanges {
            outcome: Some(Some(outcome.to_owned())),
            ..Default::default()
        },
        now,
    )
    .await?;
    event(
        &mut tx,
        actor.account,
        id,
        "delivered",
        Some(actor.member),
        Some(outcome),
        Some(data.clone()),
        now,
    )
    .await?;
    let mut data_out = data.clone();
    data_out["client_id"] = json!(id.0);
    crate::trail::record(
        &mut tx,
        &actor,
        "client.delivered",
        "client",
        id.0,
        Some(before.picture()),
        Some(data),
        now,
    )
    .await?;
    let after = clients::get(&mut tx, actor.account, id, Lock::None)
        .await?
        .ok_or(AppError::NotFound("client"))?;
    crate::webhooks::emit(
        app,
        &mut tx,
        actor.account,
        "client.delivered",
        data_out,
        now,
    )
    .await?;
    tx.commit().await?;
    // Someone may have room for a waiting lead now (A11).
    app.routing_changed(actor.account);
    app.events_queued();
    alerts.publish(&app.bus);
    app.metrics.first_contact(first, now);
    if before.assignee.is_none() && after.assignee.is_some() {
        app.metrics.first_assigned(before.created_at, now);
    }
    Ok(after)
}
