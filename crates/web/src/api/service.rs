//! Health, readiness, metrics and the API document.

use crate::AppState;
use crate::registry::{Api, RouteSpec, Verb};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

pub(super) fn routes(api: Api) -> Api {
    api.add(
        RouteSpec::new(Verb::Get, "/healthz", "service", "The process is up").public(),
        healthz,
    )
    .add(
        RouteSpec::new(
            Verb::Get,
            "/readyz",
            "service",
            "The database answers; ready for traffic",
        )
        .public(),
        readyz,
    )
    .add(
        RouteSpec::new(Verb::Get, "/metrics", "service", "Prometheus metrics").public(),
        metrics,
    )
    .add(
        RouteSpec::new(
            Verb::Get,
            "/api/openapi.json",
            "service",
            "This OpenAPI 3.1 document",
        )
        .public(),
        openapi,
    )
    .add(
        RouteSpec::new(Verb::Get, "/api/docs", "service", "API documentation page").public(),
        docs,
    )
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(s): State<AppState>) -> Response {
    match s.app.ready().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn metrics(State(s): State<AppState>) -> Response {
    let gauges = match leadteam_app::metrics::gauges(&s.app).await {
        Ok(g) => Some(g),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: cannot read the backlog and the outbox");
            None
        }
    };
    let mut text = s.metrics.render();
    text.push_str(&crate::metrics::render_product(
        &s.app.metrics.snapshot(),
        gauges,
        s.streams.held(),
    ));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

async fn openapi(State(s): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        s.openapi.to_string(),
    )
        .into_response()
}

/// A self-contained page (no CDN) that lists the operations of the document.
async fn docs() -> Html<&'static str> {
    Html(include_str!("docs.html"))
}
