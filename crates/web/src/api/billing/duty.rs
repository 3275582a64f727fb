//! Agent licences (B4): starting and stopping work.

use super::{LicencesOut, rfc3339};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::Authed;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use leadteam_app::billing::duty::{self, DutyView};
use schemars::JsonSchema;
use serde::Serialize;

#[derive(Debug, Serialize, JsonSchema)]
pub struct DutyOut {
    pub on_duty: bool,
    pub since: Option<String>,
    pub licences: LicencesOut,
}

fn duty_out(v: DutyView) -> DutyOut {
    DutyOut {
        on_duty: v.since.is_some(),
        since: v.since.map(rfc3339),
        licences: LicencesOut {
            total: v.licences,
            in_use: v.in_use,
            enforced: v.enforced,
        },
    }
}

pub(super) async fn get_duty(
    State(s): State<AppState>,
    Authed(c): Authed,
) -> Result<Json<DutyOut>, ApiError> {
    Ok(Json(duty_out(duty::status(&s.app, &c).await?)))
}

pub(super) async fn start_duty(
    State(s): State<AppState>,
    Authed(c): Authed,
) -> Result<Response, ApiError> {
    let (v, started) = duty::start_work(&s.app, &c).await?;
    let status = if started {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(duty_out(v))).into_response())
}

pub(super) async fn stop_duty(
    State(s): State<AppState>,
    Authed(c): Authed,
) -> Result<Json<DutyOut>, ApiError> {
    Ok(Json(duty_out(duty::stop_work(&s.app, &c).await?)))
}
