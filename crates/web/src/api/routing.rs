//! Lead sources and assignment rules (I1, I2, A1-A3).

use crate::AppState;
use crate::error::ApiError;
use crate::extract::ApiPath;
use crate::extract::{ApiJson, Authed};
use crate::registry::{Api, RouteSpec, Verb};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use leadteam_app::AppError;
use leadteam_app::routing_admin as ra;
use leadteam_domain::routing::{
    ContactLimit, Criterion, DefaultRule, Direction, LeadsPerRound, RrEntry, Rule, RuleAction,
};
use leadteam_domain::{FieldError, MemberId, RuleId, SourceId, TeamId, ValidationErrors};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(super) fn routes(api: Api) -> Api {
    api.add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/assignment-rules",
            "routing",
            "Assignment rules top to bottom; the default rule last",
        )
        .returns::<RulesOut>(),
        list_rules,
    )
    .add(
        RouteSpec::new(
            Verb::Put,
            "/api/v1/assignment-rules/default",
            "routing",
            "The default rule: unassigned, or round robin (A1, A2)",
        )
        .body::<ActionBody>()
        .returns::<RulesOut>(),
        set_default,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/assignment-rules",
            "routing",
            "Add an advanced rule at the bottom (above the default) (A3)",
        )
        .status(201)
        .body::<RuleBody>()
        .returns::<RuleOut>(),
        create_rule,
    )
    .add(
        RouteSpec::new(
            Verb::Patch,
            "/api/v1/assignment-rules/{id}",
            "routing",
            "Edit a rule",
        )
        .body::<RulePatch>()
        .returns::<RuleOut>(),
        update_rule,
    )
    .add(
        RouteSpec::new(
            Verb::Delete,
            "/api/v1/assignment-rules/{id}",
            "routing",
            "Delete a rule",
        )
        .status(204),
        delete_rule,
    )
    .add(
        RouteSpec::new(
            Verb::Post,
            "/api/v1/assignment-rules/{id}/move",
            "routing",
            "Move a rule one place up or down (A3)",
        )
        .body::<MoveBody>()
        .returns::<RulesOut>(),
        move_rule,
    )
}

/// A criterion of an advanced rule.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum CriterionBody {
    Source { source_id: i64 },
    FacebookPage { page_id: String },
    FacebookForm { form_id: String },
    AnyFacebook,
    FieldEquals { field: String, value: String },
    FieldContains { field: String, value: String },
}

/// One member of a round robin.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RrBody {
    pub member_id: i64,
    /// 1 to 5 (default 1).
    #[serde(default = "one")]
    pub leads_per_round: i64,
    /// Toggled in (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn one() -> i64 {
    1
}

fn yes() -> bool {
    true
}

/// What a rule does with a lead.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionBody {
    Unassigned,
    RoundRobin {
        members: Vec<RrBody>,
        /// First contact within N working minutes, else the lead moves on (A10).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        first_contact: Option<FirstContactBody>,
    },
    Member {
        member_id: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        first_contact: Option<FirstContactBody>,
    },
    /// Round robin among the team's active members when the lead arrives (A13).
    Team {
        team_id: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        first_contact: Option<FirstContactBody>,
    },
}

/// "First contact within `minutes`" (counted in the assignee's working
/// hours); a lead not contacted in time goes by the same rule to the next
/// available member, at most `max_moves` times (A10).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FirstContactBody {
    pub minutes: i64,
    #[serde(default = "one")]
    pub max_moves: i64,
}

fn contact_of(a: &ActionBody) -> Result<Option<ContactLimit>, ValidationErrors> {
    let fc = match a {
        ActionBody::Unassigned => None,
        ActionBody::RoundRobin { first_contact, .. }
        | ActionBody::Member { first_contact, .. }
        | ActionBody::Team { first_contact, .. } => *first_contact,
    };
    fc.map(|f| ContactLimit::parse("action.first_contact", f.minutes, f.max_moves))
        .transpose()
}

fn contact_out(c: Option<ContactLimit>) -> Option<FirstContactBody> {
    c.map(|c| FirstContactBody {
        minutes: i64::from(c.minutes),
        max_moves: i64::from(c.max_moves),
    })
}

fn criteria_of(list: Vec<CriterionBody>) -> Vec<Criterion> {
    list.into_iter()
        .map(|c| match c {
            CriterionBody::Source { source_id } => Criterion::Source(SourceId(source_id)),
            CriterionBody::FacebookPage { page_id } => Criterion::FacebookPage(page_id),
            CriterionBody::FacebookForm { form_id } => Criterion::FacebookForm(form_id),
            CriterionBody::AnyFacebook => Criterion::AnyFacebook,
            CriterionBody::FieldEquals { field, value } => Criterion::FieldEquals { field, value },
            CriterionBody::FieldContains { field, value } => {
                Criterion::FieldContains { field, value }
            }
        })
        .collect()
}

fn entries_of(members: &[RrBody]) -> Result<Vec<RrEntry>, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let mut out = Vec::new();
    for (i, m) in members.iter().enumerate() {
        match LeadsPerRound::parse(
            &format!("action.members[{i}].leads_per_round"),
            m.leads_per_round,
        ) {
            Ok(w) => out.push(RrEntry {
                member: MemberId(m.member_id),
                weight: w,
                enabled: m.enabled,
            }),
            Err(e) => errs.push(e),
        }
    }
    errs.into_result().map(|()| out)
}

fn action_of(a: ActionBody) -> Result<RuleAction, ValidationErrors> {
    Ok(match a {
        ActionBody::Unassigned => RuleAction::Unassigned,
        ActionBody::Member { member_id, .. } => RuleAction::Member(MemberId(member_id)),
        ActionBody::RoundRobin { members, .. } => RuleAction::RoundRobin(entries_of(&members)?),
        ActionBody::Team { team_id, .. } => RuleAction::Team(TeamId(team_id)),
    })
}

fn criterion_out(c: &Criterion) -> CriterionBody {
    match c {
        Criterion::Source(s) => CriterionBody::Source { source_id: s.0 },
        Criterion::FacebookPage(p) => CriterionBody::FacebookPage { page_id: p.clone() },
        Criterion::FacebookForm(f) => CriterionBody::FacebookForm { form_id: f.clone() },
        Criterion::AnyFacebook => CriterionBody::AnyFacebook,
        Criterion::FieldEquals { field, value } => CriterionBody::FieldEquals {
            field: field.clone(),
            value: value.clone(),
        },
        Criterion::FieldContains { field, value } => CriterionBody::FieldContains {
            field: field.clone(),
            value: value.clone(),
        },
    }
}

fn rr_out(entries: &[RrEntry]) -> Vec<RrBody> {
    entries
        .iter()
        .map(|e| RrBody {
            member_id: e.member.0,
            leads_per_round: i64::from(e.weight),
            enabled: e.enabled,
        })
        .collect()
}

fn action_out(a: &RuleAction, contact: Option<ContactLimit>) -> ActionBody {
    let first_contact = contact_out(contact);
    match a {
        RuleAction::Unassigned => ActionBody::Unassigned,
        RuleAction::Member(m) => ActionBody::Member {
            member_id: m.0,
            first_contact,
        },
        RuleAction::RoundRobin(e) => ActionBody::RoundRobin {
            members: rr_out(e),
            first_contact,
        },
        RuleAction::Team(t) => ActionBody::Team {
            team_id: t.0,
            first_contact,
        },
    }
}

fn describe_action(a: &RuleAction) -> String {
    match a {
        RuleAction::Unassigned => "leave unassigned".to_owned(),
        RuleAction::Member(m) => format!("assign to member {m}"),
        RuleAction::RoundRobin(e) => {
            let on = e.iter().filter(|x| x.enabled).count();
            format!("round robin among {on} member(s)")
        }
        RuleAction::Team(t) => format!("round robin among the members of team {t}"),
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RuleOut {
    pub id: i64,
    pub position: usize,
    pub name: String,
    pub criteria: Vec<CriterionBody>,
    pub action: ActionBody,
    /// The rule in words.
    pub description: String,
}

fn rule_out(r: &Rule, position: usize) -> RuleOut {
    let criteria: Vec<String> = r.criteria.iter().map(Criterion::describe).collect();
    RuleOut {
        id: r.id.0,
        position,
        name: r.name.clone(),
        criteria: r.criteria.iter().map(criterion_out).collect(),
        action: action_out(&r.action, r.contact),
        description: format!(
            "when {}: {}",
            criteria.join(" and "),
            describe_action(&r.action)
        ),
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DefaultOut {
    pub action: ActionBody,
    pub description: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RulesOut {
    pub rules: Vec<RuleOut>,
    pub default: DefaultOut,
}

fn rules_out(book: &ra::RuleBook) -> RulesOut {
    let (rules, default) = (&book.rules, &book.default);
    let action = match default {
        DefaultRule::Unassigned => RuleAction::Unassigned,
        DefaultRule::RoundRobin(e) => RuleAction::RoundRobin(e.clone()),
    };
    RulesOut {
        rules: rules
            .iter()
            .enumerate()
            .map(|(i, r)| rule_out(r, i + 1))
            .collect(),
        default: DefaultOut {
            description: format!("every other lead: {}", describe_action(&action)),
            action: action_out(&action, book.default_contact),
        },
    }
}

async fn list_rules(
    State(s): State<AppState>,
    Authed(c): Authed,
) -> Result<Json<RulesOut>, ApiError> {
    let book = ra::list_rules(&s.app, &c).await?;
    Ok(Json(rules_out(&book)))
}

async fn set_default(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiJson(b): ApiJson<ActionBody>,
) -> Result<Json<RulesOut>, ApiError> {
    let contact = contact_of(&b).map_err(AppError::from)?;
    let rule = match b {
        ActionBody::Unassigned => DefaultRule::Unassigned,
        ActionBody::RoundRobin { members, .. } => {
            DefaultRule::RoundRobin(entries_of(&members).map_err(AppError::from)?)
        }
        ActionBody::Member { .. } | ActionBody::Team { .. } => {
            return Err(AppError::Validation(ValidationErrors::from(FieldError::new(
                "type",
                "the default rule is unassigned or round_robin",
            )))
            .into());
        }
    };
    ra::set_default_rule(&s.app, &c, rule, contact).await?;
    list_rules(State(s), Authed(c)).await
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    pub name: String,
    /// All must match (at least one).
    pub criteria: Vec<CriterionBody>,
    pub action: ActionBody,
}

async fn create_rule(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiJson(b): ApiJson<RuleBody>,
) -> Result<(StatusCode, Json<RuleOut>), ApiError> {
    let contact = contact_of(&b.action).map_err(AppError::from)?;
    let action = action_of(b.action).map_err(AppError::from)?;
    let r = ra::create_rule(
        &s.app,
        &c,
        &b.name,
        criteria_of(b.criteria),
        action,
        contact,
    )
    .await?;
    let all = ra::list_rules(&s.app, &c).await?.rules;
    let pos = all
        .iter()
        .position(|x| x.id == r.id)
        .map(|p| p + 1)
        .unwrap_or(all.len());
    Ok((StatusCode::CREATED, Json(rule_out(&r, pos))))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RulePatch {
    pub name: Option<String>,
    pub criteria: Option<Vec<CriterionBody>>,
    pub action: Option<ActionBody>,
}

async fn update_rule(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<RulePatch>,
) -> Result<Json<RuleOut>, ApiError> {
    let contact = b
        .action
        .as_ref()
        .map(contact_of)
        .transpose()
        .map_err(AppError::from)?;
    let action = b
        .action
        .map(action_of)
        .transpose()
        .map_err(AppError::from)?;
    let r = ra::update_rule(
        &s.app,
        &c,
        RuleId(id),
        b.name.as_deref(),
        b.criteria.map(criteria_of),
        action,
        contact,
    )
    .await?;
    let all = ra::list_rules(&s.app, &c).await?.rules;
    let pos = all
        .iter()
        .position(|x| x.id == r.id)
        .map(|p| p + 1)
        .unwrap_or(0);
    Ok(Json(rule_out(&r, pos)))
}

async fn delete_rule(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    ra::delete_rule(&s.app, &c, RuleId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    /// up | down
    pub direction: String,
}

async fn move_rule(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<MoveBody>,
) -> Result<Json<RulesOut>, ApiError> {
    let dir = match b.direction.as_str() {
        "up" => Direction::Up,
        "down" => Direction::Down,
        _ => return Err(AppError::field("direction", "must be up or down").into()),
    };
    ra::move_rule_by_one(&s.app, &c, RuleId(id), dir).await?;
    let book = ra::list_rules(&s.app, &c).await?;
    Ok(Json(rules_out(&book)))
}
