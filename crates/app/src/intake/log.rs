//! The delivery log of each source (I7): every delivery that named a source
//! is recorded with its outcome (accepted, duplicate, refused and why), so
//! the admin sees on the source's page what reached it and what did not.

use super::Ingested;
use crate::App;
use crate::error::{AppError, AuthFailure};
use leadteam_store::deliveries::{self, NewDelivery};
use leadteam_store::sources::SourceRow;

/// Why a delivery was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    BadSignature,
    SwitchedOff,
    TooLarge,
    RateLimited,
    Honeypot,
    Origin,
    Invalid,
}

impl Refusal {
    pub fn code(self) -> &'static str {
        match self {
            Refusal::BadSignature => "bad_signature",
            Refusal::SwitchedOff => "switched_off",
            Refusal::TooLarge => "too_large",
            Refusal::RateLimited => "rate_limited",
            Refusal::Honeypot => "honeypot",
            Refusal::Origin => "origin",
            Refusal::Invalid => "invalid",
        }
    }

    /// The refusal an intake error stands for (`None`: an internal fault,
    /// not the sender's doing, and not logged as a refusal).
    pub fn of(e: &AppError) -> Option<Refusal> {
        match e {
            AppError::Unauthenticated(AuthFailure::BadSignature(_))
            | AppError::Unauthenticated(AuthFailure::BadVerifyToken) => Some(Refusal::BadSignature),
            AppError::Conflict { message, .. } if message.contains("switched off") => {
                Some(Refusal::SwitchedOff)
            }
            AppError::Validation(_) | AppError::Malformed(_) => Some(Refusal::Invalid),
            AppError::TooLarge(_) => Some(Refusal::TooLarge),
            AppError::TooManyAttempts { .. } => Some(Refusal::RateLimited),
            _ => None,
        }
    }
}

async fn write(app: &App, d: NewDelivery<'_>) {
    let now = app.now();
    let written = async {
        let mut tx = app.db.write().await?;
        deliveries::record(&mut tx, d, now).await?;
        tx.commit().await?;
        Ok::<(), AppError>(())
    }
    .await;
    if let Err(e) = written {
        tracing::warn!(error = %e, source = d.source.0, "the delivery log could not be written");
    }
}

/// Logs a refused delivery.
pub(crate) async fn refused(app: &App, src: &SourceRow, channel: &str, why: Refusal, detail: &str) {
    write(
        app,
        NewDelivery {
            source: src.id,
            account: src.account,
            channel,
            outcome: "refused",
            reason: Some(why.code()),
            detail: Some(detail),
            client: None,
        },
    )
    .await;
}

/// Logs a refused delivery that reached intake. (An accepted or duplicate
/// lead is logged by intake itself, in the lead's transaction.)
pub(crate) async fn outcome(
    app: &App,
    src: &SourceRow,
    channel: &str,
    result: &Result<Vec<Ingested>, AppError>,
) {
    if let Err(e) = result
        && let Some(why) = Refusal::of(e)
    {
        refused(app, src, channel, why, &detail_of(e)).await;
    }
}

/// Logs a lead found stored by a concurrent delivery after its own batch
/// lost the race (it wrote nothing, so no row either).
pub(crate) async fn stored_before(app: &App, src: &SourceRow, channel: &str, lead: &Ingested) {
    write(
        app,
        NewDelivery {
            source: src.id,
            account: src.account,
            channel,
            outcome: "duplicate",
            reason: None,
            detail: Some(&lead.reason),
            client: Some(lead.client),
        },
    )
    .await;
}

/// The words of a refusal, as the admin reads them in the log.
pub(crate) fn detail_of(e: &AppError) -> String {
    match e {
        AppError::Unauthenticated(AuthFailure::BadSignature(why)) => why.clone(),
        AppError::Unauthenticated(AuthFailure::BadVerifyToken) => {
            "the verify token does not match".into()
        }
        AppError::Conflict { message, .. } => message.clone(),
        other => other.to_string(),
    }
}
