//! The route table: every API route is added with its documentation, so the
//! OpenAPI document and the permission-matrix test cover exactly the routes
//! the router serves.

use crate::AppState;
use axum::Router;
use axum::handler::Handler;
use axum::routing::{MethodFilter, on};
use schemars::{JsonSchema, SchemaGenerator, generate::SchemaSettings};
use serde_json::{Map, Value, json};

/// How a route authenticates its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Open to anyone (service endpoints, sign-up, sign-in, invitation acceptance).
    Public,
    /// A session (cookie or bearer token) or an API key.
    Session,
    /// A lead source's own signature (webhooks) or secret URL.
    Signature,
    /// An intake API key (limited to creating leads on named sources).
    IntakeKey,
}

type SchemaFn = fn(&mut SchemaGenerator) -> schemars::Schema;

/// The HTTP methods of the API (a typed choice: a route cannot be mounted
/// under a method the router does not know).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }

    fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Post => MethodFilter::POST,
            Verb::Put => MethodFilter::PUT,
            Verb::Patch => MethodFilter::PATCH,
            Verb::Delete => MethodFilter::DELETE,
        }
    }
}

impl std::fmt::Display for Verb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One documented route.
#[derive(Clone)]
pub struct RouteSpec {
    pub method: Verb,
    pub path: &'static str,
    pub summary: &'static str,
    pub tag: &'static str,
    pub auth: Auth,
    pub ok_status: u16,
    /// A second success status with the same body (a lead delivered again: 200).
    pub also_ok: Option<(u16, &'static str)>,
    pub request: Option<SchemaFn>,
    pub response: Option<SchemaFn>,
    pub query: &'static [(&'static str, &'static str)],
    /// Request headers the route reads, with what they mean.
    pub headers: &'static [(&'static str, &'static str)],
    /// The media type of a body that is not JSON (read as a stream).
    pub raw_body: Option<&'static str>,
    /// Another media type the success answer comes in when the request's
    /// `Accept` asks for it (`text/csv`), with what it holds.
    pub also_media: Option<(&'static str, &'static str)>,
}

impl std::fmt::Debug for RouteSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// The schema of `T`, for `RouteSpec::request` / `response`.
pub fn schema<T: JsonSchema>(g: &mut SchemaGenerator) -> schemars::Schema {
    g.subschema_for::<T>()
}

impl RouteSpec {
    pub const fn new(
        method: Verb,
        path: &'static str,
        tag: &'static str,
        summary: &'static str,
    ) -> Self {
        RouteSpec {
            method,
            path,
            summary,
            tag,
            auth: Auth::Session,
            ok_status: 200,
            also_ok: None,
            request: None,
            response: None,
            query: &[],
            headers: &[],
            raw_body: None,
            also_media: None,
        }
    }

    /// Authenticated by an intake API key.
    pub const fn intake_key(mut self) -> Self {
        self.auth = Auth::IntakeKey;
        self
    }

    pub const fn headers(mut self, h: &'static [(&'static str, &'static str)]) -> Self {
        self.headers = h;
        self
    }

    pub const fn public(mut self) -> Self {
        self.auth = Auth::Public;
        self
    }

    pub const fn signed(mut self) -> Self {
        self.auth = Auth::Signature;
        self
    }

    /// Answers `s` too, with the same body, when `when`.
    pub const fn also(mut self, s: u16, when: &'static str) -> Self {
        self.also_ok = Some((s, when));
        self
    }

    pub const fn status(mut self, s: u16) -> Self {
        self.ok_status = s;
        self
    }

    pub fn body<T: JsonSchema>(mut self) -> Self {
        self.request = Some(schema::<T>);
        self
    }

    pub fn returns<T: JsonSchema>(mut self) -> Self {
        self.response = Some(schema::<T>);
        self
    }

    /// The body is a document of this media type, not JSON.
    pub const fn raw_body(mut self, media: &'static str) -> Self {
        self.raw_body = Some(media);
        self
    }

    /// The success answer also comes as `media` (described by `what`) when
    /// the request's `Accept` asks for it.
    pub const fn also_media(mut self, media: &'static str, what: &'static str) -> Self {
        self.also_media = Some((media, what));
        self
    }

    pub const fn query(mut self, q: &'static [(&'static str, &'static str)]) -> Self {
        self.query = q;
        self
    }
}

/// Builds the router and the route table together.
pub struct Api {
    router: Router<AppState>,
    specs: Vec<RouteSpec>,
}

impl Default for Api {
    fn default() -> Self {
        Api {
            router: Router::new(),
            specs: Vec::new(),
        }
    }
}

impl Api {
    pub fn add<H, T>(mut self, spec: RouteSpec, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.router = self
            .router
            .route(spec.path, on(spec.method.filter(), handler));
        self.specs.push(spec);
        self
    }

    /// Routes that are not part of the API document (pages, assets).
    pub fn merge_unlisted(mut self, other: Router<AppState>) -> Self {
        self.router = self.router.merge(other);
        self
    }

    pub fn into_parts(self) -> (Router<AppState>, Vec<RouteSpec>) {
        (self.router, self.specs)
    }
}

/// The OpenAPI 3.1 document of the route table.
pub fn openapi_document(specs: &[RouteSpec]) -> Value {
    let settings =
        SchemaSettings::draft2020_12().with(|s| s.definitions_path = "/components/schemas".into());
    let mut generator = SchemaGenerator::new(settings);
    let mut paths: Map<String, Value> = Map::new();
    for spec in specs {
        let mut op = json!({
            "summary": spec.summary,
            "tags": [spec.tag],
            "operationId": format!("{}_{}", spec.method.as_str().to_lowercase(), spec.path.trim_start_matches('/').replace(['/', '{', '}', '-'], "_")),
            "responses": {},
        });
        let params: Vec<Value> = path_params(spec.path)
            .into_iter()
            .map(|p| {
                // Every path parameter is an id (integer) but a secret token.
                let ty = if p == "token" || p == "form_key" { "string" } else { "integer" };
                let mut schema = json!({"type": ty});
                if ty == "integer" {
                    schema["format"] = json!("int64");
                }
                json!({"name": p, "in": "path", "required": true, "schema": schema})
            })
            .chain(spec.query.iter().map(|(name, desc)| {
                json!({"name": name, "in": "query", "required": false, "description": desc, "schema": query_schema(name, desc)})
            }))
            .chain(spec.headers.iter().map(|(name, desc)| {
                json!({"name": name, "in": "header", "required": false, "description": desc, "schema": {"type": "string"}})
            }))
            .collect();
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        if let Some(req) = spec.request {
            let s = req(&mut generator);
            op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": s.to_value()}}});
        }
        if let Some(media) = spec.raw_body {
            op["requestBody"] =
                json!({"required": true, "content": {media: {"schema": {"type": "string"}}}});
        }
        let ok = match spec.response {
            Some(resp) => {
                let s = resp(&mut generator);
                json!({"description": "Success", "content": {"application/json": {"schema": s.to_value()}}})
            }
            None => json!({"description": "Success"}),
        };
        let ok = match spec.also_media {
            Some((media, what)) => {
                let mut ok = ok;
                ok["content"][media] = json!({"schema": {"type": "string", "description": what}});
                ok
            }
            None => ok,
        };
        if let Some((also, when)) = spec.also_ok {
            let mut other = ok.clone();
            other["description"] = json!(when);
            op["responses"][also.to_string()] = other;
        }
        op["responses"][spec.ok_status.to_string()] = ok;
        op["responses"]["default"] = json!({
            "description": "An error (RFC 9457 problem details)",
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        });
        match spec.auth {
            Auth::Public => op["security"] = json!([]),
            Auth::Session => op["security"] = json!([{"bearer": []}, {"cookie": []}]),
            Auth::Signature => {
                op["security"] = json!([]);
                op["description"] =
                    json!("Authenticated by the lead source's signature (or its secret URL).");
            }
            Auth::IntakeKey => {
                op["security"] = json!([{"bearer": []}]);
                op["description"] = json!(
                    "Authenticated by an intake API key (`Authorization: Bearer ltk_...`), one created with `lead_source_ids`."
                );
            }
        }
        let entry = paths
            .entry(spec.path.to_owned())
            .or_insert_with(|| json!({}));
        entry[spec.method.as_str().to_lowercase()] = op;
    }
    let mut schemas = generator.take_definitions(true);
    for s in schemas.values_mut() {
        plain_schemas(s);
    }
    for op in paths.values_mut().filter_map(Value::as_object_mut) {
        for v in op.values_mut() {
            plain_schemas(v);
        }
    }
    schemas.insert(
        "Problem".into(),
        json!({
            "type": "object",
            "description": "RFC 9457 problem details; `field` and `errors` name the fields at fault.",
            "properties": {
                "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                "detail": {"type": "string"}, "field": {"type": "string"},
                "errors": {"type": "array", "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}}
            },
            "required": ["type", "title", "status"]
        }),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "leadteam API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Team management and lead routing. The account a call acts in comes from its credential."
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": crate::extract::SESSION_COOKIE}
            }
        }
    })
}

/// The schema of a query parameter: integers for ids, counts and cursors,
/// booleans for flags, text otherwise.
fn query_schema(name: &str, desc: &str) -> Value {
    const INTEGERS: [&str; 7] = [
        "limit", "after", "before", "assignee", "team", "move_to", "member",
    ];
    if INTEGERS.contains(&name) || desc.starts_with("integer") {
        json!({"type": "integer", "format": "int64"})
    } else if desc.starts_with("true") || desc.starts_with("boolean") {
        json!({"type": "boolean"})
    } else {
        json!({"type": "string"})
    }
}

/// Writes the boolean schema `true` ("any value", as schemars gives a
/// `serde_json::Value`) as `{}`, which every OpenAPI tool reads, in the
/// places where a schema stands.
fn plain_schemas(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                let schema_slot = matches!(k.as_str(), "items" | "not" | "schema");
                if schema_slot && *child == Value::Bool(true) {
                    *child = json!({});
                    continue;
                }
                if matches!(k.as_str(), "properties" | "$defs" | "patternProperties")
                    && let Value::Object(props) = child
                {
                    for p in props.values_mut() {
                        if *p == Value::Bool(true) {
                            *p = json!({});
                        } else {
                            plain_schemas(p);
                        }
                    }
                    continue;
                }
                if matches!(k.as_str(), "anyOf" | "oneOf" | "allOf" | "prefixItems")
                    && let Value::Array(list) = child
                {
                    for p in list.iter_mut() {
                        if *p == Value::Bool(true) {
                            *p = json!({});
                        } else {
                            plain_schemas(p);
                        }
                    }
                    continue;
                }
                plain_schemas(child);
            }
        }
        Value::Array(list) => list.iter_mut().for_each(plain_schemas),
        _ => {}
    }
}

fn path_params(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_owned)
        .collect()
}
