//! Form posts: `UiForm<T>` checks the origin and the CSRF token, then parses
//! the urlencoded body; `FormErrors` maps a use case's error onto the fields
//! of the form that is shown again.

use super::csrf;
use super::error::UiError;
use crate::AppState;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use leadteam_app::{AppError, AuthFailure};
use serde::de::DeserializeOwned;

/// A form post whose origin and CSRF token were checked (see [`csrf`]); a
/// failed check answers 403 with an explanation. `htmx` tells whether htmx
/// sent it.
pub(crate) struct UiForm<T> {
    pub data: T,
    pub htmx: bool,
}

fn bad_form(status: StatusCode, title: &str) -> Response {
    UiError::Page {
        status,
        title: title.to_owned(),
        detail: Some("Go back, reload the page and try again.".into()),
    }
    .into_response()
}

impl<T: DeserializeOwned> FromRequest<AppState> for UiForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, _state: &AppState) -> Result<Self, Response> {
        let (parts, body) = req.into_parts();
        if crate::middleware::same_origin(&parts).is_err() {
            return Err(csrf::refused());
        }
        let Ok(bytes) = axum::body::to_bytes(body, crate::MAX_BODY_BYTES).await else {
            return Err(bad_form(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The form is too large to be sent",
            ));
        };
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        let submitted = pairs
            .iter()
            .find(|(k, _)| k == csrf::FIELD)
            .map(|(_, v)| v.as_str());
        csrf::check(&parts, submitted)?;
        let data = serde_urlencoded::from_bytes::<T>(&bytes).map_err(|e| {
            tracing::debug!(error = %e, "unreadable form");
            bad_form(StatusCode::BAD_REQUEST, "The form could not be read")
        })?;
        Ok(UiForm {
            data,
            htmx: super::layout::is_htmx(&parts.headers),
        })
    }
}

/// The errors of a form: per field (shown next to the input) and for the
/// form as a whole (shown above it).
#[derive(Debug, Default)]
pub(crate) struct FormErrors {
    fields: Vec<(String, String)>,
    pub summary: Option<String>,
}

impl FormErrors {
    /// The message of `name`, if it is at fault.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, m)| m.as_str())
    }

    pub fn any(&self) -> bool {
        !self.fields.is_empty() || self.summary.is_some()
    }

    pub fn field_count(&self) -> usize {
        self.fields.len()
    }

    /// Every message as a sentence (for an alert that has no fields to sit by).
    pub fn messages(&self) -> Vec<String> {
        self.summary
            .iter()
            .cloned()
            .chain(self.fields.iter().map(|(_, m)| sentence("The choice", m)))
            .collect()
    }

    /// Maps a use case's error onto the form: field errors to their inputs
    /// (`rename` maps the use case's field names to the form's), the rest to
    /// the summary. A lost session is not a form error: sign in again.
    pub fn from_app(e: AppError, rename: &[(&str, &str)]) -> Result<(StatusCode, Self), UiError> {
        let named = |f: &str| {
            rename
                .iter()
                .find(|(from, _)| *from == f)
                .map(|(_, to)| (*to).to_owned())
                .unwrap_or_else(|| f.to_owned())
        };
        let mut out = FormErrors::default();
        let status = match e {
            AppError::Validation(errs) => {
                out.fields = errs
                    .0
                    .into_iter()
                    .map(|f| (named(&f.field), f.message))
                    .collect();
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::Conflict {
                message,
                field: Some(f),
            } => {
                out.fields.push((named(&f), message));
                StatusCode::CONFLICT
            }
            AppError::Unauthenticated(AuthFailure::InvalidCredentials) => {
                out.fields.push((
                    named("password"),
                    "The email or password is not right.".into(),
                ));
                StatusCode::UNAUTHORIZED
            }
            AppError::Unauthenticated(AuthFailure::TotpRequired) => {
                out.fields.push((
                    named("totp_code"),
                    "Enter the code from your authenticator app, or a recovery code.".into(),
                ));
                StatusCode::UNAUTHORIZED
            }
            AppError::Unauthenticated(AuthFailure::InvalidTotp) => {
                out.fields.push((
                    named("totp_code"),
                    "This code is wrong or was already used. Wait for the next code and try again."
                        .into(),
                ));
                StatusCode::UNAUTHORIZED
            }
            AppError::Unauthenticated(AuthFailure::NoSession) => return Err(UiError::SignIn),
            other => {
                let a = crate::error::ApiError::from(other);
                out.summary = Some(a.title);
                a.status
            }
        };
        Ok((status, out))
    }
}

/// A code field that takes either a TOTP code (digits) or a recovery code
/// (letters too): `(totp_code, recovery_code)` for the use cases.
pub(crate) fn split_code(code: &str) -> (Option<&str>, Option<&str>) {
    let code = code.trim();
    if code.chars().all(|c| c.is_ascii_digit() || c == ' ') {
        (Some(code), None)
    } else {
        (None, Some(code))
    }
}

/// The sentence shown next to a field: messages of the use cases are
/// predicates ("is required", "must be at least 10 characters long") that
/// follow the field's label; full sentences are kept as they are.
pub(crate) fn sentence(label: &str, message: &str) -> String {
    let message = message.trim();
    let mut s = if message.starts_with(|c: char| c.is_uppercase()) {
        message.to_owned()
    } else if message.starts_with("is not") || message.starts_with("is wrong") {
        format!("This {message}")
    } else if message.starts_with("is ") || message.starts_with("must ") {
        format!("{label} {message}")
    } else {
        let mut c = message.chars();
        match c.next() {
            Some(first) => first.to_uppercase().chain(c).collect(),
            None => String::new(),
        }
    };
    if !s.ends_with(['.', '!', '?']) {
        s.push('.');
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_as_sentences_next_to_their_field() {
        assert_eq!(sentence("Email", "is required"), "Email is required.");
        assert_eq!(
            sentence("Password", "must be at least 10 characters long"),
            "Password must be at least 10 characters long."
        );
        assert_eq!(
            sentence("Current password", "is not your current password"),
            "This is not your current password."
        );
        assert_eq!(
            sentence(
                "Email",
                "an account already uses this email: sign in instead"
            ),
            "An account already uses this email: sign in instead."
        );
        assert_eq!(
            sentence("Password", "The email or password is not right."),
            "The email or password is not right."
        );
    }

    #[test]
    fn use_case_errors_land_on_the_form_fields() {
        let e = AppError::field("totp_code", "is wrong");
        let (status, f) = FormErrors::from_app(e, &[("totp_code", "code")]).unwrap();
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(f.get("code"), Some("is wrong"));
        assert!(matches!(
            FormErrors::from_app(AppError::Unauthenticated(AuthFailure::NoSession), &[]),
            Err(UiError::SignIn)
        ));
    }
}

/// `?notice=...`: which message a page shows after a redirect.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(crate) struct NoticeQuery {
    pub notice: Option<String>,
}
