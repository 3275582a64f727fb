//! A member's home (D1): what to do next. Its new leads (assigned to it,
//! not contacted yet), the unassigned leads it may claim, its first-contact
//! clocks (A10); for those who run the account, a first-run checklist that
//! ticks itself from the data (invite the team, connect a lead source, set
//! the round robin).

use crate::App;
use crate::auth::Caller;
use crate::error::AppError;
use leadteam_domain::authz::{Action, ClientFacts, decide};
use leadteam_domain::routing::{DefaultRule, RuleAction};
use leadteam_domain::{ClientId, Timestamp};
use leadteam_store::{deadlines, members, rules, sources, workspace};

pub use leadteam_store::workspace::HomeLead;

/// How many leads of each list the home shows.
pub const SHOWN: i64 = 5;

/// A first-contact clock (A10): the lead must be contacted by `due_at`.
#[derive(Debug, Clone)]
pub struct ContactClock {
    pub client: ClientId,
    pub name: String,
    pub due_at: Timestamp,
    /// The limit, in working minutes.
    pub minutes: i64,
}

/// The first-run checklist, each step done or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checklist {
    /// Someone besides the owner was invited.
    pub team_invited: bool,
    /// A lead source exists.
    pub source_connected: bool,
    /// New leads go round robin (the default rule, or an advanced rule to a
    /// round robin or a team).
    pub round_robin_set: bool,
}

impl Checklist {
    pub fn done(&self) -> bool {
        self.team_invited && self.source_connected && self.round_robin_set
    }
}

/// What a member's home shows.
#[derive(Debug, Clone)]
pub struct MemberHome {
    /// Its newest leads not contacted yet, and how many there are.
    pub new_leads: Vec<HomeLead>,
    pub new_total: i64,
    /// Whether it may claim unassigned leads (C2); when it may, the newest
    /// ones and how many there are.
    pub may_claim: bool,
    pub claimable: Vec<HomeLead>,
    pub claimable_total: i64,
    /// Its first-contact clocks, soonest first.
    pub clocks: Vec<ContactClock>,
    /// For those who run the account (`account.manage`): the first-run
    /// checklist.
    pub checklist: Option<Checklist>,
    pub now: Timestamp,
}

/// The caller's home.
pub async fn member_home(app: &App, caller: &Caller) -> Result<MemberHome, AppError> {
    let actor = caller.actor()?.clone();
    crate::auth::check(&actor, &Action::CreateClient)?; // any active member has its own leads
    let unassigned = ClientFacts {
        assignee: None,
        team: None,
        actor_is_guest: false,
    };
    let may_claim = decide(&actor, &Action::ClaimClient(&unassigned)).is_ok();
    let mut c = app.db.conn().await?;
    let (claimable, claimable_total) = if may_claim {
        (
            workspace::unassigned(&mut c, actor.account, SHOWN).await?,
            workspace::unassigned_count(&mut c, actor.account).await?,
        )
    } else {
        (Vec::new(), 0)
    };
    let (new_leads, new_total) = workspace::new_leads(&mut c, actor.member, SHOWN).await?;
    let clocks = deadlines::of_member(&mut c, actor.member)
        .await?
        .into_iter()
        .map(|(d, name)| ContactClock {
            client: d.client,
            name,
            due_at: d.due_at,
            minutes: d.minutes,
        })
        .collect();
    let checklist = if decide(&actor, &Action::ManageAccount).is_ok() {
        let (invited, active, deactivated) =
            members::count_by_status(&mut c, actor.account).await?;
        let source_connected = !sources::list(&mut c, actor.account).await?.is_empty();
        let default_rr = matches!(
            rules::default_rule(&mut c, actor.account).await?,
            DefaultRule::RoundRobin(ref e) if e.iter().any(|e| e.enabled)
        );
        let rule_rr = rules::list(&mut c, actor.account)
            .await?
            .iter()
            .any(|r| matches!(r.action, RuleAction::RoundRobin(_) | RuleAction::Team(_)));
        Some(Checklist {
            team_invited: invited + active + deactivated > 1,
            source_connected,
            round_robin_set: default_rr || rule_rr,
        })
    } else {
        None
    };
    Ok(MemberHome {
        new_leads,
        new_total,
        may_claim,
        claimable,
        claimable_total,
        clocks,
        checklist,
        now: app.now(),
    })
}
