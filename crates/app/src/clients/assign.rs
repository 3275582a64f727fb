//! Assigning, reassigning and bulk reassignment (C3, C4, C5, C7).

#[allow(unused_imports)]
use super::*;

/// Loads an active member of the account as an assignment target.
pub(super) async fn target(
    conn: &mut Conn,
    account: AccountId,
    to: MemberId,
    field: &str,
) -> Result<members::MemberRow, AppError> {
    let m = members::get(conn, account, to, Lock::None)
        .await?
        .ok_or_else(|| AppError::field(field, "is not a member of this account"))?;
    if m.status != MemberStatus::Active {
        return Err(AppError::field(field, "must be an active member"));
    }
    Ok(m)
}

/// Assigns or reassigns a client (C3); never back to unassigned (C4); the new
/// assignee is alerted when someone else assigned it (C7).
pub async fn assign(
    app: &App,
    caller: &Caller,
    id: ClientId,
    to: MemberId,
) -> Result<ClientRow, AppError> {
    let actor = caller.actor()?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let (before, f) = load_visible(&mut tx, &actor, id, Lock::ForUpdate).await?;
    let to_member = target(&mut tx, actor.account, to, "member_id").await?;
    crate::auth::check(
        &actor,
        &Action::AssignClient {
            client: &f,
            to: &to_member.facts(),
        },
    )?;
    let mut alerts = Alerts::default();
    assign_locked(app, &mut tx, &actor, &before, &to_member, &mut alerts, now).await?;
    let after = clients::get(&mut tx, actor.account, id, Lock::None)
        .await?
        .ok_or(AppError::NotFound("client"))?;
    tx.commit().await?;
    // Someone may have room for a waiting lead now (A11).
    app.routing_changed(actor.account);
    app.events_queued();
    alerts.publish(&app.bus);
    if before.assignee.is_none() {
        app.metrics.first_assigned(before.created_at, now);
    }
    Ok(after)
}

/// The assignment itself, on a row already locked and decided.
pub(super) async fn assign_locked(
    app: &App,
    tx: &mut Conn,
    actor: &Actor,
    before: &ClientRow,
    to: &members::MemberRow,
    alerts: &mut Alerts,
    now: Timestamp,
) -> Result<bool, AppError> {
    if before.assignee == Some(to.id) {
        return Ok(false);
    }
    if !clients::reassign(tx, actor.account, before.id, before.assignee, to.id, now).await? {
        return Err(AppError::conflict(
            None,
            "the client was reassigned meanwhile; reload and try again",
        ));
    }
    event(
        tx,
        actor.account,
        before.id,
        "assigned",
        Some(actor.member),
        None,
        Some(json!({"from": before.assignee.map(|m| m.0), "to": to.id.0})),
        now,
    )
    .await?;
    crate::trail::record(
        tx,
        actor,
        "client.assigned",
        "client",
        before.id.0,
        Some(json!({"assignee": before.assignee.map(|m| m.0)})),
        Some(json!({"assignee": to.id.0})),
        now,
    )
    .await?;
    crate::webhooks::emit(
        app,
        tx,
        actor.account,
        "lead.assigned",
        json!({"client_id": before.id.0, "assignee_id": to.id.0, "from_assignee_id": before.assignee.map(|m| m.0), "by_member_id": actor.member.0}),
        now,
    )
    .await?;
    if to.id != actor.member {
        alerts
            .add(
                tx,
                actor.account,
                to.id,
                "client_assigned",
                Some(before.id),
                &format!("{} was assigned to you", before.name),
                now,
            )
            .await?;
    }
    Ok(true)
}

/// Which clients a bulk reassignment takes (C5).
#[derive(Debug, Clone)]
pub enum BulkSelection {
    Ids(Vec<ClientId>),
    AllOf(MemberId),
    AllUnassigned,
}

/// What happened to one client of a bulk reassignment.
#[derive(Debug, Clone)]
pub struct BulkResult {
    pub client: ClientId,
    /// assigned | unchanged | refused | not_found
    pub outcome: &'static str,
    pub reason: Option<String>,
}

/// Bulk reassign (C5): on ordinary lists (`team_view = false`) only one's own
/// clients may be selected; on the team view any visible client. Each client
/// is decided on its own, inside one transaction with row locks, so a
/// concurrent claim never produces two assignees.
pub async fn bulk_assign(
    app: &App,
    caller: &Caller,
    selection: BulkSelection,
    to: MemberId,
    team_view: bool,
) -> Result<Vec<BulkResult>, AppError> {
    let actor = caller.actor()?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let to_member = target(&mut tx, actor.account, to, "to").await?;
    // For "all of a member" and "all unassigned", a client must still be in
    // that pool when its turn comes (a concurrent claim takes it out).
    let (ids, pool) = match selection {
        BulkSelection::Ids(ids) => {
            if ids.is_empty() || ids.len() > 1000 {
                return Err(AppError::field(
                    "client_ids",
                    "select between 1 and 1000 clients",
                ));
            }
            (ids, None)
        }
        BulkSelection::AllOf(m) => {
            members::get(&mut tx, actor.account, m, Lock::None)
                .await?
                .ok_or_else(|| AppError::field("from_member", "is not a member of this account"))?;
            (
                clients::ids_of(&mut tx, actor.account, Some(m)).await?,
                Some(Some(m)),
            )
        }
        BulkSelection::AllUnassigned => (
            clients::ids_of(&mut tx, actor.account, None).await?,
            Some(None),
        ),
    };
    let mut out = Vec::with_capacity(ids.len());
    let mut alerts = Alerts::default();
    let mut changed = 0usize;
    let mut first_assigned = Vec::new();
    for id in ids {
        let Some(before) = clients::get(&mut tx, actor.account, id, Lock::ForUpdate).await? else {
            out.push(BulkResult {
                client: id,
                outcome: "not_found",
                reason: None,
            });
            continue;
        };
        if let Some(expected) = pool
            && before.assignee != expected
        {
            out.push(BulkResult {
                client: id,
                outcome: "unchanged",
                reason: Some("it left the selection meanwhile (claimed or reassigned)".into()),
            });
            continue;
        }
        let f = facts(&mut tx, &actor, &before).await?;
        if decide(&actor, &Action::ViewClient(&f)).is_err() {
            // A client named by id is not found, as an unknown one; one the
            // caller may not see is no part of a member's or the unassigned
            // pool as the caller knows it, and not mentioned (P9).
            if pool.is_none() {
                out.push(BulkResult {
                    client: id,
                    outcome: "not_found",
                    reason: None,
                });
            }
            continue;
        }
        if !team_view && before.assignee != Some(actor.member) {
            out.push(BulkResult {
                client: id,
                outcome: "refused",
                reason: Some(
                    "on ordinary lists only your own clients can be reassigned; use the team view"
                        .into(),
                ),
            });
            continue;
        }
        if let Err(d) = decide(
            &actor,
            &Action::AssignClient {
                client: &f,
                to: &to_member.facts(),
            },
        ) {
            out.push(BulkResult {
                client: id,
                outcome: "refused",
                reason: Some(d.to_string()),
            });
            continue;
        }
        if assign_locked(app, &mut tx, &actor, &before, &to_member, &mut alerts, now).await? {
            changed += 1;
            if before.assignee.is_none() {
                first_assigned.push(before.created_at);
            }
            out.push(BulkResult {
                client: id,
                outcome: "assigned",
                reason: None,
            });
        } else {
            out.push(BulkResult {
                client: id,
                outcome: "unchanged",
                reason: Some("already assigned to this member".into()),
            });
        }
    }
    let _ = changed;
    tx.commit().await?;
    // Someone may have room for a waiting lead now (A11).
    app.routing_changed(actor.account);
    app.events_queued();
    alerts.publish(&app.bus);
    for created_at in first_assigned {
        app.metrics.first_assigned(created_at, now);
    }
    Ok(out)
}
