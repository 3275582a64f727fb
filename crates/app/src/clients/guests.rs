//! Guests (P7): a Restricted member invited to one client.

#[allow(unused_imports)]
use super::*;

/// Invites a Restricted member to this one client (P7); an existing member
/// of the account is simply given access to it.
pub async fn invite_guest(
    app: &App,
    caller: &Caller,
    id: ClientId,
    name: &str,
    email: &str,
) -> Result<members::MemberRow, AppError> {
    let actor = caller.actor()?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let (_, f) = load_visible(&mut tx, &actor, id, Lock::ForUpdate).await?;
    crate::auth::check(&actor, &Action::InviteGuest(&f))?;
    let email_norm = Email::parse("email", email)?;
    let member = match members::by_email(&mut tx, actor.account, email_norm.as_str()).await? {
        Some(m) => m,
        None => {
            crate::members::invite_in(
                app,
                &mut tx,
                caller,
                crate::members::InviteInput {
                    name,
                    email,
                    role_id: None,
                    role_key: Some("restricted"),
                    permissions: None,
                    agent: Some(false),
                },
            )
            .await?
        }
    };
    clients::add_guest(&mut tx, id, member.id, now).await?;
    event(
        &mut tx,
        actor.account,
        id,
        "guest_added",
        Some(actor.member),
        None,
        Some(json!({"member": member.id.0})),
        now,
    )
    .await?;
    crate::trail::record(
        &mut tx,
        &actor,
        "client.guest_added",
        "client",
        id.0,
        None,
        Some(json!({"guest": member.id.0})),
        now,
    )
    .await?;
    tx.commit().await?;
    app.mail_queued();
    Ok(member)
}

/// The guests of a client the caller may see (P7).
pub async fn guests(
    app: &App,
    caller: &Caller,
    id: ClientId,
) -> Result<Vec<(MemberId, String)>, AppError> {
    let actor = caller.actor()?.clone();
    let mut c = app.db.conn().await?;
    load_visible(&mut c, &actor, id, Lock::None).await?;
    Ok(clients::guests_of(&mut c, id).await?)
}

/// Ends a guest's access to this client at once (P7): whoever may invite
/// guests there may remove them.
pub async fn remove_guest(
    app: &App,
    caller: &Caller,
    id: ClientId,
    member: MemberId,
) -> Result<(), AppError> {
    let actor = caller.actor()?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let (_, f) = load_visible(&mut tx, &actor, id, Lock::ForUpdate).await?;
    crate::auth::check(&actor, &Action::InviteGuest(&f))?;
    if !clients::remove_guest(&mut tx, id, member).await? {
        return Err(AppError::NotFound("guest"));
    }
    event(
        &mut tx,
        actor.account,
        id,
        "guest_removed",
        Some(actor.member),
        None,
        Some(json!({"member": member.0})),
        now,
    )
    .await?;
    crate::trail::record(
        &mut tx,
        &actor,
        "client.guest_removed",
        "client",
        id.0,
        Some(json!({"guest": member.0})),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    app.bus.publish(crate::bus::BusEvent::AccessChanged {
        account: actor.account,
        member,
    });
    Ok(())
}
