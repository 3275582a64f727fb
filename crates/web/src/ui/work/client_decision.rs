//! The decision panel of a client page (A12): "Why Bea", everyone the
//! rule considered and why each passed over was, the first-contact clock,
//! and "why not me" for the viewer.

use crate::AppState;
use crate::ui::dates::when;
use crate::ui::{SignedIn, UiError};
use leadteam_app::clients;
use leadteam_domain::ClientId;

/// One member a decision considered, as the panel shows it.
pub(super) struct Verdict {
    pub(super) name: String,
    /// "Got the lead", "Could have taken it: not its turn", "Passed over".
    pub(super) verdict: &'static str,
    pub(super) detail: Option<String>,
    pub(super) chosen: bool,
}

/// "Why Bea" (A12): the rule, everyone considered and why each passed over
/// was, the first-contact clock; and "why not me" for the viewer.
pub(super) struct DecisionPanel {
    pub(super) title: String,
    pub(super) rule: String,
    pub(super) reason: String,
    pub(super) considered: Vec<Verdict>,
    pub(super) waiting: bool,
    pub(super) due: Option<String>,
    pub(super) moves: Option<(i64, i64)>,
    pub(super) why_not_me: Option<String>,
}

pub(super) async fn decision_panel(
    s: &AppState,
    who: &SignedIn,
    actor: &leadteam_domain::authz::Actor,
    id: i64,
) -> Result<Option<DecisionPanel>, UiError> {
    let v = clients::routing(&s.app, &who.caller, ClientId(id), Some(actor.member)).await?;
    let Some(d) = &v.decision else {
        return Ok(None);
    };
    let name = |m: leadteam_domain::MemberId| {
        v.names
            .iter()
            .find(|(id, _)| *id == m)
            .map_or_else(|| "a removed member".to_owned(), |(_, n)| n.clone())
    };
    let rule = match d.rule {
        leadteam_domain::routing::RuleRef::Default => "the default rule".to_owned(),
        leadteam_domain::routing::RuleRef::Advanced(r) => format!("rule {}", r.0),
        leadteam_domain::routing::RuleRef::Team(_) => {
            "the delivery to a team's round robin".to_owned()
        }
    };
    let title = match d.assignee() {
        Some(m) => format!("Why {}", name(m)),
        None => "Why nobody has it".to_owned(),
    };
    let considered = d
        .considered
        .iter()
        .map(|c| {
            use leadteam_domain::routing::Verdict as V;
            let (verdict, detail, chosen) = match &c.verdict {
                V::Chosen => ("Got the lead", None, true),
                V::NotItsTurn => ("Could have taken it: the turn was another's", None, false),
                V::PassedOver { detail, .. } => ("Passed over", Some(detail.clone()), false),
            };
            Verdict {
                name: name(c.member),
                verdict,
                detail,
                chosen,
            }
        })
        .collect();
    let mine = d.assignee() == Some(actor.member);
    Ok(Some(DecisionPanel {
        title,
        rule,
        reason: d.reason.clone(),
        considered,
        waiting: v.waiting,
        due: v
            .deadline
            .as_ref()
            .map(|x| when(x.due_at, &who.caller.time_zone)),
        moves: v.deadline.as_ref().map(|x| (x.moves, x.max_moves)),
        why_not_me: if mine {
            None
        } else {
            v.why_not.map(|(_, a)| a.replace("this member", "you"))
        },
    }))
}
