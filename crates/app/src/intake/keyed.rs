//! Leads sent without a signature (I5): with an intake API key limited to
//! named sources (`POST /api/v1/leads`, what Zapier, Make or n8n send), or to
//! a source's secret URL (`/in/{token}`) for tools that can only call a URL.
//! Both go through the same intake, routing and dedupe as the webhooks, and
//! are written to the source's delivery log.

use super::{Ingested, Lead, ingest};
use crate::App;
use crate::error::{AppError, AuthFailure};
use leadteam_domain::SourceId;
use leadteam_domain::authz::Action;
use leadteam_domain::intake::{PayloadError, parse_generic};
use leadteam_domain::secret::token_hash;
use leadteam_store::sources::{self, SourceRow};
use leadteam_store::{accounts, api_keys, users};

fn idempotency(raw: Option<&str>) -> Result<Option<String>, AppError> {
    match raw.map(str::trim) {
        None => Ok(None),
        Some(s) if s.is_empty() || s.len() > 200 => Err(AppError::field(
            "Idempotency-Key",
            "must be 1 to 200 visible characters",
        )),
        Some(s) => Ok(Some(s.to_owned())),
    }
}

/// The source an intake key may send to, after the one decision: the key
/// must be live, its member active, and the source named by the key.
async fn source_for_key(app: &App, token: &str, source: SourceId) -> Result<SourceRow, AppError> {
    let no = || AppError::Unauthenticated(AuthFailure::NoSession);
    if !token.starts_with(crate::api_keys::PREFIX) {
        // A session (or anything else) is no way in: say what is.
        return Err(AppError::Unauthenticated(AuthFailure::NotIntakeKey(
            "a session is no intake key: create an API key limited to lead sources (ltk_…)".into(),
        )));
    }
    let mut c = app.db.conn().await?;
    let key = api_keys::by_token_hash(&mut c, &token_hash(token))
        .await?
        .ok_or_else(no)?;
    let allowed = key.lead_sources.clone().ok_or_else(|| {
        AppError::Unauthenticated(AuthFailure::NotIntakeKey(
            "this API key is not an intake key: create one limited to lead sources".into(),
        ))
    })?;
    let user = users::by_id(&mut c, key.user.ok_or_else(no)?)
        .await?
        .ok_or_else(no)?;
    let auth = accounts::member_auth(&mut c, user.id, key.account)
        .await?
        .ok_or_else(no)?;
    let actor = crate::auth::actor_of(&user, key.account, auth);
    crate::auth::check(
        &actor,
        &Action::SendLead {
            allowed: &allowed,
            source,
        },
    )?;
    api_keys::touch(&mut c, key.id, app.now()).await?;
    sources::get(&mut c, key.account, source)
        .await?
        .ok_or(AppError::NotFound("lead source"))
}

/// A lead sent with an intake key.
pub async fn send_with_key(
    app: &App,
    token: &str,
    source: SourceId,
    lead: Lead,
    idempotency_key: Option<&str>,
) -> Result<Ingested, AppError> {
    let src = source_for_key(app, token, source).await?;
    let result = match idempotency(idempotency_key) {
        Ok(key) => ingest(app, &src, lead, key.as_deref(), "key")
            .await
            .map(|i| vec![i]),
        Err(e) => Err(e),
    };
    super::log::outcome(app, &src, "key", &result).await;
    result?
        .pop()
        .ok_or_else(|| AppError::Internal("intake gave no answer".into()))
}

/// A lead posted to a source's secret URL: a JSON object or a form post.
pub async fn send_to_url(
    app: &App,
    token: &str,
    idempotency_key: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Ingested, AppError> {
    if token.len() < 20 || token.len() > 100 {
        return Err(AppError::NotFound("lead source"));
    }
    let src = {
        let mut c = app.db.conn().await?;
        sources::by_url_token(&mut c, token)
            .await?
            .ok_or(AppError::NotFound("lead source"))?
    };
    let result = async {
        let key = idempotency(idempotency_key)?;
        let lead = parse_generic(content_type, body).map_err(|e| match e {
            PayloadError::Malformed(m) => AppError::Malformed(m),
            PayloadError::Field(f) => f.into(),
        })?;
        ingest(app, &src, lead, key.as_deref(), "url")
            .await
            .map(|i| vec![i])
    }
    .await;
    super::log::outcome(app, &src, "url", &result).await;
    result?
        .pop()
        .ok_or_else(|| AppError::Internal("intake gave no answer".into()))
}

/// Logs a secret-URL post refused for its size.
pub async fn url_too_large(app: &App, token: &str, limit: usize) {
    let Ok(mut c) = app.db.conn().await else {
        return;
    };
    if let Ok(Some(src)) = sources::by_url_token(&mut c, token).await {
        drop(c);
        super::log::refused(
            app,
            &src,
            "url",
            super::log::Refusal::TooLarge,
            &format!("the body is over {limit} bytes"),
        )
        .await;
    }
}
