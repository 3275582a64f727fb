//! CSRF protection of the UI's forms, in two independent layers.
//!
//! 1. Origin: the middleware refuses a state-changing request that carries
//!    the session cookie when its `Origin` or `Sec-Fetch-Site` names another
//!    site, and [`super::UiForm`] applies the same check to every UI POST,
//!    with or without a session (so sign-in and sign-up are covered too).
//! 2. Token: every form carries a hidden `_csrf` field (htmx requests may send
//!    it as the `X-CSRF-Token` header instead) which the POST handler checks.
//!    The token is `HMAC-SHA256(key, "leadteam-csrf-v1")`, base64url, keyed
//!    with a secret that only this browser holds:
//!    - signed in: the session token itself (the value of the HttpOnly
//!      `lt_session` cookie). The token is bound to the session: it dies at
//!      sign-out, and a cookie planted by a sibling subdomain (the classic
//!      hole of plain double-submit cookies) cannot produce the token of a
//!      form rendered for the victim's session;
//!    - before sign-in (sign-up and sign-in forms): a random 32-byte
//!      `lt_csrf` cookie (HttpOnly, SameSite=Strict), i.e. a double-submitted
//!      cookie whose form value is its HMAC rather than the value itself.
//!
//! Why this is sound: another site can read neither the cookies (HttpOnly,
//! and cross-origin) nor our pages (same-origin policy, `X-Frame-Options:
//! DENY`), so it cannot produce a valid token; and the token reveals nothing
//! of the session token, since HMAC is one-way. No server-side state and no
//! server secret are needed, so tokens survive restarts and work across
//! several `leadteam serve` nodes. Tokens are compared in constant time.

use super::layout::{Layout, render};
use crate::AppState;
use crate::extract::{SESSION_COOKIE, cookie};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The cookie holding the pre-session CSRF secret.
pub(crate) const PRE_SESSION_COOKIE: &str = "lt_csrf";
/// The name of the hidden form field.
pub(crate) const FIELD: &str = "_csrf";
/// The header htmx requests may carry the token in.
pub(crate) const HEADER: &str = "x-csrf-token";

/// The token of forms rendered for the holder of `secret`.
pub(crate) fn token_for(secret: &str) -> String {
    use base64::Engine as _;
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        // HMAC takes keys of any length; this branch is unreachable.
        return String::new();
    };
    mac.update(b"leadteam-csrf-v1");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Whether `submitted` is the token of the session cookie or of the
/// pre-session cookie this request carries.
pub(crate) fn valid(parts: &Parts, submitted: &str) -> bool {
    if submitted.is_empty() {
        return false;
    }
    [SESSION_COOKIE, PRE_SESSION_COOKIE]
        .iter()
        .filter_map(|name| cookie(parts, name))
        .any(|secret| {
            token_for(&secret)
                .as_bytes()
                .ct_eq(submitted.as_bytes())
                .into()
        })
}

/// The whole check of a state-changing UI request: same origin, and
/// `submitted` (the form field, or the header) is this browser's token.
/// Both [`super::UiForm`] (urlencoded forms) and [`super::upload::RawUpload`]
/// (files sent as the raw body) pass through it.
pub(crate) fn check(parts: &Parts, submitted: Option<&str>) -> Result<(), Response> {
    if crate::middleware::same_origin(parts).is_err() {
        return Err(refused());
    }
    let submitted = submitted
        .or_else(|| parts.headers.get(HEADER).and_then(|v| v.to_str().ok()))
        .unwrap_or("");
    if !valid(parts, submitted) {
        return Err(refused());
    }
    Ok(())
}

/// The CSRF token for the forms of a public page (sign-in, sign-up), from the
/// `lt_csrf` cookie; when the browser has none yet, a new secret and the
/// cookie that gives it to the browser.
pub(crate) struct PreSession {
    pub token: String,
    pub set_cookie: Option<HeaderValue>,
}

impl PreSession {
    /// Adds the cookie (when new) to a response.
    pub fn apply(&self, mut resp: Response) -> Response {
        if let Some(v) = &self.set_cookie {
            resp.headers_mut()
                .append(axum::http::header::SET_COOKIE, v.clone());
        }
        resp
    }
}

impl FromRequestParts<AppState> for PreSession {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(secret) = cookie(parts, PRE_SESSION_COOKIE) {
            return Ok(PreSession {
                token: token_for(&secret),
                set_cookie: None,
            });
        }
        let secret = leadteam_app::auth::random_token();
        Ok(PreSession {
            token: token_for(&secret),
            set_cookie: crate::cookies::strict_cookie(state, PRE_SESSION_COOKIE, &secret),
        })
    }
}

#[derive(askama::Template)]
#[template(path = "csrf_refused.html")]
struct Refused {
    page: Layout,
}

/// The page of a refused form: 403, with what to do next.
pub(crate) fn refused() -> Response {
    render(
        StatusCode::FORBIDDEN,
        &Refused {
            page: Layout::bare("This form could not be sent"),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_differ_per_secret_and_are_stable() {
        assert_eq!(token_for("a"), token_for("a"));
        assert_ne!(token_for("a"), token_for("b"));
        assert_eq!(token_for("a").len(), 43);
    }
}
