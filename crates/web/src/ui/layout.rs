//! The frame every page shares (`templates/base.html`): title, navigation,
//! the signed-in user and account, the CSRF token of its forms, a notice;
//! and the one way pages are answered (`render`, `see_other`).

use super::nav::{self, NavEntry};
use super::session::SignedIn;
use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use leadteam_app::me::MeView;
use leadteam_domain::authz::{Action, Actor};

/// What `base.html` needs. Every page template has a `page: Layout` field.
pub(crate) struct Layout {
    pub title: String,
    /// The CSRF token of this page's forms (empty on pages without forms).
    pub csrf: String,
    pub user_name: Option<String>,
    pub account_name: Option<String>,
    /// The navigation bar: links and menus.
    pub nav: Vec<NavEntry>,
    /// A one-line confirmation shown at the top ("Password changed").
    pub notice: Option<String>,
    pub css_url: &'static str,
    pub htmx_url: &'static str,
    /// The alerts bell (`bell.html`): the unread count, for members who get alerts.
    pub bell: Option<i64>,
    actor: Option<Actor>,
}

impl Layout {
    /// A page for visitors who are not signed in.
    pub fn public(title: &str, csrf: &str) -> Self {
        Layout {
            title: title.to_owned(),
            csrf: csrf.to_owned(),
            user_name: None,
            account_name: None,
            nav: Vec::new(),
            notice: None,
            css_url: super::assets::css_url(),
            htmx_url: super::assets::htmx_url(),
            bell: None,
            actor: None,
        }
    }

    /// A page without forms or user (error pages).
    pub fn bare(title: &str) -> Self {
        Layout::public(title, "")
    }

    /// A page of a signed-in user; `path` is the page's own path (for the
    /// navigation's current item), `me` what `leadteam_app::me::me` returned.
    pub fn signed_in(title: &str, path: &str, who: &SignedIn, me: &MeView) -> Self {
        Layout {
            title: title.to_owned(),
            csrf: super::csrf::token_for(&who.token),
            user_name: Some(me.user.name.clone()),
            account_name: me.account.as_ref().map(|a| a.name.clone()),
            nav: nav::entries(who.caller.actor.as_ref(), path),
            notice: None,
            css_url: super::assets::css_url(),
            htmx_url: super::assets::htmx_url(),
            bell: super::work::bell(who.caller.actor.as_ref(), me),
            actor: who.caller.actor.clone(),
        }
    }

    pub fn with_notice(mut self, notice: Option<&str>) -> Self {
        self.notice = notice.map(str::to_owned);
        self
    }

    /// Whether the caller may do `action`: pages show an action only when
    /// this (the same `decide` as the API) allows it.
    pub fn may(&self, action: Action<'_>) -> bool {
        nav::allowed(self.actor.as_ref(), &action)
    }

    /// Whether the caller may manage API keys (a struct-like action, which
    /// templates cannot spell).
    pub fn may_manage_api_keys(&self) -> bool {
        self.may(Action::ManageApiKeys {
            grants: leadteam_domain::authz::PermissionSet::EMPTY,
        })
    }

    /// The `hx-headers` value that sends the CSRF token with htmx requests.
    pub fn hx_headers(&self) -> String {
        serde_json::json!({ super::csrf::HEADER: self.csrf }).to_string()
    }
}

/// The Content-Security-Policy of pages: only our own scripts and styles.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// Answers a page: the rendered template, never cached (pages show private
/// data and CSRF tokens), under the page CSP.
pub(crate) fn render<T: Template>(status: StatusCode, t: &T) -> Response {
    match t.render() {
        Ok(body) => {
            let mut resp = (status, Html(body)).into_response();
            let h = resp.headers_mut();
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            );
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "template rendering failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side; it has been logged",
            )
                .into_response()
        }
    }
}

/// 303 See Other to a local path (after a successful POST). For htmx
/// requests the client is told to navigate with `HX-Redirect` instead, so the
/// new page replaces the whole document.
pub(crate) fn see_other(location: &str, htmx: bool) -> Response {
    let mut resp = if htmx {
        StatusCode::OK.into_response()
    } else {
        StatusCode::SEE_OTHER.into_response()
    };
    if let Ok(v) = HeaderValue::from_str(location) {
        let name = if htmx {
            header::HeaderName::from_static("hx-redirect")
        } else {
            header::LOCATION
        };
        resp.headers_mut().insert(name, v);
    }
    resp
}

/// Whether the request was sent by htmx.
pub(crate) fn is_htmx(headers: &axum::http::HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

/// The confirmation shown after a redirect (`?notice=<key>`); only these
/// fixed texts, so nothing from the address is ever echoed.
pub(crate) fn notice(key: Option<&str>) -> Option<&'static str> {
    Some(match key? {
        "welcome" => "Your account is ready. You are its owner.",
        "signed_out" => "You are signed out.",
        "password" => "Your password is changed. Your other sessions were signed out.",
        "2fa_off" => "Two-factor authentication is off. Your other sessions were signed out.",
        "2fa_on" => "Two-factor authentication is on.",
        "switched" => "You switched account.",
        "away_on" => "Away is on: no leads are given to you automatically until you are back.",
        "away_off" => {
            "Welcome back: leads come to you again, including any that waited for someone free."
        }
        "joined" => "Welcome! You joined the account.",
        "claimed" => "The lead is yours now: it is in your new leads.",
        "claim_lost" => "Someone else claimed that lead first: it is theirs now.",
        "account_deleted" => {
            "The account is deleted and everyone in it is signed out. Sign in to reach your other accounts."
        }
        _ => return None,
    })
}
