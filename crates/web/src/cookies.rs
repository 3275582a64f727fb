//! The `Set-Cookie` values of the session cookie, built in one place for the
//! API and the UI: `HttpOnly; SameSite=Lax; Path=/`, `Secure` when the base
//! URL is https, and a `Max-Age` matching the session's expiry.

use crate::AppState;
use crate::extract::SESSION_COOKIE;
use axum::http::HeaderValue;
use leadteam_app::auth::NewSessionToken;

fn secure(state: &AppState) -> &'static str {
    if state.secure_cookies { "; Secure" } else { "" }
}

/// The cookie that carries a new session to the browser.
pub(crate) fn session_cookie(state: &AppState, t: &NewSessionToken) -> Option<HeaderValue> {
    let max_age = (t.expires_at.0 - state.app.now().0).max(0) / 1000;
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        t.token,
        secure(state)
    ))
    .ok()
}

/// The cookie that removes the session from the browser (sign-out).
pub(crate) fn clear_session_cookie(state: &AppState) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        secure(state)
    ))
    .ok()
}

/// Any other browser-only cookie (the UI's pre-session CSRF secret):
/// `HttpOnly; SameSite=Strict; Path=/`, kept for the session's idle lifetime.
pub(crate) fn strict_cookie(state: &AppState, name: &str, value: &str) -> Option<HeaderValue> {
    let max_age = state.app.config.session_idle_ms / 1000;
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        secure(state)
    ))
    .ok()
}
