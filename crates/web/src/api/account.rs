//! The account: settings, ownership, deletion, export, audit log.

use super::rfc3339;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::extract::{ApiJson, Authed};
use crate::registry::{Api, RouteSpec, Verb};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use leadteam_app::account;
use leadteam_domain::MemberId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(super) fn routes(api: Api) -> Api {
    api.add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/account",
            "account",
            "The account: name, require 2FA, owner, member counts",
        )
        .returns::<AccountOut>(),
        get_account,
    )
    .add(
        RouteSpec::new(
            Verb::Patch,
            "/api/v1/account",
            "account",
            "Rename, or switch on \"require 2FA\" (O5)",
        )
        .body::<AccountPatch>()
        .returns::<AccountOut>(),
        patch_account,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/account/ownership",
            "account",
            "Transfer ownership to an active admin (O3)",
        )
        .body::<OwnershipBody>()
        .returns::<super::members::MemberOut>(),
        transfer,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/account/deletion",
            "account",
            "Email the owner a code that confirms deletion (O4)",
        )
        .status(202)
        .returns::<DeletionRequested>(),
        request_deletion,
    )
    .add(
        RouteSpec::new(
            Verb::Delete,
            "/api/v1/account",
            "account",
            "Delete the account with the emailed code (O4): ?code=12345678",
        )
        .status(204)
        .query(&[("code", "the 8-digit code from the email")]),
        delete_account,
    )
    .add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/account/export",
            "account",
            "A JSON export of the account (offered before deletion)",
        ),
        export,
    )
    .add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/audit",
            "account",
            "The audit log, newest first (X1)",
        )
        .query(&[
            ("action", "only this action, e.g. member.invited"),
            ("member_id", "only what this member did"),
            ("before", "cursor: entries older than this id"),
            ("limit", "1..=200, default 50"),
        ])
        .returns::<AuditOut>(),
        audit,
    )
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AccountOut {
    pub id: i64,
    pub name: String,
    pub require_2fa: bool,
    /// The zone times are shown in, unless a member chose its own (X6).
    pub time_zone: String,
    pub created_at: String,
    pub owner_member_id: Option<i64>,
    pub owner_name: Option<String>,
    pub members_invited: i64,
    pub members_active: i64,
    pub members_deactivated: i64,
}

fn account_out(v: account::AccountView) -> AccountOut {
    AccountOut {
        id: v.account.id.0,
        name: v.account.name,
        require_2fa: v.account.require_2fa,
        time_zone: v.account.time_zone.clone(),
        created_at: rfc3339(v.account.created_at),
        owner_member_id: v.owner.as_ref().map(|o| o.id.0),
        owner_name: v.owner.map(|o| o.name),
        members_invited: v.invited,
        members_active: v.active,
        members_deactivated: v.deactivated,
    }
}

async fn get_account(
    State(s): State<AppState>,
    Authed(c): Authed,
) -> Result<Json<AccountOut>, ApiError> {
    Ok(Json(account_out(account::get(&s.app, &c).await?)))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountPatch {
    pub name: Option<String>,
    /// Every member must enrol TOTP before doing anything else (O5).
    pub require_2fa: Option<bool>,
    /// The zone times are shown in for members who did not choose their
    /// own (X6): an IANA name like "Europe/Paris".
    pub time_zone: Option<String>,
}

async fn patch_account(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiJson(b): ApiJson<AccountPatch>,
) -> Result<Json<AccountOut>, ApiError> {
    Ok(Json(account_out(
        account::update(
            &s.app,
            &c,
            b.name.as_deref(),
            b.require_2fa,
            b.time_zone.as_deref(),
        )
        .await?,
    )))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnershipBody {
    /// The active admin who becomes the owner.
    pub member_id: i64,
}

async fn transfer(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiJson(b): ApiJson<OwnershipBody>,
) -> Result<Json<super::members::MemberOut>, ApiError> {
    let m = account::transfer_ownership(&s.app, &c, MemberId(b.member_id)).await?;
    Ok(Json(super::members::member_out(&m)))
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DeletionRequested {
    /// The emailed code works until then (15 minutes, 5 tries).
    pub code_expires_at: String,
    pub sent_to: String,
}

async fn request_deletion(
    State(s): State<AppState>,
    Authed(c): Authed,
) -> Result<(StatusCode, Json<DeletionRequested>), ApiError> {
    let expires = account::request_deletion(&s.app, &c).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(DeletionRequested {
            code_expires_at: rfc3339(expires),
            sent_to: c.email.clone(),
        }),
    ))
}

#[derive(Debug, Deserialize)]
pub struct DeleteBody {
    /// The code from the email.
    pub code: String,
}

async fn delete_account(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiQuery(b): ApiQuery<DeleteBody>,
) -> Result<StatusCode, ApiError> {
    account::delete(&s.app, &c, &b.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn export(
    State(s): State<AppState>,
    Authed(c): Authed,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(account::export(&s.app, &c).await?))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AuditQuery {
    pub action: Option<String>,
    /// Only what this member did.
    pub member_id: Option<i64>,
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AuditEntryOut {
    pub id: i64,
    pub at: String,
    pub action: String,
    pub actor_user_id: Option<i64>,
    pub actor_member_id: Option<i64>,
    pub target_kind: Option<String>,
    pub target_id: Option<i64>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AuditOut {
    pub entries: Vec<AuditEntryOut>,
    /// Pass as `before` for the next page; null on the last page.
    pub next_before: Option<i64>,
}

async fn audit(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditOut>, ApiError> {
    let limit = q.limit.unwrap_or(50);
    let rows = account::audit_log(
        &s.app,
        &c,
        q.action.as_deref(),
        q.member_id.map(leadteam_domain::MemberId),
        q.before,
        Some(limit),
    )
    .await?;
    let next_before = if rows.len() as i64 == limit {
        rows.last().map(|r| r.id)
    } else {
        None
    };
    let parse = |s: &Option<String>| s.as_deref().and_then(|t| serde_json::from_str(t).ok());
    Ok(Json(AuditOut {
        entries: rows
            .iter()
            .map(|r| AuditEntryOut {
                id: r.id,
                at: rfc3339(r.at),
                action: r.action.clone(),
                actor_user_id: r.actor_user.map(|u| u.0),
                actor_member_id: r.actor_member.map(|m| m.0),
                target_kind: r.target_kind.clone(),
                target_id: r.target_id,
                before: parse(&r.before),
                after: parse(&r.after),
            })
            .collect(),
        next_before,
    }))
}
