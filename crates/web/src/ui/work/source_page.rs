//! One lead source's page (`/leads/sources/{id}`, I4-I7): where its leads
//! come in (the hosted form's page and snippet, the webhook address,
//! Facebook's settings), how to send leads without code (an intake key with
//! a ready curl line, a secret URL), the form's settings, a test lead, and
//! the recent deliveries. Everything needs `integrations.manage`.

use super::{non_empty, notice, number, when};
use crate::AppState;
use crate::ui::form::NoticeQuery;
use crate::ui::layout::{Layout, render, see_other};
use crate::ui::{FormErrors, SignedIn, UiError, UiForm};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use leadteam_app::api_keys;
use leadteam_app::integrations::{self as integ, FacebookSetup, FormField, FormSettings, Setup};
use leadteam_app::me;
use leadteam_app::routing_admin::SourceRow;
use leadteam_domain::SourceId;
use serde::Deserialize;

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/leads/sources/{id}", get(show))
        .route("/leads/sources/{id}/form", post(save_form))
        .route("/leads/sources/{id}/facebook", post(save_facebook))
        .route("/leads/sources/{id}/secret-url", post(secret_url))
        .route("/leads/sources/{id}/intake-key", post(intake_key))
        .route("/leads/sources/{id}/test", post(test))
}

fn home(id: i64) -> String {
    format!("/leads/sources/{id}")
}

struct DeliveryView {
    at: String,
    channel: String,
    outcome: String,
    reason: String,
    detail: String,
    client: Option<i64>,
}

/// A credential shown this once, with its curl line.
struct Shown {
    heading: String,
    label: String,
    value: String,
    curl: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FormForm {
    title: String,
    fields: String,
    thank_you: String,
    redirect_url: String,
    allowed_origins: String,
    per_address_per_minute: Option<String>,
    per_source_per_minute: Option<String>,
}

#[derive(Template)]
#[template(path = "leads_source.html")]
struct SourcePage {
    page: Layout,
    copy_url: &'static str,
    tab: &'static str,
    id: i64,
    name: String,
    kind: String,
    enabled: bool,
    webhook_url: String,
    form_url: Option<String>,
    snippet: Option<String>,
    has_secret_url: bool,
    has_page_token: bool,
    curl_key: String,
    shown: Option<Shown>,
    test_result: Option<String>,
    form: FormForm,
    errors: FormErrors,
    deliveries: Vec<DeliveryView>,
}

#[derive(Default)]
struct Extra {
    shown: Option<Shown>,
    test_result: Option<String>,
    form: Option<FormForm>,
    errors: FormErrors,
}

fn fields_text(fields: &[FormField]) -> String {
    fields
        .iter()
        .map(|f| {
            format!(
                "{} | {} | {}{}",
                f.name,
                f.label,
                f.kind,
                if f.required { " | required" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn form_of(s: &FormSettings) -> FormForm {
    FormForm {
        title: s.title.clone(),
        fields: fields_text(&s.fields),
        thank_you: s.thank_you.clone(),
        redirect_url: s.redirect_url.clone().unwrap_or_default(),
        allowed_origins: s.allowed_origins.join("\n"),
        per_address_per_minute: Some(s.per_address_per_minute.to_string()),
        per_source_per_minute: Some(s.per_source_per_minute.to_string()),
    }
}

/// `name | Label | kind | required` per line.
fn parse_fields(text: &str) -> Vec<FormField> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let parts: Vec<&str> = l.split('|').map(str::trim).collect();
            let name = parts.first().copied().unwrap_or("").to_owned();
            FormField {
                label: parts.get(1).copied().unwrap_or(&name).to_owned(),
                kind: parts
                    .get(2)
                    .copied()
                    .filter(|k| !k.is_empty())
                    .unwrap_or("text")
                    .to_owned(),
                required: parts
                    .get(3)
                    .is_some_and(|r| r.eq_ignore_ascii_case("required")),
                name,
            }
        })
        .collect()
}

fn curl_for_key(s: &AppState, id: i64, key: &str) -> String {
    format!(
        "curl -s {}/api/v1/leads -H \"authorization: Bearer {key}\" -H 'content-type: application/json' -d '{{\"source_id\":{id},\"name\":\"Lea Lead\",\"email\":\"lea@example.com\",\"phone\":\"+33 6 12 34 56 78\"}}'",
        s.app.config.base_url.trim_end_matches('/')
    )
}

async fn page(
    s: &AppState,
    who: &SignedIn,
    id: i64,
    status: StatusCode,
    notice_key: Option<&str>,
    extra: Extra,
) -> Result<Response, UiError> {
    let src: SourceRow = integ::source(&s.app, &who.caller, SourceId(id)).await?;
    let log = integ::deliveries(&s.app, &who.caller, SourceId(id), 50, None).await?;
    let v = me::me(&s.app, &who.caller).await?;
    let settings = integ::form_settings(&src);
    let form_url = crate::api::form_url_of(s, &src);
    let snippet = match (&form_url, &settings) {
        (Some(u), Some(st)) => Some(crate::ui::hosted_form::snippet(u, st)),
        _ => None,
    };
    let p = SourcePage {
        page: Layout::signed_in(&src.name, "/leads/assignment", who, &v)
            .with_notice(notice(notice_key)),
        copy_url: crate::ui::assets::copy_url(),
        tab: "sources",
        id,
        name: src.name.clone(),
        kind: src.kind.clone(),
        enabled: src.enabled,
        webhook_url: crate::api::webhook_url_of(s, &src),
        form_url,
        snippet,
        has_secret_url: src.url_token.is_some(),
        has_page_token: src.page_token.is_some(),
        curl_key: curl_for_key(s, id, "$LEADTEAM_KEY"),
        shown: extra.shown,
        test_result: extra.test_result,
        form: extra
            .form
            .or_else(|| settings.as_ref().map(form_of))
            .unwrap_or_default(),
        errors: extra.errors,
        deliveries: log
            .into_iter()
            .map(|d| DeliveryView {
                at: when(d.created_at, &who.caller.time_zone),
                channel: d.channel,
                outcome: d.outcome,
                reason: d.reason.unwrap_or_default().replace('_', " "),
                detail: d.detail.unwrap_or_default(),
                client: d.client.map(|c| c.0),
            })
            .collect(),
    };
    Ok(render(status, &p))
}

async fn show(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, UiError> {
    page(
        &s,
        &who,
        id,
        StatusCode::OK,
        q.notice.as_deref(),
        Extra::default(),
    )
    .await
}

async fn refused(
    s: &AppState,
    who: &SignedIn,
    id: i64,
    e: leadteam_app::AppError,
    form: Option<FormForm>,
) -> Result<Response, UiError> {
    let (status, errors) = FormErrors::from_app(e, &[])?;
    let extra = Extra {
        errors,
        form,
        ..Extra::default()
    };
    page(s, who, id, status, None, extra).await
}

async fn save_form(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<FormForm>,
) -> Result<Response, UiError> {
    let d = &f.data;
    let settings = FormSettings {
        title: d.title.clone(),
        fields: parse_fields(&d.fields),
        thank_you: d.thank_you.clone(),
        redirect_url: Some(d.redirect_url.clone()),
        allowed_origins: d.allowed_origins.lines().map(str::to_owned).collect(),
        per_address_per_minute: number(&d.per_address_per_minute).unwrap_or(0),
        per_source_per_minute: number(&d.per_source_per_minute).unwrap_or(0),
    };
    let setup = Setup {
        form: Some(settings),
        ..Setup::default()
    };
    match integ::configure(&s.app, &who.caller, SourceId(id), setup).await {
        Ok(_) => Ok(see_other(
            &format!("{}?notice=form_saved", home(id)),
            f.htmx,
        )),
        Err(e) => refused(&s, &who, id, e, Some(f.data)).await,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FacebookForm {
    app_secret: Option<String>,
    verify_token: Option<String>,
    page_access_token: Option<String>,
}

async fn save_facebook(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<FacebookForm>,
) -> Result<Response, UiError> {
    let d = &f.data;
    let setup = Setup {
        facebook: Some(FacebookSetup {
            app_secret: non_empty(&d.app_secret).map(str::to_owned),
            verify_token: non_empty(&d.verify_token).map(str::to_owned),
            page_access_token: non_empty(&d.page_access_token).map(str::to_owned),
        }),
        ..Setup::default()
    };
    match integ::configure(&s.app, &who.caller, SourceId(id), setup).await {
        Ok(_) => Ok(see_other(
            &format!("{}?notice=facebook_saved", home(id)),
            f.htmx,
        )),
        Err(e) => refused(&s, &who, id, e, None).await,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SecretUrlForm {
    /// `issue` (or rotate) or `remove`.
    action: String,
}

/// Issuing answers with the page itself, so the URL is never in an address.
async fn secret_url(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<SecretUrlForm>,
) -> Result<Response, UiError> {
    let issue = f.data.action != "remove";
    let setup = Setup {
        secret_url: Some(issue),
        ..Setup::default()
    };
    match integ::configure(&s.app, &who.caller, SourceId(id), setup).await {
        Ok((_, Some(token))) => {
            let url = crate::api::secret_url_of(&s, &token);
            let extra = Extra {
                shown: Some(Shown {
                    heading: "Copy the secret URL now".into(),
                    label: "Secret URL (POST a JSON object or a form; no signature)".into(),
                    curl: format!(
                        "curl -s {url} -H 'content-type: application/json' -d '{{\"name\":\"Lea Lead\",\"email\":\"lea@example.com\"}}'"
                    ),
                    value: url,
                }),
                ..Extra::default()
            };
            page(&s, &who, id, StatusCode::OK, None, extra).await
        }
        Ok((_, None)) => Ok(see_other(
            &format!("{}?notice=secret_url_removed", home(id)),
            f.htmx,
        )),
        Err(e) => refused(&s, &who, id, e, None).await,
    }
}

#[derive(Debug, Default, Deserialize)]
struct NoFields {}

async fn intake_key(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    _f: UiForm<NoFields>,
) -> Result<Response, UiError> {
    let src = integ::source(&s.app, &who.caller, SourceId(id)).await?;
    let name = format!("Leads into {}", src.name);
    match api_keys::create_intake(&s.app, &who.caller, &name, &[SourceId(id)]).await {
        Ok(k) => {
            let extra = Extra {
                shown: Some(Shown {
                    heading: "Copy the intake key now".into(),
                    label: "Intake key (it only sends leads to this source)".into(),
                    curl: curl_for_key(&s, id, &k.token),
                    value: k.token,
                }),
                ..Extra::default()
            };
            page(&s, &who, id, StatusCode::CREATED, None, extra).await
        }
        Err(e) => refused(&s, &who, id, e, None).await,
    }
}

async fn test(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    _f: UiForm<NoFields>,
) -> Result<Response, UiError> {
    match integ::send_test(&s.app, &who.caller, SourceId(id)).await {
        Ok(t) => {
            let to = match &t.assignee_name {
                Some(n) => format!("went to {n}"),
                None => "stayed unassigned".into(),
            };
            let extra = Extra {
                test_result: Some(format!(
                    "The test lead (client {}) {to}: {}.",
                    t.lead.client.0, t.lead.reason
                )),
                ..Extra::default()
            };
            page(&s, &who, id, StatusCode::CREATED, None, extra).await
        }
        Err(e) => refused(&s, &who, id, e, None).await,
    }
}
