//! API keys (`/account/api-keys`): the account's keys with their
//! permissions and last use, a new key (its token shown once, on the page
//! that answers the form, never in an address) and revocation. The same use
//! cases as `/api/v1/api-keys`; `decide` (`ManageApiKeys`, i.e.
//! `account.manage`) lets a member see the page, and a permission the
//! member does not hold cannot be ticked.

use super::super::layout::{Layout, render, see_other};
use super::super::{FormErrors, SignedIn, UiError, UiForm};
use super::fields::Fields;
use super::view::{self, PermBox, PermChip};
use crate::AppState;
use crate::ui::form::NoticeQuery;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use leadteam_app::api_keys::{self, NewKey};
use leadteam_domain::ApiKeyId;
use leadteam_domain::authz::{Action, Permission, PermissionSet};

/// The page's address.
pub(crate) const HOME: &str = "/account/api-keys";

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route(HOME, get(show).post(create))
        .route("/account/api-keys/{id}/revoke", post(revoke))
}

/// One key in the list.
pub(super) struct KeyRow {
    id: i64,
    name: String,
    member: String,
    perms: Vec<PermChip>,
    created: String,
    last_used: Option<String>,
    revoked: bool,
}

/// A key just created: its token, shown this once.
pub(super) struct Shown {
    name: String,
    token: String,
    /// The server's address, for the example command.
    base_url: String,
}

#[derive(Template)]
#[template(path = "admin/api_keys.html")]
struct KeysPage {
    page: Layout,
    keys: Vec<KeyRow>,
    shown: Option<Shown>,
    new_name: String,
    new_perms: Vec<PermBox>,
    errors: FormErrors,
    /// A refused revocation (no field to sit by).
    action_error: Option<String>,
}

/// Giving `p` to a key is allowed when `decide` says so.
fn grantable(page: &Layout) -> impl Fn(Permission) -> bool + '_ {
    |p| {
        page.may(Action::ManageApiKeys {
            grants: PermissionSet::of(&[p]),
        })
    }
}

#[derive(Default)]
struct Extra {
    shown: Option<Shown>,
    name: String,
    perms: PermissionSet,
    errors: FormErrors,
    action_error: Option<String>,
}

async fn keys_page(
    s: &AppState,
    who: &SignedIn,
    notice: Option<&str>,
    status: StatusCode,
    x: Extra,
) -> Result<Response, UiError> {
    // Refused (403 page) unless `decide` allows managing keys.
    let mut rows = api_keys::list(&s.app, &who.caller).await?;
    rows.sort_by_key(|k| (k.revoked_at.is_some(), std::cmp::Reverse(k.created_at)));
    // Under Account in the navigation (the page is a tab of the settings).
    let page = view::frame(s, who, "API keys", "/account", notice).await?;
    let keys = rows
        .into_iter()
        .map(|k| KeyRow {
            id: k.id.0,
            name: k.name,
            member: k.member_name,
            perms: view::chips(k.permissions),
            created: view::when(k.created_at, &who.caller.time_zone),
            last_used: k.last_used_at.map(|t| view::when(t, &who.caller.time_zone)),
            revoked: k.revoked_at.is_some(),
        })
        .collect();
    let new_perms = view::boxes(x.perms, false, grantable(&page));
    let body = KeysPage {
        keys,
        shown: x.shown,
        new_name: x.name,
        new_perms,
        errors: x.errors,
        action_error: x.action_error,
        page,
    };
    Ok(render(status, &body))
}

async fn show(
    State(s): State<AppState>,
    who: SignedIn,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, UiError> {
    keys_page(
        &s,
        &who,
        q.notice.as_deref(),
        StatusCode::OK,
        Extra::default(),
    )
    .await
}

/// Creation answers with the page itself (not a redirect), so the token is
/// never in an address or the history.
async fn create(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    let name = f.data.get("name").to_owned();
    let perms = f.data.all("permissions");
    match api_keys::create(&s.app, &who.caller, &name, &perms).await {
        Ok(NewKey { key, token }) => {
            let x = Extra {
                shown: Some(Shown {
                    name: key.name,
                    token,
                    base_url: s.app.config.base_url.clone(),
                }),
                ..Extra::default()
            };
            keys_page(&s, &who, None, StatusCode::CREATED, x).await
        }
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[])?;
            let x = Extra {
                name,
                perms: PermissionSet::parse_names(&perms).unwrap_or_default(),
                errors,
                ..Extra::default()
            };
            keys_page(&s, &who, None, status, x).await
        }
    }
}

async fn revoke(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    match api_keys::revoke(&s.app, &who.caller, ApiKeyId(id)).await {
        Ok(()) => Ok(see_other(&format!("{HOME}?notice=key_revoked"), f.htmx)),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[])?;
            let x = Extra {
                action_error: Some(view::refusal(&errors)),
                ..Extra::default()
            };
            keys_page(&s, &who, None, status, x).await
        }
    }
}
