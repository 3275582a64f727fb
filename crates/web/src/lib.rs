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
mod serve;
mod ui;

pub use error::ApiError;
pub use metrics::Metrics;
pub use registry::{Auth, RouteSpec, Verb};
pub use serve::{Drained, Full, Limits, Places, Ticket};

use axum::Router;
use leadteam_app::App;
use std::sync::Arc;

/// Shared state of every handler, behind one reference count: a request
/// clones it for each extractor and middleware that takes it, and one
/// count is one atomic add where the fields' own counts were a score of
/// them (perf of the claim races: 8% of the server's samples cloning and
/// dropping the fields).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] shares.
pub struct Shared {
    pub app: App,
    pub metrics: Arc<Metrics>,
    pub openapi: Arc<serde_json::Value>,
    /// Whether cookies get the `Secure` attribute (the base URL is https).
    pub secure_cookies: bool,
    /// Live streams open, capped in total and per member (X7).
    pub streams: Arc<Places<leadteam_domain::MemberId>>,
    /// Cancelled when the server stops: live streams end.
    pub stopping: tokio_util::sync::CancellationToken,
}

/// Largest request body accepted by default (bytes); larger ones get 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Builds the whole HTTP application for `app` (with the default limits).
pub fn router(app: App) -> Router {
    Server::new(app, Limits::default()).router()
}

/// The HTTP server of one node: the application and what it holds open.
pub struct Server {
    router: Router,
    limits: Limits,
    metrics: Arc<Metrics>,
    stopping: tokio_util::sync::CancellationToken,
}

impl Server {
    pub fn new(app: App, limits: Limits) -> Server {
        let (routes, specs) = api::routes().into_parts();
        let openapi = registry::openapi_document(&specs);
        let metrics = Arc::new(Metrics::default());
        let stopping = tokio_util::sync::CancellationToken::new();
        let state = AppState(Arc::new(Shared {
            secure_cookies: app.config.base_url.starts_with("https://"),
            app,
            metrics: Arc::clone(&metrics),
            openapi: Arc::new(openapi),
            streams: Places::new(limits.max_streams, limits.max_streams_per_member),
            stopping: stopping.clone(),
        }));
        Server {
            router: middleware::wrap(routes, state),
            limits,
            metrics,
            stopping,
        }
    }

    /// The application as a router (for in-process callers and tests).
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// Serves on `listener` until `shutdown` completes, then drains: stops
    /// accepting, ends the live streams, lets the requests in flight finish
    /// and gives up after the shutdown timeout.
    pub async fn run(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send,
    ) -> std::io::Result<Drained> {
        serve::run(
            listener,
            self.router,
            self.limits,
            self.metrics,
            self.stopping,
            shutdown,
        )
        .await
    }
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
