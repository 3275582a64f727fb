//! Credits (B5): a member's balance and ledger; allocating and taking back.

use super::rfc3339;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::extract::{ApiJson, Authed};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use leadteam_app::billing::credits::{self, CreditsView};
use leadteam_domain::MemberId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, JsonSchema)]
pub struct CreditEntryOut {
    pub id: i64,
    /// Positive: allocated; negative: taken back or spent.
    pub delta: i64,
    pub balance_after: i64,
    /// The member who allocated or took back the credits, or the member charged.
    pub actor_member_id: Option<i64>,
    pub reason: String,
    pub at: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CreditsOut {
    pub member_id: i64,
    pub balance: i64,
    /// Newest first.
    pub ledger: Vec<CreditEntryOut>,
}

fn credits_out(v: CreditsView) -> CreditsOut {
    CreditsOut {
        member_id: v.member.0,
        balance: v.balance,
        ledger: v
            .ledger
            .into_iter()
            .map(|e| CreditEntryOut {
                id: e.id,
                delta: e.delta,
                balance_after: e.balance_after,
                actor_member_id: e.actor.map(|a| a.0),
                reason: e.reason,
                at: rfc3339(e.at),
            })
            .collect(),
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditsBody {
    /// Credits to allocate; negative to take them back (never below a balance of 0).
    pub delta: i64,
    /// Why (kept in the ledger).
    pub reason: String,
}

pub(super) async fn get_credits(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CreditsOut>, ApiError> {
    Ok(Json(credits_out(
        credits::view(&s.app, &c, MemberId(id)).await?,
    )))
}

pub(super) async fn post_credits(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<CreditsBody>,
) -> Result<Response, ApiError> {
    let v = credits::allocate(&s.app, &c, MemberId(id), b.delta, &b.reason).await?;
    Ok((StatusCode::CREATED, Json(credits_out(v))).into_response())
}
