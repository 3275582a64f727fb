//! HTTP: the JSON API under `/api/v1`, the OpenAPI document generated from the
//! route table, service endpoints, and the server-rendered UI at `/` (not in
//! the OpenAPI document). Only HTTP lives here: every handler calls a use case
//! of `leadteam_app`.

pub mod api;
mod cookies;
mod error;
mod extract;
mod metrics;
mod middleware;
pub mod registry;
mod ui;

pub use error::ApiError;
pub use metrics::Metrics;
pub use registry::{Auth, RouteSpec, Verb};

use axum::Router;
use leadteam_app::App;
use std::sync::Arc;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub metrics: Arc<Metrics>,
    pub openapi: Arc<serde_json::Value>,
    /// Whether cookies get the `Secure` attribute (the base URL is https).
    pub secure_cookies: bool,
}

/// Largest request body accepted by default (bytes); larger ones get 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Builds the whole HTTP application for `app`.
pub fn router(app: App) -> Router {
    let (routes, specs) = api::routes().into_parts();
    let openapi = registry::openapi_document(&specs);
    let state = AppState {
        secure_cookies: app.config.base_url.starts_with("https://"),
        app,
        metrics: Arc::new(Metrics::default()),
        openapi: Arc::new(openapi),
    };
    middleware::wrap(routes, state)
}

/// The route table (method, path, documentation, authentication) of the API:
/// the OpenAPI document and the permission-matrix test are built from it.
pub fn route_specs() -> Vec<RouteSpec> {
    api::routes().into_parts().1
}

/// The OpenAPI 3.1 document (for `leadteam openapi`).
pub fn openapi() -> serde_json::Value {
    registry::openapi_document(&route_specs())
}

/// Serves `router` on `listener` until `shutdown` completes, then finishes
/// the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
