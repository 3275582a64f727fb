//! Outbound webhooks (`/leads/webhooks`, I8): subscribe a URL to events, see
//! each subscription's recent deliveries, switch it on or off, delete it.
//! The signing secret is shown once. Everything needs `integrations.manage`.

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
use leadteam_app::webhooks::{self as wh, Change};
use leadteam_domain::webhooks::EVENTS;
use serde::Deserialize;

const HOME: &str = "/leads/webhooks";

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route(HOME, get(show).post(create))
        .route("/leads/webhooks/{id}/switch", post(switch))
        .route("/leads/webhooks/{id}/delete", post(delete))
}

struct DeliveryView {
    event: String,
    event_id: String,
    state: String,
    attempts: i64,
    status: String,
    error: String,
    at: String,
}

struct HookView {
    id: i64,
    url: String,
    events: String,
    enabled: bool,
    disabled_reason: Option<String>,
    deliveries: Vec<DeliveryView>,
}

struct Shown {
    url: String,
    secret: String,
}

#[derive(Template)]
#[template(path = "leads_webhooks.html")]
struct WebhooksPage {
    page: Layout,
    copy_url: &'static str,
    tab: &'static str,
    hooks: Vec<HookView>,
    events: [&'static str; 9],
    chosen: Vec<String>,
    url: String,
    shown: Option<Shown>,
    errors: FormErrors,
}

#[derive(Default)]
struct Extra {
    shown: Option<Shown>,
    url: String,
    chosen: Vec<String>,
    errors: FormErrors,
}

async fn page(
    s: &AppState,
    who: &SignedIn,
    status: StatusCode,
    notice_key: Option<&str>,
    extra: Extra,
) -> Result<Response, UiError> {
    let rows = wh::list(&s.app, &who.caller).await?;
    let mut hooks = Vec::with_capacity(rows.len());
    for w in rows {
        let log = wh::deliveries(&s.app, &who.caller, w.id, 10).await?;
        hooks.push(HookView {
            id: w.id,
            url: w.url,
            events: w.events.join(", "),
            enabled: w.enabled,
            disabled_reason: w.disabled_reason,
            deliveries: log
                .into_iter()
                .map(|d| DeliveryView {
                    event: d.kind,
                    event_id: format!("evt_{}", d.event),
                    state: d.state,
                    attempts: d.attempts,
                    status: d.last_status.map(|s| s.to_string()).unwrap_or_default(),
                    error: d.last_error.unwrap_or_default(),
                    at: when(
                        d.delivered_at.unwrap_or(d.created_at),
                        &who.caller.time_zone,
                    ),
                })
                .collect(),
        });
    }
    let v = me::me(&s.app, &who.caller).await?;
    let p = WebhooksPage {
        page: Layout::signed_in("Webhooks", "/leads/assignment", who, &v)
            .with_notice(notice(notice_key)),
        copy_url: crate::ui::assets::copy_url(),
        tab: "webhooks",
        hooks,
        events: EVENTS,
        chosen: extra.chosen,
        url: extra.url,
        shown: extra.shown,
        errors: extra.errors,
    };
    Ok(render(status, &p))
}

async fn show(
    State(s): State<AppState>,
    who: SignedIn,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, UiError> {
    page(
        &s,
        &who,
        StatusCode::OK,
        q.notice.as_deref(),
        Extra::default(),
    )
    .await
}

/// The form's fields: `url` and one `event` per ticked box.
fn read_form(body: &[(String, String)]) -> (String, Vec<String>) {
    let mut url = String::new();
    let mut events = Vec::new();
    for (k, v) in body {
        match k.as_str() {
            "url" => url = v.clone(),
            "event" => events.push(v.clone()),
            _ => {}
        }
    }
    (url, events)
}

/// Creation answers with the page itself, so the secret is never in an address.
async fn create(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let (url, events) = read_form(&f.data);
    match wh::create(&s.app, &who.caller, &url, &events).await {
        Ok(w) => {
            let extra = Extra {
                shown: Some(Shown {
                    url: w.webhook.url,
                    secret: w.secret,
                }),
                ..Extra::default()
            };
            page(&s, &who, StatusCode::CREATED, Some("webhook_added"), extra).await
        }
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[])?;
            let extra = Extra {
                url,
                chosen: events,
                errors,
                ..Extra::default()
            };
            page(&s, &who, status, None, extra).await
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
    let (status, errors) = FormErrors::from_app(e, &[])?;
    let extra = Extra {
        errors,
        ..Extra::default()
    };
    page(s, who, status, None, extra).await
}

async fn switch(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<SwitchForm>,
) -> Result<Response, UiError> {
    let on = f.data.enabled == "true";
    let ch = Change {
        enabled: Some(on),
        ..Change::default()
    };
    match wh::update(&s.app, &who.caller, id, ch).await {
        Ok(_) => {
            let key = if on { "webhook_on" } else { "webhook_off" };
            Ok(see_other(&format!("{HOME}?notice={key}"), f.htmx))
        }
        Err(e) => refused(&s, &who, e).await,
    }
}

#[derive(Debug, Default, Deserialize)]
struct NoFields {}

async fn delete(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<NoFields>,
) -> Result<Response, UiError> {
    match wh::delete(&s.app, &who.caller, id).await {
        Ok(()) => Ok(see_other(&format!("{HOME}?notice=webhook_deleted"), f.htmx)),
        Err(e) => refused(&s, &who, e).await,
    }
}
