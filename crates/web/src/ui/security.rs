//! The security page: change the password, turn two-factor authentication on
//! (QR code, confirm with a code, recovery codes shown once) and off. The
//! same use cases as `POST /api/v1/me/password` and `/api/v1/me/2fa*`.

use super::layout::{Layout, notice, render, see_other};
use super::{FormErrors, SignedIn, UiError, UiForm};
use crate::AppState;
use crate::ui::form::NoticeQuery;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use leadteam_app::{me, security};
use serde::Deserialize;

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/security", get(show))
        .route("/security/password", post(change_password))
        .route("/security/2fa", get(enrol_page).post(start_2fa))
        .route("/security/2fa/confirm", post(confirm_2fa))
        .route("/security/2fa/disable", post(disable_2fa))
}

/// Which form of the page an error belongs to.
#[derive(Default)]
struct Errors {
    password: FormErrors,
    start: FormErrors,
    disable: FormErrors,
}

#[derive(Template)]
#[template(path = "security.html")]
struct SecurityPage {
    page: Layout,
    two_factor: bool,
    recovery_left: i64,
    /// An enrolment was started and not confirmed.
    pending: bool,
    errors: Errors,
}

async fn security_page(
    s: &AppState,
    who: &SignedIn,
    status: StatusCode,
    notice_key: Option<&str>,
    errors: Errors,
) -> Result<Response, UiError> {
    let v = me::me(&s.app, &who.caller).await?;
    let pending = security::pending_totp(&s.app, &who.caller).await?.is_some();
    let page = SecurityPage {
        page: Layout::signed_in("Security", "/security", who, &v).with_notice(notice(notice_key)),
        two_factor: v.user.totp_secret.is_some(),
        recovery_left: v.recovery_codes_left,
        pending,
        errors,
    };
    Ok(render(status, &page))
}

async fn show(
    State(s): State<AppState>,
    who: SignedIn,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, UiError> {
    security_page(
        &s,
        &who,
        StatusCode::OK,
        q.notice.as_deref(),
        Errors::default(),
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PasswordForm {
    current_password: String,
    new_password: String,
}

async fn change_password(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<PasswordForm>,
) -> Result<Response, UiError> {
    let b = f.data;
    match security::change_password(&s.app, &who.caller, &b.current_password, &b.new_password).await
    {
        Ok(_) => Ok(see_other("/security?notice=password", f.htmx)),
        Err(e) => {
            let (status, password) = FormErrors::from_app(e, &[])?;
            let errors = Errors {
                password,
                ..Errors::default()
            };
            security_page(&s, &who, status, None, errors).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct NoFields {}

async fn start_2fa(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<NoFields>,
) -> Result<Response, UiError> {
    match security::start_totp(&s.app, &who.caller).await {
        Ok(_) => Ok(see_other("/security/2fa", f.htmx)),
        Err(e) => {
            let (status, start) = FormErrors::from_app(e, &[])?;
            let errors = Errors {
                start,
                ..Errors::default()
            };
            security_page(&s, &who, status, None, errors).await
        }
    }
}

#[derive(Template)]
#[template(path = "security_enrol.html")]
struct EnrolPage {
    page: Layout,
    qr_svg: String,
    /// The secret in groups of four characters, easier to type.
    secret_groups: String,
    errors: FormErrors,
}

async fn enrol(
    s: &AppState,
    who: &SignedIn,
    status: StatusCode,
    errors: FormErrors,
) -> Result<Response, UiError> {
    let Some(e) = security::pending_totp(&s.app, &who.caller).await? else {
        return Ok(see_other("/security", false));
    };
    let v = me::me(&s.app, &who.caller).await?;
    let secret_groups = e
        .secret_base32
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let page = EnrolPage {
        page: Layout::signed_in("Turn on two-factor authentication", "/security", who, &v),
        qr_svg: super::qr::svg(
            &e.otpauth_uri,
            "QR code to scan with your authenticator app",
        )
        .unwrap_or_default(),
        secret_groups,
        errors,
    };
    Ok(render(status, &page))
}

async fn enrol_page(State(s): State<AppState>, who: SignedIn) -> Result<Response, UiError> {
    enrol(&s, &who, StatusCode::OK, FormErrors::default()).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ConfirmForm {
    code: String,
}

#[derive(Template)]
#[template(path = "security_recovery.html")]
struct RecoveryPage {
    page: Layout,
    codes: Vec<String>,
}

async fn confirm_2fa(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<ConfirmForm>,
) -> Result<Response, UiError> {
    match security::confirm_totp(&s.app, &who.caller, &f.data.code).await {
        Ok(codes) => {
            let v = me::me(&s.app, &who.caller).await?;
            let page = RecoveryPage {
                page: Layout::signed_in("Save your recovery codes", "/security", &who, &v)
                    .with_notice(notice(Some("2fa_on"))),
                codes,
            };
            Ok(render(StatusCode::OK, &page))
        }
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[])?;
            enrol(&s, &who, status, errors).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DisableForm {
    password: String,
    /// A current code or a recovery code (told apart by its letters).
    code: String,
}

async fn disable_2fa(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<DisableForm>,
) -> Result<Response, UiError> {
    let b = f.data;
    let (code, recovery) = super::form::split_code(&b.code);
    let result = security::disable_totp(&s.app, &who.caller, &b.password, code, recovery).await;
    match result {
        Ok(()) => Ok(see_other("/security?notice=2fa_off", f.htmx)),
        Err(e) => {
            let (status, disable) = FormErrors::from_app(e, &[("totp_code", "code")])?;
            let errors = Errors {
                disable,
                ..Errors::default()
            };
            security_page(&s, &who, status, None, errors).await
        }
    }
}
