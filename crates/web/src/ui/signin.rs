//! Sign-up, sign-in (password, then the 2FA code when the account has one)
//! and sign-out: the same use cases as `POST /api/v1/signup`,
//! `POST /api/v1/sessions` and `DELETE /api/v1/sessions/current`.

use super::csrf::PreSession;
use super::layout::{Layout, notice, render, see_other};
use super::session::{SignedIn, safe_next, signin_url};
use super::{FormErrors, UiError, UiForm};
use crate::AppState;
use crate::extract::Client;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use leadteam_app::auth::{self, NewSessionToken, SigninInput};
use leadteam_app::signup::{self, SignupInput};
use leadteam_app::{AppError, AuthFailure};
use serde::Deserialize;

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/signup", get(signup_page).post(signup))
        .route("/signup/confirm", get(confirm_page).post(confirm))
        .route("/signin", get(signin_page).post(signin))
        .route("/signout", post(signout))
}

/// Sets the session cookie on the answer to a successful sign-up or sign-in.
fn with_session(state: &AppState, t: &NewSessionToken, mut resp: Response) -> Response {
    if let Some(v) = crate::cookies::session_cookie(state, t) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SignupForm {
    account_name: String,
    name: String,
    email: String,
    password: String,
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    page: Layout,
    form: SignupForm,
    errors: FormErrors,
}

async fn signup_page(signed: Option<SignedIn>, pre: PreSession) -> Response {
    if signed.is_some() {
        return see_other("/", false);
    }
    let page = SignupPage {
        page: Layout::public("Create your account", &pre.token),
        form: SignupForm::default(),
        errors: FormErrors::default(),
    };
    pre.apply(render(StatusCode::OK, &page))
}

async fn signup(
    State(s): State<AppState>,
    pre: PreSession,
    Client(ci): Client,
    f: UiForm<SignupForm>,
) -> Result<Response, UiError> {
    let b = f.data;
    let result = signup::request(
        &s.app,
        SignupInput {
            account_name: &b.account_name,
            name: &b.name,
            email: &b.email,
            password: &b.password,
        },
        &ci,
    )
    .await;
    match result {
        Ok(()) => {
            let page = SignupSentPage {
                page: Layout::public("Check your email", &pre.token),
                email: b.email.trim().to_lowercase(),
                days: s.app.config.invite_ttl_ms / 86_400_000,
                delivery_note: s.app.config.mail_note.clone(),
            };
            Ok(pre.apply(render(StatusCode::OK, &page)))
        }
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[])?;
            let page = SignupPage {
                page: Layout::public("Create your account", &pre.token),
                form: SignupForm {
                    password: String::new(),
                    ..b
                },
                errors,
            };
            Ok(pre.apply(render(status, &page)))
        }
    }
}

#[derive(Template)]
#[template(path = "signup_sent.html")]
struct SignupSentPage {
    page: Layout,
    email: String,
    days: i64,
    /// Where the mail goes when no mail server is configured.
    delivery_note: Option<String>,
}

#[derive(Template)]
#[template(path = "signup_confirm.html")]
struct ConfirmPage {
    page: Layout,
    token: String,
    /// Why the link does not work, when it does not.
    dead: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ConfirmQuery {
    token: String,
}

/// The page of the emailed link: a button creates the account (a GET never
/// does, so mail scanners that open links create nothing).
async fn confirm_page(pre: PreSession, Query(q): Query<ConfirmQuery>) -> Response {
    let page = ConfirmPage {
        page: Layout::public("Create your account", &pre.token),
        token: q.token,
        dead: None,
    };
    pre.apply(render(StatusCode::OK, &page))
}

async fn confirm(
    State(s): State<AppState>,
    pre: PreSession,
    Client(ci): Client,
    f: UiForm<ConfirmQuery>,
) -> Result<Response, UiError> {
    match signup::confirm(&s.app, &f.data.token, &ci).await {
        Ok((t, _)) => Ok(with_session(&s, &t, see_other("/?notice=welcome", f.htmx))),
        Err(AppError::Gone(reason)) => {
            let page = ConfirmPage {
                page: Layout::public("This link does not work", &pre.token),
                token: String::new(),
                dead: Some(reason),
            };
            Ok(pre.apply(render(StatusCode::GONE, &page)))
        }
        Err(e) => Err(e.into()),
    }
}

/// The sign-in form as shown: the password is never sent back, the email is.
pub(super) struct SigninView {
    csrf: String,
    email: String,
    next: String,
    /// The password was right and a 2FA code is needed: show the code field.
    step2: bool,
    errors: FormErrors,
}

impl SigninView {
    fn password_hint(&self) -> &'static str {
        if self.step2 {
            "For your safety the password is not kept: enter it again with the code."
        } else {
            ""
        }
    }
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SigninPage {
    page: Layout,
    form: SigninView,
}

/// The form alone, swapped in by htmx after a failed attempt.
#[derive(Template)]
#[template(path = "signin_form.html")]
struct SigninFormPart<'a> {
    form: &'a SigninView,
}

/// The code field alone, added by htmx below the password the visitor typed.
#[derive(Template)]
#[template(path = "signin_code.html")]
struct CodePart<'a> {
    form: &'a SigninView,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SigninQuery {
    next: Option<String>,
    notice: Option<String>,
}

async fn signin_page(
    signed: Option<SignedIn>,
    pre: PreSession,
    Query(q): Query<SigninQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref().unwrap_or("/"));
    if signed.is_some() {
        return see_other(&next, false);
    }
    let page = SigninPage {
        page: Layout::public("Sign in", &pre.token).with_notice(notice(q.notice.as_deref())),
        form: SigninView {
            csrf: pre.token.clone(),
            email: String::new(),
            next,
            step2: false,
            errors: FormErrors::default(),
        },
    };
    pre.apply(render(StatusCode::OK, &page))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SigninForm {
    email: String,
    password: String,
    /// A TOTP code, or a recovery code (told apart by its letters).
    code: String,
    next: String,
}

async fn signin(
    State(s): State<AppState>,
    pre: PreSession,
    Client(ci): Client,
    f: UiForm<SigninForm>,
) -> Result<Response, UiError> {
    let b = f.data;
    let (totp_code, recovery_code) = super::form::split_code(&b.code);
    let result = auth::signin(
        &s.app,
        SigninInput {
            email: &b.email,
            password: &b.password,
            totp_code,
            recovery_code,
        },
        &ci,
    )
    .await;
    let next = safe_next(&b.next);
    let e = match result {
        Ok(t) => return Ok(with_session(&s, &t, see_other(&next, f.htmx))),
        Err(e) => e,
    };
    let second_factor = matches!(
        e,
        AppError::Unauthenticated(AuthFailure::TotpRequired | AuthFailure::InvalidTotp)
    );
    let first_ask = matches!(e, AppError::Unauthenticated(AuthFailure::TotpRequired));
    let (status, mut errors) = FormErrors::from_app(e, &[("totp_code", "code")])?;
    if first_ask {
        // Asking for the code is the next step, not a mistake.
        errors = FormErrors::default();
    }
    let form = SigninView {
        csrf: pre.token.clone(),
        email: b.email,
        next,
        step2: second_factor,
        errors,
    };
    let resp = if f.htmx && second_factor {
        // The password stays in the visitor's form; only the code field changes.
        let mut r = render(status, &CodePart { form: &form });
        r.headers_mut()
            .insert("hx-retarget", HeaderValue::from_static("#second-factor"));
        r.headers_mut()
            .insert("hx-reswap", HeaderValue::from_static("innerHTML"));
        r
    } else if f.htmx {
        render(status, &SigninFormPart { form: &form })
    } else {
        render(
            status,
            &SigninPage {
                page: Layout::public("Sign in", &pre.token),
                form,
            },
        )
    };
    Ok(pre.apply(resp))
}

#[derive(Debug, Default, Deserialize)]
struct NoFields {}

async fn signout(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<NoFields>,
) -> Result<Response, UiError> {
    auth::signout(&s.app, &who.caller).await?;
    let mut resp = see_other(&format!("{}?notice=signed_out", signin_url("/")), f.htmx);
    if let Some(v) = crate::cookies::clear_session_cookie(&s) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp.into_response())
}
