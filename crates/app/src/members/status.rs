//! Deactivation, reactivation and removal (M5, M6, M7).

use super::*;
#[allow(unused_imports)]
use crate::trail::Audited;

/// Deactivates (M5): access ends at once, assigned clients stay (M6).
pub async fn deactivate(app: &App, caller: &Caller, id: MemberId) -> Result<MemberRow, AppError> {
    set_active(app, caller, id, false).await
}

/// Reactivates a deactivated member (M5).
pub async fn reactivate(app: &App, caller: &Caller, id: MemberId) -> Result<MemberRow, AppError> {
    set_active(app, caller, id, true).await
}

async fn set_active(
    app: &App,
    caller: &Caller,
    id: MemberId,
    active: bool,
) -> Result<MemberRow, AppError> {
    let actor = caller.actor()?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let before = load(&mut tx, actor.account, id, Lock::ForUpdate).await?;
    let facts = before.facts();
    let action = if active {
        Action::ReactivateMember { target: &facts }
    } else {
        Action::DeactivateMember { target: &facts }
    };
    crate::auth::check(&actor, &action)?;
    if !active && id == actor.member {
        return Err(AppError::conflict(None, "you cannot deactivate yourself"));
    }
    let (from, to) = if active {
        (MemberStatus::Deactivated, MemberStatus::Active)
    } else {
        (MemberStatus::Active, MemberStatus::Deactivated)
    };
    if active && before.status == from {
        // B3: a reactivated member takes a seat again.
        crate::billing::check_seat_for_reactivation(&app.db, &mut tx, actor.account, now).await?;
    }
    if !members::set_status(&mut tx, id, from, to, now).await? {
        return Err(AppError::conflict(
            None,
            format!(
                "the member is {}, not {}",
                before.status.as_str(),
                from.as_str()
            ),
        ));
    }
    if let (false, Some(user)) = (active, before.user) {
        members::end_sessions_in_account(&mut tx, user, actor.account).await?;
    }
    if !active {
        // Its API keys stop working too (M5).
        leadteam_store::api_keys::revoke_all_of_member(&mut tx, id, now).await?;
        // X5: a deactivated member makes no contact; its first-contact
        // clocks run out now and its leads go on by their rules (A10).
        leadteam_store::deadlines::hasten_of_member(&mut tx, id, now).await?;
    }
    let after = load(&mut tx, actor.account, id, Lock::None).await?;
    // B2: billing stops at deactivation and restarts at reactivation; B4:
    // deactivation frees the licence.
    let kind = if active {
        SeatEventKind::Reactivated
    } else {
        SeatEventKind::Deactivated
    };
    crate::billing::record_seat(&mut tx, &after, kind, now).await?;
    let what = if active {
        "member.reactivated"
    } else {
        "member.deactivated"
    };
    crate::trail::change(&mut tx, caller, what, Some(&before), Some(&after), now).await?;
    if !active {
        crate::webhooks::emit(
            app,
            &mut tx,
            actor.account,
            "member.deactivated",
            serde_json::json!({"member_id": id.0, "name": after.name}),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    app.callers_changed();
    app.events_queued();
    app.bus.publish(crate::bus::BusEvent::AccessChanged {
        account: actor.account,
        member: id,
    });
    // A reactivated member may take waiting leads (A11); a deactivated
    // one's deadlines are due.
    app.routing_changed(actor.account);
    Ok(after)
}

/// What happens to a removed member's clients (M7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientsOnRemoval {
    MoveTo(MemberId),
    Delete,
}

/// What removing a member changes (X5), said before it is confirmed (a dry
/// run) and after.
#[derive(Debug, Clone, Default)]
pub struct RemovalPlan {
    /// Its clients, moved or deleted.
    pub clients: u64,
    /// Rules whose round robin it leaves.
    pub rules_left: Vec<(RuleId, String)>,
    /// Rules that give leads to it alone: their leads stay unassigned
    /// (saying it was removed) until the rule is changed.
    pub rules_without_target: Vec<(RuleId, String)>,
    /// It leaves the default rule's round robin.
    pub default_rule_left: bool,
    /// ... and nobody is left toggled in there.
    pub default_rule_without_target: bool,
    /// The teams it leaves.
    pub teams: Vec<(TeamId, String)>,
    /// Its API keys, revoked.
    pub api_keys: u64,
    /// The clients it was a guest of (P7), access ended.
    pub guest_of: u64,
}

/// Removes a member for good (M7): its clients move to a named active member
/// or are deleted, it leaves rules, round robins and teams (X5), and its row
/// stays as a tombstone history names (X4), all in one transaction. With
/// `dry_run` nothing is written and the plan says what would change.
pub async fn remove(
    app: &App,
    caller: &Caller,
    id: MemberId,
    clients: ClientsOnRemoval,
    dry_run: bool,
) -> Result<RemovalPlan, AppError> {
    let actor = caller.actor()?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let before = load(&mut tx, actor.account, id, Lock::ForUpdate).await?;
    crate::auth::check(
        &actor,
        &Action::RemoveMember {
            target: &before.facts(),
        },
    )?;
    if id == actor.member {
        return Err(AppError::conflict(None, "you cannot remove yourself"));
    }
    if let ClientsOnRemoval::MoveTo(to) = clients {
        if to == id {
            return Err(AppError::field(
                "move_to",
                "must be another member than the one removed",
            ));
        }
        let target = members::get(&mut tx, actor.account, to, Lock::None)
            .await?
            .ok_or_else(|| AppError::field("move_to", "is not a member of this account"))?;
        if target.status != MemberStatus::Active {
            return Err(AppError::field("move_to", "must be an active member"));
        }
    }
    let mut plan = plan_removal(&mut tx, actor.account, &before).await?;
    if dry_run {
        drop(tx);
        return Ok(plan);
    }
    let mut alerts = crate::bus::Alerts::default();
    plan.clients =
        clients_of_removed_member(&mut tx, actor.account, id, clients, &mut alerts, now).await?;
    alerts.access_changed(actor.account, id);
    if let Some(user) = before.user {
        members::end_sessions_in_account(&mut tx, user, actor.account).await?;
    }
    leave_rules(&mut tx, actor.account, id, now).await?;
    if before.status == MemberStatus::Invited {
        // Never a member: the row goes, as when an invitation is cancelled.
        members::delete(&mut tx, id).await?;
    } else {
        // B2: billing stops; B3: the purchased seats stay as they are.
        crate::billing::record_seat(&mut tx, &before, SeatEventKind::Removed, now).await?;
        members::mark_removed(&mut tx, actor.account, id, now).await?;
    }
    let mut after = json!({
        "removed": true,
        "clients": plan.clients,
        "rules_left": plan.rules_left.iter().map(|(r, _)| r.0).collect::<Vec<_>>(),
        "rules_without_target": plan.rules_without_target.iter().map(|(r, _)| r.0).collect::<Vec<_>>(),
        "default_rule_left": plan.default_rule_left,
        "teams": plan.teams.iter().map(|(t, _)| t.0).collect::<Vec<_>>(),
        "api_keys_revoked": plan.api_keys,
    });
    match clients {
        ClientsOnRemoval::MoveTo(to) => after["moved_to"] = json!(to.0),
        ClientsOnRemoval::Delete => after["clients_deleted"] = json!(true),
    }
    crate::trail::record(
        &mut tx,
        caller,
        "member.removed",
        "member",
        id.0,
        Some(before.picture()),
        Some(after),
        now,
    )
    .await?;
    crate::webhooks::emit(
        app,
        &mut tx,
        before.account,
        "member.removed",
        json!({"member_id": id.0, "name": before.name}),
        now,
    )
    .await?;
    tx.commit().await?;
    app.callers_changed();
    app.events_queued();
    alerts.publish(&app.bus);
    // Its round robins were rewritten (X5).
    app.routing_settings_changed(before.account);
    Ok(plan)
}

/// What removing `m` changes (see [`RemovalPlan`]).
async fn plan_removal(
    conn: &mut Conn,
    account: AccountId,
    m: &MemberRow,
) -> Result<RemovalPlan, AppError> {
    use leadteam_store::{api_keys, clients, rules};
    let mut plan = RemovalPlan {
        clients: clients::ids_of(conn, account, Some(m.id)).await?.len() as u64,
        teams: m.teams.clone(),
        api_keys: api_keys::live_of_member(conn, m.id).await?,
        guest_of: clients::guest_count(conn, m.id).await?,
        ..RemovalPlan::default()
    };
    for rule in rules::list(conn, account).await? {
        if rule.action.only_target_is(m.id) {
            plan.rules_without_target.push((rule.id, rule.name.clone()));
        }
        if rule.action.without(m.id).is_some() {
            plan.rules_left.push((rule.id, rule.name));
        }
    }
    let default = rules::default_rule(conn, account).await?;
    if let Some(after) = default.without(m.id) {
        plan.default_rule_left = true;
        plan.default_rule_without_target = match after {
            leadteam_domain::routing::DefaultRule::RoundRobin(entries) => {
                !entries.iter().any(|e| e.enabled)
            }
            leadteam_domain::routing::DefaultRule::Unassigned => false,
        };
    }
    Ok(plan)
}

/// Takes a removed member out of every round robin (X5); rules that give
/// leads to it alone keep naming it (see `RuleAction::without`).
async fn leave_rules(
    conn: &mut Conn,
    account: AccountId,
    member: MemberId,
    now: Timestamp,
) -> Result<(), AppError> {
    use leadteam_store::rules;
    for rule in rules::list(conn, account).await? {
        if let Some(action) = rule.action.without(member) {
            rules::update(
                conn,
                &leadteam_domain::routing::Rule { action, ..rule },
                now,
            )
            .await?;
        }
    }
    let (default, contact) = rules::default_with_contact(conn, account).await?;
    if let Some(default) = default.without(member) {
        rules::set_default(conn, account, &default, contact, now).await?;
    }
    Ok(())
}

/// Looks up whether the signed-in user can still act in the account (used by SSE and pages).
pub fn ensure_active(caller: &Caller) -> Result<(), AppError> {
    match &caller.actor {
        Some(a) if a.status == MemberStatus::Active => Ok(()),
        _ => Err(AppError::Unauthenticated(AuthFailure::NoAccount)),
    }
}

/// Moves or deletes the clients of a member being removed (M7), in the
/// removal's transaction; returns how many clients were affected.
async fn clients_of_removed_member(
    conn: &mut Conn,
    account: AccountId,
    member: MemberId,
    choice: ClientsOnRemoval,
    alerts: &mut crate::bus::Alerts,
    now: Timestamp,
) -> Result<u64, AppError> {
    use leadteam_store::clients;
    match choice {
        ClientsOnRemoval::MoveTo(to) => {
            let moved = clients::move_all(conn, account, member, to, now).await?;
            for id in &moved {
                clients::add_event(
                    conn,
                    clients::NewEvent {
                        account,
                        client: *id,
                        kind: "assigned",
                        actor: None,
                        body: Some("moved when its member was removed"),
                        data: Some(json!({"from": member.0, "to": to.0})),
                    },
                    now,
                )
                .await?;
            }
            if !moved.is_empty() {
                alerts
                    .add(
                        conn,
                        account,
                        to,
                        "clients_assigned",
                        None,
                        &format!(
                            "{} clients were moved to you from a removed member",
                            moved.len()
                        ),
                        now,
                    )
                    .await?;
            }
            Ok(moved.len() as u64)
        }
        ClientsOnRemoval::Delete => Ok(clients::delete_all_of(conn, account, member).await?),
    }
}
