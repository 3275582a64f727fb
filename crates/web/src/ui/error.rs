//! Errors of pages: an HTML page with the status, the title the API would
//! give (one mapping: `ApiError::from(AppError)`) and what to do next.

use super::layout::{Layout, render};
use crate::error::ApiError;
use askama::Template;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use leadteam_app::{AppError, AuthFailure};

/// A failed page request.
#[derive(Debug)]
pub(crate) enum UiError {
    /// Shown as an error page.
    Page {
        status: StatusCode,
        title: String,
        detail: Option<String>,
    },
    /// The session is gone: sign in again.
    SignIn,
}

impl From<AppError> for UiError {
    fn from(e: AppError) -> Self {
        if matches!(e, AppError::Unauthenticated(AuthFailure::NoSession)) {
            return UiError::SignIn;
        }
        let a = ApiError::from(e);
        // Pages say in words what is missing, never a permission code.
        let missing = a
            .extra
            .as_ref()
            .and_then(|x| x.get("missing_permission"))
            .and_then(|v| v.as_str())
            .and_then(leadteam_domain::authz::Permission::from_name);
        let title = match (a.kind, missing) {
            ("2fa-enrolment-required", _) => "This account requires two-factor authentication: \
                turn it on in Security first"
                .to_owned(),
            (_, Some(p)) => format!(
                "Your role does not allow this. It needs the right to: {}. An admin of the account can give it to you.",
                super::dashboard::permission_text(p).to_lowercase()
            ),
            _ => a.title,
        };
        UiError::Page {
            status: a.status,
            title,
            detail: a.detail.filter(|_| a.errors.is_empty()),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    page: Layout,
    status: u16,
    detail: Option<&'a str>,
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        match self {
            UiError::SignIn => super::see_other("/signin", false),
            UiError::Page {
                status,
                title,
                detail,
            } => render(
                status,
                &ErrorPage {
                    page: Layout::bare(&title),
                    status: status.as_u16(),
                    detail: detail.as_deref(),
                },
            ),
        }
    }
}

/// Unknown paths: problem+json under `/api`, an HTML page elsewhere.
pub(super) async fn not_found(req: Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        return ApiError::not_found().into_response();
    }
    UiError::Page {
        status: StatusCode::NOT_FOUND,
        title: "Page not found".into(),
        detail: Some(
            "There is no page at this address. Check the link, or start again from the dashboard."
                .into(),
        ),
    }
    .into_response()
}
