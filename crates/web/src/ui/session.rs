//! The signed-in visitor of a page, from the `lt_session` cookie. A visit
//! without a live session is sent to `/signin?next=<where it was going>`.

use super::error::UiError;
use crate::AppState;
use crate::extract::{SESSION_COOKIE, cookie};
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use leadteam_app::AppError;
use leadteam_app::auth::{self, Caller};

/// A caller with a live browser session; `token` is the session token (the
/// key of the page's CSRF token).
pub(crate) struct SignedIn {
    pub caller: Caller,
    pub token: String,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(token) = cookie(parts, SESSION_COOKIE) else {
            return Err(to_signin(parts));
        };
        match auth::authenticate(&state.app, &token).await {
            Ok(caller) => Ok(SignedIn { caller, token }),
            Err(AppError::Unauthenticated(_)) => Err(to_signin(parts)),
            Err(e) => Err(UiError::from(e).into_response()),
        }
    }
}

/// `Option<SignedIn>`: the visitor's live session, if any (public pages send a
/// signed-in visitor on).
impl OptionalFromRequestParts<AppState> for SignedIn {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(
            <SignedIn as FromRequestParts<AppState>>::from_request_parts(parts, state)
                .await
                .ok(),
        )
    }
}

/// Where to come back after signing in: the page itself for a GET, the page
/// the form was on (the same-origin `Referer`) for a POST.
fn to_signin(parts: &Parts) -> Response {
    let next = if parts.method == Method::GET {
        parts.uri.path_and_query().map(|p| p.as_str().to_owned())
    } else {
        parts
            .headers
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .and_then(|r| url_path(r, parts))
    };
    let location = signin_url(next.as_deref().unwrap_or("/"));
    if super::layout::is_htmx(&parts.headers) {
        let mut resp = StatusCode::UNAUTHORIZED.into_response();
        if let Ok(v) = HeaderValue::from_str(&location) {
            resp.headers_mut().insert("hx-redirect", v);
        }
        return resp;
    }
    super::see_other(&location, false)
}

/// The path and query of a same-host URL.
fn url_path(url: &str, parts: &Parts) -> Option<String> {
    let host = parts.headers.get(header::HOST)?.to_str().ok()?;
    let rest = url.split_once("://")?.1;
    let path = rest.strip_prefix(host)?;
    path.starts_with('/').then(|| path.to_owned())
}

/// `/signin`, with `next` when it is not the dashboard.
pub(crate) fn signin_url(next: &str) -> String {
    let next = safe_next(next);
    if next == "/" {
        return "/signin".to_owned();
    }
    match serde_urlencoded::to_string([("next", next.as_str())]) {
        Ok(q) => format!("/signin?{q}"),
        Err(_) => "/signin".to_owned(),
    }
}

/// `next` when it is a local path of this site, else `/`: an absolute URL,
/// a scheme-relative `//host` or a backslash trick never leaves the site.
pub(crate) fn safe_next(next: &str) -> String {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && next.len() <= 2000
        && !next.chars().any(char::is_control)
        && !next.starts_with("/signin")
        && !next.starts_with("/signout");
    if local {
        next.to_owned()
    } else {
        "/".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_kept_as_next() {
        assert_eq!(safe_next("/security?x=1"), "/security?x=1");
        for bad in [
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "evil",
            "",
            "/a\r\nSet-Cookie: x",
            "/signin?next=/x",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
        assert_eq!(signin_url("/security"), "/signin?next=%2Fsecurity");
        assert_eq!(signin_url("//evil"), "/signin");
    }
}
