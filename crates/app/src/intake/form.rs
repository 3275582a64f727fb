//! Hosted lead forms (I4): a source of kind `form` has a public page
//! (`/f/{form_key}`) and an embeddable snippet that post without any
//! signature. A post is checked in this order: the form exists and is on,
//! the body is within the limit, the site may post it (allowed origins),
//! the per-address and per-source rates hold (counted in the database, so
//! every node shares them), the honeypot is empty, the required fields are
//! there; then it goes through the same intake as every lead. Each refusal
//! is written to the source's delivery log (I7).

use super::log::{self, Refusal};
use super::{Ingested, ingest};
use crate::App;
use crate::error::AppError;
use leadteam_domain::authz::Denied;
use leadteam_domain::forms::{FormSettings, HONEYPOT, SourceSettings};
use leadteam_domain::intake::parse_generic;
use leadteam_domain::validate::Email;
use leadteam_domain::{FieldError, ValidationErrors};
use leadteam_store::deliveries;
use leadteam_store::sources::{self, SourceRow};
use std::collections::BTreeMap;

/// Largest form post accepted.
pub const FORM_BODY_LIMIT: usize = 16 * 1024;

/// How the log names this channel.
const CHANNEL: &str = "form";

/// The rate windows.
const WINDOW_MS: i64 = 60_000;

/// A form with its settings, for its page.
#[derive(Debug, Clone)]
pub struct HostedForm {
    pub source: SourceRow,
    pub settings: FormSettings,
}

/// The form behind a key (any other key, or a source of another kind, is
/// not found).
pub async fn form(app: &App, key: &str) -> Result<HostedForm, AppError> {
    if key.is_empty() || key.len() > 100 {
        return Err(AppError::NotFound("form"));
    }
    let mut c = app.db.conn().await?;
    let source = sources::by_form_key(&mut c, key)
        .await?
        .filter(|s| s.kind == "form")
        .ok_or(AppError::NotFound("form"))?;
    let settings = SourceSettings::parse(&source.settings_json)
        .form
        .unwrap_or_default();
    Ok(HostedForm { source, settings })
}

/// A post as it arrived.
#[derive(Debug, Clone, Copy)]
pub struct FormPost<'a> {
    pub key: &'a str,
    /// The visitor's address.
    pub ip: Option<&'a str>,
    /// The `Origin` header (or the origin of the `Referer`).
    pub origin: Option<&'a str>,
    /// The body, or `None` when it was over [`FORM_BODY_LIMIT`].
    pub body: Option<&'a [u8]>,
}

/// What the visitor is shown.
#[derive(Debug, Clone)]
pub enum FormAnswer {
    /// The thank-you page, or the admin's redirect.
    Thanks {
        form: HostedForm,
        redirect: Option<String>,
        /// The lead (none for a post the honeypot caught).
        lead: Option<Ingested>,
    },
    /// The form again, with what to fix and what was typed.
    Invalid {
        form: HostedForm,
        errors: ValidationErrors,
        values: BTreeMap<String, String>,
    },
}

/// Checks, stores and routes a post.
pub async fn receive(app: &App, post: FormPost<'_>) -> Result<FormAnswer, AppError> {
    let form = self::form(app, post.key).await?;
    let src = &form.source;
    let refuse = |why: Refusal, detail: String, e: AppError| async move {
        log::refused(app, src, CHANNEL, why, &detail).await;
        Err::<FormAnswer, AppError>(e)
    };
    if !src.enabled {
        return refuse(
            Refusal::SwitchedOff,
            "the form is switched off".into(),
            AppError::conflict(None, "this form is switched off"),
        )
        .await;
    }
    let Some(body) = post.body else {
        return refuse(
            Refusal::TooLarge,
            format!("the post is over {FORM_BODY_LIMIT} bytes"),
            AppError::TooLarge(format!(
                "a form post may be at most {FORM_BODY_LIMIT} bytes"
            )),
        )
        .await;
    };
    let own = app.config.base_url.as_str();
    if !form.settings.origin_allowed(post.origin, own) {
        return refuse(
            Refusal::Origin,
            format!("posted from {}", post.origin.unwrap_or("?")),
            AppError::Denied(Denied::OriginNotAllowed),
        )
        .await;
    }
    if let Some(wait) = over_rate(app, &form, post.ip).await? {
        return refuse(
            Refusal::RateLimited,
            format!(
                "{} ({wait} s to wait)",
                post.ip.unwrap_or("unknown address")
            ),
            AppError::TooManyAttempts {
                message: "Too many posts of this form; try again in a minute".into(),
                retry_after_secs: wait,
            },
        )
        .await;
    }
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    let mut honeypot = false;
    for (k, v) in url::form_urlencoded::parse(body) {
        if k == HONEYPOT {
            honeypot |= !v.trim().is_empty();
        } else if form.settings.fields.iter().any(|f| f.name == k) {
            let v: String = v.trim().chars().take(2_000).collect();
            values.entry(k.into_owned()).or_insert(v);
        }
    }
    if honeypot {
        // Bots are shown the thank-you page and learn nothing.
        log::refused(
            app,
            src,
            CHANNEL,
            Refusal::Honeypot,
            "the hidden field was filled",
        )
        .await;
        let redirect = form.settings.redirect_url.clone();
        return Ok(FormAnswer::Thanks {
            form,
            redirect,
            lead: None,
        });
    }
    let mut errors = ValidationErrors::default();
    for f in &form.settings.fields {
        let v = values.get(&f.name).map(String::as_str).unwrap_or("");
        if f.required && v.is_empty() {
            errors.push(FieldError::new(f.name.clone(), "is required"));
        } else if f.kind == "email" && !v.is_empty() && Email::parse(&f.name, v).is_err() {
            errors.push(FieldError::new(
                f.name.clone(),
                "must be an email address like name@example.com",
            ));
        }
    }
    if !errors.0.is_empty() {
        log::refused(app, src, CHANNEL, Refusal::Invalid, &errors.to_string()).await;
        return Ok(FormAnswer::Invalid {
            form,
            errors,
            values,
        });
    }
    let encoded: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(values.iter())
        .finish();
    let lead = parse_generic(
        Some("application/x-www-form-urlencoded"),
        encoded.as_bytes(),
    )
    .map_err(|e| AppError::Malformed(e.to_string()))?;
    let result = ingest(app, src, lead, None, CHANNEL).await.map(|i| vec![i]);
    log::outcome(app, src, CHANNEL, &result).await;
    let lead = result?.pop();
    let redirect = form.settings.redirect_url.clone();
    Ok(FormAnswer::Thanks {
        form,
        redirect,
        lead,
    })
}

/// Counts the post against the per-address and per-source limits; answers
/// the seconds to wait when one is exceeded.
async fn over_rate(
    app: &App,
    form: &HostedForm,
    ip: Option<&str>,
) -> Result<Option<i64>, AppError> {
    let now = app.now();
    let id = form.source.id.0;
    let mut tx = app.db.write().await?;
    let per_address = match ip {
        Some(ip) => deliveries::hit(&mut tx, &format!("form:{id}:{ip}"), now, WINDOW_MS).await?,
        None => 0,
    };
    let per_source = deliveries::hit(&mut tx, &format!("form:{id}"), now, WINDOW_MS).await?;
    if per_source == 1 {
        // A new window of this form: forget windows long over.
        deliveries::forget_rates_before(&mut tx, now.plus_millis(-10 * WINDOW_MS)).await?;
    }
    tx.commit().await?;
    let s = &form.settings;
    if per_address > s.per_address_per_minute || per_source > s.per_source_per_minute {
        return Ok(Some(WINDOW_MS / 1000));
    }
    Ok(None)
}
