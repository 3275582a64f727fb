//! The pages of the daily work: clients (list, client page, team tab), lead
//! assignment rules, lead sources, alerts (the bell and its page), client
//! groups and content. Each handler calls the same `leadteam_app` use case as
//! the API and shows an action only when `decide` allows it.

mod alerts;
mod backlog;
mod card;
mod client;
mod client_decision;
mod clients;
mod content;
mod groups;
mod import;
mod rule_form;
mod rules;
mod source_page;
mod sources;
mod team;
mod webhooks;

pub(crate) use import::IMPORT_PATH;

use super::nav::allowed;
use super::{SignedIn, UiError};
use crate::AppState;
use crate::ui::dates::when;
use axum::Router;
use leadteam_app::AppError;
use leadteam_app::clients::ClientRow;
use leadteam_app::me::MeView;
use leadteam_app::members::MemberRow;
use leadteam_domain::authz::{Action, Actor, ClientFacts};

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    let r = clients::routes(r);
    let r = client::routes(r);
    let r = team::routes(r);
    let r = rules::routes(r);
    let r = sources::routes(r);
    let r = source_page::routes(r);
    let r = webhooks::routes(r);
    let r = alerts::routes(r);
    let r = backlog::routes(r);
    let r = groups::routes(r);
    let r = import::routes(r);
    content::routes(r)
}

/// The unread count of the bell, for a member who gets alerts (the same
/// check as `GET /api/v1/notifications`).
pub(crate) fn bell(actor: Option<&Actor>, me: &MeView) -> Option<i64> {
    let actor = actor?;
    allowed(Some(actor), &Action::CreateClient).then_some(me.unread_notifications)
}

/// Whether `actor` may do `action` (the one `decide`).
fn may(actor: &Actor, action: &Action<'_>) -> bool {
    allowed(Some(actor), action)
}

/// The caller's actor, or the page that says there is no account.
fn actor_of(who: &SignedIn) -> Result<&Actor, UiError> {
    Ok(who.caller.actor()?)
}

/// The decision facts of a client.
async fn facts(s: &AppState, actor: &Actor, c: &ClientRow) -> Result<ClientFacts, AppError> {
    let mut all = facts_of(s, actor, std::slice::from_ref(c)).await?;
    all.pop()
        .ok_or_else(|| AppError::Internal("no facts for a client".into()))
}

/// The facts of several clients (one lookup for all of them).
async fn facts_of(
    s: &AppState,
    actor: &Actor,
    rows: &[ClientRow],
) -> Result<Vec<ClientFacts>, AppError> {
    leadteam_app::clients::facts_of(&s.app, actor, rows).await
}

/// The members of the account as the caller may list them (none when it may
/// not: pickers then offer only what needs no list, such as a claim).
async fn members_of(s: &AppState, who: &SignedIn) -> Result<Vec<MemberRow>, AppError> {
    match leadteam_app::members::list(&s.app, &who.caller, Some("all")).await {
        Ok(m) => Ok(m),
        Err(AppError::Denied(_)) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// A member offered in a picker.
#[derive(Debug, Clone)]
pub(super) struct Pick {
    pub id: i64,
    pub name: String,
    pub me: bool,
}

/// The members `actor` may assign the client with `f` to (decided one by one).
fn assign_targets(actor: &Actor, f: &ClientFacts, members: &[MemberRow]) -> Vec<Pick> {
    members
        .iter()
        .filter(|m| Some(m.id) != f.assignee)
        .filter(|m| {
            may(
                actor,
                &Action::AssignClient {
                    client: f,
                    to: &m.facts(),
                },
            )
        })
        .map(|m| Pick {
            id: m.id.0,
            name: m.name.clone(),
            me: m.id == actor.member,
        })
        .collect()
}

/// The one-line confirmations of these pages (`?notice=<key>`): fixed texts
/// only, nothing from the address is echoed.
fn notice(key: Option<&str>) -> Option<&'static str> {
    Some(match key? {
        "client_added" => "The client is added and assigned to you.",
        "claimed" => "The client is yours now.",
        "assigned" => "The client is assigned.",
        "note" => "Your note is on the timeline.",
        "edited" => "The contact details are saved.",
        "delivered" => "The client is delivered.",
        "guest" => "The guest is invited: they get an email and see only this client.",
        "guest_removed" => "The guest is removed: their access to this client has ended.",
        "deleted" => "The client is deleted.",
        "team_view" => "Your lists now show the kinds of clients you chose.",
        "default_rule" => "The default rule is saved.",
        "rule_added" => "The rule is added above the default rule.",
        "rule_saved" => "The rule is saved.",
        "rule_deleted" => "The rule is deleted.",
        "rule_moved" => "The rule is moved.",
        "source_on" => "The lead source is switched on.",
        "source_off" => "The lead source is switched off: it refuses new leads.",
        "source_deleted" => "The lead source is deleted.",
        "form_saved" => "The form is saved: its page and snippet show the new fields.",
        "facebook_saved" => "Facebook's settings are saved.",
        "secret_url_removed" => "The secret URL is removed: it refuses leads now.",
        "webhook_added" => "The webhook is added.",
        "webhook_on" => "The webhook is switched on.",
        "webhook_off" => "The webhook is switched off.",
        "webhook_deleted" => "The webhook is deleted.",
        "read" => "The alert is marked read.",
        "all_read" => "Every alert is marked read.",
        "group_added" => "The group is created.",
        "group_saved" => "The group is saved.",
        "group_deleted" => "The group is deleted.",
        "content_added" => "The content is created.",
        "content_saved" => "The content is saved.",
        "content_deleted" => "The content is deleted.",
        "file_next" => "The file content is created. Now choose the file to upload.",
        "file_uploaded" => "The file is uploaded.",
        _ => return None,
    })
}

/// Form values that may be empty: `None` for "", trimmed otherwise.
fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A number typed or chosen in a form, `None` when empty or not a number.
fn number(s: &Option<String>) -> Option<i64> {
    non_empty(s).and_then(|v| v.parse().ok())
}

/// All values of `key` in a form read as pairs (repeated checkboxes).
fn all_of<'a>(pairs: &'a [(String, String)], key: &str) -> impl Iterator<Item = &'a str> {
    pairs
        .iter()
        .filter(move |(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The first value of `key` in a form read as pairs.
fn one_of<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    all_of(pairs, key).next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_dates() {
        assert_eq!(number(&Some(" 12 ".into())), Some(12));
        assert_eq!(number(&Some(String::new())), None);
    }
}
