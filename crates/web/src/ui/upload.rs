//! Files sent from a page: `assets/upload.js` posts the chosen file as the
//! raw request body (as the API takes it: the CSV import, a content file),
//! with the page's CSRF token in the `X-CSRF-Token` header and the form's
//! other fields in the query. The handler streams the body into the same use
//! case as the API, so nothing is buffered and no multipart parser is needed.
//!
//! Without JavaScript such a form cannot send its file: the page says so
//! in a `<noscript>` and offers the CLI or the API instead.

use super::csrf;
use crate::AppState;
use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::Response;
use futures::TryStreamExt;
use tokio::io::AsyncRead;

/// A file posted as the raw body of a UI request whose origin and CSRF token
/// were checked (a failed check answers the 403 page).
pub(crate) struct RawUpload {
    /// The `Content-Type` the browser gave the file (parameters included).
    pub content_type: String,
    /// The declared length (`Content-Length`), when sent.
    pub length: Option<u64>,
    /// Sent by the page's script (`HX-Request`): answer with a fragment.
    pub htmx: bool,
    body: Body,
}

impl FromRequest<AppState> for RawUpload {
    type Rejection = Response;

    async fn from_request(req: Request, _state: &AppState) -> Result<Self, Response> {
        let (parts, body) = req.into_parts();
        csrf::check(&parts, None)?;
        let text = |name| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        Ok(RawUpload {
            content_type: text(header::CONTENT_TYPE).unwrap_or("").to_owned(),
            length: text(header::CONTENT_LENGTH).and_then(|v| v.parse().ok()),
            htmx: super::layout::is_htmx(&parts.headers),
            body,
        })
    }
}

impl RawUpload {
    /// The media type without its parameters, lower case.
    pub fn media_type(&self) -> String {
        self.content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }

    /// Nothing was chosen: the script sends an empty body.
    pub fn is_empty(&self) -> bool {
        self.length == Some(0)
    }

    /// The body as it arrives.
    pub fn reader(self) -> impl AsyncRead + Unpin + Send {
        tokio_util::io::StreamReader::new(
            self.body.into_data_stream().map_err(std::io::Error::other),
        )
    }
}

/// Reads (and drops) what the browser is still sending of a refused file,
/// within a bound, so that it receives the answer rather than a reset
/// connection.
pub(crate) async fn drain(reader: &mut (impl AsyncRead + Unpin)) {
    const DRAIN_BYTES: u64 = 32 * 1024 * 1024;
    let mut rest = tokio::io::AsyncReadExt::take(reader, DRAIN_BYTES);
    let _ = tokio::io::copy(&mut rest, &mut tokio::io::sink()).await;
}

/// The status of a page that refuses an uploaded file: 413 for a file over
/// the limit, 415 for one of a type not taken; other errors keep their own.
pub(crate) fn refusal_status(e: &leadteam_app::AppError) -> Option<StatusCode> {
    match e {
        leadteam_app::AppError::TooLarge(_) => Some(StatusCode::PAYLOAD_TOO_LARGE),
        leadteam_app::AppError::UnsupportedType(_) => Some(StatusCode::UNSUPPORTED_MEDIA_TYPE),
        _ => None,
    }
}
