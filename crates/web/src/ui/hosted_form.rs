//! Hosted lead forms (I4): the public page `/f/{form_key}` and its post.
//! The page is plain HTML (works without JavaScript); the same form can be
//! pasted into any website ([`snippet`]). The post needs no session and no
//! signature: `leadteam_app::intake::form::receive` applies the honeypot,
//! the rate limits, the body limit and the allowed origins, and sends the
//! lead through the same intake as every other.

use crate::AppState;
use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use leadteam_app::AppError;
use leadteam_app::intake::form::{self, FORM_BODY_LIMIT, FormAnswer, FormPost, HostedForm};
use leadteam_app::integrations::FormSettings;
use leadteam_domain::forms::HONEYPOT;
use std::collections::BTreeMap;
use std::net::SocketAddr;

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/f/{form_key}", get(show).post(post))
}

struct FieldView {
    name: String,
    label: String,
    kind: String,
    required: bool,
    value: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "hosted_form.html")]
struct FormPage {
    title: String,
    action: String,
    fields: Vec<FieldView>,
    errors: Vec<String>,
    honeypot: &'static str,
    /// A page with a message instead of the form (thanks, closed, refused).
    message: Option<String>,
}

fn page(status: StatusCode, p: &FormPage) -> Response {
    match p.render() {
        Ok(html) => {
            let mut r = (status, axum::response::Html(html)).into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering a hosted form failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn form_page(
    s: &AppState,
    f: &HostedForm,
    values: &BTreeMap<String, String>,
    errors: &[(String, String)],
) -> FormPage {
    FormPage {
        title: f.settings.title.clone(),
        action: action(s, f),
        fields: f
            .settings
            .fields
            .iter()
            .map(|x| FieldView {
                name: x.name.clone(),
                label: x.label.clone(),
                kind: x.kind.clone(),
                required: x.required,
                value: values.get(&x.name).cloned().unwrap_or_default(),
                error: errors
                    .iter()
                    .find(|(n, _)| *n == x.name)
                    .map(|(_, m)| m.clone()),
            })
            .collect(),
        errors: errors.iter().map(|(_, m)| m.clone()).collect(),
        honeypot: HONEYPOT,
        message: None,
    }
}

fn action(s: &AppState, f: &HostedForm) -> String {
    format!(
        "{}/f/{}",
        s.app.config.base_url.trim_end_matches('/'),
        f.source.form_key.as_deref().unwrap_or("")
    )
}

fn message(status: StatusCode, title: &str, text: &str) -> Response {
    page(
        status,
        &FormPage {
            title: title.to_owned(),
            action: String::new(),
            fields: Vec::new(),
            errors: Vec::new(),
            honeypot: HONEYPOT,
            message: Some(text.to_owned()),
        },
    )
}

fn refusal(e: AppError) -> Response {
    match e {
        AppError::NotFound(_) => message(
            StatusCode::NOT_FOUND,
            "Form not found",
            "This form does not exist. Check the address.",
        ),
        AppError::Conflict { .. } => message(
            StatusCode::CONFLICT,
            "This form is closed",
            "This form does not take answers at the moment.",
        ),
        AppError::TooManyAttempts {
            retry_after_secs, ..
        } => {
            let mut r = message(
                StatusCode::TOO_MANY_REQUESTS,
                "Please wait a moment",
                "This form received too many answers just now. Please try again in a minute.",
            );
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        AppError::Denied(_) => message(
            StatusCode::FORBIDDEN,
            "Not accepted from this site",
            "This form cannot be sent from the page you used.",
        ),
        AppError::TooLarge(_) => message(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too long",
            "Your answer is too long to be sent. Please shorten it.",
        ),
        other => {
            let a = crate::error::ApiError::from(other);
            message(a.status, "Something went wrong", "Please try again later.")
        }
    }
}

async fn show(State(s): State<AppState>, Path(key): Path<String>) -> Response {
    match form::form(&s.app, &key).await {
        Ok(f) if !f.source.enabled => refusal(AppError::conflict(None, "switched off")),
        Ok(f) => page(StatusCode::OK, &form_page(&s, &f, &BTreeMap::new(), &[])),
        Err(e) => refusal(e),
    }
}

fn header_str(h: &axum::http::HeaderMap, name: header::HeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

async fn post(State(s): State<AppState>, Path(key): Path<String>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let ip = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let origin = header_str(&parts.headers, header::ORIGIN)
        .filter(|o| *o != "null")
        .or_else(|| header_str(&parts.headers, header::REFERER));
    let declared_too_large = header_str(&parts.headers, header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > FORM_BODY_LIMIT);
    let bytes = if declared_too_large {
        None
    } else {
        axum::body::to_bytes(Body::new(body), FORM_BODY_LIMIT)
            .await
            .ok()
    };
    let answer = form::receive(
        &s.app,
        FormPost {
            key: &key,
            ip: ip.as_deref(),
            origin,
            body: bytes.as_deref(),
        },
    )
    .await;
    match answer {
        Ok(FormAnswer::Thanks {
            redirect: Some(to), ..
        }) => Redirect::to(&to).into_response(),
        Ok(FormAnswer::Thanks { form, .. }) => {
            let text = if form.settings.thank_you.is_empty() {
                FormSettings::default().thank_you
            } else {
                form.settings.thank_you.clone()
            };
            message(StatusCode::OK, &form.settings.title, &text)
        }
        Ok(FormAnswer::Invalid {
            form,
            errors,
            values,
        }) => {
            let errs: Vec<(String, String)> =
                errors.0.into_iter().map(|e| (e.field, e.message)).collect();
            page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &form_page(&s, &form, &values, &errs),
            )
        }
        Err(e) => refusal(e),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The HTML to paste into a website: a plain form (no JavaScript) posting
/// to the hosted form, with its honeypot.
pub(crate) fn snippet(action: &str, settings: &FormSettings) -> String {
    let mut out = format!(
        "<form action=\"{}\" method=\"post\" accept-charset=\"utf-8\">\n",
        escape(action)
    );
    for f in &settings.fields {
        let req = if f.required { " required" } else { "" };
        let label = escape(&f.label);
        let name = escape(&f.name);
        if f.kind == "textarea" {
            out.push_str(&format!(
                "  <label>{label}<br><textarea name=\"{name}\"{req}></textarea></label><br>\n"
            ));
        } else {
            out.push_str(&format!(
                "  <label>{label}<br><input type=\"{}\" name=\"{name}\"{req}></label><br>\n",
                escape(&f.kind)
            ));
        }
    }
    out.push_str(&format!(
        "  <div style=\"position:absolute;left:-10000px\" aria-hidden=\"true\"><input type=\"text\" name=\"{HONEYPOT}\" tabindex=\"-1\" autocomplete=\"off\"></div>\n"
    ));
    out.push_str("  <button type=\"submit\">Send</button>\n</form>");
    out
}
