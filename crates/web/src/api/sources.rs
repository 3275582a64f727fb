//! Lead sources (I1, I4-I7): creation and changes, with each source's
//! integration (a hosted form, a secret URL, Facebook's secrets), its
//! delivery log and the test lead.

use super::hooks::{IngestOut, out};
use super::rfc3339;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Authed};
use crate::registry::{Api, RouteSpec, Verb};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use leadteam_app::intake::facebook_names::{self, FacebookNames, Named};
use leadteam_app::integrations::{self as integ, FacebookSetup, FormSettings, Setup};
use leadteam_app::routing_admin::{self as ra, SourceRow, SourceWithSecret};
use leadteam_domain::SourceId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(super) fn routes(api: Api) -> Api {
    api.add(
        RouteSpec::new(Verb::Get, "/api/v1/lead-sources", "routing", "Lead sources (without secrets)")
            .returns::<SourcesOut>(),
        list_sources,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/lead-sources",
            "routing",
            "Create a lead source; its secret (and secret URL) is shown once",
        )
        .status(201)
        .body::<SourceBody>()
        .returns::<SourceOut>(),
        create_source,
    )
    .add(
        RouteSpec::new(
            Verb::Patch,
            "/api/v1/lead-sources/{id}",
            "routing",
            "Rename, switch on/off, rotate the secret, set the form, the secret URL or Facebook's secrets",
        )
        .body::<SourcePatch>()
        .returns::<SourceOut>(),
        update_source,
    )
    .add(
        RouteSpec::new(Verb::Delete, "/api/v1/lead-sources/{id}", "routing", "Delete a lead source")
            .status(204),
        delete_source,
    )
    .add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/lead-sources/{id}/deliveries",
            "routing",
            "The source's recent deliveries, newest first: accepted, duplicate, refused and why (I7)",
        )
        .query(&[
            ("limit", "integer: at most this many (1-200, default 50)"),
            ("before", "integer: deliveries older than this id"),
        ])
        .returns::<DeliveriesOut>(),
        deliveries,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/lead-sources/{id}/test",
            "routing",
            "Send a test lead through the source's real intake path; answers where it went (I7)",
        )
        .status(201)
        .returns::<TestOut>(),
        send_test,
    )
}

/// Facebook's settings of a source (no secret is shown back).
#[derive(Debug, Serialize, JsonSchema)]
pub struct FacebookOut {
    /// Whether a page access token is set (needed to fetch lead details).
    pub has_page_access_token: bool,
    /// Where Meta sends deliveries: enter it as the callback URL.
    pub callback_url: String,
    /// The pages this source has received leads from, with their names
    /// once the Graph API gave them: a rule's `facebook_page` takes the id.
    pub pages: Vec<FacebookNamedOut>,
    /// The lead forms likewise (a rule's `facebook_form` takes the id).
    pub forms: Vec<FacebookNamedOut>,
}

/// A Facebook page or lead form a source has seen.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FacebookNamedOut {
    pub id: String,
    /// Null until the Graph API gave it.
    pub name: Option<String>,
}

fn named_out(list: &[Named]) -> Vec<FacebookNamedOut> {
    list.iter()
        .map(|n| FacebookNamedOut {
            id: n.id.clone(),
            name: n.name.clone(),
        })
        .collect()
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SourceOut {
    pub id: i64,
    /// form | website | webhook | facebook | google
    pub kind: String,
    pub name: String,
    pub enabled: bool,
    /// Where signed deliveries go (`POST`); for a form, where its page is.
    pub webhook_url: String,
    pub created_at: String,
    /// Kind `form`: the public page (`GET`) and where it posts (`POST`).
    pub form_url: Option<String>,
    /// Kind `form`: its settings.
    pub form: Option<FormSettings>,
    /// Whether the source has a secret URL (shown only when issued).
    pub has_secret_url: bool,
    /// Kind `facebook`.
    pub facebook: Option<FacebookOut>,
    /// Shown once, at creation and rotation: the HMAC key (website, webhook),
    /// the app secret (Facebook) or the google_key (Google).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Facebook only, shown once: the verify token for the subscription.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_token: Option<String>,
    /// Shown once, when issued: the secret URL that takes leads without a
    /// signature (`POST`, JSON or a form).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_url: Option<String>,
}

pub(crate) fn base(s: &AppState) -> &str {
    s.app.config.base_url.trim_end_matches('/')
}

/// Where a source takes deliveries.
pub(crate) fn webhook_url(s: &AppState, r: &SourceRow) -> String {
    let base = base(s);
    match r.kind.as_str() {
        "facebook" => format!("{base}/hooks/{}/facebook", r.id.0),
        "google" => format!("{base}/hooks/{}/google", r.id.0),
        "form" => form_url(s, r).unwrap_or_default(),
        _ => format!("{base}/hooks/{}", r.id.0),
    }
}

pub(crate) fn form_url(s: &AppState, r: &SourceRow) -> Option<String> {
    r.form_key
        .as_ref()
        .filter(|_| r.kind == "form")
        .map(|k| format!("{}/f/{k}", base(s)))
}

pub(crate) fn secret_url(s: &AppState, token: &str) -> String {
    format!("{}/in/{token}", base(s))
}

pub(crate) fn source_out(
    s: &AppState,
    r: &SourceRow,
    secret: Option<&SourceWithSecret>,
    url_token: Option<&str>,
    fb: Option<&FacebookNames>,
) -> SourceOut {
    SourceOut {
        id: r.id.0,
        kind: r.kind.clone(),
        name: r.name.clone(),
        enabled: r.enabled,
        webhook_url: webhook_url(s, r),
        created_at: rfc3339(r.created_at),
        form_url: form_url(s, r),
        form: integ::form_settings(r),
        has_secret_url: r.url_token.is_some(),
        facebook: (r.kind == "facebook").then(|| FacebookOut {
            has_page_access_token: r.page_token.is_some(),
            callback_url: webhook_url(s, r),
            pages: fb.map(|f| named_out(&f.pages)).unwrap_or_default(),
            forms: fb.map(|f| named_out(&f.forms)).unwrap_or_default(),
        }),
        secret: secret.map(|w| w.secret.clone()),
        verify_token: secret.and_then(|w| w.verify_token.clone()),
        secret_url: url_token
            .or(secret.and_then(|w| w.url_token.as_deref()))
            .map(|t| secret_url(s, t)),
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SourcesOut {
    pub sources: Vec<SourceOut>,
}

async fn list_sources(
    State(s): State<AppState>,
    Authed(c): Authed,
) -> Result<Json<SourcesOut>, ApiError> {
    let rows = ra::list_sources(&s.app, &c).await?;
    let mut sources = Vec::with_capacity(rows.len());
    for r in &rows {
        let fb = match r.kind.as_str() {
            "facebook" => Some(facebook_names::known_of(&s.app, &c, r.id).await?),
            _ => None,
        };
        sources.push(source_out(&s, r, None, None, fb.as_ref()));
    }
    Ok(Json(SourcesOut { sources }))
}

/// Facebook's secrets as copied from Meta's app dashboard.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FacebookBody {
    /// The Meta app secret: `X-Hub-Signature-256` is computed with it.
    pub app_secret: Option<String>,
    /// The verify token you type into the app's webhook subscription.
    pub verify_token: Option<String>,
    /// A page access token with `leads_retrieval`, to fetch each lead's details;
    /// saving it also looks up the names of the pages and lead forms it reaches.
    pub page_access_token: Option<String>,
}

fn facebook_setup(b: Option<FacebookBody>) -> Option<FacebookSetup> {
    b.map(|f| FacebookSetup {
        app_secret: f.app_secret,
        verify_token: f.verify_token,
        page_access_token: f.page_access_token,
    })
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceBody {
    /// form | website | webhook | facebook | google
    pub kind: String,
    pub name: String,
    /// Kind `form`: its settings (defaults: name, email, phone, message).
    pub form: Option<FormSettings>,
    /// Issue a secret URL that takes leads without a signature.
    #[serde(default)]
    pub secret_url: bool,
    /// Kind `facebook`: the secrets from Meta (without them a secret and a
    /// verify token are made up, for tests).
    pub facebook: Option<FacebookBody>,
}

async fn create_source(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiJson(b): ApiJson<SourceBody>,
) -> Result<(StatusCode, Json<SourceOut>), ApiError> {
    let setup = Setup {
        form: b.form,
        secret_url: b.secret_url.then_some(true),
        facebook: facebook_setup(b.facebook),
    };
    let w = ra::create_source(&s.app, &c, &b.kind, &b.name, setup).await?;
    Ok((
        StatusCode::CREATED,
        Json(source_out(&s, &w.source, Some(&w), None, None)),
    ))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourcePatch {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    /// Issue a new secret (the old one stops working at once).
    #[serde(default)]
    pub rotate_secret: bool,
    /// Kind `form`: the whole new settings.
    pub form: Option<FormSettings>,
    /// `true`: issue (or rotate) the secret URL, shown once; `false`: remove it.
    pub secret_url: Option<bool>,
    /// Kind `facebook`: the parts to set.
    pub facebook: Option<FacebookBody>,
}

async fn update_source(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<SourcePatch>,
) -> Result<Json<SourceOut>, ApiError> {
    let id = SourceId(id);
    let setup = Setup {
        form: b.form,
        secret_url: b.secret_url,
        facebook: facebook_setup(b.facebook),
    };
    let touches_setup =
        setup.form.is_some() || setup.secret_url.is_some() || setup.facebook.is_some();
    if touches_setup {
        // Checked before anything is written: a refused part changes nothing.
        let src = integ::source(&s.app, &c, id).await?;
        integ::check_setup(&src.kind, &setup)?;
    }
    let (mut row, rotated) = ra::update_source(
        &s.app,
        &c,
        id,
        b.name.as_deref(),
        b.enabled,
        b.rotate_secret,
    )
    .await?;
    let mut token = None;
    if touches_setup {
        let (after, t) = integ::configure(&s.app, &c, id, setup).await?;
        row = after;
        token = t;
    }
    let fb = match row.kind.as_str() {
        "facebook" => Some(facebook_names::known_of(&s.app, &c, row.id).await?),
        _ => None,
    };
    Ok(Json(source_out(
        &s,
        &row,
        rotated.as_ref(),
        token.as_deref(),
        fb.as_ref(),
    )))
}

async fn delete_source(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    ra::delete_source(&s.app, &c, SourceId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
struct DeliveriesQuery {
    limit: Option<i64>,
    before: Option<i64>,
}

/// One delivery of a source.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SourceDeliveryOut {
    pub id: i64,
    /// signed | form | key | url | facebook | google | test
    pub channel: String,
    /// accepted | duplicate | refused
    pub outcome: String,
    /// Why it was refused: bad_signature | switched_off | too_large |
    /// rate_limited | honeypot | origin | invalid
    pub reason: Option<String>,
    pub detail: Option<String>,
    pub client_id: Option<i64>,
    pub at: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DeliveriesOut {
    pub deliveries: Vec<SourceDeliveryOut>,
}

async fn deliveries(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<DeliveriesQuery>,
) -> Result<Json<DeliveriesOut>, ApiError> {
    let rows = integ::deliveries(&s.app, &c, SourceId(id), q.limit.unwrap_or(50), q.before).await?;
    Ok(Json(DeliveriesOut {
        deliveries: rows
            .into_iter()
            .map(|d| SourceDeliveryOut {
                id: d.id,
                channel: d.channel,
                outcome: d.outcome,
                reason: d.reason,
                detail: d.detail,
                client_id: d.client.map(|c| c.0),
                at: rfc3339(d.created_at),
            })
            .collect(),
    }))
}

/// Where the test lead went.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TestOut {
    pub lead: IngestOut,
    /// The member it was given to, by name.
    pub assignee_name: Option<String>,
}

async fn send_test(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
) -> Result<(StatusCode, Json<TestOut>), ApiError> {
    let t = integ::send_test(&s.app, &c, SourceId(id)).await?;
    Ok((
        StatusCode::CREATED,
        Json(TestOut {
            lead: out(&t.lead),
            assignee_name: t.assignee_name,
        }),
    ))
}
