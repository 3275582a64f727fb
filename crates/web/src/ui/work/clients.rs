//! The clients list (`GET /api/v1/clients`): the view filter of the
//! team-view setting (C8), search, cursor pages, claim (C2) and assign (C3)
//! per row, bulk reassignment (C5), and the form to add a client (P6).

use super::card::CardActions;
use super::{Pick, assign_targets, facts_of, may, members_of, non_empty, notice, number, when};
use crate::AppState;
use crate::ui::layout::{Layout, render, see_other};
use crate::ui::session::safe_next;
use crate::ui::{FormErrors, SignedIn, UiError, UiForm};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use leadteam_app::clients::{self, BulkSelection, ClientInput, ListQuery};
use leadteam_app::{AppError, me};
use leadteam_domain::authz::Action;
use leadteam_domain::{ClientId, MemberId};
use serde::{Deserialize, Serialize};

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/clients", get(list).post(add))
        .route("/clients/bulk-assign", post(bulk))
        .route("/clients/{id}/claim", post(claim))
        .route("/clients/{id}/assign", post(assign))
}

/// What a list shows: its address query. `from=team` marks the lists behind
/// the counts of the team tab, which ignore the team-view setting and whose
/// bulk reassignment may take any visible client (C5, C8).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct ListParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing)]
    pub notice: Option<String>,
}

impl ListParams {
    fn clean(&self) -> ListParams {
        let keep = |v: &Option<String>| non_empty(v).map(str::to_owned);
        ListParams {
            view: keep(&self.view),
            q: keep(&self.q),
            assignee: number(&self.assignee).map(|n| n.to_string()),
            team: number(&self.team).map(|n| n.to_string()),
            after: number(&self.after).map(|n| n.to_string()),
            from: keep(&self.from).filter(|f| f == "team"),
            notice: None,
        }
    }

    fn team(&self) -> bool {
        self.from.as_deref() == Some("team")
    }

    /// `/clients?...` for these filters, at page `after`.
    fn url(&self, after: Option<i64>) -> String {
        let mut p = self.clean();
        p.after = after.map(|a| a.to_string());
        match serde_urlencoded::to_string(&p) {
            Ok(q) if !q.is_empty() => format!("/clients?{q}"),
            _ => "/clients".to_owned(),
        }
    }
}

/// A choice of the view filter.
pub(super) struct ViewChoice {
    value: &'static str,
    label: String,
    selected: bool,
}

fn kind_label(k: &str) -> &'static str {
    match k {
        "mine" => "assigned to me",
        "others" => "assigned to others",
        "unassigned" => "unassigned",
        _ => "all I may see",
    }
}

/// A choice of the team filter.
pub(super) struct TeamChoice {
    id: i64,
    name: String,
    selected: bool,
}

/// The teams a list may be filtered to: the account's, for a caller who may
/// list them (none otherwise: the filter is not offered).
async fn teams_of(s: &AppState, who: &SignedIn) -> Result<Vec<TeamChoice>, AppError> {
    match leadteam_app::teams::list(&s.app, &who.caller).await {
        Ok(t) => Ok(t
            .into_iter()
            .map(|t| TeamChoice {
                id: t.id.0,
                name: t.name,
                selected: false,
            })
            .collect()),
        Err(AppError::Denied(_)) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// One client of the list.
pub(super) struct Row {
    id: i64,
    name: String,
    contact: String,
    status: String,
    outcome: Option<String>,
    assignee: Option<String>,
    mine: bool,
    source: String,
    added: String,
    can_claim: bool,
    targets: Vec<Pick>,
    /// What the card offers on a phone: one primary action, the rest under "More".
    card: CardActions,
}

impl Row {
    /// The card has actions besides its primary one (under "More").
    pub fn has_more(&self) -> bool {
        let k = &self.card;
        !k.primary_is("open")
            || k.tel.is_some()
            || k.whatsapp.is_some()
            || k.mailto.is_some()
            || !self.targets.is_empty()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct AddForm {
    name: String,
    email: String,
    phone: String,
}

/// What happened to a bulk reassignment, shown above the list.
pub(super) struct BulkSummary {
    assigned: usize,
    unchanged: Vec<String>,
    refused: Vec<String>,
}

#[derive(Template)]
#[template(path = "clients.html")]
struct ClientsPage {
    page: Layout,
    params: ListParams,
    back: String,
    heading: String,
    views: Vec<ViewChoice>,
    teams: Vec<TeamChoice>,
    rows: Vec<Row>,
    next_url: Option<String>,
    first_url: Option<String>,
    bulk_targets: Vec<Pick>,
    bulk_holders: Vec<(i64, String)>,
    team_tab: bool,
    add: AddForm,
    add_errors: FormErrors,
    alert: FormErrors,
    bulk_done: Option<BulkSummary>,
}

/// Extra content of a list page answering a form.
#[derive(Default)]
pub(super) struct Answer {
    pub status: Option<StatusCode>,
    pub add: Option<(AddForm, FormErrors)>,
    pub alert: FormErrors,
    pub bulk: Option<BulkSummary>,
}

pub(super) async fn page(
    s: &AppState,
    who: &SignedIn,
    params: &ListParams,
    answer: Answer,
) -> Result<Response, UiError> {
    let notice_key = params.notice.clone();
    let params = params.clean();
    let actor = super::actor_of(who)?.clone();
    let v = me::me(&s.app, &who.caller).await?;
    let (current, choices) = clients::team_view(&s.app, &who.caller).await?;
    let query = ListQuery {
        view: params.view.clone(),
        assignee: number(&params.assignee),
        team: number(&params.team),
        q: params.q.clone(),
        limit: None,
        after: number(&params.after),
    };
    let (rows, next) = match clients::list(&s.app, &who.caller, query).await {
        Ok(r) => r,
        // A filter typed into the address that the use case refuses: the
        // list as the setting says, with the reason.
        Err(AppError::Validation(e)) => {
            let mut p = params.clone();
            for f in &e.0 {
                match f.field.as_str() {
                    "view" => p.view = None,
                    "team" => p.team = None,
                    _ => {}
                }
            }
            if p.view == params.view && p.team == params.team {
                return Err(AppError::Validation(e).into());
            }
            return Box::pin(page(s, who, &p, answer)).await;
        }
        Err(e) => return Err(e.into()),
    };
    let members = members_of(s, who).await?;
    let mut teams = teams_of(s, who).await?;
    let all_facts = facts_of(s, &actor, &rows).await?;
    let mut bulk_targets: Vec<Pick> = Vec::new();
    // Whose clients on this list may be moved: "every client of" them.
    let mut bulk_holders: Vec<(i64, String)> = Vec::new();
    let rows: Vec<Row> = rows
        .iter()
        .zip(&all_facts)
        .map(|(c, f)| {
            let can_claim = c.assignee.is_none() && may(&actor, &Action::ClaimClient(f));
            // Taking it oneself is the claim button.
            let targets: Vec<Pick> = assign_targets(&actor, f, &members)
                .into_iter()
                .filter(|t| !(can_claim && t.me))
                .collect();
            for t in &targets {
                if !bulk_targets.iter().any(|b| b.id == t.id) {
                    bulk_targets.push(t.clone());
                }
            }
            if let (false, Some(a), Some(n)) = (targets.is_empty(), c.assignee, &c.assignee_name)
                && !bulk_holders.iter().any(|(id, _)| *id == a.0)
            {
                bulk_holders.push((a.0, n.clone()));
            }
            let contact = [c.email.as_deref(), c.phone.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · ");
            // Only the assignee contacts a client (C1).
            let card = CardActions::new(
                can_claim,
                may(&actor, &Action::UpdateClient(f)),
                c.phone.as_deref(),
                c.email.as_deref(),
            );
            Row {
                card,
                id: c.id.0,
                name: c.name.clone(),
                contact,
                status: c.status.clone(),
                outcome: c.outcome.clone(),
                assignee: c.assignee_name.clone(),
                mine: c.assignee == Some(actor.member),
                source: source_label(&c.source).to_owned(),
                added: when(c.created_at, &who.caller.time_zone),
                can_claim,
                targets,
            }
        })
        .collect();
    bulk_targets.sort_by(|a, b| b.me.cmp(&a.me).then(a.name.cmp(&b.name)));
    let assignee = number(&params.assignee);
    let heading = match (assignee, params.view.as_deref()) {
        (Some(id), _) => match members.iter().find(|m| m.id == MemberId(id)) {
            Some(m) if m.id == actor.member => "Your clients".to_owned(),
            Some(m) => format!("Clients of {}", m.name),
            None => "Clients of one member".to_owned(),
        },
        (None, Some("unassigned")) => "Unassigned clients".to_owned(),
        _ => "Clients".to_owned(),
    };
    // Filtered to a team: what the caller sees of it (P2).
    let team = number(&params.team);
    let heading = match team.and_then(|t| teams.iter().find(|c| c.id == t)) {
        Some(t) => format!("{heading} of team {}", t.name),
        None => heading,
    };
    for t in &mut teams {
        t.selected = team == Some(t.id);
    }
    let setting = current
        .iter()
        .map(|k| kind_label(k))
        .collect::<Vec<_>>()
        .join(", ");
    let mut views = Vec::new();
    if choices.len() > 1 {
        let selected = params.view.as_deref().unwrap_or("");
        views.push(ViewChoice {
            value: "",
            label: format!("My usual list: {setting}"),
            selected: selected.is_empty(),
        });
        for k in choices.iter().copied().chain(["all"]) {
            views.push(ViewChoice {
                value: k,
                label: format!("Only {}", kind_label(k)).replace("Only all", "All"),
                selected: selected == k,
            });
        }
    }
    let (status, add, add_errors) = match answer.add {
        Some((f, e)) => (answer.status.unwrap_or(StatusCode::OK), f, e),
        None => (
            answer.status.unwrap_or(StatusCode::OK),
            AddForm::default(),
            FormErrors::default(),
        ),
    };
    let first_url = params.after.is_some().then(|| params.url(None));
    let page = ClientsPage {
        page: Layout::signed_in("Clients", "/clients", who, &v)
            .with_notice(notice(notice_key.as_deref())),
        back: params.url(number(&params.after)),
        next_url: next.map(|n| params.url(Some(n))),
        first_url,
        heading,
        views,
        teams,
        rows,
        bulk_targets,
        bulk_holders,
        team_tab: may(&actor, &Action::ViewTeamOverview),
        add,
        add_errors,
        alert: answer.alert,
        bulk_done: answer.bulk,
        params,
    };
    Ok(render(status, &page))
}

/// How a client came in, in words.
pub(super) fn source_label(source: &str) -> &'static str {
    match source {
        "manual" => "Added by hand",
        "website" => "Website form",
        "webhook" => "Webhook",
        "facebook" => "Facebook Lead Ads",
        "google" => "Google Ads",
        "import" => "Import",
        _ => "Other",
    }
}

async fn list(
    State(s): State<AppState>,
    who: SignedIn,
    Query(params): Query<ListParams>,
) -> Result<Response, UiError> {
    page(&s, &who, &params, Answer::default()).await
}

async fn add(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<AddForm>,
) -> Result<Response, UiError> {
    let form = f.data;
    let input = ClientInput {
        name: Some(form.name.clone()),
        email: Some(Some(form.email.clone())),
        phone: Some(Some(form.phone.clone())),
        ..ClientInput::default()
    };
    match clients::create(&s.app, &who.caller, input).await {
        Ok(v) => Ok(see_other(
            &format!("/clients/{}?notice=client_added", v.client.id.0),
            f.htmx,
        )),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[])?;
            let answer = Answer {
                status: Some(status),
                add: Some((form, errors)),
                ..Answer::default()
            };
            page(&s, &who, &ListParams::default(), answer).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ActionForm {
    member_id: Option<String>,
    /// The page the form was on (a local path).
    back: Option<String>,
}

/// `back` with `notice=<key>` added.
fn back_with(back: &str, key: &str) -> String {
    let sep = if back.contains('?') { '&' } else { '?' };
    format!("{back}{sep}notice={key}")
}

/// After a refused row action: the page the form was on, with the reason.
async fn refused(
    s: &AppState,
    who: &SignedIn,
    back: &str,
    id: i64,
    e: AppError,
) -> Result<Response, UiError> {
    let (status, alert) = FormErrors::from_app(e, &[("member_id", "assign_to")])?;
    if back.starts_with(&format!("/clients/{id}")) {
        return super::client::page_with_alert(s, who, id, status, alert).await;
    }
    let params = back
        .split_once('?')
        .and_then(|(_, q)| serde_urlencoded::from_str::<ListParams>(q).ok())
        .unwrap_or_default();
    let answer = Answer {
        status: Some(status),
        alert,
        ..Answer::default()
    };
    page(s, who, &params, answer).await
}

async fn claim(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<ActionForm>,
) -> Result<Response, UiError> {
    let back = safe_next(f.data.back.as_deref().unwrap_or("/clients"));
    match clients::claim(&s.app, &who.caller, ClientId(id)).await {
        Ok(_) => Ok(see_other(&back_with(&back, "claimed"), f.htmx)),
        // From the home page (D1): back home, saying so.
        Err(AppError::Conflict { .. }) if back == "/" => {
            Ok(see_other("/?notice=claim_lost", f.htmx))
        }
        Err(e) => refused(&s, &who, &back, id, e).await,
    }
}

async fn assign(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<ActionForm>,
) -> Result<Response, UiError> {
    let back = safe_next(f.data.back.as_deref().unwrap_or("/clients"));
    let Some(to) = number(&f.data.member_id) else {
        let e = AppError::field("member_id", "choose a member");
        return refused(&s, &who, &back, id, e).await;
    };
    match clients::assign(&s.app, &who.caller, ClientId(id), MemberId(to)).await {
        Ok(_) => Ok(see_other(&back_with(&back, "assigned"), f.htmx)),
        Err(e) => refused(&s, &who, &back, id, e).await,
    }
}

async fn bulk(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let pairs = f.data;
    let back = safe_next(super::one_of(&pairs, "back").unwrap_or("/clients"));
    let params = back
        .split_once('?')
        .and_then(|(_, q)| serde_urlencoded::from_str::<ListParams>(q).ok())
        .unwrap_or_default();
    let ids: Vec<ClientId> = super::all_of(&pairs, "client_ids")
        .filter_map(|v| v.parse().ok().map(ClientId))
        .collect();
    let to = super::one_of(&pairs, "to").and_then(|v| v.trim().parse().ok());
    let alert = |e: AppError| FormErrors::from_app(e, &[("to", "bulk_to")]);
    let Some(to) = to else {
        let (status, alert) = alert(AppError::field("to", "choose who gets the clients"))?;
        let answer = Answer {
            status: Some(status),
            alert,
            ..Answer::default()
        };
        return page(&s, &who, &params, answer).await;
    };
    // On the team's lists: every client of one member at once (C5).
    let all_of = super::one_of(&pairs, "all_of").and_then(|v| v.trim().parse::<i64>().ok());
    if ids.is_empty() && all_of.is_none() {
        let (status, alert) = alert(AppError::field(
            "client_ids",
            "Tick the clients to reassign first.",
        ))?;
        let answer = Answer {
            status: Some(status),
            alert,
            ..Answer::default()
        };
        return page(&s, &who, &params, answer).await;
    }
    let team_view = params.team();
    match clients::bulk_assign(
        &s.app,
        &who.caller,
        match all_of {
            Some(m) => BulkSelection::AllOf(MemberId(m)),
            None => BulkSelection::Ids(ids),
        },
        MemberId(to),
        team_view,
    )
    .await
    {
        Ok(results) => {
            let name_of = |id: ClientId| {
                super::one_of(&pairs, &format!("name_{}", id.0))
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("Client {}", id.0))
            };
            let mut sum = BulkSummary {
                assigned: 0,
                unchanged: Vec::new(),
                refused: Vec::new(),
            };
            for r in results {
                match r.outcome {
                    "assigned" => sum.assigned += 1,
                    "unchanged" => sum.unchanged.push(format!(
                        "{}: {}",
                        name_of(r.client),
                        r.reason.unwrap_or_default()
                    )),
                    "not_found" => sum.refused.push(format!(
                        "{}: it is no longer visible to you",
                        name_of(r.client)
                    )),
                    _ => sum.refused.push(format!(
                        "{}: {}",
                        name_of(r.client),
                        r.reason.unwrap_or_default()
                    )),
                }
            }
            let answer = Answer {
                bulk: Some(sum),
                ..Answer::default()
            };
            page(&s, &who, &params, answer).await
        }
        Err(e) => {
            let (status, alert) = alert(e)?;
            let answer = Answer {
                status: Some(status),
                alert,
                ..Answer::default()
            };
            page(&s, &who, &params, answer).await
        }
    }
}
