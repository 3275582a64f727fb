//! Static assets compiled into the binary (nothing is fetched at run time).
//! Pages link them with a `?v=` content hash, so they can be cached for a
//! year: a new build changes the hash and so the URL.

use crate::AppState;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// The base style sheet, then the admin pages', the work pages' (clients,
/// leads, alerts) and the home pages' and reports'.
const CSS: &str = concat!(
    include_str!("../../assets/app.css"),
    include_str!("../../assets/admin.css"),
    include_str!("../../assets/work.css"),
    include_str!("../../assets/home.css")
);
/// htmx 2.0.11 from the npm registry; see `assets/VENDORED.md`.
const HTMX: &[u8] = include_bytes!("../../assets/htmx.min.js");
/// The live alerts of the bell (server-sent events), hand-written.
const LIVE: &str = include_str!("../../assets/live.js");
/// The file forms (raw-body uploads, see `ui::upload`), hand-written.
const UPLOAD: &str = include_str!("../../assets/upload.js");
/// The copy buttons (snippets, keys, curl lines), hand-written.
const COPY: &str = include_str!("../../assets/copy.js");
/// Small behaviours of forms (confirmations, inert fieldsets), hand-written.
const FORMS: &str = include_str!("../../assets/forms.js");

fn versioned(path: &str, body: &[u8]) -> String {
    let hash = Sha256::digest(body);
    let short: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("{path}?v={short}")
}

static CSS_URL: LazyLock<String> = LazyLock::new(|| versioned("/assets/app.css", CSS.as_bytes()));
static HTMX_URL: LazyLock<String> = LazyLock::new(|| versioned("/assets/htmx.min.js", HTMX));
static LIVE_URL: LazyLock<String> = LazyLock::new(|| versioned("/assets/live.js", LIVE.as_bytes()));
static UPLOAD_URL: LazyLock<String> =
    LazyLock::new(|| versioned("/assets/upload.js", UPLOAD.as_bytes()));

static COPY_URL: LazyLock<String> = LazyLock::new(|| versioned("/assets/copy.js", COPY.as_bytes()));

static FORMS_URL: LazyLock<String> =
    LazyLock::new(|| versioned("/assets/forms.js", FORMS.as_bytes()));

pub(crate) fn forms_url() -> &'static str {
    FORMS_URL.as_str()
}

pub(crate) fn copy_url() -> &'static str {
    COPY_URL.as_str()
}

pub(crate) fn css_url() -> &'static str {
    CSS_URL.as_str()
}

pub(crate) fn htmx_url() -> &'static str {
    HTMX_URL.as_str()
}

pub(crate) fn live_url() -> &'static str {
    LIVE_URL.as_str()
}

pub(crate) fn upload_url() -> &'static str {
    UPLOAD_URL.as_str()
}

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/assets/app.css", get(css))
        .route("/assets/htmx.min.js", get(htmx))
        .route("/assets/live.js", get(live))
        .route("/assets/upload.js", get(upload))
        .route("/assets/copy.js", get(copy))
        .route("/assets/forms.js", get(forms))
}

fn asset(content_type: &'static str, body: &'static [u8]) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    resp
}

async fn css() -> Response {
    asset("text/css; charset=utf-8", CSS.as_bytes())
}

async fn htmx() -> Response {
    asset("text/javascript; charset=utf-8", HTMX)
}

async fn forms() -> Response {
    asset("text/javascript; charset=utf-8", FORMS.as_bytes())
}

async fn live() -> Response {
    asset("text/javascript; charset=utf-8", LIVE.as_bytes())
}

async fn upload() -> Response {
    asset("text/javascript; charset=utf-8", UPLOAD.as_bytes())
}

async fn copy() -> Response {
    asset("text/javascript; charset=utf-8", COPY.as_bytes())
}
