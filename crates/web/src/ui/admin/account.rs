//! Account settings (O3-O5): the name, "require 2FA", ownership transfer to
//! an admin, deletion with the emailed code, and the JSON export offered
//! before it. The same use cases as `/api/v1/account*`.

use super::super::layout::{Layout, render, see_other};
use super::super::{FormErrors, SignedIn, UiError, UiForm};
use super::fields::Fields;
use super::view;
use crate::AppState;
use crate::ui::form::NoticeQuery;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use leadteam_app::{AppError, account, members};
use leadteam_domain::MemberId;
use leadteam_domain::authz::{Action, Permission};

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    // `POST /account` is the account switcher of the dashboard.
    r.route("/account", get(show))
        .route("/account/name", post(rename))
        .route("/account/2fa", post(require_2fa))
        .route("/account/owner", post(transfer))
        .route("/account/deletion-code", post(request_code))
        .route("/account/delete", post(delete))
}

/// An admin ownership may go to.
pub(super) struct Admin {
    id: i64,
    name: String,
    email: String,
}

#[derive(Default)]
struct Errors {
    rename: FormErrors,
    tfa: FormErrors,
    transfer: FormErrors,
    code: FormErrors,
    delete: FormErrors,
}

#[derive(Template)]
#[template(path = "admin/account.html")]
struct AccountPage {
    page: Layout,
    account_name: String,
    /// What the rename field shows (typed, or the name).
    name_value: String,
    /// The account's time zone (X6), as typed or stored, and the choices.
    zone_value: String,
    zones: Vec<String>,
    owner: String,
    created: String,
    require_2fa: bool,
    invited: i64,
    active: i64,
    deactivated: i64,
    can_manage: bool,
    can_transfer: bool,
    can_delete: bool,
    admins: Vec<Admin>,
    errors: Errors,
    /// A refused form whose section is not shown to the caller.
    action_error: Option<String>,
}

async fn account_page(
    s: &AppState,
    who: &SignedIn,
    notice: Option<&str>,
    status: StatusCode,
    typed: Option<(String, String)>,
    errors: Errors,
) -> Result<Response, UiError> {
    let (typed_name, typed_zone) = typed.unzip();
    let v = account::get(&s.app, &who.caller).await?;
    let page = view::frame(s, who, "Account", "/account", notice).await?;
    let can_transfer = page.may(Action::TransferOwnership);
    let me = who.caller.actor.as_ref().map(|a| a.member);
    let admins = if can_transfer && page.may(Action::ListMembers) {
        members::list(&s.app, &who.caller, Some("active"))
            .await?
            .into_iter()
            .filter(|m| Some(m.id) != me && m.permissions.contains(Permission::AccountManage))
            .map(|m| Admin {
                id: m.id.0,
                name: m.name,
                email: m.email,
            })
            .collect()
    } else {
        Vec::new()
    };
    let (can_manage, can_delete) = (
        page.may(Action::ManageAccount),
        page.may(Action::DeleteAccount),
    );
    let hidden = [
        (!can_manage, &errors.rename),
        (!can_manage, &errors.tfa),
        (!can_transfer, &errors.transfer),
        (!can_delete, &errors.code),
        (!can_delete, &errors.delete),
    ];
    let action_error = hidden
        .into_iter()
        .find(|(h, e)| *h && e.any())
        .map(|(_, e)| view::refusal(e));
    let body = AccountPage {
        name_value: typed_name.unwrap_or_else(|| v.account.name.clone()),
        zone_value: typed_zone.unwrap_or_else(|| v.account.time_zone.clone()),
        zones: leadteam_domain::availability::zone_names(),
        account_name: v.account.name,
        owner: v.owner.map(|o| o.name).unwrap_or_default(),
        created: view::day(v.account.created_at, &who.caller.time_zone),
        require_2fa: v.account.require_2fa,
        invited: v.invited,
        active: v.active,
        deactivated: v.deactivated,
        can_manage,
        can_transfer,
        can_delete,
        admins,
        errors,
        action_error,
        page,
    };
    Ok(render(status, &body))
}

async fn show(
    State(s): State<AppState>,
    who: SignedIn,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, UiError> {
    account_page(
        &s,
        &who,
        q.notice.as_deref(),
        StatusCode::OK,
        None,
        Errors::default(),
    )
    .await
}

/// Shows the page again with `e` on the form `which` picks.
async fn refused(
    s: &AppState,
    who: &SignedIn,
    e: AppError,
    rename: &[(&str, &str)],
    typed: Option<(String, String)>,
    which: fn(&mut Errors) -> &mut FormErrors,
) -> Result<Response, UiError> {
    let (status, form) = FormErrors::from_app(e, rename)?;
    let mut errors = Errors::default();
    *which(&mut errors) = form;
    account_page(s, who, None, status, typed, errors).await
}

async fn rename(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    let name = f.data.get("name");
    let zone = f.data.get("time_zone");
    let given = (!zone.trim().is_empty()).then_some(zone);
    match account::update(&s.app, &who.caller, Some(name), None, given).await {
        Ok(_) => Ok(see_other("/account?notice=account_saved", f.htmx)),
        Err(e) => {
            let typed = Some((name.to_owned(), zone.to_owned()));
            refused(&s, &who, e, &[], typed, |e| &mut e.rename).await
        }
    }
}

async fn require_2fa(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    let on = f.data.get("require") == "1";
    match account::update(&s.app, &who.caller, None, Some(on), None).await {
        Ok(_) => Ok(see_other("/account?notice=account_saved", f.htmx)),
        Err(e) => refused(&s, &who, e, &[], None, |e| &mut e.tfa).await,
    }
}

async fn transfer(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    let result = match f.data.get("member_id").parse::<i64>() {
        Ok(id) => account::transfer_ownership(&s.app, &who.caller, MemberId(id))
            .await
            .map(|_| ()),
        Err(_) => Err(AppError::field(
            "member_id",
            "Choose the admin who becomes the owner",
        )),
    };
    match result {
        Ok(()) => Ok(see_other("/account?notice=owner_transferred", f.htmx)),
        Err(e) => refused(&s, &who, e, &[], None, |e| &mut e.transfer).await,
    }
}

async fn request_code(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    match account::request_deletion(&s.app, &who.caller).await {
        Ok(_) => Ok(see_other(
            "/account?notice=code_sent#delete-heading",
            f.htmx,
        )),
        Err(e) => refused(&s, &who, e, &[], None, |e| &mut e.code).await,
    }
}

async fn delete(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    match account::delete(&s.app, &who.caller, f.data.get("code")).await {
        // The account's sessions went with it: sign in again.
        Ok(_) => Ok(see_other("/signin?notice=account_deleted", f.htmx)),
        Err(e) => refused(&s, &who, e, &[], None, |e| &mut e.delete).await,
    }
}
