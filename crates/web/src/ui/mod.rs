//! The web UI: server-rendered pages (askama templates under
//! `crates/web/templates/`) with htmx for the few partial updates, served by
//! the same router as the API but kept out of the OpenAPI document.
//!
//! Every handler calls the same `leadteam_app` use case as the API; what a
//! page shows or offers is decided by `leadteam_domain::authz::decide` on the
//! caller's actor (see [`nav`] and [`layout::Layout::may`]), never by role
//! names.
//!
//! Adding a page (e.g. Members):
//! 1. a template `templates/members.html` that starts with
//!    `{% extends "base.html" %}` and fills `{% block content %}`; each form
//!    starts with `{% call m::csrf(page.csrf) %}{% endcall %}` and uses the `field` macro of
//!    `macros.html` for its inputs (label, error, `aria-*`);
//! 2. a module `ui/members.rs` with `#[derive(Template)] struct MembersPage
//!    { page: layout::Layout, .. }`, handlers that take [`SignedIn`] (pages) and
//!    [`UiForm`] (POSTs, which checks the CSRF token), call the use case and
//!    answer with [`layout::render`], [`see_other`] or a re-rendered form with
//!    [`FormErrors`]; and a `routes(Router) -> Router` added to [`routes`];
//! 3. one line in [`nav::NAV`] with the `Action` that allows the page.

mod admin;
pub(crate) mod assets;
mod charts;
mod csrf;
mod dashboard;
mod dates;
mod error;
mod form;
pub(crate) mod hosted_form;
mod layout;
mod nav;
mod qr;
mod reports;
mod security;
mod session;
mod signin;
mod upload;
mod work;

pub(crate) use csrf::refused as csrf_refused;
pub(crate) use error::UiError;
pub(crate) use form::{FormErrors, UiForm};
pub(crate) use layout::see_other;
pub(crate) use session::SignedIn;
pub(crate) use work::IMPORT_PATH;

use crate::AppState;
use axum::Router;

/// Every page and asset of the UI.
pub fn routes() -> Router<AppState> {
    let r = Router::new();
    let r = assets::routes(r);
    let r = signin::routes(r);
    let r = dashboard::routes(r);
    let r = reports::routes(r);
    let r = security::routes(r);
    let r = admin::routes(r);
    let r = work::routes(r);
    let r = hosted_form::routes(r);
    r.fallback(error::not_found)
}
