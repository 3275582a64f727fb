//! Members and invitations (M1-M9, P4, O2, X1).

mod accept;
mod edit;
mod invite;
mod status;

pub use accept::*;
pub use edit::*;
pub use invite::*;
pub use status::*;

pub use leadteam_store::members::MemberRow;

use crate::App;
use crate::auth::{Caller, ClientInfo, NewSessionToken};
use crate::error::{AppError, AuthFailure};
use crate::invitations::LINK_DEAD;
use leadteam_domain::authz::{Action, MemberStatus, Permission, PermissionSet};
use leadteam_domain::billing::SeatEventKind;
use leadteam_domain::secret::token_hash;
use leadteam_domain::validate::{Email, Name, NewPassword};
use leadteam_domain::{AccountId, MemberId, RoleId, RuleId, TeamId, Timestamp, ValidationErrors};
use leadteam_store::Lock;
use leadteam_store::members::{self, MemberChanges, NewInvited};
use leadteam_store::{Conn, accounts, invitations, outbox, users};
use serde_json::{Value, json};

/// The audit picture of a member (before/after).
impl crate::trail::Audited for MemberRow {
    const KIND: &'static str = "member";

    fn audit_id(&self) -> i64 {
        self.id.0
    }

    fn picture(&self) -> Value {
        json!({
            "id": self.id.0,
            "email": self.email,
            "name": self.name,
            "status": self.status.as_str(),
            "role": self.role_name,
            "permissions": self.permissions.names(),
            "agent": self.agent,
            "capacity": self.capacity,
            "teams": self.teams.iter().map(|t| t.0.0).collect::<Vec<_>>(),
            "is_owner": self.is_owner,
        })
    }
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
