//! The home page: what to do next (D1: new leads, leads to claim,
//! first-contact clocks, the availability switch, a first-run checklist),
//! the team now for those who see the reports (D2), then who you are, the
//! current account and the account switcher (`GET /api/v1/me`,
//! `PUT /api/v1/me/account`).

mod member;
mod team;

use super::layout::{Layout, notice, render, see_other};
use super::{SignedIn, UiError, UiForm};
use crate::AppState;
use crate::ui::form::NoticeQuery;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use leadteam_app::{auth, me};
use leadteam_domain::AccountId;
use leadteam_domain::authz::Permission;
use serde::Deserialize;

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/", get(dashboard)).route("/account", post(switch))
}

/// What a permission lets a member do, in words.
pub(crate) fn permission_text(p: Permission) -> &'static str {
    match p {
        Permission::ClientsViewOthers => "See and reassign clients of other members",
        Permission::ClientsViewTeam => "See and reassign clients of your teams",
        Permission::ClientsViewUnassigned => "See and claim unassigned clients",
        Permission::ClientsDelete => "Delete your own clients",
        Permission::ContentEdit => "Create and edit content",
        Permission::GroupsEdit => "Create and edit client groups",
        Permission::MembersManage => "Invite, edit and deactivate members",
        Permission::IntegrationsManage => {
            "Manage lead sources, assignment rules, import and export"
        }
        Permission::BillingManage => "Manage the plan, seats and billing",
        Permission::AccountManage => "Manage account settings, the audit log and API keys",
        Permission::TeamView => "See the members, teams and team overview",
        Permission::Agent => "Take part in lead assignment",
    }
}

pub(super) struct PermissionView {
    text: &'static str,
}

pub(super) struct MembershipView {
    account_id: i64,
    account_name: String,
    current: bool,
}

pub(super) struct AccountView {
    name: String,
    role: String,
    requires_2fa: bool,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    page: Layout,
    name: String,
    email: String,
    two_factor: bool,
    must_enrol_2fa: bool,
    account: Option<AccountView>,
    memberships: Vec<MembershipView>,
    permissions: Vec<PermissionView>,
    duty: Option<super::admin::DutyCard>,
    availability: Option<AvailabilityCard>,
    work: Option<member::MemberPart>,
    team: Option<team::TeamPart>,
}

/// The member's own availability on its home (A8): the switch at hand.
pub(super) struct AvailabilityCard {
    member_id: i64,
    available: bool,
    reason: Option<String>,
    back_at: Option<String>,
    away: bool,
}

async fn dashboard(
    State(s): State<AppState>,
    who: SignedIn,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, UiError> {
    let v = me::me(&s.app, &who.caller).await?;
    let current = v.actor.as_ref().map(|a| a.account);
    let account = v.account.as_ref().map(|a| {
        let m = v.memberships.iter().find(|m| m.account == a.id);
        AccountView {
            name: a.name.clone(),
            role: m.map(|m| m.role_name.clone()).unwrap_or_default(),
            requires_2fa: a.require_2fa,
        }
    });
    let work = member::member_part(&s, &who).await?;
    let team = team::team_part(&s, &who).await?;
    let page = DashboardPage {
        page: Layout::signed_in("Home", "/", &who, &v).with_notice(notice(q.notice.as_deref())),
        name: v.user.name.clone(),
        email: v.user.email.clone(),
        two_factor: v.user.totp_secret.is_some(),
        must_enrol_2fa: v.must_enrol_2fa(),
        account,
        memberships: v
            .memberships
            .iter()
            .map(|m| MembershipView {
                account_id: m.account.0,
                account_name: m.account_name.clone(),
                current: Some(m.account) == current,
            })
            .collect(),
        permissions: v
            .permissions()
            .iter()
            .map(|p| PermissionView {
                text: permission_text(p),
            })
            .collect(),
        duty: super::admin::duty_card(&s, &who).await?,
        availability: match v.actor.as_ref() {
            Some(a) => {
                let now =
                    leadteam_app::availability::availability(&s.app, &who.caller, a.member).await?;
                Some(AvailabilityCard {
                    member_id: a.member.0,
                    available: now.now.is_ok(),
                    reason: now.now.as_ref().err().map(|u| u.describe()),
                    back_at: now
                        .next
                        .map(|t| crate::ui::dates::when(t, &who.caller.time_zone)),
                    away: now.away,
                })
            }
            None => None,
        },
        work,
        team,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Debug, Deserialize)]
struct SwitchForm {
    account_id: i64,
}

async fn switch(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<SwitchForm>,
) -> Result<Response, UiError> {
    auth::switch_account(&s.app, &who.caller, AccountId(f.data.account_id)).await?;
    Ok(see_other("/?notice=switched", f.htmx))
}
