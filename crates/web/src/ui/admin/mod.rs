//! Running the team: invitation acceptance, members, roles, teams, account
//! settings, the audit log, billing and going on duty. Each page calls the
//! same `leadteam_app` use case as the API and offers an action only when
//! `decide` allows it ([`super::layout::Layout::may`]).
//!
//! Pages answer a successful form with a redirect to the page and a notice
//! (`?notice=<key>`, texts in [`notice`]); a refused form is shown again
//! with the error next to its field.

mod account;
mod api_keys;
mod audit;
mod availability;
mod billing;
mod fields;
mod invitation;
mod member_edit;
mod members;
mod roles;
mod teams;
mod view;

pub(crate) use billing::{DutyCard, duty_card};

use crate::AppState;
use axum::Router;

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    let r = invitation::routes(r);
    let r = members::routes(r);
    let r = availability::routes(r);
    let r = member_edit::routes(r);
    let r = roles::routes(r);
    let r = teams::routes(r);
    let r = account::routes(r);
    let r = api_keys::routes(r);
    let r = audit::routes(r);
    billing::routes(r)
}

/// The confirmation shown after a redirect to one of these pages; only
/// these fixed texts, so nothing from the address is ever echoed.
pub(super) fn notice(key: Option<&str>) -> Option<&'static str> {
    Some(match key? {
        "invited" => "The invitation is sent. The link in the email works once.",
        "resent" => "A new invitation is sent. The link in the earlier email no longer works.",
        "cancelled" => "The invitation is cancelled. Its link no longer works.",
        "updated" => "The member is saved. The change applies from their next click.",
        "deactivated" => {
            "The member is deactivated and signed out. Their clients stay assigned to them."
        }
        "reactivated" => "The member is active again.",
        "removed" => "The member is removed.",
        "role_created" => "The role is created.",
        "role_saved" => {
            "The role is saved. Members holding it have the new permissions from their next click."
        }
        "role_deleted" => "The role is deleted.",
        "away_on" => "Away is on: no leads are given automatically until it is off.",
        "away_off" => "Welcome back: leads come again, including any that waited for someone free.",
        "hours_saved" => "The working hours are saved.",
        "zone_saved" => "Your time zone is saved: times are shown in it from now on.",
        "time_off_added" => "The time off is added.",
        "time_off_removed" => "The time off is removed.",
        "holiday_added" => "The holiday is added.",
        "holiday_removed" => "The holiday is removed.",
        "team_created" => "The team is created.",
        "team_saved" => "The team is saved.",
        "team_deleted" => "The team is deleted. Its members stay in the account.",
        "account_saved" => "The account settings are saved.",
        "code_sent" => "A confirmation code is on its way to your email. It works for 15 minutes.",
        "owner_transferred" => "Ownership is transferred. You are now an admin of the account.",
        "seats" => "The number of seats is changed.",
        "key_revoked" => "The API key is revoked: it no longer works.",
        other => return super::layout::notice(Some(other)),
    })
}
