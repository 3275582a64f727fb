//! The lead assignment dashboard (`/api/v1/assignment-rules`): the default
//! rule with a per-member toggle and leads per round (A1, A2), and the
//! advanced rules, top to bottom, in words, to add, edit, delete and move (A3).

use super::rule_form::{
    FbChoice, RrRow, RuleValues, action_renames, action_words, criterion_words, fb_choices,
    rr_entries, rr_rows, rr_rows_sent,
};
use super::{Pick, members_of, notice, one_of};
use crate::AppState;
use crate::ui::form::NoticeQuery;
use crate::ui::layout::{Layout, render, see_other};
use crate::ui::{FormErrors, SignedIn, UiError, UiForm};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use leadteam_app::intake::facebook_names;
use leadteam_app::members::MemberRow;
use leadteam_app::routing_admin as ra;
use leadteam_app::{AppError, me};
use leadteam_domain::RuleId;
use leadteam_domain::authz::MemberStatus;
use leadteam_domain::routing::{DefaultRule, Direction, Rule, RuleAction};
use serde::Deserialize;

const HOME: &str = "/leads/assignment";

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route(HOME, get(show))
        .route("/leads/assignment/default", post(set_default))
        .route("/leads/assignment/rules", post(create))
        .route("/leads/assignment/rules/new", get(new_form))
        .route("/leads/assignment/rules/{id}", get(edit_form).post(update))
        .route("/leads/assignment/rules/{id}/delete", post(delete))
        .route("/leads/assignment/rules/{id}/move", post(move_rule))
}

/// An advanced rule in words.
pub(super) struct RuleView {
    id: i64,
    name: String,
    criteria: Vec<String>,
    action: String,
    first: bool,
    last: bool,
}

#[derive(Template)]
#[template(path = "leads_assignment.html")]
struct AssignmentPage {
    page: Layout,
    tab: &'static str,
    default_mode: String,
    default_words: String,
    rows: Vec<RrRow>,
    default_errors: FormErrors,
    rules: Vec<RuleView>,
    alert: FormErrors,
    contact_minutes: String,
    contact_moves: String,
}

/// The default rule as the form shows it again after an error.
struct DefaultSent {
    mode: String,
    rows: Vec<RrRow>,
    errors: FormErrors,
    contact: (String, String),
}

async fn sources_named(s: &AppState, who: &SignedIn) -> Result<Vec<(i64, String)>, AppError> {
    Ok(ra::list_sources(&s.app, &who.caller)
        .await?
        .into_iter()
        .map(|r| (r.id.0, r.name))
        .collect())
}

async fn dashboard(
    s: &AppState,
    who: &SignedIn,
    status: StatusCode,
    notice_key: Option<&str>,
    sent: Option<DefaultSent>,
    alert: FormErrors,
) -> Result<Response, UiError> {
    let book = ra::list_rules(&s.app, &who.caller).await?;
    let (rules, default, default_contact) = (book.rules, book.default, book.default_contact);
    let v = me::me(&s.app, &who.caller).await?;
    let members = members_of(s, who).await?;
    let sources = sources_named(s, who).await?;
    let fb = facebook_names::known(&s.app, &who.caller).await?;
    let default_action = match &default {
        DefaultRule::Unassigned => RuleAction::Unassigned,
        DefaultRule::RoundRobin(e) => RuleAction::RoundRobin(e.clone()),
    };
    let n = rules.len();
    let views = rules
        .iter()
        .enumerate()
        .map(|(i, r)| RuleView {
            id: r.id.0,
            name: r.name.clone(),
            criteria: r
                .criteria
                .iter()
                .map(|c| criterion_words(c, &sources, &fb))
                .collect(),
            action: with_contact(action_words(&r.action, &members), r.contact),
            first: i == 0,
            last: i + 1 == n,
        })
        .collect();
    let (mode, rows, default_errors, contact) = match sent {
        Some(d) => (d.mode, d.rows, d.errors, d.contact),
        None => {
            let (mode, entries) = match &default {
                DefaultRule::Unassigned => ("unassigned", Vec::new()),
                DefaultRule::RoundRobin(e) => ("round_robin", e.clone()),
            };
            (
                mode.to_owned(),
                rr_rows(&entries, &members),
                FormErrors::default(),
                super::rule_form::contact_values(default_contact),
            )
        }
    };
    let page = AssignmentPage {
        page: Layout::signed_in("Lead assignment", HOME, who, &v).with_notice(notice(notice_key)),
        tab: "assignment",
        default_mode: mode,
        default_words: with_contact(action_words(&default_action, &members), default_contact),
        rows,
        default_errors,
        rules: views,
        alert,
        contact_minutes: contact.0,
        contact_moves: contact.1,
    };
    Ok(render(status, &page))
}

async fn show(
    State(s): State<AppState>,
    who: SignedIn,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, UiError> {
    let alert = FormErrors::default();
    dashboard(&s, &who, StatusCode::OK, q.notice.as_deref(), None, alert).await
}

async fn set_default(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    let pairs = &f.data;
    let mode = one_of(pairs, "mode").unwrap_or_default().to_owned();
    let rule = match mode.as_str() {
        "unassigned" => Ok(DefaultRule::Unassigned),
        "round_robin" => rr_entries(pairs, "").map(DefaultRule::RoundRobin),
        _ => Err(leadteam_domain::ValidationErrors::single(
            "mode",
            "choose what happens to new leads",
        )),
    };
    let contact = super::rule_form::contact_of(pairs);
    let result = match (rule, contact) {
        (Ok(rule), Ok(contact)) => ra::set_default_rule(&s.app, &who.caller, rule, contact)
            .await
            .map(|_| ()),
        (Err(mut e), Err(more)) => {
            e.0.extend(more.0);
            Err(AppError::Validation(e))
        }
        (Err(e), _) | (_, Err(e)) => Err(AppError::Validation(e)),
    };
    match result {
        Ok(()) => Ok(see_other(&format!("{HOME}?notice=default_rule"), f.htmx)),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[("default", "mode")])?;
            let members = members_of(&s, &who).await?;
            let sent = DefaultSent {
                mode,
                rows: rr_rows_sent(pairs, "", &members),
                errors,
                contact: (
                    one_of(pairs, "contact_minutes")
                        .unwrap_or_default()
                        .to_owned(),
                    one_of(pairs, "contact_moves")
                        .unwrap_or_default()
                        .to_owned(),
                ),
            };
            let alert = FormErrors::default();
            dashboard(&s, &who, status, None, Some(sent), alert).await
        }
    }
}

#[derive(Template)]
#[template(path = "leads_rule.html")]
struct RulePage {
    page: Layout,
    id: Option<i64>,
    v: RuleValues,
    rr: Vec<RrRow>,
    sources: Vec<(i64, String)>,
    /// The Facebook pages and lead forms the sources have seen, by name
    /// (empty: none known, the form asks for the id).
    fb_pages: Vec<FbChoice>,
    fb_forms: Vec<FbChoice>,
    members: Vec<Pick>,
    teams: Vec<(i64, String)>,
    errors: FormErrors,
}

/// An action in words with its first-contact limit (A10).
fn with_contact(words: String, c: Option<leadteam_domain::routing::ContactLimit>) -> String {
    match c {
        Some(c) => format!(
            "{words}; first contact within {} working minute{}, else it moves on (at most {} time{})",
            c.minutes,
            if c.minutes == 1 { "" } else { "s" },
            c.max_moves,
            if c.max_moves == 1 { "" } else { "s" }
        ),
        None => words,
    }
}

/// The account's teams, for a rule that gives leads to a team (A13).
async fn teams_named(s: &AppState, who: &SignedIn) -> Result<Vec<(i64, String)>, AppError> {
    match leadteam_app::teams::list(&s.app, &who.caller).await {
        Ok(t) => Ok(t.into_iter().map(|t| (t.id.0, t.name)).collect()),
        Err(AppError::Denied(_)) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

fn active_picks(members: &[MemberRow]) -> Vec<Pick> {
    members
        .iter()
        .filter(|m| m.status == MemberStatus::Active)
        .map(|m| Pick {
            id: m.id.0,
            name: m.name.clone(),
            me: false,
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn rule_page(
    s: &AppState,
    who: &SignedIn,
    status: StatusCode,
    id: Option<i64>,
    v: RuleValues,
    rr: Option<Vec<RrRow>>,
    entries: &[leadteam_domain::routing::RrEntry],
    errors: FormErrors,
) -> Result<Response, UiError> {
    let me_view = me::me(&s.app, &who.caller).await?;
    let members = members_of(s, who).await?;
    let sources = sources_named(s, who).await?;
    let fb = facebook_names::known(&s.app, &who.caller).await?;
    let title = if id.is_some() {
        "Edit the rule"
    } else {
        "Add a rule"
    };
    let page = RulePage {
        page: Layout::signed_in(title, HOME, who, &me_view),
        id,
        rr: rr.unwrap_or_else(|| rr_rows(entries, &members)),
        members: active_picks(&members),
        teams: teams_named(s, who).await?,
        sources,
        fb_pages: fb_choices(&fb, false, &v.fb_page),
        fb_forms: fb_choices(&fb, true, &v.fb_form),
        v,
        errors,
    };
    Ok(render(status, &page))
}

async fn new_form(State(s): State<AppState>, who: SignedIn) -> Result<Response, UiError> {
    // Only those who manage integrations see the form.
    ra::list_rules(&s.app, &who.caller).await?;
    let v = RuleValues {
        action: "member".into(),
        ..RuleValues::default()
    };
    rule_page(
        &s,
        &who,
        StatusCode::OK,
        None,
        v,
        None,
        &[],
        FormErrors::default(),
    )
    .await
}

async fn edit_form(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    let rules = ra::list_rules(&s.app, &who.caller).await?.rules;
    let rule = rules
        .iter()
        .find(|r| r.id == RuleId(id))
        .ok_or(AppError::NotFound("assignment rule"))?;
    let (v, entries) = RuleValues::of(rule);
    rule_page(
        &s,
        &who,
        StatusCode::OK,
        Some(id),
        v,
        None,
        &entries,
        FormErrors::default(),
    )
    .await
}

/// Saves the rule form (a new rule when `id` is `None`).
async fn save(
    s: &AppState,
    who: &SignedIn,
    id: Option<i64>,
    pairs: &[(String, String)],
    htmx: bool,
) -> Result<Response, UiError> {
    let v = RuleValues::sent(pairs);
    let (criteria, mut renames) = v.criteria();
    renames.extend(action_renames());
    let action = match (v.action(pairs), super::rule_form::contact_of(pairs)) {
        (Ok(a), Ok(c)) => Ok((a, c)),
        (Err(mut e), Err(more)) => {
            e.0.extend(more.0);
            Err(e)
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    let result = match action {
        Ok((action, contact)) => match id {
            None => ra::create_rule(&s.app, &who.caller, &v.name, criteria, action, contact)
                .await
                .map(|_| "rule_added"),
            Some(id) => ra::update_rule(
                &s.app,
                &who.caller,
                RuleId(id),
                Some(&v.name),
                Some(criteria),
                Some(action),
                Some(contact),
            )
            .await
            .map(|_| "rule_saved"),
        },
        Err(mut e) => {
            // Name the other faults too (the domain's own check of a draft).
            let draft = Rule {
                id: RuleId(0),
                name: v.name.clone(),
                criteria,
                action: RuleAction::Unassigned,
                contact: None,
            };
            if let Err(more) = draft.check() {
                e.0.extend(more.0);
            }
            Err(AppError::Validation(e))
        }
    };
    match result {
        Ok(key) => Ok(see_other(&format!("{HOME}?notice={key}"), htmx)),
        Err(e) => {
            let renames: Vec<(&str, &str)> = renames
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            let (status, errors) = FormErrors::from_app(e, &renames)?;
            let members = members_of(s, who).await?;
            let rr = rr_rows_sent(pairs, "rr_", &members);
            rule_page(s, who, status, id, v, Some(rr), &[], errors).await
        }
    }
}

async fn create(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    save(&s, &who, None, &f.data, f.htmx).await
}

async fn update(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<Vec<(String, String)>>,
) -> Result<Response, UiError> {
    save(&s, &who, Some(id), &f.data, f.htmx).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MoveForm {
    direction: String,
}

async fn move_rule(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<MoveForm>,
) -> Result<Response, UiError> {
    let dir = if f.data.direction == "up" {
        Direction::Up
    } else {
        Direction::Down
    };
    match ra::move_rule_by_one(&s.app, &who.caller, RuleId(id), dir).await {
        Ok(_) => Ok(see_other(
            &format!("{HOME}?notice=rule_moved#rule-{id}"),
            f.htmx,
        )),
        Err(e) => {
            let (status, alert) = FormErrors::from_app(e, &[])?;
            dashboard(&s, &who, status, None, None, alert).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct NoFields {}

async fn delete(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<NoFields>,
) -> Result<Response, UiError> {
    match ra::delete_rule(&s.app, &who.caller, RuleId(id)).await {
        Ok(()) => Ok(see_other(&format!("{HOME}?notice=rule_deleted"), f.htmx)),
        Err(e) => {
            let (status, alert) = FormErrors::from_app(e, &[])?;
            dashboard(&s, &who, status, None, None, alert).await
        }
    }
}
