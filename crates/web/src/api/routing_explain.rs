//! Explained decisions and the backlog (A11, A12): why a client went where
//! it went, and the leads waiting for someone to free up.

use super::rfc3339;
use super::teams::MemberRef;
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, Authed};
use crate::registry::{Api, RouteSpec, Verb};
use axum::Json;
use axum::extract::State;
use leadteam_app::clients::{self, RoutingView};
use leadteam_domain::routing::{Outcome, RuleRef, Verdict};
use leadteam_domain::{ClientId, MemberId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub(super) fn routes(api: Api) -> Api {
    api
    .add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/clients/{id}/routing",
            "routing",
            "Why the client went where it went: the rule, every member considered and why each passed over was, the position (A12); ?member=ID answers why not that member",
        )
        .query(&[("member", "a member id: why that member did not get the client")])
        .returns::<RoutingOut>(),
        client_routing,
    )
    .add(
        RouteSpec::new(
            Verb::Get,
            "/api/v1/routing/backlog",
            "routing",
            "Leads waiting because nobody could take them, oldest first, with the reason (A11)",
        )
        .query(&[
            ("after", "the last client id of the previous page"),
            ("limit", "1 to 200 (default 50)"),
        ])
        .returns::<BacklogOut>(),
        backlog,
    )
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutingParams {
    pub member: Option<i64>,
}

/// The rule that decided.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RuleRefOut {
    /// "default", "rule", or "team" (a delivery to a team's round robin).
    pub kind: String,
    /// The advanced rule's id, or the team's.
    pub id: Option<i64>,
}

/// One member a decision considered.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ConsideredOut {
    pub member: MemberRef,
    /// chosen, not_its_turn (could have, the turn was another's) or passed_over.
    pub verdict: String,
    /// Why it was passed over, as a code (at_capacity, away, outside_hours, ...).
    pub reason: Option<String>,
    /// ... and in words ("at capacity 5/5").
    pub detail: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WhyNotOut {
    pub member: MemberRef,
    pub answer: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RoutingOut {
    pub client_id: i64,
    /// An automatic decision was made (not a client added by hand).
    pub decided: bool,
    pub rule: Option<RuleRefOut>,
    /// "assigned" or "unassigned".
    pub outcome: Option<String>,
    pub assignee: Option<MemberRef>,
    /// The decision in words.
    pub reason: Option<String>,
    /// The round robin's count of leads before this one.
    pub position: Option<u64>,
    /// It stays unassigned because nobody the rule names could take it.
    pub nobody_could: bool,
    pub considered: Vec<ConsideredOut>,
    /// It waits in the backlog (A11).
    pub waiting: bool,
    /// The running first-contact deadline (A10).
    pub first_contact_due: Option<String>,
    /// Times it was moved for lack of contact, and the most allowed.
    pub moves: Option<i64>,
    pub max_moves: Option<i64>,
    pub why_not: Option<WhyNotOut>,
}

pub(crate) fn routing_out(v: &RoutingView) -> RoutingOut {
    let name = |m: MemberId| MemberRef {
        id: m.0,
        name: v
            .names
            .iter()
            .find(|(id, _)| *id == m)
            .map_or_else(|| "a removed member".to_owned(), |(_, n)| n.clone()),
    };
    let d = v.decision.as_ref();
    RoutingOut {
        client_id: v.client.0,
        decided: d.is_some(),
        rule: d.map(|d| match d.rule {
            RuleRef::Default => RuleRefOut {
                kind: "default".into(),
                id: None,
            },
            RuleRef::Advanced(id) => RuleRefOut {
                kind: "rule".into(),
                id: Some(id.0),
            },
            RuleRef::Team(t) => RuleRefOut {
                kind: "team".into(),
                id: Some(t.0),
            },
        }),
        outcome: d.map(|d| match d.outcome {
            Outcome::Assigned(_) => "assigned".into(),
            Outcome::Unassigned => "unassigned".into(),
        }),
        assignee: d.and_then(|d| d.assignee()).map(name),
        reason: d.map(|d| d.reason.clone()),
        position: d.and_then(|d| d.position),
        nobody_could: d.is_some_and(|d| d.nobody_could),
        considered: d
            .map(|d| {
                d.considered
                    .iter()
                    .map(|c| {
                        let (verdict, reason, detail) = match &c.verdict {
                            Verdict::Chosen => ("chosen", None, None),
                            Verdict::NotItsTurn => ("not_its_turn", None, None),
                            Verdict::PassedOver { reason, detail } => (
                                "passed_over",
                                serde_json::to_value(reason)
                                    .ok()
                                    .and_then(|v| v.as_str().map(str::to_owned)),
                                Some(detail.clone()),
                            ),
                        };
                        ConsideredOut {
                            member: name(c.member),
                            verdict: verdict.into(),
                            reason,
                            detail,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default(),
        waiting: v.waiting,
        first_contact_due: v.deadline.as_ref().map(|d| rfc3339(d.due_at)),
        moves: v.deadline.as_ref().map(|d| d.moves),
        max_moves: v.deadline.as_ref().map(|d| d.max_moves),
        why_not: v.why_not.as_ref().map(|(m, a)| WhyNotOut {
            member: name(*m),
            answer: a.clone(),
        }),
    }
}

async fn client_routing(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(p): ApiQuery<RoutingParams>,
) -> Result<Json<RoutingOut>, ApiError> {
    let v = clients::routing(&s.app, &c, ClientId(id), p.member.map(MemberId)).await?;
    Ok(Json(routing_out(&v)))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BacklogParams {
    pub after: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WaitingOut {
    pub client_id: i64,
    pub name: String,
    /// Why nobody could take it.
    pub reason: Option<String>,
    pub received_at: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct BacklogOut {
    pub leads: Vec<WaitingOut>,
    /// Leads waiting in all.
    pub total: i64,
    /// The `after` of the next page, when there is one.
    pub next_after: Option<i64>,
}

async fn backlog(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiQuery(p): ApiQuery<BacklogParams>,
) -> Result<Json<BacklogOut>, ApiError> {
    let limit = p.limit.unwrap_or(50);
    let (rows, total) =
        leadteam_app::backlog::list(&s.app, &c, p.after.map(ClientId), Some(limit)).await?;
    let next_after = if rows.len() as i64 == limit {
        rows.last().map(|w| w.client.0)
    } else {
        None
    };
    Ok(Json(BacklogOut {
        leads: rows
            .iter()
            .map(|w| WaitingOut {
                client_id: w.client.0,
                name: w.name.clone(),
                reason: w.reason.clone(),
                received_at: rfc3339(w.created_at),
            })
            .collect(),
        total,
        next_after,
    }))
}
