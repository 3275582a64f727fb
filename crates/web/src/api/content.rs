//! Content: message templates, files and pages (P5, P6, P8).

use super::members::double_option;
use super::rfc3339;
use super::teams::MemberRef;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, Authed};
use crate::extract::{ApiPath, ApiQuery};
use crate::registry::{Api, RouteSpec, Verb};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use leadteam_app::content::{self, ContentInput, ContentView, Upload};
use leadteam_domain::ContentId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(super) fn routes(api: Api) -> Api {
    api.add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/content",
            "content",
            "The content the caller may see: shared content and its own; admins see all (P8)",
        )
        .query(&[("kind", "template | file | page")])
        .returns::<ContentListOut>(),
        list,
    )
    .add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/content/{id}",
            "content",
            "One piece of content (404 when the caller may not see it)",
        )
        .returns::<ContentOut>(),
        get_one,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/content",
            "content",
            "Create a template, file or page (needs content.edit: P5); private unless shared",
        )
        .status(201)
        .body::<CreateContentBody>()
        .returns::<ContentOut>(),
        create,
    )
    .add(
        RouteSpec::new(
            Verb::Patch,
            "/api/v1/content/{id}",
            "content",
            "Edit title, subject, body or sharing (needs content.edit: P5)",
        )
        .body::<EditContentBody>()
        .returns::<ContentOut>(),
        edit,
    )
    .add(
        RouteSpec::new(
            Verb::Delete,
            "/api/v1/content/{id}",
            "content",
            "Delete content and its file (the owner and admins only: P5)",
        )
        .status(204),
        delete,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/content/{id}/file",
            "content",
            "Upload the file of a `file` content: the raw bytes as the body with their \
             Content-Type (pdf, png, jpeg, gif, webp, txt, csv, docx, xlsx), at most 10 MiB; \
             replaces an earlier file",
        )
        .query(&[("name", "the file name to store (default: the title)")])
        .returns::<ContentOut>(),
        upload,
    )
    .add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/content/{id}/file",
            "content",
            "Download the file (as an attachment, with its stored type)",
        ),
        download,
    )
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct FileOut {
    pub name: String,
    #[serde(rename = "type")]
    pub mime: String,
    pub size: i64,
    /// Where to download it.
    pub url: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ContentOut {
    pub id: i64,
    /// template | file | page
    pub kind: String,
    pub title: String,
    /// Templates only.
    pub subject: Option<String>,
    /// A template's text, a page's markdown, a file's description.
    pub body: String,
    /// Shared with the account; otherwise private to its author (and admins).
    pub shared: bool,
    /// Null once the author was removed from the account.
    pub author: Option<MemberRef>,
    /// A file content's stored file, once uploaded.
    pub file: Option<FileOut>,
    /// Whether the caller may edit it (P5).
    pub can_edit: bool,
    /// Whether the caller may delete it (P5).
    pub can_delete: bool,
    pub created_at: String,
    pub updated_at: String,
}

fn content_out(v: &ContentView) -> ContentOut {
    let r = &v.row;
    ContentOut {
        id: r.id.0,
        kind: r.kind.clone(),
        title: r.title.clone(),
        subject: r.subject.clone(),
        body: r.body.clone(),
        shared: r.shared,
        author: r.author.as_ref().map(MemberRef::of),
        file: r.file.as_ref().map(|f| FileOut {
            name: f.name.clone(),
            mime: f.mime.clone(),
            size: f.size,
            url: format!("/api/v1/content/{}/file", r.id.0),
        }),
        can_edit: v.can_edit,
        can_delete: v.can_delete,
        created_at: rfc3339(r.created_at),
        updated_at: rfc3339(r.updated_at),
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ContentListOut {
    pub content: Vec<ContentOut>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct KindQuery {
    pub kind: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContentBody {
    /// template | file | page
    pub kind: String,
    /// At most 200 characters.
    pub title: String,
    /// Templates only (required there).
    pub subject: Option<String>,
    /// A template's text (required), a page's markdown, a file's description;
    /// at most 100000 characters.
    pub body: Option<String>,
    /// Shared with the account (default: private to the author).
    pub shared: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EditContentBody {
    pub title: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub subject: Option<Option<String>>,
    pub body: Option<String>,
    pub shared: Option<bool>,
    /// Not editable: present only to answer with a clear error.
    #[serde(default)]
    #[schemars(skip)]
    pub kind: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct FileQuery {
    pub name: Option<String>,
}

async fn list(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiQuery(q): ApiQuery<KindQuery>,
) -> Result<Json<ContentListOut>, ApiError> {
    let rows = content::list(&s.app, &c, q.kind.as_deref()).await?;
    Ok(Json(ContentListOut {
        content: rows.iter().map(content_out).collect(),
    }))
}

async fn get_one(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ContentOut>, ApiError> {
    Ok(Json(content_out(
        &content::get(&s.app, &c, ContentId(id)).await?,
    )))
}

async fn create(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiJson(b): ApiJson<CreateContentBody>,
) -> Result<Response, ApiError> {
    let v = content::create(
        &s.app,
        &c,
        ContentInput {
            kind: Some(&b.kind),
            title: Some(&b.title),
            subject: b.subject.as_deref().map(Some),
            body: b.body.as_deref(),
            shared: b.shared,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(content_out(&v))).into_response())
}

async fn edit(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<EditContentBody>,
) -> Result<Json<ContentOut>, ApiError> {
    let v = content::edit(
        &s.app,
        &c,
        ContentId(id),
        ContentInput {
            kind: b.kind.as_ref().map(|_| ""),
            title: b.title.as_deref(),
            subject: b.subject.as_ref().map(|s| s.as_deref()),
            body: b.body.as_deref(),
            shared: b.shared,
        },
    )
    .await?;
    Ok(Json(content_out(&v)))
}

async fn delete(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    content::delete(&s.app, &c, ContentId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn upload(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<FileQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ContentOut>, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut reader =
        tokio_util::io::StreamReader::new(body.into_data_stream().map_err(std::io::Error::other));
    let result = content::upload(
        &s.app,
        &c,
        ContentId(id),
        Upload {
            content_type,
            length,
            name: q.name.as_deref(),
        },
        &mut reader,
    )
    .await;
    match result {
        Ok(v) => Ok(Json(content_out(&v))),
        Err(e) => {
            // Read (and drop) what the client is still sending, within a
            // bound, so that it receives the answer instead of a reset
            // connection.
            let mut rest = tokio::io::AsyncReadExt::take(&mut reader, DRAIN_BYTES);
            let _ = tokio::io::copy(&mut rest, &mut tokio::io::sink()).await;
            Err(e.into())
        }
    }
}

/// How much of a refused upload is still read before answering.
const DRAIN_BYTES: u64 = 2 * leadteam_domain::content::MAX_FILE_BYTES;

/// `attachment` with an ASCII fallback name and the exact name (RFC 6266, RFC 8187).
fn disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

async fn download(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let d = content::download(&s.app, &c, ContentId(id)).await?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(d.data));
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    let internal = |_| ApiError::from(leadteam_app::AppError::Internal("bad header".into()));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&d.file.mime).map_err(internal)?,
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(d.file.size));
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition(&d.file.name)).map_err(internal)?,
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(resp)
}
