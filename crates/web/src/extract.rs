//! Extractors: the caller from its credential, JSON bodies with problem+json
//! rejections, and the client's address.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use leadteam_app::auth::{Caller, ClientInfo};
use serde::de::DeserializeOwned;
use std::net::SocketAddr;

pub const SESSION_COOKIE: &str = "lt_session";

/// The credential of a request: `Authorization: Bearer` or the session cookie.
pub(crate) fn credential(parts: &Parts) -> Option<(String, bool)> {
    if let Some(h) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        && let Some(token) = h
            .strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
    {
        return Some((token.trim().to_owned(), false));
    }
    cookie(parts, SESSION_COOKIE).map(|t| (t, true))
}

pub(crate) fn cookie(parts: &Parts, name: &str) -> Option<String> {
    for h in parts.headers.get_all(header::COOKIE) {
        let Ok(s) = h.to_str() else { continue };
        for pair in s.split(';') {
            if let Some((k, v)) = pair.trim().split_once('=')
                && k == name
                && !v.is_empty()
            {
                return Some(v.to_owned());
            }
        }
    }
    None
}

/// The signed-in caller; 401 when the credential is missing or dead.
pub struct Authed(pub Caller);

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(c) = parts.extensions.get::<Caller>() {
            return Ok(Authed(c.clone()));
        }
        let Some((token, _)) = credential(parts) else {
            return Err(leadteam_app::AppError::Unauthenticated(
                leadteam_app::AuthFailure::NoSession,
            )
            .into());
        };
        let caller = leadteam_app::auth::authenticate(&state.app, &token).await?;
        parts.extensions.insert(caller.clone());
        Ok(Authed(caller))
    }
}

/// The caller when a live credential is present; nothing otherwise.
pub struct MaybeAuthed(pub Option<Caller>);

impl FromRequestParts<AppState> for MaybeAuthed {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if credential(parts).is_none() {
            return Ok(MaybeAuthed(None));
        }
        match Authed::from_request_parts(parts, state).await {
            Ok(Authed(c)) => Ok(MaybeAuthed(Some(c))),
            Err(e) if e.status == StatusCode::UNAUTHORIZED => Ok(MaybeAuthed(None)),
            Err(e) => Err(e),
        }
    }
}

/// The client's address and user agent, for throttling and the session list.
pub struct Client(pub ClientInfo);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ci| ci.0.ip().to_string());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(300).collect());
        Ok(Client(ClientInfo { ip, user_agent }))
    }
}

/// A JSON body whose rejections are problem+json naming the field at fault.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rej) => Err(json_rejection(rej)),
        }
    }
}

fn json_rejection(rej: JsonRejection) -> ApiError {
    let status = rej.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(status, "body-too-large", "The request body is too large").detail(
            format!("at most {} bytes are accepted", crate::MAX_BODY_BYTES),
        );
    }
    match rej {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Send the body as JSON with Content-Type: application/json",
        ),
        JsonRejection::JsonDataError(e) => {
            let text = e.body_text();
            let (field, message) = field_of(&text);
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                "The request has invalid fields",
            )
            .detail(text.clone())
            .field(field, message)
        }
        JsonRejection::JsonSyntaxError(e) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "The body is not valid JSON",
        )
        .detail(e.body_text()),
        other => {
            let s = other.status();
            if s == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(s, "body-too-large", "The request body is too large")
            } else {
                ApiError::new(s, "bad-request", "The request body could not be read")
                    .detail(other.body_text())
            }
        }
    }
}

/// Picks the field name out of serde's message ("missing field `email`",
/// "email: invalid type ...").
fn field_of(text: &str) -> (String, String) {
    let msg = text
        .strip_prefix("Failed to deserialize the JSON body into the target type: ")
        .unwrap_or(text);
    if let Some(rest) = msg.split("missing field `").nth(1)
        && let Some(name) = rest.split('`').next()
    {
        return (name.to_owned(), "is required".to_owned());
    }
    if let Some((path, rest)) = msg.split_once(": ")
        && !path.contains(' ')
        && !path.is_empty()
    {
        let message = rest.split(" at line ").next().unwrap_or(rest).to_owned();
        return (path.to_owned(), message);
    }
    (
        "body".to_owned(),
        msg.split(" at line ").next().unwrap_or(msg).to_owned(),
    )
}

/// The numeric `{id}` of a path. Anything else names nothing, so it is
/// answered 404 as problem+json like an id of another account.
pub struct PathId(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<i64>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(id)) => Ok(PathId(id)),
            Err(_) => Err(ApiError::not_found()),
        }
    }
}

/// Path parameters whose rejections are problem+json naming the parameter
/// (axum's own answer is `400 text/plain`).
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::path::ErrorKind;
        use axum::extract::rejection::PathRejection;
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                let (field, message) = match e.kind() {
                    ErrorKind::ParseErrorAtKey {
                        key, expected_type, ..
                    } => (
                        key.clone(),
                        format!("must be {}", type_words(expected_type)),
                    ),
                    ErrorKind::ParseError { expected_type, .. } => (
                        path_param_name(parts),
                        format!("must be {}", type_words(expected_type)),
                    ),
                    ErrorKind::InvalidUtf8InPathParam { key } => {
                        (key.clone(), "is not valid UTF-8".to_owned())
                    }
                    other => (path_param_name(parts), other.to_string()),
                };
                Err(invalid_parameter(&field, &message))
            }
            Err(other) => Err(ApiError::new(
                other.status(),
                "bad-request",
                "The request path could not be read",
            )
            .detail(other.body_text())),
        }
    }
}

/// The first `{name}` of the matched route, for a rejection without a key.
fn path_param_name(parts: &Parts) -> String {
    parts
        .extensions
        .get::<axum::extract::MatchedPath>()
        .and_then(|p| {
            p.as_str()
                .split('/')
                .find_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "path".to_owned())
}

fn type_words(t: &str) -> &'static str {
    if t.starts_with('i') || t.starts_with('u') {
        "an integer"
    } else if t == "bool" {
        "true or false"
    } else {
        "a valid value"
    }
}

/// 400 naming the path or query parameter at fault.
pub(crate) fn invalid_parameter(field: &str, message: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid-parameter",
        "A parameter of the request is not valid",
    )
    .detail(format!("{field} {message}"))
    .field(field, message)
}

/// A query string whose rejections are problem+json naming the parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(rej) => {
                let text = rej.body_text();
                let msg = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text);
                let (field, message) = match msg.split_once(": ") {
                    Some((f, m)) if !f.contains(' ') && !f.is_empty() => {
                        (f.to_owned(), m.to_owned())
                    }
                    _ => match msg.split("missing field `").nth(1) {
                        Some(rest) => (
                            rest.split('`').next().unwrap_or("query").to_owned(),
                            "is required".to_owned(),
                        ),
                        None => ("query".to_owned(), msg.to_owned()),
                    },
                };
                Err(invalid_parameter(&field, &message))
            }
        }
    }
}
