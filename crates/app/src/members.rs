//! Members and invitations (M1-M9, P4, O2, X1).

pub use leadteam_store::members::MemberRow;

use crate::App;
use crate::auth::{Caller, ClientInfo, NewSessionToken, random_token};
use crate::error::{AppError, AuthFailure};
use crate::invitations::LINK_DEAD;
use leadteam_domain::authz::{Action, MemberStatus, Permission, PermissionSet};
use leadteam_domain::billing::SeatEventKind;
use leadteam_domain::secret::token_hash;
use leadteam_domain::validate::{Email, Name, NewPassword};
use leadteam_domain::{AccountId, MemberId, RoleId, TeamId, Timestamp, ValidationErrors};
use leadteam_store::Lock;
use leadteam_store::audit::{self, AuditEntry};
use leadteam_store::members::{self, MemberChanges, NewInvited};
use leadteam_store::{Conn, accounts, invitations, outbox, users};
use serde_json::{Value, json};

/// The audit picture of a member (before/after).
pub fn snapshot(m: &MemberRow) -> Value {
    json!({
        "id": m.id.0,
        "email": m.email,
        "name": m.name,
        "status": m.status.as_str(),
        "role": m.role_name,
        "permissions": m.permissions.names(),
        "agent": m.agent,
        "capacity": m.capacity,
        "teams": m.teams.iter().map(|t| t.0.0).collect::<Vec<_>>(),
        "is_owner": m.is_owner,
    })
}

pub(crate) async fn audit_member(
    conn: &mut Conn,
    caller: &Caller,
    action: &str,
    member: MemberId,
    before: Option<Value>,
    after: Option<Value>,
    now: Timestamp,
) -> Result<(), AppError> {
    crate::trail::record(conn, caller, action, "member", member.0, before, after, now).await
}

fn account_of(caller: &Caller) -> Result<AccountId, AppError> {
    Ok(caller.actor()?.account)
}

/// Loads a member of the caller's account or answers 404.
async fn load(
    conn: &mut Conn,
    account: AccountId,
    id: MemberId,
    lock: Lock,
) -> Result<MemberRow, AppError> {
    members::get(conn, account, id, lock)
        .await?
        .ok_or(AppError::NotFound("member"))
}

pub async fn list(
    app: &App,
    caller: &Caller,
    status: Option<&str>,
) -> Result<Vec<MemberRow>, AppError> {
    let actor = caller.may(&Action::ListMembers)?;
    let status = match status {
        None | Some("") | Some("all") => None,
        Some(s) => Some(MemberStatus::parse(s).ok_or_else(|| {
            AppError::field("status", "must be one of invited, active, deactivated, all")
        })?),
    };
    let mut c = app.db.conn().await?;
    Ok(members::list(&mut c, actor.account, status).await?)
}

pub async fn get(app: &App, caller: &Caller, id: MemberId) -> Result<MemberRow, AppError> {
    let actor = caller.may(&Action::ListMembers)?;
    let mut c = app.db.conn().await?;
    load(&mut c, actor.account, id, Lock::None).await
}

/// What to invite.
#[derive(Debug, Default)]
pub struct InviteInput<'a> {
    pub name: &'a str,
    pub email: &'a str,
    /// A role id of the account; default: the Member preset.
    pub role_id: Option<i64>,
    /// A preset key or role name, used when `role_id` is absent.
    pub role_key: Option<&'a str>,
    /// Own permissions instead of the role's.
    pub permissions: Option<&'a [String]>,
    /// Takes part in automatic assignment; default: the role's `agent`.
    pub agent: Option<bool>,
}

fn parse_permissions(field: &str, names: &[String]) -> Result<PermissionSet, AppError> {
    PermissionSet::parse_names(names)
        .map_err(|bad| AppError::field(field, format!("unknown permission {bad:?}")))
}

/// Invites a person by name, email and role (M1); the email goes out through
/// the outbox in the same transaction.
pub async fn invite(
    app: &App,
    caller: &Caller,
    input: InviteInput<'_>,
) -> Result<MemberRow, AppError> {
    let mut tx = app.db.write().await?;
    let row = invite_in(app, &mut tx, caller, input).await?;
    tx.commit().await?;
    app.mail_queued();
    Ok(row)
}

/// `invite` inside the caller's transaction (guests are invited with their client).
pub(crate) async fn invite_in(
    app: &App,
    tx: &mut Conn,
    caller: &Caller,
    input: InviteInput<'_>,
) -> Result<MemberRow, AppError> {
    let actor = caller.actor()?.clone();
    let mut errs = ValidationErrors::default();
    let name = errs.take(Name::parse("name", input.name, 100));
    let email = errs.take(Email::parse("email", input.email));
    let perms = match input.permissions {
        Some(p) => match parse_permissions("permissions", p) {
            Ok(set) => Some(set),
            Err(AppError::Validation(v)) => {
                errs.0.extend(v.0);
                None
            }
            Err(e) => return Err(e),
        },
        None => None,
    };
    errs.into_result()?;
    let (Some(name), Some(email)) = (name, email) else {
        return Err(AppError::Internal("validation inconsistency".into()));
    };
    let now = app.now();
    let role = match input.role_id {
        Some(id) => members::role_of_account(tx, actor.account, RoleId(id))
            .await?
            .ok_or_else(|| AppError::field("role_id", "is not a role of this account"))?,
        None => {
            let key = input.role_key.unwrap_or("member");
            let id = members::role_by_key_or_name(tx, actor.account, key)
                .await?
                .ok_or_else(|| AppError::field("role_id", "is required"))?;
            members::role_of_account(tx, actor.account, id)
                .await?
                .ok_or_else(|| AppError::field("role_id", "is required"))?
        }
    };
    if role.2.as_deref() == Some("owner") {
        return Err(AppError::field(
            "role_id",
            "nobody is invited as owner: invite an admin and transfer ownership",
        ));
    }
    let agent = input.agent.unwrap_or(role.3.contains(Permission::Agent));
    let base = perms.unwrap_or(role.3);
    let grants = if agent {
        base.with(Permission::Agent)
    } else {
        base.without(Permission::Agent)
    };
    leadteam_domain::authz::decide(&actor, &Action::InviteMember { grants })?;
    if let Some(existing) = members::by_email(tx, actor.account, email.as_str()).await? {
        let msg = match existing.status {
            MemberStatus::Invited => {
                "this person is already invited: resend the invitation instead"
            }
            _ => "this person is already a member of the account",
        };
        return Err(AppError::conflict(Some("email"), msg));
    }
    // B3 (B1): no invitation beyond the purchased seats once the trial is over.
    crate::billing::check_seat_for_invite(&app.db, tx, actor.account, now).await?;
    let id = members::insert_invited(
        tx,
        NewInvited {
            account: actor.account,
            email: email.as_str(),
            name: name.as_str(),
            role: role.0,
            permissions: perms,
            agent,
        },
        now,
    )
    .await?;
    send_invitation(app, tx, caller, id, email.as_str(), &role.1, now).await?;
    let row = load(tx, actor.account, id, Lock::None).await?;
    audit_member(
        tx,
        caller,
        "member.invited",
        id,
        None,
        Some(snapshot(&row)),
        now,
    )
    .await?;
    Ok(row)
}

/// Issues a fresh link (replacing any older one) and queues the email.
async fn send_invitation(
    app: &App,
    conn: &mut Conn,
    caller: &Caller,
    member: MemberId,
    email: &str,
    role_name: &str,
    now: Timestamp,
) -> Result<(), AppError> {
    let account = account_of(caller)?;
    let token = random_token();
    let expires = now.plus_millis(app.config.invite_ttl_ms);
    invitations::upsert(
        conn,
        invitations::NewInvitation {
            member,
            account,
            email,
            token_hash: &token_hash(&token),
            invited_by: caller.actor.as_ref().map(|a| a.member),
        },
        now,
        expires,
    )
    .await?;
    let account_name = accounts::by_id(conn, account)
        .await?
        .map(|a| a.name)
        .unwrap_or_default();
    let link = format!(
        "{}/invitations/accept?token={token}",
        app.config.base_url.trim_end_matches('/')
    );
    let days = app.config.invite_ttl_ms / 86_400_000;
    let body = format!(
        "Hello,\n\n{inviter} invited you to join {account_name} on leadteam as {role_name}.\n\n\
         Accept the invitation:\n{link}\n\n\
         The link works once and expires in {days} day(s). If you did not expect this, ignore this email.\n",
        inviter = caller.name,
    );
    outbox::enqueue(
        conn,
        outbox::NewMessage {
            account: Some(account),
            to: email,
            subject: &format!("You are invited to join {account_name} on leadteam"),
            body_text: &body,
            kind: "invitation",
        },
        now,
    )
    .await?;
    Ok(())
}

/// Re-sends the invitation: a new link, the old one stops working (M3).
pub async fn resend(app: &App, caller: &Caller, id: MemberId) -> Result<MemberRow, AppError> {
    caller.may(&Action::ManageInvitation)?;
    let account = account_of(caller)?;
    let now = app.now();
    let mut tx = app.db.write().await?;
    let m = load(&mut tx, account, id, Lock::ForUpdate).await?;
    if m.status != MemberStatus::Invited {
        return Err(AppError::conflict(
            None,
            "only an invited member can be re-sent an invitation",
        ));
    }
    send_invitation(app, &mut tx, caller, id, &m.email, &m.role_name, now).await?;
    audit_member(
        &mut tx,
        caller,
        "member.invitation_resent",
        id,
        None,
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    app.mail_queued();
    Ok(m)
}

/// Cancels an invitation: the link stops working and the member row goes (M3).
pub async fn cancel(app: &App, caller: &Caller, id: MemberId) -> Result<(), AppError> {
    caller.may(&Action::ManageInvitation)?;
    let account = account_of(caller)?;
    let now = app.now();
    let mut tx = app.db.write().await?;
    let m = load(&mut tx, account, id, Lock::ForUpdate).await?;
    if m.status != MemberStatus::Invited {
        return Err(AppError::conflict(
            None,
            "only a pending invitation can be cancelled; remove the member instead",
        ));
    }
    members::delete(&mut tx, id).await?;
    audit_member(
        &mut tx,
        caller,
        "member.invitation_cancelled",
        id,
        Some(snapshot(&m)),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// How the person accepting proves who it is.
#[derive(Debug, Default)]
pub struct AcceptInput<'a> {
    pub token: &'a str,
    /// For a new user: the name to use (default: the invited name).
    pub name: Option<&'a str>,
    /// A new user's password, or an existing user's current password.
    pub password: Option<&'a str>,
}

/// Accepts an invitation (M4): a new user sets a password; an existing user
/// with that email proves it is them (signed in as that email, or its
/// password). The member becomes active and the user is signed in to the account.
pub async fn accept(
    app: &App,
    input: AcceptInput<'_>,
    signed_in: Option<&Caller>,
    client: &ClientInfo,
) -> Result<(MemberRow, NewSessionToken), AppError> {
    let now = app.now();
    // Work out the path (and do the slow password work) before the write lock.
    let mut c = app.db.conn().await?;
    let inv = crate::invitations::live(&mut c, input.token, now, Lock::None).await?;
    let hash = token_hash(input.token.trim());
    let existing = users::by_email(&mut c, &inv.email).await?;
    drop(c);
    let new_user = match &existing {
        Some(u) => {
            let proved = signed_in.is_some_and(|s| s.user == u.id)
                || match input.password {
                    Some(p) if !p.is_empty() => app.hasher.verify(p, &u.password_hash).await?,
                    _ => false,
                };
            if !proved {
                return Err(AppError::field(
                    "password",
                    format!(
                        "an account already uses {}: sign in as it or give its password",
                        inv.email
                    ),
                ));
            }
            None
        }
        None => {
            let email = Email::parse("email", &inv.email)?;
            let mut errs = ValidationErrors::default();
            let name = match input.name {
                Some(n) => errs.take(Name::parse("name", n, 100)),
                None => None,
            };
            let password = errs.take(NewPassword::parse(
                "password",
                input.password.unwrap_or(""),
                Some(&email),
            ));
            errs.into_result()?;
            let Some(password) = password else {
                return Err(AppError::Internal("validation inconsistency".into()));
            };
            Some((name, app.hasher.hash(password.expose()).await?))
        }
    };

    let mut tx = app.db.write().await?;
    let inv2 = invitations::by_token_hash(&mut tx, &hash, Lock::ForUpdate)
        .await?
        .ok_or_else(|| AppError::Gone(LINK_DEAD.into()))?;
    let m = load(&mut tx, inv2.account, inv2.member, Lock::ForUpdate).await?;
    if m.status != MemberStatus::Invited {
        return Err(AppError::Gone(LINK_DEAD.into()));
    }
    let (user, name) = match (new_user, existing) {
        (Some((name, hash)), _) => {
            let name = name
                .map(Name::into_string)
                .unwrap_or_else(|| m.name.clone());
            let id = users::insert(&mut tx, &inv2.email, &name, &hash, now)
                .await
                .map_err(|e| {
                    if e.is_unique_on("email") {
                        AppError::Gone(LINK_DEAD.into())
                    } else {
                        e.into()
                    }
                })?;
            (id, name)
        }
        (None, Some(u)) => (u.id, u.name),
        (None, None) => return Err(AppError::Internal("accept without a user".into())),
    };
    if !members::activate(&mut tx, m.id, user, &name, now).await? {
        return Err(AppError::Gone(LINK_DEAD.into()));
    }
    invitations::delete(&mut tx, m.id).await?;
    let after = load(&mut tx, inv2.account, m.id, Lock::None).await?;
    // B2: billing starts at activation.
    crate::billing::record_seat(&mut tx, &after, SeatEventKind::Activated, now).await?;
    audit::record(
        &mut tx,
        AuditEntry {
            account: Some(inv2.account),
            actor_user: Some(user),
            actor_member: Some(m.id),
            action: "member.activated",
            target_kind: Some("member"),
            target_id: Some(m.id.0),
            before: Some(snapshot(&m)),
            after: Some(snapshot(&after)),
        },
        now,
    )
    .await?;
    let token =
        crate::auth::insert_session(app, &mut tx, user, Some(inv2.account), client, now).await?;
    tx.commit().await?;
    Ok((after, token))
}

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
    leadteam_domain::authz::decide(
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
    audit_member(
        &mut tx,
        caller,
        "member.updated",
        id,
        Some(snapshot(&before)),
        Some(snapshot(&after)),
        now,
    )
    .await?;
    tx.commit().await?;
    app.bus.publish(crate::bus::BusEvent::AccessChanged {
        account: actor.account,
        member: id,
    });
    Ok(after)
}

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
    leadteam_domain::authz::decide(&actor, &action)?;
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
    audit_member(
        &mut tx,
        caller,
        what,
        id,
        Some(snapshot(&before)),
        Some(snapshot(&after)),
        now,
    )
    .await?;
    tx.commit().await?;
    app.bus.publish(crate::bus::BusEvent::AccessChanged {
        account: actor.account,
        member: id,
    });
    Ok(after)
}

/// What happens to a removed member's clients (M7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientsOnRemoval {
    MoveTo(MemberId),
    Delete,
}

/// Removes a member for good (M7): its clients move to a named active member
/// or are deleted, in the same transaction.
pub async fn remove(
    app: &App,
    caller: &Caller,
    id: MemberId,
    clients: ClientsOnRemoval,
) -> Result<u64, AppError> {
    let actor = caller.actor()?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let before = load(&mut tx, actor.account, id, Lock::ForUpdate).await?;
    leadteam_domain::authz::decide(
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
    let mut alerts = crate::bus::Alerts::default();
    let affected =
        clients_of_removed_member(&mut tx, actor.account, id, clients, &mut alerts, now).await?;
    alerts.access_changed(actor.account, id);
    if let Some(user) = before.user {
        members::end_sessions_in_account(&mut tx, user, actor.account).await?;
    }
    if before.status != MemberStatus::Invited {
        // B2: billing stops; B3: the purchased seats stay as they are.
        crate::billing::record_seat(&mut tx, &before, SeatEventKind::Removed, now).await?;
    }
    members::delete(&mut tx, id).await?;
    let mut after = json!({"removed": true, "clients": affected});
    match clients {
        ClientsOnRemoval::MoveTo(to) => after["moved_to"] = json!(to.0),
        ClientsOnRemoval::Delete => after["clients_deleted"] = json!(true),
    }
    audit_member(
        &mut tx,
        caller,
        "member.removed",
        id,
        Some(snapshot(&before)),
        Some(after),
        now,
    )
    .await?;
    tx.commit().await?;
    alerts.publish(&app.bus);
    Ok(affected)
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
