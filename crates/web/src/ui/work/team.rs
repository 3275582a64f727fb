//! The team tab (`GET /api/v1/team-overview`): clients per member and
//! unassigned, with links to the lists behind the counts (which ignore the
//! team-view setting), outcomes (C9), and the team-view setting (C8).

use super::{all_of, may, notice};
use crate::AppState;
use crate::ui::form::NoticeQuery;
use crate::ui::layout::{Layout, render, see_other};
use crate::ui::{FormErrors, SignedIn, UiError, UiForm};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use leadteam_app::{clients, me};
use leadteam_domain::authz::Action;

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/clients/team", get(show))
        .route("/clients/team-view", post(set_view))
}

pub(super) struct MemberCount {
    name: String,
    me: bool,
    count: i64,
    url: String,
    /// What the count's link says to a screen reader.
    label: String,
    status: &'static str,
}

fn clients_word(n: i64) -> &'static str {
    if n == 1 { "client" } else { "clients" }
}

pub(super) struct Choice {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

#[derive(Template)]
#[template(path = "clients_team.html")]
struct TeamPage {
    page: Layout,
    team_tab: bool,
    overview: bool,
    members: Vec<MemberCount>,
    unassigned: Option<(i64, String, String)>,
    outcomes: Vec<(String, i64)>,
    choices: Vec<Choice>,
    errors: FormErrors,
}

fn choice_label(k: &str) -> &'static str {
    match k {
        "mine" => "Clients assigned to me",
        "others" => "Clients assigned to other members I may see",
        "unassigned" => "Unassigned clients",
        _ => "Other clients",
    }
}

async fn team_page(
    s: &AppState,
    who: &SignedIn,
    status: StatusCode,
    notice_key: Option<&str>,
    errors: FormErrors,
) -> Result<Response, UiError> {
    let actor = super::actor_of(who)?.clone();
    let v = me::me(&s.app, &who.caller).await?;
    let overview = may(&actor, &Action::ViewTeamOverview);
    let (members, unassigned, outcomes) = if overview {
        let o = clients::overview(&s.app, &who.caller).await?;
        let members = o
            .members
            .iter()
            .map(|(m, n)| MemberCount {
                name: m.name.clone(),
                me: m.id == actor.member,
                count: *n,
                url: format!("/clients?view=all&assignee={}&from=team", m.id.0),
                label: format!("{n} {} of {}", clients_word(*n), m.name),
                status: m.status.label(),
            })
            .collect();
        let unassigned = o.unassigned.map(|n| {
            (
                n,
                format!("{n} unassigned {}", clients_word(n)),
                "/clients?view=unassigned&from=team".to_owned(),
            )
        });
        (members, unassigned, o.outcomes)
    } else {
        (Vec::new(), None, Vec::new())
    };
    let (current, kinds) = clients::team_view(&s.app, &who.caller).await?;
    let choices = if kinds.len() > 1 {
        kinds
            .iter()
            .copied()
            .map(|k| Choice {
                value: k,
                label: choice_label(k),
                checked: current.iter().any(|c| c == k),
            })
            .collect()
    } else {
        Vec::new()
    };
    let page = TeamPage {
        page: Layout::signed_in("Team", "/clients", who, &v).with_notice(notice(notice_key)),
        team_tab: overview,
        overview,
        members,
        unassigned,
        outcomes,
        choices,
        errors,
    };
    Ok(render(status, &page))
}

async fn show(
    State(s): State<AppState>,
    who: SignedIn,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, UiError> {
    team_page(
        &s,
        &who,
        StatusCode::OK,
        q.notice.as_deref(),
        FormErrors::default(),
    )
    .await
}

async fn set_view(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let kinds: Vec<String> = all_of(&f.data, "kinds").map(str::to_owned).collect();
    match clients::set_team_view(&s.app, &who.caller, &kinds).await {
        Ok(_) => Ok(see_other("/clients/team?notice=team_view", f.htmx)),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[])?;
            team_page(&s, &who, status, None, errors).await
        }
    }
}
