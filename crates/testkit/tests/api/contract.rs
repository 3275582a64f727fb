//! The API contract (I9): every 4xx and 5xx is problem+json, path and query
//! parse failures included; ids are integers in the OpenAPI document; one
//! schema per resource; no DELETE takes a body.

use leadteam_testkit::{TestApp, both_engines};
use serde_json::Value;

both_engines!(
    r_i9_bad_path_and_query_values_unknown_routes_and_methods_are_problem_json,
    r_i9_the_openapi_document_has_integer_ids_one_schema_per_name_and_no_delete_body,
);

async fn r_i9_bad_path_and_query_values_unknown_routes_and_methods_are_problem_json(app: &TestApp) {
    let owner = app.signup("Acme", "Ann", "ann@example.com").await;
    let cases: [(&str, &str, u16, Option<&str>); 8] = [
        ("GET", "/api/v1/clients/abc", 400, Some("id")),
        ("GET", "/api/v1/clients?limit=", 400, Some("limit")),
        ("GET", "/api/v1/clients?limit=ten", 400, Some("limit")),
        ("GET", "/api/v1/audit?before=x", 400, Some("before")),
        ("PATCH", "/api/v1/teams/1.5", 400, Some("id")),
        ("GET", "/api/v1/nothing-here", 404, None),
        ("PUT", "/api/v1/clients", 405, None),
        (
            "DELETE",
            "/api/v1/members/12?move_to=x",
            400,
            Some("move_to"),
        ),
    ];
    for (method, path, status, field) in cases {
        let r = app
            .call(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                path,
                Some(&owner.token),
                None,
            )
            .await;
        assert_eq!(r.status, status, "{method} {path}: {}", r.text);
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{method} {path}: {}",
            r.text
        );
        assert_eq!(r.body["status"], status);
        assert_eq!(r.field(), field, "{method} {path}: {}", r.text);
    }
    // A bad id of a webhook path too (not only the API).
    let r = TestApp::read(
        app.http
            .post(app.url("/hooks/abc"))
            .body("{}")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (r.status, r.header("content-type")),
        (400, Some("application/problem+json"))
    );
}

async fn r_i9_the_openapi_document_has_integer_ids_one_schema_per_name_and_no_delete_body(
    app: &TestApp,
) {
    let doc: Value = serde_json::from_str(
        &app.http
            .get(app.url("/api/openapi.json"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    for name in doc["components"]["schemas"].as_object().unwrap().keys() {
        assert!(
            !name.ends_with(|c: char| c.is_ascii_digit()),
            "a second schema of one name: {name}"
        );
    }
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            if method == "delete" {
                assert!(
                    op.get("requestBody").is_none(),
                    "DELETE {path} takes a body"
                );
            }
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["in"] == "path" && p["name"] != "token" {
                    assert_eq!(
                        p["schema"]["type"], "integer",
                        "{method} {path} {}",
                        p["name"]
                    );
                }
            }
            assert!(op["responses"]["default"]["content"]["application/problem+json"].is_object());
        }
    }
    // One shape per resource: the client of GET is the client every write answers.
    let detail = &doc["components"]["schemas"]["ClientDetailOut"]["properties"]["client"];
    assert_eq!(detail["$ref"], "#/components/schemas/ClientOut");
    let patch = &doc["paths"]["/api/v1/clients/{id}"]["patch"]["responses"]["200"]["content"]["application/json"]
        ["schema"];
    assert_eq!(patch["$ref"], "#/components/schemas/ClientOut");
}
