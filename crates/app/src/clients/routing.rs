//! Why a client went where it went (A12): the stored record of the last
//! automatic decision about it (intake, routed import, reclaim, drain),
//! its running first-contact deadline (A10), whether it waits in the
//! backlog (A11), and "why not this member".

use super::*;
use leadteam_domain::routing::Decision;
use leadteam_store::deadlines::{self, Deadline};

/// What is known of how a client was routed.
#[derive(Debug, Clone)]
pub struct RoutingView {
    pub client: ClientId,
    /// The last automatic decision, if any decided the client (a client
    /// added by hand has none).
    pub decision: Option<Decision>,
    /// Its first-contact deadline, while one runs and it is not contacted.
    pub deadline: Option<Deadline>,
    /// It waits in the backlog for someone to free up.
    pub waiting: bool,
    /// The member asked about, and why it did not get the client.
    pub why_not: Option<(MemberId, String)>,
    /// The names of the members the decision names.
    pub names: Vec<(MemberId, String)>,
}

/// The routing record of a client the caller may see; with `member`, why
/// that member did not get it.
pub async fn routing(
    app: &App,
    caller: &Caller,
    id: ClientId,
    member: Option<MemberId>,
) -> Result<RoutingView, AppError> {
    let actor = caller.actor()?.clone();
    let mut c = app.db.read().await?;
    let (client, _) = load_visible(&mut c, &actor, id, Lock::None).await?;
    if let Some(m) = member
        && members::get(&mut c, actor.account, m, Lock::None)
            .await?
            .is_none()
    {
        return Err(AppError::field("member", "is not a member of this account"));
    }
    let decision: Option<Decision> = leadteam_store::backlog::decision_of(&mut c, id)
        .await?
        .and_then(|j| serde_json::from_str(&j).ok());
    let deadline = match deadlines::of_client(&mut c, id).await? {
        Some(d) if client.assignee == Some(d.member) && client.contacted_at.is_none() => Some(d),
        _ => None,
    };
    let why_not = member.map(|m| {
        let why = match (&decision, client.assignee) {
            (_, Some(a)) if a == m => "this member has the client".to_owned(),
            (Some(d), _) => d.why_not(m),
            (None, _) => "no automatic decision was made about this client: it was added or assigned by a person".to_owned(),
        };
        (m, why)
    });
    let mut ids: Vec<MemberId> = decision
        .iter()
        .flat_map(|d| d.considered.iter().map(|c| c.member))
        .chain(member)
        .chain(client.assignee)
        .collect();
    ids.sort();
    ids.dedup();
    // Removed members are not listed: their verdicts read "a removed member".
    let names = members::list(&mut c, actor.account, None)
        .await?
        .into_iter()
        .filter(|m| ids.contains(&m.id))
        .map(|m| (m.id, m.name))
        .collect();
    Ok(RoutingView {
        client: id,
        decision,
        deadline,
        waiting: client.waiting,
        why_not,
        names,
    })
}
