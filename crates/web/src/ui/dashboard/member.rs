//! The member's part of the home (D1): new leads, leads to claim, the
//! first-contact clocks and the first-run checklist, from
//! `leadteam_app::home::member_home`.

use super::super::{SignedIn, UiError};
use crate::AppState;
use crate::ui::dates::when;
use crate::ui::nav::allowed;
use leadteam_app::home::{self, HomeLead, MemberHome};
use leadteam_app::reports::duration_words;
use leadteam_domain::Timestamp;
use leadteam_domain::authz::Action;

/// A lead in a list of the home.
pub(crate) struct LeadItem {
    pub id: i64,
    pub name: String,
    pub source: String,
    pub arrived: String,
}

/// A first-contact clock (A10).
pub(crate) struct ClockItem {
    pub id: i64,
    pub name: String,
    /// "due in 12 min", or "overdue by 2 min" (the lead is about to move on).
    pub left: String,
    pub due: String,
    pub overdue: bool,
    /// Less than a quarter of the limit is left.
    pub urgent: bool,
}

/// The first-run checklist.
pub(crate) struct Checklist {
    pub team_invited: bool,
    pub source_connected: bool,
    pub round_robin_set: bool,
    pub done: usize,
}

/// What the member's part of the home shows.
pub(crate) struct MemberPart {
    pub new_leads: Vec<LeadItem>,
    pub new_total: i64,
    pub may_claim: bool,
    pub claimable: Vec<LeadItem>,
    pub claimable_total: i64,
    /// More are waiting than the list shows.
    pub claimable_more: bool,
    pub clocks: Vec<ClockItem>,
    pub checklist: Option<Checklist>,
    /// What needs the member, in one sentence.
    pub summary: String,
}

fn count(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// "2 leads wait for your first contact, 1 with a clock running; 3 are
/// waiting to be claimed." or "Nothing needs you right now."
fn summary(h: &MemberHome) -> String {
    let mut parts = Vec::new();
    if h.new_total > 0 {
        let mut p = format!(
            "{} for your first contact",
            count(h.new_total, "lead waits", "leads wait")
        );
        if !h.clocks.is_empty() {
            p.push_str(&format!(
                " ({} running)",
                count(h.clocks.len() as i64, "clock", "clocks")
            ));
        }
        parts.push(p);
    }
    if h.may_claim && h.claimable_total > 0 {
        parts.push(format!(
            "{} to be claimed",
            count(h.claimable_total, "lead is waiting", "leads are waiting")
        ));
    }
    if parts.is_empty() {
        "Nothing needs you right now.".to_owned()
    } else {
        format!("{}.", parts.join("; "))
    }
}

/// Where a lead came from, in words.
pub(crate) fn source_words(source: &str, name: Option<&str>) -> String {
    match (name, source) {
        (Some(n), _) => n.to_owned(),
        (None, "manual") => "Added by hand".to_owned(),
        (None, "import") => "CSV import".to_owned(),
        (None, "form") => "Website form".to_owned(),
        (None, other) => {
            let mut c = other.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => String::new(),
            }
        }
    }
}

fn lead_item(l: HomeLead, zone: &str) -> LeadItem {
    LeadItem {
        id: l.id.0,
        source: source_words(&l.source, l.source_name.as_deref()),
        name: l.name,
        arrived: when(l.created_at, zone),
    }
}

fn clock_item(c: home::ContactClock, now: Timestamp, zone: &str) -> ClockItem {
    let left = c.due_at.0 - now.0;
    ClockItem {
        id: c.client.0,
        name: c.name,
        left: if left >= 0 {
            format!("due in {}", duration_words(left as f64))
        } else {
            format!("overdue by {}", duration_words(-left as f64))
        },
        due: when(c.due_at, zone),
        overdue: left < 0,
        urgent: left < c.minutes * 60_000 / 4,
    }
}

fn part(h: MemberHome, zone: &str) -> MemberPart {
    let now = h.now;
    MemberPart {
        summary: summary(&h),
        new_leads: h
            .new_leads
            .into_iter()
            .map(|l| lead_item(l, zone))
            .collect(),
        new_total: h.new_total,
        may_claim: h.may_claim,
        claimable_more: h.claimable_total > h.claimable.len() as i64,
        claimable: h
            .claimable
            .into_iter()
            .map(|l| lead_item(l, zone))
            .collect(),
        claimable_total: h.claimable_total,
        clocks: h
            .clocks
            .into_iter()
            .map(|c| clock_item(c, now, zone))
            .collect(),
        checklist: h.checklist.filter(|c| !c.done()).map(|c| Checklist {
            team_invited: c.team_invited,
            source_connected: c.source_connected,
            round_robin_set: c.round_robin_set,
            done: [c.team_invited, c.source_connected, c.round_robin_set]
                .iter()
                .filter(|d| **d)
                .count(),
        }),
    }
}

/// The member's part of the caller's home; `None` without an account.
pub(crate) async fn member_part(
    s: &AppState,
    who: &SignedIn,
) -> Result<Option<MemberPart>, UiError> {
    // Inactive, or 2FA to enrol first: the page says what to do instead.
    if !allowed(who.caller.actor.as_ref(), &Action::CreateClient) {
        return Ok(None);
    }
    Ok(Some(part(
        home::member_home(&s.app, &who.caller).await?,
        &who.caller.time_zone,
    )))
}
