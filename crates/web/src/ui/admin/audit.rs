//! The audit log (X1): newest first, filtered by action, in pages of 50
//! (cursor: the last entry's id). The same use case as `GET /api/v1/audit`.

use super::super::layout::{Layout, render};
use super::super::{FormErrors, SignedIn, UiError};
use super::view;
use crate::AppState;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use leadteam_app::account::AuditRow;
use leadteam_app::{account, members};
use leadteam_domain::Timestamp;
use leadteam_domain::authz::Action;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/audit", get(show))
}

const PAGE: i64 = 50;

/// Actions offered as suggestions in the filter.
const KNOWN: &[&str] = &[
    "account.updated",
    "account.ownership_transferred",
    "account.deletion_requested",
    "billing.plan_updated",
    "billing.seats_changed",
    "client.assigned",
    "client.claimed",
    "client.created",
    "client.deleted",
    "duty.started",
    "duty.ended",
    "member.invited",
    "member.invitation_resent",
    "member.invitation_cancelled",
    "member.activated",
    "member.updated",
    "member.deactivated",
    "member.reactivated",
    "member.removed",
    "role.created",
    "role.updated",
    "role.deleted",
    "team.created",
    "team.renamed",
    "team.members_set",
    "team.deleted",
];

/// One changed value: `field: from -> to`.
pub(super) struct Change {
    field: String,
    from: Option<String>,
    to: Option<String>,
}

pub(super) struct Entry {
    when: String,
    who: String,
    action: String,
    target: String,
    changes: Vec<Change>,
    /// The entry as a sentence ("Bea changed the role of Carl from Member
    /// to Manager").
    words: String,
}

/// The verb of an action, as a person says it.
fn verb(action: &str) -> String {
    let known = match action {
        "member.invited" => "invited",
        "member.updated" => "changed",
        "member.deactivated" => "deactivated",
        "member.reactivated" => "reactivated",
        "member.removed" => "removed",
        "member.away_set" => "set the away switch of",
        "member.schedule_set" => "set the working hours of",
        "member.time_off_added" => "added time off for",
        "member.time_off_removed" => "removed time off of",
        "member.preferences_set" => "set the time zone of",
        "invitation.accepted" | "member.joined" => "joined as",
        "role.created" => "created",
        "role.updated" => "changed",
        "role.deleted" => "deleted",
        "team.created" => "created",
        "team.updated" | "team.renamed" => "changed",
        "team.deleted" => "deleted",
        "client.created" => "added",
        "client.updated" => "changed",
        "client.deleted" => "deleted",
        "client.claimed" => "claimed",
        "client.assigned" => "assigned",
        "client.reclaimed" => "moved on (not contacted in time)",
        "client.delivered" => "delivered",
        "client.guest_added" => "invited a guest to",
        "client.guest_removed" => "removed a guest from",
        "clients.imported" => "imported clients into",
        "account.updated" => "changed",
        "holiday.added" => "added",
        "holiday.removed" => "removed",
        _ => "",
    };
    if known.is_empty() {
        // "source.secret_rotated" → "source: secret rotated"
        match action.split_once('.') {
            Some((_, what)) => what.replace('_', " "),
            None => action.replace('_', " "),
        }
    } else {
        known.to_owned()
    }
}

/// The entry as a sentence: who, what, on what, and what changed.
fn sentence(who: &str, action: &str, target: &str, changes: &[Change]) -> String {
    let mut out = format!("{who} {} {target}", verb(action));
    let parts: Vec<String> = changes
        .iter()
        .filter_map(|c| match (&c.from, &c.to) {
            (Some(f), Some(t)) => Some(format!("{} from {f} to {t}", c.field.replace('_', " "))),
            (None, Some(t)) => Some(format!("{} {t}", c.field.replace('_', " "))),
            (Some(f), None) => Some(format!("{} was {f}", c.field.replace('_', " "))),
            (None, None) => None,
        })
        .collect();
    if matches!(
        action,
        "member.updated" | "role.updated" | "account.updated" | "client.updated" | "team.updated"
    ) && !parts.is_empty()
    {
        out.push_str(": ");
        out.push_str(&parts.join("; "));
    }
    out.trim().to_owned()
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    page: Layout,
    entries: Vec<Entry>,
    action: String,
    /// The people to filter by: id, name, chosen.
    people: Vec<(i64, String, bool)>,
    /// A filter is on (action or person).
    filtered: bool,
    known: &'static [&'static str],
    /// The link to the next (older) page.
    older: Option<String>,
    /// Not on the first page.
    paged: bool,
    errors: FormErrors,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AuditQuery {
    action: String,
    /// Only what this member did ("" for everyone).
    by: String,
    before: Option<i64>,
}

/// A JSON value as a short text: lists joined, times of `*_at` and
/// `since` fields as dates.
fn short(key: &str, v: &Value, zone: &str) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Null => "none".to_owned(),
        Value::Array(items) if items.is_empty() => "none".to_owned(),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", "),
        Value::Number(n) if key == "since" || key.ends_with("_at") => n
            .as_i64()
            .map_or_else(|| n.to_string(), |ms| view::when(Timestamp(ms), zone)),
        other => other.to_string(),
    };
    if s.chars().count() > 120 {
        let cut: String = s.chars().take(117).collect();
        format!("{cut}...")
    } else {
        s
    }
}

/// What changed between the before and after pictures of an entry.
fn changes(before: Option<&str>, after: Option<&str>, zone: &str) -> Vec<Change> {
    let parse = |s: Option<&str>| s.and_then(|s| serde_json::from_str::<Value>(s).ok());
    let (b, a) = (parse(before), parse(after));
    let empty = serde_json::Map::new();
    match (&b, &a) {
        (Some(Value::Object(bo)), Some(Value::Object(ao))) => {
            let mut keys: Vec<&String> = bo.keys().chain(ao.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|k| bo.get(*k) != ao.get(*k))
                .map(|k| Change {
                    field: k.clone(),
                    from: bo.get(k).map(|v| short(k, v, zone)),
                    to: ao.get(k).map(|v| short(k, v, zone)),
                })
                .collect()
        }
        _ => {
            let (obj, is_after) = match (&b, &a) {
                (_, Some(Value::Object(o))) => (o, true),
                (Some(Value::Object(o)), _) => (o, false),
                _ => (&empty, true),
            };
            obj.iter()
                .map(|(k, v)| Change {
                    field: k.clone(),
                    from: (!is_after).then(|| short(k, v, zone)),
                    to: is_after.then(|| short(k, v, zone)),
                })
                .collect()
        }
    }
}

/// The `name` the entry's after (or before) picture gives its target.
fn named(r: &AuditRow) -> Option<String> {
    [r.after.as_deref(), r.before.as_deref()]
        .into_iter()
        .flatten()
        .filter_map(|s| serde_json::from_str::<Value>(s).ok())
        .find_map(|v| v.get("name").and_then(Value::as_str).map(str::to_owned))
}

async fn show(
    State(s): State<AppState>,
    who: SignedIn,
    Query(q): Query<AuditQuery>,
) -> Result<Response, UiError> {
    let page = view::frame(&s, &who, "Audit log", "/audit", None).await?;
    let action = q.action.trim().to_owned();
    let by = q.by.trim().parse::<i64>().ok();
    let rows: Vec<AuditRow> = account::audit_log(
        &s.app,
        &who.caller,
        Some(action.as_str()),
        by.map(leadteam_domain::MemberId),
        q.before,
        Some(PAGE + 1),
    )
    .await?;
    let names: HashMap<i64, String> = if page.may(Action::ListMembers) {
        members::list(&s.app, &who.caller, None)
            .await?
            .into_iter()
            .map(|m| (m.id.0, m.name))
            .collect()
    } else {
        HashMap::new()
    };
    let name_of = |id: i64| {
        names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("former member #{id}"))
    };
    let more = rows.len() as i64 > PAGE;
    let shown = &rows[..rows.len().min(PAGE as usize)];
    let entries = shown
        .iter()
        .map(|r| Entry {
            when: view::when(r.at, &who.caller.time_zone),
            who: match r.actor_member {
                Some(m) => name_of(m.0),
                None if r.actor_user.is_some() => "A user".to_owned(),
                None => "leadteam".to_owned(),
            },
            action: r.action.clone(),
            target: match (r.target_kind.as_deref(), r.target_id) {
                (Some("member"), Some(id)) => format!("member {}", name_of(id)),
                (Some(kind), Some(id)) => match named(r) {
                    Some(n) => format!("{kind} {n}"),
                    None => format!("{kind} #{id}"),
                },
                (Some(kind), None) => kind.to_owned(),
                _ => String::new(),
            },
            changes: changes(
                r.before.as_deref(),
                r.after.as_deref(),
                &who.caller.time_zone,
            ),
            words: String::new(),
        })
        .map(|mut e: Entry| {
            let target = e.target.trim_start_matches("member ").to_owned();
            e.words = sentence(&e.who, &e.action, &target, &e.changes);
            e
        })
        .collect();
    let older = match (more, shown.last()) {
        (true, Some(last)) => {
            let mut pairs = vec![("before", last.id.to_string())];
            if !action.is_empty() {
                pairs.insert(0, ("action", action.clone()));
            }
            if let Some(b) = by {
                pairs.insert(0, ("by", b.to_string()));
            }
            serde_urlencoded::to_string(&pairs)
                .ok()
                .map(|q| format!("/audit?{q}"))
        }
        _ => None,
    };
    let body = AuditPage {
        page,
        entries,
        people: {
            let mut p: Vec<(i64, String, bool)> = names
                .iter()
                .map(|(id, n)| (*id, n.clone(), Some(*id) == by))
                .collect();
            p.sort_by(|a, b| a.1.cmp(&b.1));
            p
        },
        filtered: by.is_some() || !action.is_empty(),
        action,
        known: KNOWN,
        older,
        paged: q.before.is_some(),
        errors: FormErrors::default(),
    };
    Ok(render(StatusCode::OK, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x1_entries_read_as_sentences() {
        let c = changes(
            Some(r#"{"name":"Carl","role":"Member"}"#),
            Some(r#"{"name":"Carl","role":"Manager"}"#),
            "UTC",
        );
        assert_eq!(
            sentence("Bea", "member.updated", "Carl", &c),
            "Bea changed Carl: role from Member to Manager"
        );
        assert_eq!(
            sentence("Bea", "member.deactivated", "Carl", &[]),
            "Bea deactivated Carl"
        );
        assert_eq!(
            sentence("leadteam", "source.secret_rotated", "source Site", &[]),
            "leadteam secret rotated source Site"
        );
    }

    #[test]
    fn only_what_changed_is_listed() {
        let c = changes(
            Some(r#"{"name":"A","role":"Member","teams":[]}"#),
            Some(r#"{"name":"A","role":"Manager","teams":[]}"#),
            "UTC",
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].field, "role");
        assert_eq!(c[0].from.as_deref(), Some("Member"));
        assert_eq!(c[0].to.as_deref(), Some("Manager"));
        let c = changes(None, Some(r#"{"name":"B"}"#), "UTC");
        assert_eq!(
            (c[0].from.as_deref(), c[0].to.as_deref()),
            (None, Some("B"))
        );
        assert!(changes(None, None, "UTC").is_empty());
    }
}
