//! Invitations (M1, M3): invite, re-send and cancel.

#[allow(unused_imports)]
use super::*;

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
    app.events_queued();
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
    crate::auth::check(&actor, &Action::InviteMember { grants })?;
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
    crate::trail::change(tx, caller, "member.invited", None, Some(&row), now).await?;
    crate::webhooks::emit(
        app,
        tx,
        actor.account,
        "member.invited",
        serde_json::json!({"member_id": id.0, "name": row.name, "email": row.email}),
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
    let expires = now.plus_millis(app.config.invite_ttl_ms);
    // The link is minted when the mail leaves (crate::secrets): until then
    // the invitation holds an unusable hash, so an older link (of a re-sent
    // invitation) stops working at once, and older unsent mails go.
    outbox::drop_unsent(conn, crate::secrets::INVITATION, member.0, now).await?;
    invitations::upsert(
        conn,
        invitations::NewInvitation {
            member,
            account,
            email,
            token_hash: &crate::secrets::placeholder_hash(),
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
        "{}/invitations/accept?token={}",
        app.config.base_url.trim_end_matches('/'),
        outbox::SECRET
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
            secret: Some(outbox::SecretRef {
                purpose: crate::secrets::INVITATION,
                id: member.0,
            }),
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
    crate::trail::record(
        &mut tx,
        caller,
        "member.invitation_resent",
        "member",
        id.0,
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
    crate::trail::change(
        &mut tx,
        caller,
        "member.invitation_cancelled",
        Some(&m),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
