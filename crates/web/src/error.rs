//! One mapping from errors to HTTP: `application/problem+json` (RFC 9457) with
//! the status, a title, a type, and the field at fault. Internal faults are
//! logged with the request id and never shown.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use leadteam_app::{AppError, AuthFailure};
use leadteam_domain::authz::Denied;
use serde_json::{Value, json};

/// An error answered as problem+json.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub title: String,
    pub detail: Option<String>,
    pub errors: Vec<(String, String)>,
    pub extra: Option<Value>,
    pub retry_after: Option<i64>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, title: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            title: title.into(),
            detail: None,
            errors: Vec::new(),
            extra: None,
            retry_after: None,
        }
    }

    pub fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = Some(d.into());
        self
    }

    pub fn field(mut self, field: impl Into<String>, message: impl Into<String>) -> Self {
        self.errors.push((field.into(), message.into()));
        self
    }

    pub fn not_found() -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", "Not found")
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Validation(errs) => {
                let mut a = ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation",
                    "The request has invalid fields",
                )
                .detail(errs.to_string());
                a.errors = errs.0.into_iter().map(|f| (f.field, f.message)).collect();
                a
            }
            AppError::Unauthenticated(f) => match f {
                AuthFailure::NoSession => ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "Sign in first: no valid session or API key was given",
                ),
                AuthFailure::InvalidCredentials => ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid-credentials",
                    "The email or password is not right",
                ),
                AuthFailure::TotpRequired => ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "totp-required",
                    "Enter the code from your authenticator app (or a recovery code)",
                )
                .field("totp_code", "is required"),
                AuthFailure::InvalidTotp => ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid-totp",
                    "The two-factor code is wrong or was already used",
                )
                .field("totp_code", "is wrong or was already used"),
                AuthFailure::NoAccount => ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "no-active-membership",
                    "You are not an active member of this account any more",
                ),
                AuthFailure::BadSignature(why) => ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid-signature",
                    "The delivery is not signed by this lead source",
                )
                .detail(why),
                AuthFailure::NotIntakeKey(why) => ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "intake-key-required",
                    "Leads are sent with an intake API key",
                )
                .detail(why),
                AuthFailure::BadVerifyToken => ApiError::new(
                    StatusCode::FORBIDDEN,
                    "invalid-verify-token",
                    "The verify token does not match this lead source",
                ),
            },
            AppError::Denied(d) => denied(d),
            AppError::NotFound(what) => ApiError::new(
                StatusCode::NOT_FOUND,
                "not-found",
                format!("No such {what}"),
            ),
            AppError::Conflict { message, field } => {
                let mut a = ApiError::new(StatusCode::CONFLICT, "conflict", message);
                if let Some(f) = field {
                    a.errors
                        .push((f, "conflicts with an existing value".into()));
                }
                a
            }
            AppError::TooManyAttempts {
                message,
                retry_after_secs,
            } => {
                let mut a =
                    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too-many-attempts", message);
                a.retry_after = Some(retry_after_secs);
                a
            }
            AppError::Gone(msg) => ApiError::new(StatusCode::GONE, "gone", msg),
            AppError::TooLarge(msg) => too_large(msg, leadteam_domain::content::MAX_FILE_BYTES),
            AppError::UnsupportedType(msg) => unsupported_type(
                msg,
                "This type of file is not accepted",
                json!(leadteam_domain::content::FileType::accepted()),
            ),
            AppError::Malformed(why) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed-json",
                "The body is not valid JSON",
            )
            .detail(why)
            .field("body", "is not valid JSON"),
            AppError::Internal(fault) => {
                // The one log line of the fault, inside the request's span
                // (so with its request id), with the whole chain of causes.
                tracing::error!(error = %fault.chain(), "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Something went wrong on our side; it has been logged",
                )
            }
        }
    }
}

fn denied(d: Denied) -> ApiError {
    match d {
        Denied::NotVisible => ApiError::not_found(),
        Denied::Inactive => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "no-active-membership",
            "You are not an active member of this account any more",
        ),
        Denied::TwoFactorRequired => ApiError::new(
            StatusCode::FORBIDDEN,
            "2fa-enrolment-required",
            "This account requires two-factor authentication: enrol it first (POST /api/v1/me/2fa)",
        ),
        Denied::Missing(p) => {
            let mut a = ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("You need the permission {p} to do this"),
            );
            a.extra = Some(json!({ "missing_permission": p.name() }));
            a
        }
        Denied::MissingAnyOf(ps) => {
            let names: Vec<&str> = ps.iter().map(|p| p.name()).collect();
            let mut a = ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "You need one of the permissions {} to do this",
                    names.join(", ")
                ),
            );
            a.extra = Some(json!({ "missing_any_of": names }));
            a
        }
        Denied::CannotGrant(names) => {
            let mut a = ApiError::new(
                StatusCode::FORBIDDEN,
                "cannot-grant",
                format!(
                    "You cannot grant permissions you do not hold: {}",
                    names.join(", ")
                ),
            )
            .field("permissions", "contains permissions you do not hold");
            a.extra = Some(json!({ "permissions": names }));
            a
        }
        other => ApiError::new(StatusCode::FORBIDDEN, "forbidden", other.to_string()),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": format!("https://leadteam.dev/problems/{}", self.kind),
            "title": self.title,
            "status": self.status.as_u16(),
        });
        if let Some(d) = &self.detail {
            body["detail"] = json!(d);
        }
        if !self.errors.is_empty() {
            body["errors"] = Value::Array(
                self.errors
                    .iter()
                    .map(|(f, m)| json!({"field": f, "message": m}))
                    .collect(),
            );
            body["field"] = json!(self.errors[0].0);
        }
        if let Some(Value::Object(extra)) = self.extra {
            for (k, v) in extra {
                body[k] = v;
            }
        }
        let mut resp = (self.status, body.to_string()).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

/// 413 for a file over `max_bytes`, naming the file.
pub(crate) fn too_large(msg: String, max_bytes: u64) -> ApiError {
    let mut a = ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "file-too-large",
        "The file is too large",
    )
    .detail(msg.clone())
    .field("file", msg);
    a.extra = Some(json!({ "max_bytes": max_bytes }));
    a
}

/// 415 for a file of a type not accepted, naming the Content-Type.
pub(crate) fn unsupported_type(msg: String, title: &str, accepted: serde_json::Value) -> ApiError {
    let mut a = ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-file-type",
        title,
    )
    .detail(msg.clone())
    .field("Content-Type", msg);
    a.extra = Some(json!({ "accepted_types": accepted }));
    a
}
