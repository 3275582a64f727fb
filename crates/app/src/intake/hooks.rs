//! Deliveries to a lead source's webhook URL (I1): the source is looked up,
//! the sender verified before anything of the body is read, the payload
//! parsed (`leadteam_domain::intake`), then each lead is stored and routed.

use super::{Ingested, ingest};
use crate::App;
use crate::error::{AppError, AuthFailure};
use leadteam_domain::SourceId;
use leadteam_domain::intake::{self as payload, PayloadError};
use leadteam_domain::secret::{constant_time_eq, verify_sha256_signature};
use leadteam_store::sources::SourceRow;

/// Which webhook of a source was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// `POST /hooks/{id}`: generic and website sources, signed
    /// `X-Leadteam-Signature: sha256=<hex HMAC of the body>`.
    Generic,
    /// `POST /hooks/{id}/facebook`, signed `X-Hub-Signature-256`.
    Facebook,
    /// `POST /hooks/{id}/google`, carrying the source's `google_key`.
    Google,
}

impl Channel {
    /// How the delivery log names the channel.
    pub fn log_name(self) -> &'static str {
        match self {
            Channel::Generic => "signed",
            Channel::Facebook => "facebook",
            Channel::Google => "google",
        }
    }

    fn kinds(self) -> &'static [&'static str] {
        match self {
            Channel::Generic => &["webhook", "website"],
            Channel::Facebook => &["facebook"],
            Channel::Google => &["google"],
        }
    }
}

/// One delivery as it arrived.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    pub source: SourceId,
    pub channel: Channel,
    /// The signature header of the channel, as sent.
    pub signature: Option<&'a str>,
    /// The `Idempotency-Key` header, as sent.
    pub idempotency_key: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

/// The source behind a webhook URL, if it is of a kind the channel serves
/// (any other id is not found, whatever account it belongs to).
async fn source_for(app: &App, id: SourceId, channel: Channel) -> Result<SourceRow, AppError> {
    match app.sources.get(app, id).await? {
        Some(src) if channel.kinds().contains(&src.kind.as_str()) => Ok(src),
        _ => Err(AppError::NotFound("lead source")),
    }
}

fn bad_payload(e: PayloadError) -> AppError {
    match e {
        PayloadError::Malformed(m) => AppError::Malformed(m),
        PayloadError::Field(f) => f.into(),
    }
}

fn idempotency_key(raw: Option<&str>) -> Result<Option<String>, AppError> {
    match raw.map(str::trim) {
        None => Ok(None),
        Some(s) if s.is_empty() || s.len() > 200 => Err(AppError::field(
            "Idempotency-Key",
            "must be 1 to 200 visible characters",
        )),
        Some(s) => Ok(Some(s.to_owned())),
    }
}

/// Verifies, parses, stores and routes a delivery: one answer per lead (a
/// Facebook delivery may carry several, the others carry one). The outcome
/// is written to the source's delivery log (I7); a Facebook lead that came
/// with ids only is queued for its details (I6).
pub async fn receive(app: &App, d: Delivery<'_>) -> Result<Vec<Ingested>, AppError> {
    use crate::metrics::LeadOutcome;
    let src = match source_for(app, d.source, d.channel).await {
        Ok(src) => src,
        Err(e) => {
            app.metrics.lead("unknown", LeadOutcome::Refused);
            return Err(e);
        }
    };
    let result = receive_from(app, &src, d).await;
    let answers = result.map(|pairs| {
        let awaiting: Vec<(leadteam_domain::ClientId, String)> = pairs
            .iter()
            .filter_map(|(i, lg)| lg.clone().map(|l| (i.client, l)))
            .collect();
        (
            pairs.into_iter().map(|(i, _)| i).collect::<Vec<_>>(),
            awaiting,
        )
    });
    let (result, awaiting) = match answers {
        Ok((leads, awaiting)) => (Ok(leads), awaiting),
        Err(e) => (Err(e), Vec::new()),
    };
    match &result {
        Ok(leads) => {
            for l in leads {
                let outcome = if l.duplicate {
                    LeadOutcome::Duplicate
                } else {
                    LeadOutcome::Accepted
                };
                app.metrics.lead(&src.kind, outcome);
            }
        }
        Err(_) => app.metrics.lead(&src.kind, LeadOutcome::Refused),
    }
    super::log::outcome(app, &src, d.channel.log_name(), &result).await;
    if !awaiting.is_empty() {
        super::facebook::queue(app, &src, &awaiting).await?;
    }
    result
}

/// Logs a delivery refused for its size before it was read (the caller
/// stops reading at the limit).
pub async fn too_large(app: &App, source: SourceId, channel: Channel, limit: usize) {
    if let Ok(src) = source_for(app, source, channel).await {
        super::log::refused(
            app,
            &src,
            channel.log_name(),
            super::log::Refusal::TooLarge,
            &format!("the body is over {limit} bytes"),
        )
        .await;
    }
}

/// The leads of a delivery, each with the leadgen id to fetch when it came
/// with ids only.
async fn receive_from(
    app: &App,
    src: &SourceRow,
    d: Delivery<'_>,
) -> Result<Vec<(Ingested, Option<String>)>, AppError> {
    let signed = |header| {
        verify_sha256_signature(src.secret.as_bytes(), d.body, header)
            .map_err(|e| AppError::Unauthenticated(AuthFailure::BadSignature(e.to_string())))
    };
    let (leads, key) = match d.channel {
        Channel::Generic => {
            signed(d.signature)?;
            let key = idempotency_key(d.idempotency_key)?;
            let lead = payload::parse_generic(d.content_type, d.body).map_err(bad_payload)?;
            (vec![lead], key)
        }
        Channel::Facebook => {
            signed(d.signature)?;
            (payload::parse_facebook(d.body).map_err(bad_payload)?, None)
        }
        Channel::Google => {
            let (key, lead) = payload::parse_google(d.body).map_err(bad_payload)?;
            let key = key.unwrap_or_default();
            if key.is_empty() || !constant_time_eq(key.as_bytes(), src.secret.as_bytes()) {
                return Err(AppError::Unauthenticated(AuthFailure::BadSignature(
                    "the google_key does not match this lead source".into(),
                )));
            }
            (vec![lead], None)
        }
    };
    let mut out = Vec::with_capacity(leads.len());
    for lead in leads {
        let awaiting = lead
            .awaiting_details
            .then(|| lead.source_lead_id.clone())
            .flatten();
        out.push((
            ingest(app, src, lead, key.as_deref(), d.channel.log_name()).await?,
            awaiting,
        ));
    }
    Ok(out)
}

/// Facebook's subscription check: answers `hub.challenge` when the mode is
/// `subscribe` and the verify token is the source's.
pub async fn facebook_challenge(
    app: &App,
    source: SourceId,
    mode: Option<&str>,
    token: &str,
    challenge: &str,
) -> Result<String, AppError> {
    let src = source_for(app, source, Channel::Facebook).await?;
    let expected = src.verify_token.unwrap_or_default();
    if mode == Some("subscribe")
        && !expected.is_empty()
        && constant_time_eq(token.as_bytes(), expected.as_bytes())
    {
        Ok(challenge.to_owned())
    } else {
        Err(AppError::Unauthenticated(AuthFailure::BadVerifyToken))
    }
}
