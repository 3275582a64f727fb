//! Layers around every route: request ids and tracing, metrics, security
//! headers, cross-site request refusal, body size limit and a time limit.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::credential;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tracing::Instrument;

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// How long a handler may take before the request is answered 503.
pub const HANDLER_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) fn wrap(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .layer(from_fn(csrf_guard))
        .layer(from_fn(private_responses))
        .layer(from_fn(problems_only))
        .layer(axum::extract::DefaultBodyLimit::max(crate::MAX_BODY_BYTES))
        .layer(from_fn(time_limit))
        .layer(from_fn_with_state(state.clone(), observe))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(PropagateRequestIdLayer::new(X_REQUEST_ID.clone()))
        .layer(SetRequestIdLayer::new(X_REQUEST_ID.clone(), RequestIds))
        .with_state(state)
}

/// Request ids: the client's `X-Request-Id` when it is a plain token (at
/// most 64 letters, digits and dashes), else 16 random hex digits.
#[derive(Clone, Copy)]
struct RequestIds;

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, req: &axum::http::Request<B>) -> Option<RequestId> {
        let given = req
            .headers()
            .get(&X_REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|s| {
                !s.is_empty()
                    && s.len() <= 64
                    && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        let id = match given {
            Some(s) => s.to_owned(),
            None => new_request_id(),
        };
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// Answers 503 when a handler takes longer than [`HANDLER_TIMEOUT`], except
/// on the CSV import (API and page), which reads a file of any length as it
/// arrives.
async fn time_limit(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path == crate::api::import::IMPORT_PATH || path == crate::ui::IMPORT_PATH {
        return next.run(req).await;
    }
    match tokio::time::timeout(HANDLER_TIMEOUT, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "The request took too long",
        )
        .detail(format!(
            "the server gave up after {} s; try again",
            HANDLER_TIMEOUT.as_secs()
        ))
        .into_response(),
    }
}

/// Whether a path is answered by the API (problem+json errors), not a page.
fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/hooks/") || path.starts_with("/in/")
}

/// Every 4xx and 5xx of the API is problem+json (I9): an error answered by
/// something other than our handlers (an unknown route, a method the route
/// does not serve, a rejection of axum's own) is rewritten as one, keeping
/// its status and its words as the detail.
async fn problems_only(req: Request, next: Next) -> Response {
    let api = is_api_path(req.uri().path());
    let resp = next.run(req).await;
    let status = resp.status();
    if !api || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"));
    if is_problem {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let (kind, title) = match status {
        StatusCode::NOT_FOUND => ("not-found", "Not found"),
        StatusCode::METHOD_NOT_ALLOWED => ("method-not-allowed", "This method is not served here"),
        StatusCode::PAYLOAD_TOO_LARGE => ("body-too-large", "The request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported-media-type", "This media type is not accepted")
        }
        s if s.is_server_error() => ("internal", "Something went wrong on our side"),
        _ => ("bad-request", "The request could not be read"),
    };
    let mut e = ApiError::new(status, kind, title);
    if !text.is_empty() {
        e = e.detail(text);
    }
    let mut out = e.into_response();
    if let Some(allow) = parts.headers.get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}

fn new_request_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The tracing span of a request (with its request id) and its metrics.
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let id = req
        .extensions()
        .get::<RequestId>()
        .and_then(|r| r.header_value().to_str().ok())
        .unwrap_or("")
        .to_owned();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let span = tracing::info_span!("request", request_id = %id, method = %method, route = %route);
    let start = Instant::now();
    state.metrics.in_flight.fetch_add(1, Ordering::Relaxed);
    let resp = next.run(req).instrument(span.clone()).await;
    state.metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
    let elapsed = start.elapsed();
    let status = resp.status();
    state
        .metrics
        .observe(method.as_str(), &route, status.as_u16(), elapsed);
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::warn!(
                status = status.as_u16(),
                elapsed_ms = elapsed.as_millis() as u64,
                "request failed"
            );
        } else {
            tracing::debug!(
                status = status.as_u16(),
                elapsed_ms = elapsed.as_millis() as u64,
                "request"
            );
        }
    });
    resp
}

/// An answer to a request that carries a credential (the session cookie or
/// an `Authorization` header) is private: no shared or browser cache keeps
/// it (`Cache-Control: no-store`), unless the handler chose its own caching.
async fn private_responses(req: Request, next: Next) -> Response {
    let credentialed = req.headers().contains_key(header::AUTHORIZATION)
        || req.headers().get_all(header::COOKIE).iter().any(|v| {
            v.to_str()
                .is_ok_and(|s| s.contains(crate::extract::SESSION_COOKIE))
        });
    let mut resp = next.run(req).await;
    if credentialed && !resp.headers().contains_key(header::CACHE_CONTROL) {
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

fn is_unsafe(m: &Method) -> bool {
    !matches!(
        *m,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

fn host_of(origin: &str) -> &str {
    let rest = origin.split_once("://").map(|(_, r)| r).unwrap_or(origin);
    rest.split('/').next().unwrap_or(rest)
}

/// Refuses a state-changing request that carries the session cookie (and no
/// bearer token) when it comes from another site: a mismatched `Origin`, a
/// `Sec-Fetch-Site: cross-site`, or, from a client that sends neither, a body
/// of a type a cross-site HTML form can send without a CSRF token.
async fn csrf_guard(req: Request, next: Next) -> Response {
    // Hosted lead forms (`/f/{key}`) are posted from any site and act for
    // nobody: the session cookie, if a signed-in visitor's browser sends
    // it, is not read there, so there is nothing to forge.
    if is_unsafe(req.method()) && !req.uri().path().starts_with("/f/") {
        let (parts, body) = req.into_parts();
        // Whatever else the request carries (an `Authorization: Basic`
        // header, say), what counts is the credential authentication will
        // use: when that is the cookie, the request must come from this site.
        let cookie_auth = matches!(credential(&parts), Some((_, true)));
        if cookie_auth && let Err(e) = same_origin(&parts) {
            if !parts.uri.path().starts_with("/api/") {
                // A page's form: answer with a page that says what to do.
                return crate::ui::csrf_refused();
            }
            return e.into_response();
        }
        return next.run(Request::from_parts(parts, body)).await;
    }
    next.run(req).await
}

pub(crate) fn same_origin(parts: &axum::http::request::Parts) -> Result<(), ApiError> {
    let refuse = || {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "cross-site-request",
            "Cross-site request refused",
        )
        .detail("a state-changing request with the session cookie must come from this site")
    };
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Some(origin) = parts.headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("null");
        if origin == "null" || host_of(origin) != host {
            return Err(refuse());
        }
        return Ok(());
    }
    if let Some(site) = parts
        .headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
    {
        if site == "cross-site" || site == "same-site" {
            return Err(refuse());
        }
        return Ok(());
    }
    let ct = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let form_like = ct.starts_with("application/x-www-form-urlencoded")
        || ct.starts_with("multipart/form-data")
        || ct.starts_with("text/plain");
    let has_token = parts.headers.contains_key("x-csrf-token");
    if form_like && !has_token {
        return Err(refuse());
    }
    Ok(())
}
