//! One member's edit page (role, own permissions, agent, capacity, teams;
//! never the email, M8) and the removal page with the choice for its clients
//! (M7). The same use cases as `PATCH` and `DELETE /api/v1/members/{id}`.

use super::super::layout::{Layout, render};
use super::super::{FormErrors, SignedIn, UiError, UiForm};
use super::fields::Fields;
use super::members::back_to_list;
use super::view::{self, PermBox};
use crate::AppState;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use leadteam_app::members::MemberRow;
use leadteam_app::members::{self, ClientsOnRemoval, EditInput};
use leadteam_app::{AppError, roles, teams};
use leadteam_domain::MemberId;
use leadteam_domain::authz::{Action, MemberStatus, Permission, PermissionSet, Preset};

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/members/{id}/edit", get(edit_page).post(save))
        .route("/members/{id}/remove", get(remove_page).post(remove))
}

pub(super) struct RoleOption {
    id: i64,
    name: String,
    selected: bool,
}

pub(super) struct TeamBox {
    id: i64,
    name: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "admin/member_edit.html")]
struct EditPage {
    page: Layout,
    id: i64,
    name: String,
    email: String,
    status_label: &'static str,
    is_owner: bool,
    roles: Vec<RoleOption>,
    /// The member has its own permissions rather than its role's.
    own: bool,
    perms: Vec<PermBox>,
    agent: bool,
    capacity: String,
    teams: Vec<TeamBox>,
    may_manage_teams: bool,
    errors: FormErrors,
}

/// What the form shows: the member as stored, or as typed in a refused form.
struct Typed {
    role_id: i64,
    own: bool,
    perms: PermissionSet,
    agent: bool,
    capacity: String,
    teams: Vec<i64>,
}

impl Typed {
    fn of(m: &MemberRow) -> Typed {
        Typed {
            role_id: m.role_id.0,
            own: m.permissions_override.is_some(),
            perms: m.permissions.without(Permission::Agent),
            agent: m.agent,
            capacity: m.capacity.map(|c| c.to_string()).unwrap_or_default(),
            teams: m.teams.iter().map(|(t, _)| t.0).collect(),
        }
    }

    fn from_form(f: &Fields) -> Typed {
        Typed {
            role_id: f.get("role_id").parse().unwrap_or(0),
            own: f.get("mode") == "own",
            perms: PermissionSet::parse_names(&f.all("permissions")).unwrap_or_default(),
            agent: f.has("agent"),
            capacity: f.get("capacity").trim().to_owned(),
            teams: f.ids("teams"),
        }
    }
}

async fn edit_view(
    s: &AppState,
    who: &SignedIn,
    id: i64,
    typed: Option<Typed>,
    status: StatusCode,
    errors: FormErrors,
) -> Result<Response, UiError> {
    let m = members::get(&s.app, &who.caller, MemberId(id)).await?;
    let title = format!("Edit {}", m.name);
    let page = view::frame(s, who, &title, "/members", None).await?;
    let facts = m.facts();
    if !page.may(Action::EditMember {
        target: &facts,
        grants: None,
    }) {
        return Err(AppError::Denied(leadteam_domain::authz::Denied::Missing(
            Permission::MembersManage,
        ))
        .into());
    }
    let t = typed.unwrap_or_else(|| Typed::of(&m));
    // Giving `p` is allowed when the member holds it already, or `decide` says so.
    let grantable = |p: Permission| {
        m.permissions.contains(p)
            || page.may(Action::EditMember {
                target: &facts,
                grants: Some(PermissionSet::of(&[p])),
            })
    };
    let mut role_options = Vec::new();
    if !m.is_owner && page.may(Action::ListRoles) {
        for r in roles::list(&s.app, &who.caller).await? {
            let is_current = r.role.id == m.role_id;
            let adds = r.role.permissions.minus(m.permissions);
            let allowed = is_current
                || adds.is_empty()
                || page.may(Action::EditMember {
                    target: &facts,
                    grants: Some(adds),
                });
            if r.role.preset == Some(Preset::Owner) || !allowed {
                continue;
            }
            role_options.push(RoleOption {
                id: r.role.id.0,
                selected: r.role.id.0 == t.role_id,
                name: r.role.name,
            });
        }
    }
    let may_manage_teams = page.may(Action::ListTeams);
    let team_boxes = if may_manage_teams {
        teams::list(&s.app, &who.caller)
            .await?
            .into_iter()
            .map(|team| TeamBox {
                checked: t.teams.contains(&team.id.0),
                id: team.id.0,
                name: team.name,
            })
            .collect()
    } else {
        Vec::new()
    };
    let p = EditPage {
        id,
        name: m.name.clone(),
        email: m.email.clone(),
        status_label: m.status.label(),
        is_owner: m.is_owner,
        roles: role_options,
        own: t.own,
        perms: view::boxes(t.perms, false, grantable),
        agent: t.agent,
        capacity: t.capacity,
        teams: team_boxes,
        may_manage_teams,
        errors,
        page,
    };
    Ok(render(status, &p))
}

async fn edit_page(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    edit_view(&s, &who, id, None, StatusCode::OK, FormErrors::default()).await
}

async fn save(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    let before = members::get(&s.app, &who.caller, MemberId(id)).await?;
    let t = Typed::from_form(&f.data);
    let mut input = EditInput {
        agent: Some(t.agent),
        ..EditInput::default()
    };
    if !before.is_owner {
        // The role moves only when another one is chosen (the owner's never).
        if t.role_id != 0 && t.role_id != before.role_id.0 {
            input.role_id = Some(t.role_id);
        }
        let names: Vec<String> = t.perms.names().into_iter().map(str::to_owned).collect();
        input.permissions = Some(t.own.then_some(names));
    }
    let capacity = match t.capacity.as_str() {
        "" => Ok(None),
        c => c.parse::<i64>().map(Some),
    };
    match capacity {
        Ok(c) => input.capacity = Some(c),
        Err(_) => {
            let e = AppError::field("capacity", "must be a whole number, or empty for no limit");
            let (status, errors) = FormErrors::from_app(e, &[])?;
            return edit_view(&s, &who, id, Some(t), status, errors).await;
        }
    }
    if f.data.has("teams_shown") {
        input.teams = Some(t.teams.clone());
    }
    match members::edit(&s.app, &who.caller, MemberId(id), input).await {
        Ok(_) => Ok(back_to_list("", "updated", f.htmx)),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[])?;
            edit_view(&s, &who, id, Some(t), status, errors).await
        }
    }
}

pub(super) struct Candidate {
    id: i64,
    name: String,
    email: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "admin/member_remove.html")]
struct RemovePage {
    page: Layout,
    id: i64,
    name: String,
    email: String,
    deactivated: bool,
    candidates: Vec<Candidate>,
    /// "move" or "delete", as chosen.
    choice: String,
    /// What else the removal changes (X5), in sentences.
    changes: Vec<String>,
    errors: FormErrors,
}

/// The plan of a removal in sentences, for the page that confirms it.
fn plan_sentences(name: &str, p: &members::RemovalPlan) -> Vec<String> {
    let mut out = Vec::new();
    let list = |v: &[(leadteam_domain::RuleId, String)]| {
        v.iter()
            .map(|(_, n)| format!("\u{201c}{n}\u{201d}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match p.clients {
        0 => out.push(format!("{name} has no clients.")),
        1 => out.push(format!(
            "{name} has 1 client (moved or deleted as you choose below)."
        )),
        n => out.push(format!(
            "{name} has {n} clients (moved or deleted as you choose below)."
        )),
    }
    if !p.rules_left.is_empty() {
        out.push(format!(
            "{name} leaves the round robin of the rule(s) {}.",
            list(&p.rules_left)
        ));
    }
    if !p.rules_without_target.is_empty() {
        out.push(format!(
            "The rule(s) {} give leads to {name} alone: their leads will stay unassigned (and the routing admins are told) until you change them.",
            list(&p.rules_without_target)
        ));
    }
    if p.default_rule_left {
        out.push(if p.default_rule_without_target {
            format!("{name} leaves the default round robin, where nobody else is toggled in: new leads will stay unassigned until you add someone.")
        } else {
            format!("{name} leaves the default round robin.")
        });
    }
    if !p.teams.is_empty() {
        let teams: Vec<&str> = p.teams.iter().map(|(_, n)| n.as_str()).collect();
        out.push(format!("{name} leaves the team(s) {}.", teams.join(", ")));
    }
    if p.api_keys > 0 {
        out.push(format!("{} API key(s) of {name} stop working.", p.api_keys));
    }
    if p.guest_of > 0 {
        out.push(format!(
            "{name} loses guest access to {} client(s).",
            p.guest_of
        ));
    }
    out.push(format!(
        "History keeps {name}'s name (marked removed): notes, the timeline, the audit log and past invoices."
    ));
    out
}

async fn remove_view(
    s: &AppState,
    who: &SignedIn,
    id: i64,
    typed: Option<&Fields>,
    status: StatusCode,
    errors: FormErrors,
) -> Result<Response, UiError> {
    let m = members::get(&s.app, &who.caller, MemberId(id)).await?;
    let title = format!("Remove {}", m.name);
    let page = view::frame(s, who, &title, "/members", None).await?;
    let facts = m.facts();
    if !page.may(Action::RemoveMember { target: &facts }) {
        return Err(AppError::Denied(leadteam_domain::authz::Denied::Missing(
            Permission::MembersManage,
        ))
        .into());
    }
    let plan = members::remove(
        &s.app,
        &who.caller,
        MemberId(id),
        ClientsOnRemoval::Delete,
        true,
    )
    .await
    .ok();
    let changes = plan
        .map(|p| plan_sentences(&m.name, &p))
        .unwrap_or_default();
    let chosen: Option<i64> = typed.and_then(|f| f.get("move_to").parse().ok());
    let me = who.caller.actor.as_ref().map(|a| a.member);
    let candidates = members::list(&s.app, &who.caller, Some("active"))
        .await?
        .into_iter()
        .filter(|c| c.id != m.id)
        .map(|c| Candidate {
            selected: match chosen {
                Some(x) => x == c.id.0,
                None => Some(c.id) == me,
            },
            id: c.id.0,
            name: c.name,
            email: c.email,
        })
        .collect();
    let p = RemovePage {
        page,
        id,
        deactivated: m.status == MemberStatus::Deactivated,
        name: m.name,
        email: m.email,
        candidates,
        choice: typed
            .map(|f| f.get("clients").to_owned())
            .filter(|c| c == "delete")
            .unwrap_or_else(|| "move".to_owned()),
        changes,
        errors,
    };
    Ok(render(status, &p))
}

async fn remove_page(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    remove_view(&s, &who, id, None, StatusCode::OK, FormErrors::default()).await
}

async fn remove(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<Fields>,
) -> Result<Response, UiError> {
    let choice = match (f.data.get("clients"), f.data.get("move_to").parse::<i64>()) {
        ("move", Ok(to)) => Ok(ClientsOnRemoval::MoveTo(MemberId(to))),
        ("move", Err(_)) => Err(AppError::field(
            "move_to",
            "Choose the member who receives the clients",
        )),
        ("delete", _) => Ok(ClientsOnRemoval::Delete),
        _ => Err(AppError::field(
            "clients",
            "Choose what happens to the clients",
        )),
    };
    let result = match choice {
        Ok(c) => members::remove(&s.app, &who.caller, MemberId(id), c, false).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(back_to_list("", "removed", f.htmx)),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[])?;
            remove_view(&s, &who, id, Some(&f.data), status, errors).await
        }
    }
}
