//! The page of the emailed invitation link (M4): `GET /invitations/accept?token=`
//! shows the invitation; a new user chooses its name and password, an
//! existing user gives its password (or is already signed in as it). The
//! same use case as `POST /api/v1/invitations/accept`; on success the
//! browser is signed in to the account and lands on the dashboard.

use super::super::csrf::PreSession;
use super::super::layout::{Layout, render, see_other};
use super::super::{FormErrors, SignedIn, UiError, UiForm};
use super::view;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::Client;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use leadteam_app::AppError;
use leadteam_app::invitations::{self, InvitationView};
use leadteam_app::members::{self, AcceptInput};
use serde::Deserialize;

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/invitations/accept", get(show).post(accept))
}

#[derive(Template)]
#[template(path = "admin/invitation.html")]
struct AcceptPage {
    page: Layout,
    token: String,
    inv: InvitationView,
    expires: String,
    /// The visitor is signed in as the invited email: one click joins.
    signed_in_as_invitee: bool,
    /// The name typed, or the one the inviter gave.
    full_name: String,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "admin/invitation_dead.html")]
struct DeadPage {
    page: Layout,
    status: u16,
    reason: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokenQuery {
    token: String,
}

/// The page of a link that does not work (any more): why, and what to do.
fn dead(pre: &PreSession, e: AppError) -> Response {
    let a = ApiError::from(e);
    let reason = match a.status {
        StatusCode::GONE | StatusCode::NOT_FOUND => super::super::form::sentence("", &a.title),
        StatusCode::UNPROCESSABLE_ENTITY => {
            "This address is missing the code of the invitation. Open the link from the email again, \
             or copy the whole address from it."
                .to_owned()
        }
        _ => a.title,
    };
    pre.apply(render(
        a.status,
        &DeadPage {
            page: Layout::public("This invitation link does not work", &pre.token),
            status: a.status.as_u16(),
            reason,
        },
    ))
}

async fn page(
    s: &AppState,
    pre: &PreSession,
    signed: Option<&SignedIn>,
    token: String,
    name: Option<String>,
    status: StatusCode,
    errors: FormErrors,
) -> Response {
    let inv = match invitations::preview(&s.app, &token).await {
        Ok(v) => v,
        Err(e) => return dead(pre, e),
    };
    let signed_in_as_invitee =
        signed.is_some_and(|w| w.caller.email.eq_ignore_ascii_case(&inv.email));
    let title = format!("Join {}", inv.account_name);
    let p = AcceptPage {
        page: Layout::public(&title, &pre.token),
        token,
        expires: view::when(
            inv.expires_at,
            signed.map_or("UTC", |w| w.caller.time_zone.as_str()),
        ),
        signed_in_as_invitee,
        full_name: name.unwrap_or_else(|| inv.name.clone()),
        inv,
        errors,
    };
    pre.apply(render(status, &p))
}

async fn show(
    State(s): State<AppState>,
    pre: PreSession,
    signed: Option<SignedIn>,
    Query(q): Query<TokenQuery>,
) -> Response {
    page(
        &s,
        &pre,
        signed.as_ref(),
        q.token,
        None,
        StatusCode::OK,
        FormErrors::default(),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AcceptForm {
    token: String,
    name: Option<String>,
    password: Option<String>,
}

async fn accept(
    State(s): State<AppState>,
    pre: PreSession,
    signed: Option<SignedIn>,
    Client(ci): Client,
    f: UiForm<AcceptForm>,
) -> Result<Response, UiError> {
    let b = f.data;
    let result = members::accept(
        &s.app,
        AcceptInput {
            token: &b.token,
            name: b.name.as_deref(),
            password: b.password.as_deref().filter(|p| !p.is_empty()),
        },
        signed.as_ref().map(|w| &w.caller),
        &ci,
    )
    .await;
    match result {
        Ok((_, t)) => {
            let mut resp = see_other("/?notice=joined", f.htmx);
            if let Some(v) = crate::cookies::session_cookie(&s, &t) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            Ok(resp)
        }
        Err(e @ (AppError::Gone(_) | AppError::NotFound(_))) => Ok(dead(&pre, e)),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[])?;
            Ok(page(&s, &pre, signed.as_ref(), b.token, b.name, status, errors).await)
        }
    }
}
