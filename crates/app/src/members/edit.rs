//! Editing a member's role, permissions, agent flag, capacity and teams (M8, P4).

#[allow(unused_imports)]
use super::*;

/// Editable fields (M8: the email is not among them).
#[derive(Debug, Default)]
pub struct EditInput {
    pub role_id: Option<i64>,
    /// `Some(None)` drops the member's own permissions (back to the role's).
    pub permissions: Option<Option<Vec<String>>>,
    pub agent: Option<bool>,
    pub capacity: Option<Option<i64>>,
    pub teams: Option<Vec<i64>>,
}

pub async fn edit(
    app: &App,
    caller: &Caller,
    id: MemberId,
    input: EditInput,
) -> Result<MemberRow, AppError> {
    let actor = caller.actor()?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let before = load(&mut tx, actor.account, id, Lock::ForUpdate).await?;
    let mut ch = MemberChanges::default();
    let mut errs = ValidationErrors::default();
    let mut role_perms = None;
    if let Some(rid) = input.role_id {
        match members::role_of_account(&mut tx, actor.account, RoleId(rid)).await? {
            None => errs.push(leadteam_domain::FieldError::new(
                "role_id",
                "is not a role of this account",
            )),
            Some(r) if r.2.as_deref() == Some("owner") || before.is_owner => {
                errs.push(leadteam_domain::FieldError::new(
                    "role_id",
                    "the Owner role moves only by transferring ownership",
                ))
            }
            Some(r) => {
                ch.role = Some(r.0);
                role_perms = Some(r.3);
            }
        }
    }
    if let Some(p) = &input.permissions {
        match p {
            Some(names) => match PermissionSet::parse_names(names) {
                Ok(set) => ch.permissions = Some(Some(set)),
                Err(bad) => errs.push(leadteam_domain::FieldError::new(
                    "permissions",
                    format!("unknown permission {bad:?}"),
                )),
            },
            None => ch.permissions = Some(None),
        }
        if before.is_owner {
            errs.push(leadteam_domain::FieldError::new(
                "permissions",
                "the owner always holds every permission",
            ));
        }
    }
    if let Some(cap) = input.capacity {
        if let Some(n) = cap
            && !(0..=100_000).contains(&n)
        {
            errs.push(leadteam_domain::FieldError::new(
                "capacity",
                "must be between 0 and 100000 (no value: no limit)",
            ));
        }
        ch.capacity = Some(cap);
    }
    ch.agent = input.agent;
    errs.into_result()?;

    // The permissions the member will hold; only what is added counts as granted (P4).
    let override_after = match ch.permissions {
        Some(p) => p.map(PermissionSet::bits),
        None => before.permissions_override,
    };
    let role_after = match role_perms {
        Some(p) => p.bits(),
        None => members::role_of_account(&mut tx, actor.account, before.role_id)
            .await?
            .map(|r| r.3.bits())
            .unwrap_or(0),
    };
    let after_perms = accounts::effective_permissions(
        before.is_owner,
        override_after,
        role_after,
        ch.agent.unwrap_or(before.agent),
    );
    let added = after_perms.minus(before.permissions);
    let grants = if added.is_empty() { None } else { Some(added) };
    crate::auth::check(
        &actor,
        &Action::EditMember {
            target: &before.facts(),
            grants,
        },
    )?;

    members::update(&mut tx, id, &ch).await?;
    if let Some(teams) = &input.teams {
        let ids: Vec<TeamId> = teams.iter().map(|t| TeamId(*t)).collect();
        let unknown = members::set_teams(&mut tx, actor.account, id, &ids).await?;
        if !unknown.is_empty() {
            return Err(AppError::field(
                "teams",
                format!(
                    "not teams of this account: {}",
                    unknown
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    let after = load(&mut tx, actor.account, id, Lock::None).await?;
    crate::trail::change(
        &mut tx,
        caller,
        "member.updated",
        Some(&before),
        Some(&after),
        now,
    )
    .await?;
    tx.commit().await?;
    app.callers_changed();
    app.bus.publish(crate::bus::BusEvent::AccessChanged {
        account: actor.account,
        member: id,
    });
    // A raised capacity or an agent again may take waiting leads (A11).
    app.routing_changed(actor.account);
    Ok(after)
}
