//! Identity and session: sign-up, sign-in, sign-out, `/me`, password, 2FA,
//! switching accounts.

use super::rfc3339;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, Authed, Client};
use crate::registry::{Api, RouteSpec, Verb};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use leadteam_app::auth::{self, NewSessionToken, SigninInput};
use leadteam_app::signup::{self, SignupInput};
use leadteam_app::{me, security};
use leadteam_domain::AccountId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(super) fn routes(api: Api) -> Api {
    api.add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/signup",
            "identity",
            "Ask for an account: a link to confirm the email is sent (the answer is the same whether the email is known or not)",
        )
        .public()
        .status(202)
        .body::<SignupBody>()
        .returns::<SignupOut>(),
        signup,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/signup/confirm",
            "identity",
            "Follow the emailed sign-up link: creates the account with its owner and signs in",
        )
        .public()
        .status(201)
        .body::<ConfirmSignupBody>()
        .returns::<SessionOut>(),
        confirm_signup,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/sessions",
            "identity",
            "Sign in (with a TOTP or recovery code when enrolled)",
        )
        .public()
        .status(201)
        .body::<SigninBody>()
        .returns::<SessionOut>(),
        signin,
    )
    .add(
        RouteSpec::new(
            Verb::Delete,
            "/api/v1/sessions/current",
            "identity",
            "Sign out",
        )
        .status(204),
        signout,
    )
    .add(
        RouteSpec::new(
            Verb::Put,
            "/api/v1/me/preferences",
            "identity",
            "The member's own time zone, or null to follow the account's (X6)",
        )
        .body::<PreferencesBody>()
        .returns::<PreferencesOut>(),
        put_preferences,
    )
    .add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/me",
            "identity",
            "The user, its memberships, the current account and effective permissions",
        )
        .returns::<MeOut>(),
        get_me,
    )
    .add(
        RouteSpec::new(
            Verb::Put,
            "/api/v1/me/account",
            "identity",
            "Switch the current account",
        )
        .body::<SwitchBody>()
        .returns::<MeOut>(),
        switch_account,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/me/password",
            "identity",
            "Change the password; other sessions end",
        )
        .body::<PasswordBody>()
        .returns::<PasswordOut>(),
        change_password,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/me/2fa",
            "identity",
            "Start TOTP enrolment: a secret and an otpauth URI",
        )
        .status(201)
        .returns::<EnrolOut>(),
        start_2fa,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/me/2fa/confirm",
            "identity",
            "Confirm enrolment with a code; returns ten recovery codes",
        )
        .body::<ConfirmBody>()
        .returns::<RecoveryOut>(),
        confirm_2fa,
    )
    .add(
        RouteSpec::new(
            Verb::Delete,
            "/api/v1/me/2fa",
            "identity",
            "Turn 2FA off: the password and a code (or a recovery code) in headers",
        )
        .status(204)
        .headers(&[
            ("Leadteam-Password", "the account password (required)"),
            ("Leadteam-Totp-Code", "a code from the authenticator app"),
            ("Leadteam-Recovery-Code", "or one of the recovery codes"),
        ]),
        disable_2fa,
    )
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    /// The company or team name.
    pub account_name: String,
    /// The owner's name.
    pub name: String,
    pub email: String,
    /// At least 10 characters.
    pub password: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SigninBody {
    pub email: String,
    pub password: String,
    /// The 6-digit code of the authenticator app, when 2FA is on.
    #[serde(default)]
    pub totp_code: Option<String>,
    /// One of the recovery codes, instead of `totp_code`.
    #[serde(default)]
    pub recovery_code: Option<String>,
}

/// A new session. `token` is the bearer token for API clients; browsers get
/// the same value in an HttpOnly cookie.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SessionOut {
    pub token: String,
    pub expires_at: String,
    pub user_id: i64,
    pub account_id: Option<i64>,
}

pub(crate) fn session_response(
    state: &AppState,
    t: NewSessionToken,
    status: StatusCode,
) -> Response {
    session_response_with(state, t, status, |s| s)
}

/// Sets the session cookie and answers `wrap(session)` as JSON.
pub(crate) fn session_response_with<T: Serialize>(
    state: &AppState,
    t: NewSessionToken,
    status: StatusCode,
    wrap: impl FnOnce(SessionOut) -> T,
) -> Response {
    let cookie = crate::cookies::session_cookie(state, &t);
    let body = SessionOut {
        token: t.token,
        expires_at: rfc3339(t.expires_at),
        user_id: t.user.0,
        account_id: t.account.map(|a| a.0),
    };
    let mut resp = (status, Json(wrap(body))).into_response();
    if let Some(v) = cookie {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// What a sign-up request answers (whatever the email).
#[derive(Debug, Serialize, JsonSchema)]
pub struct SignupOut {
    /// Always `confirmation_sent`: follow the link mailed to `email`.
    pub status: &'static str,
    pub email: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmSignupBody {
    /// The `token` of the link in the confirmation mail.
    pub token: String,
}

async fn signup(
    State(s): State<AppState>,
    Client(ci): Client,
    ApiJson(b): ApiJson<SignupBody>,
) -> Result<Response, ApiError> {
    signup::request(
        &s.app,
        SignupInput {
            account_name: &b.account_name,
            name: &b.name,
            email: &b.email,
            password: &b.password,
        },
        &ci,
    )
    .await?;
    let out = SignupOut {
        status: "confirmation_sent",
        email: b.email.trim().to_lowercase(),
    };
    Ok((StatusCode::ACCEPTED, Json(out)).into_response())
}

async fn confirm_signup(
    State(s): State<AppState>,
    Client(ci): Client,
    ApiJson(b): ApiJson<ConfirmSignupBody>,
) -> Result<Response, ApiError> {
    let (t, _) = signup::confirm(&s.app, &b.token, &ci).await?;
    Ok(session_response(&s, t, StatusCode::CREATED))
}

async fn signin(
    State(s): State<AppState>,
    Client(ci): Client,
    ApiJson(b): ApiJson<SigninBody>,
) -> Result<Response, ApiError> {
    let t = auth::signin(
        &s.app,
        SigninInput {
            email: &b.email,
            password: &b.password,
            totp_code: b.totp_code.as_deref(),
            recovery_code: b.recovery_code.as_deref(),
        },
        &ci,
    )
    .await?;
    Ok(session_response(&s, t, StatusCode::CREATED))
}

async fn signout(State(s): State<AppState>, Authed(c): Authed) -> Result<Response, ApiError> {
    auth::signout(&s.app, &c).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if let Some(v) = crate::cookies::clear_session_cookie(&s) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UserOut {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub two_factor_enabled: bool,
    pub recovery_codes_left: i64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MembershipOut {
    pub account_id: i64,
    pub account_name: String,
    pub member_id: i64,
    pub role: String,
    pub is_owner: bool,
    pub current: bool,
}

/// The account a session acts in, as `GET /api/v1/me` shows it: a summary
/// of the account resource (`GET /api/v1/account` has the whole `AccountOut`).
#[derive(Debug, Serialize, JsonSchema)]
pub struct CurrentAccountOut {
    pub id: i64,
    pub name: String,
    pub require_2fa: bool,
    /// The account's time zone (IANA name).
    pub time_zone: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MeOut {
    pub user: UserOut,
    pub memberships: Vec<MembershipOut>,
    /// The account this session acts in; null when it is not an active member of any.
    pub account: Option<CurrentAccountOut>,
    pub member_id: Option<i64>,
    pub is_owner: bool,
    /// Effective permissions in the current account.
    pub permissions: Vec<String>,
    /// The account requires 2FA and this user must enrol before anything else (O5).
    pub must_enrol_2fa: bool,
    /// The zone the member reads times in: its own, else the account's (X6).
    pub time_zone: String,
}

fn me_out(v: me::MeView) -> MeOut {
    let current = v.actor.as_ref().map(|a| a.account);
    MeOut {
        user: UserOut {
            id: v.user.id.0,
            email: v.user.email.clone(),
            name: v.user.name.clone(),
            two_factor_enabled: v.user.totp_secret.is_some(),
            recovery_codes_left: v.recovery_codes_left,
        },
        memberships: v
            .memberships
            .iter()
            .map(|m| MembershipOut {
                account_id: m.account.0,
                account_name: m.account_name.clone(),
                member_id: m.member.0,
                role: m.role_name.clone(),
                is_owner: m.is_owner,
                current: Some(m.account) == current,
            })
            .collect(),
        account: v.account.as_ref().map(|a| CurrentAccountOut {
            id: a.id.0,
            name: a.name.clone(),
            require_2fa: a.require_2fa,
            time_zone: a.time_zone.clone(),
        }),
        member_id: v.actor.as_ref().map(|a| a.member.0),
        is_owner: v.actor.as_ref().is_some_and(|a| a.is_owner),
        permissions: v
            .permissions()
            .names()
            .into_iter()
            .map(str::to_owned)
            .collect(),
        must_enrol_2fa: v.must_enrol_2fa(),
        time_zone: v.time_zone.clone(),
    }
}

async fn get_me(State(s): State<AppState>, Authed(c): Authed) -> Result<Json<MeOut>, ApiError> {
    Ok(Json(me_out(me::me(&s.app, &c).await?)))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SwitchBody {
    pub account_id: i64,
}

async fn switch_account(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiJson(b): ApiJson<SwitchBody>,
) -> Result<Json<MeOut>, ApiError> {
    auth::switch_account(&s.app, &c, AccountId(b.account_id)).await?;
    let mut c = c;
    let fresh = leadteam_app::auth::authenticate_session(&s.app, c.session).await?;
    c = fresh;
    Ok(Json(me_out(me::me(&s.app, &c).await?)))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    pub current_password: String,
    /// At least 10 characters.
    pub new_password: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PasswordOut {
    /// How many other sessions were ended.
    pub other_sessions_ended: u64,
}

async fn change_password(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiJson(b): ApiJson<PasswordBody>,
) -> Result<Json<PasswordOut>, ApiError> {
    let n = security::change_password(&s.app, &c, &b.current_password, &b.new_password).await?;
    Ok(Json(PasswordOut {
        other_sessions_ended: n,
    }))
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct EnrolOut {
    /// Base32 secret to type into an authenticator app.
    pub secret: String,
    /// The `otpauth://` URI to show as a QR code.
    pub otpauth_uri: String,
}

async fn start_2fa(
    State(s): State<AppState>,
    Authed(c): Authed,
) -> Result<(StatusCode, Json<EnrolOut>), ApiError> {
    let e = security::start_totp(&s.app, &c).await?;
    Ok((
        StatusCode::CREATED,
        Json(EnrolOut {
            secret: e.secret_base32,
            otpauth_uri: e.otpauth_uri,
        }),
    ))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    pub code: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RecoveryOut {
    /// Ten single-use recovery codes, shown once.
    pub recovery_codes: Vec<String>,
}

async fn confirm_2fa(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiJson(b): ApiJson<ConfirmBody>,
) -> Result<Json<RecoveryOut>, ApiError> {
    let codes = security::confirm_totp(&s.app, &c, &b.code).await?;
    Ok(Json(RecoveryOut {
        recovery_codes: codes,
    }))
}

async fn disable_2fa(
    State(s): State<AppState>,
    Authed(c): Authed,
    headers: axum::http::HeaderMap,
) -> Result<StatusCode, ApiError> {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    security::disable_totp(
        &s.app,
        &c,
        h("leadteam-password").unwrap_or(""),
        h("leadteam-totp-code"),
        h("leadteam-recovery-code"),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesBody {
    /// An IANA zone name ("Asia/Kolkata"), or null to follow the account's.
    pub time_zone: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PreferencesOut {
    /// The member's own choice; null when it follows the account's.
    pub time_zone: Option<String>,
    /// The zone its times are shown in.
    pub effective_time_zone: String,
}

async fn put_preferences(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiJson(b): ApiJson<PreferencesBody>,
) -> Result<Json<PreferencesOut>, ApiError> {
    let p = me::set_preferences(&s.app, &c, b.time_zone.as_deref()).await?;
    Ok(Json(PreferencesOut {
        time_zone: p.time_zone,
        effective_time_zone: p.effective_time_zone,
    }))
}
