//! An invitation link before it is accepted (M4): the page of the emailed
//! link shows who is invited to which account as what, and whether the email
//! already belongs to a user (who then gives its password instead of
//! choosing one). `members::accept` checks the link with the same [`live`].

use crate::App;
use crate::error::AppError;
use leadteam_domain::Timestamp;
use leadteam_domain::authz::MemberStatus;
use leadteam_domain::secret::token_hash;
use leadteam_store::Lock;
use leadteam_store::invitations::{self, InvitationRow};
use leadteam_store::{Conn, accounts, members, users};

/// A link that was used, cancelled or replaced.
pub(crate) const LINK_DEAD: &str =
    "this invitation link is no longer valid: it was used, cancelled or replaced by a newer one";

/// What the link of an invitation shows.
#[derive(Debug, Clone)]
pub struct InvitationView {
    pub account_name: String,
    pub email: String,
    /// The name the inviter gave.
    pub name: String,
    pub role_name: String,
    /// A user with this email exists: it proves itself with its password.
    pub existing_user: bool,
    pub expires_at: Timestamp,
}

/// The invitation of `token` when its link still works: 410 Gone when it
/// was used, cancelled, replaced or has expired.
pub(crate) async fn live(
    c: &mut Conn,
    token: &str,
    now: Timestamp,
    lock: Lock,
) -> Result<InvitationRow, AppError> {
    if token.trim().is_empty() {
        return Err(AppError::field("token", "is required"));
    }
    let inv = invitations::by_token_hash(c, &token_hash(token.trim()), lock)
        .await?
        .ok_or_else(|| AppError::Gone(LINK_DEAD.into()))?;
    if inv.expires_at <= now {
        return Err(AppError::Gone(
            "this invitation link has expired: ask for a new invitation".into(),
        ));
    }
    Ok(inv)
}

/// What the link of `token` invites to; nothing changes.
pub async fn preview(app: &App, token: &str) -> Result<InvitationView, AppError> {
    let mut c = app.db.conn().await?;
    let inv = live(&mut c, token, app.now(), Lock::None).await?;
    let m = members::get(&mut c, inv.account, inv.member, Lock::None)
        .await?
        .filter(|m| m.status == MemberStatus::Invited)
        .ok_or_else(|| AppError::Gone(LINK_DEAD.into()))?;
    let account_name = accounts::by_id(&mut c, inv.account)
        .await?
        .map(|a| a.name)
        .unwrap_or_default();
    let existing_user = users::by_email(&mut c, &inv.email).await?.is_some();
    Ok(InvitationView {
        account_name,
        email: inv.email,
        name: m.name,
        role_name: m.role_name,
        existing_user,
        expires_at: inv.expires_at,
    })
}
