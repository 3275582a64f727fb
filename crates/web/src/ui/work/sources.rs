//! Lead sources (`/api/v1/lead-sources`, I1): the list with each webhook
//! address, creation and rotation showing the secret once, switching on and
//! off, deletion. Everything needs `integrations.manage`.

use super::{notice, when};
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
use leadteam_app::me;
use leadteam_app::routing_admin::SourceRow;
use leadteam_app::routing_admin::{self as ra, SourceWithSecret};
use leadteam_domain::SourceId;
use serde::Deserialize;

const HOME: &str = "/leads/sources";

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route(HOME, get(show).post(create))
        .route("/leads/sources/{id}/switch", post(switch))
        .route("/leads/sources/{id}/rotate", post(rotate))
        .route("/leads/sources/{id}/delete", post(delete))
}

/// The kinds a person may create, with their names in words.
const KINDS: [(&str, &str); 5] = [
    (
        "form",
        "Hosted form (a page and a snippet for your website, no code)",
    ),
    ("website", "Website form (your own code signs each post)"),
    ("webhook", "Webhook (Zapier, Make, your own code)"),
    ("facebook", "Facebook Lead Ads"),
    ("google", "Google Ads lead forms"),
];

fn kind_words(kind: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, w)| *w)
        .unwrap_or("Other")
}

pub(super) struct SourceView {
    id: i64,
    name: String,
    kind: &'static str,
    enabled: bool,
    url: String,
    added: String,
}

/// A secret shown this once, with how to use it.
pub(super) struct Shown {
    id: i64,
    name: String,
    kind: String,
    url: String,
    secret: String,
    verify_token: Option<String>,
    rotated: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct CreateForm {
    kind: String,
    name: String,
}

#[derive(Template)]
#[template(path = "leads_sources.html")]
struct SourcesPage {
    page: Layout,
    tab: &'static str,
    sources: Vec<SourceView>,
    shown: Option<Shown>,
    kinds: [(&'static str, &'static str); 5],
    form: CreateForm,
    errors: FormErrors,
    alert: FormErrors,
}

fn webhook_url(s: &AppState, r: &SourceRow) -> String {
    crate::api::webhook_url_of(s, r)
}

#[derive(Default)]
struct Extra {
    shown: Option<Shown>,
    form: CreateForm,
    errors: FormErrors,
    alert: FormErrors,
}

async fn sources_page(
    s: &AppState,
    who: &SignedIn,
    status: StatusCode,
    notice_key: Option<&str>,
    extra: Extra,
) -> Result<Response, UiError> {
    let rows = ra::list_sources(&s.app, &who.caller).await?;
    let v = me::me(&s.app, &who.caller).await?;
    let title = if extra.shown.is_some() {
        "Copy the secret now"
    } else {
        "Lead sources"
    };
    let page = SourcesPage {
        page: Layout::signed_in(title, "/leads/assignment", who, &v)
            .with_notice(notice(notice_key)),
        tab: "sources",
        sources: rows
            .iter()
            .map(|r| SourceView {
                id: r.id.0,
                name: r.name.clone(),
                kind: kind_words(&r.kind),
                enabled: r.enabled,
                url: webhook_url(s, r),
                added: when(r.created_at, &who.caller.time_zone),
            })
            .collect(),
        shown: extra.shown,
        kinds: KINDS,
        form: extra.form,
        errors: extra.errors,
        alert: extra.alert,
    };
    Ok(render(status, &page))
}

fn shown(s: &AppState, w: SourceWithSecret, rotated: bool) -> Shown {
    Shown {
        id: w.source.id.0,
        name: w.source.name.clone(),
        kind: w.source.kind.clone(),
        url: webhook_url(s, &w.source),
        secret: w.secret,
        verify_token: w.verify_token,
        rotated,
    }
}

async fn show(
    State(s): State<AppState>,
    who: SignedIn,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, UiError> {
    sources_page(
        &s,
        &who,
        StatusCode::OK,
        q.notice.as_deref(),
        Extra::default(),
    )
    .await
}

/// Creation answers with the page itself (not a redirect), so the secret is
/// never in an address or the history.
async fn create(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<CreateForm>,
) -> Result<Response, UiError> {
    match ra::create_source(
        &s.app,
        &who.caller,
        &f.data.kind,
        &f.data.name,
        Default::default(),
    )
    .await
    {
        // A hosted form has no secret to copy: its page shows the form.
        Ok(w) if w.source.kind == "form" => Ok(see_other(
            &format!("/leads/sources/{}", w.source.id.0),
            f.htmx,
        )),
        Ok(w) => {
            let extra = Extra {
                shown: Some(shown(&s, w, false)),
                ..Extra::default()
            };
            sources_page(&s, &who, StatusCode::CREATED, None, extra).await
        }
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[])?;
            let extra = Extra {
                form: f.data,
                errors,
                ..Extra::default()
            };
            sources_page(&s, &who, status, None, extra).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SwitchForm {
    enabled: String,
}

async fn refused(
    s: &AppState,
    who: &SignedIn,
    e: leadteam_app::AppError,
) -> Result<Response, UiError> {
    let (status, alert) = FormErrors::from_app(e, &[])?;
    let extra = Extra {
        alert,
        ..Extra::default()
    };
    sources_page(s, who, status, None, extra).await
}

async fn switch(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<SwitchForm>,
) -> Result<Response, UiError> {
    let on = f.data.enabled == "true";
    match ra::update_source(&s.app, &who.caller, SourceId(id), None, Some(on), false).await {
        Ok(_) => {
            let key = if on { "source_on" } else { "source_off" };
            Ok(see_other(&format!("{HOME}?notice={key}"), f.htmx))
        }
        Err(e) => refused(&s, &who, e).await,
    }
}

#[derive(Debug, Default, Deserialize)]
struct NoFields {}

async fn rotate(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    _f: UiForm<NoFields>,
) -> Result<Response, UiError> {
    match ra::update_source(&s.app, &who.caller, SourceId(id), None, None, true).await {
        Ok((_, Some(w))) => {
            let extra = Extra {
                shown: Some(shown(&s, w, true)),
                ..Extra::default()
            };
            sources_page(&s, &who, StatusCode::OK, None, extra).await
        }
        Ok((_, None)) => Ok(see_other(HOME, false)),
        Err(e) => refused(&s, &who, e).await,
    }
}

async fn delete(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<NoFields>,
) -> Result<Response, UiError> {
    match ra::delete_source(&s.app, &who.caller, SourceId(id)).await {
        Ok(()) => Ok(see_other(&format!("{HOME}?notice=source_deleted"), f.htmx)),
        Err(e) => refused(&s, &who, e).await,
    }
}
