use leadteam_testkit::{TestApp, both_engines};
use reqwest::Method;

both_engines!(health_readiness_metrics_and_openapi_are_served);

async fn health_readiness_metrics_and_openapi_are_served(app: &TestApp) {
    let r = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!((r.status, r.text.as_str()), (200, "ok"));
    let r = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.status, 200);
    assert!(r.header("x-request-id").is_some_and(|v| !v.is_empty()));

    let r = app.call(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["openapi"], "3.1.0");
    for path in [
        "/api/v1/signup",
        "/api/v1/sessions",
        "/api/v1/me",
        "/api/v1/me/2fa/confirm",
    ] {
        assert!(r.body["paths"].get(path).is_some(), "openapi lists {path}");
    }
    // Every documented route is served (no 404 from the router itself).
    for spec in leadteam_web::route_specs() {
        assert!(
            r.body["paths"][spec.path]
                .get(spec.method.as_str().to_lowercase())
                .is_some(),
            "{spec:?} documented"
        );
    }
    let schema = &r.body["paths"]["/api/v1/signup"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"];
    assert!(
        schema["$ref"]
            .as_str()
            .is_some_and(|s| s.starts_with("#/components/schemas/"))
    );

    let r = app.call(Method::GET, "/api/docs", None, None).await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("/api/openapi.json") && !r.text.contains("cdn"));

    let r = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains(
        "leadteam_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
    ));
}
